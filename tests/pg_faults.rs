//! A centre's store when its connection to PostgreSQL is lost at the worst moment: after
//! a transaction's writes, at its COMMIT. The server's backend is terminated
//! (`pg_terminate_backend`), or the server restarted, before the COMMIT reaches it; or the
//! server commits and its answer is lost. Whatever happens, the caller is told when it
//! cannot be sure, nothing is reported stored that is not, and the next pass ends every
//! application in the right state. Each test runs a PostgreSQL cluster of its own
//! (`common::pg_cluster`), which it may restart, behind a proxy that breaks connections on
//! cue (`common::pg_tap`); without PostgreSQL for the tests they say so and check nothing.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use common::delivery::{
    TOKEN, delivery, operator, queue_applications_from, queue_applications_with, server_config,
};
use common::pg_cluster::Cluster;
use common::pg_tap::{Fault, Tap};
use sbk_counter::central::{Faults, Running};
use sbk_counter::domain::Eligibility;
use sbk_counter::store::Store;
use uuid::Uuid;

/// A cluster of the test's own, a tap in front of it, a counter's store on a database of
/// it reached through the tap, and the reference central API's registry.
struct Rig {
    cluster: Arc<Cluster>,
    tap: Tap,
    database: String,
    _dir: tempfile::TempDir,
    local: PathBuf,
    central_db: PathBuf,
}

