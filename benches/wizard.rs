//! The wizard's drawing and start-up: time to draw each screen at 200×60, and time from
//! opening a store of 100,000 applications to the first frame, beside a minimal ratatui
//! program drawing one paragraph (the floor). `SBK_BENCH_APPS` changes the store size.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use criterion::Criterion;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::widgets::Paragraph;
use sbk_counter::domain::PhotoSlot;
use sbk_counter::domain::synthetic::{Rng, application};
use sbk_counter::domain::{Application, PhotoRef, Step};
use sbk_counter::store::Store;
use sbk_counter::tui::app::App;
use sbk_counter::tui::wizard::Page;

mod common;

use common::operator;

fn complete(store: &Store) -> Application {
    let mut app: Application =
        serde_json::from_str(include_str!("../docs/application-example.json")).unwrap();
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

fn frame(term: &mut Terminal<TestBackend>, app: &mut App) {
    term.draw(|f| app.draw(f)).unwrap();
}

fn main() {
    let n: usize = std::env::var("SBK_BENCH_APPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::TempDir::new().unwrap();
    let data = dir.path().join("data");
    {
        let mut store = common::store(&data);
        let mut rng = Rng::new(4);
        let now = Utc::now();
        for start in (0..n).step_by(10_000) {
            let apps: Vec<Application> = (start..(start + 10_000).min(n))
                .map(|i| application(&mut rng, now, (n - i) as i64))
                .collect();
            store.create_batch(&apps, &operator()).unwrap();
        }
    }
    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(30)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(300));

    // The floor: a minimal ratatui program drawing one paragraph.
    let mut term = Terminal::new(TestBackend::new(200, 60)).unwrap();
    c.bench_function("draw: baseline one paragraph 200x60", |b| {
        b.iter(|| {
            term.draw(|f| f.render_widget(Paragraph::new("第三代社会保障卡"), f.area()))
                .unwrap();
        })
    });

    let session = common::session(&data, sbk_counter::keys::Kdf::FOR_TESTS);
    let mut app = App::new(session, dir.path().join("photos"));
    app.set_now(Utc.with_ymd_and_hms(2026, 11, 24, 2, 0, 0).unwrap());
    c.bench_function("draw: home, 100k applications, 200x60", |b| {
        b.iter(|| frame(&mut term, black_box(&mut app)))
    });
    let full = complete(&app.ctx.session.store);
    app.ctx.session.store.create(&full, &operator()).unwrap();
    for step in Step::ALL {
        app.open(full.clone(), Page::Step(step));
        c.bench_function(
            &format!("draw: step {} {:?} 200x60", step.number(), step),
            |b| b.iter(|| frame(&mut term, black_box(&mut app))),
        );
    }
    app.open(full.clone(), Page::Progress);
    c.bench_function("draw: progress 200x60", |b| {
        b.iter(|| frame(&mut term, black_box(&mut app)))
    });
    drop(app);

    // Start to first frame: open the store, build the app (home list and counts), draw.
    c.bench_function(&format!("start to first frame, {n} applications"), |b| {
        b.iter(|| {
            let session = common::session(&data, sbk_counter::keys::Kdf::FOR_TESTS);
            let mut app = App::new(session, dir.path().join("photos"));
            let mut term = Terminal::new(TestBackend::new(200, 60)).unwrap();
            term.draw(|f| app.draw(f)).unwrap();
        })
    });
    c.bench_function(
        "start to first frame: baseline minimal ratatui program",
        |b| {
            b.iter(|| {
                let mut term = Terminal::new(TestBackend::new(200, 60)).unwrap();
                term.draw(|f| f.render_widget(Paragraph::new("第三代社会保障卡"), f.area()))
                    .unwrap();
            })
        },
    );
    c.final_summary();

    // Median of single start-ups, for the table.
    let mut times: Vec<Duration> = (0..30)
        .map(|_| {
            let t = Instant::now();
            let session = common::session(&data, sbk_counter::keys::Kdf::FOR_TESTS);
            let mut app = App::new(session, dir.path().join("photos"));
            let mut term = Terminal::new(TestBackend::new(200, 60)).unwrap();
            term.draw(|f| app.draw(f)).unwrap();
            t.elapsed()
        })
        .collect();
    times.sort();
    println!(
        "\nstart to first frame with {n} applications: median {:?}, max {:?}",
        times[15], times[29]
    );
}
