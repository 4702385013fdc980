//! Operator accounts: 工号, 姓名, role, active or disabled. Never deleted: the audit log
//! names them. Their passwords are not kept here: an operator's key slot (`crate::keys`)
//! is what opens the store, so a password is checked by opening it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::audit::audit_on;
use super::db::{Row, Sql, args};
use super::{AuditAction, Operator, Result, Store, StoreError, from_ms, now_ms};

/// What an operator may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 经办: applications, photos, delivery.
    Clerk,
    /// 负责人: as a clerk, and operators, unmasked exports, the day's report.
    Supervisor,
}

impl Role {
    pub fn key(self) -> &'static str {
        match self {
            Role::Clerk => "clerk",
            Role::Supervisor => "supervisor",
        }
    }

    pub fn from_key(key: &str) -> Option<Role> {
        match key {
            "clerk" => Some(Role::Clerk),
            "supervisor" => Some(Role::Supervisor),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Clerk => "经办",
            Role::Supervisor => "负责人",
        }
    }
}

/// An operator's account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// A supervisor reset the password: a new one is chosen at the next sign-in.
    pub must_change: bool,
}

impl Account {
    /// Who this is in the audit log.
    pub fn operator(&self) -> Operator {
        Operator {
            id: self.id.clone(),
            name: self.name.clone(),
        }
    }

    pub fn is_supervisor(&self) -> bool {
        self.role == Role::Supervisor
    }
}

/// A 工号 or 姓名 as it may be stored: trimmed, 1–32 characters, no control characters.
pub fn checked_account_field(
    value: &str,
    what: &'static str,
) -> std::result::Result<String, String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(format!("{what}不能为空"));
    }
    if v.chars().any(char::is_control) {
        return Err(format!("{what}不能含控制字符"));
    }
    if v.chars().count() > 32 {
        return Err(format!("{what}太长：最多 32 个字符"));
    }
    Ok(v.to_owned())
}

const COLUMNS: &str = "id, name, role, active, created_at, last_sign_in_at, must_change";

fn account(r: &Row) -> Result<Account> {
    let role: String = r.get(2)?;
    Ok(Account {
        id: r.get(0)?,
        name: r.get(1)?,
        role: Role::from_key(&role).unwrap_or(Role::Clerk),
        active: r.get::<bool>(3)?,
        created_at: from_ms(r.get(4)?),
        last_sign_in_at: r.get::<Option<i64>>(5)?.map(from_ms),
        must_change: r.get::<bool>(6)?,
    })
}

impl Store {
    /// Add an operator (active), audited as done by `by`. A 工号 is used once, ever.
    pub fn add_operator(
        &mut self,
        id: &str,
        name: &str,
        role: Role,
        by: &Operator,
    ) -> Result<Account> {
        let tx = self.db.begin()?;
        let exists = tx
            .query_opt("SELECT 1 FROM operators WHERE id = ?1", args![id])?
            .is_some();
        if exists {
            return Err(StoreError::OperatorExists(id.to_owned()));
        }
        tx.execute(
            "INSERT INTO operators (id, name, role, active, created_at, created_by)
             VALUES (?1, ?2, ?3, 1, ?4, ?5)",
            args![id, name, role.key(), now_ms(), by.id],
        )?;
        audit_on(
            &tx,
            by,
            AuditAction::OperatorAdded,
            None,
            Some(&format!("{id} {}", role.key())),
        )?;
        let added = account(&tx.query_one(
            &format!("SELECT {COLUMNS} FROM operators WHERE id = ?1"),
            args![id],
        )?)?;
        tx.commit()?;
        Ok(added)
    }

    /// The operator with this 工号.
    pub fn operator_account(&self, id: &str) -> Result<Option<Account>> {
        self.db
            .query_opt(
                &format!("SELECT {COLUMNS} FROM operators WHERE id = ?1"),
                args![id],
            )?
            .map(|r| account(&r))
            .transpose()
    }

    /// Every operator, active first, by 工号.
    pub fn operator_accounts(&self) -> Result<Vec<Account>> {
        self.db
            .query(
                &format!("SELECT {COLUMNS} FROM operators ORDER BY active DESC, id"),
                args![],
            )?
            .iter()
            .map(account)
            .collect()
    }

