//! Photos: decode safely, check against the card spec, fix (crop, resize, compress).

pub mod check;
pub mod decode;
pub mod fix;
pub mod synthetic;

pub use check::{Verdict, check, check_decoded};
pub use decode::{DecodeError, Decoded, decode, decode_reduced};
pub use fix::{Crop, FixError, fix_card, normalise_id};
