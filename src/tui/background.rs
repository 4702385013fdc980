//! The wizard's background work: the delivery worker and online eligibility checks, each
//! on its own thread, reporting back through channels that the event loop drains between
//! frames. The UI never waits for the network.

use std::sync::mpsc::{self, Receiver, Sender};

use uuid::Uuid;

use crate::api::{EligibilityAnswer, EligibilityRequest};
use crate::config::CentralSettings;
use crate::store::Operator;
use crate::sync::worker::Worker;
use crate::sync::{Backoff, CallError, Client, Delivery, PassReport};

/// An eligibility answer for the application it was asked for.
pub struct EligibilityReply {
    pub application: Uuid,
    pub result: Result<EligibilityAnswer, CallError>,
}

pub struct Background {
    worker: Worker,
    settings: CentralSettings,
    operator_id: String,
    replies_tx: Sender<EligibilityReply>,
    replies: Receiver<EligibilityReply>,
}

/// What the status bar shows about delivery.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncView {
    /// A central API is configured (otherwise: offline mode).
    pub configured: bool,
    /// Whether the last pass reached it (`None`: not tried yet).
    pub online: Option<bool>,
    pub last_error: Option<String>,
    /// Something a person must fix (the token, a certificate).
    pub needs_attention: Option<String>,
    /// The size of the current run of deliveries, for the progress bar.
    pub batch_total: usize,
}

impl Background {
    /// Start the delivery worker (polling progress every `poll_every` when idle).
    pub fn start(
        settings: &CentralSettings,
        config: &crate::config::Settings,
        operator: &Operator,
        poll_every: std::time::Duration,
    ) -> Result<Background, String> {
        let client = Client::new(settings, &operator.id).map_err(|e| e.to_string())?;
        let store = config.open_store().map_err(|e| e.to_string())?;
        let delivery = Delivery::new(store, client, operator.clone(), Backoff::default());
        let (replies_tx, replies) = mpsc::channel();
        Ok(Background {
            worker: Worker::spawn(delivery, poll_every),
            settings: settings.clone(),
            operator_id: operator.id.clone(),
            replies_tx,
            replies,
        })
    }

    /// Deliver now (after a submission).
    pub fn wake(&self) {
        self.worker.wake();
    }

    /// Ask the central API on a thread of its own; the answer arrives in `replies`.
    pub fn check_eligibility(&self, application: Uuid, request: EligibilityRequest) {
        let (settings, operator, tx) = (
            self.settings.clone(),
            self.operator_id.clone(),
            self.replies_tx.clone(),
        );
        let _ = std::thread::Builder::new()
            .name("sbk-eligibility".into())
            .spawn(move || {
                let result = Client::new(&settings, &operator)
                    .and_then(|client| client.check_eligibility(&request));
                let _ = tx.send(EligibilityReply {
                    application,
                    result,
                });
            });
    }

    /// Reports of passes since the last call.
    pub fn passes(&self) -> Vec<PassReport> {
        self.worker.reports.try_iter().collect()
    }

    pub fn eligibility_replies(&self) -> Vec<EligibilityReply> {
        self.replies.try_iter().collect()
    }
}
