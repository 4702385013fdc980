//! A second printer of synthetic resident ID cards, independent of the reader's layout
//! (`idcard::layout` is not used here): positions measured on a public reconstruction of
//! the second-generation card, then moved by a few millimetres per card as real printers
//! and templates differ; WenQuanYi Zen Hei for the text, AR PL UMing for the back's title,
//! OCR-B for the number (Debian: fonts-wqy-zenhei, fonts-arphic-uming, fonts-ocr-b); the
//! labels and 年月日 in blue as on the card. The people are made up: names with rarer
//! characters and compound surnames, all 56 ethnic groups, addresses of one to three lines.
//! Shots: clean, scanned on a white page (flatbed or 高拍仪), photographed on a table.

use ab_glyph::{Font, FontVec, PxScale, ScaleFont, point};
use chrono::{Datelike, NaiveDate};
use image::{Rgb, RgbImage};
use sbk_counter::domain::refdata::refdata;
use sbk_counter::domain::synthetic::{Rng, resident_born};
use sbk_counter::idcard::Side;

/// Pixels per millimetre of the printed face (the reconstruction's ~22 px/mm).
const PX: f32 = 22.0;
const CARD_W_MM: f32 = 85.6;
const CARD_H_MM: f32 = 54.0;

const TEXT_FONT: (&str, u32) = ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0);
const TITLE_FONT: (&str, u32) = ("/usr/share/fonts/truetype/arphic/uming.ttc", 0);
const NUMBER_FONT: (&str, u32) = ("/usr/share/fonts/opentype/ocr-b/OCRB.otf", 0);

/// The three typefaces.
pub struct Fonts {
    text: FontVec,
    title: FontVec,
    number: FontVec,
}

fn load((path, index): (&str, u32), package: &str) -> FontVec {
    let bytes = std::fs::read(path)
        .unwrap_or_else(|_| panic!("{path} missing: install Debian's {package} (.ci/run does)"));
    FontVec::try_from_vec_and_index(bytes, index).expect("a font")
}

pub fn fonts() -> Fonts {
    Fonts {
        text: load(TEXT_FONT, "fonts-wqy-zenhei"),
        title: load(TITLE_FONT, "fonts-arphic-uming"),
        number: load(NUMBER_FONT, "fonts-ocr-b"),
    }
}

/// What a card says, and how its printer placed the text.
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
    /// The whole text block moved by this much (mm), as printers differ.
    pub shift: (f32, f32),
}

/// Given-name characters rarer than most, several outside Tesseract's chi_sim set.
pub const RARE: &[&str] = &[
    "堃", "翀", "蓁", "彧", "懿", "犇", "喆", "赟", "昶", "玥", "珺", "璟", "骞", "淼", "禛",
];
const COMPOUND: &[&str] = &[
    "欧阳", "司马", "诸葛", "上官", "皇甫", "令狐", "慕容", "东方", "尉迟", "公孙",
];

/// The `k`-th card of a set: made-up person, every fourth with a rare character, every
/// sixth with a compound surname, every other one of the 55 minority groups in turn.
pub fn card(rng: &mut Rng, k: usize) -> Card {
    let start = NaiveDate::from_ymd_opt(1940, 1, 1).unwrap();
    let r = resident_born(rng, start, 365 * 62);
    let mut name = r.name.clone();
    if k % 6 == 5 {
        let given: String = name.chars().skip(1).collect();
        name = format!("{}{given}", rng.pick(COMPOUND));
    }
    if k % 4 == 1 {
        let mut chars: Vec<String> = name.chars().map(String::from).collect();
        let last = chars.len() - 1;
        chars[last] = (*rng.pick(RARE)).to_owned();
        name = chars.concat();
    }
    let groups: Vec<&str> = refdata()
        .ethnic_groups
        .iter()
        .map(|g| g.name.trim_end_matches('族'))
        .filter(|g| *g != "汉")
        .collect();
    let ethnicity = if k % 2 == 1 {
        groups[(k / 2) % groups.len()].to_owned()
    } else {
        "汉".to_owned()
    };
    let district = refdata()
        .district(&r.district)
        .map(|d| d.name.to_owned())
        .unwrap_or_default();
    let mut address = format!("北京市{}", r.address);
    if k % 3 == 2 {
        // A long one: three lines on the card.
        address = format!(
            "北京市{}{}社区{}",
            district,
            rng.pick(&["和平里", "安贞里", "青年路", "双井街道"]),
            r.address.trim_start_matches(&district)
        );
    }
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
        a if a >= 16 => valid_from.with_year(valid_from.year() + 10),
        _ => valid_from.with_year(valid_from.year() + 5),
    };
    let shift = (
        (rng.below(51) as f32 - 25.0) / 10.0,
        (rng.below(81) as f32 - 40.0) / 10.0,
    );
    Card {
        name,
        gender: if r.gender == sbk_counter::domain::Gender::Male {
            "男"
        } else {
            "女"
        },
        ethnicity,
        birth: r.birth_date,
        address,
        id_number: r.id_number,
        authority: format!("北京市公安局{}分局", district.trim_end_matches('区')),
        valid_from,
        valid_until,
        shift,
    }
}

