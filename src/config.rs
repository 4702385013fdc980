//! Configuration: where the data lives and who the operator is.
//!
//! Precedence, highest first: command-line flags (`--data-dir`, `--config`), environment
//! (`SBK_DATA_DIR`, `SBK_CONFIG`, `SBK_OPERATOR_ID` + `SBK_OPERATOR_NAME`), the config file
//! (`config.toml` in the XDG config dir, e.g. `~/.config/sbk-counter/config.toml`), then
//! defaults (the XDG data dir, e.g. `~/.local/share/sbk-counter`).

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::store::Operator;

/// The config file's contents. Unknown keys are refused, so a typo is not silently ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// 数据目录.
    pub data_dir: Option<PathBuf>,
    /// 照片文件夹: where the counter's camera or scanner saves.
    pub photo_dir: Option<PathBuf>,
    /// Photo preview: "halfblocks" (always Unicode half-blocks) or "detect" (ask the terminal).
    pub preview: Option<String>,
    /// 操作员.
    pub operator: Option<Operator>,
    /// 中心接口: where applications are delivered. Absent = offline.
    pub central: Option<CentralFile>,
    /// Days after acceptance before photos and personal fields are removed (default 30).
    pub retention_days: Option<u32>,
    /// Days an untouched draft, or a returned application nobody corrects, is kept (60).
    pub draft_days: Option<u32>,
    /// Keep the photo folder's originals after import (default: removed a day after).
    pub keep_photo_originals: Option<bool>,
    /// A file holding the store's passphrase (encryption at rest; owner-only).
    pub key_file: Option<PathBuf>,
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub config_file: PathBuf,
    pub data_dir: PathBuf,
    pub photo_dir: PathBuf,
    /// "halfblocks", "detect", or unset (detect where the terminal announces graphics).
    pub preview: Option<String>,
    pub operator: Option<Operator>,
    /// `None`: offline (no central API configured).
    pub central: Option<CentralSettings>,
    /// Days after acceptance before photos and personal fields are removed.
    pub retention_days: u32,
    /// Days an untouched draft, or a returned application nobody corrects, is kept.
    pub draft_days: u32,
    /// Keep the photo folder's originals after import.
    pub keep_photo_originals: bool,
    /// The store's passphrase (SBK_DB_KEY, or the key file): encryption at rest.
    pub db_key: Option<Secret>,
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
    #[error(
        "尚未设置操作员（工号和姓名），审计记录需要它：请在终端中运行 sbk 按提示填写，\
         或设置环境变量 SBK_OPERATOR_ID 和 SBK_OPERATOR_NAME，或在 {0} 中写入 [operator] id、name"
    )]
    NoOperator(PathBuf),
    #[error("操作员{0}不能为空，也不能含控制字符")]
    BadOperator(&'static str),
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
    let env_operator = match (
        std::env::var("SBK_OPERATOR_ID"),
        std::env::var("SBK_OPERATOR_NAME"),
    ) {
        (Ok(id), Ok(name)) => Some(checked_operator(&id, &name)?),
        _ => None,
    };
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
    let db_key = match std::env::var("SBK_DB_KEY").ok().filter(|k| !k.is_empty()) {
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
    Ok(Settings {
        db_key,
        retention_days,
        draft_days,
        keep_photo_originals: file.keep_photo_originals.unwrap_or(false),
        config_file,
        data_dir,
        photo_dir,
        preview,
        operator: env_operator.or(file.operator),
        central,
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
            if file.central.as_ref().is_some_and(|c| c.token.is_some()) {
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

fn checked_operator(id: &str, name: &str) -> Result<Operator, ConfigError> {
    let (id, name) = (id.trim(), name.trim());
    if id.is_empty() || id.chars().any(char::is_control) {
        return Err(ConfigError::BadOperator("工号"));
    }
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(ConfigError::BadOperator("姓名"));
    }
    Ok(Operator {
        id: id.to_owned(),
        name: name.to_owned(),
    })
}

const CONFIG_HEADER: &str = "\
# sbk-counter 配置文件（TOML）。修改后重新打开 sbk 生效。
# 环境变量 SBK_DATA_DIR、SBK_OPERATOR_ID、SBK_OPERATOR_NAME 优先于本文件。

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

# 数据库加密（需用 --features encryption 编译的 sbk）：口令文件（只有本人可读），
# 或用环境变量 SBK_DB_KEY 提供口令。
# key_file = \"/home/clerk/.sbk-key\"

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
            "{CONFIG_HEADER}\n# 操作员：首次运行 sbk 时在终端中询问并写在这里。\n# [operator]\n# id = \"C001\"\n# name = \"李娜\"\n"
        )
        .as_bytes(),
    )?;
    crate::store::restrict_to_owner(config_file)
}

impl Settings {
    /// Open the store in the data directory, with the passphrase if one is configured.
    /// The retention periods these settings give.
    pub fn retention(&self) -> crate::store::Retention {
        crate::store::Retention {
            days: self.retention_days,
            draft_days: self.draft_days,
        }
    }

    pub fn open_store(&self) -> Result<crate::store::Store, crate::store::StoreError> {
        crate::store::Store::open_dir_keyed(
            &self.data_dir,
            self.db_key.as_ref().map(Secret::expose),
        )
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
            "操作员",
            self.operator
                .as_ref()
                .map(|o| format!("{} {}", o.id, o.name))
                .unwrap_or_else(|| "未设置（首次打开向导时询问）".into()),
        );
        line(
            "数据库加密",
            match (&self.db_key, crate::store::Store::ENCRYPTION_BUILT_IN) {
                (Some(_), true) => "开启（SQLCipher，口令已设置，不显示）".into(),
                (Some(_), false) => {
                    "已配置口令，但本版本未编译加密功能（--features encryption）".into()
                }
                (None, true) => "未开启：本版本支持加密，设置 SBK_DB_KEY 或 key_file 即可".into(),
                (None, false) => {
                    "未开启：本版本未编译加密功能（cargo build --features encryption）".into()
                }
            },
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

/// Record the operator in the config file, keeping what else it says.
pub fn save_operator(config_file: &Path, operator: &Operator) -> Result<(), ConfigError> {
    let mut file = read_file(config_file)?;
    file.operator = Some(operator.clone());
    let body = toml::to_string(&file).map_err(|e| ConfigError::Parse {
        path: config_file.to_owned(),
        message: e.to_string(),
    })?;
    let write_err = |source| ConfigError::Write {
        path: config_file.to_owned(),
        source,
    };
    if let Some(dir) = config_file.parent() {
        crate::store::create_private_dir(dir).map_err(write_err)?;
    }
    let tmp = config_file.with_extension("toml.tmp");
    std::fs::write(
        &tmp,
        format!("{CONFIG_HEADER}\n# 操作员：每条审计记录都记下是谁做的。\n{body}"),
    )
    .map_err(write_err)?;
    crate::store::restrict_to_owner(&tmp).map_err(write_err)?;
    std::fs::rename(&tmp, config_file).map_err(write_err)
}

impl Settings {
    /// The operator, asking for it once on a terminal if it was never set.
    pub fn operator_or_prompt(&mut self) -> Result<Operator, ConfigError> {
        if let Some(op) = &self.operator {
            return Ok(op.clone());
        }
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return Err(ConfigError::NoOperator(self.config_file.clone()));
        }
        let mut err = std::io::stderr();
        let _ = writeln!(err, "首次使用：请填写操作员信息（记录在每条审计记录中）。");
        let mut ask = |prompt: &str| -> String {
            let _ = write!(err, "{prompt}");
            let _ = err.flush();
            let mut line = String::new();
            let _ = stdin.lock().read_line(&mut line);
            line.trim().to_owned()
        };
        let id = ask("操作员工号：");
        let name = ask("操作员姓名：");
        let operator = checked_operator(&id, &name)?;
        save_operator(&self.config_file, &operator)?;
        self.operator = Some(operator.clone());
        Ok(operator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operator_is_saved_and_read_back_and_the_file_is_private() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("cfg").join("config.toml");
        let op = Operator {
            id: "C007".into(),
            name: "王芳".into(),
        };
        save_operator(&path, &op).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("# sbk-counter 配置文件"),
            "commented: {text}"
        );
        assert_eq!(read_file(&path).unwrap().operator, Some(op));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
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

    #[test]
    fn operators_must_be_named() {
        assert!(checked_operator(" ", "王芳").is_err());
        assert!(checked_operator("C1", "").is_err());
        assert_eq!(checked_operator(" C1 ", " 王芳 ").unwrap().id, "C1");
    }
}
