//! `sbk drafts export`: every application (of a status) as JSON Lines or CSV, masked
//! unless revealed; the export is audited.

use std::io::Write;
use std::path::PathBuf;

use super::{Format, masked_json};
use crate::cli::Failure;
use crate::domain::interchange::{CSV_COLUMNS, csv_row};
use crate::domain::{Application, Status};
use crate::store::{AuditAction, Operator, Store};

pub(super) fn export(
    store: &Store,
    op: &Operator,
    status: Option<Status>,
    format: Format,
    output: Option<PathBuf>,
    reveal: bool,
) -> Result<(), Failure> {
    // Written down before the first byte goes out, so that an export cut short (piped into
    // head, stopped with Ctrl-C) is on record all the same; its end is recorded after.
    let what = format!(
        "format={format:?} status={} reveal={reveal}",
        status.map_or("all", Status::key)
    )
    .to_lowercase();
    store.audit(
        op,
        AuditAction::Export,
        None,
        Some(&format!("started {what}")),
    )?;
    let out: Box<dyn Write> = match &output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .map_err(|e| Failure::Message(format!("无法创建 {}：{e}", path.display())))?;
            crate::store::restrict_to_owner(path)?;
            Box::new(std::io::BufWriter::new(file))
        }
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let csv_err = |e: csv::Error| Failure::Message(format!("写出 CSV 失败：{e}"));
    let count = match format {
        Format::Jsonl => {
            let mut out = out;
            let n = for_each_application(store, status, reveal, |app| {
                writeln!(out, "{}", serde_json::to_string(app)?)?;
                Ok(())
            })?;
            out.flush()?;
            n
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(CSV_COLUMNS).map_err(csv_err)?;
            let n = for_each_application(store, status, reveal, |app| {
                w.write_record(csv_row(app)).map_err(csv_err)
            })?;
            w.flush()?;
            n
        }
    };
    let detail = format!("finished {what} count={count}");
    store.audit(op, AuditAction::Export, None, Some(&detail))?;
    if let Some(path) = output {
        eprintln!("已导出 {count} 条到 {}。", path.display());
    }
    Ok(())
}

/// Call `f` on every application of `status` (all if `None`), masked unless `reveal`,
/// a page at a time so memory stays flat however large the store; returns the count.
fn for_each_application(
    store: &Store,
    status: Option<Status>,
    reveal: bool,
    mut f: impl FnMut(&Application) -> Result<(), Failure>,
) -> Result<usize, Failure> {
    const PAGE: usize = 500;
    let mut count = 0;
    loop {
        let rows = store.list(status, PAGE, count)?;
        for s in &rows {
            let app = store.get(s.id)?;
            if reveal {
                f(&app)?;
            } else {
                f(&serde_json::from_value(masked_json(&app)?)?)?;
            }
        }
        count += rows.len();
        if rows.len() < PAGE {
            return Ok(count);
        }
    }
}
