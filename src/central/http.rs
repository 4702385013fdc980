//! The reference server's HTTP face: routes, authentication, body limits, idempotency and
//! fault injection. Each handler does its database work through `service` on a blocking
//! thread; every refusal is a JSON `ApiError` with the contract's status.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::Shared;
use super::service::{self, Reject};
use crate::api::{
    EligibilityRequest, IDEMPOTENCY_HEADER, JSON_BODY_LIMIT, OPERATOR_HEADER, PHOTO_BODY_LIMIT,
    REPLAYED_HEADER, Submission,
};

/// Marks a response the connection must be dropped instead of sending (fault injection:
/// the submission is committed, the answer never arrives).
#[derive(Debug, Clone, Copy)]
pub struct DropConnection;

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(self.error)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Who is calling: the centre its token belongs to and the operator it names.
pub struct Caller {
    pub centre: String,
    pub operator: String,
}

impl FromRequestParts<Arc<Shared>> for Caller {
    type Rejection = Reject;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<Shared>) -> Result<Caller, Reject> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let Some(token) = token else {
            return Err(Reject::new(
                401,
                "unauthenticated",
                "缺少访问令牌：请求须带 Authorization: Bearer <服务网点令牌>",
            ));
        };
        let Some(centre) = state.centre_of(token) else {
            return Err(Reject::new(401, "unauthenticated", "访问令牌无效或已停用"));
        };
        let operator = parts
            .headers
            .get(OPERATOR_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .unwrap_or("");
        if !is_operator_id(operator) {
            return Err(Reject::new(
                400,
                "operator_missing",
                "缺少或无效的 X-Operator-Id：须为经办人工号（1–64 位字母、数字、-、_ 或 .）",
            ));
        }
        Ok(Caller {
            centre,
            operator: operator.to_owned(),
        })
    }
}

fn is_operator_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Read a body of at most `limit` bytes: 413 beyond it.
/// Read a body of at most `limit` bytes within `timeout` (an 8.75 MB photo at 1 Mbit/s
/// takes 70 s; the default allows 120).
async fn read_body(body: Body, limit: usize, timeout: Duration) -> Result<Bytes, Reject> {
    let too_large = || {
        Reject::new(
            413,
            "payload_too_large",
            format!("请求体超过 {limit} 字节的上限"),
        )
    };
    // A body that does not arrive in time is given up on: a half-sent upload must not hold
    // a connection (and its memory) for ever.
    let read = tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await;
    let Ok(read) = read else {
        return Err(Reject::new(
            408,
            "request_timeout",
            format!("请求体未在 {} 秒内传完：请重试", timeout.as_secs()),
        ));
    };
    match read {
        Ok(bytes) => Ok(bytes),
        Err(e) => {
            let inner = e.into_inner();
            if inner
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
                || std::error::Error::source(&*inner).is_some_and(|s| {
                    s.downcast_ref::<http_body_util::LengthLimitError>()
                        .is_some()
                })
            {
                Err(too_large())
            } else {
                Err(Reject::new(
                    400,
                    "invalid_request",
                    format!("请求体读取失败：{inner}"),
                ))
            }
        }
    }
}

/// Parse JSON, saying where it is wrong: 400 with the JSON path of the bad field.
fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Reject> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let message = format!("请求格式错误（{path}）：{}", e.inner());
        Reject::new(400, "invalid_request", message.clone()).with_fields(vec![
            crate::api::FieldError {
                field: path,
                message,
            },
        ])
    })
}

/// Run database work on a blocking thread.
async fn with_db<T: Send + 'static>(
    state: &Arc<Shared>,
    work: impl FnOnce(&mut rusqlite::Connection) -> Result<T, Reject> + Send + 'static,
) -> Result<T, Reject> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = state.db.lock().unwrap_or_else(|p| p.into_inner());
        work(&mut conn)
    })
    .await
    .map_err(Reject::internal)?
}

