//! `sbk sync [--once] [--json]`: deliver queued applications and refresh progress, for
//! scripts and cron (the wizard does the same in the background).

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use std::io::IsTerminal;

use super::signin::Auth;
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

/// A pass in the log: its counts, and whether something needs a person (the messages are
/// not logged: a refusal's text comes from the central API and may quote what was sent).
fn log_pass(r: &PassReport) {
    tracing::info!(
        delivered = r.delivered,
        returned = r.returned,
        retrying = r.retrying,
        progressed = r.progressed,
        waiting = r.waiting,
        online = r.online,
        needs_attention = r.needs_attention.is_some(),
        "delivery pass"
    );
}

/// Sync signs in as the operator named (`--operator`); with none named, it opens the
/// store with the delivery key (cron), else as the configured operator at a terminal.
fn session(settings: &Settings, auth: &Auth) -> Result<crate::access::Session, Failure> {
    // A centre's server: the credentials of its URL (the config file's, 0600) open it.
    if auth.operator.is_none() && settings.server.is_some() && !auth.password_stdin {
        return Ok(crate::access::sign_in_delivery(settings.location(), "")?);
    }
    let key_file = &settings.access.delivery_key_file;
    if auth.operator.is_none() && key_file.exists() {
        let secret = crate::private_files::read_regular(key_file, 1024).map_err(|why| {
            Failure::Message(format!(
                "无法读取无人值守发送的密钥 {}：{why}",
                key_file.display()
            ))
        })?;
        let secret = zeroize::Zeroizing::new(String::from_utf8_lossy(&secret).into_owned());
        return Ok(crate::access::sign_in_delivery(
            settings.location(),
            &secret,
        )?);
    }
    if auth.operator.is_none() && !auth.password_stdin && !std::io::stdin().is_terminal() {
        return Err(Failure::Message(format!(
            "无人登录时发送需要无人值守发送的密钥（{}）：请负责人运行 sbk operators delivery-key；或用 --operator 工号 --password-stdin 登录",
            key_file.display()
        )));
    }
    auth.session(settings)
}

pub fn run(args: SyncArgs, settings: &mut Settings, auth: &Auth) -> Result<ExitCode, Failure> {
    // What cron's delivery did is in the data directory's log, as the wizard's is: events,
    // counts and ids, never personal data.
    crate::logging::init_logging(&settings.data_dir, settings.retention_days).map_err(|e| {
        Failure::Message(format!(
            "无法写日志文件 {}：{e}",
            settings.data_dir.join(crate::logging::LOG_FILE).display()
        ))
    })?;
    let session = session(settings, auth)?;
    let operator = session.operator();
    tracing::info!(once = args.once, "sbk sync started");
    // Where to deliver: the central API a supervisor set (kept in the store), not whatever
    // the environment of whoever runs this says.
    let choice =
        crate::sync::central_for(&session, settings.central.as_ref()).map_err(Failure::Message)?;
    if let Some(note) = &choice.note {
        eprintln!("注意：{note}");
        tracing::warn!("the configured central API differs from the supervisor's: not used");
    }
    let Some(central) = choice.settings else {
        return Err(Failure::Message(
            "离线模式：未配置中心接口。请负责人设置 SBK_CENTRAL_URL 和 SBK_CENTRAL_TOKEN \
             （或配置文件 [central] 的 url 和 token）后登录一次，设定即存入数据库"
                .into(),
        ));
    };
    let client =
        Client::new(&central, &operator.id).map_err(|e| Failure::Message(e.to_string()))?;
    let store = session.store;
    let mut delivery = Delivery::new(store, client, operator, Backoff::default());
    if args.once {
        let report = delivery.pass(true);
        log_pass(&report);
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
            log_pass(&report);
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
