//! Every performance target of sbk beside its baseline, in one run: start-up and sign-in,
//! screens, saves, searches, what encryption costs, photo fix, delivery and memory. Driven by
//! `benches/run`, which installs the peer tools, builds release binaries and runs this in
//! parts (`SBK_BENCH_PART` = `plain`, `encrypted`, `postgres`, `ocr` in a build with the
//! `ocr` feature, `report`); the last writes BENCHMARKS.md.

#[cfg(feature = "ocr")]
#[allow(dead_code)]
#[path = "../../tests/common/card_print.rs"]
mod card_print;
mod centre;
#[path = "../common/mod.rs"]
mod common;
mod delivery;
#[cfg(feature = "ocr")]
mod idcard;
mod measure;
mod papers;
mod photo;
mod report;
mod screens;
pub mod startup;
mod store;

use std::path::{Path, PathBuf};
use std::time::Instant;

use sbk_counter::store::Store;

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// How much to measure: the sizes, or a quick smoke run of the whole pipeline.
struct Scale {
    apps: usize,
    starts: usize,
    draws: usize,
    saves: usize,
    searches: usize,
    photo_runs: usize,
    deliveries: usize,
    delivery_rounds: usize,
}

impl Scale {
    fn from_env() -> Scale {
        let quick = std::env::var("SBK_BENCH_QUICK").is_ok_and(|v| v == "1");
        let s = if quick {
            Scale {
                apps: 5_000,
                starts: 5,
                draws: 50,
                saves: 100,
                searches: 20,
                photo_runs: 3,
                deliveries: 50,
                delivery_rounds: 1,
            }
        } else {
            Scale {
                apps: 100_000,
                starts: 30,
                draws: 500,
                saves: 1000,
                searches: 200,
                photo_runs: 15,
                deliveries: 1000,
                delivery_rounds: 3,
            }
        };
        Scale {
            apps: env_or("SBK_BENCH_APPS", s.apps),
            ..s
        }
    }
}

/// A store of `n` applications in `dir`: encrypted, as sbk keeps it, or (`plain`) a plain
/// SQLite file, the baseline that shows what encryption costs.
fn seeded(dir: &Path, plain: bool, n: usize) -> (Store, Vec<sbk_counter::domain::Application>) {
    let t = Instant::now();
    let mut store = if plain {
        std::fs::create_dir_all(dir).unwrap();
        Store::open_plain(&dir.join("plain.sqlite3")).unwrap()
    } else {
        common::session(dir, sbk_counter::keys::Kdf::calibrate()).store
    };
    let sample = common::seed(&mut store, n);
    eprintln!(
        "seeded {n} applications{} in {:.1} s",
        if plain { " (plain SQLite)" } else { "" },
        t.elapsed().as_secs_f64()
    );
    (store, sample)
}

fn plain(results: &Path, s: &Scale) {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sbk = std::env::var_os("SBK_BENCH_SBK")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_sbk")));
    let baseline = std::env::var_os("SBK_BENCH_BASELINE_TUI")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("target/release/examples/first_frame_baseline"));
    assert!(
        baseline.exists(),
        "{} is missing: benches/run builds it",
        baseline.display()
    );
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let (store, sample) = seeded(&data, false, s.apps);
    drop(store);
    // SBK_BENCH_SECTIONS=startup,memory,screens,store,papers,photo,delivery measures only those.
    let sections = std::env::var("SBK_BENCH_SECTIONS").ok();
    let wanted = |name: &str| {
        sections
            .as_deref()
            .is_none_or(|list| list.split(',').any(|s| s.trim() == name))
    };
    std::fs::write(work.path().join("config.toml"), "retention_days = 3650\n").unwrap();
    let programs = startup::Programs {
        sbk: &sbk,
        baseline: &baseline,
        sbk_env: vec![
            ("SBK_DATA_DIR", data.display().to_string()),
            (
                "SBK_CONFIG",
                work.path().join("config.toml").display().to_string(),
            ),
            ("SBK_OPERATOR_ID", "BENCH".into()),
            ("SBK_PREVIEW", "halfblocks".into()),
        ],
        apps: s.apps,
        store: "",
    };
    if wanted("startup") {
        eprintln!("start-up…");
        let kdf = sbk_counter::keys::KeyFile::new(&data)
            .kdf()
            .expect("a set-up store");
        report::append(results, &[startup::first_frame(&programs, s.starts)]);
        report::append(results, &[startup::sign_in(&programs, &kdf, s.starts)]);
    }
    if wanted("memory") {
        eprintln!("memory…");
        report::append(results, &startup::peak_memory(&programs));
    }
    if wanted("screens") {
        eprintln!("screens…");
        let photos = work.path().join("photos");
        report::append(results, &screens::draws(&data, &photos, s.apps, s.draws));
    }
    if wanted("store") {
        eprintln!("store…");
        let mut store = common::store(&data);
        report::append(results, &[store::save(&mut store, &sample, "", s.saves)]);
        report::append(results, &store::searches(&store, &sample, "", s.searches));
    }
    if wanted("papers") {
        eprintln!("papers…");
        if let Some(row) = papers::receipt(&sample, s.photo_runs * 4) {
            report::append(results, &[row]);
        }
        let store = common::store(&data);
        report::append(results, &[papers::day(&store, s.apps, s.searches / 10)]);
    }
    if wanted("photo") {
        eprintln!("photo fix…");
        report::append(results, &photo::fix(&sbk, work.path(), s.photo_runs));
    }
    if wanted("delivery") {
        eprintln!("delivery…");
        let row = delivery::delivery(s.deliveries, s.delivery_rounds);
        report::append(results, &[row]);
    }
    if std::env::var_os("SBK_BENCH_KEEP").is_some() {
        eprintln!("kept {}", work.keep().display());
    }
}