pub fn router(state: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/eligibility-checks", post(eligibility))
        .route("/v1/photos/{sha256}", get(photo_status).put(put_photo))
        .route("/v1/applications", post(submit).get(changes))
        .route("/v1/applications/{number}", get(progress))
        .route("/v1/audit-anchors", post(put_anchor))
        .route("/v1/audit-anchors/{chain_id}", get(get_anchor))
        .route(
            "/v1/audit-anchors/{chain_id}/history",
            get(get_anchor_history),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), faults))
        .with_state(state)
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn not_found() -> Reject {
    Reject::new(
        404,
        "not_found",
        "没有这个接口：请对照 docs/central-api.yaml",
    )
}

async fn method_not_allowed() -> Reject {
    Reject::new(405, "method_not_allowed", "这个接口不支持该请求方法")
}

/// Fault injection, off unless configured: latency, random 500/503, and 429 beyond the
/// concurrency limit. The health check is exempt so that tests can wait for start-up.
async fn faults(State(state): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    if request.uri().path() == "/v1/health" {
        return next.run(request).await;
    }
    let faults = &state.faults;
    let _slot = match state.take_slot() {
        Some(slot) => slot,
        None => {
            return retry_later(
                &state,
                Reject::new(429, "too_many_requests", "请求过多，请稍后重试"),
            );
        }
    };
    let is_submission =
        request.method() == axum::http::Method::POST && request.uri().path() == "/v1/applications";
    if faults.latency > Duration::ZERO && !is_submission {
        tokio::time::sleep(faults.latency).await;
    }
    if faults.fail_rate > 0.0 && state.chance(faults.fail_rate) {
        let reject = if state.chance(0.5) {
            Reject::new(
                500,
                "injected_failure",
                "中心系统内部错误（注入的故障），请稍后重试",
            )
        } else {
            Reject::new(
                503,
                "unavailable",
                "中心系统暂不可用（注入的故障），请稍后重试",
            )
        };
        return retry_later(&state, reject);
    }
    next.run(request).await
}

/// A refusal the client should retry, with `Retry-After` when configured.
fn retry_later(state: &Shared, reject: Reject) -> Response {
    let retryable = matches!(reject.status, 429 | 503);
    let mut response = reject.into_response();
    if let Some(after) = state.faults.retry_after.filter(|_| retryable) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(after));
    }
    response
}

async fn eligibility(
    State(state): State<Arc<Shared>>,
    caller: Caller,
    body: Body,
) -> Result<Json<crate::api::EligibilityAnswer>, Reject> {
    let bytes = read_body(body, JSON_BODY_LIMIT, state.limits.body_timeout).await?;
    let req: EligibilityRequest = parse_json(&bytes)?;
    let answer = with_db(&state, move |conn| {
        service::check_eligibility(conn, &caller.centre, &caller.operator, &req, Utc::now())
    })
    .await?;
    Ok(Json(answer))
}

async fn put_anchor(
    State(state): State<Arc<Shared>>,
    caller: Caller,
    body: Body,
) -> Result<Response, Reject> {
    let bytes = read_body(
        body,
        crate::api::ANCHOR_BODY_LIMIT,
        state.limits.body_timeout,
    )
    .await?;
    let anchor: crate::api::AuditAnchor = parse_json(&bytes)?;
    let (status, receipt) = with_db(&state, move |conn| {
        service::anchor(conn, &caller.centre, &caller.operator, &anchor, Utc::now())
    })
    .await?;
    let body = serde_json::to_string(&receipt).map_err(Reject::internal)?;
    Ok(json_response(status, body, false))
}

async fn get_anchor(
    State(state): State<Arc<Shared>>,
    caller: Caller,
    Path(chain_id): Path<String>,
) -> Result<Json<crate::api::AnchorReceipt>, Reject> {
    let chain_id: uuid::Uuid = chain_id
        .parse()
        .map_err(|_| Reject::new(400, "invalid_request", "审计链编号应为 UUID"))?;
    let receipt = with_db(&state, move |conn| {
        service::latest_anchor(conn, &caller.centre, chain_id)
    })
    .await?;
    Ok(Json(receipt))
}

