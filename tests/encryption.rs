//! Encryption at rest and who can open the store: the store is SQLCipher in every build,
//! its key wrapped once per operator (key slots), a recovery key for the supervisor's
//! paper, a delivery key for cron; a plain store of an earlier version is converted.

mod common;

use std::path::Path;

use chrono::Utc;
use sbk_counter::access::{self, AccessError, NewOperator, StoreState};
use sbk_counter::domain::synthetic::{Rng, application};
use sbk_counter::domain::{PhotoRef, PhotoSlot, Status};
use sbk_counter::keys::{DataKey, Kdf, KeyFileError, Password, Policy};
use sbk_counter::store::{DB_FILE, Role, Store, StoreError};

use common::signin::{OPERATOR, PASSWORD, operator};

fn pw(s: &str) -> Password {
    Password::new(s)
}

fn supervisor(id: &str, password: &str) -> NewOperator {
    NewOperator {
        id: id.into(),
        name: "王芳".into(),
        role: Role::Supervisor,
        password: pw(password),
    }
}

fn sign_in(dir: &Path, id: &str, password: &str) -> Result<access::Session, AccessError> {
    access::sign_in(
        dir,
        id,
        &pw(password),
        Policy::default(),
        Utc::now(),
        "test",
    )
}

/// Everything the store's folder holds, read raw as an attacker with the disk would.
fn raw_folder(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            all.extend(std::fs::read(&path).unwrap());
        }
    }
    all
}

fn holds(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A draft with a (real JPEG) card photo, made by C001 in `dir`.
fn draft_with_photo(dir: &Path, seed: u64) -> sbk_counter::domain::Application {
    draft_and_photo(dir, seed).0
}

/// The draft and its photo's bytes.
fn draft_and_photo(dir: &Path, seed: u64) -> (sbk_counter::domain::Application, Vec<u8>) {
    let session = common::signin::session(dir);
    let mut store = session.store;
    let mut app = application(&mut Rng::new(seed), Utc::now(), 0);
    app.status = Status::Draft;
    let jpeg = sbk_counter::photo::synthetic::card_photo_jpeg(seed);
    let sha = store
        .put_photo(&jpeg, PhotoSlot::CardPhoto, "image/jpeg", 358, 441)
        .unwrap();
    app.photos.card_photo = Some(PhotoRef {
        sha256: sha,
        source_name: None,
    });
    store.create(&app, &operator()).unwrap();
    (app, jpeg)
}

#[test]
fn the_store_and_its_folder_hold_no_personal_data_in_the_clear() {
    let dir = tempfile::tempdir().unwrap();
    let (app, jpeg) = draft_and_photo(dir.path(), 31);
    // The photo's header and a stretch of its image data (a needle long enough that
    // encrypted bytes do not hold it by chance).
    let mid = jpeg.len() / 2;
    let raw = raw_folder(dir.path());
    assert!(!raw.starts_with(b"SQLite format 3"));
    for needle in [
        app.applicant.id_number.as_bytes(),
        app.applicant.name.as_bytes(),
        app.applicant.mobile.as_bytes(),
        app.residence.address.as_bytes(),
        &jpeg[..12],
        &jpeg[mid..mid + 32],
        PASSWORD.as_bytes(),
    ] {
        assert!(
            !holds(&raw, needle),
            "{:?} is in the folder",
            String::from_utf8_lossy(needle)
        );
    }
    // Without a key the file does not open, with another key neither.
    assert!(matches!(
        Store::open_plain(&dir.path().join(DB_FILE)),
        Err(StoreError::Encrypted)
    ));
    assert!(matches!(
        Store::open_dir(dir.path(), &DataKey::generate()),
        Err(StoreError::WrongKey)
    ));
    assert_eq!(
        common::signin::open_store(dir.path())
            .unwrap()
            .get(app.id)
            .unwrap(),
        app
    );
}

#[test]
fn a_store_moved_to_another_pc_opens_with_an_operators_password() {
    let dir = tempfile::tempdir().unwrap();
    let app = draft_with_photo(dir.path(), 32);
    let other = tempfile::tempdir().unwrap();
    for name in [DB_FILE, "keys.json"] {
        std::fs::copy(dir.path().join(name), other.path().join(name)).unwrap();
    }
    let session = sign_in(other.path(), OPERATOR, PASSWORD).unwrap();
    assert_eq!(session.store.get(app.id).unwrap(), app);
    assert!(sign_in(other.path(), OPERATOR, "wrong-password").is_err());
}

#[test]
fn a_plain_store_of_an_earlier_version_is_encrypted_at_setup_and_its_plaintext_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = application(&mut Rng::new(33), Utc::now(), 0);
    app.status = Status::Draft;
    {
        let mut plain = Store::open_plain(&dir.path().join(DB_FILE)).unwrap();
        plain.create(&app, &operator()).unwrap();
    }
    assert!(holds(
        &raw_folder(dir.path()),
        app.applicant.id_number.as_bytes()
    ));
    assert_eq!(access::state(dir.path()).unwrap(), StoreState::Plain);
    let (session, _recovery) = access::setup(
        dir.path(),
        &supervisor("S001", "supervisor-1"),
        Kdf::FOR_TESTS,
        8,
        None,
    )
    .unwrap();
    assert_eq!(session.store.get(app.id).unwrap(), app);
    let actions: Vec<(String, Option<String>)> = session
        .store
        .audit_entries(None)
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.detail))
        .collect();
    assert!(
        actions.contains(&("setup".into(), Some("converted".into()))),
        "{actions:?}"
    );
    assert!(session.store.verify_audit().unwrap().broken.is_none());
    drop(session);
    let raw = raw_folder(dir.path());
    assert!(!holds(&raw, app.applicant.id_number.as_bytes()));
    assert!(!holds(&raw, app.applicant.name.as_bytes()));
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("encrypting"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(
        sign_in(dir.path(), "S001", "supervisor-1")
            .unwrap()
            .store
            .get(app.id)
            .unwrap(),
        app
    );
}

