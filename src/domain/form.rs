//! Every field of the form, read and written one way: `text` is what the form shows,
//! `value` what the model holds in its own terms (a code, a key, a date as typed),
//! `set_value` writes such a value (a choice picked, the registry's or the card's data),
//! and `type_text` writes what the clerk typed. Screens, the review page, the comparison
//! of outside values and imports all go through these; none keeps its own copy.

use chrono::{DateTime, Utc};

use super::application::{
    Application, AppliedBy, Eligibility, IdType, PickupMethod, Status, ValidUntil,
};
use super::field::Field;
use super::id_number::Gender;
use super::refdata::refdata;

/// What the form shows for a field (codes as names, 长期, a tick, a photo's file).
pub fn text(app: &Application, field: Field) -> String {
    let a = &app.applicant;
    let m = &app.pickup.mail;
    let refs = refdata();
    let agent = &app.agent;
    match field {
        Field::AppliedBy => app.applied_by.label().into(),
        Field::AgentName => agent.name.clone(),
        Field::AgentIdType => agent.id_type.label().into(),
        Field::AgentIdNumber => agent.id_number.clone(),
        Field::AgentRelation => refs
            .agent_relation(&agent.relation)
            .map(|r| r.name.to_owned())
            .unwrap_or_else(|| agent.relation.clone()),
        Field::AgentMobile => agent.mobile.clone(),
        Field::Name => a.name.clone(),
        Field::IdType => a.id_type.label().into(),
        Field::IdNumber => a.id_number.clone(),
        Field::IdValidFrom => a.id_valid_from.clone(),
        Field::IdValidUntil => match &a.id_valid_until {
            ValidUntil::LongTerm => "长期".into(),
            ValidUntil::Date(d) => d.clone(),
        },
        Field::Gender => a.gender.map(|g| g.label().to_owned()).unwrap_or_default(),
        Field::BirthDate => a.birth_date.clone(),
        Field::Nationality => refs
            .nationality(&a.nationality)
            .map(|n| n.name.to_owned())
            .unwrap_or_else(|| a.nationality.clone()),
        Field::Ethnicity => refs
            .ethnic_group(&a.ethnicity)
            .map(|e| e.name.to_owned())
            .unwrap_or_else(|| a.ethnicity.clone()),
        Field::District => district_name(&app.residence.district),
        Field::Address => app.residence.address.clone(),
        Field::Mobile => a.mobile.clone(),
        Field::Occupation => refs
            .occupation(&app.occupation)
            .map(|o| o.name.to_owned())
            .unwrap_or_else(|| app.occupation.clone()),
        Field::CardIssuer => app
            .card_issuer
            .as_ref()
            .map(|c| format!("{}  {}", c.bank_name, c.branch_name))
            .unwrap_or_else(|| match app.eligibility {
                Eligibility::Pending { .. } => {
                    "待校验：联网校验后自动带出（与养老金代发银行一致）".into()
                }
                _ => "资格校验后自动带出（与养老金代发银行一致，不可修改）".into(),
            }),
        Field::PickupMethod => app
            .pickup
            .method
            .map(|p| p.label().to_owned())
            .unwrap_or_default(),
        Field::RecipientName => m.recipient_name.clone(),
        Field::RecipientMobile => m.recipient_mobile.clone(),
        Field::RecipientDistrict => district_name(&m.district),
        Field::Postcode => m.postcode.clone(),
        Field::MailAddress => m.address.clone(),
        Field::Eligibility => match &app.eligibility {
            Eligibility::NotChecked => "未校验".into(),
            Eligibility::Pending { .. } => "待校验（离线：联网后提交前自动校验）".into(),
            Eligibility::Eligible { .. } => "校验通过".into(),
            Eligibility::Ineligible { reason, .. } => format!("未通过：{reason}"),
        },
        Field::IdFrontPhoto
        | Field::IdBackPhoto
        | Field::CardPhoto
        | Field::AgentIdPhoto
        | Field::AuthorisationPhoto => match app.photo_of(field) {
            Some(p) => format!(
                "已导入 {}",
                p.source_name
                    .clone()
                    .unwrap_or_else(|| p.sha256[..8].to_owned())
            ),
            None => String::new(),
        },
        Field::DisclaimerConsent
        | Field::AccessAuthorisation
        | Field::InPersonCheck
        | Field::AgentIdCheck
        | Field::ApplicantIdCheck
        | Field::Declaration => if consent(app, field).is_some() {
            "☑"
        } else {
            "☐"
        }
        .into(),
    }
}

