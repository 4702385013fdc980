//! `sbk check …` run as the real binary: exit codes and what it prints.

use assert_cmd::Command;
use chrono::{Datelike, Local};

fn sbk() -> Command {
    Command::cargo_bin("sbk").unwrap()
}

fn stdout(args: &[&str]) -> (i32, String) {
    let out = sbk().args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn a_valid_id_prints_region_birth_date_gender_and_age() {
    let (code, out) = stdout(&["check", "id", "11010519491231002X"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("110105"), "{out}");
    assert!(out.contains("北京市朝阳区"), "{out}");
    assert!(out.contains("1949-12-31"), "{out}");
    assert!(out.contains("女"), "{out}");
    let today = Local::now().date_naive();
    let age = today.year() - 1949 - i32::from((today.month(), today.day()) < (12, 31));
    assert!(out.contains(&format!("{age} 岁")), "{out}");
}

#[test]
fn a_wrong_check_character_exits_1_and_says_so() {
    let (code, out) = stdout(&["check", "id", "110105194912310021"]);
    assert_eq!(code, 1);
    assert!(out.contains("校验码错误"), "{out}");
}

#[test]
fn json_output_is_machine_readable() {
    let (code, out) = stdout(&["check", "id", "11010519491231002x", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["normalised"], "11010519491231002X");
    assert_eq!(v["region"]["name"], "北京市朝阳区");
    assert_eq!(v["gender"], "female");

    let (code, out) = stdout(&["check", "id", "110105491231002", "--json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["problems"][0]["code"], "legacy_15_digit");
}

#[test]
fn mobile_and_postcode_checks() {
    assert_eq!(stdout(&["check", "mobile", "13800138000"]).0, 0);
    let (code, out) = stdout(&["check", "mobile", "12800138000"]);
    assert_eq!(code, 1);
    assert!(out.contains("13–19"), "{out}");
    assert_eq!(stdout(&["check", "postcode", "100020"]).0, 0);
    let (code, out) = stdout(&["check", "postcode", "200000", "--district", "110105"]);
    assert_eq!(code, 0, "a warning, not a failure");
    assert!(out.contains("100000–102999"), "{out}");
    assert_eq!(stdout(&["check", "postcode", "1000"]).0, 1);
}

#[test]
fn bad_usage_exits_2() {
    sbk().args(["check", "passport", "X"]).assert().code(2);
    sbk().args(["check", "id"]).assert().code(2);
}

#[test]
fn help_version_and_completions() {
    sbk().arg("--version").assert().success();
    for args in [
        &["--help"][..],
        &["check", "--help"],
        &["check", "id", "--help"],
    ] {
        sbk().args(args).assert().success();
    }
    let out = sbk().args(["completions", "bash"]).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("sbk"));
}