const INK: Rgb<u8> = Rgb([20, 20, 24]);
const LABEL: Rgb<u8> = Rgb([30, 120, 190]);
const TITLE: Rgb<u8> = Rgb([40, 40, 45]);

/// The card's printed face, straight, at 22 px/mm.
pub fn face(card: &Card, side: Side, fonts: &Fonts) -> RgbImage {
    let (w, h) = ((CARD_W_MM * PX) as u32, (CARD_H_MM * PX) as u32);
    // A pale background shading from warm to cool, with fine guilloche lines.
    let mut img = RgbImage::from_fn(w, h, |x, y| {
        let t = x as f32 / w as f32;
        let u = y as f32 / h as f32;
        let wave = ((x as f32 / 9.0 + (y as f32 / 40.0).sin() * 6.0).sin() > 0.96) as i32 * 14;
        let rosette = (((x as f32 - w as f32 * 0.45).hypot(y as f32 - h as f32 * 0.55) / 18.0)
            .sin()
            > 0.9) as i32
            * 8;
        Rgb([
            (240.0 - 10.0 * t - 4.0 * u) as i32 - wave / 2 - rosette / 3,
            (236.0 - 2.0 * t) as i32 - wave / 3 - rosette,
            (226.0 + 12.0 * t) as i32 - wave / 4,
        ]
        .map(|v| v.clamp(0, 255) as u8))
    });
    let (sx, sy) = card.shift;
    let text = |img: &mut RgbImage,
                font: &FontVec,
                s: &str,
                x: f32,
                y: f32,
                size: f32,
                colour: Rgb<u8>,
                spacing: f32| {
        draw(
            img,
            font,
            s,
            (x + sx) * PX,
            (y + sy) * PX,
            size * PX,
            colour,
            spacing * PX,
        );
    };
    match side {
        Side::Front => {
            portrait(&mut img);
            let f = &fonts.text;
            text(&mut img, f, "姓  名", 5.0, 7.2, 2.6, LABEL, 0.0);
            text(&mut img, f, &card.name, 16.2, 6.5, 4.0, INK, 0.3);
            text(&mut img, f, "性  别", 5.0, 13.4, 2.6, LABEL, 0.0);
            text(&mut img, f, card.gender, 16.2, 13.0, 3.2, INK, 0.0);
            text(&mut img, f, "民  族", 26.0, 13.4, 2.6, LABEL, 0.0);
            text(&mut img, f, &card.ethnicity, 36.2, 13.0, 3.2, INK, 0.0);
            text(&mut img, f, "出  生", 5.0, 19.6, 2.6, LABEL, 0.0);
            text(
                &mut img,
                f,
                &card.birth.year().to_string(),
                16.2,
                19.2,
                3.2,
                INK,
                0.0,
            );
            text(&mut img, f, "年", 25.3, 19.6, 2.6, LABEL, 0.0);
            text(
                &mut img,
                f,
                &format!("{:>2}", card.birth.month()),
                29.0,
                19.2,
                3.2,
                INK,
                0.0,
            );
            text(&mut img, f, "月", 33.2, 19.6, 2.6, LABEL, 0.0);
            text(
                &mut img,
                f,
                &format!("{:>2}", card.birth.day()),
                37.0,
                19.2,
                3.2,
                INK,
                0.0,
            );
            text(&mut img, f, "日", 41.2, 19.6, 2.6, LABEL, 0.0);
            text(&mut img, f, "住  址", 5.0, 25.8, 2.6, LABEL, 0.0);
            let chars: Vec<char> = card.address.chars().collect();
            for (i, line) in chars.chunks(11).take(3).enumerate() {
                let line: String = line.iter().collect();
                text(
                    &mut img,
                    f,
                    &line,
                    16.2,
                    25.4 + i as f32 * 4.7,
                    3.2,
                    INK,
                    0.0,
                );
            }
            text(&mut img, f, "公民身份号码", 5.0, 45.2, 2.6, LABEL, 0.0);
            text(
                &mut img,
                &fonts.number,
                &card.id_number,
                30.5,
                44.4,
                3.9,
                INK,
                0.3,
            );
        }
        Side::Back => {
            emblem(&mut img);
            text(
                &mut img,
                &fonts.title,
                "中华人民共和国",
                30.0,
                8.0,
                4.4,
                TITLE,
                1.1,
            );
            text(
                &mut img,
                &fonts.title,
                "居民身份证",
                26.5,
                16.5,
                7.2,
                TITLE,
                2.2,
            );
            let f = &fonts.text;
            text(&mut img, f, "签发机关", 18.0, 38.4, 2.6, LABEL, 0.2);
            text(&mut img, f, &card.authority, 33.0, 38.0, 3.2, INK, 0.0);
            text(&mut img, f, "有效期限", 18.0, 44.8, 2.6, LABEL, 0.2);
            let until = card
                .valid_until
                .map_or("长期".to_owned(), |d| d.format("%Y.%m.%d").to_string());
            let line = format!("{}-{}", card.valid_from.format("%Y.%m.%d"), until);
            text(&mut img, f, &line, 33.0, 44.4, 3.2, INK, 0.0);
        }
    }
    img
}