#[test]
fn a_store_an_earlier_version_encrypted_with_a_passphrase_is_converted_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = application(&mut Rng::new(34), Utc::now(), 0);
    app.status = Status::Draft;
    let plain_path = dir.path().join("plain.sqlite3");
    {
        let mut plain = Store::open_plain(&plain_path).unwrap();
        plain.create(&app, &operator()).unwrap();
        let conn = plain.connection();
        conn.execute(
            "ATTACH DATABASE ?1 AS legacy KEY 'correct horse battery'",
            [dir.path().join(DB_FILE).to_string_lossy()],
        )
        .unwrap();
        conn.query_row("SELECT sqlcipher_export('legacy')", [], |_| Ok(()))
            .unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        conn.pragma_update(Some("legacy"), "user_version", v)
            .unwrap();
        conn.execute("DETACH DATABASE legacy", []).unwrap();
    }
    std::fs::remove_file(&plain_path).unwrap();
    assert_eq!(access::state(dir.path()).unwrap(), StoreState::KeysMissing);
    // Without the old passphrase it cannot be converted, and says why.
    let err = access::setup(
        dir.path(),
        &supervisor("S001", "supervisor-1"),
        Kdf::FOR_TESTS,
        8,
        None,
    )
    .unwrap_err();
    assert!(matches!(err, AccessError::KeysMissing), "{err}");
    let (session, _) = access::setup(
        dir.path(),
        &supervisor("S001", "supervisor-1"),
        Kdf::FOR_TESTS,
        8,
        Some("correct horse battery"),
    )
    .unwrap();
    assert_eq!(session.store.get(app.id).unwrap(), app);
}

