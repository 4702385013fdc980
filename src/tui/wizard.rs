//! The wizard: one application, one step at a time. Every change is written to the model
//! and saved at once; the text editor only mirrors the focused field while it is edited.

use std::collections::HashSet;

use chrono::NaiveDate;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui_textarea::{CursorMove, TextArea};

use super::app::{App, Popup, Screen};
use super::form::{self, Button, Input, Row};
use crate::domain::form as fields;
use crate::domain::{Application, Eligibility, Field, Step, StepState, validate};

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
    pub focus: usize,
    /// The editor of the focused text field, if it is one.
    pub editor: Option<TextArea<'static>>,
    /// Fields the clerk has left; their problems are shown.
    pub touched: HashSet<Field>,
    /// Shown on the progress page right after submitting.
    pub banner: Option<String>,
    /// How far the review page's summary is scrolled.
    pub scroll: u16,
    /// The status history shown on the progress page, read when the page is entered.
    pub history: Vec<crate::store::HistoryEntry>,
    /// The card photo's preview, made when the photo changes (keyed by its SHA-256).
    pub card_preview: Option<(String, ratatui_image::protocol::Protocol)>,
    /// An online eligibility check is under way.
    pub checking: bool,
    /// The review page's previews of the photos, made on entering it (keyed by SHA-256).
    pub thumbs: Vec<Thumb>,
}

/// A photo's small preview on the review page.
pub struct Thumb {
    pub field: Field,
    pub sha256: String,
    pub protocol: ratatui_image::protocol::Protocol,
}

/// A field where the registry's data differ from what the clerk typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub field: Field,
    /// As the form shows them.
    pub typed: String,
    pub registered: String,
    /// What taking the registered value writes (a date, a code, a key).
    pub value: String,
}

/// The keys of the registry's-data popup (handled in `on_popup_key`).
pub const REGISTERED_HINTS: &str = " Enter 采用登记信息   Esc 保留所填（请与居民核实）";

/// A filterable list for a choice field.
pub struct ChoicePopup {
    pub field: Field,
    pub options: Vec<(String, String)>,
    pub filter: String,
    pub selected: usize,
}

impl ChoicePopup {
    pub fn visible(&self) -> Vec<&(String, String)> {
        self.options
            .iter()
            .filter(|(c, l)| fields::option_matches(c, l, &self.filter))
            .collect()
    }
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
    pub fn new(app: Application, page: Page) -> Wizard {
        // What a return reason names is shown as a problem from the start, untouched.
        let returned: HashSet<Field> = app
            .returned
            .iter()
            .flat_map(|n| n.open_fields().map(|(f, _)| f))
            .collect();
        let mut w = Wizard {
            app,
            page,
            focus: 0,
            editor: None,
            touched: HashSet::new(),
            banner: None,
            scroll: 0,
            history: Vec::new(),
            card_preview: None,
            checking: false,
            thumbs: Vec::new(),
        };
        w.touched.extend(returned);
        w.focus_returned_field();
        w.sync_editor();
        w
    }

    /// Put the cursor on the field of this step that a return reason names, if any.
    pub fn focus_returned_field(&mut self) {
        let Some(field) = first_returned_field(&self.app) else {
            return;
        };
        if let Some(i) = self
            .rows()
            .iter()
            .position(|r| r.field == field && !matches!(r.input, Input::Button(_)))
        {
            self.focus = i;
        }
    }

    pub fn rows(&self) -> Vec<Row> {
        match self.page {
            Page::Step(step) => form::rows(step, &self.app),
            Page::Progress => Vec::new(),
        }
    }

    pub fn focused(&self) -> Option<Row> {
        self.rows().get(self.focus).copied()
    }

