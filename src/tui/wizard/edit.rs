//! Moving about the wizard and changing fields: every change goes through `save`, which
//! writes the application to the store before the next frame and works the report out
//! again.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::rows::{self, Button, Input, Row};
use super::{Page, Wizard};
use crate::domain::form;
use crate::domain::{Eligibility, Field, Step};
use crate::tui::ctx::Ctx;
use crate::tui::outcome::Outcome;
use crate::tui::popups::{ChoicePopup, FilePopup, Popup};

impl Wizard {
    /// Save the application (every change, at once) and validate it again; say why if it
    /// cannot be saved.
    pub(super) fn save(&mut self, ctx: &mut Ctx) {
        if self.can_edit() {
            match ctx.session.store.save(&mut self.app) {
                Ok(()) => {
                    if self.unsaved {
                        self.unsaved = false;
                        ctx.notify("连接已恢复，内容已保存");
                    }
                }
                Err(e) => self.save_failed(e, ctx),
            }
        }
        self.revalidate(ctx.today());
    }

    /// Leave the focused field: tidy it, mark it touched, save.
    pub(super) fn leave_field(&mut self, ctx: &mut Ctx) {
        if let Some(row) = self.focused() {
            if matches!(row.input, Input::Text | Input::Date) {
                self.app.tidy(row.field, ctx.today());
            }
            self.touched.insert(row.field);
        }
        self.save(ctx);
    }

    pub(super) fn move_focus(&mut self, forward: bool, ctx: &mut Ctx) {
        self.leave_field(ctx);
        let n = self.rows().len();
        if n > 0 {
            self.focus = if forward {
                (self.focus + 1) % n
            } else {
                (self.focus + n - 1) % n
            };
        }
        self.sync_editor();
    }

    /// Go to another step (or the progress page), leaving the current field first.
    pub(super) fn goto(&mut self, page: Page, ctx: &mut Ctx) {
        self.leave_field(ctx);
        if let Page::Step(old) = self.page {
            // Leaving a step shows its problems: what is missing becomes visible.
            for row in rows::rows(old, &self.app) {
                self.touched.insert(row.field);
            }
        }
        self.page = page;
        self.focus = 0;
        self.sync_editor();
        self.entered_page(ctx);
        remember_page(self, ctx);
    }

    pub(super) fn step_by(&mut self, forward: bool, ctx: &mut Ctx) {
        let Page::Step(step) = self.page else { return };
        let i = Step::ALL.iter().position(|s| *s == step).unwrap_or(0);
        if forward && step == Step::Disclaimer && self.app.consents.disclaimer_agreed_at.is_none() {
            ctx.fail("请先阅读免责声明并勾选“我同意”（空格键勾选），才能继续");
            return;
        }
        let next = if forward { i + 1 } else { i.wrapping_sub(1) };
        if let Some(s) = Step::ALL.get(next) {
            self.goto(Page::Step(*s), ctx);
        }
    }

    /// A key for the focused text field.
    pub(super) fn edit(&mut self, key: KeyEvent, ctx: &mut Ctx) {
        let Some(row) = self.focused() else { return };
        let Some(editor) = self.editor.as_mut() else {
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
            form::type_text(&mut self.app, row.field, &text);
            // Corrected by the clerk: no longer a recognised value awaiting a check, nor
            // the field a return named.
            self.app.mark_edited(row.field);
            self.save(ctx);
        }
    }

    /// Text pasted into the focused field (control characters already removed).
    pub fn on_paste(&mut self, text: &str, ctx: &mut Ctx) {
        let Some(row) = self.focused() else { return };
        let Some(editor) = self.editor.as_mut() else {
            return;
        };
        if editor.insert_str(text) {
            let text = editor.lines().first().cloned().unwrap_or_default();
            form::type_text(&mut self.app, row.field, &text);
            self.app.mark_edited(row.field);
            self.save(ctx);
        }
    }

