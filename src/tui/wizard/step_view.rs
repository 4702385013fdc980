//! Drawing one step of the wizard: the step bar, the step's rows (each field with its value
//! and, once left, its problem), why a returned application came back, and what the step
//! still lacks. A function of the wizard's state; it returns where each row was drawn.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::rows::{self, Input};
use super::{Page, Wizard};
use crate::domain::form;
use crate::domain::{Field, ProblemKind, Step};
use crate::tui::home::Hits;
use crate::tui::theme::{LABEL_WIDTH, pack, pad, prose, state_mark};

/// What the two ways of applying mean, above the choice.
const APPLIED_BY: &str = " 本人申领：申领人本人在柜台，当面核验其身份证原件。代办申领：亲属或社区工作人员代为申领，\
代办人须年满 18 周岁，本人到场并带上自己和申领人的身份证原件；提交后代办人信息不能修改。";

/// The disclaimer shown on step 1.
pub const DISCLAIMER: &str = include_str!("../../../assets/disclaimer.txt");

pub(super) fn draw_step_bar(frame: &mut Frame, w: &Wizard, area: Rect) {
    let report = &w.report;
    let progress = w.page == Page::Progress;
    // Every step with its title when they fit; else the current one with its title and the
    // others by number (an 80-column terminal holds eight numbers and one title).
    let label = |step: Step, titled: bool| {
        if titled {
            format!("{}{}", step.number(), step.short_title())
        } else {
            step.number().to_string()
        }
    };
    let titled_width: usize = Step::ALL
        .iter()
        .map(|s| unicode_width::UnicodeWidthStr::width(label(*s, true).as_str()) + 2)
        .sum::<usize>()
        + 1;
    let all_titled = !progress && titled_width <= area.width as usize;
    let mut spans = vec![Span::raw(" ")];
    for step in Step::ALL {
        let (mark, mark_style) = state_mark(report.step_state(step));
        let current = w.page == Page::Step(step);
        let style = if current {
            Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        } else {
            Style::default()
        };
        spans.push(Span::styled(label(step, all_titled || current), style));
        spans.push(Span::styled(mark, mark_style));
        spans.push(Span::raw(" "));
    }
    if progress {
        spans.push(Span::styled(
            format!("{}办事进度", Step::ALL.len() + 1),
            Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The problem shown beside a field: only once it has been left (touched).
fn field_problem(w: &Wizard, field: Field) -> Option<&crate::domain::Problem> {
    let report = &w.report;
    if !w.touched.contains(&field) {
        return None;
    }
    report
        .for_field(field)
        .find(|p| p.kind != ProblemKind::Warning)
        .or_else(|| report.for_field(field).next())
}

/// Why a returned application came back, on every step until it is submitted again:
/// the reason, and which of the fields it names are still to change.
pub(super) fn return_banner(w: &Wizard, width: u16) -> Vec<Line<'static>> {
    let mut held: Vec<Line<'static>> = w
        .held_note()
        .map(|note| {
            let yellow = Style::default()
                .fg(Color::Yellow)
                .add_modifier(Modifier::BOLD);
            pack(&[note], width as usize, 1)
                .into_iter()
                .take(2)
                .map(|l| Line::from(Span::styled(l, yellow)))
                .collect()
        })
        .unwrap_or_default();
    held.extend(returned_lines(w, width));
    held
}

fn returned_lines(w: &Wizard, width: u16) -> Vec<Line<'static>> {
    let Some(note) = w
        .app
        .returned
        .as_ref()
        .filter(|_| w.app.status.is_editable())
    else {
        return Vec::new();
    };
    let red = Style::default().fg(Color::Red).add_modifier(Modifier::BOLD);
    let mut text = vec![format!("已退回：{}", note.reason)];
    let open: Vec<&str> = note.open_fields().map(|(f, _)| f.label()).collect();
    let named = note.fields.iter().filter_map(|f| f.field()).count();
    if !open.is_empty() {
        text.push(format!("请修改：{}", open.join("、")));
    } else if named > 0 {
        text.push(format!(
            "退回所指的项目已修改：核对无误后在第 {} 步重新提交",
            Step::Review.number()
        ));
    } else {
        text.push(format!(
            "请按原因处理后在第 {} 步重新提交",
            Step::Review.number()
        ));
    }
    let mut lines = pack(&text[..1], width as usize, 1);
    lines.truncate(2);
    lines.extend(pack(&text[1..], width as usize, 1).into_iter().take(1));
    lines
        .into_iter()
        .map(|l| Line::from(Span::styled(l, red)))
        .collect()
}

pub(super) fn draw_step(frame: &mut Frame, w: &Wizard, step: Step, area: Rect) -> Hits {
    let report = &w.report;
    let mut hits = Hits::new();
    let intro_height = match step {
        Step::Disclaimer => 10,
        Step::AppliedBy => 3,
        _ => 0,
    };
    let banner_lines = return_banner(w, area.width);
    let [title, banner, intro, fields, missing] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(banner_lines.len() as u16),
        Constraint::Length(intro_height),
        Constraint::Min(1),
        Constraint::Length(2),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(format!(" 第 {} 步  {}", step.number(), step.title()))
            .style(Style::default().add_modifier(Modifier::BOLD)),
        title,
    );
    frame.render_widget(Paragraph::new(banner_lines), banner);
    if step == Step::Disclaimer {
        let block = Block::default().borders(Borders::ALL).title("免责声明");
        let text = block.inner(intro);
        frame.render_widget(block, intro);
        frame.render_widget(prose(DISCLAIMER, text), text);
    }
    if step == Step::AppliedBy {
        frame.render_widget(
            prose(APPLIED_BY, intro).style(Style::default().fg(Color::DarkGray)),
            intro,
        );
    }
    let rows = rows::rows(step, &w.app);
    // Each row takes one line, plus one for its problem when it has one to show.
    let mut lines: Vec<(Option<usize>, Line)> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let focused = i == w.focus;
        let marker = if focused { "▶ " } else { "  " };
        let label = match row.input {
            Input::Button(b) => String::new()
                .chars()
                .chain(b.label().chars())
                .collect::<String>(),
            Input::Check => String::new(),
            _ => row.field.label().to_owned(),
        };
        let label_style = if focused {
            Style::default().add_modifier(Modifier::BOLD)
        } else {
            Style::default()
        };
        let mut spans = vec![Span::styled(marker, Style::default().fg(Color::Cyan))];
        match row.input {
            Input::Check => {
                let ticked = form::consent(&w.app, row.field).is_some();
                let style = if focused {
                    Style::default().add_modifier(Modifier::REVERSED)
                } else {
                    Style::default()
                };
                spans.push(Span::styled(
                    format!(
                        "[{}] {}{}",
                        if ticked { "✓" } else { " " },
                        form::check_label(row.field),
                        if form::locked(&w.app, row.field).is_some() {
                            " 🔒"
                        } else {
                            ""
                        }
                    ),
                    style,
                ));
            }
            Input::Button(_) => {
                let style = if focused {
                    Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
                } else {
                    Style::default().add_modifier(Modifier::BOLD)
                };
                spans.push(Span::styled(format!("〔 {label} 〕"), style));
                if row.field == Field::Eligibility {
                    spans.push(Span::raw(format!(
                        "  {}",
                        form::text(&w.app, Field::Eligibility)
                    )));
                }
            }
            _ => {
                spans.push(Span::styled(pad(&label, LABEL_WIDTH), label_style));
                if focused && w.editor.is_some() {
                    spans.push(Span::raw("")); // the editor is drawn over this line below
                } else {
                    let value = form::text(&w.app, row.field);
                    let locked = form::locked(&w.app, row.field).is_some();
                    let shown = match row.input {
                        _ if locked && value.is_empty() => "🔒 （未填）".to_owned(),
                        _ if locked => format!("🔒 {value}"),
                        Input::Choice if value.is_empty() => "（Enter 选择）".to_owned(),
                        Input::Photo(_) if value.is_empty() => {
                            "（Enter 从照片文件夹导入）".to_owned()
                        }
                        Input::Locked => format!("🔒 {value}"),
                        _ => value,
                    };
                    let mut style = if focused {
                        Style::default().add_modifier(Modifier::UNDERLINED)
                    } else {
                        Style::default()
                    };
                    if matches!(row.input, Input::Locked) || locked {
                        style = style.fg(Color::DarkGray);
                    }
                    spans.push(Span::styled(shown, style));
                    if w.app.recognised.contains(&row.field) {
                        spans.push(Span::styled(
                            " 识别",
                            Style::default()
                                .fg(Color::Magenta)
                                .add_modifier(Modifier::BOLD),
                        ));
                    }
                }
            }
        }
        lines.push((Some(i), Line::from(spans)));
        let problem = match row.input {
            Input::Button(_) if row.field != Field::Eligibility => None,
            _ => field_problem(w, row.field),
        };
        if let Some(p) = problem {
            let (mark, color) = match p.kind {
                ProblemKind::Missing if w.app.recognised.contains(&row.field) => {
                    ("识别", Color::Magenta)
                }
                ProblemKind::Warning => ("提示", Color::Yellow),
                ProblemKind::Missing => ("未填", Color::Yellow),
                ProblemKind::Invalid => ("错误", Color::Red),
            };
            // Wrapped under the field, indented, so the part that says what to do is seen.
            let text = format!("{mark}：{}", p.message);
            for part in pack(&[text], fields.width as usize, 4) {
                lines.push((
                    None,
                    Line::from(Span::styled(part, Style::default().fg(color))),
                ));
            }
        }
    }
    // Keep the focused row visible.
    let height = fields.height as usize;
    let focus_line = lines
        .iter()
        .position(|(i, _)| *i == Some(w.focus))
        .unwrap_or(0);
    let first = (focus_line + 2).saturating_sub(height);
    for (k, (i, line)) in lines.iter().enumerate().skip(first).take(height) {
        let y = fields.y + (k - first) as u16;
        let rect = Rect::new(fields.x, y, fields.width, 1);
        frame.render_widget(Paragraph::new(line.clone()), rect);
        if let Some(i) = i {
            hits.push((rect, *i));
            if *i == w.focus
                && let Some(editor) = &w.editor
            {
                let x = fields.x + 2 + LABEL_WIDTH as u16;
                let ed = Rect::new(x, y, fields.width.saturating_sub(x - fields.x + 1), 1);
                frame.render_widget(editor, ed);
            }
        }
    }
    // The card photo as it will be printed.
    if step == Step::CardInfo
        && let Some((_, protocol)) = &w.card_preview
    {
        let size = crate::tui::photo_ui::PREVIEW_CELLS;
        if fields.width >= size.width + 60 {
            let rect = Rect::new(
                fields.right() - size.width - 1,
                fields.y + 3,
                size.width,
                size.height.min(fields.height.saturating_sub(3)),
            );
            frame.render_widget(ratatui_image::Image::new(protocol), rect);
        }
    }
    // What this step still lacks, or what is wrong in it.
    let errors = report
        .for_step(step)
        .filter(|p| p.kind == ProblemKind::Invalid)
        .count();
    let missing_fields: Vec<&str> = report
        .for_step(step)
        .filter(|p| p.kind == ProblemKind::Missing)
        .map(|p| p.field.label())
        .collect();
    let text = if errors > 0 {
        Span::styled(
            format!(" 本步有 {errors} 处错误，请按提示修改（也可先继续，草稿已保存）"),
            Style::default().fg(Color::Red),
        )
    } else if missing_fields.is_empty() {
        Span::styled(
            " 本步已填完整。PageDown 下一步。",
            Style::default().fg(Color::Green),
        )
    } else {
        Span::styled(
            format!(" 本步尚缺：{}", missing_fields.join("、")),
            Style::default().fg(Color::Yellow),
        )
    };
    frame.render_widget(prose(Line::from(text), missing), missing);
    hits
}
