//! Whether an image given as an ID card side shows an ID card: the card's outline found
//! with its proportions (85.6 × 54 mm, `find::locate`), or the image being the card itself
//! (cropped by a scanner or a 高拍仪, in the card's proportions); and which side it is, by
//! the one thing a front has and a back never has: the holder's portrait. A portrait photo
//! given as the ID front, a letter given as the back, or the two sides swapped are found
//! here, at import, instead of coming back from the card centre.

use image::DynamicImage;

use super::find;
use crate::domain::PhotoSlot;
use crate::photo::Decoded;
use crate::photo::check::{Finding, ID_ASPECT, Verdict, check_decoded};

/// A photo checked for `slot`: the photo's own checks, and for an ID card side whether it
/// shows one, and which side. What every import and `sbk photo check` use.
pub fn check(decoded: &Decoded, slot: PhotoSlot) -> Verdict {
    let mut verdict = check_decoded(decoded, slot);
    // A photo that cannot be read anyway is not judged twice.
    if verdict.passes() {
        verdict.findings.extend(findings(&decoded.image, slot));
    }
    verdict
}

/// What the image is, as far as its shape tells.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// A card lies in the photo, its corners found.
    Found(find::Corners),
    /// The image is the card, edge to edge (a scan), lying or standing.
    IsTheCard,
    /// Neither: no card-shaped outline, and not in a card's proportions.
    NotACard,
}

/// How far from the card's proportions (1.585) an image that is the card may be: a scan
/// cropped with a small margin, or a little short of the corners — not an A4 page (1.41)
/// or a 3:2 photo (1.50).
const ASPECT_TOLERANCE: f32 = 0.04;

/// The shape of `image` (upright, as decoded).
pub fn shape(image: &DynamicImage) -> Shape {
    let rgb = image.to_rgb8();
    if let Some(corners) = find::locate(&rgb) {
        return Shape::Found(corners);
    }
    let (w, h) = (image.width() as f32, image.height() as f32);
    let ratio = w.max(h) / w.min(h).max(1.0);
    if (ratio - ID_ASPECT).abs() <= ASPECT_TOLERANCE * ID_ASPECT {
        Shape::IsTheCard
    } else {
        Shape::NotACard
    }
}

/// Whether the card in `image` shows a face (the holder's portrait on the front), looked
/// for on the card flattened. `None` when the image is no card.
pub fn shows_portrait(image: &DynamicImage, shape: Shape) -> Option<bool> {
    let rgb = image.to_rgb8();
    let (w, h) = find::card_size();
    let flat = match shape {
        Shape::Found(corners) => find::warp(&rgb, &corners, w, h),
        Shape::IsTheCard => {
            // A card scanned standing is laid down first.
            let lying = if rgb.height() > rgb.width() {
                image::imageops::rotate90(&rgb)
            } else {
                rgb
            };
            image::imageops::resize(&lying, w, h, image::imageops::FilterType::Triangle)
        }
        Shape::NotACard => return None,
    };
    let flat = DynamicImage::ImageRgb8(flat);
    // The portrait is about a third of the card's width, its face about a sixth; turned
    // over (a card flattened upside down), the face is still a face.
    let found = |img: &DynamicImage| !crate::photo::face::detect(img, 0.1).is_empty();
    Some(found(&flat) || found(&flat.rotate180()))
}

/// The findings about an ID card side (`slot`: the applicant's front or back, or an
/// agent's card): not a card at all fails; a portrait on the back fails (the sides were
/// swapped).
pub fn findings(image: &DynamicImage, slot: PhotoSlot) -> Vec<Finding> {
    if !matches!(
        slot,
        PhotoSlot::IdFront | PhotoSlot::IdBack | PhotoSlot::AgentIdCard
    ) {
        return Vec::new();
    }
    let shape = shape(image);
    if shape == Shape::NotACard {
        return vec![Finding {
            code: "not_an_id_card",
            fails: true,
            message: "不像身份证：照片里找不到身份证的轮廓（85.6×54 毫米的长方形）。请把身份证平放在深色桌面上，四个角都拍进去，或用扫描件".into(),
        }];
    }
    // Only the back is judged by it: a face there is a front (the sides swapped). A front
    // whose face the detector misses (a small, pale or worn portrait) is not refused.
    if slot == PhotoSlot::IdBack && shows_portrait(image, shape) == Some(true) {
        return vec![Finding {
            code: "front_as_back",
            fails: true,
            message: "这一面有人像，是身份证正面（人像面）：正反面放反了，请导入背面（国徽面）"
                .into(),
        }];
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::photo::synthetic::{Scene, id_card_jpeg, scene};
    use crate::photo::{check::Finding, decode};

    fn codes(bytes: &[u8], slot: PhotoSlot) -> Vec<(&'static str, bool)> {
        check(&decode(bytes).unwrap(), slot)
            .findings
            .iter()
            .map(|f: &Finding| (f.code, f.fails))
            .collect()
    }

    fn jpeg(img: image::RgbImage) -> Vec<u8> {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
            .encode_image(&DynamicImage::ImageRgb8(img))
            .unwrap();
        out
    }

    #[test]
    fn each_side_where_it_belongs_passes() {
        assert!(
            !codes(&id_card_jpeg(1, false), PhotoSlot::IdFront)
                .iter()
                .any(|c| c.1)
        );
        assert!(
            !codes(&id_card_jpeg(1, true), PhotoSlot::IdBack)
                .iter()
                .any(|c| c.1)
        );
    }

    #[test]
    fn a_portrait_given_as_the_front_is_not_an_id_card() {
        let portrait = jpeg(scene(900, 1200, &Scene::portrait(900, 1200)));
        assert!(codes(&portrait, PhotoSlot::IdFront).contains(&("not_an_id_card", true)));
        let landscape = jpeg(scene(1600, 1200, &Scene::portrait(1600, 1200)));
        assert!(codes(&landscape, PhotoSlot::IdBack).contains(&("not_an_id_card", true)));
    }

    #[test]
    fn a_letter_on_a4_and_a_3_2_photo_are_not_taken_for_the_card_itself() {
        // A scanned letter: lines of text on a white A4 page.
        let a4 = image::RgbImage::from_fn(1240, 1754, |x, y| {
            if (y / 30) % 2 == 1 && x > 100 && x < 1140 && (x / 7) % 4 != 0 {
                image::Rgb([30, 30, 30])
            } else {
                image::Rgb([250, 250, 250])
            }
        });
        assert!(codes(&jpeg(a4), PhotoSlot::IdBack).contains(&("not_an_id_card", true)));
        let photo = jpeg(scene(1000, 1500, &Scene::portrait(1000, 1500)));
        assert!(codes(&photo, PhotoSlot::IdFront).contains(&("not_an_id_card", true)));
    }

    #[test]
    fn the_sides_swapped_are_told() {
        assert!(
            codes(&id_card_jpeg(2, false), PhotoSlot::IdBack).contains(&("front_as_back", true))
        );
    }

    #[test]
    fn a_card_lying_on_a_table_is_found_and_its_portrait_seen() {
        let card = image::load_from_memory(&id_card_jpeg(3, false))
            .unwrap()
            .to_rgb8();
        // On a dark table, a margin all round.
        let mut table = image::RgbImage::from_pixel(1400, 1000, image::Rgb([70, 50, 40]));
        image::imageops::overlay(&mut table, &card, 270, 230);
        let img = DynamicImage::ImageRgb8(table);
        assert!(matches!(shape(&img), Shape::Found(_)));
        assert_eq!(shows_portrait(&img, shape(&img)), Some(true));
    }
}
