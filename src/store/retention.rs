//! Retention: personal data kept no longer than the purpose needs, with a rule for every
//! status, each counted from its own event:
//!
//! | status | kept | then |
//! |---|---|---|
//! | accepted and after (已受理 … 已领卡) | `days` after acceptance | reduced |
//! | delivered, not yet accepted (已提交) | `days` + 60 after delivery | reduced |
//! | returned and not corrected (已退回) | `draft_days` after the return | reduced |
//! | withdrawn draft | `days` after its last change | deleted |
//! | draft or ready never submitted | `draft_days` after its last change | deleted |
//! | queued (待同步) | until delivered: it is the resident's request | — |
//!
//! Reduced: photos and ID images deleted, personal fields cut to what answers "where is my
//! card" (name, masked ID number, application number, status, history). The photo
//! folder's originals that sbk imported are removed a day after their import (`originals`).

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::applications::{load_in, rewrite};
use super::audit::audit_on;
use super::db::{Sql, args};
use super::photos::collect_garbage;
use super::{AuditAction, Operator, Result, Store, from_ms};
use crate::domain::{Application, Photos, Status, ValidUntil, mask_id};

/// The default retention period (days after acceptance).
pub const DEFAULT_RETENTION_DAYS: u32 = 30;
/// The default time an untouched draft, or a returned application nobody corrects, is kept.
pub const DEFAULT_DRAFT_DAYS: u32 = 60;
/// How long past the retention period a delivered application waits for its acceptance
/// before it is reduced all the same.
const DELIVERED_GRACE_DAYS: i64 = 60;

/// The periods, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Retention {
    /// After acceptance (and, plus 60, after a delivery never accepted).
    pub days: u32,
    /// After the last change of a draft never submitted, or after a return not corrected.
    pub draft_days: u32,
}

impl Retention {
    /// `days` after acceptance, drafts by the default.
    pub fn new(days: u32) -> Retention {
        Retention {
            days,
            draft_days: DEFAULT_DRAFT_DAYS,
        }
    }

    /// The periods as applied for `supervisor` or not: only a supervisor applies periods
    /// shorter than the defaults (a clerk's environment or config file cannot purge a
    /// day's work by setting 0); longer ones are anyone's.
    pub fn for_role(self, supervisor: bool) -> Retention {
        if supervisor {
            return self;
        }
        Retention {
            days: self.days.max(DEFAULT_RETENTION_DAYS),
            draft_days: self.draft_days.max(DEFAULT_DRAFT_DAYS),
        }
    }
}

/// Why an application was purged, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    Accepted,
    DeliveredNotAccepted,
    ReturnedNotCorrected,
    WithdrawnDraft,
    UntouchedDraft,
}

impl Rule {
    pub fn label(self) -> &'static str {
        match self {
            Rule::Accepted => "受理后到期",
            Rule::DeliveredNotAccepted => "提交后长期未受理",
            Rule::ReturnedNotCorrected => "退回后未修改",
            Rule::WithdrawnDraft => "撤回的草稿",
            Rule::UntouchedDraft => "长期未动的草稿",
        }
    }
}

/// One application purge reduced or deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Purged {
    pub id: Uuid,
    pub status: Status,
    pub rule: Rule,
    /// Masked: the list says which application, not the person's number.
    pub masked_id_number: String,
    /// When the period started (its rule's event).
    pub since: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    /// Photos deleted, personal fields reduced.
    pub reduced: Vec<Purged>,
    /// Deleted whole (drafts never submitted).
    pub deleted: Vec<Purged>,
    /// Photos removed from the store.
    pub photos_removed: usize,
    /// Applications waiting for delivery: kept whatever their age.
    pub queued_kept: usize,
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
    // The agent as the applicant: the name (and relation) stays to answer a relative who
    // calls; the number is masked; the phone and the papers go.
    let g = &mut app.agent;
    g.id_number = mask_id(g.id_number.trim());
    g.mobile.clear();
    g.photos = Default::default();
    app.recognised.clear();
    app.id_number_on_card = None;
    app.purged_at = Some(now);
}

/// The candidates of each rule: (id, when its period started), given the cutoff.
const RULES: [(Rule, &str); 5] = [
    (
        Rule::Accepted,
        "SELECT a.id, min(h.at) FROM applications a
         JOIN status_history h ON h.application_id = a.id AND h.status = 'accepted'
         WHERE a.status IN ('accepted', 'in_production', 'shipped', 'ready_for_collection',
                            'collected')
         GROUP BY a.id HAVING min(h.at) <= ?1",
    ),
    (
        Rule::DeliveredNotAccepted,
        "SELECT a.id, max(h.at) FROM applications a
         JOIN status_history h ON h.application_id = a.id AND h.status = 'delivered'
         WHERE a.status = 'delivered' GROUP BY a.id HAVING max(h.at) <= ?1",
    ),
    (
        Rule::ReturnedNotCorrected,
        "SELECT a.id, max(h.at) FROM applications a
         JOIN status_history h ON h.application_id = a.id AND h.status = 'returned'
         WHERE a.status = 'returned' AND a.updated_at <= ?1
         GROUP BY a.id HAVING max(h.at) <= ?1",
    ),
    (
        Rule::WithdrawnDraft,
        "SELECT a.id, a.updated_at FROM applications a
         WHERE a.status IN ('draft', 'ready') AND a.updated_at <= ?1
           AND EXISTS (SELECT 1 FROM status_history h
                       WHERE h.application_id = a.id AND h.note = '撤回')",
    ),
    (
        Rule::UntouchedDraft,
        "SELECT a.id, a.updated_at FROM applications a
         WHERE a.status IN ('draft', 'ready') AND a.updated_at <= ?1
           AND NOT EXISTS (SELECT 1 FROM status_history h
                           WHERE h.application_id = a.id AND h.note = '撤回')",
    ),
];