fn rig(seed: u64) -> Option<Rig> {
    let Some(cluster) = Cluster::start() else {
        eprintln!("SBK_TEST_PG_URL is not set: not run on PostgreSQL");
        return None;
    };
    let cluster = Arc::new(cluster);
    let database = cluster.database().rsplit_once('/').unwrap().1.to_owned();
    let weak = Arc::downgrade(&cluster);
    let tap = Tap::start(cluster.addr(), &cluster.url, move || {
        if let Some(c) = weak.upgrade() {
            c.restart();
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("local");
    common::signin::on_server(&local, &tap.url(&database));
    let central_db = dir.path().join("central.sqlite3");
    sbk_counter::central::seed(&central_db, 80, seed).unwrap();
    Some(Rig {
        cluster,
        tap,
        database,
        _dir: dir,
        local,
        central_db,
    })
}

impl Rig {
    /// The store's database, straight (not through the tap), once the server takes
    /// connections again (after a restart).
    fn direct(&self) -> postgres::Client {
        let url = self.cluster.url_of(&self.database);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match postgres::Client::connect(&url, postgres::NoTls) {
                Ok(c) => return c,
                Err(e) if Instant::now() > deadline => panic!("the server is not back: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// `n` applications submitted offline (their eligibility is checked before delivery).
    fn queue(&self, n: usize) -> Vec<Uuid> {
        queue_applications_with(&self.local, &self.central_db, n, |_| true)
    }

    fn store(&self) -> Store {
        common::signin::open_store(&self.local).unwrap()
    }

    /// The application as stored: status, version, body.
    fn stored(&self, id: Uuid) -> (String, i64, String) {
        let r = self
            .direct()
            .query_one(
                "SELECT status, version, body FROM applications WHERE id = $1",
                &[&id.to_string()],
            )
            .unwrap();
        (r.get(0), r.get(1), r.get(2))
    }

    fn outbox(&self, id: Uuid) -> Vec<(String, Option<String>, Option<i64>)> {
        self.direct()
            .query(
                "SELECT state, claim_token, posted_at FROM outbox WHERE application_id = $1 ORDER BY id",
                &[&id.to_string()],
            )
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect()
    }

    /// The idempotency key of the application's pending outbox entry.
    fn pending_key(&self, id: Uuid) -> String {
        self.direct()
            .query_one(
                "SELECT idempotency_key FROM outbox WHERE application_id = $1 AND state = 'pending'",
                &[&id.to_string()],
            )
            .unwrap()
            .get(0)
    }

    /// Arm the tap, run `f`, and check that the fault went off.
    fn broken<T>(&self, matching: &str, fault: Fault, f: impl FnOnce() -> T) -> T {
        self.tap.arm(matching, fault);
        let out = f();
        assert!(
            self.tap.disarm(),
            "the fault at {matching:?} never went off"
        );
        out
    }
}

/// The statements each kind of transaction is known by, as the server sees them.
const SAVE: &str = "UPDATE applications SET body = $1, updated_at = $2";
const SUBMIT: &str = "INSERT INTO outbox";
const CLAIM: &str = "SET claim_token = $2, claimed_by = $3";
const HEARTBEAT: &str = "SET lease_until = $2, claim_holder = $5";
const ELIGIBILITY: &str = "version = version + 1 WHERE id = $2 AND status = 'queued'";
const DELIVER: &str = "SET state = 'delivered'";
const RETURN: &str = "SET state = 'failed'";

const LEASE: Duration = Duration::from_secs(120);

#[test]
fn a_save_lost_before_its_commit_is_reported_and_saved_again_and_one_whose_answer_was_lost_is_not_saved_twice()
 {
    let Some(rig) = rig(41) else { return };
    let id = rig.queue(1)[0];
    let mut store = rig.store();
    store.withdraw(id, &operator()).unwrap();
    let mut app = store.get(id).unwrap();

    for (n, fault) in [Fault::Terminate, Fault::Restart, Fault::LoseReply]
        .into_iter()
        .enumerate()
    {
        let before = rig.stored(id).1;
        app.occupation = format!("typed-{n}");
        let e = rig
            .broken(SAVE, fault, || store.save(&mut app))
            .expect_err("a save whose commit was not answered is not reported saved");
        assert!(e.is_connection(), "{fault:?}: {e:?}");
        let (_, version, body) = rig.stored(id);
        if fault == Fault::LoseReply {
            assert_eq!(version, before + 1, "the server committed it");
            assert!(body.contains(&format!("typed-{n}")));
        } else {
            assert_eq!(version, before, "{fault:?}: nothing was stored");
            assert!(!body.contains(&format!("typed-{n}")), "{fault:?}");
        }
        // The wizard saves what is on screen again, with what was typed meanwhile.
        app.occupation = format!("typed-{n}-more");
        store.save(&mut app).unwrap();
        let (_, version, body) = rig.stored(id);
        assert!(body.contains(&format!("typed-{n}-more")), "{fault:?}");
        assert_eq!(
            app.version, version,
            "{fault:?}: the copy on screen is the stored one"
        );
        assert_eq!(
            version,
            before + 1 + i64::from(fault == Fault::LoseReply),
            "{fault:?}"
        );
    }
    assert!(
        !rig.cluster
            .log()
            .contains("there is no transaction in progress")
    );
}

#[test]
fn a_save_whose_answer_was_lost_is_recognised_after_the_server_stayed_away() {
    let Some(rig) = rig(47) else { return };
    let id = rig.queue(1)[0];
    let mut store = rig.store();
    store.withdraw(id, &operator()).unwrap();
    let mut app = store.get(id).unwrap();
    let before = rig.stored(id).1;
    // The save is committed, its answer lost, and the server is then out of reach.
    app.occupation = "typed-1".into();
    rig.tap.arm(SAVE, Fault::LoseReply);
    rig.tap.block(true);
    assert!(store.save(&mut app).unwrap_err().is_connection());
    assert!(rig.tap.disarm());
    // The clerk types on; each save fails without reaching the server.
    for more in ["typed-2", "typed-3"] {
        app.occupation = more.into();
        let e = store.save(&mut app).unwrap_err();
        assert!(
            matches!(e, sbk_counter::store::StoreError::ConnectionLost),
            "{e:?}"
        );
    }
    assert_eq!(rig.stored(id).1, before + 1, "only the first reached it");
    // Back: the first save is recognised as done, and what is on screen is saved over it.
    rig.tap.block(false);
    store.save(&mut app).unwrap();
    let (_, version, body) = rig.stored(id);
    assert_eq!(version, before + 2);
    assert!(body.contains("typed-3"), "{body}");
    assert_eq!(app.version, version);
}

#[test]
fn a_commit_that_reaches_the_server_after_the_connection_was_cut_is_waited_for() {
    let Some(rig) = rig(48) else { return };
    let ids = rig.queue(1);
    let mut store = rig.store();
    let today = sbk_counter::domain::dates::beijing_date(Utc::now());
    store.withdraw(ids[0], &operator()).unwrap();
    // The COMMIT arrives two seconds after the client gave the connection up: the new
    // connection waits for the old session to end before it reads what was done.
    let key = rig
        .broken(SUBMIT, Fault::LateCommit, || {
            store.submit(ids[0], &operator(), today)
        })
        .expect("the late commit was done, and is found");
    assert_eq!(rig.stored(ids[0]).0, "queued");
    assert_eq!(rig.pending_key(ids[0]), key);
}

#[test]
fn a_lost_create_withdraw_or_delete_is_reported_as_it_really_ended() {
    let Some(rig) = rig(49) else { return };
    let ids = rig.queue(2);
    let mut store = rig.store();
    const CREATE: &str = "INSERT INTO applications";
    const WITHDRAW: &str = "SET state = 'withdrawn'";
    const DELETE: &str = "DELETE FROM applications";
    let exists = |id: Uuid| {
        rig.direct()
            .query_opt(
                "SELECT 1 FROM applications WHERE id = $1",
                &[&id.to_string()],
            )
            .unwrap()
            .is_some()
    };
    for (n, fault) in [Fault::Terminate, Fault::LoseReply].into_iter().enumerate() {
        let done = fault == Fault::LoseReply;
        // Create.
        let app = sbk_counter::domain::Application::new(Utc::now());
        let created = rig.broken(CREATE, fault, || store.create(&app, &operator()));
        assert_eq!(created.is_ok(), done, "{fault:?}: {created:?}");
        assert_eq!(exists(app.id), done, "{fault:?}");
        // Withdraw.
        let id = ids[n];
        let withdrawn = rig.broken(WITHDRAW, fault, || store.withdraw(id, &operator()));
        assert_eq!(withdrawn.is_ok(), done, "{fault:?}: {withdrawn:?}");
        assert_eq!(rig.stored(id).0, if done { "draft" } else { "queued" });
        if !done {
            store.withdraw(id, &operator()).unwrap();
        }
        // Delete.
        let deleted = rig.broken(DELETE, fault, || store.delete(id, &operator()));
        assert_eq!(deleted.is_ok(), done, "{fault:?}: {deleted:?}");
        assert_eq!(exists(id), !done, "{fault:?}");
    }
}

#[test]
fn a_submission_lost_at_its_commit_is_not_queued_and_one_whose_answer_was_lost_is_queued_once() {
    let Some(rig) = rig(42) else { return };
    let ids = rig.queue(2);
    let mut store = rig.store();
    let today = sbk_counter::domain::dates::beijing_date(Utc::now());
    for id in &ids {
        store.withdraw(*id, &operator()).unwrap();
    }
    // Terminated before COMMIT: the clerk is told, nothing is queued, submitting again works.
    let e = rig
        .broken(SUBMIT, Fault::Terminate, || {
            store.submit(ids[0], &operator(), today)
        })
        .expect_err("not submitted");
    assert!(e.is_connection(), "{e:?}");
    assert_eq!(rig.stored(ids[0]).0, "draft");
    assert!(
        rig.outbox(ids[0])
            .iter()
            .all(|(state, ..)| state != "pending")
    );
    store.submit(ids[0], &operator(), today).unwrap();
    assert_eq!(rig.stored(ids[0]).0, "queued");

    // Committed, and the answer lost: what is stored says it was done; once.
    let key = rig
        .broken(SUBMIT, Fault::LoseReply, || {
            store.submit(ids[1], &operator(), today)
        })
        .expect("settled from what is stored: it was submitted");
    assert_eq!(rig.stored(ids[1]).0, "queued");
    let pending: Vec<_> = rig
        .outbox(ids[1])
        .into_iter()
        .filter(|(s, ..)| s == "pending")
        .collect();
    assert_eq!(pending.len(), 1);
    assert_eq!(rig.pending_key(ids[1]), key);
}

#[test]
fn each_delivery_transaction_lost_before_its_commit_is_reported_and_undone() {
    let Some(rig) = rig(43) else { return };
    let ids = rig.queue(1);
    let id = ids[0];
    let mut store = rig.store();

    // A claim: not held.
    let e = rig
        .broken(CLAIM, Fault::Terminate, || {
            store.claim_next("w", Utc::now(), LEASE, true, &[])
        })
        .expect_err("a claim not known to be made is not held");
    assert!(e.is_connection());
    assert_eq!(rig.outbox(id), [("pending".into(), None, None)]);
    let mut claim = store
        .claim_next("w", Utc::now(), LEASE, true, &[])
        .unwrap()
        .unwrap();

    // A heartbeat that marks the submission as about to be sent.
    let e = rig
        .broken(HEARTBEAT, Fault::Terminate, || {
            store.renew_claim(&mut claim, LEASE, true)
        })
        .expect_err("not renewed");
    assert!(e.is_connection());
    assert_eq!(rig.outbox(id)[0].2, None, "not marked as sent");

    // The eligibility answer.
    let claim = store
        .claim_next("w", Utc::now(), LEASE, true, &[])
        .unwrap()
        .expect("the claim of a session that is gone is taken over at once");
    let eligible = Eligibility::Eligible {
        checked_at: Utc::now(),
        allowed_pickup: vec![],
    };
    let e = rig
        .broken(ELIGIBILITY, Fault::Terminate, || {
            store.record_eligibility(&claim, eligible.clone(), None)
        })
        .expect_err("not recorded");
    assert!(e.is_connection());
    let stored = store.get(id).unwrap();
    assert!(
        matches!(stored.eligibility, Eligibility::Pending { .. }),
        "{:?}",
        stored.eligibility
    );

    // The delivery.
    let claim = store
        .claim_next("w", Utc::now(), LEASE, true, &[])
        .unwrap()
        .unwrap();
    let e = rig
        .broken(DELIVER, Fault::Terminate, || {
            store.outbox_delivered(&claim, "SQ1", &operator())
        })
        .expect_err("not delivered");
    assert!(e.is_connection());
    assert_eq!(rig.stored(id).0, "queued");
    assert_eq!(rig.outbox(id)[0].0, "pending");

    // The return.
    let claim = store
        .claim_next("w", Utc::now(), LEASE, true, &[])
        .unwrap()
        .unwrap();
    let version = store.get(id).unwrap().version;
    let note = sbk_counter::domain::ReturnNote {
        at: Utc::now(),
        reason: "测试".into(),
        fields: vec![],
    };
    let e = rig
        .broken(RETURN, Fault::Terminate, || {
            store.outbox_refused(&claim, note.clone(), None, &operator(), version)
        })
        .expect_err("not returned");
    assert!(e.is_connection());
    assert_eq!(rig.stored(id).0, "queued");
    // A return decided from a version that is no longer stored is refused.
    let claim = store
        .claim_next("w", Utc::now(), LEASE, true, &[])
        .unwrap()
        .unwrap();
    assert!(matches!(
        store.outbox_refused(&claim, note, None, &operator(), version - 1),
        Err(sbk_counter::store::StoreError::NewerVersion)
    ));
    assert_eq!(rig.stored(id).0, "queued");
    assert!(
        !rig.cluster
            .log()
            .contains("there is no transaction in progress")
    );
}

#[test]
fn a_claim_whose_worker_is_gone_is_taken_over_at_once_not_after_its_lease() {
    let Some(rig) = rig(46) else { return };
    let ids = rig.queue(2);
    let mut gone = rig.store();
    let mut hung = rig.store();
    let first = gone
        .claim_next("gone", Utc::now(), LEASE, true, &[])
        .unwrap()
        .unwrap();
    let second = hung
        .claim_next("hung", Utc::now(), LEASE, true, &[])
        .unwrap()
        .unwrap();
    assert_eq!(
        [first.entry.application_id, second.entry.application_id],
        [ids[0], ids[1]]
    );
    // The first worker's process dies (its connection with it); the second hangs.
    drop(gone);
    let mut live = rig.store();
    let deadline = Instant::now() + Duration::from_secs(5);
    let taken = loop {
        // The server notices the closed connection within moments.
        if let Some(c) = live
            .claim_next("live", Utc::now(), LEASE, true, &[])
            .unwrap()
        {
            break c;
        }
        assert!(
            Instant::now() < deadline,
            "the orphaned claim was not taken over"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(taken.entry.application_id, ids[0]);
    assert!(
        live.claim_next("live", Utc::now(), LEASE, true, &[])
            .unwrap()
            .is_none(),
        "a live session's claim holds until its lease runs out"
    );
    drop(hung);
}

/// Delivered once, with the number the central API holds, never returned on the way.
fn assert_delivered_once(rig: &Rig, ids: &[Uuid]) {
    common::delivery::assert_delivered_once(&rig.store(), &rig.central_db, ids);
}

#[test]
fn a_delivery_pass_whose_transaction_is_lost_never_returns_and_the_next_pass_delivers() {
    let Some(rig) = rig(44) else { return };
    let server = Running::start(server_config(
        &rig.central_db,
        "127.0.0.1:0",
        Faults::default(),
    ))
    .unwrap();
    let cases = [
        (CLAIM, Fault::LoseReply),
        (HEARTBEAT, Fault::Terminate),
        (ELIGIBILITY, Fault::Terminate),
        (ELIGIBILITY, Fault::Restart),
        (ELIGIBILITY, Fault::LoseReply),
        (DELIVER, Fault::Terminate),
        (DELIVER, Fault::Restart),
        (DELIVER, Fault::LoseReply),
    ];
    let mut worker = delivery(&rig.local, &server.base_url());
    let mut done = Vec::new();
    for (n, (matching, fault)) in cases.into_iter().enumerate() {
        let id = queue_applications_from(&rig.local, &rig.central_db, n..n + 1, |_| true)[0];
        let report = rig.broken(matching, fault, || worker.pass(false));
        eprintln!("{matching} {fault:?}: {report:?}");
        assert_eq!(report.returned, 0, "{matching} {fault:?}: {report:?}");
        // No faults: the next pass (every entry, whenever due) ends it delivered; the one
        // that was being delivered is the oldest waiting.
        let report = worker.pass(true);
        assert_eq!(report.returned, 0, "{matching} {fault:?}: {report:?}");
        done.push(id);
        assert_delivered_once(&rig, &done);
        assert_eq!(worker.store().outbox_state().unwrap().pending, 0);
    }
    assert!(
        !rig.cluster
            .log()
            .contains("there is no transaction in progress")
    );
}

fn sbk_sync(rig: &Rig, config_dir: &Path, url: &str, once: bool) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sbk"));
    cmd.arg("sync");
    if once {
        cmd.arg("--once");
    }
    cmd.envs(common::signin::store_env(&rig.local))
        .env("SBK_DATA_DIR", config_dir.join("data"))
        .env("SBK_CONFIG", config_dir.join("config.toml"))
        .env("SBK_CENTRAL_URL", url)
        .env("SBK_CENTRAL_TOKEN", TOKEN);
    if once {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    } else {
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
    }
    cmd.spawn().unwrap()
}

#[test]
fn three_windows_delivering_through_killed_backends_and_a_restart_deliver_each_once() {
    let Some(rig) = rig(45) else { return };
    // The windows reach the server straight; the tap is not in this test.
    common::signin::on_server(&rig.local, &rig.cluster.url_of(&rig.database));
    let server = Running::start(server_config(
        &rig.central_db,
        "127.0.0.1:0",
        Faults::default(),
    ))
    .unwrap();
    let ids = rig.queue(24);
    let config = tempfile::tempdir().unwrap();
    let mut windows: Vec<Child> = (0..3)
        .map(|_| sbk_sync(&rig, config.path(), &server.base_url(), false))
        .collect();
    // Chaos: sbk's backends caught in a transaction (and now and then any of them) are
    // terminated, and the server restarts once, half-way.
    let stop = Arc::new(AtomicBool::new(false));
    let chaos = {
        let stop = stop.clone();
        let cluster = rig.cluster.clone();
        let url = rig.cluster.url.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            let mut restarted = false;
            let mut terminated = 0;
            let mut admin = postgres::Client::connect(&url, postgres::NoTls).ok();
            let mut n = 0u64;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                if !restarted && started.elapsed() > Duration::from_secs(6) {
                    cluster.restart();
                    restarted = true;
                    admin = None;
                }
                if admin.is_none() {
                    admin = postgres::Client::connect(&url, postgres::NoTls).ok();
                }
                if let Some(a) = admin.as_mut() {
                    let which = if n.is_multiple_of(7) {
                        "state <> ''"
                    } else {
                        "state = 'idle in transaction'"
                    };
                    let sql = format!(
                        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
                         WHERE application_name = 'sbk' AND {which}"
                    );
                    match a.query_one(&sql, &[]) {
                        Ok(r) => terminated += r.get::<_, i64>(0),
                        Err(_) => admin = None,
                    }
                }
                std::thread::sleep(Duration::from_millis(3));
            }
            (terminated, restarted)
        })
    };
    std::thread::sleep(Duration::from_secs(14));
    stop.store(true, Ordering::SeqCst);
    let (terminated, restarted) = chaos.join().unwrap();
    assert!(restarted && terminated > 0, "{terminated} terminated");
    for w in &mut windows {
        let _ = w.kill();
        let _ = w.wait();
    }
    // Then no faults: one pass delivers whatever is left.
    let out = sbk_sync(&rig, config.path(), &server.base_url(), true)
        .wait_with_output()
        .unwrap();
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{summary}");
    assert_delivered_once(&rig, &ids);
    let log = rig.cluster.log();
    assert!(
        !log.contains("there is no transaction in progress"),
        "a COMMIT or ROLLBACK outside a transaction ({terminated} backends terminated):\n{log}"
    );
    // What cron's delivery did is in the log of the data directory, without personal data.
    let sbk_log = std::fs::read_to_string(config.path().join("data/sbk.log")).unwrap();
    assert!(sbk_log.contains("delivery pass"), "{sbk_log}");
    let store = rig.store();
    for id in &ids {
        let app = store.get(*id).unwrap();
        assert!(!sbk_log.contains(&app.applicant.id_number));
        assert!(!sbk_log.contains(&app.applicant.name));
    }
    eprintln!("{terminated} backends terminated; {summary}");
}
