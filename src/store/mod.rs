//! The draft store: one SQLite file (WAL, `synchronous=FULL`, foreign keys on) holding
//! every application, its photos, its status history, the outbox and the audit log.
//!
//! Durability: every save is one small transaction committed with an fsync of the WAL, so
//! neither a killed process nor a laptop whose battery dies loses an acknowledged save,
//! and a save interrupted half-way leaves the previous version (SQLite's atomic commit).

mod applications;
mod audit;
pub mod copy;
pub mod db;
mod leases;
mod operators;
mod outbox;
mod photos;
pub mod retention;
pub mod schema;
pub mod schema_pg;
pub mod search;
pub mod server;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};
use uuid::Uuid;

use crate::domain::{Problem, Status};
use crate::keys::DataKey;
use db::Sql;

pub use applications::{HistoryEntry, Summary};
pub use audit::{
    AnchorCheck, AuditAction, AuditEntry, CentralPin, ChainReport, Operator, UNCHAINED_ENTRIES,
};
pub use leases::{DraftLease, Holder, Taken};
pub use operators::{Account, Role, SignInAttempts, checked_account_field};
pub use outbox::{Claim, OutboxEntry, OutboxState, ProgressStep};
pub use photos::{Photo, sha256_hex};
pub use retention::{DEFAULT_DRAFT_DAYS, DEFAULT_RETENTION_DAYS, PurgeReport, Retention, Rule};

/// The database file's name inside the data directory.
pub const DB_FILE: &str = "sbk.sqlite3";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("数据库错误：{0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{}", describe_postgres(.0))]
    Postgres(#[from] postgres::Error),
    #[error("数据库内容不符合预期：{0}")]
    Column(String),
    #[error("与中心数据库的连接已断开，这次操作没有完成：恢复连接后请再试一次")]
    ConnectionLost,
    #[error(
        "按完整证件号码查询而没有找到的次数过多：请 10 分钟后再试，或按姓名、证件号码后 4 位查找"
    )]
    SearchLimited,
    #[error(
        "与中心数据库的连接在确认保存时断开，不能确定这次操作是否已保存：恢复连接后按数据库中的实际内容核对"
    )]
    CommitUnknown,
    #[error("{0}")]
    Server(String),
    #[error("申请数据无法解析（{0}）")]
    Json(#[from] serde_json::Error),
    #[error("文件错误：{0}")]
    Io(#[from] std::io::Error),
    #[error("找不到申请 {0}")]
    NotFound(Uuid),
    #[error("找不到编号以“{0}”开头的申请：请用 sbk drafts list 或 search 查看编号")]
    NoMatch(String),
    #[error("“{prefix}”对应多条申请，请多输入几位编号")]
    Ambiguous { prefix: String },
    #[error("申请状态为“{}”，不能从“{}”改为“{}”", from.label(), from.label(), to.label())]
    IllegalTransition { from: Status, to: Status },
    #[error("申请状态为“{}”，已不能修改", .0.label())]
    NotEditable(Status),
    #[error("申请状态为“{}”，不能删除：只有草稿和待提交的申请可以删除", .0.label())]
    NotDeletable(Status),
    #[error("申请已被改为“{}”（不再是“{}”），请重新打开后再修改", actual.label(), expected.label())]
    StatusChanged { expected: Status, actual: Status },
    #[error("这份申请已由另一个发送进程接手或处理完毕，本次结果已作废")]
    ClaimLost,
    #[error("这份申请刚在另一个窗口被修改过：已重新载入最新内容，请核对后再改")]
    NewerVersion,
    #[error(
        "目标中已有 {0} 份相同的申请：未复制任何内容。请用 --merge skip（保留目标的）或 --merge newer（保留较新的）"
    )]
    CopyClash(usize),
    #[error("申请正在发送到社保卡系统，或可能已经送达，不能撤回：请等待同步结果（已退回后可修改）")]
    BeingDelivered,
    #[error("申请引用的照片不在本机存储中，请重新导入照片")]
    MissingPhoto,
    #[error("申请还不完整，不能提交：{}", .0.iter().map(|p| format!("{}：{}", p.field.label(), p.message)).collect::<Vec<_>>().join("；"))]
    Incomplete(Vec<Problem>),
    #[error("数据库版本 {found} 比本程序支持的 {supported} 新：请升级 sbk")]
    TooNew { found: usize, supported: usize },
    #[error("数据库已加密，需要密钥才能打开")]
    Encrypted,
    #[error("密钥与数据库不符，无法打开：数据库文件与 keys.json 是否来自同一个数据目录？")]
    WrongKey,
    #[error("工号 {0} 已经存在（停用的工号也不能再用）")]
    OperatorExists(String),
    #[error("没有工号为 {0} 的操作员")]
    NoOperator(String),
    #[error("不能停用最后一位在用的负责人：请先添加另一位负责人")]
    LastSupervisor,
    #[error("加密转换后的核对不符，原数据库未改动：请把数据目录备份后联系技术支持")]
    ConversionCheck,
}

