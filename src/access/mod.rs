//! Signing in: the store opens only for an operator with their password (or for delivery
//! with its secret, or for a supervisor with the recovery key). A `Session` is an open
//! store and who is at the keyboard; what a supervisor may do beside a clerk is checked
//! here, in one place.
//!
//! Two places a store can be (`Location`): an encrypted SQLite file whose key only the
//! operators' key slots open (`file`), or a centre's PostgreSQL server, where the
//! operators' passwords are checked against Argon2id hashes in the store itself
//! (`server`): its data at rest are the database server's to protect.

mod file;
mod server;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use zeroize::Zeroizing;

use crate::keys::{DataKey, Kdf, KeyFile, KeyFileError, Password, Policy, Unlocked};
use crate::store::{
    Account, AuditAction, Operator, Role, Store, StoreError, checked_account_field,
};

pub use file::recover;

/// Why signing in or an operator change did not happen; said to the clerk in Chinese.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error(transparent)]
    Keys(#[from] KeyFileError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("该工号已停用：请联系负责人")]
    Disabled,
    #[error("只有负责人可以{0}")]
    NotSupervisor(&'static str),
    #[error("不能停用自己：请由另一位负责人操作")]
    NotYourself,
    #[error("{0}")]
    Invalid(String),
    #[error("还没有设置：请在终端中运行 sbk，按提示创建第一位负责人")]
    NotSetUp,
    #[error("已经设置过，不能再次初始化")]
    AlreadySetUp,
    #[error(
        "数据库已加密，但找不到密钥文件 keys.json：请从备份恢复，或由负责人用恢复密钥恢复（sbk operators recover）"
    )]
    KeysMissing,
    #[error("恢复密钥与这个数据库不符：请核对抄写的恢复密钥，或确认数据目录")]
    WrongRecoveryKey,
    #[error(transparent)]
    Recovery(#[from] crate::keys::RecoveryKeyError),
    #[error("无法写入文件 {}：{source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}只用于本机的数据库文件；中心数据库由数据库服务器保护")]
    FileOnly(&'static str),
}

type Result<T> = std::result::Result<T, AccessError>;

/// Where a store is.
#[derive(Debug, Clone)]
pub enum Location {
    /// The embedded, encrypted SQLite file in this data directory (one PC, a laptop).
    File(PathBuf),
    /// A centre's PostgreSQL server, shared by every window.
    Server(crate::store::server::Server),
}

impl From<&Path> for Location {
    fn from(p: &Path) -> Location {
        Location::File(p.to_owned())
    }
}
impl From<&PathBuf> for Location {
    fn from(p: &PathBuf) -> Location {
        Location::File(p.clone())
    }
}
impl From<&Location> for Location {
    fn from(l: &Location) -> Location {
        l.clone()
    }
}

/// Where a store stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreState {
    /// Nothing yet: first run.
    New,
    /// A plain store from an earlier version and no key slots: set up, then encrypted.
    Plain,
    /// Ready to sign in.
    Ready,
    /// An encrypted store without its key slots: only the recovery key (or a backup of
    /// keys.json) opens it.
    KeysMissing,
}

/// Where a store stands (a server is asked: it may be unreachable).
pub fn state(at: impl Into<Location>) -> Result<StoreState> {
    match at.into() {
        Location::File(dir) => Ok(file::state(&dir)),
        Location::Server(s) => server::state(&s),
    }
}

/// An operator to add: 工号, 姓名, role and first password.
#[derive(Debug, Clone)]
pub struct NewOperator {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub password: Password,
}

impl NewOperator {
    /// The fields checked: 工号 and 姓名 as the store keeps them, the password by the
    /// centre's minimum length.
    fn checked(&self, min_password: usize) -> Result<(String, String)> {
        let id = checked_account_field(&self.id, "工号").map_err(AccessError::Invalid)?;
        if !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(AccessError::Invalid(
                "工号只能由字母、数字、- 和 _ 组成".into(),
            ));
        }
        let name = checked_account_field(&self.name, "姓名").map_err(AccessError::Invalid)?;
        if let Some(problem) = self.password.problem(min_password) {
            return Err(AccessError::Invalid(problem));
        }
        Ok((id, name))
    }
}

