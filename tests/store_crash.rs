//! Kill a process while it saves, at random moments, again and again; every time the
//! database must pass `PRAGMA integrity_check`, the application must load whole, and the
//! last save the child acknowledged must be there.
//!
//! The child is this same test binary, run with `--ignored --exact crash_child`.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::Utc;
use sbk_counter::domain::Application;
use sbk_counter::domain::PhotoSlot;
use sbk_counter::store::{Operator, Store};
use uuid::Uuid;

const APP_ID: &str = "0b7a3c1e-5f2d-4e8a-9c6b-1d2e3f4a5b6c";

fn clerk() -> Operator {
    Operator {
        id: "C001".into(),
        name: "李娜".into(),
    }
}

/// The counter a save wrote, read back from the address field.
fn counter(app: &Application) -> u64 {
    app.residence
        .address
        .trim_start_matches("建国路")
        .trim_end_matches('号')
        .parse()
        .unwrap_or(0)
}

/// The child: open the store, then save forever, printing `ack N` after each save returns.
#[test]
#[ignore = "run by crash_mid_save_loses_nothing_acknowledged as its child process"]
fn crash_child() {
    let Ok(path) = std::env::var("SBK_CRASH_DB") else {
        return;
    };
    let mut store = Store::open_keyed(
        std::path::Path::new(&path),
        Some(&common::signin::test_key()),
    )
    .unwrap();
    let id = Uuid::parse_str(APP_ID).unwrap();
    let mut app = match store.get(id) {
        Ok(app) => app,
        Err(_) => {
            let mut app = Application::new(Utc::now());
            app.id = id;
            store.create(&app, &clerk()).unwrap();
            app
        }
    };
    let mut n = counter(&app);
    loop {
        n += 1;
        app.residence.address = format!("建国路{n}号");
        app.applicant.name = if n.is_multiple_of(2) {
            "王秀英"
        } else {
            "王秀"
        }
        .into();
        if n.is_multiple_of(25) {
            // Now and then a photo too: a save that touches two tables and a foreign key.
            let sha = store
                .put_photo(
                    &n.to_le_bytes().repeat(4096),
                    PhotoSlot::CardPhoto,
                    "image/jpeg",
                    358,
                    441,
                )
                .unwrap();
            app.photos.card_photo = Some(sbk_counter::domain::PhotoRef {
                sha256: sha,
                source_name: None,
            });
        }
        store.save(&mut app).unwrap();
        println!("ack {n}");
    }
}

fn pseudo_random(range: std::ops::Range<u64>) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    range.start + (nanos.wrapping_mul(6364136223846793005) >> 17) % (range.end - range.start)
}

#[test]
fn crash_mid_save_loses_nothing_acknowledged() {
    let dir = tempfile::TempDir::new().unwrap();
    let db = dir.path().join("crash.sqlite3");
    let exe = std::env::current_exe().unwrap();
    let mut saves_seen = 0;
    for round in 0..8 {
        let mut child = Command::new(&exe)
            .args([
                "--ignored",
                "--exact",
                "crash_child",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env("SBK_CRASH_DB", &db)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(n) = line.strip_prefix("ack ") {
                    let _ = tx.send(n.parse::<u64>().unwrap());
                }
            }
        });
        // Let it save for a random while (at least one save), then kill it mid-flight.
        let first = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("child saves");
        let deadline = Instant::now() + Duration::from_millis(pseudo_random(5..120));
        let mut last = first;
        while Instant::now() < deadline {
            if let Ok(n) = rx.recv_timeout(Duration::from_millis(1)) {
                last = n;
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        reader.join().unwrap();
        while let Ok(n) = rx.try_recv() {
            last = n;
        }
        saves_seen += last - first + 1;

        let store = Store::open_keyed(&db, Some(&common::signin::test_key())).unwrap();
        assert!(
            store.integrity_ok().unwrap(),
            "round {round}: integrity_check"
        );
        let app = store.get(Uuid::parse_str(APP_ID).unwrap()).unwrap();
        let stored = counter(&app);
        assert!(
            stored >= last,
            "round {round}: acknowledged save {last} lost (store has {stored})"
        );
        // Whole, not half-written: the name matches the counter it was saved with.
        let expected_name = if stored.is_multiple_of(2) {
            "王秀英"
        } else {
            "王秀"
        };
        assert_eq!(app.applicant.name, expected_name, "round {round}");
        if let Some(p) = &app.photos.card_photo {
            assert!(
                store.has_photo(&p.sha256).unwrap(),
                "round {round}: dangling photo"
            );
        }
    }
    // Each round killed a child that was saving, not one that had not started.
    assert!(saves_seen >= 8, "only {saves_seen} saves observed");
    eprintln!("{saves_seen} acknowledged saves over 8 kills");
}
