//! The audit log: who (the operator) did what, when, to which application. It records
//! actions, never personal data: no names, ID numbers, phones or addresses in `detail`.
//!
//! Append-only and tamper-evident: triggers refuse updates and deletes, and each entry
//! carries the SHA-256 of the previous entry's hash and its own fields, so that changing
//! or removing any entry (even by someone who drops the triggers) breaks the chain from
//! there on, which `Store::verify_audit` (`sbk audit verify`) finds.

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::digest::{hex, unhex};

use super::db::{Backend, Sql, args};
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
    /// Retention reduced an application or deleted a withdrawn draft.
    Purge,
    /// The store was set up (its first supervisor), or converted from a plain file.
    Setup,
    /// An operator signed in (at start, unlocking, or switching).
    SignIn,
    /// A sign-in with a wrong password or an unknown 工号.
    SignInFailed,
    /// Too many wrong passwords: the 工号 is locked for a while.
    LockedOut,
    SignOut,
    /// The screen was locked (idle, or at the operator's key).
    Lock,
    Unlock,
    OperatorAdded,
    OperatorDisabled,
    OperatorEnabled,
    PasswordReset,
    PasswordChanged,
    /// The store was opened with the recovery key.
    Recovered,
    /// A delivery-only key was made or removed.
    DeliveryKey,
    /// A draft another window was editing was taken over.
    TakeOver,
    /// Another store's contents were copied in (`sbk store copy`).
    StoreCopy,
    /// A 受理单 was printed or saved (it shows the name and masked numbers).
    Print,
    /// The resident's consents and the clerk's in-person checks given outside the wizard
    /// (`drafts submit --consents-given`).
    Consent,
    /// A search: its shape (kind and length) and how many it found, never the text.
    Search,
    /// The central API a supervisor set (its host), or an application sent to it.
    Central,
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
            AuditAction::Purge => "purge",
            AuditAction::Setup => "setup",
            AuditAction::SignIn => "sign_in",
            AuditAction::SignInFailed => "sign_in_failed",
            AuditAction::LockedOut => "locked_out",
            AuditAction::SignOut => "sign_out",
            AuditAction::Lock => "lock",
            AuditAction::Unlock => "unlock",
            AuditAction::OperatorAdded => "operator_added",
            AuditAction::OperatorDisabled => "operator_disabled",
            AuditAction::OperatorEnabled => "operator_enabled",
            AuditAction::PasswordReset => "password_reset",
            AuditAction::PasswordChanged => "password_changed",
            AuditAction::Recovered => "recovered",
            AuditAction::DeliveryKey => "delivery_key",
            AuditAction::TakeOver => "take_over",
            AuditAction::StoreCopy => "store_copy",
            AuditAction::Print => "print",
            AuditAction::Consent => "consent",
            AuditAction::Search => "search",
            AuditAction::Central => "central",
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
        audit_on(&self.db, operator, action, application, detail)
    }

    /// Record many actions in one transaction (seeding a benchmark's store).
    #[doc(hidden)]
    pub fn audit_many(
        &self,
        operator: &Operator,
        entries: &[(AuditAction, Option<Uuid>)],
    ) -> Result<()> {
        let tx = self.db.begin()?;
        for (action, application) in entries {
            audit_on(&tx, operator, *action, *application, None)?;
        }
        tx.commit()
    }

    /// Record an action that happened at `at` (a failed sign-in, written when the store
    /// could next be read). `detail` must not contain personal data.
    pub fn audit_at(
        &self,
        at: DateTime<Utc>,
        operator: &Operator,
        action: AuditAction,
        detail: Option<&str>,
    ) -> Result<()> {
        audit_on_at(
            &self.db,
            at.timestamp_millis(),
            operator,
            action,
            None,
            detail,
        )
    }

    /// Audit entries, oldest first; of one application if given.
    pub fn audit_entries(&self, application: Option<Uuid>) -> Result<Vec<AuditEntry>> {
        self.db
            .query(
                "SELECT at, operator_id, operator_name, action, application_id, detail
                 FROM audit_log WHERE CAST(?1 AS TEXT) IS NULL OR application_id = ?1 ORDER BY id",
                args![application],
            )?
            .iter()
            .map(|r| {
                Ok(AuditEntry {
                    at: from_ms(r.get(0)?),
                    operator_id: r.get(1)?,
                    operator_name: r.get(2)?,
                    action: r.get(3)?,
                    application_id: r.get(4)?,
                    detail: r.get(5)?,
                })
            })
            .collect()
    }
}

