//! Where each field is printed on a resident ID card (GA 450, ISO/IEC 7810 ID-1: 85.6 ×
//! 54 mm), in tenths of a millimetre from the card's top-left corner. The reader crops
//! each field's region from a straightened card scaled to this size; the test renderer
//! prints the fields there.

use super::{CardField, Side};

/// The card's size in tenths of a millimetre.
pub const CARD_W: u32 = 856;
pub const CARD_H: u32 = 540;

/// A rectangle on the card, in tenths of a millimetre.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

const fn region(x: u32, y: u32, w: u32, h: u32) -> Region {
    Region { x, y, w, h }
}

/// Where the value of `field` is printed (the label to its left is not inside).
pub fn value_region(field: CardField) -> Region {
    match field {
        CardField::Name => region(160, 42, 390, 62),
        CardField::Gender => region(160, 108, 90, 56),
        CardField::Ethnicity => region(390, 108, 170, 56),
        CardField::BirthDate => region(160, 172, 400, 56),
        CardField::Address => region(160, 236, 400, 160),
        CardField::IdNumber => region(300, 430, 540, 66),
        CardField::Authority => region(340, 368, 500, 56),
        // The validity line holds both dates; the reader splits it.
        CardField::ValidFrom | CardField::ValidUntil => region(340, 432, 500, 56),
    }
}

/// The printed labels of a side and where they stand (for rendering test cards).
pub fn labels(side: Side) -> &'static [(&'static str, u32, u32)] {
    match side {
        Side::Front => &[
            ("姓  名", 40, 60),
            ("性  别", 40, 124),
            ("民  族", 280, 124),
            ("出  生", 40, 188),
            ("住  址", 40, 252),
            ("公民身份号码", 40, 448),
        ],
        Side::Back => &[
            ("签发机关", 190, 384),
            ("有效期限", 190, 448),
            ("中华人民共和国", 330, 80),
            ("居民身份证", 330, 170),
        ],
    }
}

/// The portrait on the front (no text in it).
pub const PORTRAIT: Region = region(570, 50, 250, 330);

/// The national emblem on the back.
pub const EMBLEM: Region = region(60, 50, 200, 210);

/// The fields of a side whose regions are read, in order (the validity line once).
pub fn regions_read(side: Side) -> &'static [CardField] {
    match side {
        Side::Front => &CardField::FRONT,
        Side::Back => &[CardField::Authority, CardField::ValidFrom],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_region_is_on_the_card_and_clear_of_the_portrait() {
        for field in CardField::FRONT.iter().chain(&CardField::BACK) {
            let r = value_region(*field);
            assert!(r.x + r.w <= CARD_W && r.y + r.h <= CARD_H, "{field:?}");
            if CardField::FRONT.contains(field) && *field != CardField::IdNumber {
                assert!(r.x + r.w <= PORTRAIT.x, "{field:?} overlaps the portrait");
            }
        }
    }
}
