//! The wizard's photos: importing one from the photo folder (a card photo that does not
//! pass opens the crop editor; an ID card side is then read), previews made when a photo
//! changes, and the full-screen view.

use super::{Page, Wizard};
use crate::domain::{Field, PhotoRef, PhotoSlot, Step};
use crate::tui::ctx::Ctx;
use crate::tui::outcome::Outcome;
use crate::tui::photo_ui::{self, Imported};
use crate::tui::popups::{CropPopup, Popup};

/// A photo's small preview on the review page.
pub struct Thumb {
    pub field: Field,
    pub sha256: String,
    pub protocol: ratatui_image::protocol::Protocol,
}

impl Wizard {
    pub(super) fn import_photo(
        &mut self,
        field: Field,
        path: &std::path::Path,
        ctx: &mut Ctx,
    ) -> Outcome {
        let Some(kind) = PhotoSlot::of(field) else {
            return Outcome::Done;
        };
        match photo_ui::import(&ctx.session.store, path, kind) {
            Ok(Imported::Stored(photo, warnings)) => {
                let sha256 = photo.sha256.clone();
                self.set_photo(field, photo, ctx);
                if warnings.is_empty() {
                    ctx.notify(format!("已导入{}，符合要求", field.label()));
                } else {
                    ctx.fail(format!(
                        "已导入{}。注意：{}",
                        field.label(),
                        warnings.join("；")
                    ));
                }
                // An ID card side: read it, as the 民生一卡通 flow does, to fill the fields.
                if let Some(side) = crate::idcard::Side::of(kind) {
                    match ctx.session.store.photo(&sha256) {
                        Ok(Some(stored)) => self.start_reading(side, stored.bytes, ctx),
                        _ => ctx.fail("照片已导入，但无法读出用于识别"),
                    }
                }
                Outcome::Done
            }
            Ok(Imported::NeedsFix(editor)) => {
                let popup = CropPopup::new(*editor, ctx);
                ctx.fail("照片还不符合要求（原因见上）：请调整裁剪后按 Enter 生成合格照片");
                Outcome::Open(Popup::Crop(Box::new(popup)))
            }
            Err(message) => {
                ctx.fail(message);
                Outcome::Done
            }
        }
    }

    pub(super) fn set_photo(&mut self, field: Field, photo: PhotoRef, ctx: &mut Ctx) {
        if let Some(slot) = PhotoSlot::of(field) {
            *self.app.photo_mut(slot) = Some(photo);
            // What the old front said is not what the new one says.
            if slot == PhotoSlot::IdFront {
                self.app.id_number_on_card = None;
            }
        }
        self.app.mark_edited(field);
        self.touched.insert(field);
        self.save(ctx);
        self.refresh_card_preview(ctx);
    }

    /// Ask the event loop to show this photo at full terminal size.
    pub(super) fn view_full_screen(&mut self, field: Field, ctx: &mut Ctx) {
        match self
            .app
            .photo_of(field)
            .and_then(|p| ctx.session.store.photo(&p.sha256).ok().flatten())
        {
            Some(p) => {
                let _ = ctx.session.store.audit(
                    &ctx.operator,
                    crate::store::AuditAction::View,
                    Some(self.app.id),
                    Some("photo full screen"),
                );
                ctx.view_photo = Some(p.bytes);
            }
            None => ctx.fail("还没有导入这张照片"),
        }
    }

    /// Make the card photo's preview if the photo changed (on step 5).
    pub(super) fn refresh_card_preview(&mut self, ctx: &Ctx) {
        if self.page != Page::Step(Step::CardInfo) {
            return;
        }
        let Some(sha) = self
            .app
            .photos
            .card_photo
            .as_ref()
            .map(|p| p.sha256.clone())
        else {
            self.card_preview = None;
            return;
        };
        if self.card_preview.as_ref().is_some_and(|(s, _)| *s == sha) {
            return;
        }
        let image = ctx
            .session
            .store
            .photo(&sha)
            .ok()
            .flatten()
            .and_then(|p| crate::photo::decode(&p.bytes).ok());
        self.card_preview = image
            .and_then(|d| photo_ui::preview(&ctx.picker, d.image))
            .map(|p| (sha, p));
    }

    /// Make the review page's previews of the photos that changed (on entering it).
    pub(super) fn refresh_thumbnails(&mut self, ctx: &Ctx) {
        if self.page != Page::Step(Step::Review) {
            return;
        }
        let mut thumbs = Vec::new();
        for field in PhotoSlot::ALL.map(PhotoSlot::field) {
            let Some(sha) = self.app.photo_of(field).map(|p| p.sha256.clone()) else {
                continue;
            };
            if let Some(i) = self
                .thumbs
                .iter()
                .position(|t| t.field == field && t.sha256 == sha)
            {
                thumbs.push(self.thumbs.swap_remove(i));
                continue;
            }
            let image = ctx
                .session
                .store
                .photo(&sha)
                .ok()
                .flatten()
                .and_then(|p| crate::photo::decode(&p.bytes).ok());
            if let Some(protocol) =
                image.and_then(|d| photo_ui::thumbnail(&ctx.picker, d.image, field))
            {
                thumbs.push(Thumb {
                    field,
                    sha256: sha,
                    protocol,
                });
            }
        }
        self.thumbs = thumbs;
    }
}
