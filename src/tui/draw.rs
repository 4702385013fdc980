//! Drawing: a pure function of the state (it only records where rows were drawn, for
//! mouse clicks). Works at 80×24 and up; below that it says so instead of drawing garbage.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

use super::app::{App, Home, Popup, Screen, beijing};
use super::form::{self, Input};
use super::wizard::{Page, Wizard};
use crate::domain::display::review_groups;
use crate::domain::form as fields;
use crate::domain::{Field, ProblemKind, Report, Status, Step, StepState, mask_id, validate};

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;
const LABEL_WIDTH: usize = 22;

/// The disclaimer shown on step 1.
pub const DISCLAIMER: &str = include_str!("../../assets/disclaimer.txt");

fn pad(s: &str, width: usize) -> String {
    let w = s.width();
    if w >= width {
        s.to_owned()
    } else {
        format!("{s}{}", " ".repeat(width - w))
    }
}

fn dim() -> Style {
    Style::default().fg(Color::DarkGray)
}

pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    app.hits.borrow_mut().clear();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = format!(
            "终端窗口太小：至少需要 {MIN_WIDTH}×{MIN_HEIGHT}，当前 {}×{}。\n请放大窗口。",
            area.width, area.height
        );
        frame.render_widget(Paragraph::new(msg).wrap(Wrap { trim: true }), area);
        return;
    }
    // A long message (why submitting is refused, say) gets a second line rather than being
    // cut off where it says what to do.
    let notice_lines: Vec<String> = app
        .notice
        .as_ref()
        .map(|n| pack(std::slice::from_ref(&n.text), area.width as usize + 1, 0))
        .unwrap_or_default();
    let notice_rows = notice_lines.len().clamp(1, 3) as u16;
    let [header, bar, body, notice, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(notice_rows),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_header(frame, app, header);
    match &app.screen {
        Screen::Home(home) => {
            draw_counts(frame, home, bar);
            draw_home(frame, app, home, body);
        }
        Screen::Wizard(w) => {
            let report = validate(&w.app, app.today());
            draw_step_bar(frame, w, &report, bar);
            match w.page {
                Page::Step(Step::Review) => draw_review(frame, app, w, &report, body),
                Page::Step(step) => draw_step(frame, app, w, step, &report, body),
                Page::Progress => draw_progress(frame, w, body),
            }
        }
    }
    if let Some(n) = &app.notice {
        let style = if n.error {
            Style::default().fg(Color::Red).add_modifier(Modifier::BOLD)
        } else {
            Style::default().fg(Color::Green)
        };
        let lines: Vec<Line> = notice_lines
            .iter()
            .map(|l| Line::from(Span::styled(l.as_str(), style)))
            .collect();
        frame.render_widget(Paragraph::new(lines), notice);
    }
    frame.render_widget(Paragraph::new(key_hints(app)).style(dim()), keys);
    if let Some(popup) = &app.popup {
        draw_popup(frame, app, popup, area);
    }
}

fn draw_header(frame: &mut Frame, app: &App, area: Rect) {
    let left = format!(
        " {}第三代社会保障卡 柜台申领  操作员 {}（{}）",
        if app.demo { "【演示模式】" } else { "" },
        app.operator.name,
        app.operator.id
    );
    let (right, colour) = sync_status(app);
    let gap = (area.width as usize).saturating_sub(left.width() + right.width());
    let line = Line::from(vec![
        Span::styled(left, Style::default().add_modifier(Modifier::BOLD)),
        Span::raw(" ".repeat(gap)),
        Span::styled(right, Style::default().fg(colour)),
    ]);
    frame.render_widget(
        Paragraph::new(line).style(Style::default().bg(Color::Blue).fg(Color::White)),
        area,
    );
}

