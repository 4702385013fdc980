//! The wizard's look: named styles, and the layout helpers every screen and popup uses.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::Paragraph;
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

/// Clear `rect` for a popup. A wide (CJK) character of the screen beneath that starts
/// just left of the popup would cover the popup's left border (a terminal draws it over
/// two cells), so it is blanked too.
pub fn clear_for_popup(frame: &mut ratatui::Frame, rect: Rect) {
    frame.render_widget(ratatui::widgets::Clear, rect);
    if rect.x == 0 {
        return;
    }
    let buf = frame.buffer_mut();
    for y in rect.top()..rect.bottom() {
        let cell = &mut buf[(rect.x - 1, y)];
        if cell.symbol().width() > 1 {
            cell.set_symbol(" ");
        }
    }
}

/// Closing punctuation that a line should not start with (行首禁则).
const NO_LINE_START: &str = "，。、；：？！）》」』】〕”’…,.;:?!)";

/// `lines` wrapped to `width` columns, keeping each span's style: a run of Latin letters
/// or digits stays together, a Chinese character may end a line anywhere, spaces where a
/// line breaks are dropped, and closing punctuation never starts a line. (ratatui's own
/// wrapping loses a character where a Latin word follows a full line of Chinese.)
/// Punctuation that may not start a row (it closes or ends what comes before it).
const CLOSING: &str = "）》」』】〕，。、；：！？”’…%)]}>,.;:!?";
/// Punctuation that may not end a row (it opens what comes after it).
const OPENING: &str = "（《「『【〔“‘([{<";

