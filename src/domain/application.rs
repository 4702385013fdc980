//! The application model: every field of every wizard screen, in one serde type.
//!
//! A draft holds what the clerk typed, exactly as typed: text fields (dates included) are
//! strings so that a half-typed `1949-12` survives a crash and comes back on screen.
//! Validation (`super::validate`) parses them; nothing here refuses a value.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::dates::parse_date;
use super::id_number::Gender;
use super::refdata::{DEFAULT_NATIONALITY, DEFAULT_OCCUPATION};

/// One application for a third-generation social security card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Application {
    /// Stable from creation on; the store's key and the basis of idempotency keys.
    pub id: Uuid,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// 本人申领 or 代办申领 (older drafts, without it, are 本人申领).
    #[serde(default)]
    pub applied_by: AppliedBy,
    /// The agent of a 代办 application. Kept while the clerk switches to 本人申领 and back,
    /// so nothing typed is lost; only a 代办 application uses it.
    #[serde(default, skip_serializing_if = "Agent::is_empty")]
    pub agent: Agent,
    pub applicant: Applicant,
    pub residence: Residence,
    /// Occupation code from `data/occupations.csv`; the form's default is 离退休人员 (80).
    pub occupation: String,
    pub photos: Photos,
    pub eligibility: Eligibility,
    /// Issuing bank and branch: locked, filled from the eligibility answer (the bank that
    /// pays the pension, for a retiree's first card).
    pub card_issuer: Option<CardIssuer>,
    pub pickup: Pickup,
    pub consents: Consents,
    /// 申领编号, assigned by the central API once the application is delivered.
    pub application_number: Option<String>,
    /// When retention reduced it to what answers "where is my card" (name, masked ID
    /// number, application number, status): photos and other personal fields are gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purged_at: Option<DateTime<Utc>>,
    /// Fields filled from the ID card's photos (识别) that the clerk has not yet confirmed
    /// against the card; an application is not complete while any remain.
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub recognised: std::collections::BTreeSet<crate::domain::Field>,
    /// The ID number read from the front photo (识别), where it was read whole and its
    /// check character agrees: kept to compare with the number in the form, so that a
    /// difference (another person's card, a digit typed wrong) is shown until it is put
    /// right. Cleared when the front photo is replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_number_on_card: Option<String>,
    /// Why the application came back (已退回): shown on every step until it is submitted
    /// again, and the fields it names marked until the clerk changes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returned: Option<ReturnNote>,
    /// Which saved version of it this is: the store counts every change, and a save from
    /// an older copy is refused rather than overwriting a newer one (two windows on one
    /// centre store). Not part of the model's JSON.
    #[serde(skip)]
    pub version: i64,
}

/// Why an application was returned, by the central API after review or on delivery
/// (refused, or not eligible).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnNote {
    pub at: DateTime<Utc>,
    /// The whole reason, as the clerk reads it.
    pub reason: String,
    /// The fields it names, each with what is wrong with it (the server's JSON paths).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<ReturnedField>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnedField {
    /// A JSON path into the submission, e.g. `photos.card_photo`.
    pub path: String,
    pub message: String,
    /// The clerk has changed the field since.
    #[serde(default)]
    pub corrected: bool,
}

impl ReturnedField {
    /// The form's field the path names: exactly, or the nearest one it lies inside or
    /// that lies inside it (`photos.card_photo.sha256` is the card photo).
    pub fn field(&self) -> Option<crate::domain::Field> {
        use crate::domain::Field;
        let path = self.path.trim();
        Field::from_api_path(path).or_else(|| {
            Field::ALL.into_iter().find(|f| {
                let p = f.api_path();
                path.strip_prefix(p)
                    .is_some_and(|rest| rest.starts_with('.'))
                    || p.strip_prefix(path)
                        .is_some_and(|rest| rest.starts_with('.'))
            })
        })
    }
}

