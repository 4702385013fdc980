//! `sbk drafts …`: list, show, search, import, export and delete applications in the store.
//! ID numbers and mobiles are masked unless `--reveal` is given; a reveal is audited.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{Local, Utc};
use clap::{Args, Subcommand, ValueEnum};
use unicode_width::UnicodeWidthStr;

use super::{EXIT_INVALID, Failure};

/// `println!` that returns the write error instead of panicking (e.g. on `| head`).
macro_rules! say {
    ($($arg:tt)*) => {
        writeln!(std::io::stdout().lock(), $($arg)*)?
    };
}
use crate::config::Settings;
use crate::domain::display::{mask_mobile, review_groups};
use crate::domain::{Application, Status, mask_id};
use crate::store::{AuditAction, Store, Summary};

#[derive(Debug, Subcommand)]
pub enum DraftsCommand {
    /// List applications, most recently changed first.
    List {
        /// Only applications in this status (draft, ready, queued, delivered, accepted, …).
        #[arg(long, value_parser = parse_status)]
        status: Option<Status>,
        /// How many to show.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[command(flatten)]
        view: View,
    },
    /// Show one application, grouped as on the review page.
    Show {
        /// The application's id, or the first characters of it.
        id: String,
        #[command(flatten)]
        view: View,
    },
    /// Search by name, pinyin initials (zs), full pinyin, ID number or its last digits, mobile suffix.
    Search {
        query: String,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[command(flatten)]
        view: View,
    },
    /// Import applications from a JSON Lines file (one application a line); each becomes a draft.
    Import { file: PathBuf },
    /// Export applications as JSON Lines or CSV (masked unless --reveal).
    Export {
        #[arg(long, value_parser = parse_status)]
        status: Option<Status>,
        #[arg(long, value_enum, default_value_t = Format::Jsonl)]
        format: Format,
        /// Write to this file (created readable by you only) instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Export ID numbers and mobiles unmasked (audited).
        #[arg(long)]
        reveal: bool,
    },
    /// Delete a draft (only drafts and ready applications that were never submitted).
    Delete {
        id: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Args)]
pub struct View {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Show ID numbers and mobiles unmasked (audited).
    #[arg(long)]
    reveal: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Jsonl,
    Csv,
}

fn parse_status(s: &str) -> Result<Status, String> {
    Status::from_key(s).ok_or_else(|| {
        let keys: Vec<&str> = Status::ALL.iter().map(|s| s.key()).collect();
        format!("没有“{s}”这个状态；可用：{}", keys.join(", "))
    })
}

