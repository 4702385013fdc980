//! The cost of encryption at rest: the same store, plain and SQLCipher, side by side in
//! one run: one field save and searches, median and p99 of interleaved single operations,
//! and the ratio encrypted / plain.
//!
//!     cargo bench --bench store_encryption
//!
//! `SBK_BENCH_APPS` sets the store size (default 100000).

mod common;

use std::hint::black_box;
use std::time::Instant;

use common::{percentile, seed};
use sbk_counter::domain::Application;
use sbk_counter::store::Store;

/// One measured operation on a store (and the application it edits), given the round.
type Op = Box<dyn Fn(&mut Store, &mut Application, usize)>;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let n: usize = std::env::var("SBK_BENCH_APPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::TempDir::new().unwrap();
    let mut plain = Store::open_plain(&dir.path().join("plain.sqlite3")).unwrap();
    let mut secret = common::store(&dir.path().join("encrypted"));
    let sample = seed(&mut plain, n);
    seed(&mut secret, n);
    let mut app_p = sample[sample.len() / 2].clone();
    let mut app_s = app_p.clone();
    let target = &sample[sample.len() / 3];
    let id = target.applicant.id_number.clone();
    let name = target.applicant.name.clone();
    let initials = sbk_counter::store::search::name_keys(&name).initials;
    let ops: Vec<(&str, Op)> = vec![
        (
            "save: one field",
            Box::new(|s: &mut Store, a: &mut Application, k: usize| {
                a.residence.address = format!("复兴路{}号", k % 300);
                s.save(a).unwrap();
            }),
        ),
        (
            "search: name",
            Box::new(move |s: &mut Store, _: &mut Application, _| {
                black_box(s.search(&name, 50).unwrap());
            }),
        ),
        (
            "search: pinyin initials",
            Box::new(move |s: &mut Store, _: &mut Application, _| {
                black_box(s.search(&initials, 50).unwrap());
            }),
        ),
        (
            "search: ID last 4",
            Box::new(move |s: &mut Store, _: &mut Application, _| {
                black_box(s.search(&id[id.len() - 4..], 50).unwrap());
            }),
        ),
    ];
    println!("{n} applications; each operation 1000 times, plain and encrypted interleaved");
    println!(
        "| operation | plain median | plain p99 | encrypted median | encrypted p99 | ratio (median) |"
    );
    println!("|---|---|---|---|---|---|");
    for (label, op) in &ops {
        let (mut tp, mut ts) = (Vec::new(), Vec::new());
        for k in 0..1000 {
            let t = Instant::now();
            op(&mut plain, &mut app_p, k);
            tp.push(t.elapsed());
            let t = Instant::now();
            op(&mut secret, &mut app_s, k);
            ts.push(t.elapsed());
        }
        tp.sort();
        ts.sort();
        let (pm, pp, sm, sp) = (
            percentile(&tp, 0.5),
            percentile(&tp, 0.99),
            percentile(&ts, 0.5),
            percentile(&ts, 0.99),
        );
        println!(
            "| {label} | {pm:?} | {pp:?} | {sm:?} | {sp:?} | {:.2}× |",
            sm.as_secs_f64() / pm.as_secs_f64()
        );
    }
}
