//! Dialogs over a screen, one file each. A popup handles its own keys (a `Reply`: stay,
//! close, or close and hand the screen an `Action`), draws itself, and says which keys it
//! takes, so that the footer and the handler cannot drift apart.

mod account;
mod choice;
mod compare;
mod confirm;
mod crop;
mod files;
mod help;

pub use account::AccountPopup;
pub use choice::ChoicePopup;
pub use compare::ComparePopup;
pub use confirm::ConfirmPopup;
pub use crop::CropPopup;
pub use files::{FilePopup, complete_path, ensure_photo_dir, list_images};
pub use help::{HOME_KEYS, HelpPopup, PROGRESS_KEYS, WIZARD_KEYS};

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

use super::action::Action;
use super::ctx::Ctx;

/// What a key in a popup comes to.
pub enum Reply {
    /// Handled; the popup stays open.
    Stay,
    /// Close the popup.
    Close,
    /// Close the popup and let the screen under it act on what was decided.
    Act(Action),
}

pub enum Popup {
    Account(AccountPopup),
    Choice(ChoicePopup),
    Files(FilePopup),
    Confirm(ConfirmPopup),
    Help(HelpPopup),
    Crop(Box<CropPopup>),
    Compare(ComparePopup),
}

impl Popup {
    pub fn on_key(&mut self, key: KeyEvent, ctx: &mut Ctx) -> Reply {
        match self {
            Popup::Account(p) => p.on_key(key),
            Popup::Choice(p) => p.on_key(key),
            Popup::Files(p) => p.on_key(key),
            Popup::Confirm(p) => p.on_key(key),
            Popup::Help(p) => p.on_key(key),
            Popup::Crop(p) => p.on_key(key, ctx),
            Popup::Compare(p) => p.on_key(key),
        }
    }

    /// Text pasted while the popup is open (control characters already removed).
    pub fn on_paste(&mut self, text: &str) {
        match self {
            Popup::Account(p) => p.on_paste(text),
            Popup::Choice(p) => p.on_paste(text),
            Popup::Files(p) => p.on_paste(text),
            _ => {}
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect) {
        match self {
            Popup::Account(p) => p.draw(frame, area),
            Popup::Choice(p) => p.draw(frame, area),
            Popup::Files(p) => p.draw(frame, area),
            Popup::Confirm(p) => p.draw(frame, area),
            Popup::Help(p) => p.draw(frame, area),
            Popup::Crop(p) => p.draw(frame, area),
            Popup::Compare(p) => p.draw(frame, area),
        }
    }

    /// The keys this popup takes, for the footer.
    pub fn hints(&self) -> &'static str {
        match self {
            Popup::Account(p) => p.hints(),
            Popup::Choice(_) => ChoicePopup::HINTS,
            Popup::Files(_) => FilePopup::HINTS,
            Popup::Confirm(_) => ConfirmPopup::HINTS,
            Popup::Help(_) => HelpPopup::HINTS,
            Popup::Crop(_) => CropPopup::HINTS,
            Popup::Compare(_) => ComparePopup::HINTS,
        }
    }
}
