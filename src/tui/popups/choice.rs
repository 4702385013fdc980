//! A filterable list for a choice field: type 朝 or `cy` to narrow it, ↑↓ to pick.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::Reply;
use crate::domain::form;
use crate::domain::{Application, Field};
use crate::tui::action::Action;
use crate::tui::theme::{centered, clear_for_popup, dim, selected};

pub struct ChoicePopup {
    pub field: Field,
    options: Vec<(String, String)>,
    filter: String,
    selected: usize,
}

impl ChoicePopup {
    pub const HINTS: &'static str = " 输入汉字或拼音首字母筛选  ↑↓ 选择  Enter 确定  Esc 取消";

    /// The list of `field`'s options, the one the form holds selected.
    pub fn new(app: &Application, field: Field) -> ChoicePopup {
        let options = form::options(app, field);
        let current = form::value(app, field);
        let selected = options.iter().position(|(c, _)| *c == current).unwrap_or(0);
        ChoicePopup {
            field,
            options,
            filter: String::new(),
            selected,
        }
    }

    fn visible(&self) -> Vec<&(String, String)> {
        self.options
            .iter()
            .filter(|(c, l)| form::option_matches(c, l, &self.filter))
            .collect()
    }

    pub fn on_key(&mut self, key: KeyEvent) -> Reply {
        match key.code {
            KeyCode::Esc => return Reply::Close,
            KeyCode::Up => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down => {
                self.selected = (self.selected + 1).min(self.visible().len().saturating_sub(1))
            }
            KeyCode::Backspace => {
                self.filter.pop();
                self.selected = 0;
            }
            KeyCode::Enter => {
                return match self.visible().get(self.selected) {
                    Some((code, _)) => Reply::Act(Action::Choose {
                        field: self.field,
                        code: code.clone(),
                    }),
                    None => Reply::Close,
                };
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.filter.push(c);
                self.selected = 0;
            }
            _ => {}
        }
        Reply::Stay
    }

    pub fn on_paste(&mut self, text: &str) {
        self.filter.push_str(text);
        self.selected = 0;
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        let visible = self.visible();
        let rect = centered(area, 44, (visible.len() as u16 + 4).clamp(6, 20));
        clear_for_popup(frame, rect);
        let block = Block::default()
            .borders(Borders::ALL)
            .title(format!(" 选择{} ", self.field.label()));
        let inner = block.inner(rect);
        frame.render_widget(block, rect);
        let mut lines = vec![Line::from(vec![
            Span::raw("筛选："),
            Span::styled(
                format!("{}▏", self.filter),
                ratatui::style::Style::default().add_modifier(Modifier::UNDERLINED),
            ),
            Span::styled("  汉字或拼音首字母", dim()),
        ])];
        let height = inner.height.saturating_sub(1) as usize;
        let first = self.selected.saturating_sub(height.saturating_sub(1));
        for (i, (_, label)) in visible.iter().enumerate().skip(first).take(height) {
            let style = if i == self.selected {
                selected()
            } else {
                ratatui::style::Style::default()
            };
            lines.push(Line::from(Span::styled(format!(" {label}"), style)));
        }
        if visible.is_empty() {
            lines.push(Line::from(Span::styled(" 没有匹配的选项", dim())));
        }
        frame.render_widget(Paragraph::new(lines), inner);
    }
}
