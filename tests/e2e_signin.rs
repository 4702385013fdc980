//! Signing in, end to end: the real binary in a pseudo-terminal. First run sets up the
//! first supervisor and shows the recovery key; five wrong passwords lock the 工号; the
//! screen locks itself after a short configured idle time with nothing personal on it,
//! unlocks with the same password, and another operator can sign in there instead.

mod common;
mod pty;

use std::time::Duration;

use pty::{CTRL_Q, ENTER, SPACE, TAB};
use sbk_counter::access::NewOperator;
use sbk_counter::keys::Password;
use sbk_counter::store::Role;

const CTRL_L: &str = "\x0c";
const CTRL_U: &str = "\x15";
const SHIFT_TAB: &str = "\x1b[Z";

#[test]
fn first_run_sets_up_the_supervisor_and_the_recovery_key_opens_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = pty::wizard_signed_out(dir.path(), 24, 80, &[]);
    s.wait_for("首次使用：设置负责人");
    for field in ["S001", "王芳", "password-1", "password-1"] {
        s.send(field);
        s.send(ENTER);
    }
    s.wait_for_up_to("恢复密钥（只显示这一次）", Duration::from_secs(30));
    let screen = s.contents();
    let key = screen
        .split_whitespace()
        .find(|w| w.len() == 69 && w.matches('-').count() == 13)
        .unwrap_or_else(|| panic!("no recovery key on screen:\n{screen}"))
        .to_owned();
    s.send(key.rsplit('-').next().unwrap());
    s.send(ENTER);
    s.wait_for("工作台");
    assert!(s.contents().contains("操作员 王芳（S001）"));
    s.send(CTRL_Q);
    assert!(s.child.wait().unwrap().success());
    // The key on paper opens the store when the passwords are gone.
    let data = dir.path().join("data");
    std::fs::remove_file(data.join("keys.json")).unwrap();
    let session = sbk_counter::access::recover(
        &data,
        &key,
        "S001",
        &Password::new("password-2"),
        sbk_counter::keys::Kdf::FOR_TESTS,
        8,
    )
    .unwrap();
    assert_eq!(session.account.name, "王芳");
}

#[test]
fn five_wrong_passwords_lock_the_id_and_the_screen_says_so() {
    let dir = tempfile::tempdir().unwrap();
    common::signin::ensure_setup(&dir.path().join("data"));
    let mut s = pty::wizard_signed_out(dir.path(), 24, 80, &[("SBK_OPERATOR_ID", "C001".into())]);
    s.wait_for("操作员登录");
    for i in 1..=5 {
        s.send("not-the-password");
        s.send(ENTER);
        if i < 5 {
            s.wait_for(&format!("再错 {} 次", 5 - i));
        }
    }
    s.wait_for("该工号已锁定");
    s.send(common::signin::PASSWORD);
    s.send(ENTER);
    s.wait_for("该工号已锁定");
    assert!(!s.contents().contains("工作台"));
    s.send(CTRL_Q);
    assert!(s.child.wait().unwrap().success());
    // C001 is locked for 15 minutes. Signing in after that puts the attempts, which
    // waited in keys.json while the store could not be read, into the audit log.
    let data = dir.path().join("data");
    let later = chrono::Utc::now() + chrono::Duration::minutes(16);
    let session = sbk_counter::access::sign_in(
        &data,
        common::signin::OPERATOR,
        &Password::new(common::signin::PASSWORD),
        Default::default(),
        later,
        "test",
    )
    .unwrap();
    let entries = session.store.audit_entries(None).unwrap();
    let count = |a: &str| entries.iter().filter(|e| e.action == a).count();
    // Five wrong, and the right one tried while locked.
    assert_eq!(count("sign_in_failed"), 6);
    assert_eq!(count("locked_out"), 1);
}

