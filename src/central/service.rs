//! What the reference server does, independent of HTTP: each function is one operation on
//! its database, run on a blocking thread by the handlers. Errors are `Reject`s, which the
//! HTTP layer turns into the contract's error bodies.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::db;
use super::registry;
use crate::api::{
    ApiError, EligibilityAnswer, EligibilityRequest, FieldError, IDEMPOTENCY_KEY_DAYS,
    IneligibleReason, PhotoReceipt, Progress, ProgressEvent, ProgressPage, ProgressStatus,
    ReturnReason, Submission, SubmissionReceipt,
};
use crate::domain::PhotoSlot;
use crate::domain::dates::beijing_date;
use crate::domain::{Eligibility, Field, PickupMethod, validate};
use crate::photo::check;

/// A refused request: the HTTP status and the body that says why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub status: u16,
    pub error: ApiError,
}

impl Reject {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Reject {
        Reject {
            status,
            error: ApiError {
                code: code.to_owned(),
                message: message.into(),
                errors: Vec::new(),
            },
        }
    }

    pub fn with_fields(mut self, errors: Vec<FieldError>) -> Reject {
        self.error.errors = errors;
        self
    }

    fn field(status: u16, code: &str, field: &str, message: impl Into<String>) -> Reject {
        let message = message.into();
        Reject::new(status, code, message.clone()).with_fields(vec![FieldError {
            field: field.to_owned(),
            message,
        }])
    }

    pub fn internal(e: impl std::fmt::Display) -> Reject {
        tracing::error!("internal error: {e}");
        Reject::new(500, "internal", "中心系统内部错误，请稍后重试")
    }
}

impl From<rusqlite::Error> for Reject {
    fn from(e: rusqlite::Error) -> Reject {
        Reject::internal(e)
    }
}

pub type Result<T> = std::result::Result<T, Reject>;

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// The active (not returned) application of a person, if any: its number and centre.
fn active_application(
    conn: &Connection,
    id_number: &str,
) -> rusqlite::Result<Option<(String, String)>> {
    conn.query_row(
        "SELECT number, centre FROM applications WHERE id_number = ?1 AND status <> 'returned'
         LIMIT 1",
        [id_number],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// How long an access authorisation (访问授权) stays good for a check: a helper may draft
/// offline for days and the check runs before delivery; an older one is asked for again.
pub const AUTHORISATION_DAYS: i64 = 30;

/// 资格校验: answer from the registry and record the check with its access authorisation.
pub fn check_eligibility(
    conn: &Connection,
    centre: &str,
    operator: &str,
    req: &EligibilityRequest,
    now: DateTime<Utc>,
) -> Result<EligibilityAnswer> {
    if req.name.trim().is_empty() {
        return Err(Reject::field(
            400,
            "invalid_request",
            "name",
            "姓名不能为空",
        ));
    }
    if req.access_authorised_at > now + chrono::Duration::minutes(5) {
        return Err(Reject::field(
            422,
            "validation_failed",
            "access_authorised_at",
            "访问授权时间晚于当前时间：请检查本机时钟",
        ));
    }
    if req.access_authorised_at < now - chrono::Duration::days(AUTHORISATION_DAYS) {
        return Err(Reject::field(
            422,
            "validation_failed",
            "access_authorised_at",
            format!("访问授权已超过 {AUTHORISATION_DAYS} 天：请重新取得申领人的访问授权"),
        ));
    }
    // The registered data (address, reserved mobile) are read back only to a counter that
    // has checked the person's ID card in person, recently.
    // (代办: the applicant's card, brought by the agent, checked at the counter, counts the
    // same: the answer does not depend on who applies.)
    let checked_at = req
        .identity_verified_in_person_at
        .or(req.applicant_id_card_checked_at);
    let verified = checked_at.is_some_and(|t| {
        t <= now + chrono::Duration::minutes(5)
            && t >= now - chrono::Duration::days(AUTHORISATION_DAYS)
    });
    // The name and number by the counter's rules before the registry is asked: a number
    // that cannot exist is said to be wrong, not "not insured".
    let mut asked = crate::domain::Application::new(now);
    asked.applicant.name = req.name.clone();
    asked.applicant.id_type = req.id_type;
    asked.applicant.id_number = req.id_number.clone();
    let errors: Vec<FieldError> =
        crate::domain::validate_step(&asked, crate::domain::Step::Applicant, beijing_date(now))
            .into_iter()
            .filter(|p| p.blocks_submission())
            .filter_map(|p| {
                let field = match p.field {
                    Field::Name => "name",
                    Field::IdNumber => "id_number",
                    _ => return None,
                };
                Some(FieldError {
                    field: field.into(),
                    message: format!("{}：{}", p.field.label(), p.message),
                })
            })
            .collect();
    refuse_fields(errors)?;
    let id_number = crate::domain::id_number::normalise_id_input(&req.id_number);
    let entry = registry::lookup(conn, req.id_type, &id_number)?;
    let refusal = match &entry {
        None => Some(IneligibleReason::NotInsured),
        Some(e) => e
            .refusal(&req.name)
            .or(active_application(conn, &id_number)?
                .map(|_| IneligibleReason::ApplicationInProgress)),
    }
    .map(IneligibleReason::as_answered);
    let answer = EligibilityAnswer {
        check_id: Uuid::new_v4(),
        checked_at: now,
        eligible: refusal.is_none(),
        reason_code: refusal,
        reason: refusal.map(|r| r.message().to_owned()),
        person: entry
            .as_ref()
            .filter(|_| refusal.is_none() && verified)
            .map(|e| e.person.clone()),
        card_issuer: entry
            .as_ref()
            .filter(|_| refusal.is_none())
            .map(|e| e.issuer.clone()),
        allowed_pickup: match (&entry, refusal) {
            (Some(e), None) => e.allowed_pickup.clone(),
            _ => Vec::new(),
        },
    };
    conn.execute(
        "INSERT INTO eligibility_checks VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            answer.check_id.to_string(),
            centre,
            operator,
            id_number,
            req.access_authorised_at.to_rfc3339(),
            checked_at.map(|t| t.to_rfc3339()),
            now.to_rfc3339(),
            answer.eligible,
            refusal.map(|r| serde_json::to_value(r)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))),
        ],
    )?;
    Ok(answer)
}

