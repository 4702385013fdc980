//! `sbk demo` in a pseudo-terminal, as a newcomer runs it: a new application for a
//! resident the README names, typed, checked online, submitted, delivered, and seen to
//! reach 已受理. Then it is run a second time.

mod common;
mod pty;

use std::path::Path;
use std::time::Duration;

use pty::{CTRL_Q, ENTER, PAGE_DOWN, SPACE, Session, TAB};

/// The first resident of assets/demo-residents.csv: may apply, by bank mail.
const NAME: &str = "曹丽军";
const ID: &str = "110106193605290067";

fn demo(dir: &Path) -> Session {
    Session::start(
        &["demo"],
        &[
            ("SBK_DATA_DIR", dir.join("data").display().to_string()),
            ("SBK_CONFIG", dir.join("config.toml").display().to_string()),
            ("SBK_PREVIEW", "halfblocks".into()),
            // Everything logged, to show that nothing personal is.
            ("SBK_LOG", "trace".into()),
        ],
        30,
        100,
    )
}

#[test]
fn the_demo_takes_a_new_application_from_typing_to_accepted() {
    let dir = tempfile::TempDir::new().unwrap();
    let mut s = demo(dir.path());
    s.wait_for_up_to("演示模式", Duration::from_secs(60));
    s.wait_for("工作台");
    // Applications in every state are there.
    for state in ["草稿", "待提交", "已提交", "已受理", "已寄出", "已退回"] {
        s.wait_for(state);
    }
    s.wait_for("● 在线");

    s.send("n");
    s.wait_for("免责声明");
    s.keys(&[SPACE, PAGE_DOWN]);
    s.wait_for("申领方式与代办人");
    s.send(PAGE_DOWN);
    s.wait_for("申领人与资格校验");
    s.send(NAME);
    s.keys(&[TAB, TAB]);
    s.send(ID);
    s.keys(&[TAB, SPACE, TAB, SPACE, TAB, ENTER]);
    s.wait_for("资格校验通过");

    // ID card photos from the demo's photo folder.
    s.keys(&[PAGE_DOWN, ENTER]);
    s.wait_for("id-card-front.jpg");
    s.send("front");
    s.send(ENTER);
    s.wait_for("已导入身份证正面照片");
    s.keys(&[TAB, ENTER]);
    s.wait_for("导入身份证背面照片");
    s.send("back");
    s.send(ENTER);
    s.wait_for("已导入身份证背面照片");

    // Basic information: the registry filled what it knows.
    s.send(PAGE_DOWN);
    s.wait_for("第 5 步");
    s.wait_for("1936-05-29");
    s.send(TAB);
    s.send("长期");
    s.keys(&[TAB, TAB, TAB, TAB, ENTER]);
    s.wait_for("选择民族");
    s.send("汉");
    s.wait_for("汉族");
    s.keys(&[ENTER, TAB, ENTER]);
    s.wait_for("选择常住地所在区");
    s.send("丰台");
    s.keys(&[ENTER, TAB]);
    s.wait_for("本步已填完整");

    // The card photo: a phone portrait, fixed to the spec in the crop editor. The phone
    // named it by the resident's ID number and name, and a broken copy is beside it.
    let photos = dir.path().join("data/demo/photos");
    std::fs::copy(
        photos.join("phone-portrait.jpg"),
        photos.join(format!("{ID}-{NAME}.jpg")),
    )
    .unwrap();
    std::fs::write(photos.join(format!("{ID}-{NAME}-2.jpg")), b"\xff\xd8broken").unwrap();
    s.keys(&[PAGE_DOWN, ENTER]);
    s.wait_for("导入制卡照片");
    s.send(&format!("{ID}-{NAME}-2"));
    s.send(ENTER);
    // The error names the file on screen (the clerk needs to know which); not in the log.
    s.wait_for("-2.jpg");
    s.send(ENTER);
    s.wait_for("导入制卡照片");
    s.send(&format!("{ID}-{NAME}.jpg"));
    s.send(ENTER);
    s.wait_for("调整制卡照片");
    s.send(ENTER);
    s.wait_for("已生成合格的制卡照片");
    s.wait_for("中国农业银行");

    s.keys(&[PAGE_DOWN, TAB, ENTER]);
    s.wait_for("请向申领人问清邮政编码");
    // The cursor is on the postcode, which the shortcut never guesses.
    s.send("100020");
    s.send(PAGE_DOWN);
    s.wait_for("确认提交");
    s.keys(&[SPACE, TAB, ENTER]);
    s.wait_for("是否确认提交个人申领");
    s.send(ENTER);
    s.wait_for("您已完成个人申领业务办理");
    // Delivered: the number arrives; then the reference server accepts it.
    s.wait_for_up_to("申领编号：SQ", Duration::from_secs(30));
    s.wait_for_up_to("已受理", Duration::from_secs(60));
    s.send(CTRL_Q);
    assert!(s.child.wait().unwrap().success());

    // The log, at trace level, of a whole application and its delivery: no personal data.
    let log = std::fs::read_to_string(dir.path().join("data/demo/data/sbk.log")).unwrap();
    assert!(
        log.contains("wizard starting") && log.lines().count() > 5,
        "{log}"
    );
    let registered_mobile = "13852218802";
    for personal in [
        NAME,
        ID,
        &ID[ID.len() - 6..],
        registered_mobile,
        "广安门内大街194号院",
        "1936-05-29",
    ] {
        assert!(!log.contains(personal), "the log holds {personal}:\n{log}");
    }

    // A second run starts afresh and works.
    let s = demo(dir.path());
    s.wait_for_up_to("演示模式", Duration::from_secs(60));
    s.wait_for("共 7 件");
}
