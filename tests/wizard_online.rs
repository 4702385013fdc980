//! The wizard online, against the reference central API over loopback: 开始资格校验 runs
//! on a thread, the registry's data fill what is empty and are shown beside what differs,
//! the issuing bank fills the locked field, and the header says it is online.

use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sbk_counter::central::{Config, Faults, Running};
use sbk_counter::config::{CentralSettings, Secret};
use sbk_counter::domain::{Application, Eligibility, Field, Step};
use sbk_counter::store::{Operator, Store};
use sbk_counter::tui::app::{App, Popup, Screen};
use sbk_counter::tui::background::Background;
use sbk_counter::tui::form::{Button, Input, rows};
use sbk_counter::tui::wizard::Page;

fn screen_text(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    terminal
        .draw(|f| sbk_counter::tui::draw::draw(f, app))
        .unwrap();
    let buf = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..30 {
        let mut x = 0;
        while x < 100 {
            let symbol = buf[(x, y)].symbol();
            out.push_str(symbol);
            x += unicode_width::UnicodeWidthStr::width(symbol).max(1) as u16;
        }
        out.push('\n');
    }
    out
}

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
    let settings = CentralSettings {
        url: server.base_url(),
        token: Secret::new("wizard-online-token"),
        ca_file: None,
    };
    let data = dir.path().join("data");
    let operator = Operator {
        id: "C001".into(),
        name: "李娜".into(),
    };
    let mut store = Store::open_dir(&data).unwrap();
    let mut draft = Application::new(chrono::Utc::now());
    draft.applicant.name = resident.name.clone();
    draft.applicant.id_number = resident.id_number.clone();
    draft.residence.address = "手写的旧地址 1 号".into();
    draft.applicant.mobile = "13900000000".into();
    let t = Some(chrono::Utc::now());
    draft.consents.disclaimer_agreed_at = t;
    draft.consents.access_authorised_at = t;
    draft.consents.identity_verified_in_person_at = t;
    store.create(&draft, &operator).unwrap();

    let mut app = App::new(store, operator.clone(), dir.path().to_owned());
    app.sync.configured = true;
    app.background = Some(
        Background::start(
            &settings,
            &sbk_counter::config::load(Some(&dir.path().join("config.toml")), Some(&data)).unwrap(),
            &operator,
            Duration::from_secs(30),
        )
        .unwrap(),
    );
    app.open(draft.clone(), Page::Step(Step::Applicant));
    let Screen::Wizard(w) = &app.screen else {
        panic!("the wizard should be open")
    };
    // Tab to the button, as a clerk does.
    let button = rows(Step::Applicant, &w.app)
        .iter()
        .position(|r| matches!(r.input, Input::Button(Button::CheckEligibility)))
        .unwrap();
    for _ in 0..button {
        app.on_event(Event::Key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE)));
    }
    app.on_event(Event::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    let shown = screen_text(&app);
    assert!(shown.contains("正在进行资格校验"), "{shown}");

    let deadline = Instant::now() + Duration::from_secs(15);
    while !matches!(app.popup, Some(Popup::Registered(_))) {
        assert!(Instant::now() < deadline, "no eligibility answer");
        std::thread::sleep(Duration::from_millis(20));
        app.poll_background();
    }
    let Some(Popup::Registered(diffs)) = &app.popup else {
        unreachable!()
    };
    let fields: Vec<Field> = diffs.iter().map(|d| d.field).collect();
    assert_eq!(fields, vec![Field::Address, Field::Mobile]);
    let shown = screen_text(&app);
    assert!(shown.contains("登记信息与所填不一致"), "{shown}");
    assert!(shown.contains("手写的旧地址 1 号") && shown.contains("13900000000"));
    assert!(shown.contains(&diffs[0].registered), "{shown}");

    // Enter takes the registered values; the draft is saved with them.
    app.on_event(Event::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    let saved = app.store.get(draft.id).unwrap();
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
    let deadline = Instant::now() + Duration::from_secs(15);
    while app.sync.online != Some(true) {
        assert!(Instant::now() < deadline, "the worker never reported");
        std::thread::sleep(Duration::from_millis(20));
        app.poll_background();
    }
    assert!(screen_text(&app).contains("● 在线"));
}
