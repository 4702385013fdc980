//! Making a photo pass: the card photo cropped to 358:441 (centred, or where the clerk moved
//! and zoomed the crop), resized with a good filter, and encoded as JPEG at a quality that
//! lands within 20 KB–8.75 MB; ID card images turned upright and brought to a sane size.

use image::imageops::FilterType;
use image::{DynamicImage, GenericImageView, Rgb, RgbImage};

use super::check::{CARD_HEIGHT, CARD_MAX_BYTES, CARD_MIN_BYTES, CARD_WIDTH};
use super::decode::Decoded;

/// Longest side of a normalised ID card image: plenty to read, a fraction of a phone photo.
pub const ID_MAX_SIDE: u32 = 2000;

/// Where to crop: the centre of the window (0–1 of the image), how far to zoom in (1 =
/// the largest 358:441 window that fits; under 1 the window is larger than the photo and
/// the edges are filled white where the photo's own background is white) and the angle
/// (degrees) the window is turned by to level the eyes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Crop {
    pub cx: f32,
    pub cy: f32,
    pub zoom: f32,
    pub angle: f32,
}

impl Default for Crop {
    fn default() -> Crop {
        Crop {
            cx: 0.5,
            cy: 0.5,
            zoom: 1.0,
            angle: 0.0,
        }
    }
}

/// A window in the photo's pixels: left, top, width, height (it may reach outside).
pub type Window = (f32, f32, f32, f32);

impl Crop {
    /// A window down to a fortieth of the photo's width (a face of ordinary size in a
    /// 50-megapixel photo).
    pub const MAX_ZOOM: f32 = 40.0;
    pub const MIN_ZOOM: f32 = 0.5;

    /// The size of the window at zoom 1 in an image of `w`×`h`.
    fn full(w: u32, h: u32) -> (f32, f32) {
        let aspect = CARD_WIDTH as f32 / CARD_HEIGHT as f32;
        if w as f32 / h as f32 > aspect {
            (h as f32 * aspect, h as f32)
        } else {
            (w as f32, w as f32 / aspect)
        }
    }

    /// The crop whose window is `rect` (of the card's shape) turned by `angle`.
    pub fn from_rect(w: u32, h: u32, (x, y, cw, ch): Window, angle: f32) -> Crop {
        let (fw, _) = Crop::full(w, h);
        Crop {
            cx: (x + cw / 2.0) / w as f32,
            cy: (y + ch / 2.0) / h as f32,
            zoom: (fw / cw).clamp(Self::MIN_ZOOM, Self::MAX_ZOOM),
            angle,
        }
    }

    /// The window in an image of `w`×`h`, where it is (before turning).
    pub fn rect(&self, w: u32, h: u32) -> Window {
        let (fw, fh) = Crop::full(w, h);
        let zoom = self.zoom.clamp(Self::MIN_ZOOM, Self::MAX_ZOOM);
        let (cw, ch) = (fw / zoom, fh / zoom);
        (
            self.cx * w as f32 - cw / 2.0,
            self.cy * h as f32 - ch / 2.0,
            cw,
            ch,
        )
    }

    /// The window in whole pixels, kept inside the image (for a plain crop).
    pub fn window(&self, w: u32, h: u32) -> (u32, u32, u32, u32) {
        let (x, y, cw, ch) = self.rect(w, h);
        let (cw, ch) = (cw.min(w as f32), ch.min(h as f32));
        let x = x.clamp(0.0, w as f32 - cw);
        let y = y.clamp(0.0, h as f32 - ch);
        (x as u32, y as u32, (cw as u32).max(1), (ch as u32).max(1))
    }

    /// Whether the window lies inside the image and is not turned (a plain crop).
    pub fn is_plain(&self, w: u32, h: u32) -> bool {
        let (x, y, cw, ch) = self.rect(w, h);
        self.angle == 0.0
            && x >= -0.5
            && y >= -0.5
            && x + cw <= w as f32 + 0.5
            && y + ch <= h as f32 + 0.5
    }