impl Store {
    /// Apply retention as of `now` (`dry_run`: only say what would go).
    pub fn purge(
        &mut self,
        now: DateTime<Utc>,
        retention: Retention,
        dry_run: bool,
        operator: &Operator,
    ) -> Result<PurgeReport> {
        let days = |d: i64| (now - Duration::days(d)).timestamp_millis();
        let cutoff = |rule: Rule| match rule {
            Rule::Accepted | Rule::WithdrawnDraft => days(i64::from(retention.days)),
            Rule::DeliveredNotAccepted => days(i64::from(retention.days) + DELIVERED_GRACE_DAYS),
            Rule::ReturnedNotCorrected | Rule::UntouchedDraft => {
                days(i64::from(retention.draft_days))
            }
        };
        let tx = self.db.begin()?;
        let mut report = PurgeReport::default();
        for (rule, sql) in RULES {
            let candidates: Vec<(String, i64)> = tx
                .query(sql, args![cutoff(rule)])?
                .iter()
                .map(|r| Ok((r.get(0)?, r.get(1)?)))
                .collect::<Result<_>>()?;
            let delete = matches!(rule, Rule::WithdrawnDraft | Rule::UntouchedDraft);
            for (id, since) in candidates {
                let id: Uuid = id.parse().unwrap_or_default();
                let mut app = load_in(&tx, id)?;
                if !delete && app.purged_at.is_some() {
                    continue;
                }
                let purged = Purged {
                    id,
                    status: app.status,
                    rule,
                    masked_id_number: mask_id(app.applicant.id_number.trim()),
                    since: from_ms(since),
                };
                if delete {
                    report.deleted.push(purged);
                } else {
                    report.reduced.push(purged);
                }
                if dry_run {
                    continue;
                }
                if delete {
                    tx.execute("DELETE FROM applications WHERE id = ?1", args![id])?;
                } else {
                    reduce(&mut app, now);
                    rewrite(&tx, &app)?;
                }
                let detail = format!("{:?}", rule).to_lowercase();
                audit_on(&tx, operator, AuditAction::Purge, Some(id), Some(&detail))?;
            }
        }
        report.queued_kept = tx
            .query_one(
                "SELECT count(*) FROM applications WHERE status = 'queued'",
                args![],
            )?
            .get::<i64>(0)? as usize;
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

/// How long an imported original stays in the photo folder: the day's work can still
/// import it again.
pub const ORIGINALS_KEPT: Duration = Duration::days(1);

impl Store {
    /// Remember a file of the photo folder that was imported (its bytes' SHA-256).
    pub fn note_original(&self, path: &std::path::Path, sha256: &str) -> Result<()> {
        self.db.execute(
            "INSERT INTO imported_originals (path, sha256, imported_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (path) DO UPDATE SET sha256 = excluded.sha256,
                                              imported_at = excluded.imported_at",
            args![path.to_string_lossy().as_ref(), sha256, super::now_ms()],
        )?;
        Ok(())
    }

    /// Remove from the photo folder the originals imported more than `ORIGINALS_KEPT` ago,
    /// where the file is still exactly what was imported (anything else is left alone and
    /// forgotten). Returns the files removed (or, `dry_run`, that would be).
    pub fn purge_originals(
        &self,
        now: DateTime<Utc>,
        dry_run: bool,
    ) -> Result<Vec<std::path::PathBuf>> {
        let cutoff = (now - ORIGINALS_KEPT).timestamp_millis();
        let rows: Vec<(String, String)> = self
            .db
            .query(
                "SELECT path, sha256 FROM imported_originals WHERE imported_at <= ?1",
                args![cutoff],
            )?
            .iter()
            .map(|r| Ok((r.get(0)?, r.get(1)?)))
            .collect::<Result<_>>()?;
        let mut removed = Vec::new();
        for (path, sha256) in rows {
            let file = std::path::PathBuf::from(&path);
            let same =
                crate::private_files::read_regular(&file, crate::photo::decode::MAX_FILE_BYTES)
                    .is_ok_and(|bytes| super::sha256_hex(&bytes) == sha256);
            if same {
                removed.push(file.clone());
            }
            if dry_run {
                continue;
            }
            if same && let Err(e) = std::fs::remove_file(&file) {
                tracing::warn!(error = %e.kind(), "an imported original could not be removed");
                removed.pop();
                continue;
            }
            self.db.execute(
                "DELETE FROM imported_originals WHERE path = ?1",
                args![path],
            )?;
        }
        Ok(removed)
    }
}
