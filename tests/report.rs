//! The supervisor's day against a store built with known histories, on SQLite and on the
//! PostgreSQL test server; its workbook read back with calamine; `sbk report day` run.

mod common;

use std::time::Duration;

use chrono::{Duration as Days, Utc};
use sbk_counter::domain::synthetic::{Rng, application};
use sbk_counter::domain::{Application, PhotoRef, PhotoSlot, ReturnNote, Status};
use sbk_counter::report::{Period, StuckKind, day_report};
use sbk_counter::store::db::{Sql, ToValue};
use sbk_counter::store::{Operator, ProgressStep, Store};

fn li_na() -> Operator {
    Operator {
        id: "C001".into(),
        name: "李娜".into(),
    }
}

fn zhang_wei() -> Operator {
    Operator {
        id: "C002".into(),
        name: "张伟".into(),
    }
}

/// A complete application, its photos in the store, started by `by`.
fn start(store: &mut Store, rng: &mut Rng, by: &Operator) -> Application {
    let mut app = application(rng, Utc::now(), 0);
    app.status = Status::Draft;
    for kind in PhotoSlot::APPLICANT {
        let bytes = format!("{kind:?} of {}", app.id).into_bytes();
        let sha = store.put_photo(&bytes, kind, "image/jpeg", 0, 0).unwrap();
        *app.photo_mut(kind) = Some(PhotoRef {
            sha256: sha,
            source_name: None,
        });
    }
    app.card_issuer = Some(sbk_counter::domain::CardIssuer {
        bank_code: "102".into(),
        bank_name: "中国工商银行".into(),
        branch_code: "102110105001".into(),
        branch_name: "中国工商银行北京朝阳区支行".into(),
    });
    app.consents.declaration_agreed_at = Some(Utc::now());
    store.create(&app, by).unwrap();
    app
}

fn submit(store: &mut Store, app: &Application, by: &Operator) {
    let today = sbk_counter::domain::dates::beijing_date(Utc::now());
    store.submit(app.id, by, today).unwrap();
}

/// Delivered as `number` by the worker (who acts as the clerk who runs it).
fn deliver(store: &mut Store, number: &str) {
    let claim = store
        .claim_next("test", Utc::now(), Duration::from_secs(60), true, &[])
        .unwrap()
        .unwrap();
    store.outbox_delivered(&claim, number, &li_na()).unwrap();
}

fn progress(store: &mut Store, app: &Application, number: &str, to: Status, reason: Option<&str>) {
    let step = ProgressStep {
        to,
        at: Utc::now(),
        note: reason.map(str::to_owned),
        returned: reason.map(|r| ReturnNote {
            at: Utc::now(),
            reason: r.into(),
            fields: vec![],
        }),
    };
    store
        .apply_progress(app.id, number, step, &li_na())
        .unwrap();
}

/// Move an application's last change back by `days` (as if it had waited that long).
fn age(store: &Store, app: &Application, by: Days) {
    let at = (Utc::now() - by).timestamp_millis();
    store
        .sql()
        .execute(
            "UPDATE applications SET updated_at = ?1 WHERE id = ?2",
            &[at.to_value(), app.id.to_value()],
        )
        .unwrap();
}

