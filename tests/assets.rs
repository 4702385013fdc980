//! What `assets/` holds is what the project generates: the sample photos (no real people)
//! and the registry residents the README names.

mod common;

use common::card_print::{self, Shot};
use sbk_counter::demo::{SAMPLE_PHOTOS, generate_sample_photos};
use sbk_counter::domain::synthetic::Rng;
use sbk_counter::idcard::Side;

#[test]
fn the_sample_photos_are_the_generators_output() {
    for ((name, committed), (gen_name, generated)) in
        SAMPLE_PHOTOS.iter().zip(generate_sample_photos())
    {
        assert_eq!(*name, gen_name);
        assert!(
            *committed == generated.as_slice(),
            "assets/samples/{name} differs from what photo::synthetic makes now"
        );
    }
}

/// The ID card samples are what `scripts/id-card-samples` prints: the second card printer's
/// first card of seed 8, photographed, front then back (needs Debian's fonts-wqy-zenhei,
/// fonts-arphic-uming and fonts-ocr-b; scripts/test installs them).
#[test]
fn the_id_card_samples_are_the_card_printers_output() {
    let fonts = card_print::fonts();
    let mut rng = Rng::new(8);
    let card = card_print::card(&mut rng, 0);
    for (side, name) in [
        (Side::Front, "id-card-front.jpg"),
        (Side::Back, "id-card-back.jpg"),
    ] {
        let printed = card_print::shot(&card, side, Shot::Photographed, &fonts, &mut rng);
        let committed = SAMPLE_PHOTOS.iter().find(|(n, _)| *n == name).unwrap().1;
        assert!(
            committed == printed.as_slice(),
            "assets/samples/{name} differs from what scripts/id-card-samples prints now"
        );
    }
}

#[test]
fn the_named_residents_are_the_first_of_the_default_seed() {
    let dir = tempfile::tempdir().unwrap();
    let seeded = sbk_counter::central::seed(
        &dir.path().join("c.sqlite3"),
        50,
        sbk_counter::central::DEFAULT_SEED,
    )
    .unwrap();
    let listed: Vec<Vec<String>> = include_str!("../assets/demo-residents.csv")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .skip(1)
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    assert_eq!(listed.len(), 6);
    let readme = include_str!("../README.md");
    for (row, s) in listed.iter().zip(&seeded) {
        assert_eq!(row[0], s.id_number);
        assert_eq!(row[1], s.name);
        assert_eq!(row[2], s.kind.label());
        assert!(
            readme.contains(&s.id_number),
            "README names {}",
            s.id_number
        );
        let id =
            sbk_counter::domain::IdNumber::parse(&s.id_number, chrono::Utc::now().date_naive());
        assert!(id.is_ok(), "{} is a valid ID number", s.id_number);
    }
}
