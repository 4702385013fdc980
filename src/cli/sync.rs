//! `sbk sync [--once] [--json]`: deliver queued applications and refresh progress, for
//! scripts and cron (the wizard does the same in the background).

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use super::{EXIT_INVALID, Failure};
use crate::config::Settings;
use crate::sync::{Backoff, Client, Delivery, PassReport};

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// One pass: try every queued application now, refresh progress, print a summary and
    /// exit (non-zero only if something needs a person). Without it, keep going.
    #[arg(long)]
    once: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

fn summary(r: &PassReport) -> String {
    let mut text = format!(
        "已送达 {}，等待重试 {}，已退回 {}，本次失败 {}，进度更新 {}",
        r.delivered, r.waiting, r.returned, r.retrying, r.progressed
    );
    if let Some(e) = &r.needs_attention {
        text.push_str(&format!("\n需要处理：{e}"));
    } else if let Some(e) = &r.last_error {
        text.push_str(&format!("\n最近的错误：{e}"));
    }
    text
}

pub fn run(args: SyncArgs, settings: &mut Settings) -> Result<ExitCode, Failure> {
    let Some(central) = settings.central.clone() else {
        return Err(Failure::Message(
            "离线模式：未配置中心接口。请设置 SBK_CENTRAL_URL 和 SBK_CENTRAL_TOKEN，\
             或在配置文件 [central] 中写入 url 和 token"
                .into(),
        ));
    };
    let operator = settings.operator_or_prompt()?;
    let client =
        Client::new(&central, &operator.id).map_err(|e| Failure::Message(e.to_string()))?;
    let store = settings.open_store()?;
    let mut delivery = Delivery::new(store, client, operator, Backoff::default());
    if args.once {
        let report = delivery.pass(true);
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            println!("{}", summary(&report));
        }
        let needs_person = report.returned > 0 || report.needs_attention.is_some();
        return Ok(if needs_person {
            ExitCode::from(EXIT_INVALID)
        } else {
            ExitCode::SUCCESS
        });
    }
    loop {
        let report = delivery.pass(false);
        let busy = report.delivered + report.returned + report.retrying + report.progressed > 0;
        if busy || report.needs_attention.is_some() {
            if args.json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                println!("{}", summary(&report));
            }
        }
        let wait = delivery
            .next_due()
            .map(|at| (at - chrono::Utc::now()).to_std().unwrap_or_default())
            .unwrap_or(crate::sync::worker::POLL_EVERY)
            .clamp(Duration::from_millis(200), crate::sync::worker::POLL_EVERY);
        std::thread::sleep(wait);
    }
}
