//! Shared by the delivery tests: a reference server's configuration, a counter's store
//! with submitted applications for residents of its registry, a delivery client, and a
//! loopback proxy that holds back chosen requests (an answer that comes late).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use sbk_counter::api::EligibilityAnswer;
use sbk_counter::central::{Config, Faults, registry};
use sbk_counter::config::{CentralSettings, Secret};
use sbk_counter::domain::PhotoSlot;
use sbk_counter::domain::{Eligibility, IdType, PhotoRef, Photos};
use sbk_counter::photo::synthetic::{card_photo_jpeg, id_card_jpeg};
use sbk_counter::store::{Operator, Store};
use sbk_counter::sync::{Backoff, Client, Delivery};

pub const TOKEN: &str = "sync-test-token";

pub fn operator() -> Operator {
    Operator {
        id: "op-7".into(),
        name: "测试员".into(),
    }
}

pub fn server_config(db: &Path, listen: &str, faults: Faults) -> Config {
    Config {
        listen: listen.parse().unwrap(),
        db: db.to_owned(),
        tokens: vec![(TOKEN.into(), "centre-s".into())],
        pace: Duration::from_secs(3600),
        faults,
        seed: 99,
        limits: Default::default(),
    }
}

pub fn delivery(store_dir: &Path, url: &str) -> Delivery {
    let settings = CentralSettings {
        url: url.to_owned(),
        token: Secret::new(TOKEN),
        ca_file: None,
    };
    let client = Client::new(&settings, "op-7").unwrap();
    Delivery::new(
        super::signin::open_store(store_dir).unwrap(),
        client,
        operator(),
        Backoff {
            base: Duration::from_millis(5),
            cap: Duration::from_millis(100),
        },
    )
}

/// `n` submitted applications for eligible residents of the registry in `central_db`:
/// those for which `offline(i)` holds submitted offline (待校验, checked before delivery),
/// the rest checked online beforehand.
pub fn queue_applications_with(
    store_dir: &Path,
    central_db: &Path,
    n: usize,
    offline: impl Fn(usize) -> bool,
) -> Vec<uuid::Uuid> {
    queue_applications_from(store_dir, central_db, 0..n, offline)
}

/// As `queue_applications_with`, for the registry's eligible residents in `which` (in
/// seed order): a test that queues one at a time names each its own resident.
pub fn queue_applications_from(
    store_dir: &Path,
    central_db: &Path,
    which: std::ops::Range<usize>,
    offline: impl Fn(usize) -> bool,
) -> Vec<uuid::Uuid> {
    let conn = rusqlite::Connection::open(central_db).unwrap();
    let n = which.len();
    let residents: Vec<_> = registry::sample(&conn, true, which.end)
        .unwrap()
        .into_iter()
        .skip(which.start)
        .collect();
    assert_eq!(
        residents.len(),
        n,
        "the registry has too few eligible residents"
    );
    let mut store = super::signin::open_store(store_dir).unwrap();
    let put = |store: &Store, bytes: &[u8], kind| {
        Some(PhotoRef {
            sha256: store.put_photo(bytes, kind, "image/jpeg", 0, 0).unwrap(),
            source_name: None,
        })
    };
    let front = put(&store, &id_card_jpeg(1, false), PhotoSlot::IdFront);
    let back = put(&store, &id_card_jpeg(1, true), PhotoSlot::IdBack);
    let today = sbk_counter::domain::dates::beijing_date(Utc::now());
    let mut ids = Vec::new();
    for (i, (_, id_number)) in residents.iter().enumerate() {
        let entry = registry::lookup(&conn, IdType::ResidentId, id_number)
            .unwrap()
            .unwrap();
        let answer = EligibilityAnswer {
            check_id: uuid::Uuid::new_v4(),
            checked_at: Utc::now(),
            eligible: true,
            reason_code: None,
            reason: None,
            person: Some(entry.person.clone()),
            card_issuer: Some(entry.issuer.clone()),
            allowed_pickup: entry.allowed_pickup.clone(),
        };
        let photos = Photos {
            card_photo: put(&store, &card_photo_jpeg(i as u64), PhotoSlot::CardPhoto),
            id_front: front.clone(),
            id_back: back.clone(),
        };
        let mut app =
            registry::complete_application(&answer, id_number, photos, Utc::now()).unwrap();
        if offline(i) {
            app.eligibility = Eligibility::Pending {
                requested_at: Utc::now(),
            };
            app.card_issuer = None;
        }
        store.create(&app, &operator()).unwrap();
        store.submit(app.id, &operator(), today).unwrap();
        ids.push(app.id);
    }
    ids
}

