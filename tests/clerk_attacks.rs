//! What a clerk with the PC in hand tries (issue 33), each as the attacker would do it,
//! and what sbk does about it: a search that would read the masked digits back, an import
//! that carries consents or a huge line, a password typed into the 工号 field, junk sign-ins
//! to flush a lock, a period of 0 days in the environment, a core file.

mod common;

use chrono::Utc;
use sbk_counter::domain::Application;
use sbk_counter::keys::{KeyFile, Password, Policy};
use sbk_counter::store::db::Sql;
use sbk_counter::store::{Operator, StoreError};

fn clerk() -> Operator {
    Operator {
        id: "C002".into(),
        name: "张经办".into(),
    }
}

/// A store with one resident whose number lists show as 110114********5152.
fn one_resident(dir: &std::path::Path) -> (sbk_counter::store::Store, Application) {
    let mut store = common::signin::open_store(dir).unwrap();
    let mut app = Application::new(Utc::now());
    app.applicant.name = "黄华静".into();
    app.applicant.id_number = "110114195203155152".into();
    app.applicant.mobile = "13900001234".into();
    store.create(&app, &common::signin::operator()).unwrap();
    (store, app)
}

#[test]
fn h5_a_search_cannot_read_back_the_digits_a_list_masks() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = one_resident(dir.path());
    let hits = |q: &str| store.search_as(&clerk(), q, 10).map(|r| r.len());
    // What a list shows, and what the resident says on the phone, finds them.
    for q in [
        "110114",
        "5152",
        "110114195203155152",
        "13900001234",
        "1234",
    ] {
        assert_eq!(hits(q).unwrap(), 1, "{q}");
    }
    // Digit by digit into the masked middle, or from the end beyond the four a list
    // shows (the fifth and sixth are the hidden birth day): nothing.
    for q in [
        "55152",
        "1101141",
        "11011419",
        "110114195",
        "1101141952",
        "3155152",
        "03155152",
        "203155152",
    ] {
        assert_eq!(hits(q).unwrap(), 0, "{q} must not match");
    }
    // Guessing the birth date with whole numbers: a few misses, then refused for a while.
    let mut refused = false;
    for day in 1..=20 {
        let guess = format!("1101141952031{day:02}152");
        match store.search_as(&clerk(), &guess[..18], 10) {
            Ok(rows) => assert!(rows.is_empty()),
            Err(StoreError::SearchLimited) => {
                refused = true;
                break;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(refused, "whole-number guesses are limited");
    // Another operator is not held up by this one's misses.
    assert!(
        store
            .search_as(&common::signin::operator(), "110114195203155152", 10)
            .is_ok()
    );
    // On record: each search's shape and hit count, never what was typed.
    let details: Vec<String> = store
        .sql()
        .query(
            "SELECT detail FROM audit_log WHERE action = 'search' ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0).unwrap())
        .collect();
    assert!(details.iter().any(|d| d == "whole hits:0"), "{details:?}");
    assert!(details.iter().any(|d| d == "whole refused"), "{details:?}");
    assert!(
        details.iter().any(|d| d == "digits:4 hits:1"),
        "{details:?}"
    );
    assert!(
        details
            .iter()
            .all(|d| !d.contains("5152") && !d.contains("110114")),
        "{details:?}"
    );
}

#[test]
fn m6_an_import_carries_no_consents_and_no_huge_line_or_field() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    common::signin::ensure_setup(&data);
    let mut app: serde_json::Value =
        serde_json::from_str(include_str!("../docs/application-example.json")).unwrap();
    app.as_object_mut().unwrap().remove("photos");
    let good = app.to_string();
    let mut long_field = app.clone();
    long_field["id"] = "3c1e2f40-5a6b-4c7d-8e9f-0a1b2c3d4e5f".into();
    long_field["residence"]["address"] = "朝阳区".repeat(300).into();
    let huge = format!("{{\"applicant\":{{\"name\":\"{}\"}}}}", "王".repeat(60_000));
    let path = dir.path().join("in.jsonl");
    std::fs::write(&path, format!("{huge}\n{long_field}\n{good}\n")).unwrap();
    let out = common::signin::sbk_signed_in(&data, &dir.path().join("config.toml"))
        .args(["drafts", "import", path.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("导入 1 条，跳过 2 条"), "{stdout}{err}");
    assert!(
        err.contains("第 1 行") && err.contains("超过 64 KB"),
        "{err}"
    );
    assert!(err.contains("第 2 行") && err.contains("超过 500"), "{err}");
    assert!(err.contains("同意和核验记录已忽略"), "{err}");
    let store = common::signin::open_store(&data).unwrap();
    let id = app["id"].as_str().unwrap().parse().unwrap();
    let imported = store.get(id).unwrap();
    assert_eq!(
        imported.consents,
        Default::default(),
        "given at the counter only"
    );
}

#[test]
fn m8_a_password_typed_as_the_operator_id_is_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    common::signin::ensure_setup(dir.path());
    let keys = KeyFile::new(dir.path());
    let typed = "Hr-7f2k!secret";
    let e = keys
        .unlock(typed, &Password::new(""), Policy::default(), Utc::now())
        .unwrap_err();
    assert!(e.to_string().contains("工号或密码不正确"), "{e}");
    let file = std::fs::read_to_string(keys.path()).unwrap();
    assert!(!file.contains(typed), "the typed 工号 is not in keys.json");
    // On record as a failed sign-in of an unknown 工号, not as what was typed.
    let session = common::signin::session(dir.path());
    let rows = session
        .store
        .sql()
        .query(
            "SELECT operator_id FROM audit_log WHERE action = 'sign_in_failed'",
            &[],
        )
        .unwrap();
    let ids: Vec<String> = rows.iter().map(|r| r.get(0).unwrap()).collect();
    assert!(!ids.is_empty());
    assert!(ids.iter().all(|i| !i.contains("secret")), "{ids:?}");
}

#[test]
fn m9_junk_sign_ins_do_not_unlock_a_locked_supervisor() {
    let dir = tempfile::tempdir().unwrap();
    common::signin::ensure_setup(dir.path());
    let keys = KeyFile::new(dir.path());
    let now = Utc::now();
    let policy = Policy::default();
    for _ in 0..policy.max_attempts {
        let _ = keys.unlock(
            common::signin::OPERATOR,
            &Password::new("wrong"),
            policy,
            now,
        );
    }
    assert!(
        keys.attempts(common::signin::OPERATOR)
            .unwrap()
            .locked_until
            .is_some()
    );
    for n in 0..300 {
        let _ = keys.unlock(&format!("J{n:04}"), &Password::new("x"), policy, now);
    }
    assert!(
        keys.attempts(common::signin::OPERATOR)
            .unwrap()
            .locked_until
            .is_some_and(|u| u > now),
        "still locked"
    );
    assert!(matches!(
        keys.unlock(
            common::signin::OPERATOR,
            &Password::new(common::signin::PASSWORD),
            policy,
            now
        ),
        Err(sbk_counter::keys::KeyFileError::Locked { .. })
    ));
}

#[test]
fn low_a_clerk_cannot_shorten_retention_from_the_environment() {
    use sbk_counter::store::{DEFAULT_DRAFT_DAYS, DEFAULT_RETENTION_DAYS, Retention};
    let zero = Retention {
        days: 0,
        draft_days: 0,
    };
    assert_eq!(
        zero.for_role(true),
        zero,
        "a supervisor's period is applied"
    );
    let clerk = zero.for_role(false);
    assert_eq!(
        (clerk.days, clerk.draft_days),
        (DEFAULT_RETENTION_DAYS, DEFAULT_DRAFT_DAYS)
    );
    let longer = Retention {
        days: 400,
        draft_days: 90,
    };
    assert_eq!(
        longer.for_role(false),
        longer,
        "a longer period is anyone's"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn m5_sbk_leaves_no_core_file() {
    // A long-running sbk (the reference server), its limits read from /proc.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("central.sqlite3");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sbk"))
        .args(["central", "serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(&db)
        .env("SBK_CENTRAL_TOKENS", "c:t")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id()));
    let _ = child.kill();
    let _ = child.wait();
    let limits = limits.unwrap();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap();
    let fields: Vec<&str> = core.split_whitespace().collect();
    assert_eq!(&fields[4..6], ["0", "0"], "{core}");
}

#[test]
fn m1_a_junk_slot_cannot_lower_the_next_slots_parameters() {
    let dir = tempfile::tempdir().unwrap();
    common::signin::ensure_setup(dir.path());
    let keys = KeyFile::new(dir.path());
    let before = keys.kdf().unwrap();
    // No password needed: a line added to keys.json, first, with Argon2's least cost.
    let mut file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(keys.path()).unwrap()).unwrap();
    let junk = serde_json::json!({
        "kind": "operator", "operator": "ZZZ",
        "kdf": "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA",
        "nonce": "00".repeat(12), "sealed": "00".repeat(48),
        "created_at": "2026-01-01T00:00:00Z"
    });
    file["slots"].as_array_mut().unwrap().insert(0, junk);
    std::fs::write(keys.path(), file.to_string()).unwrap();
    let after = keys.kdf().unwrap();
    assert_eq!(
        after, before,
        "the strongest parameters, not the first slot's"
    );
    assert!(after.m_kib > 8);
}

#[test]
fn m9_junk_cannot_erase_whom_the_failed_sign_ins_were_against() {
    let dir = tempfile::tempdir().unwrap();
    common::signin::ensure_setup(dir.path());
    let keys = KeyFile::new(dir.path());
    let now = Utc::now();
    let policy = Policy::default();
    for _ in 0..policy.max_attempts {
        let _ = keys.unlock(
            common::signin::OPERATOR,
            &Password::new("wrong"),
            policy,
            now,
        );
    }
    // A junk bucket locked, then a flood of instant attempts against it.
    for _ in 0..1500 {
        let _ = keys.unlock("J0001", &Password::new("x"), policy, now);
    }
    // What goes into the audit log at the next sign-in (keys.json's pending events).
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(keys.path()).unwrap()).unwrap();
    let entries: Vec<(String, String)> = file["pending"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["operator"].as_str().unwrap().to_owned(),
                p["event"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // The supervisor tried and locked stays named; the junk is summed, with its count.
    let op = common::signin::OPERATOR;
    assert!(
        entries.iter().any(|(o, e)| o == op && e == "locked_out"),
        "{entries:?}"
    );
    assert!(
        entries
            .iter()
            .any(|(o, e)| o == op && e.starts_with("sign_in_failed")),
        "{entries:?}"
    );
    let summed: u64 = entries
        .iter()
        .filter(|(o, _)| o == sbk_counter::keys::UNKNOWN_ID)
        .map(|(_, e)| {
            e.split_once('×')
                .and_then(|(_, n)| n.parse().ok())
                .unwrap_or(1)
        })
        .sum();
    assert!(summed >= 1500, "{summed}: {entries:?}");
    assert!(std::fs::metadata(keys.path()).unwrap().len() < 200_000);
}

#[test]
fn h2_cron_or_a_clerk_cannot_send_the_applications_to_their_own_server() {
    use common::delivery::{TOKEN, queue_applications, server_config};
    use sbk_counter::central::{Faults, Running};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let central_db = dir.path().join("central.sqlite3");
    sbk_counter::central::seed(&central_db, 40, 7).unwrap();
    let server =
        Running::start(server_config(&central_db, "127.0.0.1:0", Faults::default())).unwrap();
    let ids = queue_applications(&data, &central_db, 1);
    let config = dir.path().join("config.toml");
    // The supervisor delivers once: the centre's address is set in the store.
    let out = common::signin::sbk_signed_in(&data, &config)
        .args(["sync", "--once"])
        .env("SBK_CENTRAL_URL", server.base_url())
        .env("SBK_CENTRAL_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A relay of the clerk's own, on loopback, that would log whatever came to it.
    let relay = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    relay.set_nonblocking(true).unwrap();
    let relay_url = format!("http://{}", relay.local_addr().unwrap());
    let more = common::delivery::queue_applications_from(&data, &central_db, 1..2, |_| true);
    common::signin::delivery_key(&data, dir.path());
    let out = assert_cmd::Command::cargo_bin("sbk")
        .unwrap()
        .args(["sync", "--once"])
        .env("SBK_DATA_DIR", &data)
        .env("SBK_CONFIG", &config)
        .env("SBK_CENTRAL_URL", &relay_url)
        .env("SBK_CENTRAL_TOKEN", "stolen?")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("已按负责人设定的发送"), "{err}");
    assert!(relay.accept().is_err(), "nothing reached the relay");
    let store = common::signin::open_store(&data).unwrap();
    for id in ids.iter().chain(&more) {
        assert_eq!(
            store.get(*id).unwrap().status,
            sbk_counter::domain::Status::Delivered
        );
    }
    // Each delivery names where it went.
    let host = server.base_url().trim_start_matches("http://").to_owned();
    let sent: Vec<String> = store
        .sql()
        .query(
            "SELECT detail FROM audit_log WHERE action = 'central' ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0).unwrap())
        .collect();
    assert!(sent.contains(&format!("set {host}")), "{sent:?}");
    assert_eq!(
        sent.iter()
            .filter(|d| **d == format!("delivered to {host}"))
            .count(),
        2,
        "{sent:?}"
    );
}
