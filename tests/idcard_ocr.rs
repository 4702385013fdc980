//! ID card recognition on synthetic cards the tests print themselves, made-up people only.
//! Two printers: `card_print` (independent of the reader's layout: other typefaces, text
//! moved by millimetres, rare name characters, compound surnames, all 56 groups, long
//! addresses) taken clean, scanned on a white page and photographed on a table; and
//! `id_card` (the one the fixed layout was drawn from). Per field: how many were right and
//! how many wrong values were offered as usable (worse than none), printed; the targets
//! asserted. Needs the `ocr` feature, Debian's tesseract-ocr-chi-sim, fonts-wqy-zenhei,
//! fonts-arphic-uming, fonts-ocr-b and fonts-noto-cjk (`.ci/run` installs them):
//! `cargo test --release --features ocr --test idcard_ocr -- --nocapture`.
#![cfg(feature = "ocr")]

mod common;

use std::collections::BTreeMap;

use common::card_print::{self, Shot};
use common::id_card;
use sbk_counter::domain::refdata::refdata;
use sbk_counter::domain::synthetic::Rng;
use sbk_counter::idcard::engine::Reader;
use sbk_counter::idcard::{CardField, Recognised, Side};

/// What a card says, whichever printer printed it.
struct Truth {
    name: String,
    gender: &'static str,
    ethnicity: String,
    birth: chrono::NaiveDate,
    address: String,
    id_number: String,
    authority: String,
    valid_from: chrono::NaiveDate,
    valid_until: Option<chrono::NaiveDate>,
}

/// Both printers' cards say the same things under the same names.
macro_rules! truth_from {
    ($($card:ty),*) => {$(
        impl From<&$card> for Truth {
            fn from(c: &$card) -> Truth {
                Truth {
                    name: c.name.clone(),
                    gender: c.gender,
                    ethnicity: c.ethnicity.clone(),
                    birth: c.birth,
                    address: c.address.clone(),
                    id_number: c.id_number.clone(),
                    authority: c.authority.clone(),
                    valid_from: c.valid_from,
                    valid_until: c.valid_until,
                }
            }
        }
    )*};
}

truth_from!(card_print::Card, id_card::Card);

