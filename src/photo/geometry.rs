//! Where the head must be in a card photo, and measuring it. The national requirement for
//! social security card photos (《社会保障卡制证用数字相片技术要求》, after GA 461) fixes, in
//! the 358×441 image: face 179–255 px wide; the top of the hair 7–21 px below the top
//! edge; the midpoint between the eyes 162–196 px from the left edge; the eye line at
//! least 207 px above the bottom edge; the head upright; a plain white background.

use std::ops::RangeInclusive;

use image::{Rgb, RgbImage};
use serde::Serialize;

use super::face::Face;

pub const FACE_WIDTH: RangeInclusive<f32> = 179.0..=255.0;
pub const HAIR_TOP: RangeInclusive<f32> = 7.0..=21.0;
pub const EYE_MID_X: RangeInclusive<f32> = 162.0..=196.0;
/// The eye line's least distance above the bottom edge.
pub const EYE_LINE_ABOVE_BOTTOM: f32 = 207.0;
/// Eyes leaning more than this (degrees) is a tilted head (a failure)…
pub const MAX_TILT: f32 = 8.0;
/// …and more than this is worth a look (a warning: the eyes are found by a heuristic).
pub const SLIGHT_TILT: f32 = 4.0;

/// A background colour counts as white when every channel is at least this…
pub const WHITE_MIN: f32 = 215.0;
/// …and its channels differ by less than this (not tinted).
pub const WHITE_TINT: f32 = 24.0;
/// Spread (standard deviation of luma) above which the background is not even.
pub const EVEN_MAX_SPREAD: f32 = 14.0;

/// The background beside and above the head.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Background {
    /// Mean colour.
    pub rgb: [f32; 3],
    /// Standard deviation of its luma.
    pub spread: f32,
}

impl Background {
    pub fn is_white(&self) -> bool {
        let [r, g, b] = self.rgb;
        r.min(g).min(b) >= WHITE_MIN && r.max(g).max(b) - r.min(g).min(b) < WHITE_TINT
    }

    pub fn is_even(&self) -> bool {
        self.spread <= EVEN_MAX_SPREAD
    }

    /// Whether a pixel looks like this background.
    fn matches(&self, p: &Rgb<u8>) -> bool {
        let tolerance = 30.0 + 2.0 * self.spread;
        (0..3).all(|c| (p[c] as f32 - self.rgb[c]).abs() < tolerance)
    }

    /// Luma of the mean colour.
    pub fn luma(&self) -> f32 {
        luma(self.rgb)
    }
}

fn luma([r, g, b]: [f32; 3]) -> f32 {
    0.299 * r + 0.587 * g + 0.114 * b
}

/// The background: the upper corners beside the head (left and right of the face's box,
/// from the top edge to just below the eyebrows), where a portrait shows the backdrop and
/// some hair. Its colour is the commonest there; its spread is measured in the top corners
/// (the backdrop's own shadows and patterns, not the hair). `None`
/// when the face fills the width and nothing beside it is left to see.
pub fn background(image: &RgbImage, face: &Face) -> Option<Background> {
    let (w, h) = image.dimensions();
    let bottom = ((face.y + 0.2 * face.h).max(1.0) as u32).min(h);
    let left_end = (face.x - 0.05 * face.w).max(0.0) as u32;
    let right_start = ((face.x + 1.05 * face.w).max(0.0) as u32).min(w);
    let step = (w.max(h) / 300).max(1) as usize;
    let mut px: Vec<[f32; 3]> = Vec::new();
    for y in (0..bottom).step_by(step) {
        for x in (0..left_end).chain(right_start..w).step_by(step) {
            let p = image.get_pixel(x, y);
            px.push([p[0] as f32, p[1] as f32, p[2] as f32]);
        }
    }
    if px.len() < 20 {
        return None;
    }
    // The commonest colour there (a backdrop is one colour; hair spreads over many),
    // then the mean of the pixels near it.
    let mut bins = std::collections::HashMap::<[u8; 3], usize>::new();
    for p in &px {
        *bins.entry(p.map(|c| (c / 32.0) as u8)).or_default() += 1;
    }
    let mode = bins
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(b, _)| b.map(|c| c as f32 * 32.0 + 16.0))
        .unwrap_or([0.0; 3]);
    let near_mode: Vec<&[f32; 3]> = px
        .iter()
        .filter(|p| (0..3).all(|c| (p[c] - mode[c]).abs() <= 28.0))
        .collect();
    let m = near_mode.len().max(1) as f32;
    let rgb = [0, 1, 2].map(|c| near_mode.iter().map(|p| p[c]).sum::<f32>() / m);
    // Evenness from the top corners alone (where a portrait has no hair): shadows,
    // patterns and objects there show as spread.
    let (cw, chh) = ((w as f32 * 0.15) as u32, (h as f32 * 0.12) as u32);
    let corners: Vec<f32> = (0..chh)
        .step_by(step)
        .flat_map(|y| (0..cw).chain(w - cw..w).step_by(step).map(move |x| (x, y)))
        .map(|(x, y)| {
            let p = image.get_pixel(x, y);
            luma([p[0] as f32, p[1] as f32, p[2] as f32])
        })
        .collect();
    let n = corners.len().max(1) as f32;
    let mean = corners.iter().sum::<f32>() / n;
    let spread = (corners.iter().map(|l| (l - mean).powi(2)).sum::<f32>() / n).sqrt();
    Some(Background { rgb, spread })
}

