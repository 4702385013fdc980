//! The photo corpus, generated here (no real people): every size and orientation class,
//! greyscale, CMYK, 16-bit, alpha, tiny, huge, truncated, empty, mislabelled, bombs. Each
//! gets the right verdict, and whatever `fix` makes passes `check`.

mod common;

use common::{jpeg, png, portrait};
use image::{DynamicImage, Rgb};
use proptest::prelude::*;
use sbk_counter::domain::PhotoSlot;
use sbk_counter::photo::synthetic::with_exif_orientation;
use sbk_counter::photo::{
    Crop, DecodeError, FixError, auto_fix_card, check, decode, fix_card, normalise_id,
};

/// A PNG that only claims to be `w`×`h` (a decompression bomb, or a huge image).
fn png_header_only(w: u32, h: u32) -> Vec<u8> {
    fn chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        let mut crc_input = kind.to_vec();
        crc_input.extend_from_slice(data);
        c.extend_from_slice(&crc32(&crc_input).to_be_bytes());
        c
    }
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for b in data {
            crc ^= *b as u32;
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(chunk(b"IHDR", &ihdr));
    out.extend(chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    out.extend(chunk(b"IEND", &[]));
    out
}

fn findings(bytes: &[u8], kind: PhotoSlot) -> (bool, Vec<&'static str>) {
    let v = check(bytes, kind).unwrap();
    (v.passes(), v.findings.iter().map(|f| f.code).collect())
}

fn assert_fix_passes(bytes: &[u8]) -> Vec<u8> {
    let (fixed, _, _) = auto_fix_card(&decode(bytes).unwrap(), bytes).unwrap();
    let v = check(&fixed, PhotoSlot::CardPhoto).unwrap();
    assert!(v.passes(), "fixed photo fails: {:?}", v.findings);
    assert_eq!((v.width, v.height), (358, 441));
    assert!(
        (20 * 1024..=9_175_040).contains(&v.file_bytes),
        "{} bytes",
        v.file_bytes
    );
    fixed
}

#[test]
fn a_good_card_photo_passes_with_no_warnings() {
    let bytes = jpeg(&DynamicImage::ImageRgb8(portrait(358, 441)), 92);
    let (passes, codes) = findings(&bytes, PhotoSlot::CardPhoto);
    assert!(passes, "{codes:?}");
    assert!(codes.is_empty(), "{codes:?}");
}

#[test]
fn phone_photos_of_every_shape_are_refused_and_fixed() {
    for (w, h) in [
        (4000, 3000),
        (3000, 4000),
        (1080, 1080),
        (800, 2400),
        (2400, 800),
    ] {
        let bytes = jpeg(&DynamicImage::ImageRgb8(portrait(w, h)), 90);
        let (passes, codes) = findings(&bytes, PhotoSlot::CardPhoto);
        assert!(!passes && codes.contains(&"size"), "{w}×{h}: {codes:?}");
        assert_fix_passes(&bytes);
    }
}

#[test]
fn exif_orientation_is_applied() {
    // Stored sideways (as a phone held upright stores it), tagged "turn 90° clockwise".
    let sideways = DynamicImage::ImageRgb8(portrait(1500, 1000)).rotate270();
    assert_eq!((sideways.width(), sideways.height()), (1000, 1500));
    let bytes = with_exif_orientation(&jpeg(&sideways, 90), 6);
    let d = decode(&bytes).unwrap();
    assert!(d.reoriented);
    assert_eq!(d.stored_dimensions, (1000, 1500));
    assert_eq!((d.image.width(), d.image.height()), (1500, 1000));
    assert_fix_passes(&bytes);
}

#[test]
fn greyscale_is_refused_and_cannot_be_fixed() {
    let grey = DynamicImage::ImageRgb8(portrait(358, 441)).grayscale();
    let bytes = jpeg(&grey, 95);
    let (passes, codes) = findings(&bytes, PhotoSlot::CardPhoto);
    assert!(!passes && codes.contains(&"greyscale"), "{codes:?}");
    assert_eq!(
        fix_card(&decode(&bytes).unwrap(), Crop::default()),
        Err(FixError::Greyscale)
    );
}

#[test]
fn cmyk_16_bit_and_alpha_images_are_read_and_fixed() {
    // CMYK JPEG, as print workflows and some scanners write.
    let rgb = portrait(600, 800);
    let cmyk: Vec<u8> = rgb
        .pixels()
        .flat_map(|p| {
            let (r, g, b) = (
                p[0] as f32 / 255.0,
                p[1] as f32 / 255.0,
                p[2] as f32 / 255.0,
            );
            let k = 1.0 - r.max(g).max(b);
            let f = |c: f32| {
                if k >= 1.0 {
                    0
                } else {
                    (((1.0 - c - k) / (1.0 - k)) * 255.0) as u8
                }
            };
            [f(r), f(g), f(b), (k * 255.0) as u8]
        })
        .collect();
    let mut cmyk_jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut cmyk_jpeg, 90)
        .encode(&cmyk, 600, 800, jpeg_encoder::ColorType::Cmyk)
        .unwrap();
    let d = decode(&cmyk_jpeg).unwrap();
    assert_eq!((d.image.width(), d.image.height()), (600, 800));
    assert_fix_passes(&cmyk_jpeg);

    // 16-bit PNG.
    let deep = DynamicImage::ImageRgb16(DynamicImage::ImageRgb8(portrait(700, 900)).to_rgb16());
    let bytes = png(&deep);
    let (passes, codes) = findings(&bytes, PhotoSlot::CardPhoto);
    assert!(!passes && codes.contains(&"format"), "{codes:?}");
    assert_fix_passes(&bytes);

    // PNG with alpha: transparent corners become white, not black.
    let mut rgba = DynamicImage::ImageRgb8(portrait(716, 882)).to_rgba8();
    for (x, y, p) in rgba.enumerate_pixels_mut() {
        if x < 100 && y < 100 {
            p[3] = 0;
        }
    }
    let fixed = assert_fix_passes(&png(&DynamicImage::ImageRgba8(rgba)));
    let corner = image::load_from_memory(&fixed).unwrap().to_rgb8();
    assert!(
        corner.get_pixel(5, 5).0.iter().all(|c| *c > 230),
        "{:?}",
        corner.get_pixel(5, 5)
    );
}

