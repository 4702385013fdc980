//! The central API's contract in Rust: the bodies that cross the wire, shared by the
//! reference server (`crate::central`) and the delivery client. `docs/central-api.yaml`
//! is the same contract for people and for other languages; the server tests and the
//! schemathesis run (`scripts/api-fuzz`) keep the two in step.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{
    Agent, Applicant, Application, AppliedBy, CardIssuer, Consents, Eligibility, Gender, IdType,
    MailAddress, PhotoRef, Photos, Pickup, PickupMethod, Residence, Status,
};

/// Every path starts with this; a change that breaks clients gets a new prefix.
pub const VERSION_PREFIX: &str = "/v1";
/// The operator (clerk) who makes the request, on every authenticated request.
pub const OPERATOR_HEADER: &str = "x-operator-id";
/// The submission's idempotency key (any printable ASCII, 8–255 characters; a UUID is best).
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";
/// Set to `true` on an answer replayed for a repeated idempotency key.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// The largest JSON body accepted (bytes).
pub const JSON_BODY_LIMIT: usize = 64 * 1024;
/// The largest photo accepted (bytes): 8.75 MB, the card photo's upper limit.
pub const PHOTO_BODY_LIMIT: usize = crate::photo::check::CARD_MAX_BYTES as usize;
/// How long an idempotency key and its answer are kept (days): a helper may draft offline
/// for days and deliver a week later.
pub const IDEMPOTENCY_KEY_DAYS: i64 = 30;

/// An error answer: a stable machine-readable code, a Chinese message for the clerk, and
/// the fields it concerns (JSON paths into the request, e.g. `applicant.id_number`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// 资格校验: who is asked about, and when the resident authorised the access (访问授权).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EligibilityRequest {
    pub name: String,
    pub id_type: IdType,
    pub id_number: String,
    pub access_authorised_at: DateTime<Utc>,
    /// When the clerk checked the original ID card in person (the counter's stand-in for
    /// face recognition); absent for channels that verify otherwise.
    #[serde(default)]
    pub identity_verified_in_person_at: Option<DateTime<Utc>>,
    /// 代办申领: when the clerk checked the applicant's original ID card, brought by the
    /// agent. It stands for the in-person check: who applies does not change the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applicant_id_card_checked_at: Option<DateTime<Utc>>,
}

impl EligibilityRequest {
    /// The check for an application as it stands; `now` stands in for an access
    /// authorisation not yet recorded.
    pub fn for_application(app: &Application, now: DateTime<Utc>) -> EligibilityRequest {
        let a = &app.applicant;
        EligibilityRequest {
            name: a.name.trim().to_owned(),
            id_type: a.id_type,
            id_number: a.id_number.trim().to_owned(),
            access_authorised_at: app.consents.access_authorised_at.unwrap_or(now),
            // Each way of applying sends its own check (a tick left from the other way
            // is not sent as if it had been made).
            identity_verified_in_person_at: app
                .consents
                .identity_verified_in_person_at
                .filter(|_| !app.by_agent()),
            applicant_id_card_checked_at: app
                .consents
                .applicant_id_card_checked_at
                .filter(|_| app.by_agent()),
        }
    }
}

/// Why a person may not apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IneligibleReason {
    /// 已有有效第三代社保卡.
    HasValidCard,
    /// 未查询到参保信息.
    NotInsured,
    /// Not a retiree: this channel is for retirees' first card.
    NotRetired,
    /// The name does not match the registered holder of the ID number.
    NameMismatch,
    /// An application for this person is already being processed.
    ApplicationInProgress,
}

impl IneligibleReason {
    /// The reason as the server gives it: a name that does not match the number is answered
    /// as a number not found, so that the answer does not tell who is in the registry.
    pub fn as_answered(self) -> IneligibleReason {
        match self {
            IneligibleReason::NameMismatch => IneligibleReason::NotInsured,
            other => other,
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            IneligibleReason::HasValidCard => "已有有效第三代社保卡，无需再次申领",
            IneligibleReason::NotInsured => {
                "未查询到与该姓名、证件号码相符的参保信息：请核对姓名和证件号码，或先到社保经办机构核实参保状态"
            }
            IneligibleReason::NotRetired => {
                "未查询到离退休信息：在职人员请通过所在单位或银行网点申领"
            }
            IneligibleReason::NameMismatch => "姓名与证件号码登记信息不一致，请核对身份证",
            IneligibleReason::ApplicationInProgress => "已有正在办理的申领，请查询办事进度",
        }
    }
}