fn district_name(code: &str) -> String {
    refdata()
        .district(code)
        .map(|d| d.name.to_owned())
        .unwrap_or_else(|| code.to_owned())
}

/// What the model holds for a field, in the model's terms: a choice's code, `male` or
/// `female`, `long_term` for 长期, a date or text as typed. (Empty when not set.) The
/// counterpart of `set_value`.
pub fn value(app: &Application, field: Field) -> String {
    let a = &app.applicant;
    match field {
        Field::AppliedBy => app.applied_by.key().into(),
        Field::AgentIdType => app.agent.id_type.key().into(),
        Field::AgentRelation => app.agent.relation.clone(),
        Field::IdType => a.id_type.key().into(),
        Field::Gender => a.gender.map(|g| g.key().to_owned()).unwrap_or_default(),
        Field::IdValidUntil => match &a.id_valid_until {
            ValidUntil::LongTerm => "long_term".into(),
            ValidUntil::Date(d) => d.clone(),
        },
        Field::Nationality => a.nationality.clone(),
        Field::Ethnicity => a.ethnicity.clone(),
        Field::District => app.residence.district.clone(),
        Field::RecipientDistrict => app.pickup.mail.district.clone(),
        Field::Occupation => app.occupation.clone(),
        Field::PickupMethod => app
            .pickup
            .method
            .map(|m| m.key().to_owned())
            .unwrap_or_default(),
        other => text(app, other),
    }
}

/// Write a value in the model's terms (see `value`): a choice picked from a list, or data
/// from outside (the registry, the ID card). Fields not set this way (photos, consents,
/// the issuer) are left alone. What follows from a value (gender and birth date from the
/// document) is the caller's: `Application::tidy`, `fill_from_id`.
pub fn set_value(app: &mut Application, field: Field, value: &str) {
    let a = &mut app.applicant;
    let agent = &mut app.agent;
    match field {
        Field::AppliedBy => {
            if let Some(by) = AppliedBy::from_key(value) {
                app.applied_by = by;
            }
        }
        Field::AgentName => agent.name = value.into(),
        Field::AgentIdType => {
            if let Some(t) = IdType::ALL.into_iter().find(|t| t.key() == value) {
                agent.id_type = t;
            }
        }
        Field::AgentIdNumber => agent.id_number = value.into(),
        Field::AgentRelation => agent.relation = value.into(),
        Field::AgentMobile => agent.mobile = value.into(),
        Field::Name => a.name = value.into(),
        Field::IdNumber => a.id_number = value.into(),
        Field::IdType => {
            if let Some(t) = IdType::ALL.into_iter().find(|t| t.key() == value) {
                a.id_type = t;
            }
        }
        Field::IdValidFrom => a.id_valid_from = value.into(),
        Field::IdValidUntil => {
            a.id_valid_until = if value == "long_term" {
                ValidUntil::LongTerm
            } else {
                ValidUntil::Date(value.into())
            }
        }
        Field::Gender => a.gender = Gender::from_key(value),
        Field::BirthDate => a.birth_date = value.into(),
        Field::Nationality => a.nationality = value.into(),
        Field::Ethnicity => a.ethnicity = value.into(),
        Field::Mobile => a.mobile = value.into(),
        Field::District => app.residence.district = value.into(),
        Field::Address => app.residence.address = value.into(),
        Field::Occupation => app.occupation = value.into(),
        Field::PickupMethod => app.pickup.method = PickupMethod::from_key(value),
        // The postcode is not guessed from the district (a district has many).
        Field::RecipientDistrict => app.pickup.mail.district = value.into(),
        Field::RecipientName => app.pickup.mail.recipient_name = value.into(),
        Field::RecipientMobile => app.pickup.mail.recipient_mobile = value.into(),
        Field::Postcode => app.pickup.mail.postcode = value.into(),
        Field::MailAddress => app.pickup.mail.address = value.into(),
        _ => {}
    }
}

