//! Every screen drawn into ratatui's TestBackend and compared with its snapshot: each
//! wizard step empty, half-filled, with errors and complete; the home screen; the popups.
//! Keys go through `App::on_event` as the terminal's would.

use chrono::{TimeZone, Utc};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sbk_counter::domain::synthetic::{Rng, application};
use sbk_counter::domain::{Application, Field, PhotoRef, ReturnNote, ReturnedField, Status, Step};
use sbk_counter::store::{Operator, PhotoKind, Store};
use sbk_counter::tui::app::{App, Screen};
use sbk_counter::tui::draw::draw;
use sbk_counter::tui::wizard::Page;
use tempfile::TempDir;

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 2, 0, 0).unwrap()
}

fn new_app() -> (TempDir, App) {
    let dir = TempDir::new().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    let store = Store::open_dir(&dir.path().join("data")).unwrap();
    let operator = Operator {
        id: "C001".into(),
        name: "李娜".into(),
    };
    let mut app = App::new(store, operator, photos);
    app.fixed_now = Some(now());
    (dir, app)
}

/// The screen as plain text: each wide (CJK) character once, trailing spaces trimmed.
fn render(app: &App, width: u16, height: u16) -> String {
    use unicode_width::UnicodeWidthStr;
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| draw(f, app)).unwrap();
    let buf = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..height {
        let mut line = String::new();
        let mut x = 0;
        while x < width {
            let symbol = buf[(x, y)].symbol();
            line.push_str(symbol);
            x += symbol.width().max(1) as u16;
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn snapshot(name: &str, screen: String) {
    insta::with_settings!({
        filters => vec![
            (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "[time]"),
            (r"照片文件夹 \S+ ", "照片文件夹 [dir] "),
        ],
        prepend_module_to_snapshot => false,
    }, {
        insta::assert_snapshot!(name, screen);
    });
}

fn key(app: &mut App, code: KeyCode) {
    app.on_event(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

/// The documented example, stored with real (deterministic) photos.
fn complete(store: &Store) -> Application {
    let mut app: Application =
        serde_json::from_str(include_str!("../docs/application-example.json")).unwrap();
    app.status = Status::Draft;
    for (slot, kind, name) in [
        (&mut app.photos.card_photo, PhotoKind::CardPhoto, "card.jpg"),
        (&mut app.photos.id_front, PhotoKind::IdFront, "front.jpg"),
        (&mut app.photos.id_back, PhotoKind::IdBack, "back.jpg"),
    ] {
        let sha = store
            .put_photo(name.as_bytes(), kind, "image/jpeg", 358, 441)
            .unwrap();
        *slot = Some(PhotoRef {
            sha256: sha,
            source_name: Some(name.into()),
        });
    }
    app
}

fn half_filled(store: &Store) -> Application {
    let mut app = complete(store);
    app.applicant.ethnicity.clear();
    app.residence.address.clear();
    app.applicant.mobile = "1380013".into();
    app.photos.id_back = None;
    app.photos.card_photo = None;
    app.pickup.mail.postcode.clear();
    app.consents.declaration_agreed_at = None;
    app.consents.identity_verified_in_person_at = None;
    app
}

fn with_errors(store: &Store) -> Application {
    let mut app = complete(store);
    app.applicant.id_number = "110105194912310021".into();
    app.applicant.gender = Some(sbk_counter::domain::Gender::Male);
    app.applicant.id_valid_until = sbk_counter::domain::ValidUntil::Date("2020-05-01".into());
    app.applicant.mobile = "12800138000".into();
    app.residence.address = "北京".into();
    app.pickup.mail.postcode = "2000".into();
    app.pickup.mail.recipient_mobile = "1390013".into();
    app
}

fn show(app: &mut App, application: Application, step: Step, touch_all: bool) {
    app.store
        .create(&application, &app.operator.clone())
        .unwrap();
    app.open(application, Page::Step(step));
    if touch_all && let Screen::Wizard(w) = &mut app.screen {
        for p in sbk_counter::domain::validate(&w.app, app.fixed_now.unwrap().date_naive()).problems
        {
            w.touched.insert(p.field);
        }
    }
}

/// What the reference server says of a photo it refuses after review.
fn photo_returned() -> ReturnNote {
    let message = "制卡照片审核未通过：背景不是纯白色，请在白色背景前重新拍摄".to_owned();
    ReturnNote {
        at: now(),
        reason: message.clone(),
        fields: vec![ReturnedField {
            path: "photos.card_photo".into(),
            message,
            corrected: false,
        }],
    }
}

#[test]
fn every_step_in_every_state() {
    for step in Step::ALL {
        for state in ["empty", "half", "errors", "complete"] {
            let (_dir, mut app) = new_app();
            let application = match state {
                "empty" => Application::new(now()),
                "half" => half_filled(&app.store),
                "errors" => with_errors(&app.store),
                _ => complete(&app.store),
            };
            show(&mut app, application, step, state != "empty");
            snapshot(
                &format!("step{}_{step:?}_{state}", step.number()),
                render(&app, 80, 24),
            );
        }
    }
}

#[test]
fn home_screen_empty_listed_and_searched() {
    let (_dir, mut app) = new_app();
    snapshot("home_empty", render(&app, 80, 24));

    let mut rng = Rng::new(8);
    let statuses = [
        Status::Draft,
        Status::Queued,
        Status::Delivered,
        Status::Accepted,
        Status::Shipped,
        Status::Returned,
    ];
    let apps: Vec<Application> = (0..12)
        .map(|i| {
            let mut a = application(&mut rng, now(), 10 * i);
            a.status = statuses[i as usize % statuses.len()];
            if a.status != Status::Draft && a.status != Status::Queued {
                a.application_number = Some(format!("SBK2026{:06}", 1000 + i));
            }
            if a.status == Status::Returned {
                a.returned = Some(photo_returned());
            }
            a
        })
        .collect();
    let op = app.operator.clone();
    app.store.create_batch(&apps, &op).unwrap();
    app.refresh_home();
    key(&mut app, KeyCode::Down);
    snapshot("home_listed", render(&app, 80, 24));
    snapshot("home_listed_wide", render(&app, 120, 30));

    key(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "w");
    snapshot("home_search_pinyin", render(&app, 80, 24));
}

#[test]
fn popups() {
    let (dir, mut app) = new_app();
    show(&mut app, Application::new(now()), Step::BasicInfo, false);
    // District list narrowed by pinyin initials.
    for _ in 0..6 {
        key(&mut app, KeyCode::Tab);
    }
    key(&mut app, KeyCode::Enter);
    type_text(&mut app, "cy");
    snapshot("popup_district_filtered", render(&app, 80, 24));
    key(&mut app, KeyCode::Enter);
    snapshot("basic_info_district_chosen", render(&app, 80, 24));

    key(&mut app, KeyCode::F(1));
    snapshot("popup_help_basic_info", render(&app, 80, 24));
    key(&mut app, KeyCode::Esc);

    // The photo folder, newest first.
    let photos = dir.path().join("photos");
    for (i, name) in ["old.jpg", "middle.png", "newest.jpg"].iter().enumerate() {
        let p = photos.join(name);
        std::fs::write(&p, b"x").unwrap();
        let t =
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_790_000_000 + i as u64 * 60);
        std::fs::File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .set_modified(t)
            .unwrap();
    }
    let (_dir2, mut app2) = new_app();
    app2.photo_dir = photos;
    show(
        &mut app2,
        Application::new(now()),
        Step::IdentityPhotos,
        false,
    );
    key(&mut app2, KeyCode::Enter);
    snapshot("popup_photo_folder", render(&app2, 80, 24));

    // The submit confirmation, and the result.
    let (_dir3, mut app3) = new_app();
    let ready = complete(&app3.store);
    show(&mut app3, ready, Step::Review, false);
    key(&mut app3, KeyCode::Tab);
    key(&mut app3, KeyCode::Enter);
    snapshot("popup_confirm_submit", render(&app3, 80, 24));
    key(&mut app3, KeyCode::Enter);
    snapshot("progress_after_submit", render(&app3, 80, 24));
}

#[test]
fn submit_refused_while_incomplete_says_where() {
    let (_dir, mut app) = new_app();
    let half = half_filled(&app.store);
    show(&mut app, half, Step::Review, false);
    key(&mut app, KeyCode::Char(' '));
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Enter);
    let screen = render(&app, 80, 24);
    assert!(screen.contains("还不能提交"), "{screen}");
    snapshot("review_submit_refused", screen);
    let Screen::Wizard(w) = &app.screen else {
        panic!()
    };
    assert_eq!(w.app.status, Status::Draft, "nothing queued");
    assert!(w.touched.contains(&Field::Ethnicity));
}

#[test]
fn a_terminal_that_is_too_small_says_so() {
    let (_dir, app) = new_app();
    let screen = render(&app, 60, 20);
    assert!(screen.contains("终端窗口太小"));
    snapshot("too_small", screen);
}

#[test]
fn a_click_focuses_a_field_and_a_second_click_ticks_a_box() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let (_dir, mut app) = new_app();
    show(&mut app, Application::new(now()), Step::Applicant, false);
    // Draw once so the wizard knows where its rows are.
    let row_of = |app: &App| {
        let screen = render(app, 80, 24);
        screen.lines().position(|l| l.contains("访问授权")).unwrap() as u16
    };
    let click = |app: &mut App, row: u16| {
        app.on_event(Event::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: 10,
            row,
            modifiers: KeyModifiers::NONE,
        }))
    };
    let row = row_of(&app);
    click(&mut app, row);
    let Screen::Wizard(w) = &app.screen else {
        panic!()
    };
    assert_eq!(w.focused().unwrap().field, Field::AccessAuthorisation);
    assert!(
        w.app.consents.access_authorised_at.is_none(),
        "first click only focuses"
    );
    // Leaving 姓名 showed its problem under it, so the box moved down: click where it is now.
    let row = row_of(&app);
    click(&mut app, row);
    let Screen::Wizard(w) = &app.screen else {
        panic!()
    };
    assert!(
        w.app.consents.access_authorised_at.is_some(),
        "second click ticks"
    );
    assert!(
        app.store
            .get(w.app.id)
            .unwrap()
            .consents
            .access_authorised_at
            .is_some(),
        "and it is saved"
    );
}

