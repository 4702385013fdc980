//! `sbk purge [--dry-run] [--json]`: apply the retention period now.

use std::process::ExitCode;

use clap::Args;

use super::Failure;
use crate::config::Settings;
use crate::domain::dates::beijing;

#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// Only list what would be removed.
    #[arg(long)]
    dry_run: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: PurgeArgs, settings: &mut Settings) -> Result<ExitCode, Failure> {
    let operator = settings.operator_or_prompt()?;
    let mut store = settings.open_store()?;
    let days = settings.retention_days;
    let report = store.purge(chrono::Utc::now(), days, args.dry_run, &operator)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    let verb = if args.dry_run { "将" } else { "已" };
    println!(
        "保留期限：受理后 {days} 天。{verb}精简 {} 件（删除照片和身份证图像，只留姓名、打码证件号、申领编号和状态），{verb}删除撤回的草稿 {} 件。",
        report.reduced.len(),
        report.deleted.len()
    );
    for p in &report.reduced {
        println!(
            "  精简  {}  {}  {}  受理于 {}",
            &p.id.to_string()[..8],
            p.status.label(),
            p.masked_id_number,
            p.since.with_timezone(&beijing()).format("%Y-%m-%d")
        );
    }
    for p in &report.deleted {
        println!(
            "  删除  {}  草稿  {}  最后修改 {}",
            &p.id.to_string()[..8],
            p.masked_id_number,
            p.since.with_timezone(&beijing()).format("%Y-%m-%d")
        );
    }
    if !args.dry_run && report.photos_removed > 0 {
        println!("共删除照片 {} 张。", report.photos_removed);
    }
    Ok(ExitCode::SUCCESS)
}