    /// Create the editor for the focused field if it is a text field; drop it otherwise.
    fn sync_editor(&mut self) {
        self.editor = match self.focused() {
            Some(Row {
                field,
                input: Input::Text | Input::Date,
            }) if self.app.status.is_editable() => {
                let mut ta = TextArea::new(vec![fields::text(&self.app, field)]);
                ta.move_cursor(CursorMove::End);
                ta.set_cursor_line_style(ratatui::style::Style::default());
                Some(ta)
            }
            _ => None,
        };
    }
}

impl App {
    fn wizard(&mut self) -> Option<&mut Wizard> {
        match &mut self.screen {
            Screen::Wizard(w) => Some(w),
            Screen::Home(_) => None,
        }
    }

    /// Save the wizard's application; show why if it cannot be saved.
    pub(super) fn save_wizard(&mut self) {
        let Screen::Wizard(w) = &mut self.screen else {
            return;
        };
        if !w.app.status.is_editable() {
            return;
        }
        if let Err(e) = self.store.save(&mut w.app) {
            let msg = format!("保存失败：{e}");
            self.fail(msg);
        }
    }

    /// Leave the focused field: tidy it, mark it touched, save.
    fn leave_field(&mut self) {
        let today = self.today();
        if let Some(w) = self.wizard()
            && let Some(row) = w.focused()
        {
            if matches!(row.input, Input::Text | Input::Date) {
                w.app.tidy(row.field, today);
            }
            w.touched.insert(row.field);
        }
        self.save_wizard();
    }

    fn move_focus(&mut self, forward: bool) {
        self.leave_field();
        if let Some(w) = self.wizard() {
            let n = w.rows().len();
            if n > 0 {
                w.focus = if forward {
                    (w.focus + 1) % n
                } else {
                    (w.focus + n - 1) % n
                };
            }
            w.sync_editor();
        }
    }

    /// Go to another step (or the progress page), leaving the current field first.
    pub(super) fn goto(&mut self, page: Page) {
        self.leave_field();
        if let Some(w) = self.wizard() {
            if let Page::Step(old) = w.page {
                // Leaving a step shows its problems: what is missing becomes visible.
                for row in form::rows(old, &w.app) {
                    w.touched.insert(row.field);
                }
            }
            w.page = page;
            w.focus = 0;
            w.sync_editor();
        }
        self.load_history();
        self.refresh_card_preview();
        self.refresh_thumbnails();
        if let Screen::Wizard(w) = &self.screen {
            self.remember_page(w);
        }
    }

    fn step_by(&mut self, forward: bool) {
        let Some(w) = self.wizard() else { return };
        let Page::Step(step) = w.page else { return };
        let i = Step::ALL.iter().position(|s| *s == step).unwrap_or(0);
        if forward && step == Step::Disclaimer && w.app.consents.disclaimer_agreed_at.is_none() {
            self.fail("请先阅读免责声明并勾选“我同意”（空格键勾选），才能继续");
            return;
        }
        let next = if forward { i + 1 } else { i.wrapping_sub(1) };
        if let Some(s) = Step::ALL.get(next) {
            self.goto(Page::Step(*s));
        }
    }