#[test]
fn operators_get_slots_lose_them_when_disabled_and_choose_a_new_password_after_a_reset() {
    let dir = tempfile::tempdir().unwrap();
    let mut boss = common::signin::session(dir.path());
    let clerk = NewOperator {
        id: "C002".into(),
        name: "张伟".into(),
        role: Role::Clerk,
        password: pw("clerk-pass-2"),
    };
    boss.add_operator(&clerk, 8).unwrap();
    let mut c = sign_in(dir.path(), "C002", "clerk-pass-2").unwrap();
    assert_eq!(c.account.role, Role::Clerk);
    // A clerk manages no one.
    assert!(matches!(
        c.add_operator(&supervisor("S009", "whatever-1"), 8),
        Err(AccessError::NotSupervisor(_))
    ));
    assert!(matches!(
        c.disable_operator(OPERATOR),
        Err(AccessError::NotSupervisor(_))
    ));
    drop(c);
    // A 工号 is used once; a short password is refused.
    assert!(matches!(
        boss.add_operator(&clerk, 8),
        Err(AccessError::Store(StoreError::OperatorExists(_)))
    ));
    let short = NewOperator {
        id: "C003".into(),
        password: pw("short"),
        ..clerk.clone()
    };
    assert!(matches!(
        boss.add_operator(&short, 8),
        Err(AccessError::Invalid(_))
    ));
    // Disabled: the password opens nothing (the slot is gone), the account stays named.
    boss.disable_operator("C002").unwrap();
    assert!(sign_in(dir.path(), "C002", "clerk-pass-2").is_err());
    assert!(!boss.store.operator_account("C002").unwrap().unwrap().active);
    // Nobody disables themselves, or the last supervisor.
    assert!(matches!(
        boss.disable_operator(OPERATOR),
        Err(AccessError::NotYourself)
    ));
    // Reset: enabled again, a temporary password, a new one chosen at sign-in.
    boss.reset_password("C002", &pw("temporary-1"), 8).unwrap();
    let mut c = sign_in(dir.path(), "C002", "temporary-1").unwrap();
    assert!(c.account.must_change);
    c.change_password(&pw("my-own-secret"), 8).unwrap();
    drop(c);
    let c = sign_in(dir.path(), "C002", "my-own-secret").unwrap();
    assert!(!c.account.must_change);
    assert!(sign_in(dir.path(), "C002", "temporary-1").is_err());
    let actions: Vec<String> = c
        .store
        .audit_entries(None)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    for a in [
        "operator_added",
        "operator_disabled",
        "operator_enabled",
        "password_reset",
        "password_changed",
    ] {
        assert!(
            actions.iter().any(|x| x == a),
            "{a} not audited: {actions:?}"
        );
    }
}

#[test]
fn wrong_passwords_lockouts_and_sign_ins_are_audited_once_the_store_opens() {
    let dir = tempfile::tempdir().unwrap();
    common::signin::ensure_setup(dir.path());
    let policy = Policy {
        max_attempts: 3,
        lockout: chrono::Duration::minutes(15),
    };
    for _ in 0..3 {
        let e = access::sign_in(
            dir.path(),
            OPERATOR,
            &pw("wrong"),
            policy,
            Utc::now(),
            "test",
        )
        .unwrap_err();
        assert!(matches!(e, AccessError::Keys(_)), "{e}");
    }
    let locked = access::sign_in(
        dir.path(),
        OPERATOR,
        &pw(PASSWORD),
        policy,
        Utc::now(),
        "test",
    )
    .unwrap_err();
    assert!(
        matches!(locked, AccessError::Keys(KeyFileError::Locked { .. })),
        "{locked}"
    );
    assert!(locked.to_string().contains("已锁定"), "{locked}");
    let later = Utc::now() + chrono::Duration::minutes(16);
    let session =
        access::sign_in(dir.path(), OPERATOR, &pw(PASSWORD), policy, later, "test").unwrap();
    session.sign_out().unwrap();
    let actions: Vec<String> = session
        .store
        .audit_entries(None)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    let count = |a: &str| actions.iter().filter(|x| *x == a).count();
    // Three wrong, and the right one tried while locked.
    assert_eq!(count("sign_in_failed"), 4, "{actions:?}");
    assert_eq!(count("locked_out"), 1, "{actions:?}");
    assert!(
        count("sign_in") >= 2 && count("sign_out") == 1,
        "{actions:?}"
    );
    assert!(session.store.verify_audit().unwrap().broken.is_none());
}

