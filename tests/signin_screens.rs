//! The sign-in screens in their states, as snapshots: first-run set-up, the recovery key,
//! sign-in with a wrong password and a locked 工号, a new password after a reset; the
//! lock screen (nothing personal on it), unlocking and switching operator.

mod common;

use crossterm::event::KeyCode;
use sbk_counter::access::{self, NewOperator};
use sbk_counter::keys::Password;
use sbk_counter::store::Role;

use common::gate::GateUi;
use common::signin::{OPERATOR, PASSWORD};
use common::ui::Ui;

/// Screens with the random recovery key and lock times made stable.
fn snapshot(name: &str, screen: String) {
    insta::with_settings!({
        filters => vec![
            (r"[0-9A-Z]{4}(-[0-9A-Z]{4}){13}", "[recovery key]"),
            (r"请于 \d{2}:\d{2} 后再试", "请于 [HH:MM] 后再试"),
            (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "[time]"),
            (r"\d{2}-\d{2} \d{2}:\d{2}", "[mm-dd hh:mm]"),
            (r"● (在线|连接中断|连接中|离线模式)", "● [sync]"),
        ],
        prepend_module_to_snapshot => false,
        snapshot_path => "snapshots",
    }, {
        insta::assert_snapshot!(name, screen);
    });
}

#[test]
fn first_run_sets_up_a_supervisor_and_shows_the_recovery_key_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut ui = GateUi::new(&data, None);
    assert!(ui.gate.is_setup());
    snapshot("gate_setup_empty", ui.screen());
    ui.enter("S001");
    ui.enter("王芳");
    ui.enter("password-1");
    ui.enter("password-2");
    let screen = ui.screen();
    assert!(screen.contains("两次输入的密码不一致"), "{screen}");
    snapshot("gate_setup_mismatch", screen);
    // Only the passwords were cleared; the focus is on the first of them.
    ui.enter("short");
    ui.enter("short");
    assert!(ui.screen().contains("密码太短"));
    ui.enter("password-1");
    ui.enter("password-1");
    assert!(
        ui.screen().contains("正在设置"),
        "the screen says it is working"
    );
    ui.settle();
    let screen = ui.screen();
    assert!(screen.contains("恢复密钥（只显示这一次）"), "{screen}");
    snapshot("gate_recovery_key", screen.clone());
    let key = screen
        .split_whitespace()
        .find(|w| w.len() == 69 && w.matches('-').count() == 13)
        .unwrap()
        .to_owned();
    // The wrong last group is refused; the right one goes on.
    ui.enter("ZZZZ");
    assert!(ui.screen().contains("与恢复密钥的最后一组不符"));
    assert!(ui.done().is_none());
    ui.enter(key.rsplit('-').next().unwrap());
    let session = ui.done().expect("signed in after confirming");
    assert_eq!(session.account.id, "S001");
    assert!(session.account.is_supervisor());
    drop(session);
    // The key written down opens the store.
    assert!(
        access::recover(
            &data,
            &key,
            "S001",
            &Password::new("password-9"),
            sbk_counter::keys::Kdf::FOR_TESTS,
            8
        )
        .is_ok()
    );
}

#[test]
fn sign_in_says_the_same_for_a_wrong_password_and_an_unknown_id_and_locks_after_five() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    common::signin::ensure_setup(&data);
    let mut ui = GateUi::new(&data, Some(OPERATOR));
    snapshot("gate_sign_in", ui.screen());
    ui.enter("wrong-password");
    ui.settle();
    let known = ui.screen();
    assert!(known.contains("工号或密码不正确"), "{known}");
    snapshot("gate_sign_in_wrong", known.clone());
    let mut other = GateUi::new(&data, Some("X404"));
    other.enter("wrong-password");
    other.settle();
    assert_eq!(
        known.lines().find(|l| l.contains("不正确")),
        other.screen().lines().find(|l| l.contains("不正确"))
    );
    for _ in 0..4 {
        ui.enter("wrong-password");
        ui.settle();
    }
    let locked = ui.screen();
    assert!(locked.contains("该工号已锁定"), "{locked}");
    snapshot("gate_sign_in_locked", locked);
    ui.enter(PASSWORD);
    ui.settle();
    assert!(ui.done().is_none(), "locked even for the right password");
}

#[test]
fn a_reset_password_is_replaced_before_the_wizard_opens() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut boss = common::signin::session(&data);
    boss.add_operator(
        &NewOperator {
            id: "C002".into(),
            name: "张伟".into(),
            role: Role::Clerk,
            password: Password::new("clerk-pass-1"),
        },
        8,
    )
    .unwrap();
    boss.reset_password("C002", &Password::new("temporary-1"), 8)
        .unwrap();
    drop(boss);
    let mut ui = GateUi::new(&data, Some("C002"));
    ui.enter("temporary-1");
    ui.settle();
    let screen = ui.screen();
    assert!(screen.contains("设置新密码"), "{screen}");
    snapshot("gate_new_password", screen);
    ui.enter("my-own-pass");
    ui.enter("my-own-pass");
    ui.settle();
    let session = ui.done().unwrap();
    assert!(!session.account.must_change);
    drop(session);
    assert!(
        common::gate::GateUi::new(&data, Some("C002"))
            .gate
            .done
            .is_none()
    );
    assert!(
        access::sign_in(
            &data,
            "C002",
            &Password::new("my-own-pass"),
            Default::default(),
            chrono::Utc::now(),
            "test"
        )
        .is_ok()
    );
}

