//! The home screen (工作台): every application with its state, newest first; a search that
//! narrows as it is typed; new, open and withdraw.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::action::Action;
use super::ctx::Ctx;
use super::outcome::Outcome;
use super::popups::{ConfirmPopup, HOME_KEYS, HelpPopup, Popup};
use super::theme::{bold, dim, pad, selected, status_style, truncate};
use crate::domain::dates::beijing;
use crate::domain::{Status, mask_id};
use crate::store::Summary;

/// Rows shown on the home screen.
pub const HOME_ROWS: usize = 200;

/// Where the last frame drew each clickable row: (area, row index).
pub type Hits = Vec<(Rect, usize)>;

#[derive(Default)]
pub struct Home {
    query: String,
    searching: bool,
    rows: Vec<Summary>,
    selected: usize,
    counts: Vec<(Status, usize)>,
    /// The operator may manage operators (o).
    supervisor: bool,
    /// The last whole-number query counted (its misses count once).
    counted: String,
}

impl Home {
    pub fn new(ctx: &mut Ctx) -> Home {
        let mut home = Home {
            supervisor: ctx.session.account.is_supervisor(),
            ..Home::default()
        };
        home.refresh(ctx);
        home
    }

    /// Reload the list (search results if a query is typed) and the counts.
    pub fn refresh(&mut self, ctx: &mut Ctx) {
        let whole =
            crate::store::search::Query::parse(&self.query).is_some_and(|q| q.is_whole_number());
        let rows = if self.query.trim().is_empty() {
            ctx.session.store.list(None, HOME_ROWS, 0)
        } else if whole && self.counted != self.query {
            // A whole number typed: on record and counted, once per query (the list is
            // refreshed at every key and delivery pass), as every CLI search is. The list
            // narrows live as other queries are typed; none of them can show more of a
            // number than the list does.
            self.counted = self.query.clone();
            ctx.session
                .store
                .search_as(&ctx.operator, &self.query, HOME_ROWS)
        } else {
            ctx.session.store.search(&self.query, HOME_ROWS)
        };
        match rows {
            Ok(rows) => self.rows = rows,
            Err(e) => {
                ctx.fail(format!("读取申请列表失败：{e}"));
                return;
            }
        }
        self.counts = ctx.session.store.counts().unwrap_or_default();
        ctx.queued = self
            .counts
            .iter()
            .find(|(s, _)| *s == Status::Queued)
            .map_or(0, |(_, n)| *n);
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
    }

