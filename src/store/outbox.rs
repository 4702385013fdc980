//! Delivery's side of the store: the outbox entries waiting to go, what each attempt
//! found, and the progress the central API reports. Every change of an application is a
//! checked transition with its history, in one transaction with the outbox row.

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::applications::{load_in, transition_at, transition_with};
use super::db::{Backend, Row, Sql, args};
use super::{Operator, Result, Store, StoreError, from_ms};
use crate::domain::{Application, CardIssuer, Eligibility, ReturnNote, Status};

/// One submission waiting for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub id: i64,
    pub application_id: Uuid,
    /// Stays with this submission for every retry.
    pub idempotency_key: String,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
}

/// One step of progress the central API reported: the status, when it happened (its
/// time), a note for the history (a tracking number; never personal data), and for a
/// return, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressStep {
    pub to: Status,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
    pub returned: Option<ReturnNote>,
}

/// What the outbox holds, for the status bar and `sbk sync`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxState {
    /// Waiting to be delivered.
    pub pending: usize,
    /// The most recent error of a pending entry.
    pub last_error: Option<String>,
}

const CURSOR_KEY: &str = "progress_cursor";

/// One worker's hold on one outbox entry. Every change that worker makes to the entry or
/// its application names the claim and is refused (`StoreError::ClaimLost`) once the claim
/// is gone: taken over after its lease ran out, or the entry withdrawn or finished by
/// someone else. An answer about a state that no longer holds is then dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub entry: OutboxEntry,
    pub token: String,
    pub lease_until: DateTime<Utc>,
}

fn entry_of(r: &Row) -> Result<OutboxEntry> {
    let id: String = r.get(1)?;
    Ok(OutboxEntry {
        id: r.get(0)?,
        application_id: id.parse().unwrap_or_default(),
        idempotency_key: r.get(2)?,
        attempts: r.get(3)?,
        next_attempt_at: from_ms(r.get(4)?),
        last_error: r.get(5)?,
    })
}

/// The claim still holds: the entry is pending and carries this claim's token. (A lease
/// that ran out while nobody took the entry over still holds.)
fn check_claim(tx: &impl Sql, claim: &Claim) -> Result<()> {
    // Locked until the transaction ends: nobody takes the claim over meanwhile.
    let lock = match tx.backend() {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    let token: Option<Option<String>> = tx
        .query_opt(
            &format!("SELECT claim_token FROM outbox WHERE id = ?1 AND state = 'pending'{lock}"),
            args![claim.entry.id],
        )?
        .map(|r| r.get(0))
        .transpose()?;
    match token {
        Some(Some(t)) if t == claim.token => Ok(()),
        _ => Err(StoreError::ClaimLost),
    }
}

/// The application of a claim is still queued (what every delivery decision assumed).
fn check_queued(tx: &impl Sql, id: Uuid) -> Result<Application> {
    let app = load_in(tx, id)?;
    if app.status != Status::Queued {
        return Err(StoreError::StatusChanged {
            expected: Status::Queued,
            actual: app.status,
        });
    }
    Ok(app)
}

/// SQL for "this outbox row's claim was made by a session that is gone": on a centre's
/// server, its holder key (`db::HOLDER_LOCKS`) is no longer locked by anyone, so the claim
/// is taken over at once rather than when its lease runs out. A file's claims have no
/// holder: their leases run out.
fn holder_gone(backend: Backend) -> String {
    match backend {
        Backend::Postgres => format!(
            "(outbox.claim_holder IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM pg_locks l
                WHERE l.locktype = 'advisory' AND l.classid = {ns} AND l.objsubid = 2
                  AND l.objid = outbox.claim_holder::oid
                  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())))",
            ns = super::db::HOLDER_LOCKS
        ),
        Backend::Sqlite => "FALSE".into(),
    }
}

fn lease_end(now: DateTime<Utc>, lease: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX)
}

