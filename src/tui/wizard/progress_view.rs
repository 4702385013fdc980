//! Drawing the progress page (办事进度): the application's number, tracking number and
//! history; why it came back, when it did.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use super::Wizard;
use crate::domain::dates::beijing;
use crate::domain::{Status, mask_id};
use crate::tui::theme::{prose, status_style};

pub(super) fn draw_progress(frame: &mut Frame, w: &Wizard, area: Rect) {
    let a = &w.app;
    let mut lines = vec![
        Line::from(Span::styled(
            // The page after the form's last step.
            format!(" 第 {} 步  办事进度", crate::domain::Step::ALL.len() + 1),
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
    if a.by_agent() {
        let relation = crate::domain::form::text(a, crate::domain::Field::AgentRelation);
        lines.push(Line::from(format!(
            " 代办人：{}（{relation}）  联系电话：{}",
            a.agent.name,
            crate::domain::display::mask_mobile(&a.agent.mobile)
        )));
    }
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
    frame.render_widget(prose(lines, area), area);
}
