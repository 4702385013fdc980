//! 代办申领 by its rules: the agent is checked as the applicant is (name, document, check
//! character), must be an adult and not the applicant, names a relation and a phone, and
//! has their card checked; the applicant's card stands for the in-person check; the centre
//! decides whether the agent's papers are required; once submitted, who applied and the
//! agent stay as they were; the central API gets the agent without the papers.

use chrono::{Datelike, Months, NaiveDate, Utc};
use proptest::prelude::*;
use sbk_counter::api::Submission;
use sbk_counter::domain::form::{self, locked};
use sbk_counter::domain::id_number::check_character;
use sbk_counter::domain::{
    AgentPapers, Application, AppliedBy, Field, PhotoRef, ProblemKind, Report, ReturnNote,
    ReturnedField, Status, Step, StepState, validate, validate_with,
};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
}

fn example() -> Application {
    serde_json::from_str(include_str!("../docs/application-example-agent.json")).unwrap()
}

fn kinds(report: &Report, field: Field) -> Vec<ProblemKind> {
    report.for_field(field).map(|p| p.kind).collect()
}

fn message(report: &Report, field: Field) -> String {
    report
        .for_field(field)
        .map(|p| p.message.as_str())
        .collect::<Vec<_>>()
        .join(" | ")
}

/// A valid resident ID number of someone born on `birth` (a Chaoyang number).
fn id_born(birth: NaiveDate, seq: u32) -> String {
    let first17 = format!("110105{}{seq:03}", birth.format("%Y%m%d"));
    format!("{first17}{}", check_character(&first17))
}

#[test]
fn the_documented_agent_example_is_complete_and_clean() {
    let app = example();
    assert_eq!(app.applied_by, AppliedBy::Agent);
    let report = validate(&app, today());
    assert_eq!(report.problems, vec![], "no problems, not even warnings");
    for step in Step::ALL {
        assert_eq!(report.step_state(step), StepState::Complete, "{step:?}");
    }
    // The JSON shows every field of the model: it reads back to the same application.
    let json = serde_json::to_string(&app).unwrap();
    let back: Application = serde_json::from_str(&json).unwrap();
    assert_eq!(back, app);
}

#[test]
fn an_agent_with_the_applicants_number_is_refused_at_the_number() {
    let mut app = example();
    // However it is typed: spaces and a lower-case x are the same number.
    let id = app.applicant.id_number.to_lowercase();
    app.agent.id_number = format!("{} {}", &id[..6], &id[6..]);
    let report = validate(&app, today());
    assert_eq!(kinds(&report, Field::AgentIdNumber), [ProblemKind::Invalid]);
    let m = message(&report, Field::AgentIdNumber);
    assert!(m.contains("代办人不能是申领人本人"), "{m}");
    assert!(m.contains("本人申领"), "says what to do instead: {m}");
}

#[test]
fn an_agent_under_18_on_the_day_is_refused_and_18_today_is_accepted() {
    let mut app = example();
    let eighteen = today().checked_sub_months(Months::new(12 * 18)).unwrap();
    app.agent.id_number = id_born(eighteen, 11);
    let report = validate(&app, today());
    assert!(
        kinds(&report, Field::AgentIdNumber).is_empty(),
        "18 today: {}",
        message(&report, Field::AgentIdNumber)
    );
    app.agent.id_number = id_born(eighteen.succ_opt().unwrap(), 11);
    let report = validate(&app, today());
    assert_eq!(kinds(&report, Field::AgentIdNumber), [ProblemKind::Invalid]);
    let m = message(&report, Field::AgentIdNumber);
    assert!(m.contains("17 岁") && m.contains("未满 18 周岁"), "{m}");
}

#[test]
fn a_wrong_check_character_no_relation_and_a_bad_phone_are_each_said_at_the_field() {
    let mut app = example();
    let good = app.agent.id_number.clone();
    let wrong = if good.ends_with('1') { '2' } else { '1' };
    app.agent.id_number = format!("{}{wrong}", &good[..17]);
    app.agent.relation.clear();
    app.agent.mobile = "1391111222".into();
    let report = validate(&app, today());
    assert_eq!(kinds(&report, Field::AgentIdNumber), [ProblemKind::Invalid]);
    assert!(message(&report, Field::AgentIdNumber).contains("校验码错误"));
    assert_eq!(kinds(&report, Field::AgentRelation), [ProblemKind::Missing]);
    assert!(message(&report, Field::AgentRelation).contains("关系"));
    assert_eq!(kinds(&report, Field::AgentMobile), [ProblemKind::Invalid]);
    assert!(
        message(&report, Field::AgentMobile).contains("代办人手机号码是 10 位"),
        "{}",
        message(&report, Field::AgentMobile)
    );
    app.agent.relation = "neighbour".into();
    let report = validate(&app, today());
    assert_eq!(kinds(&report, Field::AgentRelation), [ProblemKind::Invalid]);
    assert_eq!(report.step_state(Step::AppliedBy), StepState::HasErrors);
    // The problems are the agent's step's, not the applicant's.
    assert_eq!(report.step_state(Step::Applicant), StepState::Complete);
}

