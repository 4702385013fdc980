//! The schema and its migrations. `PRAGMA user_version` holds the number of migrations
//! applied; opening a store applies the rest, each in its own transaction. Migrations are
//! append-only: a released one is never edited, a change is a new one.

use rusqlite::Connection;

/// Every migration, in order. Index + 1 is the schema version it produces.
pub const MIGRATIONS: &[&str] = &[
    // 1: applications with their search columns, photos, history, outbox, audit log.
    r#"
    CREATE TABLE photos (
        sha256      TEXT PRIMARY KEY,          -- lower-case hex of the bytes
        kind        TEXT NOT NULL,             -- card_photo | id_front | id_back
        media_type  TEXT NOT NULL,             -- image/jpeg, image/png
        size        INTEGER NOT NULL,
        width       INTEGER NOT NULL,
        height      INTEGER NOT NULL,
        bytes       BLOB NOT NULL,
        created_at  INTEGER NOT NULL           -- unix ms
    ) STRICT;

    CREATE TABLE applications (
        id             TEXT PRIMARY KEY,       -- UUID
        status         TEXT NOT NULL,
        body           TEXT NOT NULL,          -- the Application as JSON: the truth
        -- Derived from body on every save, for listing and search without parsing JSON.
        name           TEXT NOT NULL,
        name_rev       TEXT NOT NULL,          -- reversed: given names are suffixes
        name_initials  TEXT NOT NULL,          -- zs for 张三
        name_pinyin    TEXT NOT NULL,          -- zhangsan
        id_number      TEXT NOT NULL,
        id_rev         TEXT NOT NULL,          -- reversed: search by the last digits
        mobile_rev     TEXT NOT NULL,          -- applicant's and recipient's, reversed, space-joined
        card_photo     TEXT REFERENCES photos(sha256),
        id_front       TEXT REFERENCES photos(sha256),
        id_back        TEXT REFERENCES photos(sha256),
        created_at     INTEGER NOT NULL,
        updated_at     INTEGER NOT NULL
    ) STRICT;
    -- Search indexes hold only their key: a keystroke changes updated_at, and an index
    -- that included it would be rewritten on every save.
    CREATE INDEX applications_updated  ON applications(updated_at);
    CREATE INDEX applications_status   ON applications(status, updated_at);
    CREATE INDEX applications_name     ON applications(name);
    CREATE INDEX applications_name_rev ON applications(name_rev);
    CREATE INDEX applications_initials ON applications(name_initials);
    CREATE INDEX applications_pinyin   ON applications(name_pinyin);
    CREATE INDEX applications_id       ON applications(id_number);
    CREATE INDEX applications_id_rev   ON applications(id_rev);
    CREATE INDEX applications_mobile   ON applications(mobile_rev);

    CREATE TABLE status_history (
        id              INTEGER PRIMARY KEY,
        application_id  TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
        at              INTEGER NOT NULL,
        status          TEXT NOT NULL,
        note            TEXT                   -- reason, tracking number, … (never personal data)
    ) STRICT;
    CREATE INDEX status_history_application ON status_history(application_id, at);

    CREATE TABLE outbox (
        id               INTEGER PRIMARY KEY,
        application_id   TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
        idempotency_key  TEXT NOT NULL UNIQUE,
        state            TEXT NOT NULL,        -- pending | delivered | withdrawn | failed
        attempts         INTEGER NOT NULL DEFAULT 0,
        next_attempt_at  INTEGER NOT NULL,
        last_error       TEXT,
        created_at       INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX outbox_pending ON outbox(state, next_attempt_at);

    CREATE TABLE audit_log (
        id              INTEGER PRIMARY KEY,
        at              INTEGER NOT NULL,
        operator_id     TEXT NOT NULL,
        operator_name   TEXT NOT NULL,
        action          TEXT NOT NULL,
        application_id  TEXT,                  -- no foreign key: the record outlives a deleted draft
        detail          TEXT                   -- never personal data
    ) STRICT;
    CREATE INDEX audit_log_application ON audit_log(application_id);
    "#,
    // 2: where the clerk was, so a killed terminal reopens on the same application and step.
    r#"
    CREATE TABLE ui_state (
        key    TEXT PRIMARY KEY,
        value  TEXT NOT NULL
    ) STRICT;
    "#,
    // 3: delivery's own state (the progress cursor) apart from the UI's.
    r#"
    CREATE TABLE sync_state (
        key    TEXT PRIMARY KEY,
        value  TEXT NOT NULL
    ) STRICT;
    "#,
    // 4: the audit log becomes a hash chain, append-only. Entries written before get their
    // hashes once, at open (the only update the trigger lets through).
    r#"
    ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
    ALTER TABLE audit_log ADD COLUMN hash TEXT;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log WHEN OLD.hash IS NOT NULL
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    "#,
    // 5: what the home screen reads at every start, kept by triggers so that it never
    // drifts from the rows: how many applications are in each status (counting 100,000 rows
    // took ~5 ms, most of the start-up), and each one's application number (taken from the
    // JSON body, it cost ~0.35 ms for the 200 rows listed). A field save changes neither
    // and writes nothing more.
    r#"
    ALTER TABLE applications ADD COLUMN application_number TEXT;
    UPDATE applications SET application_number = json_extract(body, '$.application_number')
        WHERE json_extract(body, '$.application_number') IS NOT NULL;
    CREATE TRIGGER application_number_insert AFTER INSERT ON applications
        WHEN json_extract(NEW.body, '$.application_number') IS NOT NULL
    BEGIN
        UPDATE applications SET application_number = json_extract(NEW.body, '$.application_number')
            WHERE rowid = NEW.rowid;
    END;
    CREATE TRIGGER application_number_update AFTER UPDATE OF body ON applications
        WHEN json_extract(NEW.body, '$.application_number') IS NOT NEW.application_number
    BEGIN
        UPDATE applications SET application_number = json_extract(NEW.body, '$.application_number')
            WHERE rowid = NEW.rowid;
    END;
    CREATE TABLE status_counts (
        status TEXT PRIMARY KEY,
        n      INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID;
    INSERT INTO status_counts(status, n)
        SELECT status, count(*) FROM applications GROUP BY status;
    CREATE TRIGGER status_counts_insert AFTER INSERT ON applications
    BEGIN
        INSERT INTO status_counts(status, n) VALUES (NEW.status, 1)
            ON CONFLICT(status) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER status_counts_delete AFTER DELETE ON applications
    BEGIN
        UPDATE status_counts SET n = n - 1 WHERE status = OLD.status;
    END;
    CREATE TRIGGER status_counts_update AFTER UPDATE OF status ON applications
        WHEN OLD.status IS NOT NEW.status
    BEGIN
        UPDATE status_counts SET n = n - 1 WHERE status = OLD.status;
        INSERT INTO status_counts(status, n) VALUES (NEW.status, 1)
            ON CONFLICT(status) DO UPDATE SET n = n + 1;
    END;
    "#,
    // 6: every open asks whether any audit entry still lacks its hash (entries from before
    // version 3). Without an index that read every entry, a year's log at a busy counter
    // included; this index holds only the unchained ones, so the answer costs nothing.
    r#"
    CREATE INDEX audit_log_unchained ON audit_log(id) WHERE hash IS NULL;
    "#,
    // 7: several delivery processes on one store (the wizard's worker and cron's sbk sync).
    // An outbox entry is claimed by one worker at a time, under a lease that runs out if
    // the worker dies; every change the worker makes names its claim (the token), so an
    // answer about a claim that was lost is dropped. `posted_at`: a submission was sent,
    // so it may have reached the central API, and the entry can no longer be withdrawn.
    // And the reason a returned application came back, for the home list, kept from the
    // body as the application number is.
    r#"
    ALTER TABLE outbox ADD COLUMN claim_token TEXT;
    ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
    ALTER TABLE outbox ADD COLUMN lease_until INTEGER;
    ALTER TABLE outbox ADD COLUMN posted_at INTEGER;
    ALTER TABLE applications ADD COLUMN return_reason TEXT;
    UPDATE applications SET return_reason = json_extract(body, '$.returned.reason')
        WHERE json_extract(body, '$.returned.reason') IS NOT NULL;
    CREATE TRIGGER return_reason_insert AFTER INSERT ON applications
        WHEN json_extract(NEW.body, '$.returned.reason') IS NOT NULL
    BEGIN
        UPDATE applications SET return_reason = json_extract(NEW.body, '$.returned.reason')
            WHERE rowid = NEW.rowid;
    END;
    CREATE TRIGGER return_reason_update AFTER UPDATE OF body ON applications
        WHEN json_extract(NEW.body, '$.returned.reason') IS NOT NEW.return_reason
    BEGIN
        UPDATE applications SET return_reason = json_extract(NEW.body, '$.returned.reason')
            WHERE rowid = NEW.rowid;
    END;
    "#,
    // 8: the photo folder's originals sbk imported (ID card scans, face photos), so that
    // retention can remove them from the folder once they are in the store: each by its
    // path and the SHA-256 of its bytes (a file changed since is not sbk's to delete).
    r#"
    CREATE TABLE imported_originals (
        path         TEXT PRIMARY KEY,
        sha256       TEXT NOT NULL,
        imported_at  INTEGER NOT NULL
    ) STRICT;
    "#,
    // 9: operators who sign in: 工号, 姓名, role, active or disabled. Never deleted (the
    // audit log names them); their passwords are not here but in the key slots beside
    // the store (keys.json), which is what opens it.
    r#"
    CREATE TABLE operators (
        id              TEXT PRIMARY KEY,
        name            TEXT NOT NULL,
        role            TEXT NOT NULL CHECK (role IN ('clerk', 'supervisor')),
        active          INTEGER NOT NULL DEFAULT 1,
        created_at      INTEGER NOT NULL,
        created_by      TEXT NOT NULL,
        disabled_at     INTEGER,
        last_sign_in_at INTEGER,
        -- Set by a reset: the operator chooses a new password at their next sign-in.
        must_change     INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    CREATE TRIGGER operators_never_deleted BEFORE DELETE ON operators
    BEGIN
        SELECT RAISE(ABORT, 'operators are disabled, never deleted');
    END;
    "#,
    // 10: what a store shared by several windows needs, kept the same on both backends
    // (the store's code is one): a version per application, so that a save never
    // overwrites a newer one unseen; who is editing a draft, where, until when; and for a
    // centre's server, the operators' password hashes and the sign-in attempts (an SQLite
    // file keeps these in its key slots instead, and leaves them empty).
    r#"
    ALTER TABLE applications ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE draft_leases (
        application_id  TEXT PRIMARY KEY REFERENCES applications(id) ON DELETE CASCADE,
        token           TEXT NOT NULL,
        window_name     TEXT NOT NULL,
        operator_id     TEXT NOT NULL,
        operator_name   TEXT NOT NULL,
        lease_until     INTEGER NOT NULL
    ) STRICT;
    ALTER TABLE operators ADD COLUMN password_phc TEXT;
    CREATE TABLE sign_in_attempts (
        operator      TEXT PRIMARY KEY,
        failed        INTEGER NOT NULL DEFAULT 0,
        locked_until  INTEGER
    ) STRICT;
    "#, // 11: 代办申领. The agent is found by search as the applicant is (a relative calls and
    // gives their own name or phone), and the agent's papers are photos the store keeps.
    // Applications from before have no agent: empty keys, no photos.
    r#"
    ALTER TABLE applications ADD COLUMN agent_name TEXT NOT NULL DEFAULT '';
    ALTER TABLE applications ADD COLUMN agent_name_rev TEXT NOT NULL DEFAULT '';
    ALTER TABLE applications ADD COLUMN agent_initials TEXT NOT NULL DEFAULT '';
    ALTER TABLE applications ADD COLUMN agent_pinyin TEXT NOT NULL DEFAULT '';
    ALTER TABLE applications ADD COLUMN agent_id_rev TEXT NOT NULL DEFAULT '';
    ALTER TABLE applications ADD COLUMN agent_mobile_rev TEXT NOT NULL DEFAULT '';
    ALTER TABLE applications ADD COLUMN agent_id_card TEXT REFERENCES photos(sha256);
    ALTER TABLE applications ADD COLUMN authorisation TEXT REFERENCES photos(sha256);
    CREATE INDEX applications_agent_name     ON applications(agent_name);
    CREATE INDEX applications_agent_name_rev ON applications(agent_name_rev);
    CREATE INDEX applications_agent_initials ON applications(agent_initials);
    CREATE INDEX applications_agent_pinyin   ON applications(agent_pinyin);
    CREATE INDEX applications_agent_id_rev   ON applications(agent_id_rev);
    CREATE INDEX applications_agent_mobile   ON applications(agent_mobile_rev);
    "#,
    // 12: the supervisor's day reads what happened in a period: by time, not by application.
    r#"
    CREATE INDEX status_history_status_at ON status_history(status, at);
    CREATE INDEX audit_log_action_at ON audit_log(action, detail, at);
    "#,
    // 13: who holds an outbox claim, kept the same on both backends: on a centre's server
    // the claiming session's holder key (see schema_pg's 4); unused in a file.
    r#"
    ALTER TABLE outbox ADD COLUMN claim_holder INTEGER;
    "#,
];

/// The schema version from which the audit log is a hash chain: a store opened at an
/// earlier version has its older entries chained, once, by that open.
pub const AUDIT_CHAINED: usize = 4;

/// The schema version this build writes.
pub const LATEST: usize = MIGRATIONS.len();

/// The schema version of an open database (0 for a new, empty file).
pub fn user_version(conn: &Connection) -> rusqlite::Result<usize> {
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    Ok(usize::try_from(v).unwrap_or(usize::MAX))
}

/// Bring the database to the latest version.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<usize> {
    let current = user_version(conn)?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(current)
}

/// Apply only the first `version` migrations (for tests of upgrades from older versions).
#[doc(hidden)]
pub fn migrate_to(conn: &mut Connection, version: usize) -> rusqlite::Result<()> {
    for (i, sql) in MIGRATIONS.iter().enumerate().take(version) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
