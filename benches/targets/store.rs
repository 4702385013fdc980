//! One field save beside a bare rusqlite UPDATE of the same row on the same connection, and
//! searches by each key beside a bare scan of every row, over 100,000 applications.

use std::hint::black_box;

use rusqlite::params;
use sbk_counter::domain::Application;
use sbk_counter::store::Store;

use crate::measure::{Row, interleaved};

pub fn save(store: &mut Store, sample: &[Application], label: &str, rounds: usize) -> Row {
    let mut app = sample[sample.len() / 2].clone();
    let id = app.id.to_string();
    // The floor writes a changing body too (an unchanged value writes no page).
    let mut body = serde_json::to_string(&app).unwrap();
    let store = std::cell::RefCell::new(store);
    let (s, b) = interleaved(
        50,
        rounds,
        |k| {
            app.residence.address = format!("复兴路{}号", k % 300);
            store.borrow_mut().save(&mut app).unwrap();
        },
        |k| {
            if k % 2 == 0 {
                body.push(' ');
            } else {
                body.pop();
            }
            // Through the store's own connection: same file, pragmas and cache.
            store
                .borrow()
                .connection()
                .prepare_cached("UPDATE applications SET body = ?1 WHERE id = ?2")
                .unwrap()
                .execute(params![body, id])
                .unwrap();
        },
    );
    Row::timed(
        "Store",
        &format!("save one field{label}"),
        s,
        Some(("bare rusqlite UPDATE of the row", b)),
    )
    .ratio_at_most(2.0)
}

pub fn searches(store: &Store, sample: &[Application], label: &str, rounds: usize) -> Vec<Row> {
    let target = &sample[sample.len() / 3];
    let name = target.applicant.name.clone();
    let id = target.applicant.id_number.clone();
    let initials = sbk_counter::store::search::name_keys(&name).initials;
    let queries = [
        ("name", name.clone()),
        ("commonest surname 王", "王".to_owned()),
        ("pinyin initials", initials),
        ("ID number last 4", id[id.len() - 4..].to_owned()),
        ("ID number last 6", id[id.len() - 6..].to_owned()),
    ];
    let scan_for = format!("%{}%", &id[id.len() - 4..]);
    let mut rows = Vec::new();
    for (what, q) in queries {
        let (s, b) = interleaved(
            10,
            rounds,
            |_| {
                let hits = store.search(&q, 50).unwrap();
                assert!(!hits.is_empty(), "search {what} found nothing");
                black_box(hits);
            },
            |_| {
                let n: i64 = store
                    .connection()
                    .prepare_cached("SELECT count(*) FROM applications WHERE body LIKE ?1")
                    .unwrap()
                    .query_row([&scan_for], |r| r.get(0))
                    .unwrap();
                black_box(n);
            },
        );
        rows.push(
            Row::timed(
                "Store",
                &format!("search: {what}{label}"),
                s,
                Some(("bare scan of every row (LIKE)", b)),
            )
            .p99_within_ms(10.0),
        );
    }
    rows
}

/// What encryption at rest costs: the same operations on the encrypted store and on a
/// plain SQLite file of the same applications, interleaved. Reported beside each other;
/// the target is on opening (a sign-in pays it) and on the save a keystroke pays.
pub fn encryption_cost(
    encrypted: (&std::path::Path, &sbk_counter::keys::DataKey),
    plain: &std::path::Path,
    sample: &[Application],
    rounds: usize,
) -> Vec<Row> {
    let (dir, key) = encrypted;
    let (s, b) = interleaved(
        2,
        rounds.min(60),
        |_| {
            let store = Store::open_dir(dir, key).unwrap();
            black_box(store.list(None, 50, 0).unwrap());
        },
        |_| {
            let store = Store::open_plain(plain).unwrap();
            black_box(store.list(None, 50, 0).unwrap());
        },
    );
    let open = Row::timed(
        "Store",
        "open the store + home list, encrypted (SQLCipher)",
        s,
        Some(("the same on a plain SQLite file", b)),
    )
    .ratio_at_most(2.0);
    let mut enc = Store::open_dir(dir, key).unwrap();
    let mut pla = Store::open_plain(plain).unwrap();
    let mut a = sample[sample.len() / 2].clone();
    let mut p = a.clone();
    let (s, b) = interleaved(
        50,
        rounds,
        |k| {
            a.residence.address = format!("复兴路{}号", k % 300);
            enc.save(&mut a).unwrap();
        },
        |k| {
            p.residence.address = format!("复兴路{}号", k % 300);
            pla.save(&mut p).unwrap();
        },
    );
    let save = Row::timed(
        "Store",
        "save: one field, encrypted (SQLCipher)",
        s,
        Some(("the same save on a plain SQLite file", b)),
    )
    .ratio_at_most(2.0);
    vec![open, save]
}
