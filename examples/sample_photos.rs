//! Writes the sample photos the library generates into `assets/samples/` from
//! `demo::generate_sample_photos()` (tests/assets.rs checks that the committed files are its
//! output):  cargo run --example sample_photos. The ID card samples come from
//! `scripts/id-card-samples`.
fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/samples");
    for (name, bytes) in sbk_counter::demo::generate_sample_photos() {
        std::fs::write(dir.join(name), &bytes).expect("write a sample photo");
        println!("assets/samples/{name}: {} bytes", bytes.len());
    }
}