/// The top of the hair: going up from the face's box, the first rows of the head's band
/// that are background again. `Some(0.0)` when the head reaches the top edge (cut off).
pub fn hair_top(image: &RgbImage, face: &Face, bg: &Background) -> Option<f32> {
    let (w, _) = image.dimensions();
    let x0 = (face.x + 0.2 * face.w).max(0.0) as u32;
    let x1 = ((face.x + 0.8 * face.w) as u32).min(w);
    if x1 <= x0 {
        return None;
    }
    let is_background_row = |y: u32| {
        let matching = (x0..x1)
            .filter(|&x| bg.matches(image.get_pixel(x, y)))
            .count();
        matching as f32 >= 0.97 * (x1 - x0) as f32
    };
    let start = (face.y.max(0.0) as u32).min(image.height().saturating_sub(1));
    // Two background rows in a row end the hair (one may be a stray light strand).
    let mut run = 0;
    for y in (0..=start).rev() {
        if is_background_row(y) {
            run += 1;
            if run == 2 {
                return Some((y + 2) as f32);
            }
        } else {
            run = 0;
        }
    }
    Some(0.0)
}

/// What a card photo's geometry measures, in its own pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Measures {
    pub face_width: f32,
    /// Rows of background above the hair (0: the head is cut off at the top).
    pub hair_top: Option<f32>,
    pub eye_mid_x: f32,
    pub eye_line_above_bottom: f32,
    /// Degrees; 0 when the eyes were not found.
    pub tilt: f32,
    pub eyes_found: bool,
    pub background: Option<Background>,
}

/// Measure a card photo (358×441) with its face.
pub fn measure(image: &RgbImage, face: &Face) -> Measures {
    let background = background(image, face);
    let hair = background.as_ref().and_then(|bg| hair_top(image, face, bg));
    let (mx, my) = face.eye_mid();
    Measures {
        face_width: face.width(),
        hair_top: hair,
        eye_mid_x: mx,
        eye_line_above_bottom: image.height() as f32 - my,
        tilt: face.tilt_degrees(),
        eyes_found: face.eyes_found,
        background,
    }
}

/// The measures in one line of Chinese, each beside its rule.
pub fn summary(m: &Measures) -> String {
    let hair = match m.hair_top {
        Some(t) => format!("{t:.0}"),
        None => "？".into(),
    };
    format!(
        "脸宽 {:.0} 像素（179–255）  头顶距上边 {hair}（7–21）  两眼中点距左边 {:.0}（162–196）  眼睛距下边 {:.0}（≥207）  倾斜 {:.1}°",
        m.face_width, m.eye_mid_x, m.eye_line_above_bottom, m.tilt
    )
}

