//! Synthetic photos for tests, benchmarks, the demo and trying the wizard. Portraits are
//! built around one real face, so that the face detector has something to find: the head
//! and shoulders of NASA's public-domain portrait of Eileen Collins (scikit-image's
//! `astronaut`, see `scripts/face-fixture`), its grey backdrop replaced by the scene's
//! background, placed, scaled and turned as a test asks. ID card images are drawings.

use std::sync::OnceLock;

use image::{Rgb, RgbImage};

const HEAD_JPEG: &[u8] = include_bytes!("../../assets/samples/astronaut-head.jpg");

/// Where things are in the head image (measured once on it with the detector and by eye):
/// the face's width (cheek to cheek, as the detector's box gives it: `Face::width`), the
/// top of the hair, the midpoint between the eyes.
pub const HEAD_FACE_WIDTH: f32 = 92.6 * super::face::CHEEK_PER_BOX;
pub const HEAD_HAIR_TOP: f32 = 15.9;
pub const HEAD_EYE_MID: (f32, f32) = (126.4, 102.4);
/// Her head leans this far (degrees) in the original: a scene turns it level first.
pub const HEAD_TILT: f32 = 3.7;

/// The head image and which of its pixels are the person (not the backdrop).
fn head() -> &'static (RgbImage, Vec<bool>) {
    static HEAD: OnceLock<(RgbImage, Vec<bool>)> = OnceLock::new();
    HEAD.get_or_init(|| {
        let rgb = image::load_from_memory(HEAD_JPEG)
            .map(|i| i.to_rgb8())
            .unwrap_or_else(|_| RgbImage::new(1, 1));
        let (w, h) = rgb.dimensions();
        // The backdrop: light, unsaturated pixels reached from the top and side edges.
        let backdrop = |p: &Rgb<u8>| {
            let (lo, hi) = (
                p[0].min(p[1]).min(p[2]) as f32,
                p[0].max(p[1]).max(p[2]) as f32,
            );
            hi > 140.0 && (hi - lo) / hi < 0.16
        };
        let mut person = vec![true; (w * h) as usize];
        let mut todo: Vec<(u32, u32)> = (0..w).map(|x| (x, 0)).collect();
        todo.extend((0..h * 2 / 3).flat_map(|y| [(0, y), (w - 1, y)]));
        while let Some((x, y)) = todo.pop() {
            let i = (y * w + x) as usize;
            if !person[i] || !backdrop(rgb.get_pixel(x, y)) {
                continue;
            }
            person[i] = false;
            if x > 0 {
                todo.push((x - 1, y));
            }
            if x + 1 < w {
                todo.push((x + 1, y));
            }
            if y > 0 {
                todo.push((x, y - 1));
            }
            if y + 1 < h {
                todo.push((x, y + 1));
            }
        }
        (rgb, person)
    })
}

/// A portrait to make: where the face goes, in the output's pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scene {
    pub face_width: f32,
    /// The top of the hair, from the top edge (may be negative: cut off).
    pub hair_top: f32,
    /// The midpoint between the eyes, from the left edge.
    pub eye_mid_x: f32,
    /// Degrees the head leans (positive: its right eye lower).
    pub tilt: f32,
    pub background: [u8; 3],
    /// A second person beside the first.
    pub two: bool,
}

impl Scene {
    /// A phone portrait's framing: a face of ordinary size (a quarter of the short side;
    /// a landscape photo framed a little closer, its face a fifth of the width at 4:3),
    /// hair 14% down, centred.
    pub fn portrait(w: u32, h: u32) -> Scene {
        let share = if w > h { 0.27 } else { 0.24 };
        Scene {
            face_width: w.min(h) as f32 * share,
            hair_top: h as f32 * 0.14,
            eye_mid_x: w as f32 / 2.0,
            tilt: 0.0,
            background: [244, 245, 247],
            two: false,
        }
    }

    /// A card photo's framing, inside every rule.
    pub fn card() -> Scene {
        Scene {
            face_width: 192.0,
            hair_top: 14.0,
            eye_mid_x: 179.0,
            ..Scene::portrait(358, 441)
        }
    }
}

/// `scene` drawn at `w`×`h`.
pub fn scene(w: u32, h: u32, scene: &Scene) -> RgbImage {
    let (head, person) = head();
    let (hw, hh) = head.dimensions();
    let k = scene.face_width / HEAD_FACE_WIDTH;
    let (sin, cos) = (scene.tilt - HEAD_TILT).to_radians().sin_cos();
    // Output point of the eye midpoint; the head turns about it.
    let (ox, oy) = (
        scene.eye_mid_x,
        scene.hair_top + (HEAD_EYE_MID.1 - HEAD_HAIR_TOP) * k,
    );
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ ((w as u64) << 20) ^ h as u64;
    let mut noise = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % 7) as i16 - 3
    };
    let offsets: &[f32] = if scene.two { &[-0.22, 0.22] } else { &[0.0] };
    RgbImage::from_fn(w, h, |x, y| {
        let n = noise();
        let mut px = Rgb(scene.background.map(|c| clamp(c as i16 + n)));
        for &off in offsets {
            let (dx, dy) = (x as f32 + 0.5 - ox - off * w as f32, y as f32 + 0.5 - oy);
            // Turn back, then into the head image's pixels.
            let (rx, ry) = (dx * cos + dy * sin, -dx * sin + dy * cos);
            let hx = HEAD_EYE_MID.0 + rx / k;
            let hy = (HEAD_EYE_MID.1 + ry / k).min(hh as f32 - 1.0);
            if hx < 0.0 || hy < 0.0 || hx >= hw as f32 {
                continue;
            }
            let (ix, iy) = (hx as u32, hy as u32);
            if person[(iy * hw + ix) as usize] {
                px = *head.get_pixel(ix, iy);
            }
        }
        px
    })
}