    /// Move by a fraction of the window; zoom by a factor; turn by degrees.
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
            zoom: (self.zoom * factor).clamp(Self::MIN_ZOOM, Self::MAX_ZOOM),
            ..self
        }
    }

    /// Where a point of the photo (`w`×`h`) lands in the 358×441 card image.
    pub fn to_card(&self, w: u32, h: u32, (px, py): (f32, f32)) -> (f32, f32) {
        let (x, y, cw, ch) = self.rect(w, h);
        let (dx, dy) = (px - (x + cw / 2.0), py - (y + ch / 2.0));
        let (sin, cos) = self.angle.to_radians().sin_cos();
        let k = CARD_WIDTH as f32 / cw;
        (
            CARD_WIDTH as f32 / 2.0 + k * (dx * cos + dy * sin),
            CARD_HEIGHT as f32 / 2.0 + k * (-dx * sin + dy * cos),
        )
    }

    /// A face of the photo as it lands in the card image.
    pub fn face_to_card(&self, w: u32, h: u32, f: &super::face::Face) -> super::face::Face {
        let k = CARD_WIDTH as f32 / self.rect(w, h).2;
        let (cx, cy) = self.to_card(w, h, (f.x + f.w / 2.0, f.y + f.h / 2.0));
        super::face::Face {
            x: cx - k * f.w / 2.0,
            y: cy - k * f.h / 2.0,
            w: k * f.w,
            h: k * f.h,
            left_eye: self.to_card(w, h, f.left_eye),
            right_eye: self.to_card(w, h, f.right_eye),
            roll: f.roll - self.angle,
            ..*f
        }
    }

    pub fn turned(self, degrees: f32) -> Crop {
        Crop {
            angle: (self.angle + degrees).clamp(-15.0, 15.0),
            ..self
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
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
    #[error("照片里没有找到人脸：须为正面免冠照，五官清晰无遮挡，请重新拍摄")]
    NoFace,
    #[error("照片里有 {0} 张人脸：制卡照片只能有申领人一人，请重新拍摄")]
    ManyFaces(usize),
    #[error(
        "人脸太小（宽约 {width} 像素）：要达到 179 像素须放大 {enlarge:.1} 倍，超过 1.5 倍会模糊，请靠近一些重新拍摄"
    )]
    FaceTooSmall { width: u32, enlarge: f32 },
    #[error("头顶被裁掉了（头发碰到了照片上边）：请拍下完整的头部和肩膀")]
    HeadCut,
    #[error("头部倾斜约 {0:.0}°，太大无法摆正：请端正头部重新拍摄")]
    Tilted(f32),
    #[error("头部两侧看不到背景（人脸占满了照片）：请离远一些，拍到头部和肩膀")]
    NoBackground,
    #[error("裁剪框超出了原照片的{0}，而那里不是白色背景，无法补白：请把裁剪框移回照片内")]
    EdgeNotWhite(&'static str),
    #[error("生成的照片仍不合格：{0}")]
    Geometry(String),
    #[error("{0}")]
    Decode(#[from] super::decode::DecodeError),
}

/// Resize with Lanczos3; a large reduction first halves with a cheap box filter until the
/// source is within 2× of the target, so a 12-megapixel photo costs little more than a small one.
fn resize(image: &DynamicImage, w: u32, h: u32) -> RgbImage {
    let rgb = image.to_rgb8();
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
    let (_, _, cw, ch) = crop.rect(w, h);
    let (cw, ch) = (cw.min(w as f32) as u32, ch.min(h as f32) as u32);
    if cw < CARD_WIDTH / 2 || ch < CARD_HEIGHT / 2 {
        return Err(FixError::TooSmall(cw, ch));
    }
    Ok(())
}

/// The window's corners in the photo (turned about its centre).
fn corners(crop: Crop, w: u32, h: u32) -> [(f32, f32); 4] {
    let (x, y, cw, ch) = crop.rect(w, h);
    let (cx, cy) = (x + cw / 2.0, y + ch / 2.0);
    let (sin, cos) = crop.angle.to_radians().sin_cos();
    [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)].map(|(sx, sy)| {
        let (ox, oy) = (sx * cw / 2.0, sy * ch / 2.0);
        (cx + ox * cos - oy * sin, cy + ox * sin + oy * cos)
    })
}