/// Write what the clerk typed into a text or date field, as typed (a half-typed date
/// survives a crash); the validity end takes 长期 or cq as 长期.
pub fn type_text(app: &mut Application, field: Field, typed: &str) {
    match field {
        Field::IdValidUntil => {
            app.applicant.id_valid_until = match typed.trim() {
                "长期" | "cq" | "CQ" => ValidUntil::LongTerm,
                _ => ValidUntil::Date(typed.into()),
            }
        }
        Field::Name
        | Field::AgentName
        | Field::AgentIdNumber
        | Field::AgentMobile
        | Field::IdNumber
        | Field::IdValidFrom
        | Field::BirthDate
        | Field::Address
        | Field::Mobile
        | Field::RecipientName
        | Field::RecipientMobile
        | Field::Postcode
        | Field::MailAddress => set_value(app, field, typed),
        _ => {}
    }
}

/// The options of a choice field: (code, label).
pub fn options(app: &Application, field: Field) -> Vec<(String, String)> {
    let refs = refdata();
    let pair = |c: &str, n: &str| (c.to_owned(), n.to_owned());
    match field {
        Field::AppliedBy => AppliedBy::ALL
            .iter()
            .map(|a| pair(a.key(), a.label()))
            .collect(),
        Field::IdType | Field::AgentIdType => IdType::ALL
            .iter()
            .map(|t| pair(t.key(), t.label()))
            .collect(),
        Field::AgentRelation => refs
            .agent_relations
            .iter()
            .map(|r| pair(r.code, r.name))
            .collect(),
        Field::Gender => Gender::ALL
            .iter()
            .map(|g| pair(g.key(), g.label()))
            .collect(),
        Field::Nationality => refs
            .nationalities
            .iter()
            .map(|n| pair(n.code, n.name))
            .collect(),
        Field::Ethnicity => refs
            .ethnic_groups
            .iter()
            .map(|e| pair(e.code, e.name))
            .collect(),
        Field::District | Field::RecipientDistrict => refs
            .districts
            .iter()
            .map(|d| pair(d.code, d.name))
            .collect(),
        Field::Occupation => refs
            .occupations
            .iter()
            .map(|o| pair(o.code, o.name))
            .collect(),
        Field::PickupMethod => {
            let allowed = match &app.eligibility {
                Eligibility::Eligible { allowed_pickup, .. } => allowed_pickup.clone(),
                // Until the central API says otherwise, retirees have bank mail only; branch
                // pickup is offered but validation warns.
                _ => vec![PickupMethod::BankMail, PickupMethod::BranchPickup],
            };
            allowed
                .into_iter()
                .map(|m| (m.key().to_owned(), m.label().to_owned()))
                .collect()
        }
        _ => Vec::new(),
    }
}

/// When a consent was given, if it was.
pub fn consent(app: &Application, field: Field) -> Option<DateTime<Utc>> {
    let c = &app.consents;
    match field {
        Field::DisclaimerConsent => c.disclaimer_agreed_at,
        Field::AccessAuthorisation => c.access_authorised_at,
        Field::InPersonCheck => c.identity_verified_in_person_at,
        Field::AgentIdCheck => c.agent_id_card_checked_at,
        Field::ApplicantIdCheck => c.applicant_id_card_checked_at,
        Field::Declaration => c.declaration_agreed_at,
        _ => None,
    }
}

/// Tick or untick a consent box, recording when it was ticked.
pub fn toggle(app: &mut Application, field: Field, now: DateTime<Utc>) {
    let c = &mut app.consents;
    let slot = match field {
        Field::DisclaimerConsent => &mut c.disclaimer_agreed_at,
        Field::AccessAuthorisation => &mut c.access_authorised_at,
        Field::InPersonCheck => &mut c.identity_verified_in_person_at,
        Field::AgentIdCheck => &mut c.agent_id_card_checked_at,
        Field::ApplicantIdCheck => &mut c.applicant_id_card_checked_at,
        Field::Declaration => &mut c.declaration_agreed_at,
        _ => return,
    };
    *slot = if slot.is_some() { None } else { Some(now) };
}

/// The label a consent box shows beside its tick.
pub fn check_label(field: Field) -> &'static str {
    match field {
        Field::DisclaimerConsent => "我同意",
        Field::AccessAuthorisation => "访问授权：同意查询本人参保和身份信息用于申领",
        Field::InPersonCheck => "已当面核验本人身份证原件（代替人脸识别）",
        Field::AgentIdCheck => "已核验代办人身份证原件（代办人本人到场）",
        Field::ApplicantIdCheck => "已核验申领人身份证原件（代办人带来）",
        Field::Declaration => "我已阅读并同意",
        _ => "",
    }
}

