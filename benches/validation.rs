//! Validation runs on every keystroke: measure a whole-application validation and a
//! single ID parse, beside a baseline of cloning the application (the cheapest thing the
//! wizard does with it per frame).

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use sbk_counter::domain::{IdNumber, validate};
use std::hint::black_box;

fn complete_application() -> sbk_counter::domain::Application {
    let json = include_str!("../docs/application-example.json");
    serde_json::from_str(json).expect("the documented example parses")
}

fn bench(c: &mut Criterion) {
    let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    let app = complete_application();
    c.bench_function("baseline: clone application", |b| {
        b.iter(|| black_box(app.clone()))
    });
    c.bench_function("validate whole application", |b| {
        b.iter(|| black_box(validate(black_box(&app), today)))
    });
    c.bench_function("parse resident ID", |b| {
        b.iter(|| black_box(IdNumber::parse(black_box("11010519491231002X"), today)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
