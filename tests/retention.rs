//! Retention with a fake clock: 30 days after acceptance an application keeps only what
//! answers "where is my card"; its photos leave the store; old withdrawn drafts go.

mod common;
use chrono::{Duration, Utc};
use sbk_counter::domain::PhotoSlot;
use sbk_counter::domain::synthetic::{Rng, application};
use sbk_counter::domain::{Application, PhotoRef, Status};
use sbk_counter::photo::synthetic::{card_photo_jpeg, id_card_jpeg};
use sbk_counter::store::{AuditAction, Operator, Retention, Store};

fn operator() -> Operator {
    Operator {
        id: "C001".into(),
        name: "李娜".into(),
    }
}

fn with_photos(store: &Store, app: &mut Application, seed: u64) {
    let put = |bytes: Vec<u8>, kind| {
        Some(PhotoRef {
            sha256: store.put_photo(&bytes, kind, "image/jpeg", 0, 0).unwrap(),
            source_name: None,
        })
    };
    app.photos.card_photo = put(card_photo_jpeg(seed), PhotoSlot::CardPhoto);
    app.photos.id_front = put(id_card_jpeg(seed, false), PhotoSlot::IdFront);
    app.photos.id_back = put(id_card_jpeg(seed, true), PhotoSlot::IdBack);
}

/// The store's file opened with its key, to read the rows as they are.
fn raw_rows(store: &Store, dir: &std::path::Path) -> rusqlite::Connection {
    let raw = rusqlite::Connection::open(store.path()).unwrap();
    raw.pragma_update(
        None,
        "key",
        common::signin::key(dir).sqlcipher_key().as_str(),
    )
    .unwrap();
    raw
}

/// An application delivered now (已提交), with the number `SQ<seed>`.
fn delivered(store: &mut Store, rng: &mut Rng, seed: u64) -> Application {
    delivered_as(store, rng, seed, false)
}

/// … applied for by an agent (代办), with the agent's ID card kept, if `by_agent`.
fn delivered_as(store: &mut Store, rng: &mut Rng, seed: u64, by_agent: bool) -> Application {
    let mut app = application(rng, Utc::now(), 0);
    if by_agent {
        sbk_counter::domain::synthetic::by_agent(&mut app, rng);
        app.agent.photos.id_card = Some(PhotoRef {
            sha256: store
                .put_photo(
                    &id_card_jpeg(seed + 1000, false),
                    PhotoSlot::AgentIdCard,
                    "image/jpeg",
                    0,
                    0,
                )
                .unwrap(),
            source_name: None,
        });
    }
    app.status = Status::Draft;
    with_photos(store, &mut app, seed);
    app.card_issuer = Some(sbk_counter::domain::CardIssuer {
        bank_code: "102".into(),
        bank_name: "中国工商银行".into(),
        branch_code: "102110105001".into(),
        branch_name: "中国工商银行北京朝阳区支行".into(),
    });
    app.consents.declaration_agreed_at = Some(Utc::now());
    store.create(&app, &operator()).unwrap();
    let today = sbk_counter::domain::dates::beijing_date(Utc::now());
    store.submit(app.id, &operator(), today).unwrap();
    let claim = store
        .claim_next(
            "test",
            Utc::now(),
            std::time::Duration::from_secs(60),
            true,
            &[],
        )
        .unwrap()
        .unwrap();
    store
        .outbox_delivered(&claim, &format!("SQ{seed:016}"), &operator())
        .unwrap();
    store.get(app.id).unwrap()
}

/// An application delivered and accepted now.
fn accepted(store: &mut Store, rng: &mut Rng, seed: u64) -> Application {
    let app = delivered(store, rng, seed);
    let step = sbk_counter::store::ProgressStep {
        to: Status::Accepted,
        at: Utc::now(),
        note: None,
        returned: None,
    };
    store
        .apply_progress(app.id, &format!("SQ{seed:016}"), step, &operator())
        .unwrap();
    store.get(app.id).unwrap()
}

