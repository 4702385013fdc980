//! The audit log is append-only and tamper-evident: a hash chain that `sbk audit verify`
//! checks, which finds a changed or removed entry even when the triggers were dropped.

mod common;

use common::delivery::{TOKEN, delivery, server_config};
use sbk_counter::central::{Faults, Running};
use sbk_counter::domain::Status;
use sbk_counter::domain::synthetic::{Rng, application};
use sbk_counter::store::{AuditAction, Operator, schema};

fn operator() -> Operator {
    Operator {
        id: "C001".into(),
        name: "李娜".into(),
    }
}

/// A store with a few audited actions; returns the data dir and the number of entries.
fn store_with_history(dir: &std::path::Path) -> usize {
    let mut store = common::signin::open_store(dir).unwrap();
    let mut rng = Rng::new(4);
    for _ in 0..3 {
        let mut app = application(&mut rng, chrono::Utc::now(), 0);
        app.status = Status::Draft;
        store.create(&app, &operator()).unwrap();
        store
            .transition(app.id, Status::Ready, &operator(), None)
            .unwrap();
        store
            .audit(
                &operator(),
                AuditAction::Reveal,
                Some(app.id),
                Some("drafts show"),
            )
            .unwrap();
    }
    store.audit_entries(None).unwrap().len()
}

/// The database opened by hand, as an operator who knows a password (and so the key)
/// and wants to rewrite the log would.
fn raw(dir: &std::path::Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(dir.join("sbk.sqlite3")).unwrap();
    let key = common::signin::key(dir);
    conn.pragma_update(None, "key", key.sqlcipher_key().as_str())
        .unwrap();
    conn
}

/// The entries setting the store up writes (the first supervisor added, set-up, sign-in).
const SETUP_ENTRIES: usize = 3;

fn sbk_audit(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    sbk_audit_with(dir, args, None)
}

/// `sbk audit ARGS`, with the central API at `central` if given.
fn sbk_audit_with(
    dir: &std::path::Path,
    args: &[&str],
    central: Option<&str>,
) -> std::process::Output {
    let mut cmd = assert_cmd::Command::cargo_bin("sbk").unwrap();
    cmd.args(common::signin::CLI_SIGN_IN)
        .write_stdin(format!("{}\n", common::signin::PASSWORD))
        .arg("audit")
        .args(args)
        .env("SBK_DATA_DIR", dir)
        .env("SBK_CONFIG", dir.join("config.toml"))
        .env_remove("SBK_CENTRAL_URL");
    if let Some(url) = central {
        cmd.env("SBK_CENTRAL_URL", url)
            .env("SBK_CENTRAL_TOKEN", TOKEN);
    }
    cmd.output().unwrap()
}

#[test]
fn an_intact_chain_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let n = store_with_history(dir.path());
    assert_eq!(n, SETUP_ENTRIES + 9);
    let report = common::signin::open_store(dir.path())
        .unwrap()
        .verify_audit()
        .unwrap();
    assert_eq!((report.entries, report.broken), (n, None));
    // The command's own sign-in is one entry more. Without the central API, what only its
    // anchors can tell is not checked: its own exit status, not a pass.
    let out = sbk_audit(dir.path(), &["verify"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains(&format!("共 {} 条", n + 1)), "{text}");
}

#[test]
fn the_log_refuses_updates_and_deletes() {
    let dir = tempfile::tempdir().unwrap();
    store_with_history(dir.path());
    let conn = raw(dir.path());
    let update = conn.execute("UPDATE audit_log SET operator_id = 'X' WHERE id = 2", []);
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = conn.execute("DELETE FROM audit_log WHERE id = 2", []);
    assert!(delete.unwrap_err().to_string().contains("append-only"));
}

