//! Every screen drawn and compared with its snapshot: each wizard step empty, half-filled,
//! with errors and complete; the home screen; the popups. Driven only by keys and mouse
//! events (tests/common/ui.rs), read only from what is drawn; data through the store.

mod common;

use common::fixtures::{
    agent_chosen, agent_complete, agent_returned, agent_with_errors, complete, half_filled,
    photo_returned, returned_for_its_photo, with_errors,
};
use common::ui::{Ui, clerk, now, snapshot};
use crossterm::event::KeyCode;
use sbk_counter::domain::PhotoSlot;
use sbk_counter::domain::synthetic::{Rng, application};
use sbk_counter::domain::{Application, PhotoRef, ReturnNote, Status, Step};

#[test]
fn every_step_in_every_state() {
    for step in Step::ALL {
        for state in ["empty", "half", "errors", "complete"] {
            let mut ui = Ui::new();
            let store = ui.store();
            let application = match state {
                "empty" => Application::new(now()),
                "half" => half_filled(&store),
                "errors" => with_errors(&store),
                _ => complete(&store),
            };
            ui.open_on(&application, step);
            if state != "empty" {
                ui.visit_every_row();
            }
            snapshot(
                &format!("step{}_{step:?}_{state}", step.number()),
                ui.screen(),
            );
        }
    }
}

#[test]
fn home_screen_empty_listed_and_searched() {
    let mut ui = Ui::new();
    snapshot("home_empty", ui.screen());

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
    ui.store().create_batch(&apps, &clerk()).unwrap();
    ui.refresh_home();
    ui.key(KeyCode::Down);
    snapshot("home_listed", ui.screen());
    snapshot("home_listed_wide", ui.render(120, 30));

    ui.key(KeyCode::Char('/'));
    ui.type_text("w");
    snapshot("home_search_pinyin", ui.screen());
}