const CHAIN_ID_KEY: &str = "audit_chain_id";
const CHAIN_KEY_KEY: &str = "audit_chain_key";

const ANCHOR_KEY: &str = "audit_anchor";

const CENTRAL_KEY: &str = "central_pin";

/// The central API as a supervisor set it: where this store's applications go. Kept in
/// the store (encrypted), so that neither a clerk's environment nor a config file they can
/// edit sends applications elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CentralPin {
    pub url: String,
    pub token: String,
    /// The centre's CA certificate file, and the SHA-256 of what it held when set: a file
    /// changed since is refused.
    pub ca_file: Option<String>,
    pub ca_sha256: Option<String>,
}

impl Store {
    /// The central API a supervisor set, if any.
    pub fn central_pin(&self) -> Result<Option<CentralPin>> {
        self.state_json(CENTRAL_KEY)
    }

    /// A value kept in `sync_state` as JSON (`None`: absent or unreadable).
    fn state_json<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        let json: Option<String> = self
            .db
            .query_opt("SELECT value FROM sync_state WHERE key = ?1", args![key])?
            .map(|r| r.get(0))
            .transpose()?;
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
    }

    /// Set the central API (a supervisor's act; the caller checks the role), audited with
    /// its host.
    pub fn set_central_pin(&self, pin: &CentralPin, operator: &Operator, host: &str) -> Result<()> {
        let tx = self.db.begin()?;
        tx.execute(
            "INSERT INTO sync_state (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            args![CENTRAL_KEY, serde_json::to_string(pin)?],
        )?;
        audit_on(
            &tx,
            operator,
            AuditAction::Central,
            None,
            Some(&format!("set {host}")),
        )?;
        tx.commit()
    }
}

/// How a chain stands against an anchor kept outside the PC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum AnchorCheck {
    /// The anchored entry is here with the same hash; `unanchored` entries follow it.
    Holds { unanchored: i64 },
    /// The chain is shorter than the anchor: entries were removed.
    Shorter { head: i64 },
    /// The anchored entry's hash differs: the chain was rewritten.
    Differs,
}

impl Store {
    /// This store's audit chain's id (made the first time it is asked for).
    pub fn audit_chain_id(&self) -> Result<Uuid> {
        self.db.execute(
            "INSERT INTO sync_state (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
            args![CHAIN_ID_KEY, Uuid::new_v4()],
        )?;
        let id: String = self
            .db
            .query_one(
                "SELECT value FROM sync_state WHERE key = ?1",
                args![CHAIN_ID_KEY],
            )?
            .get(0)?;
        Ok(id.parse().unwrap_or_default())
    }

    /// The chain's last entry: its number and hash.
    pub fn audit_head(&self) -> Result<Option<(i64, String)>> {
        self.db
            .query_opt(
                "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1",
                args![],
            )?
            .map(|r| Ok((r.get(0)?, r.get::<Option<String>>(1)?.unwrap_or_default())))
            .transpose()
    }

    /// The last anchor the central API acknowledged, as this store remembers it.
    pub fn last_anchor(&self) -> Result<Option<crate::api::AnchorReceipt>> {
        self.state_json(ANCHOR_KEY)
    }

    pub fn set_last_anchor(&self, anchor: &crate::api::AnchorReceipt) -> Result<()> {
        self.db.execute(
            "INSERT INTO sync_state (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            args![ANCHOR_KEY, serde_json::to_string(anchor)?],
        )?;
        Ok(())
    }

    /// The next anchor to send after `last` (the last the server acknowledged; `None`:
    /// none yet), signed with the chain's key: the entries after it, at most
    /// `MAX_ANCHOR_ENTRIES` of them. `None` when the chain has nothing new.
    pub fn next_anchor(
        &self,
        last: Option<&crate::api::AnchorReceipt>,
    ) -> Result<Option<crate::api::AuditAnchor>> {
        let Some((head, _)) = self.audit_head()? else {
            return Ok(None);
        };
        let from = last.map_or(0, |a| a.seq);
        if head <= from {
            return Ok(None);
        }
        let to = head.min(from + crate::api::MAX_ANCHOR_ENTRIES as i64);
        let rows = self.db.query(
            "SELECT id, at, operator_id, operator_name, action, application_id, detail, hash
             FROM audit_log WHERE id > ?1 AND id <= ?2 ORDER BY id",
            args![from, to],
        )?;
        let mut entries = Vec::with_capacity(rows.len());
        let mut hash = String::new();
        for r in &rows {
            entries.push(crate::api::AnchorEntry {
                id: r.get(0)?,
                at: r.get(1)?,
                operator_id: r.get(2)?,
                operator_name: r.get(3)?,
                action: r.get(4)?,
                application_id: r.get(5)?,
                detail: r.get(6)?,
            });
            hash = r.get::<Option<String>>(7)?.unwrap_or_default();
        }
        let key = self.audit_chain_key()?;
        let mut anchor = crate::api::AuditAnchor {
            chain_id: self.audit_chain_id()?,
            seq: to,
            hash,
            extends: last.map(|a| crate::api::AnchorPoint {
                seq: a.seq,
                hash: a.hash.clone(),
            }),
            entries,
            // Always sent (64 characters): a chain the server anchored before keys existed
            // registers it with its next anchor; once registered, the server ignores it.
            chain_key: Some(hex(ring::signature::KeyPair::public_key(&key).as_ref())),
            signature: String::new(),
        };
        anchor.signature = hex(key.sign(&anchor.signed_bytes()).as_ref());
        Ok(Some(anchor))
    }

