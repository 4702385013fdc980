//! What each wizard step shows, and how each field reads from and writes to the one
//! `Application`. Screens hold no copy of a field: they call `text_of` to draw and
//! `set_text` / `choose` / `toggle` to change the model.

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::application::{Eligibility, IdType, PickupMethod, ValidUntil};
use crate::domain::refdata::refdata;
use crate::domain::{Application, Field, Gender, Step};
use crate::store::PhotoKind;

/// How a field is edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// Free text (names, numbers, addresses).
    Text,
    /// A date typed as 19491231, 1949-12-31 or 1949/12/31 (the validity end also takes 长期).
    Date,
    /// One of a list, chosen in a filterable popup.
    Choice,
    /// A consent box, ticked with Space.
    Check,
    /// A photo, imported from the photo folder.
    Photo(PhotoKind),
    /// Shown, never edited (the issuing bank and branch).
    Locked,
    /// An action.
    Button(Button),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Button {
    /// 开始资格校验.
    CheckEligibility,
    /// 同申领人: fill the recipient from the applicant.
    SameAsApplicant,
    /// 提交.
    Submit,
}

impl Button {
    pub fn label(self) -> &'static str {
        match self {
            Button::CheckEligibility => "开始资格校验",
            Button::SameAsApplicant => "收件人同申领人",
            Button::Submit => "提交",
        }
    }
}

/// One row of a step: the field it edits (for buttons, the field its result shows on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    pub field: Field,
    pub input: Input,
}

const fn row(field: Field, input: Input) -> Row {
    Row { field, input }
}

/// The rows of a step, in the guide's order. Pickup shows the mailing fields only for mail.
pub fn rows(step: Step, app: &Application) -> Vec<Row> {
    use Field::*;
    match step {
        Step::Disclaimer => vec![row(DisclaimerConsent, Input::Check)],
        Step::Applicant => vec![
            row(Name, Input::Text),
            row(IdType, Input::Choice),
            row(IdNumber, Input::Text),
            row(AccessAuthorisation, Input::Check),
            row(InPersonCheck, Input::Check),
            row(Eligibility, Input::Button(Button::CheckEligibility)),
        ],
        Step::IdentityPhotos => vec![
            row(IdFrontPhoto, Input::Photo(PhotoKind::IdFront)),
            row(IdBackPhoto, Input::Photo(PhotoKind::IdBack)),
        ],
        Step::BasicInfo => vec![
            row(IdValidFrom, Input::Date),
            row(IdValidUntil, Input::Date),
            row(Gender, Input::Choice),
            row(BirthDate, Input::Date),
            row(Nationality, Input::Choice),
            row(Ethnicity, Input::Choice),
            row(District, Input::Choice),
            row(Address, Input::Text),
            row(Mobile, Input::Text),
            row(Occupation, Input::Choice),
        ],
        Step::CardInfo => vec![
            row(CardPhoto, Input::Photo(PhotoKind::CardPhoto)),
            row(CardIssuer, Input::Locked),
        ],
        Step::Pickup => {
            let mut v = vec![row(PickupMethod, Input::Choice)];
            if app.pickup.method == Some(crate::domain::PickupMethod::BankMail) {
                v.extend([
                    row(RecipientName, Input::Button(Button::SameAsApplicant)),
                    row(RecipientName, Input::Text),
                    row(RecipientMobile, Input::Text),
                    row(RecipientDistrict, Input::Choice),
                    row(Postcode, Input::Text),
                    row(MailAddress, Input::Text),
                ]);
            }
            v
        }
        Step::Review => vec![
            row(Declaration, Input::Check),
            row(Declaration, Input::Button(Button::Submit)),
        ],
    }
}