#[test]
fn popups() {
    let mut ui = Ui::new();
    ui.open_on(&Application::new(now()), Step::BasicInfo);
    // District list narrowed by pinyin initials.
    for _ in 0..6 {
        ui.key(KeyCode::Tab);
    }
    ui.key(KeyCode::Enter);
    ui.type_text("cy");
    snapshot("popup_district_filtered", ui.screen());
    ui.key(KeyCode::Enter);
    snapshot("basic_info_district_chosen", ui.screen());

    ui.key(KeyCode::F(1));
    snapshot("popup_help_basic_info", ui.screen());
    ui.key(KeyCode::Esc);

    // The photo folder, newest first.
    let mut ui = Ui::new();
    for (i, name) in ["old.jpg", "middle.png", "newest.jpg"].iter().enumerate() {
        let p = ui.photo_dir().join(name);
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
    ui.open_on(&Application::new(now()), Step::IdentityPhotos);
    ui.key(KeyCode::Enter);
    snapshot("popup_photo_folder", ui.screen());

    // The submit confirmation, and the result.
    let mut ui = Ui::new();
    let ready = complete(&ui.store());
    ui.open_on(&ready, Step::Review);
    ui.key(KeyCode::Tab);
    ui.key(KeyCode::Enter);
    snapshot("popup_confirm_submit", ui.screen());
    ui.key(KeyCode::Enter);
    snapshot("progress_after_submit", ui.screen());
}

#[test]
fn submit_refused_while_incomplete_says_where() {
    let mut ui = Ui::new();
    let half = half_filled(&ui.store());
    ui.open_on(&half, Step::Review);
    ui.key(KeyCode::Char(' '));
    ui.key(KeyCode::Tab);
    ui.key(KeyCode::Enter);
    let screen = ui.screen();
    assert!(screen.contains("还不能提交"), "{screen}");
    snapshot("review_submit_refused", screen);
    assert_eq!(
        ui.store().get(half.id).unwrap().status,
        Status::Draft,
        "nothing queued"
    );
    // The step it sends the clerk to shows what is missing there.
    ui.key(KeyCode::Char('5'));
    assert!(ui.screen().contains("未填：请选择民族"), "{}", ui.screen());
}

#[test]
fn a_terminal_that_is_too_small_says_so() {
    let mut ui = Ui::new();
    let screen = ui.render(60, 20);
    assert!(screen.contains("终端窗口太小"));
    snapshot("too_small", screen);
}

#[test]
fn a_click_focuses_a_field_and_a_second_click_ticks_a_box() {
    let mut ui = Ui::new();
    let draft = Application::new(now());
    ui.open_on(&draft, Step::Applicant);
    let row = ui.row_of("访问授权");
    ui.click(10, row);
    assert!(
        ui.screen().contains("▶ [ ] 访问授权"),
        "first click only focuses"
    );
    assert!(
        ui.store()
            .get(draft.id)
            .unwrap()
            .consents
            .access_authorised_at
            .is_none()
    );
    // Leaving 姓名 showed its problem under it, so the box moved down: click where it is now.
    let row = ui.row_of("访问授权");
    ui.click(10, row);
    assert!(ui.screen().contains("▶ [✓] 访问授权"), "second click ticks");
    assert!(
        ui.store()
            .get(draft.id)
            .unwrap()
            .consents
            .access_authorised_at
            .is_some(),
        "and it is saved"
    );
}

#[test]
fn ctrl_u_clears_the_field_being_typed() {
    let mut ui = Ui::new();
    let mut draft = Application::new(now());
    draft.consents.disclaimer_agreed_at = Some(now());
    ui.open_on(&draft, Step::Applicant);
    ui.type_text("张三丰");
    ui.ctrl('u');
    ui.type_text("李四");
    assert_eq!(ui.store().get(draft.id).unwrap().applicant.name, "李四");
}

#[test]
fn a_returned_application_opens_on_the_field_it_came_back_for() {
    let mut ui = Ui::new();
    let returned = returned_for_its_photo(&ui.store());
    let id = returned.id;
    ui.store().create(&returned, &clerk()).unwrap();
    ui.refresh_home();
    ui.key(KeyCode::Enter);
    // Step 6, the cursor on the photo, its problem shown, the reason above, the bar ✗.
    let screen = ui.screen();
    assert!(screen.contains("第 6 步  制卡信息"), "{screen}");
    assert!(screen.contains("已退回：制卡照片审核未通过"), "{screen}");
    assert!(screen.contains("▶ 制卡照片"), "{screen}");
    assert!(screen.contains("6制卡信息✗"), "{screen}");
    snapshot("returned_opened", screen);
    // Every other step says it too, and the review page does not claim it can go.
    ui.key(KeyCode::PageUp);
    let step4 = ui.screen();
    assert!(step4.contains("已退回：制卡照片审核未通过"), "{step4}");
    for _ in 0..3 {
        ui.key(KeyCode::PageDown);
    }
    let review = ui.screen();
    assert!(
        review.contains("已退回：") && !review.contains("可以提交。"),
        "{review}"
    );
    snapshot("returned_review", review);

    // A new photo clears the mark; the reason stays until it is submitted again.
    std::fs::write(
        ui.photo_dir().join("new-photo.jpg"),
        sbk_counter::photo::synthetic::card_photo_jpeg(77),
    )
    .unwrap();
    ui.keys(&[
        KeyCode::PageUp,
        KeyCode::PageUp,
        KeyCode::Enter,
        KeyCode::Enter,
    ]);
    let fixed = ui.screen();
    assert!(fixed.contains("退回所指的项目已修改"), "{fixed}");
    assert!(fixed.contains("6制卡信息✓"), "{fixed}");
    snapshot("returned_corrected", fixed);
    let stored = ui.store().get(id).unwrap();
    assert!(stored.returned.unwrap().fields[0].corrected);
    // Submitted again: the reason is dealt with.
    let mut store = ui.store();
    store
        .submit(id, &clerk(), now().date_naive())
        .expect("complete again");
    let queued = store.get(id).unwrap();
    assert_eq!(queued.status, Status::Queued);
    assert!(queued.returned.is_none());
}

#[test]
fn a_reason_that_names_no_field_is_shown_all_the_same() {
    let mut ui = Ui::new();
    let mut returned = returned_for_its_photo(&ui.store());
    returned.returned = Some(ReturnNote {
        at: now(),
        reason: "资格校验未通过：已有正在办理的申领".into(),
        fields: Vec::new(),
    });
    ui.store().create(&returned, &clerk()).unwrap();
    ui.refresh_home();
    ui.key(KeyCode::Enter);
    let screen = ui.screen();
    assert!(
        screen.contains("已退回：资格校验未通过：已有正在办理的申领"),
        "{screen}"
    );
    assert!(screen.contains("请按原因处理后"), "{screen}");
}

#[test]
fn the_review_page_shows_the_photos_as_they_will_go() {
    use sbk_counter::photo::synthetic::{card_photo_jpeg, id_card_jpeg};
    let mut ui = Ui::new();
    let store = ui.store();
    let mut application = complete(&store);
    for (kind, bytes) in [
        (PhotoSlot::CardPhoto, card_photo_jpeg(3)),
        (PhotoSlot::IdFront, id_card_jpeg(3, false)),
        (PhotoSlot::IdBack, id_card_jpeg(3, true)),
    ] {
        let sha = store.put_photo(&bytes, kind, "image/jpeg", 0, 0).unwrap();
        *application.photo_mut(kind) = Some(PhotoRef {
            sha256: sha,
            source_name: Some(format!("{kind:?}.jpg")),
        });
    }
    ui.open_on(&application, Step::Review);
    let narrow = ui.screen();
    assert!(
        narrow.contains("制卡照片") && narrow.contains("身份证正面") && narrow.contains("▀"),
        "{narrow}"
    );
    assert!(
        narrow.contains("已导入 IdFront.jpg"),
        "not yet uploaded: {narrow}"
    );
    snapshot("review_photos_narrow", narrow);
    let wide = ui.render(120, 30);
    assert!(wide.contains("▀"), "{wide}");
    snapshot("review_photos_wide", wide);
}

#[test]
fn opening_or_resuming_any_application_is_audited() {
    let mut ui = Ui::new();
    let draft = complete(&ui.store());
    let id = draft.id;
    ui.store().create(&draft, &clerk()).unwrap();
    ui.refresh_home();
    ui.key(KeyCode::Enter);
    let views = |ui: &Ui| -> Vec<String> {
        ui.store()
            .audit_entries(Some(id))
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "view")
            .filter_map(|e| e.detail)
            .collect()
    };
    assert_eq!(views(&ui), ["wizard"], "a draft opened from the list");
    // The wizard stops on it; the next start reopens it.
    ui.restart();
    assert!(ui.screen().contains("已恢复上次未完成的申请"));
    assert_eq!(views(&ui), ["wizard", "wizard resumed"]);
}

