//! The command line: `sbk` opens the wizard; subcommands for scripts and quick checks.

mod audit;
mod central;
mod check;
mod drafts;
mod operators;
mod photo;
mod purge;
mod receipt;
mod report;
pub mod signin;
mod store_cmd;
mod sync;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::config::Settings;

/// 第三代社会保障卡 counter wizard: apply for a resident's card at a service centre.
#[derive(Debug, Parser)]
#[command(name = "sbk", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Data directory (drafts, photos, logs). Default: the XDG data dir; or SBK_DATA_DIR.
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Config file. Default: config.toml in the XDG config dir; or SBK_CONFIG.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub auth: signin::Auth,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check one value by the form's rules (exit 0 valid, 1 invalid, 2 bad usage).
    #[command(subcommand)]
    Check(check::CheckCommand),
    /// Applications in the local store: list, show, search, import, export, delete.
    #[command(subcommand)]
    Drafts(drafts::DraftsCommand),
    /// Photos: check one against the card spec, or fix it so that it passes.
    #[command(subcommand)]
    Photo(photo::PhotoCommand),
    /// Operators: set up, add, list, disable, reset; your password; recovery; the
    /// delivery key for `sbk sync` from cron.
    #[command(subcommand)]
    Operators(operators::OperatorsCommand),
    /// The store: copy it into another (a laptop's into the centre's server, or back).
    #[command(subcommand)]
    Store(store_cmd::StoreCommand),
    /// The audit log: verify its hash chain, or show its entries.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// The effective configuration: files, directories, operator, central API (token never shown).
    #[command(subcommand)]
    Config(ConfigCommand),
    /// The whole product on this machine: the reference central API on loopback, demo
    /// data in every state, and the wizard (演示模式). Recreated at every start.
    Demo,
    /// Apply the retention period: delete photos and reduce personal data of applications
    /// accepted long enough ago; delete old withdrawn drafts.
    Purge(purge::PurgeArgs),
    /// Deliver queued applications to the central API and refresh their progress.
    Sync(sync::SyncArgs),
    /// The 受理单 of a submitted application: print it (CUPS lp) or save it as a PDF.
    Receipt(receipt::ReceiptArgs),
    /// Reports for the supervisor: the day (or days) per operator, and what is stuck.
    #[command(subcommand)]
    Report(report::ReportCommand),
    /// The reference central API: serve it, or (re)seed its synthetic registry.
    #[command(subcommand)]
    Central(central::CentralCommand),
    /// Print shell completions for sbk to standard output.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration (after flags, environment and the file).
    Show,
}

/// Exit status for "the value is invalid" or "the command failed" (clap uses 2 for bad usage).
pub const EXIT_INVALID: u8 = 1;

/// A command that could not be carried out; its message is printed in Chinese.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("{0}")]
    Message(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("读写失败：{0}")]
    Io(#[from] std::io::Error),
    #[error("JSON 处理失败：{0}")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Wizard(#[from] crate::tui::TuiError),
    #[error(transparent)]
    Demo(#[from] crate::demo::DemoError),
    #[error(transparent)]
    Access(#[from] crate::access::AccessError),
}

fn report(result: Result<ExitCode, Failure>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(Failure::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sbk：{e}");
            ExitCode::from(EXIT_INVALID)
        }
    }
}

/// Parse the command line and run it: the commands that need no settings first, then the
/// settings loaded once for the rest, and every error reported in one place (`report`).
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let command = match cli.command {
        Some(Command::Check(cmd)) => return check::run(cmd),
        Some(Command::Photo(cmd)) => return photo::run(cmd),
        Some(Command::Central(cmd)) => return report(central::run(cmd)),
        Some(Command::Completions { shell }) => {
            clap_complete::generate(shell, &mut Cli::command(), "sbk", &mut std::io::stdout());
            return ExitCode::SUCCESS;
        }
        other => other,
    };
    report(
        crate::config::load(cli.config.as_deref(), cli.data_dir.as_deref())
            .map_err(Failure::from)
            .and_then(|mut settings| with_settings(command, &mut settings, &cli.auth)),
    )
}

fn with_settings(
    command: Option<Command>,
    settings: &mut Settings,
    auth: &signin::Auth,
) -> Result<ExitCode, Failure> {
    // The centre's rule for 代办 papers holds for every validation from here on.
    crate::domain::set_centre_agent_papers(settings.agent_papers);
    match command {
        None => {
            crate::tui::run(settings)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Demo) => {
            eprintln!("正在准备演示（参考中心接口、演示数据）……");
            let demo = crate::demo::prepare(settings)?;
            let mut demo_settings = demo.settings.clone();
            let outcome = crate::tui::run_with(&mut demo_settings, Some(demo.session));
            demo.server.stop();
            outcome?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Audit(cmd)) => audit::run(cmd, settings, auth),
        Some(Command::Operators(cmd)) => operators::run(cmd, settings, auth),
        Some(Command::Store(cmd)) => store_cmd::run(cmd, settings, auth),
        Some(Command::Config(ConfigCommand::Show)) => {
            print!("{}", settings.describe());
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Purge(args)) => purge::run(args, settings, auth),
        Some(Command::Sync(args)) => sync::run(args, settings, auth),
        Some(Command::Receipt(args)) => receipt::run(args, settings, auth),
        Some(Command::Report(cmd)) => report::run(cmd, settings, auth),
        Some(Command::Drafts(cmd)) => drafts::run(cmd, settings, auth),
        Some(
            Command::Check(_)
            | Command::Photo(_)
            | Command::Central(_)
            | Command::Completions { .. },
        ) => unreachable!("run() handles the commands that need no settings"),
    }
}