impl StoreError {
    /// What kind of error this is, for the log: never the message, which may quote what
    /// was typed (a validation problem names the character it found).
    pub fn kind(&self) -> &'static str {
        match self {
            StoreError::Sqlite(_) => "sqlite",
            StoreError::Postgres(_) => "postgres",
            StoreError::Column(_) => "column",
            StoreError::ConnectionLost => "connection_lost",
            StoreError::SearchLimited => "search_limited",
            StoreError::CommitUnknown => "commit_unknown",
            StoreError::Server(_) => "server",
            StoreError::Json(_) => "json",
            StoreError::Io(_) => "io",
            StoreError::NotFound(_) => "not_found",
            StoreError::NoMatch(_) => "no_match",
            StoreError::Ambiguous { .. } => "ambiguous",
            StoreError::IllegalTransition { .. } => "illegal_transition",
            StoreError::NotEditable(_) => "not_editable",
            StoreError::NotDeletable(_) => "not_deletable",
            StoreError::StatusChanged { .. } => "status_changed",
            StoreError::ClaimLost => "claim_lost",
            StoreError::NewerVersion => "newer_version",
            StoreError::CopyClash(_) => "copy_clash",
            StoreError::BeingDelivered => "being_delivered",
            StoreError::MissingPhoto => "missing_photo",
            StoreError::Incomplete(_) => "incomplete",
            StoreError::TooNew { .. } => "too_new",
            StoreError::Encrypted => "encrypted",
            StoreError::WrongKey => "wrong_key",
            StoreError::OperatorExists(_) => "operator_exists",
            StoreError::NoOperator(_) => "no_operator",
            StoreError::LastSupervisor => "last_supervisor",
            StoreError::ConversionCheck => "conversion_check",
        }
    }
}

impl StoreError {
    /// A foreign key was violated (a photo an application names is not stored).
    pub fn is_foreign_key(&self) -> bool {
        match self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => {
                f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY
            }
            StoreError::Postgres(e) => {
                e.code() == Some(&postgres::error::SqlState::FOREIGN_KEY_VIOLATION)
            }
            _ => false,
        }
    }

    /// The server could not be reached or the connection broke: what is on screen is kept
    /// and saved again when it is back.
    pub fn is_connection(&self) -> bool {
        match self {
            StoreError::ConnectionLost | StoreError::CommitUnknown => true,
            StoreError::Postgres(e) => is_lost_connection(e),
            _ => false,
        }
    }
}

/// The connection is gone: closed, never made, or ended by the server (terminated by an
/// administrator, the server shutting down or crashed: SQLSTATE class 57P; a connection
/// exception: class 08; any FATAL error ends the session).
fn is_lost_connection(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.as_db_error() {
        Some(db) => {
            let code = db.code().code();
            code.starts_with("57P")
                || code.starts_with("08")
                || matches!(db.severity(), "FATAL" | "PANIC")
        }
        // The client's own errors: only those of the connection itself (its kinds are
        // private; their texts are fixed), not a value that could not be converted.
        None => [
            "error communicating",
            "unexpected message",
            "error parsing response",
            "error performing TLS",
            "error connecting",
            "timeout waiting",
        ]
        .iter()
        .any(|k| e.to_string().starts_with(k)),
    }
}

