//! sbk-counter: a counter clerk's terminal wizard for Beijing third-generation social
//! security card applications. The binary `sbk` is a thin shell over this library.

pub mod access;
pub mod api;
pub mod central;
pub mod cli;
pub mod config;
pub mod demo;
pub mod digest;
pub mod domain;
pub mod idcard;
pub mod intake;
pub mod keys;
pub mod logging;
pub mod photo;
pub mod printing;
pub mod private_files;
pub mod process;
pub mod receipt;
pub mod report;
pub mod store;
pub mod sync;
pub mod tui;
