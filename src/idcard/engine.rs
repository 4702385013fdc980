//! Tesseract (with Debian's simplified-Chinese data) reading each field's region of a card
//! photo. Before it: the card found in the photo and cropped, straightened, scaled to the
//! layout's size and each region binarised, as the engine reads best.

use image::{GrayImage, Luma};
use tesseract::{PageSegMode, Tesseract};

use super::interpret::{cross_check, interpret, validity};
use super::layout::{CARD_H, CARD_W, Region, regions_read, value_region};
use super::{CardField, Recognised, Side};

/// Pixels per tenth of a millimetre of the straightened card (1712×1080 for the card):
/// characters ~70 px high, where Tesseract's LSTM reads Chinese best.
const SCALE: f32 = 2.0;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("无法读取图片：{0}")]
    Image(String),
    #[error("无法启动识别引擎（需要 Debian 的 tesseract-ocr-chi-sim 语言包）：{0}")]
    Engine(String),
    #[error("识别失败：{0}")]
    Recognise(String),
}

/// A loaded engine; loading the language data takes a while, so keep one for many cards.
pub struct Reader {
    tess: Option<Tesseract>,
}

impl Reader {
    pub fn new() -> Result<Reader, ReadError> {
        Ok(Reader {
            tess: Some(engine()?),
        })
    }

    /// Read one side of a card from a photo's bytes (JPEG, PNG or WebP).
    pub fn read(&mut self, bytes: &[u8], side: Side) -> Result<Recognised, ReadError> {
        let decoded = crate::photo::decode(bytes).map_err(|e| ReadError::Image(e.to_string()))?;
        let card = straighten(&decoded.image.to_luma8());
        self.read_card(&card, side)
    }

    /// Read a straightened card image of the layout's proportions.
    pub fn read_card(&mut self, card: &GrayImage, side: Side) -> Result<Recognised, ReadError> {
        let mut readings = Vec::new();
        for &field in regions_read(side) {
            let region = crop(card, value_region(field));
            // Tesseract reads Chinese best at ~25–35 px a character, and misreads differ
            // between sizes: read at a few, keep the first that the engine is sure of and
            // the field's rules accept, else the surest.
            let mut best: Option<(bool, u8, String)> = None;
            for scale in SCALES {
                let (text, confidence) = self.read_region(&region, scale, field)?;
                let ruled = accepts(field, &text, confidence);
                let key = (ruled, confidence);
                if best.as_ref().is_none_or(|b| key > (b.0, b.1)) {
                    best = Some((ruled, confidence, text));
                }
                if ruled && confidence >= SURE {
                    break;
                }
            }
            let (_, confidence, text) = best.unwrap_or_default();
            if field == CardField::ValidFrom {
                let (from, until) = validity(&text, confidence);
                readings.push(from);
                readings.push(until);
            } else {
                readings.push(interpret(field, &text, confidence));
            }
        }
        if side == Side::Front {
            cross_check(&mut readings);
        }
        Ok(Recognised { side, readings })
    }

    fn read_region(
        &mut self,
        region: &GrayImage,
        scale: f32,
        field: CardField,
    ) -> Result<(String, u8), ReadError> {
        let small = image::imageops::resize(
            region,
            ((region.width() as f32 * scale) as u32).max(1),
            ((region.height() as f32 * scale) as u32).max(1),
            image::imageops::FilterType::Triangle,
        );
        let region = binarise(&small);
        let (whitelist, mode) = match field {
            CardField::IdNumber => ("0123456789X", PageSegMode::PsmSingleLine),
            CardField::ValidFrom | CardField::ValidUntil => {
                ("0123456789.-长期", PageSegMode::PsmSingleLine)
            }
            CardField::BirthDate => ("0123456789年月日", PageSegMode::PsmSingleLine),
            CardField::Gender => ("男女", PageSegMode::PsmSingleLine),
            CardField::Address => ("", PageSegMode::PsmSingleBlock),
            _ => ("", PageSegMode::PsmSingleLine),
        };
        let err = |e: &dyn std::fmt::Display| ReadError::Recognise(e.to_string());
        let mut tess = match self.tess.take() {
            Some(t) => t,
            None => engine()?,
        };
        tess.set_page_seg_mode(mode);
        let outcome = (|| {
            let mut t = tess
                .set_variable("tessedit_char_whitelist", whitelist)
                .map_err(|e| err(&e))?
                .set_frame(
                    region.as_raw(),
                    region.width() as i32,
                    region.height() as i32,
                    1,
                    region.width() as i32,
                )
                .map_err(|e| err(&e))?
                .set_source_resolution(300)
                .recognize()
                .map_err(|e| err(&e))?;
            let text = t.get_text().map_err(|e| err(&e))?;
            let confidence = t.mean_text_conf().clamp(0, 100) as u8;
            Ok::<_, ReadError>((t, text, confidence))
        })();
        match outcome {
            Ok((t, text, confidence)) => {
                self.tess = Some(t);
                Ok((text, confidence))
            }
            // A failed call consumed the engine: the next read loads a fresh one.
            Err(e) => Err(e),
        }
    }
}