/// Whether `s` is a lower-case hex SHA-256.
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Store a photo under its SHA-256 for this centre. Re-sending one that is there stores
/// nothing.
/// The longest side of an ID card image the server accepts (the counter sends at most
/// 2000 px): with the card photo's fixed size, what bounds the memory of a photo check.
pub const MAX_ID_IMAGE_SIDE: u32 = 4096;
/// The photo bytes one centre may keep (photos no application refers to expire).
pub const CENTRE_PHOTO_QUOTA: i64 = 2 * 1024 * 1024 * 1024;
/// How long a photo no application refers to is kept.
pub const UNREFERENCED_PHOTO_DAYS: i64 = 7;

/// Whether an image of these declared dimensions can be one of the three photos: the card
/// photo's exact size, or an ID card image of sensible size. Checked before decoding.
fn plausible_photo(w: u32, h: u32) -> bool {
    let card = (w, h)
        == (
            crate::photo::check::CARD_WIDTH,
            crate::photo::check::CARD_HEIGHT,
        );
    let id = w.min(h) >= crate::photo::check::ID_MIN_SHORT_SIDE && w.max(h) <= MAX_ID_IMAGE_SIDE;
    card || id
}

/// An upload worth keeping: its hash is its path's, it is JPEG or PNG, its declared size is
/// a photo's (read from the header, before any pixel is decoded), and it decodes. Costly
/// (a decode): the caller bounds how many run at once, and runs it off the database lock.
pub fn check_upload(sha256: &str, bytes: &[u8]) -> Result<()> {
    if !is_sha256(sha256) {
        return Err(Reject::new(
            400,
            "invalid_sha256",
            "照片地址中的 SHA-256 应为 64 位小写十六进制",
        ));
    }
    let actual = crate::digest::sha256_hex(bytes);
    if actual != sha256 {
        return Err(Reject::new(
            422,
            "sha256_mismatch",
            format!(
                "照片内容的 SHA-256 为 {actual}，与地址中的 {sha256} 不符：上传可能不完整，请重新上传"
            ),
        ));
    }
    let not_an_image = || Reject::new(422, "not_an_image", "上传的内容不是 JPEG 或 PNG 图片");
    if !matches!(
        image::guess_format(bytes).ok(),
        Some(image::ImageFormat::Jpeg | image::ImageFormat::Png)
    ) {
        return Err(not_an_image());
    }
    let (w, h) = crate::photo::decode::declared_dimensions(bytes).map_err(|_| not_an_image())?;
    if !plausible_photo(w, h) {
        return Err(Reject::new(
            422,
            "not_an_image",
            format!(
                "照片尺寸为 {w}×{h}：制卡照片须为 358×441 像素，身份证照片短边至少 300、长边不超过 {MAX_ID_IMAGE_SIDE} 像素"
            ),
        ));
    }
    crate::photo::decode(bytes)
        .map_err(|e| Reject::new(422, "not_an_image", format!("照片无法解码：{e}")))?;
    Ok(())
}

