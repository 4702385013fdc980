//! Recognition time per card side (the `ocr` feature): sbk's reader on a synthetic card,
//! clean and photographed badly, beside Tesseract's own command line reading the same
//! image whole (`tesseract IMG - -l chi_sim`), the floor of what the engine costs.
//! `cargo bench --features ocr --bench idcard`.

#[path = "../tests/common/id_card.rs"]
mod id_card;

use std::hint::black_box;
use std::time::Duration;

use criterion::Criterion;
use sbk_counter::domain::synthetic::Rng;
use sbk_counter::idcard::Side;
use sbk_counter::idcard::engine::Reader;

fn png(img: &image::RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn main() {
    let mut c = Criterion::default()
        .sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .configure_from_args();
    let font = id_card::font();
    let mut rng = Rng::new(5);
    let card = id_card::card(&mut rng);
    let dir = tempfile::tempdir().unwrap();
    let mut reader = Reader::new().expect("tesseract with chi_sim");
    for (side, name) in [(Side::Front, "front"), (Side::Back, "back")] {
        for (shot, how) in [
            (id_card::CLEAN, "clean"),
            (id_card::noisy(&mut rng), "noisy"),
        ] {
            let bytes = png(&id_card::photo(&card, side, shot, &font, &mut rng));
            let file = dir.path().join(format!("{name}-{how}.png"));
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