impl ReturnNote {
    /// The named fields the clerk has not changed yet.
    pub fn open_fields(&self) -> impl Iterator<Item = (crate::domain::Field, &ReturnedField)> {
        self.fields
            .iter()
            .filter(|f| !f.corrected)
            .filter_map(|f| Some((f.field()?, f)))
    }
}

/// Who applies at the counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppliedBy {
    /// 本人申领: the resident is at the counter and the clerk helps (checked in person).
    #[default]
    Applicant,
    /// 代办申领: a relative or a community helper applies on the resident's behalf, with
    /// their own ID card and the resident's.
    Agent,
}

impl AppliedBy {
    pub const ALL: [AppliedBy; 2] = [AppliedBy::Applicant, AppliedBy::Agent];

    /// The key used in JSON and in the choice list.
    pub fn key(self) -> &'static str {
        match self {
            AppliedBy::Applicant => "applicant",
            AppliedBy::Agent => "agent",
        }
    }

    pub fn from_key(key: &str) -> Option<AppliedBy> {
        AppliedBy::ALL.into_iter().find(|a| a.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            AppliedBy::Applicant => "本人申领",
            AppliedBy::Agent => "代办申领",
        }
    }
}

/// The agent (代办人) of a 代办 application: who they are and how they are related to the
/// applicant. Sent to the central API with the application; unchangeable once submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    pub name: String,
    pub id_type: IdType,
    pub id_number: String,
    /// 与申领人关系: a key from `data/agent_relations.csv`.
    pub relation: String,
    /// 联系电话.
    pub mobile: String,
    /// The agent's ID card and an authorisation letter or proof of relation: kept at the
    /// centre with the application (whether they are required is a centre setting), never
    /// sent to the central API.
    #[serde(default, skip_serializing_if = "AgentPhotos::is_empty")]
    pub photos: AgentPhotos,
}

impl Default for Agent {
    fn default() -> Agent {
        Agent {
            name: String::new(),
            id_type: IdType::ResidentId,
            id_number: String::new(),
            relation: String::new(),
            mobile: String::new(),
            photos: AgentPhotos::default(),
        }
    }
}

impl Agent {
    /// Nothing typed and nothing imported.
    pub fn is_empty(&self) -> bool {
        *self == Agent::default()
    }
}

/// The 代办 papers, by reference to the store like the applicant's photos.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AgentPhotos {
    /// 代办人身份证 (the side with the portrait).
    pub id_card: Option<PhotoRef>,
    /// 委托书或关系证明.
    pub authorisation: Option<PhotoRef>,
}

impl AgentPhotos {
    pub fn is_empty(&self) -> bool {
        self.id_card.is_none() && self.authorisation.is_none()
    }
}

/// The applicant's identity (screens 2 and 4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Applicant {
    pub name: String,
    pub id_type: IdType,
    pub id_number: String,
    /// 证件有效期限开始日期, as typed.
    pub id_valid_from: String,
    pub id_valid_until: ValidUntil,
    /// Follows from an 18-digit ID number; kept so a disagreement can be shown.
    pub gender: Option<Gender>,
    /// As typed; follows from an 18-digit ID number.
    pub birth_date: String,
    /// ISO 3166-1 alpha-3 code from `data/nationalities.csv`; default CHN (中国).
    pub nationality: String,
    /// GB/T 3304 code from `data/ethnic_groups.csv`.
    pub ethnicity: String,
    /// 卡预留手机号.
    pub mobile: String,
}

/// The end of an ID document's validity: a date, or 长期 (long-term).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "date", rename_all = "snake_case")]
pub enum ValidUntil {
    /// A date, as typed (may be empty while the draft is incomplete).
    Date(String),
    /// 长期: cards issued to people aged 46 or more never expire.
    LongTerm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdType {
    ResidentId,
    HmtResidencePermit,
    HkMacaoPermit,
    TaiwanPermit,
    ForeignPermanentResidentId,
}

impl IdType {
    pub const ALL: [IdType; 5] = [
        IdType::ResidentId,
        IdType::HmtResidencePermit,
        IdType::HkMacaoPermit,
        IdType::TaiwanPermit,
        IdType::ForeignPermanentResidentId,
    ];

