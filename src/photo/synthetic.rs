//! Synthetic photos (no real people): a head-and-shoulders shape on a plain light
//! background with skin-like texture, for tests, benchmarks, the demo and trying the wizard.

use image::{Rgb, RgbImage};

fn clamp(v: i16) -> u8 {
    v.clamp(0, 255) as u8
}

/// A deterministic w×h portrait.
pub fn portrait(w: u32, h: u32) -> RgbImage {
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ ((w as u64) << 20) ^ h as u64;
    let mut noise = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % 51) as i16 - 25
    };
    let (cx, cy) = (w as f32 / 2.0, h as f32 * 0.42);
    let (rx, ry) = (w.min(h) as f32 * 0.22, w.min(h) as f32 * 0.28);
    RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32, y as f32);
        let n = noise();
        let face = ((fx - cx) / rx).powi(2) + ((fy - cy) / ry).powi(2) < 1.0;
        let shoulders = fy > h as f32 * 0.75 && (fx - cx).abs() < w as f32 * 0.4;
        if face {
            Rgb([clamp(215 + n), clamp(170 + n), clamp(140 + n)])
        } else if shoulders {
            Rgb([clamp(40 + n / 2), clamp(50 + n / 2), clamp(90 + n / 2)])
        } else {
            Rgb([
                clamp(238 + n / 12),
                clamp(241 + n / 12),
                clamp(247 + n / 12),
            ])
        }
    })
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
    let mut image = portrait(super::check::CARD_WIDTH, super::check::CARD_HEIGHT);
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
/// picture with some dark "text" lines. Not a rendering of a real card.
pub fn id_card_jpeg(seed: u64, back: bool) -> Vec<u8> {
    let (w, h) = (856u32, 540u32);
    let mut state = seed ^ 0xA076_1D64_78BD_642F ^ if back { 0xFF } else { 0 };
    let mut noise = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % 21) as i16 - 10
    };
    let image = RgbImage::from_fn(w, h, |x, y| {
        let n = noise();
        let text_line = (y / 40) % 2 == 1 && x > 60 && x < if back { 800 } else { 520 };
        let portrait = !back && x > 580 && x < 800 && y > 80 && y < 400;
        if text_line && (x / 9) % 3 != 0 {
            Rgb([clamp(40 + n), clamp(40 + n), clamp(50 + n)])
        } else if portrait {
            Rgb([clamp(200 + n), clamp(170 + n), clamp(150 + n)])
        } else {
            Rgb([clamp(225 + n), clamp(232 + n), clamp(236 + n)])
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
