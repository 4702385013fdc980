//! The reference server against a hostile or careless client: photos that would take
//! gigabytes to decode, bodies that never finish, idle connections by the dozen, a centre
//! filling the disk, and one centre probing another's residents and applications.

use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;
use sbk_counter::central::{Config, Faults, Limits, Running, registry, service};
use sbk_counter::photo::synthetic::{card_photo_jpeg, id_card_jpeg};
use sbk_counter::store::sha256_hex;

const TOKEN: &str = "token-centre-a";
const OTHER_TOKEN: &str = "token-centre-b";

fn start(db: &Path, limits: Limits) -> Running {
    Running::start(Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        db: db.to_owned(),
        tokens: vec![
            (TOKEN.into(), "centre-a".into()),
            (OTHER_TOKEN.into(), "centre-b".into()),
        ],
        pace: Duration::from_secs(3600),
        faults: Faults::default(),
        seed: 5,
        limits,
    })
    .unwrap()
}

fn seeded() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("central.sqlite3");
    sbk_counter::central::seed(&db, 60, 17).unwrap();
    (dir, db)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

fn call(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, String) {
    let mut r = result.unwrap();
    (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
}

fn put(server: &Running, token: &str, bytes: &[u8]) -> (u16, String) {
    call(
        agent()
            .put(format!(
                "{}/v1/photos/{}",
                server.base_url(),
                sha256_hex(bytes)
            ))
            .header("authorization", format!("Bearer {token}"))
            .header("x-operator-id", "op-1")
            .header("content-type", "image/png")
            .send(bytes),
    )
}

fn post(server: &Running, token: &str, path: &str, body: &serde_json::Value) -> (u16, String) {
    let mut req = agent()
        .post(format!("{}{path}", server.base_url()))
        .header("authorization", format!("Bearer {token}"))
        .header("x-operator-id", "op-1")
        .header("content-type", "application/json");
    if path == "/v1/applications" {
        req = req.header("idempotency-key", uuid::Uuid::new_v4().to_string());
    }
    call(req.send(body.to_string().as_bytes()))
}

/// A PNG whose header declares `w`×`h` but whose data is a tiny image's: what a
/// decompression bomb looks like from outside (a few hundred bytes that decode to gigabytes).
fn png_declaring(w: u32, h: u32) -> Vec<u8> {
    let small = image::DynamicImage::new_rgb8(4, 4);
    let mut png = std::io::Cursor::new(Vec::new());
    small.write_to(&mut png, image::ImageFormat::Png).unwrap();
    let mut png = png.into_inner();
    // IHDR is the first chunk: length (4) type (4) width (4) height (4) … crc (4), at 8.
    png[16..20].copy_from_slice(&w.to_be_bytes());
    png[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn a_photo_declaring_a_huge_image_is_refused_before_any_pixel_is_decoded() {
    let (_dir, db) = seeded();
    let server = start(&db, Limits::default());
    let bomb = png_declaring(16384, 4000);
    assert_eq!(
        sbk_counter::photo::decode::declared_dimensions(&bomb).unwrap(),
        (16384, 4000)
    );
    // Eight at once, as the attack sent them: each refused on its header, at once.
    let started = Instant::now();
    let answers: Vec<(u16, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| put(&server, TOKEN, &bomb)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (status, body) in &answers {
        assert_eq!(*status, 422, "{body}");
        assert!(body.contains("16384×4000"), "{body}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // One an older server kept is checked on its header at submission, not decoded.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let sha = sha256_hex(&bomb);
    conn.execute(
        "INSERT INTO photos VALUES ('centre-a', ?1, ?2, ?3)",
        rusqlite::params![sha, bomb, Utc::now().to_rfc3339()],
    )
    .unwrap();
    let photos = vec![service::SubmittedPhoto {
        path: "photos.id_front",
        kind: sbk_counter::domain::PhotoSlot::IdFront,
        sha256: sha,
        bytes: Some(bomb.clone()),
    }];
    let errors = service::check_photos(&photos);
    assert!(errors[0].message.contains("16384×4000"), "{errors:?}");
}

#[test]
fn a_body_that_never_finishes_is_given_up_on() {
    let (_dir, db) = seeded();
    let server = start(
        &db,
        Limits {
            body_timeout: Duration::from_secs(1),
            ..Limits::default()
        },
    );
    let mut tcp = std::net::TcpStream::connect(server.addr()).unwrap();
    write!(
        tcp,
        "PUT /v1/photos/{} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {TOKEN}\r\nx-operator-id: op-1\r\ncontent-type: image/jpeg\r\ncontent-length: 1000000\r\n\r\n",
        "a".repeat(64)
    )
    .unwrap();
    tcp.write_all(&[0xff; 100]).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let started = Instant::now();
    let mut answer = vec![0u8; 1024];
    let n = tcp.read(&mut answer).unwrap_or(0);
    let text = String::from_utf8_lossy(&answer[..n]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn idle_connections_beyond_the_limit_do_not_stop_the_server_for_long() {
    let (_dir, db) = seeded();
    let server = start(
        &db,
        Limits {
            max_connections: 8,
            header_timeout: Duration::from_secs(1),
            ..Limits::default()
        },
    );
    // Forty connections that never send a request.
    let idle: Vec<std::net::TcpStream> = (0..40)
        .map(|_| std::net::TcpStream::connect(server.addr()).unwrap())
        .collect();
    let started = Instant::now();
    let (status, _) = call(
        agent()
            .get(format!("{}/v1/health", server.base_url()))
            .call(),
    );
    assert_eq!(status, 200);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "answered after {:?}",
        started.elapsed()
    );
    drop(idle);
}

#[test]
fn a_centre_cannot_fill_the_disk_and_photos_no_application_uses_expire() {
    let (_dir, db) = seeded();
    let server = start(
        &db,
        Limits {
            photo_quota: 300 * 1024,
            ..Limits::default()
        },
    );
    let mut kept = 0;
    let mut refused = None;
    for seed in 0..40 {
        let (status, body) = put(&server, TOKEN, &card_photo_jpeg(1000 + seed));
        match status {
            201 => kept += 1,
            other => {
                refused = Some((other, body));
                break;
            }
        }
    }
    let (status, body) = refused.expect("the quota was reached");
    assert_eq!(status, 507, "{body}");
    assert!(body.contains("insufficient_storage"), "{body}");
    assert!(kept > 2);
    // Another centre has its own quota.
    assert_eq!(put(&server, OTHER_TOKEN, &id_card_jpeg(5, false)).0, 201);
    // Bytes that are not a photo are not kept at all.
    assert_eq!(
        put(&server, OTHER_TOKEN, b"\xff\xd8\xff not really a jpeg").0,
        422
    );
    // A week later, what no application refers to is gone.
    drop(server);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let expired =
        service::expire_unreferenced_photos(&conn, Utc::now() + chrono::Duration::days(8)).unwrap();
    assert_eq!(expired, kept + 1);
}

#[test]
fn one_centre_learns_nothing_of_another_centres_residents_or_applications() {
    let (_dir, db) = seeded();
    let server = start(&db, Limits::default());
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (name, id) = registry::sample(&conn, true, 1).unwrap().remove(0);
    let check = |token: &str, authorised: chrono::DateTime<Utc>, in_person: bool| {
        post(
            &server,
            token,
            "/v1/eligibility-checks",
            &serde_json::json!({
                "name": name, "id_type": "resident_id", "id_number": id,
                "access_authorised_at": authorised,
                "identity_verified_in_person_at": if in_person { Some(Utc::now()) } else { None },
            }),
        )
    };
    // An authorisation from long ago (or a made-up one) is not an authorisation.
    let old = Utc::now() - chrono::Duration::days(400);
    let (status, body) = check(OTHER_TOKEN, old, true);
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("access_authorised_at"), "{body}");
    // Without the in-person check, no registered address or reserved mobile.
    let (status, body) = check(OTHER_TOKEN, Utc::now(), false);
    assert_eq!(status, 200);
    let answer: sbk_counter::api::EligibilityAnswer = serde_json::from_str(&body).unwrap();
    assert!(answer.eligible && answer.person.is_none(), "{body}");
    // Centre A submits for the resident; centre B's submission is told one is in
    // progress, but not A's number.
    let (_, body) = check(TOKEN, Utc::now(), true);
    let answer: sbk_counter::api::EligibilityAnswer = serde_json::from_str(&body).unwrap();
    let mut photos = Vec::new();
    for bytes in [
        card_photo_jpeg(1),
        id_card_jpeg(1, false),
        id_card_jpeg(1, true),
    ] {
        put(&server, TOKEN, &bytes);
        put(&server, OTHER_TOKEN, &bytes);
        photos.push(Some(sbk_counter::domain::PhotoRef {
            sha256: sha256_hex(&bytes),
            source_name: None,
        }));
    }
    let photos = sbk_counter::domain::Photos {
        card_photo: photos[0].clone(),
        id_front: photos[1].clone(),
        id_back: photos[2].clone(),
    };
    let app = registry::complete_application(&answer, &id, photos, Utc::now()).unwrap();
    let sub = serde_json::to_value(sbk_counter::api::Submission::from_application(&app).unwrap())
        .unwrap();
    let (status, body) = post(&server, TOKEN, "/v1/applications", &sub);
    assert_eq!(status, 201, "{body}");
    let receipt: sbk_counter::api::SubmissionReceipt = serde_json::from_str(&body).unwrap();
    let (status, body) = post(&server, OTHER_TOKEN, "/v1/applications", &sub);
    assert_eq!(status, 422);
    assert!(body.contains("application_in_progress"), "{body}");
    assert!(!body.contains(&receipt.application_number), "{body}");
    // The centre that submitted it is told its number.
    let (_, body) = post(&server, TOKEN, "/v1/applications", &sub);
    assert!(body.contains(&receipt.application_number), "{body}");
}

/// Send raw bytes, read what comes back within a few seconds.
fn raw(server: &Running, request: &[u8]) -> String {
    let mut tcp = std::net::TcpStream::connect(server.addr()).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = tcp.write_all(request);
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = tcp.read(&mut buf) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
        if answer.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn what_held_up_still_holds_headers_nesting_bad_utf8_and_slow_headers() {
    let (_dir, db) = seeded();
    let server = start(
        &db,
        Limits {
            header_timeout: Duration::from_secs(1),
            ..Limits::default()
        },
    );
    // Oversized headers: 431 before anything is read.
    let big = format!(
        "GET /v1/applications HTTP/1.1\r\nhost: x\r\nx-filler: {}\r\n\r\n",
        "a".repeat(512 * 1024)
    );
    assert!(raw(&server, big.as_bytes()).starts_with("HTTP/1.1 431"));
    // Deeply nested JSON and invalid UTF-8: 400, no crash.
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let request = |body: &[u8]| {
        let mut r = format!(
            "POST /v1/eligibility-checks HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {TOKEN}\r\nx-operator-id: op-1\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(body);
        r
    };
    assert!(raw(&server, &request(nested.as_bytes())).starts_with("HTTP/1.1 4"));
    assert!(raw(&server, &request(b"{\"name\": \"\xff\xfe\"}")).starts_with("HTTP/1.1 400"));
    // Headers that trickle in are cut off.
    let mut tcp = std::net::TcpStream::connect(server.addr()).unwrap();
    tcp.write_all(b"GET /v1/health HTTP/1.1\r\nhost: x\r\n")
        .unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 64];
    let _ = tcp.read(&mut buf);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "closed after the header timeout"
    );
    // And the server still answers.
    let (status, _) = call(
        agent()
            .get(format!("{}/v1/health", server.base_url()))
            .call(),
    );
    assert_eq!(status, 200);
}
