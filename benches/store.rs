//! The store with 100,000 applications: one field save beside a bare rusqlite UPDATE of
//! the same row on the same connection (the floor), open-to-first-query, and search by each
//! key. Targets (issue 3): save within 2× the bare UPDATE; every search under 10 ms.
//!
//! Besides criterion's estimates, a closing table reports median and p99 of single saves
//! and bare UPDATEs measured interleaved in the same run, and their ratio.
//! `SBK_BENCH_APPS` changes the store size (default 100000).

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::{percentile, seed};
use criterion::Criterion;
use rusqlite::params;
use sbk_counter::store::Store;

fn main() {
    let n: usize = std::env::var("SBK_BENCH_APPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("bench.sqlite3");
    let key = sbk_counter::keys::DataKey::generate();
    let t = Instant::now();
    let mut store = Store::open_keyed(&path, Some(&key)).unwrap();
    let sample = seed(&mut store, n);
    eprintln!(
        "seeded {n} applications in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(30)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500));

    // One field save vs the bare UPDATE floor.
    let mut app = sample[sample.len() / 2].clone();
    let id = app.id.to_string();
    let mut i = 0u64;
    c.bench_function("save: one field change (Store::save)", |b| {
        b.iter(|| {
            i += 1;
            app.residence.address = format!("建国路{}号", i % 300);
            store.save(&mut app).unwrap();
        })
    });
    // The floor: a bare UPDATE of the same row with changing content (an unchanged value
    // writes no page, which would make the floor meaninglessly low).
    let bodies = [
        serde_json::to_string(&app).unwrap(),
        format!("{} ", serde_json::to_string(&app).unwrap()),
    ];
    let mut k = 0usize;
    c.bench_function("save: baseline bare UPDATE of the JSON", |b| {
        b.iter(|| {
            k += 1;
            store
                .connection()
                .prepare_cached("UPDATE applications SET body = ?1 WHERE id = ?2")
                .unwrap()
                .execute(params![bodies[k % 2], id])
                .unwrap();
        })
    });

    // Search by each key.
    let target = &sample[sample.len() / 3];
    let idn = target.applicant.id_number.clone();
    let mobile = target.applicant.mobile.clone();
    let surname: String = target.applicant.name.chars().take(1).collect();
    let given: String = target.applicant.name.chars().skip(1).collect();
    let initials = sbk_counter::store::search::name_keys(&target.applicant.name).initials;
    let pinyin = sbk_counter::store::search::name_keys(&target.applicant.name).pinyin;
    let queries = [
        ("name surname", surname),
        ("commonest surname", "王".to_owned()),
        ("name given", given),
        ("pinyin initials", initials),
        ("full pinyin", pinyin),
        ("ID number", idn.clone()),
        ("ID last 4", idn[idn.len() - 4..].to_owned()),
        ("ID last 6", idn[idn.len() - 6..].to_owned()),
        ("mobile last 4", mobile[mobile.len() - 4..].to_owned()),
    ];
    for (label, q) in &queries {
        c.bench_function(&format!("search: {label} ({q})"), |b| {
            b.iter(|| black_box(store.search(black_box(q), 50).unwrap()))
        });
    }

    c.bench_function("open store + first list query", |b| {
        b.iter(|| {
            let s = Store::open_keyed(&path, Some(&key)).unwrap();
            black_box(s.list(None, 50, 0).unwrap());
        })
    });
    c.final_summary();

    // Median and p99 of single operations, interleaved so both see the same noise.
    let rounds = 2000;
    let (mut saves, mut bares) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    let mut stmt_body = serde_json::to_string(&app).unwrap();
    for k in 0..rounds {
        app.residence.address = format!("复兴路{}号", k % 300);
        let t = Instant::now();
        store.save(&mut app).unwrap();
        saves.push(t.elapsed());
        stmt_body.push(' ');
        let t = Instant::now();
        store
            .connection()
            .prepare_cached("UPDATE applications SET body = ?1 WHERE id = ?2")
            .unwrap()
            .execute(params![stmt_body, id])
            .unwrap();
        bares.push(t.elapsed());
        stmt_body.pop();
    }
    saves.sort();
    bares.sort();
    let (sm, sp) = (percentile(&saves, 0.5), percentile(&saves, 0.99));
    let (bm, bp) = (percentile(&bares, 0.5), percentile(&bares, 0.99));
    println!("\n{n} applications; {rounds} interleaved rounds");
    println!("| operation | median | p99 |");
    println!("|---|---|---|");
    println!("| Store::save (one field) | {sm:?} | {sp:?} |");
    println!("| bare UPDATE (floor) | {bm:?} | {bp:?} |");
    println!(
        "| ratio save / bare | {:.2}× | {:.2}× |  target ≤ 2×",
        sm.as_secs_f64() / bm.as_secs_f64(),
        sp.as_secs_f64() / bp.as_secs_f64()
    );
    let mut searches = Vec::new();
    for (label, q) in &queries {
        let mut times: Vec<Duration> = (0..200)
            .map(|_| {
                let t = Instant::now();
                black_box(store.search(q, 50).unwrap());
                t.elapsed()
            })
            .collect();
        times.sort();
        searches.push((label, percentile(&times, 0.5), percentile(&times, 0.99)));
    }
    println!("\n| search | median | p99 | target < 10 ms |");
    println!("|---|---|---|---|");
    for (label, m, p) in searches {
        let ok = if p < Duration::from_millis(10) {
            "met"
        } else {
            "MISSED"
        };
        println!("| {label} | {m:?} | {p:?} | {ok} |");
    }
}
