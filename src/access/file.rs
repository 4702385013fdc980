//! Signing in to the encrypted SQLite file: the password opens the operator's key slot,
//! which holds the data key. First run sets the store up with its first supervisor; a
//! plain store written by an earlier version is encrypted then, checked, and its
//! plaintext overwritten.

use std::path::Path;

use chrono::{DateTime, Utc};
use zeroize::Zeroizing;

use super::{
    AccessError, Location, NewOperator, Result, Session, StoreState, active_account,
    delivery_account,
};
use crate::keys::{DataKey, Kdf, KeyFile, Password, Pending, Policy};
use crate::store::{
    AuditAction, DB_FILE, Operator, Role, Store, StoreError, encrypt_store_file, is_plain_database,
};

pub(super) fn state(data_dir: &Path) -> StoreState {
    let db = data_dir.join(DB_FILE);
    let keys = KeyFile::new(data_dir).exists();
    match (db.exists(), keys) {
        (_, true) => StoreState::Ready,
        (false, false) => StoreState::New,
        (true, false) if is_plain_database(&db) => StoreState::Plain,
        (true, false) if std::fs::metadata(&db).is_ok_and(|m| m.len() == 0) => StoreState::New,
        (true, false) => StoreState::KeysMissing,
    }
}

fn session(data_dir: &Path, store: Store, account: crate::store::Account, key: DataKey) -> Session {
    Session {
        store,
        account,
        location: Location::File(data_dir.to_owned()),
        key: Some(key),
    }
}

pub(super) fn setup(
    data_dir: &Path,
    first: &NewOperator,
    kdf: Kdf,
    min_password: usize,
    legacy_key: Option<&str>,
) -> Result<(Session, Zeroizing<String>)> {
    let (id, name) = first.checked(min_password)?;
    crate::private_files::create_private_dir(data_dir).map_err(StoreError::Io)?;
    let before = state(data_dir);
    let converting = match before {
        StoreState::Ready => return Err(AccessError::AlreadySetUp),
        StoreState::KeysMissing if legacy_key.is_none() => return Err(AccessError::KeysMissing),
        StoreState::KeysMissing | StoreState::Plain => true,
        StoreState::New => false,
    };
    let key = DataKey::generate();
    let keys = KeyFile::new(data_dir);
    // The slots first: if converting then fails, they are removed and the old file is
    // as it was; a store is never encrypted under a key that no slot holds.
    keys.create(&key, &id, &first.password, kdf)?;
    if converting {
        let plain = if before == StoreState::Plain {
            None
        } else {
            legacy_key
        };
        if let Err(e) = encrypt_store_file(&data_dir.join(DB_FILE), plain, &key) {
            let _ = std::fs::remove_file(keys.path());
            return Err(e.into());
        }
    }
    let mut store = Store::open_dir(data_dir, &key)?;
    let operator = Operator {
        id: id.clone(),
        name,
    };
    let account = match store.operator_account(&id)? {
        Some(a) => a,
        None => store.add_operator(&id, &operator.name, Role::Supervisor, &operator)?,
    };
    store.audit(
        &operator,
        AuditAction::Setup,
        None,
        Some(if converting { "converted" } else { "new" }),
    )?;
    store.record_sign_in(&account, "setup")?;
    let recovery = key.recovery_text();
    Ok((session(data_dir, store, account, key), recovery))
}

pub(super) fn sign_in(
    data_dir: &Path,
    id: &str,
    password: &Password,
    policy: Policy,
    now: DateTime<Utc>,
    how: &str,
) -> Result<Session> {
    // A folder others can write to is refused before anything is read from it: someone
    // could have swapped the files in it.
    crate::private_files::create_private_dir(data_dir).map_err(StoreError::Io)?;
    match state(data_dir) {
        StoreState::New | StoreState::Plain => return Err(AccessError::NotSetUp),
        StoreState::KeysMissing => return Err(AccessError::KeysMissing),
        StoreState::Ready => {}
    }
    let id = id.trim();
    let unlocked = KeyFile::new(data_dir).unlock(id, password, policy, now)?;
    let mut store = Store::open_dir(data_dir, &unlocked.key)?;
    write_pending(&store, &unlocked.pending)?;
    let account = active_account(&store, id)?;
    store.record_sign_in(&account, how)?;
    Ok(session(data_dir, store, account, unlocked.key))
}

pub(super) fn sign_in_delivery(data_dir: &Path, secret: &str) -> Result<Session> {
    if state(data_dir) != StoreState::Ready {
        return Err(AccessError::NotSetUp);
    }
    let keys = KeyFile::new(data_dir);
    let key = keys.unlock_delivery(secret)?;
    let store = Store::open_dir(data_dir, &key)?;
    write_pending(&store, &keys.take_pending()?)?;
    let account = delivery_account();
    store.audit(
        &account.operator(),
        AuditAction::SignIn,
        None,
        Some("delivery"),
    )?;
    Ok(session(data_dir, store, account, key))
}

/// Open the store with the recovery key and give supervisor `id` a new password (the key
/// slots are made anew if they were lost or damaged).
pub fn recover(
    at: impl Into<Location>,
    recovery: &str,
    id: &str,
    password: &Password,
    kdf: Kdf,
    min_password: usize,
) -> Result<Session> {
    let Location::File(data_dir) = at.into() else {
        return Err(AccessError::FileOnly("恢复密钥"));
    };
    let key = DataKey::from_recovery_text(recovery)?;
    if let Some(problem) = password.problem(min_password) {
        return Err(AccessError::Invalid(problem));
    }
    let mut store = match Store::open_dir(&data_dir, &key) {
        Err(StoreError::WrongKey) => return Err(AccessError::WrongRecoveryKey),
        other => other?,
    };
    let account = store
        .operator_account(id.trim())?
        .filter(|a| a.active && a.is_supervisor())
        .ok_or_else(|| {
            AccessError::Invalid(format!(
                "{} 不是在用的负责人工号：恢复后需由负责人登录",
                id.trim()
            ))
        })?;
    let keys = KeyFile::new(&data_dir);
    let pending = keys.take_pending().unwrap_or_default();
    keys.recreate(&key, &account.id, password, kdf)?;
    write_pending(&store, &pending)?;
    store.audit(&account.operator(), AuditAction::Recovered, None, None)?;
    store.record_password_set(&account.id, &account.operator())?;
    store.record_sign_in(&account, "recovery")?;
    Ok(session(&data_dir, store, account, key))
}

/// Failed sign-ins and locks recorded while the store could not be read, into the audit
/// log at the times they happened.
pub(super) fn write_pending(store: &Store, pending: &[Pending]) -> Result<()> {
    for p in pending {
        let action = match p.event.as_str() {
            "locked_out" => AuditAction::LockedOut,
            _ => AuditAction::SignInFailed,
        };
        let operator = Operator {
            id: p.operator.clone(),
            name: String::new(),
        };
        // Failed sign-ins beyond what keys.json keeps one by one are summed: `×N`.
        let times = p
            .event
            .split_once('×')
            .map(|(_, n)| format!("{n} attempts"));
        store.audit_at(p.at, &operator, action, times.as_deref())?;
    }
    Ok(())
}