/// A PostgreSQL error in the clerk's words: a lost connection as such, the server's own
/// message otherwise (it never holds the values of a statement).
fn describe_postgres(e: &postgres::Error) -> String {
    if e.is_closed() || e.as_db_error().is_some() && is_lost_connection(e) {
        "与中心数据库的连接已断开：已输入的内容还在屏幕上，恢复连接后会自动保存".into()
    } else if let Some(db) = e.as_db_error() {
        format!("中心数据库出错：{}（{}）", db.message(), db.code().code())
    } else {
        format!("无法连接中心数据库：{e}")
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// An open store.
pub struct Store {
    db: db::Conn,
    path: PathBuf,
    /// Which counter window opened it (a centre's store): named in what it holds for the
    /// window itself (the application it had open) and in the draft locks it takes.
    window: String,
    /// The search columns as last written by this connection, per application: a save
    /// that leaves them unchanged writes only the body. Only this process writes drafts it
    /// is editing (the status guard in `save` catches anyone else), so the cache is safe.
    derived_cache: std::collections::HashMap<Uuid, applications::Derived>,
    /// Saves sent on a connection that broke before it answered, by application: the
    /// version each was made from and the body it wrote. The next save of that application
    /// finds out whether it was done (`save` is idempotent by version).
    unsure_saves: std::collections::HashMap<Uuid, (i64, Vec<String>)>,
    /// Where deliveries go (the central API's host), for their audit entries.
    delivery_host: Option<String>,
}

impl Store {
    /// Open (creating if needed) the store in `data_dir`, encrypted with `key`, migrating
    /// it to the latest schema. (`crate::keys` gives the key to a signed-in operator.)
    pub fn open_dir(data_dir: &Path, key: &DataKey) -> Result<Store> {
        create_private_dir(data_dir)?;
        tighten_files(data_dir)?;
        Store::open_keyed(&data_dir.join(DB_FILE), Some(key))
    }

    /// Open a plain (unencrypted) store file: one written before stores were encrypted,
    /// to convert it, and the benchmarks' baseline. Never used for a store in service.
    #[doc(hidden)]
    pub fn open_plain(path: &Path) -> Result<Store> {
        Store::open_keyed(path, None)
    }

    /// Open the store at `path`, encrypted with `key` (SQLCipher, AES-256), or plain.
    pub fn open_keyed(path: &Path, key: Option<&DataKey>) -> Result<Store> {
        let hex = key.map(DataKey::sqlcipher_key);
        let mut conn = open_connection(path, hex.as_ref().map(|h| h.as_str()))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        // Deleted means gone from the file: what is deleted or overwritten is zeroed in
        // place (not left in free pages), nothing is spilled to temporary files, and the WAL
        // is cut back after checkpoints (`forget_deleted` empties it after a delete).
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.pragma_update(None, "journal_size_limit", 4 * 1024 * 1024)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // Several processes write to one store (the wizard, its delivery worker, cron's
        // sbk sync). A transaction that begins as a read and then writes cannot wait for
        // the lock in WAL mode (SQLITE_BUSY at once, whatever the busy timeout): every
        // transaction here takes the write lock when it begins, and waits for it.
        conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
        let found = schema::user_version(&conn)?;
        if found > schema::LATEST {
            return Err(StoreError::TooNew {
                found,
                supported: schema::LATEST,
            });
        }
        schema::migrate(&mut conn)?;
        if found < schema::AUDIT_CHAINED {
            audit::chain_legacy_entries(&mut conn)?;
        }
        conn.set_prepared_statement_cache_capacity(64);
        Ok(Store {
            db: db::Conn::sqlite(conn),
            path: path.to_owned(),
            window: String::new(),
            derived_cache: std::collections::HashMap::new(),
            unsure_saves: std::collections::HashMap::new(),
            delivery_host: None,
        })
    }

    /// Open a centre's store on its PostgreSQL server, migrating it to the latest schema
    /// (once, whichever PC comes first).
    pub fn open_server(server: &server::Server) -> Result<Store> {
        let db = db::Conn::postgres(server::Connector::new(server)?)?;
        schema_pg::migrate(&db)?;
        Ok(Store {
            db,
            path: PathBuf::new(),
            window: server.window.clone(),
            derived_cache: std::collections::HashMap::new(),
            unsure_saves: std::collections::HashMap::new(),
            delivery_host: None,
        })
    }

    /// A commit whose answer was lost (`CommitUnknown`) settled from what is stored: `done`
    /// reads whether the transaction's change is there (on a new connection, made once the
    /// old session has left the server). `Ok` when it is, `ConnectionLost` when it is not
    /// (nothing was done); the reading's own error while the store cannot be read.
    fn settle(
        &self,
        committed: Result<()>,
        done: impl FnOnce(&db::Conn) -> Result<bool>,
    ) -> Result<()> {
        match committed {
            Err(StoreError::CommitUnknown) => {
                let done = match done(&self.db) {
                    Ok(done) => done,
                    // Not readable yet: still unknown.
                    Err(e) if e.is_connection() => return Err(StoreError::CommitUnknown),
                    Err(e) => return Err(e),
                };
                if done {
                    tracing::info!("a commit whose answer was lost had been done");
                    Ok(())
                } else {
                    tracing::info!("a commit whose answer was lost had not been done");
                    Err(StoreError::ConnectionLost)
                }
            }
            other => other,
        }
    }

    /// Which database this store is on.
    pub fn backend(&self) -> db::Backend {
        self.db.backend()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// After personal data was deleted: copy every page into the database file and cut the
    /// WAL to nothing, so that no earlier version of a deleted page is left in it. (With
    /// `secure_delete` the pages themselves were zeroed.) Waits for readers, up to the
    /// busy timeout.
    pub fn forget_deleted(&self) -> Result<()> {
        // On PostgreSQL a deleted row's space is the server's to reclaim (autovacuum).
        let Some(conn) = self.db.sqlite_connection() else {
            return Ok(());
        };
        let (busy, _, _): (i64, i64, i64) =
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        if busy != 0 {
            tracing::warn!("the WAL could not be emptied after a delete: a reader held it");
        }
        Ok(())
    }

    /// `PRAGMA integrity_check` returned "ok".
    pub fn integrity_ok(&self) -> Result<bool> {
        let Some(conn) = self.db.sqlite_connection() else {
            return Ok(true);
        };
        let r: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        Ok(r == "ok")
    }

    /// A remembered piece of UI state (no personal data: ids and step numbers only).
    /// On a centre's store each window keeps its own.
    pub fn ui_state(&self, key: &str) -> Result<Option<String>> {
        let key = format!("{}{key}", self.ui_prefix());
        self.db
            .query_opt("SELECT value FROM ui_state WHERE key = ?1", db::args![key])?
            .map(|r| r.get(0))
            .transpose()
    }

    fn ui_prefix(&self) -> String {
        if self.window.is_empty() {
            String::new()
        } else {
            format!("{}:", self.window)
        }
    }

    /// Remember (or with `None`, forget) a piece of UI state.
    pub fn set_ui_state(&self, key: &str, value: Option<&str>) -> Result<()> {
        let key = format!("{}{key}", self.ui_prefix());
        match value {
            Some(v) => self.db.execute(
                "INSERT INTO ui_state (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                db::args![key, v],
            )?,
            None => self
                .db
                .execute("DELETE FROM ui_state WHERE key = ?1", db::args![key])?,
        };
        Ok(())
    }

    /// The raw SQLite connection, for benchmarks and tests that measure against bare
    /// SQLite (panics on PostgreSQL).
    #[doc(hidden)]
    pub fn connection(&self) -> &Connection {
        self.db
            .sqlite_connection()
            .expect("connection() is for an SQLite store")
    }

    /// A number that changes when another connection changed the file (SQLite's
    /// `data_version`): cheap enough to ask every second, so that the home screen follows
    /// another window's changes without reading the list. `None` on a server (it notifies).
    pub fn data_version(&self) -> Option<i64> {
        self.db
            .sqlite_connection()?
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .ok()
    }

    /// The store's database, for tests and benchmarks that look at the rows themselves
    /// (on either backend).
    #[doc(hidden)]
    pub fn sql(&self) -> &db::Conn {
        &self.db
    }

    /// The window this store was opened at (a centre's store: its name; one PC: empty).
    pub fn window(&self) -> &str {
        &self.window
    }
}

/// A connection to the database file at `path`, keyed (SQLCipher's `PRAGMA key`, a raw
/// key as `x'…'` or a passphrase) or plain, with a first read that tells a wrong key or an
/// encrypted file from a good one.
fn open_connection(path: &Path, key: Option<&str>) -> Result<Connection> {
    sqlite_initialised();
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    restrict_to_owner(path)?;
    // SQLCipher writes its errors (a wrong key) to stderr, which is the wizard's screen:
    // they are reported as StoreErrors instead.
    let _ = conn.pragma_update(None, "cipher_log_level", "NONE");
    if let Some(key) = key {
        conn.pragma_update(None, "key", key)?;
    }
    if let Err(e) = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        let not_a_database = matches!(
            &e,
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase
        );
        return Err(match (not_a_database, key) {
            (true, Some(_)) => StoreError::WrongKey,
            (true, None) => StoreError::Encrypted,
            _ => StoreError::Sqlite(e),
        });
    }
    Ok(conn)
}

/// SQLite initialised in full before any connection of ours is opened. SQLCipher adds its
/// `sqlcipher_export` to every connection from an initialisation hook that runs after
/// SQLite already counts as initialised: a second thread opening its first connection in
/// that window got one without it (seen once in CI: "no such function: sqlcipher_export").
/// Initialising once, with every other opener waiting, closes the window.
pub fn sqlite_initialised() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Opening a connection initialises SQLite (and SQLCipher's hook) on this thread.
        let _ = Connection::open_in_memory();
    });
}

