//! Signing in on the command line: every command that opens the store names an operator
//! (`--operator`, else `SBK_OPERATOR_ID` or the config's `[operator] id`) and gives their
//! password, typed at the terminal (not shown) or, for scripts, on standard input with
//! `--password-stdin`. `SBK_OPERATOR_ID` alone grants nothing.

use std::io::{BufRead, IsTerminal, Read, Write};

use clap::Args;

use super::Failure;
use crate::access::{self, Session};
use crate::config::Settings;
use crate::keys::Password;

/// Who runs the command.
#[derive(Debug, Clone, Default, Args)]
pub struct Auth {
    /// The operator's 工号 (default: SBK_OPERATOR_ID, or [operator] id in the config).
    #[arg(long, global = true, value_name = "工号")]
    pub operator: Option<String>,
    /// Read the password from the first line of standard input (for scripts).
    #[arg(long, global = true)]
    pub password_stdin: bool,
}

/// The longest password line read from standard input.
const MAX_PASSWORD_LINE: u64 = 1024;

impl Auth {
    /// The 工号 to sign in as.
    pub fn operator_id(&self, settings: &Settings) -> Result<String, Failure> {
        self.operator
            .clone()
            .or_else(|| settings.default_operator_id.clone())
            .map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty())
            .ok_or_else(|| {
                Failure::Message(
                    "这个命令会读取或修改个人信息，需要操作员登录：请用 --operator 工号 指定操作员（密码在终端中输入，脚本可用 --password-stdin）".into(),
                )
            })
    }

    /// The password: from standard input with `--password-stdin`, else asked at the
    /// terminal without echo.
    pub fn password(&self, prompt: &str) -> Result<Password, Failure> {
        if self.password_stdin {
            return password_from_stdin();
        }
        if !std::io::stdin().is_terminal() {
            return Err(Failure::Message(
                "需要密码：请在终端中运行，或用 --password-stdin 从标准输入提供".into(),
            ));
        }
        read_hidden(prompt)
    }

    /// Sign in for a command; `how` goes into the audit log ("cli").
    pub fn session(&self, settings: &Settings) -> Result<Session, Failure> {
        let id = self.operator_id(settings)?;
        let password = self.password(&format!("工号 {id} 的密码："))?;
        let session = access::sign_in(
            settings.location(),
            &id,
            &password,
            settings.access.rules.policy,
            chrono::Utc::now(),
            "cli",
        )?;
        if session.account.must_change {
            return Err(Failure::Message(
                "密码已由负责人重置：请先设置新密码（在终端中运行 sbk 登录，或 sbk operators passwd）".into(),
            ));
        }
        Ok(session)
    }

    /// Sign in as a supervisor (for what only a supervisor may do: `what`).
    pub fn supervisor(&self, settings: &Settings, what: &str) -> Result<Session, Failure> {
        let session = self.session(settings)?;
        if !session.account.is_supervisor() {
            return Err(Failure::Message(format!("只有负责人可以{what}")));
        }
        Ok(session)
    }
}

fn password_from_stdin() -> Result<Password, Failure> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .take(MAX_PASSWORD_LINE)
        .read_line(&mut line)?;
    let password = Password::new(line.trim_end_matches(['\n', '\r']));
    line.clear();
    if password.expose().is_empty() {
        return Err(Failure::Message("标准输入中没有密码".into()));
    }
    Ok(password)
}

/// A line typed at the terminal without echo (raw mode; ✱ for each character).
pub fn read_hidden(prompt: &str) -> Result<Password, Failure> {
    use crossterm::event::{Event, KeyCode, KeyEventKind, KeyModifiers, read};
    let mut err = std::io::stderr();
    write!(err, "{prompt}")?;
    err.flush()?;
    crossterm::terminal::enable_raw_mode()?;
    let mut typed = zeroize::Zeroizing::new(String::new());
    let result = loop {
        match read() {
            Ok(Event::Key(k)) if k.kind != KeyEventKind::Release => match k.code {
                KeyCode::Enter => break Ok(()),
                KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                    break Err(Failure::Message("已取消".into()));
                }
                KeyCode::Backspace if typed.pop().is_some() => {
                    let _ = write!(err, "\u{8} \u{8}");
                }
                KeyCode::Char(c) if !c.is_control() && typed.chars().count() < 256 => {
                    typed.push(c);
                    let _ = write!(err, "*");
                }
                _ => {}
            },
            Ok(_) => {}
            Err(e) => break Err(e.into()),
        }
        let _ = err.flush();
    };
    let _ = crossterm::terminal::disable_raw_mode();
    let _ = writeln!(err);
    result.map(|()| Password::new(typed.as_str()))
}

/// A new password typed twice (or once from standard input).
pub fn new_password(auth: &Auth, whose: &str) -> Result<Password, Failure> {
    if auth.password_stdin {
        return password_from_stdin();
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::Message(
            "需要新密码：请在终端中运行，或用 --password-stdin 从标准输入提供".into(),
        ));
    }
    let first = read_hidden(&format!("{whose}的新密码："))?;
    let second = read_hidden("再输入一次：")?;
    if first != second {
        return Err(Failure::Message("两次输入的密码不一致，未修改".into()));
    }
    Ok(first)
}
