//! Decoding a photo safely: whatever a user feeds it, nothing panics and memory stays
//! bounded. The file size is capped before anything is decoded, the decoder gets width,
//! height and allocation limits, the format is taken from the content (not the name), and
//! the EXIF orientation a phone writes is applied.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// Larger files are refused before decoding (a phone's photo is well under this).
pub const MAX_FILE_BYTES: u64 = 40 * 1024 * 1024;
/// Larger images are refused (a 200-megapixel camera is 16320 wide).
pub const MAX_DIMENSION: u32 = 16_384;
/// What a decoder may allocate at once.
pub const MAX_ALLOC: u64 = 256 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    #[error("文件是空的（0 字节）：请重新拍摄或扫描")]
    Empty,
    #[error("文件有 {0:.1} MB，超过 40 MB 上限：请换一张照片")]
    TooLarge(f64),
    #[error(
        "这是 HEIC 格式的照片，暂不支持：请在手机相机设置中选择“兼容性最佳”（JPEG），或导出为 JPEG 后再导入"
    )]
    Heic,
    #[error("文件不是可识别的图片（支持 JPEG、PNG、WebP）：请选择照片文件")]
    NotAnImage,
    #[error("图片尺寸 {0}×{1} 过大（上限 16384×16384），可能是损坏或恶意文件：请换一张照片")]
    TooManyPixels(u32, u32),
    #[error("图片需要的内存过多，可能是损坏或恶意文件：请换一张照片")]
    TooMuchMemory,
    #[error("图片已损坏或不完整（{0}）：请重新拍摄或重新复制文件")]
    Corrupt(String),
}

/// A decoded photo and what its file was.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub image: DynamicImage,
    pub format: ImageFormat,
    /// The size of the file it came from.
    pub file_bytes: u64,
    /// Width and height as stored, before the EXIF orientation was applied.
    pub stored_dimensions: (u32, u32),
    /// Whether the EXIF orientation turned or flipped it.
    pub reoriented: bool,
    /// Width and height of the photo upright, at full size (`image` may be reduced).
    pub dimensions: (u32, u32),
}

fn limits() -> Limits {
    let mut l = Limits::default();
    l.max_image_width = Some(MAX_DIMENSION);
    l.max_image_height = Some(MAX_DIMENSION);
    l.max_alloc = Some(MAX_ALLOC);
    l
}

fn is_heic(bytes: &[u8]) -> bool {
    bytes.len() > 12
        && &bytes[4..8] == b"ftyp"
        && matches!(
            &bytes[8..12],
            b"heic" | b"heix" | b"heim" | b"heis" | b"mif1" | b"msf1" | b"hevc"
        )
}

/// Whether a JPEG has its end-of-image marker after its last scan. The decoder fills a
/// truncated file's missing part with grey rather than failing, so a half-copied photo would
/// otherwise pass. In scan data every 0xFF is escaped (FF 00), so FF D9 after the last start
/// of scan (FF DA) is the real end; an EXIF thumbnail's markers all come before it.
pub fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last_sos = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    match last_sos {
        Some(sos) => bytes[sos..].windows(2).any(|w| w == [0xFF, 0xD9]),
        None => false,
    }
}

fn decode_error(e: image::ImageError) -> DecodeError {
    match e {
        image::ImageError::Limits(l) => match l.kind() {
            image::error::LimitErrorKind::DimensionError => DecodeError::TooManyPixels(0, 0),
            _ => DecodeError::TooMuchMemory,
        },
        image::ImageError::Unsupported(_) => DecodeError::NotAnImage,
        other => DecodeError::Corrupt(other.to_string()),
    }
}

/// Every photo as 8 bits a channel, without transparency: colour as RGB, grey as grey.
/// A 16-bit PNG is brought down; a transparent background becomes white (what shows
/// through a cut-out portrait is the card's white, not the black a transparent pixel
/// holds); a CMYK JPEG arrives as RGB from the decoder.
fn eight_bit(image: DynamicImage) -> DynamicImage {
    use image::{ColorType, GenericImageView};
    match image.color() {
        ColorType::Rgb8 | ColorType::L8 => image,
        ColorType::L16 => DynamicImage::ImageLuma8(image.to_luma8()),
        ColorType::La8 | ColorType::La16 => {
            let la = image.to_luma_alpha8();
            DynamicImage::ImageLuma8(image::GrayImage::from_fn(
                la.width(),
                la.height(),
                |x, y| {
                    let [l, a] = la.get_pixel(x, y).0;
                    image::Luma([over_white(l, a)])
                },
            ))
        }
        c if c.has_alpha() => {
            let rgba = image.to_rgba8();
            let (w, h) = image.dimensions();
            DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
                let [r, g, b, a] = rgba.get_pixel(x, y).0;
                image::Rgb([over_white(r, a), over_white(g, a), over_white(b, a)])
            }))
        }
        _ => DynamicImage::ImageRgb8(image.to_rgb8()),
    }
}

