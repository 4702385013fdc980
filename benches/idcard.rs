//! Recognition time per card side (the `ocr` feature): sbk's reader on a synthetic card
//! from the tests' second printer, clean and photographed, beside Tesseract's own command
//! line reading the same image whole (`tesseract IMG - -l chi_sim`), the floor of what the
//! engine costs. It runs itself with one OpenMP thread, as `sbk` does:
//! `cargo bench --features ocr --bench idcard`.

// The bench uses two of its shots.
#[allow(dead_code)]
#[path = "../tests/common/card_print.rs"]
mod card_print;

use std::hint::black_box;
use std::time::Duration;

use criterion::Criterion;
use sbk_counter::domain::synthetic::Rng;
use sbk_counter::idcard::Side;
use sbk_counter::idcard::engine::Reader;

fn main() {
    // One OpenMP thread, as `sbk` runs itself.
    sbk_counter::idcard::engine::one_openmp_thread();
    let mut c = Criterion::default()
        .sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .configure_from_args();
    let fonts = card_print::fonts();
    let mut rng = Rng::new(8);
    let card = card_print::card(&mut rng, 0);
    let dir = tempfile::tempdir().unwrap();
    let mut reader = Reader::new().expect("tesseract with chi_sim");
    for (side, name) in [(Side::Front, "front"), (Side::Back, "back")] {
        for (shot, how) in [
            (card_print::Shot::Clean, "clean"),
            (card_print::Shot::Photographed, "photographed"),
        ] {
            let bytes = card_print::shot(&card, side, shot, &fonts, &mut rng);
            let file = dir.path().join(format!("{name}-{how}.img"));
            std::fs::write(&file, &bytes).unwrap();
            let mut g = c.benchmark_group(format!("idcard/{name}/{how}"));
            g.bench_function("sbk reader (find, straighten, each field)", |b| {
                b.iter(|| black_box(reader.read(&bytes, side).unwrap()))
            });
            g.bench_function("baseline: tesseract CLI, whole image", |b| {
                b.iter(|| {
                    let out = std::process::Command::new("tesseract")
                        .arg(&file)
                        .args(["-", "-l", "chi_sim"])
                        .output()
                        .unwrap();
                    assert!(out.status.success());
                    black_box(out.stdout)
                })
            });
            g.finish();
        }
    }
    c.final_summary();
}
