//! Files at rest: the data directory is the owner's alone, checked at every open.

mod common;
#[cfg(unix)]
#[test]
fn wider_modes_are_tightened_when_the_store_opens() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    drop(common::signin::open_store(&data).unwrap());
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("sbk.sqlite3")), 0o600);
    // Someone copies the folder with a permissive umask, or a backup tool restores it so.
    let set = |p: &std::path::Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
    };
    set(&data, 0o755);
    set(&data.join("sbk.sqlite3"), 0o644);
    std::fs::write(data.join("sbk.log"), "x").unwrap();
    set(&data.join("sbk.log"), 0o666);
    drop(common::signin::open_store(&data).unwrap());
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("sbk.sqlite3")), 0o600);
    assert_eq!(mode(&data.join("sbk.log")), 0o600);
}

#[cfg(unix)]
fn mode(p: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

#[cfg(unix)]
fn set_mode(p: &std::path::Path, m: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

fn sbk(dir: &std::path::Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("sbk").unwrap();
    cmd.env("SBK_DATA_DIR", dir.join("data"))
        .env("SBK_CONFIG", dir.join("config.toml"))
        .env_remove("SBK_CENTRAL_URL")
        .env_remove("SBK_CENTRAL_TOKEN")
        .args(common::signin::CLI_SIGN_IN)
        .write_stdin(format!("{}\n", common::signin::PASSWORD));
    cmd
}

#[cfg(unix)]
#[test]
fn a_config_file_holding_the_token_is_kept_private() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[central]\nurl = \"https://sbk.example.gov.cn\"\ntoken = \"tok-9f8e7d6c5b4a\"\n",
    )
    .unwrap();
    set_mode(&config, 0o644);
    let out = sbk(dir.path()).args(["config", "show"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(mode(&config), 0o600, "tightened at once");
    assert!(err.contains("令牌可能已被他人看到"), "{err}");
    assert!(
        !err.contains("tok-9f8e7d6c5b4a")
            && !String::from_utf8_lossy(&out.stdout).contains("tok-9f8e")
    );
}

#[test]
fn a_broken_config_file_is_reported_without_echoing_its_token() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        "[central]\nurl = \"https://sbk.example.gov.cn\"\ntoken = \"tok-9f8e7d6c5b4a\" oops\n",
    )
    .unwrap();
    let out = sbk(dir.path()).args(["config", "show"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("第 3 行"), "where it is: {err}");
    assert!(!err.contains("tok-9f8e7d6c5b4a"), "{err}");
}

#[cfg(unix)]
#[test]
fn existing_folders_keep_their_modes_and_one_others_can_write_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // A shared folder (as /tmp is): refused as a data directory, its mode untouched.
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    set_mode(&shared, 0o1777);
    let out = sbk(dir.path())
        .args(["--data-dir", shared.to_str().unwrap(), "drafts", "list"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("其他用户可以写入"));
    assert_eq!(mode(&shared), 0o1777);
    // A home folder holding other things: used, not changed.
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    std::fs::write(home.join("letter.txt"), "x").unwrap();
    set_mode(&home, 0o755);
    common::signin::ensure_setup(&home.join("sbk-data"));
    let out = sbk(dir.path())
        .args([
            "--config",
            home.join("sbk.toml").to_str().unwrap(),
            "--data-dir",
            home.join("sbk-data").to_str().unwrap(),
            "drafts",
            "list",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&home), 0o755, "--config does not change its folder");
    assert_eq!(
        mode(&home.join("sbk-data")),
        0o700,
        "what sbk made is private"
    );
}

#[cfg(unix)]
#[test]
fn a_fixed_photo_is_written_private_and_whole() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("phone.jpg");
    std::fs::write(
        &input,
        sbk_counter::photo::synthetic::phone_jpeg(1200, 1600, false),
    )
    .unwrap();
    let output = dir.path().join("card.jpg");
    std::fs::write(&output, "an older, wider file").unwrap();
    set_mode(&output, 0o644);
    let out = sbk(dir.path())
        .args([
            "photo",
            "fix",
            input.to_str().unwrap(),
            output.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&output), 0o600);
    assert!(
        sbk_counter::photo::check(
            &std::fs::read(&output).unwrap(),
            sbk_counter::domain::PhotoSlot::CardPhoto
        )
        .is_ok()
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "no temporary file left");
}

#[cfg(unix)]
#[test]
fn reading_a_photo_is_bounded_whatever_the_path_names() {
    let dir = tempfile::tempdir().unwrap();
    // A device that never ends, and a FIFO nobody writes to.
    let fifo = dir.path().join("fifo.jpg");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for path in ["/dev/zero".into(), fifo.clone(), dir.path().to_owned()] {
        let started = std::time::Instant::now();
        let out = sbk(dir.path())
            .args(["photo", "check", path.to_str().unwrap()])
            .timeout(std::time::Duration::from_secs(20))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{path:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("不是普通文件"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{path:?}"
        );
    }
}

#[test]
fn escape_sequences_in_stored_names_never_reach_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    {
        // As an older build's import could have stored it.
        let mut store = common::signin::open_store(&dir.path().join("data")).unwrap();
        let mut app = sbk_counter::domain::Application::new(chrono::Utc::now());
        app.applicant.name = "王\u{1b}[2J\u{1b}]0;pwned\u{7}秀英\u{202e}".into();
        app.residence.address = "朝阳区\u{1b}[31m建国路88号".into();
        let op = sbk_counter::store::Operator {
            id: "C001".into(),
            name: "李娜".into(),
        };
        store.create(&app, &op).unwrap();
    }
    for args in [
        vec!["drafts", "list"],
        vec!["drafts", "search", "王"],
        vec!["drafts", "show", ""],
    ] {
        let mut args = args;
        let id;
        if args[1] == "show" {
            let out = sbk(dir.path())
                .args(["drafts", "list", "--json"])
                .output()
                .unwrap();
            let list: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
            id = list[0]["id"].as_str().unwrap().to_owned();
            args[2] = &id;
        }
        let out = sbk(dir.path()).args(&args).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{args:?}");
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{202e}'),
            "{args:?}: {text:?}"
        );
        assert!(text.contains("王"), "{text}");
    }
}
