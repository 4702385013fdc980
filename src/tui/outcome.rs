//! What handling an input comes to. A screen or a popup handles its keys and says what
//! should follow; the app carries it out (opens the popup, switches the screen, quits).
//! A popup that decides something hands an `Action` back to the screen under it.

use std::path::PathBuf;

use uuid::Uuid;

use super::popups::Popup;
use crate::domain::prefill::Source;
use crate::domain::{Field, PhotoRef};

pub enum Outcome {
    /// Not this component's input: the next one may take it.
    Ignored,
    /// Handled; nothing else follows.
    Done,
    /// Open a popup over the screen.
    Open(Popup),
    /// (A popup) close me.
    Close,
    /// (A popup) close me, and let the screen act on what was decided.
    Act(Action),
    /// Go to the home screen.
    Home,
    /// Open this application in the wizard.
    OpenApplication(Uuid),
    /// Start a new application.
    New,
    Quit,
}

/// Decided in a popup, carried out by the screen under it.
pub enum Action {
    /// A choice picked from a list.
    Choose { field: Field, code: String },
    /// A photo file picked for a photo field.
    Import { field: Field, path: PathBuf },
    /// The crop editor made a card photo (already stored).
    CardPhotoMade(PhotoRef),
    /// The crop editor was left: nothing imported.
    CropCancelled,
    /// 是否确认提交个人申领 — 确定.
    Submit,
    /// Withdraw this queued application.
    Withdraw(Uuid),
    /// From a comparison: the fields whose outside value to take (and the rest kept).
    Take {
        source: Source,
        values: Vec<(Field, String)>,
    },
}
