//! The wizard's background work: the delivery worker and online eligibility checks, each
//! on its own thread, reporting back on the wizard's event channel (which wakes its loop).
//! The UI never waits for the network.

use std::sync::mpsc::Sender;

use uuid::Uuid;

use super::events::{EligibilityReply, Event};
use crate::api::EligibilityRequest;
use crate::config::CentralSettings;
use crate::store::Operator;
use crate::sync::worker::Worker;
use crate::sync::{Backoff, CallError, Client, Delivery, PassReport};

pub struct Background {
    worker: Worker,
    settings: CentralSettings,
    operator_id: String,
    events: Sender<Event>,
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

impl SyncView {
    /// Take in a delivery pass.
    pub fn passed(&mut self, pass: &PassReport) {
        self.online = Some(pass.online);
        self.last_error = if pass.online && pass.retrying == 0 {
            None
        } else {
            pass.last_error.clone()
        };
        self.needs_attention = pass.needs_attention.clone();
        if pass.waiting == 0 {
            self.batch_total = 0;
        } else {
            self.batch_total = self.batch_total.max(pass.waiting);
        }
    }
}

impl Background {
    /// Start the delivery worker (polling progress every `poll_every` when idle); its
    /// passes and every answer come on `events`.
    pub fn start(
        settings: &CentralSettings,
        store: crate::store::Store,
        operator: &Operator,
        poll_every: std::time::Duration,
        events: Sender<Event>,
    ) -> Result<Background, BackgroundError> {
        let client = Client::new(settings, &operator.id)?;
        let delivery = Delivery::new(store, client, operator.clone(), Backoff::default());
        let passes = events.clone();
        let worker = Worker::spawn(delivery, poll_every, move |pass| {
            passes.send(Event::Delivery(pass)).is_ok()
        });
        Ok(Background {
            worker,
            settings: settings.clone(),
            operator_id: operator.id.clone(),
            events,
        })
    }

    /// Deliver now (after a submission).
    pub fn wake(&self) {
        self.worker.wake();
    }

    /// Ask the central API on a thread of its own; the answer comes as an event.
    pub fn check_eligibility(&self, application: Uuid, request: EligibilityRequest) {
        let (settings, operator, tx) = (
            self.settings.clone(),
            self.operator_id.clone(),
            self.events.clone(),
        );
        let _ = std::thread::Builder::new()
            .name("sbk-eligibility".into())
            .spawn(move || {
                let result = Client::new(&settings, &operator)
                    .and_then(|client| client.check_eligibility(&request));
                let _ = tx.send(Event::Eligibility(Box::new(EligibilityReply {
                    application,
                    result,
                })));
            });
    }
}

/// Why delivery could not start beside the wizard.
#[derive(Debug, thiserror::Error)]
pub enum BackgroundError {
    #[error(transparent)]
    Call(#[from] CallError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}