pub fn run(cmd: DraftsCommand, settings: &mut Settings) -> Result<ExitCode, Failure> {
    let mut store = settings.open_store()?;
    match cmd {
        DraftsCommand::List {
            status,
            limit,
            view,
        } => {
            let rows = store.list(status, limit, 0)?;
            print_summaries(&store, settings, &rows, &view, "drafts list")?;
        }
        DraftsCommand::Search { query, limit, view } => {
            let rows = store.search(&query, limit)?;
            if rows.is_empty() && !view.json {
                eprintln!("没有找到与“{query}”匹配的申请。");
            }
            print_summaries(&store, settings, &rows, &view, "drafts search")?;
        }
        DraftsCommand::Show { id, view } => {
            let id = store.resolve(&id)?;
            let app = store.get(id)?;
            let delivered = !matches!(app.status, Status::Draft | Status::Ready | Status::Queued);
            if view.reveal || delivered {
                let op = settings.operator_or_prompt()?;
                let action = if view.reveal {
                    AuditAction::Reveal
                } else {
                    AuditAction::View
                };
                store.audit(&op, action, Some(id), Some("drafts show"))?;
            }
            if view.json {
                let value = if view.reveal {
                    serde_json::to_value(&app)?
                } else {
                    masked_json(&app)?
                };
                say!("{}", serde_json::to_string_pretty(&value)?);
            } else {
                print_application(&store, &app, view.reveal)?;
            }
        }
        DraftsCommand::Import { file } => return import(&mut store, settings, &file),
        DraftsCommand::Export {
            status,
            format,
            output,
            reveal,
        } => export(&store, settings, status, format, output, reveal)?,
        DraftsCommand::Delete { id, yes } => {
            let id = store.resolve(&id)?;
            let app = store.get(id)?;
            let who = format!(
                "{}（{}）",
                app.applicant.name.trim(),
                mask_id(app.applicant.id_number.trim())
            );
            if !yes && std::io::stdin().is_terminal() {
                eprint!(
                    "确认删除 {who} 的{}？此操作不能撤销。[y/N] ",
                    app.status.label()
                );
                let _ = std::io::stderr().flush();
                let mut answer = String::new();
                let _ = std::io::stdin().lock().read_line(&mut answer);
                if !matches!(answer.trim(), "y" | "Y" | "yes" | "是") {
                    eprintln!("已取消，未删除。");
                    return Ok(ExitCode::SUCCESS);
                }
            }
            let op = settings.operator_or_prompt()?;
            store.delete(id, &op)?;
            say!("已删除 {who} 的申请。");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_summaries(
    store: &Store,
    settings: &mut Settings,
    rows: &[Summary],
    view: &View,
    what: &str,
) -> Result<(), Failure> {
    if view.reveal {
        let op = settings.operator_or_prompt()?;
        store.audit(&op, AuditAction::Reveal, None, Some(what))?;
    }
    let id_of = |s: &Summary| {
        if view.reveal {
            s.id_number.clone()
        } else {
            s.masked_id_number()
        }
    };
    if view.json {
        let items: Vec<_> = rows
            .iter()
            .map(|s| {
                serde_json::json!({
                    "id": s.id, "status": s.status, "status_label": s.status.label(),
                    "name": s.name, "id_number": id_of(s),
                    "application_number": s.application_number, "updated_at": s.updated_at,
                })
            })
            .collect();
        say!("{}", serde_json::to_string_pretty(&items)?);
        return Ok(());
    }
    let table: Vec<[String; 6]> = rows
        .iter()
        .map(|s| {
            [
                s.id.to_string()[..8].to_owned(),
                s.status.label().to_owned(),
                if s.name.is_empty() {
                    "（未填）".into()
                } else {
                    s.name.clone()
                },
                id_of(s),
                s.application_number.clone().unwrap_or_default(),
                s.updated_at
                    .with_timezone(&Local)
                    .format("%Y-%m-%d %H:%M")
                    .to_string(),
            ]
        })
        .collect();
    let header = ["编号", "状态", "姓名", "证件号码", "申领编号", "最后修改"].map(String::from);
    print_table(&header, &table)?;
    Ok(())
}

fn print_table(header: &[String; 6], rows: &[[String; 6]]) -> std::io::Result<()> {
    let mut widths = header.clone().map(|h| h.width());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.width());
        }
    }
    let mut out = std::io::stdout().lock();
    for cells in std::iter::once(header).chain(rows) {
        let mut line = String::new();
        for (cell, w) in cells.iter().zip(widths) {
            line.push_str(cell);
            line.push_str(&" ".repeat(w - cell.width() + 2));
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

fn print_application(store: &Store, app: &Application, reveal: bool) -> Result<(), Failure> {
    say!("申请 {}  状态：{}", app.id, app.status.label());
    if let Some(n) = &app.application_number {
        say!("申领编号：{n}");
    }
    for group in review_groups(app, reveal) {
        say!("\n{}. {}", group.step.number(), group.step.title());
        for (field, value) in group.rows {
            say!("  {}：{}", field.label(), value);
        }
    }
    let history = store.history(app.id)?;
    if !history.is_empty() {
        say!("\n办事进度");
        for h in history {
            let note = h.note.map(|n| format!("  {n}")).unwrap_or_default();
            say!(
                "  {}  {}{}",
                h.at.with_timezone(&Local).format("%Y-%m-%d %H:%M"),
                h.status.label(),
                note
            );
        }
    }
    Ok(())
}

/// The application as JSON with ID numbers and mobiles masked.
fn masked_json(app: &Application) -> Result<serde_json::Value, serde_json::Error> {
    let mut masked = app.clone();
    masked.applicant.id_number = mask_id(masked.applicant.id_number.trim());
    masked.applicant.mobile = mask_mobile(&masked.applicant.mobile);
    masked.pickup.mail.recipient_mobile = mask_mobile(&masked.pickup.mail.recipient_mobile);
    serde_json::to_value(masked)
}

fn import(store: &mut Store, settings: &mut Settings, file: &PathBuf) -> Result<ExitCode, Failure> {
    let reader = std::io::BufReader::new(
        std::fs::File::open(file)
            .map_err(|e| Failure::Message(format!("无法打开 {}：{e}", file.display())))?,
    );
    let op = settings.operator_or_prompt()?;
    let (mut imported, mut skipped) = (0usize, 0usize);
    for (i, line) in reader.lines().enumerate() {
        let n = i + 1;
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                eprintln!("第 {n} 行：无法读取（{e}），已跳过");
                skipped += 1;
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let mut app: Application = match serde_json::from_str(&line) {
            Ok(app) => app,
            Err(e) => {
                eprintln!("第 {n} 行：不是有效的申请 JSON（{e}），已跳过");
                skipped += 1;
                continue;
            }
        };
        if store.contains(app.id)? {
            eprintln!("第 {n} 行：申请 {} 已在本机，已跳过", app.id);
            skipped += 1;
            continue;
        }
        // An imported application starts over as a draft on this counter.
        app.status = Status::Draft;
        app.application_number = None;
        app.updated_at = Utc::now();
        let mut missing = Vec::new();
        for (slot, label) in [
            (&mut app.photos.card_photo, "制卡照片"),
            (&mut app.photos.id_front, "身份证正面"),
            (&mut app.photos.id_back, "身份证背面"),
        ] {
            if let Some(p) = slot
                && !store.has_photo(&p.sha256)?
            {
                missing.push(label);
                *slot = None;
            }
        }
        if !missing.is_empty() {
            eprintln!(
                "第 {n} 行：{}不在本机，已导入但需在向导中重新上传",
                missing.join("、")
            );
        }
        match store.import(&app, &op) {
            Ok(()) => imported += 1,
            Err(e) => {
                eprintln!("第 {n} 行：{e}，已跳过");
                skipped += 1;
            }
        }
    }
    say!("导入 {imported} 条，跳过 {skipped} 条。");
    Ok(if skipped == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_INVALID)
    })
}

const CSV_HEADER: [&str; 19] = [
    "id",
    "status",
    "name",
    "id_type",
    "id_number",
    "gender",
    "birth_date",
    "ethnicity",
    "mobile",
    "district",
    "address",
    "occupation",
    "pickup_method",
    "recipient_name",
    "recipient_mobile",
    "recipient_district",
    "postcode",
    "mail_address",
    "application_number",
];

fn export(
    store: &Store,
    settings: &mut Settings,
    status: Option<Status>,
    format: Format,
    output: Option<PathBuf>,
    reveal: bool,
) -> Result<(), Failure> {
    let op = settings.operator_or_prompt()?;
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
            w.write_record(CSV_HEADER).map_err(csv_err)?;
            let n = for_each_application(store, status, reveal, |app| {
                w.write_record(csv_row(app)).map_err(csv_err)
            })?;
            w.flush()?;
            n
        }
    };
    let detail = format!("format={format:?} count={count} reveal={reveal}").to_lowercase();
    store.audit(&op, AuditAction::Export, None, Some(&detail))?;
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

fn csv_row(app: &Application) -> [String; 19] {
    let a = &app.applicant;
    let m = &app.pickup.mail;
    [
        app.id.to_string(),
        app.status.key().into(),
        a.name.clone(),
        a.id_type.key().into(),
        a.id_number.clone(),
        a.gender.map(|g| g.label().to_owned()).unwrap_or_default(),
        a.birth_date.clone(),
        a.ethnicity.clone(),
        a.mobile.clone(),
        app.residence.district.clone(),
        app.residence.address.clone(),
        app.occupation.clone(),
        app.pickup
            .method
            .map(|p| p.label().to_owned())
            .unwrap_or_default(),
        m.recipient_name.clone(),
        m.recipient_mobile.clone(),
        m.district.clone(),
        m.postcode.clone(),
        m.address.clone(),
        app.application_number.clone().unwrap_or_default(),
    ]
}
