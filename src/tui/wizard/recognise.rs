//! Reading the ID card's photos (第四步 (1) of the 民生一卡通 flow): when a side is imported
//! it is read on a thread (a second or two; the wizard stays usable), then what it says is
//! offered to the form: empty fields filled and marked 识别 until the clerk confirms them,
//! fields that already say something else shown side by side for the clerk to pick.

use super::Wizard;
use crate::domain::Field;
use crate::domain::prefill::Source;
use crate::idcard::prefill::prefill;
use crate::idcard::{Recognised, Side};
use crate::tui::ctx::Ctx;
use crate::tui::events::{Event, Reading};
use crate::tui::outcome::Outcome;
use crate::tui::popups::{ComparePopup, Popup};

impl Wizard {
    /// Start reading an imported ID card photo (or say this build cannot).
    pub(super) fn start_reading(&mut self, side: Side, bytes: Vec<u8>, ctx: &mut Ctx) {
        if !crate::idcard::BUILT_IN {
            // Said beside what the import said, not instead of it.
            ctx.add_to_notice("（此版本不含身份证识别：请按证件手工填写）");
            return;
        }
        let (application, events) = (self.app.id, ctx.events.clone());
        let spawned = std::thread::Builder::new()
            .name("idcard".into())
            .spawn(move || {
                let result = read(&bytes, side);
                let _ = events.send(Event::Reading(Reading {
                    application,
                    side,
                    result,
                }));
            });
        match spawned {
            Ok(_) => ctx.notify(format!("已导入{}，正在识别…", side.label())),
            Err(e) => ctx.fail(format!("无法开始识别：{e}")),
        }
    }

    /// A finished reading of this application's card.
    pub(super) fn apply_reading(&mut self, reading: Reading, ctx: &mut Ctx) -> Outcome {
        let side = reading.side;
        let recognised = match reading.result {
            Ok(r) => r,
            Err(message) => {
                ctx.fail(format!("{}识别失败：{message}（请手工填写）", side.label()));
                return Outcome::Done;
            }
        };
        let outcome = prefill(&mut self.app, &recognised);
        // The number on the card is kept beside the form's: a difference stays in view
        // (step 4, the review page) until it is put right.
        if side == Side::Front {
            self.app.id_number_on_card = recognised
                .get(crate::idcard::CardField::IdNumber)
                .and_then(|r| r.usable())
                .map(str::to_owned);
        }
        let offered = outcome.offered;
        // Shown at once with what to do (识别：请对照证件…), not only once left.
        self.touched.extend(offered.filled.iter().copied());
        let labels = |fields: &[Field]| {
            fields
                .iter()
                .map(|f| f.label())
                .collect::<Vec<_>>()
                .join("、")
        };
        let mut said = Vec::new();
        if !offered.filled.is_empty() {
            said.push(format!(
                "已填入{}（标“识别”，请对照证件逐项确认）",
                labels(&offered.filled)
            ));
        }
        if !offered.agreed.is_empty() {
            said.push(format!("{}与证件一致", labels(&offered.agreed)));
        }
        let nothing_read = offered.filled.is_empty()
            && offered.agreed.is_empty()
            && offered.differences.is_empty();
        if nothing_read {
            // Not one field: most likely not this side of an ID card at all.
            said.push(format!(
                "没有识别出任何信息：请确认这张照片是{}且清晰完整，或按证件手工填写",
                side.label()
            ));
        } else if !outcome.unreliable.is_empty() {
            let bad: Vec<String> = outcome
                .unreliable
                .iter()
                .map(|(f, why)| format!("{}：{why}", f.label()))
                .collect();
            said.push(format!("未采用 {}", bad.join("；")));
        }
        self.save(ctx);
        let message = format!("{}：{}", side.label(), said.join("。"));
        if outcome.unreliable.is_empty() && !nothing_read {
            ctx.notify(message);
        } else {
            ctx.fail(message);
        }
        if offered.differences.is_empty() {
            Outcome::Done
        } else {
            Outcome::Open(Popup::Compare(ComparePopup::new(
                Source::Card,
                offered.differences,
            )))
        }
    }
}

/// One reader for the process: loading the two language models takes ~0.15 s, once
/// rather than at every side imported.
#[cfg(feature = "ocr")]
static READER: std::sync::Mutex<Option<crate::idcard::engine::Reader>> =
    std::sync::Mutex::new(None);

#[cfg(feature = "ocr")]
fn read(bytes: &[u8], side: Side) -> Result<Recognised, String> {
    let mut kept = READER.lock().unwrap_or_else(|p| p.into_inner());
    let reader = match kept.as_mut() {
        Some(r) => r,
        None => kept.insert(crate::idcard::engine::Reader::new().map_err(|e| e.to_string())?),
    };
    reader.read(bytes, side).map_err(|e| e.to_string())
}

#[cfg(not(feature = "ocr"))]
fn read(_: &[u8], _: Side) -> Result<Recognised, String> {
    Err(crate::idcard::NOT_BUILT_IN.into())
}
