//! Signing in: the store opens only for an operator with their password (or for delivery
//! with its secret, or for a supervisor with the recovery key). A `Session` is an open
//! store and who is at the keyboard; what a supervisor may do beside a clerk is checked
//! here, in one place.
//!
//! First run sets the store up with its first supervisor; a plain store written by an
//! earlier version is encrypted then, checked, and its plaintext overwritten.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use zeroize::Zeroizing;

use crate::keys::{DataKey, Kdf, KeyFile, KeyFileError, Password, Pending, Policy};
use crate::store::{
    Account, AuditAction, DB_FILE, Operator, Role, Store, StoreError, checked_account_field,
    encrypt_store_file, is_plain_database,
};

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
    #[error("本机还没有设置：请在终端中运行 sbk，按提示创建第一位负责人")]
    NotSetUp,
    #[error("本机已经设置过，不能再次初始化")]
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
}

type Result<T> = std::result::Result<T, AccessError>;

/// Where a data directory stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreState {
    /// Nothing yet: first run.
    New,
    /// A plain store from an earlier version and no key slots: set up, then encrypted.
    Plain,
    /// Key slots and an encrypted store: sign in.
    Ready,
    /// An encrypted store without its key slots: only the recovery key (or a backup of
    /// keys.json) opens it.
    KeysMissing,
}

