//! A yes-or-no question that carries what 确定 does (submit, withdraw).

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders};
use uuid::Uuid;

use super::Reply;
use crate::tui::action::Action;
use crate::tui::theme::{centered, clear_for_popup, prose};

pub struct ConfirmPopup {
    question: String,
    /// Whether 确定 (rather than 取消) is selected.
    yes: bool,
    action: Option<Action>,
}

impl ConfirmPopup {
    pub const HINTS: &'static str = " ←→/Tab 选择  Enter 确定所选  Esc 取消";

    /// 是否确认提交个人申领？ (代办: 代办申领, and that the agent's data are then fixed;
    /// 确定 selected).
    pub fn submit(by_agent: bool) -> ConfirmPopup {
        ConfirmPopup {
            question: if by_agent {
                "是否确认提交代办申领？提交后代办人信息不能修改。"
            } else {
                "是否确认提交个人申领？"
            }
            .into(),
            yes: true,
            action: Some(Action::Submit),
        }
    }

    /// Withdraw a queued application (取消 selected).
    pub fn withdraw(id: Uuid) -> ConfirmPopup {
        ConfirmPopup {
            question: "确认撤回这份待同步的申请？撤回后回到草稿，可修改后再提交。".into(),
            yes: false,
            action: Some(Action::Withdraw(id)),
        }
    }

    /// Disable an operator (取消 selected).
    pub fn disable_operator(id: &str, name: &str) -> ConfirmPopup {
        ConfirmPopup {
            question: format!(
                "确认停用 {name}（{id}）？停用后其密码不能再打开数据库；审计记录保留其姓名。需要时可用“重置密码”重新启用。"
            ),
            yes: false,
            action: Some(Action::DisableOperator(id.to_owned())),
        }
    }

    pub fn on_key(&mut self, key: KeyEvent) -> Reply {
        match key.code {
            KeyCode::Left | KeyCode::Right | KeyCode::Tab | KeyCode::BackTab => {
                self.yes = !self.yes;
                Reply::Stay
            }
            KeyCode::Enter if self.yes => match self.action.take() {
                Some(action) => Reply::Act(action),
                None => Reply::Close,
            },
            KeyCode::Enter | KeyCode::Esc => Reply::Close,
            _ => Reply::Stay,
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        let rect = centered(area, 50, 7);
        clear_for_popup(frame, rect);
        let block = Block::default().borders(Borders::ALL).title(" 确认 ");
        let inner = block.inner(rect);
        frame.render_widget(block, rect);
        // The selected button is marked as well as reversed, so that it shows on any
        // terminal (and in a screen's text).
        let button = |label: &str, on: bool| {
            Span::styled(
                format!("{}〔 {label} 〕", if on { "▶" } else { " " }),
                if on {
                    Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
                } else {
                    Style::default()
                },
            )
        };
        let lines = vec![
            Line::from(self.question.as_str()),
            Line::from(""),
            Line::from(vec![
                Span::raw("       "),
                button("确定", self.yes),
                Span::raw("    "),
                button("取消", !self.yes),
            ]),
        ];
        frame.render_widget(prose(lines, inner), inner);
    }
}
