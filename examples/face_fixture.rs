//! Makes `assets/samples/astronaut-head.jpg` from scikit-image's `astronaut.png` (a NASA
//! portrait of Eileen Collins, public domain): the head and shoulders, cropped, as JPEG.
//! `scripts/face-fixture` fetches the package and runs this.
//!
//!     cargo run --example face_fixture -- PATH/TO/astronaut.png assets/samples/astronaut-head.jpg

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(from), Some(to)) = (args.next(), args.next()) else {
        eprintln!("usage: face_fixture ASTRONAUT_PNG OUT_JPG");
        std::process::exit(2);
    };
    let image = image::open(&from).expect("astronaut.png");
    // Her head and shoulders, without the flag (left) or the shuttle model (right).
    let head = image.crop_imm(100, 0, 256, 330).to_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 92)
        .encode_image(&head)
        .expect("encode");
    std::fs::write(&to, out).expect("write");
    println!("{to}: {}×{}", head.width(), head.height());
}
