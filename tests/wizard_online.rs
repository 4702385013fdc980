//! The wizard online, against the reference central API over loopback: 开始资格校验 runs
//! on a thread, the registry's data fill what is empty and are shown beside what differs,
//! the issuing bank fills the locked field, and the header says it is online.

mod common;

use std::time::Duration;

use common::ui::{Ui, now};
use crossterm::event::KeyCode;
use sbk_counter::central::{Config, Faults, Running};
use sbk_counter::config::{CentralSettings, Secret};
use sbk_counter::domain::{Application, Eligibility, Step};

#[test]
fn an_online_eligibility_check_fills_the_form_and_shows_differences() {
    let dir = tempfile::tempdir().unwrap();
    let central_db = dir.path().join("central.sqlite3");
    let seeded = sbk_counter::central::seed(&central_db, 30, 3).unwrap();
    let resident = &seeded[0]; // the first of a seed may apply, by bank mail
    let server = Running::start(Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        db: central_db.clone(),
        tokens: vec![("wizard-online-token".into(), "c-w".into())],
        pace: Duration::from_secs(3600),
        faults: Faults::default(),
        seed: 1,
        limits: Default::default(),
    })
    .unwrap();
    let mut ui = Ui::new();
    let mut draft = Application::new(now());
    draft.applicant.name = resident.name.clone();
    draft.applicant.id_number = resident.id_number.clone();
    draft.residence.address = "手写的旧地址 1 号".into();
    draft.applicant.mobile = "13900000000".into();
    let t = Some(chrono::Utc::now());
    draft.consents.disclaimer_agreed_at = t;
    draft.consents.access_authorised_at = t;
    draft.consents.identity_verified_in_person_at = t;
    ui.open_on(&draft, Step::Applicant);
    ui.connect(&CentralSettings {
        url: server.base_url(),
        token: Secret::new("wizard-online-token"),
        ca_file: None,
    });
    // Tab to the button, as a clerk does, and press it.
    for _ in 0..5 {
        ui.key(KeyCode::Tab);
    }
    assert!(
        ui.screen().contains("▶ 〔 开始资格校验 〕"),
        "{}",
        ui.screen()
    );
    ui.key(KeyCode::Enter);
    assert!(ui.screen().contains("正在进行资格校验"), "{}", ui.screen());

    // The registry differs in the address and the mobile: both shown side by side.
    ui.wait_for("登记信息与所填不一致");
    let shown = ui.screen();
    assert!(
        shown.contains("常住所在地地址") && shown.contains("卡预留手机号"),
        "{shown}"
    );
    assert!(
        shown.contains("手写的旧地址 1 号") && shown.contains("13900000000"),
        "{shown}"
    );
    assert!(
        !shown.contains(" 性别\n"),
        "what agrees is not asked: {shown}"
    );

    // Enter takes the registered values; the draft is saved with them.
    ui.key(KeyCode::Enter);
    let saved = ui.store().get(draft.id).unwrap();
    assert_ne!(saved.residence.address, "手写的旧地址 1 号");
    assert_ne!(saved.applicant.mobile, "13900000000");
    assert!(matches!(saved.eligibility, Eligibility::Eligible { .. }));
    assert!(
        saved.card_issuer.is_some(),
        "the issuing bank is filled and locked"
    );
    assert!(
        !saved.applicant.id_valid_from.is_empty(),
        "empty fields were filled"
    );

    // The delivery worker reached the server: the header says so.
    ui.wait_for("● 在线");
}