/// A centre's store on PostgreSQL (`SBK_TEST_PG_URL`, a throwaway cluster benches/run
/// starts): saves, searches, clerks and workers together, and the wizard's start on it.
fn postgres(results: &Path, s: &Scale) {
    let Some(base) = std::env::var("SBK_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("no PostgreSQL server (SBK_TEST_PG_URL): the centre's rows are not measured");
        return;
    };
    let (server, sample) = centre::seeded(&base, s.apps);
    report::append(results, &[centre::save(&server, &sample, s.saves)]);
    report::append(results, &centre::searches(&server, &sample, s.searches));
    report::append(
        results,
        &centre::clerks_and_workers(&base, s.deliveries.min(300)),
    );
    eprintln!("start-up on PostgreSQL…");
    report::append(results, &centre::start_up(&server, s.apps, s.starts));
}

/// What encryption at rest costs: the same store encrypted and as a plain SQLite file.
fn encrypted(results: &Path, s: &Scale) {
    let work = tempfile::tempdir().unwrap();
    let enc_dir = work.path().join("encrypted");
    let plain_dir = work.path().join("plain");
    let (store, sample) = seeded(&enc_dir, false, s.apps);
    drop(store);
    drop(seeded(&plain_dir, true, s.apps));
    let key = common::session(&enc_dir, sbk_counter::keys::Kdf::FOR_TESTS)
        .key()
        .cloned()
        .expect("a file's key");
    report::append(
        results,
        &store::encryption_cost(
            (&enc_dir, &key),
            &plain_dir.join("plain.sqlite3"),
            &sample,
            s.saves,
        ),
    );
}

fn main() {
    // `cargo test --benches` runs benches without --bench; nothing to do then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let results = std::env::var_os("SBK_BENCH_RESULTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("target/bench-results.jsonl"));
    let scale = Scale::from_env();
    match std::env::var("SBK_BENCH_PART").as_deref() {
        Ok("plain") => plain(&results, &scale),
        Ok("encrypted") => encrypted(&results, &scale),
        Ok("postgres") => postgres(&results, &scale),
        #[cfg(feature = "ocr")]
        Ok("ocr") => {
            // One OpenMP thread, as sbk runs itself.
            sbk_counter::idcard::engine::one_openmp_thread();
            let rounds = if std::env::var("SBK_BENCH_QUICK").is_ok_and(|v| v == "1") {
                3
            } else {
                15
            };
            report::append(&results, &idcard::sides(rounds));
        }
        Ok("report") => report::render(
            &results,
            &manifest.join("benches/analysis.md"),
            &std::env::var_os("SBK_BENCH_OUT")
                .map(PathBuf::from)
                .unwrap_or_else(|| manifest.join("BENCHMARKS.md")),
        ),
        _ => eprintln!("targets: run benches/run (it sets SBK_BENCH_PART and prepares the tools)"),
    }
}
