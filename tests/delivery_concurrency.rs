//! Several delivery processes on one store (the wizard's worker and cron's `sbk sync`):
//! each outbox entry is claimed by one worker at a time under a lease, every change is
//! conditional on the state it was decided from, and an answer about a state that no
//! longer holds is dropped. Over real HTTP to the reference server, with answers held back
//! by a proxy, a server restart, and a worker that dies holding a claim.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::Utc;
use common::delivery::{
    HoldingProxy, TOKEN, assert_delivered_once, delivery, operator, queue_applications,
    queue_applications_with, server_config, wait_until,
};
use sbk_counter::central::{Faults, Running};
use sbk_counter::domain::Status;
use sbk_counter::store::{Store, StoreError};

const ELIGIBILITY: &str = "POST /v1/eligibility-checks";

fn outbox_states(store: &Store) -> Vec<String> {
    use sbk_counter::store::db::Sql;
    store
        .sql()
        .query("SELECT state FROM outbox ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0).unwrap())
        .collect()
}

fn sbk_sync(dir: &std::path::Path, local: &std::path::Path, url: &str) -> Child {
    common::signin::delivery_key(local, dir);
    Command::new(env!("CARGO_BIN_EXE_sbk"))
        .arg("sync")
        .envs(common::signin::store_env(local))
        .env("SBK_CONFIG", dir.join("config.toml"))
        .env("SBK_CENTRAL_URL", url)
        .env("SBK_CENTRAL_TOKEN", TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

on_both_backends! {
#[test]
fn a_late_eligibility_answer_never_returns_an_application_another_worker_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let central_db = dir.path().join("central.sqlite3");
    sbk_counter::central::seed(&central_db, 60, 31).unwrap();
    let local = dir.path().join("local");
    let ids = queue_applications_with(&local, &central_db, 1, |_| true);
    let server =
        Running::start(server_config(&central_db, "127.0.0.1:0", Faults::default())).unwrap();
    // Worker A's eligibility check reaches the server only after worker B has delivered:
    // the server then rightly says an application is in progress (B's, which is this one).
    let proxy = HoldingProxy::start(server.addr(), ELIGIBILITY, Duration::from_millis(1200), 1);
    let mut a = delivery(&local, &proxy.url());
    a.lease = Duration::from_millis(300);
    let mut b = delivery(&local, &server.base_url());
    let worker_a = std::thread::spawn(move || a.pass(true));
    wait_until("A's check to be held", Duration::from_secs(5), || {
        proxy.held.load(std::sync::atomic::Ordering::SeqCst) == 1
    });
    // While A waits, its lease runs out and B takes the entry over.
    std::thread::sleep(Duration::from_millis(400));
    let report_b = b.pass(true);
    assert_eq!(report_b.delivered, 1, "{report_b:?}");
    let report_a = worker_a.join().unwrap();
    assert_eq!(
        (report_a.delivered, report_a.returned),
        (0, 0),
        "A's late answer must be dropped: {report_a:?}"
    );
    let store = common::signin::open_store(&local).unwrap();
    assert_delivered_once(&store, &central_db, &ids);
    assert_eq!(outbox_states(&store), ["delivered"]);
}

#[test]
fn a_hung_workers_claim_is_taken_over_after_its_lease() {
    let dir = tempfile::tempdir().unwrap();
    let central_db = dir.path().join("central.sqlite3");
    sbk_counter::central::seed(&central_db, 60, 32).unwrap();
    let local = dir.path().join("local");
    let ids = queue_applications_with(&local, &central_db, 2, |_| false);
    // A worker claims the first entry and hangs: its connection stays, no heartbeat comes.
    // (One whose connection is gone is taken over at once on a server: tests/pg_faults.rs.)
    let mut hung = common::signin::open_store(&local).unwrap();
    let claim = hung
        .claim_next(
            "hung worker",
            Utc::now(),
            Duration::from_millis(600),
            true,
            &[],
        )
        .unwrap()
        .unwrap();
    let server =
        Running::start(server_config(&central_db, "127.0.0.1:0", Faults::default())).unwrap();
    let mut live = delivery(&local, &server.base_url());
    let first = live.pass(true);
    assert_eq!(first.delivered, 1, "only the unclaimed one: {first:?}");
    assert_eq!(first.waiting, 1);
    let claimed = live.store().get(claim.entry.application_id).unwrap();
    assert_eq!(claimed.status, Status::Queued, "held by a live lease");
    std::thread::sleep(Duration::from_millis(700));
    let second = live.pass(true);
    assert_eq!(
        second.delivered, 1,
        "taken over after the lease: {second:?}"
    );
    assert_delivered_once(live.store(), &central_db, &ids);
    drop(hung);
}

#[test]
fn an_application_being_delivered_or_perhaps_delivered_cannot_be_withdrawn() {
    let dir = tempfile::tempdir().unwrap();
    let central_db = dir.path().join("central.sqlite3");
    sbk_counter::central::seed(&central_db, 60, 33).unwrap();
    let local = dir.path().join("local");
    let ids = queue_applications_with(&local, &central_db, 2, |_| false);
    let mut store = common::signin::open_store(&local).unwrap();
    let lease = Duration::from_secs(60);
    let mut claim = store
        .claim_next("w", Utc::now(), lease, true, &[])
        .unwrap()
        .unwrap();
    let claimed = claim.entry.application_id;
    assert!(matches!(
        store.withdraw(claimed, &operator()),
        Err(StoreError::BeingDelivered)
    ));
    // The submission was sent, then the claim ended without an answer: the server may
    // hold it, so only its answer can settle it.
    store.renew_claim(&mut claim, lease, true).unwrap();
    store
        .outbox_retry_at(&claim, "连接中断", Utc::now())
        .unwrap();
    assert!(matches!(
        store.withdraw(claimed, &operator()),
        Err(StoreError::BeingDelivered)
    ));
    // The claim is gone: what it would record is refused.
    assert!(matches!(
        store.outbox_delivered(&claim, "SQ1", &operator()),
        Err(StoreError::ClaimLost)
    ));
    // Never sent, not claimed: withdrawn.
    let other = *ids.iter().find(|id| **id != claimed).unwrap();
    assert_eq!(
        store.withdraw(other, &operator()).unwrap().status,
        Status::Draft
    );
}

#[test]
fn writers_on_one_store_wait_for_each_other_instead_of_failing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    common::signin::open_store(&path).unwrap();
    let writer = |seed: u64| {
        let path = path.clone();
        std::thread::spawn(move || {
            let mut store = common::signin::open_store(&path).unwrap();
            let mut errors = Vec::new();
            let mut rng = sbk_counter::domain::synthetic::Rng::new(seed);
            for i in 0..150 {
                let app = sbk_counter::domain::synthetic::application(&mut rng, Utc::now(), i);
                if let Err(e) = store.create(&app, &operator()) {
                    errors.push(e.to_string());
                    continue;
                }
                // Each transition reads, decides, then writes, in one transaction.
                for to in [Status::Ready, Status::Draft] {
                    if let Err(e) = store.transition(app.id, to, &operator(), None) {
                        errors.push(e.to_string());
                    }
                }
            }
            errors
        })
    };
    let (one, two) = (writer(1), writer(2));
    let errors: Vec<String> = one
        .join()
        .unwrap()
        .into_iter()
        .chain(two.join().unwrap())
        .collect();
    assert!(
        errors.is_empty(),
        "{} failed, e.g. {:?}",
        errors.len(),
        errors.first()
    );
}

#[test]
fn two_sbk_sync_processes_deliver_each_application_once_through_late_answers_and_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let central_db = dir.path().join("central.sqlite3");
    sbk_counter::central::seed(&central_db, 200, 34).unwrap();
    let local = dir.path().join("local");
    // Two in three submitted offline: each needs an eligibility check before delivery.
    let ids = queue_applications_with(&local, &central_db, 30, |i| i % 3 != 0);
    let addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let start = || {
        Running::start(server_config(
            &central_db,
            &addr.to_string(),
            Faults::default(),
        ))
        .unwrap()
    };
    let mut server = Some(start());
    // One process's every eligibility check arrives 0.4 s late; the other's at once.
    let proxy = HoldingProxy::start(addr, ELIGIBILITY, Duration::from_millis(400), usize::MAX);
    let mut slow = sbk_sync(dir.path(), &local, &proxy.url());
    let mut fast = sbk_sync(dir.path(), &local, &format!("http://{addr}"));
    let store = common::signin::open_store(&local).unwrap();
    let delivered = |store: &Store| {
        ids.iter()
            .filter(|id| store.get(**id).unwrap().status != Status::Queued)
            .count()
    };
    wait_until("a third delivered", Duration::from_secs(60), || {
        delivered(&store) >= 10
    });
    // The server restarts mid-run, on the same address.
    server.take().unwrap().stop();
    std::thread::sleep(Duration::from_millis(300));
    server = Some(start());
    wait_until(
        "every application delivered",
        Duration::from_secs(120),
        || delivered(&store) == ids.len(),
    );
    for child in [&mut slow, &mut fast] {
        let _ = child.kill();
        let _ = child.wait();
    }
    assert!(proxy.held.load(std::sync::atomic::Ordering::SeqCst) > 0);
    assert_delivered_once(&store, &central_db, &ids);
    assert!(outbox_states(&store).iter().all(|s| s == "delivered"));
    drop(server);
}

#[test]
fn offline_submissions_still_go_when_one_worker_does_it_all() {
    // The claims cost nothing when one worker is alone: the ordinary case.
    let dir = tempfile::tempdir().unwrap();
    let central_db = dir.path().join("central.sqlite3");
    sbk_counter::central::seed(&central_db, 60, 35).unwrap();
    let local = dir.path().join("local");
    let ids = queue_applications(&local, &central_db, 6);
    let server =
        Running::start(server_config(&central_db, "127.0.0.1:0", Faults::default())).unwrap();
    let mut d = delivery(&local, &server.base_url());
    let report = d.pass(false);
    assert_eq!((report.delivered, report.waiting), (6, 0), "{report:?}");
    assert_delivered_once(d.store(), &central_db, &ids);
}
}
