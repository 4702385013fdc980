//! Delivery: every submitted application reaches the central API exactly once, as soon as
//! it can. The outbox entry written with the submission carries an idempotency key that
//! every retry reuses, so an answer lost after the server committed is recovered by
//! asking again. A pass tries each due entry once (the longest-waiting first, a failed one
//! to the back), then polls progress since the last cursor.

pub mod client;
pub mod worker;

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::api::{EligibilityRequest, Submission};
use crate::domain::synthetic::Rng;
use crate::domain::{Application, Eligibility, Status};
use crate::store::{Operator, OutboxEntry, Store};
pub use client::{CallError, Client};

/// Exponential backoff with full jitter: the n-th retry waits a random time up to
/// min(cap, base × 2ⁿ), so that many counters coming back online do not retry in step.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff {
            base: Duration::from_secs(2),
            cap: Duration::from_secs(600),
        }
    }
}

impl Backoff {
    pub fn delay(&self, attempts: u32, rng: &mut Rng) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32 << attempts.min(20))
            .min(self.cap);
        let millis = ceiling.as_millis().max(1) as u64;
        Duration::from_millis(rng.below(millis + 1))
    }
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PassReport {
    /// Delivered in this pass (an application number recorded).
    pub delivered: usize,
    /// Returned to the clerk in this pass (refused, or not eligible).
    pub returned: usize,
    /// Attempts that failed and will be retried.
    pub retrying: usize,
    /// Applications whose progress changed.
    pub progressed: usize,
    /// Still waiting in the outbox after the pass.
    pub waiting: usize,
    /// The last error met, for the status bar.
    pub last_error: Option<String>,
    /// A problem a person must fix (token, certificate); delivery stops until then.
    pub needs_attention: Option<String>,
    /// Whether the central API answered at all.
    pub online: bool,
}

/// One attempt's result.
enum Outcome {
    Delivered,
    Returned,
    Retry(String, Option<Duration>),
    Stop(String),
    Skipped,
}

pub struct Delivery {
    store: Store,
    client: Client,
    operator: Operator,
    backoff: Backoff,
    rng: Rng,
    /// Entries tried per pass at most.
    pub batch: usize,
}