#[test]
fn thirty_days_after_acceptance_only_what_finds_the_card_remains() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::signin::open_store(dir.path()).unwrap();
    let mut rng = Rng::new(21);
    let app = accepted(&mut store, &mut rng, 1);
    let card_sha = app.photos.card_photo.clone().unwrap().sha256;
    let now = Utc::now();

    // Day 29: nothing goes.
    let early = store
        .purge(
            now + Duration::days(29),
            Retention::new(30),
            false,
            &operator(),
        )
        .unwrap();
    assert!(early.reduced.is_empty());
    // Day 31, dry run: listed, nothing changed.
    let dry = store
        .purge(
            now + Duration::days(31),
            Retention::new(30),
            true,
            &operator(),
        )
        .unwrap();
    assert_eq!(dry.reduced.len(), 1);
    assert_eq!(dry.reduced[0].id, app.id);
    assert!(
        !dry.reduced[0]
            .masked_id_number
            .contains(&app.applicant.id_number[6..14])
    );
    assert_eq!(store.get(app.id).unwrap(), app);
    assert!(store.photo(&card_sha).unwrap().is_some());
    // Day 31: reduced.
    let done = store
        .purge(
            now + Duration::days(31),
            Retention::new(30),
            false,
            &operator(),
        )
        .unwrap();
    assert_eq!(done.reduced.len(), 1);
    assert_eq!(done.photos_removed, 3);
    let kept = store.get(app.id).unwrap();
    assert_eq!(kept.applicant.name, app.applicant.name);
    assert_eq!(kept.application_number, app.application_number);
    assert_eq!(kept.status, Status::Accepted);
    assert!(kept.purged_at.is_some());
    assert!(kept.applicant.id_number.contains('*'));
    assert!(
        kept.applicant
            .id_number
            .ends_with(&app.applicant.id_number[14..])
    );
    for gone in [
        &kept.applicant.mobile,
        &kept.applicant.birth_date,
        &kept.residence.address,
        &kept.pickup.mail.address,
        &kept.pickup.mail.recipient_mobile,
    ] {
        assert!(gone.is_empty(), "{gone}");
    }
    assert!(kept.photos.card_photo.is_none() && kept.photos.id_front.is_none());
    assert!(
        store.photo(&card_sha).unwrap().is_none(),
        "the photo's bytes are gone"
    );
    // Nothing of the person's number or phone is left anywhere in the database file's rows.
    let raw = raw_rows(&store, dir.path());
    let hits: i64 = raw
        .query_row(
            "SELECT count(*) FROM applications WHERE body LIKE '%' || ?1 || '%' OR id_number = ?1",
            [&app.applicant.id_number],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(hits, 0);
    // Still found by name and by the last digits, for "where is my card".
    assert_eq!(store.search(&app.applicant.name, 10).unwrap().len(), 1);
    assert_eq!(
        store
            .search(&app.applicant.id_number[14..], 10)
            .unwrap()
            .len(),
        1
    );
    // Done once; audited.
    let again = store
        .purge(
            now + Duration::days(40),
            Retention::new(30),
            false,
            &operator(),
        )
        .unwrap();
    assert!(again.reduced.is_empty());
    let purges = store
        .audit_entries(Some(app.id))
        .unwrap()
        .into_iter()
        .filter(|e| e.action == AuditAction::Purge.key())
        .count();
    assert_eq!(purges, 1);
    assert!(store.verify_audit().unwrap().broken.is_none());
}

