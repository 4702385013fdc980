//! Shared by the photo tests: the library's synthetic portrait (no real people) and encoders.
#![allow(dead_code, unused_imports)]

pub mod card_print;
pub mod delivery;
pub mod fixtures;
pub mod gate;
pub mod id_card;
pub mod pg_cluster;
pub mod pg_tap;
pub mod signin;
pub mod ui;

pub use card_print::{jpeg, png};
pub use sbk_counter::photo::synthetic::portrait;
