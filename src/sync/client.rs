//! The central API client: one blocking call per method, each answer sorted into what to
//! do next (done, retry later, or stop and tell a person). The token goes into the
//! Authorization header and nowhere else: not into errors, not into logs.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::{
    ApiError, EligibilityAnswer, EligibilityRequest, IDEMPOTENCY_HEADER, OPERATOR_HEADER,
    PhotoReceipt, ProgressPage, Submission, SubmissionReceipt,
};
use crate::config::{CentralSettings, Secret};

/// Why a call did not succeed, and so what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// Worth retrying later: the network, a timeout, 408, 409, 429 or 5xx.
    #[error("{message}")]
    Retry {
        message: String,
        /// The server's Retry-After, if it gave one.
        after: Option<Duration>,
    },
    /// The server refused this request; it will not succeed unchanged.
    #[error("{}", .error.message)]
    Refused { status: u16, error: ApiError },
    /// The centre's token or the configuration is wrong: a person must fix it.
    #[error("{0}")]
    Config(String),
}

impl CallError {
    /// What kind of failure this is, for the log: never the message (the server's words
    /// about a refused field may quote it).
    pub fn kind(&self) -> String {
        match self {
            CallError::Retry { .. } => "retry".into(),
            CallError::Refused { status, error } => format!("refused {status} {}", error.code),
            CallError::Config(_) => "config".into(),
        }
    }

    pub fn is_retryable(&self) -> bool {
        matches!(self, CallError::Retry { .. })
    }
}

pub struct Client {
    agent: ureq::Agent,
    base: String,
    token: Secret,
    operator: String,
}

/// How long one call may take, connection included.
const TIMEOUT: Duration = Duration::from_secs(30);

