//! Checking a photo against what the card system accepts. The card photo has hard rules
//! (358×441 px, 20 KB–8.75 MB, JPEG, colour) and heuristics a clerk can act on (too dark or
//! bright, low contrast, blurred, background not plain); ID card images must be readable.
//! Every finding says in Chinese what is wrong and what to do.

use image::{DynamicImage, ImageFormat};
use serde::Serialize;

use super::decode::{DecodeError, Decoded, decode};
use crate::domain::PhotoSlot;

pub const CARD_WIDTH: u32 = 358;
pub const CARD_HEIGHT: u32 = 441;
/// 20 KB, the guide's lower bound.
pub const CARD_MIN_BYTES: u64 = 20 * 1024;
/// 8.75 MB, the guide's upper bound.
pub const CARD_MAX_BYTES: u64 = 9_175_040;
/// An ID card scan narrower than this (short side, px) cannot be read.
pub const ID_MIN_SHORT_SIDE: u32 = 300;
/// An ID card is 85.6 × 54 mm.
pub const ID_ASPECT: f32 = 85.6 / 54.0;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable, for scripts and tests.
    pub code: &'static str,
    /// A failure blocks the photo; otherwise it is advice.
    pub fails: bool,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub kind: PhotoSlot,
    pub width: u32,
    pub height: u32,
    pub file_bytes: u64,
    pub format: String,
    pub findings: Vec<Finding>,
    /// The card photo's face as measured (a 358×441 card photo with one face).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub geometry: Option<super::geometry::Measures>,
}

impl Verdict {
    pub fn passes(&self) -> bool {
        !self.findings.iter().any(|f| f.fails)
    }
}

/// Simple statistics of an image, measured on a small copy (fast whatever the size).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    pub mean_luma: f32,
    pub luma_stddev: f32,
    /// Variance of the Laplacian: low means blurred.
    pub sharpness: f32,
    pub greyscale: bool,
}

fn stddev(values: impl Iterator<Item = f32> + Clone) -> f32 {
    let n = values.clone().count().max(1) as f32;
    let mean = values.clone().sum::<f32>() / n;
    (values.map(|v| (v - mean) * (v - mean)).sum::<f32>() / n).sqrt()
}

/// Whether a pixel has colour: its channels differ by more than JPEG noise does on grey.
pub fn is_coloured([r, g, b]: [u8; 3]) -> bool {
    let (r, g, b) = (r as i16, g as i16, b as i16);
    (r - g).abs().max((g - b).abs()).max((r - b).abs()) > 12
}

pub fn stats(image: &DynamicImage) -> Stats {
    let small = if image.width().max(image.height()) > 400 {
        image.thumbnail(400, 400)
    } else {
        image.clone()
    };
    let rgb = small.to_rgb8();
    let (w, h) = rgb.dimensions();
    let luma: Vec<f32> = rgb
        .pixels()
        .map(|p| 0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32)
        .collect();
    let at = |x: u32, y: u32| luma[(y * w + x) as usize];
    let mean_luma = luma.iter().sum::<f32>() / luma.len().max(1) as f32;
    let luma_stddev = stddev(luma.iter().copied());
    let mut lap = Vec::with_capacity(luma.len());
    for y in 1..h.saturating_sub(1) {
        for x in 1..w.saturating_sub(1) {
            lap.push(4.0 * at(x, y) - at(x - 1, y) - at(x + 1, y) - at(x, y - 1) - at(x, y + 1));
        }
    }
    let sharpness = stddev(lap.iter().copied()).powi(2);
    let coloured = rgb.pixels().filter(|p| is_coloured(p.0)).count();
    let greyscale = !image.color().has_color() || coloured * 100 < rgb.pixels().len();
    Stats {
        mean_luma,
        luma_stddev,
        sharpness,
        greyscale,
    }
}

