//! Print synthetic ID card photos (made-up residents, no real person's card) for trying
//! recognition by hand: `cargo run --example id_card_samples -- DIR [N] [--noisy]` writes
//! DIR/card-K-front.png and DIR/card-K-back.png and prints what each card says.

#[path = "../tests/common/id_card.rs"]
mod id_card;

use sbk_counter::domain::synthetic::Rng;
use sbk_counter::idcard::Side;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: id_card_samples DIR [N] [--noisy]");
        std::process::exit(2);
    };
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1);
    let noisy = args.iter().any(|a| a == "--noisy");
    std::fs::create_dir_all(dir).expect("output directory");
    let font = id_card::font();
    let mut rng = Rng::new(2026);
    for k in 1..=n {
        let card = id_card::card(&mut rng);
        for (side, name) in [(Side::Front, "front"), (Side::Back, "back")] {
            let shot = if noisy {
                id_card::noisy(&mut rng)
            } else {
                id_card::CLEAN
            };
            let img = id_card::photo(&card, side, shot, &font, &mut rng);
            let path = format!("{dir}/card-{k}-{name}.png");
            img.save(&path).expect("written");
        }
        println!("card-{k}: {card:?}");
    }
}