/// A rule of the geometry not met, in Chinese: what is measured, what is required, and
/// what to do.
pub fn problems(m: &Measures) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let (lo, hi) = (FACE_WIDTH.start(), FACE_WIDTH.end());
    if m.face_width < *lo {
        out.push((
            "face_small",
            format!(
                "脸宽约 {:.0} 像素，须在 {lo:.0}–{hi:.0} 之间：头部太小，可按人脸自动裁剪（调整照片时按 a）",
                m.face_width
            ),
        ));
    } else if m.face_width > *hi {
        out.push((
            "face_large",
            format!(
                "脸宽约 {:.0} 像素，须在 {lo:.0}–{hi:.0} 之间：头部太大，须露出肩膀，可按人脸自动裁剪（调整照片时按 a）",
                m.face_width
            ),
        ));
    }
    let (lo, hi) = (HAIR_TOP.start(), HAIR_TOP.end());
    match m.hair_top {
        Some(t) if t < 1.0 => out.push((
            "head_cut",
            "头顶被裁掉了：头发上方须留 7–21 像素的背景，请换一张头顶完整的照片，或按人脸重新裁剪（调整照片时按 a）".into(),
        )),
        Some(t) if t < *lo => out.push((
            "hair_high",
            format!("头顶离上边只有 {t:.0} 像素，须 {lo:.0}–{hi:.0} 像素：头部太靠上"),
        )),
        Some(t) if t > *hi => out.push((
            "hair_low",
            format!("头顶离上边 {t:.0} 像素，须 {lo:.0}–{hi:.0} 像素：头部太靠下"),
        )),
        _ => {}
    }
    let (lo, hi) = (EYE_MID_X.start(), EYE_MID_X.end());
    if !EYE_MID_X.contains(&m.eye_mid_x) {
        out.push((
            "off_centre",
            format!(
                "两眼中点离左边 {:.0} 像素，须 {lo:.0}–{hi:.0} 像素：头部没有居中",
                m.eye_mid_x
            ),
        ));
    }
    if m.eye_line_above_bottom < EYE_LINE_ABOVE_BOTTOM {
        out.push((
            "eyes_low",
            format!(
                "眼睛离下边只有 {:.0} 像素，须至少 {EYE_LINE_ABOVE_BOTTOM:.0} 像素：头部太靠下",
                m.eye_line_above_bottom
            ),
        ));
    }
    if m.tilt.abs() > MAX_TILT {
        out.push((
            "tilted",
            format!(
                "头部歪了约 {:.0}°（两眼不在一条水平线上）：请端正头部重新拍摄，小的倾斜可按人脸自动摆正（调整照片时按 a）",
                m.tilt.abs()
            ),
        ));
    }
    out
}

/// Problems of the background, in Chinese (failing first: not white; then uneven).
pub fn background_problems(bg: Option<&Background>) -> Vec<(&'static str, bool, String)> {
    let Some(bg) = bg else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if !bg.is_white() {
        let [r, g, b] = bg.rgb;
        let what = if b > r + 25.0 && b > g {
            "偏蓝"
        } else if r > b + 25.0 {
            "偏红或偏黄"
        } else if bg.luma() < WHITE_MIN {
            "偏灰或偏暗"
        } else {
            "带颜色"
        };
        out.push((
            "background_colour",
            true,
            format!("背景不是纯白色（{what}）：请在白色背景前重新拍摄"),
        ));
    }
    if !bg.is_even() {
        out.push((
            "background_uneven",
            false,
            "背景不均匀（有阴影、图案或杂物）：请在平整的白墙或白布前拍摄".into(),
        ));
    }
    out
}

/// Whether the clothing (below the chin, across the face's width) is about as light as a
/// white background: the guide asks for clothing that is not white.
pub fn clothing_like_background(image: &RgbImage, face: &Face, bg: &Background) -> bool {
    let (w, h) = image.dimensions();
    let y0 = (face.y + 1.45 * face.h) as u32;
    if y0 + 4 >= h || !bg.is_white() {
        return false;
    }
    let x0 = (face.x.max(0.0)) as u32;
    let x1 = ((face.x + face.w) as u32).min(w);
    let (mut n, mut matching) = (0usize, 0usize);
    for y in (y0..h).step_by(2) {
        for x in (x0..x1).step_by(2) {
            n += 1;
            if bg.matches(image.get_pixel(x, y)) {
                matching += 1;
            }
        }
    }
    n > 0 && matching * 10 > n * 7
}
