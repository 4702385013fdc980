//! Values from outside beside what the clerk typed, where they differ (the registry's data
//! after the eligibility check, what the ID card's photo says): per field, the clerk picks
//! which to keep.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders};

use super::Reply;
use crate::domain::prefill::{Difference, Source};
use crate::tui::action::Action;
use crate::tui::theme::{bold, centered, clear_for_popup, dim, prose};

pub struct ComparePopup {
    source: Source,
    differences: Vec<Difference>,
    /// Per difference: take the outside value.
    take: Vec<bool>,
    selected: usize,
}

impl ComparePopup {
    pub const HINTS: &'static str = " ↑↓ 选字段  ←→/空格 切换  Enter 按所选保存  Esc 全部保留所填";

    /// The registry's values are preselected (they are what is registered); the card's
    /// are not (a reading may be wrong).
    pub fn new(source: Source, differences: Vec<Difference>) -> ComparePopup {
        let take = vec![source == Source::Registry; differences.len()];
        ComparePopup {
            source,
            differences,
            take,
            selected: 0,
        }
    }

    pub fn on_key(&mut self, key: KeyEvent) -> Reply {
        match key.code {
            KeyCode::Up | KeyCode::BackTab => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Tab => {
                self.selected = (self.selected + 1).min(self.differences.len().saturating_sub(1))
            }
            KeyCode::Left | KeyCode::Right | KeyCode::Char(' ') => {
                if let Some(t) = self.take.get_mut(self.selected) {
                    *t = !*t;
                }
            }
            KeyCode::Enter => {
                let values = self
                    .differences
                    .iter()
                    .zip(&self.take)
                    .filter(|(_, t)| **t)
                    .map(|(d, _)| (d.field, d.value.clone()))
                    .collect();
                return Reply::Act(Action::Take {
                    source: self.source,
                    values,
                });
            }
            KeyCode::Esc => {
                return Reply::Act(Action::Take {
                    source: self.source,
                    values: Vec::new(),
                });
            }
            _ => {}
        }
        Reply::Stay
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        let rect = centered(area, 72, self.differences.len() as u16 * 3 + 6);
        clear_for_popup(frame, rect);
        let title = match self.source {
            Source::Registry => " 资格校验通过：登记信息与所填不一致：请逐项选择 ",
            Source::Card => " 证件识别结果与所填不一致：请逐项选择 ",
        };
        let block = Block::default().borders(Borders::ALL).title(title);
        let inner = block.inner(rect);
        frame.render_widget(block, rect);
        let chosen = Style::default()
            .fg(Color::Cyan)
            .add_modifier(Modifier::BOLD);
        let mut lines = Vec::new();
        for (i, (d, take)) in self.differences.iter().zip(&self.take).enumerate() {
            let marker = if i == self.selected { "▶" } else { " " };
            lines.push(Line::from(Span::styled(
                format!("{marker}{}", d.field.label()),
                bold(),
            )));
            let pick = |on: bool| if on { "(●)" } else { "( )" };
            lines.push(Line::from(Span::styled(
                format!("   {} 所填：{}", pick(!take), d.held),
                if *take { Style::default() } else { chosen },
            )));
            lines.push(Line::from(Span::styled(
                format!("   {} {}：{}", pick(*take), self.source.label(), d.offered),
                if *take { chosen } else { Style::default() },
            )));
        }
        lines.push(Line::from(""));
        let advice = match self.source {
            Source::Registry => " 与居民核实后选择；提交时以所选为准",
            Source::Card => " 请对照身份证原件选择",
        };
        lines.push(Line::from(Span::styled(advice, dim())));
        frame.render_widget(prose(lines, inner), inner);
    }
}