/// Every other one submitted offline.
pub fn queue_applications(store_dir: &Path, central_db: &Path, n: usize) -> Vec<uuid::Uuid> {
    queue_applications_with(store_dir, central_db, n, |i| i % 2 == 1)
}

pub fn wait_until(what: &str, limit: Duration, mut step: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !step() {
        assert!(Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A TCP proxy on loopback in front of `upstream` that holds back, by `hold`, each
/// request whose bytes contain `marker` (the first `times` of them): the request reaches
/// the server late, so its answer describes the server as it is then, and comes late.
pub struct HoldingProxy {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    pub held: Arc<AtomicUsize>,
}

impl HoldingProxy {
    pub fn start(
        upstream: SocketAddr,
        marker: &'static str,
        hold: Duration,
        times: usize,
    ) -> HoldingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let held = Arc::new(AtomicUsize::new(0));
        let (stop2, held2) = (stop.clone(), held.clone());
        std::thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let held = held2.clone();
                        std::thread::spawn(move || {
                            let _ = relay(client, upstream, marker, hold, times, &held);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        HoldingProxy { addr, stop, held }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for HoldingProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn relay(
    mut client: TcpStream,
    upstream: SocketAddr,
    marker: &str,
    hold: Duration,
    times: usize,
    held: &AtomicUsize,
) -> std::io::Result<()> {
    client.set_nonblocking(false)?;
    let mut server = TcpStream::connect(upstream)?;
    let (mut from_server, mut to_client) = (server.try_clone()?, client.try_clone()?);
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_server, &mut to_client);
        let _ = to_client.shutdown(std::net::Shutdown::Both);
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = client.read(&mut buf)?;
        if n == 0 {
            let _ = server.shutdown(std::net::Shutdown::Write);
            return Ok(());
        }
        let chunk = &buf[..n];
        if String::from_utf8_lossy(chunk).contains(marker)
            && held
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |h| {
                    (h < times).then_some(h + 1)
                })
                .is_ok()
        {
            std::thread::sleep(hold);
        }
        server.write_all(chunk)?;
    }
}

/// Rows the central API holds, and how many distinct applications they are.
pub fn central_rows(central_db: &std::path::Path) -> (i64, i64) {
    let conn = rusqlite::Connection::open(central_db).unwrap();
    conn.query_row(
        "SELECT count(*), count(DISTINCT client_reference) FROM applications",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

/// Delivered once, with the number the server holds, eligibility recorded, never returned.
pub fn assert_delivered_once(store: &Store, central_db: &std::path::Path, ids: &[uuid::Uuid]) {
    let conn = rusqlite::Connection::open(central_db).unwrap();
    for id in ids {
        let app: sbk_counter::domain::Application = store.get(*id).unwrap();
        assert_eq!(
            app.status,
            sbk_counter::domain::Status::Delivered,
            "{id}: {:?}",
            app.returned
        );
        assert!(app.returned.is_none(), "{id}");
        assert!(
            matches!(
                app.eligibility,
                sbk_counter::domain::Eligibility::Eligible { .. }
            ),
            "{id}: {:?}",
            app.eligibility
        );
        let number = app.application_number.expect("a number");
        let held: String = conn
            .query_row(
                "SELECT number FROM applications WHERE client_reference = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(number, held);
        let history = store.history(*id).unwrap();
        assert!(
            history
                .iter()
                .all(|h| h.status != sbk_counter::domain::Status::Returned),
            "{id} was returned on the way: {history:?}"
        );
    }
    assert_eq!(
        central_rows(central_db),
        (ids.len() as i64, ids.len() as i64)
    );
}