#[test]
fn home_help_and_the_withdraw_confirmation() {
    let mut ui = Ui::new();
    ui.key(KeyCode::Char('?'));
    snapshot("popup_help_home", ui.screen());
    ui.key(KeyCode::Esc);

    let mut queued = complete(&ui.store());
    queued.status = Status::Queued;
    ui.store().create(&queued, &clerk()).unwrap();
    ui.refresh_home();
    ui.key(KeyCode::Char('w'));
    snapshot("popup_confirm_withdraw", ui.screen());
    // Esc keeps it queued; confirming withdraws it to the drafts.
    ui.key(KeyCode::Esc);
    assert_eq!(ui.store().get(queued.id).unwrap().status, Status::Queued);
    // 取消 is selected first: Enter alone changes nothing.
    ui.key(KeyCode::Char('w'));
    ui.key(KeyCode::Enter);
    assert_eq!(ui.store().get(queued.id).unwrap().status, Status::Queued);
    ui.keys(&[KeyCode::Char('w'), KeyCode::Left]);
    snapshot("popup_confirm_withdraw_yes", ui.screen());
    ui.key(KeyCode::Enter);
    assert_eq!(ui.store().get(queued.id).unwrap().status, Status::Draft);
    // The store stamps the withdrawal with the real time: left out of the snapshot.
    let screen: String = ui
        .screen()
        .lines()
        .map(|l| match l.contains("王秀英") {
            true => format!("{}[最后修改]\n", &l[..l.len() - "12-02 14:23".len()]),
            false => format!("{l}\n"),
        })
        .collect();
    snapshot("home_withdrawn", screen);
}

#[test]
fn the_photo_folder_when_it_cannot_be_read() {
    let mut ui = Ui::new();
    std::fs::remove_dir(ui.photo_dir()).unwrap();
    ui.open_on(&Application::new(now()), Step::IdentityPhotos);
    ui.key(KeyCode::Enter);
    let screen = ui.screen();
    assert!(screen.contains("照片文件夹不存在"), "{screen}");
    snapshot("popup_photo_folder_missing", screen);
}

