//! Shared by the store benchmarks: a store seeded with synthetic applications.
#![allow(dead_code)]

use std::time::Duration;

use chrono::Utc;
use sbk_counter::domain::Application;
use sbk_counter::domain::synthetic::{Rng, application};
use sbk_counter::store::{AuditAction, Operator, Store};

pub fn operator() -> Operator {
    Operator {
        id: "BENCH".into(),
        name: "基准".into(),
    }
}

/// Seed `n` applications (the same people for the same `n`); returns every 997th.
pub fn seed(store: &mut Store, n: usize) -> Vec<Application> {
    let mut rng = Rng::new(2026);
    let now = Utc::now();
    let mut sample = Vec::new();
    let chunk = 10_000;
    for start in (0..n).step_by(chunk) {
        let apps: Vec<Application> = (start..(start + chunk).min(n))
            .map(|i| application(&mut rng, now, (n - i) as i64))
            .collect();
        store.create_batch(&apps, &operator()).unwrap();
        audit_history(store, &apps);
        sample.extend(apps.into_iter().step_by(997));
    }
    sample
}

/// The audit log a store of that size has gathered at a counter: three entries an
/// application (viewed, exported, submitted), so that what reads the log is measured at
/// its real size.
fn audit_history(store: &Store, apps: &[Application]) {
    let entries: Vec<(AuditAction, Option<uuid::Uuid>)> = apps
        .iter()
        .flat_map(|app| {
            [
                AuditAction::View,
                AuditAction::Export,
                AuditAction::Transition,
            ]
            .map(|a| (a, Some(app.id)))
        })
        .collect();
    store.audit_many(&operator(), &entries).unwrap();
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// The benchmarks' operator's password (cheap Argon2 parameters: set-up is not measured
/// here, but sign-in is, with the parameters calibrated on the PC, in the targets).
pub const PASSWORD: &str = "bench-password";

/// The benchmark operator signed in on the store in `dir` (set up first if new, with
/// `kdf`).
pub fn session(dir: &std::path::Path, kdf: sbk_counter::keys::Kdf) -> sbk_counter::access::Session {
    use sbk_counter::access::{self, NewOperator, StoreState};
    use sbk_counter::keys::{Password, Policy};
    if access::state(dir).unwrap() != StoreState::Ready {
        let new = NewOperator {
            id: operator().id,
            name: operator().name,
            role: sbk_counter::store::Role::Supervisor,
            password: Password::new(PASSWORD),
        };
        return access::setup(dir, &new, kdf, 8, None).unwrap().0;
    }
    access::sign_in(
        dir,
        &operator().id,
        &Password::new(PASSWORD),
        Policy::default(),
        Utc::now(),
        "bench",
    )
    .unwrap()
}

/// The encrypted store in `dir`, opened by the benchmark operator.
pub fn store(dir: &std::path::Path) -> Store {
    session(dir, sbk_counter::keys::Kdf::FOR_TESTS).store
}
