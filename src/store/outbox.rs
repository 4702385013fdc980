//! Delivery's side of the store: the outbox entries waiting to go, what each attempt
//! found, and the progress the central API reports. Every change of an application is a
//! checked transition with its history, in one transaction with the outbox row.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

use super::applications::{load_in, transition_at, transition_with};
use super::{Operator, Result, Store, StoreError, from_ms};
use crate::domain::{CardIssuer, Eligibility, Status};

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

/// What the outbox holds, for the status bar and `sbk sync`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxState {
    /// Waiting to be delivered.
    pub pending: usize,
    /// The most recent error of a pending entry.
    pub last_error: Option<String>,
}

const CURSOR_KEY: &str = "progress_cursor";

impl Store {
    /// Pending entries whose next attempt is due at `now` (all pending ones if `now` is
    /// `None`), the longest-waiting first: an entry that failed goes to the back.
    pub fn due_outbox(&self, now: Option<DateTime<Utc>>, limit: usize) -> Result<Vec<OutboxEntry>> {
        let due = now.map_or(i64::MAX, |t| t.timestamp_millis());
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, application_id, idempotency_key, attempts, next_attempt_at, last_error
             FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?1
             ORDER BY next_attempt_at, id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![due, limit as i64], |r| {
            let id: String = r.get(1)?;
            Ok(OutboxEntry {
                id: r.get(0)?,
                application_id: id.parse().unwrap_or_default(),
                idempotency_key: r.get(2)?,
                attempts: r.get(3)?,
                next_attempt_at: from_ms(r.get(4)?),
                last_error: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// When the next pending entry is due, if any is pending.
    pub fn next_outbox_due(&self) -> Result<Option<DateTime<Utc>>> {
        let at: Option<i64> = self.conn.query_row(
            "SELECT min(next_attempt_at) FROM outbox WHERE state = 'pending'",
            [],
            |r| r.get(0),
        )?;
        Ok(at.map(from_ms))
    }

    pub fn outbox_state(&self) -> Result<OutboxState> {
        let pending: i64 = self.conn.query_row(
            "SELECT count(*) FROM outbox WHERE state = 'pending'",
            [],
            |r| r.get(0),
        )?;
        let last_error = self
            .conn
            .query_row(
                "SELECT last_error FROM outbox WHERE state = 'pending' AND last_error IS NOT NULL
                 ORDER BY next_attempt_at DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        Ok(OutboxState {
            pending: pending as usize,
            last_error,
        })
    }

    /// An attempt failed in a way worth retrying: try again at `next`.
    pub fn outbox_retry_at(&mut self, entry: i64, error: &str, next: DateTime<Utc>) -> Result<()> {
        self.conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3
             WHERE id = ?1 AND state = 'pending'",
            params![entry, error, next.timestamp_millis()],
        )?;
        Ok(())
    }

    /// Record an online eligibility answer on a queued application (checked before
    /// delivery because it was submitted offline).
    pub fn record_eligibility(
        &mut self,
        id: Uuid,
        eligibility: Eligibility,
        issuer: Option<CardIssuer>,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        let mut app = load_in(&tx, id)?;
        if app.status != Status::Queued {
            return Err(StoreError::StatusChanged {
                expected: Status::Queued,
                actual: app.status,
            });
        }
        app.eligibility = eligibility;
        if issuer.is_some() {
            app.card_issuer = issuer;
        }
        tx.execute(
            "UPDATE applications SET body = ?1 WHERE id = ?2",
            params![serde_json::to_string(&app)?, id.to_string()],
        )?;
        tx.commit()?;
        self.derived_cache.remove(&id);
        Ok(())
    }

    /// The central API accepted the submission: the number goes on the application, which
    /// becomes 已提交, and the outbox entry is done, in one transaction.
    pub fn outbox_delivered(
        &mut self,
        entry: i64,
        id: Uuid,
        application_number: &str,
        operator: &Operator,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        let note = format!("申领编号 {application_number}");
        transition_with(&tx, id, Status::Delivered, operator, Some(&note), |app| {
            app.application_number = Some(application_number.to_owned());
        })?;
        tx.execute(
            "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, last_error = NULL
             WHERE id = ?1",
            [entry],
        )?;
        tx.commit()?;
        self.derived_cache.remove(&id);
        Ok(())
    }

    /// The central API refused the submission (or the person is not eligible): the
    /// application goes back to the clerk as 已退回 with the reason; a corrected one is
    /// submitted again under a new key.
    pub fn outbox_refused(
        &mut self,
        entry: i64,
        id: Uuid,
        reason: &str,
        eligibility: Option<Eligibility>,
        operator: &Operator,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        transition_with(&tx, id, Status::Returned, operator, Some(reason), |app| {
            if let Some(e) = eligibility {
                app.eligibility = e;
            }
        })?;
        tx.execute(
            "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?2
             WHERE id = ?1",
            params![entry, reason],
        )?;
        tx.commit()?;
        self.derived_cache.remove(&id);
        Ok(())
    }

    /// Progress reported by the central API, which happened at `at` (its time, kept in the
    /// history). Moves the application along if the lifecycle allows (polling may skip
    /// steps); a status it already has, or one behind it, is ignored. Returns whether
    /// anything changed.
    pub fn apply_progress(
        &mut self,
        id: Uuid,
        to: Status,
        note: Option<&str>,
        at: DateTime<Utc>,
        operator: &Operator,
    ) -> Result<bool> {
        let tx = self.conn.transaction()?;
        let Ok(app) = load_in(&tx, id) else {
            return Ok(false);
        };
        if app.status == to || !app.status.can_become(to) {
            return Ok(false);
        }
        transition_at(&tx, id, to, operator, note, Some(at), |_| {})?;
        tx.commit()?;
        self.derived_cache.remove(&id);
        Ok(true)
    }

    /// Where progress polling got to (empty: from the beginning).
    pub fn sync_cursor(&self) -> Result<String> {
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM sync_state WHERE key = ?1",
                [CURSOR_KEY],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or_default())
    }

    pub fn set_sync_cursor(&mut self, cursor: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO sync_state (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![CURSOR_KEY, cursor],
        )?;
        Ok(())
    }
}
