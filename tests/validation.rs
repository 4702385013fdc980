//! Validation of whole applications: the documented example is complete, a new draft is
//! merely incomplete, and each cross-field rule reports on the right field.

use chrono::{NaiveDate, Utc};
use proptest::prelude::*;
use sbk_counter::domain::{
    Application, Eligibility, Field, Gender, IdType, PickupMethod, ProblemKind, Report, Step,
    StepState, ValidUntil, validate,
};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
}

fn example() -> Application {
    serde_json::from_str(include_str!("../docs/application-example.json")).unwrap()
}

fn kinds(report: &Report, field: Field) -> Vec<ProblemKind> {
    report.for_field(field).map(|p| p.kind).collect()
}

fn messages(report: &Report, field: Field) -> String {
    report
        .for_field(field)
        .map(|p| p.message.as_str())
        .collect::<Vec<_>>()
        .join(" | ")
}

#[test]
fn the_documented_example_is_complete_and_clean() {
    let report = validate(&example(), today());
    assert_eq!(report.problems, vec![], "no problems, not even warnings");
    assert!(report.is_ready_to_submit());
    for step in Step::ALL {
        assert_eq!(report.step_state(step), StepState::Complete, "{step:?}");
    }
}

#[test]
fn the_example_round_trips_through_json() {
    let app = example();
    let json = serde_json::to_string_pretty(&app).unwrap();
    let back: Application = serde_json::from_str(&json).unwrap();
    assert_eq!(back, app);
}

#[test]
fn a_new_draft_is_incomplete_but_has_no_errors() {
    let report = validate(&Application::new(Utc::now()), today());
    assert!(!report.is_ready_to_submit());
    assert!(
        report
            .problems
            .iter()
            .all(|p| p.kind == ProblemKind::Missing),
        "{:#?}",
        report.problems
    );
    for step in Step::ALL {
        // 本人申领, today's flow, is chosen until the clerk says 代办.
        let expected = if step == Step::AppliedBy {
            StepState::Complete
        } else {
            StepState::Incomplete
        };
        assert_eq!(report.step_state(step), expected, "{step:?}");
    }
    // Defaults from the guide are already valid.
    assert!(kinds(&report, Field::Occupation).is_empty());
    assert!(kinds(&report, Field::Nationality).is_empty());
    assert!(kinds(&report, Field::PickupMethod).is_empty());
}

#[test]
fn every_problem_message_is_chinese_and_belongs_to_its_step() {
    let report = validate(&Application::new(Utc::now()), today());
    for step in Step::ALL {
        for p in report.for_step(step) {
            assert_eq!(p.field.step(), step);
            assert!(
                p.message
                    .chars()
                    .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{p:?}"
            );
        }
    }
}

#[test]
fn gender_and_birth_date_must_agree_with_the_id_number() {
    let mut app = example();
    app.applicant.gender = Some(Gender::Male);
    app.applicant.birth_date = "1949/12/30".into();
    let report = validate(&app, today());
    assert_eq!(kinds(&report, Field::Gender), vec![ProblemKind::Invalid]);
    assert!(messages(&report, Field::Gender).contains("第 17 位表示女"));
    assert_eq!(kinds(&report, Field::BirthDate), vec![ProblemKind::Invalid]);
    assert!(messages(&report, Field::BirthDate).contains("1949-12-31"));
    assert_eq!(report.step_state(Step::BasicInfo), StepState::HasErrors);
    assert!(!report.is_ready_to_submit());
}

#[test]
fn a_legacy_15_digit_number_asks_for_18_digits() {
    let mut app = example();
    app.applicant.id_number = "110105491231002".into();
    let report = validate(&app, today());
    assert_eq!(kinds(&report, Field::IdNumber), vec![ProblemKind::Invalid]);
    assert!(messages(&report, Field::IdNumber).contains("18 位"));
}

#[test]
fn a_young_applicant_on_the_retiree_flow_gets_a_warning_not_a_block() {
    let mut app = example();
    // Born 1990-01-01, female (even 17th digit), Beijing 朝阳区.
    let first17 = "11010519900101002";
    let check = sbk_counter::domain::id_number::check_character(first17);
    app.applicant.id_number = format!("{first17}{check}");
    app.applicant.birth_date = "1990-01-01".into();
    app.applicant.id_valid_from = "2015-03-02".into();
    app.applicant.id_valid_until = ValidUntil::Date("2035-03-02".into());
    let report = validate(&app, today());
    assert_eq!(kinds(&report, Field::IdNumber), vec![ProblemKind::Warning]);
    assert!(messages(&report, Field::IdNumber).contains("36 岁"));
    assert!(report.is_ready_to_submit(), "{:#?}", report.problems);
}

