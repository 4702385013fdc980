//! What crosses the network, and what never does: personal data only over TLS to the host
//! configured (a user part in the URL cannot move it elsewhere), no redirect followed, and
//! a certificate nobody trusts stops delivery with a message for a person, not a retry.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::delivery::{TOKEN, queue_applications, server_config};
use sbk_counter::central::{Faults, Running};
use sbk_counter::config::{CentralSettings, Secret, check_central_url};
use sbk_counter::sync::{CallError, Client};

fn sbk_sync_once(dir: &std::path::Path, url: &str) -> (i32, String, String) {
    common::signin::delivery_key(&dir.join("local"), dir);
    let out = assert_cmd::Command::cargo_bin("sbk")
        .unwrap()
        .args(["sync", "--once"])
        .env("SBK_DATA_DIR", dir.join("local"))
        .env("SBK_CONFIG", dir.join("config.toml"))
        .env("SBK_CENTRAL_URL", url)
        .env("SBK_CENTRAL_TOKEN", TOKEN)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A listener that counts connections and answers each with `response`.
fn answering(response: &'static str) -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            counted.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = s.read(&mut buf);
            let _ = s.write_all(response.as_bytes());
        }
    });
    (addr, hits)
}

#[test]
fn plain_http_to_another_host_is_refused_even_behind_a_user_part() {
    // The client would connect to the host after @, whatever comes before it.
    for url in [
        "http://localhost:1@sbk.example.gov.cn",
        "http://127.0.0.1@192.0.2.7:8750",
        "https://user:pw@sbk.example.gov.cn",
    ] {
        let e = check_central_url(url).unwrap_err();
        assert!(e.contains("用户名部分"), "{url}: {e}");
    }
    assert!(check_central_url("http://192.0.2.7:8750").is_err());
    assert!(check_central_url("http://localhost:8750").is_ok());
    assert!(check_central_url("http://[::1]:8750").is_ok());
    assert!(check_central_url("https://sbk.example.gov.cn").is_ok());
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = sbk_sync_once(dir.path(), "http://localhost:1@sbk.example.gov.cn");
    assert_eq!(code, 1);
    assert!(err.contains("用户名部分"), "{err}");
}

#[test]
fn a_redirect_is_never_followed() {
    let (elsewhere, hits) = answering("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}");
    let redirect: &'static str = Box::leak(
        format!(
            "HTTP/1.1 302 Found\r\nlocation: http://{elsewhere}/v1/applications\r\ncontent-length: 0\r\n\r\n"
        )
        .into_boxed_str(),
    );
    let (redirecting, _) = answering(redirect);
    let client = Client::new(
        &CentralSettings {
            url: format!("http://{redirecting}"),
            token: Secret::new(TOKEN),
            ca_file: None,
        },
        "op-7",
    )
    .unwrap();
    let result = client.changes("", 10);
    assert!(
        matches!(result, Err(CallError::Config(ref m)) if m.contains("跳转")),
        "{result:?}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the token went elsewhere");
}

/// A TLS server on loopback whose certificate is its own (nobody's CA signed it); counts
/// the HTTP requests that reach it after a handshake.
fn untrusted_tls() -> (u16, Arc<AtomicUsize>) {
    let key = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = key.cert.der().clone();
    let private = rustls::pki_types::PrivateKeyDer::Pkcs8(key.signing_key.serialize_der().into());
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], private)
        .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(tcp) = stream else { continue };
            let _ = tcp.set_read_timeout(Some(Duration::from_secs(2)));
            let conn = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            let mut buf = [0u8; 4096];
            if let Ok(n) = tls.read(&mut buf)
                && n > 0
            {
                counted.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    (port, requests)
}

#[test]
fn an_untrusted_certificate_needs_a_person_and_nothing_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let central = dir.path().join("central.sqlite3");
    sbk_counter::central::seed(&central, 60, 41).unwrap();
    queue_applications(&dir.path().join("local"), &central, 2);
    let (port, requests) = untrusted_tls();
    let (code, out, err) = sbk_sync_once(dir.path(), &format!("https://localhost:{port}"));
    assert_eq!(code, 1, "a person must act: {out}{err}");
    assert!(out.contains("需要处理") && out.contains("证书"), "{out}");
    assert_eq!(
        requests.load(Ordering::SeqCst),
        0,
        "no request after a refused handshake"
    );
    // The same store against a server it trusts delivers: nothing was lost.
    let server = Running::start(server_config(&central, "127.0.0.1:0", Faults::default())).unwrap();
    let (code, out, _) = sbk_sync_once(dir.path(), &server.base_url());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("已送达 2"), "{out}");
}
