//! The store's database behind one small interface: the embedded SQLite file (SQLCipher)
//! or a centre's PostgreSQL server. The store's code is written once against `Sql`
//! (statements, rows of `Value`s, transactions); where the two dialects differ it asks
//! `backend()`. Statements are written with SQLite's `?N` placeholders and rewritten to
//! PostgreSQL's `$N`; prepared statements are cached on both.
//!
//! A transaction that writes takes the write lock when it begins (SQLite: `BEGIN
//! IMMEDIATE`, so that it waits for the lock instead of failing); on PostgreSQL every
//! change is conditional on the state it was decided from, and rows that several workers
//! compete for are locked (`FOR UPDATE SKIP LOCKED`) by the statements that need it.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::{Result, StoreError};

/// Which database a store is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A value going in or coming out.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
    Bool(bool),
}

/// What can be a statement's argument.
pub trait ToValue {
    fn to_value(&self) -> Value;
}

macro_rules! int_values {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value {
                Value::Int(*self as i64)
            }
        }
    )*};
}
int_values!(i64, i32, u32, u16, usize);

impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
}
impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_owned())
    }
}
impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}
impl ToValue for [u8] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}
impl ToValue for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }
}
impl ToValue for uuid::Uuid {
    fn to_value(&self) -> Value {
        Value::Text(self.to_string())
    }
}
impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}
impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}
impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        match self {
            Some(v) => v.to_value(),
            None => Value::Null,
        }
    }
}

/// A statement's arguments: `args![id, now, note]`.
macro_rules! args {
    () => { &[] as &[$crate::store::db::Value] };
    ($($x:expr),+ $(,)?) => {
        &[$($crate::store::db::ToValue::to_value(&$x)),+] as &[$crate::store::db::Value]
    };
}
pub(crate) use args;

/// What a column can be read as.
pub trait FromValue: Sized {
    fn from_value(v: &Value) -> Result<Self>;
}

fn wrong(v: &Value, want: &str) -> StoreError {
    StoreError::Column(format!("expected {want}, found {v:?}"))
}