#[test]
fn a_card_photo_that_does_not_pass_opens_the_crop_editor() {
    let mut ui = Ui::new();
    let phone = image::DynamicImage::ImageRgb8(sbk_counter::photo::synthetic::portrait(600, 800));
    phone.save(ui.photo_dir().join("phone.png")).unwrap();
    let draft = Application::new(now());
    ui.open_on(&draft, Step::CardInfo);
    ui.key(KeyCode::Enter);
    ui.type_text("phone");
    ui.key(KeyCode::Enter);
    let screen = ui.screen();
    assert!(screen.contains("调整制卡照片"), "{screen}");
    snapshot("popup_crop", screen);
    ui.keys(&[KeyCode::Char('+'), KeyCode::Right]);
    snapshot("popup_crop_zoomed_and_moved", ui.screen());
    // Esc: nothing imported, and the clerk is told so.
    ui.key(KeyCode::Esc);
    snapshot("card_info_crop_cancelled", ui.screen());
    assert!(
        ui.store()
            .get(draft.id)
            .unwrap()
            .photos
            .card_photo
            .is_none()
    );
    // Again, and Enter makes a passing photo.
    ui.key(KeyCode::Enter);
    ui.type_text("phone");
    ui.keys(&[KeyCode::Enter, KeyCode::Enter]);
    snapshot("card_info_crop_accepted", ui.screen());
    assert!(
        ui.store()
            .get(draft.id)
            .unwrap()
            .photos
            .card_photo
            .is_some()
    );
}

/// A reading of the card's portrait side as the recognition thread reports it.
fn front_side_read(application: uuid::Uuid) -> sbk_counter::tui::events::Event {
    use sbk_counter::idcard::{CardField, Reading, Recognised, Side};
    let read = |field, value: &str, shown: &str| Reading {
        field,
        raw: shown.replace(' ', ""),
        value: Some(value.into()),
        shown: shown.into(),
        confidence: 90,
        problem: None,
    };
    sbk_counter::tui::events::Event::Reading(sbk_counter::tui::events::Reading {
        application,
        side: Side::Front,
        result: Ok(Recognised {
            side: Side::Front,
            readings: vec![
                read(CardField::Name, "曹丽军", "曹丽军"),
                read(CardField::Gender, "female", "女"),
                read(CardField::Ethnicity, "01", "汉"),
                read(CardField::BirthDate, "1936-05-29", "1936年5月29日"),
                read(
                    CardField::Address,
                    "北京市丰台区南苑路 12 号院 3 号楼 401",
                    "北京市丰台区南苑路 12 号院 3 号楼 401",
                ),
                read(
                    CardField::IdNumber,
                    "110106193605290067",
                    "110106193605290067",
                ),
            ],
        }),
    })
}

#[test]
fn what_the_card_reads_is_offered_and_what_differs_is_compared() {
    let mut ui = Ui::new();
    let mut draft = Application::new(now());
    draft.applicant.name = "曹丽君".into();
    draft.applicant.id_number = "110106193605290067".into();
    ui.open_on(&draft, Step::IdentityPhotos);
    ui.report(front_side_read(draft.id));
    let screen = ui.screen();
    assert!(screen.contains("证件识别结果与所填不一致"), "{screen}");
    snapshot("popup_compare_card", screen);
    // The card's value is not preselected (a reading may be wrong): Space picks it.
    ui.key(KeyCode::Char(' '));
    snapshot("popup_compare_card_taken", ui.screen());
    ui.key(KeyCode::Enter);
    let saved = ui.store().get(draft.id).unwrap();
    assert_eq!(saved.applicant.name, "曹丽军");
    assert_eq!(
        saved.residence.address,
        "北京市丰台区南苑路 12 号院 3 号楼 401"
    );
    // The fields filled from the card are marked 识别 until confirmed.
    ui.key(KeyCode::PageDown);
    let screen = ui.screen();
    assert!(screen.contains("识别"), "{screen}");
    snapshot("basic_info_recognised", screen);
}