#[test]
fn ctrl_u_clears_the_field_being_typed() {
    let (_dir, mut app) = new_app();
    let mut draft = Application::new(now());
    draft.consents.disclaimer_agreed_at = Some(now());
    app.store.create(&draft, &app.operator.clone()).unwrap();
    app.open(draft.clone(), Page::Step(Step::Applicant));
    type_text(&mut app, "张三丰");
    app.on_event(Event::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    )));
    type_text(&mut app, "李四");
    assert_eq!(app.store.get(draft.id).unwrap().applicant.name, "李四");
}

/// An application the central API returned for its photo, as the progress poll leaves it.
fn returned_for_its_photo(store: &Store) -> Application {
    let mut app = complete(store);
    app.status = Status::Returned;
    app.application_number = Some("SQ2026112400000004".into());
    app.returned = Some(photo_returned());
    app
}

#[test]
fn a_returned_application_opens_on_the_field_it_came_back_for() {
    let (dir, mut app) = new_app();
    let returned = returned_for_its_photo(&app.store);
    let id = returned.id;
    let op = app.operator.clone();
    app.store.create(&returned, &op).unwrap();
    app.refresh_home();
    key(&mut app, KeyCode::Enter);
    // Step 5, the cursor on the photo, its problem shown, the reason above, the bar ✗.
    let screen = render(&app, 80, 24);
    assert!(screen.contains("第 5 步  制卡信息"), "{screen}");
    assert!(screen.contains("已退回：制卡照片审核未通过"), "{screen}");
    assert!(screen.contains("▶ 制卡照片"), "{screen}");
    assert!(screen.contains("5制卡信息✗"), "{screen}");
    snapshot("returned_opened", screen);
    // Every other step says it too, and the review page does not claim it can go.
    key(&mut app, KeyCode::PageUp);
    let step4 = render(&app, 80, 24);
    assert!(step4.contains("已退回：制卡照片审核未通过"), "{step4}");
    for _ in 0..3 {
        key(&mut app, KeyCode::PageDown);
    }
    let review = render(&app, 80, 24);
    assert!(
        review.contains("已退回：") && !review.contains("可以提交。"),
        "{review}"
    );
    snapshot("returned_review", review);

    // A new photo clears the mark; the reason stays until it is submitted again.
    std::fs::write(
        dir.path().join("photos/new-photo.jpg"),
        sbk_counter::photo::synthetic::card_photo_jpeg(77),
    )
    .unwrap();
    for _ in 0..2 {
        key(&mut app, KeyCode::PageUp);
    }
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    let fixed = render(&app, 80, 24);
    assert!(fixed.contains("退回所指的项目已修改"), "{fixed}");
    assert!(fixed.contains("5制卡信息✓"), "{fixed}");
    snapshot("returned_corrected", fixed);
    let stored = app.store.get(id).unwrap();
    assert!(stored.returned.unwrap().fields[0].corrected);
    // Submitted again: the reason is dealt with.
    app.store
        .submit(id, &op, now().date_naive())
        .expect("complete again");
    let queued = app.store.get(id).unwrap();
    assert_eq!(queued.status, Status::Queued);
    assert!(queued.returned.is_none());
}