    /// Enter or Space on a field that is not text.
    pub(super) fn activate(&mut self, row: Row, enter: bool, ctx: &mut Ctx) -> Outcome {
        if !self.app.status.is_editable() {
            return Outcome::Done;
        }
        if let Some(why) = form::locked(&self.app, row.field) {
            ctx.fail(why);
            return Outcome::Done;
        }
        match row.input {
            Input::Check => {
                form::toggle(&mut self.app, row.field, ctx.now());
                self.app.mark_edited(row.field);
                self.touched.insert(row.field);
                self.save(ctx);
            }
            Input::Choice if enter || row.field == Field::Gender => {
                return Outcome::Open(Popup::Choice(ChoicePopup::new(&self.app, row.field)));
            }
            Input::Photo(slot) => {
                return Outcome::Open(Popup::Files(FilePopup::open(&ctx.photo_dir, slot)));
            }
            Input::Button(Button::CheckEligibility) => self.check_eligibility(ctx),
            Input::Button(Button::SameAsApplicant) => self.same_as_applicant(ctx),
            Input::Button(Button::SameAsAgent) => self.same_as_agent(ctx),
            Input::Button(Button::Submit) => return self.try_submit(ctx),
            _ => {}
        }
        Outcome::Done
    }

    /// 收件人同申领人: the recipient from the applicant, the cursor then on the postcode.
    fn same_as_applicant(&mut self, ctx: &mut Ctx) {
        self.app.fill_recipient_from_applicant();
        // The postcode is the resident's to give: the cursor waits there.
        let postcode_empty = self.app.pickup.mail.postcode.trim().is_empty();
        if postcode_empty
            && let Some(i) = self.rows().iter().position(|r| r.field == Field::Postcode)
        {
            self.focus = i;
            self.sync_editor();
        }
        self.save(ctx);
        ctx.notify(if postcode_empty {
            "已按申领人信息填写收件人（只填了空着的项）：请向申领人问清邮政编码后填写"
        } else {
            "已按申领人信息填写收件人（只填了空着的项，请核对）"
        });
    }

    /// 收件人同代办人: the card goes to the agent; the address stays for the clerk.
    fn same_as_agent(&mut self, ctx: &mut Ctx) {
        self.app.fill_recipient_from_agent();
        self.app.mark_edited(Field::RecipientName);
        self.app.mark_edited(Field::RecipientMobile);
        if let Some(i) = self
            .rows()
            .iter()
            .position(|r| r.field == Field::RecipientDistrict)
        {
            self.focus = i;
            self.sync_editor();
        }
        self.save(ctx);
        ctx.notify("收件人已填为代办人（姓名、电话）：请填写代办人收件的地址和邮政编码");
    }

    /// Offline: the check waits (待校验) and runs by itself before delivery.
    pub(super) fn mark_pending(&mut self, ctx: &mut Ctx) {
        self.app.eligibility = Eligibility::Pending {
            requested_at: ctx.now(),
        };
        self.save(ctx);
    }
}

const UI_OPEN: &str = "open_application";
const UI_STEP: &str = "open_step";

/// Remember which application and step are open, so that a restart reopens them.
pub fn remember_page(w: &Wizard, ctx: &Ctx) {
    let _ = ctx
        .session
        .store
        .set_ui_state(UI_OPEN, Some(&w.app.id.to_string()));
    let step = match w.page {
        Page::Step(s) => Some(s.number().to_string()),
        Page::Progress => None,
    };
    let _ = ctx.session.store.set_ui_state(UI_STEP, step.as_deref());
}

/// Forget what was open (the clerk went home).
pub fn forget_page(ctx: &Ctx) {
    let _ = ctx.session.store.set_ui_state(UI_OPEN, None);
    let _ = ctx.session.store.set_ui_state(UI_STEP, None);
}

/// What was open when the wizard last stopped: the application and its step.
pub fn remembered(ctx: &Ctx) -> Option<(uuid::Uuid, Option<Step>)> {
    let id = ctx.session.store.ui_state(UI_OPEN).ok().flatten()?;
    let id = uuid::Uuid::parse_str(&id).ok()?;
    let step = ctx
        .session
        .store
        .ui_state(UI_STEP)
        .ok()
        .flatten()
        .and_then(|s| s.parse::<u8>().ok())
        .and_then(|n| Step::ALL.into_iter().find(|s| s.number() == n));
    Some((id, step))
}