    pub(super) fn on_wizard_key(&mut self, key: KeyEvent) {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let Some(w) = self.wizard() else { return };
        let focused = w.focused();
        let editing = w.editor.is_some();
        let page = w.page;
        match key.code {
            KeyCode::Esc => {
                self.leave_field();
                self.go_home();
            }
            // On the review page ↑↓ scroll the summary; Tab moves between tick and button.
            KeyCode::Down if page == Page::Step(Step::Review) => {
                w.scroll = w.scroll.saturating_add(1)
            }
            KeyCode::Up if page == Page::Step(Step::Review) => {
                w.scroll = w.scroll.saturating_sub(1)
            }
            KeyCode::Tab => self.move_focus(true),
            KeyCode::BackTab => self.move_focus(false),
            KeyCode::Down if !ctrl => self.move_focus(true),
            KeyCode::Up if !ctrl => self.move_focus(false),
            KeyCode::PageDown => self.step_by(true),
            KeyCode::PageUp => self.step_by(false),
            KeyCode::Char('n') if ctrl => self.step_by(true),
            KeyCode::Char('p') if ctrl => self.step_by(false),
            KeyCode::Char('s') if ctrl => {
                self.leave_field();
                if self.notice.as_ref().is_none_or(|n| !n.error) {
                    self.notify("已保存（每次修改都会自动保存）");
                }
            }
            KeyCode::Char('?') if !editing => self.popup = Some(Popup::Help),
            KeyCode::Char(c @ '1'..='6') if page == Page::Step(Step::Review) && !editing => {
                let n = c as u8 - b'0';
                if let Some(s) = Step::ALL.iter().find(|s| s.number() == n) {
                    self.goto(Page::Step(*s));
                }
            }
            KeyCode::Char('e') if page == Page::Progress => self.edit_returned(),
            KeyCode::Char('v') if !editing => {
                if let Some(Row {
                    input: Input::Photo(_),
                    field,
                }) = focused
                {
                    self.view_full_screen(field);
                }
            }
            // Enter on a value read from the card (识别) confirms it, and moves on.
            KeyCode::Enter
                if focused.is_some_and(|r| w.app.recognised.contains(&r.field))
                    && w.app.status.is_editable() =>
            {
                let field = focused.map(|r| r.field).expect("checked");
                w.app.recognised.remove(&field);
                w.touched.insert(field);
                self.save_wizard();
                self.notify(format!("已确认{}（与证件一致）", field.label()));
                self.move_focus(true);
            }
            KeyCode::Enter if editing => self.move_focus(true),
            KeyCode::Enter | KeyCode::Char(' ') if !editing => {
                if let Some(row) = focused {
                    self.activate(row, key.code == KeyCode::Enter);
                }
            }
            _ if editing => self.edit(key),
            _ => {}
        }
    }

    /// A key for the focused text field.
    fn edit(&mut self, key: KeyEvent) {
        let Some(w) = self.wizard() else { return };
        let Some(row) = w.focused() else { return };
        let Some(editor) = w.editor.as_mut() else {
            return;
        };
        // Only single-line editing: newlines never get in.
        if key.code == KeyCode::Enter
            || (key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('m'))
        {
            return;
        }
        // Ctrl-U clears the field, as in a shell: the quickest way to retype a number.
        let changed =
            if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('u') {
                editor.select_all();
                editor.cut()
            } else {
                editor.input(key)
            };
        if changed {
            let text = editor.lines().first().cloned().unwrap_or_default();
            fields::type_text(&mut w.app, row.field, &text);
            // Corrected by the clerk: no longer a recognised value awaiting a check, nor
            // the field a return named.
            w.app.mark_edited(row.field);
            self.save_wizard();
        }
    }

    pub(super) fn paste_into_field(&mut self, text: &str) {
        let Some(w) = self.wizard() else { return };
        let Some(row) = w.focused() else { return };
        let Some(editor) = w.editor.as_mut() else {
            return;
        };
        if editor.insert_str(text) {
            let text = editor.lines().first().cloned().unwrap_or_default();
            fields::type_text(&mut w.app, row.field, &text);
            w.app.mark_edited(row.field);
            self.save_wizard();
        }
    }

