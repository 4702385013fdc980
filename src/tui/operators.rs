//! 操作员管理, a supervisor's screen: every operator with role, state and last sign-in;
//! add one, reset a password (which also enables a disabled operator), disable one.
//! Operators are never deleted: the audit log names them.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::action::Action;
use super::ctx::Ctx;
use super::home::Hits;
use super::outcome::Outcome;
use super::popups::{AccountPopup, ConfirmPopup, HelpPopup, Popup};
use super::theme::{bold, dim, pad, selected};
use crate::access::NewOperator;
use crate::domain::dates::beijing;
use crate::store::Account;

pub struct OperatorsScreen {
    accounts: Vec<Account>,
    selected: usize,
}

/// The keys this screen takes, for its help.
const KEYS: &str = "↑↓                    选择操作员
a                     添加操作员
r                     重置所选操作员的密码（停用的也由此重新启用）
d                     停用所选操作员
Esc                   回到工作台
Ctrl-L                立即锁屏";

impl OperatorsScreen {
    pub fn new(ctx: &mut Ctx) -> OperatorsScreen {
        let mut s = OperatorsScreen {
            accounts: Vec::new(),
            selected: 0,
        };
        s.refresh(ctx);
        s
    }

    fn refresh(&mut self, ctx: &mut Ctx) {
        match ctx.session.store.operator_accounts() {
            Ok(a) => self.accounts = a,
            Err(e) => ctx.fail(format!("无法读取操作员：{e}")),
        }
        self.selected = self.selected.min(self.accounts.len().saturating_sub(1));
    }

    pub fn hints(&self) -> &'static str {
        " a 添加  r 重置密码  d 停用  Esc 工作台  F1 帮助"
    }

    pub fn help(&self) -> HelpPopup {
        HelpPopup::new(
            "操作员管理（负责人）：每位工作人员用自己的工号和密码登录，所有操作都记入审计日志。停用后其密码不能再打开数据库；操作员不会被删除。",
            KEYS,
        )
    }

    pub fn on_key(&mut self, key: KeyEvent, _ctx: &mut Ctx) -> Outcome {
        let last = self.accounts.len().saturating_sub(1);
        let chosen = self.accounts.get(self.selected);
        match key.code {
            KeyCode::Esc => return Outcome::Home,
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => self.selected = (self.selected + 1).min(last),
            KeyCode::Char('a') => return Outcome::Open(Popup::Account(AccountPopup::add())),
            KeyCode::Char('r') => {
                if let Some(a) = chosen {
                    return Outcome::Open(Popup::Account(AccountPopup::reset(&a.id, &a.name)));
                }
            }
            KeyCode::Char('d') => {
                if let Some(a) = chosen.filter(|a| a.active) {
                    return Outcome::Open(Popup::Confirm(ConfirmPopup::disable_operator(
                        &a.id, &a.name,
                    )));
                }
            }
            KeyCode::Char('?') => return Outcome::Open(Popup::Help(self.help())),
            _ => return Outcome::Ignored,
        }
        Outcome::Done
    }

    pub fn on_click(&mut self, i: usize) -> Outcome {
        self.selected = i.min(self.accounts.len().saturating_sub(1));
        Outcome::Done
    }

    pub fn on_action(&mut self, action: Action, ctx: &mut Ctx) -> Outcome {
        let min = ctx.min_password;
        let result = match action {
            Action::AddOperator {
                id,
                name,
                role,
                password,
            } => ctx
                .session
                .add_operator(
                    &NewOperator {
                        id,
                        name,
                        role,
                        password,
                    },
                    min,
                )
                .map(|a| format!("已添加{} {}（{}）", a.role.label(), a.name, a.id)),
            Action::ResetPassword { id, password } => ctx
                .session
                .reset_password(&id, &password, min)
                .map(|()| format!("已重置 {id} 的密码：下次登录时需设置新密码")),
            Action::DisableOperator(id) => ctx
                .session
                .disable_operator(&id)
                .map(|()| format!("已停用 {id}")),
            _ => return Outcome::Done,
        };
        match result {
            Ok(text) => ctx.notify(text),
            Err(e) => ctx.fail(e.to_string()),
        }
        self.refresh(ctx);
        Outcome::Done
    }

    pub fn draw_bar(&self, frame: &mut Frame, area: Rect) {
        let active = self.accounts.iter().filter(|a| a.active).count();
        frame.render_widget(
            Paragraph::new(format!(
                " 操作员管理  共 {} 人  在用 {active}",
                self.accounts.len()
            )),
            area,
        );
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect) -> Hits {
        let mut hits = Hits::new();
        let [head, list] =
            Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(area);
        let header = format!(
            "\n {}{}{}{}{}",
            pad("工号", 12),
            pad("姓名", 12),
            pad("角色", 8),
            pad("状态", 8),
            "最近登录"
        );
        frame.render_widget(Paragraph::new(header).style(bold()), head);
        let mut lines = Vec::new();
        for (i, a) in self.accounts.iter().enumerate().take(list.height as usize) {
            let on = i == self.selected;
            let style = if on { selected() } else { Style::default() };
            let last = a
                .last_sign_in_at
                .map(|t| {
                    t.with_timezone(&beijing())
                        .format("%m-%d %H:%M")
                        .to_string()
                })
                .unwrap_or_else(|| "—".into());
            let state = match (a.active, a.must_change) {
                (false, _) => "停用",
                (true, true) => "待改密",
                (true, false) => "在用",
            };
            lines.push(Line::from(vec![
                Span::styled(if on { "▶" } else { " " }, style),
                Span::styled(
                    format!(
                        "{}{}{}{}{}",
                        pad(&a.id, 12),
                        pad(&a.name, 12),
                        pad(a.role.label(), 8),
                        pad(state, 8),
                        last
                    ),
                    if a.active { style } else { dim().patch(style) },
                ),
            ]));
            hits.push((Rect::new(list.x, list.y + i as u16, list.width, 1), i));
        }
        frame.render_widget(Paragraph::new(lines), list);
        hits
    }
}
