//! `sbk operators`: set the store up, and a supervisor's work on accounts (add, list,
//! disable, reset), one's own password, the recovery key, and the delivery key.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};

use super::signin::{Auth, new_password, read_hidden};

/// `println!` that returns the write error instead of panicking (e.g. on `| head`).
macro_rules! say {
    ($($arg:tt)*) => {
        writeln!(std::io::stdout().lock(), $($arg)*)?
    };
}
use super::Failure;
use crate::access::{self, NewOperator};
use crate::config::Settings;
use crate::keys::Kdf;
use crate::store::Role;

#[derive(Debug, Subcommand)]
pub enum OperatorsCommand {
    /// First run: create the store with its first operator, a supervisor (the wizard
    /// does this too). Prints the recovery key once: write it down on paper.
    Setup {
        /// The supervisor's 工号.
        id: String,
        #[arg(long)]
        name: String,
    },
    /// Add an operator (supervisor only); their first password is asked.
    Add {
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_enum, default_value = "clerk")]
        role: RoleArg,
    },
    /// Every operator with role, state and last sign-in.
    List {
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Disable an operator (supervisor only): their password opens nothing any more.
    /// Operators are never deleted: the audit log names them.
    Disable { id: String },
    /// Give an operator a new password (supervisor only); they choose their own at the
    /// next sign-in. Enables a disabled operator.
    Reset { id: String },
    /// Change your own password.
    Passwd,
    /// Open the store with the recovery key and give a supervisor a new password (when
    /// passwords are forgotten or keys.json is lost or damaged).
    Recover {
        /// The supervisor's 工号.
        id: String,
    },
    /// Make the key `sbk sync` uses from cron when nobody is signed in (supervisor only),
    /// written to the delivery key file (0600); `--remove` withdraws it.
    DeliveryKey {
        #[arg(long)]
        remove: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// 经办.
    Clerk,
    /// 负责人.
    Supervisor,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Clerk => Role::Clerk,
            RoleArg::Supervisor => Role::Supervisor,
        }
    }
}

pub fn run(cmd: OperatorsCommand, settings: &Settings, auth: &Auth) -> Result<ExitCode, Failure> {
    let min = settings.access.rules.min_password;
    match cmd {
        OperatorsCommand::Setup { id, name } => {
            let password = new_password(auth, &format!("负责人 {id} "))?;
            eprintln!("正在设置（计算密钥约需 1 秒）……");
            let (session, recovery) = access::setup(
                settings.location(),
                &NewOperator {
                    id,
                    name,
                    role: Role::Supervisor,
                    password,
                },
                Kdf::calibrate(),
                min,
                settings.legacy_db_key.as_ref().map(|k| k.expose()),
            )?;
            say!(
                "已设置：负责人 {}（{}）。",
                session.account.name,
                session.account.id
            );
            say!("恢复密钥（只显示这一次，请抄在纸上，交负责人锁好保管）：");
            say!("    {}", recovery.as_str());
            session.sign_out()?;
        }
        OperatorsCommand::Add { id, name, role } => {
            let mut session = auth.supervisor(settings, "添加操作员")?;
            let password = new_password(auth, &format!("新操作员 {id} "))?;
            let account = session.add_operator(
                &NewOperator {
                    id,
                    name,
                    role: role.into(),
                    password,
                },
                min,
            )?;
            say!(
                "已添加{} {}（{}）。",
                account.role.label(),
                account.name,
                account.id
            );
            session.sign_out()?;
        }
        OperatorsCommand::List { json } => {
            let session = auth.supervisor(settings, "查看操作员")?;
            let accounts = session.store.operator_accounts()?;
            if json {
                say!("{}", serde_json::to_string_pretty(&accounts)?);
            } else {
                say!("工号        姓名        角色    状态  最近登录");
                for a in &accounts {
                    say!(
                        "{}  {}  {}  {}  {}",
                        crate::tui::theme::pad(&a.id, 10),
                        crate::tui::theme::pad(&a.name, 10),
                        crate::tui::theme::pad(a.role.label(), 6),
                        if a.active { "在用" } else { "停用" },
                        a.last_sign_in_at
                            .map(|t| t
                                .with_timezone(&crate::domain::dates::beijing())
                                .format("%Y-%m-%d %H:%M")
                                .to_string())
                            .unwrap_or_else(|| "—".into())
                    );
                }
            }
            session.sign_out()?;
        }
        OperatorsCommand::Disable { id } => {
            let mut session = auth.supervisor(settings, "停用操作员")?;
            session.disable_operator(&id)?;
            say!("已停用 {id}：其密码不能再打开数据库。");
            session.sign_out()?;
        }
        OperatorsCommand::Reset { id } => {
            let mut session = auth.supervisor(settings, "重置密码")?;
            let password = new_password(auth, &format!("{id} 的临时"))?;
            session.reset_password(&id, &password, min)?;
            say!("已重置 {id} 的密码：下次登录时需设置新密码。");
            session.sign_out()?;
        }
        OperatorsCommand::Passwd => {
            let id = auth.operator_id(settings)?;
            let password = auth.password(&format!("工号 {id} 的当前密码："))?;
            let mut session = access::sign_in(
                settings.location(),
                &id,
                &password,
                settings.access.rules.policy,
                chrono::Utc::now(),
                "cli",
            )?;
            let new = new_password(auth, "")?;
            session.change_password(&new, min)?;
            say!("已修改密码。");
            session.sign_out()?;
        }
        OperatorsCommand::Recover { id } => {
            let recovery = if auth.password_stdin || !std::io::stdin().is_terminal() {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                zeroize::Zeroizing::new(line)
            } else {
                zeroize::Zeroizing::new(read_hidden("恢复密钥：")?.expose().to_owned())
            };
            let password = new_password(auth, &format!("负责人 {id} "))?;
            let kdf = crate::keys::KeyFile::new(&settings.data_dir)
                .kdf()
                .unwrap_or_else(Kdf::calibrate);
            let session =
                access::recover(settings.location(), &recovery, &id, &password, kdf, min)?;
            say!(
                "已用恢复密钥打开数据库，并为负责人 {}（{}）设置了新密码。其他操作员如无法登录，请由负责人重置其密码。",
                session.account.name,
                session.account.id
            );
            session.sign_out()?;
        }
        OperatorsCommand::DeliveryKey { remove } => {
            let mut session = auth.supervisor(settings, "设置无人值守发送")?;
            let file = &settings.access.delivery_key_file;
            if remove {
                session.remove_delivery_key()?;
                let _ = std::fs::remove_file(file);
                say!("已停用无人值守发送的密钥。");
            } else {
                session.set_delivery_key(file)?;
                say!(
                    "已生成无人值守发送的密钥：{}（只有本人可读）。sbk sync 在无人登录时用它打开数据库；此文件能打开数据库，请勿复制到别处。",
                    file.display()
                );
            }
            session.sign_out()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
