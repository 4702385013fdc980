//! A first day at the counter, in a pseudo-terminal: the returned application of the demo
//! opened and corrected, the photo folder at first run, the help's footer, and the photos
//! previewed on the review page.

mod common;
mod pty;

use std::path::Path;
use std::time::Duration;

use pty::{ENTER, ESC, F1, PAGE_DOWN, SPACE, Session, TAB};

fn demo(dir: &Path) -> Session {
    Session::start(
        &["demo"],
        &[
            ("SBK_DATA_DIR", dir.join("data").display().to_string()),
            ("SBK_CONFIG", dir.join("config.toml").display().to_string()),
            ("SBK_PREVIEW", "halfblocks".into()),
        ],
        30,
        100,
    )
}

#[test]
fn a_returned_application_shows_why_on_every_step_until_it_is_corrected_and_resubmitted() {
    let dir = tempfile::TempDir::new().unwrap();
    let mut s = demo(dir.path());
    s.wait_for_up_to("演示模式", Duration::from_secs(60));
    // The home list says why beside 已退回.
    s.wait_for("已退回");
    s.wait_for("制卡照片审核未通过");
    s.send("/");
    s.send("黄凤");
    s.send(ENTER);
    s.send(ENTER);
    // Opened on the field the reason names, the reason above it, the step marked.
    s.wait_for("已退回：");
    s.wait_for("第 6 步  制卡信息");
    s.wait_for("▶ 制卡照片");
    s.wait_for("6制卡信息✗");
    s.wait_for("请修改：制卡照片");
    // Every other step says it too.
    s.send("\x1b[5~");
    s.wait_for("第 5 步  基本信息");
    assert!(s.contents().contains("已退回："), "{}", s.contents());
    s.send(PAGE_DOWN);
    s.wait_for("第 6 步");
    // A new photo: the mark goes, the reason stays until it is submitted again.
    s.send(ENTER);
    s.wait_for("导入制卡照片");
    s.send("portrait");
    s.send(ENTER);
    s.wait_for("调整制卡照片");
    s.send(ENTER);
    s.wait_for("已生成合格的制卡照片");
    s.wait_for("退回所指的项目已修改");
    s.wait_for("6制卡信息✓");
    // The review page shows the photos as they will go, then it is submitted again.
    s.keys(&[PAGE_DOWN, PAGE_DOWN]);
    s.wait_for("确认提交");
    s.wait_for("身份证正面");
    s.wait_for("全部信息已填写完整");
    s.keys(&[TAB, ENTER]);
    s.wait_for("是否确认提交个人申领");
    s.send(ENTER);
    s.wait_for("您已完成个人申领业务办理");
    assert!(!s.contents().contains("已退回："), "{}", s.contents());
}

#[test]
fn at_first_run_the_photo_folder_exists_and_the_help_footer_says_what_closes_it() {
    let dir = tempfile::TempDir::new().unwrap();
    let photos = dir.path().join("photos");
    assert!(!photos.exists());
    let mut s = pty::wizard(dir.path(), 24, 80);
    s.wait_for("工作台");
    assert!(photos.is_dir(), "made at first run");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&photos).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "ID images and face photos go there");
    }
    // The help: the footer says what the popup does with keys.
    s.send(F1);
    s.wait_for("按任意键关闭帮助");
    s.send("x");
    s.wait_for("n 新建");
    // A new application, step 4: the import popup says where photos go, in Chinese,
    // wrapped inside its box.
    s.send("n");
    s.wait_for("免责声明");
    s.keys(&[SPACE, PAGE_DOWN, PAGE_DOWN, PAGE_DOWN]);
    s.wait_for("第 4 步");
    s.send(ENTER);
    s.wait_for("中还没有照片");
    s.wait_for("Tab 补全");
    let screen = s.contents();
    assert!(!screen.contains("No such file"), "{screen}");
    // A typed path that does not exist is said to be missing.
    s.send("/nowhere/photo.jpg");
    s.send(ENTER);
    s.wait_for("找不到这张照片");
    s.send(ESC);
}