    /// The key used in JSON and in `data/id_types.csv`.
    pub fn key(self) -> &'static str {
        match self {
            IdType::ResidentId => "resident_id",
            IdType::HmtResidencePermit => "hmt_residence_permit",
            IdType::HkMacaoPermit => "hk_macao_permit",
            IdType::TaiwanPermit => "taiwan_permit",
            IdType::ForeignPermanentResidentId => "foreign_permanent_resident_id",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            IdType::ResidentId => "居民身份证",
            IdType::HmtResidencePermit => "港澳台居民居住证",
            IdType::HkMacaoPermit => "港澳居民来往内地通行证",
            IdType::TaiwanPermit => "台湾居民来往大陆通行证",
            IdType::ForeignPermanentResidentId => "外国人永久居留身份证",
        }
    }

    /// Whether the number encodes birth date and gender (GB 11643 layout).
    pub fn is_gb11643(self) -> bool {
        matches!(self, IdType::ResidentId | IdType::HmtResidencePermit)
    }
}

/// Where the applicant lives (screen 4).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Residence {
    /// 常住地所在区: a Beijing district code from `data/districts.csv`.
    pub district: String,
    /// 常住地所在地址.
    pub address: String,
}

/// The three photos, by reference to the store (SHA-256 of their bytes).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Photos {
    /// 制卡照片: 358×441 px, 20 KB – 8.75 MB, colour.
    pub card_photo: Option<PhotoRef>,
    /// 身份证正面 (the side with the portrait).
    pub id_front: Option<PhotoRef>,
    /// 身份证背面 (the side with the issuing authority and validity).
    pub id_back: Option<PhotoRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoRef {
    /// Lower-case hex SHA-256 of the stored bytes.
    pub sha256: String,
    /// The file name it was imported from, for the clerk's reference.
    pub source_name: Option<String>,
}

/// The eligibility check (资格校验) and what it answered.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Eligibility {
    #[default]
    NotChecked,
    /// 待校验: asked for while offline; checked automatically before delivery.
    Pending { requested_at: DateTime<Utc> },
    Eligible {
        checked_at: DateTime<Utc>,
        /// Pickup methods the central API allows for this person.
        allowed_pickup: Vec<PickupMethod>,
    },
    Ineligible {
        checked_at: DateTime<Utc>,
        /// The central API's reason, e.g. 已有有效第三代社保卡.
        reason: String,
    },
}

/// The card's issuing bank and branch (发卡行名称, 办卡网点), locked on the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardIssuer {
    pub bank_code: String,
    pub bank_name: String,
    pub branch_code: String,
    pub branch_name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PickupMethod {
    /// 银行邮寄.
    BankMail,
    /// 个人网点领卡.
    BranchPickup,
}

impl PickupMethod {
    /// The key used in JSON and in the choice list.
    pub fn key(self) -> &'static str {
        match self {
            PickupMethod::BankMail => "bank_mail",
            PickupMethod::BranchPickup => "branch_pickup",
        }
    }

    pub fn from_key(key: &str) -> Option<PickupMethod> {
        [PickupMethod::BankMail, PickupMethod::BranchPickup]
            .into_iter()
            .find(|m| m.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            PickupMethod::BankMail => "银行邮寄",
            PickupMethod::BranchPickup => "个人网点领卡",
        }
    }
}

/// How the card reaches the applicant (screen 6). The mailing details are kept even while
/// branch pickup is chosen, so switching back and forth loses nothing the clerk typed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Pickup {
    pub method: Option<PickupMethod>,
    pub mail: MailAddress,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MailAddress {
    pub recipient_name: String,
    pub recipient_mobile: String,
    /// 收件地所在区: a Beijing district code.
    pub district: String,
    pub postcode: String,
    pub address: String,
}

