//! The wizard: one application, one step at a time. Every change is written to the model
//! and saved at once; the text editor only mirrors the focused field while it is edited,
//! and the validation report is worked out when the application changes, not per frame.
//!
//! This file holds the wizard's state and routes its input; the rest is split by concern:
//! editing (`edit`), photos (`photos`), the eligibility check (`eligibility`), reading the
//! ID card (`recognise`), submitting (`submit`), and drawing a step, the review page and
//! the progress page (`step_view`, `review_view`, `progress_view`).

mod edit;
mod eligibility;
pub mod lease;
mod photos;
mod progress_view;
mod receipt;
mod recognise;
mod review_view;
pub mod rows;
mod step_view;
mod submit;

pub use edit::{forget_page, remember_page, remembered};

use std::collections::HashSet;

use chrono::NaiveDate;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui_textarea::{CursorMove, TextArea};

use self::rows::{Input, Row};
use super::action::Action;
use super::ctx::Ctx;
use super::events::Event;
use super::home::Hits;
use super::outcome::Outcome;
use super::popups::{HelpPopup, PROGRESS_KEYS, Popup, WIZARD_KEYS};
use crate::domain::form;
use crate::domain::{Application, Field, Report, Step, StepState, validate};

/// Which page of the wizard is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Step(Step),
    /// 办事进度 (screen 8).
    Progress,
}

pub struct Wizard {
    pub app: Application,
    pub page: Page,
    /// Index into the current step's rows.
    focus: usize,
    /// The editor of the focused text field, if it is one.
    editor: Option<TextArea<'static>>,
    /// Fields the clerk has left; their problems are shown.
    touched: HashSet<Field>,
    /// Shown on the progress page right after submitting.
    banner: Option<String>,
    /// How far the review page's summary is scrolled.
    scroll: u16,
    /// The status history shown on the progress page, read when the page is entered.
    history: Vec<crate::store::HistoryEntry>,
    /// The card photo's preview, made when the photo changes (keyed by its SHA-256).
    card_preview: Option<(String, ratatui_image::protocol::Protocol)>,
    /// The review page's previews of the photos, made on entering it.
    thumbs: Vec<photos::Thumb>,
    /// What validation says of the application, worked out when it changes (or the day
    /// does), never while drawing.
    report: Report,
    report_day: NaiveDate,
    /// This window's lease on the draft, while it edits it.
    lease: Option<crate::store::DraftLease>,
    /// Who edits it elsewhere: read-only here.
    held_by: Option<crate::store::Holder>,
    /// When the lease was last renewed.
    renewed: std::time::Instant,
    /// A change could not be saved (the store's server was gone): saved again later.
    unsaved: bool,
}

/// Where an editable application continues: the step of the first field a return
/// reason names and the clerk has not changed yet, else the first step not complete.
pub fn first_unfinished_step(app: &Application, today: NaiveDate) -> Step {
    if let Some(step) = first_returned_field(app).map(Field::step) {
        return step;
    }
    let report = validate(app, today);
    Step::ALL
        .into_iter()
        .find(|s| report.step_state(*s) != StepState::Complete)
        .unwrap_or(Step::Review)
}

/// The first field (in the form's order) that a return reason names and that is not
/// corrected yet.
pub fn first_returned_field(app: &Application) -> Option<Field> {
    let note = app.returned.as_ref().filter(|_| app.status.is_editable())?;
    note.open_fields().map(|(f, _)| f).min()
}

impl Wizard {
    /// The wizard on `app`, at `page`.
    pub fn open(app: Application, page: Page, ctx: &mut Ctx) -> Wizard {
        // What a return reason names is shown as a problem from the start, untouched.
        let returned: HashSet<Field> = app
            .returned
            .iter()
            .flat_map(|n| n.open_fields().map(|(f, _)| f))
            .collect();
        let today = ctx.today();
        let report = validate(&app, today);
        let mut w = Wizard {
            app,
            page,
            focus: 0,
            editor: None,
            touched: returned,
            banner: None,
            scroll: 0,
            history: Vec::new(),
            card_preview: None,
            thumbs: Vec::new(),
            report,
            report_day: today,
            lease: None,
            held_by: None,
            renewed: std::time::Instant::now(),
            unsaved: false,
        };
        w.take_lease(ctx, false);
        w.focus_returned_field();
        w.sync_editor();
        w.entered_page(ctx);
        w
    }

