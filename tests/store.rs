//! The store on a real SQLite file and (when a test server is given) a real PostgreSQL
//! server: migrations, round trips, the lifecycle, search, audit.

mod common;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use rusqlite::Connection;
use sbk_counter::domain::PhotoSlot;
use sbk_counter::domain::id_number::check_character;
use sbk_counter::domain::{Application, PhotoRef, Status};
use sbk_counter::store::db::{Sql, ToValue};
use sbk_counter::store::{Operator, Store, StoreError, schema};
use tempfile::TempDir;

fn clerk() -> Operator {
    Operator {
        id: "C001".into(),
        name: "李娜".into(),
    }
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
}

fn open() -> (TempDir, Store) {
    let dir = TempDir::new().unwrap();
    let store = common::signin::open_store(&dir.path().join("data")).unwrap();
    (dir, store)
}

/// The documented example, with its photos really in the store and a fresh id.
fn complete(store: &Store) -> Application {
    let mut app: Application =
        serde_json::from_str(include_str!("../docs/application-example.json")).unwrap();
    app.id = uuid::Uuid::new_v4();
    app.status = Status::Draft;
    for (i, (slot, kind)) in [
        (&mut app.photos.card_photo, PhotoSlot::CardPhoto),
        (&mut app.photos.id_front, PhotoSlot::IdFront),
        (&mut app.photos.id_back, PhotoSlot::IdBack),
    ]
    .into_iter()
    .enumerate()
    {
        let bytes = format!("photo {i} of {}", app.id).into_bytes();
        let sha = store
            .put_photo(&bytes, kind, "image/jpeg", 358, 441)
            .unwrap();
        *slot = Some(PhotoRef {
            sha256: sha,
            source_name: None,
        });
    }
    app
}

fn person(name: &str, birth: &str, seq: &str, mobile: &str) -> Application {
    let mut app = Application::new(Utc::now());
    let first17 = format!("110105{birth}{seq}");
    app.applicant.name = name.into();
    app.applicant.id_number = format!("{first17}{}", check_character(&first17));
    app.applicant.mobile = mobile.into();
    app
}

#[test]
fn a_new_store_is_wal_at_the_latest_version_and_private() {
    let (dir, store) = open();
    assert!(store.integrity_ok().unwrap());
    let conn = store.connection();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = conn
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(fk, 1);
    assert_eq!(schema::user_version(conn).unwrap(), schema::LATEST);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let data = dir.path().join("data");
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&data.join("sbk.sqlite3")), 0o600);
    }
}

#[test]
fn migrations_run_from_every_earlier_version() {
    // Stores of earlier versions were plain files (they are encrypted when set up).
    for version in 0..schema::LATEST {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("old.sqlite3");
        {
            let mut conn = Connection::open(&path).unwrap();
            schema::migrate_to(&mut conn, version).unwrap();
            assert_eq!(schema::user_version(&conn).unwrap(), version);
        }
        let store = Store::open_plain(&path).unwrap();
        assert_eq!(
            schema::user_version(store.connection()).unwrap(),
            schema::LATEST
        );
        assert!(store.integrity_ok().unwrap());
        // The migrated store works.
        let mut store = store;
        store
            .create(&Application::new(Utc::now()), &clerk())
            .unwrap();
        assert_eq!(store.list(None, 10, 0).unwrap().len(), 1);
    }
}

#[test]
fn a_store_from_a_newer_version_is_refused() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("new.sqlite3");
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", (schema::LATEST + 1) as i64)
        .unwrap();
    match Store::open_plain(&path) {
        Err(StoreError::TooNew { found, .. }) => assert_eq!(found, schema::LATEST + 1),
        other => panic!("expected TooNew, got {:?}", other.err()),
    }
}

