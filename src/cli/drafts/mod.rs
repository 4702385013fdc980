//! `sbk drafts …`: list, show, search, import, export and delete applications in the store.
//! ID numbers and mobiles are masked unless `--reveal` is given; a reveal is audited.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use unicode_width::UnicodeWidthStr;

mod export;
mod import;
mod submit;

use super::Failure;
use super::signin::Auth;

/// `println!` that returns the write error instead of panicking (e.g. on `| head`).
macro_rules! say {
    ($($arg:tt)*) => {
        writeln!(std::io::stdout().lock(), $($arg)*)?
    };
}
use crate::config::Settings;
use crate::domain::dates::beijing_minutes;
use crate::domain::display::review_groups;
use crate::domain::{Application, Status, mask_id};
use crate::store::{AuditAction, Operator, Store, Summary};

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
    /// Import applications as drafts: JSON Lines (the model's shape, only the person's data
    /// needed) or CSV (the columns export writes); by the file's extension unless --format.
    /// Photos come as files with each line: JSON `"photo_files": {"card_photo": "a.jpg",
    /// "id_front": …, "id_back": …}`, CSV columns card_photo_file, id_front_file,
    /// id_back_file, agent_id_card_file, authorisation_file (paths relative to the import
    /// file, inside its folder); or from --photos DIR, named by the ID number: 110105…_card.jpg, _front, _back
    /// (or 照片、正面、背面). Each is checked and fixed as the wizard's import does.
    Import {
        file: PathBuf,
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// A folder of photos named by ID number (a 高拍仪's capture folder, say).
        #[arg(long, value_name = "DIR")]
        photos: Option<PathBuf>,
    },
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
    /// Submit complete applications, exactly as the wizard's 提交 does (validation,
    /// consents, the outbox entry, the audit log); exit 1 if any was refused.
    Submit {
        /// Applications' ids or their first characters.
        ids: Vec<String>,
        /// Every draft, ready or corrected returned application that is complete.
        #[arg(long)]
        all_ready: bool,
        /// The resident, at the counter now, has read and agreed to the disclaimer and the
        /// declaration and authorised the check, and you have checked the original ID
        /// card(s) in person: recorded now, in your name (an import never carries these).
        /// Only with the applications named one by one.
        #[arg(long, conflicts_with = "all_ready")]
        consents_given: bool,
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

pub fn run(cmd: DraftsCommand, settings: &mut Settings, auth: &Auth) -> Result<ExitCode, Failure> {
    let session = auth.session(settings)?;
    // Unmasked ID numbers and mobiles are a supervisor's to see (and audited).
    let reveals = match &cmd {
        DraftsCommand::List { view, .. }
        | DraftsCommand::Search { view, .. }
        | DraftsCommand::Show { view, .. } => view.reveal,
        DraftsCommand::Export { reveal, .. } => *reveal,
        _ => false,
    };
    if reveals && !session.account.is_supervisor() {
        return Err(Failure::Message(
            "只有负责人可以显示或导出完整的证件号码和手机号（--reveal）；经办人员看到的是打码的号码".into(),
        ));
    }
    let op = session.operator();
    let mut store = session.store;
    match cmd {
        DraftsCommand::List {
            status,
            limit,
            view,
        } => {
            let rows = store.list(status, limit, 0)?;
            print_summaries(&store, &op, &rows, &view, "drafts list")?;
        }
        DraftsCommand::Search { query, limit, view } => {
            let rows = store.search_as(&op, &query, limit)?;
            if rows.is_empty() && !view.json {
                eprintln!("没有找到与“{query}”匹配的申请。");
            }
            print_summaries(&store, &op, &rows, &view, "drafts search")?;
        }
        DraftsCommand::Show { id, view } => {
            let id = store.resolve(&id)?;
            let app = store.get(id)?;
            // Every view of a person's data is audited, masked or not, whatever its status.
            let action = if view.reveal {
                AuditAction::Reveal
            } else {
                AuditAction::View
            };
            store.audit(&op, action, Some(id), Some("drafts show"))?;
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
        DraftsCommand::Import {
            file,
            format,
            photos,
        } => {
            return import::import(&mut store, &op, &file, format, photos.as_deref());
        }
        DraftsCommand::Export {
            status,
            format,
            output,
            reveal,
        } => export::export(&store, &op, status, format, output, reveal)?,
        DraftsCommand::Submit {
            ids,
            all_ready,
            consents_given,
        } => {
            return submit::submit(&mut store, settings, &op, &ids, all_ready, consents_given);
        }
        DraftsCommand::Delete { id, yes } => {
            let id = store.resolve(&id)?;
            let app = store.get(id)?;
            let who = format!(
                "{}（{}）",
                crate::domain::display::printable(app.applicant.name.trim()),
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
            store.delete(id, &op)?;
            say!("已删除 {who} 的申请。");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_summaries(
    store: &Store,
    op: &Operator,
    rows: &[Summary],
    view: &View,
    what: &str,
) -> Result<(), Failure> {
    // A list shows names: audited. Unmasked, each application shown is named in the log
    // (by its id: the query itself may be personal data and is not written down).
    if view.reveal {
        for s in rows {
            store.audit(op, AuditAction::Reveal, Some(s.id), Some(what))?;
        }
    } else {
        let detail = format!("{what} count={}", rows.len());
        store.audit(op, AuditAction::View, None, Some(&detail))?;
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
                    "return_reason": s.return_reason,
                    "agent_name": (!s.agent_name.is_empty()).then_some(&s.agent_name),
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
                match (s.name.is_empty(), s.agent_name.is_empty()) {
                    (true, _) => "（未填）".into(),
                    (false, true) => s.name.clone(),
                    // 代办: whose application, and who applied for it.
                    (false, false) => format!("{}（代办人 {}）", s.name, s.agent_name),
                },
                id_of(s),
                s.application_number.clone().unwrap_or_default(),
                beijing_minutes(s.updated_at),
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
            line.push_str(&crate::domain::display::printable(cell));
            line.push_str(&" ".repeat(w - cell.width() + 2));
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

fn print_application(store: &Store, app: &Application, reveal: bool) -> Result<(), Failure> {
    // Whatever came from outside (an import, the central API's answers) reaches the
    // terminal printable only: no escape sequences.
    use crate::domain::display::printable;
    say!("申请 {}  状态：{}", app.id, app.status.label());
    if let Some(n) = &app.application_number {
        say!("申领编号：{}", printable(n));
    }
    for group in review_groups(app, reveal) {
        say!("\n{}. {}", group.step.number(), group.step.title());
        for (field, value) in group.rows {
            say!("  {}：{}", field.label(), printable(&value));
        }
    }
    let history = store.history(app.id)?;
    if !history.is_empty() {
        say!("\n办事进度");
        for h in history {
            let note = h
                .note
                .map(|n| format!("  {}", printable(&n)))
                .unwrap_or_default();
            say!("  {}  {}{}", beijing_minutes(h.at), h.status.label(), note);
        }
    }
    Ok(())
}

/// The application as JSON, masked as every masked view is (`domain::mask::masked`).
fn masked_json(app: &Application) -> Result<serde_json::Value, serde_json::Error> {
    serde_json::to_value(crate::domain::display::masked(app))
}
