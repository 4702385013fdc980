//! Encryption at rest (the `encryption` feature: SQLCipher). Without the feature, a
//! configured passphrase is refused with a message rather than silently ignored.

use sbk_counter::domain::Status;
use sbk_counter::domain::synthetic::{Rng, application};
use sbk_counter::store::{Operator, Store, StoreError};

fn operator() -> Operator {
    Operator {
        id: "C001".into(),
        name: "李娜".into(),
    }
}

#[cfg(feature = "encryption")]
#[test]
fn an_encrypted_store_reads_back_only_with_its_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = application(&mut Rng::new(31), chrono::Utc::now(), 0);
    app.status = Status::Draft;
    {
        let mut store = Store::open_dir_keyed(dir.path(), Some("correct horse battery")).unwrap();
        store.create(&app, &operator()).unwrap();
    }
    // The file on disk is not SQLite's plain format and holds no personal data.
    let bytes = std::fs::read(dir.path().join("sbk.sqlite3")).unwrap();
    let wal = std::fs::read(dir.path().join("sbk.sqlite3-wal")).unwrap_or_default();
    assert!(!bytes.starts_with(b"SQLite format 3"));
    for haystack in [&bytes, &wal] {
        let text = String::from_utf8_lossy(haystack);
        assert!(!text.contains(&app.applicant.id_number));
        assert!(!text.contains(&app.applicant.name));
    }
    assert!(matches!(
        Store::open_dir(dir.path()),
        Err(StoreError::Encrypted)
    ));
    assert!(matches!(
        Store::open_dir_keyed(dir.path(), Some("wrong")),
        Err(StoreError::WrongKey)
    ));
    let store = Store::open_dir_keyed(dir.path(), Some("correct horse battery")).unwrap();
    assert_eq!(store.get(app.id).unwrap(), app);
}

#[cfg(not(feature = "encryption"))]
#[test]
fn a_passphrase_without_the_feature_is_refused_not_ignored() {
    let dir = tempfile::tempdir().unwrap();
    const { assert!(!Store::ENCRYPTION_BUILT_IN) };
    let err = Store::open_dir_keyed(dir.path(), Some("secret"))
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::NoEncryption));
    assert!(err.to_string().contains("--features encryption"));
    // Nothing was half-written: a plain store opens as before.
    let mut store = Store::open_dir(dir.path()).unwrap();
    let mut app = application(&mut Rng::new(32), chrono::Utc::now(), 0);
    app.status = Status::Draft;
    store.create(&app, &operator()).unwrap();
}