/// The header's right side: online or not, the queue (with a bar while a run of
/// deliveries goes out), and the last delivery error.
fn sync_status(app: &App) -> (String, Color) {
    let v = &app.sync;
    if !v.configured {
        return (
            format!("● 离线模式 · 待同步 {} ", app.queued),
            Color::Yellow,
        );
    }
    if let Some(problem) = &v.needs_attention {
        let short: String = problem.chars().take(24).collect();
        return (
            format!("⚠ 需要处理：{short}… · 待同步 {} ", app.queued),
            Color::Red,
        );
    }
    let mut text = match v.online {
        Some(true) => "● 在线".to_owned(),
        Some(false) => "● 连接中断".to_owned(),
        None => "● 连接中".to_owned(),
    };
    if v.batch_total >= 2 && app.queued > 0 {
        let done = v.batch_total.saturating_sub(app.queued);
        let filled = done * 8 / v.batch_total.max(1);
        text.push_str(&format!(
            " · 送达 {}{} {done}/{}",
            "▰".repeat(filled),
            "▱".repeat(8 - filled),
            v.batch_total
        ));
    } else {
        text.push_str(&format!(" · 待同步 {}", app.queued));
    }
    if let Some(e) = &v.last_error {
        let short: String = e.chars().take(18).collect();
        text.push_str(&format!(" · {short}…"));
    }
    text.push(' ');
    let colour = match v.online {
        Some(true) if v.last_error.is_none() => Color::LightGreen,
        _ => Color::Yellow,
    };
    (text, colour)
}

