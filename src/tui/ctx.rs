//! What the wizard's screens and popups may touch besides their own state: the store, who
//! is at the counter, the clock, the photo folder, how photos are previewed, background
//! work, and the status line.

use std::path::PathBuf;
use std::sync::mpsc::Sender;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::background::{Background, SyncView};
use super::events::Event;
use crate::access::Session;
use crate::domain::Status;
use crate::store::Operator;

/// A transient message on the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
}

pub struct Ctx {
    /// The open store and who signed in.
    pub session: Session,
    /// Who is at the keyboard (the session's operator, kept beside it so that a screen can
    /// write to the store and name the operator at once).
    pub operator: Operator,
    pub photo_dir: PathBuf,
    /// A fixed clock for tests and snapshots; the system clock otherwise.
    pub fixed_now: Option<DateTime<Utc>>,
    /// How photo previews are drawn (detected once at start).
    pub picker: ratatui_image::picker::Picker,
    /// Delivery and online checks, when a central API is configured.
    pub background: Option<Background>,
    /// What the header says about delivery.
    pub sync: SyncView,
    /// Applications waiting for delivery, for the header; refreshed when statuses change.
    pub queued: usize,
    /// `sbk demo`: every screen says 演示模式.
    pub demo: bool,
    pub notice: Option<Notice>,
    /// A photo to show full screen outside the wizard (the event loop does it).
    pub view_photo: Option<Vec<u8>>,
    /// The application open in the wizard, for the log (never its contents).
    pub open_application: Option<Uuid>,
    /// Where background work (an ID card being read) reports.
    pub events: Sender<Event>,
    /// The shortest password a supervisor may give (the centre's rule).
    pub min_password: usize,
    /// How 受理单 are made here (the centre, this window, the paper, the font).
    pub receipt: crate::config::ReceiptSettings,
    /// The data directory: where a 受理单 is saved when there is no printer.
    pub data_dir: PathBuf,
}

impl Ctx {
    pub fn now(&self) -> DateTime<Utc> {
        self.fixed_now.unwrap_or_else(Utc::now)
    }

    /// Today in Beijing.
    pub fn today(&self) -> NaiveDate {
        crate::domain::dates::beijing_date(self.now())
    }

    pub fn notify(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice {
            text: text.into(),
            error: false,
        });
    }

    /// An error for the clerk. The log names which application, never the words: a message
    /// may quote what was typed (a photo's file name, a character of a name).
    pub fn fail(&mut self, text: impl Into<String>) {
        tracing::warn!(application = ?self.open_application, "an error was shown to the clerk");
        self.notice = Some(Notice {
            text: text.into(),
            error: true,
        });
    }

    /// Add to the notice there is (or start one).
    pub fn add_to_notice(&mut self, text: &str) {
        match &mut self.notice {
            Some(n) => n.text.push_str(text),
            None => self.notify(text),
        }
    }

    /// Record that this operator looked at an application (`how`: where from).
    pub fn audit_view(&mut self, id: Uuid, how: &str) {
        if let Err(e) = self.session.store.audit(
            &self.operator,
            crate::store::AuditAction::View,
            Some(id),
            Some(how),
        ) {
            tracing::error!(error = e.kind(), "could not audit a view");
        }
    }

    /// Recount the applications waiting for delivery.
    pub fn refresh_queued(&mut self) {
        self.queued = self
            .session
            .store
            .counts()
            .ok()
            .and_then(|c| c.into_iter().find(|(s, _)| *s == Status::Queued))
            .map_or(0, |(_, n)| n);
    }
}
