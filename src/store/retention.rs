//! Retention: personal data kept no longer than the purpose needs. A set number of days
//! after the central API accepted an application, its photos and ID images are deleted
//! and its personal fields reduced to what the clerk needs to answer "where is my card"
//! (name, masked ID number, application number, status, history). Withdrawn drafts
//! older than the same period are deleted.

use chrono::{DateTime, Duration, Utc};
use rusqlite::params;
use serde::Serialize;
use uuid::Uuid;

use super::applications::{load_in, rewrite};
use super::audit::audit_on;
use super::photos::collect_garbage;
use super::{AuditAction, Operator, Result, Store, from_ms};
use crate::domain::{Application, Photos, Status, ValidUntil, mask_id};

/// The default retention period (days after acceptance).
pub const DEFAULT_RETENTION_DAYS: u32 = 30;

/// One application purge reduced or deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Purged {
    pub id: Uuid,
    pub status: Status,
    /// Masked: the list says which application, not the person's number.
    pub masked_id_number: String,
    /// When the period started (acceptance, or the draft's last change).
    pub since: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    /// Accepted long enough ago: photos deleted, personal fields reduced.
    pub reduced: Vec<Purged>,
    /// Withdrawn drafts untouched long enough: deleted.
    pub deleted: Vec<Purged>,
    /// Photos removed from the store.
    pub photos_removed: usize,
}

/// What stays of an application once its retention period is over.
pub fn reduce(app: &mut Application, now: DateTime<Utc>) {
    let a = &mut app.applicant;
    a.id_number = mask_id(a.id_number.trim());
    a.id_valid_from.clear();
    a.id_valid_until = ValidUntil::Date(String::new());
    a.gender = None;
    a.birth_date.clear();
    a.ethnicity.clear();
    a.mobile.clear();
    app.residence.address.clear();
    app.pickup.mail = Default::default();
    app.photos = Photos::default();
    app.purged_at = Some(now);
}

impl Store {
    /// Apply retention as of `now` (`dry_run`: only say what would go).
    pub fn purge(
        &mut self,
        now: DateTime<Utc>,
        days: u32,
        dry_run: bool,
        operator: &Operator,
    ) -> Result<PurgeReport> {
        let cutoff = (now - Duration::days(days as i64)).timestamp_millis();
        let tx = self.conn.transaction()?;
        let accepted: Vec<(String, i64)> = {
            let mut stmt = tx.prepare(
                "SELECT a.id, min(h.at) FROM applications a
                 JOIN status_history h ON h.application_id = a.id AND h.status = 'accepted'
                 WHERE a.status IN ('accepted', 'in_production', 'shipped',
                                    'ready_for_collection', 'collected')
                 GROUP BY a.id HAVING min(h.at) <= ?1",
            )?;
            stmt.query_map([cutoff], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        let withdrawn: Vec<(String, i64)> = {
            let mut stmt = tx.prepare(
                "SELECT a.id, a.updated_at FROM applications a
                 WHERE a.status = 'draft' AND a.updated_at <= ?1
                   AND EXISTS (SELECT 1 FROM status_history h
                               WHERE h.application_id = a.id AND h.note = '撤回')",
            )?;
            stmt.query_map([cutoff], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        let mut report = PurgeReport::default();
        for (id, since) in accepted {
            let id: Uuid = id.parse().unwrap_or_default();
            let mut app = load_in(&tx, id)?;
            if app.purged_at.is_some() {
                continue;
            }
            report.reduced.push(Purged {
                id,
                status: app.status,
                masked_id_number: mask_id(app.applicant.id_number.trim()),
                since: from_ms(since),
            });
            if !dry_run {
                reduce(&mut app, now);
                rewrite(&tx, &app)?;
                audit_on(&tx, operator, AuditAction::Purge, Some(id), Some("reduced"))?;
            }
        }
        for (id, since) in withdrawn {
            let id: Uuid = id.parse().unwrap_or_default();
            let app = load_in(&tx, id)?;
            report.deleted.push(Purged {
                id,
                status: app.status,
                masked_id_number: mask_id(app.applicant.id_number.trim()),
                since: from_ms(since),
            });
            if !dry_run {
                tx.execute(
                    "DELETE FROM applications WHERE id = ?1",
                    params![id.to_string()],
                )?;
                audit_on(
                    &tx,
                    operator,
                    AuditAction::Purge,
                    Some(id),
                    Some("withdrawn draft deleted"),
                )?;
            }
        }
        if !dry_run {
            report.photos_removed = collect_garbage(&tx)?;
            tx.commit()?;
            for p in report.reduced.iter().chain(&report.deleted) {
                self.derived_cache.remove(&p.id);
            }
            if !report.reduced.is_empty() || !report.deleted.is_empty() {
                self.forget_deleted()?;
            }
        }
        Ok(report)
    }
}