on_both_backends! {
#[test]
fn a_day_with_known_histories_is_counted_per_operator_with_what_is_stuck() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = common::signin::open_store(dir.path()).unwrap();
    let mut rng = Rng::new(31);
    // 李娜 starts three, submits two: one goes all the way to 已受理, one stays queued.
    let a1 = start(&mut store, &mut rng, &li_na());
    let a2 = start(&mut store, &mut rng, &li_na());
    let a3 = start(&mut store, &mut rng, &li_na());
    submit(&mut store, &a1, &li_na());
    deliver(&mut store, "SQ0000000000000001");
    progress(&mut store, &a1, "SQ0000000000000001", Status::Accepted, None);
    // 张伟 starts two: one is submitted, withdrawn and submitted again, then delivered
    // and returned for its photo; the other is left as a draft.
    let b1 = start(&mut store, &mut rng, &zhang_wei());
    let b2 = start(&mut store, &mut rng, &zhang_wei());
    submit(&mut store, &b1, &zhang_wei());
    store.withdraw(b1.id, &zhang_wei()).unwrap();
    submit(&mut store, &b1, &zhang_wei());
    deliver(&mut store, "SQ0000000000000002");
    progress(
        &mut store,
        &b1,
        "SQ0000000000000002",
        Status::Returned,
        Some("制卡照片审核未通过：背景不是纯白色"),
    );
    // 李娜's second stays queued.
    submit(&mut store, &a2, &li_na());

    let today = sbk_counter::domain::dates::beijing_date(Utc::now());
    let now = Utc::now();
    let r = day_report(&store, Period::day(today), None, false, now).unwrap();
    let row = |id: &str| r.operators.iter().find(|o| o.operator_id == id).unwrap().counts;
    let c1 = row("C001");
    assert_eq!(
        (c1.started, c1.submitted, c1.delivered, c1.accepted, c1.returned, c1.withdrawn),
        (3, 2, 1, 1, 0, 0),
        "{r:#?}"
    );
    let c2 = row("C002");
    assert_eq!(
        (c2.started, c2.submitted, c2.delivered, c2.accepted, c2.returned, c2.withdrawn),
        (2, 2, 1, 0, 1, 1),
        "{r:#?}"
    );
    assert_eq!(r.operators[1].operator_name, "张伟");
    assert_eq!(r.total.started, 5);
    assert_eq!(r.total.submitted, 4);
    assert_eq!(r.returned_reasons, vec![("制卡照片审核未通过".to_owned(), 1)]);
    // Nothing is stuck yet: everything happened a moment ago.
    assert!(r.stuck.is_empty(), "{:#?}", r.stuck);

    // Time passes: a2 queued for two hours, b2 a draft for eight days, b1 returned four.
    age(&store, &a2, Days::hours(2));
    age(&store, &b2, Days::days(8));
    age(&store, &b1, Days::days(4));
    // a3, touched yesterday, is not stuck yet.
    age(&store, &a3, Days::days(1));
    store
        .sql()
        .execute(
            "UPDATE outbox SET attempts = 5, last_error = ?1 WHERE application_id = ?2",
            &["连接社保卡系统失败：连接被拒绝".to_value(), a2.id.to_value()],
        )
        .unwrap();
    let r = day_report(&store, Period::day(today), None, false, now).unwrap();
    let kinds: Vec<(StuckKind, uuid::Uuid)> = r.stuck.iter().map(|s| (s.kind, s.id)).collect();
    assert_eq!(
        kinds,
        vec![
            (StuckKind::QueuedOverAnHour, a2.id),
            (StuckKind::DraftUntouched, b2.id),
            (StuckKind::ReturnedNotCorrected, b1.id),
            (StuckKind::DeliveryFailing, a2.id),
        ]
    );
    assert_eq!(
        r.stuck_totals,
        vec![
            (StuckKind::QueuedOverAnHour, 1),
            (StuckKind::DraftUntouched, 1),
            (StuckKind::ReturnedNotCorrected, 1),
            (StuckKind::DeliveryFailing, 1),
        ]
    );
    let failing = &r.stuck[3];
    assert_eq!(failing.operator_name, "李娜");
    assert_eq!(failing.detail.as_deref(), Some("连接社保卡系统失败：连接被拒绝"));
    // Masked unless revealed, like every list.
    assert!(failing.id_number.contains('*'));
    let revealed = day_report(&store, Period::day(today), None, true, now).unwrap();
    assert_eq!(revealed.stuck[3].id_number, a2.applicant.id_number);

    // One operator's: only theirs.
    let r2 = day_report(&store, Period::day(today), Some("C002"), false, now).unwrap();
    assert_eq!(r2.operators.len(), 1);
    assert_eq!(r2.total, c2);
    assert!(r2.stuck.iter().all(|s| s.operator_id == "C002"));
    assert_eq!(r2.stuck.len(), 2);
    // Yesterday: nothing was done.
    let y = day_report(&store, Period::day(today - Days::days(1)), None, false, now).unwrap();
    assert!(y.operators.is_empty());
    assert_eq!(y.total, Default::default());
    // A week up to today: the same as today.
    let week = Period { from: today - Days::days(6), to: today };
    assert_eq!(day_report(&store, week, None, false, now).unwrap().total, r.total);

    // The workbook reads back with the same figures, ID numbers as masked text.
    let bytes = sbk_counter::report::xlsx::workbook(&r).unwrap();
    let path = dir.path().join("day.xlsx");
    std::fs::write(&path, bytes).unwrap();
    use calamine::{Data, Reader, Xlsx, open_workbook};
    let mut book: Xlsx<_> = open_workbook(&path).unwrap();
    let sheet = book.worksheet_range("汇总").unwrap();
    let cell = |row: u32, col: u32| sheet.get_value((row, col)).cloned().unwrap_or(Data::Empty);
    assert_eq!(cell(3, 0), Data::String("C001".into()));
    assert_eq!(cell(3, 2), Data::Float(3.0));
    assert_eq!(cell(5, 0), Data::String("合计".into()));
    assert_eq!(cell(5, 3), Data::Float(4.0));
    let stuck = book.worksheet_range("待处理").unwrap();
    let id_cell = stuck.get_value((1, 3)).cloned().unwrap();
    assert!(
        matches!(&id_cell, Data::String(s) if s.contains("********")),
        "{id_cell:?}"
    );
    // CSV guards formulas; the table names the kinds.
    let csv = String::from_utf8(sbk_counter::report::csv(&r).unwrap()).unwrap();
    assert!(csv.contains("C002,张伟,2,2,1,0,1,1"), "{csv}");
    let table = sbk_counter::report::table(&r);
    assert!(table.contains("草稿 7 天未动：1 件"), "{table}");
}
}

