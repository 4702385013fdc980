//! Who is editing a draft: a lease per application, taken when a window opens it for
//! editing, renewed by a heartbeat, given back when it is closed, and run out when the
//! window died. A second window that opens the draft is told who has it and where, and
//! gets it read-only, unless the clerk takes it over (audited).

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::audit::audit_on;
use super::db::{Backend, Sql, args};
use super::{AuditAction, Operator, Result, Store, from_ms};

/// A lease held by this window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftLease {
    pub application: Uuid,
    pub token: String,
}

/// Who holds a draft elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub operator_id: String,
    pub operator_name: String,
    pub window: String,
    pub until: DateTime<Utc>,
}

impl Holder {
    /// 李柜员（3号窗口）
    pub fn describe(&self) -> String {
        let window = if self.window.is_empty() {
            "本机另一个窗口"
        } else {
            self.window.as_str()
        };
        format!("{}（{window}）", self.operator_name)
    }
}

/// What opening a draft for editing came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    Granted(DraftLease),
    HeldBy(Holder),
}

fn until(lease: Duration) -> i64 {
    (Utc::now() + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX))
        .timestamp_millis()
}

impl Store {
    /// Take the lease on `id` for `lease`, unless another window holds a live one (then
    /// say who); `take_over` takes it all the same, audited with whom it was taken from.
    pub fn take_draft(
        &self,
        id: Uuid,
        operator: &Operator,
        lease: Duration,
        take_over: bool,
    ) -> Result<Taken> {
        let tx = self.db.begin()?;
        let lock = match tx.backend() {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        };
        let held = tx.query_opt(
            &format!(
                "SELECT operator_id, operator_name, window_name, lease_until FROM draft_leases
                 WHERE application_id = ?1{lock}"
            ),
            args![id],
        )?;
        if let Some(r) = held {
            let holder = Holder {
                operator_id: r.get(0)?,
                operator_name: r.get(1)?,
                window: r.get(2)?,
                until: from_ms(r.get(3)?),
            };
            let live = holder.until > Utc::now();
            if live && !take_over {
                return Ok(Taken::HeldBy(holder));
            }
            if live {
                let detail = format!("from {}", holder.operator_id);
                audit_on(
                    &tx,
                    operator,
                    AuditAction::TakeOver,
                    Some(id),
                    Some(&detail),
                )?;
            }
        }
        let token = Uuid::new_v4().to_string();
        tx.execute(
            "INSERT INTO draft_leases (application_id, token, window_name, operator_id,
                                       operator_name, lease_until)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (application_id) DO UPDATE SET token = excluded.token,
                 window_name = excluded.window_name, operator_id = excluded.operator_id,
                 operator_name = excluded.operator_name, lease_until = excluded.lease_until",
            args![
                id,
                token,
                self.window,
                operator.id,
                operator.name,
                until(lease)
            ],
        )?;
        tx.commit()?;
        Ok(Taken::Granted(DraftLease {
            application: id,
            token,
        }))
    }

    /// The heartbeat: extend the lease; false when it was taken over (or is gone).
    pub fn renew_draft(&self, lease: &DraftLease, duration: Duration) -> Result<bool> {
        Ok(self.db.execute(
            "UPDATE draft_leases SET lease_until = ?3 WHERE application_id = ?1 AND token = ?2",
            args![lease.application, lease.token, until(duration)],
        )? == 1)
    }

    /// Give the lease back (the draft was closed).
    pub fn release_draft(&self, lease: &DraftLease) -> Result<()> {
        self.db.execute(
            "DELETE FROM draft_leases WHERE application_id = ?1 AND token = ?2",
            args![lease.application, lease.token],
        )?;
        Ok(())
    }

    /// Who holds `id` now, if anyone's lease is live.
    pub fn draft_holder(&self, id: Uuid) -> Result<Option<Holder>> {
        self.db
            .query_opt(
                "SELECT operator_id, operator_name, window_name, lease_until FROM draft_leases
                 WHERE application_id = ?1 AND lease_until > ?2",
                args![id, Utc::now().timestamp_millis()],
            )?
            .map(|r| {
                Ok(Holder {
                    operator_id: r.get(0)?,
                    operator_name: r.get(1)?,
                    window: r.get(2)?,
                    until: from_ms(r.get(3)?),
                })
            })
            .transpose()
    }
}