/// The four consents, each with the moment it was given (`None` = not given).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Consents {
    /// 免责声明 — 我同意.
    pub disclaimer_agreed_at: Option<DateTime<Utc>>,
    /// 访问授权.
    pub access_authorised_at: Option<DateTime<Utc>>,
    /// 已当面核验本人身份证原件: the clerk's in-person check, the counter's stand-in for
    /// the online flows' face recognition.
    pub identity_verified_in_person_at: Option<DateTime<Utc>>,
    /// 已核验代办人身份证原件 (代办 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id_card_checked_at: Option<DateTime<Utc>>,
    /// 已核验申领人身份证原件 (代办 only): the agent brings the applicant's card, and the
    /// clerk checks it in place of seeing the applicant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applicant_id_card_checked_at: Option<DateTime<Utc>>,
    /// 我已阅读并同意, ticked on the review page before 提交.
    pub declaration_agreed_at: Option<DateTime<Utc>>,
}

/// Where an application stands. Transitions are checked by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being filled in.
    Draft,
    /// Complete and valid; not yet submitted.
    Ready,
    /// Submitted at the counter; waiting in the outbox for delivery (待同步).
    Queued,
    /// Reached the central API, which gave an application number (已提交).
    Delivered,
    /// Accepted by the central API (已受理).
    Accepted,
    /// The card is being made (制卡中).
    InProduction,
    /// Mailed by the bank (已寄出), with a tracking number in the history.
    Shipped,
    /// At the branch, ready to collect (待领取).
    ReadyForCollection,
    /// Collected or delivered to the applicant (已领卡).
    Collected,
    /// Returned by the central API with a reason (已退回); editable again.
    Returned,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Draft => "草稿",
            Status::Ready => "待提交",
            Status::Queued => "待同步",
            Status::Delivered => "已提交",
            Status::Accepted => "已受理",
            Status::InProduction => "制卡中",
            Status::Shipped => "已寄出",
            Status::ReadyForCollection => "待领取",
            Status::Collected => "已领卡",
            Status::Returned => "已退回",
        }
    }

    /// Whether the clerk may still change the form.
    pub fn is_editable(self) -> bool {
        matches!(self, Status::Draft | Status::Ready | Status::Returned)
    }
}

impl Application {
    /// The photo in a slot (the agent's papers included).
    pub fn photo(&self, slot: super::PhotoSlot) -> Option<&PhotoRef> {
        use super::PhotoSlot::*;
        match slot {
            CardPhoto => self.photos.card_photo.as_ref(),
            IdFront => self.photos.id_front.as_ref(),
            IdBack => self.photos.id_back.as_ref(),
            AgentIdCard => self.agent.photos.id_card.as_ref(),
            Authorisation => self.agent.photos.authorisation.as_ref(),
        }
    }

    /// A slot, to fill or empty.
    pub fn photo_mut(&mut self, slot: super::PhotoSlot) -> &mut Option<PhotoRef> {
        use super::PhotoSlot::*;
        match slot {
            CardPhoto => &mut self.photos.card_photo,
            IdFront => &mut self.photos.id_front,
            IdBack => &mut self.photos.id_back,
            AgentIdCard => &mut self.agent.photos.id_card,
            Authorisation => &mut self.agent.photos.authorisation,
        }
    }

    /// The photo a photo field holds (`None` for any other field).
    pub fn photo_of(&self, field: super::Field) -> Option<&PhotoRef> {
        super::PhotoSlot::of(field).and_then(|s| self.photo(s))
    }

    /// A 代办 application.
    pub fn by_agent(&self) -> bool {
        self.applied_by == AppliedBy::Agent
    }

    /// The clerk changed `field`: a value read from the card is no longer awaiting a
    /// check, and a return reason that named the field no longer marks it. Every way the
    /// wizard writes a field goes through here.
    pub fn mark_edited(&mut self, field: super::Field) {
        self.recognised.remove(&field);
        if let Some(note) = &mut self.returned {
            for f in &mut note.fields {
                if f.field() == Some(field) {
                    f.corrected = true;
                }
            }
        }
    }