#[test]
fn the_agent_step_empty_filled_and_with_errors() {
    // 本人申领, as a new application starts.
    let mut ui = Ui::new();
    let new = Application::new(now());
    ui.open_on(&new, Step::AppliedBy);
    let screen = ui.screen();
    assert!(
        screen.contains("申领方式") && screen.contains("本人申领"),
        "{screen}"
    );
    assert!(!screen.contains("代办人姓名"), "{screen}");
    snapshot("agent_step_in_person", screen);
    // Choosing 代办申领 in the list shows the agent's rows, empty.
    ui.key(KeyCode::Enter);
    let screen = ui.screen();
    assert!(screen.contains("代办申领"), "{screen}");
    snapshot("popup_applied_by", screen);
    ui.key(KeyCode::Down);
    ui.key(KeyCode::Enter);
    let screen = ui.screen();
    assert!(
        screen.contains("代办人姓名") && screen.contains("与申领人关系"),
        "{screen}"
    );
    snapshot("agent_step_chosen", screen);
    assert_eq!(
        ui.store().get(new.id).unwrap().applied_by,
        sbk_counter::domain::AppliedBy::Agent
    );

    let mut ui = Ui::new();
    let chosen = agent_chosen(&ui.store());
    ui.open_on(&chosen, Step::AppliedBy);
    ui.visit_every_row();
    let screen = ui.screen();
    assert!(
        screen.contains("未填：请选择代办人与申领人的关系"),
        "{screen}"
    );
    snapshot("agent_step_empty", screen);

    let mut ui = Ui::new();
    let errors = agent_with_errors(&ui.store());
    ui.open_on(&errors, Step::AppliedBy);
    ui.visit_every_row();
    let screen = ui.screen();
    assert!(screen.contains("代办人不能是申领人本人"), "{screen}");
    assert!(screen.contains("2申领方式✗"), "{screen}");
    snapshot("agent_step_errors", screen);

    let mut ui = Ui::new();
    let complete = agent_complete(&ui.store());
    ui.open_on(&complete, Step::AppliedBy);
    ui.visit_every_row();
    let screen = ui.screen();
    assert!(screen.contains("本步已填完整"), "{screen}");
    snapshot("agent_step_filled", screen);
    // The relation is chosen from the table.
    for _ in 0..4 {
        ui.key(KeyCode::Tab);
    }
    ui.key(KeyCode::Enter);
    let screen = ui.screen();
    assert!(screen.contains("社区工作人员"), "{screen}");
    snapshot("popup_agent_relation", screen);
}

#[test]
fn a_by_agent_application_checks_the_applicants_card_and_mails_to_the_agent() {
    let mut ui = Ui::new();
    let app = agent_complete(&ui.store());
    ui.open_on(&app, Step::Applicant);
    let screen = ui.screen();
    assert!(screen.contains("已核验申领人身份证原件"), "{screen}");
    assert!(!screen.contains("已当面核验本人"), "{screen}");
    snapshot("agent_applicant_step", screen);
    let mut ui = Ui::new();
    let app = agent_complete(&ui.store());
    ui.open_on(&app, Step::Pickup);
    let screen = ui.screen();
    assert!(screen.contains("收件人同代办人"), "{screen}");
    snapshot("agent_pickup", screen);
    // 同代办人 names the agent as recipient, over the applicant's name.
    let mut ui = Ui::new();
    let mut app = agent_complete(&ui.store());
    app.pickup.mail.recipient_name = "王秀英".into();
    app.pickup.mail.recipient_mobile = "13800138000".into();
    ui.open_on(&app, Step::Pickup);
    ui.keys(&[KeyCode::Tab, KeyCode::Tab, KeyCode::Enter]);
    let screen = ui.screen();
    assert!(screen.contains("收件人已填为代办人"), "{screen}");
    let stored = ui.store().get(app.id).unwrap();
    assert_eq!(stored.pickup.mail.recipient_name, "李建国");
    assert_eq!(stored.pickup.mail.recipient_mobile, "13911112222");
}

#[test]
fn the_review_page_shows_the_agent_as_its_own_group_and_submits_as_agent() {
    let mut ui = Ui::new();
    let app = agent_complete(&ui.store());
    ui.open_on(&app, Step::Review);
    for _ in 0..2 {
        ui.scroll_down();
    }
    // Read out in full with the resident and the agent, as the applicant's are.
    let screen = ui.screen();
    assert!(screen.contains("[2] 申领方式与代办人 ✓"), "{screen}");
    assert!(screen.contains("与申领人关系：子女"), "{screen}");
    assert!(screen.contains("已核验申领人身份证原件：☑"), "{screen}");
    snapshot("agent_review", screen);
    // (The declaration is ticked already.)
    ui.key(KeyCode::Tab);
    ui.key(KeyCode::Enter);
    let screen = ui.screen();
    assert!(screen.contains("是否确认提交代办申领"), "{screen}");
    snapshot("popup_confirm_submit_agent", screen);
    ui.key(KeyCode::Enter);
    assert!(
        ui.screen().contains("您已完成代办申领业务办理"),
        "{}",
        ui.screen()
    );
}

