//! 工作日报, a supervisor's screen: what each operator did on a day (today first; ←→
//! another day) and what is stuck now, each stuck application opened with Enter. The
//! same figures as `sbk report day` (`crate::report`).

use chrono::{Duration, NaiveDate};
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::ctx::Ctx;
use super::home::Hits;
use super::outcome::Outcome;
use super::popups::{HelpPopup, Popup};
use super::theme::{bold, dim, pad, selected, truncate};
use crate::domain::dates::beijing;
use crate::report::{COLUMNS, Counts, DayReport, Period, day_report};

pub struct DayScreen {
    day: NaiveDate,
    report: Option<DayReport>,
    selected: usize,
}

const KEYS: &str = "←→                    前一天 / 后一天
↑↓                    选择待处理的申请
Enter                 打开所选申请
Esc                   回到工作台
Ctrl-L                立即锁屏";

impl DayScreen {
    pub fn new(ctx: &mut Ctx) -> DayScreen {
        let mut s = DayScreen {
            day: ctx.today(),
            report: None,
            selected: 0,
        };
        s.read(ctx, true);
        s
    }

    /// Read the day again: another day asked for (audited: the list names people), or the
    /// store changed under it (a delivery pass; not a new view).
    pub fn refresh(&mut self, ctx: &mut Ctx) {
        self.read(ctx, false);
    }

    fn read(&mut self, ctx: &mut Ctx, viewed: bool) {
        match day_report(
            &ctx.session.store,
            Period::day(self.day),
            None,
            false,
            ctx.now(),
        ) {
            Ok(r) => {
                if viewed {
                    let _ = ctx.session.store.audit(
                        &ctx.operator,
                        crate::store::AuditAction::View,
                        None,
                        Some(&format!("report day {}", self.day)),
                    );
                }
                self.selected = self.selected.min(r.stuck.len().saturating_sub(1));
                self.report = Some(r);
            }
            Err(e) => ctx.fail(format!("无法统计：{e}")),
        }
    }