/// The value a field's reading must have for this card.
fn expected(card: &Truth, field: CardField) -> String {
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

/// Per field: right, wrong values offered as usable, and all. Names with a rare character
/// (堃 翀 蓁 彧 犇 …, which Tesseract's chi_sim lacks and only the names' model knows) are
/// also counted apart, to show how they fare; the name's targets are over all names.
#[derive(Default)]
struct Tally(BTreeMap<&'static str, (usize, usize, usize)>);

const RARE_NAMES: &str = "姓名（生僻字）";

fn has_rare(name: &str) -> bool {
    name.chars()
        .any(|c| card_print::RARE.contains(&c.to_string().as_str()))
}

impl Tally {
    fn add(&mut self, card: &Truth, rec: &Recognised) {
        for r in &rec.readings {
            let want = expected(card, r.field);
            let mut labels = vec![r.field.label()];
            if r.field == CardField::Name && has_rare(&card.name) {
                labels.push(RARE_NAMES);
            }
            let mut count = |right: bool, wrong: bool| {
                for label in &labels {
                    let t = self.0.entry(label).or_default();
                    t.0 += usize::from(right);
                    t.1 += usize::from(wrong);
                    t.2 += 1;
                }
            };
            match r.usable() {
                Some(v) if v == want => count(true, false),
                Some(v) => {
                    count(false, true);
                    eprintln!(
                        "  WRONG {:?}: want {want}, offered {v} ({}%)",
                        r.field, r.confidence
                    );
                }
                None => {
                    count(false, false);
                    eprintln!(
                        "  withheld {:?}: want {want}, read {:?}: {}",
                        r.field,
                        r.raw,
                        r.problem.as_deref().unwrap_or("unsure")
                    )
                }
            }
        }
    }

    fn report(&self, what: &str) {
        eprintln!("{what}: field, right / all, wrong offered");
        for (field, (right, wrong, all)) in &self.0 {
            eprintln!(
                "  {field}\t{right}/{all}\t{:.0}%\twrong {wrong}",
                100.0 * *right as f64 / *all as f64
            );
        }
    }

    fn rate(&self, field: CardField) -> f64 {
        let (right, _, all) = self.0[field.label()];
        right as f64 / all as f64
    }

    /// The targets: `rate` right for the name, the number and the validity, no wrong
    /// number, wrong values offered at most 2% for any field.
    fn check(&self, rate: f64) {
        assert_eq!(
            self.0[CardField::IdNumber.label()].1,
            0,
            "a wrong ID number was accepted"
        );
        for field in MUST {
            assert!(
                self.rate(field) >= rate,
                "{field:?}: {:?}",
                self.0[field.label()]
            );
        }
        for (field, (_, wrong, all)) in &self.0 {
            assert!(
                *wrong as f64 / *all as f64 <= 0.02,
                "{field}: {wrong} wrong values offered of {all}"
            );
        }
    }
}

const MUST: [CardField; 4] = [
    CardField::Name,
    CardField::IdNumber,
    CardField::ValidFrom,
    CardField::ValidUntil,
];

/// `n` cards from the second printer taken as `how`, read.
fn second_printer(n: usize, seed: u64, how: Shot) -> Tally {
    second_printer_turned(n, seed, how, |_, bytes| bytes)
}

/// The same, each photo passed through `turn` (given the card's number) before it is read.
fn second_printer_turned(
    n: usize,
    seed: u64,
    how: Shot,
    turn: impl Fn(usize, Vec<u8>) -> Vec<u8>,
) -> Tally {
    let fonts = card_print::fonts();
    let mut reader = Reader::new().expect("tesseract with chi_sim");
    let mut rng = Rng::new(seed);
    let mut tally = Tally::default();
    for k in 0..n {
        let c = card_print::card(&mut rng, k);
        eprintln!("card {k}: {} {} shift {:?}", c.name, c.ethnicity, c.shift);
        for side in [Side::Front, Side::Back] {
            let bytes = turn(k, card_print::shot(&c, side, how, &fonts, &mut rng));
            let rec = reader.read(&bytes, side).unwrap();
            tally.add(&Truth::from(&c), &rec);
        }
    }
    tally
}

#[test]
fn clean_cards_from_a_second_printer() {
    let tally = second_printer(20, 31, Shot::Clean);
    tally.report("second printer, clean");
    tally.check(0.95);
}

#[test]
fn cards_scanned_on_a_white_page() {
    let tally = second_printer(10, 32, Shot::Scanned);
    tally.report("second printer, scanned on a white page (200 dpi)");
    tally.check(0.95);
}

#[test]
fn cards_photographed_on_a_table() {
    let tally = second_printer(20, 33, Shot::Photographed);
    tally.report("second printer, photographed (±3°, keystone, blur, noise, JPEG 60–75)");
    tally.check(0.80);
}

#[test]
fn cards_photographed_upright_or_upside_down() {
    // Card k turned 90°, 180° or 270° in turn.
    let tally = second_printer_turned(6, 34, Shot::Photographed, |k, bytes| {
        let photo = image::load_from_memory(&bytes).unwrap();
        let turned = match k % 3 {
            0 => photo.rotate90(),
            1 => photo.rotate180(),
            _ => photo.rotate270(),
        };
        common::png(&turned)
    });
    tally.report("second printer, photographed turned 90°, 180° and 270°");
    tally.check(0.80);
}

#[test]
fn cards_of_the_first_printer_clean_and_noisy() {
    let font = id_card::font();
    let mut reader = Reader::new().expect("tesseract with chi_sim");
    let mut rng = Rng::new(11);
    let mut clean = Tally::default();
    let mut noisy = Tally::default();
    for k in 0..16 {
        let c = id_card::card(&mut rng);
        for side in [Side::Front, Side::Back] {
            let shot = if k % 2 == 0 {
                id_card::CLEAN
            } else {
                id_card::noisy(&mut rng)
            };
            let img = id_card::photo(&c, side, shot, &font, &mut rng);
            let bytes = common::png(&image::DynamicImage::ImageRgb8(img));
            let rec = reader.read(&bytes, side).unwrap();
            if k % 2 == 0 { &mut clean } else { &mut noisy }.add(&Truth::from(&c), &rec);
        }
    }
    clean.report("first printer, clean");
    noisy.report("first printer, noisy (tilt ±2.5°, blur, noise, on a table)");
    clean.check(0.95);
    noisy.check(0.80);
}

#[test]
fn a_photo_that_is_not_an_image_is_refused_with_a_message() {
    let mut reader = Reader::new().unwrap();
    let err = reader.read(b"not an image", Side::Front).unwrap_err();
    assert!(err.to_string().contains("无法读取图片"), "{err}");
}

#[test]
fn a_photo_without_a_card_offers_nothing() {
    let mut reader = Reader::new().unwrap();
    let blank = image::RgbImage::from_pixel(1200, 800, image::Rgb([250, 250, 250]));
    let bytes = common::png(&image::DynamicImage::ImageRgb8(blank));
    for side in [Side::Front, Side::Back] {
        let rec = reader.read(&bytes, side).unwrap();
        assert!(rec.readings.iter().all(|r| r.usable().is_none()), "{rec:?}");
    }
}
