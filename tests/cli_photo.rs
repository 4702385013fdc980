//! `sbk photo check|fix` as the real binary.

mod common;

use assert_cmd::Command;
use common::{jpeg, portrait};
use image::DynamicImage;

/// `sbk photo read FILE ARGS…`, run to the end.
fn photo_read(file: &std::path::Path, args: &[&str]) -> std::process::Output {
    sbk()
        .args(["photo", "read"])
        .arg(file)
        .args(args)
        .output()
        .unwrap()
}

fn sbk() -> Command {
    Command::cargo_bin("sbk").unwrap()
}

#[test]
fn check_fails_a_phone_photo_fix_makes_one_that_passes() {
    let dir = tempfile::TempDir::new().unwrap();
    let phone = dir.path().join("IMG_0001.jpg");
    std::fs::write(
        &phone,
        jpeg(&DynamicImage::ImageRgb8(portrait(1600, 1200)), 90),
    )
    .unwrap();
    let out = sbk().args(["photo", "check"]).arg(&phone).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("358×441"), "{text}");

    let fixed = dir.path().join("card.jpg");
    sbk()
        .args(["photo", "fix"])
        .arg(&phone)
        .arg(&fixed)
        .assert()
        .success();
    let out = sbk()
        .args(["photo", "check", "--json"])
        .arg(&fixed)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["passes"], true);
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(358), Some(441))
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&fixed).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

#[test]
fn unreadable_files_exit_2_and_unfixable_ones_say_why() {
    let dir = tempfile::TempDir::new().unwrap();
    let empty = dir.path().join("empty.jpg");
    std::fs::write(&empty, b"").unwrap();
    let out = sbk().args(["photo", "check"]).arg(&empty).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("空的"));

    let grey = dir.path().join("grey.jpg");
    std::fs::write(
        &grey,
        jpeg(
            &DynamicImage::ImageRgb8(portrait(800, 1000)).grayscale(),
            90,
        ),
    )
    .unwrap();
    let out = sbk()
        .args(["photo", "fix"])
        .arg(&grey)
        .arg(dir.path().join("out.jpg"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr).unwrap().contains("黑白"));
    assert!(!dir.path().join("out.jpg").exists(), "nothing half-written");

    sbk()
        .args(["photo", "check", "--kind", "passport", "x.jpg"])
        .assert()
        .code(2);
}

#[test]
fn id_images_are_checked_as_id_images() {
    let dir = tempfile::TempDir::new().unwrap();
    let front = dir.path().join("front.jpg");
    std::fs::write(
        &front,
        jpeg(&DynamicImage::ImageRgb8(portrait(856, 540)), 90),
    )
    .unwrap();
    sbk()
        .args(["photo", "check", "--kind", "id-front"])
        .arg(&front)
        .assert()
        .success();
    sbk().args(["photo", "check"]).arg(&front).assert().code(1);
}

#[cfg(not(feature = "ocr"))]
#[test]
fn photo_read_says_recognition_is_not_in_this_build() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("front.jpg");
    std::fs::write(
        &file,
        jpeg(&DynamicImage::ImageRgb8(portrait(400, 300)), 90),
    )
    .unwrap();
    let out = photo_read(&file, &["--side", "front"]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("未包含身份证识别"), "{err}");
}

#[cfg(feature = "ocr")]
#[test]
fn photo_read_prints_each_field_with_its_confidence() {
    use common::id_card::{CLEAN, card, font, photo};
    let dir = tempfile::tempdir().unwrap();
    let mut rng = sbk_counter::domain::synthetic::Rng::new(7);
    let c = card(&mut rng);
    let file = dir.path().join("back.png");
    photo(
        &c,
        sbk_counter::idcard::Side::Back,
        CLEAN,
        &font(),
        &mut rng,
    )
    .save(&file)
    .unwrap();
    let out = photo_read(&file, &["--side", "back", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["side"], "back");
    let readings = v["readings"].as_array().unwrap();
    let from = readings
        .iter()
        .find(|r| r["field"] == "valid_from")
        .unwrap();
    assert_eq!(from["value"], c.valid_from.to_string());
    assert!(from["confidence"].as_u64().unwrap() > 50);
    let text = photo_read(&file, &["--side", "back"]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("签发机关") && text.contains("把握"), "{text}");
}

/// Tesseract prints statistics of empty regions to stderr unless told not to; in the
/// wizard stderr is the screen. A photo with no card in it shows it most.
#[cfg(feature = "ocr")]
#[test]
fn photo_read_of_a_photo_without_a_card_is_quiet_and_says_nothing_is_usable() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("portrait.jpg");
    let phone = sbk_counter::photo::synthetic::phone_jpeg(1500, 2000, false);
    std::fs::write(&file, phone).unwrap();
    let out = photo_read(&file, &["--side", "front"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("不可采用"), "{text}");
}
