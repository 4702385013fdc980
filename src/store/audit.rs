//! The audit log: who (the operator) did what, when, to which application. It records
//! actions, never personal data: no names, ID numbers, phones or addresses in `detail`.

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Result, Store, from_ms, now_ms};

/// The clerk at the keyboard, recorded with every audited action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operator {
    /// 工号.
    pub id: String,
    /// 姓名.
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    Create,
    Transition,
    Delete,
    Import,
    Export,
    /// Unmasked personal data shown (`--reveal`).
    Reveal,
    /// A delivered application opened.
    View,
}

impl AuditAction {
    pub fn key(self) -> &'static str {
        match self {
            AuditAction::Create => "create",
            AuditAction::Transition => "transition",
            AuditAction::Delete => "delete",
            AuditAction::Import => "import",
            AuditAction::Export => "export",
            AuditAction::Reveal => "reveal",
            AuditAction::View => "view",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub operator_id: String,
    pub operator_name: String,
    pub action: String,
    pub application_id: Option<String>,
    pub detail: Option<String>,
}

impl Store {
    /// Record an action. `detail` must not contain personal data.
    pub fn audit(
        &self,
        operator: &Operator,
        action: AuditAction,
        application: Option<Uuid>,
        detail: Option<&str>,
    ) -> Result<()> {
        audit_on(&self.conn, operator, action, application, detail)
    }

    /// Audit entries, oldest first; of one application if given.
    pub fn audit_entries(&self, application: Option<Uuid>) -> Result<Vec<AuditEntry>> {
        let mut stmt = self.conn.prepare(
            "SELECT at, operator_id, operator_name, action, application_id, detail
             FROM audit_log WHERE ?1 IS NULL OR application_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![application.map(|u| u.to_string())], |r| {
            Ok(AuditEntry {
                at: from_ms(r.get(0)?),
                operator_id: r.get(1)?,
                operator_name: r.get(2)?,
                action: r.get(3)?,
                application_id: r.get(4)?,
                detail: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Record an action on a connection or inside a transaction.
pub(super) fn audit_on(
    conn: &rusqlite::Connection,
    operator: &Operator,
    action: AuditAction,
    application: Option<Uuid>,
    detail: Option<&str>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO audit_log (at, operator_id, operator_name, action, application_id, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        now_ms(),
        operator.id,
        operator.name,
        action.key(),
        application.map(|u| u.to_string()),
        detail
    ])?;
    Ok(())
}