/// Whether a strip of the photo is white background (nine pixels in ten near-white),
/// judged on at most about 400 pixels spread along it.
fn strip_is_white(image: &DynamicImage, x0: u32, y0: u32, x1: u32, y1: u32) -> bool {
    let (x1, y1) = (x1.min(image.width()), y1.min(image.height()));
    if x1 <= x0 || y1 <= y0 {
        return true;
    }
    let step = (((x1 - x0) * (y1 - y0)) / 400).max(1) as usize;
    let (mut n, mut white) = (0usize, 0usize);
    let width = (x1 - x0) as usize;
    for i in (0..width * (y1 - y0) as usize).step_by(step) {
        let p = image.get_pixel(x0 + (i % width) as u32, y0 + (i / width) as u32);
        let (lo, hi) = (p[0].min(p[1]).min(p[2]), p[0].max(p[1]).max(p[2]));
        n += 1;
        if lo >= 200 && hi - lo < 30 {
            white += 1;
        }
    }
    n == 0 || white * 10 >= n * 9
}

/// Where the window reaches outside the photo, the photo's edge there must be white
/// background: only then is filling it white invisible.
pub fn check_fill(image: &DynamicImage, crop: Crop) -> Result<(), FixError> {
    let (w, h) = image.dimensions();
    if crop.is_plain(w, h) {
        return Ok(());
    }
    let c = corners(crop, w, h);
    let (min_x, max_x) = c
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (min_y, max_y) = c
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
    // The very edge, a few pixels deep: that is what the white meets.
    let depth = (w.max(h) / 300).max(2);
    let span = |a: f32, b: f32, n: u32| (a.max(0.0) as u32, (b.max(0.0) as u32).min(n));
    let (ys0, ys1) = span(min_y, max_y, h);
    let (xs0, xs1) = span(min_x, max_x, w);
    let sides = [
        (min_x < -0.5, "左边", (0, ys0, depth, ys1)),
        (
            max_x > w as f32 + 0.5,
            "右边",
            (w.saturating_sub(depth), ys0, w, ys1),
        ),
        (min_y < -0.5, "上边", (xs0, 0, xs1, depth)),
        (
            max_y > h as f32 + 0.5,
            "下边",
            (xs0, h.saturating_sub(depth), xs1, h),
        ),
    ];
    for (outside, side, (x0, y0, x1, y1)) in sides {
        if outside && !strip_is_white(image, x0, y0, x1, y1) {
            return Err(FixError::EdgeNotWhite(side));
        }
    }
    Ok(())
}

/// `crop` of `image`, resized to 358×441. The crop editor calls this on a small working copy
/// for its preview (fast); `card_image` calls it on the full image. A window inside the
/// photo is a plain crop; one that is turned or reaches outside is sampled (bilinear, at
/// twice the size, from a copy reduced to about that scale) with white outside the photo.
pub fn crop_to_card(image: &DynamicImage, crop: Crop) -> RgbImage {
    let (w, h) = image.dimensions();
    if crop.is_plain(w, h) {
        let (x, y, cw, ch) = crop.window(w, h);
        return resize(&image.crop_imm(x, y, cw, ch), CARD_WIDTH, CARD_HEIGHT);
    }
    let (x, y, cw, ch) = crop.rect(w, h);
    let (ow, oh) = (2 * CARD_WIDTH, 2 * CARD_HEIGHT);
    // Output pixels per photo pixel; reduce the photo first when it is much larger.
    let k = ow as f32 / cw;
    let rgb = image.to_rgb8();
    let source = if k < 0.5 {
        let tw = ((w as f32 * k * 1.5) as u32).max(1);
        let th = ((h as f32 * k * 1.5) as u32).max(1);
        image::imageops::thumbnail(&rgb, tw, th)
    } else {
        rgb
    };
    let s = source.width() as f32 / w as f32;
    let (sw, sh) = (source.width() as f32, source.height() as f32);
    let (cx, cy) = (x + cw / 2.0, y + ch / 2.0);
    let (sin, cos) = crop.angle.to_radians().sin_cos();
    let mut out = RgbImage::from_pixel(ow, oh, Rgb([255, 255, 255]));
    for (u, v, px) in out.enumerate_pixels_mut() {
        let (ox, oy) = (
            (u as f32 + 0.5) / k - cw / 2.0,
            (v as f32 + 0.5) / k - ch / 2.0,
        );
        let sx = (cx + ox * cos - oy * sin) * s - 0.5;
        let sy = (cy + ox * sin + oy * cos) * s - 0.5;
        if sx < -0.5 || sy < -0.5 || sx > sw - 0.5 || sy > sh - 0.5 {
            continue;
        }
        let (x0, y0) = (sx.floor().max(0.0), sy.floor().max(0.0));
        let (fx, fy) = ((sx - x0).clamp(0.0, 1.0), (sy - y0).clamp(0.0, 1.0));
        let (x0, y0) = (x0 as u32, y0 as u32);
        let (x1, y1) = (
            (x0 + 1).min(source.width() - 1),
            (y0 + 1).min(source.height() - 1),
        );
        let p = |x, y| source.get_pixel(x, y).0;
        let (a, b, c, d) = (p(x0, y0), p(x1, y0), p(x0, y1), p(x1, y1));
        for ch in 0..3 {
            let top = a[ch] as f32 * (1.0 - fx) + b[ch] as f32 * fx;
            let bottom = c[ch] as f32 * (1.0 - fx) + d[ch] as f32 * fx;
            px.0[ch] = (top * (1.0 - fy) + bottom * fy).round() as u8;
        }
    }
    image::imageops::resize(&out, CARD_WIDTH, CARD_HEIGHT, FilterType::Triangle)
}

