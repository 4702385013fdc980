//! A PostgreSQL cluster of the test's own (`scripts/pg-test-cluster`), for tests that
//! restart the server or read its log: the shared test server cannot be restarted under
//! the other tests. Made only where the tests have PostgreSQL (`SBK_TEST_PG_URL` is set,
//! as `scripts/test` sets it); `None` otherwise.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Cluster {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    /// `postgresql://postgres@127.0.0.1:PORT/postgres`
    pub url: String,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pg-test-cluster")
}

impl Cluster {
    pub fn start() -> Option<Cluster> {
        super::signin::pg_url()?;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_owned();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let out = Command::new(script())
            .arg("start")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "the test cluster did not start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let url = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        Some(Cluster {
            _dir: dir,
            dir: path,
            url,
        })
    }

    /// A new, empty database; its URL.
    pub fn database(&self) -> String {
        let name = format!("sbk_f_{}", uuid::Uuid::new_v4().simple());
        self.admin()
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        self.url_of(&name)
    }

    pub fn url_of(&self, database: &str) -> String {
        format!("{}/{database}", self.url.rsplit_once('/').unwrap().0)
    }

    /// The server's address, `127.0.0.1:PORT`.
    pub fn addr(&self) -> std::net::SocketAddr {
        let rest = self.url.split_once('@').unwrap().1;
        rest.split_once('/').unwrap().0.parse().unwrap()
    }

    pub fn admin(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).unwrap()
    }

    /// Restart the server as a centre's restarts (fast shutdown: every session ends).
    pub fn restart(&self) {
        let out = Command::new(script())
            .arg("restart")
            .arg(&self.dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "the test cluster did not restart: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(script()).arg("stop").arg(&self.dir).output();
    }
}