/// The text a field shows (codes turned into names).
pub fn text_of(app: &Application, field: Field) -> String {
    let a = &app.applicant;
    let m = &app.pickup.mail;
    let refs = refdata();
    match field {
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
        Field::IdFrontPhoto | Field::IdBackPhoto | Field::CardPhoto => {
            let p = match field {
                Field::IdFrontPhoto => &app.photos.id_front,
                Field::IdBackPhoto => &app.photos.id_back,
                _ => &app.photos.card_photo,
            };
            match p {
                Some(p) => format!(
                    "已导入 {}",
                    p.source_name
                        .clone()
                        .unwrap_or_else(|| p.sha256[..8].to_owned())
                ),
                None => String::new(),
            }
        }
        Field::DisclaimerConsent
        | Field::AccessAuthorisation
        | Field::InPersonCheck
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

/// Write typed text into a text or date field.
pub fn set_text(app: &mut Application, field: Field, text: &str) {
    let a = &mut app.applicant;
    let m = &mut app.pickup.mail;
    match field {
        Field::Name => a.name = text.into(),
        Field::IdNumber => a.id_number = text.into(),
        Field::IdValidFrom => a.id_valid_from = text.into(),
        Field::IdValidUntil => {
            a.id_valid_until = match text.trim() {
                "长期" | "cq" | "CQ" => ValidUntil::LongTerm,
                _ => ValidUntil::Date(text.into()),
            }
        }
        Field::BirthDate => a.birth_date = text.into(),
        Field::Address => app.residence.address = text.into(),
        Field::Mobile => a.mobile = text.into(),
        Field::RecipientName => m.recipient_name = text.into(),
        Field::RecipientMobile => m.recipient_mobile = text.into(),
        Field::Postcode => m.postcode = text.into(),
        Field::MailAddress => m.address = text.into(),
        _ => {}
    }
}

/// Tidy a field the clerk has left (see `Application::tidy`).
pub fn on_leave(app: &mut Application, field: Field, today: NaiveDate) {
    app.tidy(field, today);
}

/// Gender and birth date follow from a valid 18-digit number.
pub fn fill_from_id(app: &mut Application, today: NaiveDate) {
    app.fill_from_id(today);
}

/// The options of a choice field: (code, label).
pub fn options(app: &Application, field: Field) -> Vec<(String, String)> {
    let refs = refdata();
    let pair = |c: &str, n: &str| (c.to_owned(), n.to_owned());
    match field {
        Field::IdType => IdType::ALL
            .iter()
            .map(|t| pair(t.key(), t.label()))
            .collect(),
        Field::Gender => vec![pair("male", "男"), pair("female", "女")],
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

/// The code the model holds for a choice field (to preselect it in the popup).
pub fn current_code(app: &Application, field: Field) -> String {
    match field {
        Field::IdType => app.applicant.id_type.key().into(),
        Field::Gender => match app.applicant.gender {
            Some(Gender::Male) => "male".into(),
            Some(Gender::Female) => "female".into(),
            None => String::new(),
        },
        Field::Nationality => app.applicant.nationality.clone(),
        Field::Ethnicity => app.applicant.ethnicity.clone(),
        Field::District => app.residence.district.clone(),
        Field::RecipientDistrict => app.pickup.mail.district.clone(),
        Field::Occupation => app.occupation.clone(),
        Field::PickupMethod => app
            .pickup
            .method
            .map(|m| m.key().to_owned())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// Set a choice field to the option with `code`.
pub fn choose(app: &mut Application, field: Field, code: &str, today: NaiveDate) {
    match field {
        Field::IdType => {
            if let Some(t) = IdType::ALL.into_iter().find(|t| t.key() == code) {
                app.applicant.id_type = t;
                fill_from_id(app, today);
            }
        }
        Field::Gender => {
            app.applicant.gender = match code {
                "male" => Some(Gender::Male),
                "female" => Some(Gender::Female),
                _ => None,
            }
        }
        Field::Nationality => app.applicant.nationality = code.into(),
        Field::Ethnicity => app.applicant.ethnicity = code.into(),
        Field::District => app.residence.district = code.into(),
        // The postcode is not guessed from the district (a district has many).
        Field::RecipientDistrict => app.pickup.mail.district = code.into(),
        Field::Occupation => app.occupation = code.into(),
        Field::PickupMethod => app.pickup.method = PickupMethod::from_key(code),
        _ => {}
    }
}

/// When a consent was given, if it was.
pub fn consent(app: &Application, field: Field) -> Option<DateTime<Utc>> {
    let c = &app.consents;
    match field {
        Field::DisclaimerConsent => c.disclaimer_agreed_at,
        Field::AccessAuthorisation => c.access_authorised_at,
        Field::InPersonCheck => c.identity_verified_in_person_at,
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
    let keys = crate::store::search::name_keys(label);
    keys.initials.starts_with(&f) || keys.pinyin.starts_with(&f)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_valid_id_fills_gender_and_birth_date_on_leaving() {
        let mut app = Application::new(Utc::now());
        set_text(&mut app, Field::IdNumber, "110105 19491231 002x");
        on_leave(
            &mut app,
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
        set_text(&mut app, Field::IdValidFrom, "2010/5/1");
        on_leave(&mut app, Field::IdValidFrom, today);
        assert_eq!(app.applicant.id_valid_from, "2010-05-01");
        set_text(&mut app, Field::IdValidUntil, "长期");
        assert_eq!(app.applicant.id_valid_until, ValidUntil::LongTerm);
        assert_eq!(text_of(&app, Field::IdValidUntil), "长期");
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
