//! `sbk report day`: the supervisor's day (or days) per operator, and what is stuck.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;

use super::Failure;
use super::signin::Auth;
use crate::config::Settings;
use crate::report::{Period, day_report};
use crate::store::AuditAction;

#[derive(Debug, clap::Subcommand)]
pub enum ReportCommand {
    /// What each operator did on a day (default today, Beijing time) or over days, and
    /// what is stuck now. For supervisors (负责人).
    Day(DayArgs),
}

#[derive(Debug, clap::Args)]
pub struct DayArgs {
    /// The day, YYYY-MM-DD (default: today).
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub date: Option<NaiveDate>,
    /// The first day of a period.
    #[arg(long, requires = "to")]
    pub from: Option<NaiveDate>,
    /// The last day of a period (included).
    #[arg(long, requires = "from")]
    pub to: Option<NaiveDate>,
    /// One operator's figures only (their 工号).
    #[arg(long, value_name = "ID")]
    pub operator: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Write to a file (xlsx needs one).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// ID numbers of stuck applications unmasked (audited).
    #[arg(long)]
    pub reveal: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
    Xlsx,
}

pub fn run(cmd: ReportCommand, settings: &mut Settings, auth: &Auth) -> Result<ExitCode, Failure> {
    let ReportCommand::Day(args) = cmd;
    let session = auth.session(settings)?;
    if !session.account.is_supervisor() {
        return Err(Failure::Message(
            "工作日报只有负责人可以查看：请用负责人的工号登录".into(),
        ));
    }
    let op = session.operator();
    let store = session.store;
    let now = chrono::Utc::now();
    let today = crate::domain::dates::beijing_date(now);
    let period = match (args.date, args.from, args.to) {
        (Some(d), _, _) => Period::day(d),
        (None, Some(from), Some(to)) if from <= to => Period { from, to },
        (None, Some(_), Some(_)) => {
            return Err(Failure::Message("--from 应不晚于 --to".into()));
        }
        _ => Period::day(today),
    };
    let report = day_report(&store, period, args.operator.as_deref(), args.reveal, now)?;
    let detail = format!("report day {}..{}", period.from, period.to);
    let action = if args.reveal {
        AuditAction::Reveal
    } else {
        AuditAction::View
    };
    store.audit(&op, action, None, Some(&detail))?;
    let bytes = match args.format {
        Format::Table => crate::report::table(&report).into_bytes(),
        Format::Json => serde_json::to_vec_pretty(&report)?,
        Format::Csv => crate::report::csv(&report)
            .map_err(|e| Failure::Message(format!("CSV 写入失败：{e}")))?,
        Format::Xlsx => {
            if args.output.is_none() {
                return Err(Failure::Message(
                    "xlsx 是二进制文件：请用 -o 文件名.xlsx 指定保存位置".into(),
                ));
            }
            crate::report::xlsx::workbook(&report)
                .map_err(|e| Failure::Message(format!("生成 xlsx 失败：{e}")))?
        }
    };
    match args.output {
        // A report names people: written private.
        Some(path) => {
            crate::private_files::write_private(&path, &bytes)?;
            eprintln!("已保存：{}", path.display());
        }
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&bytes)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