impl Client {
    /// A client for the configured central API, acting for `operator` (their staff ID).
    pub fn new(settings: &CentralSettings, operator: &str) -> Result<Client, CallError> {
        crate::config::check_central_url(&settings.url).map_err(CallError::Config)?;
        let roots = match &settings.ca_file {
            None => ureq::tls::RootCerts::PlatformVerifier,
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| {
                    CallError::Config(format!("无法读取 CA 证书文件 {}：{e}", path.display()))
                })?;
                let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(&pem)
                    .filter_map(|item| match item {
                        Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                        _ => None,
                    })
                    .collect();
                if certs.is_empty() {
                    return Err(CallError::Config(format!(
                        "CA 证书文件 {} 中没有 PEM 格式的证书",
                        path.display()
                    )));
                }
                ureq::tls::RootCerts::new_with_certs(&certs)
            }
        };
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // The central API never redirects: a redirect (to http, or to another host) is
            // refused, never followed with the token and personal data.
            .max_redirects(0)
            .timeout_global(Some(TIMEOUT))
            .tls_config(ureq::tls::TlsConfig::builder().root_certs(roots).build())
            .user_agent(concat!("sbk-counter/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Client {
            agent,
            base: settings.url.clone(),
            token: settings.token.clone(),
            operator: operator.to_owned(),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn send<T: DeserializeOwned>(
        &self,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<(u16, T), CallError> {
        let mut response = result.map_err(network_error)?;
        let status = response.status().as_u16();
        if (300..400).contains(&status) {
            let to = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("别处")
                .chars()
                .filter(|c| !c.is_control())
                .take(120)
                .collect::<String>();
            return Err(CallError::Config(format!(
                "中心接口要求跳转到 {to}（HTTP {status}）：已拒绝，未发送任何数据。请核对中心接口地址"
            )));
        }
        let after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response
            .body_mut()
            .with_config()
            .limit(16 * 1024 * 1024)
            .read_to_string()
            .map_err(network_error)?;
        if (200..300).contains(&status) {
            return serde_json::from_str(&body)
                .map(|v| (status, v))
                .map_err(|e| CallError::Retry {
                    message: format!("中心接口的应答无法解析（{e}）"),
                    after: None,
                });
        }
        let error: ApiError = serde_json::from_str(&body).unwrap_or_else(|_| ApiError {
            code: format!("http_{status}"),
            message: format!("中心接口返回 HTTP {status}"),
            errors: Vec::new(),
        });
        Err(match status {
            408 | 409 | 429 | 500..=599 => CallError::Retry {
                message: format!("中心接口暂时无法处理（HTTP {status}）：{}", error.message),
                after,
            },
            401 => CallError::Config(format!(
                "中心接口拒绝了服务网点令牌（HTTP 401）：请检查 SBK_CENTRAL_TOKEN 或配置文件中的 token。{}",
                error.message
            )),
            _ => CallError::Refused { status, error },
        })
    }

    fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        key: Option<&str>,
        body: &B,
    ) -> Result<(u16, T), CallError> {
        let bytes = serde_json::to_vec(body).map_err(|e| CallError::Config(e.to_string()))?;
        let mut req = self
            .agent
            .post(self.url(path))
            .header("authorization", format!("Bearer {}", self.token.expose()))
            .header(OPERATOR_HEADER, &self.operator)
            .header("content-type", "application/json");
        if let Some(key) = key {
            req = req.header(IDEMPOTENCY_HEADER, key);
        }
        self.send(req.send(&bytes[..]))
    }

    fn get<T: DeserializeOwned>(&self, path: &str) -> Result<(u16, T), CallError> {
        self.send(
            self.agent
                .get(self.url(path))
                .header("authorization", format!("Bearer {}", self.token.expose()))
                .header(OPERATOR_HEADER, &self.operator)
                .call(),
        )
    }

    /// Whether the server answers at all (no authentication).
    pub fn is_reachable(&self) -> bool {
        self.agent
            .get(self.url("/v1/health"))
            .config()
            .timeout_global(Some(Duration::from_secs(3)))
            .build()
            .call()
            .is_ok_and(|r| r.status().is_success())
    }

    pub fn check_eligibility(
        &self,
        req: &EligibilityRequest,
    ) -> Result<EligibilityAnswer, CallError> {
        self.post("/v1/eligibility-checks", None, req)
            .map(|(_, a)| a)
    }

    /// Whether the server already holds this photo.
    pub fn has_photo(&self, sha256: &str) -> Result<bool, CallError> {
        match self.get::<PhotoReceipt>(&format!("/v1/photos/{sha256}")) {
            Ok(_) => Ok(true),
            Err(CallError::Refused { status: 404, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub fn put_photo(
        &self,
        sha256: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<PhotoReceipt, CallError> {
        self.send(
            self.agent
                .put(self.url(&format!("/v1/photos/{sha256}")))
                .header("authorization", format!("Bearer {}", self.token.expose()))
                .header(OPERATOR_HEADER, &self.operator)
                .header("content-type", media_type)
                .send(bytes),
        )
        .map(|(_, r)| r)
    }

    pub fn submit(
        &self,
        key: &str,
        submission: &Submission,
    ) -> Result<SubmissionReceipt, CallError> {
        self.post("/v1/applications", Some(key), submission)
            .map(|(_, r)| r)
    }

    /// The host (and port) this client sends to.
    pub fn host(&self) -> String {
        crate::config::host_of(&self.base)
    }

    /// Have the server keep the head of this store's audit chain.
    pub fn put_anchor(
        &self,
        anchor: &crate::api::AuditAnchor,
    ) -> Result<crate::api::AnchorReceipt, CallError> {
        self.post("/v1/audit-anchors", None, anchor).map(|(_, r)| r)
    }

    /// The latest anchor the server keeps of this chain (`None`: it has none).
    pub fn latest_anchor(
        &self,
        chain_id: uuid::Uuid,
    ) -> Result<Option<crate::api::AnchorReceipt>, CallError> {
        match self.get(&format!("/v1/audit-anchors/{chain_id}")) {
            Ok((_, r)) => Ok(Some(r)),
            Err(CallError::Refused { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every anchor the server keeps of this chain, oldest first (empty: none).
    pub fn anchor_history(
        &self,
        chain_id: uuid::Uuid,
    ) -> Result<Vec<crate::api::AnchorReceipt>, CallError> {
        self.get(&format!("/v1/audit-anchors/{chain_id}/history"))
            .map(|(_, all)| all)
    }

    pub fn changes(&self, since: &str, limit: usize) -> Result<ProgressPage, CallError> {
        let since: String = since.chars().filter(char::is_ascii_digit).collect();
        self.get(&format!("/v1/applications?since={since}&limit={limit}"))
            .map(|(_, p)| p)
    }
}

/// A transport failure, described without the URL's secrets (there are none in it) and
/// without the request.
fn network_error(e: ureq::Error) -> CallError {
    let message = match &e {
        ureq::Error::Timeout(_) => "连接中心接口超时".to_owned(),
        ureq::Error::Io(io) => {
            // rustls reports a refused handshake (a certificate nobody trusts, a name that
            // does not match) inside an I/O error: that needs a person, not a retry.
            if let Some(tls) = io.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
                return CallError::Config(format!(
                    "中心接口的证书不受信任（{tls}）：未发送任何数据。请核对中心接口地址；\
                     中心使用自己的 CA 时，在配置文件 [central] 中用 ca_file 指定其证书"
                ));
            }
            format!("无法连接中心接口（{}）", io.kind())
        }
        ureq::Error::HostNotFound => "找不到中心接口的主机（网络或域名解析问题）".to_owned(),
        ureq::Error::ConnectionFailed => "无法连接中心接口".to_owned(),
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => {
            return CallError::Config(format!("与中心接口的加密连接失败（证书不受信任？）：{e}"));
        }
        other => format!("与中心接口通信失败（{other}）"),
    };
    CallError::Retry {
        message,
        after: None,
    }
}