/// The answer to an eligibility check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EligibilityAnswer {
    pub check_id: Uuid,
    pub checked_at: DateTime<Utc>,
    pub eligible: bool,
    /// Present when not eligible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<IneligibleReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The registered data, read back for checking (eligible only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<RegisteredPerson>,
    /// The bank that pays the pension and will issue the card (eligible only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_issuer: Option<CardIssuer>,
    /// Pickup methods allowed for this person (eligible only; retirees: bank mail).
    #[serde(default)]
    pub allowed_pickup: Vec<PickupMethod>,
}

/// What the registry holds about a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredPerson {
    pub name: String,
    pub gender: Gender,
    pub birth_date: NaiveDate,
    /// ISO 3166-1 alpha-3.
    pub nationality: String,
    pub residence_address: String,
    pub id_valid_from: NaiveDate,
    /// 卡预留手机号.
    pub reserved_mobile: String,
}

/// A photo's answer: what the server now holds under that SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoReceipt {
    pub sha256: String,
    pub size: u64,
    /// True when the server had it already and nothing was stored.
    pub already_present: bool,
}

/// The three photos of a submission, by SHA-256 of photos uploaded before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmittedPhotos {
    pub card_photo: String,
    pub id_front: String,
    pub id_back: String,
}

/// How the card reaches the applicant; `mail` is required for bank mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmittedPickup {
    pub method: PickupMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail: Option<MailAddress>,
}

/// The agent of a 代办 submission: who they are and how they are related to the applicant.
/// (Their papers, when the centre keeps any, stay at the centre.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmittedAgent {
    pub name: String,
    pub id_type: IdType,
    pub id_number: String,
    /// A key of `data/agent_relations.csv`: spouse, child, parent, sibling,
    /// other_relative, community_worker, other.
    pub relation: String,
    pub mobile: String,
}

/// An application as submitted (本人申领 or 代办申领): everything the clerk filled in and
/// checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    /// The counter's own ID for the application (stable across resubmissions).
    pub client_reference: Uuid,
    /// Who applies: `applicant` (本人申领, the default) or `agent` (代办申领).
    #[serde(default)]
    pub applied_by: AppliedBy,
    /// The agent: present for 代办申领, and only then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<SubmittedAgent>,
    /// The eligibility check this submission follows, if it was made online.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eligibility_check_id: Option<Uuid>,
    pub applicant: Applicant,
    pub residence: Residence,
    /// Occupation code (GB/T 6565), 80 = 离退休人员.
    pub occupation: String,
    pub card_issuer: CardIssuer,
    pub pickup: SubmittedPickup,
    pub photos: SubmittedPhotos,
    pub consents: Consents,
}

/// Why an application cannot be made into a submission yet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotSubmittable {
    #[error("缺少{0}")]
    Missing(&'static str),
}

impl Submission {
    /// The submission for a local application. The application must already have passed
    /// validation; this only refuses what cannot be expressed on the wire.
    pub fn from_application(app: &Application) -> Result<Submission, NotSubmittable> {
        let photo = |p: &Option<PhotoRef>, what| {
            p.as_ref()
                .map(|p| p.sha256.clone())
                .ok_or(NotSubmittable::Missing(what))
        };
        let method = app
            .pickup
            .method
            .ok_or(NotSubmittable::Missing("领卡方式"))?;
        let by_agent = app.by_agent();
        let g = &app.agent;
        let mut consents = app.consents.clone();
        // Only the checks of the way it is applied for: a tick left from the other way
        // (the clerk switched) is not sent as if it had been made.
        if by_agent {
            consents.identity_verified_in_person_at = None;
        } else {
            consents.agent_id_card_checked_at = None;
            consents.applicant_id_card_checked_at = None;
        }
        Ok(Submission {
            client_reference: app.id,
            applied_by: app.applied_by,
            agent: by_agent.then(|| SubmittedAgent {
                name: g.name.trim().to_owned(),
                id_type: g.id_type,
                id_number: g.id_number.trim().to_owned(),
                relation: g.relation.clone(),
                mobile: g.mobile.trim().to_owned(),
            }),
            eligibility_check_id: None,
            applicant: app.applicant.clone(),
            residence: app.residence.clone(),
            occupation: app.occupation.clone(),
            card_issuer: app
                .card_issuer
                .clone()
                .ok_or(NotSubmittable::Missing("发卡银行"))?,
            pickup: SubmittedPickup {
                method,
                mail: (method == PickupMethod::BankMail).then(|| app.pickup.mail.clone()),
            },
            photos: SubmittedPhotos {
                card_photo: photo(&app.photos.card_photo, "制卡照片")?,
                id_front: photo(&app.photos.id_front, "身份证正面照片")?,
                id_back: photo(&app.photos.id_back, "身份证背面照片")?,
            },
            consents,
        })
    }