pub fn wrap(lines: Vec<Line<'_>>, width: u16) -> Vec<Line<'static>> {
    let width = usize::from(width.max(2));
    let mut out = Vec::new();
    for line in lines {
        let base = line.style;
        let alignment = line.alignment;
        // The line as tokens: each a run of (character, style) that is kept together.
        let mut tokens: Vec<Vec<(char, Style)>> = Vec::new();
        for span in &line.spans {
            let style = base.patch(span.style);
            for c in span.content.chars() {
                let joins = c.is_ascii_alphanumeric()
                    && tokens
                        .last()
                        .and_then(|t| t.last())
                        .is_some_and(|&(p, _)| p.is_ascii_alphanumeric() || "-_./@%".contains(p));
                let joins = joins
                    || ("-_./@%".contains(c)
                        && tokens
                            .last()
                            .and_then(|t| t.last())
                            .is_some_and(|&(p, _)| p.is_ascii_alphanumeric()));
                // Chinese line breaking: closing punctuation never starts a row, opening
                // punctuation never ends one (each stays with its neighbour).
                let previous = tokens.last().and_then(|t| t.last()).map(|&(p, _)| p);
                let joins = joins
                    || (CLOSING.contains(c) && previous.is_some())
                    || previous.is_some_and(|p| OPENING.contains(p));
                match tokens.last_mut() {
                    Some(t) if joins => t.push((c, style)),
                    _ => tokens.push(vec![(c, style)]),
                }
            }
        }
        let token_width = |t: &[(char, Style)]| -> usize {
            t.iter()
                .map(|&(c, _)| unicode_width::UnicodeWidthChar::width(c).unwrap_or(0))
                .sum()
        };
        let mut rows: Vec<Vec<Vec<(char, Style)>>> = vec![Vec::new()];
        let mut used = 0;
        for token in tokens {
            let w = token_width(&token);
            if used + w <= width {
                used += w;
                rows.last_mut().unwrap().push(token);
                continue;
            }
            if token.iter().all(|&(c, _)| c == ' ') {
                rows.push(Vec::new());
                used = 0;
                continue;
            }
            // Closing punctuation takes the token before it to the next line.
            let mut carried = Vec::new();
            let starts_badly = NO_LINE_START.contains(token[0].0);
            let row = rows.last_mut().unwrap();
            if starts_badly && row.len() > 1 {
                carried.push(row.pop().unwrap());
            }
            while row.last().is_some_and(|t| t.iter().all(|&(c, _)| c == ' ')) {
                row.pop();
            }
            rows.push(carried);
            used = rows.last().unwrap().iter().map(|t| token_width(t)).sum();
            if w <= width.saturating_sub(used) {
                used += w;
                rows.last_mut().unwrap().push(token);
            } else {
                // Wider than a line: split it by characters.
                for unit in token {
                    let cw = token_width(&[unit]);
                    if used + cw > width {
                        rows.push(Vec::new());
                        used = 0;
                    }
                    used += cw;
                    rows.last_mut().unwrap().push(vec![unit]);
                }
            }
        }
        for row in rows {
            let mut spans: Vec<Span<'static>> = Vec::new();
            for (c, style) in row.into_iter().flatten() {
                match spans.last_mut() {
                    Some(s) if s.style == style => s.content.to_mut().push(c),
                    _ => spans.push(Span::styled(c.to_string(), style)),
                }
            }
            let mut l = Line::from(spans);
            l.alignment = alignment;
            out.push(l);
        }
    }
    out
}

/// Lines of prose drawn in `area`, wrapped to its width (see [`wrap`]).
pub fn prose<'a>(lines: impl Into<Text<'a>>, area: Rect) -> Paragraph<'static> {
    Paragraph::new(wrap(lines.into().lines, area.width))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn texts(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn a_latin_word_after_a_full_line_of_chinese_is_kept_whole() {
        let s = "工作台：列出本机所有申请，最近修改的在前。按 n 为居民新建申请；选中后按 Enter 继续填写";
        let out = texts(&wrap(vec![Line::from(s)], 70));
        assert!(out.iter().all(|l| l.width() <= 70), "{out:?}");
        assert!(out.iter().any(|l| l.contains("Enter")), "{out:?}");
    }

    #[test]
    fn closing_punctuation_never_starts_a_line() {
        let out = texts(&wrap(vec![Line::from("一二三四五。六七")], 10));
        assert_eq!(out, ["一二三四", "五。六七"]);
    }

    #[test]
    fn chinese_punctuation_never_starts_or_ends_a_row_wrongly() {
        let text = |rows: Vec<Line<'static>>| -> Vec<String> {
            rows.iter().map(|l| l.to_string()).collect()
        };
        // 10 columns: "（帽子、口罩）" would leave "）" alone at the start of a row.
        let rows = text(wrap(vec![Line::from("一二三四（帽子口罩）五")], 12));
        assert!(rows.iter().all(|r| !r.starts_with('）')), "{rows:?}");
        let rows = text(wrap(vec![Line::from("一二三四五（帽子）")], 12));
        assert!(rows.iter().all(|r| !r.ends_with('（')), "{rows:?}");
        let rows = text(wrap(vec![Line::from("一二三四五六，七")], 12));
        assert!(rows.iter().all(|r| !r.starts_with('，')), "{rows:?}");
    }

    #[test]
    fn styles_survive_wrapping() {
        let line = Line::from(vec![Span::raw("甲乙"), Span::styled("丙丁", red())]);
        let out = wrap(vec![line], 6);
        assert_eq!(texts(&out), ["甲乙丙", "丁"]);
        assert_eq!(out[1].spans[0].style, red());
    }

    proptest! {
        /// Wrapping loses no character but the spaces where it breaks, and no line is
        /// wider than asked.
        #[test]
        fn wrapping_keeps_every_character_within_the_width(
            s in "[a-z0-9 ，。中文字符申领]{0,80}",
            width in 4u16..40,
        ) {
            let out = texts(&wrap(vec![Line::from(s.clone())], width));
            for l in &out {
                prop_assert!(l.width() <= usize::from(width), "{l:?} wider than {width}");
            }
            let kept: String = out.concat().chars().filter(|c| *c != ' ').collect();
            let given: String = s.chars().filter(|c| *c != ' ').collect();
            prop_assert_eq!(kept, given);
        }
    }
}
