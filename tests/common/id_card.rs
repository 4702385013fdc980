//! Synthetic resident ID cards for the recognition tests and benchmark: generated people
//! (no real person's card) printed in the card's layout with a CJK font from Debian's
//! packages, then photographed badly on demand (a table around it, tilt, blur, noise).

use super::card_print::draw;
use ab_glyph::FontVec;
use chrono::{Datelike, NaiveDate};
use image::{Rgb, RgbImage};
use sbk_counter::domain::refdata::refdata;
use sbk_counter::domain::synthetic::{Rng, resident_born};
use sbk_counter::idcard::CardField;
use sbk_counter::idcard::Side;
use sbk_counter::idcard::layout::{CARD_H, CARD_W, EMBLEM, PORTRAIT, labels, value_region};

/// Fonts tried in order, with the index of the simplified-Chinese face in the collection
/// (Debian: fonts-noto-cjk, fonts-wqy-zenhei). `SBK_CARD_FONT=wqy` picks the second.
const FONTS: &[(&str, u32)] = &[
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
];

pub fn font() -> FontVec {
    let skip = usize::from(std::env::var("SBK_CARD_FONT").is_ok_and(|f| f == "wqy"));
    for (path, index) in FONTS.iter().skip(skip) {
        if let Ok(bytes) = std::fs::read(path) {
            return FontVec::try_from_vec_and_index(bytes, *index).expect("a CJK font");
        }
    }
    panic!("no CJK font: install Debian's fonts-noto-cjk (.ci/run does)");
}

/// What a card says.
#[derive(Debug, Clone)]
pub struct Card {
    pub name: String,
    /// 男 or 女.
    pub gender: &'static str,
    /// Without 族, as printed.
    pub ethnicity: String,
    pub birth: NaiveDate,
    pub address: String,
    pub id_number: String,
    pub authority: String,
    pub valid_from: NaiveDate,
    /// None: 长期.
    pub valid_until: Option<NaiveDate>,
}

/// A generated card, as the police would issue it to this made-up resident.
pub fn card(rng: &mut Rng) -> Card {
    let start = NaiveDate::from_ymd_opt(1940, 1, 1).unwrap();
    let r = resident_born(rng, start, 365 * 60);
    let groups = &refdata().ethnic_groups;
    // Mostly 汉, as in Beijing; the rest spread over all 56.
    let ethnicity = if rng.below(3) > 0 {
        "汉".to_owned()
    } else {
        rng.pick(groups).name.trim_end_matches('族').to_owned()
    };
    let district = refdata()
        .district(&r.district)
        .map(|d| d.name.to_owned())
        .unwrap_or_default();
    let issued_year = (r.birth_date.year() + 16).max(2005) + rng.below(15) as i32;
    let valid_from = NaiveDate::from_ymd_opt(
        issued_year.min(2025),
        1 + rng.below(12) as u32,
        1 + rng.below(28) as u32,
    )
    .unwrap();
    let age_then = valid_from.year() - r.birth_date.year();
    let valid_until = match age_then {
        a if a >= 46 => None,
        a if a >= 26 => valid_from.with_year(valid_from.year() + 20),
        _ => valid_from.with_year(valid_from.year() + 10),
    };
    Card {
        name: r.name,
        gender: if r.gender == sbk_counter::domain::Gender::Male {
            "男"
        } else {
            "女"
        },
        ethnicity,
        birth: r.birth_date,
        address: format!("北京市{}", r.address),
        id_number: r.id_number,
        authority: format!("北京市公安局{}分局", district.trim_end_matches('区')),
        valid_from,
        valid_until,
    }
}

/// How badly the card is photographed.
#[derive(Debug, Clone, Copy)]
pub struct Shot {
    /// Degrees, clockwise.
    pub tilt: f32,
    /// Gaussian blur sigma, in pixels of the card at 2 px per 0.1 mm.
    pub blur: f32,
    /// Amplitude of uniform noise added to every channel.
    pub noise: u8,
    /// On a table with a margin around it (otherwise the photo is the card).
    pub on_table: bool,
}

pub const CLEAN: Shot = Shot {
    tilt: 0.0,
    blur: 0.0,
    noise: 0,
    on_table: false,
};

/// A noisy shot: tilt up to ±2.5°, some blur and noise, on a table.
pub fn noisy(rng: &mut Rng) -> Shot {
    Shot {
        tilt: (rng.below(51) as f32 - 25.0) / 10.0,
        blur: 0.6 + rng.below(8) as f32 / 10.0,
        noise: 12 + rng.below(14) as u8,
        on_table: true,
    }
}

const PX: f32 = 2.0;
const INK: Rgb<u8> = Rgb([25, 25, 30]);
const LABEL: Rgb<u8> = Rgb([60, 120, 185]);

