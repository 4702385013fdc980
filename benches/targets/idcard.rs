//! Reading an ID card (the `ocr` build): sbk's reader on one side of a synthetic card from
//! the tests' second printer, photographed on a table, beside Tesseract's own command line
//! reading the same image whole (`tesseract IMG - -l chi_sim`): the floor of what the
//! engine costs on it. Target: ≤ 1 s a side (issue 25). For context, the first card of a
//! process: `sbk photo read` started afresh (both engines loaded, the names' model
//! compiled for the row widths), beside the same CLI.

use std::hint::black_box;

use sbk_counter::domain::synthetic::Rng;
use sbk_counter::idcard::Side;
use sbk_counter::idcard::engine::Reader;

use crate::card_print::{self, Shot};
use crate::measure::{Row, interleaved};

pub fn sides(rounds: usize) -> Vec<Row> {
    let fonts = card_print::fonts();
    let mut rng = Rng::new(8);
    let card = card_print::card(&mut rng, 0);
    let dir = tempfile::tempdir().unwrap();
    let mut reader = Reader::new().expect("tesseract with chi_sim");
    let mut rows = Vec::new();
    let mut files = Vec::new();
    for (side, name) in [(Side::Front, "人像面"), (Side::Back, "国徽面")] {
        let bytes = card_print::shot(&card, side, Shot::Photographed, &fonts, &mut rng);
        let file = dir.path().join(format!("{name}.jpg"));
        std::fs::write(&file, &bytes).unwrap();
        files.push((side, name, file.clone()));
        let read = reader.read(&bytes, side).unwrap();
        let usable = read
            .readings
            .iter()
            .filter(|r| r.usable().is_some())
            .count();
        eprintln!("{name}: {usable} of {} fields usable", read.readings.len());
        let (s, b) = interleaved(
            1,
            rounds,
            |_| {
                black_box(reader.read(&bytes, side).unwrap());
            },
            |_| tesseract_cli(&file),
        );
        rows.push(
            Row::timed(
                "ID card recognition",
                &format!("{name}, photographed: find, flatten, read each field"),
                s,
                Some(("tesseract CLI on the whole image", b)),
            )
            .median_within_ms(1000.0),
        );
    }
    // The first card in a fresh process, both sides (the bench build of `sbk` has `ocr`).
    for (side, name, file) in files {
        let flag = if side == Side::Front { "front" } else { "back" };
        let (s, b) = interleaved(
            1,
            rounds.min(10),
            |_| {
                let out = std::process::Command::new(env!("CARGO_BIN_EXE_sbk"))
                    .args(["photo", "read", "--side", flag])
                    .arg(&file)
                    .env("OMP_THREAD_LIMIT", "1")
                    .output()
                    .expect("sbk");
                assert!(out.status.success(), "{out:?}");
            },
            |_| tesseract_cli(&file),
        );
        rows.push(Row::timed(
            "ID card recognition",
            &format!("{name}, first card of a process: `sbk photo read` started afresh"),
            s,
            Some(("tesseract CLI on the whole image", b)),
        ));
    }
    rows
}

/// The baseline: Tesseract's command line reading the whole image.
fn tesseract_cli(file: &std::path::Path) {
    let out = std::process::Command::new("tesseract")
        .arg(file)
        .args(["-", "-l", "chi_sim"])
        .output()
        .expect("tesseract on PATH");
    assert!(out.status.success());
    black_box(out.stdout);
}
