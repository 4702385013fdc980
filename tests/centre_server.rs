//! A centre's store on a real PostgreSQL server (the test server `SBK_TEST_PG_URL`; `.ci/run`
//! starts a throwaway cluster): signing in against the password hashes, two PCs
//! migrating at once, a newer schema refused, and a connection that breaks mid-session
//! without losing what the clerk typed. Without a test server these say so and check
//! nothing.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Utc;
use sbk_counter::access::{self, AccessError, Location, NewOperator, StoreState};
use sbk_counter::keys::{Kdf, KeyFileError, Password, Policy};
use sbk_counter::store::server::Server;
use sbk_counter::store::{Role, Store, StoreError};

/// A new, empty database on the test server.
fn database() -> Option<Server> {
    let base = common::signin::pg_url()?;
    let name = format!("sbk_c_{}", uuid::Uuid::new_v4().simple());
    postgres::Client::connect(&base, postgres::NoTls)
        .unwrap()
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    Some(Server {
        url: format!("{}/{name}", base.rsplit_once('/').unwrap().0),
        ca_file: None,
        window: "1号窗口".into(),
    })
}

macro_rules! server_or_skip {
    () => {
        match database() {
            Some(s) => s,
            None => {
                eprintln!("SBK_TEST_PG_URL is not set: not run on PostgreSQL");
                return;
            }
        }
    };
}

fn pw(s: &str) -> Password {
    Password::new(s)
}

fn set_up(server: &Server) {
    let first = NewOperator {
        id: "S001".into(),
        name: "王芳".into(),
        role: Role::Supervisor,
        password: pw("supervisor-1"),
    };
    access::setup(
        Location::Server(server.clone()),
        &first,
        Kdf::FOR_TESTS,
        8,
        None,
    )
    .unwrap();
}

fn sign_in(server: &Server, id: &str, password: &str) -> Result<access::Session, AccessError> {
    access::sign_in(
        Location::Server(server.clone()),
        id,
        &pw(password),
        Policy::default(),
        Utc::now(),
        "test",
    )
}

#[test]
fn operators_sign_in_against_their_hashes_and_five_wrong_lock_the_id() {
    let server = server_or_skip!();
    let at = Location::Server(server.clone());
    assert_eq!(access::state(&at).unwrap(), StoreState::New);
    set_up(&server);
    assert_eq!(access::state(&at).unwrap(), StoreState::Ready);
    // Set up once only.
    assert!(matches!(
        access::setup(
            &at,
            &NewOperator {
                id: "S002".into(),
                name: "李四".into(),
                role: Role::Supervisor,
                password: pw("another-1"),
            },
            Kdf::FOR_TESTS,
            8,
            None
        ),
        Err(AccessError::AlreadySetUp)
    ));
    let mut boss = sign_in(&server, "S001", "supervisor-1").unwrap();
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
    // The password is kept as an Argon2id hash, never as itself.
    let phc = boss.store.operator_password("C002").unwrap().unwrap();
    assert!(phc.starts_with("$argon2id$") && !phc.contains("clerk-pass-2"));
    assert!(sign_in(&server, "C002", "clerk-pass-2").is_ok());
    // The same words for a wrong password and an unknown 工号; five wrong lock.
    let known = sign_in(&server, "C002", "wrong").unwrap_err().to_string();
    let unknown = sign_in(&server, "X404", "wrong").unwrap_err().to_string();
    assert_eq!(known, unknown);
    for _ in 0..4 {
        let _ = sign_in(&server, "C002", "wrong");
    }
    assert!(matches!(
        sign_in(&server, "C002", "clerk-pass-2"),
        Err(AccessError::Keys(KeyFileError::Locked { .. }))
    ));
    // Disabled: nothing opens; reset: a new password, chosen anew at sign-in.
    boss.disable_operator("C002").unwrap();
    assert!(boss.store.operator_password("C002").unwrap().is_none());
    boss.reset_password("C002", &pw("temporary-1"), 8).unwrap();
    let c = sign_in(&server, "C002", "temporary-1").unwrap();
    assert!(c.account.must_change);
    let actions: Vec<String> = c
        .store
        .audit_entries(None)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    let count = |a: &str| actions.iter().filter(|x| *x == a).count();
    assert_eq!(count("sign_in_failed"), 7, "{actions:?}");
    assert_eq!(count("locked_out"), 1);
    assert!(c.store.verify_audit().unwrap().broken.is_none());
    // The lock screen's check (on a thread in the wizard) works the same way.
    let v = c
        .verify("S001", &pw("supervisor-1"), Policy::default(), Utc::now())
        .unwrap();
    assert_eq!(v.id, "S001");
}

