//! The form's steps and fields: what each is called, which step it belongs to, and where
//! it is in the central API's submission. Pure names, no model: `domain::form` reads and
//! writes each field of an `Application`.

use serde::{Deserialize, Serialize};

/// The form's steps (wizard screens 1–8), in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Disclaimer,
    /// 本人申领 or 代办申领, and the agent.
    AppliedBy,
    Applicant,
    IdentityPhotos,
    BasicInfo,
    CardInfo,
    Pickup,
    Review,
}

impl Step {
    pub const ALL: [Step; 8] = [
        Step::Disclaimer,
        Step::AppliedBy,
        Step::Applicant,
        Step::IdentityPhotos,
        Step::BasicInfo,
        Step::CardInfo,
        Step::Pickup,
        Step::Review,
    ];

    /// The screen number in DESIGN.md's wizard table.
    pub fn number(self) -> u8 {
        self as u8 + 1
    }

    /// A short title for the step bar (four characters at most).
    pub fn short_title(self) -> &'static str {
        match self {
            Step::Applicant => "申领人",
            Step::AppliedBy => "申领方式",
            other => other.title(),
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Step::Disclaimer => "免责声明",
            Step::AppliedBy => "申领方式与代办人",
            Step::Applicant => "申领人与资格校验",
            Step::IdentityPhotos => "身份识别",
            Step::BasicInfo => "基本信息",
            Step::CardInfo => "制卡信息",
            Step::Pickup => "领卡方式",
            Step::Review => "确认提交",
        }
    }
}

/// Every field the form has, for attaching problems and for the wizard's focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    DisclaimerConsent,
    AppliedBy,
    AgentName,
    AgentIdType,
    AgentIdNumber,
    AgentRelation,
    AgentMobile,
    AgentIdCheck,
    AgentIdPhoto,
    AuthorisationPhoto,
    Name,
    IdType,
    IdNumber,
    AccessAuthorisation,
    InPersonCheck,
    ApplicantIdCheck,
    Eligibility,
    IdFrontPhoto,
    IdBackPhoto,
    IdValidFrom,
    IdValidUntil,
    Gender,
    BirthDate,
    Nationality,
    Ethnicity,
    District,
    Address,
    Mobile,
    Occupation,
    CardPhoto,
    CardIssuer,
    PickupMethod,
    RecipientName,
    RecipientMobile,
    RecipientDistrict,
    Postcode,
    MailAddress,
    Declaration,
}

impl Field {
    pub const ALL: [Field; 38] = [
        Field::DisclaimerConsent,
        Field::AppliedBy,
        Field::AgentName,
        Field::AgentIdType,
        Field::AgentIdNumber,
        Field::AgentRelation,
        Field::AgentMobile,
        Field::AgentIdCheck,
        Field::AgentIdPhoto,
        Field::AuthorisationPhoto,
        Field::Name,
        Field::IdType,
        Field::IdNumber,
        Field::AccessAuthorisation,
        Field::InPersonCheck,
        Field::ApplicantIdCheck,
        Field::Eligibility,
        Field::IdFrontPhoto,
        Field::IdBackPhoto,
        Field::IdValidFrom,
        Field::IdValidUntil,
        Field::Gender,
        Field::BirthDate,
        Field::Nationality,
        Field::Ethnicity,
        Field::District,
        Field::Address,
        Field::Mobile,
        Field::Occupation,
        Field::CardPhoto,
        Field::CardIssuer,
        Field::PickupMethod,
        Field::RecipientName,
        Field::RecipientMobile,
        Field::RecipientDistrict,
        Field::Postcode,
        Field::MailAddress,
        Field::Declaration,
    ];

    pub fn step(self) -> Step {
        use Field::*;
        match self {
            DisclaimerConsent => Step::Disclaimer,
            AppliedBy | AgentName | AgentIdType | AgentIdNumber | AgentRelation | AgentMobile
            | AgentIdCheck | AgentIdPhoto | AuthorisationPhoto => Step::AppliedBy,
            Name | IdType | IdNumber | AccessAuthorisation | InPersonCheck | ApplicantIdCheck
            | Eligibility => Step::Applicant,
            IdFrontPhoto | IdBackPhoto => Step::IdentityPhotos,
            IdValidFrom | IdValidUntil | Gender | BirthDate | Nationality | Ethnicity
            | District | Address | Mobile | Occupation => Step::BasicInfo,
            CardPhoto | CardIssuer => Step::CardInfo,
            PickupMethod | RecipientName | RecipientMobile | RecipientDistrict | Postcode
            | MailAddress => Step::Pickup,
            Declaration => Step::Review,
        }
    }