/// Keep an upload `check_upload` passed, within the centre's quota.
pub fn put_photo(
    conn: &Connection,
    centre: &str,
    sha256: &str,
    bytes: &[u8],
    quota: i64,
    now: DateTime<Utc>,
) -> Result<PhotoReceipt> {
    if let Some(receipt) = photo_receipt(conn, centre, sha256)? {
        return Ok(receipt);
    }
    let used: i64 = conn.query_row(
        "SELECT coalesce(sum(length(bytes)), 0) FROM photos WHERE centre = ?1",
        [centre],
        |r| r.get(0),
    )?;
    if used + bytes.len() as i64 > quota {
        return Err(Reject::new(
            507,
            "insufficient_storage",
            "本网点在中心存放的照片已达上限：请稍后重试（未被申领引用的照片会按期清理）",
        ));
    }
    let actual = crate::digest::sha256_hex(bytes);
    if actual != sha256 {
        return Err(Reject::new(
            422,
            "sha256_mismatch",
            format!(
                "照片内容的 SHA-256 为 {actual}，与地址中的 {sha256} 不符：上传可能不完整，请重新上传"
            ),
        ));
    }
    conn.execute(
        "INSERT OR IGNORE INTO photos VALUES (?1, ?2, ?3, ?4)",
        params![centre, sha256, bytes, now.to_rfc3339()],
    )?;
    Ok(PhotoReceipt {
        sha256: sha256.to_owned(),
        size: bytes.len() as u64,
        already_present: false,
    })
}