impl FromValue for i64 {
    fn from_value(v: &Value) -> Result<i64> {
        match v {
            Value::Int(i) => Ok(*i),
            Value::Bool(b) => Ok(*b as i64),
            other => Err(wrong(other, "an integer")),
        }
    }
}
impl FromValue for u32 {
    fn from_value(v: &Value) -> Result<u32> {
        i64::from_value(v).map(|i| i.clamp(0, u32::MAX as i64) as u32)
    }
}
impl FromValue for bool {
    fn from_value(v: &Value) -> Result<bool> {
        match v {
            Value::Bool(b) => Ok(*b),
            Value::Int(i) => Ok(*i != 0),
            other => Err(wrong(other, "a boolean")),
        }
    }
}
impl FromValue for String {
    fn from_value(v: &Value) -> Result<String> {
        match v {
            Value::Text(s) => Ok(s.clone()),
            other => Err(wrong(other, "text")),
        }
    }
}
impl FromValue for Vec<u8> {
    fn from_value(v: &Value) -> Result<Vec<u8>> {
        match v {
            Value::Blob(b) => Ok(b.clone()),
            Value::Text(s) => Ok(s.clone().into_bytes()),
            other => Err(wrong(other, "bytes")),
        }
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Result<Option<T>> {
        match v {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// One row of a result.
#[derive(Debug, Clone)]
pub struct Row(Vec<Value>);

impl Row {
    /// Every column's value, in order.
    pub fn values(&self) -> &[Value] {
        &self.0
    }

    pub fn get<T: FromValue>(&self, i: usize) -> Result<T> {
        T::from_value(self.0.get(i).unwrap_or(&Value::Null))
    }
}

/// What the store's code runs statements on: a connection, or a transaction on one.
pub trait Sql {
    fn conn(&self) -> &Conn;

    fn backend(&self) -> Backend {
        self.conn().backend()
    }

    /// Run a statement; how many rows it changed. Never sent twice: when the connection
    /// breaks under it the caller gets the error, whether or not the server did it.
    fn execute(&self, sql: &str, args: &[Value]) -> Result<usize> {
        self.conn().execute_raw(sql, args)
    }

    /// Run a statement that only reads (outside a transaction, one that met a broken
    /// connection is asked again on a new one); a write goes through `execute`.
    fn query(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>> {
        self.conn().query_raw(sql, args)
    }

    /// The first row, if any.
    fn query_opt(&self, sql: &str, args: &[Value]) -> Result<Option<Row>> {
        Ok(self.query(sql, args)?.into_iter().next())
    }

    /// The first row (a statement that always returns one, such as a count).
    fn query_one(&self, sql: &str, args: &[Value]) -> Result<Row> {
        self.query_opt(sql, args)?
            .ok_or_else(|| StoreError::Column("a statement returned no row".into()))
    }

    /// Statements without arguments, separated by semicolons.
    fn batch(&self, sql: &str) -> Result<()> {
        self.conn().batch_raw(sql)
    }
}

enum Inner {
    Sqlite(rusqlite::Connection),
    Postgres(Box<RefCell<Pg>>),
}

struct Pg {
    client: postgres::Client,
    /// How to connect again when the connection broke (the server restarted, the network
    /// came back).
    connector: super::server::Connector,
    /// Prepared statements by the SQL as the store's code writes it.
    cache: HashMap<String, postgres::Statement>,
    /// The connection failed: nothing more is sent on it. A new one is made before the
    /// next statement outside a transaction, never inside one (the transaction died with
    /// the old connection, and its caller is told).
    broken: bool,
    /// This session's holder key: an advisory lock held for as long as the connection
    /// lives, so that others can tell that whatever it claimed is orphaned once it is gone.
    holder: i64,
    /// When a statement last went out on it.
    last_used: Instant,
}

/// The advisory lock namespace (the first of PostgreSQL's two 32-bit keys) of sessions'
/// holder keys.
pub const HOLDER_LOCKS: i32 = 0x5B4B_0B0D;

impl Pg {
    fn connect(connector: super::server::Connector) -> Result<Pg> {
        let client = connector.connect()?;
        let mut pg = Pg {
            client,
            connector,
            cache: HashMap::new(),
            broken: false,
            holder: 0,
            last_used: Instant::now(),
        };
        pg.holder = pg.take_holder_key()?;
        Ok(pg)
    }

    /// A random key no other live session holds, locked for this session.
    fn take_holder_key(&mut self) -> Result<i64> {
        loop {
            let key = (uuid::Uuid::new_v4().as_u128() as u32 >> 1) as i32;
            let taken: bool = self
                .client
                .query_one(
                    "SELECT pg_try_advisory_lock($1, $2)",
                    &[&HOLDER_LOCKS, &key],
                )?
                .get(0);
            if taken {
                return Ok(i64::from(key));
            }
        }
    }

    /// Connect again, between transactions. Before anything is read on the new connection
    /// the old session must be gone from the server (its holder key free): a COMMIT it was
    /// finishing is then either visible or never will be.
    fn reconnect(&mut self) -> Result<()> {
        tracing::warn!("the connection to the database server broke; connecting again");
        self.client = self.connector.connect()?;
        self.cache.clear();
        // (The key is never negative: `take_holder_key` shifts it, so it casts to an oid.)
        let old = self.holder as i32;
        self.client.batch_execute("SET lock_timeout = '10s'")?;
        let waited = self.client.execute(
            "SELECT pg_advisory_lock($1, $2), pg_advisory_unlock($1, $2)",
            &[&HOLDER_LOCKS, &old],
        );
        if let Err(e) = waited {
            // Still there (a cut network the server has not noticed): what would be read
            // now is not final. Not connected; tried again at the next statement.
            tracing::warn!(error = %e, "the old session is still on the server after 10 s");
            return Err(StoreError::ConnectionLost);
        }
        self.client.batch_execute("RESET lock_timeout")?;
        self.holder = self.take_holder_key()?;
        self.broken = false;
        Ok(())
    }

    /// Before a write outside a transaction on a connection that was idle a while: whether
    /// the server is still there (it may have restarted meanwhile), so that the write is
    /// not sent into a dead connection, where whether it was done could not be known.
    fn check_after_idle(&mut self) {
        if self.last_used.elapsed() >= IDLE_CHECK && self.client.is_valid(IDLE_CHECK).is_err() {
            self.broken = true;
        }
    }
}

/// How long a connection may have been idle before a write checks it first.
const IDLE_CHECK: Duration = Duration::from_secs(2);

/// An open connection to the store's database.
pub struct Conn {
    inner: Inner,
    in_tx: Cell<bool>,
    /// A statement of the open transaction failed: the server has aborted it, and a COMMIT
    /// would only roll it back (PostgreSQL answers it without an error).
    tx_failed: Cell<bool>,
}

/// Whether a statement may be sent again on a new connection when the connection broke
/// under it: only if running it twice is the same as running it once.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Repeat {
    /// A read, or BEGIN.
    Safe,
    /// A write, or COMMIT: the server may have done it before the connection broke.
    Never,
}

impl Conn {
    pub fn sqlite(conn: rusqlite::Connection) -> Conn {
        Conn {
            inner: Inner::Sqlite(conn),
            in_tx: Cell::new(false),
            tx_failed: Cell::new(false),
        }
    }

    pub(super) fn postgres(connector: super::server::Connector) -> Result<Conn> {
        Ok(Conn {
            inner: Inner::Postgres(Box::new(RefCell::new(Pg::connect(connector)?))),
            in_tx: Cell::new(false),
            tx_failed: Cell::new(false),
        })
    }

    pub fn backend(&self) -> Backend {
        match self.inner {
            Inner::Sqlite(_) => Backend::Sqlite,
            Inner::Postgres(_) => Backend::Postgres,
        }
    }

    /// Whether a transaction is open on this connection.
    pub fn in_transaction(&self) -> bool {
        self.in_tx.get()
    }

    /// This session's holder key on a centre's server (see `HOLDER_LOCKS`): it changes
    /// when the connection is made again.
    pub fn holder_key(&self) -> Option<i64> {
        match &self.inner {
            Inner::Postgres(pg) => Some(pg.borrow().holder),
            Inner::Sqlite(_) => None,
        }
    }

    /// The SQLite connection (the file's own operations: PRAGMAs, checkpoints, export).
    pub fn sqlite_connection(&self) -> Option<&rusqlite::Connection> {
        match &self.inner {
            Inner::Sqlite(c) => Some(c),
            Inner::Postgres(_) => None,
        }
    }

    /// The PostgreSQL client, borrowed for `f`.
    pub fn with_postgres<T>(&self, f: impl FnOnce(&mut postgres::Client) -> T) -> Option<T> {
        match &self.inner {
            Inner::Postgres(pg) => Some(f(&mut pg.borrow_mut().client)),
            Inner::Sqlite(_) => None,
        }
    }

    /// Begin a transaction that may write; committed by `Tx::commit`, rolled back if
    /// dropped before.
    pub fn begin(&self) -> Result<Tx<'_>> {
        if self.in_tx.get() {
            return Err(StoreError::Column("a transaction is already open".into()));
        }
        // A transaction that changes an application's status, appends to the audit chain
        // or claims an outbox entry takes the store's write lock first: SQLite's, or on
        // PostgreSQL one advisory lock, so that every such transaction takes its locks in
        // the same order (no deadlock between the status counts, the chain and the rows)
        // and the chain is appended to in order. A field save is a single statement and
        // does not wait for it.
        match &self.inner {
            Inner::Sqlite(c) => c.execute_batch("BEGIN IMMEDIATE")?,
            // Nothing is done before the lock is held: on a broken connection it is begun
            // again on a new one.
            Inner::Postgres(pg) => self
                .pg_run(pg, Repeat::Safe, |pg| {
                    Ok(pg
                        .client
                        .batch_execute("BEGIN; SELECT pg_advisory_xact_lock(1531683025)")?)
                })
                // Whatever failed (a lock timeout, a cancel), the session may be left in
                // an aborted transaction nobody will end: it is not used again.
                .inspect_err(|_| pg.borrow_mut().broken = true)?,
        }
        self.in_tx.set(true);
        self.tx_failed.set(false);
        Ok(Tx {
            conn: self,
            open: Cell::new(true),
        })
    }

    fn execute_raw(&self, sql: &str, args: &[Value]) -> Result<usize> {
        match &self.inner {
            Inner::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                Ok(stmt.execute(rusqlite::params_from_iter(args.iter()))?)
            }
            Inner::Postgres(pg) => self.pg_run(pg, Repeat::Never, |pg| {
                let stmt = pg.prepare(sql)?;
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    args.iter().map(|a| a as _).collect();
                Ok(pg.client.execute(&stmt, &refs)? as usize)
            }),
        }
    }

    fn query_raw(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>> {
        match &self.inner {
            Inner::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let n = stmt.column_count();
                let mut rows = stmt.query(rusqlite::params_from_iter(args.iter()))?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    let mut vals = Vec::with_capacity(n);
                    for i in 0..n {
                        use rusqlite::types::ValueRef;
                        vals.push(match r.get_ref(i)? {
                            ValueRef::Null => Value::Null,
                            ValueRef::Integer(i) => Value::Int(i),
                            ValueRef::Real(f) => Value::Int(f as i64),
                            ValueRef::Text(t) => {
                                Value::Text(String::from_utf8_lossy(t).into_owned())
                            }
                            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                        });
                    }
                    out.push(Row(vals));
                }
                Ok(out)
            }
            // `query` is for reads (`Sql::query`): one that met a broken connection is
            // asked again on a new one.
            Inner::Postgres(pg) => self.pg_run(pg, Repeat::Safe, |pg| {
                let stmt = pg.prepare(sql)?;
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    args.iter().map(|a| a as _).collect();
                let rows = pg.client.query(&stmt, &refs)?;
                rows.iter().map(pg_row).collect()
            }),
        }
    }

    fn batch_raw(&self, sql: &str) -> Result<()> {
        match &self.inner {
            Inner::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Inner::Postgres(pg) => {
                self.pg_run(pg, Repeat::Never, |pg| Ok(pg.client.batch_execute(sql)?))
            }
        }
    }

    /// Run `f` on the server. A connection found broken before anything is sent is made
    /// again first, but only between transactions; one that breaks under `f` is marked
    /// broken, and `f` is run again on a new connection only if it is `Repeat::Safe` and
    /// no transaction is open (a transaction's work cannot be carried over, and a write
    /// may have been done: its caller is told, and what it was saving is still in
    /// memory). A failed statement inside a transaction marks it failed.
    fn pg_run<T>(
        &self,
        pg: &RefCell<Pg>,
        repeat: Repeat,
        f: impl Fn(&mut Pg) -> Result<T>,
    ) -> Result<T> {
        let mut pg = pg.borrow_mut();
        let in_tx = self.in_tx.get();
        if repeat == Repeat::Never && !in_tx && !pg.broken {
            pg.check_after_idle();
        }
        if pg.broken || pg.client.is_closed() {
            if in_tx {
                self.tx_failed.set(true);
                return Err(StoreError::ConnectionLost);
            }
            // Nothing was sent: the caller learns that, not how connecting failed.
            pg.broken = true;
            if let Err(e) = pg.reconnect() {
                tracing::warn!(error = %e, "could not connect to the database server again");
                return Err(StoreError::ConnectionLost);
            }
        }
        pg.last_used = Instant::now();
        let result = match f(&mut pg) {
            Err(e) if e.is_connection() => {
                pg.broken = true;
                if repeat == Repeat::Safe && !in_tx {
                    if let Err(e) = pg.reconnect() {
                        tracing::warn!(error = %e, "could not connect to the database server again");
                        return Err(StoreError::ConnectionLost);
                    }
                    f(&mut pg).inspect_err(|e| pg.broken |= e.is_connection())
                } else {
                    Err(e)
                }
            }
            other => other,
        };
        if in_tx && result.is_err() {
            self.tx_failed.set(true);
        }
        result
    }

    /// COMMIT, sent once and never again. On a server, a connection that broke after it
    /// was sent leaves its outcome unknown (`StoreError::CommitUnknown`): the caller must
    /// find out from what is stored, not take it as done, and not as undone either.
    fn commit_raw(&self) -> Result<()> {
        match &self.inner {
            Inner::Sqlite(c) => {
                let done = c.execute_batch("COMMIT");
                if done.is_err() && !c.is_autocommit() {
                    // Still open (SQLITE_BUSY at COMMIT): undone, so that nothing is left
                    // half-way.
                    let _ = c.execute_batch("ROLLBACK");
                }
                Ok(done?)
            }
            Inner::Postgres(pg) => {
                if self.tx_failed.get() {
                    if pg.borrow().broken {
                        return Err(StoreError::ConnectionLost);
                    }
                    let _ = self.pg_run(pg, Repeat::Never, |pg| {
                        Ok(pg.client.batch_execute("ROLLBACK")?)
                    });
                    return Err(StoreError::Column(
                        "一个语句失败后事务已回滚，这次操作没有保存".into(),
                    ));
                }
                match self.pg_run(pg, Repeat::Never, |pg| {
                    Ok(pg.client.batch_execute("COMMIT")?)
                }) {
                    Err(e) if e.is_connection() => {
                        tracing::warn!("the connection broke at COMMIT: its outcome is unknown");
                        Err(StoreError::CommitUnknown)
                    }
                    other => other,
                }
            }
        }
    }

    /// ROLLBACK, unless the connection is gone (the server rolled back itself).
    fn rollback_raw(&self) {
        let done = match &self.inner {
            Inner::Sqlite(c) => c.execute_batch("ROLLBACK").map_err(StoreError::from),
            Inner::Postgres(pg) => {
                if pg.borrow().broken {
                    return;
                }
                self.pg_run(pg, Repeat::Never, |pg| {
                    Ok(pg.client.batch_execute("ROLLBACK")?)
                })
            }
        };
        if let Err(e) = done {
            tracing::warn!(error = e.kind(), "a rollback failed");
        }
    }
}

impl Sql for Conn {
    fn conn(&self) -> &Conn {
        self
    }
}

/// A transaction: rolled back when dropped uncommitted.
pub struct Tx<'a> {
    conn: &'a Conn,
    open: Cell<bool>,
}

