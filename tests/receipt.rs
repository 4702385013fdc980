//! The 受理单 as a resident gets it: a real PDF read back with poppler's tools (pdftotext,
//! pdffonts, pdftoppm), its QR code decoded from the rendered page.

use std::path::Path;
use std::process::Command;

use chrono::{TimeZone, Utc};
use sbk_counter::domain::Application;
use sbk_counter::receipt::{CjkFont, Number, Paper, Receipt, render};

fn example(file: &str) -> Application {
    let text = std::fs::read_to_string(Path::new("docs").join(file)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn font() -> Option<CjkFont> {
    match CjkFont::find(None) {
        Ok(f) => Some(f),
        Err(e) => {
            // scripts/test installs Debian's fonts-noto-cjk; say so where it is missing.
            assert!(std::env::var_os("CI").is_none(), "no CJK font in CI: {e}");
            eprintln!("no CJK font here: {e}");
            None
        }
    }
}

fn receipt(app: &Application) -> Receipt {
    Receipt::for_application(
        app,
        "朝阳区建外街道社区服务站",
        "3号窗口",
        "李娜（C001）",
        Utc.with_ymd_and_hms(2026, 11, 24, 2, 30, 0).unwrap(),
        Some(sbk_counter::photo::synthetic::card_photo_jpeg(3)),
    )
}

fn tool(name: &str, args: &[&str]) -> String {
    let out = Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name} (poppler-utils): {e}"));
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A `Name:   value` line of pdfinfo's.
fn field<'a>(info: &'a str, name: &str) -> &'a str {
    info.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .map(str::trim)
        .unwrap_or_default()
}

#[test]
fn a_delivered_application_prints_its_number_masked_id_and_what_happens_next() {
    let Some(font) = font() else { return };
    let mut app = example("application-example.json");
    app.application_number = Some("SQ2026112400000004".into());
    let pdf = render(&receipt(&app), &font, Paper::A4).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let p = path.to_str().unwrap();
    let text = tool("pdftotext", &["-layout", p, "-"]);
    for want in [
        "北京市第三代社会保障卡申领受理单",
        "SQ2026112400000004",
        "110105********002X",
        "王秀英",
        "3号窗口",
        "96102",
        "30 日内",
        "申领人签字",
        "经办人签字",
        "北京银行",
    ] {
        assert!(text.contains(want), "{want} not in:\n{text}");
    }
    assert!(!text.contains("11010519491231002X"), "the full ID number");
    assert!(!text.contains("13800138000"), "the full mobile");
    let info = tool("pdfinfo", &[p]);
    assert_eq!(field(&info, "Pages"), "1", "{info}");
    assert!(field(&info, "Page size").contains("(A4)"), "{info}");
    // Fonts embedded, as subsets (a name with a six-letter tag and +).
    let fonts = tool("pdffonts", &[p]);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!rows.is_empty(), "{fonts}");
    for row in rows {
        let name = row.split_whitespace().next().unwrap();
        assert!(name.len() > 7 && &name[6..7] == "+", "subset: {fonts}");
        assert!(row.contains(" yes yes "), "embedded, subset: {fonts}");
    }
    // The QR code on the page decodes to the number.
    let png = dir.path().join("page");
    tool(
        "pdftoppm",
        &["-r", "150", "-png", "-singlefile", p, png.to_str().unwrap()],
    );
    let img = image::open(dir.path().join("page.png")).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the page");
    let (_, content) = grids[0].decode().unwrap();
    assert_eq!(content, "SQ2026112400000004");
    assert!(pdf.len() < 200_000, "{} bytes", pdf.len());
}

#[test]
fn before_delivery_it_prints_the_local_reference_marked_pending_and_the_agent() {
    let Some(font) = font() else { return };
    let app = example("application-example-agent.json");
    let r = receipt(&app);
    assert_eq!(r.number, Number::Local("0d7b5e1c".into()));
    let pdf = render(&r, &font, Paper::A5).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let p = path.to_str().unwrap();
    let text = tool("pdftotext", &["-layout", p, "-"]);
    for want in [
        "0d7b5e1c",
        "待同步",
        "代办人：李建国（子女）",
        "110105********0018",
        "139****2222",
        "代办人签字",
    ] {
        assert!(text.contains(want), "{want} not in:\n{text}");
    }
    assert!(!text.contains("110105197503120018"));
    let info = tool("pdfinfo", &[p]);
    assert!(
        info.contains("420 x 595") || info.contains("419.53 x 595.28"),
        "A5: {info}"
    );
}

#[test]
fn a_name_the_font_cannot_set_is_said_not_printed_as_a_box() {
    let Some(font) = font() else { return };
    let mut app = example("application-example.json");
    // A private-use character no font draws.
    app.applicant.name = "王\u{E000}".into();
    let err = render(&receipt(&app), &font, Paper::A4).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("缺少这些字：\u{E000}"), "{message}");
    assert!(message.contains("fonts-noto-cjk"), "{message}");
}
