//! Photos: decode safely, check against the card spec (the face and where it is included),
//! fix (crop from the face, resize, compress).

pub mod check;
pub mod decode;
pub mod face;
pub mod fix;
pub mod geometry;
pub mod metadata;
pub mod placement;
pub mod synthetic;

pub use check::{Verdict, check, check_decoded};
pub use decode::{DecodeError, Decoded, decode, decode_reduced};
pub use fix::{Crop, FixError, fix_card, normalise_id};
pub use metadata::card_bytes_without_metadata;
pub use placement::auto_fix_card;
