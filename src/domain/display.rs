//! An application as people read it: grouped by wizard step, labels from the guide, codes
//! turned into names. `sbk drafts show` prints it; the review page (确认提交) draws it.
//! Personal numbers are masked unless `reveal` is set.

use super::application::{Application, Eligibility, ValidUntil};
use super::field::{Field, Step};
use super::refdata::refdata;

/// The application as a masked view shows it: ID number and mobiles masked, the birth date
/// cut to its year (the eight digits a masked number hides are the birth date), the
/// photos' file names gone (a scanner names files by the ID number). Everything masked
/// lists, `drafts show` and exports print without `--reveal` comes from this copy.
pub fn masked(app: &Application) -> Application {
    let mut m = app.clone();
    let a = &mut m.applicant;
    a.id_number = mask_id(a.id_number.trim());
    a.mobile = mask_mobile(&a.mobile);
    a.birth_date = mask_birth_date(&a.birth_date);
    m.pickup.mail.recipient_mobile = mask_mobile(&m.pickup.mail.recipient_mobile);
    m.agent.id_number = mask_id(m.agent.id_number.trim());
    m.agent.mobile = mask_mobile(&m.agent.mobile);
    m.id_number_on_card = m.id_number_on_card.as_deref().map(|n| mask_id(n.trim()));
    for slot in super::PhotoSlot::ALL {
        if let Some(p) = m.photo_mut(slot) {
            p.source_name = None;
        }
    }
    m
}

/// One step's fields as (field, shown value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub step: Step,
    pub rows: Vec<(Field, String)>,
}

use super::mask::{mask_birth_date, mask_id};
pub use super::mask::{mask_middle, mask_mobile};

/// Text from the store as it may be printed to a terminal: control characters (an escape
/// sequence would drive the terminal) and bidirectional overrides (which reorder what is
/// shown) become �. Input refuses them; this keeps data from elsewhere harmless.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let bad =
        |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if text.chars().any(bad) {
        text.chars()
            .map(|c| if bad(c) { '\u{fffd}' } else { c })
            .collect::<String>()
            .into()
    } else {
        text.into()
    }
}

fn or_blank(s: &str) -> String {
    if s.trim().is_empty() {
        "（未填）".into()
    } else {
        printable(s.trim()).into_owned()
    }
}

fn district_name(code: &str) -> String {
    refdata()
        .district(code)
        .map(|d| d.name.to_owned())
        .unwrap_or_else(|| or_blank(code))
}

fn tick(given: bool) -> String {
    if given {
        "☑ 已勾选"
    } else {
        "☐ 未勾选"
    }
    .into()
}

