//! `sbk operators …` as the real binary: set-up, a supervisor's work on accounts with the
//! passwords on standard input (as a script gives them), and what a clerk may not do.

mod common;

use assert_cmd::Command;

fn sbk(dir: &std::path::Path) -> Command {
    let mut cmd = Command::cargo_bin("sbk").unwrap();
    cmd.env("SBK_DATA_DIR", dir.join("data"))
        .env("SBK_CONFIG", dir.join("config.toml"))
        .env_remove("SBK_OPERATOR_ID");
    cmd
}

fn run(dir: &std::path::Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let out = sbk(dir).args(args).write_stdin(stdin).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn a_store_is_set_up_and_its_operators_managed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (code, out, err) = run(
        d,
        &[
            "--password-stdin",
            "operators",
            "setup",
            "S001",
            "--name",
            "王芳",
        ],
        "supervisor-1\n",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("恢复密钥") && out.contains('-'), "{out}");
    // Set up once only.
    let (code, _, err) = run(
        d,
        &[
            "--password-stdin",
            "operators",
            "setup",
            "S002",
            "--name",
            "李四",
        ],
        "supervisor-2\n",
    );
    assert_eq!(code, 1);
    assert!(err.contains("已经设置过"), "{err}");
    // The supervisor's password, then the new operator's.
    let (code, out, err) = run(
        d,
        &[
            "--operator",
            "S001",
            "--password-stdin",
            "operators",
            "add",
            "C002",
            "--name",
            "张伟",
        ],
        "supervisor-1\nclerk-pass-2\n",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("已添加经办 张伟（C002）"), "{out}");
    let (code, out, _) = run(
        d,
        &[
            "--operator",
            "S001",
            "--password-stdin",
            "operators",
            "list",
        ],
        "supervisor-1\n",
    );
    assert_eq!(code, 0);
    assert!(
        out.contains("C002") && out.contains("经办") && out.contains("在用"),
        "{out}"
    );
    // A clerk signs in, lists drafts, but manages no one and reveals nothing.
    let clerk = ["--operator", "C002", "--password-stdin"];
    let (code, _, err) = run(
        d,
        &[&clerk[..], &["drafts", "list"]].concat(),
        "clerk-pass-2\n",
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(
        d,
        &[&clerk[..], &["drafts", "list", "--reveal"]].concat(),
        "clerk-pass-2\n",
    );
    assert_eq!(code, 1);
    assert!(err.contains("只有负责人"), "{err}");
    let (code, _, err) = run(
        d,
        &[&clerk[..], &["operators", "list"]].concat(),
        "clerk-pass-2\n",
    );
    assert_eq!(code, 1);
    assert!(err.contains("只有负责人"), "{err}");
    // Reset: the clerk must choose a new password before any other command.
    let (code, _, err) = run(
        d,
        &[
            "--operator",
            "S001",
            "--password-stdin",
            "operators",
            "reset",
            "C002",
        ],
        "supervisor-1\ntemporary-3\n",
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(
        d,
        &[&clerk[..], &["drafts", "list"]].concat(),
        "temporary-3\n",
    );
    assert_eq!(code, 1);
    assert!(err.contains("重置"), "{err}");
    let (code, _, err) = run(
        d,
        &[&clerk[..], &["operators", "passwd"]].concat(),
        "temporary-3\nmy-own-secret\n",
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, _) = run(
        d,
        &[&clerk[..], &["drafts", "list"]].concat(),
        "my-own-secret\n",
    );
    assert_eq!(code, 0);
    // Disabled: nothing opens for them.
    let (code, _, err) = run(
        d,
        &[
            "--operator",
            "S001",
            "--password-stdin",
            "operators",
            "disable",
            "C002",
        ],
        "supervisor-1\n",
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(
        d,
        &[&clerk[..], &["drafts", "list"]].concat(),
        "my-own-secret\n",
    );
    assert_eq!(code, 1);
    assert!(err.contains("工号或密码不正确"), "{err}");
}

#[test]
fn cron_delivers_with_the_delivery_key_and_without_one_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    common::signin::ensure_setup(&d.join("data"));
    let sync = |stdin: &str| {
        let out = sbk(d)
            .args(["sync", "--once"])
            .env("SBK_CENTRAL_URL", "http://127.0.0.1:9")
            .env("SBK_CENTRAL_TOKEN", "t")
            .write_stdin(stdin)
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (code, err) = sync("");
    assert_eq!(code, 1);
    assert!(err.contains("sbk operators delivery-key"), "{err}");
    let (code, out, err) = run(
        d,
        &[
            "--operator",
            "C001",
            "--password-stdin",
            "operators",
            "delivery-key",
        ],
        &format!("{}\n", common::signin::PASSWORD),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("delivery.key"), "{out}");
    // Offline (nothing listens on port 9) is not a failure of cron's: exit 0.
    let (code, err) = sync("");
    assert_eq!(code, 0, "{err}");
}
