//! `sbk audit verify|show`: check the audit log's hash chain; list its entries.

use std::process::ExitCode;

use clap::Subcommand;

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

pub fn run(cmd: AuditCommand, settings: &mut Settings) -> Result<ExitCode, Failure> {
    let store = settings.open_store()?;
    match cmd {
        AuditCommand::Verify => {
            let report = store.verify_audit()?;
            match report.broken {
                None => {
                    println!("✓ 审计记录完整：共 {} 条，哈希链一致", report.entries);
                    Ok(ExitCode::SUCCESS)
                }
                Some((id, why)) => {
                    println!("✗ 审计记录被改动：第 {id} 条{why}");
                    Ok(ExitCode::from(EXIT_INVALID))
                }
            }
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