/// The groups of the review page, in step order (the disclaimer and the review's own
/// declaration are consents, shown with the steps they belong to).
pub fn review_groups(app: &Application, reveal: bool) -> Vec<Group> {
    let masked;
    let app = if reveal {
        app
    } else {
        masked = self::masked(app);
        &masked
    };
    let a = &app.applicant;
    let refs = refdata();
    let id = or_blank(&a.id_number);
    let mobile = or_blank;
    // Photos are uploaded as the application is delivered: until then they are only on
    // this PC.
    let uploaded = !matches!(
        app.status,
        super::Status::Draft
            | super::Status::Ready
            | super::Status::Queued
            | super::Status::Returned
    );
    let photo = |p: &Option<super::application::PhotoRef>| match p {
        Some(p) if uploaded => format!("已上传（{}）", &p.sha256[..p.sha256.len().min(8)]),
        Some(p) => match p.source_name.as_deref().filter(|n| !n.trim().is_empty()) {
            Some(name) => format!("已导入 {name}"),
            None => format!("已导入（{}）", &p.sha256[..p.sha256.len().min(8)]),
        },
        None => "（未导入）".into(),
    };
    let eligibility = match &app.eligibility {
        Eligibility::NotChecked => "未校验".to_owned(),
        Eligibility::Pending { .. } => "待校验（联网后自动校验）".to_owned(),
        Eligibility::Eligible { .. } => "校验通过".to_owned(),
        Eligibility::Ineligible { reason, .. } => format!("未通过：{reason}"),
    };
    let until = match &a.id_valid_until {
        ValidUntil::LongTerm => "长期".to_owned(),
        ValidUntil::Date(d) => or_blank(d),
    };
    let issuer = app
        .card_issuer
        .as_ref()
        .map(|c| format!("{} {}", c.bank_name, c.branch_name))
        .unwrap_or_else(|| "（资格校验后自动带出）".into());
    let mut pickup_rows = vec![(
        Field::PickupMethod,
        app.pickup
            .method
            .map(|m| m.label().to_owned())
            .unwrap_or_else(|| "（未选）".into()),
    )];
    if app.pickup.method == Some(super::application::PickupMethod::BankMail) {
        let m = &app.pickup.mail;
        pickup_rows.extend([
            (Field::RecipientName, or_blank(&m.recipient_name)),
            (Field::RecipientMobile, mobile(&m.recipient_mobile)),
            (Field::RecipientDistrict, district_name(&m.district)),
            (Field::Postcode, or_blank(&m.postcode)),
            (Field::MailAddress, or_blank(&m.address)),
        ]);
    }
    let mut applied_by = vec![(Field::AppliedBy, app.applied_by.label().to_owned())];
    if app.by_agent() {
        let g = &app.agent;
        applied_by.extend([
            (Field::AgentName, or_blank(&g.name)),
            (Field::AgentIdType, g.id_type.label().to_owned()),
            (Field::AgentIdNumber, or_blank(&g.id_number)),
            (
                Field::AgentRelation,
                refs.agent_relation(&g.relation)
                    .map(|r| r.name.to_owned())
                    .unwrap_or_else(|| or_blank(&g.relation)),
            ),
            (Field::AgentMobile, mobile(&g.mobile)),
            (
                Field::AgentIdCheck,
                tick(app.consents.agent_id_card_checked_at.is_some()),
            ),
            (Field::AgentIdPhoto, photo(&g.photos.id_card)),
            (Field::AuthorisationPhoto, photo(&g.photos.authorisation)),
        ]);
    }
    let identity_check = if app.by_agent() {
        (
            Field::ApplicantIdCheck,
            tick(app.consents.applicant_id_card_checked_at.is_some()),
        )
    } else {
        (
            Field::InPersonCheck,
            tick(app.consents.identity_verified_in_person_at.is_some()),
        )
    };
    vec![
        Group {
            step: Step::Disclaimer,
            rows: vec![(
                Field::DisclaimerConsent,
                tick(app.consents.disclaimer_agreed_at.is_some()),
            )],
        },
        Group {
            step: Step::AppliedBy,
            rows: applied_by,
        },
        Group {
            step: Step::Applicant,
            rows: vec![
                (Field::Name, or_blank(&a.name)),
                (Field::IdType, a.id_type.label().to_owned()),
                (Field::IdNumber, id),
                (
                    Field::AccessAuthorisation,
                    tick(app.consents.access_authorised_at.is_some()),
                ),
                identity_check,
                (Field::Eligibility, eligibility),
            ],
        },
        Group {
            step: Step::IdentityPhotos,
            rows: vec![
                (Field::IdFrontPhoto, photo(&app.photos.id_front)),
                (Field::IdBackPhoto, photo(&app.photos.id_back)),
            ],
        },
        Group {
            step: Step::BasicInfo,
            rows: vec![
                (Field::IdValidFrom, or_blank(&a.id_valid_from)),
                (Field::IdValidUntil, until),
                (
                    Field::Gender,
                    a.gender
                        .map(|g| g.label().to_owned())
                        .unwrap_or_else(|| "（未填）".into()),
                ),
                (Field::BirthDate, or_blank(&a.birth_date)),
                (
                    Field::Nationality,
                    refs.nationality(&a.nationality)
                        .map(|n| n.name.to_owned())
                        .unwrap_or_else(|| or_blank(&a.nationality)),
                ),
                (
                    Field::Ethnicity,
                    refs.ethnic_group(&a.ethnicity)
                        .map(|e| e.name.to_owned())
                        .unwrap_or_else(|| or_blank(&a.ethnicity)),
                ),
                (Field::District, district_name(&app.residence.district)),
                (Field::Address, or_blank(&app.residence.address)),
                (Field::Mobile, mobile(&a.mobile)),
                (
                    Field::Occupation,
                    refs.occupation(&app.occupation)
                        .map(|o| o.name.to_owned())
                        .unwrap_or_else(|| or_blank(&app.occupation)),
                ),
            ],
        },
        Group {
            step: Step::CardInfo,
            rows: vec![
                (Field::CardPhoto, photo(&app.photos.card_photo)),
                (Field::CardIssuer, issuer),
            ],
        },
        Group {
            step: Step::Pickup,
            rows: pickup_rows,
        },
        Group {
            step: Step::Review,
            rows: vec![(
                Field::Declaration,
                tick(app.consents.declaration_agreed_at.is_some()),
            )],
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_masked_digits_are_not_given_back_beside_them() {
        let mut app = crate::domain::synthetic::application(
            &mut crate::domain::synthetic::Rng::new(5),
            chrono::Utc::now(),
            0,
        );
        app.photos.card_photo = Some(crate::domain::PhotoRef {
            sha256: "a".repeat(64),
            source_name: Some(format!("{}.jpg", app.applicant.id_number)),
        });
        let id = app.applicant.id_number.clone();
        // Read from the card too: masked as the number is.
        app.id_number_on_card = Some(id.clone());
        let json = serde_json::to_string(&masked(&app)).unwrap();
        assert!(!json.contains(&id), "{json}");
        // The eight hidden digits are the birth date: not in any form.
        let hidden = &id[6..14];
        let dashed = format!("{}-{}-{}", &id[6..10], &id[10..12], &id[12..14]);
        assert!(!json.contains(hidden) && !json.contains(&dashed), "{json}");
        // Nor the year: with the check character it would leave a few dozen candidates.
        assert!(!json.contains(&id[6..10]), "{json}");
        assert!(json.contains("****-**-**"));
    }

    fn example() -> Application {
        serde_json::from_str(include_str!("../../docs/application-example.json")).unwrap()
    }

    #[test]
    fn mobiles_are_masked_in_the_middle() {
        assert_eq!(mask_mobile("13800138000"), "138****8000");
        assert_eq!(mask_mobile("123"), "***");
    }

    #[test]
    fn groups_follow_the_steps_and_mask_unless_revealed() {
        let groups = review_groups(&example(), false);
        let steps: Vec<Step> = groups.iter().map(|g| g.step).collect();
        assert_eq!(steps, Step::ALL.to_vec());
        let text = format!("{groups:?}");
        assert!(text.contains("110105********002X"));
        assert!(text.contains("138****8000"));
        assert!(!text.contains("11010519491231002X"));
        assert!(text.contains("朝阳区") && text.contains("汉族") && text.contains("离退休人员"));
        assert!(text.contains("北京银行"));
        let revealed = format!("{:?}", review_groups(&example(), true));
        assert!(revealed.contains("11010519491231002X") && revealed.contains("13800138000"));
    }
}