    pub fn hints(&self) -> &'static str {
        " ←→ 换一天  ↑↓ 选择  Enter 打开  Esc 工作台  F1 帮助"
    }

    pub fn help(&self) -> HelpPopup {
        HelpPopup::new(
            "工作日报（负责人）：各操作员当天新建、提交、送达、受理、退回和撤回的件数，退回原因，以及现在需要处理的申请（待同步超过 1 小时、草稿 7 天未动、退回 3 天未修改、发送一再失败）。命令行 sbk report day 可导出 xlsx 或 csv。",
            KEYS,
        )
    }

    pub fn on_key(&mut self, key: KeyEvent, ctx: &mut Ctx) -> Outcome {
        let stuck = self.report.as_ref().map_or(0, |r| r.stuck.len());
        match key.code {
            KeyCode::Esc => return Outcome::Home,
            KeyCode::Left => {
                self.day -= Duration::days(1);
                self.read(ctx, true);
            }
            KeyCode::Right if self.day < ctx.today() => {
                self.day += Duration::days(1);
                self.read(ctx, true);
            }
            KeyCode::Up => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down => self.selected = (self.selected + 1).min(stuck.saturating_sub(1)),
            KeyCode::Enter => {
                if let Some(item) = self
                    .report
                    .as_ref()
                    .and_then(|r| r.stuck.get(self.selected))
                {
                    return Outcome::OpenApplication(item.id);
                }
            }
            KeyCode::Char('?') => return Outcome::Open(Popup::Help(self.help())),
            _ => return Outcome::Ignored,
        }
        Outcome::Done
    }

    pub fn on_click(&mut self, i: usize) -> Outcome {
        if i == self.selected
            && let Some(item) = self.report.as_ref().and_then(|r| r.stuck.get(i))
        {
            return Outcome::OpenApplication(item.id);
        }
        self.selected = i;
        Outcome::Done
    }

    pub fn draw_bar(&self, frame: &mut Frame, area: Rect) {
        frame.render_widget(
            Paragraph::new(format!(" 工作日报  {}（北京时间）", self.day)),
            area,
        );
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect) -> Hits {
        let mut hits = Hits::new();
        let Some(r) = &self.report else {
            return hits;
        };
        let table_height = r.operators.len() as u16 + 3;
        let reasons_height = if r.returned_reasons.is_empty() {
            0
        } else {
            r.returned_reasons.len().min(3) as u16 + 1
        };
        let [table, reasons, head, list] = Layout::vertical([
            Constraint::Length(table_height),
            Constraint::Length(reasons_height),
            Constraint::Length(2),
            Constraint::Min(1),
        ])
        .areas(area);
        // 工号 8 columns, 姓名 10, each figure 6.
        let cells = |cells: Vec<String>| {
            let widths = [8, 10, 6, 6, 6, 6, 6, 0];
            let line: String = cells.iter().zip(widths).map(|(c, w)| pad(c, w)).collect();
            format!(" {line}")
        };
        let row = |id: &str, name: &str, c: &Counts| {
            let mut v = vec![id.to_owned(), name.to_owned()];
            v.extend(c.values().map(|n| n.to_string()));
            cells(v)
        };
        let mut lines = vec![Line::from(Span::styled(
            cells(COLUMNS.map(str::to_owned).to_vec()),
            bold(),
        ))];
        for o in &r.operators {
            lines.push(Line::from(row(&o.operator_id, &o.operator_name, &o.counts)));
        }
        lines.push(Line::from(Span::styled(row("合计", "", &r.total), bold())));
        frame.render_widget(Paragraph::new(lines), table);
        if reasons_height > 0 {
            let mut lines = vec![Line::from(Span::styled(" 退回原因", bold()))];
            for (reason, n) in r.returned_reasons.iter().take(3) {
                lines.push(Line::from(format!(
                    "   {n} 件  {}",
                    truncate(reason, area.width as usize - 12)
                )));
            }
            frame.render_widget(Paragraph::new(lines), reasons);
        }
        let title = if r.stuck.is_empty() {
            "\n 待处理（现在）：没有".to_owned()
        } else {
            let counts: Vec<String> = r
                .stuck_totals
                .iter()
                .filter(|(_, n)| *n > 0)
                .map(|(k, n)| format!("{} {n}", k.label()))
                .collect();
            format!("\n 待处理（现在）：{}", counts.join("  "))
        };
        frame.render_widget(Paragraph::new(title).style(bold()), head);
        let height = list.height as usize;
        let first = self.selected.saturating_sub(height.saturating_sub(1));
        let mut lines = Vec::new();
        for (i, s) in r.stuck.iter().enumerate().skip(first).take(height) {
            let on = i == self.selected;
            let style = if on { selected() } else { Style::default() };
            let kind_style = Style::default().fg(Color::Yellow).patch(style);
            lines.push(Line::from(vec![
                Span::styled(if on { "▶" } else { " " }, style),
                Span::styled(pad(s.kind.label(), 18), kind_style),
                Span::styled(
                    format!(
                        "{}{}{}{}",
                        pad(
                            &truncate(&crate::domain::display::printable(&s.name), 10),
                            12
                        ),
                        pad(&s.id_number, 20),
                        pad(
                            &s.since
                                .with_timezone(&beijing())
                                .format("%m-%d %H:%M")
                                .to_string(),
                            13
                        ),
                        s.operator_name
                    ),
                    style,
                ),
            ]));
            hits.push((
                Rect::new(list.x, list.y + (i - first) as u16, list.width, 1),
                i,
            ));
        }
        if lines.is_empty() {
            lines.push(Line::from(Span::styled(" 一切正常。", dim())));
        }
        frame.render_widget(Paragraph::new(lines), list);
        hits
    }
}