#[test]
fn an_edited_entry_breaks_the_chain_there() {
    let dir = tempfile::tempdir().unwrap();
    store_with_history(dir.path());
    let conn = raw(dir.path());
    conn.execute_batch("DROP TRIGGER audit_log_no_update")
        .unwrap();
    conn.execute("UPDATE audit_log SET operator_id = 'C999' WHERE id = 4", [])
        .unwrap();
    let report = common::signin::open_store(dir.path())
        .unwrap()
        .verify_audit()
        .unwrap();
    let (id, why) = report.broken.unwrap();
    assert_eq!(id, 4);
    assert!(why.contains("改动"), "{why}");
    let out = sbk_audit(dir.path(), &["verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("第 4 条"));
}

#[test]
fn a_removed_entry_breaks_the_chain_after_it() {
    let dir = tempfile::tempdir().unwrap();
    store_with_history(dir.path());
    let conn = raw(dir.path());
    conn.execute_batch("DROP TRIGGER audit_log_no_delete")
        .unwrap();
    conn.execute("DELETE FROM audit_log WHERE id = 5", [])
        .unwrap();
    let report = common::signin::open_store(dir.path())
        .unwrap()
        .verify_audit()
        .unwrap();
    assert_eq!(report.broken.unwrap().0, 6);
    // Re-hashing the rest would need every later entry rewritten consistently; even then
    // the last hash, written down elsewhere (a printout), would not match.
}

#[test]
fn entries_written_before_the_chain_get_their_hashes_once() {
    // A plain store of an earlier version (before the chain, and before encryption).
    let dir = tempfile::tempdir().unwrap();
    {
        let mut conn = rusqlite::Connection::open(dir.path().join("sbk.sqlite3")).unwrap();
        schema::migrate_to(&mut conn, 3).unwrap();
        for i in 0..4 {
            conn.execute(
                "INSERT INTO audit_log (at, operator_id, operator_name, action, detail)
                 VALUES (?1, 'C001', '李娜', 'export', 'jsonl')",
                [1_700_000_000_000i64 + i],
            )
            .unwrap();
        }
    }
    // Setting the store up encrypts it, migrates it, and chains them.
    let store = common::signin::open_store(dir.path()).unwrap();
    let report = store.verify_audit().unwrap();
    assert_eq!((report.entries, report.broken), (4 + SETUP_ENTRIES, None));
    drop(store);
    // And they are now as fixed as the rest.
    let update = raw(dir.path()).execute("UPDATE audit_log SET detail = 'csv' WHERE id = 1", []);
    assert!(update.is_err());
}

#[test]
fn the_check_for_unchained_entries_at_every_open_does_not_read_the_log() {
    let dir = tempfile::tempdir().unwrap();
    store_with_history(dir.path());
    let plan: Vec<String> = {
        let conn = raw(dir.path());
        let mut stmt = conn
            .prepare(&format!(
                "EXPLAIN QUERY PLAN {}",
                sbk_counter::store::UNCHAINED_ENTRIES
            ))
            .unwrap();
        stmt.query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert!(
        plan.iter()
            .any(|step| step.contains("USING INDEX audit_log_unchained")),
        "{plan:?}"
    );
}

#[test]
fn show_lists_one_applications_entries() {
    let dir = tempfile::tempdir().unwrap();
    store_with_history(dir.path());
    let store = common::signin::open_store(dir.path()).unwrap();
    let first = store
        .audit_entries(None)
        .unwrap()
        .into_iter()
        .find_map(|e| e.application_id)
        .unwrap();
    drop(store);
    let out = sbk_audit(dir.path(), &["show", "--application", &first[..8]]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(
        text.lines()
            .all(|l| l.contains(&first) && l.contains("李娜（C001）"))
    );
}

/// An audit entry's fields as they are hashed.
type Row = (
    i64,
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

/// What an attacker with the file does after dropping the triggers: recompute every hash
/// from the first entry, with the published algorithm (SHA-256 over a JSON array).
fn rehash_everything(conn: &rusqlite::Connection) {
    use sha2::{Digest, Sha256};
    let rows: Vec<Row> = conn
        .prepare(
            "SELECT id, at, operator_id, operator_name, action, application_id, detail
             FROM audit_log ORDER BY id",
        )
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut prev = "0".repeat(64);
    for (id, at, op, name, action, app, detail) in rows {
        let fields = serde_json::json!([prev, id, at, op, name, action, app, detail]);
        let hash: String = Sha256::digest(fields.to_string().as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        conn.execute(
            "UPDATE audit_log SET prev_hash = ?2, hash = ?3 WHERE id = ?1",
            rusqlite::params![id, prev, hash],
        )
        .unwrap();
        prev = hash;
    }
}

/// A store with history whose chain's head the reference server has anchored.
fn anchored(dir: &std::path::Path) -> (tempfile::TempDir, Running) {
    let central = tempfile::tempdir().unwrap();
    let db = central.path().join("central.sqlite3");
    sbk_counter::central::seed(&db, 20, 3).unwrap();
    let server = Running::start(server_config(&db, "127.0.0.1:0", Faults::default())).unwrap();
    store_with_history(dir);
    delivery(dir, &server.base_url()).anchor_audit().unwrap();
    (central, server)
}

#[test]
fn a_chain_recomputed_after_an_edit_is_found_by_the_central_anchor() {
    let dir = tempfile::tempdir().unwrap();
    let (_central, server) = anchored(dir.path());
    let out = sbk_audit_with(dir.path(), &["verify"], Some(&server.base_url()));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}");
    let head = SETUP_ENTRIES + 9;
    assert!(
        text.contains(&format!("与中心最近的锚点一致：锚定到第 {head} 条")),
        "{text}"
    );
    // Someone with the file rewrites who did something, then recomputes the whole chain.
    let conn = raw(dir.path());
    conn.execute_batch("DROP TRIGGER audit_log_no_update")
        .unwrap();
    conn.execute("UPDATE audit_log SET operator_id = 'C999' WHERE id = 4", [])
        .unwrap();
    rehash_everything(&conn);
    drop(conn);
    let local = common::signin::open_store(dir.path())
        .unwrap()
        .verify_audit()
        .unwrap();
    assert_eq!(local.broken, None, "on this PC alone it looks whole");
    let out = sbk_audit_with(dir.path(), &["verify"], Some(&server.base_url()));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains(&format!("被改写：第 {head} 条")), "{text}");
}

#[test]
fn entries_cut_from_the_end_are_found_by_the_central_anchor() {
    let dir = tempfile::tempdir().unwrap();
    let (_central, server) = anchored(dir.path());
    let conn = raw(dir.path());
    conn.execute_batch("DROP TRIGGER audit_log_no_delete")
        .unwrap();
    conn.execute("DELETE FROM audit_log WHERE id > 6", [])
        .unwrap();
    drop(conn);
    assert_eq!(
        common::signin::open_store(dir.path())
            .unwrap()
            .verify_audit()
            .unwrap()
            .broken,
        None,
        "a shorter chain is still a chain"
    );
    let out = sbk_audit_with(dir.path(), &["verify"], Some(&server.base_url()));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{text}");
    // (The command's own sign-in is the 7th, and the central API it was given the 8th:
    // the supervisor's address kept in the store.)
    assert!(
        text.contains("被截短") && text.contains("本机只有 8 条"),
        "{text}"
    );
    // Emptied altogether: the same.
    let conn = raw(dir.path());
    conn.execute("DELETE FROM audit_log", []).unwrap();
    drop(conn);
    let out = sbk_audit_with(dir.path(), &["verify"], Some(&server.base_url()));
    assert_eq!(out.status.code(), Some(1));
    // And the server refuses an anchor from a chain that went backwards.
    let mut d = delivery(dir.path(), &server.base_url());
    let conn = raw(dir.path());
    conn.execute("DELETE FROM sync_state WHERE key = 'audit_anchor'", [])
        .unwrap();
    drop(conn);
    d.store()
        .audit(&operator(), AuditAction::View, None, Some("x"))
        .unwrap();
    match d.anchor_audit() {
        Err(sbk_counter::sync::CallError::Refused { status, error }) => {
            assert_eq!((status, error.code.as_str()), (422, "anchor_regressed"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_entry_whose_hash_is_removed_is_never_sealed_again() {
    let dir = tempfile::tempdir().unwrap();
    store_with_history(dir.path());
    let conn = raw(dir.path());
    conn.execute_batch("DROP TRIGGER audit_log_no_update")
        .unwrap();
    // An edit, and every hash from it on removed: the next open used to seal them all
    // afresh, hiding the edit completely.
    conn.execute("UPDATE audit_log SET operator_id = 'C999' WHERE id = 4", [])
        .unwrap();
    conn.execute("UPDATE audit_log SET hash = NULL WHERE id >= 4", [])
        .unwrap();
    drop(conn);
    drop(common::signin::open_store(dir.path()).unwrap());
    let report = common::signin::open_store(dir.path())
        .unwrap()
        .verify_audit()
        .unwrap();
    assert_eq!(report.broken.map(|b| b.0), Some(4));
}

#[test]
fn offline_verify_says_what_it_could_not_check() {
    let dir = tempfile::tempdir().unwrap();
    store_with_history(dir.path());
    let out = sbk_audit(dir.path(), &["verify"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(3),
        "not checked is not a pass: {text}"
    );
    assert!(
        text.contains("未配置中心接口：未能与中心锚点核对") && text.contains("只有中心锚点能发现"),
        "{text}"
    );
}

/// H3 (issue 33): the anchor catches a rewritten log, whatever way it was rewritten.
#[test]
fn h3_a_log_rewritten_past_its_anchor_or_restored_from_an_old_copy_is_refused_and_found() {
    let dir = tempfile::tempdir().unwrap();
    let (_central, server) = anchored(dir.path());
    let refused = |dir: &std::path::Path| match delivery(dir, &server.base_url()).anchor_audit() {
        Err(sbk_counter::sync::CallError::Refused { status, error }) => (status, error.code),
        other => panic!("{other:?}"),
    };
    // (a) Reveals deleted, filler appended past the anchored entry, the chain recomputed:
    // the next anchor does not recompute from the hash the server kept.
    let conn = raw(dir.path());
    conn.execute_batch("DROP TRIGGER audit_log_no_delete; DROP TRIGGER audit_log_no_update")
        .unwrap();
    conn.execute("DELETE FROM audit_log WHERE action = 'reveal'", [])
        .unwrap();
    for id in 100..110 {
        conn.execute(
            "INSERT INTO audit_log (id, at, operator_id, operator_name, action) VALUES (?1, 0, 'C001', '李娜', 'view')",
            [id],
        )
        .unwrap();
    }
    conn.execute_batch(
        "CREATE TEMP TABLE renumber AS SELECT id, row_number() OVER (ORDER BY id) AS n FROM audit_log;
         UPDATE audit_log SET id = -id; UPDATE audit_log SET id = (SELECT n FROM renumber WHERE renumber.id = -audit_log.id);",
    )
    .unwrap();
    rehash_everything(&conn);
    drop(conn);
    assert_eq!(refused(dir.path()), (422, "anchor_mismatch".into()));
    let out = sbk_audit_with(dir.path(), &["verify"], Some(&server.base_url()));
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // (c) An older copy put back (no key needed to copy files) after the store anchored
    // more, used a little, synced: it does not extend the last anchor.
    let fresh = tempfile::tempdir().unwrap();
    let (_c2, server2) = anchored(fresh.path());
    let snapshot = tempfile::tempdir().unwrap();
    for f in ["sbk.sqlite3", "keys.json"] {
        std::fs::copy(fresh.path().join(f), snapshot.path().join(f)).unwrap();
    }
    let mut d = delivery(fresh.path(), &server2.base_url());
    for n in 0..3 {
        d.store()
            .audit(
                &operator(),
                AuditAction::Reveal,
                None,
                Some(&format!("r{n}")),
            )
            .unwrap();
    }
    d.anchor_audit().unwrap();
    drop(d);
    for f in ["sbk.sqlite3", "keys.json"] {
        std::fs::copy(snapshot.path().join(f), fresh.path().join(f)).unwrap();
    }
    let _ = std::fs::remove_file(fresh.path().join("sbk.sqlite3-wal"));
    let _ = std::fs::remove_file(fresh.path().join("sbk.sqlite3-shm"));
    let mut d = delivery(fresh.path(), &server2.base_url());
    for n in 0..8 {
        d.store()
            .audit(
                &operator(),
                AuditAction::View,
                None,
                Some(&format!("after restore {n}")),
            )
            .unwrap();
    }
    match d.anchor_audit() {
        Err(sbk_counter::sync::CallError::Refused { status, error }) => {
            assert_eq!((status, error.code.as_str()), (422, "anchor_not_extending"))
        }
        other => panic!("a restored copy must not anchor: {other:?}"),
    }
    drop(d);
    let out = sbk_audit_with(fresh.path(), &["verify"], Some(&server2.base_url()));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "the reveals since the copy are missed: {text}"
    );
}

/// An anchor the server kept but whose answer never came back: the next pass finds the
/// server's latest anchor in its own chain and goes on from it, instead of being refused
/// for good.
#[test]
fn an_anchor_whose_answer_was_lost_is_found_again_and_extended() {
    let dir = tempfile::tempdir().unwrap();
    let (_central, server) = anchored(dir.path());
    let mut d = delivery(dir.path(), &server.base_url());
    d.store()
        .audit(&operator(), AuditAction::View, None, Some("a"))
        .unwrap();
    // Sent and kept, the answer lost: this store does not know it was kept.
    let last = d.store().last_anchor().unwrap();
    let lost = d.store().next_anchor(last.as_ref()).unwrap().unwrap();
    let settings = sbk_counter::config::CentralSettings {
        url: server.base_url(),
        token: sbk_counter::config::Secret::new(TOKEN),
        ca_file: None,
    };
    sbk_counter::sync::Client::new(&settings, "op-7")
        .unwrap()
        .put_anchor(&lost)
        .unwrap();
    d.store()
        .audit(&operator(), AuditAction::View, None, Some("b"))
        .unwrap();
    d.anchor_audit().unwrap();
    let head = d.store().audit_head().unwrap().unwrap();
    assert_eq!(d.store().last_anchor().unwrap().unwrap().seq, head.0);
}