impl Delivery {
    pub fn new(store: Store, client: Client, operator: Operator, backoff: Backoff) -> Delivery {
        let seed = Utc::now().timestamp_nanos_opt().unwrap_or(1) as u64;
        Delivery {
            store,
            client,
            operator,
            backoff,
            rng: Rng::new(seed),
            batch: 200,
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Try each due entry once (every pending one if `all`), then poll progress.
    pub fn pass(&mut self, all: bool) -> PassReport {
        let mut report = PassReport::default();
        let now = Utc::now();
        let due = self
            .store
            .due_outbox((!all).then_some(now), self.batch)
            .unwrap_or_else(|e| {
                report.last_error = Some(e.to_string());
                Vec::new()
            });
        for entry in due {
            match self.attempt(&entry) {
                Outcome::Delivered => {
                    report.delivered += 1;
                    report.online = true;
                }
                Outcome::Returned => {
                    report.returned += 1;
                    report.online = true;
                }
                Outcome::Skipped => {}
                Outcome::Retry(message, after) => {
                    report.retrying += 1;
                    self.retry_later(&entry, &message, after);
                    report.last_error = Some(message);
                }
                Outcome::Stop(message) => {
                    report.retrying += 1;
                    self.retry_later(&entry, &message, None);
                    report.needs_attention = Some(message.clone());
                    report.last_error = Some(message);
                    break;
                }
            }
        }
        if report.needs_attention.is_none() {
            match self.poll_progress() {
                Ok(n) => {
                    report.progressed = n;
                    report.online = true;
                }
                Err(CallError::Config(m)) => {
                    report.needs_attention = Some(m.clone());
                    report.last_error = Some(m);
                }
                Err(e) => {
                    report.last_error.get_or_insert(e.to_string());
                }
            }
        }
        report.waiting = self.store.outbox_state().map(|s| s.pending).unwrap_or(0);
        report
    }

    /// When the next entry is due (for sleeping between passes).
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.store.next_outbox_due().ok().flatten()
    }

    fn retry_later(&mut self, entry: &OutboxEntry, message: &str, after: Option<Duration>) {
        let wait = self
            .backoff
            .delay(entry.attempts, &mut self.rng)
            .max(after.unwrap_or_default());
        let next = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
        if let Err(e) = self.store.outbox_retry_at(entry.id, message, next) {
            tracing::error!("could not record a retry: {e}");
        }
    }

    fn attempt(&mut self, entry: &OutboxEntry) -> Outcome {
        match self.try_deliver(entry) {
            Ok(outcome) => outcome,
            Err(CallError::Retry { message, after }) => Outcome::Retry(message, after),
            Err(CallError::Config(message)) => Outcome::Stop(message),
            Err(CallError::Refused { error, .. }) => {
                let mut reason = error.message.clone();
                if reason.chars().count() > 300 {
                    reason = reason.chars().take(300).collect::<String>() + "…";
                }
                self.refuse(entry, &format!("中心接口退回：{reason}"), None)
            }
        }
    }

    fn refuse(
        &mut self,
        entry: &OutboxEntry,
        reason: &str,
        eligibility: Option<Eligibility>,
    ) -> Outcome {
        match self.store.outbox_refused(
            entry.id,
            entry.application_id,
            reason,
            eligibility,
            &self.operator,
        ) {
            Ok(()) => Outcome::Returned,
            Err(e) => Outcome::Retry(e.to_string(), None),
        }
    }

    fn try_deliver(&mut self, entry: &OutboxEntry) -> Result<Outcome, CallError> {
        let store_err = |e: crate::store::StoreError| CallError::Retry {
            message: e.to_string(),
            after: None,
        };
        let mut app = self.store.get(entry.application_id).map_err(store_err)?;
        if app.status != Status::Queued {
            return Ok(Outcome::Skipped);
        }
        // Submitted offline: the eligibility check runs first.
        if !matches!(app.eligibility, Eligibility::Eligible { .. }) {
            if let Some(outcome) = self.check_before_delivery(entry, &app)? {
                return Ok(outcome);
            }
            app = self.store.get(entry.application_id).map_err(store_err)?;
        }
        self.upload_photos(&app)?;
        let submission = match Submission::from_application(&app) {
            Ok(s) => s,
            Err(e) => return Ok(self.refuse(entry, &format!("申领不完整：{e}"), None)),
        };
        let receipt = self.client.submit(&entry.idempotency_key, &submission)?;
        self.store
            .outbox_delivered(
                entry.id,
                app.id,
                &receipt.application_number,
                &self.operator,
            )
            .map_err(store_err)?;
        Ok(Outcome::Delivered)
    }

    /// The eligibility check of an application submitted offline. `Some` when it ends the
    /// attempt (the person may not apply).
    fn check_before_delivery(
        &mut self,
        entry: &OutboxEntry,
        app: &Application,
    ) -> Result<Option<Outcome>, CallError> {
        let a = &app.applicant;
        let request = EligibilityRequest {
            name: a.name.clone(),
            id_type: a.id_type,
            id_number: a.id_number.clone(),
            access_authorised_at: app.consents.access_authorised_at.unwrap_or_else(Utc::now),
            identity_verified_in_person_at: app.consents.identity_verified_in_person_at,
        };
        let answer = self.client.check_eligibility(&request)?;
        if !answer.eligible {
            let reason = answer
                .reason
                .clone()
                .unwrap_or_else(|| "不符合申领条件".into());
            let eligibility = Eligibility::Ineligible {
                checked_at: answer.checked_at,
                reason: reason.clone(),
            };
            return Ok(Some(self.refuse(
                entry,
                &format!("资格校验未通过：{reason}"),
                Some(eligibility),
            )));
        }
        if let Some(method) = app.pickup.method
            && !answer.allowed_pickup.contains(&method)
        {
            let eligibility = Eligibility::Eligible {
                checked_at: answer.checked_at,
                allowed_pickup: answer.allowed_pickup.clone(),
            };
            return Ok(Some(self.refuse(
                entry,
                &format!(
                    "中心只允许以下领卡方式：{}，请修改领卡方式后重新提交",
                    {
                        let labels: Vec<&str> =
                            answer.allowed_pickup.iter().map(|m| m.label()).collect();
                        labels.join("、")
                    }
                ),
                Some(eligibility),
            )));
        }
        self.store
            .record_eligibility(
                app.id,
                Eligibility::Eligible {
                    checked_at: answer.checked_at,
                    allowed_pickup: answer.allowed_pickup.clone(),
                },
                answer.card_issuer.clone(),
            )
            .map_err(|e| CallError::Retry {
                message: e.to_string(),
                after: None,
            })?;
        Ok(None)
    }

    /// Upload the photos the server does not have yet.
    fn upload_photos(&mut self, app: &Application) -> Result<(), CallError> {
        let refs = [
            &app.photos.card_photo,
            &app.photos.id_front,
            &app.photos.id_back,
        ];
        for photo in refs.into_iter().flatten() {
            if self.client.has_photo(&photo.sha256)? {
                continue;
            }
            let stored = self
                .store
                .photo(&photo.sha256)
                .map_err(|e| CallError::Retry {
                    message: e.to_string(),
                    after: None,
                })?
                .ok_or_else(|| CallError::Refused {
                    status: 0,
                    error: crate::api::ApiError {
                        code: "photo_missing".into(),
                        message: "照片不在本机存储中，请重新导入照片后再提交".into(),
                        errors: Vec::new(),
                    },
                })?;
            self.client
                .put_photo(&photo.sha256, &stored.media_type, &stored.bytes)?;
        }
        Ok(())
    }

    /// Apply every progress change since the stored cursor; returns how many applications
    /// changed.
    pub fn poll_progress(&mut self) -> Result<usize, CallError> {
        let mut changed = 0;
        let mut cursor = self.store.sync_cursor().unwrap_or_default();
        loop {
            let page = self.client.changes(&cursor, 200)?;
            for item in &page.items {
                let id = item.client_reference;
                let Ok(app) = self.store.get(id) else {
                    continue;
                };
                // Still queued: the outbox's retry records the number first.
                if app.status == Status::Queued
                    || app.application_number.as_deref() != Some(item.application_number.as_str())
                {
                    continue;
                }
                let mut moved = false;
                for event in &item.history {
                    let note = match (&event.tracking_number, &event.return_reason) {
                        (Some(t), _) => Some(format!("邮件号 {t}")),
                        (_, Some(r)) => Some(format!("退回原因（{}）：{}", r.field, r.message)),
                        _ => None,
                    };
                    moved |= self
                        .store
                        .apply_progress(
                            id,
                            event.status.local(),
                            note.as_deref(),
                            event.at,
                            &self.operator,
                        )
                        .unwrap_or(false);
                }
                changed += usize::from(moved);
            }
            if page.next_cursor != cursor {
                cursor = page.next_cursor.clone();
                let _ = self.store.set_sync_cursor(&cursor);
            }
            if !page.has_more {
                break;
            }
        }
        Ok(changed)
    }
}
