//! The 受理单 as a resident gets it: a real PDF read back with poppler's tools (pdftotext,
//! pdffonts, pdftoppm), its QR code decoded from the rendered page.

mod common;

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

/// A data directory with the agent example submitted (queued), its photos in the store.
fn submitted(data: &Path) -> uuid::Uuid {
    use sbk_counter::domain::{PhotoRef, PhotoSlot, Status};
    let mut store = common::signin::open_store(data).unwrap();
    let mut app = example("application-example-agent.json");
    app.status = Status::Draft;
    for kind in PhotoSlot::APPLICANT {
        let bytes = match kind {
            PhotoSlot::CardPhoto => sbk_counter::photo::synthetic::card_photo_jpeg(5),
            PhotoSlot::IdFront => sbk_counter::photo::synthetic::id_card_jpeg(5, false),
            _ => sbk_counter::photo::synthetic::id_card_jpeg(5, true),
        };
        let sha = store.put_photo(&bytes, kind, "image/jpeg", 0, 0).unwrap();
        *app.photo_mut(kind) = Some(PhotoRef {
            sha256: sha,
            source_name: None,
        });
    }
    app.agent.photos = Default::default();
    let op = common::signin::operator();
    store.create(&app, &op).unwrap();
    app.id
}

fn sbk(dir: &Path, path_env: &str, args: &[&str]) -> (i32, String, String) {
    common::signin::outcome(
        common::signin::sbk_signed_in(&dir.join("data"), &dir.join("config.toml"))
            .env("PATH", path_env)
            .args(args),
    )
}

#[test]
fn sbk_receipt_saves_prints_through_lp_and_refuses_a_draft() {
    if font().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    common::signin::ensure_setup(&data);
    let id = submitted(&data);
    let path = std::env::var("PATH").unwrap();
    // A draft has nothing to acknowledge yet.
    let (code, _, err) = sbk(dir.path(), &path, &["receipt", "0d7b"]);
    assert_eq!(code, 1);
    assert!(err.contains("还没有提交（草稿）"), "{err}");
    {
        let mut store = common::signin::open_store(&data).unwrap();
        let today = sbk_counter::domain::dates::beijing_date(Utc::now());
        store
            .submit(id, &common::signin::operator(), today)
            .unwrap();
    }
    // Saved where asked.
    let out = dir.path().join("r.pdf");
    let (code, stdout, err) = sbk(
        dir.path(),
        &path,
        &["receipt", "0d7b", "-o", out.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("受理单已保存为"), "{stdout}");
    let text = tool("pdftotext", &[out.to_str().unwrap(), "-"]);
    assert!(text.contains("待同步") && text.contains("李建国"), "{text}");
    // --print: through lp where there is one (here a stand-in for CUPS's that keeps what
    // it was given) …
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let spool = dir.path().join("spooled.pdf");
    let lp = bin.join("lp");
    std::fs::write(&lp, format!("#!/bin/sh\ncat > '{}'\n", spool.display())).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&lp, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let with_lp = format!("{}:{path}", bin.display());
    let (code, stdout, err) = sbk(dir.path(), &with_lp, &["receipt", "0d7b", "--print"]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("已发送到打印机"), "{stdout}");
    assert!(std::fs::read(&spool).unwrap().starts_with(b"%PDF-"));
    // … and saved, with what to do, where there is none.
    let no_lp = path
        .split(':')
        .filter(|d| !Path::new(d).join("lp").exists())
        .collect::<Vec<_>>()
        .join(":");
    let (code, stdout, err) = sbk(dir.path(), &no_lp, &["receipt", "0d7b", "--print"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.contains("本机没有打印服务") && stdout.contains("Windows"),
        "{stdout}"
    );
    let saved = data.join("receipts").join("受理单-0d7b5e1c.pdf");
    assert!(saved.is_file(), "{stdout}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&saved).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "personal data");
    }
    // Each one audited.
    let store = common::signin::open_store(&data).unwrap();
    let prints = store
        .audit_entries(Some(id))
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "print")
        .count();
    assert_eq!(prints, 3);
}
