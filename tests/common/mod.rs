//! Shared by the photo tests: a synthetic portrait generator (no real people) and encoders.
#![allow(dead_code)]

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};

/// A deterministic noise source.
pub struct Noise(pub u64);
impl Noise {
    pub fn next(&mut self) -> i16 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % 51) as i16 - 25
    }
}

pub fn clamp(v: i16) -> u8 {
    v.clamp(0, 255) as u8
}

/// A synthetic head-and-shoulders portrait on a plain light background, with skin texture.
pub fn portrait(w: u32, h: u32) -> RgbImage {
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15 ^ (w as u64) << 20 ^ h as u64);
    let (cx, cy) = (w as f32 / 2.0, h as f32 * 0.42);
    let (rx, ry) = (w.min(h) as f32 * 0.22, w.min(h) as f32 * 0.28);
    RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32, y as f32);
        let n = noise.next();
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

pub fn jpeg(img: &DynamicImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(img)
        .unwrap();
    out
}

pub fn png(img: &DynamicImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}
