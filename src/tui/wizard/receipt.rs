//! `p` on the result and progress pages: the 受理单, to the printer where there is one,
//! else saved with where it is said.

use super::Wizard;
use crate::tui::ctx::Ctx;

impl Wizard {
    pub(super) fn print_receipt(&mut self, ctx: &mut Ctx) {
        let made = crate::printing::make(
            &ctx.session.store,
            self.app.id,
            &ctx.receipt,
            &ctx.operator,
            ctx.now(),
        );
        match made.and_then(|m| crate::printing::send(&m, true, None, &ctx.data_dir)) {
            Ok(sent) => ctx.notify(sent.message()),
            Err(e) => ctx.fail(e.to_string()),
        }
    }
}