/// The sizes each region is read at, relative to the straightened card, in order.
const SCALES: [f32; 4] = [0.3, 0.4, 0.25, 0.35];

/// The engine's confidence at which a reading the rules accept is taken at once.
const SURE: u8 = 80;

/// Whether the field's rules take this text (a number's check character fits, a date is a
/// date, the validity's two dates agree).
fn accepts(field: CardField, text: &str, confidence: u8) -> bool {
    if field == CardField::ValidFrom {
        let (from, until) = validity(text, confidence);
        return from.usable().is_some() && until.usable().is_some();
    }
    interpret(field, text, confidence).usable().is_some()
}

/// Tesseract with the simplified-Chinese data, quiet: its diagnostics (statistics of an
/// empty region, among others) would go to stderr, which is the wizard's screen.
fn engine() -> Result<Tesseract, ReadError> {
    Tesseract::new(None, Some("chi_sim"))
        .map_err(|e| ReadError::Engine(e.to_string()))?
        .set_variable("debug_file", "/dev/null")
        .map_err(|e| ReadError::Engine(e.to_string()))
}

/// The card found in the photo, turned level and scaled to the layout's size. A photo
/// that is the card already (cropped by the scanner) is only scaled.
pub fn straighten(photo: &GrayImage) -> GrayImage {
    let threshold = otsu(photo);
    let card = |p: &Luma<u8>| p.0[0] > threshold;
    let angle = skew(photo, threshold).unwrap_or(0.0);
    let level = if angle.abs() > 0.002 {
        rotate(photo, -angle, background(photo, threshold))
    } else {
        photo.clone()
    };
    let (x0, y0, x1, y1) = bounds(&level, &card);
    let (w, h) = (x1 - x0, y1 - y0);
    let area = f64::from(w) * f64::from(h);
    let whole = f64::from(level.width()) * f64::from(level.height());
    let aspect = f64::from(w) / f64::from(h.max(1));
    let cropped = if area > 0.2 * whole && (1.35..1.85).contains(&aspect) {
        image::imageops::crop_imm(&level, x0, y0, w, h).to_image()
    } else {
        level
    };
    image::imageops::resize(
        &cropped,
        (CARD_W as f32 * SCALE) as u32,
        (CARD_H as f32 * SCALE) as u32,
        image::imageops::FilterType::Triangle,
    )
}

fn crop(card: &GrayImage, r: Region) -> GrayImage {
    let s = card.width() as f32 / CARD_W as f32;
    let x = (r.x as f32 * s) as u32;
    let y = (r.y as f32 * s) as u32;
    let w = ((r.w as f32 * s) as u32).min(card.width() - x);
    let h = ((r.h as f32 * s) as u32).min(card.height() - y);
    image::imageops::crop_imm(card, x, y, w, h).to_image()
}

/// Black text on white, by Otsu's threshold within the region (the card's guilloche
/// background and the pale labels fall on the white side), with a white margin.
fn binarise(region: &GrayImage) -> GrayImage {
    let t = otsu(region);
    let margin = 20;
    let mut out = GrayImage::from_pixel(
        region.width() + 2 * margin,
        region.height() + 2 * margin,
        Luma([255]),
    );
    for (x, y, p) in region.enumerate_pixels() {
        let v = if p.0[0] > t { 255 } else { 0 };
        out.put_pixel(x + margin, y + margin, Luma([v]));
    }
    out
}