/// The 358×441 card image for `crop`, before encoding.
pub fn card_image(decoded: &Decoded, crop: Crop) -> Result<RgbImage, FixError> {
    let (w, h) = decoded.image.dimensions();
    crop_fits(crop, w, h)?;
    check_fill(&decoded.image, crop)?;
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
pub fn looks_greyscale(image: &DynamicImage) -> bool {
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
    fix_card_measured(decoded, crop, None).map(|(bytes, _)| bytes)
}

/// A card photo that passes the check and its face's measures. `face`: the photo's face,
/// when the crop was placed from it (it is carried into the card); else the face is found
/// again in the card image (a crop the clerk set).
pub fn fix_card_measured(
    decoded: &Decoded,
    crop: Crop,
    face: Option<&super::face::Face>,
) -> Result<(Vec<u8>, super::geometry::Measures), FixError> {
    if looks_greyscale(&decoded.image) {
        return Err(FixError::Greyscale);
    }
    let image = card_image(decoded, crop)?;
    // The check judges colour on the result: a crop of plain background has none.
    let card = DynamicImage::ImageRgb8(image);
    if super::check::stats(&card).greyscale {
        return Err(FixError::CropColourless);
    }
    // And the face as the rules want it: what would fail the check is refused, with why.
    let (w, h) = decoded.image.dimensions();
    let face = match face {
        Some(f) => crop.face_to_card(w, h, f),
        None => the_face(&card, super::face::LEAST_IN_CARD)?,
    };
    let rgb = card.to_rgb8();
    let m = super::geometry::measure(&rgb, &face);
    let mut problems: Vec<String> = super::geometry::problems(&m)
        .into_iter()
        .map(|(_, message)| message)
        .collect();
    problems.extend(
        super::geometry::background_problems(m.background.as_ref())
            .into_iter()
            .filter(|(_, fails, _)| *fails)
            .map(|(_, _, message)| message),
    );
    if !problems.is_empty() {
        return Err(FixError::Geometry(problems.join("；")));
    }
    Ok((encode_within(&rgb, CARD_MIN_BYTES, CARD_MAX_BYTES)?, m))
}

/// The one face of `image` (at least `least` of its width), or why not.
pub fn the_face(image: &DynamicImage, least: f32) -> Result<super::face::Face, FixError> {
    let faces = super::face::detect(image, least);
    match faces.len() {
        0 => Err(FixError::NoFace),
        1 => Ok(faces[0]),
        n => Err(FixError::ManyFaces(n)),
    }
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
        decoded.image.to_rgb8()
    };
    encode_within(&rgb, 0, CARD_MAX_BYTES)
}