/// Sign-in rules a centre sets (the config file's `[access]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rules {
    pub policy: Policy,
    pub min_password: usize,
}

impl Default for Rules {
    fn default() -> Rules {
        Rules {
            policy: Policy::default(),
            min_password: 8,
        }
    }
}

/// Who delivers when nobody is signed in (`sbk sync` from cron).
pub const DELIVERY_ID: &str = "SYNC";

/// Set the store up at first run: its first operator, a supervisor. Returns the session
/// and, for a file, the recovery key (to be shown once and written down on paper). A plain
/// file of an earlier version (or one encrypted with a passphrase, `legacy_key`) is
/// converted.
pub fn setup(
    at: impl Into<Location>,
    first: &NewOperator,
    kdf: Kdf,
    min_password: usize,
    legacy_key: Option<&str>,
) -> Result<(Session, Zeroizing<String>)> {
    match at.into() {
        Location::File(dir) => file::setup(&dir, first, kdf, min_password, legacy_key),
        Location::Server(s) => {
            server::setup(&s, first, kdf, min_password).map(|s| (s, Zeroizing::new(String::new())))
        }
    }
}

/// Sign in with 工号 and password. `how` says where, for the audit log ("start", "cli").
pub fn sign_in(
    at: impl Into<Location>,
    id: &str,
    password: &Password,
    policy: Policy,
    now: DateTime<Utc>,
    how: &str,
) -> Result<Session> {
    match at.into() {
        Location::File(dir) => file::sign_in(&dir, id, password, policy, now, how),
        Location::Server(s) => server::sign_in(&s, id, password, policy, now, how),
    }
}

/// Open the store for delivery with nobody signed in (`sbk sync` from cron): a file with
/// its delivery slot's secret; a server with the credentials of its URL.
pub fn sign_in_delivery(at: impl Into<Location>, secret: &str) -> Result<Session> {
    match at.into() {
        Location::File(dir) => file::sign_in_delivery(&dir, secret),
        Location::Server(s) => server::sign_in_delivery(&s),
    }
}

fn delivery_account() -> Account {
    Account {
        id: DELIVERY_ID.into(),
        name: "无人值守发送".into(),
        role: Role::Clerk,
        active: true,
        created_at: Utc::now(),
        last_sign_in_at: None,
        must_change: false,
    }
}

fn active_account(store: &Store, id: &str) -> Result<Account> {
    match store.operator_account(id)? {
        Some(a) if a.active => Ok(a),
        _ => Err(AccessError::Disabled),
    }
}

/// An open store and who is using it.
pub struct Session {
    pub store: Store,
    pub account: Account,
    location: Location,
    /// A file's data key (a server's store has none).
    key: Option<DataKey>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("account", &self.account.id)
            .finish_non_exhaustive()
    }
}

/// How to check a password off the UI thread (it takes Argon2's time): made by the
/// session from what the store holds, run on a thread, finished by the session.
pub enum Verifier {
    Slots(KeyFile),
    Hash {
        phc: Option<String>,
        /// For an unknown 工号: the store's parameters, so that it costs the same time.
        dummy: Kdf,
        locked_until: Option<DateTime<Utc>>,
    },
}

/// What a check found.
#[derive(Debug)]
pub enum Verdict {
    Slots(std::result::Result<Unlocked, KeyFileError>),
    Hash(bool),
    Locked(DateTime<Utc>),
}

impl Verifier {
    pub fn check(
        &self,
        id: &str,
        password: &Password,
        policy: Policy,
        now: DateTime<Utc>,
    ) -> Verdict {
        match self {
            Verifier::Slots(keys) => Verdict::Slots(keys.unlock(id, password, policy, now)),
            Verifier::Hash {
                locked_until: Some(until),
                ..
            } if *until > now => Verdict::Locked(*until),
            Verifier::Hash { phc, dummy, .. } => {
                Verdict::Hash(server::check(phc.as_deref(), *dummy, password))
            }
        }
    }
}