async fn get_anchor_history(
    State(state): State<Arc<Shared>>,
    caller: Caller,
    Path(chain_id): Path<String>,
) -> Result<Json<Vec<crate::api::AnchorReceipt>>, Reject> {
    let chain_id: uuid::Uuid = chain_id
        .parse()
        .map_err(|_| Reject::new(400, "invalid_request", "审计链编号应为 UUID"))?;
    let all = with_db(&state, move |conn| {
        service::anchor_history(conn, &caller.centre, chain_id)
    })
    .await?;
    Ok(Json(all))
}

async fn photo_status(
    State(state): State<Arc<Shared>>,
    caller: Caller,
    Path(sha256): Path<String>,
) -> Result<Json<crate::api::PhotoReceipt>, Reject> {
    if !service::is_sha256(&sha256) {
        return Err(Reject::new(
            400,
            "invalid_sha256",
            "SHA-256 应为 64 位小写十六进制",
        ));
    }
    let found = with_db(&state, move |conn| {
        service::photo_receipt(conn, &caller.centre, &sha256)
    })
    .await?;
    found
        .map(Json)
        .ok_or_else(|| Reject::new(404, "not_found", "中心系统没有这张照片，请上传"))
}

async fn put_photo(
    State(state): State<Arc<Shared>>,
    caller: Caller,
    Path(sha256): Path<String>,
    body: Body,
) -> Result<Response, Reject> {
    let bytes = read_body(body, PHOTO_BODY_LIMIT, state.limits.body_timeout).await?;
    let known = {
        let (centre, sha) = (caller.centre.clone(), sha256.clone());
        with_db(&state, move |conn| {
            if !service::is_sha256(&sha) {
                return Ok(None);
            }
            service::photo_receipt(conn, &centre, &sha)
        })
        .await?
    };
    if let Some(receipt) = known {
        return Ok((StatusCode::OK, Json(receipt)).into_response());
    }
    // Checked (decoded) a few at a time, off the database lock.
    let checked = {
        let _permit = state
            .photo_checks
            .acquire()
            .await
            .map_err(Reject::internal)?;
        let (sha, bytes) = (sha256.clone(), bytes.clone());
        tokio::task::spawn_blocking(move || service::check_upload(&sha, &bytes))
            .await
            .map_err(Reject::internal)?
    };
    checked?;
    let quota = state.limits.photo_quota;
    let receipt = with_db(&state, move |conn| {
        service::put_photo(conn, &caller.centre, &sha256, &bytes, quota, Utc::now())
    })
    .await?;
    let status = if receipt.already_present {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(receipt)).into_response())
}

/// Forgets a claimed idempotency key when the request ends, however it ends.
struct Claim {
    keys: Arc<Mutex<HashSet<(String, String)>>>,
    key: (String, String),
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.key);
    }
}

fn idempotency_key(headers: &HeaderMap) -> Result<String, Reject> {
    let Some(value) = headers.get(IDEMPOTENCY_HEADER) else {
        return Err(Reject::new(
            400,
            "idempotency_key_missing",
            "提交申领须带 Idempotency-Key 请求头（每份申领一个，重试时不变）",
        ));
    };
    let key = value.to_str().unwrap_or("");
    if !(8..=255).contains(&key.len()) || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Reject::new(
            400,
            "idempotency_key_invalid",
            "Idempotency-Key 须为 8–255 个可见 ASCII 字符（建议使用 UUID）",
        ));
    }
    Ok(key.to_owned())
}

fn json_response(status: u16, body: String, replayed: bool) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if replayed {
        response
            .headers_mut()
            .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    }
    response
}