fn draw_counts(frame: &mut Frame, home: &Home, area: Rect) {
    let total: usize = home.counts.iter().map(|(_, n)| n).sum();
    let mut spans = vec![Span::raw(format!(" 工作台  共 {total} 件"))];
    for (status, n) in &home.counts {
        spans.push(Span::styled(format!("  {} {n}", status.label()), dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn status_style(s: Status) -> Style {
    match s {
        Status::Draft | Status::Ready => Style::default(),
        Status::Queued => Style::default().fg(Color::Yellow),
        Status::Returned => Style::default().fg(Color::Red),
        _ => Style::default().fg(Color::Green),
    }
}

fn draw_home(frame: &mut Frame, app: &App, home: &Home, area: Rect) {
    let [search, head, list] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(area);
    let search_line = if home.searching || !home.query.is_empty() {
        Line::from(vec![
            Span::raw(" 搜索："),
            Span::styled(
                format!("{}{}", home.query, if home.searching { "▏" } else { "" }),
                Style::default().add_modifier(Modifier::UNDERLINED),
            ),
            Span::styled(
                format!(
                    "  找到 {} 件（姓名、拼音首字母、证件号后几位、手机尾号）",
                    home.rows.len()
                ),
                dim(),
            ),
        ])
    } else {
        Line::from(Span::styled(
            " 按 / 搜索：姓名、拼音首字母（如 zs）、证件号码后 4–6 位、手机尾号",
            dim(),
        ))
    };
    frame.render_widget(Paragraph::new(search_line), search);
    // Wide enough: why a returned application came back gets a column of its own;
    // otherwise its first words stand in the number's place (the number is one Enter away).
    let wide = list.width >= 110;
    let header = format!(
        " {}{}{}{}{}{}",
        pad("状态", 9),
        pad("姓名", 14),
        pad("证件号码", 21),
        pad("申领编号", 20),
        pad("最后修改", 13),
        if wide { "退回原因" } else { "" }
    );
    frame.render_widget(
        Paragraph::new(header).style(Style::default().add_modifier(Modifier::BOLD)),
        head,
    );
    if home.rows.is_empty() {
        let text = if home.query.is_empty() {
            " 还没有申请。按 n 为居民新建一份第三代社保卡申请。"
        } else {
            " 没有匹配的申请。Esc 清除搜索。"
        };
        frame.render_widget(Paragraph::new(text).style(dim()), list);
        return;
    }
    let height = list.height as usize;
    let first = home.selected.saturating_sub(height.saturating_sub(1));
    let mut lines = Vec::new();
    for (i, row) in home.rows.iter().enumerate().skip(first).take(height) {
        let name = if row.name.is_empty() {
            "（未填姓名）".into()
        } else {
            crate::domain::display::printable(&row.name).into_owned()
        };
        let id = if row.id_number.is_empty() {
            "—".into()
        } else {
            mask_id(&row.id_number)
        };
        let when = row
            .updated_at
            .with_timezone(&beijing())
            .format("%m-%d %H:%M")
            .to_string();
        let selected = i == home.selected;
        let marker = if selected { "▶" } else { " " };
        let style = if selected {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
        };
        let reason = row
            .return_reason
            .as_deref()
            .filter(|_| row.status == Status::Returned);
        let red = Style::default().fg(Color::Red).patch(style);
        let number = match reason {
            Some(r) if !wide => Span::styled(pad(&truncate(r, 19), 20), red),
            _ => Span::styled(
                pad(row.application_number.as_deref().unwrap_or(""), 20),
                style,
            ),
        };
        let mut spans = vec![
            Span::styled(marker, style),
            Span::styled(
                pad(row.status.label(), 9),
                status_style(row.status).patch(style),
            ),
            Span::styled(pad(&name, 14), style),
            Span::styled(pad(&id, 21), style),
            number,
            Span::styled(pad(&when, 13), style),
        ];
        if let Some(r) = reason.filter(|_| wide) {
            let room = (list.width as usize).saturating_sub(1 + 9 + 14 + 21 + 20 + 13 + 1);
            spans.push(Span::styled(truncate(r, room), red));
        }
        lines.push(Line::from(spans));
        let y = list.y + (i - first) as u16;
        app.hits
            .borrow_mut()
            .push((Rect::new(list.x, y, list.width, 1), i));
    }
    frame.render_widget(Paragraph::new(lines), list);
}

/// `text` cut to `width` columns, with … where it was cut.
fn truncate(text: &str, width: usize) -> String {
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

fn state_mark(state: StepState) -> (&'static str, Style) {
    match state {
        StepState::Complete => ("✓", Style::default().fg(Color::Green)),
        StepState::Incomplete => ("○", Style::default().fg(Color::Yellow)),
        StepState::HasErrors => ("✗", Style::default().fg(Color::Red)),
    }
}

fn draw_step_bar(frame: &mut Frame, w: &Wizard, report: &Report, area: Rect) {
    let mut spans = vec![Span::raw(" ")];
    for step in Step::ALL {
        let (mark, mark_style) = state_mark(report.step_state(step));
        let current = w.page == Page::Step(step);
        let style = if current {
            Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        } else {
            Style::default()
        };
        let label = if w.page == Page::Progress {
            step.number().to_string()
        } else {
            format!("{}{}", step.number(), step.short_title())
        };
        spans.push(Span::styled(label, style));
        spans.push(Span::styled(mark, mark_style));
        spans.push(Span::raw(" "));
    }
    if w.page == Page::Progress {
        spans.push(Span::styled(
            "8办事进度",
            Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The problem shown beside a field: only once it has been left (touched).
fn field_problem<'a>(
    w: &Wizard,
    report: &'a Report,
    field: Field,
) -> Option<&'a crate::domain::Problem> {
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
fn return_banner(w: &Wizard, width: u16) -> Vec<Line<'static>> {
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
        text.push("退回所指的项目已修改：核对无误后在第 7 步重新提交".into());
    } else {
        text.push("请按原因处理后在第 7 步重新提交".into());
    }
    let mut lines = pack(&text[..1], width as usize, 1);
    lines.truncate(2);
    lines.extend(pack(&text[1..], width as usize, 1).into_iter().take(1));
    lines
        .into_iter()
        .map(|l| Line::from(Span::styled(l, red)))
        .collect()
}

fn draw_step(frame: &mut Frame, app: &App, w: &Wizard, step: Step, report: &Report, area: Rect) {
    let intro_height = if step == Step::Disclaimer { 10 } else { 1 };
    let banner_lines = return_banner(w, area.width);
    let [title, banner, intro, fields, missing] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(banner_lines.len() as u16),
        Constraint::Length(if step == Step::Disclaimer {
            intro_height
        } else {
            0
        }),
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
        frame.render_widget(
            Paragraph::new(DISCLAIMER)
                .wrap(Wrap { trim: false })
                .block(Block::default().borders(Borders::ALL).title("免责声明")),
            intro,
        );
    }
    let rows = form::rows(step, &w.app);
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
                let ticked = fields::consent(&w.app, row.field).is_some();
                let style = if focused {
                    Style::default().add_modifier(Modifier::REVERSED)
                } else {
                    Style::default()
                };
                spans.push(Span::styled(
                    format!(
                        "[{}] {}",
                        if ticked { "✓" } else { " " },
                        fields::check_label(row.field)
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
                        fields::text(&w.app, Field::Eligibility)
                    )));
                }
            }
            _ => {
                spans.push(Span::styled(pad(&label, LABEL_WIDTH), label_style));
                if focused && w.editor.is_some() {
                    spans.push(Span::raw("")); // the editor is drawn over this line below
                } else {
                    let value = fields::text(&w.app, row.field);
                    let shown = match row.input {
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
                    if matches!(row.input, Input::Locked) {
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
            _ => field_problem(w, report, row.field),
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
            app.hits.borrow_mut().push((rect, *i));
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
        let size = super::photo_ui::PREVIEW_CELLS;
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
    frame.render_widget(
        Paragraph::new(Line::from(text)).wrap(Wrap { trim: true }),
        missing,
    );
}

fn draw_review(frame: &mut Frame, app: &App, w: &Wizard, report: &Report, area: Rect) {
    let banner_lines = return_banner(w, area.width);
    let [title, banner, groups, actions] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(banner_lines.len() as u16),
        Constraint::Min(3),
        Constraint::Length(3),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(" 第 7 步  确认提交：与申领人逐项核对，按组号 1–6 返回修改")
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
    let rows = form::rows(Step::Review, &w.app);
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
                if fields::consent(&w.app, row.field).is_some() {
                    "✓"
                } else {
                    " "
                },
                fields::check_label(row.field)
            ),
            Input::Button(b) => format!("〔 {} 〕", b.label()),
            _ => String::new(),
        };
        action_lines.push(Line::from(vec![
            Span::raw(if focused { " ▶ " } else { "   " }),
            Span::styled(text, style),
        ]));
        app.hits.borrow_mut().push((
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
        let size = super::photo_ui::thumbnail_cells(field);
        let label = match field {
            Field::CardPhoto => "制卡照片",
            Field::IdFrontPhoto => "身份证正面",
            _ => "身份证背面",
        };
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

/// Lay `cells` out in lines no wider than `width`, each indented by `indent` spaces; a
/// cell wider than a line is split by characters.
fn pack(cells: &[String], width: usize, indent: usize) -> Vec<String> {
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

fn draw_progress(frame: &mut Frame, w: &Wizard, area: Rect) {
    let a = &w.app;
    let mut lines = vec![
        Line::from(Span::styled(
            " 第 8 步  办事进度",
            Style::default().add_modifier(Modifier::BOLD),
        )),
        Line::from(""),
    ];
    if let Some(b) = &w.banner {
        lines.push(Line::from(Span::styled(
            format!(" {b}"),
            Style::default().fg(Color::Green),
        )));
        lines.push(Line::from(""));
    }
    lines.push(Line::from(vec![
        Span::raw(format!(
            " 申领人：{}  证件号码：{}  状态：",
            a.applicant.name,
            mask_id(a.applicant.id_number.trim())
        )),
        Span::styled(
            a.status.label(),
            status_style(a.status).add_modifier(Modifier::BOLD),
        ),
    ]));
    lines.push(Line::from(format!(
        " 申领编号：{}",
        a.application_number
            .as_deref()
            .unwrap_or("（提交到社保卡系统后生成）")
    )));
    let tracking = w
        .history
        .iter()
        .rev()
        .find_map(|h| h.note.as_deref()?.strip_prefix("邮件号 "));
    if let Some(t) = tracking {
        lines.push(Line::from(format!(" 邮件号：{t}（银行邮寄）")));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        " 进度记录",
        Style::default().add_modifier(Modifier::BOLD),
    )));
    for h in &w.history {
        let note = h
            .note
            .as_ref()
            .map(|n| format!("  {n}"))
            .unwrap_or_default();
        lines.push(Line::from(format!(
            "   {}  {}{}",
            h.at.with_timezone(&beijing()).format("%Y-%m-%d %H:%M"),
            h.status.label(),
            note
        )));
    }
    if a.status == Status::Returned {
        lines.push(Line::from(""));
        let reason = w
            .history
            .iter()
            .rev()
            .find(|h| h.status == Status::Returned)
            .and_then(|h| h.note.clone())
            .unwrap_or_default();
        lines.push(Line::from(Span::styled(
            format!(" 申请已被退回：{reason}"),
            Style::default().fg(Color::Red),
        )));
        lines.push(Line::from(Span::styled(
            " 按 e 修改后重新提交。",
            Style::default().fg(Color::Red),
        )));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

fn key_hints(app: &App) -> String {
    if let Some(popup) = &app.popup {
        return App::popup_hints(popup).into();
    }
    match &app.screen {
        Screen::Home(h) if h.searching => " 输入即搜索  ↑↓ 选择  Enter 结束输入  Esc 清除".into(),
        Screen::Home(_) => " n 新建  Enter 打开  / 搜索  w 撤回  F1 帮助  q 退出".into(),
        Screen::Wizard(w) => match w.page {
            Page::Progress => " Esc 返回工作台  e 修改（已退回时）  F1 帮助".into(),
            Page::Step(Step::Review) => {
                " Tab 切换 空格 勾选 Enter 提交 1–6 回去修改 ↑↓ 滚动 Esc 工作台 F1 帮助".into()
            }
            Page::Step(_) => {
                " Tab/↓ 下一项 Enter 选择 空格 勾选 PgDn/PgUp 换步 Esc 工作台 F1 帮助".into()
            }
        },
    }
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width.saturating_sub(2));
    let h = height.min(area.height.saturating_sub(2));
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn draw_popup(frame: &mut Frame, app: &App, popup: &Popup, area: Rect) {
    match popup {
        Popup::Choice(c) => {
            let visible = c.visible();
            let rect = centered(area, 44, (visible.len() as u16 + 4).clamp(6, 20));
            frame.render_widget(Clear, rect);
            let block = Block::default()
                .borders(Borders::ALL)
                .title(format!(" 选择{} ", c.field.label()));
            let inner = block.inner(rect);
            frame.render_widget(block, rect);
            let mut lines = vec![Line::from(vec![
                Span::raw("筛选："),
                Span::styled(
                    format!("{}▏", c.filter),
                    Style::default().add_modifier(Modifier::UNDERLINED),
                ),
                Span::styled("  汉字或拼音首字母", dim()),
            ])];
            let height = inner.height.saturating_sub(1) as usize;
            let first = c.selected.saturating_sub(height.saturating_sub(1));
            for (i, (_, label)) in visible.iter().enumerate().skip(first).take(height) {
                let style = if i == c.selected {
                    Style::default().add_modifier(Modifier::REVERSED)
                } else {
                    Style::default()
                };
                lines.push(Line::from(Span::styled(format!(" {label}"), style)));
            }
            if visible.is_empty() {
                lines.push(Line::from(Span::styled(" 没有匹配的选项", dim())));
            }
            frame.render_widget(Paragraph::new(lines), inner);
        }
        Popup::Files(f) => {
            let visible = f.visible();
            let rect = centered(area, 76, 18);
            frame.render_widget(Clear, rect);
            let block = Block::default().borders(Borders::ALL).title(format!(
                " 导入{}：照片文件夹 {} ",
                f.field.label(),
                f.dir.display()
            ));
            let inner = block.inner(rect);
            frame.render_widget(block, rect);
            let mut lines = vec![Line::from(vec![
                Span::raw("筛选或路径："),
                Span::styled(
                    format!("{}▏", f.input),
                    Style::default().add_modifier(Modifier::UNDERLINED),
                ),
            ])];
            // Messages wrap inside the box: the part that says what to do is never cut.
            let message = |text: &str, style: Style| -> Vec<Line<'static>> {
                pack(&[text.to_owned()], inner.width as usize + 1, 0)
                    .into_iter()
                    .map(|l| Line::from(Span::styled(l, style)))
                    .collect()
            };
            if let Some(p) = &f.problem {
                lines.extend(message(p, Style::default().fg(Color::Red)));
            }
            if visible.is_empty() && f.problem.is_none() {
                let text = if f.entries.is_empty() {
                    format!(
                        "照片文件夹 {} 中还没有照片：把手机或高拍仪拍的照片（JPEG/PNG）放进这个文件夹，或在上面输入照片的完整路径（Tab 补全）",
                        f.dir.display()
                    )
                } else {
                    "没有名字含所输内容的照片；也可输入照片的完整路径（Tab 补全）".to_owned()
                };
                lines.extend(message(&text, dim()));
            }
            let height = inner.height.saturating_sub(2) as usize;
            let first = f.selected.saturating_sub(height.saturating_sub(1));
            for (i, file) in visible.iter().enumerate().skip(first).take(height) {
                let when = chrono::DateTime::<chrono::Utc>::from(file.modified)
                    .with_timezone(&beijing())
                    .format("%m-%d %H:%M")
                    .to_string();
                let name = file
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let style = if i == f.selected {
                    Style::default().add_modifier(Modifier::REVERSED)
                } else {
                    Style::default()
                };
                lines.push(Line::from(Span::styled(
                    format!(" {}  {}", pad(&name, 50), when),
                    style,
                )));
            }
            frame.render_widget(Paragraph::new(lines), inner);
            let hint = Rect::new(
                inner.x,
                inner.y + inner.height.saturating_sub(1),
                inner.width,
                1,
            );
            frame.render_widget(Paragraph::new("最新的在最上面").style(dim()), hint);
        }
        Popup::Registered(diffs) => {
            let rect = centered(area, 72, diffs.len() as u16 * 3 + 6);
            frame.render_widget(Clear, rect);
            let block = Block::default()
                .borders(Borders::ALL)
                .title(" 资格校验通过：登记信息与所填不一致 ");
            let inner = block.inner(rect);
            frame.render_widget(block, rect);
            let mut lines = Vec::new();
            for d in diffs {
                lines.push(Line::from(Span::styled(
                    format!(" {}", d.field.label()),
                    Style::default().add_modifier(Modifier::BOLD),
                )));
                lines.push(Line::from(format!("   所填：{}", d.typed)));
                lines.push(Line::from(vec![
                    Span::raw("   登记："),
                    Span::styled(d.registered.clone(), Style::default().fg(Color::Cyan)),
                ]));
            }
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled(
                super::wizard::REGISTERED_HINTS,
                dim(),
            )));
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
        }
        Popup::Recognised(p) => {
            let rect = centered(area, 72, p.conflicts.len() as u16 * 3 + 6);
            frame.render_widget(Clear, rect);
            let block = Block::default()
                .borders(Borders::ALL)
                .title(" 证件识别结果与所填不一致：请逐项选择 ");
            let inner = block.inner(rect);
            frame.render_widget(block, rect);
            let chosen = Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD);
            let mut lines = Vec::new();
            for (i, (c, take)) in p.conflicts.iter().zip(&p.take_card).enumerate() {
                let marker = if i == p.selected { "▶" } else { " " };
                lines.push(Line::from(Span::styled(
                    format!("{marker}{}", c.field.label()),
                    Style::default().add_modifier(Modifier::BOLD),
                )));
                let pick = |on: bool| if on { "(●)" } else { "( )" };
                lines.push(Line::from(Span::styled(
                    format!("   {} 所填：{}", pick(!take), c.held),
                    if *take { Style::default() } else { chosen },
                )));
                lines.push(Line::from(Span::styled(
                    format!("   {} 证件：{}", pick(*take), c.read),
                    if *take { chosen } else { Style::default() },
                )));
            }
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled(App::CONFLICT_HINTS, dim())));
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
        }
        Popup::ConfirmSubmit(yes) | Popup::ConfirmWithdraw(_, yes) => {
            let question = if matches!(popup, Popup::ConfirmSubmit(_)) {
                "是否确认提交个人申领？"
            } else {
                "确认撤回这份待同步的申请？撤回后回到草稿，可修改后再提交。"
            };
            let rect = centered(area, 50, 7);
            frame.render_widget(Clear, rect);
            let block = Block::default().borders(Borders::ALL).title(" 确认 ");
            let inner = block.inner(rect);
            frame.render_widget(block, rect);
            let button = |label: &str, on: bool| {
                Span::styled(
                    format!("〔 {label} 〕"),
                    if on {
                        Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
                    } else {
                        Style::default()
                    },
                )
            };
            let lines = vec![
                Line::from(question),
                Line::from(""),
                Line::from(vec![
                    Span::raw("        "),
                    button("确定", *yes),
                    Span::raw("    "),
                    button("取消", !*yes),
                ]),
            ];
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner);
        }
        Popup::Crop(editor) => {
            let rect = centered(area, 76, 20);
            frame.render_widget(Clear, rect);
            let block = Block::default()
                .borders(Borders::ALL)
                .title(" 调整制卡照片：358×441 像素 ");
            let inner = block.inner(rect);
            frame.render_widget(block, rect);
            let [left, right] = Layout::horizontal([
                Constraint::Length(super::photo_ui::PREVIEW_CELLS.width + 2),
                Constraint::Min(10),
            ])
            .areas(inner);
            if let Some(p) = &editor.preview {
                frame.render_widget(ratatui_image::Image::new(p), left);
            }
            let mut lines = vec![Line::from(Span::styled(
                "原照片的问题：",
                Style::default().add_modifier(Modifier::BOLD),
            ))];
            for r in &editor.reasons {
                lines.push(Line::from(Span::styled(
                    format!("· {r}"),
                    Style::default().fg(Color::Yellow),
                )));
            }
            lines.push(Line::from(""));
            lines.push(Line::from(editor.status.as_str()));
            lines.push(Line::from(""));
            lines.push(Line::from("←→↑↓ 移动裁剪框   + / - 放大 / 缩小   r 复位"));
            lines.push(Line::from(
                "Enter 生成合格照片（JPEG，20KB–8.75MB）   Esc 取消",
            ));
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled(
                "请确认：近期彩色免冠照，五官清晰无遮挡，无反光，头部居中。",
                dim(),
            )));
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), right);
        }
        Popup::Help => {
            let rect = centered(area, 72, 20);
            frame.render_widget(Clear, rect);
            let block = Block::default().borders(Borders::ALL).title(" 帮助 ");
            let inner = block.inner(rect);
            frame.render_widget(block, rect);
            frame.render_widget(
                Paragraph::new(help_text(app)).wrap(Wrap { trim: false }),
                inner,
            );
        }
    }
}

