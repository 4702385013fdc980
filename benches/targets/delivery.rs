//! Delivery of 1,000 queued applications to the reference server on loopback, beside a
//! plain HTTP client posting the same bodies (each distinct photo once, then every
//! submission) to an identical fresh server. Alternating rounds; medians of the rounds.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;
use sbk_counter::api::{EligibilityAnswer, Submission};
use sbk_counter::central::{Config, Faults, Running, registry};
use sbk_counter::config::{CentralSettings, Secret};
use sbk_counter::domain::PhotoSlot;
use sbk_counter::domain::{Application, IdType, PhotoRef, Photos};
use sbk_counter::photo::synthetic::{card_photo_jpeg, id_card_jpeg};
use sbk_counter::store::sha256_hex;
use sbk_counter::sync::{Backoff, Client, Delivery};

use crate::common::operator;
use crate::measure::{Baseline, Row};

const TOKEN: &str = "bench-delivery-token";
const REGISTRY_SEED: u64 = 4242;

/// The applications (checked online beforehand, as at the counter) and their photos.
struct Batch {
    apps: Vec<Application>,
    photos: Vec<(PhotoSlot, Vec<u8>)>,
}

fn fresh_server(dir: &Path, n: usize) -> Running {
    let db = dir.join("central.sqlite3");
    sbk_counter::central::seed(&db, n * 2 + 12, REGISTRY_SEED).unwrap();
    Running::start(Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        db,
        tokens: vec![(TOKEN.into(), "bench-centre".into())],
        pace: Duration::from_secs(24 * 3600),
        faults: Faults::default(),
        seed: 1,
        limits: Default::default(),
    })
    .unwrap()
}

fn prepare(dir: &Path, n: usize) -> Batch {
    let db = dir.join("central.sqlite3");
    sbk_counter::central::seed(&db, n * 2 + 12, REGISTRY_SEED).unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let residents = registry::sample(&conn, true, n).unwrap();
    assert_eq!(residents.len(), n, "too few eligible residents");
    let front = id_card_jpeg(1, false);
    let back = id_card_jpeg(1, true);
    let mut photos = vec![
        (PhotoSlot::IdFront, front.clone()),
        (PhotoSlot::IdBack, back.clone()),
    ];
    let reference = |bytes: &[u8]| {
        Some(PhotoRef {
            sha256: sha256_hex(bytes),
            source_name: None,
        })
    };
    let mut apps = Vec::new();
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
        let portrait = card_photo_jpeg(i as u64);
        let refs = Photos {
            card_photo: reference(&portrait),
            id_front: reference(&front),
            id_back: reference(&back),
        };
        photos.push((PhotoSlot::CardPhoto, portrait));
        apps.push(registry::complete_application(&answer, id_number, refs, Utc::now()).unwrap());
    }
    Batch { apps, photos }
}

/// sbk's own delivery: the applications queued in a fresh store, then delivery passes
/// until the outbox is empty.
fn deliver_with_sbk(dir: &Path, batch: &Batch) -> Duration {
    let server = fresh_server(dir, batch.apps.len());
    let store_dir = dir.join("store");
    let mut store = crate::common::store(&store_dir);
    for (kind, bytes) in &batch.photos {
        store.put_photo(bytes, *kind, "image/jpeg", 0, 0).unwrap();
    }
    let today = sbk_counter::domain::dates::beijing_date(Utc::now());
    store.create_batch(&batch.apps, &operator()).unwrap();
    for app in &batch.apps {
        store.submit(app.id, &operator(), today).unwrap();
    }
    let settings = CentralSettings {
        url: server.base_url(),
        token: Secret::new(TOKEN),
        ca_file: None,
    };
    let client = Client::new(&settings, "bench-1").unwrap();
    let mut delivery = Delivery::new(store, client, operator(), Backoff::default());
    let t = Instant::now();
    let mut delivered = 0;
    loop {
        let report = delivery.pass(true);
        delivered += report.delivered;
        assert_eq!(report.returned, 0, "an application was returned");
        if report.waiting == 0 {
            break;
        }
        assert!(
            report.delivered > 0,
            "delivery stalled: {:?}",
            report.last_error
        );
    }
    let took = t.elapsed();
    assert_eq!(delivered, batch.apps.len());
    server.stop();
    took
}