#[test]
fn the_lock_screen_shows_nothing_personal_and_the_same_password_unlocks_it() {
    let mut ui = Ui::new();
    let mut app = sbk_counter::domain::synthetic::application(
        &mut sbk_counter::domain::synthetic::Rng::new(5),
        chrono::Utc::now(),
        0,
    );
    app.status = sbk_counter::domain::Status::Draft;
    ui.open_on(&app, sbk_counter::domain::Step::Applicant);
    assert!(ui.screen().contains(&app.applicant.id_number));
    // Idle past the limit: locked.
    ui.idle_lock_after(std::time::Duration::ZERO);
    assert!(ui.is_locked());
    let screen = ui.screen();
    for personal in [
        app.applicant.name.as_str(),
        app.applicant.id_number.as_str(),
        &app.applicant.id_number[14..],
        app.applicant.mobile.as_str(),
    ] {
        assert!(
            !screen.contains(personal),
            "{personal} on the lock screen:\n{screen}"
        );
    }
    snapshot("lock_idle", screen);
    ui.type_text("wrong-password");
    ui.key(KeyCode::Enter);
    ui.wait_for("工号或密码不正确");
    snapshot("lock_wrong_password", ui.screen());
    ui.type_text(PASSWORD);
    ui.key(KeyCode::Enter);
    ui.wait_for("已解锁");
    assert!(!ui.is_locked());
    // Back where the clerk was.
    assert!(ui.screen().contains(&app.applicant.id_number));
    let actions: Vec<String> = ui
        .store()
        .audit_entries(None)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.ends_with(&["lock".into(), "sign_in_failed".into(), "unlock".into()]),
        "{actions:?}"
    );
}

#[test]
fn another_operator_signs_in_on_the_lock_screen_and_the_one_before_is_signed_out() {
    let mut ui = Ui::new();
    let mut boss = common::signin::session(&ui.data_dir());
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
    ui.lock();
    // Change the 工号 (Tab back to it, clear it) and give the other password.
    ui.key(KeyCode::BackTab);
    ui.ctrl('u');
    ui.type_text("C002");
    ui.key(KeyCode::Tab);
    ui.type_text("clerk-pass-2");
    snapshot("lock_switching", ui.screen());
    ui.key(KeyCode::Enter);
    ui.wait_for("已换为 张伟（C002）登录");
    let screen = ui.screen();
    assert!(screen.contains("操作员 张伟（C002）"), "{screen}");
    let entries = ui.store().audit_entries(None).unwrap();
    let tail: Vec<(String, String)> = entries
        .iter()
        .rev()
        .take(2)
        .rev()
        .map(|e| (e.operator_id.clone(), e.action.clone()))
        .collect();
    assert_eq!(
        tail,
        [
            ("C001".to_owned(), "sign_out".to_owned()),
            ("C002".to_owned(), "sign_in".to_owned())
        ]
    );
}

#[test]
fn a_supervisor_adds_resets_and_disables_operators_on_a_screen_and_a_clerk_cannot() {
    let mut ui = Ui::new();
    ui.key(KeyCode::Char('o'));
    let screen = ui.screen();
    assert!(screen.contains("操作员管理"), "{screen}");
    snapshot("operators_list", screen);
    ui.key(KeyCode::Char('a'));
    ui.type_text("C002");
    ui.key(KeyCode::Tab);
    ui.type_text("张伟");
    ui.key(KeyCode::Tab);
    ui.key(KeyCode::Right);
    ui.key(KeyCode::Left);
    ui.key(KeyCode::Tab);
    ui.type_text("clerk-pass-2");
    ui.key(KeyCode::Tab);
    ui.type_text("clerk-pass-2");
    snapshot("popup_add_operator", ui.screen());
    ui.key(KeyCode::Enter);
    let screen = ui.screen();
    assert!(screen.contains("已添加经办 张伟（C002）"), "{screen}");
    snapshot("operators_added", screen);
    // Reset C002 (the second row), then disable them.
    ui.key(KeyCode::Down);
    ui.key(KeyCode::Char('r'));
    ui.type_text("temporary-9");
    ui.key(KeyCode::Tab);
    ui.type_text("temporary-9");
    snapshot("popup_reset_password", ui.screen());
    ui.key(KeyCode::Enter);
    assert!(ui.screen().contains("已重置 C002 的密码"));
    ui.key(KeyCode::Char('d'));
    snapshot("popup_disable_operator", ui.screen());
    ui.key(KeyCode::Left);
    ui.key(KeyCode::Enter);
    let screen = ui.screen();
    assert!(screen.contains("已停用 C002"), "{screen}");
    assert!(!ui.store().operator_account("C002").unwrap().unwrap().active);
    assert!(
        access::sign_in(
            &ui.data_dir(),
            "C002",
            &Password::new("temporary-9"),
            Default::default(),
            chrono::Utc::now(),
            "test"
        )
        .is_err()
    );
    // A clerk has no such screen.
    ui.store_session_add_clerk("C003", "clerk-pass-3");
    ui.lock();
    ui.key(KeyCode::BackTab);
    ui.ctrl('u');
    ui.type_text("C003");
    ui.key(KeyCode::Tab);
    ui.type_text("clerk-pass-3");
    ui.key(KeyCode::Enter);
    ui.wait_for("已换为");
    ui.key(KeyCode::Char('o'));
    assert!(!ui.screen().contains("操作员管理"));
    assert!(!ui.screen().contains("o 操作员"));
}
