//! What the ID card reader sees, for tuning it by hand: `cargo run --release --features ocr
//! --example ocr_debug -- IMAGE front|back [OUT_DIR]` prints the rows found, each reading
//! and its time, and writes the flattened card to OUT_DIR/card.png.

use sbk_counter::idcard::Side;
use sbk_counter::idcard::engine::Reader;
use sbk_counter::idcard::{find, lines};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(path), Some(side)) = (args.first(), args.get(1)) else {
        eprintln!("usage: ocr_debug IMAGE front|back [OUT_DIR]");
        std::process::exit(2);
    };
    let side = if side == "back" {
        Side::Back
    } else {
        Side::Front
    };
    let bytes = std::fs::read(path).expect("readable image");
    let photo = image::load_from_memory(&bytes).expect("an image").to_rgb8();
    let t = std::time::Instant::now();
    let (card, corners) = find::flatten(&photo);
    println!("corners {corners:?} ({:?})", t.elapsed());
    if std::env::var("PROFILE").is_ok() {
        profile(&card);
    }
    let found = lines::find(&card, side);
    println!("lines {found:?} ({:?})", t.elapsed());
    if let Some(dir) = args.get(2) {
        std::fs::create_dir_all(dir).expect("out dir");
        card.save(format!("{dir}/card.png")).expect("written");
    }
    let mut reader = Reader::new().expect("tesseract");
    let t = std::time::Instant::now();
    let rec = reader.read(&bytes, side).expect("read");
    println!("read in {:?}", t.elapsed());
    for r in &rec.readings {
        println!(
            "{:?}\t{:?}\t{:?}\t{}\t{}",
            r.field,
            r.raw,
            r.usable(),
            r.confidence,
            r.problem.as_deref().unwrap_or("")
        );
    }
}

#[allow(dead_code)]
fn profile(card: &image::RgbImage) {
    let ink = lines::ink(card);
    let w = card.width();
    for y in 0..card.height() {
        let n = (12..600).filter(|x| ink[(y * w + x) as usize]).count();
        print!("{y}:{n} ");
    }
    println!();
}
