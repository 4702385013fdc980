//! Render the documented examples' 受理单 (delivered, and 代办 before delivery) into a
//! folder, to look at: `cargo run --example receipt_sample -- DIR`.

use chrono::Utc;
use sbk_counter::domain::Application;
use sbk_counter::receipt::{CjkFont, Paper, Receipt, render};

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    let font = CjkFont::find(None).unwrap_or_else(|e| panic!("{e}"));
    for (file, number, paper) in [
        (
            "application-example.json",
            Some("SQ2026112400000004"),
            Paper::A4,
        ),
        ("application-example-agent.json", None, Paper::A4),
    ] {
        let text = std::fs::read_to_string(format!("docs/{file}")).unwrap();
        let mut app: Application = serde_json::from_str(&text).unwrap();
        app.application_number = number.map(str::to_owned);
        let r = Receipt::for_application(
            &app,
            "朝阳区建外街道社区服务站",
            "3号窗口",
            "李娜（C001）",
            Utc::now(),
            Some(sbk_counter::photo::synthetic::card_photo_jpeg(3)),
        );
        let pdf = render(&r, &font, paper).unwrap();
        let out = dir.join(file.replace(".json", ".pdf"));
        std::fs::write(&out, pdf).unwrap();
        println!("{}", out.display());
    }
}