    /// Where the field is in the central API's submission body (a JSON path), so that a
    /// problem the server finds names the same field the counter shows.
    pub fn api_path(self) -> &'static str {
        use Field::*;
        match self {
            DisclaimerConsent => "consents.disclaimer_agreed_at",
            AppliedBy => "applied_by",
            AgentName => "agent.name",
            AgentIdType => "agent.id_type",
            AgentIdNumber => "agent.id_number",
            AgentRelation => "agent.relation",
            AgentMobile => "agent.mobile",
            AgentIdCheck => "consents.agent_id_card_checked_at",
            // Kept at the centre, not in the submission: paths in the model's JSON.
            AgentIdPhoto => "agent.photos.id_card",
            AuthorisationPhoto => "agent.photos.authorisation",
            Name => "applicant.name",
            IdType => "applicant.id_type",
            IdNumber => "applicant.id_number",
            AccessAuthorisation => "consents.access_authorised_at",
            InPersonCheck => "consents.identity_verified_in_person_at",
            ApplicantIdCheck => "consents.applicant_id_card_checked_at",
            Eligibility => "eligibility",
            IdFrontPhoto => "photos.id_front",
            IdBackPhoto => "photos.id_back",
            IdValidFrom => "applicant.id_valid_from",
            IdValidUntil => "applicant.id_valid_until",
            Gender => "applicant.gender",
            BirthDate => "applicant.birth_date",
            Nationality => "applicant.nationality",
            Ethnicity => "applicant.ethnicity",
            District => "residence.district",
            Address => "residence.address",
            Mobile => "applicant.mobile",
            Occupation => "occupation",
            CardPhoto => "photos.card_photo",
            CardIssuer => "card_issuer",
            PickupMethod => "pickup.method",
            RecipientName => "pickup.mail.recipient_name",
            RecipientMobile => "pickup.mail.recipient_mobile",
            RecipientDistrict => "pickup.mail.district",
            Postcode => "pickup.mail.postcode",
            MailAddress => "pickup.mail.address",
            Declaration => "consents.declaration_agreed_at",
        }
    }

    /// The agent's fields: part of a 代办 application only.
    pub fn is_agent(self) -> bool {
        self.step() == Step::AppliedBy && self != Field::AppliedBy
    }

    /// The field at a submission JSON path (the inverse of `api_path`).
    pub fn from_api_path(path: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.api_path() == path)
    }

    /// The label the form shows (the guide's wording).
    pub fn label(self) -> &'static str {
        use Field::*;
        match self {
            DisclaimerConsent => "我同意（免责声明）",
            AppliedBy => "申领方式",
            AgentName => "代办人姓名",
            AgentIdType => "代办人证件类型",
            AgentIdNumber => "代办人证件号码",
            AgentRelation => "与申领人关系",
            AgentMobile => "代办人联系电话",
            AgentIdCheck => "已核验代办人身份证原件",
            AgentIdPhoto => "代办人身份证照片",
            AuthorisationPhoto => "委托书或关系证明照片",
            Name => "姓名",
            IdType => "证件类型",
            IdNumber => "证件号码",
            AccessAuthorisation => "访问授权",
            InPersonCheck => "已当面核验本人身份证原件",
            ApplicantIdCheck => "已核验申领人身份证原件",
            Eligibility => "资格校验",
            IdFrontPhoto => "身份证正面照片",
            IdBackPhoto => "身份证背面照片",
            IdValidFrom => "证件有效期限开始日期",
            IdValidUntil => "证件有效期限结束日期",
            Gender => "性别",
            BirthDate => "出生日期",
            Nationality => "国籍",
            Ethnicity => "民族",
            District => "常住地所在区",
            Address => "常住所在地地址",
            Mobile => "卡预留手机号",
            Occupation => "职业",
            CardPhoto => "制卡照片",
            CardIssuer => "发卡行名称及办卡网点",
            PickupMethod => "领卡方式",
            RecipientName => "收件人姓名",
            RecipientMobile => "收件人联系电话",
            RecipientDistrict => "收件地所在区",
            Postcode => "邮政编码",
            MailAddress => "收件详细地址",
            Declaration => "我已阅读并同意",
        }
    }
}