/// Whether the file at `path` is a plain SQLite database (written before stores were
/// encrypted), as opposed to an encrypted one.
pub fn is_plain_database(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| &head == b"SQLite format 3\0")
}

/// Encrypt the store file at `path` with `key`: the database is exported into a new
/// encrypted file (`old_key`: the passphrase it had, if it was encrypted before), which is
/// checked (integrity, and every table's rows counted against the old file) and then
/// renamed over the old one; the old file's bytes are then overwritten with zeros through
/// a handle kept open, so that no plaintext stays in the folder. (On an SSD or a
/// copy-on-write filesystem the device may still keep old blocks: the README says so.)
pub fn encrypt_store_file(path: &Path, old_key: Option<&str>, key: &DataKey) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!("{DB_FILE}.encrypting"));
    let _ = std::fs::remove_file(&tmp);
    let counts = |conn: &Connection, schema: &str| -> Result<Vec<(String, i64)>> {
        let mut names: Vec<String> = conn
            .prepare(&format!(
                "SELECT name FROM {schema}.sqlite_master WHERE type = 'table' ORDER BY name"
            ))?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        names.retain(|n| !n.starts_with("sqlite_"));
        names
            .into_iter()
            .map(|n| {
                let c =
                    conn.query_row(&format!("SELECT count(*) FROM {schema}.\"{n}\""), [], |r| {
                        r.get(0)
                    })?;
                Ok((n, c))
            })
            .collect()
    };
    {
        let old = open_connection(path, old_key)?;
        old.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        let version = schema::user_version(&old)?;
        let hex = key.sqlcipher_key();
        old.execute(
            "ATTACH DATABASE ?1 AS encrypted KEY ?2",
            rusqlite::params![tmp.to_string_lossy(), hex.as_str()],
        )?;
        old.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
        old.pragma_update(Some("encrypted"), "user_version", version as i64)?;
        let before = counts(&old, "main")?;
        let after = counts(&old, "encrypted")?;
        old.execute("DETACH DATABASE encrypted", [])?;
        if before != after {
            let _ = std::fs::remove_file(&tmp);
            return Err(StoreError::ConversionCheck);
        }
    }
    restrict_to_owner(&tmp)?;
    {
        let check = open_connection(&tmp, Some(&key.sqlcipher_key()))?;
        let ok: String = check.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if ok != "ok" {
            drop(check);
            let _ = std::fs::remove_file(&tmp);
            return Err(StoreError::ConversionCheck);
        }
    }
    let old_file = std::fs::OpenOptions::new().write(true).open(path)?;
    let len = old_file.metadata()?.len();
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    overwrite_with_zeros(&old_file, len)?;
    for suffix in ["-wal", "-shm"] {
        let side = dir.join(format!("{DB_FILE}{suffix}"));
        if let Ok(f) = std::fs::OpenOptions::new().write(true).open(&side) {
            let len = f.metadata()?.len();
            overwrite_with_zeros(&f, len)?;
            drop(f);
            let _ = std::fs::remove_file(&side);
        }
    }
    Ok(())
}

fn overwrite_with_zeros(file: &std::fs::File, len: u64) -> std::io::Result<()> {
    use std::io::{Seek, Write};
    let mut f = file;
    f.seek(std::io::SeekFrom::Start(0))?;
    let zeros = vec![0u8; 64 * 1024];
    let mut left = len;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        f.write_all(&zeros[..n])?;
        left -= n as u64;
    }
    f.sync_all()
}

/// Milliseconds since the Unix epoch, the store's time column unit.
fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A time the store wrote (unix milliseconds) as a UTC time.
pub fn from_ms(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

pub use crate::private_files::{create_private_dir, restrict_to_owner, tighten_files};