/// A head-and-shoulders silhouette on a pale ground where the portrait is printed.
fn portrait(img: &mut RgbImage) {
    let (x0, y0, x1, y1) = (55.0 * PX, 5.5 * PX, 81.0 * PX, 39.0 * PX);
    let (cx, cy) = ((x0 + x1) / 2.0, y0 + 12.0 * PX);
    for y in y0 as u32..y1 as u32 {
        for x in x0 as u32..x1 as u32 {
            let (fx, fy) = (x as f32, y as f32);
            let head = ((fx - cx) / (7.0 * PX)).powi(2) + ((fy - cy) / (9.0 * PX)).powi(2) < 1.0;
            let hair = head && fy < cy - 3.0 * PX;
            let shoulders =
                fy > cy + 10.0 * PX && (fx - cx).abs() < 11.0 * PX + (fy - cy - 10.0 * PX) * 0.8;
            let c = if hair {
                Rgb([45, 38, 35])
            } else if head {
                Rgb([215, 180, 160])
            } else if shoulders {
                Rgb([50, 55, 75])
            } else {
                Rgb([238, 242, 248])
            };
            img.put_pixel(x, y, c);
        }
    }
}

/// The national emblem's place: a red disc with a yellow star.
fn emblem(img: &mut RgbImage) {
    let (cx, cy, r) = (13.0 * PX, 13.5 * PX, 8.5 * PX);
    for y in (cy - r) as u32..(cy + r) as u32 {
        for x in (cx - r) as u32..(cx + r) as u32 {
            let d = (x as f32 - cx).hypot(y as f32 - cy);
            if d < r {
                let star = d < r * 0.3;
                img.put_pixel(
                    x,
                    y,
                    if star {
                        Rgb([240, 200, 60])
                    } else {
                        Rgb([205, 45, 40])
                    },
                );
            }
        }
    }
}

/// How the card is taken.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shot {
    /// The card alone, as a cropping scanner gives it.
    Clean,
    /// Straight on a white A4 page at 200 dpi, as a flatbed or a 高拍仪 gives it.
    Scanned,
    /// On a table: tilted up to ±3°, a little keystone, blur, noise, JPEG 60–75.
    Photographed,
}

/// The card taken as `shot` says, encoded as the file the clerk would import.
pub fn shot(card: &Card, side: Side, how: Shot, fonts: &Fonts, rng: &mut Rng) -> Vec<u8> {
    let face = face(card, side, fonts);
    match how {
        Shot::Clean => {
            let img =
                image::imageops::resize(&face, 1100, 694, image::imageops::FilterType::Triangle);
            png(&image::DynamicImage::ImageRgb8(img))
        }
        Shot::Scanned => {
            // 200 dpi: 7.87 px/mm; the page 210 × 297 mm.
            let ppm = 200.0 / 25.4;
            let card_w = (CARD_W_MM * ppm) as u32;
            let card_h = (CARD_H_MM * ppm) as u32;
            let small = image::imageops::resize(
                &face,
                card_w,
                card_h,
                image::imageops::FilterType::Triangle,
            );
            let (pw, ph) = ((210.0 * ppm) as u32, (297.0 * ppm) as u32);
            let mut page = RgbImage::from_pixel(pw, ph, Rgb([252, 252, 251]));
            let ox = 60 + rng.below(u64::from(pw - card_w - 120)) as u32;
            let oy = 60 + rng.below(u64::from(ph / 2 - card_h)) as u32;
            for (x, y, p) in small.enumerate_pixels() {
                page.put_pixel(ox + x, oy + y, *p);
            }
            // The card's edge casts a thin grey line on a flatbed.
            for x in ox..ox + card_w {
                page.put_pixel(x, oy, Rgb([200, 200, 200]));
                page.put_pixel(x, oy + card_h - 1, Rgb([190, 190, 190]));
            }
            for y in oy..oy + card_h {
                page.put_pixel(ox, y, Rgb([200, 200, 200]));
                page.put_pixel(ox + card_w - 1, y, Rgb([190, 190, 190]));
            }
            add_noise(&mut page, 3, rng);
            jpeg(&image::DynamicImage::ImageRgb8(page), 85)
        }
        Shot::Photographed => {
            let tilt = (rng.below(61) as f32 - 30.0) / 10.0;
            let keystone = rng.below(30) as f32 / 1000.0;
            let ppm = 13.0 + rng.below(5) as f32;
            let img = on_table(&face, ppm, tilt, keystone, rng);
            let blur = 0.5 + rng.below(8) as f32 / 10.0;
            let mut img = image::imageops::blur(&img, blur);
            add_noise(&mut img, 8 + rng.below(12) as i32, rng);
            let quality = 60 + rng.below(16) as u8;
            jpeg(&image::DynamicImage::ImageRgb8(img), quality)
        }
    }
}

