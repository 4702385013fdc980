//! `sbk store copy --to DEST`: move this store's contents into another — a helper's
//! laptop into the centre's server (`postgresql://…`), or the centre's store onto a data
//! directory. A supervisor's work: they sign in here, and their 工号 and password are the
//! destination's too (a new destination is set up with them).

use std::io::Write;
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};

use super::Failure;
use super::signin::Auth;
use crate::access::{self, Location, NewOperator};
use crate::config::Settings;
use crate::keys::Kdf;
use crate::store::copy::Merge;
use crate::store::server::Server;
use crate::store::{Role, Store};

macro_rules! say {
    ($($arg:tt)*) => {
        writeln!(std::io::stdout().lock(), $($arg)*)?
    };
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copy everything (applications, photos, history, outbox, operators, the audit log)
    /// into another store: `postgresql://…` or a data directory. Refuses applications that
    /// are already there unless --merge says what to keep.
    Copy {
        /// The destination: a PostgreSQL URL or a data directory.
        #[arg(long, value_name = "URL|DIR")]
        to: String,
        #[arg(long, value_enum, default_value = "refuse")]
        merge: MergeArg,
        /// A CA certificate (PEM) to trust for the destination server.
        #[arg(long, value_name = "FILE")]
        ca_file: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MergeArg {
    /// Copy nothing if any application is already there.
    Refuse,
    /// Keep the destination's.
    Skip,
    /// Keep whichever was changed last.
    Newer,
}

pub fn run(cmd: StoreCommand, settings: &Settings, auth: &Auth) -> Result<ExitCode, Failure> {
    let StoreCommand::Copy { to, merge, ca_file } = cmd;
    let id = auth.operator_id(settings)?;
    let password = auth.password(&format!("工号 {id} 的密码："))?;
    let policy = settings.access.rules.policy;
    let source = access::sign_in(
        settings.location(),
        &id,
        &password,
        policy,
        chrono::Utc::now(),
        "cli",
    )?;
    if !source.account.is_supervisor() {
        return Err(Failure::Message("只有负责人可以复制数据库".into()));
    }
    let me = source.account.clone();
    let dest = if to.starts_with("postgresql://") || to.starts_with("postgres://") {
        Location::Server(Server {
            url: to.clone(),
            ca_file,
            window: settings
                .server
                .as_ref()
                .map_or_else(|| "复制".into(), |s| s.window.clone()),
        })
    } else {
        Location::File(std::path::PathBuf::from(&to))
    };
    let shown = match &dest {
        Location::Server(s) => crate::store::server::redacted(&s.url),
        Location::File(d) => d.display().to_string(),
    };
    let new = matches!(access::state(&dest)?, access::StoreState::New);
    let mut dst: Store = match (&dest, new) {
        // A new data directory: set up with this supervisor (key slots, a recovery key).
        (Location::File(_), true) => {
            let (session, recovery) = access::setup(
                &dest,
                &NewOperator {
                    id: me.id.clone(),
                    name: me.name.clone(),
                    role: Role::Supervisor,
                    password: password.clone(),
                },
                Kdf::calibrate(),
                settings.access.rules.min_password,
                None,
            )?;
            say!("已在 {shown} 新建数据库。恢复密钥（只显示这一次，请抄在纸上保管）：");
            say!("    {}", recovery.as_str());
            session.store
        }
        // A new server: the copy brings the operators; this supervisor's password is set.
        (Location::Server(s), true) => Store::open_server(s)?,
        // An existing one: the same supervisor signs in there.
        (_, false) => {
            access::sign_in(&dest, &id, &password, policy, chrono::Utc::now(), "copy")?.store
        }
    };
    let merge = match merge {
        MergeArg::Refuse => Merge::Refuse,
        MergeArg::Skip => Merge::Skip,
        MergeArg::Newer => Merge::Newer,
    };
    let report = source.store.copy_into(&mut dst, merge, &me.operator())?;
    if let (Location::Server(_), true) = (&dest, new) {
        let kdf = Kdf::calibrate();
        dst.set_operator_password(
            &me.id,
            Some(&kdf.hash_password(password.expose().as_bytes())),
        )?;
    }
    let chain = dst.verify_audit()?;
    say!(
        "已复制到 {shown}：申请 {} 份（目标中已有而保留 {} 份，以较新替换 {} 份），照片 {} 张，待发送 {} 条，操作员 {} 位，审计记录 {} 条。",
        report.applications,
        report.kept,
        report.replaced,
        report.photos,
        report.outbox,
        report.operators,
        report.audit_entries
    );
    match chain.broken {
        None => say!("✓ 目标的审计记录完整：共 {} 条，哈希链一致", chain.entries),
        Some((n, why)) => {
            say!("✗ 目标的审计记录第 {n} 条不符：{why}");
            return Ok(ExitCode::from(super::EXIT_INVALID));
        }
    }
    if matches!(dest, Location::Server(_)) {
        let without: Vec<String> = dst
            .operator_accounts()?
            .into_iter()
            .filter(|a| a.active && a.id != me.id)
            .filter(|a| dst.operator_password(&a.id).ok().flatten().is_none())
            .map(|a| a.id)
            .collect();
        if !without.is_empty() {
            say!(
                "注意：以下操作员在中心数据库还没有密码，须由负责人重置后才能登录：{}",
                without.join("、")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
