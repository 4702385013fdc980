//! Configuration: where the data lives, the central API, retention, and sign-in rules.
//! Who the operator is comes from signing in (`crate::access`), never from here: the
//! config's `[operator]` id (or `SBK_OPERATOR_ID`) only fills in the 工号 at sign-in.
//!
//! Precedence, highest first: command-line flags (`--data-dir`, `--config`), environment
//! (`SBK_DATA_DIR`, `SBK_CONFIG`, …), the config file
//! (`config.toml` in the XDG config dir, e.g. `~/.config/sbk-counter/config.toml`), then
//! defaults (the XDG data dir, e.g. `~/.local/share/sbk-counter`).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The config file's contents. Unknown keys are refused, so a typo is not silently ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// 数据目录.
    pub data_dir: Option<PathBuf>,
    /// 照片文件夹: where the counter's camera or scanner saves.
    pub photo_dir: Option<PathBuf>,
    /// Photo preview: "halfblocks" (always Unicode half-blocks) or "detect" (ask the terminal).
    pub preview: Option<String>,
    /// The 工号 offered at sign-in (grants nothing: a password is always asked).
    pub operator: Option<OperatorFile>,
    /// 中心接口: where applications are delivered. Absent = offline.
    pub central: Option<CentralFile>,
    /// Days after acceptance before photos and personal fields are removed (default 30).
    pub retention_days: Option<u32>,
    /// Days an untouched draft, or a returned application nobody corrects, is kept (60).
    pub draft_days: Option<u32>,
    /// Keep the photo folder's originals after import (default: removed a day after).
    pub keep_photo_originals: Option<bool>,
    /// A file holding the passphrase of a store encrypted by an earlier version, read
    /// once to convert it to key slots.
    pub key_file: Option<PathBuf>,
    /// Sign-in rules.
    pub access: Option<AccessFile>,
    /// A centre's shared store (PostgreSQL). Absent: the embedded file in the data dir.
    pub store: Option<StoreFile>,
    /// 代办申领: which of the agent's papers this centre requires.
    pub agent: Option<AgentFile>,
    /// The 受理单: the centre's name, this window, the paper, the font.
    pub receipt: Option<ReceiptFile>,
}

/// The `[receipt]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptFile {
    /// 服务网点, as printed (e.g. 朝阳区建外街道社区服务站).
    pub centre: Option<String>,
    /// This window (on a centre's server, `[store] window` is used when this is unset).
    pub window: Option<String>,
    /// "a4" (default) or "a5".
    pub paper: Option<String>,
    /// A font file with Chinese glyphs (.ttf, .otf or .ttc); default: one found on the PC.
    pub font: Option<PathBuf>,
}

/// What a 受理单 needs from the configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiptSettings {
    pub centre: String,
    pub window: Option<String>,
    pub paper: crate::receipt::Paper,
    pub font: Option<PathBuf>,
}

/// The `[agent]` table: whether a 代办 application needs the agent's papers imported.
/// By default neither is required: they are kept when given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentFile {
    /// 代办人身份证照片.
    pub require_id_card_photo: Option<bool>,
    /// 委托书或关系证明照片.
    pub require_authorisation: Option<bool>,
}

/// The `[store]` table: a centre's PostgreSQL server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreFile {
    /// `postgresql://user:password@host:5432/sbk` (the file is kept 0600 when it holds one).
    pub url: Option<String>,
    /// A CA certificate (PEM) to trust for the server.
    pub ca_file: Option<PathBuf>,
    /// This window's name, shown to the others (default: the PC's host name).
    pub window: Option<String>,
}

/// The `[operator]` table: the 工号 filled in at sign-in. (`name` is from older versions,
/// which took the operator from here; it is ignored.)
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorFile {
    pub id: Option<String>,
    pub name: Option<String>,
}

/// The `[access]` table: sign-in rules of the centre.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessFile {
    /// Shortest password (a PIN of 6+ digits is always allowed). Default 8.
    pub min_password_length: Option<usize>,
    /// Wrong passwords in a row before a 工号 is locked. Default 5.
    pub max_attempts: Option<u32>,
    /// Minutes a locked 工号 waits. Default 15.
    pub lockout_minutes: Option<u32>,
    /// Minutes without a key before the screen locks. Default 5.
    pub idle_lock_minutes: Option<f64>,
    /// Where `sbk operators delivery-key` writes the key `sbk sync` uses unattended.
    pub delivery_key_file: Option<PathBuf>,
}

