//! Two windows on one store (a centre's PostgreSQL server, or two wizards on one file): a
//! draft open at one window is read-only at the other, which can take it over (audited);
//! the first then stops editing; a save from a stale copy never overwrites a newer one.

mod common;

use crossterm::event::KeyCode;
use sbk_counter::domain::synthetic::{Rng, application};
use sbk_counter::domain::{Status, Step};
use sbk_counter::store::StoreError;

use common::ui::Ui;

on_both_backends! {
    #[test]
    fn a_draft_open_at_one_window_is_read_only_at_another_until_taken_over() {
        let mut first = Ui::new();
        let mut app = application(&mut Rng::new(8), chrono::Utc::now(), 0);
        app.status = Status::Draft;
        first.open_on(&app, Step::Applicant);
        let mut second = first.another_window();
        second.open_application(app.id);
        let screen = second.screen();
        assert!(screen.contains("正在由 李娜"), "{screen}");
        assert!(screen.contains("此处只读"), "{screen}");
        // Typing changes nothing there, and says why.
        second.type_text("X");
        assert!(second.screen().contains("按 Ctrl-T 接手"));
        assert_eq!(second.store().get(app.id).unwrap().applicant.name, app.applicant.name);
        // The first types on.
        first.key(KeyCode::End);
        first.type_text("甲");
        let typed = format!("{}甲", app.applicant.name);
        assert_eq!(first.store().get(app.id).unwrap().applicant.name, typed);
        // The second takes it over: it now edits, with what the first had typed.
        second.ctrl('t');
        let screen = second.screen();
        assert!(screen.contains("已接手这份草稿"), "{screen}");
        assert!(screen.contains(&typed), "{screen}");
        second.key(KeyCode::End);
        second.type_text("乙");
        // The first finds out at its next heartbeat and stops editing.
        first.heartbeat();
        let screen = first.screen();
        assert!(screen.contains("已被接手"), "{screen}");
        first.type_text("丙");
        let saved = first.store().get(app.id).unwrap();
        assert_eq!(saved.applicant.name, format!("{typed}乙"));
        let takeovers = first
            .store()
            .audit_entries(Some(app.id))
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "take_over")
            .count();
        assert_eq!(takeovers, 1);
    }

    #[test]
    fn a_save_from_a_stale_copy_is_refused_not_written_over_a_newer_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = common::signin::open_store(dir.path()).unwrap();
        let mut b = common::signin::open_store(dir.path()).unwrap();
        let mut app = application(&mut Rng::new(9), chrono::Utc::now(), 0);
        app.status = Status::Draft;
        a.create(&app, &common::signin::operator()).unwrap();
        let mut here = a.get(app.id).unwrap();
        let mut there = b.get(app.id).unwrap();
        here.residence.address = "一号".into();
        a.save(&mut here).unwrap();
        there.residence.address = "二号".into();
        assert!(matches!(b.save(&mut there), Err(StoreError::NewerVersion)));
        assert_eq!(a.get(app.id).unwrap().residence.address, "一号");
        // Loaded again, it saves.
        let mut fresh = b.get(app.id).unwrap();
        fresh.residence.address = "二号".into();
        b.save(&mut fresh).unwrap();
        assert_eq!(a.get(app.id).unwrap().residence.address, "二号");
    }

    #[test]
    fn a_lease_left_by_a_window_that_died_runs_out() {
        let dir = tempfile::tempdir().unwrap();
        let store = common::signin::open_store(dir.path()).unwrap();
        let mut app = application(&mut Rng::new(10), chrono::Utc::now(), 0);
        app.status = Status::Draft;
        let mut s = store;
        s.create(&app, &common::signin::operator()).unwrap();
        let op = common::signin::operator();
        let short = std::time::Duration::from_millis(200);
        assert!(matches!(
            s.take_draft(app.id, &op, short, false).unwrap(),
            sbk_counter::store::Taken::Granted(_)
        ));
        let other = common::signin::open_store(dir.path()).unwrap();
        assert!(matches!(
            other.take_draft(app.id, &op, short, false).unwrap(),
            sbk_counter::store::Taken::HeldBy(_)
        ));
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert!(matches!(
            other.take_draft(app.id, &op, short, false).unwrap(),
            sbk_counter::store::Taken::Granted(_)
        ));
    }
}

on_both_backends! {
    #[test]
    fn the_home_screen_follows_what_other_windows_do() {
        let mut first = Ui::new();
        first.follow_store();
        let second = first.another_window();
        let mut app = application(&mut Rng::new(11), chrono::Utc::now(), 0);
        app.status = Status::Draft;
        app.applicant.name = "欧阳秀英".into();
        second
            .store()
            .create(&app, &common::signin::operator())
            .unwrap();
        // No key pressed at the first window: it shows the new application by itself.
        first.wait_for("欧阳秀英");
        assert!(first.screen().contains("共 1 件"));
    }
}

on_both_backends! {
    #[test]
    fn the_audit_chain_stays_one_chain_under_many_writers() {
        let dir = tempfile::tempdir().unwrap();
        let before = common::signin::open_store(dir.path())
            .unwrap()
            .verify_audit()
            .unwrap()
            .entries;
        let threads: Vec<_> = (0..6)
            .map(|t| {
                let store = common::signin::open_store(dir.path()).unwrap();
                std::thread::spawn(move || {
                    let mut store = store;
                    let op = common::signin::operator();
                    for i in 0..15 {
                        if i % 3 == 0 {
                            let mut app = application(&mut Rng::new(t * 100 + i), chrono::Utc::now(), 0);
                            app.status = Status::Draft;
                            store.create(&app, &op).unwrap();
                        } else {
                            store
                                .audit(&op, sbk_counter::store::AuditAction::View, None, Some("x"))
                                .unwrap();
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let report = common::signin::open_store(dir.path())
            .unwrap()
            .verify_audit()
            .unwrap();
        assert_eq!(report.broken, None);
        assert_eq!(report.entries, before + 6 * 15);
    }
}