    /// Tidy a field once it has been typed in full (the wizard calls it when the clerk
    /// leaves the field; an import calls it for every field): dates written as
    /// YYYY-MM-DD, names and addresses trimmed, the ID number normalised and gender and
    /// birth date filled from it. Nothing that does not parse is changed.
    pub fn tidy(&mut self, field: super::Field, today: NaiveDate) {
        use super::Field;
        let date = |s: &mut String| {
            if let Ok(d) = parse_date(s) {
                *s = d.to_string();
            }
        };
        match field {
            Field::IdValidFrom => date(&mut self.applicant.id_valid_from),
            Field::BirthDate => date(&mut self.applicant.birth_date),
            Field::IdValidUntil => {
                if let ValidUntil::Date(d) = &mut self.applicant.id_valid_until {
                    date(d);
                }
            }
            Field::Name
            | Field::AgentName
            | Field::RecipientName
            | Field::Address
            | Field::MailAddress => {
                let s = match field {
                    Field::Name => &mut self.applicant.name,
                    Field::AgentName => &mut self.agent.name,
                    Field::RecipientName => &mut self.pickup.mail.recipient_name,
                    Field::Address => &mut self.residence.address,
                    _ => &mut self.pickup.mail.address,
                };
                let trimmed = s.trim().to_owned();
                *s = trimmed;
            }
            Field::IdNumber => {
                self.applicant.id_number =
                    super::id_number::normalise_id_input(&self.applicant.id_number);
                self.fill_from_id(today);
            }
            Field::AgentIdNumber => {
                self.agent.id_number = super::id_number::normalise_id_input(&self.agent.id_number);
            }
            _ => {}
        }
    }

    /// The ID number parsed by the rules of its type, when it encodes birth date and gender.
    pub fn parsed_id(&self, today: NaiveDate) -> Option<super::IdNumber> {
        let number = &self.applicant.id_number;
        match self.applicant.id_type {
            IdType::ResidentId => super::IdNumber::parse(number, today).ok(),
            IdType::HmtResidencePermit => {
                super::IdNumber::parse_residence_permit(number, today).ok()
            }
            _ => None,
        }
    }

    /// Gender and birth date follow from a valid 18-digit number.
    pub fn fill_from_id(&mut self, today: NaiveDate) {
        if let Some(id) = self.parsed_id(today) {
            self.applicant.gender = Some(id.gender);
            self.applicant.birth_date = id.birth_date.to_string();
        }
    }

    /// A new, empty draft with the guide's defaults (occupation 离退休人员, nationality 中国,
    /// ID type 居民身份证) and a fresh UUID.
    pub fn new(now: DateTime<Utc>) -> Application {
        Application {
            id: Uuid::new_v4(),
            status: Status::Draft,
            created_at: now,
            updated_at: now,
            applied_by: AppliedBy::Applicant,
            agent: Agent::default(),
            applicant: Applicant {
                name: String::new(),
                id_type: IdType::ResidentId,
                id_number: String::new(),
                id_valid_from: String::new(),
                id_valid_until: ValidUntil::Date(String::new()),
                gender: None,
                birth_date: String::new(),
                nationality: DEFAULT_NATIONALITY.to_owned(),
                ethnicity: String::new(),
                mobile: String::new(),
            },
            residence: Residence::default(),
            occupation: DEFAULT_OCCUPATION.to_owned(),
            photos: Photos::default(),
            eligibility: Eligibility::default(),
            card_issuer: None,
            pickup: Pickup {
                // Retirees: bank mail is the only method unless the central API allows more.
                method: Some(PickupMethod::BankMail),
                mail: MailAddress::default(),
            },
            consents: Consents::default(),
            application_number: None,
            purged_at: None,
            recognised: Default::default(),
            id_number_on_card: None,
            returned: None,
            version: 0,
        }
    }