impl Tx<'_> {
    /// Commit: `Ok` only when the database said it committed. `CommitUnknown` when the
    /// connection broke after COMMIT was sent (re-read what is stored to know).
    pub fn commit(self) -> Result<()> {
        self.open.set(false);
        let done = self.conn.commit_raw();
        self.conn.in_tx.set(false);
        done
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open.get() {
            self.conn.rollback_raw();
            self.conn.in_tx.set(false);
        }
    }
}

impl Sql for Tx<'_> {
    fn conn(&self) -> &Conn {
        self.conn
    }
}

impl Pg {
    fn prepare(&mut self, sql: &str) -> Result<postgres::Statement> {
        if let Some(s) = self.cache.get(sql) {
            return Ok(s.clone());
        }
        let stmt = self.client.prepare(&dollar_placeholders(sql))?;
        self.cache.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }
}

/// `?N` → `$N` outside string literals (the store's SQL uses numbered placeholders only).
pub fn dollar_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    for c in sql.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted => out.push('$'),
            _ => out.push(c),
        }
    }
    out
}

fn pg_row(r: &postgres::Row) -> Result<Row> {
    use postgres::types::Type;
    let mut vals = Vec::with_capacity(r.len());
    for (i, col) in r.columns().iter().enumerate() {
        let ty = col.type_();
        let v = if *ty == Type::INT8 {
            r.try_get::<_, Option<i64>>(i)?
                .map_or(Value::Null, Value::Int)
        } else if *ty == Type::INT4 {
            r.try_get::<_, Option<i32>>(i)?
                .map_or(Value::Null, |x| Value::Int(x.into()))
        } else if *ty == Type::INT2 {
            r.try_get::<_, Option<i16>>(i)?
                .map_or(Value::Null, |x| Value::Int(x.into()))
        } else if *ty == Type::BOOL {
            r.try_get::<_, Option<bool>>(i)?
                .map_or(Value::Null, Value::Bool)
        } else if *ty == Type::BYTEA {
            r.try_get::<_, Option<Vec<u8>>>(i)?
                .map_or(Value::Null, Value::Blob)
        } else {
            r.try_get::<_, Option<String>>(i)?
                .map_or(Value::Null, Value::Text)
        };
        vals.push(v);
    }
    Ok(Row(vals))
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Bool(b) => ToSqlOutput::Borrowed(ValueRef::Integer(*b as i64)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

impl postgres::types::ToSql for Value {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>>
    {
        use postgres::types::{IsNull, Type};
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) if *ty == Type::INT4 => (*i as i32).to_sql(ty, out),
            Value::Int(i) if *ty == Type::INT2 => (*i as i16).to_sql(ty, out),
            Value::Int(i) if *ty == Type::BOOL => (*i != 0).to_sql(ty, out),
            Value::Int(i) if *ty == Type::TEXT || *ty == Type::VARCHAR => {
                i.to_string().to_sql(ty, out)
            }
            Value::Int(i) => i.to_sql(ty, out),
            Value::Bool(b) if *ty == Type::BOOL => b.to_sql(ty, out),
            Value::Bool(b) if *ty == Type::INT4 => (*b as i32).to_sql(ty, out),
            Value::Bool(b) => (*b as i64).to_sql(ty, out),
            Value::Text(s) => s.as_str().to_sql(ty, out),
            Value::Blob(b) => b.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollars_outside_strings() {
        assert_eq!(
            dollar_placeholders("SELECT '?' , x FROM t WHERE a = ?1 AND b = ?12"),
            "SELECT '?' , x FROM t WHERE a = $1 AND b = $12"
        );
    }

    #[test]
    fn a_transaction_dropped_uncommitted_is_rolled_back() {
        let conn = Conn::sqlite(rusqlite::Connection::open_in_memory().unwrap());
        conn.batch("CREATE TABLE t (x INTEGER)").unwrap();
        {
            let tx = conn.begin().unwrap();
            tx.execute("INSERT INTO t (x) VALUES (?1)", args![1])
                .unwrap();
        }
        let n: i64 = conn
            .query_one("SELECT count(*) FROM t", args![])
            .unwrap()
            .get(0)
            .unwrap();
        assert_eq!(n, 0);
        let tx = conn.begin().unwrap();
        tx.execute("INSERT INTO t (x) VALUES (?1)", args![Some(2i64)])
            .unwrap();
        tx.commit().unwrap();
        let rows = conn.query("SELECT x FROM t", args![]).unwrap();
        assert_eq!(rows[0].get::<i64>(0).unwrap(), 2);
    }
}
