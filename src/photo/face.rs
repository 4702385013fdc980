//! Finding the face in a photo, offline: SeetaFace's frontal detector (the `rustface`
//! crate, pure Rust; the model ships in `assets/models`, from the crate's own package, see
//! `scripts/face-model`), on a grey copy no larger than `DETECT_SIDE`. It gives a box; the
//! eyes are then found inside the box as the darkest blobs of its upper half, left and
//! right, which gives the eye line and the head's tilt.

use std::sync::OnceLock;

use image::{DynamicImage, GrayImage};

/// The model, read once (1.2 MB, inside the binary).
static MODEL: OnceLock<Option<rustface::Model>> = OnceLock::new();
const MODEL_BYTES: &[u8] = include_bytes!("../../assets/models/seeta_fd_frontal_v1.0.bin");

/// Longest side the detector looks at: a face in a card photo or a phone portrait fills a
/// good part of the frame, and the cost grows with the pixels.
pub const DETECT_SIDE: u32 = 480;
/// Longest side of the second look, for a face smaller than expected.
const CLOSER_SIDE: u32 = 900;
/// The detector's copy is made just large enough for the least face asked for to be this
/// wide in it (the model's window is 40 px; smaller copies are faster).
const LEAST_FACE_PX: f32 = 44.0;
/// The least face a card photo is searched for (of its width): well under the 179 of 358
/// px the rules want, so that a small face is measured and named, not missed.
pub const LEAST_IN_CARD: f32 = 0.3;
/// The least face a phone photo is searched for first (a portrait's face is larger; a
/// smaller one is looked for only when this finds none).
pub const LEAST_IN_PHOTO: f32 = 0.15;
/// Detector score below which a box is not a face (the crate's examples use 2.0; real
/// faces here score 5–40, the false boxes of a plain background stay under 2).
const MIN_SCORE: f64 = 2.0;

/// Cheek-to-cheek width per width of SeetaFace's box (its mean on the corpus's faces).
pub const CHEEK_PER_BOX: f32 = 0.885;
/// Degrees by which the found eyes' line may differ from the symmetry's lean before the
/// eyes are believed instead.
const EYES_OVER_SYMMETRY: f32 = 6.0;

/// A face, in the coordinates of the image it was found in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Face {
    /// The detector's box: left, top, width, height.
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
    pub score: f64,
    /// The eyes (the one on the image's left first), found in the box; when they could
    /// not be told apart, where the box puts them.
    pub left_eye: (f32, f32),
    pub right_eye: (f32, f32),
    /// Whether the eyes were found (else estimated from the box).
    pub eyes_found: bool,
    /// How far the head leans in the picture, in degrees (positive: its right-hand eye,
    /// on the image's right, lower), from the face's mirror symmetry.
    pub roll: f32,
}

impl Face {
    /// The midpoint between the eyes.
    pub fn eye_mid(&self) -> (f32, f32) {
        (
            (self.left_eye.0 + self.right_eye.0) / 2.0,
            (self.left_eye.1 + self.right_eye.1) / 2.0,
        )
    }

    /// How far the head leans, in degrees (positive: the eye on the image's right lower).
    pub fn tilt_degrees(&self) -> f32 {
        self.lean()
    }

    /// The face's width as the card photo rules mean it (cheek to cheek): SeetaFace's box
    /// is wider than that, by 6–21% on four real faces measured by hand
    /// (scripts/photo-corpus), so it is taken at `CHEEK_PER_BOX` of the box.
    pub fn width(&self) -> f32 {
        self.w * CHEEK_PER_BOX
    }

    /// How far the head leans, in degrees: the face's mirror symmetry, unless the eyes were
    /// found on a line that leans otherwise by more than a few degrees — a face whose two
    /// halves differ (a parting, a light from one side) misleads symmetry, and the eyes are
    /// what the rule is about.
    fn lean(&self) -> f32 {
        if !self.eyes_found {
            return self.roll;
        }
        let (dx, dy) = (
            self.right_eye.0 - self.left_eye.0,
            self.right_eye.1 - self.left_eye.1,
        );
        let eyes = dy.atan2(dx).to_degrees();
        if (eyes - self.roll).abs() > EYES_OVER_SYMMETRY {
            eyes
        } else {
            self.roll
        }
    }