    pub fn rows(&self) -> Vec<Row> {
        match self.page {
            Page::Step(step) => rows::rows(step, &self.app),
            Page::Progress => Vec::new(),
        }
    }

    fn focused(&self) -> Option<Row> {
        self.rows().get(self.focus).copied()
    }

    fn editing(&self) -> bool {
        self.editor.is_some()
    }

    /// Work the report out again: after every change of the application.
    fn revalidate(&mut self, today: NaiveDate) {
        self.report = validate(&self.app, today);
        self.report_day = today;
    }

    /// Before drawing: the report holds for today (a wizard left open past midnight).
    pub fn keep_report_current(&mut self, today: NaiveDate) {
        if self.report_day != today {
            self.revalidate(today);
        }
    }

    /// Create the editor for the focused field if it is a text field; drop it otherwise.
    fn sync_editor(&mut self) {
        self.editor = match self.focused() {
            Some(Row {
                field,
                input: Input::Text | Input::Date,
            }) if self.can_edit() && form::locked(&self.app, field).is_none() => {
                let mut ta = TextArea::new(vec![form::text(&self.app, field)]);
                ta.move_cursor(CursorMove::End);
                ta.set_cursor_line_style(ratatui::style::Style::default());
                Some(ta)
            }
            _ => None,
        };
    }

    /// Put the cursor on the field of this step that a return reason names, if any.
    fn focus_returned_field(&mut self) {
        let Some(field) = first_returned_field(&self.app) else {
            return;
        };
        if let Some(i) = self
            .rows()
            .iter()
            .position(|r| r.field == field && !matches!(r.input, rows::Input::Button(_)))
        {
            self.focus = i;
        }
    }

    /// What the page needs when it is entered: its history, its previews.
    fn entered_page(&mut self, ctx: &mut Ctx) {
        if self.page == Page::Progress {
            self.history = ctx.session.store.history(self.app.id).unwrap_or_default();
        }
        self.refresh_card_preview(ctx);
        self.refresh_thumbnails(ctx);
    }

    /// The application changed elsewhere (the delivery worker moved it along): take its
    /// new status, and the progress page its new history.
    pub fn reload(&mut self, ctx: &mut Ctx) {
        if let Ok(app) = ctx.session.store.get(self.app.id)
            && app.status != self.app.status
        {
            self.app = app;
            self.revalidate(ctx.today());
        }
        if self.page == Page::Progress {
            self.history = ctx.session.store.history(self.app.id).unwrap_or_default();
        }
    }

