//! Reading the ID card's photos in the wizard (第四步 (1) of the 民生一卡通 flow): when a
//! side is imported it is read in a worker thread (a second or two; the wizard stays
//! usable), then empty fields are filled and marked 识别 until the clerk confirms them, and
//! fields that already say something else are offered side by side for the clerk to pick.

use std::sync::mpsc::{Receiver, TryRecvError};

use crossterm::event::{KeyCode, KeyEvent};
use uuid::Uuid;

use super::app::{App, Popup, Screen};
use crate::domain::Field;
use crate::idcard::prefill::{Conflict, prefill, take};
use crate::idcard::{Recognised, Side};

/// A reading under way.
pub struct Pending {
    pub application: Uuid,
    pub side: Side,
    rx: Receiver<Result<Recognised, String>>,
}

/// Fields where the card and the form differ: per row, which to keep.
pub struct ConflictPopup {
    pub conflicts: Vec<Conflict>,
    /// Per conflict: true takes the card's value.
    pub take_card: Vec<bool>,
    pub selected: usize,
}

impl ConflictPopup {
    pub fn new(conflicts: Vec<Conflict>) -> ConflictPopup {
        let n = conflicts.len();
        ConflictPopup {
            conflicts,
            take_card: vec![false; n],
            selected: 0,
        }
    }
}

pub fn side_of(field: Field) -> Option<Side> {
    match field {
        Field::IdFrontPhoto => Some(Side::Front),
        Field::IdBackPhoto => Some(Side::Back),
        _ => None,
    }
}

impl App {
    /// Start reading an imported ID card photo (or say this build cannot).
    pub(super) fn start_recognition(&mut self, side: Side, bytes: Vec<u8>) {
        let Screen::Wizard(w) = &self.screen else {
            return;
        };
        if !crate::idcard::BUILT_IN {
            // Said beside what the import said, not instead of it.
            let note = "（此版本不含身份证识别：请按证件手工填写）";
            match &mut self.notice {
                Some(n) => n.text.push_str(note),
                None => self.notify(note),
            }
            return;
        }
        let application = w.app.id;
        let (tx, rx) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("idcard".into())
            .spawn(move || {
                let _ = tx.send(read(&bytes, side));
            });
        match spawned {
            Ok(_) => {
                self.recognising = Some(Pending {
                    application,
                    side,
                    rx,
                });
                self.notify(format!("已导入{}，正在识别…", side.label()));
            }
            Err(e) => self.fail(format!("无法开始识别：{e}")),
        }
    }

    /// Take in a finished reading (between frames; never blocks).
    pub fn poll_recognition(&mut self) {
        let Some(pending) = &self.recognising else {
            return;
        };
        let result = match pending.rx.try_recv() {
            Ok(r) => r,
            Err(TryRecvError::Empty) => return,
            Err(TryRecvError::Disconnected) => Err("识别线程意外结束".into()),
        };
        let pending = self.recognising.take().expect("checked above");
        let Screen::Wizard(w) = &mut self.screen else {
            return;
        };
        // The clerk may have left for another application meanwhile: then it is dropped.
        if w.app.id != pending.application {
            return;
        }
        let recognised = match result {
            Ok(r) => r,
            Err(message) => {
                self.fail(format!(
                    "{}识别失败：{message}（请手工填写）",
                    pending.side.label()
                ));
                return;
            }
        };
        let outcome = prefill(&mut w.app, &recognised);
        // Shown at once with what to do (识别：请对照证件…), not only once left.
        w.touched.extend(outcome.filled.iter().copied());
        let labels = |fields: &[Field]| {
            fields
                .iter()
                .map(|f| f.label())
                .collect::<Vec<_>>()
                .join("、")
        };
        let mut said = Vec::new();
        if !outcome.filled.is_empty() {
            said.push(format!(
                "已填入{}（标“识别”，请对照证件逐项确认）",
                labels(&outcome.filled)
            ));
        }
        if !outcome.agreed.is_empty() {
            said.push(format!("{}与证件一致", labels(&outcome.agreed)));
        }
        let nothing_read =
            outcome.filled.is_empty() && outcome.agreed.is_empty() && outcome.conflicts.is_empty();
        if nothing_read {
            // Not one field: most likely not this side of an ID card at all.
            said.push(format!(
                "没有识别出任何信息：请确认这张照片是{}且清晰完整，或按证件手工填写",
                pending.side.label()
            ));
        } else if !outcome.unreliable.is_empty() {
            let bad: Vec<String> = outcome
                .unreliable
                .iter()
                .map(|(f, why)| format!("{}：{why}", f.label()))
                .collect();
            said.push(format!("未采用 {}", bad.join("；")));
        }
        self.save_wizard();
        let message = format!("{}：{}", pending.side.label(), said.join("。"));
        if outcome.unreliable.is_empty() && !nothing_read {
            self.notify(message);
        } else {
            self.fail(message);
        }
        if !outcome.conflicts.is_empty() {
            self.popup = Some(Popup::Recognised(ConflictPopup::new(outcome.conflicts)));
        }
    }

    /// The keys `on_conflict_key` handles, for the footer and the popup.
    pub const CONFLICT_HINTS: &'static str =
        " ↑↓ 选字段  ←→/空格 切换  Enter 按所选保存  Esc 全部保留所填";

    pub(super) fn on_conflict_key(&mut self, key: KeyEvent) {
        let Some(Popup::Recognised(p)) = &mut self.popup else {
            return;
        };
        match key.code {
            KeyCode::Up | KeyCode::BackTab => p.selected = p.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Tab => {
                p.selected = (p.selected + 1).min(p.conflicts.len().saturating_sub(1))
            }
            KeyCode::Left | KeyCode::Right | KeyCode::Char(' ') => {
                if let Some(t) = p.take_card.get_mut(p.selected) {
                    *t = !*t;
                }
            }
            KeyCode::Enter => {
                let Some(Popup::Recognised(p)) = self.popup.take() else {
                    return;
                };
                let mut taken = Vec::new();
                if let Screen::Wizard(w) = &mut self.screen {
                    for (c, t) in p.conflicts.iter().zip(&p.take_card) {
                        if *t {
                            take(&mut w.app, c);
                            w.touched.insert(c.field);
                            taken.push(c.field.label());
                        }
                    }
                }
                self.save_wizard();
                if taken.is_empty() {
                    self.notify("已保留所填的信息");
                } else {
                    self.notify(format!(
                        "已采用证件上的{}（标“识别”，请确认）",
                        taken.join("、")
                    ));
                }
            }
            KeyCode::Esc => {
                self.popup = None;
                self.notify("已保留所填的信息");
            }
            _ => {}
        }
    }
}

#[cfg(feature = "ocr")]
fn read(bytes: &[u8], side: Side) -> Result<Recognised, String> {
    let mut reader = crate::idcard::engine::Reader::new().map_err(|e| e.to_string())?;
    reader.read(bytes, side).map_err(|e| e.to_string())
}

#[cfg(not(feature = "ocr"))]
fn read(_: &[u8], _: Side) -> Result<Recognised, String> {
    Err(crate::idcard::NOT_BUILT_IN.into())
}