    /// The chain's signing key (Ed25519), made with the chain and kept in the store: what
    /// lets the central API tell this counter's anchors from anyone's with the token.
    fn audit_chain_key(&self) -> Result<ring::signature::Ed25519KeyPair> {
        let mut seed = [0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut seed)
            .map_err(|_| super::StoreError::Column("no random bytes for the chain's key".into()))?;
        self.db.execute(
            "INSERT INTO sync_state (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
            args![CHAIN_KEY_KEY, hex(&seed)],
        )?;
        let stored: String = self
            .db
            .query_one(
                "SELECT value FROM sync_state WHERE key = ?1",
                args![CHAIN_KEY_KEY],
            )?
            .get(0)?;
        let seed = unhex(&stored)
            .filter(|s| s.len() == 32)
            .ok_or_else(|| super::StoreError::Column("the audit chain's key is damaged".into()))?;
        ring::signature::Ed25519KeyPair::from_seed_unchecked(&seed)
            .map_err(|_| super::StoreError::Column("the audit chain's key is damaged".into()))
    }

    /// Whether the chain still holds the anchored entry as it was.
    pub fn check_anchor(&self, anchor: &crate::api::AnchorReceipt) -> Result<AnchorCheck> {
        let head = self.audit_head()?.map_or(0, |(seq, _)| seq);
        if head < anchor.seq {
            return Ok(AnchorCheck::Shorter { head });
        }
        let hash: Option<String> = self
            .db
            .query_opt(
                "SELECT hash FROM audit_log WHERE id = ?1",
                args![anchor.seq],
            )?
            .map(|r| r.get::<Option<String>>(0))
            .transpose()?
            .flatten();
        Ok(if hash.as_deref() == Some(anchor.hash.as_str()) {
            AnchorCheck::Holds {
                unanchored: head - anchor.seq,
            }
        } else {
            AnchorCheck::Differs
        })
    }
}

// The chain's hash, shared with the reference server, which recomputes it from an
// anchor's entries.
pub use crate::digest::{AUDIT_GENESIS as GENESIS, audit_entry_hash as entry_hash};

/// How many audit entries still lack their hash: asked at every open, answered from the
/// partial index `audit_log_unchained` (schema 6), not by reading the whole log.
#[doc(hidden)]
pub const UNCHAINED_ENTRIES: &str = "SELECT count(*) FROM audit_log WHERE hash IS NULL";

