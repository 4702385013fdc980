//! `sbk drafts …` run as the real binary on a real data directory.

use assert_cmd::Command;
use tempfile::TempDir;

const EXAMPLE: &str = include_str!("../docs/application-example.json");

struct Env {
    dir: TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: TempDir::new().unwrap(),
        }
    }
    fn sbk(&self) -> Command {
        let mut cmd = Command::cargo_bin("sbk").unwrap();
        cmd.env("SBK_DATA_DIR", self.dir.path().join("data"))
            .env("SBK_CONFIG", self.dir.path().join("config.toml"))
            .env("SBK_OPERATOR_ID", "C001")
            .env("SBK_OPERATOR_NAME", "李娜");
        cmd
    }
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.sbk().args(args).output().unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }
    /// Import the documented example twice over (two people) plus a bad line and a duplicate.
    fn import_sample(&self) -> (i32, String, String) {
        let mut example: serde_json::Value = serde_json::from_str(EXAMPLE).unwrap();
        let first = example.to_string();
        example["id"] = "7f1c9a52-3e0b-4d4e-9f57-2b8c0d7e1a45".into();
        example["applicant"]["name"] = "张三".into();
        example["applicant"]["mobile"] = "13911112222".into();
        let lines = [
            first.clone(),
            "{not json".into(),
            first,
            example.to_string(),
        ];
        let path = self.dir.path().join("in.jsonl");
        std::fs::write(&path, lines.join("\n")).unwrap();
        self.run(&["drafts", "import", path.to_str().unwrap()])
    }
}

#[test]
fn import_keeps_good_lines_and_reports_bad_ones_by_number() {
    let env = Env::new();
    let (code, out, err) = env.import_sample();
    assert_eq!(code, 1, "something was skipped");
    assert!(out.contains("导入 2 条，跳过 2 条"), "{out}");
    assert!(
        err.contains("第 2 行") && err.contains("不是有效的申请 JSON"),
        "{err}"
    );
    assert!(err.contains("第 3 行") && err.contains("已在本机"), "{err}");
    let (_, out, _) = env.run(&["drafts", "list", "--json"]);
    let list: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|a| a["status"] == "draft"));
}

#[test]
fn lists_and_exports_are_masked_unless_revealed_and_reveals_are_audited() {
    let env = Env::new();
    env.import_sample();
    let (code, out, _) = env.run(&["drafts", "list"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("110105********002X") && !out.contains("11010519491231002X"),
        "{out}"
    );
    let (_, out, _) = env.run(&["drafts", "export", "--format", "csv"]);
    assert!(out.starts_with("id,status,name"), "{out}");
    assert!(
        out.contains("139****2222") && !out.contains("13911112222"),
        "{out}"
    );
    let (_, out, _) = env.run(&["drafts", "export"]);
    assert_eq!(out.lines().count(), 2);
    assert!(!out.contains("11010519491231002X"));

    let (_, out, _) = env.run(&["drafts", "list", "--reveal"]);
    assert!(out.contains("11010519491231002X"));
    let path = env.dir.path().join("out.csv");
    let (code, _, _) = env.run(&[
        "drafts",
        "export",
        "--reveal",
        "--format",
        "csv",
        "-o",
        path.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("13911112222")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    let store = sbk_counter::store::Store::open_dir(&env.dir.path().join("data")).unwrap();
    let actions: Vec<String> = store
        .audit_entries(None)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions.iter().filter(|a| *a == "reveal").count(), 1);
    assert_eq!(actions.iter().filter(|a| *a == "export").count(), 3);
}

#[test]
fn search_show_and_delete() {
    let env = Env::new();
    env.import_sample();
    let (code, out, _) = env.run(&["drafts", "search", "zs"]);
    assert_eq!(code, 0);
    assert!(out.contains("张三") && !out.contains("王秀英"), "{out}");
    let (_, out, _) = env.run(&["drafts", "search", "2222"]);
    assert!(out.contains("张三"), "mobile suffix: {out}");
    let (_, out, _) = env.run(&["drafts", "show", "6f1c"]);
    assert!(
        out.contains("王秀英") && out.contains("4. 基本信息") && out.contains("138****8000"),
        "{out}"
    );
    let (_, out, _) = env.run(&["drafts", "show", "6f1c", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["applicant"]["id_number"], "110105********002X");

    let (code, out, _) = env.run(&["drafts", "delete", "6f1c", "--yes"]);
    assert_eq!(code, 0, "{out}");
    let (code, _, err) = env.run(&["drafts", "show", "6f1c"]);
    assert_eq!(code, 1);
    assert!(err.contains("找不到编号以“6f1c”开头的申请"), "{err}");
}

#[test]
fn without_an_operator_audited_commands_say_how_to_set_one() {
    let env = Env::new();
    let out = env
        .sbk()
        .env_remove("SBK_OPERATOR_ID")
        .env_remove("SBK_OPERATOR_NAME")
        .args(["drafts", "list", "--reveal"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("尚未设置操作员") && err.contains("SBK_OPERATOR_ID"),
        "{err}"
    );
}

#[test]
fn a_bad_status_is_a_usage_error() {
    let env = Env::new();
    let (code, _, err) = env.run(&["drafts", "list", "--status", "bogus"]);
    assert_eq!(code, 2);
    assert!(err.contains("没有“bogus”这个状态"), "{err}");
}

#[test]
fn the_first_run_writes_a_commented_config_and_config_show_masks_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("cfg").join("config.toml");
    let out = assert_cmd::Command::cargo_bin("sbk")
        .unwrap()
        .args(["config", "show"])
        .env("SBK_CONFIG", &config)
        .env("SBK_DATA_DIR", dir.path().join("data"))
        .env("SBK_CENTRAL_URL", "https://sbk.example.gov.cn")
        .env("SBK_CENTRAL_TOKEN", "a-very-secret-token")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("https://sbk.example.gov.cn"), "{text}");
    assert!(text.contains("已设置（不显示）"), "{text}");
    assert!(!text.contains("a-very-secret-token"), "{text}");
    // The file was created, commented, private, and reads back as empty settings.
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(
        written.lines().all(|l| l.is_empty() || l.starts_with('#')),
        "{written}"
    );
    assert!(written.contains("[central]"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&config).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
