//! `sbk drafts import FILE`: applications from another system (or another counter) become
//! drafts here. JSON Lines (any part of the model's shape a line) or CSV (the columns
//! `drafts export --format csv` writes, any subset). Only the person's data are needed;
//! each bad line is reported by its number and skipped, the good ones are kept.

use std::io::{BufRead, Read};
use std::path::Path;
use std::process::ExitCode;

use chrono::Utc;

use super::Format;
use crate::cli::{EXIT_INVALID, Failure};
use crate::domain::interchange::{Imported, draft_from_csv, draft_from_json};
use crate::store::{Operator, Store};

/// The largest import file read (a few hundred thousand applications).
const MAX_IMPORT_BYTES: u64 = 256 * 1024 * 1024;

pub(super) fn import(
    store: &mut Store,
    op: &Operator,
    file: &Path,
    format: Option<Format>,
) -> Result<ExitCode, Failure> {
    let format = format.unwrap_or_else(|| {
        let csv = file
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        if csv { Format::Csv } else { Format::Jsonl }
    });
    let reader = open_regular(file)?;
    let mut tally = Tally::default();
    match format {
        Format::Jsonl => {
            for (i, line) in reader.lines().enumerate() {
                let n = i + 1;
                match line {
                    Ok(l) if l.trim().is_empty() => {}
                    Ok(l) => tally.take(store, op, n, draft_from_json(&l, Utc::now()))?,
                    Err(e) => tally.skip(n, &format!("无法读取（{e}）")),
                }
            }
        }
        Format::Csv => {
            let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
            let header: Vec<String> = csv
                .headers()
                .map_err(|e| Failure::Message(format!("CSV 表头无法读取：{e}")))?
                .iter()
                .map(str::to_owned)
                .collect();
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            for (i, record) in csv.records().enumerate() {
                // Line numbers count the header, as a spreadsheet shows them.
                let n = i + 2;
                match record {
                    Ok(r) => {
                        let cells: Vec<&str> = r.iter().collect();
                        tally.take(store, op, n, draft_from_csv(&header, &cells, Utc::now()))?
                    }
                    Err(e) => tally.skip(n, &format!("无法读取（{e}）")),
                }
            }
        }
    }
    println!("导入 {} 条，跳过 {} 条。", tally.imported, tally.skipped);
    Ok(if tally.skipped == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_INVALID)
    })
}

/// A regular file within the size limit (not a FIFO, a device or `/dev/zero`).
fn open_regular(file: &Path) -> Result<std::io::BufReader<std::io::Take<std::fs::File>>, Failure> {
    let cannot = |why: String| Failure::Message(format!("无法导入 {}：{why}", file.display()));
    let meta = std::fs::metadata(file).map_err(|e| cannot(e.to_string()))?;
    if !meta.is_file() {
        return Err(cannot("不是普通文件".into()));
    }
    if meta.len() > MAX_IMPORT_BYTES {
        return Err(cannot(format!(
            "文件超过 {} MB，请分成几个文件导入",
            MAX_IMPORT_BYTES / 1024 / 1024
        )));
    }
    let f = std::fs::File::open(file).map_err(|e| cannot(e.to_string()))?;
    Ok(std::io::BufReader::new(f.take(MAX_IMPORT_BYTES)))
}

#[derive(Default)]
struct Tally {
    imported: usize,
    skipped: usize,
}

impl Tally {
    fn skip(&mut self, n: usize, why: &str) {
        eprintln!("第 {n} 行：{why}，已跳过");
        self.skipped += 1;
    }

    fn take(
        &mut self,
        store: &mut Store,
        op: &Operator,
        n: usize,
        parsed: Result<Imported, String>,
    ) -> Result<(), Failure> {
        let Imported { mut app, notes } = match parsed {
            Ok(i) => i,
            Err(why) => {
                self.skip(n, &why);
                return Ok(());
            }
        };
        for note in notes {
            eprintln!("第 {n} 行：{note}");
        }
        if store.contains(app.id)? {
            self.skip(n, &format!("申请 {} 已在本机", app.id));
            return Ok(());
        }
        let mut missing = Vec::new();
        for kind in crate::domain::PhotoSlot::ALL {
            let slot = app.photo_mut(kind);
            if let Some(p) = slot
                && !store.has_photo(&p.sha256)?
            {
                missing.push(kind.short_label());
                *slot = None;
            }
        }
        if !missing.is_empty() {
            eprintln!(
                "第 {n} 行：{}不在本机，已导入但需在向导中重新上传",
                missing.join("、")
            );
        }
        match store.import(&app, op) {
            Ok(()) => self.imported += 1,
            Err(e) => self.skip(n, &e.to_string()),
        }
        Ok(())
    }
}