    /// The submission as an application, so that the server checks it with the very rules
    /// the counter used. `eligibility` is the server's own finding.
    pub fn to_application(&self, eligibility: Eligibility, now: DateTime<Utc>) -> Application {
        let mut app = Application::new(now);
        app.id = self.client_reference;
        app.status = Status::Ready;
        app.applied_by = self.applied_by;
        if let Some(g) = &self.agent {
            app.agent = Agent {
                name: g.name.clone(),
                id_type: g.id_type,
                id_number: g.id_number.clone(),
                relation: g.relation.clone(),
                mobile: g.mobile.clone(),
                photos: Default::default(),
            };
        }
        app.applicant = self.applicant.clone();
        app.residence = self.residence.clone();
        app.occupation = self.occupation.clone();
        let photo = |sha: &str| {
            Some(PhotoRef {
                sha256: sha.to_owned(),
                source_name: None,
            })
        };
        app.photos = Photos {
            card_photo: photo(&self.photos.card_photo),
            id_front: photo(&self.photos.id_front),
            id_back: photo(&self.photos.id_back),
        };
        app.eligibility = eligibility;
        app.card_issuer = Some(self.card_issuer.clone());
        app.pickup = Pickup {
            method: Some(self.pickup.method),
            mail: self.pickup.mail.clone().unwrap_or_default(),
        };
        app.consents = self.consents.clone();
        app
    }
}

/// Where an application stands at the central API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProgressStatus {
    /// 已提交: received, number assigned.
    Received,
    /// 已受理.
    Accepted,
    /// 制卡中.
    InProduction,
    /// 已寄出, with a tracking number.
    Shipped,
    /// 待领取 at the branch.
    ReadyForCollection,
    /// 已领卡.
    Collected,
    /// 已退回, with a reason naming the field.
    Returned,
}

impl ProgressStatus {
    /// The local status this corresponds to.
    pub fn local(self) -> Status {
        match self {
            ProgressStatus::Received => Status::Delivered,
            ProgressStatus::Accepted => Status::Accepted,
            ProgressStatus::InProduction => Status::InProduction,
            ProgressStatus::Shipped => Status::Shipped,
            ProgressStatus::ReadyForCollection => Status::ReadyForCollection,
            ProgressStatus::Collected => Status::Collected,
            ProgressStatus::Returned => Status::Returned,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            ProgressStatus::Received => "received",
            ProgressStatus::Accepted => "accepted",
            ProgressStatus::InProduction => "in_production",
            ProgressStatus::Shipped => "shipped",
            ProgressStatus::ReadyForCollection => "ready_for_collection",
            ProgressStatus::Collected => "collected",
            ProgressStatus::Returned => "returned",
        }
    }

    pub fn from_key(key: &str) -> Option<ProgressStatus> {
        ProgressStatus::ALL.into_iter().find(|s| s.key() == key)
    }

    pub const ALL: [ProgressStatus; 7] = [
        ProgressStatus::Received,
        ProgressStatus::Accepted,
        ProgressStatus::InProduction,
        ProgressStatus::Shipped,
        ProgressStatus::ReadyForCollection,
        ProgressStatus::Collected,
        ProgressStatus::Returned,
    ];

    /// No further change will come.
    pub fn is_final(self) -> bool {
        matches!(self, ProgressStatus::Collected | ProgressStatus::Returned)
    }
}

/// The answer to an accepted submission (and its replays).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmissionReceipt {
    /// 申领编号.
    pub application_number: String,
    pub client_reference: Uuid,
    pub status: ProgressStatus,
    pub received_at: DateTime<Utc>,
}

/// Why an application was returned: the field to correct and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnReason {
    /// A JSON path into the submission, e.g. `photos.card_photo`.
    pub field: String,
    pub message: String,
}

/// One step of an application's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressEvent {
    pub status: ProgressStatus,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_reason: Option<ReturnReason>,
}

/// One application's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub application_number: String,
    pub client_reference: Uuid,
    pub status: ProgressStatus,
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_reason: Option<ReturnReason>,
    /// Oldest first.
    pub history: Vec<ProgressEvent>,
}

/// A page of changes since a cursor: applications whose progress changed, oldest change
/// first. Pass `next_cursor` back as `since` to get the next page (or, when `has_more`
/// is false, the changes that happen from now on).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressPage {
    pub items: Vec<Progress>,
    pub next_cursor: String,
    pub has_more: bool,
}