#[test]
fn hostile_and_broken_files_are_refused_with_a_reason() {
    assert_eq!(decode(&[]).unwrap_err(), DecodeError::Empty);
    assert_eq!(
        decode(b"plain text, not a photo").unwrap_err(),
        DecodeError::NotAnImage
    );
    let mut heic = vec![0, 0, 0, 24];
    heic.extend_from_slice(b"ftypheic\0\0\0\0mif1heic");
    assert_eq!(decode(&heic).unwrap_err(), DecodeError::Heic);
    assert!(matches!(
        decode(&png_header_only(20_000, 20_000)).unwrap_err(),
        DecodeError::TooManyPixels(..)
    ));
    // Within the dimension limit but 432 MB of pixels: refused before allocating.
    assert_eq!(
        decode(&png_header_only(12_000, 12_000)).unwrap_err(),
        DecodeError::TooMuchMemory
    );
    let big = vec![0xFFu8; 41 * 1024 * 1024];
    assert!(matches!(
        decode(&big).unwrap_err(),
        DecodeError::TooLarge(_)
    ));
    // Truncated: half a JPEG, and half a PNG.
    let whole = jpeg(&DynamicImage::ImageRgb8(portrait(800, 600)), 90);
    match decode(&whole[..whole.len() / 2]) {
        Err(DecodeError::Corrupt(_)) => {}
        Ok(d) => panic!(
            "a truncated JPEG decoded to {}×{}",
            d.image.width(),
            d.image.height()
        ),
        Err(other) => panic!("unexpected {other:?}"),
    }
    let whole_png = png(&DynamicImage::ImageRgb8(portrait(400, 300)));
    assert!(matches!(
        decode(&whole_png[..whole_png.len() / 2]),
        Err(DecodeError::Corrupt(_))
    ));
    // Every message is Chinese and says what to do.
    for e in [
        DecodeError::Empty,
        DecodeError::Heic,
        DecodeError::TooMuchMemory,
    ] {
        assert!(e.to_string().contains('：'), "{e}");
    }
}

#[test]
fn a_png_named_jpg_is_read_by_its_content() {
    let bytes = png(&DynamicImage::ImageRgb8(portrait(358, 441)));
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("photo.jpg");
    std::fs::write(&path, &bytes).unwrap();
    let v = check(&std::fs::read(&path).unwrap(), PhotoSlot::CardPhoto).unwrap();
    assert_eq!(v.format, "png");
    assert!(v.findings.iter().any(|f| f.code == "format"));
}

#[test]
fn a_tiny_photo_cannot_be_blown_up() {
    let bytes = jpeg(&DynamicImage::ImageRgb8(portrait(60, 80)), 95);
    assert!(matches!(
        fix_card(&decode(&bytes).unwrap(), Crop::default()),
        Err(FixError::TooSmall(..))
    ));
}