/// What the server holds under a SHA-256 for this centre.
pub fn photo_receipt(
    conn: &Connection,
    centre: &str,
    sha256: &str,
) -> Result<Option<PhotoReceipt>> {
    Ok(conn
        .query_row(
            "SELECT length(bytes) FROM photos WHERE centre = ?1 AND sha256 = ?2",
            params![centre, sha256],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
        .map(|size| PhotoReceipt {
            sha256: sha256.to_owned(),
            size: size as u64,
            already_present: true,
        }))
}

/// A stored answer for an idempotency key: the hash of the body it answered, its status
/// and its body.
pub struct StoredAnswer {
    pub body_sha256: String,
    pub status: u16,
    pub response: String,
}

pub fn stored_answer(conn: &Connection, centre: &str, key: &str) -> Result<Option<StoredAnswer>> {
    Ok(conn
        .query_row(
            "SELECT body_sha256, status_code, response FROM idempotency_keys
             WHERE centre = ?1 AND key = ?2",
            params![centre, key],
            |r| {
                Ok(StoredAnswer {
                    body_sha256: r.get(0)?,
                    status: r.get(1)?,
                    response: r.get(2)?,
                })
            },
        )
        .optional()?)
}

/// One photo a submission names, as stored for this centre.
pub struct SubmittedPhoto {
    /// The JSON path of the field that names it.
    pub path: &'static str,
    pub kind: PhotoSlot,
    pub sha256: String,
    /// `None`: not uploaded.
    pub bytes: Option<Vec<u8>>,
}

/// The submission's photos as stored for this centre.
pub fn submitted_photos(
    conn: &Connection,
    centre: &str,
    sub: &Submission,
) -> Result<Vec<SubmittedPhoto>> {
    let mut out = Vec::with_capacity(3);
    for (path, sha, kind) in [
        (
            "photos.card_photo",
            &sub.photos.card_photo,
            PhotoSlot::CardPhoto,
        ),
        ("photos.id_front", &sub.photos.id_front, PhotoSlot::IdFront),
        ("photos.id_back", &sub.photos.id_back, PhotoSlot::IdBack),
    ] {
        let bytes: Option<Vec<u8>> = conn
            .query_row(
                "SELECT bytes FROM photos WHERE centre = ?1 AND sha256 = ?2",
                params![centre, sha],
                |r| r.get(0),
            )
            .optional()?;
        out.push(SubmittedPhoto {
            path,
            kind,
            sha256: sha.clone(),
            bytes,
        });
    }
    Ok(out)
}

/// The photo spec, checked on the bytes themselves. Pure and the costliest part of a
/// submission (decoding three images), so it runs outside the database lock: photos are
/// immutable under their hash, so nothing can change between this and the commit.
pub fn check_photos(photos: &[SubmittedPhoto]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for SubmittedPhoto {
        path,
        kind,
        sha256: sha,
        bytes,
    } in photos
    {
        let field = |message: String| FieldError {
            field: (*path).to_owned(),
            message,
        };
        let Some(bytes) = bytes else {
            errors.push(field(format!(
                "{}尚未上传（SHA-256 {sha}）：请先上传照片",
                kind.label()
            )));
            continue;
        };
        // What the header declares, before anything is decoded.
        match crate::photo::decode::declared_dimensions(bytes) {
            Ok((w, h))
                if *kind == PhotoSlot::CardPhoto
                    && (w, h)
                        != (
                            crate::photo::check::CARD_WIDTH,
                            crate::photo::check::CARD_HEIGHT,
                        ) =>
            {
                errors.push(field(format!(
                    "{}：尺寸为 {w}×{h}，须为 358×441 像素",
                    kind.label()
                )));
                continue;
            }
            Ok((w, h)) if !plausible_photo(w, h) => {
                errors.push(field(format!("{}：尺寸 {w}×{h} 不合要求", kind.label())));
                continue;
            }
            Ok(_) => {}
            Err(e) => {
                errors.push(field(format!("{}：{e}", kind.label())));
                continue;
            }
        }
        match check(bytes, *kind) {
            Ok(verdict) => errors.extend(
                verdict
                    .findings
                    .iter()
                    .filter(|f| f.fails)
                    .map(|f| field(format!("{}：{}", kind.label(), f.message))),
            ),
            Err(e) => errors.push(field(format!("{}：{e}", kind.label()))),
        }
    }
    errors
}

/// The counter's rules on a submission's own fields, before anything costs: no registry,
/// no photo decoded. Every pickup method counts as allowed here (the registry says later
/// which are). A refusal names every field that is wrong.
pub fn check_fields(sub: &Submission, now: DateTime<Utc>) -> Result<()> {
    match (sub.applied_by, &sub.agent) {
        (crate::domain::AppliedBy::Applicant, Some(_)) => {
            return Err(Reject::field(
                422,
                "validation_failed",
                "agent",
                "本人申领不应附带代办人：代办时 applied_by 应为 agent",
            ));
        }
        (crate::domain::AppliedBy::Agent, None) => {
            return Err(Reject::field(
                422,
                "validation_failed",
                "agent",
                "代办申领须填写代办人的姓名、证件、与申领人关系和联系电话",
            ));
        }
        _ => {}
    }
    if sub.pickup.method == PickupMethod::BankMail && sub.pickup.mail.is_none() {
        return Err(Reject::field(
            422,
            "validation_failed",
            "pickup.mail",
            "银行邮寄须填写收件人、电话和邮寄地址",
        ));
    }
    let app = sub.to_application(
        Eligibility::Eligible {
            checked_at: now,
            allowed_pickup: vec![PickupMethod::BankMail, PickupMethod::BranchPickup],
        },
        now,
    );
    refuse_fields(field_errors(&app, now))
}

/// The blocking problems `validate` finds, each naming its field.
fn field_errors(app: &crate::domain::Application, now: DateTime<Utc>) -> Vec<FieldError> {
    validate(app, beijing_date(now))
        .problems
        .iter()
        .filter(|p| p.blocks_submission())
        .filter(|p| p.field != Field::Eligibility)
        .map(|p| FieldError {
            field: p.field.api_path().to_owned(),
            message: format!("{}：{}", p.field.label(), p.message),
        })
        .collect()
}

/// A 422 naming every field in `errors`, if there are any.
fn refuse_fields(errors: Vec<FieldError>) -> Result<()> {
    if errors.is_empty() {
        return Ok(());
    }
    let message = format!(
        "申领信息有 {} 处不符合要求：{}",
        errors.len(),
        errors
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join("；")
    );
    Err(Reject::new(422, "validation_failed", message).with_fields(errors))
}

/// Everything the server checks in a submission beyond JSON shape and the photos (whose
/// findings are passed in), in the order a clerk would fix them.
/// `id_number` is the submission's, normalised as the eligibility check normalises it.
fn check_submission(
    conn: &Connection,
    centre: &str,
    sub: &Submission,
    id_number: &str,
    photo_errors: Vec<FieldError>,
    now: DateTime<Utc>,
) -> Result<()> {
    let a = &sub.applicant;
    // One field and one message for "not in the registry" and "not this name": a
    // submission must not tell who is in the registry either.
    let ineligible = |r: IneligibleReason| {
        Reject::field(
            422,
            "ineligible",
            "applicant.id_number",
            r.as_answered().message(),
        )
    };
    let Some(entry) = registry::lookup(conn, a.id_type, id_number)? else {
        return Err(ineligible(IneligibleReason::NotInsured));
    };
    if let Some(r) = entry.refusal(&a.name) {
        return Err(ineligible(r));
    }
    if let Some((number, owner)) = active_application(conn, id_number)? {
        // Another centre's application is not named: its number is that centre's business.
        let message = if owner == centre {
            format!(
                "{}（申领编号 {number}）",
                IneligibleReason::ApplicationInProgress.message()
            )
        } else {
            IneligibleReason::ApplicationInProgress.message().to_owned()
        };
        return Err(Reject::field(
            422,
            "application_in_progress",
            "applicant.id_number",
            message,
        ));
    }
    if sub.card_issuer.bank_code != entry.issuer.bank_code
        || sub.card_issuer.branch_code != entry.issuer.branch_code
    {
        return Err(Reject::field(
            422,
            "validation_failed",
            "card_issuer",
            format!(
                "发卡银行应为发放养老金的银行：{} {}",
                entry.issuer.bank_name, entry.issuer.branch_name
            ),
        ));
    }
    // The counter's rules, with the server's own eligibility finding.
    let app = sub.to_application(
        Eligibility::Eligible {
            checked_at: now,
            allowed_pickup: entry.allowed_pickup.clone(),
        },
        now,
    );
    let mut errors = field_errors(&app, now);
    errors.extend(photo_errors);
    refuse_fields(errors)
}

/// Accept a submission: in one transaction, check it, create the application with its
/// first history entry, and keep the answer under the idempotency key. A refused
/// submission stores nothing, so the same key may be retried once the cause is fixed.
#[allow(clippy::too_many_arguments)]
pub fn submit(
    conn: &mut Connection,
    centre: &str,
    operator: &str,
    key: &str,
    body_sha256: &str,
    sub: &Submission,
    photo_errors: Vec<FieldError>,
    now: DateTime<Utc>,
    pace: std::time::Duration,
) -> Result<(u16, String)> {
    let tx = conn.transaction()?;
    // Checked again inside the transaction: another request may have finished meanwhile.
    if let Some(stored) = stored_answer(&tx, centre, key)? {
        return replay_or_conflict(stored, body_sha256);
    }
    let id_number = crate::domain::id_number::normalise_id_input(&sub.applicant.id_number);
    check_submission(&tx, centre, sub, &id_number, photo_errors, now)?;
    let serial = db::next(&tx, "application")?;
    let number = format!("SQ{}{serial:08}", beijing_date(now).format("%Y%m%d"));
    let seq = db::next(&tx, "seq")?;
    let body = serde_json::to_string(sub).map_err(Reject::internal)?;
    tx.execute(
        "INSERT INTO applications (number, centre, operator, client_reference, id_number, body,
             pickup_method, status, received_at, updated_at, next_step_at, seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'received', ?8, ?8, ?9, ?10)",
        params![
            number,
            centre,
            operator,
            sub.client_reference.to_string(),
            id_number,
            body,
            sub.pickup.method.key(),
            now.to_rfc3339(),
            ms(now) + pace.as_millis() as i64,
            seq,
        ],
    )?;
    tx.execute(
        "INSERT INTO history (number, status, at) VALUES (?1, 'received', ?2)",
        params![number, now.to_rfc3339()],
    )?;
    let receipt = SubmissionReceipt {
        application_number: number,
        client_reference: sub.client_reference,
        status: ProgressStatus::Received,
        received_at: now,
    };
    let response = serde_json::to_string(&receipt).map_err(Reject::internal)?;
    tx.execute(
        "INSERT INTO idempotency_keys VALUES (?1, ?2, ?3, 201, ?4, ?5)",
        params![centre, key, body_sha256, response, ms(now)],
    )?;
    tx.commit()?;
    Ok((201, response))
}

