//! Placing the card photo's crop from the face: the scale and offset that put the face's
//! width, the top of the hair, the eyes' midpoint and the eye line inside the national
//! geometry with a margin, the eyes levelled for a small tilt. What cannot be fixed is
//! refused with the reason: no face, several, a face too small to reach 179 px without
//! enlarging more than 1.5×, a head cut off at the top.

use image::{DynamicImage, RgbImage};

use super::check::{CARD_HEIGHT, CARD_WIDTH};
use super::decode::Decoded;
use super::face::Face;
use super::fix::{Crop, FixError, fix_card_measured, looks_greyscale, the_face};
use super::geometry::{self, EYE_LINE_ABOVE_BOTTOM, EYE_MID_X, FACE_WIDTH, HAIR_TOP, Measures};

/// Where the placement aims, inside the rules' ranges.
const AIM_FACE_WIDTH: f32 = 215.0;
const AIM_HAIR_TOP: f32 = 14.0;
const AIM_EYE_MID_X: f32 = 179.0;
/// How far inside a limit a placement stays.
const MARGIN: f32 = 8.0;
/// The most a face may be enlarged (card pixels per original pixel).
pub const MAX_ENLARGE: f32 = 1.5;
/// Tilts up to this many degrees are levelled; more is a photo to take again.
pub const MAX_LEVEL: f32 = 10.0;
/// Tilts under this are left as they are (the lean is measured to about a degree).
const MIN_LEVEL: f32 = 1.5;

/// The face the placement is made from, and what it measured, for the clerk.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placed {
    pub crop: Crop,
    pub face: Face,
}

/// The crop for `image` (any size; `full_width` is the original's width, for the limit on
/// enlarging when `image` is a reduced copy).
pub fn place(image: &DynamicImage, full_width: u32) -> Result<Placed, FixError> {
    let face = the_face(image, super::face::LEAST_IN_PHOTO)?;
    let rgb = image.to_rgb8();
    place_face(&rgb, face, full_width)
}

/// The crop that puts `face` of `rgb` where the rules want it.
pub fn place_face(rgb: &RgbImage, face: Face, full_width: u32) -> Result<Placed, FixError> {
    let (w, h) = rgb.dimensions();
    let tilt = face.tilt_degrees();
    if tilt.abs() > MAX_LEVEL {
        return Err(FixError::Tilted(tilt.abs()));
    }
    let bg = geometry::background(rgb, &face).ok_or(FixError::NoBackground)?;
    let hair = geometry::hair_top(rgb, &face, &bg).unwrap_or(face.y - 0.25 * face.h);
    if hair < 1.0 {
        return Err(FixError::HeadCut);
    }
    let (ex, ey) = face.eye_mid();
    // Scale: aim at the face width, but keep the eye line high enough with the hair at
    // its aim; never below the least face width (with the margin).
    let fw = face.width().max(1.0);
    let head = (ey - hair).max(1.0);
    let eye_room = CARD_HEIGHT as f32 - EYE_LINE_ABOVE_BOTTOM - MARGIN - AIM_HAIR_TOP;
    let least = (FACE_WIDTH.start() + MARGIN) / fw;
    let most = ((FACE_WIDTH.end() - MARGIN) / fw).min(eye_room / head);
    let aim = (AIM_FACE_WIDTH / fw).min(eye_room / head).max(least);
    // A window inside the photo needs no fill: scale up (within the rules) until it fits.
    let fits = (CARD_WIDTH as f32 / w as f32).max(CARD_HEIGHT as f32 / h as f32);
    let k = if aim < fits && fits <= most {
        fits
    } else {
        aim
    };
    // The limit on enlarging is in the original's pixels.
    let k_full = k * w as f32 / full_width.max(1) as f32;
    if k_full > MAX_ENLARGE {
        return Err(FixError::FaceTooSmall {
            width: (fw * full_width as f32 / w as f32).round() as u32,
            enlarge: k_full,
        });
    }
    let (cw, ch) = (CARD_WIDTH as f32 / k, CARD_HEIGHT as f32 / k);
    // Offsets: the aim, moved inside the photo as far as the rules' bands allow.
    let slack = 4.0;
    let inside = |aimed: f32, lo: f32, hi: f32, room: f32| -> f32 {
        let (lo, hi) = (lo.max(0.0), hi.min(room));
        if lo <= hi { aimed.clamp(lo, hi) } else { aimed }
    };
    let x0 = inside(
        ex - AIM_EYE_MID_X / k,
        ex - (EYE_MID_X.end() - slack) / k,
        ex - (EYE_MID_X.start() + slack) / k,
        w as f32 - cw,
    );
    let y0 = inside(
        hair - AIM_HAIR_TOP / k,
        hair - (HAIR_TOP.end() - slack) / k,
        hair - (HAIR_TOP.start() + slack) / k,
        h as f32 - ch,
    );
    let angle = if tilt.abs() >= MIN_LEVEL { tilt } else { 0.0 };
    let crop = Crop::from_rect(w, h, (x0, y0, cw, ch), angle);
    Ok(Placed { crop, face })
}

/// A card photo placed from the face (`place`) and made, with its face's measures: the
/// crop the clerk would otherwise set by hand.
pub fn auto_fix_card(decoded: &Decoded) -> Result<(Vec<u8>, Crop, Measures), FixError> {
    if looks_greyscale(&decoded.image) {
        return Err(FixError::Greyscale);
    }
    let placed = place(&decoded.image, decoded.image.width())?;
    let (bytes, measures) = fix_card_measured(decoded, placed.crop, Some(&placed.face))?;
    Ok((bytes, placed.crop, measures))
}