#[test]
fn an_agents_number_phone_and_papers_go_with_the_applicants_and_the_name_still_finds_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::signin::open_store(dir.path()).unwrap();
    let mut rng = Rng::new(23);
    let app = delivered_as(&mut store, &mut rng, 7, true);
    let step = sbk_counter::store::ProgressStep {
        to: Status::Accepted,
        at: Utc::now(),
        note: None,
        returned: None,
    };
    store
        .apply_progress(app.id, "SQ0000000000000007", step, &operator())
        .unwrap();
    let agent_sha = app.agent.photos.id_card.clone().unwrap().sha256;
    // Before: a relative who calls is found by their phone's last digits.
    let tail = &app.agent.mobile[7..];
    assert_eq!(store.search(tail, 10).unwrap()[0].id, app.id);
    let done = store
        .purge(
            Utc::now() + Duration::days(31),
            Retention::new(30),
            false,
            &operator(),
        )
        .unwrap();
    assert_eq!(done.reduced.len(), 1);
    assert_eq!(done.photos_removed, 4, "the agent's ID card with the three");
    assert!(store.photo(&agent_sha).unwrap().is_none());
    let kept = store.get(app.id).unwrap();
    assert_eq!(kept.agent.name, app.agent.name);
    assert!(kept.agent.mobile.is_empty());
    assert!(kept.agent.id_number.contains('*'));
    assert!(kept.agent.photos.is_empty());
    // Found by the agent's name, not by a phone it no longer has.
    let found = store.search(&app.agent.name, 10).unwrap();
    assert_eq!(found[0].id, app.id);
    assert_eq!(found[0].agent_name, app.agent.name);
    assert!(store.search(tail, 10).unwrap().is_empty());
    let raw = raw_rows(&store, dir.path());
    let hits: i64 = raw
        .query_row(
            "SELECT count(*) FROM applications WHERE body LIKE '%' || ?1 || '%'
                 OR body LIKE '%' || ?2 || '%'",
            [&app.agent.id_number, &app.agent.mobile],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(hits, 0);
}

#[test]
fn old_withdrawn_drafts_go_and_everything_else_stays() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::signin::open_store(dir.path()).unwrap();
    let mut rng = Rng::new(22);
    // A withdrawn draft, an ordinary draft and a queued one.
    let mut withdrawn = application(&mut rng, Utc::now(), 0);
    withdrawn.status = Status::Draft;
    with_photos(&store, &mut withdrawn, 7);
    withdrawn.card_issuer = None;
    store.create(&withdrawn, &operator()).unwrap();
    store
        .transition(withdrawn.id, Status::Queued, &operator(), None)
        .unwrap();
    store.withdraw(withdrawn.id, &operator()).unwrap();
    let mut plain = application(&mut rng, Utc::now(), 0);
    plain.status = Status::Draft;
    store.create(&plain, &operator()).unwrap();
    let now = Utc::now();
    let recent = store
        .purge(
            now + Duration::days(10),
            Retention::new(30),
            false,
            &operator(),
        )
        .unwrap();
    assert!(recent.deleted.is_empty());
    let old = store
        .purge(
            now + Duration::days(31),
            Retention::new(30),
            false,
            &operator(),
        )
        .unwrap();
    assert_eq!(old.deleted.len(), 1);
    assert_eq!(old.deleted[0].id, withdrawn.id);
    assert!(!store.contains(withdrawn.id).unwrap());
    assert!(
        store.contains(plain.id).unwrap(),
        "a draft never withdrawn is the clerk's work"
    );
    assert_eq!(old.photos_removed, 3);
}

#[test]
fn sbk_purge_dry_run_lists_without_removing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::signin::open_store(dir.path()).unwrap();
    let app = accepted(&mut store, &mut Rng::new(23), 3);
    drop(store);
    let out = assert_cmd::Command::cargo_bin("sbk")
        .unwrap()
        .args(common::signin::CLI_SIGN_IN)
        .args(["purge", "--dry-run"])
        .write_stdin(format!("{}\n", common::signin::PASSWORD))
        .env("SBK_DATA_DIR", dir.path())
        .env("SBK_CONFIG", dir.path().join("config.toml"))
        .env("SBK_RETENTION_DAYS", "0")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{text}");
    assert!(text.contains("将精简 1 件"), "{text}");
    assert!(text.contains(&app.id.to_string()[..8]));
    assert!(!text.contains(&app.applicant.id_number), "masked: {text}");
    let store = common::signin::open_store(dir.path()).unwrap();
    assert!(store.get(app.id).unwrap().purged_at.is_none());
}