    /// Enter or Space on a field that is not text.
    fn activate(&mut self, row: Row, enter: bool) {
        let now = self.now();
        let today = self.today();
        let photo_dir = self.photo_dir.clone();
        let Some(w) = self.wizard() else { return };
        if !w.app.status.is_editable() {
            return;
        }
        match row.input {
            Input::Check => {
                fields::toggle(&mut w.app, row.field, now);
                w.app.mark_edited(row.field);
                w.touched.insert(row.field);
                self.save_wizard();
            }
            Input::Choice if enter || row.field == Field::Gender => {
                let options = fields::options(&w.app, row.field);
                let current = fields::value(&w.app, row.field);
                let selected = options.iter().position(|(c, _)| *c == current).unwrap_or(0);
                self.popup = Some(Popup::Choice(ChoicePopup {
                    field: row.field,
                    options,
                    filter: String::new(),
                    selected,
                }));
            }
            Input::Photo(kind) => {
                self.popup = Some(Popup::Files(super::files::FilePopup::open(
                    &photo_dir, row.field, kind,
                )));
            }
            Input::Button(Button::CheckEligibility) => {
                w.touched.insert(Field::Name);
                w.touched.insert(Field::IdNumber);
                let report = validate(&w.app, today);
                let blocking: Vec<_> = report
                    .for_step(Step::Applicant)
                    .filter(|p| p.blocks_submission() && p.field != Field::Eligibility)
                    .map(|p| format!("{}：{}", p.field.label(), p.message))
                    .collect();
                if let Some(first) = blocking.first() {
                    let msg = format!("还不能校验：{first}");
                    self.fail(msg);
                    return;
                }
                w.touched.insert(Field::Eligibility);
                let online = self.background.is_some();
                let Screen::Wizard(w) = &mut self.screen else {
                    return;
                };
                if online {
                    let a = &w.app;
                    let request = crate::api::EligibilityRequest::for_application(a, now);
                    w.checking = true;
                    if let Some(bg) = &self.background {
                        bg.check_eligibility(a.id, request);
                    }
                    self.notify("正在进行资格校验……");
                    return;
                }
                // No central API is configured: the check waits (待校验) and runs
                // automatically before delivery.
                w.app.eligibility = Eligibility::Pending { requested_at: now };
                self.save_wizard();
                self.notify("当前离线：已标记为待校验，联网后提交前会自动进行资格校验");
            }
            Input::Button(Button::SameAsApplicant) => {
                w.app.fill_recipient_from_applicant();
                // The postcode is the resident's to give: the cursor waits there.
                let postcode_empty = w.app.pickup.mail.postcode.trim().is_empty();
                if postcode_empty
                    && let Some(i) = w.rows().iter().position(|r| r.field == Field::Postcode)
                {
                    w.focus = i;
                    w.sync_editor();
                }
                self.save_wizard();
                self.notify(if postcode_empty {
                    "已按申领人信息填写收件人（只填了空着的项）：请向申领人问清邮政编码后填写"
                } else {
                    "已按申领人信息填写收件人（只填了空着的项，请核对）"
                });
            }
            Input::Button(Button::Submit) => self.try_submit(),
            _ => {}
        }
    }

    fn try_submit(&mut self) {
        let today = self.today();
        let Some(w) = self.wizard() else { return };
        let report = validate(&w.app, today);
        if report.is_ready_to_submit() {
            self.popup = Some(Popup::ConfirmSubmit(true));
            return;
        }
        for p in &report.problems {
            w.touched.insert(p.field);
        }
        let blocking: Vec<_> = report
            .problems
            .iter()
            .filter(|p| p.blocks_submission())
            .collect();
        let first = blocking[0];
        let msg = format!(
            "还不能提交：还有 {} 项需要处理。第一项在第 {} 步“{}”：{}——{}",
            blocking.len(),
            first.field.step().number(),
            first.field.step().title(),
            first.field.label(),
            first.message
        );
        self.fail(msg);
    }

    /// Make the card photo's preview if the photo changed (on entering step 5, on import).
    pub(super) fn refresh_card_preview(&mut self) {
        let Screen::Wizard(w) = &mut self.screen else {
            return;
        };
        let Some(sha) = w.app.photos.card_photo.as_ref().map(|p| p.sha256.clone()) else {
            w.card_preview = None;
            return;
        };
        if w.card_preview.as_ref().is_some_and(|(s, _)| *s == sha) {
            return;
        }
        let image = self
            .store
            .photo(&sha)
            .ok()
            .flatten()
            .and_then(|p| crate::photo::decode(&p.bytes).ok());
        w.card_preview = image
            .and_then(|d| super::photo_ui::preview(&self.picker, d.image))
            .map(|p| (sha, p));
    }

