//! `sbk purge [--dry-run] [--json]`: apply the retention period now.

use std::process::ExitCode;

use clap::Args;

use super::Failure;
use super::signin::Auth;
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

pub fn run(args: PurgeArgs, settings: &mut Settings, auth: &Auth) -> Result<ExitCode, Failure> {
    let session = auth.session(settings)?;
    let operator = session.operator();
    let mut store = session.store;
    let supervisor = session.account.is_supervisor();
    let retention = settings.retention().for_role(supervisor);
    if retention != settings.retention() {
        eprintln!(
            "注意：设置的保留期短于默认值，只有负责人可以按它清理；本次按默认保留期（受理后 {} 天，草稿 {} 天）",
            retention.days, retention.draft_days
        );
    }
    let now = chrono::Utc::now();
    let report = store.purge(now, retention, args.dry_run, &operator)?;
    let originals = if settings.keep_photo_originals {
        Vec::new()
    } else {
        store.purge_originals(now, args.dry_run)?
    };
    // Saved 受理单 (printed elsewhere by now): a day, then gone.
    let receipts = if args.dry_run {
        0
    } else {
        crate::printing::sweep(&settings.data_dir, std::time::SystemTime::now())
    };
    if args.json {
        let value = serde_json::json!({
            "retention": retention,
            "report": report,
            "originals": originals,
            "receipts_removed": receipts,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    let verb = if args.dry_run { "将" } else { "已" };
    println!(
        "保留期限：受理后 {} 天（提交后未受理再加 60 天）；草稿和已退回未修改的 {} 天。",
        retention.days, retention.draft_days
    );
    println!(
        "{verb}精简 {} 件（删除照片和身份证图像，只留姓名、打码证件号、申领编号和状态），{verb}删除草稿 {} 件；待同步的 {} 件保留到送达。",
        report.reduced.len(),
        report.deleted.len(),
        report.queued_kept
    );
    for p in report.reduced.iter().chain(&report.deleted) {
        let action = if report.deleted.contains(p) {
            "删除"
        } else {
            "精简"
        };
        println!(
            "  {action}  {}  {}  {}  {}  自 {}",
            &p.id.to_string()[..8],
            p.status.label(),
            p.masked_id_number,
            p.rule.label(),
            p.since.with_timezone(&beijing()).format("%Y-%m-%d")
        );
    }
    if !args.dry_run && report.photos_removed > 0 {
        println!("共删除照片 {} 张。", report.photos_removed);
    }
    if settings.keep_photo_originals {
        println!("照片文件夹中已导入的原始照片按配置保留（keep_photo_originals = true）。");
    } else {
        println!(
            "照片文件夹中导入已满一天的原始照片：{verb}删除 {} 张。",
            originals.len()
        );
    }
    if receipts > 0 {
        println!("已删除保存满一天的受理单 {receipts} 份。");
    }
    Ok(ExitCode::SUCCESS)
}