#[test]
fn document_validity_dates_are_checked() {
    let mut app = example();
    app.applicant.id_valid_until = ValidUntil::Date("2020-05-01".into());
    let report = validate(&app, today());
    assert!(messages(&report, Field::IdValidUntil).contains("过期"));

    app.applicant.id_valid_until = ValidUntil::Date("2009-01-01".into());
    let report = validate(&app, today());
    assert!(messages(&report, Field::IdValidUntil).contains("晚于开始日期"));

    app.applicant.id_valid_from = "2027-01-01".into();
    let report = validate(&app, today());
    assert!(messages(&report, Field::IdValidFrom).contains("晚于今天"));

    app.applicant.id_valid_from = "1940-01-01".into();
    let report = validate(&app, today());
    assert!(messages(&report, Field::IdValidFrom).contains("早于出生日期"));

    // A ten-year card that is not a whole number of years gets a warning only.
    app.applicant.id_valid_from = "2020-05-01".into();
    app.applicant.id_valid_until = ValidUntil::Date("2030-05-02".into());
    let report = validate(&app, today());
    assert_eq!(
        kinds(&report, Field::IdValidUntil),
        vec![ProblemKind::Warning]
    );

    app.applicant.id_valid_until = ValidUntil::Date("2030-05-01".into());
    assert!(kinds(&validate(&app, today()), Field::IdValidUntil).is_empty());

    app.applicant.id_valid_from = "not a date".into();
    let report = validate(&app, today());
    assert_eq!(
        kinds(&report, Field::IdValidFrom),
        vec![ProblemKind::Invalid]
    );
}

#[test]
fn eligibility_decides_what_blocks() {
    let mut app = example();
    app.eligibility = Eligibility::Ineligible {
        checked_at: Utc::now(),
        reason: "已有有效第三代社保卡".into(),
    };
    let report = validate(&app, today());
    assert_eq!(
        kinds(&report, Field::Eligibility),
        vec![ProblemKind::Invalid]
    );
    assert!(messages(&report, Field::Eligibility).contains("已有有效第三代社保卡"));

    app.eligibility = Eligibility::Pending {
        requested_at: Utc::now(),
    };
    let report = validate(&app, today());
    assert_eq!(
        kinds(&report, Field::Eligibility),
        vec![ProblemKind::Warning]
    );
    assert!(
        report.is_ready_to_submit(),
        "待校验 may be submitted; checked before delivery"
    );

    app.eligibility = Eligibility::NotChecked;
    let report = validate(&app, today());
    assert_eq!(
        kinds(&report, Field::Eligibility),
        vec![ProblemKind::Missing]
    );
}

#[test]
fn branch_pickup_needs_the_central_api_to_allow_it() {
    let mut app = example();
    app.pickup.method = Some(PickupMethod::BranchPickup);
    let report = validate(&app, today());
    assert_eq!(
        kinds(&report, Field::PickupMethod),
        vec![ProblemKind::Invalid]
    );
    assert!(messages(&report, Field::PickupMethod).contains("银行邮寄"));

    app.eligibility = Eligibility::Eligible {
        checked_at: Utc::now(),
        allowed_pickup: vec![PickupMethod::BankMail, PickupMethod::BranchPickup],
    };
    app.pickup.mail = Default::default();
    let report = validate(&app, today());
    assert!(
        report.is_ready_to_submit(),
        "mail fields not needed for branch pickup"
    );
}

#[test]
fn mailing_fields_are_checked_and_a_non_beijing_postcode_warns() {
    let mut app = example();
    app.pickup.mail.postcode = "200000".into();
    app.pickup.mail.recipient_mobile = "1380013800".into();
    app.pickup.mail.district = "310101".into();
    app.pickup.mail.recipient_name = "".into();
    let report = validate(&app, today());
    assert_eq!(kinds(&report, Field::Postcode), vec![ProblemKind::Warning]);
    assert_eq!(
        kinds(&report, Field::RecipientMobile),
        vec![ProblemKind::Invalid]
    );
    assert_eq!(
        kinds(&report, Field::RecipientDistrict),
        vec![ProblemKind::Invalid]
    );
    assert_eq!(
        kinds(&report, Field::RecipientName),
        vec![ProblemKind::Missing]
    );
    assert!(messages(&report, Field::RecipientName).contains("收件人姓名"));
}

