//! The tests' operator and store: a data directory is set up at first use with supervisor
//! C001 李娜 (cheap Argon2 parameters, so that tests run fast) and opened with that
//! operator's key slot afterwards, as sbk opens it.

use std::path::Path;

use sbk_counter::access::{self, Location, NewOperator, Session, StoreState};
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

thread_local! {
    /// Whether the test on this thread runs on the PostgreSQL test server.
    static POSTGRES: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The test server (`SBK_TEST_PG_URL`, a throwaway cluster's `postgresql://…/postgres`).
pub fn pg_url() -> Option<String> {
    std::env::var("SBK_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// Run this thread's test on PostgreSQL: its stores are databases on the test server.
/// False (and nothing changes) when no server is given.
pub fn use_postgres() -> bool {
    let available = pg_url().is_some();
    POSTGRES.with(|p| p.set(available));
    available
}

/// Where the test store of `dir` is: the file in `dir`, or (for a test on PostgreSQL) a
/// database of its own on the test server, made the first time and named in
/// `dir/.pg-database` (so that threads the test starts find it too). A test with a server
/// of its own writes that database's whole URL there (`on_server`).
pub fn location(dir: &Path) -> Location {
    let marker = dir.join(".pg-database");
    let url = |name: &str| {
        if name.contains("://") {
            return name.to_owned();
        }
        let base = pg_url().expect("SBK_TEST_PG_URL");
        let (server, _) = base.rsplit_once('/').expect("a URL ending in /database");
        format!("{server}/{name}")
    };
    if let Ok(name) = std::fs::read_to_string(&marker) {
        return Location::Server(sbk_counter::store::server::Server {
            url: url(name.trim()),
            ca_file: None,
            window: "测试窗口".into(),
        });
    }
    if !POSTGRES.with(|p| p.get()) {
        return Location::File(dir.to_owned());
    }
    let name = format!("sbk_t_{}", uuid::Uuid::new_v4().simple());
    let mut admin = postgres::Client::connect(&pg_url().unwrap(), postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(&marker, &name).unwrap();
    location(dir)
}

/// Make `dir`'s test store the database at `url` (a server the test runs itself).
pub fn on_server(dir: &Path, url: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(".pg-database"), url).unwrap();
}

/// Set `dir` up with C001 (a supervisor) if it is new.
pub fn ensure_setup(dir: &Path) {
    let at = location(dir);
    if access::state(&at).unwrap() != StoreState::Ready {
        let (session, _) = access::setup(
            &at,
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
        location(dir),
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
    match location(dir) {
        Location::Server(s) => {
            ensure_setup(dir);
            Store::open_server(&s)
        }
        Location::File(_) => {
            let key = key(dir);
            Store::open_dir(dir, &key)
        }
    }
}

/// The environment that points `sbk` at the test store of `dir`: its data directory, and
/// the server's URL when the store is a database on the test server.
pub fn store_env(dir: &Path) -> Vec<(&'static str, String)> {
    let mut env = vec![("SBK_DATA_DIR", dir.display().to_string())];
    if let Location::Server(s) = location(dir) {
        env.push(("SBK_STORE_URL", s.url));
        env.push(("SBK_STORE_WINDOW", s.window));
    }
    env
}

/// `#[test] fn name() { … }` run twice: `name::sqlite` on the embedded file, and
/// `name::postgres` on the PostgreSQL test server when `SBK_TEST_PG_URL` gives one (`.ci/run`
/// always does; without it that half says so and checks nothing).
#[macro_export]
macro_rules! on_both_backends {
    ($(#[test] fn $name:ident() $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            fn sqlite() $body
            #[test]
            fn postgres() {
                if !$crate::common::signin::use_postgres() {
                    eprintln!("SBK_TEST_PG_URL is not set: not run on PostgreSQL");
                    return;
                }
                $body
            }
        }
    )*};
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
    // A centre's server is opened with its URL's credentials: no key to make.
    if config_dir.join("delivery.key").exists() || matches!(location(data_dir), Location::Server(_))
    {
        return;
    }
    let mut session = session(data_dir);
    session
        .set_delivery_key(&config_dir.join("delivery.key"))
        .unwrap();
}

/// `sbk` as C001 on the store in `data`, its config file `config`: signing in with the
/// password on standard input. Add the command's arguments; `output()` runs it.
pub fn sbk_signed_in(data: &Path, config: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("sbk").unwrap();
    cmd.env("SBK_DATA_DIR", data)
        .env("SBK_CONFIG", config)
        .env_remove("SBK_OPERATOR_ID")
        .args(CLI_SIGN_IN)
        .write_stdin(format!("{PASSWORD}\n"));
    cmd
}

/// What a command printed: exit code, standard output, standard error.
pub fn outcome(cmd: &mut assert_cmd::Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}
