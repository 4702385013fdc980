//! Making a photo pass: the card photo cropped to 358:441 (centred, or where the clerk moved
//! and zoomed the crop), resized with a good filter, and encoded as JPEG at a quality that
//! lands within 20 KB–8.75 MB; ID card images turned upright and brought to a sane size.

use image::imageops::FilterType;
use image::{DynamicImage, GenericImageView, Rgb, RgbImage, Rgba};

use super::check::{CARD_HEIGHT, CARD_MAX_BYTES, CARD_MIN_BYTES, CARD_WIDTH};
use super::decode::Decoded;

/// Longest side of a normalised ID card image: plenty to read, a fraction of a phone photo.
pub const ID_MAX_SIDE: u32 = 2000;

/// Where to crop: the centre of the window (0–1 of the image) and how far to zoom in (1 =
/// the largest 358:441 window that fits).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Crop {
    pub cx: f32,
    pub cy: f32,
    pub zoom: f32,
}

impl Default for Crop {
    fn default() -> Crop {
        Crop {
            cx: 0.5,
            cy: 0.5,
            zoom: 1.0,
        }
    }
}

impl Crop {
    pub const MAX_ZOOM: f32 = 4.0;

    /// The crop window (x, y, width, height) in an image of `w`×`h`, kept inside it.
    pub fn window(&self, w: u32, h: u32) -> (u32, u32, u32, u32) {
        let aspect = CARD_WIDTH as f32 / CARD_HEIGHT as f32;
        let (mut cw, mut ch) = if w as f32 / h as f32 > aspect {
            (h as f32 * aspect, h as f32)
        } else {
            (w as f32, w as f32 / aspect)
        };
        let zoom = self.zoom.clamp(1.0, Self::MAX_ZOOM);
        cw /= zoom;
        ch /= zoom;
        let x = (self.cx * w as f32 - cw / 2.0).clamp(0.0, w as f32 - cw);
        let y = (self.cy * h as f32 - ch / 2.0).clamp(0.0, h as f32 - ch);
        (x as u32, y as u32, (cw as u32).max(1), (ch as u32).max(1))
    }

    /// Move by a fraction of the window; zoom by a factor.
    pub fn moved(self, dx: f32, dy: f32) -> Crop {
        let step = 0.05 / self.zoom;
        Crop {
            cx: (self.cx + dx * step).clamp(0.0, 1.0),
            cy: (self.cy + dy * step).clamp(0.0, 1.0),
            ..self
        }
    }