    /// The same face in a copy of its image `k` times as large.
    pub fn scaled(self, k: f32) -> Face {
        let p = |(x, y): (f32, f32)| (x * k, y * k);
        Face {
            x: self.x * k,
            y: self.y * k,
            w: self.w * k,
            h: self.h * k,
            left_eye: p(self.left_eye),
            right_eye: p(self.right_eye),
            ..self
        }
    }
}

fn model() -> Option<rustface::Model> {
    MODEL
        .get_or_init(|| rustface::read_model(std::io::Cursor::new(MODEL_BYTES)).ok())
        .clone()
}

/// Every face in `image` at least `least` of its width wide, best first (an empty list
/// when there is none). The detector's cost grows with the pixels it sees (its window is
/// 40 px at every scale), so it looks at a copy just large enough for the least face;
/// when that finds nothing it looks again closer (a smaller face than expected), then
/// with a border around (a face that fills the frame).
pub fn detect(image: &DynamicImage, least: f32) -> Vec<Face> {
    let (w, h) = (image.width(), image.height());
    if w < 24 || h < 24 {
        return Vec::new();
    }
    let copy_up_to = |least: f32, most: u32| {
        let want = (LEAST_FACE_PX / least.clamp(0.01, 1.0)).clamp(160.0, most as f32);
        let side = (want * w.max(h) as f32 / w as f32).min(most as f32) as u32;
        if side < w.max(h) {
            image.thumbnail(side, side).to_luma8()
        } else {
            image.to_luma8()
        }
    };
    let copy = |least: f32| copy_up_to(least, DETECT_SIDE);
    let scaled = |faces: Vec<Face>, grey: &GrayImage| -> Vec<Face> {
        let k = w as f32 / grey.width() as f32;
        faces.into_iter().map(|f| f.scaled(k)).collect()
    };
    let grey = copy(least);
    let faces = detect_grey(&grey);
    if !faces.is_empty() {
        return scaled(faces, &grey);
    }
    if least > 0.07 {
        // Closer, in a copy up to `CLOSER_SIDE`: a face a twelfth of a 4000-pixel photo's
        // width is 330 pixels wide, fixable, and only 40 in a copy of 480.
        let closer = copy_up_to(least / 2.5, CLOSER_SIDE);
        let faces = detect_grey(&closer);
        if !faces.is_empty() {
            return scaled(faces, &closer);
        }
    }
    // A face that fills the frame is missed by a detector that needs some of the head's
    // outline: look again with a border around (the photo's mean grey).
    let (gw, gh) = grey.dimensions();
    let pad = gw.max(gh) / 4;
    let mean = (grey.as_raw().iter().map(|&v| v as u64).sum::<u64>()
        / grey.as_raw().len().max(1) as u64) as u8;
    let mut framed = GrayImage::from_pixel(gw + 2 * pad, gh + 2 * pad, image::Luma([mean]));
    image::imageops::overlay(&mut framed, &grey, pad as i64, pad as i64);
    let p = pad as f32;
    let faces = detect_grey(&framed)
        .into_iter()
        .map(|f| {
            let back = |(x, y): (f32, f32)| (x - p, y - p);
            Face {
                x: f.x - p,
                y: f.y - p,
                left_eye: back(f.left_eye),
                right_eye: back(f.right_eye),
                ..f
            }
        })
        .collect();
    scaled(faces, &grey)
}

/// Faces in a grey image at its own scale.
pub fn detect_grey(grey: &GrayImage) -> Vec<Face> {
    let Some(model) = model() else {
        return Vec::new();
    };
    let (w, h) = grey.dimensions();
    if w < 24 || h < 24 {
        return Vec::new();
    }
    let mut detector = rustface::create_detector_with_model(model);
    detector.set_score_thresh(MIN_SCORE);
    detector.set_pyramid_scale_factor(0.8);
    detector.set_slide_window_step(4, 4);
    let data = rustface::ImageData::new(grey.as_raw(), w, h);
    let mut faces: Vec<Face> = detector
        .detect(&data)
        .into_iter()
        .map(|f| {
            let b = f.bbox();
            let (x, y) = (b.x().max(0) as f32, b.y().max(0) as f32);
            let (bw, bh) = (b.width() as f32, b.height() as f32);
            locate_eyes(grey, x, y, bw, bh, f.score())
        })
        .collect();
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    faces
}