#[test]
fn other_documents_have_their_own_number_rules() {
    let mut app = example();
    app.applicant.id_type = IdType::HkMacaoPermit;
    app.applicant.id_number = "H12345678".into();
    app.applicant.name = "Chan Tai Man".into();
    app.applicant.nationality = "HKG".into();
    let report = validate(&app, today());
    assert!(kinds(&report, Field::IdNumber).is_empty(), "{report:#?}");
    assert!(kinds(&report, Field::Name).is_empty());
    assert!(kinds(&report, Field::Nationality).is_empty());
    app.applicant.id_number = "H1234-678".into();
    assert_eq!(
        kinds(&validate(&app, today()), Field::IdNumber),
        vec![ProblemKind::Invalid]
    );
}

#[test]
fn a_resident_id_holder_is_chinese() {
    let mut app = example();
    app.applicant.nationality = "USA".into();
    let report = validate(&app, today());
    assert!(messages(&report, Field::Nationality).contains("中国"));
}

#[test]
fn nothing_but_the_declaration_missing_blocks_only_the_review_step() {
    let mut app = example();
    app.consents.declaration_agreed_at = None;
    let report = validate(&app, today());
    assert_eq!(report.step_state(Step::Review), StepState::Incomplete);
    assert_eq!(report.step_state(Step::Pickup), StepState::Complete);
    assert!(!report.is_ready_to_submit());
}

proptest! {
    #[test]
    fn validation_never_panics_whatever_was_typed(
        name in "\\PC{0,12}", id in "[0-9Xx ]{0,20}", date in "[0-9/-]{0,12}",
        mobile in "\\PC{0,14}", postcode in "\\PC{0,8}", district in "[0-9]{0,6}",
        address in "\\PC{0,30}",
    ) {
        let mut app = example();
        app.applicant.name = name.clone();
        app.applicant.id_number = id;
        app.applicant.birth_date = date.clone();
        app.applicant.id_valid_from = date.clone();
        app.applicant.id_valid_until = ValidUntil::Date(date);
        app.applicant.mobile = mobile.clone();
        app.residence.district = district.clone();
        app.residence.address = address.clone();
        app.pickup.mail.recipient_name = name;
        app.pickup.mail.recipient_mobile = mobile;
        app.pickup.mail.postcode = postcode;
        app.pickup.mail.district = district;
        app.pickup.mail.address = address;
        let report = validate(&app, today());
        for p in &report.problems {
            prop_assert!(!p.message.is_empty());
        }
    }
}

#[test]
fn every_field_has_its_own_api_path() {
    use sbk_counter::domain::Field;
    let mut seen = std::collections::HashSet::new();
    for f in Field::ALL {
        assert!(seen.insert(f.api_path()), "{f:?} shares its path");
        assert_eq!(Field::from_api_path(f.api_path()), Some(f));
    }
    assert_eq!(Field::from_api_path("applicant.nothing"), None);
}

#[test]
fn a_number_read_from_the_card_that_differs_from_the_form_is_shown_until_it_agrees() {
    let mut app = example();
    let typed = app.applicant.id_number.clone();
    // Read from the front photo: another person's card (or a digit typed wrong).
    app.id_number_on_card = Some("110105195203154524".into());
    let report = validate(&app, today());
    let p = report
        .problems
        .iter()
        .find(|p| p.field == Field::IdFrontPhoto)
        .expect("the difference is shown at the ID photos");
    assert!(
        !p.blocks_submission(),
        "advice for the clerk: the reading may be wrong"
    );
    assert!(
        p.message.contains("110105195203154524") && p.message.contains(&typed),
        "{}",
        p.message
    );
    // The same number, written with a small x: nothing to say.
    app.id_number_on_card = Some(typed.to_lowercase());
    assert!(
        !validate(&app, today())
            .problems
            .iter()
            .any(|p| p.field == Field::IdFrontPhoto)
    );
}