/// Whether an option matches what the clerk typed in the list's filter: the name
/// contains it, the code starts with it, or the name's pinyin (initials or full) does.
pub fn option_matches(code: &str, label: &str, filter: &str) -> bool {
    let f = filter.trim().to_lowercase();
    if f.is_empty() {
        return true;
    }
    if label.contains(&f) || code.to_lowercase().starts_with(&f) {
        return true;
    }
    let keys = super::pinyin::name_keys(label);
    keys.initials.starts_with(&f) || keys.pinyin.starts_with(&f)
}

/// Why the clerk may not change a field of an editable application, if not. Once a 代办
/// application has been submitted, who applied and the agent's data stay as submitted
/// (as in the online 代办); a return that names one of them opens that one.
pub fn locked(app: &Application, field: Field) -> Option<&'static str> {
    if app.status != Status::Returned || field.step() != super::Step::AppliedBy {
        return None;
    }
    let named = app
        .returned
        .as_ref()
        .is_some_and(|n| n.fields.iter().any(|f| f.field() == Some(field)));
    (!named).then_some("已提交过的申领，申领方式和代办人信息不能修改")
}

/// Whether the photos of an application have gone to the central API (they are uploaded
/// as it is delivered): until then they are only on this PC.
pub fn photos_uploaded(app: &Application) -> bool {
    !matches!(
        app.status,
        Status::Draft | Status::Ready | Status::Queued | Status::Returned
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn typing_chao_or_cy_narrows_to_chaoyang() {
        let app = Application::new(Utc::now());
        let matches = |f: &str| -> Vec<String> {
            options(&app, Field::District)
                .into_iter()
                .filter(|(c, l)| option_matches(c, l, f))
                .map(|(_, l)| l)
                .collect()
        };
        assert_eq!(matches("朝"), vec!["朝阳区"]);
        assert_eq!(matches("cy"), vec!["朝阳区"]);
        assert_eq!(matches("chaoy"), vec!["朝阳区"]);
        assert_eq!(matches("").len(), 16);
    }

    #[test]
    fn a_valid_id_fills_gender_and_birth_date_once_typed_in_full() {
        let mut app = Application::new(Utc::now());
        type_text(&mut app, Field::IdNumber, "110105 19491231 002x");
        app.tidy(
            Field::IdNumber,
            NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
        );
        assert_eq!(app.applicant.id_number, "11010519491231002X");
        assert_eq!(app.applicant.gender, Some(Gender::Female));
        assert_eq!(app.applicant.birth_date, "1949-12-31");
    }

    #[test]
    fn dates_are_tidied_and_long_term_is_typed_as_a_word() {
        let mut app = Application::new(Utc::now());
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        type_text(&mut app, Field::IdValidFrom, "2010/5/1");
        app.tidy(Field::IdValidFrom, today);
        assert_eq!(app.applicant.id_valid_from, "2010-05-01");
        type_text(&mut app, Field::IdValidUntil, "长期");
        assert_eq!(app.applicant.id_valid_until, ValidUntil::LongTerm);
        assert_eq!(text(&app, Field::IdValidUntil), "长期");
        assert_eq!(value(&app, Field::IdValidUntil), "long_term");
    }

    #[test]
    fn every_value_read_is_written_back_the_same() {
        let app = crate::domain::synthetic::application(
            &mut crate::domain::synthetic::Rng::new(6),
            Utc::now(),
            0,
        );
        use Field::*;
        for field in [
            Name,
            IdNumber,
            IdType,
            IdValidFrom,
            IdValidUntil,
            Gender,
            BirthDate,
            Nationality,
            Ethnicity,
            Mobile,
            District,
            Address,
            Occupation,
            PickupMethod,
            RecipientName,
            RecipientMobile,
            RecipientDistrict,
            Postcode,
            MailAddress,
        ] {
            let v = value(&app, field);
            assert!(
                !v.is_empty(),
                "{field:?} is filled in the synthetic application"
            );
            let mut other = Application::new(Utc::now());
            set_value(&mut other, field, &v);
            assert_eq!(value(&other, field), v, "{field:?}");
        }
    }

    #[test]
    fn consents_record_when_they_were_given() {
        let mut app = Application::new(Utc::now());
        let now = Utc::now();
        toggle(&mut app, Field::Declaration, now);
        assert_eq!(consent(&app, Field::Declaration), Some(now));
        toggle(&mut app, Field::Declaration, now);
        assert_eq!(consent(&app, Field::Declaration), None);
    }
}
