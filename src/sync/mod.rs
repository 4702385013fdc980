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
use crate::domain::{Application, Eligibility, ReturnNote, ReturnedField, Status};
use crate::store::{Claim, Operator, ProgressStep, Store, StoreError};
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
    /// The claim was lost while the attempt was under way (its lease ran out and another
    /// worker took the entry over, or the application changed): what this attempt learnt
    /// is about a state that no longer holds, and is dropped.
    Lost,
}

/// How long a claim on an outbox entry lasts without a heartbeat. Each call to the
/// central API renews it first, so it only has to outlast one call (a photo upload on a
/// slow line); a worker that dies leaves its entry to the others after this long.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(120);

pub struct Delivery {
    store: Store,
    client: Client,
    operator: Operator,
    backoff: Backoff,
    rng: Rng,
    /// Who claims (for diagnostics in the outbox): the process and this delivery.
    worker: String,
    /// Entries tried per pass at most.
    pub batch: usize,
    /// How long a claim lasts between heartbeats.
    pub lease: Duration,
}

impl Delivery {
    pub fn new(mut store: Store, client: Client, operator: Operator, backoff: Backoff) -> Delivery {
        store.set_delivery_host(Some(client.host()));
        let seed = Utc::now().timestamp_nanos_opt().unwrap_or(1) as u64;
        let mut rng = Rng::new(seed ^ u64::from(std::process::id()));
        let worker = format!("pid {} #{:04x}", std::process::id(), rng.below(0x10000));
        Delivery {
            store,
            client,
            operator,
            backoff,
            rng,
            worker,
            batch: 200,
            lease: DEFAULT_LEASE,
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Try each due entry once (every pending one if `all`), then poll progress. Entries
    /// are claimed one at a time, so that several workers on one store share the work and
    /// none waits for another.
    pub fn pass(&mut self, all: bool) -> PassReport {
        let mut report = PassReport::default();
        let mut tried = Vec::new();
        while tried.len() < self.batch {
            let claimed = self
                .store
                .claim_next(&self.worker, Utc::now(), self.lease, all, &tried);
            let mut claim = match claimed {
                Ok(Some(claim)) => claim,
                Ok(None) => break,
                Err(e) => {
                    report.last_error = Some(e.to_string());
                    break;
                }
            };
            tried.push(claim.entry.id);
            match self.attempt(&mut claim) {
                Outcome::Delivered => {
                    report.delivered += 1;
                    report.online = true;
                }
                Outcome::Returned => {
                    report.returned += 1;
                    report.online = true;
                }
                Outcome::Skipped => {
                    if let Err(e) = self.store.release_claim(&claim) {
                        tracing::warn!(error = e.kind(), "could not release a claim");
                    }
                }
                Outcome::Lost => {
                    tracing::info!(
                        application = %claim.entry.application_id,
                        "claim lost during delivery: its answer was dropped"
                    );
                }
                Outcome::Retry(message, after) => {
                    report.retrying += 1;
                    self.retry_later(&claim, &message, after);
                    report.last_error = Some(message);
                }
                Outcome::Stop(message) => {
                    report.retrying += 1;
                    self.retry_later(&claim, &message, None);
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
        // The head of the audit chain goes out with every pass that reached the server.
        if report.online && report.needs_attention.is_none() {
            match self.anchor_audit() {
                Ok(()) => {}
                Err(CallError::Refused { error, .. }) if error.code.starts_with("anchor_") => {
                    tracing::error!(code = %error.code, "the central API refused the audit anchor");
                    let message = format!(
                        "审计记录与中心锚点不一致（{}）：请运行 sbk audit verify 并报告负责人",
                        error.message
                    );
                    report.needs_attention = Some(message.clone());
                    report.last_error = Some(message);
                }
                Err(e) => tracing::info!(error = e.kind(), "audit anchor not sent this pass"),
            }
        }
        report.waiting = self.store.outbox_state().map(|s| s.pending).unwrap_or(0);
        report
    }

    /// Send the audit chain's new entries to the central API if it moved since the last
    /// anchor it acknowledged, and remember the acknowledgement.
    pub fn anchor_audit(&mut self) -> Result<(), CallError> {
        let store_err = |e: StoreError| CallError::Retry {
            message: e.to_string(),
            after: None,
        };
        // Each anchor extends the last one acknowledged, with the entries since it; a long
        // stretch (a day offline) goes in several.
        let mut last = self.store.last_anchor().map_err(store_err)?;
        let mut reconciled = false;
        while let Some(anchor) = self.store.next_anchor(last.as_ref()).map_err(store_err)? {
            let receipt = match self.client.put_anchor(&anchor) {
                Ok(r) => r,
                // The server kept an anchor whose answer was lost (or not recorded here):
                // if this chain holds it as it is, it is the one to extend.
                Err(CallError::Refused { error, .. })
                    if error.code == "anchor_not_extending" && !reconciled =>
                {
                    reconciled = true;
                    let latest = self.client.latest_anchor(anchor.chain_id)?;
                    match latest {
                        Some(l)
                            if matches!(
                                self.store.check_anchor(&l).map_err(store_err)?,
                                crate::store::AnchorCheck::Holds { .. }
                            ) =>
                        {
                            self.store.set_last_anchor(&l).map_err(store_err)?;
                            last = Some(l);
                            continue;
                        }
                        _ => {
                            return Err(CallError::Refused { status: 422, error });
                        }
                    }
                }
                Err(e) => return Err(e),
            };
            self.store.set_last_anchor(&receipt).map_err(store_err)?;
            last = Some(receipt);
        }
        Ok(())
    }

    /// When the next entry is due (for sleeping between passes).
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.store.next_outbox_due().ok().flatten()
    }

    fn retry_later(&mut self, claim: &Claim, message: &str, after: Option<Duration>) {
        let wait = self
            .backoff
            .delay(claim.entry.attempts, &mut self.rng)
            .max(after.unwrap_or_default());
        let next = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
        match self.store.outbox_retry_at(claim, message, next) {
            Ok(()) => {}
            Err(StoreError::ClaimLost) => {
                tracing::info!(application = %claim.entry.application_id, "claim lost before a retry was recorded")
            }
            Err(e) => tracing::error!(error = e.kind(), "could not record a retry"),
        }
    }

    fn attempt(&mut self, claim: &mut Claim) -> Outcome {
        // The version of the application every decision of this attempt was made from.
        let mut decided_from = None;
        match self.try_deliver(claim, &mut decided_from) {
            Ok(outcome) => outcome,
            Err(CallError::Retry { message, after }) => Outcome::Retry(message, after),
            Err(CallError::Config(message)) => Outcome::Stop(message),
            Err(CallError::Refused { error, .. }) => {
                // What the server says reaches a terminal and the store: printable only.
                let mut reason = clean(&error.message);
                if reason.chars().count() > 300 {
                    reason = reason.chars().take(300).collect::<String>() + "…";
                }
                let fields = error
                    .errors
                    .iter()
                    .map(|f| ReturnedField {
                        path: clean(&f.field),
                        message: clean(&f.message),
                        corrected: false,
                    })
                    .collect();
                match decided_from {
                    Some(version) => self.refuse(
                        claim,
                        &format!("中心接口退回：{reason}"),
                        fields,
                        None,
                        version,
                    ),
                    None => Outcome::Retry("中心接口退回了一份尚未读取的申请".into(), None),
                }
            }
        }
    }

    /// Renew the claim before a call (the heartbeat); `Err(Lost)` when it is gone.
    fn heartbeat(&mut self, claim: &mut Claim, posting: bool) -> Result<(), Outcome> {
        match self.store.renew_claim(claim, self.lease, posting) {
            Ok(()) => Ok(()),
            Err(StoreError::ClaimLost | StoreError::StatusChanged { .. }) => Err(Outcome::Lost),
            Err(e) => Err(Outcome::Retry(e.to_string(), None)),
        }
    }

    /// Return the application to the clerk, if it is still the version `decided_from`
    /// that the return was decided from.
    fn refuse(
        &mut self,
        claim: &Claim,
        reason: &str,
        fields: Vec<ReturnedField>,
        eligibility: Option<Eligibility>,
        decided_from: i64,
    ) -> Outcome {
        let note = ReturnNote {
            at: Utc::now(),
            reason: reason.to_owned(),
            fields,
        };
        match self
            .store
            .outbox_refused(claim, note, eligibility, &self.operator, decided_from)
        {
            Ok(()) => Outcome::Returned,
            Err(StoreError::ClaimLost | StoreError::StatusChanged { .. }) => Outcome::Lost,
            Err(StoreError::NewerVersion) => {
                tracing::warn!(
                    application = %claim.entry.application_id,
                    "the application changed under a return: decided again at the next attempt"
                );
                Outcome::Retry("申请在核对期间有变化，稍后重新核对".into(), None)
            }
            Err(e) => Outcome::Retry(e.to_string(), None),
        }
    }

    fn try_deliver(
        &mut self,
        claim: &mut Claim,
        decided_from: &mut Option<i64>,
    ) -> Result<Outcome, CallError> {
        let store_err = |e: StoreError| CallError::Retry {
            message: e.to_string(),
            after: None,
        };
        let id = claim.entry.application_id;
        let mut app = self.store.get(id).map_err(store_err)?;
        *decided_from = Some(app.version);
        if app.status != Status::Queued {
            return Ok(Outcome::Skipped);
        }
        // Submitted offline: the eligibility check runs first.
        if !matches!(app.eligibility, Eligibility::Eligible { .. }) {
            if let Err(outcome) = self.heartbeat(claim, false) {
                return Ok(outcome);
            }
            if let Some(outcome) = self.check_before_delivery(claim, &app)? {
                return Ok(outcome);
            }
            // Decided again from what is stored, not from what was meant to be written.
            app = self.store.get(id).map_err(store_err)?;
            *decided_from = Some(app.version);
            if !matches!(app.eligibility, Eligibility::Eligible { .. }) {
                tracing::error!(application = %id, "an eligibility answer said to be recorded is not stored");
                return Err(CallError::Retry {
                    message: "资格校验的结果没有存入数据库，稍后重试".into(),
                    after: None,
                });
            }
        }
        if let Err(outcome) = self.heartbeat(claim, false) {
            return Ok(outcome);
        }
        self.upload_photos(&app)?;
        let submission = match Submission::from_application(&app) {
            Ok(s) => s,
            Err(e) => {
                return Ok(self.refuse(
                    claim,
                    &format!("申领不完整：{e}"),
                    Vec::new(),
                    None,
                    app.version,
                ));
            }
        };
        if let Err(outcome) = self.heartbeat(claim, true) {
            return Ok(outcome);
        }
        let receipt = self
            .client
            .submit(&claim.entry.idempotency_key, &submission)?;
        match self.store.outbox_delivered(
            claim,
            &clean(&receipt.application_number),
            &self.operator,
        ) {
            Ok(()) => Ok(Outcome::Delivered),
            // Another worker took over after this one's lease ran out; it submits under the
            // same idempotency key and records the same number.
            Err(StoreError::ClaimLost | StoreError::StatusChanged { .. }) => Ok(Outcome::Lost),
            Err(e) => Err(store_err(e)),
        }
    }

    /// The eligibility check of an application submitted offline. `Some` when it ends the
    /// attempt (the person may not apply, or the claim was lost meanwhile).
    fn check_before_delivery(
        &mut self,
        claim: &Claim,
        app: &Application,
    ) -> Result<Option<Outcome>, CallError> {
        let request = EligibilityRequest::for_application(app, Utc::now());
        let answer = self.client.check_eligibility(&request)?;
        if !answer.eligible {
            let reason = answer
                .reason
                .as_deref()
                .map(clean)
                .unwrap_or_else(|| "不符合申领条件".into());
            let eligibility = Eligibility::Ineligible {
                checked_at: answer.checked_at,
                reason: reason.clone(),
            };
            return Ok(Some(self.refuse(
                claim,
                &format!("资格校验未通过：{reason}"),
                Vec::new(),
                Some(eligibility),
                app.version,
            )));
        }
        if let Some(method) = app.pickup.method
            && !answer.allowed_pickup.contains(&method)
        {
            let eligibility = Eligibility::Eligible {
                checked_at: answer.checked_at,
                allowed_pickup: answer.allowed_pickup.clone(),
            };
            let labels: Vec<&str> = answer.allowed_pickup.iter().map(|m| m.label()).collect();
            let message = format!(
                "中心只允许以下领卡方式：{}，请修改领卡方式后重新提交",
                labels.join("、")
            );
            let field = ReturnedField {
                path: crate::domain::Field::PickupMethod.api_path().into(),
                message: message.clone(),
                corrected: false,
            };
            return Ok(Some(self.refuse(
                claim,
                &message,
                vec![field],
                Some(eligibility),
                app.version,
            )));
        }
        let recorded = self.store.record_eligibility(
            claim,
            Eligibility::Eligible {
                checked_at: answer.checked_at,
                allowed_pickup: answer.allowed_pickup.clone(),
            },
            answer.card_issuer.clone(),
        );
        match recorded {
            Ok(()) => Ok(None),
            Err(StoreError::ClaimLost | StoreError::StatusChanged { .. }) => {
                Ok(Some(Outcome::Lost))
            }
            Err(e) => Err(CallError::Retry {
                message: e.to_string(),
                after: None,
            }),
        }
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
    /// changed. Bounded: at most `MAX_PAGES` pages and `MAX_POLL` a pass (a server that
    /// says it has more for ever does not keep `sync --once` from ending); the rest comes
    /// at the next pass, from the cursor reached.
    pub fn poll_progress(&mut self) -> Result<usize, CallError> {
        let mut changed = 0;
        let mut cursor = self.store.sync_cursor().unwrap_or_default();
        let started = std::time::Instant::now();
        for _ in 0..MAX_PAGES {
            if started.elapsed() > MAX_POLL {
                break;
            }
            let page = self.client.changes(&cursor, 200)?;
            // A step the store could not record stops the page before the cursor moves on:
            // the feed does not repeat itself, and applying a step twice changes nothing.
            let store_err = |e: StoreError| CallError::Retry {
                message: e.to_string(),
                after: None,
            };
            for item in &page.items {
                let id = item.client_reference;
                let app = match self.store.get(id) {
                    Ok(app) => app,
                    // Not this counter's (or deleted since): nothing to record.
                    Err(StoreError::NotFound(_)) => continue,
                    Err(e) => return Err(store_err(e)),
                };
                // Still queued: the outbox's retry records the number first.
                if app.status == Status::Queued
                    || app.application_number.as_deref() != Some(item.application_number.as_str())
                {
                    continue;
                }
                let mut moved = false;
                for event in &item.history {
                    let (note, returned) = match (&event.tracking_number, &event.return_reason) {
                        (Some(t), _) => (Some(format!("邮件号 {}", clean(t))), None),
                        (_, Some(r)) => (
                            Some(format!(
                                "退回原因（{}）：{}",
                                clean(&r.field),
                                clean(&r.message)
                            )),
                            Some(ReturnNote {
                                at: event.at,
                                reason: clean(&r.message),
                                fields: vec![ReturnedField {
                                    path: clean(&r.field),
                                    message: clean(&r.message),
                                    corrected: false,
                                }],
                            }),
                        ),
                        _ => (None, None),
                    };
                    let step = ProgressStep {
                        to: event.status.local(),
                        at: event.at,
                        note,
                        returned,
                    };
                    moved |= self
                        .store
                        .apply_progress(id, &item.application_number, step, &self.operator)
                        .map_err(store_err)?;
                }
                changed += usize::from(moved);
            }
            if page.next_cursor != cursor {
                cursor = page.next_cursor.clone();
                self.store.set_sync_cursor(&cursor).map_err(store_err)?;
            }
            if !page.has_more {
                break;
            }
        }
        Ok(changed)
    }
}

/// Pages of progress one pass reads at most (200 items a page).
const MAX_PAGES: usize = 500;
/// How long one pass polls progress at most.
const MAX_POLL: Duration = Duration::from_secs(120);

/// Text from the central API as it may be shown and kept: control characters (a terminal's
/// escape sequences, a title set by a server) and bidirectional overrides replaced.
fn clean(text: &str) -> String {
    crate::domain::display::printable(text).into_owned()
}

/// Where a session delivers, and what to tell about it.
#[derive(Debug, Clone, PartialEq)]
pub struct CentralChoice {
    pub settings: Option<crate::config::CentralSettings>,
    /// Said to whoever runs it (the configured address was not used).
    pub note: Option<String>,
}

/// Where `session` delivers: the central API a supervisor set, kept in the store. A
/// supervisor's configured one (environment or config file) is what they set: kept as the
/// store's when it differs (audited, by its host). Anyone else's configured one is ignored
/// where the store has one — a clerk's environment or a config file they can edit cannot
/// send the applications elsewhere; a store no supervisor has set one for yet uses the
/// configured one. A CA file changed since it was set is refused.
pub fn central_for(
    session: &crate::access::Session,
    configured: Option<&crate::config::CentralSettings>,
) -> std::result::Result<CentralChoice, String> {
    let pinned = session
        .store
        .central_pin()
        .map_err(|e| format!("无法读取负责人设定的中心接口：{e}"))?;
    let ca_digest = |file: &std::path::Path| {
        crate::private_files::read_regular(file, 1024 * 1024)
            .map(|b| crate::digest::sha256_hex(&b))
            .map_err(|e| format!("无法读取中心接口的 CA 证书 {}：{e}", file.display()))
    };
    if session.account.is_supervisor()
        && let Some(c) = configured
    {
        let pin = crate::store::CentralPin {
            url: c.url.clone(),
            token: c.token.expose().to_owned(),
            ca_file: c.ca_file.as_ref().map(|f| f.display().to_string()),
            ca_sha256: c.ca_file.as_deref().map(ca_digest).transpose()?,
        };
        if pinned.as_ref() != Some(&pin) {
            session
                .store
                .set_central_pin(&pin, &session.operator(), &crate::config::host_of(&c.url))
                .map_err(|e| format!("无法保存中心接口设定：{e}"))?;
        }
        return Ok(CentralChoice {
            settings: Some(c.clone()),
            note: None,
        });
    }
    let Some(pin) = pinned else {
        return Ok(CentralChoice {
            settings: configured.cloned(),
            note: None,
        });
    };
    if let (Some(file), Some(want)) = (&pin.ca_file, &pin.ca_sha256)
        && ca_digest(std::path::Path::new(file))? != *want
    {
        return Err(format!(
            "中心接口的 CA 证书 {file} 与负责人设定时不同（文件被改动）：不发送，请负责人核对后重新设定"
        ));
    }
    let note = configured
        .filter(|c| c.url != pin.url)
        .map(|_| "配置的中心接口地址与负责人设定的不同：已按负责人设定的发送".to_owned());
    Ok(CentralChoice {
        settings: Some(crate::config::CentralSettings {
            url: pin.url,
            token: crate::config::Secret::new(&pin.token),
            ca_file: pin.ca_file.map(std::path::PathBuf::from),
        }),
        note,
    })
}
