//! ID card recognition on synthetic cards the test prints itself (tests/common/id_card.rs):
//! per-field accuracy over clean and noisy shots, and a wrong number never accepted.
//! Needs the `ocr` feature and Debian's tesseract-ocr-chi-sim and fonts-wqy-zenhei
//! (`.ci/run` installs them): `cargo test --features ocr --test idcard_ocr -- --nocapture`.
#![cfg(feature = "ocr")]

mod common;

use std::collections::BTreeMap;

use common::id_card::{CLEAN, Card, Shot, card, font, noisy, photo};
use sbk_counter::domain::refdata::refdata;
use sbk_counter::domain::synthetic::Rng;
use sbk_counter::idcard::engine::Reader;
use sbk_counter::idcard::{CardField, Recognised, Side};

/// The value a field's reading must have for this card.
fn expected(card: &Card, field: CardField) -> String {
    match field {
        CardField::Name => card.name.clone(),
        CardField::Gender => if card.gender == "男" {
            "male"
        } else {
            "female"
        }
        .into(),
        CardField::Ethnicity => refdata()
            .ethnic_group(&format!("{}族", card.ethnicity))
            .map(|g| g.code.to_owned())
            .unwrap_or_default(),
        CardField::BirthDate => card.birth.to_string(),
        CardField::Address => card.address.clone(),
        CardField::IdNumber => card.id_number.clone(),
        CardField::Authority => card.authority.clone(),
        CardField::ValidFrom => card.valid_from.to_string(),
        CardField::ValidUntil => card
            .valid_until
            .map_or("long_term".to_owned(), |d| d.to_string()),
    }
}

/// Read `n` cards shot as `shot` says; per field, how many were right, and every wrong ID
/// number that was accepted (there must be none).
fn accuracy(
    n: usize,
    seed: u64,
    shot: impl Fn(&mut Rng) -> Shot,
) -> (BTreeMap<&'static str, (usize, usize)>, Vec<String>) {
    let font = font();
    let mut reader = Reader::new().expect("tesseract with chi_sim");
    let mut rng = Rng::new(seed);
    let mut tally: BTreeMap<&'static str, (usize, usize)> = BTreeMap::new();
    let mut wrong_numbers = Vec::new();
    for _ in 0..n {
        let c = card(&mut rng);
        for side in [Side::Front, Side::Back] {
            let s = shot(&mut rng);
            let img = photo(&c, side, s, &font, &mut rng);
            let bytes = common::png(&image::DynamicImage::ImageRgb8(img));
            let rec: Recognised = reader.read(&bytes, side).unwrap();
            for r in &rec.readings {
                let want = expected(&c, r.field);
                let right = r.usable() == Some(want.as_str());
                let t = tally.entry(r.field.label()).or_default();
                t.0 += usize::from(right);
                t.1 += 1;
                if !right {
                    eprintln!(
                        "{:?}: want {want}, read {:?} ({:?})",
                        r.field,
                        r.raw,
                        r.usable()
                    );
                }
                if r.field == CardField::IdNumber && r.usable().is_some_and(|v| v != want) {
                    wrong_numbers.push(format!("{} read as {:?}", want, r.usable()));
                }
            }
        }
    }
    (tally, wrong_numbers)
}

fn report(what: &str, tally: &BTreeMap<&'static str, (usize, usize)>) {
    eprintln!("{what}:");
    for (field, (right, all)) in tally {
        eprintln!(
            "  {field}\t{right}/{all}\t{:.0}%",
            100.0 * *right as f64 / *all as f64
        );
    }
}

fn rate(tally: &BTreeMap<&'static str, (usize, usize)>, field: CardField) -> f64 {
    let (right, all) = tally[field.label()];
    right as f64 / all as f64
}

const MUST: [CardField; 4] = [
    CardField::Name,
    CardField::IdNumber,
    CardField::ValidFrom,
    CardField::ValidUntil,
];

#[test]
fn clean_renders_are_read_right_95_percent_of_the_time() {
    let (tally, wrong) = accuracy(30, 11, |_| CLEAN);
    report("clean renders", &tally);
    assert!(wrong.is_empty(), "wrong ID numbers accepted: {wrong:?}");
    for field in MUST {
        assert!(
            rate(&tally, field) >= 0.95,
            "{field:?}: {:?}",
            tally[field.label()]
        );
    }
}

#[test]
fn noisy_shots_are_read_right_80_percent_of_the_time() {
    let (tally, wrong) = accuracy(30, 12, noisy);
    report("noisy shots (tilt ±2.5°, blur, noise, on a table)", &tally);
    assert!(wrong.is_empty(), "wrong ID numbers accepted: {wrong:?}");
    for field in MUST {
        assert!(
            rate(&tally, field) >= 0.80,
            "{field:?}: {:?}",
            tally[field.label()]
        );
    }
}

#[test]
fn a_photo_that_is_not_an_image_is_refused_with_a_message() {
    let mut reader = Reader::new().unwrap();
    let err = reader.read(b"not an image", Side::Front).unwrap_err();
    assert!(err.to_string().contains("无法读取图片"), "{err}");
}