on_both_backends! {
#[test]
fn a_full_application_round_trips() {
    let (_dir, mut store) = open();
    let mut app = complete(&store);
    store.create(&app, &clerk()).unwrap();
    store.save(&mut app).unwrap();
    assert_eq!(store.get(app.id).unwrap(), app);
    let photo = store
        .photo(&app.photos.card_photo.as_ref().unwrap().sha256)
        .unwrap()
        .unwrap();
    assert_eq!((photo.width, photo.height), (358, 441));
}

#[test]
fn saving_keeps_every_change_and_refuses_what_it_must() {
    let (_dir, mut store) = open();
    let mut app = Application::new(Utc::now());
    store.create(&app, &clerk()).unwrap();
    for (i, c) in "王秀英".chars().enumerate() {
        app.applicant.name = "王秀英".chars().take(i + 1).collect();
        store.save(&mut app).unwrap();
        assert_eq!(
            store.get(app.id).unwrap().applicant.name.chars().last(),
            Some(c)
        );
    }

    // A photo that is not in the store cannot be referenced.
    let mut bad = app.clone();
    bad.photos.card_photo = Some(PhotoRef {
        sha256: "00".repeat(32),
        source_name: None,
    });
    assert!(matches!(
        store.save(&mut bad),
        Err(StoreError::MissingPhoto)
    ));
    assert_eq!(
        store.get(app.id).unwrap().photos.card_photo,
        None,
        "nothing half-written"
    );

    // Unknown application.
    let mut ghost = Application::new(Utc::now());
    assert!(matches!(
        store.save(&mut ghost),
        Err(StoreError::NotFound(_))
    ));

    // A status changed elsewhere (withdrawn, delivered…) is not overwritten by a stale copy.
    let stale = app.clone();
    store
        .transition(app.id, Status::Ready, &clerk(), None)
        .unwrap();
    let mut stale = stale;
    assert!(matches!(
        store.save(&mut stale),
        Err(StoreError::StatusChanged {
            expected: Status::Draft,
            actual: Status::Ready
        })
    ));

    // Nothing that has left the counter is edited.
    let mut queued = store.get(app.id).unwrap();
    queued.status = Status::Queued;
    assert!(matches!(
        store.save(&mut queued),
        Err(StoreError::NotEditable(Status::Queued))
    ));
}

#[test]
fn submit_queues_with_an_idempotency_key_and_withdraw_takes_it_back() {
    let (_dir, mut store) = open();
    let app = complete(&store);
    store.create(&app, &clerk()).unwrap();
    let key = store.submit(app.id, &clerk(), today()).unwrap();
    assert_eq!(store.get(app.id).unwrap().status, Status::Queued);
    let row = store
        .sql()
        .query_one(
            "SELECT state, idempotency_key FROM outbox WHERE application_id = ?1",
            &[app.id.to_value()],
        )
        .unwrap();
    let (state, stored_key): (String, String) = (row.get(0).unwrap(), row.get(1).unwrap());
    assert_eq!(
        (state.as_str(), stored_key.as_str()),
        ("pending", key.as_str())
    );

    let back = store.withdraw(app.id, &clerk()).unwrap();
    assert_eq!(back.status, Status::Draft);
    let state: String = store
        .sql()
        .query_one(
            "SELECT state FROM outbox WHERE idempotency_key = ?1",
            &[key.to_value()],
        )
        .unwrap()
        .get(0)
        .unwrap();
    assert_eq!(state, "withdrawn");
    let statuses: Vec<Status> = store
        .history(app.id)
        .unwrap()
        .iter()
        .map(|h| h.status)
        .collect();
    assert_eq!(statuses, vec![Status::Draft, Status::Queued, Status::Draft]);
}

#[test]
fn an_incomplete_application_cannot_be_submitted() {
    let (_dir, mut store) = open();
    let app = Application::new(Utc::now());
    store.create(&app, &clerk()).unwrap();
    match store.submit(app.id, &clerk(), today()) {
        Err(StoreError::Incomplete(problems)) => assert!(!problems.is_empty()),
        other => panic!("expected Incomplete, got {other:?}"),
    }
    assert_eq!(store.get(app.id).unwrap().status, Status::Draft);
}

#[test]
fn every_transition_is_checked_against_the_lifecycle() {
    let (_dir, mut store) = open();
    let app = complete(&store);
    store.create(&app, &clerk()).unwrap();
    // Illegal: an error, and nothing changes.
    let err = store
        .transition(app.id, Status::Delivered, &clerk(), None)
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::IllegalTransition {
            from: Status::Draft,
            to: Status::Delivered
        }
    ));
    assert!(
        err.to_string().contains("不能从“草稿”改为“已提交”"),
        "{err}"
    );
    assert_eq!(store.get(app.id).unwrap().status, Status::Draft);
    assert_eq!(store.history(app.id).unwrap().len(), 1);

    // The whole way to collection, then a return is no longer possible.
    store.submit(app.id, &clerk(), today()).unwrap();
    for s in [
        Status::Delivered,
        Status::Accepted,
        Status::InProduction,
        Status::Shipped,
        Status::Collected,
    ] {
        store.transition(app.id, s, &clerk(), None).unwrap();
    }
    assert!(
        store
            .transition(app.id, Status::Returned, &clerk(), None)
            .is_err()
    );

    // A returned application is editable again and can be resubmitted.
    let other = complete(&store);
    store.create(&other, &clerk()).unwrap();
    store.submit(other.id, &clerk(), today()).unwrap();
    store
        .transition(other.id, Status::Delivered, &clerk(), None)
        .unwrap();
    store
        .transition(other.id, Status::Returned, &clerk(), Some("照片不合格"))
        .unwrap();
    let mut returned = store.get(other.id).unwrap();
    returned.applicant.mobile = "13900139000".into();
    store.save(&mut returned).unwrap();
    store.submit(other.id, &clerk(), today()).unwrap();
    let notes: Vec<_> = store
        .history(other.id)
        .unwrap()
        .into_iter()
        .filter_map(|h| h.note)
        .collect();
    assert_eq!(notes, vec!["照片不合格"]);
}