/// Where the box alone puts the eyes: SeetaFace's box has them at about 38% of its height,
/// 30% and 70% of its width.
fn eyes_from_box(x: f32, y: f32, w: f32, h: f32) -> ((f32, f32), (f32, f32)) {
    let ey = y + 0.38 * h;
    ((x + 0.30 * w, ey), (x + 0.70 * w, ey))
}

/// The eyes inside the box: in each half of the band where eyes are (22%–58% of the box's
/// height), the three darkest smoothed spots apart from each other; of the pairs, the one
/// most level and dark (an eye beside an eyebrow is not a pair). Accepted only when the
/// pair leans less than 15° and is 30–60% of the box apart; else the box's estimate.
fn locate_eyes(grey: &GrayImage, x: f32, y: f32, w: f32, h: f32, score: f64) -> Face {
    let (left_eye, right_eye) = eyes_from_box(x, y, w, h);
    let roll = roll_by_symmetry(grey, x, y, w, h);
    let mut face = Face {
        x,
        y,
        w,
        h,
        score,
        left_eye,
        right_eye,
        eyes_found: false,
        roll,
    };
    let slope = roll.to_radians().tan();
    let mid = x + w / 2.0;
    let r = ((w / 16.0) as u32).max(1);
    let band = (y + 0.22 * h, y + 0.58 * h);
    let left = dark_spots(grey, (x + 0.10 * w, mid - 0.04 * w), band, r);
    let right = dark_spots(grey, (mid + 0.04 * w, x + 0.90 * w), band, r);
    let mut best: Option<(f32, Spot, Spot)> = None;
    for l in &left {
        for rr in &right {
            let (dx, dy) = (rr.0 - l.0, rr.1 - l.1);
            if dy.atan2(dx).to_degrees().abs() >= 15.0 || !(0.30 * w..=0.60 * w).contains(&dx) {
                continue;
            }
            // Darkness (0–255 each) plus a price on leaning otherwise than the face
            // does: 10% of the box's height (an eye beside an eyebrow) costs as much as
            // 80 grey levels.
            let cost = l.2 + rr.2 + 800.0 * (dy - dx * slope).abs() / h;
            if best.is_none_or(|(c, _, _)| cost < c) {
                best = Some((cost, *l, *rr));
            }
        }
    }
    if let Some((_, l, rr)) = best {
        face.left_eye = (l.0, l.1);
        face.right_eye = (rr.0, rr.1);
        face.eyes_found = true;
    }
    face
}

/// The head's lean from the face's mirror symmetry: the inner face (eyes to mouth, the
/// hair left out) sampled on a 48×48 grid turned by each candidate angle, the angle (and
/// a small sideways shift of the axis) where left and mirrored right differ least. Eye
/// blobs alone confuse an eye with an eyebrow; symmetry uses the whole face.
fn roll_by_symmetry(grey: &GrayImage, x: f32, y: f32, w: f32, h: f32) -> f32 {
    const N: i32 = 24;
    let (gw, gh) = (grey.width() as f32, grey.height() as f32);
    let (cx, cy) = (x + w / 2.0, y + 0.55 * h);
    let unit = w / (2 * N) as f32;
    let sample = |px: f32, py: f32| -> f32 {
        let (px, py) = (px.clamp(0.0, gw - 1.0), py.clamp(0.0, gh - 1.0));
        grey.get_pixel(px as u32, py as u32)[0] as f32
    };
    let asymmetry = |deg: f32, shift: i32| -> f32 {
        let (sin, cos) = deg.to_radians().sin_cos();
        let at = |i: i32, j: i32| {
            let (u, v) = ((i + shift) as f32 * unit, j as f32 * unit);
            sample(cx + u * cos - v * sin, cy + u * sin + v * cos)
        };
        let mut d = 0.0;
        for j in -14..14 {
            for i in 1..(N * 3 / 4) {
                d += (at(i, j) - at(-i, j)).abs();
            }
        }
        d
    };
    let mut best = (f32::MAX, 0.0f32);
    let mut deg = -14.0f32;
    while deg <= 14.0 {
        for shift in -3..=3 {
            let a = asymmetry(deg, shift);
            if a < best.0 {
                best = (a, deg);
            }
        }
        deg += 1.0;
    }
    // Refine to half a degree around the best.
    let coarse = best.1;
    for deg in [coarse - 0.5, coarse + 0.5] {
        for shift in -3..=3 {
            let a = asymmetry(deg, shift);
            if a < best.0 {
                best = (a, deg);
            }
        }
    }
    best.1
}