    pub fn hints(&self) -> &'static str {
        match self.page {
            Page::Progress => " Esc 返回工作台  p 打印受理单  e 修改（已退回时）  F1 帮助",
            Page::Step(Step::Review) => {
                " Tab 切换 空格 勾选 Enter 提交 1–7 回去修改 ↑↓ 滚动 Esc 工作台 F1 帮助"
            }
            Page::Step(_) => " Tab/↓ 下一项 Enter 选择 空格 勾选 PgDn/PgUp 换步 Esc 工作台 F1 帮助",
        }
    }

    pub fn help(&self) -> HelpPopup {
        let keys = match self.page {
            Page::Progress => PROGRESS_KEYS,
            Page::Step(_) => WIZARD_KEYS,
        };
        let how = match self.page {
            Page::Step(Step::Disclaimer) => {
                "与申领人一起阅读免责声明，按空格勾选“我同意”，再按 PageDown 进入下一步。"
            }
            Page::Step(Step::AppliedBy) => {
                "申领人本人来办选“本人申领”。亲属或社区工作人员替申领人来办选“代办申领”：代办人须年满 18 周岁，带上本人和申领人的身份证原件；填写代办人的姓名、证件和联系电话，选择与申领人的关系，核验代办人身份证原件后勾选。代办人身份证和委托书照片可导入留存（本服务点设置为必需时须导入）。提交后申领方式和代办人信息不能再改。"
            }
            Page::Step(Step::Applicant) => {
                "填写姓名、证件类型和号码；向申领人说明后勾选“访问授权”；当面核对身份证原件后勾选核验（代办时核验代办人带来的申领人身份证原件）；再按 Enter 开始资格校验。联网时由社保卡系统校验，通过后自动带出登记信息和发卡银行，登记信息与所填不一致时并列显示供选择；离线时标为待校验，提交后发送前自动校验。"
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
                "与申领人（代办时与代办人）逐项核对；需要修改时按组号 1–7 回到该步。勾选“我已阅读并同意”后提交。"
            }
            Page::Progress => {
                "这里是申请的办事进度：按 p 打印受理单交申领人（或代办人）签字留存，送达前打印的带“待同步”本机受理号，送达后可补打带申领编号的；送达后显示申领编号，寄出后显示邮件号，退回时显示原因。联网时进度自动更新（右上角显示在线状态和待同步数）。已退回的申请按 e 修改后可重新提交。"
            }
        };
        HelpPopup::new(how, keys)
    }

    pub fn on_key(&mut self, key: KeyEvent, ctx: &mut Ctx) -> Outcome {
        if self.read_only_key(key, ctx) {
            return Outcome::Done;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let focused = self.focused();
        let editing = self.editing();
        let review = self.page == Page::Step(Step::Review);
        match key.code {
            KeyCode::Esc => {
                self.leave_field(ctx);
                return Outcome::Home;
            }
            // On the review page ↑↓ scroll the summary; Tab moves between tick and button.
            KeyCode::Down if review => self.scroll = self.scroll.saturating_add(1),
            KeyCode::Up if review => self.scroll = self.scroll.saturating_sub(1),
            KeyCode::Tab => self.move_focus(true, ctx),
            KeyCode::BackTab => self.move_focus(false, ctx),
            KeyCode::Down if !ctrl => self.move_focus(true, ctx),
            KeyCode::Up if !ctrl => self.move_focus(false, ctx),
            KeyCode::PageDown => self.step_by(true, ctx),
            KeyCode::PageUp => self.step_by(false, ctx),
            KeyCode::Char('n') if ctrl => self.step_by(true, ctx),
            KeyCode::Char('p') if ctrl => self.step_by(false, ctx),
            KeyCode::Char('s') if ctrl => {
                self.leave_field(ctx);
                if ctx.notice.as_ref().is_none_or(|n| !n.error) {
                    ctx.notify("已保存（每次修改都会自动保存）");
                }
            }
            KeyCode::Char('?') if !editing => return Outcome::Open(Popup::Help(self.help())),
            KeyCode::Char(c @ '1'..='7') if review && !editing => {
                let n = c as u8 - b'0';
                if let Some(s) = Step::ALL.iter().find(|s| s.number() == n) {
                    self.goto(Page::Step(*s), ctx);
                }
            }
            KeyCode::Char('e') if self.page == Page::Progress => self.edit_returned(ctx),
            KeyCode::Char('p') if self.page == Page::Progress => self.print_receipt(ctx),
            KeyCode::Char('v') if !editing => {
                if let Some(Row {
                    input: Input::Photo(_),
                    field,
                }) = focused
                {
                    self.view_full_screen(field, ctx);
                }
            }
            // Enter on a value read from the card (识别) confirms it, and moves on.
            KeyCode::Enter
                if focused.is_some_and(|r| self.app.recognised.contains(&r.field))
                    && self.can_edit() =>
            {
                let field = focused.map(|r| r.field).expect("checked");
                self.app.recognised.remove(&field);
                self.touched.insert(field);
                self.save(ctx);
                ctx.notify(format!("已确认{}（与证件一致）", field.label()));
                self.move_focus(true, ctx);
            }
            KeyCode::Enter if editing => self.move_focus(true, ctx),
            // A field kept as submitted says so when the clerk tries to change it.
            KeyCode::Enter | KeyCode::Char(_) | KeyCode::Backspace | KeyCode::Delete
                if !editing
                    && self.can_edit()
                    && let Some(why) = focused.and_then(|r| form::locked(&self.app, r.field)) =>
            {
                ctx.fail(why);
            }
            KeyCode::Enter | KeyCode::Char(' ') if !editing => {
                if let Some(row) = focused {
                    return self.activate(row, key.code == KeyCode::Enter, ctx);
                }
            }
            _ if editing => self.edit(key, ctx),
            _ => return Outcome::Ignored,
        }
        Outcome::Done
    }

    /// A click on row `i` of the step: focuses it; a click on the focused row presses it.
    pub fn on_click(&mut self, i: usize, ctx: &mut Ctx) -> Outcome {
        if self.focus == i && self.held_by.is_some() {
            return Outcome::Done;
        }
        if self.focus == i {
            if let Some(row) = self.focused()
                && !matches!(row.input, Input::Text | Input::Date)
            {
                return self.activate(row, true, ctx);
            }
        } else {
            self.leave_field(ctx);
            self.focus = i;
            self.sync_editor();
        }
        Outcome::Done
    }

    /// The mouse wheel: scrolls the review page, moves between fields elsewhere.
    pub fn on_scroll(&mut self, down: bool, ctx: &mut Ctx) {
        if self.page == Page::Step(Step::Review) {
            self.scroll = if down {
                self.scroll.saturating_add(1)
            } else {
                self.scroll.saturating_sub(1)
            };
        } else {
            self.move_focus(down, ctx);
        }
    }

    /// What a popup over the wizard decided.
    pub fn on_action(&mut self, action: Action, ctx: &mut Ctx) -> Outcome {
        match action {
            Action::Choose { field, code } => {
                form::set_value(&mut self.app, field, &code);
                if field == Field::IdType {
                    // Another document type: gender and birth date follow anew.
                    self.app.fill_from_id(ctx.today());
                }
                self.app.mark_edited(field);
                self.touched.insert(field);
                self.save(ctx);
            }
            Action::Import { field, path } => return self.import_photo(field, &path, ctx),
            Action::CardPhotoMade(photo) => {
                self.set_photo(Field::CardPhoto, photo, ctx);
                ctx.notify("已生成合格的制卡照片（358×441，JPEG）");
            }
            Action::CropCancelled => ctx.notify("已取消，照片未导入"),
            Action::Submit => self.confirm_submit(ctx),
            Action::Take { source, values } => self.take(source, values, ctx),
            Action::Withdraw(_)
            | Action::AddOperator { .. }
            | Action::ResetPassword { .. }
            | Action::DisableOperator(_) => {}
        }
        Outcome::Done
    }

    /// Background work reporting about this application (others' are dropped).
    pub fn on_event(&mut self, event: Event, ctx: &mut Ctx) -> Outcome {
        match event {
            Event::Eligibility(reply) if reply.application == self.app.id => {
                self.apply_eligibility(*reply, ctx)
            }
            Event::Reading(reading) if reading.application == self.app.id => {
                self.apply_reading(reading, ctx)
            }
            _ => Outcome::Done,
        }
    }

    pub fn draw_bar(&self, frame: &mut Frame, area: Rect) {
        step_view::draw_step_bar(frame, self, area);
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect) -> Hits {
        match self.page {
            Page::Step(Step::Review) => review_view::draw_review(frame, self, area),
            Page::Step(step) => step_view::draw_step(frame, self, step, area),
            Page::Progress => {
                progress_view::draw_progress(frame, self, area);
                Hits::new()
            }
        }
    }
}