fn format_name(f: ImageFormat) -> String {
    match f {
        ImageFormat::Jpeg => "jpeg".into(),
        ImageFormat::Png => "png".into(),
        ImageFormat::WebP => "webp".into(),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// Check a photo file's bytes for `kind`. An unreadable file is an error, not a verdict.
pub fn check(bytes: &[u8], kind: PhotoSlot) -> Result<Verdict, DecodeError> {
    let decoded = decode(bytes)?;
    Ok(check_decoded(&decoded, kind))
}

/// The verdict on a decoded photo; `d.image` may be a reduced copy (`decode_reduced`):
/// the sizes judged are the photo's own.
pub fn check_decoded(d: &Decoded, kind: PhotoSlot) -> Verdict {
    let (width, height) = d.dimensions;
    let s = stats(&d.image);
    let mut findings = Vec::new();
    let mut geometry = None;
    let mut fail = |code, message: String| {
        findings.push(Finding {
            code,
            fails: true,
            message,
        })
    };
    match kind {
        PhotoSlot::CardPhoto => {
            if (width, height) != (CARD_WIDTH, CARD_HEIGHT) {
                fail(
                    "size",
                    format!(
                        "尺寸为 {width}×{height} 像素：制卡照片须为 358×441 像素，可用“修正”自动裁剪缩放"
                    ),
                );
            }
            if d.format != ImageFormat::Jpeg {
                fail(
                    "format",
                    format!(
                        "格式为 {}：制卡照片须为 JPEG，可用“修正”转换",
                        format_name(d.format).to_uppercase()
                    ),
                );
            }
            if d.file_bytes < CARD_MIN_BYTES {
                fail(
                    "too_small_file",
                    format!(
                        "文件只有 {:.1} KB：须在 20KB–8.75MB 之间，可用“修正”重新压缩",
                        d.file_bytes as f64 / 1024.0
                    ),
                );
            }
            if d.file_bytes > CARD_MAX_BYTES {
                fail(
                    "too_large_file",
                    format!(
                        "文件有 {:.2} MB：须在 20KB–8.75MB 之间，可用“修正”重新压缩",
                        d.file_bytes as f64 / 1_048_576.0
                    ),
                );
            }
            if s.greyscale {
                fail(
                    "greyscale",
                    "这是黑白照片：须为近期彩色免冠照片，请重新拍摄".into(),
                );
            }
            geometry = face_findings(
                d,
                (width, height) == (CARD_WIDTH, CARD_HEIGHT),
                &mut findings,
            );
        }
        PhotoSlot::IdFront
        | PhotoSlot::IdBack
        | PhotoSlot::AgentIdCard
        | PhotoSlot::Authorisation => {
            if width.min(height) < ID_MIN_SHORT_SIDE {
                fail(
                    "too_small",
                    format!("只有 {width}×{height} 像素，文字看不清：请靠近一些重新拍摄或扫描"),
                );
            }
        }
    }
    let mut warn = |code, message: &str| {
        findings.push(Finding {
            code,
            fails: false,
            message: message.into(),
        })
    };
    if s.mean_luma < 60.0 {
        warn("dark", "照片偏暗：请在光线充足处重新拍摄，或打开补光");
    } else if s.mean_luma > 225.0 {
        warn("bright", "照片过亮（曝光过度）：请避开强光重新拍摄");
    }
    if s.luma_stddev < 20.0 {
        warn("low_contrast", "照片对比度很低，看起来发灰：请重新拍摄");
    }
    if s.sharpness < 25.0 {
        warn("blurred", "照片模糊：请对好焦、拿稳后重新拍摄");
    }
    // An ID image of any size is brought to the system's limits when it is imported
    // (`fix::normalise_id`): its size is advice, not a refusal.
    if kind != PhotoSlot::CardPhoto && d.file_bytes > CARD_MAX_BYTES {
        warn(
            "too_large_file",
            &format!(
                "文件有 {:.2} MB，超过 8.75MB：导入时会自动缩小（长边 2000 像素以内）",
                d.file_bytes as f64 / 1_048_576.0
            ),
        );
    }
    match kind {
        // The card photo's background is judged beside the face (face_findings).
        PhotoSlot::CardPhoto => {}
        // A letter or a proof of relation: any shape, often a black-and-white scan.
        PhotoSlot::Authorisation => {}
        PhotoSlot::IdFront | PhotoSlot::IdBack | PhotoSlot::AgentIdCard => {
            let ratio = width.max(height) as f32 / width.min(height).max(1) as f32;
            if (ratio - ID_ASPECT).abs() > 0.3 {
                warn(
                    "aspect",
                    "比例不像一张身份证：可能没拍全或拍进了太多背景，请让证件占满画面",
                );
            }
            if height > width {
                warn("portrait", "照片是竖的：身份证应横着拍");
            }
            if s.greyscale {
                warn("greyscale", "这是黑白图像：能看清即可，彩色更好");
            }
        }
    }
    Verdict {
        kind,
        width,
        height,
        file_bytes: d.file_bytes,
        format: format_name(d.format),
        findings,
        geometry,
    }
}

/// The face of a card photo: one face; where it is (on a photo of the card's size: on
/// another, "修正" places it); the background white and even; clothing not white. Returns
/// the measures of a card-sized photo.
fn face_findings(
    d: &Decoded,
    card_sized: bool,
    findings: &mut Vec<Finding>,
) -> Option<super::geometry::Measures> {
    use super::geometry;
    let mut push = |code, fails, message: String| {
        findings.push(Finding {
            code,
            fails,
            message,
        })
    };
    // A big photo is judged on a copy of at most 1000 px (the face's box scaled to it).
    let work = if d.image.width().max(d.image.height()) > 1000 {
        d.image.thumbnail(1000, 1000)
    } else {
        d.image.clone()
    };
    let least = if card_sized {
        super::face::LEAST_IN_CARD
    } else {
        super::face::LEAST_IN_PHOTO
    };
    let faces = super::face::detect(&work, least);
    let face = match faces.len() {
        0 => {
            push(
                "no_face",
                true,
                "没有找到人脸：须为正面免冠照，五官清晰、无遮挡（帽子、口罩、墨镜），请重新拍摄"
                    .into(),
            );
            return None;
        }
        1 => faces[0],
        n => {
            push(
                "many_faces",
                true,
                format!("照片里有 {n} 张人脸：制卡照片只能有申领人一人"),
            );
            return None;
        }
    };
    let rgb = work.to_rgb8();
    let bg = geometry::background(&rgb, &face);
    for (code, fails, message) in geometry::background_problems(bg.as_ref()) {
        push(code, fails, message);
    }
    if bg
        .as_ref()
        .is_some_and(|bg| geometry::clothing_like_background(&rgb, &face, bg))
    {
        push(
            "clothing_white",
            false,
            "衣服颜色和白色背景太接近：请穿深色或彩色的衣服拍摄".into(),
        );
    }
    if !card_sized {
        return None;
    }
    let m = geometry::measure(&rgb, &face);
    for (code, message) in geometry::problems(&m) {
        push(code, true, message);
    }
    if (geometry::SLIGHT_TILT..=geometry::MAX_TILT).contains(&m.tilt.abs()) {
        push(
            "tilt_slight",
            false,
            format!(
                "头部似乎略有倾斜（约 {:.0}°）：请确认头部端正，必要时按人脸自动摆正（调整照片时按 a）",
                m.tilt.abs()
            ),
        );
    }
    Some(m)
}