#[test]
fn drafts_can_be_deleted_delivered_applications_cannot() {
    let (_dir, mut store) = open();
    let draft = complete(&store);
    let sha = draft.photos.card_photo.as_ref().unwrap().sha256.clone();
    store.create(&draft, &clerk()).unwrap();
    let kept = complete(&store);
    store.create(&kept, &clerk()).unwrap();
    store.submit(kept.id, &clerk(), today()).unwrap();
    store
        .transition(kept.id, Status::Delivered, &clerk(), None)
        .unwrap();

    store.delete(draft.id, &clerk()).unwrap();
    assert!(matches!(store.get(draft.id), Err(StoreError::NotFound(_))));
    assert!(!store.has_photo(&sha).unwrap(), "its photos went with it");
    assert!(
        store
            .has_photo(&kept.photos.card_photo.as_ref().unwrap().sha256)
            .unwrap()
    );

    assert!(matches!(
        store.delete(kept.id, &clerk()),
        Err(StoreError::NotDeletable(Status::Delivered))
    ));
    assert!(store.get(kept.id).is_ok());
}

#[test]
fn a_relative_finds_the_agent_application_by_their_own_name_or_phone() {
    let (_dir, mut store) = open();
    let mut app = person("王秀英", "19491231", "002", "13800138000");
    app.applied_by = sbk_counter::domain::AppliedBy::Agent;
    app.agent.name = "李建国".into();
    let first17 = "11010519750312001";
    app.agent.id_number = format!("{first17}{}", check_character(first17));
    app.agent.relation = "child".into();
    app.agent.mobile = "13911112222".into();
    let agent_photo = store
        .put_photo(b"agent id card", PhotoSlot::AgentIdCard, "image/jpeg", 856, 540)
        .unwrap();
    app.agent.photos.id_card = Some(PhotoRef {
        sha256: agent_photo.clone(),
        source_name: None,
    });
    store.create(&app, &clerk()).unwrap();
    store.create(&person("张三", "19500101", "001", "13700137001"), &clerk()).unwrap();
    let found = |store: &Store, q: &str| -> Vec<(String, String)> {
        store
            .search(q, 10)
            .unwrap()
            .into_iter()
            .map(|s| (s.name, s.agent_name))
            .collect()
    };
    let hit = vec![("王秀英".to_owned(), "李建国".to_owned())];
    for q in ["李建国", "李", "建国", "ljg", "lijianguo", "2222", "13911112222", "0018"] {
        assert_eq!(found(&store, q), hit, "{q}");
    }
    // Switched back to 本人申领: the agent kept in the draft is no longer searched.
    app.applied_by = sbk_counter::domain::AppliedBy::Applicant;
    store.save(&mut app).unwrap();
    assert!(found(&store, "李建国").is_empty());
    assert!(found(&store, "2222").is_empty());
    // The agent's papers are the application's: kept while it names them, gone with it.
    assert!(store.has_photo(&agent_photo).unwrap());
    store.delete(app.id, &clerk()).unwrap();
    assert!(!store.has_photo(&agent_photo).unwrap());
}