    /// Make the review page's previews of the photos that changed (on entering it).
    pub(super) fn refresh_thumbnails(&mut self) {
        let Screen::Wizard(w) = &mut self.screen else {
            return;
        };
        if w.page != Page::Step(Step::Review) {
            return;
        }
        let mut thumbs = Vec::new();
        for field in crate::domain::Photos::FIELDS {
            let Some(sha) = w.app.photos.get(field).map(|p| p.sha256.clone()) else {
                continue;
            };
            if let Some(i) = w
                .thumbs
                .iter()
                .position(|t| t.field == field && t.sha256 == sha)
            {
                thumbs.push(w.thumbs.swap_remove(i));
                continue;
            }
            let image = self
                .store
                .photo(&sha)
                .ok()
                .flatten()
                .and_then(|p| crate::photo::decode(&p.bytes).ok());
            if let Some(protocol) =
                image.and_then(|d| super::photo_ui::thumbnail(&self.picker, d.image, field))
            {
                thumbs.push(Thumb {
                    field,
                    sha256: sha,
                    protocol,
                });
            }
        }
        w.thumbs = thumbs;
    }

    /// Read the status history for the progress page (once, not per frame).
    pub(super) fn load_history(&mut self) {
        let Screen::Wizard(w) = &mut self.screen else {
            return;
        };
        if w.page == Page::Progress {
            w.history = self.store.history(w.app.id).unwrap_or_default();
        }
    }

    pub(super) fn confirm_submit(&mut self) {
        let today = self.today();
        let operator = self.operator.clone();
        let Screen::Wizard(w) = &mut self.screen else {
            return;
        };
        let id = w.app.id;
        match self.store.submit(id, &operator, today) {
            Ok(_) => {
                tracing::info!(application = %id, "submitted to the outbox");
                self.queued += 1;
                if let Ok(app) = self.store.get(id) {
                    w.app = app;
                }
                w.banner = Some(if let Some(bg) = &self.background {
                    bg.wake();
                    "您已完成个人申领业务办理。申请已进入待同步队列，正在发送到社保卡系统；\
                     送达后本页显示申领编号。请在工作台或本页“办事进度”中查看办事进度。"
                        .into()
                } else {
                    "您已完成个人申领业务办理。当前离线：申请已保存在待同步队列，联网后自动提交到社保卡系统。\
                     请在工作台或本页“办事进度”中查看办事进度。"
                        .into()
                });
                self.goto(Page::Progress);
            }
            Err(e) => self.fail(format!("提交失败：{e}")),
        }
    }

    /// On the progress page of a returned application: back to editing.
    fn edit_returned(&mut self) {
        let today = self.today();
        let Some(w) = self.wizard() else { return };
        if w.app.status.is_editable() {
            let step = first_unfinished_step(&w.app, today);
            self.goto(Page::Step(step));
            if let Some(w) = self.wizard() {
                w.focus_returned_field();
                w.sync_editor();
            }
        }
    }