    pub fn zoomed(self, factor: f32) -> Crop {
        Crop {
            zoom: (self.zoom * factor).clamp(1.0, Self::MAX_ZOOM),
            ..self
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FixError {
    #[error("原照片是黑白的：制卡照片须为彩色照片，请重新拍摄")]
    Greyscale,
    #[error("裁剪框里几乎没有颜色（可能只框住了背景）：请移动裁剪框，框住头部和肩膀")]
    CropColourless,
    #[error("裁剪区域只有 {0}×{1} 像素，放大后会很模糊：请缩小放大倍数或换一张更清晰的照片")]
    TooSmall(u32, u32),
    #[error("照片细节太少（像是纯色或严重模糊），最高质量压缩后仍不足 20KB：请重新拍摄")]
    TooPlain,
    #[error("压缩失败：{0}")]
    Encode(String),
}

/// Flatten transparency over white (a PNG with alpha) and make 8-bit RGB.
fn to_rgb(image: &DynamicImage) -> RgbImage {
    if image.color().has_alpha() {
        let rgba = image.to_rgba8();
        let mut out = RgbImage::new(rgba.width(), rgba.height());
        for (o, Rgba([r, g, b, a])) in out.pixels_mut().zip(rgba.pixels()) {
            let a = *a as u32;
            let blend = |c: u8| ((c as u32 * a + 255 * (255 - a)) / 255) as u8;
            *o = Rgb([blend(*r), blend(*g), blend(*b)]);
        }
        out
    } else {
        image.to_rgb8()
    }
}

/// Resize with Lanczos3; a large reduction first halves with a cheap box filter until the
/// source is within 2× of the target, so a 12-megapixel photo costs little more than a small one.
fn resize(image: &DynamicImage, w: u32, h: u32) -> RgbImage {
    let rgb = to_rgb(image);
    // Area-average (fast, integer) down to twice the target, then Lanczos3 for the last step.
    let rgb = if rgb.width() >= 4 * w && rgb.height() >= 4 * h {
        image::imageops::thumbnail(&rgb, 2 * w, 2 * h)
    } else {
        rgb
    };
    image::imageops::resize(&rgb, w, h, FilterType::Lanczos3)
}

/// Whether `crop` of an image of `w`×`h` has enough pixels for a card photo (at most a 2×
/// enlargement); the error names the window's size.
pub fn crop_fits(crop: Crop, w: u32, h: u32) -> Result<(), FixError> {
    let (_, _, cw, ch) = crop.window(w, h);
    if cw < CARD_WIDTH / 2 || ch < CARD_HEIGHT / 2 {
        return Err(FixError::TooSmall(cw, ch));
    }
    Ok(())
}

/// `crop` of `image`, resized to 358×441. The crop editor calls this on a small working copy
/// for its preview (fast); `card_image` calls it on the full image.
pub fn crop_to_card(image: &DynamicImage, crop: Crop) -> RgbImage {
    let (w, h) = image.dimensions();
    let (x, y, cw, ch) = crop.window(w, h);
    resize(&image.crop_imm(x, y, cw, ch), CARD_WIDTH, CARD_HEIGHT)
}

/// The 358×441 card image for `crop`, before encoding.
pub fn card_image(decoded: &Decoded, crop: Crop) -> Result<RgbImage, FixError> {
    let (w, h) = decoded.image.dimensions();
    crop_fits(crop, w, h)?;
    Ok(crop_to_card(&decoded.image, crop))
}

/// Encode as JPEG at a quality that lands within [min, max] bytes: start at 92, raise it for
/// a tiny result, lower it for a huge one.
pub fn encode_within(image: &RgbImage, min: u64, max: u64) -> Result<Vec<u8>, FixError> {
    let encode = |q: u8| -> Result<Vec<u8>, FixError> {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, q)
            .encode_image(image)
            .map_err(|e| FixError::Encode(e.to_string()))?;
        Ok(out)
    };
    let mut q = 92u8;
    let mut bytes = encode(q)?;
    while (bytes.len() as u64) < min && q < 100 {
        q = (q + 2).min(100);
        bytes = encode(q)?;
    }
    while (bytes.len() as u64) > max && q > 30 {
        q -= 10;
        bytes = encode(q)?;
    }
    if (bytes.len() as u64) < min {
        return Err(FixError::TooPlain);
    }
    Ok(bytes)
}

/// Whether an image has (almost) no colour, judged from a sparse 64×64 sample of its pixels:
/// as good as looking at all of them for this question, and instant on 12 megapixels.
fn looks_greyscale(image: &DynamicImage) -> bool {
    if !image.color().has_color() {
        return true;
    }
    let (w, h) = image.dimensions();
    let mut coloured = 0;
    for j in 0..64 {
        for i in 0..64 {
            let p = image.get_pixel(i * w / 64, j * h / 64);
            if super::check::is_coloured([p[0], p[1], p[2]]) {
                coloured += 1;
            }
        }
    }
    coloured * 100 < 64 * 64
}

/// A card photo that passes the check, from any colour photo.
pub fn fix_card(decoded: &Decoded, crop: Crop) -> Result<Vec<u8>, FixError> {
    if looks_greyscale(&decoded.image) {
        return Err(FixError::Greyscale);
    }
    let image = card_image(decoded, crop)?;
    // The check judges colour on the result: a crop of plain background has none.
    if super::check::stats(&DynamicImage::ImageRgb8(image.clone())).greyscale {
        return Err(FixError::CropColourless);
    }
    encode_within(&image, CARD_MIN_BYTES, CARD_MAX_BYTES)
}

/// An ID card image upright (EXIF applied at decode), no larger than 2000 px, as JPEG.
pub fn normalise_id(decoded: &Decoded) -> Result<Vec<u8>, FixError> {
    let (w, h) = decoded.image.dimensions();
    let rgb = if w.max(h) > ID_MAX_SIDE {
        let scale = ID_MAX_SIDE as f32 / w.max(h) as f32;
        resize(
            &decoded.image,
            ((w as f32 * scale) as u32).max(1),
            ((h as f32 * scale) as u32).max(1),
        )
    } else {
        to_rgb(&decoded.image)
    };
    encode_within(&rgb, 0, CARD_MAX_BYTES)
}
