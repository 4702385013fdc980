//! A small form for signing in and for accounts: labelled one-line fields, passwords shown
//! as ●, Tab and arrows between fields, Enter on the last to finish. Typed secrets are
//! wiped when the form is dropped or cleared.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;
use zeroize::Zeroizing;

use crate::keys::Password;
use crate::tui::theme::{dim, pad, selected};

/// The longest value a field takes (a password up to 128; 工号 and 姓名 far less).
const MAX_CHARS: usize = 128;

pub struct FormField {
    pub label: &'static str,
    value: Zeroizing<String>,
    secret: bool,
    /// A choice among these (←→ or Space), not typed.
    options: &'static [&'static str],
    /// A field the form shows but does not let change (the locked operator's 工号).
    fixed: bool,
}

impl FormField {
    pub fn text(label: &'static str) -> FormField {
        FormField {
            label,
            value: Zeroizing::new(String::new()),
            secret: false,
            options: &[],
            fixed: false,
        }
    }

    /// A choice among `options` (the first chosen), changed with ←→ or Space.
    pub fn choice(label: &'static str, options: &'static [&'static str]) -> FormField {
        FormField {
            options,
            ..FormField::text(label).with(options.first().copied().unwrap_or(""))
        }
    }

    pub fn secret(label: &'static str) -> FormField {
        FormField {
            secret: true,
            ..FormField::text(label)
        }
    }

    pub fn with(mut self, value: &str) -> FormField {
        self.value = Zeroizing::new(value.to_owned());
        self
    }

    pub fn fixed(mut self) -> FormField {
        self.fixed = true;
        self
    }
}

/// What a key in the form comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormReply {
    /// Typed, moved, or not the form's key.
    Stay,
    /// Enter on the last field (or on any field when every field is filled).
    Submit,
}

pub struct Form {
    pub fields: Vec<FormField>,
    pub focus: usize,
}

impl Form {
    pub const HINTS: &'static str = " Tab/↑↓ 换一项  Enter 确定  Ctrl-U 清空本项";

    pub fn new(fields: Vec<FormField>) -> Form {
        let focus = fields.iter().position(|f| !f.fixed).unwrap_or(0);
        Form { fields, focus }
    }

    /// The value of field `i`, trimmed (never a secret's: see `password`).
    pub fn text(&self, i: usize) -> String {
        self.fields[i].value.trim().to_owned()
    }

    /// Field `i` as a password.
    pub fn password(&self, i: usize) -> Password {
        Password::new(self.fields[i].value.as_str())
    }

    pub fn set(&mut self, i: usize, value: &str) {
        self.fields[i].value = Zeroizing::new(value.to_owned());
    }

    /// Empty the secret fields (after a wrong password), focus on the first of them.
    pub fn clear_secrets(&mut self) {
        for f in &mut self.fields {
            if f.secret {
                f.value = Zeroizing::new(String::new());
            }
        }
        if let Some(i) = self.fields.iter().position(|f| f.secret) {
            self.focus = i;
        }
    }

    pub fn focus_on(&mut self, i: usize) {
        self.focus = i.min(self.fields.len().saturating_sub(1));
    }

    fn step(&mut self, forward: bool) {
        let n = self.fields.len();
        for _ in 0..n {
            self.focus = if forward {
                (self.focus + 1) % n
            } else {
                (self.focus + n - 1) % n
            };
            if !self.fields[self.focus].fixed {
                return;
            }
        }
    }