    /// What the footer says of the keys while `popup` is open: written beside the code
    /// that handles them (`on_popup_key` and the popups' own `on_key`), so the two agree.
    pub fn popup_hints(popup: &Popup) -> &'static str {
        match popup {
            Popup::Help => " 按任意键关闭帮助",
            Popup::Recognised(_) => App::CONFLICT_HINTS,
            Popup::Registered(_) => REGISTERED_HINTS,
            Popup::ConfirmSubmit(_) | Popup::ConfirmWithdraw(..) => {
                " ←→/Tab 选择  Enter 确定所选  Esc 取消"
            }
            Popup::Choice(_) => " 输入汉字或拼音首字母筛选  ↑↓ 选择  Enter 确定  Esc 取消",
            Popup::Crop(_) => super::photo_ui::CropEditor::HINTS,
            Popup::Files(_) => super::files::FilePopup::HINTS,
        }
    }

    pub(super) fn on_popup_key(&mut self, key: KeyEvent) {
        let today = self.today();
        let Some(popup) = self.popup.as_mut() else {
            return;
        };
        match popup {
            Popup::Help => self.popup = None,
            Popup::Recognised(_) => self.on_conflict_key(key),
            Popup::Registered(diffs) => match key.code {
                KeyCode::Enter => {
                    let diffs = std::mem::take(diffs);
                    self.popup = None;
                    if let Screen::Wizard(w) = &mut self.screen {
                        for d in &diffs {
                            crate::domain::form::set_value(&mut w.app, d.field, &d.value);
                            w.app.mark_edited(d.field);
                            w.touched.insert(d.field);
                        }
                    }
                    self.save_wizard();
                    self.notify("已采用登记信息");
                }
                KeyCode::Esc => {
                    self.popup = None;
                    self.notify("已保留填写的信息（提交时以所填为准，请确认无误）");
                }
                _ => {}
            },
            Popup::ConfirmSubmit(yes) => match key.code {
                KeyCode::Left | KeyCode::Right | KeyCode::Tab | KeyCode::BackTab => *yes = !*yes,
                KeyCode::Enter if *yes => {
                    self.popup = None;
                    self.confirm_submit();
                }
                KeyCode::Enter | KeyCode::Esc => self.popup = None,
                _ => {}
            },
            Popup::ConfirmWithdraw(id, yes) => match key.code {
                KeyCode::Left | KeyCode::Right | KeyCode::Tab | KeyCode::BackTab => *yes = !*yes,
                KeyCode::Enter if *yes => {
                    let id = *id;
                    self.popup = None;
                    self.withdraw(id);
                }
                KeyCode::Enter | KeyCode::Esc => self.popup = None,
                _ => {}
            },
            Popup::Choice(choice) => match key.code {
                KeyCode::Esc => self.popup = None,
                KeyCode::Up => choice.selected = choice.selected.saturating_sub(1),
                KeyCode::Down => {
                    choice.selected =
                        (choice.selected + 1).min(choice.visible().len().saturating_sub(1))
                }
                KeyCode::Backspace => {
                    choice.filter.pop();
                    choice.selected = 0;
                }
                KeyCode::Enter => {
                    let picked = choice
                        .visible()
                        .get(choice.selected)
                        .map(|(c, _)| c.clone());
                    let field = choice.field;
                    self.popup = None;
                    if let Some(code) = picked
                        && let Screen::Wizard(w) = &mut self.screen
                    {
                        fields::set_value(&mut w.app, field, &code);
                        if field == Field::IdType {
                            // Another document type: gender and birth date follow anew.
                            w.app.fill_from_id(today);
                        }
                        w.app.mark_edited(field);
                        w.touched.insert(field);
                        self.save_wizard();
                    }
                }
                KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                    choice.filter.push(c);
                    choice.selected = 0;
                }
                _ => {}
            },
            Popup::Crop(editor) => match editor.on_key(key, &self.picker) {
                Some(true) => match editor.accept(&self.store) {
                    Ok(photo) => {
                        self.popup = None;
                        self.set_photo(Field::CardPhoto, photo);
                        self.notify("已生成合格的制卡照片（358×441，JPEG）");
                    }
                    Err(message) => self.fail(message),
                },
                Some(false) => {
                    self.popup = None;
                    self.notify("已取消，照片未导入");
                }
                None => {}
            },
            Popup::Files(files) => {
                if let Some((field, path)) = files.on_key(key) {
                    self.popup = None;
                    self.import_photo(field, &path);
                } else if files.closed {
                    self.popup = None;
                }
            }
        }
    }

    fn import_photo(&mut self, field: Field, path: &std::path::Path) {
        let kind = match field {
            Field::IdFrontPhoto => crate::store::PhotoKind::IdFront,
            Field::IdBackPhoto => crate::store::PhotoKind::IdBack,
            _ => crate::store::PhotoKind::CardPhoto,
        };
        match super::photo_ui::import(&self.store, path, kind) {
            Ok(super::photo_ui::Imported::Stored(photo, warnings)) => {
                let sha256 = photo.sha256.clone();
                self.set_photo(field, photo);
                if warnings.is_empty() {
                    self.notify(format!("已导入{}，符合要求", field.label()));
                } else {
                    self.fail(format!(
                        "已导入{}。注意：{}",
                        field.label(),
                        warnings.join("；")
                    ));
                }
                // An ID card side: read it, as the 民生一卡通 flow does, to fill the fields.
                if let Some(side) = super::recognise::side_of(field) {
                    match self.store.photo(&sha256) {
                        Ok(Some(stored)) => self.start_recognition(side, stored.bytes),
                        _ => self.fail("照片已导入，但无法读出用于识别"),
                    }
                }
            }
            Ok(super::photo_ui::Imported::NeedsFix(mut editor)) => {
                editor.refresh(&self.picker);
                let reasons = editor.reasons.join("；");
                self.popup = Some(Popup::Crop(editor));
                self.fail(format!(
                    "照片还不符合要求（{reasons}）：请调整裁剪后按 Enter 生成合格照片"
                ));
            }
            Err(message) => self.fail(message),
        }
    }

    /// Ask the event loop to show this photo at full terminal size.
    fn view_full_screen(&mut self, field: Field) {
        let Screen::Wizard(w) = &self.screen else {
            return;
        };
        let photo = match field {
            Field::IdFrontPhoto => &w.app.photos.id_front,
            Field::IdBackPhoto => &w.app.photos.id_back,
            _ => &w.app.photos.card_photo,
        };
        match photo
            .as_ref()
            .and_then(|p| self.store.photo(&p.sha256).ok().flatten())
        {
            Some(p) => {
                let _ = self.store.audit(
                    &self.operator,
                    crate::store::AuditAction::View,
                    Some(w.app.id),
                    Some("photo full screen"),
                );
                self.view_photo = Some(p.bytes);
            }
            None => self.fail("还没有导入这张照片"),
        }
    }

    fn set_photo(&mut self, field: Field, photo: crate::domain::PhotoRef) {
        let Screen::Wizard(w) = &mut self.screen else {
            return;
        };
        let slot = match field {
            Field::IdFrontPhoto => &mut w.app.photos.id_front,
            Field::IdBackPhoto => &mut w.app.photos.id_back,
            _ => &mut w.app.photos.card_photo,
        };
        *slot = Some(photo);
        w.app.mark_edited(field);
        w.touched.insert(field);
        self.save_wizard();
        self.refresh_card_preview();
    }

    pub(super) fn on_mouse(&mut self, mouse: MouseEvent) {
        if self.popup.is_some() {
            return;
        }
        match mouse.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                let hit = self
                    .hits
                    .borrow()
                    .iter()
                    .find(|(r, _)| {
                        r.contains(ratatui::layout::Position::new(mouse.column, mouse.row))
                    })
                    .map(|(_, i)| *i);
                if let Some(i) = hit {
                    self.click(i);
                }
            }
            MouseEventKind::ScrollDown => self.on_key_code(KeyCode::Down),
            MouseEventKind::ScrollUp => self.on_key_code(KeyCode::Up),
            _ => {}
        }
    }

    fn on_key_code(&mut self, code: KeyCode) {
        self.on_event(crossterm::event::Event::Key(KeyEvent::new(
            code,
            KeyModifiers::NONE,
        )));
    }

    /// A click on the row with index `i` of the current list (home) or step (wizard).
    fn click(&mut self, i: usize) {
        match &mut self.screen {
            Screen::Home(home) => {
                if home.selected == i {
                    self.on_key_code(KeyCode::Enter);
                } else {
                    home.selected = i;
                }
            }
            Screen::Wizard(w) => {
                if w.focus == i {
                    if let Some(row) = w.focused()
                        && !matches!(row.input, Input::Text | Input::Date)
                    {
                        self.activate(row, true);
                    }
                } else {
                    self.leave_field();
                    if let Some(w) = self.wizard() {
                        w.focus = i;
                        w.sync_editor();
                    }
                }
            }
        }
    }
}