#[test]
fn the_screen_locks_when_idle_hides_everything_and_unlocks_or_changes_hands() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut boss = common::signin::session(&data);
    boss.add_operator(
        &NewOperator {
            id: "C002".into(),
            name: "张伟".into(),
            role: Role::Clerk,
            password: Password::new("clerk-pass-2"),
        },
        8,
    )
    .unwrap();
    drop(boss);
    let mut s = pty::wizard_signed_out(
        dir.path(),
        24,
        80,
        &[
            ("SBK_OPERATOR_ID", "C001".into()),
            // Three seconds without a key.
            ("SBK_IDLE_LOCK_MINUTES", "0.05".into()),
        ],
    );
    s.wait_for("操作员登录");
    s.send(common::signin::PASSWORD);
    s.send(ENTER);
    s.wait_for("工作台");
    s.send("n");
    s.wait_for("免责声明");
    s.keys(&[SPACE, "\x1b[6~"]);
    s.wait_for("申领方式与代办人");
    s.send("\x1b[6~");
    s.wait_for("申领人与资格校验");
    s.send("赵淑珍");
    s.keys(&[TAB, TAB]);
    s.send("110105195203140049");
    s.wait_for("110105195203140049");
    // Idle: locked, with nothing of the resident's on screen.
    s.wait_for_up_to("长时间无操作，已自动锁屏", Duration::from_secs(10));
    let screen = s.contents();
    for personal in ["赵淑珍", "110105195203140049", "0049", "申领人"] {
        assert!(
            !screen.contains(personal),
            "{personal} on the lock screen:\n{screen}"
        );
    }
    // A wrong password, then the right one: back on the field, everything there.
    s.send("wrong-password");
    s.send(ENTER);
    s.wait_for("工号或密码不正确");
    s.send(common::signin::PASSWORD);
    s.send(ENTER);
    s.wait_for("已解锁");
    s.wait_for("110105195203140049");
    assert!(s.contents().contains("赵淑珍"));
    // Locked at once with Ctrl-L; another operator signs in there.
    s.send(CTRL_L);
    s.wait_for("已锁屏");
    s.keys(&[SHIFT_TAB, CTRL_U]);
    s.send("C002");
    s.send(TAB);
    s.send("clerk-pass-2");
    s.send(ENTER);
    s.wait_for("已换为 张伟（C002）登录");
    assert!(s.contents().contains("工作台"));
    s.send(CTRL_Q);
    assert!(s.child.wait().unwrap().success());
    let entries = common::signin::open_store(&data)
        .unwrap()
        .audit_entries(None)
        .unwrap();
    let by = |op: &str, action: &str| {
        entries
            .iter()
            .filter(|e| e.operator_id == op && e.action == action)
            .count()
    };
    assert_eq!(by("C001", "lock"), 2);
    assert_eq!(by("C001", "unlock"), 1);
    assert!(by("C001", "sign_out") >= 1);
    assert_eq!(by("C002", "sign_in"), 1);
    assert_eq!(by("C002", "sign_out"), 1, "quitting signs C002 out");
}

#[test]
fn two_windows_on_one_draft_the_second_reads_it_until_it_takes_it_over() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut store = common::signin::open_store(&data).unwrap();
    let mut app = sbk_counter::domain::Application::new(chrono::Utc::now());
    app.applicant.name = "欧阳秀英".into();
    store.create(&app, &common::signin::operator()).unwrap();
    drop(store);
    let mut first = pty::wizard(dir.path(), 24, 80);
    first.wait_for("欧阳秀英");
    first.send(ENTER);
    first.wait_for("第 1 步");
    let mut second = pty::wizard(dir.path(), 24, 80);
    if second.contents().contains("工作台") {
        second.send(ENTER);
    }
    second.wait_for("此处只读");
    assert!(second.contents().contains("正在由 李娜（本机另一个窗口"));
    second.send("x");
    second.wait_for("按 Ctrl-T 接手");
    second.send("\x14");
    second.wait_for("已接手这份草稿");
    let entries = common::signin::open_store(&data)
        .unwrap()
        .audit_entries(Some(app.id))
        .unwrap();
    assert_eq!(
        entries.iter().filter(|e| e.action == "take_over").count(),
        1
    );
    for s in [&mut first, &mut second] {
        s.send(CTRL_Q);
        assert!(s.child.wait().unwrap().success());
    }
}

#[test]
fn on_a_slow_centre_server_the_sign_in_is_up_at_once_and_takes_the_password_meanwhile() {
    // A "server" that accepts the connection and never answers: the wizard must still
    // draw its sign-in at once, take the password, and say what it is waiting for; when
    // the server goes away it says it cannot open the store, and leaves cleanly.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = std::thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        std::thread::sleep(Duration::from_secs(4));
        drop(conn);
    });
    let dir = tempfile::tempdir().unwrap();
    let url = format!("postgresql://sbk@127.0.0.1:{port}/sbk");
    let mut s = pty::wizard_signed_out(
        dir.path(),
        24,
        80,
        &[("SBK_STORE_URL", url), ("SBK_OPERATOR_ID", "C001".into())],
    );
    s.wait_for("操作员登录");
    s.wait_for("正在连接中心服务器");
    s.send("password-1");
    s.send(ENTER);
    s.wait_for("连上后即登录");
    held.join().unwrap();
    s.wait_for_up_to("无法打开", Duration::from_secs(20));
    assert!(!s.contents().contains("password-1"));
    s.send(ENTER);
    assert!(s.child.wait().unwrap().success());
}
