//! The reference server's own SQLite file: the registry of residents, photos, eligibility
//! checks, applications with their history, and idempotency keys with their answers.

use std::path::Path;

use rusqlite::Connection;

/// The schema; `user_version` says which of these have run.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE residents (
    id_number      TEXT PRIMARY KEY,
    id_type        TEXT NOT NULL,
    name           TEXT NOT NULL,
    gender         TEXT NOT NULL,
    birth_date     TEXT NOT NULL,
    nationality    TEXT NOT NULL,
    district       TEXT NOT NULL,
    address        TEXT NOT NULL,
    id_valid_from  TEXT NOT NULL,
    mobile         TEXT NOT NULL,
    insured        INTEGER NOT NULL,
    retired        INTEGER NOT NULL,
    has_card       INTEGER NOT NULL,
    bank_code      TEXT NOT NULL,
    bank_name      TEXT NOT NULL,
    branch_code    TEXT NOT NULL,
    branch_name    TEXT NOT NULL,
    allowed_pickup TEXT NOT NULL,      -- comma-separated pickup method keys
    review_field   TEXT,               -- set: the first application is returned at review
    review_message TEXT
) STRICT;

CREATE TABLE photos (
    centre      TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    bytes       BLOB NOT NULL,
    uploaded_at TEXT NOT NULL,
    PRIMARY KEY (centre, sha256)
) STRICT;

CREATE TABLE eligibility_checks (
    check_id             TEXT PRIMARY KEY,
    centre               TEXT NOT NULL,
    operator             TEXT NOT NULL,
    id_number            TEXT NOT NULL,
    access_authorised_at TEXT NOT NULL,
    in_person_at         TEXT,
    checked_at           TEXT NOT NULL,
    eligible             INTEGER NOT NULL,
    reason_code          TEXT
) STRICT;

CREATE TABLE applications (
    number           TEXT PRIMARY KEY,
    centre           TEXT NOT NULL,
    operator         TEXT NOT NULL,
    client_reference TEXT NOT NULL,
    id_number        TEXT NOT NULL,
    body             TEXT NOT NULL,
    pickup_method    TEXT NOT NULL,
    status           TEXT NOT NULL,
    tracking_number  TEXT,
    return_field     TEXT,
    return_message   TEXT,
    received_at      TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    next_step_at     INTEGER,           -- unix milliseconds; NULL once final
    seq              INTEGER NOT NULL UNIQUE
) STRICT;
CREATE INDEX applications_by_centre_seq ON applications (centre, seq);
CREATE INDEX applications_due ON applications (next_step_at) WHERE next_step_at IS NOT NULL;
CREATE INDEX applications_by_person ON applications (id_number, status);

CREATE TABLE history (
    number          TEXT NOT NULL REFERENCES applications (number),
    status          TEXT NOT NULL,
    at              TEXT NOT NULL,
    tracking_number TEXT,
    return_field    TEXT,
    return_message  TEXT
) STRICT;
CREATE INDEX history_by_number ON history (number);

CREATE TABLE idempotency_keys (
    centre      TEXT NOT NULL,
    key         TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    response    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,       -- unix milliseconds
    PRIMARY KEY (centre, key)
) STRICT;

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT;
INSERT INTO counters VALUES ('seq', 0), ('application', 0);
"#,
    // 2: the heads of the centres' audit chains, kept so that a counter's log cannot be cut
    // short or rewritten without `sbk audit verify` finding it. Append-only.
    r#"
CREATE TABLE audit_anchors (
    centre      TEXT NOT NULL,
    chain_id    TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    hash        TEXT NOT NULL,
    operator    TEXT NOT NULL,
    received_at TEXT NOT NULL,          -- RFC 3339
    PRIMARY KEY (centre, chain_id, seq)
) STRICT;
"#,
    // 3: each chain's public key (Ed25519), registered by its first signed anchor: later
    // anchors must be signed with it, so the centre's token alone cannot post one.
    r#"
CREATE TABLE audit_chains (
    centre        TEXT NOT NULL,
    chain_id      TEXT NOT NULL,
    public_key    TEXT NOT NULL,
    registered_at TEXT NOT NULL,        -- RFC 3339
    PRIMARY KEY (centre, chain_id)
) STRICT;
"#,
];

/// Open (creating and migrating) the server's database.
pub fn open(path: &Path) -> rusqlite::Result<Connection> {
    // Created 0600 before SQLite opens it: its WAL and shared-memory files take the
    // database file's mode when they are made.
    if !path.exists() {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let _ = options.open(path);
    }
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // Every acknowledged submission survives a crash of the process or of the machine.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    // A database made by an older build (or copied in) is tightened, WAL and all.
    for suffix in ["", "-wal", "-shm"] {
        let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
        if file.exists() {
            let _ = crate::private_files::restrict_to_owner(&file);
        }
    }
    Ok(conn)
}

/// The next value of a counter (within the caller's transaction).
pub fn next(conn: &Connection, name: &str) -> rusqlite::Result<i64> {
    conn.query_row(
        "UPDATE counters SET value = value + 1 WHERE name = ?1 RETURNING value",
        [name],
        |r| r.get(0),
    )
}
