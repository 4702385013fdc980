//! 提交: refused with where to go while anything is missing; otherwise 是否确认提交个人申领,
//! then the store queues it (the outbox entry in the same transaction) and delivery is
//! woken. And back to editing a returned application.

use super::{Page, Wizard, first_unfinished_step};
use crate::tui::ctx::Ctx;
use crate::tui::outcome::Outcome;
use crate::tui::popups::{ConfirmPopup, Popup};

impl Wizard {
    pub(super) fn try_submit(&mut self, ctx: &mut Ctx) -> Outcome {
        if self.report.is_ready_to_submit() {
            return Outcome::Open(Popup::Confirm(ConfirmPopup::submit(self.app.by_agent())));
        }
        for p in &self.report.problems {
            self.touched.insert(p.field);
        }
        let blocking: Vec<_> = self
            .report
            .problems
            .iter()
            .filter(|p| p.blocks_submission())
            .collect();
        let first = blocking[0];
        ctx.fail(format!(
            "还不能提交：还有 {} 项需要处理。第一项在第 {} 步“{}”：{}——{}",
            blocking.len(),
            first.field.step().number(),
            first.field.step().title(),
            first.field.label(),
            first.message
        ));
        Outcome::Done
    }

    /// 确定: queue it, and show the result page.
    pub(super) fn confirm_submit(&mut self, ctx: &mut Ctx) {
        let id = self.app.id;
        // What is on screen is what is submitted: an edit the store has not taken yet (the
        // connection broke) is saved first, or nothing is submitted.
        if self.unsaved {
            self.save(ctx);
            if self.unsaved {
                ctx.fail("还有修改没有保存到数据库（连接中断）：恢复连接后会自动保存，届时再提交");
                return;
            }
        }
        match ctx.session.store.submit(id, &ctx.operator, ctx.today()) {
            Ok(_) => {
                tracing::info!(application = %id, "submitted to the outbox");
                ctx.queued += 1;
                if let Ok(app) = ctx.session.store.get(id) {
                    self.app = app;
                    self.revalidate(ctx.today());
                }
                let (kind, who) = if self.app.by_agent() {
                    ("代办申领", "代办人")
                } else {
                    ("个人申领", "申领人")
                };
                self.banner = Some(if let Some(bg) = &ctx.background {
                    bg.wake();
                    format!(
                        "您已完成{kind}业务办理。申请已进入待同步队列，正在发送到社保卡系统；\
                         送达后本页显示申领编号。按 p 打印受理单交{who}签字留存。"
                    )
                } else {
                    format!(
                        "您已完成{kind}业务办理。当前离线：申请已保存在待同步队列，联网后自动提交到社保卡系统。\
                         按 p 打印受理单交{who}签字留存。"
                    )
                });
                self.goto(Page::Progress, ctx);
            }
            Err(e) => ctx.fail(format!("提交失败：{e}")),
        }
    }

    /// On the progress page of a returned application: back to editing, at the field the
    /// reason names.
    pub(super) fn edit_returned(&mut self, ctx: &mut Ctx) {
        if self.app.status.is_editable() {
            let step = first_unfinished_step(&self.app, ctx.today());
            self.goto(Page::Step(step), ctx);
            self.focus_returned_field();
            self.sync_editor();
        }
    }
}