/// Where the data directory stands.
pub fn state(data_dir: &Path) -> StoreState {
    let db = data_dir.join(DB_FILE);
    let keys = KeyFile::new(data_dir).exists();
    match (db.exists(), keys) {
        (_, true) => StoreState::Ready,
        (false, false) => StoreState::New,
        (true, false) if is_plain_database(&db) => StoreState::Plain,
        (true, false) if std::fs::metadata(&db).is_ok_and(|m| m.len() == 0) => StoreState::New,
        (true, false) => StoreState::KeysMissing,
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

/// An open store and who is using it.
pub struct Session {
    pub store: Store,
    pub account: Account,
    key: DataKey,
    data_dir: PathBuf,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("account", &self.account.id)
            .finish_non_exhaustive()
    }
}

/// Who delivers when nobody is signed in (`sbk sync` from cron with the delivery key).
pub const DELIVERY_ID: &str = "SYNC";

/// Set the store up at first run: its first operator, a supervisor. Returns the session
/// and the recovery key, to be shown once and written down on paper. A plain store from
/// an earlier version (or one encrypted with a passphrase, `legacy_key`) is converted.
pub fn setup(
    data_dir: &Path,
    first: &NewOperator,
    kdf: Kdf,
    min_password: usize,
    legacy_key: Option<&str>,
) -> Result<(Session, Zeroizing<String>)> {
    let (id, name) = first.checked(min_password)?;
    crate::private_files::create_private_dir(data_dir).map_err(StoreError::Io)?;
    let before = state(data_dir);
    let converting = match before {
        StoreState::Ready => return Err(AccessError::AlreadySetUp),
        StoreState::KeysMissing if legacy_key.is_none() => return Err(AccessError::KeysMissing),
        StoreState::KeysMissing | StoreState::Plain => true,
        StoreState::New => false,
    };
    let key = DataKey::generate();
    let keys = KeyFile::new(data_dir);
    // The slots first: if converting then fails, they are removed and the old file is
    // as it was; a store is never encrypted under a key that no slot holds.
    keys.create(&key, &id, &first.password, kdf)?;
    if converting {
        let plain = if before == StoreState::Plain {
            None
        } else {
            legacy_key
        };
        if let Err(e) = encrypt_store_file(&data_dir.join(DB_FILE), plain, &key) {
            let _ = std::fs::remove_file(keys.path());
            return Err(e.into());
        }
    }
    let mut store = Store::open_dir(data_dir, &key)?;
    let operator = Operator {
        id: id.clone(),
        name,
    };
    let account = match store.operator_account(&id)? {
        Some(a) => a,
        None => store.add_operator(&id, &operator.name, Role::Supervisor, &operator)?,
    };
    store.audit(
        &operator,
        AuditAction::Setup,
        None,
        Some(if converting { "converted" } else { "new" }),
    )?;
    store.record_sign_in(&account, "setup")?;
    let recovery = key.recovery_text();
    Ok((
        Session {
            store,
            account,
            key,
            data_dir: data_dir.to_owned(),
        },
        recovery,
    ))
}

/// Sign in with 工号 and password. `how` says where, for the audit log ("start", "cli").
pub fn sign_in(
    data_dir: &Path,
    id: &str,
    password: &Password,
    policy: Policy,
    now: DateTime<Utc>,
    how: &str,
) -> Result<Session> {
    // A folder others can write to is refused before anything is read from it: someone
    // could have swapped the files in it.
    crate::private_files::create_private_dir(data_dir).map_err(StoreError::Io)?;
    match state(data_dir) {
        StoreState::New | StoreState::Plain => return Err(AccessError::NotSetUp),
        StoreState::KeysMissing => return Err(AccessError::KeysMissing),
        StoreState::Ready => {}
    }
    let id = id.trim();
    let unlocked = KeyFile::new(data_dir).unlock(id, password, policy, now)?;
    let mut store = Store::open_dir(data_dir, &unlocked.key)?;
    write_pending(&store, &unlocked.pending)?;
    let account = active_account(&store, id)?;
    store.record_sign_in(&account, how)?;
    Ok(Session {
        store,
        account,
        key: unlocked.key,
        data_dir: data_dir.to_owned(),
    })
}

/// Open the store for delivery with the delivery slot's secret (`sbk sync` from cron).
pub fn sign_in_delivery(data_dir: &Path, secret: &str) -> Result<Session> {
    if state(data_dir) != StoreState::Ready {
        return Err(AccessError::NotSetUp);
    }
    let keys = KeyFile::new(data_dir);
    let key = keys.unlock_delivery(secret)?;
    let store = Store::open_dir(data_dir, &key)?;
    write_pending(&store, &keys.take_pending()?)?;
    let account = Account {
        id: DELIVERY_ID.into(),
        name: "无人值守发送".into(),
        role: Role::Clerk,
        active: true,
        created_at: Utc::now(),
        last_sign_in_at: None,
        must_change: false,
    };
    store.audit(
        &account.operator(),
        AuditAction::SignIn,
        None,
        Some("delivery"),
    )?;
    Ok(Session {
        store,
        account,
        key,
        data_dir: data_dir.to_owned(),
    })
}

/// Open the store with the recovery key and give supervisor `id` a new password (the key
/// slots are made anew if they were lost or damaged).
pub fn recover(
    data_dir: &Path,
    recovery: &str,
    id: &str,
    password: &Password,
    kdf: Kdf,
    min_password: usize,
) -> Result<Session> {
    let key = DataKey::from_recovery_text(recovery)?;
    if let Some(problem) = password.problem(min_password) {
        return Err(AccessError::Invalid(problem));
    }
    let mut store = match Store::open_dir(data_dir, &key) {
        Err(StoreError::WrongKey) => return Err(AccessError::WrongRecoveryKey),
        other => other?,
    };
    let account = store
        .operator_account(id.trim())?
        .filter(|a| a.active && a.is_supervisor())
        .ok_or_else(|| {
            AccessError::Invalid(format!(
                "{} 不是在用的负责人工号：恢复后需由负责人登录",
                id.trim()
            ))
        })?;
    let keys = KeyFile::new(data_dir);
    let pending = keys.take_pending().unwrap_or_default();
    keys.recreate(&key, &account.id, password, kdf)?;
    write_pending(&store, &pending)?;
    store.audit(&account.operator(), AuditAction::Recovered, None, None)?;
    store.record_password_set(&account.id, &account.operator())?;
    store.record_sign_in(&account, "recovery")?;
    Ok(Session {
        store,
        account,
        key,
        data_dir: data_dir.to_owned(),
    })
}

fn active_account(store: &Store, id: &str) -> Result<Account> {
    match store.operator_account(id)? {
        Some(a) if a.active => Ok(a),
        _ => Err(AccessError::Disabled),
    }
}

/// Failed sign-ins and locks recorded while the store could not be read, into the audit
/// log at the times they happened.
fn write_pending(store: &Store, pending: &[Pending]) -> Result<()> {
    for p in pending {
        let action = match p.event.as_str() {
            "locked_out" => AuditAction::LockedOut,
            _ => AuditAction::SignInFailed,
        };
        let operator = Operator {
            id: p.operator.clone(),
            name: String::new(),
        };
        store.audit_at(p.at, &operator, action, None)?;
    }
    Ok(())
}

impl Session {
    /// The data key, for another connection to the same store (the delivery worker's).
    pub fn key(&self) -> &DataKey {
        &self.key
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn operator(&self) -> Operator {
        self.account.operator()
    }

    fn keys(&self) -> KeyFile {
        KeyFile::new(&self.data_dir)
    }

    fn kdf(&self) -> Kdf {
        self.keys().kdf().unwrap_or_else(Kdf::calibrate)
    }

    fn require_supervisor(&self, what: &'static str) -> Result<()> {
        if self.account.is_supervisor() {
            Ok(())
        } else {
            Err(AccessError::NotSupervisor(what))
        }
    }

    /// Check `id`'s password against this store (unlocking the screen, or another operator
    /// taking over): the account, if the password opens their slot and it is active.
    pub fn verify(
        &self,
        id: &str,
        password: &Password,
        policy: Policy,
        now: DateTime<Utc>,
    ) -> Result<Account> {
        let id = id.trim();
        let unlocked = self.keys().unlock(id, password, policy, now)?;
        write_pending(&self.store, &unlocked.pending)?;
        if unlocked.key != self.key {
            return Err(StoreError::WrongKey.into());
        }
        active_account(&self.store, id)
    }

    /// Finish checking a password whose slot a thread opened (`KeyFile::unlock`): the
    /// account, if the slot holds this store's key and the account is active.
    pub fn finish_verify(&self, id: &str, unlocked: crate::keys::Unlocked) -> Result<Account> {
        write_pending(&self.store, &unlocked.pending)?;
        if unlocked.key != self.key {
            return Err(StoreError::WrongKey.into());
        }
        active_account(&self.store, id.trim())
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

    /// Add an operator with a first password (a supervisor's right).
    pub fn add_operator(&mut self, new: &NewOperator, min_password: usize) -> Result<Account> {
        self.require_supervisor("添加操作员")?;
        let (id, name) = new.checked(min_password)?;
        let by = self.operator();
        let account = self.store.add_operator(&id, &name, new.role, &by)?;
        let kdf = self.kdf();
        self.keys()
            .set_operator(&self.key, &id, &new.password, kdf)?;
        Ok(account)
    }

    /// Disable an operator: their slot is removed, so their password opens nothing.
    pub fn disable_operator(&mut self, id: &str) -> Result<()> {
        self.require_supervisor("停用操作员")?;
        if id.trim() == self.account.id {
            return Err(AccessError::NotYourself);
        }
        let by = self.operator();
        self.store.set_operator_active(id.trim(), false, &by)?;
        self.keys().remove_operator(id.trim())?;
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
        let kdf = self.kdf();
        self.keys().set_operator(&self.key, id, password, kdf)?;
        if !account.active {
            self.store.set_operator_active(id, true, &by)?;
        }
        self.store.record_password_set(id, &by)?;
        Ok(())
    }

    /// The signed-in operator chooses a new password.
    pub fn change_password(&mut self, password: &Password, min_password: usize) -> Result<()> {
        if let Some(problem) = password.problem(min_password) {
            return Err(AccessError::Invalid(problem));
        }
        let kdf = self.kdf();
        let me = self.operator();
        self.keys().set_operator(&self.key, &me.id, password, kdf)?;
        self.store.record_password_set(&me.id, &me)?;
        self.account.must_change = false;
        Ok(())
    }

    /// Make a delivery key (replacing any earlier one) and write it to `file` (0600), for
    /// `sbk sync` from cron (a supervisor's right).
    pub fn set_delivery_key(&mut self, file: &Path) -> Result<()> {
        self.require_supervisor("设置无人值守发送")?;
        let kdf = self.kdf();
        let secret = self.keys().set_delivery(&self.key, kdf)?;
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::private_files::create_private_dir(dir).map_err(|source| AccessError::Write {
                path: dir.to_owned(),
                source,
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
        self.keys().remove_delivery()?;
        self.store.audit(
            &self.operator(),
            AuditAction::DeliveryKey,
            None,
            Some("removed"),
        )?;
        Ok(())
    }
}