#[test]
fn heuristics_warn_about_dark_blurred_and_busy_photos() {
    let base = DynamicImage::ImageRgb8(portrait(358, 441));
    let warned = |img: &DynamicImage| findings(&jpeg(img, 95), PhotoSlot::CardPhoto).1;
    assert!(warned(&base.brighten(-170)).contains(&"dark"));
    assert!(warned(&base.blur(4.0)).contains(&"blurred"));
    let mut busy = base.to_rgb8();
    for (x, y, p) in busy.enumerate_pixels_mut() {
        if y < 60 {
            *p = if (x / 12 + y / 12) % 2 == 0 {
                Rgb([20, 20, 20])
            } else {
                Rgb([240, 240, 240])
            };
        }
    }
    let busy = warned(&DynamicImage::ImageRgb8(busy));
    assert!(
        busy.contains(&"background_uneven") || busy.contains(&"background_colour"),
        "{busy:?}"
    );
    // Warnings never fail a photo that meets the spec.
    assert!(
        check(&jpeg(&base.blur(4.0), 100), PhotoSlot::CardPhoto)
            .unwrap()
            .findings
            .iter()
            .all(|f| !f.fails || f.code == "too_small_file")
    );
}

#[test]
fn id_card_images_are_checked_and_normalised() {
    let card = DynamicImage::ImageRgb8(portrait(856, 540));
    let (passes, codes) = findings(&jpeg(&card, 90), PhotoSlot::IdFront);
    assert!(passes, "{codes:?}");
    let (passes, codes) = findings(
        &jpeg(&DynamicImage::ImageRgb8(portrait(200, 126)), 90),
        PhotoSlot::IdBack,
    );
    assert!(!passes && codes.contains(&"too_small"), "{codes:?}");
    let (_, codes) = findings(
        &jpeg(&DynamicImage::ImageRgb8(portrait(540, 856)), 90),
        PhotoSlot::IdFront,
    );
    assert!(codes.contains(&"portrait"), "{codes:?}");
    // A 12-megapixel phone shot of the card is brought to 2000 px, still a card's shape.
    let big = jpeg(&DynamicImage::ImageRgb8(portrait(4000, 2520)), 90);
    let normal = normalise_id(&decode(&big).unwrap()).unwrap();
    let d = decode(&normal).unwrap();
    assert_eq!((d.image.width(), d.image.height()), (2000, 1260));
    assert!(check(&normal, PhotoSlot::IdFront).unwrap().passes());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    #[test]
    fn whatever_the_crop_the_fixed_photo_passes(
        w in 400u32..1600, h in 400u32..1600,
        cx in 0.0f32..1.0, cy in 0.0f32..1.0, zoom in 1.0f32..1.6,
    ) {
        let bytes = jpeg(&DynamicImage::ImageRgb8(portrait(w, h)), 90);
        let crop = Crop { cx, cy, zoom, angle: 0.0 };
        match fix_card(&decode(&bytes).unwrap(), crop) {
            Ok(fixed) => {
                let v = check(&fixed, PhotoSlot::CardPhoto).unwrap();
                prop_assert!(v.passes(), "{:?}", v.findings);
            }
            // Only a window too small to enlarge, one framing nothing but plain background,
            // or one that puts the face where the rules do not want it (or not at all) may
            // be refused, and then with a reason.
            Err(FixError::TooSmall(..)) | Err(FixError::TooPlain) | Err(FixError::CropColourless)
            | Err(FixError::Geometry(_)) | Err(FixError::NoFace) | Err(FixError::EdgeNotWhite(_)) => {}
            Err(e) => prop_assert!(false, "{e}"),
        }
    }
}

#[test]
fn a_big_jpeg_is_decoded_reduced_but_upright_and_large_enough() {
    use sbk_counter::photo::decode_reduced;
    // A 4000×3000 phone photo stored sideways with its EXIF tag.
    let bytes = sbk_counter::photo::synthetic::phone_jpeg(4000, 3000, true);
    let full = decode(&bytes).unwrap();
    let reduced = decode_reduced(&bytes, 661).unwrap();
    assert_eq!((full.image.width(), full.image.height()), (4000, 3000));
    // 1/4 in the DCT: 1000×750, still ≥ 661 on the short side, and turned upright.
    assert_eq!((reduced.image.width(), reduced.image.height()), (1000, 750));
    assert!(reduced.reoriented);
    assert_eq!(reduced.stored_dimensions, full.stored_dimensions);
    let (fixed, _, _) = auto_fix_card(&reduced, &bytes).unwrap();
    assert!(check(&fixed, PhotoSlot::CardPhoto).unwrap().passes());
    // Small photos and other formats are decoded as they are.
    let small = jpeg(&DynamicImage::ImageRgb8(portrait(800, 600)), 90);
    assert_eq!(decode_reduced(&small, 661).unwrap().image.width(), 800);
    let png_bytes = png(&DynamicImage::ImageRgb8(portrait(2000, 1500)));
    assert_eq!(decode_reduced(&png_bytes, 661).unwrap().image.width(), 2000);
}