/// The stored answer when the body is the same; 422 when the key was used for another.
pub fn replay_or_conflict(stored: StoredAnswer, body_sha256: &str) -> Result<(u16, String)> {
    if stored.body_sha256 == body_sha256 {
        Ok((stored.status, stored.response))
    } else {
        Err(Reject::new(
            422,
            "idempotency_key_reused",
            "这个 Idempotency-Key 已用于另一份不同的申领：每份申领须使用自己的键",
        ))
    }
}

fn status_of(text: &str) -> ProgressStatus {
    ProgressStatus::from_key(text).unwrap_or(ProgressStatus::Received)
}

fn time_of(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn return_reason(field: Option<String>, message: Option<String>) -> Option<ReturnReason> {
    Some(ReturnReason {
        field: field?,
        message: message?,
    })
}

fn load_progress(conn: &Connection, number: &str) -> rusqlite::Result<Progress> {
    let (client_reference, status, updated_at, tracking_number, field, message): (
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
    ) = conn.query_row(
        "SELECT client_reference, status, updated_at, tracking_number, return_field, return_message
         FROM applications WHERE number = ?1",
        [number],
        |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        },
    )?;
    let mut stmt = conn.prepare_cached(
        "SELECT status, at, tracking_number, return_field, return_message FROM history
         WHERE number = ?1 ORDER BY rowid",
    )?;
    let history = stmt
        .query_map([number], |r| {
            let status: String = r.get(0)?;
            let at: String = r.get(1)?;
            Ok(ProgressEvent {
                status: status_of(&status),
                at: time_of(&at),
                tracking_number: r.get(2)?,
                return_reason: return_reason(r.get(3)?, r.get(4)?),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Progress {
        application_number: number.to_owned(),
        client_reference: client_reference.parse().unwrap_or_default(),
        status: status_of(&status),
        updated_at: time_of(&updated_at),
        tracking_number,
        return_reason: return_reason(field, message),
        history,
    })
}

/// One application's progress. Another centre's is answered exactly as one that does not
/// exist (404): the answer must not tell which numbers exist.
pub fn progress(conn: &Connection, centre: &str, number: &str) -> Result<Progress> {
    let owner: Option<String> = conn
        .query_row(
            "SELECT centre FROM applications WHERE number = ?1",
            [number],
            |r| r.get(0),
        )
        .optional()?;
    match owner {
        Some(owner) if owner == centre => Ok(load_progress(conn, number)?),
        _ => Err(Reject::new(
            404,
            "not_found",
            "本服务网点没有这个申领编号的申领：请核对申领编号",
        )),
    }
}

/// Applications of this centre whose progress changed after `cursor`, oldest change first.
pub fn changes_since(
    conn: &Connection,
    centre: &str,
    cursor: &str,
    limit: usize,
) -> Result<ProgressPage> {
    let after: i64 = if cursor.is_empty() {
        0
    } else {
        cursor
            .parse()
            .ok()
            .filter(|n: &i64| *n >= 0)
            .ok_or_else(|| {
                Reject::field(
                    400,
                    "invalid_request",
                    "since",
                    "since 应为上一次应答中的 next_cursor（或留空从头开始）",
                )
            })?
    };
    let mut stmt = conn.prepare_cached(
        "SELECT number, seq FROM applications WHERE centre = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    )?;
    let rows = stmt
        .query_map(params![centre, after, limit as i64 + 1], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let has_more = rows.len() > limit;
    let rows = &rows[..rows.len().min(limit)];
    let next = rows.last().map(|(_, seq)| *seq).unwrap_or(after);
    let items = rows
        .iter()
        .map(|(number, _)| load_progress(conn, number))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(ProgressPage {
        items,
        next_cursor: next.to_string(),
        has_more,
    })
}

/// A tracking number of the kind China Post EMS uses (two letters, nine digits, CN).
fn tracking_number(number: &str) -> String {
    let digits: u64 = number
        .bytes()
        .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
    format!("EA{:09}CN", digits % 1_000_000_000)
}

/// Move every application whose next step is due one step along; returns how many moved.
pub fn advance_due(
    conn: &mut Connection,
    now: DateTime<Utc>,
    pace: std::time::Duration,
) -> Result<usize> {
    let tx = conn.transaction()?;
    let due: Vec<String> = {
        let mut stmt = tx.prepare(
            "SELECT number FROM applications
             WHERE next_step_at IS NOT NULL AND next_step_at <= ?1 ORDER BY next_step_at LIMIT 500",
        )?;
        stmt.query_map([ms(now)], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?
    };
    for number in &due {
        step_in(&tx, number, now, pace)?;
    }
    tx.commit()?;
    Ok(due.len())
}

/// Move one application one step along now, whenever its step was due (the demo uses it
/// to show applications at every stage). Returns the new status, `None` if it is final.
pub fn advance_one(
    conn: &mut Connection,
    number: &str,
    now: DateTime<Utc>,
    pace: std::time::Duration,
) -> Result<Option<ProgressStatus>> {
    let tx = conn.transaction()?;
    let next = step_in(&tx, number, now, pace)?;
    tx.commit()?;
    Ok(next)
}

fn step_in(
    tx: &Connection,
    number: &str,
    now: DateTime<Utc>,
    pace: std::time::Duration,
) -> Result<Option<ProgressStatus>> {
    let (status, pickup, id_number): (String, String, String) = tx.query_row(
        "SELECT status, pickup_method, id_number FROM applications WHERE number = ?1",
        [number],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let (next, tracking, returned) = match status_of(&status) {
        s if s.is_final() => return Ok(None),
        ProgressStatus::Received => {
            let entry = registry::lookup(tx, crate::domain::IdType::ResidentId, &id_number)?;
            let earlier_returns: i64 = tx.query_row(
                "SELECT count(*) FROM applications WHERE id_number = ?1 AND status = 'returned'",
                [&id_number],
                |r| r.get(0),
            )?;
            match entry.and_then(|e| e.review) {
                Some(review) if earlier_returns == 0 => {
                    (ProgressStatus::Returned, None, Some(review))
                }
                _ => (ProgressStatus::Accepted, None, None),
            }
        }
        ProgressStatus::Accepted => (ProgressStatus::InProduction, None, None),
        ProgressStatus::InProduction if pickup == PickupMethod::BranchPickup.key() => {
            (ProgressStatus::ReadyForCollection, None, None)
        }
        ProgressStatus::InProduction => {
            (ProgressStatus::Shipped, Some(tracking_number(number)), None)
        }
        _ => (ProgressStatus::Collected, None, None),
    };
    let next_at = (!next.is_final()).then(|| ms(now) + pace.as_millis() as i64);
    let seq = db::next(tx, "seq")?;
    let (field, message) = returned.unzip();
    tx.execute(
        "UPDATE applications SET status = ?2, updated_at = ?3, next_step_at = ?4, seq = ?5,
             tracking_number = coalesce(?6, tracking_number),
             return_field = ?7, return_message = ?8
         WHERE number = ?1",
        params![
            number,
            next.key(),
            now.to_rfc3339(),
            next_at,
            seq,
            tracking,
            field,
            message
        ],
    )?;
    tx.execute(
        "INSERT INTO history VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            number,
            next.key(),
            now.to_rfc3339(),
            tracking,
            field,
            message
        ],
    )?;
    Ok(Some(next))
}

/// Forget idempotency keys older than the retention period.
pub fn purge_keys(conn: &Connection, now: DateTime<Utc>) -> Result<usize> {
    let cutoff = ms(now - chrono::Duration::days(IDEMPOTENCY_KEY_DAYS));
    Ok(conn.execute(
        "DELETE FROM idempotency_keys WHERE created_at < ?1",
        [cutoff],
    )?)
}

/// Keep the head of a centre's audit chain, if it extends the last head kept. The anchor
/// must be signed with the chain's key (registered by its first anchor: the token alone
/// cannot post one), name the last anchor kept (`extends`) and carry every entry since
/// it, from which the chain is recomputed: a chain rewritten, cut or restored from an
/// older copy does not extend it and is refused (422), and so is an anchor that skips the
/// one before. The same anchor again is answered as before (200).
pub fn anchor(
    conn: &Connection,
    centre: &str,
    operator: &str,
    a: &crate::api::AuditAnchor,
    now: DateTime<Utc>,
) -> Result<(u16, crate::api::AnchorReceipt)> {
    let refuse = |code: &'static str, message: String| Err(Reject::new(422, code, message));
    if !is_sha256(&a.hash) || a.seq < 1 {
        return Err(Reject::new(
            400,
            "invalid_request",
            "锚点须为审计链最后一条记录的编号（从 1 起）和它的 SHA-256（64 位小写十六进制）",
        ));
    }
    if a.entries.len() > crate::api::MAX_ANCHOR_ENTRIES {
        return Err(Reject::new(
            400,
            "invalid_request",
            format!(
                "一个锚点最多带 {} 条审计记录：请分几次发送",
                crate::api::MAX_ANCHOR_ENTRIES
            ),
        ));
    }
    let chain = a.chain_id.to_string();
    let registered: Option<String> = conn
        .query_row(
            "SELECT public_key FROM audit_chains WHERE centre = ?1 AND chain_id = ?2",
            params![centre, chain],
            |r| r.get(0),
        )
        .optional()?;
    let Some(key) = registered.clone().or_else(|| a.chain_key.clone()) else {
        return refuse(
            "anchor_unsigned",
            "锚点没有审计链的公钥：这条链的第一个锚点须带上它".into(),
        );
    };
    let unhex = |s: &str| (s.len() <= 256).then(|| crate::digest::unhex(s)).flatten();
    let signed = unhex(&key)
        .zip(unhex(&a.signature))
        .is_some_and(|(key, sig)| {
            ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, key)
                .verify(&a.signed_bytes(), &sig)
                .is_ok()
        });
    if !signed {
        return refuse(
            "anchor_signature",
            "锚点的签名不对：不是这条审计链的计算机发出的".into(),
        );
    }
    let latest = latest_anchor_of(conn, centre, &chain)?;
    if let Some(l) = &latest {
        if a.seq < l.seq {
            return refuse(
                "anchor_regressed",
                format!(
                    "审计链只到第 {} 条，而中心已记录到第 {} 条：本机审计记录可能被删除",
                    a.seq, l.seq
                ),
            );
        }
        if a.seq == l.seq {
            if a.hash == l.hash {
                return Ok((200, l.clone()));
            }
            return refuse(
                "anchor_mismatch",
                format!(
                    "第 {} 条审计记录的哈希与中心记录的不同：本机审计记录可能被改写",
                    a.seq
                ),
            );
        }
    }
    let (from_seq, from_hash) = match (&latest, &a.extends) {
        (None, None) => (0, crate::digest::AUDIT_GENESIS.to_owned()),
        (Some(l), Some(e)) if e.seq == l.seq && e.hash == l.hash => (l.seq, l.hash.clone()),
        (Some(l), _) => {
            return refuse(
                "anchor_not_extending",
                format!(
                    "这个锚点不是接在中心最近的锚点（第 {} 条）之后：本机审计记录可能被改写、截短或从旧备份恢复",
                    l.seq
                ),
            );
        }
        (None, Some(_)) => {
            return refuse(
                "anchor_not_extending",
                "中心没有这个锚点所接续的锚点".into(),
            );
        }
    };
    let consecutive = a.entries.len() as i64 == a.seq - from_seq
        && a.entries
            .iter()
            .enumerate()
            .all(|(i, e)| e.id == from_seq + 1 + i as i64);
    if !consecutive {
        return refuse(
            "anchor_entries",
            format!(
                "锚点须带上第 {} 条到第 {} 条的全部审计记录",
                from_seq + 1,
                a.seq
            ),
        );
    }
    let recomputed = a.entries.iter().fold(from_hash, |prev, e| {
        crate::digest::audit_entry_hash(
            &prev,
            e.id,
            e.at,
            &e.operator_id,
            &e.operator_name,
            &e.action,
            e.application_id.as_deref(),
            e.detail.as_deref(),
        )
    });
    if recomputed != a.hash {
        return refuse(
            "anchor_mismatch",
            "审计记录与中心记录的接不上：本机审计记录可能被改写".into(),
        );
    }
    if registered.is_none() {
        conn.execute(
            "INSERT INTO audit_chains (centre, chain_id, public_key, registered_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![centre, chain, key, now.to_rfc3339()],
        )?;
    }
    conn.execute(
        "INSERT INTO audit_anchors (centre, chain_id, seq, hash, operator, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![centre, chain, a.seq, a.hash, operator, now.to_rfc3339()],
    )?;
    Ok((
        201,
        crate::api::AnchorReceipt {
            chain_id: a.chain_id,
            seq: a.seq,
            hash: a.hash.clone(),
            received_at: now,
        },
    ))
}

/// Every anchor the server keeps of a chain of this centre, oldest first (`sbk audit
/// verify` checks each against the chain it has).
pub fn anchor_history(
    conn: &Connection,
    centre: &str,
    chain_id: Uuid,
) -> Result<Vec<crate::api::AnchorReceipt>> {
    let mut stmt = conn.prepare(
        "SELECT chain_id, seq, hash, received_at FROM audit_anchors
         WHERE centre = ?1 AND chain_id = ?2 ORDER BY seq",
    )?;
    let rows = stmt.query_map(params![centre, chain_id.to_string()], receipt_of)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

fn receipt_of(r: &rusqlite::Row) -> rusqlite::Result<crate::api::AnchorReceipt> {
    let id: String = r.get(0)?;
    let at: String = r.get(3)?;
    Ok(crate::api::AnchorReceipt {
        chain_id: id.parse().unwrap_or_default(),
        seq: r.get(1)?,
        hash: r.get(2)?,
        received_at: DateTime::parse_from_rfc3339(&at)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default(),
    })
}

/// The latest anchor of a chain of this centre (another centre's chains are not found).
pub fn latest_anchor(
    conn: &Connection,
    centre: &str,
    chain_id: Uuid,
) -> Result<crate::api::AnchorReceipt> {
    latest_anchor_of(conn, centre, &chain_id.to_string())?
        .ok_or_else(|| Reject::new(404, "not_found", "中心没有这条审计链的锚点"))
}

fn latest_anchor_of(
    conn: &Connection,
    centre: &str,
    chain: &str,
) -> Result<Option<crate::api::AnchorReceipt>> {
    Ok(conn
        .query_row(
            "SELECT chain_id, seq, hash, received_at FROM audit_anchors
             WHERE centre = ?1 AND chain_id = ?2 ORDER BY seq DESC LIMIT 1",
            params![centre, chain],
            receipt_of,
        )
        .optional()?)
}

/// Forget photos no application of their centre refers to, uploaded more than
/// `UNREFERENCED_PHOTO_DAYS` ago (an upload that never became a submission).
pub fn expire_unreferenced_photos(conn: &Connection, now: DateTime<Utc>) -> Result<usize> {
    let cutoff = (now - chrono::Duration::days(UNREFERENCED_PHOTO_DAYS)).to_rfc3339();
    Ok(conn.execute(
        "DELETE FROM photos WHERE uploaded_at < ?1 AND NOT EXISTS (
             SELECT 1 FROM applications a WHERE a.centre = photos.centre AND photos.sha256 IN (
                 json_extract(a.body, '$.photos.card_photo'),
                 json_extract(a.body, '$.photos.id_front'),
                 json_extract(a.body, '$.photos.id_back')))",
        [cutoff],
    )?)
}