#[test]
fn the_recovery_key_opens_the_store_when_its_key_file_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let (session, recovery) = access::setup(
        dir.path(),
        &supervisor("S001", "supervisor-1"),
        Kdf::FOR_TESTS,
        8,
        None,
    )
    .unwrap();
    drop(session);
    let app = draft_with_photo_by(dir.path(), "S001", "supervisor-1", 35);
    std::fs::remove_file(dir.path().join("keys.json")).unwrap();
    assert_eq!(access::state(dir.path()).unwrap(), StoreState::KeysMissing);
    let e = sign_in(dir.path(), "S001", "supervisor-1").unwrap_err();
    assert!(e.to_string().contains("恢复密钥"), "{e}");
    // A mistyped recovery key is caught; a key of another store does not open this one.
    let mut typo = recovery.to_string();
    typo.replace_range(0..1, if typo.starts_with('A') { "B" } else { "A" });
    assert!(
        access::recover(
            dir.path(),
            &typo,
            "S001",
            &pw("new-password-1"),
            Kdf::FOR_TESTS,
            8
        )
        .is_err()
    );
    let other = DataKey::generate().recovery_text();
    assert!(matches!(
        access::recover(
            dir.path(),
            &other,
            "S001",
            &pw("new-password-1"),
            Kdf::FOR_TESTS,
            8
        ),
        Err(AccessError::WrongRecoveryKey)
    ));
    let session = access::recover(
        dir.path(),
        &recovery.to_lowercase(),
        "S001",
        &pw("new-password-1"),
        Kdf::FOR_TESTS,
        8,
    )
    .unwrap();
    assert_eq!(session.store.get(app.id).unwrap().id, app.id);
    drop(session);
    assert!(sign_in(dir.path(), "S001", "new-password-1").is_ok());
}

fn draft_with_photo_by(
    dir: &Path,
    id: &str,
    password: &str,
    seed: u64,
) -> sbk_counter::domain::Application {
    let mut store = sign_in(dir, id, password).unwrap().store;
    let mut app = application(&mut Rng::new(seed), Utc::now(), 0);
    app.status = Status::Draft;
    store.create(&app, &operator()).unwrap();
    app
}

#[test]
fn the_delivery_key_opens_the_store_for_sync_until_it_is_withdrawn() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = tempfile::tempdir().unwrap();
    common::signin::delivery_key(dir.path(), cfg.path());
    let file = cfg.path().join("delivery.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let secret = std::fs::read_to_string(&file).unwrap();
    let session = access::sign_in_delivery(dir.path(), &secret).unwrap();
    assert_eq!(session.account.id, access::DELIVERY_ID);
    drop(session);
    common::signin::session(dir.path())
        .remove_delivery_key()
        .unwrap();
    assert!(access::sign_in_delivery(dir.path(), &secret).is_err());
    // A clerk cannot make one.
    let mut boss = common::signin::session(dir.path());
    boss.add_operator(
        &NewOperator {
            id: "C002".into(),
            name: "张伟".into(),
            role: Role::Clerk,
            password: pw("clerk-pass-2"),
        },
        8,
    )
    .unwrap();
    let mut clerk = sign_in(dir.path(), "C002", "clerk-pass-2").unwrap();
    assert!(clerk.set_delivery_key(&file).is_err());
}

#[test]
fn damaged_key_slots_are_said_so_with_the_way_out() {
    let dir = tempfile::tempdir().unwrap();
    common::signin::ensure_setup(dir.path());
    std::fs::write(dir.path().join("keys.json"), b"\x00\x01garbage").unwrap();
    let e = sign_in(dir.path(), OPERATOR, PASSWORD).unwrap_err();
    assert!(
        e.to_string().contains("已损坏") && e.to_string().contains("sbk operators recover"),
        "{e}"
    );
}

/// Several threads opening the process's first connections at once each get
/// `sqlcipher_export` (SQLCipher registers it from a hook that runs after SQLite counts as
/// initialised; CI once saw a connection without it). Each try is a fresh process, since
/// only the first connections of a process can race.
#[test]
fn every_connection_has_sqlcipher_export_however_many_threads_open_the_first_at_once() {
    const CHILD: &str = "SBK_TEST_FIRST_CONNECTIONS";
    if let Some(dir) = std::env::var_os(CHILD) {
        let dir = std::path::PathBuf::from(dir);
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let path = dir.join(format!("{i}.sqlite3"));
                let copy = dir.join(format!("{i}-copy.sqlite3"));
                std::thread::spawn(move || {
                    let store = Store::open_plain(&path).unwrap();
                    let conn = store.connection();
                    conn.execute(
                        "ATTACH DATABASE ?1 AS copy KEY ''",
                        [copy.to_string_lossy()],
                    )
                    .unwrap();
                    conn.query_row("SELECT sqlcipher_export('copy')", [], |_| Ok(()))
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap().unwrap();
        }
        return;
    }
    let exe = std::env::current_exe().unwrap();
    for _ in 0..30 {
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new(&exe)
            .args([
                "--exact",
                "every_connection_has_sqlcipher_export_however_many_threads_open_the_first_at_once",
                "--nocapture",
            ])
            .env(CHILD, dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
