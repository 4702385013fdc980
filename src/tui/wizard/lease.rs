//! One window edits a draft at a time. Opening an editable application takes its lease;
//! a heartbeat renews it; closing gives it back; a window that died loses it when it runs
//! out. A second window sees who has it (正在由 李柜员（3号窗口）编辑) and gets it read-only,
//! or takes it over with Ctrl-T (audited); the first then finds it was taken and becomes
//! read-only itself. Whatever this window had typed was saved before.

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::Wizard;
use crate::store::{StoreError, Taken};
use crate::tui::ctx::Ctx;

/// How long a lease lasts without a heartbeat (a window that died frees it then).
pub const LEASE: Duration = Duration::from_secs(60);
/// How often the open window renews it.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

impl Wizard {
    /// Take the lease if the application is one to edit; else say who has it.
    pub(super) fn take_lease(&mut self, ctx: &mut Ctx, take_over: bool) {
        if !self.app.status.is_editable() {
            return;
        }
        match ctx
            .session
            .store
            .take_draft(self.app.id, &ctx.operator, LEASE, take_over)
        {
            Ok(Taken::Granted(lease)) => {
                self.lease = Some(lease);
                self.held_by = None;
                self.renewed = Instant::now();
            }
            Ok(Taken::HeldBy(holder)) => self.held_by = Some(holder),
            Err(e) => {
                tracing::warn!(error = e.kind(), "a draft's lease could not be taken");
                ctx.fail(format!("无法锁定这份草稿：{e}"));
            }
        }
    }

    /// Whether this window may change the application.
    pub(super) fn can_edit(&self) -> bool {
        self.app.status.is_editable() && self.held_by.is_none()
    }

    /// The line that says who has it, while it is read-only here.
    pub fn held_note(&self) -> Option<String> {
        self.held_by.as_ref().map(|h| {
            format!(
                "正在由 {} 编辑，此处只读。确需在本窗口修改，按 Ctrl-T 接手（记入审计日志）",
                h.describe()
            )
        })
    }

    /// A key while read-only: moving about and leaving are fine, Ctrl-T takes the draft
    /// over, anything that would change it is refused with a word why. `true`: the key
    /// was dealt with here.
    pub(super) fn read_only_key(&mut self, key: KeyEvent, ctx: &mut Ctx) -> bool {
        if self.held_by.is_none() {
            return false;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let moves = matches!(
            key.code,
            KeyCode::Esc
                | KeyCode::Tab
                | KeyCode::BackTab
                | KeyCode::Up
                | KeyCode::Down
                | KeyCode::PageUp
                | KeyCode::PageDown
                | KeyCode::F(_)
        ) || (ctrl && matches!(key.code, KeyCode::Char('n') | KeyCode::Char('p')))
            || matches!(key.code, KeyCode::Char('?') | KeyCode::Char('v'))
            || matches!(key.code, KeyCode::Char('1'..='6'));
        if moves {
            return false;
        }
        if ctrl && key.code == KeyCode::Char('t') {
            self.take_lease(ctx, true);
            if self.lease.is_some() {
                self.reload_all(ctx);
                ctx.notify("已接手这份草稿：现在由本窗口编辑（已记入审计日志）");
            }
            return true;
        }
        if let Some(note) = self.held_note() {
            ctx.fail(note);
        }
        true
    }

    /// Renew the lease now and then (`now`: whatever the time since the last); if another
    /// window took it over, stop editing here.
    pub fn heartbeat(&mut self, ctx: &mut Ctx, now: bool) {
        if self.unsaved {
            self.save(ctx);
        }
        let Some(lease) = &self.lease else { return };
        if !now && self.renewed.elapsed() < HEARTBEAT {
            return;
        }
        match ctx.session.store.renew_draft(lease, LEASE) {
            Ok(true) => self.renewed = Instant::now(),
            Ok(false) => {
                self.lease = None;
                self.held_by = ctx.session.store.draft_holder(self.app.id).ok().flatten();
                self.editor = None;
                if let Some(note) = self.held_note() {
                    ctx.fail(format!("这份草稿已被接手。{note}"));
                }
            }
            Err(e) => tracing::warn!(error = e.kind(), "a draft's lease could not be renewed"),
        }
    }

    /// Closing the application: the lease goes back.
    pub fn close(&mut self, ctx: &mut Ctx) {
        if let Some(lease) = self.lease.take()
            && let Err(e) = ctx.session.store.release_draft(&lease)
        {
            tracing::warn!(error = e.kind(), "a draft's lease could not be given back");
        }
    }

    /// Take the application as the store has it now (after a take-over, or a save refused
    /// because another window saved a newer version).
    pub(super) fn reload_all(&mut self, ctx: &mut Ctx) {
        match ctx.session.store.get(self.app.id) {
            Ok(app) => {
                self.app = app;
                self.unsaved = false;
                self.revalidate(ctx.today());
                self.sync_editor();
            }
            Err(e) => ctx.fail(format!("无法重新读取这份申请：{e}")),
        }
    }

    /// A save failed: a newer version is taken in; a broken connection keeps what is on
    /// screen and saves it again when the store is back.
    pub(super) fn save_failed(&mut self, e: StoreError, ctx: &mut Ctx) {
        match e {
            StoreError::NewerVersion => {
                self.reload_all(ctx);
                ctx.fail(StoreError::NewerVersion.to_string());
            }
            e if e.is_connection() => {
                self.unsaved = true;
                ctx.fail("与中心数据库的连接已断开：已输入的内容还在屏幕上，恢复连接后自动保存");
            }
            e => ctx.fail(format!("保存失败：{e}")),
        }
    }
}