impl Store {
    /// Pending entries whose next attempt is due at `now` (all pending ones if `now` is
    /// `None`), the longest-waiting first: an entry that failed goes to the back. Claimed
    /// or not: this is for reading (the status bar, tests); delivery claims.
    pub fn due_outbox(&self, now: Option<DateTime<Utc>>, limit: usize) -> Result<Vec<OutboxEntry>> {
        let due = now.map_or(i64::MAX, |t| t.timestamp_millis());
        self.db
            .query(
                "SELECT id, application_id, idempotency_key, attempts, next_attempt_at, last_error
                 FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?1
                 ORDER BY next_attempt_at, id LIMIT ?2",
                args![due, limit],
            )?
            .iter()
            .map(entry_of)
            .collect()
    }

    /// Claim the next entry for `worker` (a description for diagnostics, such as
    /// `host:pid`): the longest-waiting pending entry that is due at `now` (any pending one
    /// if `all`), not in `skip`, and not held by a live claim of another worker. The claim
    /// lasts `lease`; `renew_claim` extends it.
    pub fn claim_next(
        &mut self,
        worker: &str,
        now: DateTime<Utc>,
        lease: Duration,
        all: bool,
        skip: &[i64],
    ) -> Result<Option<Claim>> {
        let now_ms = now.timestamp_millis();
        let due = if all { i64::MAX } else { now_ms };
        // The ids are the store's own integers, written into the statement as numbers.
        let skip: Vec<String> = skip.iter().map(i64::to_string).collect();
        let skip = if skip.is_empty() {
            String::new()
        } else {
            format!("AND id NOT IN ({})", skip.join(", "))
        };
        // PostgreSQL: another worker's row being claimed right now is passed over, not
        // waited for (SQLite's IMMEDIATE transaction already lets one claim at a time).
        let lock = match self.db.backend() {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let gone = holder_gone(self.db.backend());
        let tx = self.db.begin()?;
        let entry = tx
            .query_opt(
                &format!(
                    "SELECT id, application_id, idempotency_key, attempts, next_attempt_at, last_error
                     FROM outbox
                     WHERE state = 'pending' AND next_attempt_at <= ?1
                       AND (lease_until IS NULL OR lease_until <= ?2 OR {gone}) {skip}
                     ORDER BY next_attempt_at, id LIMIT 1 {lock}"
                ),
                args![due, now_ms],
            )?
            .map(|r| entry_of(&r))
            .transpose()?;
        let Some(entry) = entry else {
            return Ok(None);
        };
        let token = Uuid::new_v4().to_string();
        let until = lease_end(now, lease);
        tx.execute(
            "UPDATE outbox SET claim_token = ?2, claimed_by = ?3, lease_until = ?4, claim_holder = ?5
             WHERE id = ?1",
            args![
                entry.id,
                token,
                worker,
                until.timestamp_millis(),
                self.db.holder_key()
            ],
        )?;
        // Not known to be held (the connection broke at COMMIT): it is not this worker's.
        // If it was made, its holder key died with the connection and it is free again.
        tx.commit()?;
        Ok(Some(Claim {
            entry,
            token,
            lease_until: until,
        }))
    }

    /// Extend a claim's lease before the next call to the central API (a heartbeat); with
    /// `posting`, record that the submission is about to be sent. Fails with `ClaimLost`
    /// when the claim is gone, and then the worker must stop working on the entry.
    pub fn renew_claim(&mut self, claim: &mut Claim, lease: Duration, posting: bool) -> Result<()> {
        let now = Utc::now();
        let until = lease_end(now, lease);
        let tx = self.db.begin()?;
        check_claim(&tx, claim)?;
        check_queued(&tx, claim.entry.application_id)?;
        // The holder key too: this worker's connection may have been made again since.
        tx.execute(
            "UPDATE outbox SET lease_until = ?2, claim_holder = ?5,
                    posted_at = CASE WHEN ?3 THEN coalesce(posted_at, ?4) ELSE posted_at END
             WHERE id = ?1",
            args![
                claim.entry.id,
                until.timestamp_millis(),
                posting,
                now.timestamp_millis(),
                self.db.holder_key()
            ],
        )?;
        tx.commit()?;
        claim.lease_until = until;
        Ok(())
    }

    /// Give a claim up without changing the entry (nothing was attempted).
    pub fn release_claim(&mut self, claim: &Claim) -> Result<()> {
        self.db.execute(
            "UPDATE outbox SET claim_token = NULL, claimed_by = NULL, lease_until = NULL
             WHERE id = ?1 AND claim_token = ?2",
            args![claim.entry.id, claim.token],
        )?;
        Ok(())
    }

    /// When the next pending entry is due, if any is pending.
    pub fn next_outbox_due(&self) -> Result<Option<DateTime<Utc>>> {
        let later = match self.db.backend() {
            Backend::Sqlite => "max",
            Backend::Postgres => "greatest",
        };
        let at: Option<i64> = self
            .db
            .query_one(
                &format!(
                    "SELECT min({later}(next_attempt_at, coalesce(lease_until, 0))) FROM outbox
                     WHERE state = 'pending'"
                ),
                args![],
            )?
            .get(0)?;
        Ok(at.map(from_ms))
    }

    pub fn outbox_state(&self) -> Result<OutboxState> {
        let pending: i64 = self
            .db
            .query_one(
                "SELECT count(*) FROM outbox WHERE state = 'pending'",
                args![],
            )?
            .get(0)?;
        let last_error = self
            .db
            .query_opt(
                "SELECT last_error FROM outbox WHERE state = 'pending' AND last_error IS NOT NULL
                 ORDER BY next_attempt_at DESC LIMIT 1",
                args![],
            )?
            .map(|r| r.get(0))
            .transpose()?;
        Ok(OutboxState {
            pending: pending as usize,
            last_error,
        })
    }

    /// An attempt failed in a way worth retrying: try again at `next`. Ends the claim.
    pub fn outbox_retry_at(
        &mut self,
        claim: &Claim,
        error: &str,
        next: DateTime<Utc>,
    ) -> Result<()> {
        let tx = self.db.begin()?;
        check_claim(&tx, claim)?;
        tx.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3,
                    claim_token = NULL, claimed_by = NULL, lease_until = NULL
             WHERE id = ?1",
            args![claim.entry.id, error, next.timestamp_millis()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The central API's host this store's deliveries go to, named in each delivery's
    /// audit entry.
    pub fn set_delivery_host(&mut self, host: Option<String>) {
        self.delivery_host = host;
    }

    /// Record an online eligibility answer on a queued application (checked before
    /// delivery because it was submitted offline), under the claim that asked for it.
    pub fn record_eligibility(
        &mut self,
        claim: &Claim,
        eligibility: Eligibility,
        issuer: Option<CardIssuer>,
    ) -> Result<()> {
        let id = claim.entry.application_id;
        let tx = self.db.begin()?;
        check_claim(&tx, claim)?;
        let mut app = check_queued(&tx, id)?;
        app.eligibility = eligibility;
        if issuer.is_some() {
            app.card_issuer = issuer;
        }
        tx.execute(
            "UPDATE applications SET body = ?1, version = version + 1 WHERE id = ?2 AND status = 'queued'",
            args![serde_json::to_string(&app)?, id],
        )?;
        self.derived_cache.remove(&id);
        tx.commit()
    }

    /// The central API accepted the submission: the number goes on the application, which
    /// becomes 已提交, and the outbox entry is done, in one transaction, under the claim.
    pub fn outbox_delivered(
        &mut self,
        claim: &Claim,
        application_number: &str,
        operator: &Operator,
    ) -> Result<()> {
        let id = claim.entry.application_id;
        let tx = self.db.begin()?;
        check_claim(&tx, claim)?;
        check_queued(&tx, id)?;
        let note = format!("申领编号 {application_number}");
        transition_with(&tx, id, Status::Delivered, operator, Some(&note), |app| {
            app.application_number = Some(application_number.to_owned());
        })?;
        tx.execute(
            "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, last_error = NULL,
                    claim_token = NULL, lease_until = NULL
             WHERE id = ?1",
            args![claim.entry.id],
        )?;
        // Where it went, on record with it.
        if let Some(host) = &self.delivery_host {
            super::audit::audit_on(
                &tx,
                operator,
                super::AuditAction::Central,
                Some(id),
                Some(&format!("delivered to {host}")),
            )?;
        }
        tx.commit()?;
        self.derived_cache.remove(&id);
        Ok(())
    }

    /// The central API refused the submission (or the person is not eligible): the
    /// application goes back to the clerk as 已退回 with the reason; a corrected one is
    /// submitted again under a new key. Only from 待同步, under the claim that was refused,
    /// and only if the application is still at `decided_from`, the version the refusal
    /// was decided from (`NewerVersion` otherwise: decide again from what is stored). A
    /// return is never based on a write that did not happen.
    pub fn outbox_refused(
        &mut self,
        claim: &Claim,
        note: ReturnNote,
        eligibility: Option<Eligibility>,
        operator: &Operator,
        decided_from: i64,
    ) -> Result<()> {
        let id = claim.entry.application_id;
        let tx = self.db.begin()?;
        check_claim(&tx, claim)?;
        if check_queued(&tx, id)?.version != decided_from {
            return Err(StoreError::NewerVersion);
        }
        let reason = note.reason.clone();
        transition_with(&tx, id, Status::Returned, operator, Some(&reason), |app| {
            if let Some(e) = eligibility {
                app.eligibility = e;
            }
            app.returned = Some(note);
        })?;
        tx.execute(
            "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?2,
                    claim_token = NULL, lease_until = NULL
             WHERE id = ?1",
            args![claim.entry.id, reason],
        )?;
        tx.commit()?;
        self.derived_cache.remove(&id);
        Ok(())
    }

    /// Progress reported by the central API for the application it numbered
    /// `application_number`. Moves the application along if the lifecycle allows (polling
    /// may skip steps); a status it already has, or one behind it, is ignored, and so is an
    /// application that no longer carries that number. Returns whether anything changed.
    pub fn apply_progress(
        &mut self,
        id: Uuid,
        application_number: &str,
        step: ProgressStep,
        operator: &Operator,
    ) -> Result<bool> {
        let tx = self.db.begin()?;
        let app = match load_in(&tx, id) {
            Ok(app) => app,
            Err(StoreError::NotFound(_)) => return Ok(false),
            Err(e) => return Err(e),
        };
        if app.application_number.as_deref() != Some(application_number)
            || app.status == step.to
            || !app.status.can_become(step.to)
        {
            return Ok(false);
        }
        let returned = step.returned;
        transition_at(
            &tx,
            id,
            step.to,
            operator,
            step.note.as_deref(),
            Some(step.at),
            |app| {
                if returned.is_some() {
                    app.returned = returned;
                }
            },
        )?;
        tx.commit()?;
        self.derived_cache.remove(&id);
        Ok(true)
    }

    /// Where progress polling got to (empty: from the beginning).
    pub fn sync_cursor(&self) -> Result<String> {
        Ok(self
            .db
            .query_opt(
                "SELECT value FROM sync_state WHERE key = ?1",
                args![CURSOR_KEY],
            )?
            .map(|r| r.get(0))
            .transpose()?
            .unwrap_or_default())
    }

    pub fn set_sync_cursor(&mut self, cursor: &str) -> Result<()> {
        self.db.execute(
            "INSERT INTO sync_state (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            args![CURSOR_KEY, cursor],
        )?;
        Ok(())
    }
}