#[test]
fn two_pcs_starting_at_once_migrate_once_and_a_newer_schema_is_refused() {
    let server = server_or_skip!();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let s = server.clone();
            std::thread::spawn(move || Store::open_server(&s).map(|_| ()))
        })
        .collect();
    for t in threads {
        t.join().unwrap().unwrap();
    }
    let mut admin = postgres::Client::connect(&server.url, postgres::NoTls).unwrap();
    let rows: i64 = admin
        .query_one("SELECT count(*) FROM sbk_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows as usize, sbk_counter::store::schema_pg::LATEST);
    admin
        .execute("INSERT INTO sbk_schema (version) VALUES (99)", &[])
        .unwrap();
    let err = Store::open_server(&server).err().unwrap();
    assert!(matches!(err, StoreError::TooNew { found: 99, .. }), "{err}");
    assert!(err.to_string().contains("请升级 sbk"));
}

#[test]
fn an_unreachable_server_and_a_wrong_password_say_so() {
    let Some(base) = common::signin::pg_url() else {
        eprintln!("SBK_TEST_PG_URL is not set: not run on PostgreSQL");
        return;
    };
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let err = Store::open_server(&Server {
        url: format!("postgresql://postgres@127.0.0.1:{closed}/postgres"),
        ca_file: None,
        window: "x".into(),
    })
    .err()
    .unwrap();
    assert!(err.to_string().contains("无法连接中心数据库"), "{err}");
    // A server off this machine must speak TLS: plain is refused before a password goes.
    let err = Store::open_server(&Server {
        url: format!("{base}?sslmode=require"),
        ca_file: None,
        window: "x".into(),
    })
    .err()
    .unwrap();
    assert!(err.to_string().contains("中心数据库"), "{err}");
}

/// A TCP forwarder to the test server that can be cut, as a network cable can.
struct Cable {
    port: u16,
    up: Arc<AtomicBool>,
    conns: Arc<std::sync::Mutex<Vec<TcpStream>>>,
}

impl Cable {
    fn to(upstream: std::net::SocketAddr) -> Cable {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let conns: Arc<std::sync::Mutex<Vec<TcpStream>>> = Default::default();
        let (u, c) = (up.clone(), conns.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if !u.load(Ordering::SeqCst) {
                    continue;
                }
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                c.lock().unwrap().push(client.try_clone().unwrap());
                c.lock().unwrap().push(server.try_clone().unwrap());
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 16384];
                        while let Ok(n) = from.read(&mut buf) {
                            if n == 0 || to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Cable { port, up, conns }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for c in self.conns.lock().unwrap().drain(..) {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
    }

    fn mend(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[test]
fn nothing_typed_is_lost_when_the_server_goes_away_and_comes_back() {
    let server = server_or_skip!();
    set_up(&server);
    let upstream = postgres::Config::from_str_checked(&server.url);
    let cable = Cable::to(upstream);
    let via = Server {
        url: server.url.replace(
            &format!(":{}", upstream.port()),
            &format!(":{}", cable.port),
        ),
        ..server.clone()
    };
    let mut store = Store::open_server(&via).unwrap();
    let mut app = sbk_counter::domain::Application::new(Utc::now());
    store.create(&app, &common::signin::operator()).unwrap();
    app = store.get(app.id).unwrap();
    cable.cut();
    app.residence.address = "朝阳区建国路88号".into();
    let err = store.save(&mut app).unwrap_err();
    assert!(err.is_connection(), "{err}");
    assert!(
        err.to_string().contains("连接已断开") || err.to_string().contains("无法连接"),
        "{err}"
    );
    cable.mend();
    // Saved again once the server is back (the wizard does this at its next heartbeat).
    store.save(&mut app).unwrap();
    let fresh = Store::open_server(&server).unwrap();
    assert_eq!(
        fresh.get(app.id).unwrap().residence.address,
        "朝阳区建国路88号"
    );
}

trait FromUrl {
    fn from_str_checked(url: &str) -> std::net::SocketAddr;
}

impl FromUrl for postgres::Config {
    fn from_str_checked(url: &str) -> std::net::SocketAddr {
        use std::str::FromStr;
        let c = postgres::Config::from_str(url).unwrap();
        let host = match &c.get_hosts()[0] {
            postgres::config::Host::Tcp(h) => h.clone(),
            #[allow(unreachable_patterns)]
            _ => panic!("a TCP host"),
        };
        format!("{host}:{}", c.get_ports()[0]).parse().unwrap()
    }
}
