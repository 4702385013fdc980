//! Moving a store's contents into another (`sbk store copy`): a helper's laptop brings its
//! drafts to the centre's server, or a centre's store is taken onto a file. Applications
//! with their photos, histories and outbox entries (a submission keeps its idempotency
//! key, so it is still delivered exactly once), the operators, and the audit log: into an
//! empty store the chain is copied as it is; into one with a chain of its own the entries
//! are appended to it (hashed anew in its order) after an entry naming the source chain
//! and its head. Applications already in the destination are not overwritten unless the
//! caller says how to merge. All in one transaction: the destination has all of it or
//! none.

use serde::Serialize;

use super::audit::{GENESIS, entry_hash};
use super::db::{Sql, Value, args};
use super::{AuditAction, Operator, Result, Store, StoreError};

/// What to do with an application that is in both stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// Refuse the copy (the default): nothing is written.
    Refuse,
    /// Keep the destination's.
    Skip,
    /// Keep whichever was changed last.
    Newer,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CopyReport {
    pub applications: usize,
    /// In both, the destination's kept.
    pub kept: usize,
    /// In both, the source's taken (newer).
    pub replaced: usize,
    pub photos: usize,
    pub outbox: usize,
    pub operators: usize,
    pub audit_entries: usize,
}

const APP_COLUMNS: &str = "id, status, body, name, name_rev, name_initials, name_pinyin, \
    id_number, id_rev, mobile_rev, card_photo, id_front, id_back, created_at, updated_at, version, \
    agent_name, agent_name_rev, agent_initials, agent_pinyin, agent_id_rev, agent_mobile_rev, \
    agent_id_card, authorisation";
/// How many columns `APP_COLUMNS` names.
const APP_COLUMN_COUNT: usize = 24;

/// The first `n` values of a row, as they are (copied across backends by type).
fn values(row: &super::db::Row, n: usize) -> Result<Vec<Value>> {
    let v = row.values();
    if v.len() < n {
        return Err(StoreError::Column(format!(
            "{} columns, {n} expected",
            v.len()
        )));
    }
    Ok(v[..n].to_vec())
}