/// The effective sign-in rules.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessSettings {
    pub rules: crate::access::Rules,
    /// No key for this long: the wizard locks its screen.
    pub idle_lock: std::time::Duration,
    pub delivery_key_file: PathBuf,
}

/// The `[central]` table of the config file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CentralFile {
    pub url: Option<String>,
    /// The centre's token. Better in SBK_CENTRAL_TOKEN than in a file.
    pub token: Option<String>,
    /// A CA certificate (PEM) to trust beside the system's, for a private central API.
    pub ca_file: Option<PathBuf>,
}

/// A secret that never shows itself in `{:?}` or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(****)")
    }
}

/// The central API to deliver to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CentralSettings {
    /// Base URL without `/v1`, e.g. `https://sbk.example.gov.cn`.
    pub url: String,
    pub token: Secret,
    pub ca_file: Option<PathBuf>,
}

/// The effective settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub config_file: PathBuf,
    pub data_dir: PathBuf,
    pub photo_dir: PathBuf,
    /// "halfblocks", "detect", or unset (detect where the terminal announces graphics).
    pub preview: Option<String>,
    /// The 工号 filled in at sign-in.
    pub default_operator_id: Option<String>,
    /// `None`: offline (no central API configured).
    pub central: Option<CentralSettings>,
    /// Days after acceptance before photos and personal fields are removed.
    pub retention_days: u32,
    /// Days an untouched draft, or a returned application nobody corrects, is kept.
    pub draft_days: u32,
    /// Keep the photo folder's originals after import.
    pub keep_photo_originals: bool,
    /// The passphrase of a store encrypted by an earlier version (SBK_DB_KEY, or the key
    /// file), used once to convert it.
    pub legacy_db_key: Option<Secret>,
    pub access: AccessSettings,
    /// A centre's store (`None`: the embedded file in the data directory).
    pub server: Option<crate::store::server::Server>,
    /// Which of a 代办 agent's papers are required.
    pub agent_papers: crate::domain::AgentPapers,
    pub receipt: ReceiptSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("无法读取配置文件 {path}：{source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("配置文件 {path} 格式有误：{message}")]
    Parse { path: PathBuf, message: String },
    #[error("无法写入配置文件 {path}：{source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("找不到用户目录，请用 --data-dir 指定数据目录")]
    NoHome,
    #[error("{0}")]
    Value(String),
    #[error("中心接口配置有误：{0}")]
    Central(String),
}

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "sbk-counter")
}