/// The card's face, straight, at 2 px per 0.1 mm.
pub fn face(card: &Card, side: Side, font: &FontVec) -> RgbImage {
    let (w, h) = ((CARD_W as f32 * PX) as u32, (CARD_H as f32 * PX) as u32);
    // The guilloche background: pale, with faint waves.
    let mut img = RgbImage::from_fn(w, h, |x, y| {
        let wave = (((x as f32 / 23.0).sin() + (y as f32 / 31.0).cos()) * 6.0) as i32;
        Rgb([
            (232 + wave / 2) as u8,
            (238 + wave / 3) as u8,
            (236 + wave) as u8,
        ])
    });
    let size = 38.0 * PX;
    for (text, x, y) in labels(side) {
        let big = matches!(*text, "中华人民共和国" | "居民身份证");
        let s = if big { 64.0 * PX } else { 30.0 * PX };
        let colour = if big { INK } else { LABEL };
        draw(
            &mut img,
            font,
            text,
            *x as f32 * PX,
            *y as f32 * PX,
            s,
            colour,
            0.0,
        );
    }
    let at = |f: CardField| {
        let r = value_region(f);
        (r.x as f32 * PX, r.y as f32 * PX + 6.0 * PX)
    };
    match side {
        Side::Front => {
            let (x, y) = at(CardField::Name);
            draw(&mut img, font, &card.name, x, y, 44.0 * PX, INK, 4.0 * PX);
            let (x, y) = at(CardField::Gender);
            draw(&mut img, font, card.gender, x, y, size, INK, 0.0);
            let (x, y) = at(CardField::Ethnicity);
            draw(&mut img, font, &card.ethnicity, x, y, size, INK, 0.0);
            let (x, y) = at(CardField::BirthDate);
            let birth = format!(
                "{}年{:>2}月{:>2}日",
                card.birth.year(),
                card.birth.month(),
                card.birth.day()
            );
            draw(&mut img, font, &birth, x, y, size, INK, 0.0);
            let (x, y) = at(CardField::Address);
            let per_line = 11;
            let chars: Vec<char> = card.address.chars().collect();
            for (i, line) in chars.chunks(per_line).take(3).enumerate() {
                let line: String = line.iter().collect();
                draw(
                    &mut img,
                    font,
                    &line,
                    x,
                    y + i as f32 * 48.0 * PX,
                    34.0 * PX,
                    INK,
                    0.0,
                );
            }
            let (x, y) = at(CardField::IdNumber);
            draw(
                &mut img,
                font,
                &card.id_number,
                x,
                y,
                40.0 * PX,
                INK,
                3.0 * PX,
            );
            block(&mut img, PORTRAIT, Rgb([205, 210, 215]));
        }
        Side::Back => {
            let (x, y) = at(CardField::Authority);
            draw(&mut img, font, &card.authority, x, y, size, INK, 0.0);
            let (x, y) = at(CardField::ValidFrom);
            let until = card
                .valid_until
                .map_or("长期".to_owned(), |d| d.format("%Y.%m.%d").to_string());
            let line = format!("{}-{}", card.valid_from.format("%Y.%m.%d"), until);
            draw(&mut img, font, &line, x, y, size, INK, 0.0);
            block(&mut img, EMBLEM, Rgb([215, 80, 70]));
        }
    }
    img
}

/// The card photographed as `shot` says.
pub fn photo(card: &Card, side: Side, shot: Shot, font: &FontVec, rng: &mut Rng) -> RgbImage {
    let face = face(card, side, font);
    let mut img = if shot.on_table || shot.tilt != 0.0 {
        let margin = 140;
        let (w, h) = (face.width() + 2 * margin, face.height() + 2 * margin);
        let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
        let (s, c) = shot.tilt.to_radians().sin_cos();
        let table = Rgb([70, 62, 55]);
        RgbImage::from_fn(w, h, |x, y| {
            let (dx, dy) = (x as f32 - cx, y as f32 - cy);
            let fx = c * dx + s * dy + face.width() as f32 / 2.0;
            let fy = -s * dx + c * dy + face.height() as f32 / 2.0;
            if fx < 0.0
                || fy < 0.0
                || fx >= face.width() as f32 - 1.0
                || fy >= face.height() as f32 - 1.0
            {
                table
            } else {
                *face.get_pixel(fx as u32, fy as u32)
            }
        })
    } else {
        face
    };
    if shot.blur > 0.0 {
        img = image::imageops::blur(&img, shot.blur);
    }
    if shot.noise > 0 {
        let n = i32::from(shot.noise);
        for p in img.pixels_mut() {
            for ch in p.0.iter_mut() {
                let d = rng.below((2 * n + 1) as u64) as i32 - n;
                *ch = (i32::from(*ch) + d).clamp(0, 255) as u8;
            }
        }
    }
    img
}

fn block(img: &mut RgbImage, r: sbk_counter::idcard::layout::Region, colour: Rgb<u8>) {
    for y in (r.y as f32 * PX) as u32..((r.y + r.h) as f32 * PX) as u32 {
        for x in (r.x as f32 * PX) as u32..((r.x + r.w) as f32 * PX) as u32 {
            img.put_pixel(x, y, colour);
        }
    }
}
