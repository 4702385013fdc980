//! Delivery exactly once, over real HTTP to the reference server: with failures, dropped
//! answers and a restart on the way; and offline, then online.

mod common;

use std::time::Duration;

use common::delivery::{TOKEN, delivery, queue_applications, server_config, wait_until};
use sbk_counter::central::{Faults, Running};
use sbk_counter::domain::{Eligibility, Status};

#[test]
fn five_hundred_applications_arrive_exactly_once_through_failures_and_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let central_db = dir.path().join("central.sqlite3");
    sbk_counter::central::seed(&central_db, 1000, 5).unwrap();
    let local = dir.path().join("local");
    let ids = queue_applications(&local, &central_db, 500);

    let faults = Faults {
        fail_rate: 0.3,
        drop_after_commit: 0.2,
        ..Faults::default()
    };
    let mut server =
        Some(Running::start(server_config(&central_db, "127.0.0.1:0", faults.clone())).unwrap());
    let addr = server.as_ref().unwrap().addr();
    let mut delivery = delivery(&local, &format!("http://{addr}"));
    let mut passes = 0;
    let mut restarted = false;
    wait_until(
        "every application delivered",
        Duration::from_secs(240),
        || {
            let report = delivery.pass(false);
            passes += 1;
            // Restart the server once, mid-run, on the same address.
            if !restarted && report.waiting < 300 {
                server.take().unwrap().stop();
                server = Some(
                    Running::start(server_config(
                        &central_db,
                        &addr.to_string(),
                        faults.clone(),
                    ))
                    .unwrap(),
                );
                restarted = true;
            }
            report.waiting == 0
        },
    );
    assert!(restarted);
    assert!(passes > 2, "failures should have forced retries");

    // The server holds each application exactly once ...
    let conn = rusqlite::Connection::open(&central_db).unwrap();
    let (rows, distinct): (i64, i64) = conn
        .query_row(
            "SELECT count(*), count(DISTINCT client_reference) FROM applications",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((rows, distinct), (500, 500));
    // ... and every local record has its number, the same the server gave.
    let store = common::signin::open_store(&local).unwrap();
    for id in &ids {
        let app = store.get(*id).unwrap();
        assert_eq!(app.status, Status::Delivered, "{id}");
        let number = app.application_number.expect("an application number");
        let server_number: String = conn
            .query_row(
                "SELECT number FROM applications WHERE client_reference = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(number, server_number);
        assert!(matches!(app.eligibility, Eligibility::Eligible { .. }));
        assert!(
            app.card_issuer.is_some(),
            "offline ones got their issuer from the check"
        );
    }
    assert_eq!(store.outbox_state().unwrap().pending, 0);
}

#[test]
fn offline_submissions_wait_survive_a_restart_and_go_when_the_server_appears() {
    let dir = tempfile::tempdir().unwrap();
    let central_db = dir.path().join("central.sqlite3");
    sbk_counter::central::seed(&central_db, 60, 8).unwrap();
    let local = dir.path().join("local");
    let ids = queue_applications(&local, &central_db, 6);
    // A free port with nothing listening.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{addr}");
    {
        let mut offline = delivery(&local, &url);
        let report = offline.pass(true);
        assert_eq!(report.delivered, 0);
        assert_eq!(report.waiting, 6);
        assert!(!report.online);
        assert!(report.last_error.unwrap().contains("连接"));
    }
    // sbk restarts: everything is still queued.
    let store = common::signin::open_store(&local).unwrap();
    assert_eq!(store.outbox_state().unwrap().pending, 6);
    for id in &ids {
        assert_eq!(store.get(*id).unwrap().status, Status::Queued);
    }
    drop(store);
    let _server = Running::start(server_config(
        &central_db,
        &addr.to_string(),
        Faults::default(),
    ))
    .unwrap();
    let mut online = delivery(&local, &url);
    let report = online.pass(true);
    assert_eq!(report.delivered, 6, "{report:?}");
    assert_eq!(report.waiting, 0);
    assert!(report.online);
}

#[test]
fn an_ineligible_offline_submission_comes_back_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let central_db = dir.path().join("central.sqlite3");
    sbk_counter::central::seed(&central_db, 60, 9).unwrap();
    let local = dir.path().join("local");
    let ids = queue_applications(&local, &central_db, 2);
    // The resident now has a card (issued elsewhere since the draft was made).
    let conn = rusqlite::Connection::open(&central_db).unwrap();
    let store = common::signin::open_store(&local).unwrap();
    let offline = store.get(ids[1]).unwrap();
    assert!(matches!(offline.eligibility, Eligibility::Pending { .. }));
    conn.execute(
        "UPDATE residents SET has_card = 1 WHERE id_number = ?1",
        [&offline.applicant.id_number],
    )
    .unwrap();
    drop(store);
    let server =
        Running::start(server_config(&central_db, "127.0.0.1:0", Faults::default())).unwrap();
    let mut d = delivery(&local, &server.base_url());
    let report = d.pass(true);
    assert_eq!((report.delivered, report.returned), (1, 1), "{report:?}");
    let back = d.store().get(ids[1]).unwrap();
    assert_eq!(back.status, Status::Returned);
    assert!(back.status.is_editable(), "the clerk can correct it");
    let Eligibility::Ineligible { reason, .. } = &back.eligibility else {
        panic!("{:?}", back.eligibility)
    };
    assert!(reason.contains("已有有效第三代社保卡"));
    let note = d
        .store()
        .history(ids[1])
        .unwrap()
        .pop()
        .unwrap()
        .note
        .unwrap();
    assert!(note.starts_with("资格校验未通过"), "{note}");
}

