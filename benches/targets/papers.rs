//! The papers: one 受理单 (PDF with photo, QR code and barcode) beside the floor of the
//! same PDF library setting one line in the same font; and the supervisor's day over the
//! seeded store beside one bare count of the day's history on the same connection.

use std::hint::black_box;
use std::sync::Arc;

use chrono::Utc;
use sbk_counter::domain::{Application, Status};
use sbk_counter::receipt::{CjkFont, Paper, Receipt, render};
use sbk_counter::report::{Period, day_report};
use sbk_counter::store::Store;

use crate::measure::{Row, interleaved};

pub fn receipt(sample: &[Application], rounds: usize) -> Option<Row> {
    let font = match CjkFont::find(None) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("no CJK font: the receipt is not measured ({e})");
            return None;
        }
    };
    let mut app = sample[0].clone();
    app.status = Status::Queued;
    let photo = sbk_counter::photo::synthetic::card_photo_jpeg(3);
    let (s, b) = interleaved(
        5,
        rounds,
        |_| {
            let r = Receipt::for_application(
                &app,
                "朝阳区建外街道社区服务站",
                "3号窗口",
                "李娜（C001）",
                Utc::now(),
                Some(photo.clone()),
            );
            black_box(render(&r, &font, Paper::A4).unwrap());
        },
        |_| {
            let f = krilla::text::Font::new(Arc::clone(&font.data).into(), font.index).unwrap();
            let mut doc = krilla::Document::new();
            let mut page =
                doc.start_page_with(krilla::page::PageSettings::from_wh(595.0, 842.0).unwrap());
            let mut surface = page.surface();
            surface.draw_text(
                krilla::geom::Point::from_xy(50.0, 70.0),
                f,
                20.0,
                "北京市第三代社会保障卡申领受理单",
                false,
                krilla::text::TextDirection::Auto,
            );
            surface.finish();
            page.finish();
            black_box(doc.finish().unwrap());
        },
    );
    Some(
        Row::timed(
            "Papers",
            "受理单 PDF (photo, QR, Code 128, fonts subset)",
            s,
            Some(("krilla: one line of the title, same font", b)),
        )
        .median_within_ms(100.0),
    )
}

pub fn day(store: &Store, apps: usize, rounds: usize) -> Row {
    let today = sbk_counter::domain::dates::beijing_date(Utc::now());
    let (start, end) = {
        let r = day_report(store, Period::day(today), None, false, Utc::now()).unwrap();
        eprintln!(
            "day report: {} operators, {} stuck listed of {}",
            r.operators.len(),
            r.stuck.len(),
            r.stuck_totals.iter().map(|(_, n)| n).sum::<usize>()
        );
        let now = Utc::now().timestamp_millis();
        (now - 86_400_000, now + 1)
    };
    let (s, b) = interleaved(
        2,
        rounds,
        |_| {
            black_box(day_report(store, Period::day(today), None, false, Utc::now()).unwrap());
        },
        |_| {
            let n: i64 = store
                .connection()
                .prepare_cached("SELECT count(*) FROM status_history WHERE at >= ?1 AND at < ?2")
                .unwrap()
                .query_row(rusqlite::params![start, end], |r| r.get(0))
                .unwrap();
            black_box(n);
        },
    );
    Row::timed(
        "Papers",
        &format!("supervisor's day over {apps} applications"),
        s,
        Some(("bare count of the day's history", b)),
    )
    .median_within_ms(200.0)
}
