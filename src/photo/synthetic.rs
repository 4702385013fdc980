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
