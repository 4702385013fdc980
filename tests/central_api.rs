//! The reference central API over real HTTP on loopback: authentication, photos,
//! eligibility, idempotent submission, progress, faults, and a restart.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::Utc;
use sbk_counter::api::{
    ApiError, EligibilityAnswer, IneligibleReason, PhotoReceipt, Progress, ProgressPage,
    ProgressStatus, Submission, SubmissionReceipt,
};
use sbk_counter::central::{Config, Faults, Running, registry};
use sbk_counter::domain::{PhotoRef, Photos, PickupMethod};
use sbk_counter::photo::synthetic::{card_photo_jpeg, id_card_jpeg};
use sbk_counter::store::sha256_hex;
use serde_json::{Value, json};

const TOKEN: &str = "token-centre-a";
const OTHER_TOKEN: &str = "token-centre-b";

fn config(db: &Path) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        db: db.to_owned(),
        tokens: vec![
            (TOKEN.into(), "centre-a".into()),
            (OTHER_TOKEN.into(), "centre-b".into()),
        ],
        pace: Duration::from_secs(3600),
        faults: Faults::default(),
        seed: 7,
        limits: Default::default(),
    }
}

struct Server {
    _dir: tempfile::TempDir,
    db: PathBuf,
    running: Option<Running>,
    base: String,
}

impl Server {
    fn start(tweak: impl FnOnce(&mut Config)) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("central.sqlite3");
        sbk_counter::central::seed(&db, 200, 11).unwrap();
        let mut cfg = config(&db);
        tweak(&mut cfg);
        let running = Running::start(cfg).unwrap();
        let base = running.base_url();
        Server {
            _dir: dir,
            db,
            running: Some(running),
            base,
        }
    }

    fn restart(&mut self, tweak: impl FnOnce(&mut Config)) {
        self.running.take().unwrap().stop();
        let mut cfg = config(&self.db);
        tweak(&mut cfg);
        let running = Running::start(cfg).unwrap();
        self.base = running.base_url();
        self.running = Some(running);
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Residents of the registry: (name, id number), eligible or not.
    fn residents(&self, eligible: bool, n: usize) -> Vec<(String, String)> {
        let conn = rusqlite::Connection::open(&self.db).unwrap();
        registry::sample(&conn, eligible, n).unwrap()
    }

    fn application_count(&self) -> i64 {
        let conn = rusqlite::Connection::open(&self.db).unwrap();
        conn.query_row("SELECT count(*) FROM applications", [], |r| r.get(0))
            .unwrap()
    }
}

/// A response, whatever its status.
struct Answer {
    status: u16,
    headers: ureq::http::HeaderMap,
    body: String,
}

impl Answer {
    fn json<T: serde::de::DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("{e}: status {} body {}", self.status, self.body))
    }
    fn error(&self) -> ApiError {
        self.json()
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

fn answer(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut response = result.expect("an HTTP answer");
    Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.body_mut().read_to_string().unwrap(),
    }
}

fn get(server: &Server, path: &str, token: Option<&str>) -> Answer {
    let mut req = agent()
        .get(server.url(path))
        .header("x-operator-id", "op-1");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    answer(req.call())
}

fn post(server: &Server, path: &str, key: Option<&str>, body: &str) -> Answer {
    try_post(server, path, key, body).expect("an HTTP answer")
}

fn try_post(
    server: &Server,
    path: &str,
    key: Option<&str>,
    body: &str,
) -> Result<Answer, ureq::Error> {
    let mut req = agent()
        .post(server.url(path))
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("x-operator-id", "op-1")
        .header("content-type", "application/json");
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    req.send(body.as_bytes()).map(|r| answer(Ok(r)))
}

fn put_photo(server: &Server, sha: &str, bytes: &[u8]) -> Answer {
    answer(
        agent()
            .put(server.url(&format!("/v1/photos/{sha}")))
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("x-operator-id", "op-1")
            .header("content-type", "image/jpeg")
            .send(bytes),
    )
}

fn check(server: &Server, name: &str, id: &str) -> EligibilityAnswer {
    let body = json!({
        "name": name,
        "id_type": "resident_id",
        "id_number": id,
        "access_authorised_at": Utc::now(),
        "identity_verified_in_person_at": Utc::now(),
    });
    let a = post(server, "/v1/eligibility-checks", None, &body.to_string());
    assert_eq!(a.status, 200, "{}", a.body);
    a.json()
}

/// Upload the three photos (distinct per `seed`) and return them as references.
fn upload_photos(server: &Server, seed: u64) -> Photos {
    let mut refs = Vec::new();
    for bytes in [
        card_photo_jpeg(seed),
        id_card_jpeg(seed, false),
        id_card_jpeg(seed, true),
    ] {
        let sha = sha256_hex(&bytes);
        let a = put_photo(server, &sha, &bytes);
        assert!(matches!(a.status, 200 | 201), "{}", a.body);
        refs.push(Some(PhotoRef {
            sha256: sha,
            source_name: None,
        }));
    }
    Photos {
        card_photo: refs[0].clone(),
        id_front: refs[1].clone(),
        id_back: refs[2].clone(),
    }
}