#[test]
fn a_reason_that_names_no_field_is_shown_all_the_same() {
    let (_dir, mut app) = new_app();
    let mut returned = returned_for_its_photo(&app.store);
    returned.returned = Some(ReturnNote {
        at: now(),
        reason: "资格校验未通过：已有正在办理的申领".into(),
        fields: Vec::new(),
    });
    let op = app.operator.clone();
    app.store.create(&returned, &op).unwrap();
    app.refresh_home();
    key(&mut app, KeyCode::Enter);
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("已退回：资格校验未通过：已有正在办理的申领"),
        "{screen}"
    );
    assert!(screen.contains("请按原因处理后"), "{screen}");
}

#[test]
fn the_review_page_shows_the_photos_as_they_will_go() {
    use sbk_counter::photo::synthetic::{card_photo_jpeg, id_card_jpeg};
    let (_dir, mut app) = new_app();
    let mut application = complete(&app.store);
    for (field, kind, bytes) in [
        (Field::CardPhoto, PhotoKind::CardPhoto, card_photo_jpeg(3)),
        (
            Field::IdFrontPhoto,
            PhotoKind::IdFront,
            id_card_jpeg(3, false),
        ),
        (Field::IdBackPhoto, PhotoKind::IdBack, id_card_jpeg(3, true)),
    ] {
        let sha = app
            .store
            .put_photo(&bytes, kind, "image/jpeg", 0, 0)
            .unwrap();
        *application.photos.slot_mut(field).unwrap() = Some(PhotoRef {
            sha256: sha,
            source_name: Some(format!("{kind:?}.jpg")),
        });
    }
    show(&mut app, application, Step::Review, false);
    let narrow = render(&app, 80, 24);
    assert!(
        narrow.contains("制卡照片") && narrow.contains("身份证正面") && narrow.contains("▀"),
        "{narrow}"
    );
    assert!(
        narrow.contains("已导入 IdFront.jpg"),
        "not yet uploaded: {narrow}"
    );
    snapshot("review_photos_narrow", narrow);
    let wide = render(&app, 120, 30);
    assert!(wide.contains("▀"), "{wide}");
    snapshot("review_photos_wide", wide);
}

#[test]
fn opening_or_resuming_any_application_is_audited() {
    let (dir, mut app) = new_app();
    let draft = complete(&app.store);
    let id = draft.id;
    let op = app.operator.clone();
    app.store.create(&draft, &op).unwrap();
    app.refresh_home();
    key(&mut app, KeyCode::Enter);
    let views = |store: &Store| -> Vec<String> {
        store
            .audit_entries(Some(id))
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "view")
            .filter_map(|e| e.detail)
            .collect()
    };
    assert_eq!(
        views(&app.store),
        ["wizard"],
        "a draft opened from the list"
    );
    // The wizard stops on it; the next start reopens it.
    drop(app);
    let store = Store::open_dir(&dir.path().join("data")).unwrap();
    let mut again = App::new(store, op, dir.path().join("photos"));
    again.resume();
    assert!(matches!(again.screen, Screen::Wizard(_)));
    assert_eq!(views(&again.store), ["wizard", "wizard resumed"]);
}
