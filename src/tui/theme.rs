//! The wizard's look: named styles, and the layout helpers every screen and popup uses.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use unicode_width::UnicodeWidthStr;

use crate::domain::{Status, StepState};

/// The smallest window the wizard draws in.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;
/// The width of a field's label on a step.
pub const LABEL_WIDTH: usize = 22;

pub fn dim() -> Style {
    Style::default().fg(Color::DarkGray)
}

pub fn bold() -> Style {
    Style::default().add_modifier(Modifier::BOLD)
}

pub fn red() -> Style {
    Style::default().fg(Color::Red)
}

/// The selected row of a list, the focused box of a form.
pub fn selected() -> Style {
    Style::default().add_modifier(Modifier::REVERSED)
}

pub fn status_style(s: Status) -> Style {
    match s {
        Status::Draft | Status::Ready => Style::default(),
        Status::Queued => Style::default().fg(Color::Yellow),
        Status::Returned => Style::default().fg(Color::Red),
        _ => Style::default().fg(Color::Green),
    }
}

/// A step's mark on the step bar: complete ✓, incomplete ○, with errors ✗.
pub fn state_mark(state: StepState) -> (&'static str, Style) {
    match state {
        StepState::Complete => ("✓", Style::default().fg(Color::Green)),
        StepState::Incomplete => ("○", Style::default().fg(Color::Yellow)),
        StepState::HasErrors => ("✗", Style::default().fg(Color::Red)),
    }
}

/// `s` padded with spaces to `width` columns (CJK characters are two).
pub fn pad(s: &str, width: usize) -> String {
    let w = s.width();
    if w >= width {
        s.to_owned()
    } else {
        format!("{s}{}", " ".repeat(width - w))
    }
}

/// `text` cut to `width` columns, with … where it was cut.
pub fn truncate(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_owned();
    }
    let mut out = String::new();
    for c in text.chars() {
        if out.width() + unicode_width::UnicodeWidthChar::width(c).unwrap_or(0) + 1 > width {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

/// Lay `cells` out in lines no wider than `width`, each indented by `indent` spaces; a
/// cell wider than a line is split by characters.
pub fn pack(cells: &[String], width: usize, indent: usize) -> Vec<String> {
    let room = width.saturating_sub(indent + 1).max(10);
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for cell in cells {
        let sep = if line.is_empty() { 0 } else { 2 };
        if !line.is_empty() && line.width() + sep + cell.width() > room {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push_str("  ");
        }
        for c in cell.chars() {
            if line.width() + unicode_width::UnicodeWidthChar::width(c).unwrap_or(0) > room {
                out.push(std::mem::take(&mut line));
            }
            line.push(c);
        }
    }
    if !line.is_empty() {
        out.push(line);
    }
    out.into_iter()
        .map(|l| format!("{}{l}", " ".repeat(indent)))
        .collect()
}

/// A box of at most `width`×`height` in the middle of `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width.saturating_sub(2));
    let h = height.min(area.height.saturating_sub(2));
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}
