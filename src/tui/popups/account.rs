//! A supervisor adds an operator (工号, 姓名, 角色, first password) or gives one a new
//! password. The passwords are typed twice and never shown.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders};

use super::Reply;
use crate::store::Role;
use crate::tui::action::Action;
use crate::tui::signin::{Form, FormField, FormReply};
use crate::tui::theme::{centered, clear_for_popup, dim, prose};

const ROLES: &[&str] = &["经办", "负责人"];

pub enum AccountPopup {
    Add {
        form: Form,
        problem: Option<String>,
    },
    Reset {
        id: String,
        name: String,
        form: Form,
        problem: Option<String>,
    },
}

impl AccountPopup {
    pub fn hints(&self) -> &'static str {
        match self {
            AccountPopup::Add { .. } => " Tab/↑↓ 换一项  ←→ 选角色  Enter 确定  Esc 取消",
            AccountPopup::Reset { .. } => " Tab/↑↓ 换一项  Enter 确定  Esc 取消",
        }
    }

    pub fn add() -> AccountPopup {
        AccountPopup::Add {
            form: Form::new(vec![
                FormField::text("工号"),
                FormField::text("姓名"),
                FormField::choice("角色", ROLES),
                FormField::secret("初始密码"),
                FormField::secret("再输一次"),
            ]),
            problem: None,
        }
    }

    pub fn reset(id: &str, name: &str) -> AccountPopup {
        AccountPopup::Reset {
            id: id.to_owned(),
            name: name.to_owned(),
            form: Form::new(vec![
                FormField::secret("临时密码"),
                FormField::secret("再输一次"),
            ]),
            problem: None,
        }
    }

    pub fn on_key(&mut self, key: KeyEvent) -> Reply {
        if key.code == KeyCode::Esc {
            return Reply::Close;
        }
        let (form, problem) = match self {
            AccountPopup::Add { form, problem } | AccountPopup::Reset { form, problem, .. } => {
                (form, problem)
            }
        };
        if form.on_key(key) != FormReply::Submit {
            return Reply::Stay;
        }
        let n = form.fields.len();
        let (password, again) = (form.password(n - 2), form.password(n - 1));
        if password != again {
            form.clear_secrets();
            *problem = Some("两次输入的密码不一致，请重新输入".into());
            return Reply::Stay;
        }
        if password.expose().is_empty() {
            *problem = Some("请输入密码".into());
            return Reply::Stay;
        }
        match self {
            AccountPopup::Add { form, .. } => Reply::Act(Action::AddOperator {
                id: form.text(0),
                name: form.text(1),
                role: if form.text(2) == ROLES[1] {
                    Role::Supervisor
                } else {
                    Role::Clerk
                },
                password,
            }),
            AccountPopup::Reset { id, .. } => Reply::Act(Action::ResetPassword {
                id: id.clone(),
                password,
            }),
        }
    }

    pub fn on_paste(&mut self, text: &str) {
        match self {
            AccountPopup::Add { form, .. } | AccountPopup::Reset { form, .. } => {
                form.on_paste(text)
            }
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        let (title, intro, form, problem) = match self {
            AccountPopup::Add { form, problem } => (
                " 添加操作员 ".to_owned(),
                "经办：办理申请；负责人：另可管理操作员、导出完整号码、看当日报表。初始密码请当面告知，对方首次登录后可自行修改。".to_owned(),
                form,
                problem,
            ),
            AccountPopup::Reset {
                id,
                name,
                form,
                problem,
            } => (
                format!(" 重置 {name}（{id}）的密码 "),
                "临时密码请当面告知；对方下次登录时须改为只有自己知道的新密码。".to_owned(),
                form,
                problem,
            ),
        };
        let rect = centered(area, 70, 14);
        clear_for_popup(frame, rect);
        let block = Block::default().borders(Borders::ALL).title(title);
        let inner = block.inner(rect);
        frame.render_widget(block, rect);
        let [intro_area, form_area, problem_area] = Layout::vertical([
            Constraint::Length(3),
            Constraint::Length(form.fields.len() as u16 + 1),
            Constraint::Min(1),
        ])
        .areas(inner);
        frame.render_widget(
            prose(Line::from(Span::styled(intro, dim())), intro_area),
            intro_area,
        );
        form.draw(frame, form_area);
        if let Some(p) = problem {
            let line = Line::from(Span::styled(p.clone(), Style::default().fg(Color::Red)));
            frame.render_widget(prose(line, problem_area), problem_area);
        }
    }
}

/// The typed password never shows in a debug print of the action.
impl std::fmt::Debug for AccountPopup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccountPopup")
    }
}