/// The floor: a plain blocking HTTP client sending the same bodies, nothing stored locally.
fn deliver_plainly(dir: &Path, batch: &Batch) -> Duration {
    let server = fresh_server(dir, batch.apps.len());
    let base = server.base_url();
    let bodies: Vec<String> = batch
        .apps
        .iter()
        .map(|a| serde_json::to_string(&Submission::from_application(a).unwrap()).unwrap())
        .collect();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let t = Instant::now();
    for (_, bytes) in &batch.photos {
        let r = agent
            .put(format!("{base}/v1/photos/{}", sha256_hex(bytes)))
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("x-operator-id", "bench-1")
            .header("content-type", "image/jpeg")
            .send(&bytes[..])
            .unwrap();
        assert!(r.status().is_success(), "photo refused: {}", r.status());
    }
    for body in &bodies {
        let r = agent
            .post(format!("{base}/v1/applications"))
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("x-operator-id", "bench-1")
            .header("idempotency-key", uuid::Uuid::new_v4().to_string())
            .header("content-type", "application/json")
            .send(body.as_bytes())
            .unwrap();
        assert_eq!(r.status(), 201, "submission refused");
    }
    let took = t.elapsed();
    server.stop();
    took
}

pub fn delivery(n: usize, rounds: usize) -> Row {
    let prep = tempfile::tempdir().unwrap();
    let batch = prepare(prep.path(), n);
    let (mut ours, mut plain) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let dir = tempfile::tempdir().unwrap();
        ours.push(deliver_with_sbk(dir.path(), &batch));
        let dir = tempfile::tempdir().unwrap();
        plain.push(deliver_plainly(dir.path(), &batch));
    }
    ours.sort();
    plain.sort();
    let rate = |v: &[Duration]| n as f64 / v[v.len() / 2].as_secs_f64();
    let (r, b) = (rate(&ours), rate(&plain));
    Row {
        section: "Delivery".into(),
        what: format!("deliver {n} queued applications (loopback, one connection)"),
        unit: "apps/s".into(),
        median: r,
        p99: None,
        baseline: Some(Baseline {
            what: "plain ureq client posting the same bodies".into(),
            median: b,
            p99: None,
        }),
        ratio: Some(r / b),
        target: "≥ 0.7× baseline".into(),
        met: Some(r / b >= 0.7),
    }
}

/// Applications queued on a centre's store, and the reference server's folder for them.
pub struct Queued {
    dir: tempfile::TempDir,
    n: usize,
}

/// `n` applications checked online and submitted on the store at `server`.
pub fn queue_on(server: &sbk_counter::store::server::Server, n: usize) -> Queued {
    let dir = tempfile::tempdir().unwrap();
    let batch = prepare(dir.path(), n);
    let mut store = sbk_counter::store::Store::open_server(server).unwrap();
    for (kind, bytes) in &batch.photos {
        store.put_photo(bytes, *kind, "image/jpeg", 0, 0).unwrap();
    }
    let today = sbk_counter::domain::dates::beijing_date(Utc::now());
    store.create_batch(&batch.apps, &operator()).unwrap();
    for app in &batch.apps {
        store.submit(app.id, &operator(), today).unwrap();
    }
    Queued { dir, n }
}

/// A fresh reference server for `q`.
pub fn fresh_server_for(q: &Queued) -> Running {
    fresh_server(q.dir.path(), q.n)
}

/// A delivery worker on the store at `server`, to the reference server at `url`.
pub fn worker_on(server: &sbk_counter::store::server::Server, url: &str) -> Delivery {
    let settings = CentralSettings {
        url: url.to_owned(),
        token: Secret::new(TOKEN),
        ca_file: None,
    };
    let client = Client::new(&settings, "bench-worker").unwrap();
    let store = sbk_counter::store::Store::open_server(server).unwrap();
    Delivery::new(store, client, operator(), Backoff::default())
}

/// The reference server's submissions for `q`: rows, and distinct client references
/// (equal when nothing arrived twice).
pub fn central_counts(q: &Queued) -> (i64, i64) {
    let conn = rusqlite::Connection::open(q.dir.path().join("central.sqlite3")).unwrap();
    conn.query_row(
        "SELECT count(*), count(DISTINCT client_reference) FROM applications",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}
