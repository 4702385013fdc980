//! What handling an input comes to. A screen or a popup handles its keys and says what
//! should follow; the app carries it out (opens the popup, switches the screen, quits).
//! A popup that decides something hands an `Action` back to the screen under it.

use uuid::Uuid;

use super::action::Action;
use super::popups::{Popup, Reply};

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
    /// The supervisor's 操作员管理.
    Operators,
    /// The supervisor's 工作日报.
    Day,
    Quit,
}

impl From<Reply> for Outcome {
    fn from(reply: Reply) -> Outcome {
        match reply {
            Reply::Stay => Outcome::Done,
            Reply::Close => Outcome::Close,
            Reply::Act(action) => Outcome::Act(action),
        }
    }
}
