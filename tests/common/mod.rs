//! Shared by the photo tests: the library's synthetic portrait (no real people) and encoders.
#![allow(dead_code, unused_imports)]

pub mod card_print;
pub mod delivery;
pub mod fixtures;
pub mod gate;
pub mod id_card;
pub mod signin;
pub mod ui;

use image::{DynamicImage, ImageFormat};
pub use sbk_counter::photo::synthetic::portrait;

pub fn jpeg(img: &DynamicImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(img)
        .unwrap();
    out
}

pub fn png(img: &DynamicImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}