/// Every byte of the store as an attacker with the disk in hand reads it: the database
/// file, its WAL and its shared-memory file, while sbk still has it open.
fn raw_store(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for name in ["sbk.sqlite3", "sbk.sqlite3-wal", "sbk.sqlite3-shm"] {
        if let Ok(bytes) = std::fs::read(dir.join(name)) {
            all.extend(bytes);
        }
    }
    all
}

fn holds(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The store is encrypted (tests/encryption.rs finds none of this in its file at all);
/// what is deleted must be gone for someone who has the key too, an operator reading the
/// file's free pages. So this is checked on a plain file, whose bytes can be read: the
/// store's deleting is the same with or without encryption.
#[test]
fn purged_and_deleted_personal_data_is_gone_from_the_file_and_its_wal() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_plain(&dir.path().join("sbk.sqlite3")).unwrap();
    let mut rng = Rng::new(77);
    // One accepted long enough ago to be reduced, one draft the clerk deletes.
    let accepted_app = accepted(&mut store, &mut rng, 3);
    let mut draft = application(&mut rng, Utc::now(), 0);
    draft.status = Status::Draft;
    with_photos(&store, &mut draft, 4);
    store.create(&draft, &operator()).unwrap();
    // Many saves, as the wizard makes them: old versions of every page pile up in the WAL.
    for i in 0..20 {
        let mut d = store.get(draft.id).unwrap();
        d.residence.address = format!("{}{i}", draft.residence.address);
        store.save(&mut d).unwrap();
    }
    let photo_bytes = |store: &Store, app: &Application| -> Vec<Vec<u8>> {
        [
            &app.photos.card_photo,
            &app.photos.id_front,
            &app.photos.id_back,
        ]
        .into_iter()
        .flatten()
        .map(|p| store.photo(&p.sha256).unwrap().unwrap().bytes)
        .collect()
    };
    let mut secrets: Vec<Vec<u8>> = Vec::new();
    for app in [&accepted_app, &draft] {
        let a = &app.applicant;
        secrets.push(a.id_number.clone().into_bytes());
        secrets.push(a.mobile.clone().into_bytes());
        secrets.push(app.residence.address.clone().into_bytes());
        // A stretch from the middle of each photo: image data, not a common header.
        for bytes in photo_bytes(&store, app) {
            let mid = bytes.len() / 2;
            secrets.push(bytes[mid..mid + 64].to_vec());
        }
    }
    let before = raw_store(dir.path());
    assert!(
        secrets.iter().all(|s| holds(&before, s)),
        "the test finds what is there"
    );

    store.delete(draft.id, &operator()).unwrap();
    let report = store
        .purge(
            Utc::now() + Duration::days(31),
            Retention::new(30),
            false,
            &operator(),
        )
        .unwrap();
    assert_eq!(report.reduced.len(), 1);
    let after = raw_store(dir.path());
    for s in &secrets {
        assert!(
            !holds(&after, s),
            "{} bytes of deleted personal data are still on disk: {:?}",
            s.len(),
            String::from_utf8_lossy(s)
        );
    }
    // What finds the card is still there, and the store is whole.
    let kept = store.get(accepted_app.id).unwrap();
    assert_eq!(kept.applicant.name, accepted_app.applicant.name);
    assert!(store.integrity_ok().unwrap());
}