#[test]
fn search_finds_by_every_key_newest_first() {
    let (_dir, mut store) = open();
    let people = [
        person("张三", "19500101", "001", "13800138001"),
        person("张小红", "19520202", "002", "13900139002"),
        person("李四", "19530303", "003", "13700137003"),
        person("曾国强", "19540404", "004", "13600136004"),
    ];
    for p in &people {
        std::thread::sleep(std::time::Duration::from_millis(3));
        let mut p = p.clone();
        p.updated_at = Utc::now();
        store.create(&p, &clerk()).unwrap();
    }
    fn found(store: &Store, q: &str) -> Vec<String> {
        store
            .search(q, 50)
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect()
    }
    let names = |q: &str| found(&store, q);
    assert_eq!(names("张"), vec!["张小红", "张三"], "surname, newest first");
    assert_eq!(names("小红"), vec!["张小红"], "given name");
    assert_eq!(names("zs"), vec!["张三"], "pinyin initials");
    assert_eq!(names("zx"), vec!["张小红"]);
    assert_eq!(names("zhangxiao"), vec!["张小红"], "full pinyin");
    assert_eq!(names("ZGQ"), vec!["曾国强"], "曾 as a surname reads zeng");
    let id = &people[2].applicant.id_number;
    assert_eq!(names(id), vec!["李四"], "whole ID number");
    assert_eq!(names(&id[id.len() - 4..]), vec!["李四"], "last 4 of the ID");
    assert!(
        names(&id[id.len() - 5..]).is_empty(),
        "the fifth from the end is a hidden birth digit"
    );
    assert!(
        names("110105195303").is_empty(),
        "a part of the masked digits finds nothing"
    );
    assert_eq!(names("110105").len(), 4, "the region code, as lists show it");
    assert_eq!(names("9002"), vec!["张小红"], "mobile suffix");
    assert_eq!(names("王"), Vec::<String>::new());
    assert_eq!(names(""), Vec::<String>::new());

    // A change moves an application to the top.
    let mut li = store.get(people[2].id).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(3));
    li.residence.address = "西城区".into();
    store.save(&mut li).unwrap();
    assert_eq!(store.list(None, 1, 0).unwrap()[0].name, "李四");
    // Renaming updates the search columns.
    li.applicant.name = "李思".into();
    store.save(&mut li).unwrap();
    assert_eq!(found(&store, "李思"), vec!["李思"]);
    assert_eq!(
        found(&store, "李四"),
        Vec::<String>::new(),
        "the old name is gone"
    );
}

#[test]
fn lists_filter_by_status_and_mask_ids() {
    let (_dir, mut store) = open();
    let app = complete(&store);
    store.create(&app, &clerk()).unwrap();
    store
        .create(&Application::new(Utc::now()), &clerk())
        .unwrap();
    store.submit(app.id, &clerk(), today()).unwrap();
    let queued = store.list(Some(Status::Queued), 10, 0).unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].masked_id_number(), "110105********002X");
    assert_eq!(
        store.counts().unwrap(),
        vec![(Status::Draft, 1), (Status::Queued, 1)]
    );
    let prefix = &app.id.to_string()[..8];
    assert_eq!(store.resolve(prefix).unwrap(), app.id);
}

#[test]
fn the_audit_log_records_who_did_what_and_no_personal_data() {
    let (_dir, mut store) = open();
    let app = complete(&store);
    store.create(&app, &clerk()).unwrap();
    store.submit(app.id, &clerk(), today()).unwrap();
    store.withdraw(app.id, &clerk()).unwrap();
    store.delete(app.id, &clerk()).unwrap();
    let entries = store.audit_entries(Some(app.id)).unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        vec!["create", "transition", "transition", "delete"]
    );
    assert!(
        entries
            .iter()
            .all(|e| e.operator_id == "C001" && e.operator_name == "李娜")
    );
    let dump = format!("{entries:?}");
    for secret in [
        &app.applicant.id_number,
        &app.applicant.name,
        &app.applicant.mobile,
        &app.residence.address,
    ] {
        assert!(!dump.contains(secret.as_str()), "audit holds {secret}");
    }
}

