//! A proxy in front of a PostgreSQL server that reads the protocol going through it and,
//! when armed, breaks a connection at the worst moment: after a transaction's writes,
//! when its COMMIT (or an autocommit statement's Sync) comes. The server's backend is
//! terminated (`pg_terminate_backend`), or the server restarted, before the commit
//! reaches it; or the commit is let through and its answer lost on the way back.
//!
//! Only what it needs is read: the statements' text (Parse), which statement each
//! execution runs (Bind), transactions begun and ended by simple queries (BEGIN, COMMIT,
//! ROLLBACK), and on the way back the commands completed and ReadyForQuery.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What happens at the armed commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The backend is terminated before the COMMIT reaches it (its transaction is lost).
    Terminate,
    /// The server restarts before the COMMIT reaches it.
    Restart,
    /// The server commits; the connection breaks before its answer reaches the client.
    LoseReply,
    /// The network is cut as the COMMIT is sent; it reaches the server two seconds later
    /// (the server's session outlives the client's connection and commits after all).
    LateCommit,
}

struct Armed {
    /// Part of a statement the transaction ran (as the server sees it, `$1`…).
    matching: String,
    fault: Fault,
}

struct Shared {
    upstream: SocketAddr,
    admin_url: String,
    restart: Box<dyn Fn() + Send + Sync>,
    armed: Mutex<Option<Armed>>,
    /// New connections are refused (the server is unreachable).
    blocked: AtomicBool,
    /// Faults that went off.
    triggered: AtomicUsize,
    /// Faults whose doing is over.
    fired: AtomicUsize,
}

impl Shared {
    fn armed_count(&self) -> usize {
        self.triggered.load(Ordering::SeqCst)
    }
}

pub struct Tap {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Tap {
    /// A tap in front of the server at `upstream`; `admin_url` reaches it directly (to
    /// terminate backends); `restart` restarts it.
    pub fn start(
        upstream: SocketAddr,
        admin_url: &str,
        restart: impl Fn() + Send + Sync + 'static,
    ) -> Tap {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            upstream,
            admin_url: admin_url.to_owned(),
            restart: Box::new(restart),
            armed: Mutex::new(None),
            blocked: AtomicBool::new(false),
            triggered: AtomicUsize::new(0),
            fired: AtomicUsize::new(0),
        });
        let accepting = shared.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if accepting.blocked.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let shared = accepting.clone();
                std::thread::spawn(move || {
                    let _ = serve(client, shared);
                });
            }
        });
        Tap { addr, shared }
    }

    /// The URL of `database` through the tap.
    pub fn url(&self, database: &str) -> String {
        format!("postgresql://postgres@{}/{database}", self.addr)
    }

    /// Break the next commit of a transaction (or autocommit statement) that ran a
    /// statement containing `matching`. Once.
    pub fn arm(&self, matching: &str, fault: Fault) {
        *self.shared.armed.lock().unwrap() = Some(Armed {
            matching: matching.to_owned(),
            fault,
        });
    }

    /// Refuse new connections (`true`: the server is unreachable), or take them again.
    pub fn block(&self, blocked: bool) {
        self.shared.blocked.store(blocked, Ordering::SeqCst);
    }

    /// Disarm; whether the armed fault went off. Waits until what it did is over (the
    /// backend gone, the server back up, the connection cut).
    pub fn disarm(&self) -> bool {
        let went_off = self.shared.armed.lock().unwrap().take().is_none();
        let deadline = Instant::now() + Duration::from_secs(60);
        while went_off && self.shared.fired.load(Ordering::SeqCst) < self.shared.armed_count() {
            assert!(Instant::now() < deadline, "the fault never finished");
            std::thread::sleep(Duration::from_millis(10));
        }
        went_off
    }
}

/// One connection's state, shared by its two directions.
struct Link {
    client: TcpStream,
    server: TcpStream,
    /// The local port of the connection to the server: its backend in pg_stat_activity.
    port: u16,
    /// Commands the server completed (CommandComplete or ErrorResponse).
    completed: AtomicUsize,
    /// Drop the next ReadyForQuery and break the connection (the commit's answer).
    lose_ready: AtomicBool,
}

impl Link {
    fn cut(&self) {
        let _ = self.client.shutdown(Shutdown::Both);
        let _ = self.server.shutdown(Shutdown::Both);
    }
}

fn read_message(from: &mut TcpStream) -> std::io::Result<(u8, Vec<u8>)> {
    let mut head = [0u8; 5];
    from.read_exact(&mut head)?;
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    let mut body = vec![0u8; len.saturating_sub(4)];
    from.read_exact(&mut body)?;
    Ok((head[0], body))
}

fn write_message(to: &mut TcpStream, kind: u8, body: &[u8]) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(body.len() + 5);
    out.push(kind);
    out.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
    out.extend_from_slice(body);
    to.write_all(&out)
}

