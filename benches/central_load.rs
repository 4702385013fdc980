//! Load on the reference central API, on loopback only and bounded: submissions per
//! second and latency (median, p99) at 1, 8 and 32 concurrent clients, each beside the
//! same clients calling `/v1/health` (the HTTP stack's floor) in the same run.
//!
//!     cargo bench --bench central_load
//!
//! Each submission is a complete, valid application for a different eligible resident,
//! checked by the server as in production (registry, field rules, the photo spec on the
//! uploaded bytes) and committed with `synchronous=FULL`. Eligibility checks and photo
//! uploads happen before the clock starts. SBK_LOAD_SUBMISSIONS sets the submissions per
//! level (default 320).

use std::time::{Duration, Instant};

use chrono::Utc;
use sbk_counter::api::Submission;
use sbk_counter::central::{Config, Faults, Running, registry};
use sbk_counter::domain::{PhotoRef, Photos};
use sbk_counter::photo::synthetic::{card_photo_jpeg, id_card_jpeg};
use sbk_counter::store::sha256_hex;

const TOKEN: &str = "load-token-0001";
const LEVELS: [usize; 3] = [1, 8, 32];

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn authorised(
    req: ureq::RequestBuilder<ureq::typestate::WithBody>,
) -> ureq::RequestBuilder<ureq::typestate::WithBody> {
    req.header("authorization", format!("Bearer {TOKEN}"))
        .header("x-operator-id", "load-1")
}

/// Run `work(i)` for i in 0..n on `clients` threads; each call's latency.
fn measure(
    clients: usize,
    n: usize,
    work: impl Fn(&ureq::Agent, usize) + Sync,
) -> (Duration, Vec<Duration>) {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let start = Instant::now();
    let mut latencies: Vec<Duration> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                s.spawn(|| {
                    let agent = agent();
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        if i >= n {
                            break;
                        }
                        let t = Instant::now();
                        work(&agent, i);
                        mine.push(t.elapsed());
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let wall = start.elapsed();
    latencies.sort();
    (wall, latencies)
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn main() {
    // `cargo test --benches` runs benches with --bench absent; do nothing then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let per_level: usize = std::env::var("SBK_LOAD_SUBMISSIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(320);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("central.sqlite3");
    let needed = per_level * LEVELS.len();
    sbk_counter::central::seed(&db, needed * 2, 77).unwrap();
    let running = Running::start(Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        db: db.clone(),
        tokens: vec![(TOKEN.into(), "load-centre".into())],
        pace: Duration::from_secs(24 * 3600),
        faults: Faults::default(),
        seed: 1,
        limits: Default::default(),
    })
    .unwrap();
    assert!(running.addr().ip().is_loopback());
    let base = running.base_url();
    let residents = {
        let conn = rusqlite::Connection::open(&db).unwrap();
        registry::sample(&conn, true, needed).unwrap()
    };
    assert!(residents.len() >= needed, "not enough eligible residents");

    // Not timed: the photos (one set, content-addressed) and each resident's check.
    let a = agent();
    let mut photos = Vec::new();
    for bytes in [
        card_photo_jpeg(1),
        id_card_jpeg(1, false),
        id_card_jpeg(1, true),
    ] {
        let sha = sha256_hex(&bytes);
        let r = authorised(a.put(format!("{base}/v1/photos/{sha}")))
            .send(&bytes[..])
            .unwrap();
        assert!(r.status().is_success());
        photos.push(Some(PhotoRef {
            sha256: sha,
            source_name: None,
        }));
    }
    let photos = Photos {
        card_photo: photos[0].clone(),
        id_front: photos[1].clone(),
        id_back: photos[2].clone(),
    };
    let bodies: Vec<String> = residents
        .iter()
        .map(|(name, id)| {
            let mut r = authorised(a.post(format!("{base}/v1/eligibility-checks")))
                .send_json(serde_json::json!({
                    "name": name, "id_type": "resident_id", "id_number": id,
                    "access_authorised_at": Utc::now(),
                }))
                .unwrap();
            let answer: sbk_counter::api::EligibilityAnswer = r.body_mut().read_json().unwrap();
            let app =
                registry::complete_application(&answer, id, photos.clone(), Utc::now()).unwrap();
            serde_json::to_string(&Submission::from_application(&app).unwrap()).unwrap()
        })
        .collect();

    println!(
        "central API load on loopback ({per_level} requests per level; submissions vs /v1/health in the same run)"
    );
    println!(
        "{:>7} | {:>12} {:>10} {:>10} | {:>12} {:>10} {:>10} | {:>9}",
        "clients", "submit req/s", "median", "p99", "health req/s", "median", "p99", "rate ratio"
    );
    let mut offset = 0;
    for clients in LEVELS {
        let (hwall, hlat) = measure(clients, per_level, |agent, _| {
            let r = agent.get(format!("{base}/v1/health")).call().unwrap();
            assert_eq!(r.status(), 200);
        });
        let batch = &bodies[offset..offset + per_level];
        offset += per_level;
        let (swall, slat) = measure(clients, per_level, |agent, i| {
            let r = authorised(agent.post(format!("{base}/v1/applications")))
                .header("idempotency-key", format!("load-{clients}-{i:06}"))
                .header("content-type", "application/json")
                .send(batch[i].as_bytes())
                .unwrap();
            assert_eq!(r.status(), 201, "submission {i} refused");
        });
        let rate = |wall: Duration| per_level as f64 / wall.as_secs_f64();
        let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
        println!(
            "{:>7} | {:>12.0} {:>10} {:>10} | {:>12.0} {:>10} {:>10} | {:>8.3}×",
            clients,
            rate(swall),
            ms(quantile(&slat, 0.5)),
            ms(quantile(&slat, 0.99)),
            rate(hwall),
            ms(quantile(&hlat, 0.5)),
            ms(quantile(&hlat, 0.99)),
            rate(swall) / rate(hwall),
        );
    }
    running.stop();
}