impl Store {
    /// Copy everything of `self` into `dst` as `by` (see the module's description).
    pub fn copy_into(&self, dst: &mut Store, merge: Merge, by: &Operator) -> Result<CopyReport> {
        let mut report = CopyReport::default();
        // Which applications are already there, and how fresh.
        let src_apps = self.db.query(
            "SELECT id, updated_at FROM applications ORDER BY created_at",
            args![],
        )?;
        let mut clash = Vec::new();
        for r in &src_apps {
            let id: String = r.get(0)?;
            if let Some(d) = dst.db.query_opt(
                "SELECT updated_at FROM applications WHERE id = ?1",
                args![id],
            )? {
                clash.push((id, r.get::<i64>(1)?, d.get::<i64>(0)?));
            }
        }
        if !clash.is_empty() && merge == Merge::Refuse {
            return Err(StoreError::CopyClash(clash.len()));
        }
        let dst_empty_chain = dst
            .db
            .query_opt("SELECT id FROM audit_log LIMIT 1", args![])?
            .is_none();
        let tx = dst.db.begin()?;
        // Photos first: applications refer to them.
        for r in self.db.query(
            "SELECT sha256, kind, media_type, size, width, height, bytes, created_at FROM photos",
            args![],
        )? {
            report.photos += tx.execute(
                "INSERT INTO photos (sha256, kind, media_type, size, width, height, bytes, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (sha256) DO NOTHING",
                &values(&r, 8)?,
            )?;
        }
        for r in src_apps {
            let id: String = r.get(0)?;
            let theirs = clash.iter().find(|(c, _, _)| *c == id);
            if let Some((_, src_at, dst_at)) = theirs {
                if merge == Merge::Skip || src_at <= dst_at {
                    report.kept += 1;
                    continue;
                }
                tx.execute("DELETE FROM applications WHERE id = ?1", args![id])?;
                report.replaced += 1;
            }
            let row = self.db.query_one(
                &format!("SELECT {APP_COLUMNS} FROM applications WHERE id = ?1"),
                args![id],
            )?;
            let marks: Vec<String> = (1..=APP_COLUMN_COUNT).map(|i| format!("?{i}")).collect();
            tx.execute(
                &format!(
                    "INSERT INTO applications ({APP_COLUMNS}) VALUES ({})",
                    marks.join(", ")
                ),
                &values(&row, APP_COLUMN_COUNT)?,
            )?;
            for h in self.db.query(
                "SELECT application_id, at, status, note FROM status_history
                 WHERE application_id = ?1 ORDER BY at, id",
                args![id],
            )? {
                tx.execute(
                    "INSERT INTO status_history (application_id, at, status, note)
                     VALUES (?1, ?2, ?3, ?4)",
                    &values(&h, 4)?,
                )?;
            }
            for o in self.db.query(
                "SELECT application_id, idempotency_key, state, attempts, next_attempt_at,
                        last_error, created_at, posted_at
                 FROM outbox WHERE application_id = ?1 ORDER BY id",
                args![id],
            )? {
                // Claims are this store's business: a copied entry starts unclaimed.
                report.outbox += tx.execute(
                    "INSERT INTO outbox (application_id, idempotency_key, state, attempts,
                                         next_attempt_at, last_error, created_at, posted_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT (idempotency_key) DO NOTHING",
                    &values(&o, 8)?,
                )?;
            }
            report.applications += 1;
        }
        for r in self.db.query(
            "SELECT id, name, role, active, created_at, created_by, disabled_at,
                    last_sign_in_at, must_change, password_phc FROM operators",
            args![],
        )? {
            report.operators += tx.execute(
                "INSERT INTO operators (id, name, role, active, created_at, created_by,
                                        disabled_at, last_sign_in_at, must_change, password_phc)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (id) DO NOTHING",
                &values(&r, 10)?,
            )?;
        }
        // The audit log: as it is into an empty chain; else appended after a note of where
        // it came from (the source chain's id and head).
        let entries = self.db.query(
            "SELECT id, at, operator_id, operator_name, action, application_id, detail,
                    prev_hash, hash
             FROM audit_log ORDER BY id",
            args![],
        )?;
        if dst_empty_chain {
            for e in &entries {
                tx.execute(
                    "INSERT INTO audit_log (id, at, operator_id, operator_name, action,
                                            application_id, detail, prev_hash, hash)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    &values(e, 9)?,
                )?;
            }
        } else {
            let (chain, head) = (self.audit_chain_id()?, self.audit_head()?);
            let detail = format!(
                "from chain {chain} head {}",
                head.map(|(n, h)| format!("{n} {h}")).unwrap_or_default()
            );
            super::audit::audit_on(&tx, by, AuditAction::StoreCopy, None, Some(&detail))?;
            let (mut id, mut prev) = match tx.query_opt(
                "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1",
                args![],
            )? {
                Some(r) => (
                    r.get::<i64>(0)?,
                    r.get::<Option<String>>(1)?
                        .unwrap_or_else(|| GENESIS.into()),
                ),
                None => (0, GENESIS.into()),
            };
            for e in &entries {
                id += 1;
                let (at, op_id, op_name, action): (i64, String, String, String) =
                    (e.get(1)?, e.get(2)?, e.get(3)?, e.get(4)?);
                let (app, detail): (Option<String>, Option<String>) = (e.get(5)?, e.get(6)?);
                let hash = entry_hash(
                    &prev,
                    id,
                    at,
                    &op_id,
                    &op_name,
                    &action,
                    app.as_deref(),
                    detail.as_deref(),
                );
                tx.execute(
                    "INSERT INTO audit_log (id, at, operator_id, operator_name, action,
                                            application_id, detail, prev_hash, hash)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    args![id, at, op_id, op_name, action, app, detail, prev, hash],
                )?;
                prev = hash;
            }
        }
        report.audit_entries = entries.len();
        let summary = format!(
            "applications={} kept={} replaced={}",
            report.applications, report.kept, report.replaced
        );
        super::audit::audit_on(&tx, by, AuditAction::StoreCopy, None, Some(&summary))?;
        tx.commit()?;
        dst.derived_cache.clear();
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_column_count_is_the_columns_named() {
        assert_eq!(
            super::APP_COLUMNS.split(',').count(),
            super::APP_COLUMN_COUNT
        );
    }
}
