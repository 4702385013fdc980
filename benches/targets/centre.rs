//! A centre's store on PostgreSQL (when `SBK_TEST_PG_URL` names a server: `benches/run`
//! starts a throwaway cluster): a field save beside a bare UPDATE over the same
//! connection, searches over the applications, eight clerks saving while two workers
//! deliver, and start-up of the wizard on it.

use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sbk_counter::domain::Application;
use sbk_counter::store::Store;
use sbk_counter::store::db::{Sql, ToValue};
use sbk_counter::store::server::Server;

use crate::measure::{Row, interleaved, stats};

/// A new database on the server at `base`, and a store of `n` applications in it.
pub fn seeded(base: &str, n: usize) -> (Server, Vec<Application>) {
    let name = format!("sbk_bench_{}", uuid::Uuid::new_v4().simple());
    postgres::Client::connect(base, postgres::NoTls)
        .unwrap()
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let server = Server {
        url: format!("{}/{name}", base.rsplit_once('/').unwrap().0),
        ca_file: None,
        window: "基准".into(),
    };
    let t = Instant::now();
    let mut store = Store::open_server(&server).unwrap();
    let sample = crate::common::seed(&mut store, n);
    store.sql().batch("ANALYZE").unwrap();
    eprintln!(
        "seeded {n} applications on PostgreSQL in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    (server, sample)
}

pub fn save(server: &Server, sample: &[Application], rounds: usize) -> Row {
    let mut store = Store::open_server(server).unwrap();
    let mut app = store.get(sample[sample.len() / 2].id).unwrap();
    let id = app.id;
    let mut body = serde_json::to_string(&app).unwrap();
    let store = std::cell::RefCell::new(&mut store);
    let (s, b) = interleaved(
        50,
        rounds,
        |k| {
            app.residence.address = format!("复兴路{}号", k % 300);
            store.borrow_mut().save(&mut app).unwrap();
        },
        |k| {
            if k % 2 == 0 {
                body.push(' ');
            } else {
                body.pop();
            }
            store
                .borrow()
                .sql()
                .execute(
                    "UPDATE applications SET body = ?1 WHERE id = ?2",
                    &[body.to_value(), id.to_value()],
                )
                .unwrap();
        },
    );
    Row::timed(
        "Centre (PostgreSQL)",
        "save: one field",
        s,
        Some(("bare UPDATE of the row, same connection", b)),
    )
    .ratio_at_most(2.0)
}

pub fn searches(server: &Server, sample: &[Application], rounds: usize) -> Vec<Row> {
    let store = Store::open_server(server).unwrap();
    let target = &sample[sample.len() / 3];
    let name = target.applicant.name.clone();
    let id = target.applicant.id_number.clone();
    let initials = sbk_counter::store::search::name_keys(&name).initials;
    let scan_for = format!("%{}%", &id[id.len() - 4..]);
    let queries = [
        ("name", name.clone()),
        ("commonest surname 王", "王".to_owned()),
        ("pinyin initials", initials),
        ("ID number last 4", id[id.len() - 4..].to_owned()),
    ];
    let mut rows = Vec::new();
    for (what, q) in queries {
        let (s, b) = interleaved(
            10,
            rounds,
            |_| {
                let hits = store.search(&q, 50).unwrap();
                assert!(!hits.is_empty(), "search {what} found nothing");
                black_box(hits);
            },
            |_| {
                black_box(
                    store
                        .sql()
                        .query_one(
                            "SELECT count(*) FROM applications WHERE body LIKE ?1",
                            &[scan_for.to_value()],
                        )
                        .unwrap(),
                );
            },
        );
        rows.push(
            Row::timed(
                "Centre (PostgreSQL)",
                &format!("search: {what}"),
                s,
                Some(("bare scan of every row (LIKE)", b)),
            )
            .p99_within_ms(10.0),
        );
    }
    rows
}

/// Eight clerks save as they type (each on drafts of their own, a save every 20 ms) while
/// two delivery workers send `deliveries` queued applications to the reference server:
/// the saves' p99, the deliveries per second, and that each arrived once.
pub fn clerks_and_workers(base: &str, deliveries: usize) -> Vec<Row> {
    let (server, sample) = seeded(base, 800);
    let batch = crate::delivery::queue_on(&server, deliveries);
    let central = crate::delivery::fresh_server_for(&batch);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let clerks: Vec<_> = (0..8)
        .map(|c| {
            let (server, stop, lat) = (server.clone(), stop.clone(), latencies.clone());
            let mine: Vec<uuid::Uuid> = sample
                .iter()
                .skip(c)
                .step_by(8)
                .filter(|a| a.status.is_editable())
                .map(|a| a.id)
                .collect();
            std::thread::spawn(move || {
                let mut store = Store::open_server(&server).unwrap();
                let mut k = 0usize;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let Some(id) = mine.get(k % mine.len().max(1)) else {
                        return;
                    };
                    let mut app = store.get(*id).unwrap();
                    app.residence.address = format!("复兴路{k}号");
                    let t = Instant::now();
                    store.save(&mut app).unwrap();
                    lat.lock().unwrap().push(t.elapsed());
                    k += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        })
        .collect();
    let started = Instant::now();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (server, url) = (server.clone(), central.base_url());
            std::thread::spawn(move || {
                let mut d = crate::delivery::worker_on(&server, &url);
                let mut delivered = 0;
                for _ in 0..200 {
                    let r = d.pass(true);
                    delivered += r.delivered;
                    if r.waiting == 0 && r.retrying == 0 {
                        break;
                    }
                }
                delivered
            })
        })
        .collect();
    let delivered: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    let elapsed = started.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for c in clerks {
        c.join().unwrap();
    }
    drop(central);
    let (rows, distinct) = crate::delivery::central_counts(&batch);
    let saves = stats(latencies.lock().unwrap().clone());
    let rate = delivered as f64 / elapsed.as_secs_f64();
    vec![
        Row::timed(
            "Centre (PostgreSQL)",
            "save while 8 clerks type and 2 workers deliver",
            saves,
            None,
        )
        .p99_within_ms(50.0),
        Row {
            section: "Centre (PostgreSQL)".into(),
            what: format!(
                "deliveries by 2 workers beside 8 clerks ({delivered} of {deliveries}; {rows} at the server, {distinct} distinct)"
            ),
            unit: "apps/s".into(),
            median: rate,
            p99: None,
            baseline: None,
            ratio: None,
            target: "each delivered once".into(),
            met: Some(delivered == deliveries && rows as usize == deliveries && rows == distinct),
        },
    ]
}

/// The wizard started on the centre's store: start to the sign-in screen, and Enter after
/// the password to the home screen of `apps` applications, each beside its floor (a
/// minimal ratatui program; Argon2id alone). The benchmark operator is set up first, with
/// the parameters calibrated on this PC.
pub fn start_up(server: &Server, apps: usize, rounds: usize) -> Vec<Row> {
    use sbk_counter::access::{self, Location, NewOperator};
    let kdf = sbk_counter::keys::Kdf::calibrate();
    let first = NewOperator {
        id: crate::common::operator().id,
        name: crate::common::operator().name,
        role: sbk_counter::store::Role::Supervisor,
        password: sbk_counter::keys::Password::new(crate::common::PASSWORD),
    };
    drop(access::setup(Location::Server(server.clone()), &first, kdf, 8, None).unwrap());
    let sbk = std::env::var_os("SBK_BENCH_SBK")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_BIN_EXE_sbk")));
    let baseline = std::env::var_os("SBK_BENCH_BASELINE_TUI")
        .map(std::path::PathBuf::from)
        .expect("SBK_BENCH_BASELINE_TUI: benches/run builds it");
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("config.toml"), "retention_days = 3650\n").unwrap();
    let programs = crate::startup::Programs {
        sbk: &sbk,
        baseline: &baseline,
        sbk_env: vec![
            (
                "SBK_DATA_DIR",
                work.path().join("data").display().to_string(),
            ),
            (
                "SBK_CONFIG",
                work.path().join("config.toml").display().to_string(),
            ),
            ("SBK_STORE_URL", server.url.clone()),
            ("SBK_STORE_WINDOW", "基准".into()),
            ("SBK_OPERATOR_ID", crate::common::operator().id),
            ("SBK_PREVIEW", "halfblocks".into()),
        ],
        apps,
        store: " — PostgreSQL store",
    };
    vec![
        crate::startup::first_frame(&programs, rounds),
        crate::startup::sign_in(&programs, &kdf, rounds),
    ]
}
