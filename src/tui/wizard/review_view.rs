//! Drawing the review page (确认提交): every field grouped by step, the photos as they will
//! go, why a returned application came back, the declaration and 提交.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use super::Wizard;
use super::rows::{self, Input};
use crate::domain::display::review_groups;
use crate::domain::form;
use crate::domain::{Field, PhotoSlot, Step};
use crate::tui::home::Hits;
use crate::tui::theme::{dim, pack, state_mark};

pub(super) fn draw_review(frame: &mut Frame, w: &Wizard, area: Rect) -> Hits {
    let report = &w.report;
    let mut hits = Hits::new();
    let banner_lines = super::step_view::return_banner(w, area.width);
    let [title, banner, groups, actions] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(banner_lines.len() as u16),
        Constraint::Min(3),
        Constraint::Length(3),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(format!(
            " 第 {} 步  确认提交：与申领人逐项核对，按组号 1–{} 返回修改",
            Step::Review.number(),
            Step::Review.number() - 1
        ))
        .style(Style::default().add_modifier(Modifier::BOLD)),
        title,
    );
    frame.render_widget(Paragraph::new(banner_lines), banner);
    // The photos as they will go, for the resident to check: beside the groups when the
    // window is wide, otherwise above them (scrolled away with them).
    let wide = groups.width >= 110;
    let (groups, strip_lines) = if w.thumbs.is_empty() {
        (groups, 0)
    } else if wide {
        let [left, right] =
            Layout::horizontal([Constraint::Min(40), Constraint::Length(THUMB_COLUMN)])
                .areas(groups);
        draw_thumbs(frame, w, right, true);
        (left, 0)
    } else {
        (groups, THUMB_STRIP_LINES)
    };
    let mut lines: Vec<Line> = vec![Line::from(""); strip_lines];
    for group in review_groups(&w.app, true) {
        if group.step == Step::Review {
            continue;
        }
        let (mark, style) = state_mark(report.step_state(group.step));
        lines.push(Line::from(vec![
            Span::styled(
                format!(" [{}] {} ", group.step.number(), group.step.title()),
                Style::default().add_modifier(Modifier::BOLD),
            ),
            Span::styled(mark, style),
        ]));
        let cells: Vec<String> = group
            .rows
            .iter()
            .map(|(f, v)| format!("{}：{}", f.label(), v))
            .collect();
        lines.extend(
            pack(&cells, groups.width as usize, 5)
                .into_iter()
                .map(Line::from),
        );
    }
    let overflow = lines.len().saturating_sub(groups.height as usize);
    let scroll = (w.scroll as usize).min(overflow);
    frame.render_widget(Paragraph::new(lines).scroll((scroll as u16, 0)), groups);
    if strip_lines > 0 && scroll == 0 && groups.height as usize > strip_lines {
        let strip = Rect::new(groups.x, groups.y, groups.width, strip_lines as u16);
        draw_thumbs(frame, w, strip, false);
    }
    if overflow > 0 {
        let more = if scroll < overflow {
            "↓ 还有内容（↑↓ 滚动）"
        } else {
            "↑ 已到末尾"
        };
        let width = more.width() as u16;
        // On the title row's right end, where it hides nothing.
        let r = Rect::new(
            title.x + title.width.saturating_sub(width + 1),
            title.y,
            width,
            1,
        );
        frame.render_widget(
            Paragraph::new(more).style(Style::default().fg(Color::Cyan)),
            r,
        );
    }
    let rows = rows::rows(Step::Review, &w.app);
    let mut action_lines = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let focused = i == w.focus;
        let style = if focused {
            Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        } else {
            Style::default()
        };
        let text = match row.input {
            Input::Check => format!(
                "[{}] {}",
                if form::consent(&w.app, row.field).is_some() {
                    "✓"
                } else {
                    " "
                },
                form::check_label(row.field)
            ),
            Input::Button(b) => format!("〔 {} 〕", b.label()),
            _ => String::new(),
        };
        action_lines.push(Line::from(vec![
            Span::raw(if focused { " ▶ " } else { "   " }),
            Span::styled(text, style),
        ]));
        hits.push((
            Rect::new(actions.x, actions.y + i as u16, actions.width, 1),
            i,
        ));
    }
    let ready = report.is_ready_to_submit();
    let blocking = report
        .problems
        .iter()
        .filter(|p| p.blocks_submission())
        .count();
    action_lines.push(Line::from(if ready {
        Span::styled(
            "   全部信息已填写完整，可以提交。",
            Style::default().fg(Color::Green),
        )
    } else {
        Span::styled(
            format!("   还有 {blocking} 项需要处理，处理完才能提交。"),
            Style::default().fg(Color::Yellow),
        )
    }));
    frame.render_widget(Paragraph::new(action_lines), actions);
    hits
}

/// The review page's column of previews (wide windows) and strip of them (narrow ones).
const THUMB_COLUMN: u16 = 20;
const THUMB_STRIP_LINES: usize = 7;

/// Each photo's preview under its label: in a column (`vertical`) or side by side.
fn draw_thumbs(frame: &mut Frame, w: &Wizard, area: Rect, vertical: bool) {
    let (mut x, mut y) = (area.x + 1, area.y);
    // The card photo first: it is the one the resident looks at.
    let order = [Field::CardPhoto, Field::IdFrontPhoto, Field::IdBackPhoto];
    for field in order {
        let size = crate::tui::photo_ui::thumbnail_cells(field);
        let label = PhotoSlot::of(field).map_or("", PhotoSlot::short_label);
        let fits = x + size.width <= area.right() && y + size.height < area.bottom();
        if !fits {
            break;
        }
        frame.render_widget(
            Paragraph::new(label).style(dim()),
            Rect::new(x, y, size.width.max(label.width() as u16), 1),
        );
        let rect = Rect::new(x, y + 1, size.width, size.height);
        match w.thumbs.iter().find(|t| t.field == field) {
            Some(t) => frame.render_widget(ratatui_image::Image::new(&t.protocol), rect),
            None => frame.render_widget(Paragraph::new("（未导入）").style(dim()), rect),
        }
        if vertical {
            y += size.height + 2;
        } else {
            x += size.width + 3;
        }
    }
}
