//! The header line: who is at the counter, demo mode, and how delivery is going.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use super::ctx::Ctx;

pub fn draw(frame: &mut Frame, ctx: &Ctx, area: Rect) {
    let left = format!(
        " {}第三代社会保障卡 柜台申领  操作员 {}（{}）",
        if ctx.demo { "【演示模式】" } else { "" },
        ctx.operator.name,
        ctx.operator.id
    );
    let (right, colour) = sync_status(ctx);
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
fn sync_status(ctx: &Ctx) -> (String, Color) {
    let v = &ctx.sync;
    if !v.configured {
        return (
            format!("● 离线模式 · 待同步 {} ", ctx.queued),
            Color::Yellow,
        );
    }
    if let Some(problem) = &v.needs_attention {
        let short: String = problem.chars().take(24).collect();
        return (
            format!("⚠ 需要处理：{short}… · 待同步 {} ", ctx.queued),
            Color::Red,
        );
    }
    let mut text = match v.online {
        Some(true) => "● 在线".to_owned(),
        Some(false) => "● 连接中断".to_owned(),
        None => "● 连接中".to_owned(),
    };
    if v.batch_total >= 2 && ctx.queued > 0 {
        let done = v.batch_total.saturating_sub(ctx.queued);
        let filled = done * 8 / v.batch_total.max(1);
        text.push_str(&format!(
            " · 送达 {}{} {done}/{}",
            "▰".repeat(filled),
            "▱".repeat(8 - filled),
            v.batch_total
        ));
    } else {
        text.push_str(&format!(" · 待同步 {}", ctx.queued));
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