/// A complete submission for an eligible resident.
fn submission(server: &Server, name: &str, id: &str, seed: u64) -> Submission {
    let ans = check(server, name, id);
    assert!(ans.eligible, "{name} {id}: {:?}", ans.reason);
    let photos = upload_photos(server, seed);
    let app = registry::complete_application(&ans, id, photos, Utc::now()).unwrap();
    Submission::from_application(&app).unwrap()
}

fn submit(server: &Server, key: &str, sub: &Submission) -> Answer {
    post(
        server,
        "/v1/applications",
        Some(key),
        &serde_json::to_string(sub).unwrap(),
    )
}

#[test]
fn eligibility_answers_for_every_kind_of_resident() {
    let server = Server::start(|_| {});
    let conn = rusqlite::Connection::open(&server.db).unwrap();
    let seeded: Vec<(String, String)> = conn
        .prepare("SELECT name, id_number FROM residents ORDER BY rowid LIMIT 6")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    // The first six of every seed: eligible, eligible with branch pickup, has a card, not
    // insured, not retired, returned at review.
    let answers: Vec<EligibilityAnswer> =
        seeded.iter().map(|(n, id)| check(&server, n, id)).collect();
    let eligible = &answers[0];
    assert!(eligible.eligible);
    let person = eligible.person.as_ref().unwrap();
    assert_eq!(person.name, seeded[0].0);
    assert_eq!(person.nationality, "CHN");
    assert_eq!(person.reserved_mobile.len(), 11);
    assert!(!person.residence_address.is_empty());
    assert!(eligible.card_issuer.is_some());
    assert_eq!(eligible.allowed_pickup, vec![PickupMethod::BankMail]);
    assert_eq!(
        answers[1].allowed_pickup,
        vec![PickupMethod::BankMail, PickupMethod::BranchPickup]
    );
    for (answer, reason) in [
        (&answers[2], IneligibleReason::HasValidCard),
        (&answers[3], IneligibleReason::NotInsured),
        (&answers[4], IneligibleReason::NotRetired),
    ] {
        assert!(!answer.eligible);
        assert_eq!(answer.reason_code, Some(reason));
        assert!(
            answer
                .reason
                .as_ref()
                .unwrap()
                .contains(&reason.message()[..9])
        );
        assert!(answer.person.is_none() && answer.card_issuer.is_none());
        assert!(answer.allowed_pickup.is_empty());
    }
    assert!(answers[5].eligible);
    // Someone the registry does not know, and a name that does not match the number: one
    // answer, so that it does not tell whether the number is in the registry.
    let unknown = check(&server, "张三", "11010519491231002X");
    assert_eq!(unknown.reason_code, Some(IneligibleReason::NotInsured));
    let wrong_name = check(&server, "李四", &seeded[0].1);
    assert_eq!(wrong_name.reason_code, Some(IneligibleReason::NotInsured));
    assert_eq!(wrong_name.reason, unknown.reason);
    // Every check is recorded with its access authorisation.
    let recorded: i64 = conn
        .query_row(
            "SELECT count(*) FROM eligibility_checks WHERE access_authorised_at <> ''",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(recorded, 8);
}

#[test]
fn photos_are_content_addressed_and_limited() {
    let server = Server::start(|_| {});
    let bytes = card_photo_jpeg(5);
    let sha = sha256_hex(&bytes);
    let path = format!("/v1/photos/{sha}");
    assert_eq!(get(&server, &path, Some(TOKEN)).status, 404);
    let first = put_photo(&server, &sha, &bytes);
    assert_eq!(first.status, 201, "{}", first.body);
    assert!(!first.json::<PhotoReceipt>().already_present);
    let again = put_photo(&server, &sha, &bytes);
    assert_eq!(again.status, 200);
    assert!(again.json::<PhotoReceipt>().already_present);
    let status = get(&server, &path, Some(TOKEN));
    assert_eq!(status.status, 200);
    assert_eq!(status.json::<PhotoReceipt>().size, bytes.len() as u64);
    // Another centre does not see this centre's photos.
    assert_eq!(get(&server, &path, Some(OTHER_TOKEN)).status, 404);

    let other = card_photo_jpeg(6);
    let mismatch = put_photo(&server, &sha256_hex(&other), &bytes);
    assert_eq!(mismatch.status, 422);
    assert_eq!(mismatch.error().code, "sha256_mismatch");
    let text = b"not a photo at all".to_vec();
    let not_image = put_photo(&server, &sha256_hex(&text), &text);
    assert_eq!(not_image.status, 422);
    assert_eq!(not_image.error().code, "not_an_image");
    let huge = vec![0u8; sbk_counter::api::PHOTO_BODY_LIMIT + 1];
    let too_big = put_photo(&server, &sha256_hex(&huge), &huge);
    assert_eq!(too_big.status, 413);
    assert_eq!(too_big.error().code, "payload_too_large");
    assert_eq!(put_photo(&server, "ABC", &bytes).status, 400);
    assert_eq!(get(&server, "/v1/photos/xyz", Some(TOKEN)).status, 400);
}

#[test]
fn a_retried_submission_is_one_application() {
    let server = Server::start(|_| {});
    let (name, id) = server.residents(true, 1).remove(0);
    let sub = submission(&server, &name, &id, 1);
    let body = serde_json::to_string(&sub).unwrap();

    let missing = post(&server, "/v1/applications", None, &body);
    assert_eq!(missing.status, 400);
    assert_eq!(missing.error().code, "idempotency_key_missing");
    let short = post(&server, "/v1/applications", Some("abc"), &body);
    assert_eq!(short.error().code, "idempotency_key_invalid");

    let key = uuid::Uuid::new_v4().to_string();
    let first = submit(&server, &key, &sub);
    assert_eq!(first.status, 201, "{}", first.body);
    assert!(first.headers.get("idempotent-replayed").is_none());
    let receipt: SubmissionReceipt = first.json();
    assert!(receipt.application_number.starts_with("SQ"));
    assert_eq!(receipt.client_reference, sub.client_reference);
    assert_eq!(receipt.status, ProgressStatus::Received);

    // The same key and body: the first answer, replayed, byte for byte.
    let replay = submit(&server, &key, &sub);
    assert_eq!(replay.status, 201);
    assert_eq!(replay.body, first.body);
    assert_eq!(replay.headers["idempotent-replayed"], "true");
    // The same body re-serialised with other whitespace and key order is the same body.
    let value: Value = serde_json::from_str(&body).unwrap();
    let pretty = serde_json::to_string_pretty(&value).unwrap();
    let replay2 = post(&server, "/v1/applications", Some(&key), &pretty);
    assert_eq!(replay2.body, first.body);

    // The same key with a different body: 422.
    let mut changed = sub.clone();
    changed.residence.address.push_str("（变更）");
    let reused = submit(&server, &key, &changed);
    assert_eq!(reused.status, 422);
    assert_eq!(reused.error().code, "idempotency_key_reused");

    // A new key for the same person while the first is in progress: refused, with the
    // number of the application in progress.
    let dup = submit(&server, "another-key-0001", &sub);
    assert_eq!(dup.status, 422);
    let err = dup.error();
    assert_eq!(err.code, "application_in_progress");
    assert!(err.message.contains(&receipt.application_number));
    assert_eq!(server.application_count(), 1);
}

#[test]
fn a_key_in_flight_is_409_and_concurrent_retries_make_one_application() {
    let server = Server::start(|c| c.faults.latency = Duration::from_millis(300));
    let (name, id) = server.residents(true, 1).remove(0);
    let sub = submission(&server, &name, &id, 2);
    let key = "concurrent-key-0001";
    let answers: Vec<Answer> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..12)
            .map(|_| s.spawn(|| submit(&server, key, &sub)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let created = answers.iter().filter(|a| a.status == 201).count();
    let in_flight = answers.iter().filter(|a| a.status == 409).count();
    assert!(
        created >= 1,
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    assert_eq!(created + in_flight, 12);
    assert!(in_flight >= 1, "all twelve arrived one after another");
    for a in answers.iter().filter(|a| a.status == 409) {
        assert_eq!(a.error().code, "request_in_flight");
        assert_eq!(a.headers["retry-after"], "1");
    }
    let numbers: std::collections::HashSet<String> = answers
        .iter()
        .filter(|a| a.status == 201)
        .map(|a| a.json::<SubmissionReceipt>().application_number)
        .collect();
    assert_eq!(numbers.len(), 1);
    // The ones told 409 retry and get the same answer.
    let retry = submit(&server, key, &sub);
    assert_eq!(retry.status, 201);
    assert_eq!(
        retry.json::<SubmissionReceipt>().application_number,
        *numbers.iter().next().unwrap()
    );
    assert_eq!(server.application_count(), 1);
}

#[test]
fn a_refused_submission_names_the_fields_and_stores_nothing() {
    let server = Server::start(|_| {});
    let (name, id) = server.residents(true, 1).remove(0);
    let good = submission(&server, &name, &id, 3);

    let mut bad = good.clone();
    bad.applicant.mobile = "12345".into();
    bad.pickup.mail.as_mut().unwrap().postcode = "1000".into();
    let a = submit(&server, "refused-key-0001", &bad);
    assert_eq!(a.status, 422, "{}", a.body);
    let err = a.error();
    assert_eq!(err.code, "validation_failed");
    let fields: Vec<&str> = err.errors.iter().map(|e| e.field.as_str()).collect();
    assert!(fields.contains(&"applicant.mobile"), "{fields:?}");
    assert!(fields.contains(&"pickup.mail.postcode"), "{fields:?}");

    // A photo that was never uploaded, and one that is not a card photo.
    let mut no_photo = good.clone();
    no_photo.photos.card_photo = "a".repeat(64);
    let a = submit(&server, "refused-key-0002", &no_photo);
    assert_eq!(a.error().errors[0].field, "photos.card_photo");
    let mut wrong_photo = good.clone();
    wrong_photo.photos.card_photo = good.photos.id_front.clone();
    let a = submit(&server, "refused-key-0003", &wrong_photo);
    assert_eq!(a.status, 422);
    assert!(
        a.error()
            .errors
            .iter()
            .any(|e| e.field == "photos.card_photo")
    );

    // The issuing bank is the one that pays the pension; branch pickup only if allowed.
    let mut wrong_bank = good.clone();
    wrong_bank.card_issuer.bank_code = "999".into();
    assert_eq!(
        submit(&server, "refused-key-0004", &wrong_bank)
            .error()
            .errors[0]
            .field,
        "card_issuer"
    );
    let mut branch = good.clone();
    branch.pickup.method = PickupMethod::BranchPickup;
    let a = submit(&server, "refused-key-0005", &branch);
    assert!(
        a.error().errors.iter().any(|e| e.field == "pickup.method"),
        "{}",
        a.body
    );

    // Ineligible people are refused at submission too.
    let (other_name, other_id) = server.residents(false, 1).remove(0);
    let mut ineligible = good.clone();
    ineligible.applicant.name = other_name;
    // Well formed for that person (the fields are checked before the registry).
    let parsed = sbk_counter::domain::IdNumber::parse(&other_id, Utc::now().date_naive()).unwrap();
    ineligible.applicant.gender = Some(parsed.gender);
    ineligible.applicant.birth_date = parsed.birth_date.to_string();
    ineligible.applicant.id_number = other_id;
    let a = submit(&server, "refused-key-0006", &ineligible);
    assert_eq!(a.status, 422);
    assert_eq!(a.error().code, "ineligible");

    // Nothing was stored: the refused key may be used again once the cause is fixed.
    assert_eq!(server.application_count(), 0);
    let fixed = submit(&server, "refused-key-0001", &good);
    assert_eq!(fixed.status, 201, "{}", fixed.body);
}

#[test]
fn authentication_limits_and_malformed_requests() {
    let server = Server::start(|_| {});
    let no_token = get(&server, "/v1/applications", None);
    assert_eq!(no_token.status, 401);
    assert_eq!(no_token.headers["www-authenticate"], "Bearer");
    assert_eq!(no_token.error().code, "unauthenticated");
    assert_eq!(
        get(&server, "/v1/applications", Some("wrong-token")).status,
        401
    );
    let no_operator = answer(
        agent()
            .get(server.url("/v1/applications"))
            .header("authorization", format!("Bearer {TOKEN}"))
            .call(),
    );
    assert_eq!(no_operator.status, 400);
    assert_eq!(no_operator.error().code, "operator_missing");

    let malformed = post(
        &server,
        "/v1/eligibility-checks",
        None,
        r#"{"name": "张三", "id_type": "passport"}"#,
    );
    assert_eq!(malformed.status, 400);
    let err = malformed.error();
    assert_eq!(err.errors[0].field, "id_type");
    assert!(err.message.contains("id_type"), "{}", err.message);
    let not_json = post(&server, "/v1/eligibility-checks", None, "name=张三");
    assert_eq!(not_json.status, 400);
    let huge = format!(r#"{{"name": "{}"}}"#, "张".repeat(30_000));
    let too_big = post(&server, "/v1/eligibility-checks", None, &huge);
    assert_eq!(too_big.status, 413);

    assert_eq!(
        get(&server, "/v1/nothing-here", Some(TOKEN)).error().code,
        "not_found"
    );
    assert_eq!(
        get(&server, "/v1/applications/SQ000", Some(TOKEN)).status,
        404
    );
    assert_eq!(
        get(&server, "/v1/applications?since=abc", Some(TOKEN)).status,
        400
    );
    assert_eq!(
        get(&server, "/v1/applications?limit=0", Some(TOKEN)).status,
        400
    );

    // Another centre's application: answered as one that does not exist.
    let (name, id) = server.residents(true, 1).remove(0);
    let receipt: SubmissionReceipt = submit(
        &server,
        "auth-key-00001",
        &submission(&server, &name, &id, 4),
    )
    .json();
    let path = format!("/v1/applications/{}", receipt.application_number);
    assert_eq!(get(&server, &path, Some(TOKEN)).status, 200);
    let foreign = get(&server, &path, Some(OTHER_TOKEN));
    let missing = get(
        &server,
        "/v1/applications/SQ2099010199999999",
        Some(OTHER_TOKEN),
    );
    assert_eq!(foreign.status, 404);
    assert_eq!(
        (foreign.status, foreign.body.clone()),
        (missing.status, missing.body.clone()),
        "not yours and not there are one answer"
    );
    let page: ProgressPage = get(&server, "/v1/applications", Some(OTHER_TOKEN)).json();
    assert!(
        page.items.is_empty(),
        "another centre's changes are not listed"
    );
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn progress_advances_and_a_cursor_sees_each_change() {
    let server = Server::start(|c| c.pace = Duration::from_millis(150));
    let conn = rusqlite::Connection::open(&server.db).unwrap();
    let first_six: Vec<(String, String)> = conn
        .prepare("SELECT name, id_number FROM residents ORDER BY rowid LIMIT 6")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mail = submission(&server, &first_six[0].0, &first_six[0].1, 10);
    let mut branch = submission(&server, &first_six[1].0, &first_six[1].1, 11);
    branch.pickup.method = PickupMethod::BranchPickup;
    let reviewed = submission(&server, &first_six[5].0, &first_six[5].1, 12);
    let numbers: Vec<String> = [
        (&mail, "p-key-mail"),
        (&branch, "p-key-branch"),
        (&reviewed, "p-key-review"),
    ]
    .iter()
    .map(|(s, k)| {
        let a = submit(&server, k, s);
        assert_eq!(a.status, 201, "{}", a.body);
        a.json::<SubmissionReceipt>().application_number
    })
    .collect();
    let progress = |n: &str| -> Progress {
        get(&server, &format!("/v1/applications/{n}"), Some(TOKEN)).json()
    };
    wait_for("all three to finish", || {
        numbers.iter().all(|n| progress(n).status.is_final())
    });
    let statuses = |p: &Progress| p.history.iter().map(|e| e.status).collect::<Vec<_>>();
    use ProgressStatus::*;
    let mailed = progress(&numbers[0]);
    assert_eq!(
        statuses(&mailed),
        vec![Received, Accepted, InProduction, Shipped, Collected]
    );
    let tracking = mailed.tracking_number.clone().unwrap();
    assert!(tracking.starts_with("EA") && tracking.ends_with("CN"));
    assert_eq!(
        mailed.history[3].tracking_number.as_deref(),
        Some(tracking.as_str())
    );
    assert!(mailed.history.windows(2).all(|w| w[0].at <= w[1].at));
    let collected = progress(&numbers[1]);
    assert_eq!(
        statuses(&collected),
        vec![
            Received,
            Accepted,
            InProduction,
            ReadyForCollection,
            Collected
        ]
    );
    let returned = progress(&numbers[2]);
    assert_eq!(statuses(&returned), vec![Received, Returned]);
    let reason = returned.return_reason.clone().unwrap();
    assert_eq!(reason.field, "photos.card_photo");
    assert!(reason.message.contains("照片"));

    // The cursor: everything from the start, then pages, then nothing new.
    let all: ProgressPage = get(&server, "/v1/applications?since=", Some(TOKEN)).json();
    assert_eq!(all.items.len(), 3);
    assert!(!all.has_more);
    let quiet: ProgressPage = get(
        &server,
        &format!("/v1/applications?since={}", all.next_cursor),
        Some(TOKEN),
    )
    .json();
    assert!(quiet.items.is_empty());
    assert_eq!(quiet.next_cursor, all.next_cursor);
    let page1: ProgressPage = get(&server, "/v1/applications?limit=2", Some(TOKEN)).json();
    assert_eq!(page1.items.len(), 2);
    assert!(page1.has_more);
    let page2: ProgressPage = get(
        &server,
        &format!("/v1/applications?limit=2&since={}", page1.next_cursor),
        Some(TOKEN),
    )
    .json();
    assert_eq!(page2.items.len(), 1);
    assert!(!page2.has_more);

    // A returned application, corrected and submitted under a new key, goes through.
    let again = submit(&server, "p-key-review-2", &reviewed);
    assert_eq!(again.status, 201, "{}", again.body);
    let n = again.json::<SubmissionReceipt>().application_number;
    assert_ne!(n, numbers[2]);
    wait_for("the resubmission to be accepted", || {
        progress(&n).history.iter().any(|e| e.status == Accepted)
    });
    // The change shows up after the cursor.
    let fresh: ProgressPage = get(
        &server,
        &format!("/v1/applications?since={}", all.next_cursor),
        Some(TOKEN),
    )
    .json();
    assert!(fresh.items.iter().any(|p| p.application_number == n));
}

#[test]
fn a_restart_keeps_applications_photos_and_keys() {
    let mut server = Server::start(|_| {});
    let (name, id) = server.residents(true, 1).remove(0);
    let sub = submission(&server, &name, &id, 20);
    let first = submit(&server, "restart-key-001", &sub);
    assert_eq!(first.status, 201);
    let receipt: SubmissionReceipt = first.json();
    server.restart(|_| {});
    let replay = submit(&server, "restart-key-001", &sub);
    assert_eq!(replay.body, first.body);
    assert_eq!(replay.headers["idempotent-replayed"], "true");
    let progress: Progress = get(
        &server,
        &format!("/v1/applications/{}", receipt.application_number),
        Some(TOKEN),
    )
    .json();
    assert_eq!(progress.status, ProgressStatus::Received);
    let photo = get(
        &server,
        &format!("/v1/photos/{}", sub.photos.card_photo),
        Some(TOKEN),
    );
    assert_eq!(photo.status, 200);
    assert_eq!(server.application_count(), 1);
}

#[test]
fn injected_failures_answer_5xx_with_retry_after() {
    let server = Server::start(|c| {
        c.faults.fail_rate = 1.0;
        c.faults.retry_after = Some(3);
    });
    let mut seen = std::collections::HashSet::new();
    for _ in 0..30 {
        let a = get(&server, "/v1/applications", Some(TOKEN));
        assert!(matches!(a.status, 500 | 503), "{}", a.status);
        if a.status == 503 {
            assert_eq!(a.headers["retry-after"], "3");
        }
        a.error();
        seen.insert(a.status);
    }
    assert_eq!(seen.len(), 2, "both 500 and 503 occur");
    // The health check is never failed, so that clients can tell down from flaky.
    assert_eq!(get(&server, "/v1/health", None).status, 200);
}

#[test]
fn a_dropped_answer_after_commit_is_recovered_by_retrying_the_key() {
    let server = Server::start(|c| c.faults.drop_after_commit = 1.0);
    let (name, id) = server.residents(true, 1).remove(0);
    let sub = submission(&server, &name, &id, 30);
    let body = serde_json::to_string(&sub).unwrap();
    let dropped = try_post(&server, "/v1/applications", Some("dropped-key-01"), &body);
    assert!(dropped.is_err(), "the answer should have been dropped");
    assert_eq!(
        server.application_count(),
        1,
        "but the submission was committed"
    );
    let retry = submit(&server, "dropped-key-01", &sub);
    assert_eq!(retry.status, 201, "{}", retry.body);
    assert_eq!(retry.headers["idempotent-replayed"], "true");
    assert_eq!(server.application_count(), 1);
}

#[test]
fn too_many_at_once_is_429() {
    let server = Server::start(|c| {
        c.faults.max_concurrent = Some(1);
        c.faults.latency = Duration::from_millis(300);
        c.faults.retry_after = Some(2);
    });
    let statuses: Vec<Answer> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|_| s.spawn(|| get(&server, "/v1/applications", Some(TOKEN))))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let limited: Vec<&Answer> = statuses.iter().filter(|a| a.status == 429).collect();
    assert!(!limited.is_empty());
    assert!(statuses.iter().any(|a| a.status == 200));
    assert_eq!(limited[0].headers["retry-after"], "2");
}

#[test]
fn the_cli_seeds_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.sqlite3");
    let out = assert_cmd::Command::cargo_bin("sbk")
        .unwrap()
        .args(["central", "seed", "--count", "40", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("已生成 40 位虚构居民"), "{text}");
    assert!(text.contains("已有有效第三代社保卡"), "{text}");

    use std::io::BufRead;
    // Tokens come from a file only its owner can read (never the command line: ps shows it).
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, "# centre:token\nc1:cli-token-1\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(0o644)).unwrap();
        let refused = assert_cmd::Command::cargo_bin("sbk")
            .unwrap()
            .args([
                "central",
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--token-file",
            ])
            .arg(&tokens)
            .arg("--db")
            .arg(&db)
            .output()
            .unwrap();
        assert!(!refused.status.success());
        assert!(String::from_utf8_lossy(&refused.stderr).contains("其他用户可以读取"));
        std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("sbk"))
        .args([
            "central",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--token-file",
        ])
        .arg(&tokens)
        .arg("--db")
        .arg(&db)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let ready = lines.next().unwrap().unwrap();
    let base = ready
        .split("http://")
        .nth(1)
        .and_then(|s| s.strip_suffix("/v1（Ctrl-C 停止）"))
        .unwrap_or_else(|| panic!("{ready}"));
    let a = answer(
        agent()
            .get(format!("http://{base}/v1/applications"))
            .header("authorization", "Bearer cli-token-1")
            .header("x-operator-id", "op-1")
            .call(),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    #[cfg(unix)]
    {
        // The server's files hold submitted applications: its WAL as much as the database.
        use std::os::unix::fs::PermissionsExt;
        for suffix in ["", "-wal", "-shm"] {
            let file = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
            if file.exists() {
                let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{}", file.display());
            }
        }
        let ps = std::fs::read_to_string(format!("/proc/{}/cmdline", child.id())).unwrap();
        assert!(
            !ps.contains("cli-token-1"),
            "the token is not on the command line"
        );
        let _ = std::process::Command::new("kill")
            .arg(child.id().to_string())
            .status();
        let status = child.wait().unwrap();
        assert!(
            status.success(),
            "SIGTERM stops the server cleanly: {status}"
        );
    }
    #[cfg(not(unix))]
    {
        let _ = child.kill();
    }
}

/// The enum a component schema of docs/central-api.yaml lists (`enum: [...]` on one line).
fn contract_enum(schema: &str) -> Vec<String> {
    let doc = include_str!("../docs/central-api.yaml");
    let start = doc
        .find(&format!("\n    {schema}:\n"))
        .unwrap_or_else(|| panic!("no schema {schema}"));
    let line = doc[start..]
        .lines()
        .find(|l| l.trim_start().starts_with("enum: ["))
        .unwrap();
    line.trim()
        .trim_start_matches("enum: [")
        .trim_end_matches(']')
        .split(", ")
        .map(|c| c.trim_matches('\'').to_owned())
        .collect()
}

#[test]
fn the_contracts_code_lists_are_the_reference_tables() {
    let refs = sbk_counter::domain::refdata::refdata();
    let codes = |v: Vec<&str>| v.into_iter().map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(
        contract_enum("District"),
        codes(refs.districts.iter().map(|d| d.code).collect())
    );
    assert_eq!(
        contract_enum("Ethnicity"),
        codes(refs.ethnic_groups.iter().map(|e| e.code).collect())
    );
    assert_eq!(
        contract_enum("Occupation"),
        codes(refs.occupations.iter().map(|o| o.code).collect())
    );
    assert_eq!(
        contract_enum("Nationality"),
        codes(refs.nationalities.iter().map(|n| n.code).collect())
    );
    let id_types: Vec<String> = sbk_counter::domain::IdType::ALL
        .iter()
        .map(|t| t.key().to_owned())
        .collect();
    assert_eq!(contract_enum("IdType"), id_types);
    assert_eq!(
        contract_enum("AgentRelation"),
        codes(refs.agent_relations.iter().map(|r| r.code).collect())
    );
    assert_eq!(contract_enum("AppliedBy"), ["applicant", "agent"]);
}

#[test]
fn audit_anchors_must_extend_the_last_one_and_be_signed_by_the_chains_key() {
    use sbk_counter::api::{AnchorEntry, AnchorPoint, AuditAnchor};
    use sbk_counter::digest::{AUDIT_GENESIS, audit_entry_hash};
    let server = Server::start(|_| {});
    let chain = uuid::Uuid::new_v4();
    let key = |seed: u8| ring::signature::Ed25519KeyPair::from_seed_unchecked(&[seed; 32]).unwrap();
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    // A counter's chain, as its store writes it.
    let entry = |id: i64, detail: &str| AnchorEntry {
        id,
        at: 1_700_000_000_000 + id,
        operator_id: "C001".into(),
        operator_name: "李娜".into(),
        action: "view".into(),
        application_id: None,
        detail: Some(detail.into()),
    };
    let hash_of = |from: &str, entries: &[AnchorEntry]| {
        entries.iter().fold(from.to_owned(), |prev, e| {
            audit_entry_hash(
                &prev,
                e.id,
                e.at,
                &e.operator_id,
                &e.operator_name,
                &e.action,
                e.application_id.as_deref(),
                e.detail.as_deref(),
            )
        })
    };
    let anchor = |k: &ring::signature::Ed25519KeyPair,
                  extends: Option<(i64, String)>,
                  entries: Vec<AnchorEntry>,
                  first: bool| {
        let from = extends
            .as_ref()
            .map_or(AUDIT_GENESIS.to_owned(), |e| e.1.clone());
        let mut a = AuditAnchor {
            chain_id: chain,
            seq: entries.last().map_or(0, |e| e.id),
            hash: hash_of(&from, &entries),
            extends: extends.map(|(seq, hash)| AnchorPoint { seq, hash }),
            entries,
            chain_key: first.then(|| hex(ring::signature::KeyPair::public_key(k).as_ref())),
            signature: String::new(),
        };
        a.signature = hex(k.sign(&a.signed_bytes()).as_ref());
        a
    };
    let send = |a: &AuditAnchor| {
        post(
            &server,
            "/v1/audit-anchors",
            None,
            &serde_json::to_string(a).unwrap(),
        )
    };
    let mine = key(1);
    let one: Vec<_> = (1..=5).map(|i| entry(i, "x")).collect();
    let h5 = hash_of(AUDIT_GENESIS, &one);
    let first = anchor(&mine, None, one, true);
    let r = send(&first);
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(send(&first).status, 200, "the same anchor again");
    let two: Vec<_> = (6..=9).map(|i| entry(i, "y")).collect();
    let h9 = hash_of(&h5, &two);
    assert_eq!(
        send(&anchor(&mine, Some((5, h5.clone())), two.clone(), false)).status,
        201
    );
    let code = |a: &AuditAnchor| {
        let r = send(a);
        (r.status, r.error().code)
    };
    // Cut back: shorter than what is kept.
    let back: Vec<_> = (6..=7).map(|i| entry(i, "y")).collect();
    assert_eq!(
        code(&anchor(&mine, Some((5, h5.clone())), back, false)),
        (422, "anchor_regressed".into())
    );
    // Rewritten since the last anchor but one: another hash for an entry kept.
    let rewritten: Vec<_> = (6..=9).map(|i| entry(i, "z")).collect();
    assert_eq!(
        code(&anchor(&mine, Some((5, h5.clone())), rewritten, false)),
        (422, "anchor_mismatch".into())
    );
    // An older copy restored and used a little: it extends an anchor that is not the last.
    let restored: Vec<_> = (6..=12).map(|i| entry(i, "w")).collect();
    assert_eq!(
        code(&anchor(&mine, Some((5, h5.clone())), restored, false)),
        (422, "anchor_not_extending".into())
    );
    // Entries skipped, or not recomputing to the head.
    let skipped: Vec<_> = (11..=12).map(|i| entry(i, "v")).collect();
    let mut a = anchor(&mine, Some((9, h9.clone())), skipped, false);
    a.seq = 12;
    a.signature = hex(mine.sign(&a.signed_bytes()).as_ref());
    assert_eq!(code(&a), (422, "anchor_entries".into()));
    let mut forged = anchor(&mine, Some((9, h9.clone())), vec![entry(10, "v")], false);
    forged.hash = "f".repeat(64);
    forged.signature = hex(mine.sign(&forged.signed_bytes()).as_ref());
    assert_eq!(code(&forged), (422, "anchor_mismatch".into()));
    // Someone with the centre's token only: an anchor far ahead, under another key.
    let theirs = key(2);
    let far: Vec<_> = (10..=40).map(|i| entry(i, "poison")).collect();
    assert_eq!(
        code(&anchor(&theirs, Some((9, h9.clone())), far.clone(), true)),
        (422, "anchor_signature".into())
    );
    // The honest counter goes on as before.
    assert_eq!(
        send(&anchor(
            &mine,
            Some((9, h9.clone())),
            vec![entry(10, "u")],
            false
        ))
        .status,
        201
    );
    let bad =
        serde_json::json!({"chain_id": chain, "seq": 0, "hash": "a".repeat(64), "signature": ""});
    assert_eq!(
        post(&server, "/v1/audit-anchors", None, &bad.to_string()).status,
        400
    );
    // The latest and every anchor for this centre; another centre finds none.
    let latest: sbk_counter::api::AnchorReceipt =
        get(&server, &format!("/v1/audit-anchors/{chain}"), Some(TOKEN)).json();
    assert_eq!(latest.seq, 10);
    let all: Vec<sbk_counter::api::AnchorReceipt> = get(
        &server,
        &format!("/v1/audit-anchors/{chain}/history"),
        Some(TOKEN),
    )
    .json();
    assert_eq!(all.iter().map(|a| a.seq).collect::<Vec<_>>(), [5, 9, 10]);
    let foreign = get(
        &server,
        &format!("/v1/audit-anchors/{chain}"),
        Some(OTHER_TOKEN),
    );
    assert_eq!(foreign.status, 404);
    let foreign_all: Vec<sbk_counter::api::AnchorReceipt> = get(
        &server,
        &format!("/v1/audit-anchors/{chain}/history"),
        Some(OTHER_TOKEN),
    )
    .json();
    assert!(foreign_all.is_empty());
}

/// A 代办 submission for an eligible resident: a son applies, his ID card checked, and
/// the applicant's card he brought.
fn agent_submission(server: &Server, name: &str, id: &str, seed: u64) -> Submission {
    let ans = check(server, name, id);
    let photos = upload_photos(server, seed);
    let mut app = registry::complete_application(&ans, id, photos, Utc::now()).unwrap();
    sbk_counter::domain::synthetic::by_agent(
        &mut app,
        &mut sbk_counter::domain::synthetic::Rng::new(seed),
    );
    Submission::from_application(&app).unwrap()
}

#[test]
fn a_submission_by_an_agent_is_checked_by_the_counters_rules_for_the_agent() {
    let server = Server::start(|_| {});
    let mut residents = server.residents(true, 2);
    let (name, id) = residents.remove(0);
    let good = agent_submission(&server, &name, &id, 5);
    assert_eq!(good.applied_by, sbk_counter::domain::AppliedBy::Agent);
    let refused = |sub: &Submission, key: &str| -> Vec<String> {
        let a = submit(&server, key, sub);
        assert_eq!(a.status, 422, "{}", a.body);
        a.error().errors.into_iter().map(|e| e.field).collect()
    };
    // The applicant as their own agent.
    let mut own = good.clone();
    own.agent.as_mut().unwrap().id_number = id.clone();
    assert_eq!(refused(&own, "agent-key-0001"), ["agent.id_number"]);
    // An agent under 18 on the day.
    let mut young = good.clone();
    let birth = Utc::now().date_naive() - chrono::Duration::days(365 * 17);
    let first17 = format!("110105{}123", birth.format("%Y%m%d"));
    young.agent.as_mut().unwrap().id_number = format!(
        "{first17}{}",
        sbk_counter::domain::id_number::check_character(&first17)
    );
    assert_eq!(refused(&young, "agent-key-0002"), ["agent.id_number"]);
    // No relation, and a relation the table does not have.
    let mut unrelated = good.clone();
    unrelated.agent.as_mut().unwrap().relation = String::new();
    assert_eq!(refused(&unrelated, "agent-key-0003"), ["agent.relation"]);
    unrelated.agent.as_mut().unwrap().relation = "neighbour".into();
    assert_eq!(refused(&unrelated, "agent-key-0004"), ["agent.relation"]);
    // A bad phone; the clerk's checks of the two cards.
    let mut unchecked = good.clone();
    unchecked.agent.as_mut().unwrap().mobile = "1391111".into();
    unchecked.consents.applicant_id_card_checked_at = None;
    let fields = refused(&unchecked, "agent-key-0005");
    assert!(fields.contains(&"agent.mobile".to_owned()), "{fields:?}");
    assert!(
        fields.contains(&"consents.applicant_id_card_checked_at".to_owned()),
        "{fields:?}"
    );
    // 代办 without an agent, an agent without 代办.
    let mut missing = good.clone();
    missing.agent = None;
    assert_eq!(refused(&missing, "agent-key-0006"), ["agent"]);
    let mut stray = good.clone();
    stray.applied_by = sbk_counter::domain::AppliedBy::Applicant;
    assert_eq!(refused(&stray, "agent-key-0007"), ["agent"]);
    // An unknown field in the agent is a malformed body.
    let mut body: Value = serde_json::to_value(&good).unwrap();
    body["agent"]["photos"] = json!({});
    let a = post(
        &server,
        "/v1/applications",
        Some("agent-key-0008"),
        &body.to_string(),
    );
    assert!(matches!(a.status, 400 | 422), "{}", a.body);
    assert_eq!(server.application_count(), 0, "nothing refused was stored");

    // The good one is accepted, and stored with its agent.
    let a = submit(&server, "agent-key-0009", &good);
    assert_eq!(a.status, 201, "{}", a.body);
    let conn = rusqlite::Connection::open(&server.db).unwrap();
    let body: String = conn
        .query_row("SELECT body FROM applications", [], |r| r.get(0))
        .unwrap();
    let stored: Submission = serde_json::from_str(&body).unwrap();
    assert_eq!(stored.agent, good.agent);

    // The registry answers the same whoever applies: the card checked by the clerk, brought
    // by the agent, counts as the in-person check.
    let (name, id) = residents.remove(0);
    let in_person = check(&server, &name, &id);
    let by_agent = json!({
        "name": name,
        "id_type": "resident_id",
        "id_number": id,
        "access_authorised_at": Utc::now(),
        "applicant_id_card_checked_at": Utc::now(),
    });
    let a = post(
        &server,
        "/v1/eligibility-checks",
        None,
        &by_agent.to_string(),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let by_agent: EligibilityAnswer = a.json();
    assert_eq!(by_agent.eligible, in_person.eligible);
    assert_eq!(by_agent.person, in_person.person);
    assert_eq!(by_agent.card_issuer, in_person.card_issuer);
    assert_eq!(by_agent.allowed_pickup, in_person.allowed_pickup);
}