fn over_white(c: u8, a: u8) -> u8 {
    ((c as u32 * a as u32 + 255 * (255 - a as u32)) / 255) as u8
}

/// Decode `bytes` into an upright image.
pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    decode_at_least(bytes, None)
}

/// Decode into an upright image at least `min_short_side` pixels on its shorter side, but
/// no larger than needed: a large JPEG is reduced by 1/2, 1/4 or 1/8 while it is decoded
/// (in the DCT, as libvips does), which is several times faster than decoding every pixel.
/// Other formats, and JPEGs the reduced path does not handle (CMYK, 16-bit), decode in full.
pub fn decode_reduced(bytes: &[u8], min_short_side: u32) -> Result<Decoded, DecodeError> {
    decode_at_least(bytes, Some(min_short_side))
}

/// A JPEG's pixels at the smallest DCT scale keeping the short side ≥ `min_short`.
fn jpeg_reduced(bytes: &[u8], (w, h): (u32, u32), min_short: u32) -> Option<DynamicImage> {
    let short = w.min(h).max(1);
    if short < 2 * min_short {
        return None;
    }
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    let want = |side: u32| (side as u64 * min_short as u64).div_ceil(short as u64) as u16;
    decoder.scale(want(w), want(h)).ok()?;
    let pixels = decoder.decode().ok()?;
    let info = decoder.info()?;
    let (sw, sh) = (info.width as u32, info.height as u32);
    match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => {
            image::RgbImage::from_raw(sw, sh, pixels).map(DynamicImage::ImageRgb8)
        }
        jpeg_decoder::PixelFormat::L8 => {
            image::GrayImage::from_raw(sw, sh, pixels).map(DynamicImage::ImageLuma8)
        }
        _ => None,
    }
}

/// The width and height an image's header declares, read without decoding a pixel: what a
/// server checks before it spends memory on a photo (a 255 KB PNG may declare 16384×4000).
pub fn declared_dimensions(bytes: &[u8]) -> Result<(u32, u32), DecodeError> {
    let format = image::guess_format(bytes).map_err(|_| DecodeError::NotAnImage)?;
    if !matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP
    ) {
        return Err(DecodeError::NotAnImage);
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits());
    reader.into_dimensions().map_err(decode_error)
}

fn decode_at_least(bytes: &[u8], min_short_side: Option<u32>) -> Result<Decoded, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(DecodeError::TooLarge(bytes.len() as f64 / 1_048_576.0));
    }
    if is_heic(bytes) {
        return Err(DecodeError::Heic);
    }
    let format = image::guess_format(bytes).map_err(|_| DecodeError::NotAnImage)?;
    if !matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP
    ) {
        return Err(DecodeError::NotAnImage);
    }
    if format == ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        return Err(DecodeError::Corrupt("JPEG 文件不完整，缺少结尾".into()));
    }
    // The size the header declares, read without limits (nothing is allocated): so that a
    // photo too large is refused with its true size.
    if let Ok((w, h)) = ImageReader::with_format(Cursor::new(bytes), format).into_dimensions()
        && (w > MAX_DIMENSION || h > MAX_DIMENSION)
    {
        return Err(DecodeError::TooManyPixels(w, h));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits());
    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    let stored_dimensions = decoder.dimensions();
    let (w, h) = stored_dimensions;
    if w > MAX_DIMENSION || h > MAX_DIMENSION {
        return Err(DecodeError::TooManyPixels(w, h));
    }
    if w == 0 || h == 0 {
        return Err(DecodeError::Corrupt("宽或高为 0".into()));
    }
    // The allocation limit is advisory for some decoders (PNG allocates the whole output
    // first), so the output size is checked here, before anything is allocated.
    if decoder.total_bytes() > MAX_ALLOC {
        return Err(DecodeError::TooMuchMemory);
    }
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let reduced = match (format, min_short_side) {
        (ImageFormat::Jpeg, Some(min)) => jpeg_reduced(bytes, (w, h), min),
        _ => None,
    };
    let mut image = match reduced {
        Some(image) => image,
        None => DynamicImage::from_decoder(decoder).map_err(|e| match decode_error(e) {
            DecodeError::TooManyPixels(..) => DecodeError::TooManyPixels(w, h),
            other => other,
        })?,
    };
    let reoriented = orientation != image::metadata::Orientation::NoTransforms;
    use image::metadata::Orientation::{Rotate90, Rotate90FlipH, Rotate270, Rotate270FlipH};
    let dimensions = if matches!(
        orientation,
        Rotate90 | Rotate270 | Rotate90FlipH | Rotate270FlipH
    ) {
        (h, w)
    } else {
        (w, h)
    };
    image.apply_orientation(orientation);
    Ok(Decoded {
        image: eight_bit(image),
        format,
        file_bytes: bytes.len() as u64,
        stored_dimensions,
        reoriented,
        dimensions,
    })
}