#[test]
fn sbk_report_day_is_a_supervisors_and_saves_a_workbook_privately() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    common::signin::ensure_setup(&data);
    {
        let mut store = common::signin::open_store(&data).unwrap();
        let mut rng = Rng::new(32);
        let app = start(&mut store, &mut rng, &common::signin::operator());
        submit(&mut store, &app, &common::signin::operator());
    }
    let config = dir.path().join("config.toml");
    let run = |args: &[&str]| {
        common::signin::outcome(common::signin::sbk_signed_in(&data, &config).args(args))
    };
    let (code, out, err) = run(&["report", "day", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["total"]["started"], 1);
    assert_eq!(v["total"]["submitted"], 1);
    let (code, out, _) = run(&["report", "day"]);
    assert_eq!(code, 0);
    assert!(out.contains("合计") && out.contains("工号"), "{out}");
    let (code, _, err) = run(&["report", "day", "--format", "xlsx"]);
    assert_eq!(code, 1);
    assert!(err.contains("-o"), "{err}");
    let file = dir.path().join("day.xlsx");
    let (code, _, err) = run(&[
        "report",
        "day",
        "--format",
        "xlsx",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::read(&file).unwrap().starts_with(b"PK"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // A clerk is refused.
    {
        let mut boss = common::signin::session(&data);
        boss.add_operator(
            &sbk_counter::access::NewOperator {
                id: "C009".into(),
                name: "王强".into(),
                role: sbk_counter::store::Role::Clerk,
                password: sbk_counter::keys::Password::new("clerk-pass-9"),
            },
            8,
        )
        .unwrap();
    }
    let out = assert_cmd::Command::cargo_bin("sbk")
        .unwrap()
        .env("SBK_DATA_DIR", &data)
        .env("SBK_CONFIG", dir.path().join("config.toml"))
        .args(["--operator", "C009", "--password-stdin", "report", "day"])
        .write_stdin("clerk-pass-9\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("只有负责人"));
}
