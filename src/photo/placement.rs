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
/// How far inside the face-width and eye-line limits a placement stays (card pixels).
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

/// The crop for `image`, which may be a reduced copy of a photo `full_width` pixels wide
/// upright: the face is found in `image`, and the limit on enlarging is judged in the
/// original's pixels (a reduced copy's face is not the photo's).
pub fn place(image: &DynamicImage, full_width: u32) -> Result<Placed, FixError> {
    let face = the_face(image, super::face::LEAST_IN_PHOTO)?;
    let rgb = image.to_rgb8();
    place_face(&rgb, face, full_width)
}

/// An interval `lo..=hi`, empty when `lo > hi`.
#[derive(Debug, Clone, Copy)]
struct Span {
    lo: f32,
    hi: f32,
}

impl Span {
    fn meet(self, other: Span) -> Span {
        Span {
            lo: self.lo.max(other.lo),
            hi: self.hi.min(other.hi),
        }
    }

    fn is_empty(self) -> bool {
        self.lo > self.hi
    }

    /// `x` moved into the span (`x` itself when the span is empty).
    fn nearest(self, x: f32) -> f32 {
        if self.is_empty() {
            x
        } else {
            x.clamp(self.lo, self.hi)
        }
    }
}

/// Pixels a window may be wider than the photo and still be a plain crop (rounding).
const TOLERANCE: f32 = 0.25;

/// How far inside each band a placement stays (card pixels).
const SLACK: f32 = 4.0;

/// Where the window's left edge may be for the eyes' midpoint to land in its band, at
/// `k` card pixels per photo pixel.
fn x_band(ex: f32, k: f32) -> Span {
    Span {
        lo: ex - (EYE_MID_X.end() - SLACK) / k,
        hi: ex - (EYE_MID_X.start() + SLACK) / k,
    }
}

/// Where the window's top edge may be for the top of the hair to land in its band.
fn y_band(hair: f32, k: f32) -> Span {
    Span {
        lo: hair - (HAIR_TOP.end() - SLACK) / k,
        hi: hair - (HAIR_TOP.start() + SLACK) / k,
    }
}

/// Where the window's edge may be for it to lie inside the photo (`room` wide), at `k`:
/// empty when the window is wider than the photo.
fn inside(room: f32, size: f32, k: f32) -> Span {
    let hi = room - size / k;
    Span {
        lo: 0.0,
        hi: if hi > -TOLERANCE { hi.max(0.0) } else { hi },
    }
}

