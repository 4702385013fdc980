//! The tests' operator and store: a data directory is set up at first use with supervisor
//! C001 李娜 (cheap Argon2 parameters, so that tests run fast) and opened with that
//! operator's key slot afterwards, as sbk opens it.

use std::path::Path;

use sbk_counter::access::{self, NewOperator, Session, StoreState};
use sbk_counter::keys::{DataKey, Kdf, KeyFile, Password, Policy};
use sbk_counter::store::{Operator, Role, Store, StoreError};

pub const OPERATOR: &str = "C001";
pub const NAME: &str = "李娜";
pub const PASSWORD: &str = "test-password-1";

pub fn operator() -> Operator {
    Operator {
        id: OPERATOR.into(),
        name: NAME.into(),
    }
}

/// Set `dir` up with C001 (a supervisor) if it is new.
pub fn ensure_setup(dir: &Path) {
    if access::state(dir) != StoreState::Ready {
        let (session, _) = access::setup(
            dir,
            &NewOperator {
                id: OPERATOR.into(),
                name: NAME.into(),
                role: Role::Supervisor,
                password: Password::new(PASSWORD),
            },
            Kdf::FOR_TESTS,
            8,
            None,
        )
        .unwrap();
        drop(session);
    }
}

/// C001 signed in on the store in `dir` (set up first if new).
pub fn session(dir: &Path) -> Session {
    ensure_setup(dir);
    access::sign_in(
        dir,
        OPERATOR,
        &Password::new(PASSWORD),
        Policy::default(),
        chrono::Utc::now(),
        "test",
    )
    .unwrap()
}

/// The data key of the store in `dir` (set up first if new), from C001's slot.
pub fn key(dir: &Path) -> DataKey {
    ensure_setup(dir);
    KeyFile::new(dir)
        .unlock(
            OPERATOR,
            &Password::new(PASSWORD),
            Policy::default(),
            chrono::Utc::now(),
        )
        .unwrap()
        .key
}

/// Another connection to the store in `dir`, as another process of sbk's opens it (set
/// up first if new).
pub fn open_store(dir: &Path) -> Result<Store, StoreError> {
    let key = key(dir);
    Store::open_dir(dir, &key)
}

/// A fixed key for tests that open a store file by its path.
pub fn test_key() -> DataKey {
    DataKey::from_bytes([7u8; 32])
}

/// Arguments that sign C001 in on the command line, with the password on stdin.
pub const CLI_SIGN_IN: [&str; 3] = ["--operator", OPERATOR, "--password-stdin"];

/// Give the store in `data_dir` a delivery key (as `sbk operators delivery-key` does),
/// written to `delivery.key` in `config_dir`, where `sbk sync` with a config file there
/// looks for it: cron's way of delivering, with nobody signed in.
pub fn delivery_key(data_dir: &Path, config_dir: &Path) {
    if config_dir.join("delivery.key").exists() {
        return;
    }
    let mut session = session(data_dir);
    session
        .set_delivery_key(&config_dir.join("delivery.key"))
        .unwrap();
}
