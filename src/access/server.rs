//! Signing in to a centre's PostgreSQL store: each operator's password is checked against
//! its Argon2id hash in the store (PHC string); failed attempts lock a 工号 as on a file
//! (an unknown 工号 alike: the same words, the same time); every attempt is audited at
//! once (the store is readable to sbk itself; the server's own access control and
//! encryption protect it from everyone else).

use chrono::{DateTime, Utc};

use super::{
    AccessError, Location, NewOperator, Result, Session, StoreState, Verifier, active_account,
    delivery_account,
};
use crate::keys::{Kdf, KeyFileError, Password, Policy};
use crate::store::server::Server;
use crate::store::{AuditAction, Operator, Role, SignInAttempts, Store};

pub(super) fn state(server: &Server) -> Result<StoreState> {
    let store = Store::open_server(server)?;
    Ok(if store.operator_accounts()?.is_empty() {
        StoreState::New
    } else {
        StoreState::Ready
    })
}

fn session(server: &Server, store: Store, account: crate::store::Account) -> Session {
    Session {
        store,
        account,
        location: Location::Server(server.clone()),
        key: None,
    }
}

pub(super) fn setup(
    server: &Server,
    first: &NewOperator,
    kdf: Kdf,
    min_password: usize,
) -> Result<Session> {
    let (id, name) = first.checked(min_password)?;
    let mut store = Store::open_server(server)?;
    if !store.operator_accounts()?.is_empty() {
        return Err(AccessError::AlreadySetUp);
    }
    let operator = Operator {
        id: id.clone(),
        name,
    };
    let account = store.add_operator(&id, &operator.name, Role::Supervisor, &operator)?;
    store.set_operator_password(
        &id,
        Some(&kdf.hash_password(first.password.expose().as_bytes())),
    )?;
    store.audit(&operator, AuditAction::Setup, None, Some("server"))?;
    store.record_sign_in(&account, "setup")?;
    Ok(session(server, store, account))
}

/// The 工号 as kept in the attempts (bounded, no control characters).
fn clean_id(id: &str) -> String {
    id.trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(32)
        .collect()
}

pub(super) fn verifier(store: &Store, id: &str) -> Result<Verifier> {
    let id = clean_id(id);
    Ok(Verifier::Hash {
        phc: store.operator_password(&id)?,
        dummy: kdf_of(store).unwrap_or(Kdf::FOR_TESTS),
        locked_until: store.sign_in_attempts(&id)?.locked_until,
    })
}

/// Whether `password` matches `phc`; an unknown 工号 (no hash) costs the same time.
pub(super) fn check(phc: Option<&str>, dummy: Kdf, password: &Password) -> bool {
    match phc {
        Some(phc) => Kdf::verify_password(phc, password.expose().as_bytes()),
        None => {
            let _ = dummy.derive(password.expose().as_bytes(), &[0u8; 16]);
            false
        }
    }
}

/// The Argon2id parameters of the store's passwords (the first operator's), for the next.
pub(super) fn kdf_of(store: &Store) -> Option<Kdf> {
    store
        .operator_accounts()
        .ok()?
        .iter()
        .find_map(|a| store.operator_password(&a.id).ok().flatten())
        .and_then(|phc| Kdf::from_phc(&phc).map(|(k, _)| k))
}

/// A wrong password (or one tried while locked): counted, audited, the lock when due.
pub(super) fn record_failure(
    store: &Store,
    id: &str,
    attempts: Option<SignInAttempts>,
    policy: Policy,
    now: DateTime<Utc>,
) -> Result<AccessError> {
    let id = clean_id(id);
    let typed = Operator {
        id: id.clone(),
        name: String::new(),
    };
    store.audit_at(now, &typed, AuditAction::SignInFailed, None)?;
    let Some(mut a) = attempts else {
        // Tried while locked: on record, and no closer to getting in.
        let until = store.sign_in_attempts(&id)?.locked_until.unwrap_or(now);
        return Ok(KeyFileError::Locked { until }.into());
    };
    a.failed += 1;
    let err = if a.failed >= policy.max_attempts {
        let until = now + policy.lockout;
        a = SignInAttempts {
            failed: 0,
            locked_until: Some(until),
        };
        store.audit_at(now, &typed, AuditAction::LockedOut, None)?;
        KeyFileError::Locked { until }
    } else {
        KeyFileError::Wrong {
            remaining: policy.max_attempts - a.failed,
            minutes: policy.lockout.num_minutes(),
        }
    };
    store.set_sign_in_attempts(&id, Some(&a))?;
    Ok(err.into())
}

/// The end of a check: the account if it was right; else the failure counted.
pub(super) fn finish(
    store: &Store,
    id: &str,
    ok: bool,
    policy: Policy,
    now: DateTime<Utc>,
) -> Result<crate::store::Account> {
    let id = clean_id(id);
    let attempts = store.sign_in_attempts(&id)?;
    if let Some(until) = attempts.locked_until.filter(|u| *u > now) {
        record_failure(store, &id, None, policy, now)?;
        return Err(KeyFileError::Locked { until }.into());
    }
    if !ok {
        return Err(record_failure(store, &id, Some(attempts), policy, now)?);
    }
    store.set_sign_in_attempts(&id, None)?;
    active_account(store, &id)
}

pub(super) fn sign_in(
    server: &Server,
    id: &str,
    password: &Password,
    policy: Policy,
    now: DateTime<Utc>,
    how: &str,
) -> Result<Session> {
    let mut store = Store::open_server(server)?;
    if store.operator_accounts()?.is_empty() {
        return Err(AccessError::NotSetUp);
    }
    let verdict = verifier(&store, id)?.check(id, password, policy, now);
    let ok = match verdict {
        super::Verdict::Hash(ok) => ok,
        super::Verdict::Locked(until) => {
            record_failure(&store, id, None, policy, now)?;
            return Err(KeyFileError::Locked { until }.into());
        }
        super::Verdict::Slots(_) => false,
    };
    let account = finish(&store, id, ok, policy, now)?;
    store.record_sign_in(&account, how)?;
    Ok(session(server, store, account))
}

pub(super) fn sign_in_delivery(server: &Server) -> Result<Session> {
    let store = Store::open_server(server)?;
    let account = delivery_account();
    store.audit(
        &account.operator(),
        AuditAction::SignIn,
        None,
        Some("delivery"),
    )?;
    Ok(session(server, store, account))
}