/// A dark spot: centre x, y and its mean grey.
type Spot = (f32, f32, f32);

/// Up to three darkest spots (centre x, y, mean grey of a (2r+1)² square) in the region
/// `xs` × `ys` of `grey`, each at least 2r from the others.
fn dark_spots(grey: &GrayImage, xs: (f32, f32), ys: (f32, f32), r: u32) -> Vec<Spot> {
    let (gw, gh) = grey.dimensions();
    let (x0, x1) = (xs.0.max(0.0) as u32, (xs.1.max(0.0) as u32).min(gw));
    let (y0, y1) = (ys.0.max(0.0) as u32, (ys.1.max(0.0) as u32).min(gh));
    if x1 <= x0 + 2 * r + 1 || y1 <= y0 + 2 * r + 1 {
        return Vec::new();
    }
    let (bw, bh) = ((x1 - x0) as usize, (y1 - y0) as usize);
    // Integral image of the region, for square means in constant time.
    let mut sum = vec![0u64; (bw + 1) * (bh + 1)];
    for j in 0..bh {
        let mut row = 0u64;
        for i in 0..bw {
            row += grey.get_pixel(x0 + i as u32, y0 + j as u32)[0] as u64;
            sum[(j + 1) * (bw + 1) + i + 1] = sum[j * (bw + 1) + i + 1] + row;
        }
    }
    let r = r as usize;
    let n = ((2 * r + 1) * (2 * r + 1)) as f32;
    let mean = |i: usize, j: usize| {
        let (a, b, c, d) = (
            sum[(j + r + 1) * (bw + 1) + i + r + 1],
            sum[(j - r) * (bw + 1) + i - r],
            sum[(j - r) * (bw + 1) + i + r + 1],
            sum[(j + r + 1) * (bw + 1) + i - r],
        );
        (a + b - c - d) as f32 / n
    };
    let mut means: Vec<(f32, usize, usize)> = Vec::new();
    for j in r..bh - r {
        for i in r..bw - r {
            means.push((mean(i, j), i, j));
        }
    }
    means.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut spots: Vec<Spot> = Vec::new();
    for (m, i, j) in means {
        let (cx, cy) = (x0 as f32 + i as f32 + 0.5, y0 as f32 + j as f32 + 0.5);
        if spots
            .iter()
            .all(|s| (s.0 - cx).abs() >= 2.0 * r as f32 || (s.1 - cy).abs() >= 2.0 * r as f32)
        {
            spots.push((cx, cy, m));
            if spots.len() == 3 {
                break;
            }
        }
    }
    spots
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_inside_the_binary_reads() {
        assert!(model().is_some());
    }

    #[test]
    fn a_plain_page_has_no_face() {
        let white = DynamicImage::ImageRgb8(image::RgbImage::from_pixel(
            358,
            441,
            image::Rgb([250, 250, 250]),
        ));
        assert!(detect(&white, LEAST_IN_CARD).is_empty());
        let tiny = DynamicImage::ImageRgb8(image::RgbImage::new(10, 10));
        assert!(detect(&tiny, LEAST_IN_CARD).is_empty());
    }
}
