//! Print synthetic ID card photos (made-up residents, no real person's card) for trying
//! recognition by hand, from the tests' second card printer (tests/common/card_print.rs):
//! `cargo run --example id_card_samples -- DIR [N] [clean|scanned|photographed]` writes
//! DIR/card-K-front.EXT and DIR/card-K-back.EXT and prints what each card says.
//! `scripts/id-card-samples` makes `assets/samples/id-card-*.jpg` with it.

#[path = "../tests/common/card_print.rs"]
mod card_print;

use card_print::Shot;
use sbk_counter::domain::synthetic::Rng;
use sbk_counter::idcard::Side;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: id_card_samples DIR [N] [clean|scanned|photographed]");
        std::process::exit(2);
    };
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1);
    let how = match args.get(2).map(String::as_str) {
        None | Some("clean") => Shot::Clean,
        Some("scanned") => Shot::Scanned,
        Some("photographed") => Shot::Photographed,
        Some(other) => {
            eprintln!("unknown shot {other}: clean, scanned or photographed");
            std::process::exit(2);
        }
    };
    let seed = std::env::var("SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2026);
    std::fs::create_dir_all(dir).expect("output directory");
    let fonts = card_print::fonts();
    let mut rng = Rng::new(seed);
    let ext = if how == Shot::Clean { "png" } else { "jpg" };
    for k in 0..n {
        let card = card_print::card(&mut rng, k);
        for (side, name) in [(Side::Front, "front"), (Side::Back, "back")] {
            let bytes = card_print::shot(&card, side, how, &fonts, &mut rng);
            let path = format!("{dir}/card-{k}-{name}.{ext}");
            std::fs::write(&path, bytes).expect("written");
        }
        println!("card-{k}: {card:?}");
    }
}
