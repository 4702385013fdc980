//! Everything the wizard reacts to, on one channel: the terminal's input (read on a thread
//! of its own) and what background work reports (delivery passes, eligibility answers, ID
//! card readings). The event loop waits on it, so a report wakes it at once.

use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;

use uuid::Uuid;

use zeroize::Zeroizing;

use crate::access::{AccessError, Session};
use crate::api::EligibilityAnswer;
use crate::idcard::{Recognised, Side};
use crate::sync::{CallError, PassReport};

/// An eligibility answer for the application it was asked for.
#[derive(Debug)]
pub struct EligibilityReply {
    pub application: Uuid,
    pub result: Result<EligibilityAnswer, CallError>,
}

/// An ID card photo read for the application it was imported into.
#[derive(Debug)]
pub struct Reading {
    pub application: Uuid,
    pub side: Side,
    pub result: Result<Recognised, String>,
}

/// What signing in on a thread of its own came to (Argon2 takes a moment: the screen
/// stays live meanwhile).
#[derive(Debug)]
pub enum AccessReply {
    /// Where the store stands, asked of a centre's server after the first frame.
    State(Result<crate::access::StoreState, AccessError>),
    /// First run: the store set up, with the recovery key to show once.
    SetUp(Result<(Session, Zeroizing<String>), AccessError>),
    /// Signed in at start.
    SignedIn(Result<Session, AccessError>),
    /// A password checked against the open store (unlocking, or another operator).
    Verified {
        id: String,
        verdict: crate::access::Verdict,
    },
    /// A new password set (the session travels to the thread and back).
    PasswordChanged(Session, Result<(), AccessError>),
}

#[derive(Debug)]
pub enum Event {
    Terminal(crossterm::event::Event),
    Delivery(PassReport),
    Eligibility(Box<EligibilityReply>),
    Reading(Reading),
    Access(Box<AccessReply>),
    /// Another window changed the store (a centre's server notified it).
    StoreChanged,
}

/// The channel and both its ends: senders are handed to whatever works in the background.
pub struct Events {
    tx: Sender<Event>,
    rx: Receiver<Event>,
}

impl Default for Events {
    fn default() -> Events {
        let (tx, rx) = mpsc::channel();
        Events { tx, rx }
    }
}

impl Events {
    pub fn sender(&self) -> Sender<Event> {
        self.tx.clone()
    }

    /// The next event, waiting at most `timeout` (`None`: nothing came).
    pub fn next(&self, timeout: Duration) -> Option<Event> {
        self.rx.recv_timeout(timeout).ok()
    }

    /// An event already waiting, if any.
    pub fn try_next(&self) -> Option<Event> {
        self.rx.try_recv().ok()
    }

    /// Read the terminal's input on a thread and send it down the channel.
    pub fn read_terminal(&self) {
        let tx = self.tx.clone();
        let _ = std::thread::Builder::new()
            .name("sbk-input".into())
            .spawn(move || {
                while let Ok(event) = crossterm::event::read() {
                    if tx.send(Event::Terminal(event)).is_err() {
                        return;
                    }
                }
            });
    }
}