    /// The applicant's birth date as entered, if it parses.
    pub fn birth_date(&self) -> Option<NaiveDate> {
        parse_date(&self.applicant.birth_date).ok()
    }

    /// Fill the recipient from the applicant: the "same as applicant" shortcut of screen 6.
    /// Only empty fields are filled; nothing the clerk typed is overwritten. The postcode is
    /// left for the clerk.
    pub fn fill_recipient_from_applicant(&mut self) {
        let mail = &mut self.pickup.mail;
        let fill = |target: &mut String, source: &str| {
            if target.trim().is_empty() {
                *target = source.to_owned();
            }
        };
        fill(&mut mail.recipient_name, &self.applicant.name);
        fill(&mut mail.recipient_mobile, &self.applicant.mobile);
        fill(&mut mail.district, &self.residence.district);
        fill(&mut mail.address, &self.residence.address);
        // Not the postcode: a district has many, and a guess would look like data. The
        // clerk asks the resident.
    }

    /// The card goes to the agent: the "same as agent" shortcut of screen 6 (代办 only).
    /// Pressed on purpose, it names the agent as recipient even over a name already there
    /// (often the applicant's, from the other shortcut); the address is left as it is,
    /// since the agent's is not on the form.
    pub fn fill_recipient_from_agent(&mut self) {
        let mail = &mut self.pickup.mail;
        mail.recipient_name = self.agent.name.trim().to_owned();
        mail.recipient_mobile = self.agent.mobile.trim().to_owned();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_application_has_the_guide_defaults() {
        let app = Application::new(Utc::now());
        assert_eq!(app.occupation, "80");
        assert_eq!(app.applicant.nationality, "CHN");
        assert_eq!(app.applicant.id_type, IdType::ResidentId);
        assert_eq!(app.status, Status::Draft);
        assert_eq!(app.pickup.method, Some(PickupMethod::BankMail));
    }

    #[test]
    fn serialised_names_are_english_snake_case() {
        let app = Application::new(Utc::now());
        let json = serde_json::to_value(&app).unwrap();
        fn check(v: &serde_json::Value) {
            if let Some(map) = v.as_object() {
                for (k, v) in map {
                    assert!(
                        k.chars()
                            .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit()),
                        "{k}"
                    );
                    check(v);
                }
            }
        }
        check(&json);
        assert_eq!(json["applicant"]["id_type"], "resident_id");
        assert_eq!(json["eligibility"]["state"], "not_checked");
    }

    #[test]
    fn pickup_keys_match_serde() {
        for m in [PickupMethod::BankMail, PickupMethod::BranchPickup] {
            assert_eq!(serde_json::to_value(m).unwrap(), m.key());
            assert_eq!(PickupMethod::from_key(m.key()), Some(m));
        }
    }

    #[test]
    fn long_term_validity_round_trips() {
        let mut app = Application::new(Utc::now());
        app.applicant.id_valid_until = ValidUntil::LongTerm;
        let json = serde_json::to_string(&app).unwrap();
        assert!(json.contains(r#""id_valid_until":{"kind":"long_term"}"#));
        let back: Application = serde_json::from_str(&json).unwrap();
        assert_eq!(back, app);
    }

    #[test]
    fn same_as_applicant_fills_only_empty_fields() {
        let mut app = Application::new(Utc::now());
        app.applicant.name = "张三".into();
        app.applicant.mobile = "13800138000".into();
        app.residence.district = "110105".into();
        app.residence.address = "朝阳路 1 号".into();
        app.pickup.mail.recipient_name = "李四".into();
        app.fill_recipient_from_applicant();
        assert_eq!(app.pickup.mail.recipient_name, "李四");
        assert_eq!(app.pickup.mail.recipient_mobile, "13800138000");
        assert_eq!(app.pickup.mail.district, "110105");
        assert_eq!(
            app.pickup.mail.postcode, "",
            "never guessed from the district"
        );
        assert_eq!(app.pickup.mail.address, "朝阳路 1 号");
    }
}