/// Otsu's threshold of a grey image.
fn otsu(img: &GrayImage) -> u8 {
    let mut hist = [0u64; 256];
    for p in img.pixels() {
        hist[p.0[0] as usize] += 1;
    }
    let total: u64 = hist.iter().sum();
    let sum: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, n)| i as f64 * *n as f64)
        .sum();
    let (mut sum_b, mut w_b, mut best, mut best_t) = (0.0, 0u64, 0.0, 127u8);
    for (t, n) in hist.iter().enumerate() {
        w_b += n;
        if w_b == 0 {
            continue;
        }
        let w_f = total - w_b;
        if w_f == 0 {
            break;
        }
        sum_b += t as f64 * *n as f64;
        let m_b = sum_b / w_b as f64;
        let m_f = (sum - sum_b) / w_f as f64;
        let between = w_b as f64 * w_f as f64 * (m_b - m_f) * (m_b - m_f);
        if between > best {
            best = between;
            best_t = t as u8;
        }
    }
    best_t
}

/// The bounding box of the card's pixels: the rows and columns that are mostly card.
fn bounds(img: &GrayImage, card: &dyn Fn(&Luma<u8>) -> bool) -> (u32, u32, u32, u32) {
    let (w, h) = img.dimensions();
    let cols: Vec<u32> = (0..w)
        .map(|x| (0..h).filter(|&y| card(img.get_pixel(x, y))).count() as u32)
        .collect();
    let rows: Vec<u32> = (0..h)
        .map(|y| (0..w).filter(|&x| card(img.get_pixel(x, y))).count() as u32)
        .collect();
    let span = |v: &[u32], need: u32| {
        let first = v.iter().position(|&n| n > need).unwrap_or(0) as u32;
        let last = v
            .iter()
            .rposition(|&n| n > need)
            .map_or(v.len() as u32, |i| i as u32 + 1);
        (first, last.max(first + 1))
    };
    let (x0, x1) = span(&cols, h / 4);
    let (y0, y1) = span(&rows, w / 4);
    (x0, y0, x1, y1)
}

/// The card's tilt (radians, positive clockwise) from its top edge: for columns across the
/// middle of the card, the first row that is card, fitted by least squares.
fn skew(img: &GrayImage, threshold: u8) -> Option<f32> {
    let (w, h) = img.dimensions();
    let mut points = Vec::new();
    for x in (w / 5..w * 4 / 5).step_by(4) {
        if let Some(y) = (0..h).find(|&y| img.get_pixel(x, y).0[0] > threshold) {
            // A column whose first card pixel is at the very top has no edge to measure.
            if y > 0 {
                points.push((x as f32, y as f32));
            }
        }
    }
    if points.len() < 20 {
        return None;
    }
    let n = points.len() as f32;
    let mx = points.iter().map(|p| p.0).sum::<f32>() / n;
    let my = points.iter().map(|p| p.1).sum::<f32>() / n;
    let sxy: f32 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f32 = points.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    let slope = sxy / sxx;
    (slope.abs() < 0.2).then(|| slope.atan())
}

/// The typical background grey (what rotation fills the corners with).
fn background(img: &GrayImage, threshold: u8) -> u8 {
    let dark: Vec<u8> = img
        .pixels()
        .map(|p| p.0[0])
        .filter(|v| *v <= threshold)
        .collect();
    if dark.is_empty() {
        return 0;
    }
    (dark.iter().map(|v| u32::from(*v)).sum::<u32>() / dark.len() as u32) as u8
}

/// Rotate by `angle` radians (positive clockwise) about the centre, bilinear.
fn rotate(img: &GrayImage, angle: f32, fill: u8) -> GrayImage {
    let (w, h) = img.dimensions();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let (s, c) = angle.sin_cos();
    GrayImage::from_fn(w, h, |x, y| {
        let dx = x as f32 - cx;
        let dy = y as f32 - cy;
        // The source of each destination pixel: rotate back.
        let sx = c * dx + s * dy + cx;
        let sy = -s * dx + c * dy + cy;
        if sx < 0.0 || sy < 0.0 || sx >= (w - 1) as f32 || sy >= (h - 1) as f32 {
            return Luma([fill]);
        }
        let (x0, y0) = (sx.floor() as u32, sy.floor() as u32);
        let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
        let p = |x: u32, y: u32| f32::from(img.get_pixel(x, y).0[0]);
        let top = p(x0, y0) * (1.0 - fx) + p(x0 + 1, y0) * fx;
        let bottom = p(x0, y0 + 1) * (1.0 - fx) + p(x0 + 1, y0 + 1) * fx;
        Luma([(top * (1.0 - fy) + bottom * fy).round() as u8])
    })
}