#[test]
fn the_agents_name_follows_the_applicants_rules() {
    let mut app = example();
    app.agent.name = "李".into();
    let report = validate(&app, today());
    assert_eq!(kinds(&report, Field::AgentName), [ProblemKind::Invalid]);
    assert!(message(&report, Field::AgentName).starts_with("代办人姓名至少 2 个字"));
    app.agent.name = "Li Jianguo".into();
    assert_eq!(
        kinds(&validate(&app, today()), Field::AgentName),
        [ProblemKind::Invalid],
        "Latin letters only with a foreign document"
    );
}

#[test]
fn a_parent_younger_than_the_applicant_is_worth_a_second_look() {
    let mut app = example();
    app.agent.relation = "parent".into();
    let report = validate(&app, today());
    assert_eq!(kinds(&report, Field::AgentRelation), [ProblemKind::Warning]);
    assert!(report.is_ready_to_submit(), "a warning does not block");
}

#[test]
fn the_clerk_checks_both_cards_and_the_applicant_is_not_checked_in_person() {
    let mut app = example();
    app.consents.agent_id_card_checked_at = None;
    app.consents.applicant_id_card_checked_at = None;
    let report = validate(&app, today());
    assert_eq!(kinds(&report, Field::AgentIdCheck), [ProblemKind::Missing]);
    assert_eq!(
        kinds(&report, Field::ApplicantIdCheck),
        [ProblemKind::Missing]
    );
    assert!(kinds(&report, Field::InPersonCheck).is_empty());
    // 本人申领 asks the in-person check instead, and nothing of the agent.
    app.applied_by = AppliedBy::Applicant;
    let report = validate(&app, today());
    assert_eq!(kinds(&report, Field::InPersonCheck), [ProblemKind::Missing]);
    assert!(report.for_step(Step::AppliedBy).next().is_none());
    assert!(kinds(&report, Field::ApplicantIdCheck).is_empty());
}

#[test]
fn switching_to_in_person_and_back_loses_nothing_typed() {
    let mut app = example();
    let agent = app.agent.clone();
    form::set_value(&mut app, Field::AppliedBy, "applicant");
    assert_eq!(app.applied_by, AppliedBy::Applicant);
    assert_eq!(app.agent, agent, "kept while not used");
    form::set_value(&mut app, Field::AppliedBy, "agent");
    assert_eq!(app.agent, agent);
    assert_eq!(form::text(&app, Field::AgentRelation), "子女");
    assert_eq!(form::text(&app, Field::AppliedBy), "代办申领");
}

#[test]
fn the_centre_decides_whether_the_agents_papers_are_required() {
    let mut app = example();
    app.agent.photos.id_card = None;
    app.agent.photos.authorisation = None;
    assert!(validate_with(&app, today(), AgentPapers::default()).is_ready_to_submit());
    let strict = AgentPapers {
        id_card: true,
        authorisation: true,
    };
    let report = validate_with(&app, today(), strict);
    assert_eq!(kinds(&report, Field::AgentIdPhoto), [ProblemKind::Missing]);
    assert_eq!(
        kinds(&report, Field::AuthorisationPhoto),
        [ProblemKind::Missing]
    );
    app.agent.photos.authorisation = Some(PhotoRef {
        sha256: "c".repeat(64),
        source_name: None,
    });
    let report = validate_with(&app, today(), strict);
    assert!(kinds(&report, Field::AuthorisationPhoto).is_empty());
    // 本人申领 never asks for them.
    app.applied_by = AppliedBy::Applicant;
    assert!(
        validate_with(&app, today(), strict)
            .for_step(Step::AppliedBy)
            .next()
            .is_none()
    );
}

#[test]
fn once_submitted_the_agent_stays_unless_the_return_names_it() {
    let mut app = example();
    for field in [Field::AppliedBy, Field::AgentName, Field::AgentMobile] {
        assert_eq!(
            locked(&app, field),
            None,
            "a draft is the clerk's to change"
        );
    }
    app.status = Status::Returned;
    app.returned = Some(ReturnNote {
        at: Utc::now(),
        reason: "代办人联系电话无法接通".into(),
        fields: vec![ReturnedField {
            path: "agent.mobile".into(),
            message: "无法接通".into(),
            corrected: false,
        }],
    });
    assert!(locked(&app, Field::AppliedBy).is_some());
    assert!(locked(&app, Field::AgentName).is_some());
    assert!(locked(&app, Field::AgentIdCheck).is_some());
    assert_eq!(
        locked(&app, Field::AgentMobile),
        None,
        "named by the return"
    );
    assert_eq!(
        locked(&app, Field::CardPhoto),
        None,
        "the applicant's as any other"
    );
    // The return marks the field until it changes, then the application can go again.
    assert_eq!(
        kinds(&validate(&app, today()), Field::AgentMobile),
        [ProblemKind::Invalid]
    );
    form::type_text(&mut app, Field::AgentMobile, "13922223333");
    app.mark_edited(Field::AgentMobile);
    assert!(validate(&app, today()).is_ready_to_submit());
    assert_eq!(
        locked(&app, Field::AgentMobile),
        None,
        "still open to fix a typo"
    );
}