/// The default config file path.
pub fn default_config_file() -> Result<PathBuf, ConfigError> {
    Ok(project_dirs()
        .ok_or(ConfigError::NoHome)?
        .config_dir()
        .join("config.toml"))
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Resolve the settings from flags, environment, the config file and defaults.
pub fn load(
    config_flag: Option<&Path>,
    data_dir_flag: Option<&Path>,
) -> Result<Settings, ConfigError> {
    let config_file = match config_flag
        .map(Path::to_owned)
        .or_else(|| env_path("SBK_CONFIG"))
    {
        Some(p) => p,
        None => default_config_file()?,
    };
    if !config_file.exists() {
        // First run: a commented file says what can be set, where a clerk looks for it.
        // Not being able to write it is no reason to stop.
        let _ = write_template(&config_file);
    }
    let file = read_file(&config_file)?;
    let data_dir = match data_dir_flag
        .map(Path::to_owned)
        .or_else(|| env_path("SBK_DATA_DIR"))
        .or(file.data_dir)
    {
        Some(p) => p,
        None => project_dirs()
            .ok_or(ConfigError::NoHome)?
            .data_dir()
            .to_owned(),
    };
    let default_operator_id = std::env::var("SBK_OPERATOR_ID")
        .ok()
        .or_else(|| file.operator.as_ref().and_then(|o| o.id.clone()))
        .map(|id| {
            id.trim()
                .chars()
                .filter(|c| !c.is_control())
                .collect::<String>()
        })
        .filter(|id| !id.is_empty());
    let photo_dir = env_path("SBK_PHOTO_DIR")
        .or(file.photo_dir)
        .or_else(|| directories::UserDirs::new().and_then(|u| u.picture_dir().map(Path::to_owned)))
        .unwrap_or_else(|| data_dir.join("photos"));
    let preview = std::env::var("SBK_PREVIEW").ok().or(file.preview);
    let central = central_settings(file.central.unwrap_or_default())?;
    let retention_days = match std::env::var("SBK_RETENTION_DAYS") {
        Ok(v) => v.trim().parse::<u32>().map_err(|_| ConfigError::Parse {
            path: config_file.clone(),
            message: format!("SBK_RETENTION_DAYS=“{v}”不是天数"),
        })?,
        Err(_) => file
            .retention_days
            .unwrap_or(crate::store::DEFAULT_RETENTION_DAYS),
    };
    let draft_days = match std::env::var("SBK_DRAFT_DAYS") {
        Ok(v) => v
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|d| *d >= 1)
            .ok_or_else(|| ConfigError::Parse {
                path: config_file.clone(),
                message: format!("SBK_DRAFT_DAYS=“{v}”不是天数（至少 1）"),
            })?,
        Err(_) => file
            .draft_days
            .unwrap_or(crate::store::DEFAULT_DRAFT_DAYS)
            .max(1),
    };
    let access = access_settings(file.access.clone().unwrap_or_default(), &config_file)?;
    let server = server_settings(file.store.clone().unwrap_or_default());
    let legacy_db_key = match std::env::var("SBK_DB_KEY").ok().filter(|k| !k.is_empty()) {
        Some(k) => Some(Secret::new(k)),
        None => match &file.key_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                Some(Secret::new(text.trim()))
            }
            None => None,
        },
    };
    let agent = file.agent.clone().unwrap_or_default();
    let agent_papers = crate::domain::AgentPapers {
        id_card: agent.require_id_card_photo.unwrap_or(false),
        authorisation: agent.require_authorisation.unwrap_or(false),
    };
    let r = file.receipt.clone().unwrap_or_default();
    let paper = match r.paper.as_deref() {
        None => crate::receipt::Paper::A4,
        Some(p) => crate::receipt::Paper::from_key(p).ok_or_else(|| {
            ConfigError::Value(format!(
                "[receipt] paper = \"{p}\" 不对：应为 \"a4\" 或 \"a5\""
            ))
        })?,
    };
    let receipt = ReceiptSettings {
        centre: r
            .centre
            .filter(|c| !c.trim().is_empty())
            .unwrap_or_else(|| "北京市社会保障卡服务网点".into()),
        window: r.window.filter(|w| !w.trim().is_empty()),
        paper,
        font: std::env::var_os("SBK_RECEIPT_FONT")
            .map(PathBuf::from)
            .or(r.font),
    };
    Ok(Settings {
        legacy_db_key,
        access,
        server,
        agent_papers,
        receipt,
        retention_days,
        draft_days,
        keep_photo_originals: file.keep_photo_originals.unwrap_or(false),
        config_file,
        data_dir,
        photo_dir,
        preview,
        default_operator_id,
        central,
    })
}

/// A centre's store from `SBK_STORE_URL` / `SBK_STORE_CA_FILE` / `SBK_STORE_WINDOW` over
/// `[store]`.
fn server_settings(file: StoreFile) -> Option<crate::store::server::Server> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let url = env("SBK_STORE_URL").or(file.url)?;
    let window = env("SBK_STORE_WINDOW")
        .or(file.window)
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .filter(|w| !w.is_empty())
        .unwrap_or_else(|| "柜台".into());
    Some(crate::store::server::Server {
        url: url.trim().to_owned(),
        ca_file: env("SBK_STORE_CA_FILE").map(PathBuf::from).or(file.ca_file),
        window: window
            .chars()
            .filter(|c| !c.is_control())
            .take(32)
            .collect(),
    })
}

/// The sign-in rules from `[access]` (and `SBK_IDLE_LOCK_MINUTES`), checked.
fn access_settings(file: AccessFile, config_file: &Path) -> Result<AccessSettings, ConfigError> {
    let bad = |m: String| ConfigError::Parse {
        path: config_file.to_owned(),
        message: m,
    };
    let idle = match std::env::var("SBK_IDLE_LOCK_MINUTES") {
        Ok(v) => v
            .trim()
            .parse::<f64>()
            .map_err(|_| bad(format!("SBK_IDLE_LOCK_MINUTES=“{v}”不是分钟数")))?,
        Err(_) => file.idle_lock_minutes.unwrap_or(5.0),
    };
    if !(idle > 0.0 && idle <= 24.0 * 60.0) {
        return Err(bad("idle_lock_minutes 应在 0 到 1440 分钟之间".into()));
    }
    let min_password = file.min_password_length.unwrap_or(8);
    if !(6..=64).contains(&min_password) {
        return Err(bad("min_password_length 应在 6 到 64 之间".into()));
    }
    let max_attempts = file.max_attempts.unwrap_or(5);
    if !(1..=100).contains(&max_attempts) {
        return Err(bad("max_attempts 应在 1 到 100 之间".into()));
    }
    let lockout = file.lockout_minutes.unwrap_or(15);
    if !(1..=24 * 60).contains(&lockout) {
        return Err(bad("lockout_minutes 应在 1 到 1440 之间".into()));
    }
    let delivery_key_file = match file.delivery_key_file {
        Some(p) => p,
        None => config_file
            .parent()
            .unwrap_or(Path::new("."))
            .join("delivery.key"),
    };
    Ok(AccessSettings {
        rules: crate::access::Rules {
            policy: crate::keys::Policy {
                max_attempts,
                lockout: chrono::Duration::minutes(i64::from(lockout)),
            },
            min_password,
        },
        idle_lock: std::time::Duration::from_secs_f64(idle * 60.0),
        delivery_key_file,
    })
}

