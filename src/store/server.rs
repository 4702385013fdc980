//! Connecting to a centre's PostgreSQL server: TLS required off this machine, with the
//! server's certificate and host name verified (as libpq's `sslmode=verify-full`), against
//! the system's trust store or a CA file the centre's IT gives. Plain TCP only to
//! loopback or a Unix socket. The URL's password is a secret: never printed or logged.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use postgres::config::{Host, SslMode};

use super::{Result, StoreError};

/// Where a centre's store is.
#[derive(Clone, PartialEq, Eq)]
pub struct Server {
    /// `postgresql://user:password@host:port/dbname` (a secret: it may hold the password).
    pub url: String,
    /// A CA certificate (PEM) to trust for the server beside the system's.
    pub ca_file: Option<PathBuf>,
    /// This counter window's name (shown to others: 正在由 李柜员（3号窗口）编辑).
    pub window: String,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("url", &redacted(&self.url))
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

/// The URL without its password, for messages.
pub fn redacted(url: &str) -> String {
    match postgres::Config::from_str(url) {
        Ok(c) => {
            let hosts: Vec<String> = c
                .get_hosts()
                .iter()
                .map(|h| match h {
                    Host::Tcp(h) => h.clone(),
                    #[cfg(unix)]
                    Host::Unix(p) => p.display().to_string(),
                })
                .collect();
            format!(
                "postgresql://{}@{}/{}",
                c.get_user().unwrap_or(""),
                hosts.join(","),
                c.get_dbname().unwrap_or("")
            )
        }
        Err(_) => "（无法解析的地址）".into(),
    }
}

fn is_loopback(host: &Host) -> bool {
    match host {
        Host::Tcp(h) => {
            h.eq_ignore_ascii_case("localhost")
                || h.trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        #[cfg(unix)]
        Host::Unix(_) => true,
    }
}

/// How to reach the server again after the connection broke.
pub(super) struct Connector {
    config: postgres::Config,
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
}

impl Connector {
    pub fn new(server: &Server) -> Result<Connector> {
        let mut config = postgres::Config::from_str(&server.url).map_err(|_| {
            StoreError::Server(format!(
                "中心数据库地址格式不对：应为 postgresql://用户@主机:端口/数据库（{}）",
                redacted(&server.url)
            ))
        })?;
        if let Ok(pw) = std::env::var("SBK_STORE_PASSWORD")
            && !pw.is_empty()
        {
            config.password(pw);
        }
        if config.get_hosts().is_empty() {
            return Err(StoreError::Server("中心数据库地址中缺少主机名".into()));
        }
        config.connect_timeout(Duration::from_secs(10));
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(30));
        config.application_name("sbk");
        // The server ends a session whose client went away: a transaction left idle (a
        // window whose network was cut mid-transaction) after a minute, a dead peer found by
        // keepalives within a minute or so, so that its locks go with it (every transaction
        // takes one advisory lock) and a claim it held is seen orphaned.
        let server_side = "-c idle_in_transaction_session_timeout=60000 \
                           -c tcp_keepalives_idle=30 -c tcp_keepalives_interval=10 \
                           -c tcp_keepalives_count=3";
        let options = match config.get_options() {
            Some(o) if !o.trim().is_empty() => format!("{o} {server_side}"),
            _ => server_side.to_owned(),
        };
        config.options(&options);
        let local = config.get_hosts().iter().all(is_loopback);
        let tls = if local && server.ca_file.is_none() && config.get_ssl_mode() != SslMode::Require
        {
            config.ssl_mode(SslMode::Disable);
            None
        } else {
            config.ssl_mode(SslMode::Require);
            Some(tls_connector(server)?)
        };
        Ok(Connector { config, tls })
    }

    pub fn connect(&self) -> Result<postgres::Client> {
        Ok(match &self.tls {
            Some(tls) => self.config.connect(tls.clone())?,
            None => self.config.connect(postgres::NoTls)?,
        })
    }
}

/// rustls verifying the server's chain and name: the system's roots, or the centre's CA.
fn tls_connector(server: &Server) -> Result<tokio_postgres_rustls::MakeRustlsConnect> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Server(format!("TLS 设置失败：{e}")))?;
    let config = match &server.ca_file {
        Some(path) => {
            use rustls::pki_types::CertificateDer;
            use rustls::pki_types::pem::PemObject;
            let mut roots = rustls::RootCertStore::empty();
            let certs = CertificateDer::pem_file_iter(path).map_err(|e| {
                StoreError::Server(format!("无法读取 CA 证书 {}：{e}", path.display()))
            })?;
            for cert in certs {
                let cert = cert.map_err(|e| {
                    StoreError::Server(format!("CA 证书 {} 格式不对：{e}", path.display()))
                })?;
                roots.add(cert).map_err(|e| {
                    StoreError::Server(format!("CA 证书 {} 不能用：{e}", path.display()))
                })?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        None => {
            use rustls_platform_verifier::BuilderVerifierExt;
            builder
                .with_platform_verifier()
                .map_err(|e| StoreError::Server(format!("无法读取系统的证书：{e}")))?
                .with_no_client_auth()
        }
    };
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// Follow the store's changes: `on_change` is called (with the changed application's id)
/// for every change any window makes, until it returns false. Runs on the calling thread
/// (a thread of its own: it blocks), with a connection of its own; a broken connection is
/// made again after a pause.
pub fn follow_changes(server: &Server, mut on_change: impl FnMut(&str) -> bool) {
    let connector = match Connector::new(server) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = e.kind(), "cannot follow the store's changes");
            return;
        }
    };
    loop {
        match connector.connect() {
            Ok(mut client) => {
                if let Err(e) = client.batch_execute("LISTEN sbk_applications") {
                    tracing::warn!(error = %e, "LISTEN failed");
                } else {
                    let mut notes = client.notifications();
                    let mut it = notes.blocking_iter();
                    loop {
                        use postgres::fallible_iterator::FallibleIterator;
                        match it.next() {
                            Ok(Some(n)) => {
                                if !on_change(n.payload()) {
                                    return;
                                }
                            }
                            Ok(None) | Err(_) => break,
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = e.kind(), "cannot reach the store to follow it"),
        }
        // Tell the app even when nothing is known (it may have missed changes), then wait.
        if !on_change("") {
            return;
        }
        std::thread::sleep(Duration::from_secs(5));
    }
}