    pub fn on_key(&mut self, key: KeyEvent) -> FormReply {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let field = &mut self.fields[self.focus];
        if !field.options.is_empty() {
            let n = field.options.len();
            let at = field
                .options
                .iter()
                .position(|o| *o == field.value.as_str())
                .unwrap_or(0);
            let next = match key.code {
                KeyCode::Left => Some((at + n - 1) % n),
                KeyCode::Right | KeyCode::Char(' ') => Some((at + 1) % n),
                _ => None,
            };
            if let Some(i) = next {
                field.value = Zeroizing::new(field.options[i].to_owned());
                return FormReply::Stay;
            }
            if matches!(key.code, KeyCode::Char(_) | KeyCode::Backspace) {
                return FormReply::Stay;
            }
        }
        match key.code {
            KeyCode::Tab | KeyCode::Down => self.step(true),
            KeyCode::BackTab | KeyCode::Up => self.step(false),
            KeyCode::Enter => {
                let last = self.fields.iter().rposition(|f| !f.fixed).unwrap_or(0);
                if self.focus >= last || self.fields.iter().all(|f| !f.value.is_empty()) {
                    return FormReply::Submit;
                }
                self.step(true);
            }
            KeyCode::Char('u') if ctrl && !field.fixed => {
                field.value = Zeroizing::new(String::new())
            }
            KeyCode::Backspace if !field.fixed => {
                field.value.pop();
            }
            KeyCode::Char(c)
                if !ctrl
                    && !c.is_control()
                    && !field.fixed
                    && field.value.chars().count() < MAX_CHARS =>
            {
                field.value.push(c);
            }
            _ => {}
        }
        FormReply::Stay
    }

    /// Pasted text into the focused field (control characters already removed).
    pub fn on_paste(&mut self, text: &str) {
        let field = &mut self.fields[self.focus];
        if field.fixed || !field.options.is_empty() {
            return;
        }
        for c in text.chars().filter(|c| !c.is_control()) {
            if field.value.chars().count() >= MAX_CHARS {
                break;
            }
            field.value.push(c);
        }
    }

    /// One line a field, from `area`'s top.
    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        let label_width = self
            .fields
            .iter()
            .map(|f| f.label.width())
            .max()
            .unwrap_or(0)
            + 2;
        let lines: Vec<Line> = self
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let shown = if f.secret {
                    "●".repeat(f.value.chars().count())
                } else if !f.options.is_empty() {
                    f.options
                        .iter()
                        .map(|o| {
                            format!(
                                "{}{o}",
                                if *o == f.value.as_str() {
                                    "(●) "
                                } else {
                                    "( ) "
                                }
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("  ")
                } else {
                    f.value.to_string()
                };
                let room = usize::from(area.width).saturating_sub(label_width + 3);
                let shown = crate::tui::theme::truncate(&shown, room);
                let focused = i == self.focus;
                let value = if focused {
                    Span::styled(format!("{shown}▏"), selected())
                } else if f.fixed {
                    Span::styled(shown, dim())
                } else {
                    Span::raw(shown)
                };
                Line::from(vec![
                    Span::styled(
                        format!(
                            "{}{}",
                            if focused { "▶ " } else { "  " },
                            pad(f.label, label_width)
                        ),
                        if focused {
                            Style::default().fg(Color::Cyan)
                        } else {
                            Style::default()
                        },
                    ),
                    value,
                ])
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), area);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn typing_moves_with_tab_and_enter_on_the_last_field_submits() {
        let mut form = Form::new(vec![FormField::text("工号"), FormField::secret("密码")]);
        for c in "C001".chars() {
            form.on_key(key(KeyCode::Char(c)));
        }
        assert_eq!(form.on_key(key(KeyCode::Enter)), FormReply::Stay);
        assert_eq!(form.focus, 1);
        for c in "pw123456".chars() {
            form.on_key(key(KeyCode::Char(c)));
        }
        assert_eq!(form.on_key(key(KeyCode::Enter)), FormReply::Submit);
        assert_eq!(form.text(0), "C001");
        assert_eq!(form.password(1).expose(), "pw123456");
        form.clear_secrets();
        assert_eq!(form.password(1).expose(), "");
        assert_eq!(form.focus, 1);
    }

    #[test]
    fn a_fixed_field_is_skipped_and_cannot_be_typed_into() {
        let mut form = Form::new(vec![
            FormField::text("工号").with("C001").fixed(),
            FormField::secret("密码"),
        ]);
        assert_eq!(form.focus, 1);
        form.on_key(key(KeyCode::Tab));
        assert_eq!(form.focus, 1);
        form.on_paste("ab\u{1b}c");
        assert_eq!(form.password(1).expose(), "abc");
        assert_eq!(form.text(0), "C001");
    }

    #[test]
    fn an_overlong_paste_is_cut() {
        let mut form = Form::new(vec![FormField::secret("密码")]);
        form.on_paste(&"x".repeat(1000));
        assert_eq!(form.password(0).expose().len(), MAX_CHARS);
    }
}