#[test]
fn progress_is_followed_to_collection() {
    let dir = tempfile::tempdir().unwrap();
    let central_db = dir.path().join("central.sqlite3");
    sbk_counter::central::seed(&central_db, 60, 10).unwrap();
    let local = dir.path().join("local");
    let ids = queue_applications(&local, &central_db, 2);
    let mut cfg = server_config(&central_db, "127.0.0.1:0", Faults::default());
    cfg.pace = Duration::from_millis(100);
    let server = Running::start(cfg).unwrap();
    let mut d = delivery(&local, &server.base_url());
    wait_until(
        "progress to reach 已领卡",
        Duration::from_secs(30),
        || {
            d.pass(false);
            ids.iter()
                .all(|id| d.store().get(*id).unwrap().status == Status::Collected)
        },
    );
    let history = d.store().history(ids[0]).unwrap();
    let statuses: Vec<Status> = history.iter().map(|h| h.status).collect();
    assert!(
        statuses.ends_with(&[
            Status::Delivered,
            Status::Accepted,
            Status::InProduction,
            Status::Shipped,
            Status::Collected
        ]),
        "{statuses:?}"
    );
    let shipped = history
        .iter()
        .find(|h| h.status == Status::Shipped)
        .unwrap();
    assert!(shipped.note.as_deref().unwrap().starts_with("邮件号 EA"));
}

#[test]
fn sbk_sync_once_summarises_and_fails_only_when_a_person_is_needed() {
    let dir = tempfile::tempdir().unwrap();
    let central_db = dir.path().join("central.sqlite3");
    sbk_counter::central::seed(&central_db, 60, 12).unwrap();
    let local = dir.path().join("local");
    queue_applications(&local, &central_db, 2);
    common::signin::delivery_key(&local, dir.path());
    let sbk = |url: Option<&str>| {
        let mut cmd = assert_cmd::Command::cargo_bin("sbk").unwrap();
        cmd.args(["sync", "--once"])
            .env("SBK_DATA_DIR", &local)
            .env("SBK_CONFIG", dir.path().join("config.toml"))
            .env("SBK_CENTRAL_TOKEN", TOKEN)
            .env_remove("SBK_CENTRAL_URL");
        if let Some(u) = url {
            cmd.env("SBK_CENTRAL_URL", u);
        }
        cmd.output().unwrap()
    };
    // No central API configured: says so, exit 1.
    let out = sbk(None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("离线模式"));
    // Unreachable: both wait, nothing needs a person, exit 0.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = sbk(Some(&format!("http://{closed}")));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("已送达 0，等待重试 2"), "{text}");
    // Plain http to another machine is refused before anything is sent.
    let out = sbk(Some("http://192.0.2.1:8750"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("https"));
    // Online: delivered, exit 0; the token never appears in what it prints.
    let server =
        Running::start(server_config(&central_db, "127.0.0.1:0", Faults::default())).unwrap();
    let out = sbk(Some(&server.base_url()));
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("已送达 2，等待重试 0"), "{text}");
    assert!(!text.contains(TOKEN) && !String::from_utf8_lossy(&out.stderr).contains(TOKEN));
}