/// The hash that decides "the same body": of the JSON value, so that key order and
/// whitespace do not make a faithful retry look like a different request.
fn body_hash(bytes: &[u8]) -> String {
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(value) => crate::digest::sha256_hex(value.to_string().as_bytes()),
        Err(_) => crate::digest::sha256_hex(bytes),
    }
}

async fn submit(
    State(state): State<Arc<Shared>>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Reject> {
    let key = idempotency_key(&headers)?;
    let bytes = read_body(body, JSON_BODY_LIMIT, state.limits.body_timeout).await?;
    let hash = body_hash(&bytes);
    // A finished request under this key: replay it, or refuse a different body.
    let stored = {
        let (centre, key) = (caller.centre.clone(), key.clone());
        with_db(&state, move |conn| {
            service::stored_answer(conn, &centre, &key)
        })
        .await?
    };
    if let Some(stored) = stored {
        let (status, body) = service::replay_or_conflict(stored, &hash)?;
        return Ok(json_response(status, body, true));
    }
    // A request still in flight under this key: 409, retry later.
    let claim_key = (caller.centre.clone(), key.clone());
    if !state
        .in_flight
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(claim_key.clone())
    {
        let mut response = Reject::new(
            409,
            "request_in_flight",
            "同一 Idempotency-Key 的请求正在处理中，请稍后用同一个键重试",
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(1));
        return Ok(response);
    }
    let _claim = Claim {
        keys: state.in_flight.clone(),
        key: claim_key,
    };
    let submission: Submission = parse_json(&bytes)?;
    // The fields first: nothing is decoded or looked up for a submission that is wrong.
    service::check_fields(&submission, Utc::now())?;
    if state.faults.latency > Duration::ZERO {
        tokio::time::sleep(state.faults.latency).await;
    }
    // The photo spec outside the database lock (see `service::check_photos`).
    let submission = Arc::new(submission);
    let photos = {
        let (centre, sub) = (caller.centre.clone(), submission.clone());
        with_db(&state, move |conn| {
            service::submitted_photos(conn, &centre, &sub)
        })
        .await?
    };
    let photo_errors = {
        let _permit = state
            .photo_checks
            .acquire()
            .await
            .map_err(Reject::internal)?;
        tokio::task::spawn_blocking(move || service::check_photos(&photos))
            .await
            .map_err(Reject::internal)?
    };
    let pace = state.pace;
    let (status, body) = with_db(&state, move |conn| {
        service::submit(
            conn,
            &caller.centre,
            &caller.operator,
            &key,
            &hash,
            &submission,
            photo_errors,
            Utc::now(),
            pace,
        )
    })
    .await?;
    let mut response = json_response(status, body, false);
    if state.faults.drop_after_commit > 0.0 && state.chance(state.faults.drop_after_commit) {
        response.extensions_mut().insert(DropConnection);
    }
    Ok(response)
}

async fn progress(
    State(state): State<Arc<Shared>>,
    caller: Caller,
    Path(number): Path<String>,
) -> Result<Json<crate::api::Progress>, Reject> {
    let progress = with_db(&state, move |conn| {
        service::progress(conn, &caller.centre, &number)
    })
    .await?;
    Ok(Json(progress))
}

#[derive(Deserialize)]
struct ChangesQuery {
    #[serde(default)]
    since: Option<String>,
    #[serde(default)]
    limit: Option<String>,
}

async fn changes(
    State(state): State<Arc<Shared>>,
    caller: Caller,
    query: Result<Query<ChangesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<crate::api::ProgressPage>, Reject> {
    let Query(query) =
        query.map_err(|e| Reject::new(400, "invalid_request", format!("查询参数错误：{e}")))?;
    let limit = match query.limit.as_deref() {
        None => 100,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| Reject::new(400, "invalid_request", "limit 应为 1–500 的整数"))?,
    };
    let since = query.since.unwrap_or_default();
    let page = with_db(&state, move |conn| {
        service::changes_since(conn, &caller.centre, &since, limit)
    })
    .await?;
    Ok(Json(page))
}