#[test]
fn a_very_common_surname_gives_the_newest_matches_in_order() {
    // Enough 王 to take the dense plan (walk newest first), mixed with others.
    let (_dir, mut store) = open();
    let base = Utc::now() - chrono::Duration::days(1);
    let apps: Vec<Application> = (0..2400)
        .map(|i| {
            let mut app = Application::new(base);
            app.applicant.name = if i % 3 == 0 {
                format!("李{}", i % 7)
            } else {
                "王秀英".into()
            };
            app.applicant.id_number = format!("{i:018}");
            app.updated_at = base + chrono::Duration::seconds(i);
            app
        })
        .collect();
    store.create_batch(&apps, &clerk()).unwrap();
    let expected: Vec<uuid::Uuid> = apps
        .iter()
        .rev()
        .filter(|a| a.applicant.name.starts_with('王'))
        .take(50)
        .map(|a| a.id)
        .collect();
    let found: Vec<uuid::Uuid> = store
        .search("王", 50)
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(found, expected);
    let by_initials: Vec<uuid::Uuid> = store
        .search("wxy", 50)
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(by_initials, expected, "pinyin initials take the same plan");
    // A rare name among them still takes the sparse plan, newest first.
    let li: Vec<String> = store
        .search("李3", 5)
        .unwrap()
        .into_iter()
        .map(|s| s.id.to_string())
        .collect();
    let expected_li: Vec<String> = apps
        .iter()
        .rev()
        .filter(|a| a.applicant.name == "李3")
        .take(5)
        .map(|a| a.id.to_string())
        .collect();
    assert_eq!(li, expected_li);
}

// What the counts must be: counted from the rows themselves.
}

fn counted(store: &Store) -> Vec<(Status, usize)> {
    let mut stmt = store
        .connection()
        .prepare("SELECT status, count(*) FROM applications GROUP BY status")
        .unwrap();
    let mut out: Vec<(Status, usize)> = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .map(|(s, n)| (Status::from_key(&s).unwrap(), n as usize))
        .collect();
    out.sort_by_key(|(s, _)| Status::ALL.iter().position(|x| x == s));
    out
}

/// Undo migrations 5 to 13 on a store written by this build: what a version-4 file holds.
fn back_to_version_4(store: &Store) {
    store
        .connection()
        .execute_batch(
            "ALTER TABLE outbox DROP COLUMN claim_holder;
             DROP INDEX status_history_status_at; DROP INDEX audit_log_action_at;
             DROP INDEX applications_agent_name; DROP INDEX applications_agent_name_rev;
             DROP INDEX applications_agent_initials; DROP INDEX applications_agent_pinyin;
             DROP INDEX applications_agent_id_rev; DROP INDEX applications_agent_mobile;
             ALTER TABLE applications DROP COLUMN agent_name;
             ALTER TABLE applications DROP COLUMN agent_name_rev;
             ALTER TABLE applications DROP COLUMN agent_initials;
             ALTER TABLE applications DROP COLUMN agent_pinyin;
             ALTER TABLE applications DROP COLUMN agent_id_rev;
             ALTER TABLE applications DROP COLUMN agent_mobile_rev;
             ALTER TABLE applications DROP COLUMN agent_id_card;
             ALTER TABLE applications DROP COLUMN authorisation;
             DROP TABLE sign_in_attempts; DROP TABLE draft_leases;
             ALTER TABLE applications DROP COLUMN version;
             DROP TRIGGER operators_never_deleted; DROP TABLE operators;
             DROP TABLE imported_originals;
             DROP TRIGGER return_reason_insert; DROP TRIGGER return_reason_update;
             ALTER TABLE applications DROP COLUMN return_reason;
             ALTER TABLE outbox DROP COLUMN claim_token; ALTER TABLE outbox DROP COLUMN claimed_by;
             ALTER TABLE outbox DROP COLUMN lease_until; ALTER TABLE outbox DROP COLUMN posted_at;
             DROP TRIGGER application_number_insert; DROP TRIGGER application_number_update;
             DROP TRIGGER status_counts_insert; DROP TRIGGER status_counts_delete;
             DROP TRIGGER status_counts_update; DROP TABLE status_counts;
             ALTER TABLE applications DROP COLUMN application_number;
             DROP INDEX audit_log_unchained;
             PRAGMA user_version = 4;",
        )
        .unwrap();
}

#[test]
fn the_counts_of_a_store_from_before_version_5_are_its_rows() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("v4.sqlite3");
    {
        let mut conn = Connection::open(&path).unwrap();
        schema::migrate_to(&mut conn, 4).unwrap();
    }
    // Applications written by this build, then the file rolled back to version 4.
    {
        let mut store = Store::open_plain(&path).unwrap();
        let app = complete(&store);
        store.create(&app, &clerk()).unwrap();
        store.submit(app.id, &clerk(), today()).unwrap();
        for _ in 0..3 {
            store
                .create(&Application::new(Utc::now()), &clerk())
                .unwrap();
        }
        back_to_version_4(&store);
    }
    let store = Store::open_plain(&path).unwrap();
    assert_eq!(
        store.counts().unwrap(),
        vec![(Status::Draft, 3), (Status::Queued, 1)]
    );
}