    pub fn hints(&self) -> &'static str {
        if self.searching {
            " 输入即搜索  ↑↓ 选择  Enter 结束输入  Esc 清除"
        } else if self.supervisor {
            " n 新建 Enter 打开 / 搜索 w 撤回 o 操作员 r 日报 Ctrl-L 锁屏 F1 帮助 q 退出"
        } else {
            " n 新建  Enter 打开  / 搜索  w 撤回  Ctrl-L 锁屏  F1 帮助  q 退出"
        }
    }

    pub fn help(&self) -> HelpPopup {
        HelpPopup::new(
            "工作台：列出本机所有申请，最近修改的在前。按 n 为居民新建申请；选中后按 Enter 继续填写或查看进度；按 / 输入姓名、拼音首字母、证件号或手机号后几位即时搜索（代办申请也可按代办人的姓名、电话查到，标“代”）；“待同步”的申请可按 w 撤回修改。",
            HOME_KEYS,
        )
    }

    pub fn on_key(&mut self, key: KeyEvent, ctx: &mut Ctx) -> Outcome {
        if self.searching {
            match key.code {
                KeyCode::Esc => {
                    self.searching = false;
                    self.query.clear();
                }
                KeyCode::Enter => self.searching = false,
                KeyCode::Backspace => {
                    self.query.pop();
                }
                KeyCode::Up => self.selected = self.selected.saturating_sub(1),
                KeyCode::Down => self.selected += 1,
                KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                    self.query.push(c);
                    self.selected = 0;
                }
                _ => return Outcome::Ignored,
            }
            self.refresh(ctx);
            return Outcome::Done;
        }
        let last = self.rows.len().saturating_sub(1);
        match key.code {
            KeyCode::Char('q') => return Outcome::Quit,
            KeyCode::Char('/') => self.searching = true,
            KeyCode::Esc if !self.query.is_empty() => {
                self.query.clear();
                self.refresh(ctx);
            }
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => self.selected = (self.selected + 1).min(last),
            KeyCode::PageUp => self.selected = self.selected.saturating_sub(10),
            KeyCode::PageDown => self.selected = (self.selected + 10).min(last),
            KeyCode::Home => self.selected = 0,
            KeyCode::End => self.selected = last,
            KeyCode::Char('n') => return Outcome::New,
            KeyCode::Char('o') if self.supervisor => return Outcome::Operators,
            KeyCode::Char('r') if self.supervisor => return Outcome::Day,
            KeyCode::Enter => {
                if let Some(row) = self.rows.get(self.selected) {
                    return Outcome::OpenApplication(row.id);
                }
            }
            KeyCode::Char('w') => {
                if let Some(row) = self.rows.get(self.selected) {
                    if row.status == Status::Queued {
                        return Outcome::Open(Popup::Confirm(ConfirmPopup::withdraw(row.id)));
                    }
                    ctx.fail("只有“待同步”的申请可以撤回");
                }
            }
            KeyCode::Char('?') => return Outcome::Open(Popup::Help(self.help())),
            _ => return Outcome::Ignored,
        }
        Outcome::Done
    }

    pub fn on_paste(&mut self, text: &str, ctx: &mut Ctx) {
        if self.searching {
            self.query.push_str(text);
            self.refresh(ctx);
        }
    }

    /// A click on row `i`: selects it; a click on the selected row opens it.
    pub fn on_click(&mut self, i: usize) -> Outcome {
        if self.selected == i {
            match self.rows.get(i) {
                Some(row) => Outcome::OpenApplication(row.id),
                None => Outcome::Done,
            }
        } else {
            self.selected = i;
            Outcome::Done
        }
    }

    pub fn on_scroll(&mut self, down: bool) {
        self.selected = if down {
            (self.selected + 1).min(self.rows.len().saturating_sub(1))
        } else {
            self.selected.saturating_sub(1)
        };
    }

    pub fn on_action(&mut self, action: Action, ctx: &mut Ctx) -> Outcome {
        if let Action::Withdraw(id) = action {
            match ctx.session.store.withdraw(id, &ctx.operator) {
                Ok(_) => ctx.notify("已撤回，申请回到草稿，可以继续修改"),
                Err(e) => ctx.fail(format!("撤回失败：{e}")),
            }
            self.refresh(ctx);
        }
        Outcome::Done
    }

    /// The status bar's line under the header.
    pub fn draw_bar(&self, frame: &mut Frame, area: Rect) {
        let total: usize = self.counts.iter().map(|(_, n)| n).sum();
        let mut spans = vec![Span::raw(format!(" 工作台  共 {total} 件"))];
        for (status, n) in &self.counts {
            spans.push(Span::styled(format!("  {} {n}", status.label()), dim()));
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect) -> Hits {
        let mut hits = Hits::new();
        let [search, head, list] = Layout::vertical([
            Constraint::Length(2),
            Constraint::Length(1),
            Constraint::Min(1),
        ])
        .areas(area);
        let search_line = if self.searching || !self.query.is_empty() {
            Line::from(vec![
                Span::raw(" 搜索："),
                Span::styled(
                    format!("{}{}", self.query, if self.searching { "▏" } else { "" }),
                    Style::default().add_modifier(Modifier::UNDERLINED),
                ),
                Span::styled(
                    format!(
                        "  找到 {} 件（姓名、拼音首字母、证件号后几位、手机尾号）",
                        self.rows.len()
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
            if wide { "退回原因 / 代办人" } else { "" }
        );
        frame.render_widget(Paragraph::new(header).style(bold()), head);
        if self.rows.is_empty() {
            let text = if self.query.is_empty() {
                " 还没有申请。按 n 为居民新建一份第三代社保卡申请。"
            } else {
                " 没有匹配的申请。Esc 清除搜索。"
            };
            frame.render_widget(Paragraph::new(text).style(dim()), list);
            return hits;
        }
        let height = list.height as usize;
        let first = self.selected.saturating_sub(height.saturating_sub(1));
        let mut lines = Vec::new();
        for (i, row) in self.rows.iter().enumerate().skip(first).take(height) {
            lines.push(self.row_line(i, row, wide, list.width));
            let y = list.y + (i - first) as u16;
            hits.push((Rect::new(list.x, y, list.width, 1), i));
        }
        frame.render_widget(Paragraph::new(lines), list);
        hits
    }

    fn row_line(&self, i: usize, row: &Summary, wide: bool, width: u16) -> Line<'static> {
        let name = if row.name.is_empty() {
            "（未填姓名）".into()
        } else {
            crate::domain::display::printable(&row.name).into_owned()
        };
        // A 代办 application is marked, and on a wide screen names its agent (a relative
        // who calls is found by their own name or phone, and sees whose it is).
        let by_agent = !row.agent_name.is_empty();
        let name = if by_agent {
            format!("{} 代", truncate(&name, 10))
        } else {
            name
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
        let is_selected = i == self.selected;
        let marker = if is_selected { "▶" } else { " " };
        let style = if is_selected {
            selected()
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
        let room = (width as usize).saturating_sub(1 + 9 + 14 + 21 + 20 + 13 + 1);
        if let Some(r) = reason.filter(|_| wide) {
            spans.push(Span::styled(truncate(r, room), red));
        } else if wide && by_agent {
            let agent = crate::domain::display::printable(&row.agent_name).into_owned();
            spans.push(Span::styled(
                truncate(&format!("代办人 {agent}"), room),
                dim().patch(style),
            ));
        }
        Line::from(spans)
    }
}
