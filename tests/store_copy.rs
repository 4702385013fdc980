//! `sbk store copy`: a helper's laptop brings its drafts to the centre's store (a data
//! directory here; the centre's PostgreSQL server when a test server is given), with the
//! outbox's idempotency keys, the operators and the audit chain; a second copy is refused
//! unless told how to merge.

mod common;

use assert_cmd::Command;
use sbk_counter::domain::synthetic::{Rng, application};
use sbk_counter::domain::{PhotoRef, PhotoSlot, Status};
use sbk_counter::store::Store;

fn laptop(dir: &std::path::Path) -> Vec<uuid::Uuid> {
    let mut store = common::signin::open_store(dir).unwrap();
    let op = common::signin::operator();
    let mut ids = Vec::new();
    for i in 0..3 {
        let mut app = application(&mut Rng::new(70 + i), chrono::Utc::now(), 0);
        app.status = Status::Draft;
        let jpeg = sbk_counter::photo::synthetic::card_photo_jpeg(i);
        let sha = store
            .put_photo(&jpeg, PhotoSlot::CardPhoto, "image/jpeg", 358, 441)
            .unwrap();
        app.photos.card_photo = Some(PhotoRef {
            sha256: sha,
            source_name: None,
        });
        store.create(&app, &op).unwrap();
        ids.push(app.id);
    }
    ids
}

fn copy(src: &std::path::Path, to: &str, merge: &str) -> (i32, String, String) {
    let out = Command::cargo_bin("sbk")
        .unwrap()
        .env("SBK_DATA_DIR", src)
        .env("SBK_CONFIG", src.join("config.toml"))
        .env_remove("SBK_STORE_URL")
        .args(common::signin::CLI_SIGN_IN)
        .args(["store", "copy", "--to", to, "--merge", merge])
        .write_stdin(format!("{}\n", common::signin::PASSWORD))
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn check(dst: &Store, ids: &[uuid::Uuid], src: &Store) {
    for id in ids {
        assert_eq!(dst.get(*id).unwrap(), src.get(*id).unwrap());
        assert_eq!(dst.history(*id).unwrap(), src.history(*id).unwrap());
        let card = src.get(*id).unwrap().photos.card_photo.unwrap().sha256;
        assert!(dst.has_photo(&card).unwrap());
    }
    assert!(dst.verify_audit().unwrap().broken.is_none());
}

#[test]
fn a_laptops_store_is_copied_into_a_new_data_directory_and_a_second_copy_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("laptop");
    let ids = laptop(&src);
    let s = common::signin::open_store(&src).unwrap();
    let dst = dir.path().join("centre");
    let (code, out, err) = copy(&src, dst.to_str().unwrap(), "refuse");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("申请 3 份") && out.contains("恢复密钥"),
        "{out}"
    );
    assert!(out.contains("审计记录完整"), "{out}");
    let centre = common::signin::open_store(&dst).unwrap();
    check(&centre, &ids, &s);
    let actions: Vec<String> = centre
        .audit_entries(None)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(actions.iter().any(|a| a == "store_copy"), "{actions:?}");
    // Again: everything is already there.
    let (code, _, err) = copy(&src, dst.to_str().unwrap(), "refuse");
    assert_eq!(code, 1);
    assert!(
        err.contains("已有 3 份相同的申请") && err.contains("--merge"),
        "{err}"
    );
    let (code, out, err) = copy(&src, dst.to_str().unwrap(), "skip");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("保留 3 份"), "{out}");
}

#[test]
fn a_laptops_store_goes_into_the_centres_server_with_its_outbox_keys() {
    let Some(_) = common::signin::pg_url() else {
        eprintln!("SBK_TEST_PG_URL is not set: not run on PostgreSQL");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("laptop");
    let ids = laptop(&src);
    let mut s = common::signin::open_store(&src).unwrap();
    // A complete application submitted offline on the laptop.
    let mut done: sbk_counter::domain::Application =
        serde_json::from_str(include_str!("../docs/application-example.json")).unwrap();
    done.id = uuid::Uuid::new_v4();
    done.status = Status::Draft;
    for (slot, kind) in [
        (&mut done.photos.card_photo, PhotoSlot::CardPhoto),
        (&mut done.photos.id_front, PhotoSlot::IdFront),
        (&mut done.photos.id_back, PhotoSlot::IdBack),
    ] {
        let sha = s
            .put_photo(kind.key().as_bytes(), kind, "image/jpeg", 358, 441)
            .unwrap();
        *slot = Some(PhotoRef {
            sha256: sha,
            source_name: None,
        });
    }
    s.create(&done, &common::signin::operator()).unwrap();
    let today = sbk_counter::domain::dates::beijing_date(chrono::Utc::now());
    let key = s
        .submit(done.id, &common::signin::operator(), today)
        .unwrap();
    // A new database on the test server.
    let name = format!("sbk_copy_{}", uuid::Uuid::new_v4().simple());
    let base = common::signin::pg_url().unwrap();
    postgres::Client::connect(&base, postgres::NoTls)
        .unwrap()
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let url = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
    let (code, out, err) = copy(&src, &url, "refuse");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("申请 4 份") && out.contains("审计记录完整"),
        "{out}"
    );
    let server = sbk_counter::store::server::Server {
        url: url.clone(),
        ca_file: None,
        window: "3号窗口".into(),
    };
    let centre = Store::open_server(&server).unwrap();
    let mut all = ids.clone();
    all.push(done.id);
    check(&centre, &all, &s);
    let entry = centre.due_outbox(None, 10).unwrap();
    assert_eq!(entry.len(), 1);
    assert_eq!(
        entry[0].idempotency_key, key,
        "delivered once, whichever store sends it"
    );
    // The supervisor signs in at the centre with the same password.
    drop(centre);
    let session = sbk_counter::access::sign_in(
        sbk_counter::access::Location::Server(server),
        common::signin::OPERATOR,
        &sbk_counter::keys::Password::new(common::signin::PASSWORD),
        Default::default(),
        chrono::Utc::now(),
        "test",
    )
    .unwrap();
    assert!(session.account.is_supervisor());
}