/// The crop that puts `face` of `rgb` where the rules want it. A window inside the photo
/// is preferred wherever the rules' bands allow one (a photo already inside every band is
/// only scaled); only where none does may it reach outside, over white background.
pub fn place_face(rgb: &RgbImage, face: Face, full_width: u32) -> Result<Placed, FixError> {
    let (w, h) = rgb.dimensions();
    let (wf, hf) = (w as f32, h as f32);
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
    let (cw, ch) = (CARD_WIDTH as f32, CARD_HEIGHT as f32);
    // The scales (card pixels per photo pixel) the rules allow: the face's width in its
    // band; the eye line high enough with the hair at the top of its band; no more
    // enlarging than 1.5× of the original's pixels.
    let fw = face.width().max(1.0);
    let head = (ey - hair).max(1.0);
    let eye_room = ch - EYE_LINE_ABOVE_BOTTOM - MARGIN - (HAIR_TOP.start() + SLACK);
    let per_original = full_width.max(1) as f32 / wf;
    let least = (FACE_WIDTH.start() + MARGIN) / fw;
    let most = ((FACE_WIDTH.end() - MARGIN) / fw)
        .min(eye_room / head)
        .min(MAX_ENLARGE * per_original);
    if least > most {
        if least > MAX_ENLARGE * per_original {
            return Err(FixError::FaceTooSmall {
                width: (fw * per_original).round() as u32,
                enlarge: least / per_original,
            });
        }
        // The face is wide enough but the head too tall for the eyes to stay high.
        return Err(FixError::Geometry(format!(
            "头部太长（头顶到眼睛约 {:.0} 像素）：脸宽合格时眼睛会低于规定位置，请离远一些重新拍摄",
            head * per_original
        )));
    }
    // The least scale at which a window fits inside the photo with every band met: each
    // condition is a lower bound on the scale (zooming in shrinks the window).
    let fits_inside = [
        cw / wf,
        ch / hf,
        (EYE_MID_X.start() + SLACK) / ex.max(1e-3),
        (cw - EYE_MID_X.end() + SLACK) / (wf - ex).max(1e-3),
        (HAIR_TOP.start() + SLACK) / hair.max(1e-3),
        (ch - HAIR_TOP.end() + SLACK) / (hf - hair).max(1e-3),
    ]
    .into_iter()
    .fold(0.0f32, f32::max);
    let aim = (AIM_FACE_WIDTH / fw).min(eye_room / head);
    // Without the margins inside the face-width and eye-line limits: a photo already
    // inside every band (a studio's file with a broad face) is kept whole rather than
    // reduced into a window larger than itself.
    let most_exact = (FACE_WIDTH.end() / fw)
        .min((ch - EYE_LINE_ABOVE_BOTTOM - HAIR_TOP.start()) / head)
        .min(MAX_ENLARGE * per_original);
    let k = if fits_inside <= most {
        // No more zoom than it takes: where the largest window inside the photo already
        // holds a face wide enough, that window (a studio's file is kept whole);
        // otherwise the aim.
        if fits_inside >= least {
            fits_inside
        } else {
            aim.clamp(least, most)
        }
    } else if fits_inside <= most_exact {
        fits_inside
    } else {
        aim.clamp(least, most)
    };
    // Offsets: as near the aim as the bands allow, and inside the photo where they let it
    // be; otherwise as near the photo as the bands allow (the rest is filled white, where
    // the photo's own edge is white).
    let place_axis = |aim: f32, band: Span, room: Span| {
        let both = band.meet(room);
        if !both.is_empty() {
            both.nearest(aim)
        } else if room.is_empty() {
            // Wider than the photo: the overhang shared by both sides, as far as the band
            // allows.
            band.nearest(room.hi / 2.0)
        } else {
            band.nearest(room.nearest(aim))
        }
    };
    let x0 = place_axis(ex - AIM_EYE_MID_X / k, x_band(ex, k), inside(wf, cw, k));
    let y0 = place_axis(hair - AIM_HAIR_TOP / k, y_band(hair, k), inside(hf, ch, k));
    let angle = if tilt.abs() >= MIN_LEVEL { tilt } else { 0.0 };
    let crop = Crop::from_rect(w, h, (x0, y0, cw / k, ch / k), angle);
    Ok(Placed { crop, face })
}

/// A card photo placed from the face (`place`) and made, with its face's measures: the
/// crop the clerk would otherwise set by hand. The face is found on `first`, which may be a
/// reduced decode of the photo file `bytes` (fast on a 12-megapixel photo); the card is
/// made from a decode just large enough for the crop, never by enlarging a reduced copy.
pub fn auto_fix_card(first: &Decoded, bytes: &[u8]) -> Result<(Vec<u8>, Crop, Measures), FixError> {
    if looks_greyscale(&first.image) {
        return Err(FixError::Greyscale);
    }
    let placed = place(&first.image, first.dimensions.0)?;
    let (w, h) = (first.image.width(), first.image.height());
    // Card pixels per pixel of `first`: more than one means `first` would be enlarged.
    let k = CARD_WIDTH as f32 / placed.crop.rect(w, h).2;
    let reduced = first.dimensions.0 > w;
    let (source, face) = if k > 1.0 && reduced {
        let need = (w.min(h) as f32 * k).ceil() as u32;
        let full_short = first.dimensions.0.min(first.dimensions.1);
        let larger = if need >= full_short {
            super::decode::decode(bytes)?
        } else {
            super::decode::decode_reduced(bytes, need)?
        };
        let s = larger.image.width() as f32 / w as f32;
        let face = placed.face.scaled(s);
        (std::borrow::Cow::Owned(larger), face)
    } else {
        (std::borrow::Cow::Borrowed(first), placed.face)
    };
    let (bytes, measures) = fix_card_measured(&source, placed.crop, Some(&face))?;
    Ok((bytes, placed.crop, measures))
}