    /// Disable or enable an operator, audited. The last active supervisor stays active.
    pub fn set_operator_active(&mut self, id: &str, active: bool, by: &Operator) -> Result<()> {
        let tx = self.db.begin()?;
        let role: Option<String> = tx
            .query_opt("SELECT role FROM operators WHERE id = ?1", args![id])?
            .map(|r| r.get(0))
            .transpose()?;
        let Some(role) = role else {
            return Err(StoreError::NoOperator(id.to_owned()));
        };
        if !active && role == "supervisor" {
            let others: i64 = tx
                .query_one(
                    "SELECT count(*) FROM operators WHERE role = 'supervisor' AND active = 1 AND id <> ?1",
                    args![id],
                )?
                .get(0)?;
            if others == 0 {
                return Err(StoreError::LastSupervisor);
            }
        }
        tx.execute(
            "UPDATE operators SET active = ?2,
                 disabled_at = CASE WHEN ?2 = 0 THEN CAST(?3 AS BIGINT) ELSE NULL END
             WHERE id = ?1",
            args![id, active as i64, now_ms()],
        )?;
        let action = if active {
            AuditAction::OperatorEnabled
        } else {
            AuditAction::OperatorDisabled
        };
        audit_on(&tx, by, action, None, Some(id))?;
        tx.commit()?;
        Ok(())
    }

    /// Note a password reset by `by` (the operator chooses a new one at next sign-in), or
    /// an operator's own change (`by` is them: nothing left to choose).
    pub fn record_password_set(&mut self, id: &str, by: &Operator) -> Result<()> {
        let own = by.id == id;
        let tx = self.db.begin()?;
        let n = tx.execute(
            "UPDATE operators SET must_change = ?2 WHERE id = ?1",
            args![id, (!own) as i64],
        )?;
        if n == 0 {
            return Err(StoreError::NoOperator(id.to_owned()));
        }
        let action = if own {
            AuditAction::PasswordChanged
        } else {
            AuditAction::PasswordReset
        };
        audit_on(&tx, by, action, None, Some(id))?;
        tx.commit()?;
        Ok(())
    }

    /// Note a sign-in (audited with `how`: "start", "unlock", "switch", "cli", "delivery").
    pub fn record_sign_in(&mut self, account: &Account, how: &str) -> Result<()> {
        let tx = self.db.begin()?;
        tx.execute(
            "UPDATE operators SET last_sign_in_at = ?2 WHERE id = ?1",
            args![account.id, now_ms()],
        )?;
        audit_on(
            &tx,
            &account.operator(),
            AuditAction::SignIn,
            None,
            Some(how),
        )?;
        tx.commit()?;
        Ok(())
    }
}

/// Failed sign-ins of one 工号 typed, on a centre's store (an SQLite file keeps them in
/// its key slots' file).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignInAttempts {
    pub failed: u32,
    pub locked_until: Option<DateTime<Utc>>,
}

impl Store {
    /// An operator's Argon2id password hash (PHC string), on a centre's store.
    pub fn operator_password(&self, id: &str) -> Result<Option<String>> {
        Ok(self
            .db
            .query_opt(
                "SELECT password_phc FROM operators WHERE id = ?1 AND active = 1",
                args![id],
            )?
            .map(|r| r.get::<Option<String>>(0))
            .transpose()?
            .flatten())
    }

    /// Set (or with `None`, remove) an operator's password hash.
    pub fn set_operator_password(&self, id: &str, phc: Option<&str>) -> Result<()> {
        self.db.execute(
            "UPDATE operators SET password_phc = ?2 WHERE id = ?1",
            args![id, phc],
        )?;
        Ok(())
    }

    pub fn sign_in_attempts(&self, operator: &str) -> Result<SignInAttempts> {
        Ok(self
            .db
            .query_opt(
                "SELECT failed, locked_until FROM sign_in_attempts WHERE operator = ?1",
                args![operator],
            )?
            .map(|r| -> Result<SignInAttempts> {
                Ok(SignInAttempts {
                    failed: r.get(0)?,
                    locked_until: r.get::<Option<i64>>(1)?.map(from_ms),
                })
            })
            .transpose()?
            .unwrap_or_default())
    }

    /// Write a 工号's attempts as they now stand (`None`: cleared, after a sign-in).
    pub fn set_sign_in_attempts(&self, operator: &str, a: Option<&SignInAttempts>) -> Result<()> {
        match a {
            None => self.db.execute(
                "DELETE FROM sign_in_attempts WHERE operator = ?1",
                args![operator],
            )?,
            Some(a) => self.db.execute(
                "INSERT INTO sign_in_attempts (operator, failed, locked_until) VALUES (?1, ?2, ?3)
                 ON CONFLICT (operator) DO UPDATE SET failed = excluded.failed,
                                                      locked_until = excluded.locked_until",
                args![
                    operator,
                    a.failed,
                    a.locked_until.map(|t| t.timestamp_millis())
                ],
            )?,
        };
        Ok(())
    }
}