/// Give the entries written before the chain existed (schema 3 and earlier) their hashes,
/// in order: called once, by the open that migrates such a store. Nothing else is ever
/// sealed again: an entry whose hash goes missing later is a break `verify_audit` reports.
pub(super) fn chain_legacy_entries(conn: &mut rusqlite::Connection) -> Result<()> {
    let missing: i64 = conn.query_row(UNCHAINED_ENTRIES, [], |r| r.get(0))?;
    if missing == 0 {
        return Ok(());
    }
    struct Row {
        id: i64,
        at: i64,
        operator_id: String,
        operator_name: String,
        action: String,
        application: Option<String>,
        detail: Option<String>,
        hash: Option<String>,
    }
    let tx = conn.transaction()?;
    let rows: Vec<Row> = {
        let mut stmt = tx.prepare(
            "SELECT id, at, operator_id, operator_name, action, application_id, detail, hash
             FROM audit_log ORDER BY id",
        )?;
        stmt.query_map([], |r| {
            Ok(Row {
                id: r.get(0)?,
                at: r.get(1)?,
                operator_id: r.get(2)?,
                operator_name: r.get(3)?,
                action: r.get(4)?,
                application: r.get(5)?,
                detail: r.get(6)?,
                hash: r.get(7)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?
    };
    let mut prev = GENESIS.to_owned();
    for row in rows {
        let h = match row.hash {
            Some(h) => h,
            None => {
                let h = entry_hash(
                    &prev,
                    row.id,
                    row.at,
                    &row.operator_id,
                    &row.operator_name,
                    &row.action,
                    row.application.as_deref(),
                    row.detail.as_deref(),
                );
                tx.execute(
                    "UPDATE audit_log SET prev_hash = ?2, hash = ?3 WHERE id = ?1",
                    params![row.id, prev, h],
                )?;
                h
            }
        };
        prev = h;
    }
    tx.commit()?;
    Ok(())
}

/// What `verify_audit` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    pub entries: usize,
    /// The first entry that does not fit the chain, and why.
    pub broken: Option<(i64, String)>,
}

impl Store {
    /// Check the audit chain from the first entry to the last.
    pub fn verify_audit(&self) -> Result<ChainReport> {
        let rows = self.db.query(
            "SELECT id, at, operator_id, operator_name, action, application_id, detail,
                    prev_hash, hash
             FROM audit_log ORDER BY id",
            args![],
        )?;
        let mut prev = GENESIS.to_owned();
        let mut entries = 0;
        let mut expected_id = None;
        for r in rows {
            entries += 1;
            let id: i64 = r.get(0)?;
            let prev_hash: Option<String> = r.get(7)?;
            let hash: Option<String> = r.get(8)?;
            let broken = |why: &str| {
                Ok(ChainReport {
                    entries,
                    broken: Some((id, why.to_owned())),
                })
            };
            if expected_id.is_some_and(|e| e != id) {
                return broken("编号不连续：前面有记录被删除");
            }
            expected_id = Some(id + 1);
            if prev_hash.as_deref() != Some(prev.as_str()) {
                return broken("与前一条记录的链接不符：前面有记录被删除或改动");
            }
            let actual = entry_hash(
                &prev,
                id,
                r.get(1)?,
                &r.get::<String>(2)?,
                &r.get::<String>(3)?,
                &r.get::<String>(4)?,
                r.get::<Option<String>>(5)?.as_deref(),
                r.get::<Option<String>>(6)?.as_deref(),
            );
            if hash.as_deref() != Some(actual.as_str()) {
                return broken("内容与哈希不符：这条记录被改动过");
            }
            prev = actual;
        }
        Ok(ChainReport {
            entries,
            broken: None,
        })
    }
}

/// Record an action on a connection or inside a transaction.
pub(super) fn audit_on(
    db: &impl Sql,
    operator: &Operator,
    action: AuditAction,
    application: Option<Uuid>,
    detail: Option<&str>,
) -> Result<()> {
    audit_on_at(db, now_ms(), operator, action, application, detail)
}

/// The key of PostgreSQL's advisory lock that serialises appends to the chain.
const CHAIN_LOCK: i64 = 0x5B4B_A0D1; // the same as store::db's transaction lock

/// Append an entry: the next number and the hash over the last entry's hash, read and
/// written under one lock (SQLite's write lock, PostgreSQL's advisory lock for the chain),
/// so that two writers never chain from the same entry. Outside a transaction it makes
/// one of its own.
fn audit_on_at(
    db: &impl Sql,
    at_ms: i64,
    operator: &Operator,
    action: AuditAction,
    application: Option<Uuid>,
    detail: Option<&str>,
) -> Result<()> {
    if !db.conn().in_transaction() {
        let tx = db.conn().begin()?;
        audit_on_at(&tx, at_ms, operator, action, application, detail)?;
        return tx.commit();
    }
    if db.backend() == Backend::Postgres {
        db.execute("SELECT pg_advisory_xact_lock(?1)", args![CHAIN_LOCK])?;
    }
    let (id, prev) = match db.query_opt(
        "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1",
        args![],
    )? {
        Some(r) => (
            r.get::<i64>(0)? + 1,
            r.get::<Option<String>>(1)?
                .unwrap_or_else(|| GENESIS.to_owned()),
        ),
        None => (1, GENESIS.to_owned()),
    };
    let application = application.map(|u| u.to_string());
    let hash = entry_hash(
        &prev,
        id,
        at_ms,
        &operator.id,
        &operator.name,
        action.key(),
        application.as_deref(),
        detail,
    );
    db.execute(
        "INSERT INTO audit_log (id, at, operator_id, operator_name, action, application_id,
                                detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        args![
            id,
            at_ms,
            operator.id,
            operator.name,
            action.key(),
            application,
            detail,
            prev,
            hash
        ],
    )?;
    Ok(())
}