impl App {
    /// An online eligibility answer arrived: record it on the application it was asked
    /// for (if the clerk is still on it), fill the empty fields from the registry, and
    /// show side by side where the registry differs from what was typed.
    pub(super) fn apply_eligibility(&mut self, reply: super::background::EligibilityReply) {
        let Screen::Wizard(w) = &mut self.screen else {
            return;
        };
        if w.app.id != reply.application || !w.app.status.is_editable() {
            return;
        }
        w.checking = false;
        let now = self.fixed_now.unwrap_or_else(chrono::Utc::now);
        let answer = match reply.result {
            Ok(answer) => answer,
            Err(e) => {
                w.app.eligibility = Eligibility::Pending { requested_at: now };
                self.save_wizard();
                self.fail(format!(
                    "资格校验未能完成（{e}）：已标记为待校验，提交后会在发送前自动校验"
                ));
                return;
            }
        };
        if !answer.eligible {
            let reason = answer.reason.unwrap_or_else(|| "不符合申领条件".into());
            w.app.eligibility = Eligibility::Ineligible {
                checked_at: answer.checked_at,
                reason: reason.clone(),
            };
            self.save_wizard();
            self.fail(format!("资格校验未通过：{reason}"));
            return;
        }
        w.app.eligibility = Eligibility::Eligible {
            checked_at: answer.checked_at,
            allowed_pickup: answer.allowed_pickup.clone(),
        };
        w.app.card_issuer = answer.card_issuer.clone();
        if let Some(method) = w.app.pickup.method
            && !answer.allowed_pickup.contains(&method)
        {
            w.app.pickup.method = answer.allowed_pickup.first().copied();
        }
        let mut diffs = Vec::new();
        if let Some(p) = &answer.person {
            let a = &w.app.applicant;
            let gender_key = p.gender.key();
            // (field, what the form holds, the registered value to write)
            let fields = [
                (
                    Field::Gender,
                    a.gender.map(|g| g.label()).unwrap_or("").to_owned(),
                    gender_key.to_owned(),
                    p.gender.label().to_owned(),
                ),
                (
                    Field::BirthDate,
                    a.birth_date.clone(),
                    p.birth_date.to_string(),
                    p.birth_date.to_string(),
                ),
                (
                    Field::Nationality,
                    a.nationality.clone(),
                    p.nationality.clone(),
                    p.nationality.clone(),
                ),
                (
                    Field::Address,
                    w.app.residence.address.clone(),
                    p.residence_address.clone(),
                    p.residence_address.clone(),
                ),
                (
                    Field::IdValidFrom,
                    a.id_valid_from.clone(),
                    p.id_valid_from.to_string(),
                    p.id_valid_from.to_string(),
                ),
                (
                    Field::Mobile,
                    a.mobile.clone(),
                    p.reserved_mobile.clone(),
                    p.reserved_mobile.clone(),
                ),
            ];
            for (field, held, value, shown) in fields {
                let held = held.trim();
                let same = held == value || (field == Field::Gender && held == shown);
                if held.is_empty() {
                    crate::domain::form::set_value(&mut w.app, field, &value);
                } else if !same {
                    diffs.push(Difference {
                        field,
                        typed: fields::text(&w.app, field),
                        registered: shown,
                        value,
                    });
                }
            }
        }
        self.save_wizard();
        if diffs.is_empty() {
            self.notify("资格校验通过：已带出登记信息和发卡银行，请在第 4、5 步核对");
        } else {
            self.popup = Some(Popup::Registered(diffs));
        }
    }
}