#[test]
fn a_returned_by_agent_application_keeps_the_agent_as_submitted() {
    let mut ui = Ui::new();
    let app = agent_returned(&ui.store());
    ui.open_on(&app, Step::AppliedBy);
    let screen = ui.screen();
    assert!(screen.contains("🔒"), "{screen}");
    snapshot("agent_returned_locked", screen);
    // Typing on the agent's name changes nothing and says why.
    ui.key(KeyCode::Tab);
    ui.type_text("王");
    let screen = ui.screen();
    assert!(screen.contains("申领方式和代办人信息不能修改"), "{screen}");
    assert_eq!(ui.store().get(app.id).unwrap().agent, app.agent);
}

#[test]
fn p_on_the_progress_page_prints_the_receipt_or_saves_it_and_says_where() {
    let mut ui = Ui::new();
    let mut store = ui.store();
    let mut app = agent_complete(&store);
    app.status = Status::Queued;
    store.create(&app, &clerk()).unwrap();
    ui.open_application(app.id);
    let screen = ui.screen();
    assert!(screen.contains("p 打印受理单"), "{screen}");
    ui.key(KeyCode::Char('p'));
    let screen = ui.screen();
    if sbk_counter::receipt::CjkFont::find(None).is_err() {
        assert!(screen.contains("找不到中文字体"), "{screen}");
        return;
    }
    assert!(
        screen.contains("受理单已保存为") || screen.contains("已发送到打印机"),
        "{screen}"
    );
    let saved: Vec<_> = std::fs::read_dir(ui.data_dir().join("receipts"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(
        screen.contains("已发送到打印机") || saved.len() == 1,
        "{saved:?}"
    );
}

#[test]
fn the_supervisors_day_counts_per_operator_and_opens_what_is_stuck() {
    let mut ui = Ui::new();
    // The store writes the real time: the screen reads today.
    let real = chrono::Utc::now();
    ui.set_now(real);
    let mut store = ui.store();
    let today = sbk_counter::domain::dates::beijing_date(real);
    let mut rng = Rng::new(12);
    let mut draft = application(&mut rng, real, 0);
    draft.status = Status::Draft;
    store.create(&draft, &clerk()).unwrap();
    let second = application(&mut rng, real, 0);
    store.create(&second, &clerk()).unwrap();
    // The draft has waited eight days.
    use sbk_counter::store::db::{Sql, ToValue};
    let old = (real - chrono::Duration::days(8)).timestamp_millis();
    store
        .sql()
        .execute(
            "UPDATE applications SET updated_at = ?1 WHERE id = ?2",
            &[old.to_value(), draft.id.to_value()],
        )
        .unwrap();
    ui.refresh_home();
    ui.key(KeyCode::Char('r'));
    let screen = ui.screen();
    assert!(screen.contains(&format!("工作日报  {today}")), "{screen}");
    assert!(screen.contains("草稿 7 天未动 1"), "{screen}");
    assert!(screen.contains("C001"), "{screen}");
    // (The day and the times move with the clock: checked above, not snapshotted.)
    ui.key(KeyCode::Enter);
    let screen = ui.screen();
    assert!(
        screen.contains("第 4 步  身份识别"),
        "where it stopped: {screen}"
    );
    assert_eq!(
        ui.store().ui_state("open_application").unwrap(),
        Some(draft.id.to_string()),
        "the stuck draft is the one opened"
    );
    // Another day: nothing was done then.
    ui.key(KeyCode::Esc);
    ui.key(KeyCode::Char('r'));
    ui.key(KeyCode::Left);
    let screen = ui.screen();
    assert!(
        screen.contains(&(today - chrono::Duration::days(1)).to_string()),
        "{screen}"
    );
    assert!(
        screen.lines().any(|l| l.trim_start().starts_with("合计")
            && l.split_whitespace().skip(1).all(|n| n == "0")),
        "{screen}"
    );
}