impl Session {
    /// A file's data key (for another connection to the same store).
    pub fn key(&self) -> Option<&DataKey> {
        self.key.as_ref()
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Another connection to the same store (the delivery worker's).
    pub fn open_store(&self) -> std::result::Result<Store, StoreError> {
        match (&self.location, &self.key) {
            (Location::File(dir), Some(key)) => Store::open_dir(dir, key),
            (Location::Server(s), _) => Store::open_server(s),
            (Location::File(_), None) => Err(StoreError::Encrypted),
        }
    }

    pub fn operator(&self) -> Operator {
        self.account.operator()
    }

    fn require_supervisor(&self, what: &'static str) -> Result<()> {
        if self.account.is_supervisor() {
            Ok(())
        } else {
            Err(AccessError::NotSupervisor(what))
        }
    }

    /// The Argon2id parameters for a new password (those this store was set up with).
    fn kdf(&self) -> Kdf {
        match &self.location {
            Location::File(dir) => KeyFile::new(dir).kdf(),
            Location::Server(_) => server::kdf_of(&self.store),
        }
        .unwrap_or_else(Kdf::calibrate)
    }

    /// What checking `id`'s password on a thread needs (unlocking the screen, or another
    /// operator taking over).
    pub fn verifier(&self, id: &str) -> Result<Verifier> {
        match &self.location {
            Location::File(dir) => Ok(Verifier::Slots(KeyFile::new(dir))),
            Location::Server(_) => server::verifier(&self.store, id),
        }
    }

    /// Check a password here and now (the command line; tests).
    pub fn verify(
        &self,
        id: &str,
        password: &Password,
        policy: Policy,
        now: DateTime<Utc>,
    ) -> Result<Account> {
        let verdict = self.verifier(id)?.check(id, password, policy, now);
        self.finish_verify(id, verdict, policy, now)
    }

    /// Finish a check a thread ran: the account, if the password was right and it is
    /// active; failures and locks recorded.
    pub fn finish_verify(
        &self,
        id: &str,
        verdict: Verdict,
        policy: Policy,
        now: DateTime<Utc>,
    ) -> Result<Account> {
        let id = id.trim();
        match verdict {
            Verdict::Slots(result) => {
                let unlocked = result?;
                file::write_pending(&self.store, &unlocked.pending)?;
                if Some(&unlocked.key) != self.key.as_ref() {
                    return Err(StoreError::WrongKey.into());
                }
                active_account(&self.store, id)
            }
            Verdict::Hash(ok) => server::finish(&self.store, id, ok, policy, now),
            Verdict::Locked(until) => {
                server::record_failure(&self.store, id, None, policy, now)?;
                Err(KeyFileError::Locked { until }.into())
            }
        }
    }

    /// The screen was locked (`idle` or at the operator's key).
    pub fn record_lock(&self, idle: bool) -> Result<()> {
        self.store.audit(
            &self.operator(),
            AuditAction::Lock,
            None,
            Some(if idle { "idle" } else { "key" }),
        )?;
        Ok(())
    }

    /// The same operator unlocked the screen.
    pub fn record_unlock(&self) -> Result<()> {
        self.store
            .audit(&self.operator(), AuditAction::Unlock, None, None)?;
        Ok(())
    }

    /// `account` (verified) takes the keyboard: the one before is signed out.
    pub fn switch_to(&mut self, account: Account) -> Result<()> {
        self.store
            .audit(&self.operator(), AuditAction::SignOut, None, Some("switch"))?;
        self.store.record_sign_in(&account, "switch")?;
        self.account = account;
        Ok(())
    }

    /// Sign out (the wizard closes, or a command ends).
    pub fn sign_out(&self) -> Result<()> {
        self.store
            .audit(&self.operator(), AuditAction::SignOut, None, None)?;
        Ok(())
    }

    /// Set `id`'s password: a file's slot for it, or a server's hash.
    fn set_password(&self, id: &str, password: &Password) -> Result<()> {
        let kdf = self.kdf();
        match (&self.location, &self.key) {
            (Location::File(dir), Some(key)) => {
                KeyFile::new(dir).set_operator(key, id, password, kdf)?;
            }
            (Location::File(_), None) => return Err(StoreError::Encrypted.into()),
            (Location::Server(_), _) => {
                let phc = kdf.hash_password(password.expose().as_bytes());
                self.store.set_operator_password(id, Some(&phc))?;
                self.store.set_sign_in_attempts(id, None)?;
            }
        }
        Ok(())
    }

    /// Add an operator with a first password (a supervisor's right).
    pub fn add_operator(&mut self, new: &NewOperator, min_password: usize) -> Result<Account> {
        self.require_supervisor("添加操作员")?;
        let (id, name) = new.checked(min_password)?;
        let by = self.operator();
        let account = self.store.add_operator(&id, &name, new.role, &by)?;
        self.set_password(&id, &new.password)?;
        Ok(account)
    }

    /// Disable an operator: their password opens nothing any more.
    pub fn disable_operator(&mut self, id: &str) -> Result<()> {
        self.require_supervisor("停用操作员")?;
        let id = id.trim();
        if id == self.account.id {
            return Err(AccessError::NotYourself);
        }
        let by = self.operator();
        self.store.set_operator_active(id, false, &by)?;
        match &self.location {
            Location::File(dir) => KeyFile::new(dir).remove_operator(id)?,
            Location::Server(_) => self.store.set_operator_password(id, None)?,
        }
        Ok(())
    }

    /// Give an operator a new password (a supervisor's right; they choose their own at the
    /// next sign-in). A disabled operator is enabled again by this.
    pub fn reset_password(
        &mut self,
        id: &str,
        password: &Password,
        min_password: usize,
    ) -> Result<()> {
        self.require_supervisor("重置密码")?;
        if let Some(problem) = password.problem(min_password) {
            return Err(AccessError::Invalid(problem));
        }
        let id = id.trim();
        let by = self.operator();
        let account = self
            .store
            .operator_account(id)?
            .ok_or_else(|| StoreError::NoOperator(id.to_owned()))?;
        if !account.active {
            self.store.set_operator_active(id, true, &by)?;
        }
        self.set_password(id, password)?;
        self.store.record_password_set(id, &by)?;
        Ok(())
    }

    /// The signed-in operator chooses a new password.
    pub fn change_password(&mut self, password: &Password, min_password: usize) -> Result<()> {
        if let Some(problem) = password.problem(min_password) {
            return Err(AccessError::Invalid(problem));
        }
        let me = self.operator();
        self.set_password(&me.id, password)?;
        self.store.record_password_set(&me.id, &me)?;
        self.account.must_change = false;
        Ok(())
    }

    /// Make a delivery key (replacing any earlier one) and write it to `file` (0600), for
    /// `sbk sync` from cron (a supervisor's right; a file's store only).
    pub fn set_delivery_key(&mut self, file: &Path) -> Result<()> {
        self.require_supervisor("设置无人值守发送")?;
        let (Location::File(dir), Some(key)) = (&self.location, &self.key) else {
            return Err(AccessError::FileOnly("无人值守发送的密钥"));
        };
        let kdf = self.kdf();
        let secret = KeyFile::new(dir).set_delivery(key, kdf)?;
        if let Some(parent) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::private_files::create_private_dir(parent).map_err(|source| {
                AccessError::Write {
                    path: parent.to_owned(),
                    source,
                }
            })?;
        }
        crate::private_files::write_private(file, format!("{}\n", secret.as_str()).as_bytes())
            .map_err(|source| AccessError::Write {
                path: file.to_owned(),
                source,
            })?;
        self.store.audit(
            &self.operator(),
            AuditAction::DeliveryKey,
            None,
            Some("set"),
        )?;
        Ok(())
    }

    /// Remove the delivery key: the file's secret opens nothing any more.
    pub fn remove_delivery_key(&mut self) -> Result<()> {
        self.require_supervisor("停用无人值守发送")?;
        let Location::File(dir) = &self.location else {
            return Err(AccessError::FileOnly("无人值守发送的密钥"));
        };
        KeyFile::new(dir).remove_delivery()?;
        self.store.audit(
            &self.operator(),
            AuditAction::DeliveryKey,
            None,
            Some("removed"),
        )?;
        Ok(())
    }
}