#[test]
fn the_application_numbers_of_a_store_from_before_version_5_are_listed() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("v4.sqlite3");
    let id = {
        let mut store = Store::open_plain(&path).unwrap();
        let app = complete(&store);
        store.create(&app, &clerk()).unwrap();
        store.submit(app.id, &clerk(), today()).unwrap();
        let claim = store
            .claim_next("test", Utc::now(), Duration::from_secs(60), true, &[])
            .unwrap()
            .unwrap();
        store
            .outbox_delivered(&claim, "SBK2026000123", &clerk())
            .unwrap();
        back_to_version_4(&store);
        app.id
    };
    let store = Store::open_plain(&path).unwrap();
    let listed = store.list(None, 10, 0).unwrap();
    assert_eq!(listed[0].id, id);
    assert_eq!(
        listed[0].application_number.as_deref(),
        Some("SBK2026000123")
    );
}

#[derive(Clone, Debug)]
enum Change {
    NewDraft,
    NewComplete,
    Submit(usize),
    Withdraw(usize),
    Delete(usize),
    MoveTo(usize, usize),
    Save(usize),
    /// The oldest queued one is accepted by the central API and gets its number.
    Deliver,
}

fn change() -> impl proptest::strategy::Strategy<Value = Change> {
    use proptest::prelude::*;
    prop_oneof![
        Just(Change::NewDraft),
        Just(Change::NewComplete),
        any::<usize>().prop_map(Change::Submit),
        any::<usize>().prop_map(Change::Withdraw),
        any::<usize>().prop_map(Change::Delete),
        (any::<usize>(), 0..Status::ALL.len()).prop_map(|(a, s)| Change::MoveTo(a, s)),
        any::<usize>().prop_map(Change::Save),
        Just(Change::Deliver),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    /// Whatever happens to the applications (refused changes included), the counts and the
    /// application numbers the home screen shows are the rows' own.
    #[test]
    fn the_counts_follow_every_change(changes in proptest::collection::vec(change(), 1..40)) {
        let (_dir, mut store) = open();
        let mut ids: Vec<uuid::Uuid> = Vec::new();
        let pick = |ids: &[uuid::Uuid], k: usize| (!ids.is_empty()).then(|| ids[k % ids.len()]);
        for c in changes {
            match c {
                Change::NewDraft => {
                    let app = Application::new(Utc::now());
                    store.create(&app, &clerk()).unwrap();
                    ids.push(app.id);
                }
                Change::NewComplete => {
                    let app = complete(&store);
                    store.create(&app, &clerk()).unwrap();
                    ids.push(app.id);
                }
                Change::Submit(k) => if let Some(id) = pick(&ids, k) {
                    let _ = store.submit(id, &clerk(), today());
                },
                Change::Withdraw(k) => if let Some(id) = pick(&ids, k) {
                    let _ = store.withdraw(id, &clerk());
                },
                Change::Delete(k) => if let Some(id) = pick(&ids, k)
                    && store.delete(id, &clerk()).is_ok() {
                    ids.retain(|x| *x != id);
                },
                Change::MoveTo(k, s) => if let Some(id) = pick(&ids, k) {
                    let _ = store.transition(id, Status::ALL[s], &clerk(), None);
                },
                Change::Save(k) => if let Some(id) = pick(&ids, k) {
                    let mut app = store.get(id).unwrap();
                    app.residence.address = format!("复兴路{k}号");
                    let _ = store.save(&mut app);
                },
                Change::Deliver => if let Some(claim) = store
                    .claim_next("test", Utc::now(), Duration::from_secs(60), true, &[])
                    .unwrap()
                {
                    let number = format!("SBK{}", claim.entry.id);
                    if store.get(claim.entry.application_id).unwrap().status == Status::Queued {
                        store.outbox_delivered(&claim, &number, &clerk()).unwrap();
                    } else {
                        store.release_claim(&claim).unwrap();
                    }
                },
            }
            proptest::prop_assert_eq!(store.counts().unwrap(), counted(&store));
            let listed: Vec<Option<String>> = store
                .list(None, 100, 0)
                .unwrap()
                .into_iter()
                .map(|s| s.application_number)
                .collect();
            let from_bodies: Vec<Option<String>> = store
                .connection()
                .prepare("SELECT json_extract(body, '$.application_number') FROM applications
                          ORDER BY updated_at DESC LIMIT 100")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(|r| r.unwrap())
                .collect();
            proptest::prop_assert_eq!(listed, from_bodies);
        }
    }
}