fn help_text(app: &App) -> String {
    let how = match &app.screen {
        Screen::Home(_) => {
            "工作台：列出本机所有申请，最近修改的在前。按 n 为居民新建申请；选中后按 Enter 继续填写或查看进度；按 / 输入姓名、拼音首字母或证件号后几位即时搜索；“待同步”的申请可按 w 撤回修改。"
        }
        Screen::Wizard(w) => match w.page {
            Page::Step(Step::Disclaimer) => {
                "与申领人一起阅读免责声明，按空格勾选“我同意”，再按 PageDown 进入下一步。"
            }
            Page::Step(Step::Applicant) => {
                "填写姓名、证件类型和号码；向申领人说明后勾选“访问授权”；当面核对身份证原件后勾选核验；再按 Enter 开始资格校验。联网时由社保卡系统校验，通过后自动带出登记信息和发卡银行，登记信息与所填不一致时并列显示供选择；离线时标为待校验，提交后发送前自动校验。"
            }
            Page::Step(Step::IdentityPhotos) => {
                "在身份证正面、背面两项上按 Enter，从照片文件夹中选择刚拍的照片（最新的在最上面）。"
            }
            Page::Step(Step::BasicInfo) => {
                "核对并补全基本信息。日期可输入 19491231、1949-12-31 或 1949/12/31；有效期结束日期可输入“长期”或 cq。性别和出生日期由身份证号自动带出。"
            }
            Page::Step(Step::CardInfo) => {
                "导入制卡照片（358×441 像素、20KB–8.75MB 的近期彩色免冠照）。发卡银行和网点由资格校验带出，不能修改。"
            }
            Page::Step(Step::Pickup) => {
                "退休人员一般只能银行邮寄；资格校验允许时也可选个人网点领卡。可按“收件人同申领人”一键填写，再核对邮编和地址。"
            }
            Page::Step(Step::Review) => {
                "与申领人逐项核对；需要修改时按组号 1–6 回到该步。勾选“我已阅读并同意”后提交。"
            }
            Page::Progress => {
                "这里是申请的办事进度：送达后显示申领编号，寄出后显示邮件号，退回时显示原因。联网时进度自动更新（右上角显示在线状态和待同步数）。已退回的申请按 e 修改后可重新提交。"
            }
        },
    };
    format!(
        "{how}\n\n\
         Tab / Shift-Tab / ↑↓  下一项 / 上一项\n\
         Enter                 打开列表、按按钮、导入照片\n\
         空格                  勾选 / 取消勾选\n\
         PageDown / PageUp     下一步 / 上一步（也可 Ctrl-N / Ctrl-P）\n\
         Ctrl-U                清空正在输入的这一项\n\
         Ctrl-S                立即保存（每次修改都会自动保存）\n\
         Esc                   回到工作台（内容不会丢失）\n\
         F1（非输入时也可按 ?）  本帮助\n\
         Ctrl-Q                退出"
    )
}