/// The NUL-terminated strings at the start of a message body.
fn strings(body: &[u8], n: usize) -> Vec<String> {
    body.split(|b| *b == 0)
        .take(n)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

fn serve(mut client: TcpStream, shared: Arc<Shared>) -> std::io::Result<()> {
    let server = TcpStream::connect(shared.upstream)?;
    let link = Arc::new(Link {
        port: server.local_addr()?.port(),
        client: client.try_clone()?,
        server: server.try_clone()?,
        completed: AtomicUsize::new(0),
        lose_ready: AtomicBool::new(false),
    });
    let back = link.clone();
    let done = shared.clone();
    let (mut from_server, mut to_client) = (server.try_clone()?, client.try_clone()?);
    std::thread::spawn(move || {
        while let Ok((kind, body)) = read_message(&mut from_server) {
            match kind {
                b'C' | b'E' => {
                    back.completed.fetch_add(1, Ordering::SeqCst);
                }
                b'Z' if back.lose_ready.swap(false, Ordering::SeqCst) => {
                    back.cut();
                    done.fired.fetch_add(1, Ordering::SeqCst);
                    return;
                }
                _ => {}
            }
            if write_message(&mut to_client, kind, &body).is_err() {
                break;
            }
        }
        back.cut();
    });
    let mut to_server = server;
    // The startup message has no type byte.
    let mut len = [0u8; 4];
    client.read_exact(&mut len)?;
    let mut startup = vec![0u8; (u32::from_be_bytes(len) as usize).saturating_sub(4)];
    client.read_exact(&mut startup)?;
    to_server.write_all(&len)?;
    to_server.write_all(&startup)?;

    let mut statements: HashMap<String, String> = HashMap::new();
    let mut in_tx = false;
    let mut tx_sql: Vec<String> = Vec::new();
    let mut auto_sql: Option<String> = None;
    let mut expect_completed = 0;
    loop {
        let (kind, body) = match read_message(&mut client) {
            Ok(m) => m,
            Err(_) => {
                link.cut();
                return Ok(());
            }
        };
        let mut trigger = None;
        let mut autocommit = false;
        match kind {
            b'P' => {
                let s = strings(&body, 2);
                statements.insert(s[0].clone(), s[1].clone());
            }
            b'B' => {
                let s = strings(&body, 2);
                let sql = statements.get(&s[1]).cloned().unwrap_or_default();
                if in_tx {
                    tx_sql.push(sql);
                } else {
                    auto_sql = Some(sql);
                }
            }
            b'E' => expect_completed = link.completed.load(Ordering::SeqCst) + 1,
            b'S' if !in_tx => {
                if let Some(sql) = auto_sql.take() {
                    trigger = take_armed(&shared, &[sql]);
                    autocommit = true;
                }
            }
            b'Q' => {
                let q = strings(&body, 1).remove(0);
                let q = q.trim();
                if q.starts_with("BEGIN") {
                    in_tx = true;
                    tx_sql.clear();
                } else if q == "COMMIT" {
                    if in_tx {
                        trigger = take_armed(&shared, &tx_sql);
                    }
                    in_tx = false;
                } else if q == "ROLLBACK" {
                    in_tx = false;
                }
            }
            _ => {}
        }
        if let Some(fault) = trigger {
            shared.triggered.fetch_add(1, Ordering::SeqCst);
            // The write is done on the server before anything is broken. (Without a Sync
            // the server holds its answers back: a Flush asks for them.)
            if autocommit {
                write_message(&mut to_server, b'H', &[])?;
            }
            let deadline = Instant::now() + Duration::from_secs(5);
            while link.completed.load(Ordering::SeqCst) < expect_completed
                && Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(2));
            }
            match fault {
                Fault::Terminate => {
                    terminate(&shared.admin_url, link.port);
                    link.cut();
                    shared.fired.fetch_add(1, Ordering::SeqCst);
                    return Ok(());
                }
                Fault::Restart => {
                    (shared.restart)();
                    link.cut();
                    shared.fired.fetch_add(1, Ordering::SeqCst);
                    return Ok(());
                }
                Fault::LoseReply => link.lose_ready.store(true, Ordering::SeqCst),
                Fault::LateCommit => {
                    let _ = link.client.shutdown(Shutdown::Both);
                    std::thread::sleep(Duration::from_secs(2));
                    let before = link.completed.load(Ordering::SeqCst);
                    write_message(&mut to_server, kind, &body)?;
                    let deadline = Instant::now() + Duration::from_secs(5);
                    while link.completed.load(Ordering::SeqCst) == before
                        && Instant::now() < deadline
                    {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    link.cut();
                    shared.fired.fetch_add(1, Ordering::SeqCst);
                    return Ok(());
                }
            }
        }
        if write_message(&mut to_server, kind, &body).is_err() {
            link.cut();
            return Ok(());
        }
    }
}

fn take_armed(shared: &Shared, sql: &[String]) -> Option<Fault> {
    let mut armed = shared.armed.lock().unwrap();
    let hit = armed
        .as_ref()
        .is_some_and(|a| sql.iter().any(|s| s.contains(&a.matching)));
    if hit {
        armed.take().map(|a| a.fault)
    } else {
        None
    }
}

/// Terminate the backend of the connection from local port `port`, and wait until it
/// is gone.
fn terminate(admin_url: &str, port: u16) {
    let mut admin = postgres::Client::connect(admin_url, postgres::NoTls).unwrap();
    let pid: Option<i32> = admin
        .query_opt(
            "SELECT pid FROM pg_stat_activity WHERE client_port = $1",
            &[&i32::from(port)],
        )
        .unwrap()
        .map(|r| r.get(0));
    let pid = pid.expect("the tapped connection's backend");
    let _: bool = admin
        .query_one("SELECT pg_terminate_backend($1, 5000)", &[&pid])
        .unwrap()
        .get(0);
}
