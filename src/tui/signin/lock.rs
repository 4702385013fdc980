//! The lock screen: after a few idle minutes, or at Ctrl-L. It shows nothing personal —
//! no name, no number, no photo, not even the status line — only who locked it. The same
//! operator's password unlocks it; another 工号 with its password signs that operator in
//! instead (the one before is signed out). The password is checked on a thread.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders};

use super::form::{Form, FormField, FormReply};
use crate::keys::Password;
use crate::tui::theme::{centered, clear_for_popup, dim, prose};

pub struct LockScreen {
    form: Form,
    /// Who locked it (工号 and 姓名).
    pub locked_by: (String, String),
    pub message: Option<(String, bool)>,
    pub busy: bool,
    /// The demo's password, shown (it guards nothing).
    pub demo_password: Option<&'static str>,
}

/// What a key on the lock screen comes to.
pub enum LockReply {
    Stay,
    /// Check this 工号's password.
    Verify(String, Password),
}

impl LockScreen {
    pub const HINTS: &'static str = " Enter 解锁  Tab 改工号（换人登录）  Ctrl-U 清空  Ctrl-Q 退出";

    pub fn new(id: &str, name: &str, idle: bool) -> LockScreen {
        let mut form = Form::new(vec![
            FormField::text("工号").with(id),
            FormField::secret("密码"),
        ]);
        form.focus_on(1);
        LockScreen {
            form,
            locked_by: (id.to_owned(), name.to_owned()),
            message: Some((
                if idle {
                    "长时间无操作，已自动锁屏；所填内容均已保存".into()
                } else {
                    "已锁屏；所填内容均已保存".into()
                },
                false,
            )),
            busy: false,
            demo_password: None,
        }
    }

    pub fn on_key(&mut self, key: KeyEvent) -> LockReply {
        if self.busy {
            return LockReply::Stay;
        }
        if key.code == KeyCode::Esc {
            return LockReply::Stay;
        }
        match self.form.on_key(key) {
            FormReply::Submit => {
                let id = self.form.text(0);
                let password = self.form.password(1);
                if id.is_empty() {
                    self.form.focus_on(0);
                    self.message = Some(("请输入工号".into(), true));
                    return LockReply::Stay;
                }
                if password.expose().is_empty() {
                    self.message = Some(("请输入密码".into(), true));
                    return LockReply::Stay;
                }
                self.busy = true;
                self.message = Some(("正在核对密码……".into(), false));
                LockReply::Verify(id, password)
            }
            FormReply::Stay => LockReply::Stay,
        }
    }

    pub fn on_paste(&mut self, text: &str) {
        if !self.busy {
            self.form.on_paste(text);
        }
    }

    /// A password was wrong (or the account cannot sign in): say why, try again.
    pub fn refused(&mut self, why: String) {
        self.busy = false;
        self.form.clear_secrets();
        self.message = Some((why, true));
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        let rect = centered(area, 66, 12);
        clear_for_popup(frame, rect);
        let block = Block::default().borders(Borders::ALL).title(" 已锁屏 ");
        let inner = block.inner(rect);
        frame.render_widget(block, rect);
        let [who, _, form, _, message] = Layout::vertical([
            Constraint::Length(2),
            Constraint::Length(1),
            Constraint::Length(2),
            Constraint::Length(1),
            Constraint::Min(1),
        ])
        .areas(inner);
        let mut lines = vec![Line::from(format!(
            "由 {}（{}）锁定。输入密码解锁；其他操作员可改工号登录。",
            self.locked_by.1, self.locked_by.0
        ))];
        if let Some(pw) = self.demo_password {
            lines.push(Line::from(Span::styled(format!("演示口令：{pw}"), dim())));
        }
        frame.render_widget(prose(lines, who), who);
        self.form.draw(frame, form);
        if let Some((text, error)) = &self.message {
            let style = if *error {
                Style::default().fg(Color::Red)
            } else {
                dim()
            };
            frame.render_widget(
                prose(Line::from(Span::styled(text.clone(), style)), message),
                message,
            );
        }
    }
}