fn clamp(v: i16) -> u8 {
    v.clamp(0, 255) as u8
}

/// A deterministic w×h portrait: framed as a card photo at the card's size, else as a
/// phone framed it (`Scene::portrait`).
pub fn portrait(w: u32, h: u32) -> RgbImage {
    if (w, h) == (super::check::CARD_WIDTH, super::check::CARD_HEIGHT) {
        scene(w, h, &Scene::card())
    } else {
        scene(w, h, &Scene::portrait(w, h))
    }
}

/// Insert an EXIF orientation tag into a JPEG, after SOI (6 = turn 90° clockwise to view),
/// as a phone held upright writes its photos.
pub fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = b"MM\0\x2a\0\0\0\x08\0\x01".to_vec();
    tiff.extend_from_slice(&[0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1]);
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A phone-style JPEG: `w`×`h` as seen, stored sideways with an EXIF tag when `sideways`.
pub fn phone_jpeg(w: u32, h: u32, sideways: bool) -> Vec<u8> {
    let image = image::DynamicImage::ImageRgb8(portrait(w, h));
    let stored = if sideways { image.rotate270() } else { image };
    let mut out = Vec::new();
    let _ = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&stored);
    if sideways {
        with_exif_orientation(&out, 6)
    } else {
        out
    }
}

/// A card photo that meets the spec (358×441 px JPEG, 20 KB – 8.75 MB, colour), varied by
/// `seed` so that different applications have different photos (and SHA-256s).
pub fn card_photo_jpeg(seed: u64) -> Vec<u8> {
    let mut image = scene(
        super::check::CARD_WIDTH,
        super::check::CARD_HEIGHT,
        &Scene::card(),
    );
    // A few pixels of the background differ per seed: a distinct file, the same look.
    for i in 0..8u32 {
        let x = (seed.wrapping_mul(31).wrapping_add(i as u64 * 7) % 40) as u32;
        let shade = 236 + ((seed >> (i * 2)) & 3) as u8;
        image.put_pixel(x + 4, 4 + i, Rgb([shade, shade + 2, shade + 5]));
    }
    super::fix::encode_within(
        &image,
        super::check::CARD_MIN_BYTES,
        super::check::CARD_MAX_BYTES,
    )
    .expect("a synthetic portrait encodes within the card's size limits")
}

/// An ID card image (front or back) that is readable by the checks: a light card-shaped
/// picture with some dark "text" lines, and on the front a portrait (the real face the
/// scenes use). Not a rendering of a real card.
pub fn id_card_jpeg(seed: u64, back: bool) -> Vec<u8> {
    let (w, h) = (856u32, 540u32);
    let mut state = seed ^ 0xA076_1D64_78BD_642F ^ if back { 0xFF } else { 0 };
    let mut noise = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % 21) as i16 - 10
    };
    // The front's portrait: the real face of `scene`, as a card's photo is printed.
    let (px, py, pw, ph) = (580u32, 80u32, 220u32, 320u32);
    let photo = (!back).then(|| {
        scene(
            pw,
            ph,
            &Scene {
                face_width: 120.0,
                hair_top: 30.0,
                eye_mid_x: pw as f32 / 2.0,
                background: [236, 240, 244],
                ..Scene::portrait(pw, ph)
            },
        )
    });
    let image = RgbImage::from_fn(w, h, |x, y| {
        let n = noise();
        let text_line = (y / 40) % 2 == 1 && x > 60 && x < if back { 800 } else { 520 };
        let in_portrait = x >= px && x < px + pw && y >= py && y < py + ph;
        match &photo {
            Some(photo) if in_portrait => *photo.get_pixel(x - px, y - py),
            _ if text_line && (x / 9) % 3 != 0 => {
                Rgb([clamp(40 + n), clamp(40 + n), clamp(50 + n)])
            }
            _ => Rgb([clamp(225 + n), clamp(232 + n), clamp(236 + n)]),
        }
    });
    let mut out = Vec::new();
    let _ = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&image::DynamicImage::ImageRgb8(image));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PhotoSlot;
    use crate::photo::check;

    #[test]
    fn synthetic_card_and_id_photos_pass_their_checks() {
        for seed in [0, 1, 99] {
            let card = check(&card_photo_jpeg(seed), PhotoSlot::CardPhoto).unwrap();
            assert!(card.passes(), "{:?}", card.findings);
            let front = check(&id_card_jpeg(seed, false), PhotoSlot::IdFront).unwrap();
            assert!(front.passes(), "{:?}", front.findings);
            let back = check(&id_card_jpeg(seed, true), PhotoSlot::IdBack).unwrap();
            assert!(back.passes(), "{:?}", back.findings);
        }
        assert_ne!(card_photo_jpeg(1), card_photo_jpeg(2));
    }
}