/// The face at `ppm` px/mm on a wooden table, turned by `tilt` degrees, its top edge
/// narrower by `keystone` of its width (the phone held a little below the card).
fn on_table(face: &RgbImage, ppm: f32, tilt: f32, keystone: f32, rng: &mut Rng) -> RgbImage {
    let (cw, ch) = (CARD_W_MM * ppm, CARD_H_MM * ppm);
    let margin = 0.18 * cw;
    let (w, h) = ((cw + 2.0 * margin) as u32, (ch + 2.0 * margin) as u32);
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let (s, c) = tilt.to_radians().sin_cos();
    let grain = rng.below(1000) as f32;
    let scale = face.width() as f32 / cw;
    RgbImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 - cx, y as f32 - cy);
        // Undo the turn, then the keystone (rows nearer the top are narrower).
        let (u, v) = (c * dx + s * dy, -s * dx + c * dy);
        let row = (v + ch / 2.0) / ch;
        let narrow = 1.0 - keystone * (1.0 - row);
        let (fx, fy) = ((u / narrow + cw / 2.0) * scale, (v + ch / 2.0) * scale);
        if fx < 0.0
            || fy < 0.0
            || fx >= face.width() as f32 - 1.0
            || fy >= face.height() as f32 - 1.0
        {
            let g = ((x as f32 / 3.0 + (y as f32 / 50.0 + grain).sin() * 8.0).sin() * 12.0) as i32;
            Rgb([
                (120 + g).clamp(0, 255) as u8,
                (84 + g).clamp(0, 255) as u8,
                (58 + g / 2).clamp(0, 255) as u8,
            ])
        } else {
            *face.get_pixel(fx as u32, fy as u32)
        }
    })
}

fn add_noise(img: &mut RgbImage, amplitude: i32, rng: &mut Rng) {
    for p in img.pixels_mut() {
        let d = rng.below((2 * amplitude + 1) as u64) as i32 - amplitude;
        for ch in p.0.iter_mut() {
            *ch = (i32::from(*ch) + d).clamp(0, 255) as u8;
        }
    }
}

/// PNG bytes of an image (the tests' encoders; the printer is also built alone, by path,
/// into the samples example and the bench).
pub fn png(img: &image::DynamicImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// JPEG bytes of an image at `quality`.
pub fn jpeg(img: &image::DynamicImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(img)
        .unwrap();
    out
}

/// `text` set in `font` at `size` px with its top-left at (`x`, `y`), antialiased over
/// what is there.
#[allow(clippy::too_many_arguments)]
pub fn draw(
    img: &mut RgbImage,
    font: &FontVec,
    text: &str,
    x: f32,
    y: f32,
    size: f32,
    colour: Rgb<u8>,
    spacing: f32,
) {
    let scaled = font.as_scaled(PxScale::from(size));
    let mut pen = x;
    let baseline = y + scaled.ascent();
    for ch in text.chars() {
        let id = font.glyph_id(ch);
        assert!(ch == ' ' || id.0 != 0, "the font lacks {ch}");
        let glyph = id.with_scale_and_position(PxScale::from(size), point(pen, baseline));
        pen += scaled.h_advance(id) + spacing;
        let Some(outlined) = font.outline_glyph(glyph) else {
            continue;
        };
        let b = outlined.px_bounds();
        outlined.draw(|gx, gy, cov| {
            let px = b.min.x as i32 + gx as i32;
            let py = b.min.y as i32 + gy as i32;
            if px < 0 || py < 0 || px >= img.width() as i32 || py >= img.height() as i32 {
                return;
            }
            let p = img.get_pixel_mut(px as u32, py as u32);
            for i in 0..3 {
                let bg = f32::from(p.0[i]);
                p.0[i] = (bg + (f32::from(colour.0[i]) - bg) * cov.min(1.0)).round() as u8;
            }
        });
    }
}