#[test]
fn every_status_has_a_rule_and_queued_applications_wait_for_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::signin::open_store(dir.path()).unwrap();
    let mut rng = Rng::new(91);
    let op = operator();
    let today = sbk_counter::domain::dates::beijing_date(Utc::now());
    let mut make = |store: &mut Store, status: Status| {
        let mut app = application(&mut rng, Utc::now(), 0);
        app.status = status;
        with_photos(store, &mut app, rng.below(1000));
        store.create(&app, &op).unwrap();
        app.id
    };
    let untouched = make(&mut store, Status::Draft);
    let returned = make(&mut store, Status::Returned);
    let delivered = delivered(&mut store, &mut Rng::new(92), 8).id;
    let queued = {
        let mut app = application(&mut Rng::new(93), Utc::now(), 0);
        app.status = Status::Draft;
        with_photos(&store, &mut app, 9);
        app.card_issuer = Some(sbk_counter::domain::CardIssuer {
            bank_code: "102".into(),
            bank_name: "中国工商银行".into(),
            branch_code: "102110105001".into(),
            branch_name: "中国工商银行北京朝阳区支行".into(),
        });
        app.consents.declaration_agreed_at = Some(Utc::now());
        store.create(&app, &op).unwrap();
        store.submit(app.id, &op, today).unwrap();
        app.id
    };
    let policy = Retention {
        days: 30,
        draft_days: 60,
    };
    let at = |d: i64| Utc::now() + Duration::days(d);
    // Within every period: nothing goes.
    let early = store.purge(at(59), policy, false, &op).unwrap();
    assert!(
        early.reduced.is_empty() && early.deleted.is_empty(),
        "{early:?}"
    );
    // Past the draft period: the untouched draft is deleted, the returned one reduced.
    let later = store.purge(at(61), policy, false, &op).unwrap();
    assert_eq!(
        later.deleted.iter().map(|p| p.id).collect::<Vec<_>>(),
        [untouched]
    );
    assert_eq!(
        later.reduced.iter().map(|p| p.id).collect::<Vec<_>>(),
        [returned]
    );
    assert_eq!(
        later.reduced[0].rule,
        sbk_counter::store::Rule::ReturnedNotCorrected
    );
    let kept = store.get(returned).unwrap();
    assert!(kept.purged_at.is_some() && kept.applicant.mobile.is_empty());
    // Delivered and never accepted: 30 + 60 days after delivery.
    let last = store.purge(at(91), policy, false, &op).unwrap();
    assert_eq!(
        last.reduced.iter().map(|p| p.id).collect::<Vec<_>>(),
        [delivered]
    );
    // Queued: the resident's request, kept until delivered however long it waits.
    let much_later = store.purge(at(1000), policy, false, &op).unwrap();
    assert!(much_later.reduced.is_empty() && much_later.deleted.is_empty());
    assert_eq!(much_later.queued_kept, 1);
    assert!(store.get(queued).unwrap().purged_at.is_none());
}

#[test]
fn imported_originals_leave_the_photo_folder_a_day_later_if_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::signin::open_store(&dir.path().join("data")).unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    let scan = photos.join("110105194912310021-front.jpg");
    let bytes = id_card_jpeg(3, false);
    std::fs::write(&scan, &bytes).unwrap();
    store
        .note_original(&scan, &sbk_counter::store::sha256_hex(&bytes))
        .unwrap();
    let changed = photos.join("edited.jpg");
    std::fs::write(&changed, b"before").unwrap();
    store
        .note_original(&changed, &sbk_counter::store::sha256_hex(b"before"))
        .unwrap();
    std::fs::write(&changed, b"edited since").unwrap();
    let untouched = photos.join("holiday.jpg");
    std::fs::write(&untouched, b"not imported").unwrap();
    // The same day: kept (it may be imported again).
    assert!(store.purge_originals(Utc::now(), false).unwrap().is_empty());
    let tomorrow = Utc::now() + Duration::days(2);
    assert_eq!(
        store.purge_originals(tomorrow, true).unwrap(),
        std::slice::from_ref(&scan)
    );
    assert!(scan.exists(), "a dry run removes nothing");
    assert_eq!(
        store.purge_originals(tomorrow, false).unwrap(),
        std::slice::from_ref(&scan)
    );
    assert!(!scan.exists());
    assert!(changed.exists(), "changed since: not sbk's to delete");
    assert!(untouched.exists(), "never imported");
}
