//! Draw time of each wizard screen at 200×60 (ratatui's TestBackend, so the terminal's own
//! speed is not measured), beside one paragraph drawn on the same backend.

use std::hint::black_box;
use std::path::Path;

use chrono::{TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::widgets::Paragraph;
use sbk_counter::domain::PhotoSlot;
use sbk_counter::domain::{Application, PhotoRef, Step};
use sbk_counter::store::Store;
use sbk_counter::tui::app::App;
use sbk_counter::tui::wizard::Page;

use crate::measure::{Row, interleaved};

/// A complete application with (tiny) photos, so that every screen has all it can show.
fn complete(store: &Store) -> Application {
    let mut app: Application =
        serde_json::from_str(include_str!("../../docs/application-example.json")).unwrap();
    for (slot, kind) in [
        (&mut app.photos.card_photo, PhotoSlot::CardPhoto),
        (&mut app.photos.id_front, PhotoSlot::IdFront),
        (&mut app.photos.id_back, PhotoSlot::IdBack),
    ] {
        let sha = store
            .put_photo(kind.key().as_bytes(), kind, "image/jpeg", 358, 441)
            .unwrap();
        *slot = Some(PhotoRef {
            sha256: sha,
            source_name: None,
        });
    }
    app
}

pub fn draws(data: &Path, photos: &Path, apps: usize, rounds: usize) -> Vec<Row> {
    let session = crate::common::session(data, sbk_counter::keys::Kdf::FOR_TESTS);
    let mut app = App::new(session, photos.to_owned());
    app.set_now(Utc.with_ymd_and_hms(2026, 11, 24, 2, 0, 0).unwrap());
    let full = complete(&app.ctx.session.store);
    let mut pages: Vec<(String, Option<Page>)> = vec![(format!("home, {apps} applications"), None)];
    for step in Step::ALL {
        pages.push((
            format!("step {} {}", step.number(), step.title()),
            Some(Page::Step(step)),
        ));
    }
    pages.push(("progress (办事进度)".into(), Some(Page::Progress)));

    let mut term = Terminal::new(TestBackend::new(200, 60)).unwrap();
    let mut floor = Terminal::new(TestBackend::new(200, 60)).unwrap();
    let mut rows = Vec::new();
    for (label, page) in pages {
        if let Some(page) = page {
            app.open(full.clone(), page);
        }
        let (s, b) = interleaved(
            20,
            rounds,
            |_| {
                term.draw(|f| black_box(&mut app).draw(f)).unwrap();
            },
            |_| {
                floor
                    .draw(|f| f.render_widget(Paragraph::new("第三代社会保障卡"), f.area()))
                    .unwrap();
            },
        );
        rows.push(
            Row::timed(
                "Screens",
                &format!("draw: {label}"),
                s,
                Some(("one paragraph, same backend", b)),
            )
            .p99_within_ms(2.0),
        );
    }
    rows
}