/// The head of a counter's audit chain, sent to be kept outside the PC (an anchor, as a
/// Certificate Transparency log's signed tree head is): with the anchors the server holds,
/// truncating the chain, deleting entries or re-hashing it is found by `sbk audit verify`.
///
/// An anchor proves that it extends the last one the server keeps: it names that anchor
/// (`extends`) and carries every entry since it (`entries`, their fields — never personal
/// data — not the hashes), so that the server recomputes the chain from the hash it kept
/// and refuses a chain that was rewritten, cut or restored from an older copy. It is
/// signed with the chain's own key (Ed25519, made with the chain and kept in the store),
/// registered by the chain's first anchor: the centre's token alone cannot post one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditAnchor {
    /// The chain's own id (a store's, made when its chain began).
    pub chain_id: Uuid,
    /// The number of the chain's last entry (entries are numbered from 1, without gaps).
    pub seq: i64,
    /// That entry's hash: lower-case hex SHA-256.
    pub hash: String,
    /// The anchor this one extends (the last the server acknowledged); absent on a
    /// chain's first anchor, whose entries start at the chain's first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extends: Option<AnchorPoint>,
    /// Every entry after `extends` through `seq`, in order.
    #[serde(default)]
    pub entries: Vec<AnchorEntry>,
    /// The chain's public key (Ed25519, 64 hex digits): registered by the first anchor
    /// that brings it, ignored once a key is registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_key: Option<String>,
    /// Ed25519 signature (128 hex digits) by the chain's key over `signed_bytes`.
    pub signature: String,
}

/// An anchored entry: its number and hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnchorPoint {
    pub seq: i64,
    pub hash: String,
}

/// An audit entry's fields, as its hash covers them (`store::audit::entry_hash`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnchorEntry {
    pub id: i64,
    /// Milliseconds since 1970 (UTC).
    pub at: i64,
    pub operator_id: String,
    pub operator_name: String,
    pub action: String,
    #[serde(default)]
    pub application_id: Option<String>,
    #[serde(default)]
    pub detail: Option<String>,
}

/// The most entries one anchor carries (a longer stretch goes in several anchors).
pub const MAX_ANCHOR_ENTRIES: usize = 10_000;
/// The largest anchor accepted (bytes): its entries are about 250 bytes each.
pub const ANCHOR_BODY_LIMIT: usize = 4 * 1024 * 1024;

impl AuditAnchor {
    /// What the chain's key signs: the chain, the head, and the anchor extended (the
    /// entries are bound through the head's hash, which the server recomputes from them).
    pub fn signed_bytes(&self) -> Vec<u8> {
        let extends = self
            .extends
            .as_ref()
            .map_or("genesis".to_owned(), |p| format!("{}:{}", p.seq, p.hash));
        format!(
            "sbk-audit-anchor:v1:{}:{}:{}:{extends}",
            self.chain_id, self.seq, self.hash
        )
        .into_bytes()
    }
}

/// An anchor as the server keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnchorReceipt {
    pub chain_id: Uuid,
    pub seq: i64,
    pub hash: String,
    pub received_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::synthetic::{Rng, application};

    #[test]
    fn a_submission_round_trips_to_the_same_form() {
        let now = Utc::now();
        let mut app = application(&mut Rng::new(3), now, 0);
        app.card_issuer = Some(CardIssuer {
            bank_code: "102".into(),
            bank_name: "中国工商银行".into(),
            branch_code: "102100000001".into(),
            branch_name: "中国工商银行北京朝阳支行".into(),
        });
        let photo = |s: &str| {
            Some(PhotoRef {
                sha256: s.repeat(64),
                source_name: None,
            })
        };
        app.photos = Photos {
            card_photo: photo("a"),
            id_front: photo("b"),
            id_back: photo("c"),
        };
        let sub = Submission::from_application(&app).unwrap();
        let json = serde_json::to_string(&sub).unwrap();
        let back: Submission = serde_json::from_str(&json).unwrap();
        assert_eq!(back, sub);
        let again = back.to_application(app.eligibility.clone(), now);
        assert_eq!(again.applicant, app.applicant);
        assert_eq!(again.pickup, app.pickup);
        assert_eq!(again.photos.card_photo.unwrap().sha256, "a".repeat(64));
    }

    #[test]
    fn a_submission_needs_photos_and_an_issuer() {
        let app = application(&mut Rng::new(3), Utc::now(), 0);
        assert_eq!(
            Submission::from_application(&app),
            Err(NotSubmittable::Missing("发卡银行"))
        );
    }

    #[test]
    fn progress_keys_match_serde() {
        for s in ProgressStatus::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.key());
            assert_eq!(ProgressStatus::from_key(s.key()), Some(s));
        }
    }
}
