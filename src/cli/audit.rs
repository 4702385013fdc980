//! `sbk audit verify|show`: check the audit log's hash chain; list its entries.

use std::process::ExitCode;

use clap::Subcommand;

use super::signin::Auth;
use super::{EXIT_INVALID, Failure};
use crate::config::Settings;
use crate::domain::dates::beijing;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check that no entry was changed or removed (exit 1 if one was).
    Verify,
    /// List entries, oldest first (who did what to which application, and when).
    Show {
        /// Only this application's entries (its id or the first characters of it).
        #[arg(long, value_name = "ID")]
        application: Option<String>,
        /// Print JSON lines.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: AuditCommand, settings: &mut Settings, auth: &Auth) -> Result<ExitCode, Failure> {
    let session = auth.session(settings)?;
    let store = &session.store;
    match cmd {
        AuditCommand::Verify => {
            let central = crate::sync::central_for(&session, settings.central.as_ref())
                .map_err(Failure::Message)?
                .settings;
            verify(store, central.as_ref(), &session.account.id)
        }
        AuditCommand::Show { application, json } => {
            let id = application.map(|a| store.resolve(&a)).transpose()?;
            for e in store.audit_entries(id)? {
                if json {
                    println!("{}", serde_json::to_string(&e)?);
                } else {
                    println!(
                        "{}  {}（{}）  {}  {}  {}",
                        e.at.with_timezone(&beijing()).format("%Y-%m-%d %H:%M:%S"),
                        e.operator_name,
                        e.operator_id,
                        e.action,
                        e.application_id.as_deref().unwrap_or("—"),
                        e.detail.as_deref().unwrap_or("")
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `sbk audit verify`'s exit status when the chain is whole here but the central API could
/// not be asked: nothing found, and not everything checked.
pub const EXIT_UNCHECKED: u8 = 3;

/// The chain on this PC, then against every anchor the central API keeps: only they find
/// a chain cut short, recomputed by someone with the file, or restored from an old copy.
fn verify(
    store: &crate::store::Store,
    central: Option<&crate::config::CentralSettings>,
    operator: &str,
) -> Result<ExitCode, Failure> {
    use crate::store::AnchorCheck;
    let report = store.verify_audit()?;
    let mut ok = match report.broken {
        None => {
            println!("✓ 本机审计记录完整：共 {} 条，哈希链一致", report.entries);
            true
        }
        Some((id, why)) => {
            println!("✗ 审计记录被改动：第 {id} 条{why}");
            false
        }
    };
    let when = |a: &crate::api::AnchorReceipt| {
        a.received_at
            .with_timezone(&beijing())
            .format("%Y-%m-%d %H:%M")
            .to_string()
    };
    let say = |check: AnchorCheck, a: &crate::api::AnchorReceipt, whose: &str| match check {
        AnchorCheck::Holds { unanchored } => {
            println!(
                "✓ 与{whose}一致：锚定到第 {} 条（{}），本机这一条的哈希相同；其后 {unanchored} 条尚未锚定",
                a.seq,
                when(a)
            );
            true
        }
        AnchorCheck::Shorter { head } => {
            println!(
                "✗ 审计记录被截短：{whose}锚定到第 {} 条（{}），本机只有 {head} 条",
                a.seq,
                when(a)
            );
            false
        }
        AnchorCheck::Differs => {
            println!(
                "✗ 审计记录被改写：第 {} 条的哈希与{whose}（{}）不同",
                a.seq,
                when(a)
            );
            false
        }
    };
    let chain_id = store.audit_chain_id()?;
    let server = match central {
        None => Err("未配置中心接口".to_owned()),
        Some(central) => crate::sync::Client::new(central, operator)
            .and_then(|c| c.anchor_history(chain_id))
            .map_err(|e| e.to_string()),
    };
    match server {
        // Every anchor the server keeps, not only the latest: one the chain does not hold
        // (a fork posted in its name, or entries cut since) is found wherever it is.
        Ok(all) if !all.is_empty() => {
            let mut bad = None;
            for anchor in &all {
                let check = store.check_anchor(anchor)?;
                if !matches!(check, AnchorCheck::Holds { .. }) {
                    bad = Some((check, anchor.clone()));
                    break;
                }
            }
            match bad {
                Some((check, anchor)) => ok &= say(check, &anchor, "中心锚点"),
                None => {
                    let latest = all.last().expect("not empty");
                    println!("· 中心保存的 {} 个锚点都与本机记录一致", all.len());
                    ok &= say(store.check_anchor(latest)?, latest, "中心最近的锚点");
                }
            }
        }
        Ok(_) => {
            let remembered = store.last_anchor()?;
            if remembered.is_some() {
                println!(
                    "✗ 中心没有这条审计链（{chain_id}）的锚点，而本机记得曾经锚定过：审计链编号可能被改动"
                );
                ok = false;
            } else {
                println!("· 中心还没有这条审计链的锚点：联网送达申请后会自动锚定");
            }
        }
        Err(why) => {
            // What only the server can tell was not checked: not a pass.
            println!(
                "✗ {why}：未能与中心锚点核对（本机被整体改写后重算的哈希链，只有中心锚点能发现）"
            );
            if let Some(anchor) = store.last_anchor()? {
                ok &= say(store.check_anchor(&anchor)?, &anchor, "本机记住的最近锚点");
            }
            if ok {
                return Ok(ExitCode::from(EXIT_UNCHECKED));
            }
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_INVALID)
    })
}