/// The central API from SBK_CENTRAL_URL / SBK_CENTRAL_TOKEN / SBK_CENTRAL_CA_FILE over the
/// `[central]` table. No URL: offline. A URL needs a token; plain http only to loopback.
fn central_settings(file: CentralFile) -> Result<Option<CentralSettings>, ConfigError> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let Some(url) = env("SBK_CENTRAL_URL").or(file.url) else {
        return Ok(None);
    };
    let url = url.trim().trim_end_matches('/').to_owned();
    check_central_url(&url).map_err(ConfigError::Central)?;
    let token = env("SBK_CENTRAL_TOKEN").or(file.token).ok_or_else(|| {
        ConfigError::Central(
            "已设置中心接口地址，但缺少服务网点令牌：请设置环境变量 SBK_CENTRAL_TOKEN，\
             或在配置文件 [central] 中写入 token"
                .into(),
        )
    })?;
    Ok(Some(CentralSettings {
        url,
        token: Secret::new(token.trim()),
        ca_file: env("SBK_CENTRAL_CA_FILE")
            .map(PathBuf::from)
            .or(file.ca_file),
    }))
}

/// The host (and port) of a URL, for the audit log.
pub fn host_of(url: &str) -> String {
    url.parse::<ureq::http::Uri>()
        .ok()
        .and_then(|u| u.authority().map(|a| a.as_str().to_owned()))
        .unwrap_or_else(|| "?".into())
}