#[test]
fn the_submission_carries_the_agent_without_papers_and_only_its_own_checks() {
    let mut app = example();
    app.consents.identity_verified_in_person_at = Some(Utc::now());
    let sub = Submission::from_application(&app).unwrap();
    assert_eq!(sub.applied_by, AppliedBy::Agent);
    let agent = sub.agent.as_ref().unwrap();
    assert_eq!(agent.id_number, app.agent.id_number);
    assert_eq!(agent.relation, "child");
    assert_eq!(
        sub.consents.identity_verified_in_person_at, None,
        "a tick left from 本人申领 is not sent"
    );
    let json = serde_json::to_value(&sub).unwrap();
    assert!(json["agent"].get("photos").is_none(), "papers stay here");
    // Back on the server's side: the same agent, checked by the same rules.
    let again = sub.to_application(app.eligibility.clone(), Utc::now());
    assert_eq!(again.applied_by, AppliedBy::Agent);
    assert_eq!(again.agent.name, app.agent.name);
    assert!(validate(&again, today()).is_ready_to_submit());
    // 本人申领 sends no agent, whatever is kept.
    app.applied_by = AppliedBy::Applicant;
    let sub = Submission::from_application(&app).unwrap();
    assert!(sub.agent.is_none());
    assert_eq!(sub.consents.agent_id_card_checked_at, None);
    assert!(
        !serde_json::to_string(&sub)
            .unwrap()
            .contains(&app.agent.id_number)
    );
}

#[test]
fn masked_views_hide_the_agents_numbers_as_the_applicants() {
    let app = example();
    let masked = sbk_counter::domain::display::masked(&app);
    let json = serde_json::to_string(&masked).unwrap();
    assert!(!json.contains(&app.agent.id_number), "{json}");
    assert!(!json.contains(&app.agent.mobile), "{json}");
    assert!(
        !json.contains(&app.agent.id_number[6..14]),
        "birth date digits"
    );
    let groups = sbk_counter::domain::display::review_groups(&app, false);
    let agent = groups
        .iter()
        .find(|g| g.step == Step::AppliedBy)
        .expect("its own group");
    let rows: Vec<Field> = agent.rows.iter().map(|r| r.0).collect();
    assert_eq!(
        rows,
        [
            Field::AppliedBy,
            Field::AgentName,
            Field::AgentIdType,
            Field::AgentIdNumber,
            Field::AgentRelation,
            Field::AgentMobile,
            Field::AgentIdCheck,
            Field::AgentIdPhoto,
            Field::AuthorisationPhoto
        ]
    );
    assert!(format!("{:?}", agent.rows).contains("139****2222"));
}

proptest! {
    /// For any agent's birth date, the age rule refuses exactly those under 18 on the day.
    #[test]
    fn the_agent_is_refused_exactly_when_under_18(days in 0i64..40_000, seq in 0u32..1000) {
        let birth = today() - chrono::Duration::days(days);
        prop_assume!(birth.year() >= 1900);
        let mut app = example();
        app.agent.id_number = id_born(birth, seq);
        let report = validate(&app, today());
        let adult = birth.checked_add_months(Months::new(12 * 18)).unwrap() <= today();
        let refused = kinds(&report, Field::AgentIdNumber) == [ProblemKind::Invalid];
        prop_assert_eq!(refused, !adult, "{} {}", birth, message(&report, Field::AgentIdNumber));
    }

    /// Whatever the agent's number, it is never accepted when it is the applicant's.
    #[test]
    fn the_applicant_is_never_their_own_agent(days in 7_000i64..36_000, seq in 0u32..1000,
                                              lower in any::<bool>(), spaced in any::<bool>()) {
        let birth = today() - chrono::Duration::days(days);
        let mut app = example();
        let id = id_born(birth, seq);
        app.applicant.id_number = id.clone();
        app.applicant.birth_date = birth.to_string();
        let mut typed = if lower { id.to_lowercase() } else { id };
        if spaced {
            typed.insert(6, ' ');
        }
        app.agent.id_number = typed;
        let report = validate(&app, today());
        prop_assert_eq!(kinds(&report, Field::AgentIdNumber), vec![ProblemKind::Invalid]);
        prop_assert!(!report.is_ready_to_submit());
    }
}