/// An https URL, or http to this machine only: personal data never crosses a network
/// unencrypted. Decided on the host the client will connect to, as the HTTP client parses
/// the URL; a URL with a user part (`http://localhost:1@elsewhere`) is refused outright.
pub fn check_central_url(url: &str) -> Result<(), String> {
    let uri: ureq::http::Uri = url
        .parse()
        .map_err(|_| format!("“{url}”不是网址：应为 https://主机名[:端口]"))?;
    let authority = uri
        .authority()
        .ok_or_else(|| format!("“{url}”缺少主机名：应为 https://主机名[:端口]"))?;
    if authority.as_str().contains('@') {
        return Err(format!(
            "“{url}”中含有用户名部分（@ 之前）：不允许，令牌请用 SBK_CENTRAL_TOKEN 提供"
        ));
    }
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    if host.is_empty() {
        return Err(format!("“{url}”缺少主机名"));
    }
    match uri.scheme_str() {
        Some("https") => Ok(()),
        Some("http") => {
            let loopback = host.eq_ignore_ascii_case("localhost")
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if loopback {
                Ok(())
            } else {
                Err(format!(
                    "“{url}”未加密：申领数据含个人信息，只能用 https 发送（http 仅限本机测试）"
                ))
            }
        }
        _ => Err(format!("“{url}”的协议不支持：应为 https://")),
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let file: FileConfig = toml::from_str(&text).map_err(|e| ConfigError::Parse {
                path: path.to_owned(),
                // Where and what, never the line itself: it may be the token's.
                message: match e.span() {
                    Some(span) => format!(
                        "第 {} 行：{}",
                        text[..span.start.min(text.len())].lines().count().max(1),
                        e.message()
                    ),
                    None => e.message().to_owned(),
                },
            })?;
            if file.central.as_ref().is_some_and(|c| c.token.is_some())
                || file.store.as_ref().is_some_and(|s| s.url.is_some())
            {
                keep_token_file_private(path);
            }
            Ok(file)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FileConfig::default()),
        Err(source) => Err(ConfigError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// A config file that holds the centre's token must be its owner's alone: one others can
/// read is tightened to 0600 at once, and the clerk told that the token may have been read
/// (it should be replaced).
fn keep_token_file_private(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            let tightened =
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).is_ok();
            tracing::warn!(file = %path.display(), mode = format!("{mode:o}"), tightened, "the config file holding the token was open to others");
            eprintln!(
                "注意：配置文件 {} 含服务网点令牌，但其他用户可以读取（权限 {mode:o}）{}。令牌可能已被他人看到，请向中心申请更换；令牌最好放在环境变量 SBK_CENTRAL_TOKEN 中",
                path.display(),
                if tightened {
                    "，已改为只有本人可读"
                } else {
                    "，且无法更改权限"
                }
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

const CONFIG_HEADER: &str = "\
# sbk-counter 配置文件（TOML）。修改后重新打开 sbk 生效。
# 环境变量（SBK_DATA_DIR 等）优先于本文件。

# 数据目录：草稿、照片和日志所在处。默认为系统的用户数据目录。
# data_dir = \"/home/clerk/sbk-data\"

# 照片文件夹：柜台相机或扫描仪保存照片的地方，向导按最新在前列出。
# photo_dir = \"/home/clerk/Pictures\"

# 照片预览：\"halfblocks\" 始终用字符块显示（兼容所有终端），\"detect\" 询问终端是否支持图形。
# preview = \"halfblocks\"

# 保留期限：申请被社保卡系统受理多少天后，删除本机的照片和身份证图像，
# 个人信息只保留姓名、打码的证件号码、申领编号和状态（用于查询进度）。默认 30。
# retention_days = 30

# 草稿（从未提交）多少天未修改即删除；已退回的申请多少天未修改即精简。默认 60。
# draft_days = 60

# 照片文件夹中已导入本机的原始照片（身份证、人像），导入一天后删除。要保留请设为 true。
# keep_photo_originals = false

# 登录与锁屏。数据库始终加密，只有操作员用自己的密码登录后才能打开。
# [access]
# min_password_length = 8      # 密码最短长度（6 位以上的纯数字 PIN 也可以）
# max_attempts = 5             # 连续输错几次锁定该工号
# lockout_minutes = 15         # 锁定多少分钟
# idle_lock_minutes = 5        # 多少分钟无操作自动锁屏
# delivery_key_file = \"/home/clerk/.config/sbk-counter/delivery.key\"  # 无人值守发送的密钥

# 代办申领：代办人的证件照片和委托书（或关系证明）是否必须导入。默认都不必须（导入了就留存）。
# [agent]
# require_id_card_photo = false
# require_authorisation = false

# 受理单：打印在单据上的服务网点名称、窗口，纸张（a4 或 a5），中文字体（默认自动查找）。
# [receipt]
# centre = \"朝阳区建外街道社区服务站\"
# window = \"3号窗口\"
# paper = \"a4\"
# font = \"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc\"

# 中心接口：不设置则为离线模式（申领在本机排队，联网后用 sbk sync 或向导自动发送）。
# 令牌最好放在环境变量 SBK_CENTRAL_TOKEN 中。
# [central]
# url = \"https://sbk.example.gov.cn\"
# token = \"...\"
# ca_file = \"/etc/ssl/private-ca.pem\"
";

/// Write the commented template (everything commented out) to a new config file.
fn write_template(config_file: &Path) -> std::io::Result<()> {
    if let Some(dir) = config_file.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::store::create_private_dir(dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(config_file)?;
    file.write_all(
        format!(
            "{CONFIG_HEADER}\n# 登录时预先填好的工号（仍需输入密码）。\n# [operator]\n# id = \"C001\"\n"
        )
        .as_bytes(),
    )?;
    crate::store::restrict_to_owner(config_file)
}

impl Settings {
    /// Where the store is: a centre's server if one is configured, else the embedded file
    /// in the data directory.
    pub fn location(&self) -> crate::access::Location {
        match &self.server {
            Some(s) => crate::access::Location::Server(s.clone()),
            None => crate::access::Location::File(self.data_dir.clone()),
        }
    }

    /// The retention periods these settings give.
    pub fn retention(&self) -> crate::store::Retention {
        crate::store::Retention {
            days: self.retention_days,
            draft_days: self.draft_days,
        }
    }

    /// The effective configuration as `sbk config show` prints it (the token masked).
    pub fn describe(&self) -> String {
        let mut out = String::new();
        let mut line = |k: &str, v: String| {
            let gap = 12usize.saturating_sub(unicode_width::UnicodeWidthStr::width(k));
            out.push_str(&format!("{k}{} {v}\n", " ".repeat(gap)));
        };
        let exists = if self.config_file.exists() {
            ""
        } else {
            "（不存在）"
        };
        line(
            "配置文件",
            format!("{}{exists}", self.config_file.display()),
        );
        line("数据目录", self.data_dir.display().to_string());
        line("日志", self.data_dir.join("sbk.log").display().to_string());
        line("照片文件夹", self.photo_dir.display().to_string());
        line(
            "照片预览",
            self.preview
                .clone()
                .unwrap_or_else(|| "自动（终端声明支持图形时用图形，否则字符块）".into()),
        );
        line(
            "登录",
            format!(
                "操作员用工号和密码登录（预填工号：{}）；{} 分钟无操作锁屏；连续输错 {} 次锁定 {} 分钟",
                self.default_operator_id.as_deref().unwrap_or("无"),
                fmt_minutes(self.access.idle_lock),
                self.access.rules.policy.max_attempts,
                self.access.rules.policy.lockout.num_minutes()
            ),
        );
        line(
            "数据库加密",
            "始终开启（SQLCipher AES-256，密钥由各操作员的密码分别保护，见 keys.json）".into(),
        );
        line(
            "无人值守发送",
            format!(
                "{}{}",
                self.access.delivery_key_file.display(),
                if self.access.delivery_key_file.exists() {
                    ""
                } else {
                    "（未设置：sbk operators delivery-key）"
                }
            ),
        );
        line(
            "保留期限",
            format!(
                "受理后 {} 天删除照片并精简个人信息；草稿 {} 天未修改即删除；已导入的原始照片{}",
                self.retention_days,
                self.draft_days,
                if self.keep_photo_originals {
                    "保留"
                } else {
                    "一天后删除"
                }
            ),
        );
        match &self.central {
            None => line("中心接口", "未配置：离线模式".into()),
            Some(c) => {
                line("中心接口", c.url.clone());
                line("令牌", "已设置（不显示）".into());
                if let Some(ca) = &c.ca_file {
                    line("CA 证书", ca.display().to_string());
                }
            }
        }
        let overrides: Vec<&str> = [
            "SBK_CONFIG",
            "SBK_DATA_DIR",
            "SBK_PHOTO_DIR",
            "SBK_PREVIEW",
            "SBK_OPERATOR_ID",
            "SBK_OPERATOR_NAME",
            "SBK_CENTRAL_URL",
            "SBK_CENTRAL_TOKEN",
            "SBK_CENTRAL_CA_FILE",
            "SBK_RETENTION_DAYS",
            "SBK_DRAFT_DAYS",
            "SBK_DB_KEY",
        ]
        .into_iter()
        .filter(|k| std::env::var_os(k).is_some())
        .collect();
        if !overrides.is_empty() {
            line("环境变量", overrides.join(" "));
        }
        out
    }
}

/// Minutes as a person reads them: "5", or "0.5".
fn fmt_minutes(d: std::time::Duration) -> String {
    let m = d.as_secs_f64() / 60.0;
    if (m - m.round()).abs() < 1e-9 {
        format!("{}", m.round() as u64)
    } else {
        format!("{m:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_operator_only_fills_in_the_id_and_access_rules_are_checked() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "[operator]\nid = \"C007\"\nname = \"王芳\"\n[access]\nidle_lock_minutes = 0.5\nmax_attempts = 3\n",
        )
        .unwrap();
        let s = load(Some(&path), Some(dir.path())).unwrap();
        assert_eq!(s.default_operator_id.as_deref(), Some("C007"));
        assert_eq!(s.access.idle_lock, std::time::Duration::from_secs(30));
        assert_eq!(s.access.rules.policy.max_attempts, 3);
        std::fs::write(&path, "[access]\nmax_attempts = 0\n").unwrap();
        assert!(load(Some(&path), Some(dir.path())).is_err());
    }

    #[test]
    fn flags_beat_the_file_and_typos_are_refused() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "data_dir = \"/from/file\"\n").unwrap();
        let s = load(Some(&path), Some(Path::new("/from/flag"))).unwrap();
        assert_eq!(s.data_dir, PathBuf::from("/from/flag"));
        std::fs::write(&path, "data_dri = \"/typo\"\n").unwrap();
        let err = load(Some(&path), None).unwrap_err();
        assert!(err.to_string().contains("格式有误"), "{err}");
    }
}
