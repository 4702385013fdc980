//! A centre's store on PostgreSQL: the same tables as the SQLite file's latest schema (the
//! store's code reads and writes them the same way), and what a shared server adds:
//! notifications of every change (the home screens follow each other live), and the
//! operators' password hashes (a centre's store has no key slots: its data at rest are
//! the database server's to protect).
//!
//! Migrations are append-only; `sbk_schema` holds how many were applied. They run under an
//! advisory lock, so that two PCs starting at once migrate once: the second waits, then
//! finds nothing left to do. A store of a newer schema is refused.

use super::db::{Sql, args};
use super::{Result, StoreError};

/// Every migration, in order. Index + 1 is the schema version it produces.
pub const MIGRATIONS: &[&str] = &[
    // 1: everything the SQLite store has at its version 10, in PostgreSQL's terms. Text
    // that is searched by prefix ranges is compared byte by byte (COLLATE "C"), as SQLite
    // compares it, whatever the server's locale.
    r#"
    CREATE TABLE photos (
        sha256      TEXT PRIMARY KEY,
        kind        TEXT NOT NULL,
        media_type  TEXT NOT NULL,
        size        BIGINT NOT NULL,
        width       BIGINT NOT NULL,
        height      BIGINT NOT NULL,
        bytes       BYTEA NOT NULL,
        created_at  BIGINT NOT NULL
    );

    CREATE TABLE applications (
        id                 TEXT COLLATE "C" PRIMARY KEY,
        status             TEXT NOT NULL,
        body               TEXT NOT NULL,
        name               TEXT COLLATE "C" NOT NULL,
        name_rev           TEXT COLLATE "C" NOT NULL,
        name_initials      TEXT COLLATE "C" NOT NULL,
        name_pinyin        TEXT COLLATE "C" NOT NULL,
        id_number          TEXT COLLATE "C" NOT NULL,
        id_rev             TEXT COLLATE "C" NOT NULL,
        mobile_rev         TEXT COLLATE "C" NOT NULL,
        card_photo         TEXT REFERENCES photos(sha256),
        id_front           TEXT REFERENCES photos(sha256),
        id_back            TEXT REFERENCES photos(sha256),
        created_at         BIGINT NOT NULL,
        updated_at         BIGINT NOT NULL,
        application_number TEXT,
        return_reason      TEXT,
        version            BIGINT NOT NULL DEFAULT 0
    );
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
        id              BIGSERIAL PRIMARY KEY,
        application_id  TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
        at              BIGINT NOT NULL,
        status          TEXT NOT NULL,
        note            TEXT
    );
    CREATE INDEX status_history_application ON status_history(application_id, at);

    CREATE TABLE outbox (
        id               BIGSERIAL PRIMARY KEY,
        application_id   TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
        idempotency_key  TEXT NOT NULL UNIQUE,
        state            TEXT NOT NULL,
        attempts         BIGINT NOT NULL DEFAULT 0,
        next_attempt_at  BIGINT NOT NULL,
        last_error       TEXT,
        created_at       BIGINT NOT NULL,
        claim_token      TEXT,
        claimed_by       TEXT,
        lease_until      BIGINT,
        posted_at        BIGINT
    );
    CREATE INDEX outbox_pending ON outbox(state, next_attempt_at);

    CREATE TABLE audit_log (
        id              BIGINT PRIMARY KEY,
        at              BIGINT NOT NULL,
        operator_id     TEXT NOT NULL,
        operator_name   TEXT NOT NULL,
        action          TEXT NOT NULL,
        application_id  TEXT,
        detail          TEXT,
        prev_hash       TEXT,
        hash            TEXT
    );
    CREATE INDEX audit_log_application ON audit_log(application_id);
    CREATE FUNCTION sbk_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the audit log is append-only';
    END $$;
    CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION sbk_audit_append_only();

    CREATE TABLE ui_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE imported_originals (
        path         TEXT PRIMARY KEY,
        sha256       TEXT NOT NULL,
        imported_at  BIGINT NOT NULL
    );

    CREATE TABLE status_counts (status TEXT PRIMARY KEY, n BIGINT NOT NULL);

    -- The application number and the return reason, kept from the body; the counts by
    -- status, kept by the rows' changes; and a notification of every change.
    CREATE FUNCTION sbk_applications_derive() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.application_number := NEW.body::jsonb ->> 'application_number';
        NEW.return_reason := NEW.body::jsonb -> 'returned' ->> 'reason';
        RETURN NEW;
    END $$;
    CREATE TRIGGER applications_derive BEFORE INSERT OR UPDATE OF body ON applications
        FOR EACH ROW EXECUTE FUNCTION sbk_applications_derive();

    CREATE FUNCTION sbk_status_counts() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE status_counts SET n = n - 1 WHERE status = OLD.status;
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            INSERT INTO status_counts(status, n) VALUES (NEW.status, 1)
                ON CONFLICT (status) DO UPDATE SET n = status_counts.n + 1;
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER status_counts_insert_delete AFTER INSERT OR DELETE ON applications
        FOR EACH ROW EXECUTE FUNCTION sbk_status_counts();
    CREATE TRIGGER status_counts_update AFTER UPDATE OF status ON applications
        FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
        EXECUTE FUNCTION sbk_status_counts();

    CREATE FUNCTION sbk_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('sbk_applications', coalesce(NEW.id, OLD.id));
        RETURN NULL;
    END $$;
    CREATE TRIGGER applications_notify AFTER INSERT OR UPDATE OR DELETE ON applications
        FOR EACH ROW EXECUTE FUNCTION sbk_notify_change();

    CREATE TABLE operators (
        id              TEXT PRIMARY KEY,
        name            TEXT NOT NULL,
        role            TEXT NOT NULL CHECK (role IN ('clerk', 'supervisor')),
        active          INTEGER NOT NULL DEFAULT 1,
        created_at      BIGINT NOT NULL,
        created_by      TEXT NOT NULL,
        disabled_at     BIGINT,
        last_sign_in_at BIGINT,
        must_change     INTEGER NOT NULL DEFAULT 0,
        -- Argon2id, as a PHC string: a centre's store checks passwords itself.
        password_phc    TEXT
    );
    CREATE FUNCTION sbk_operators_kept() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'operators are disabled, never deleted';
    END $$;
    CREATE TRIGGER operators_never_deleted BEFORE DELETE ON operators
        FOR EACH ROW EXECUTE FUNCTION sbk_operators_kept();

    -- Failed sign-ins per 工号 typed (known or not), for the lock.
    CREATE TABLE sign_in_attempts (
        operator      TEXT PRIMARY KEY,
        failed        INTEGER NOT NULL DEFAULT 0,
        locked_until  BIGINT
    );

    -- Who is editing a draft, at which window, until when (a lease with a heartbeat).
    CREATE TABLE draft_leases (
        application_id  TEXT PRIMARY KEY REFERENCES applications(id) ON DELETE CASCADE,
        token           TEXT NOT NULL,
        window_name     TEXT NOT NULL,
        operator_id     TEXT NOT NULL,
        operator_name   TEXT NOT NULL,
        lease_until     BIGINT NOT NULL
    );
    "#, // 2: 代办申领. The agent is found by search as the applicant is (a relative calls and
    // gives their own name or phone), and the agent's papers are photos the store keeps.
    // Applications from before have no agent: empty keys, no photos.
    r#"
    ALTER TABLE applications ADD COLUMN agent_name TEXT COLLATE "C" NOT NULL DEFAULT '';
    ALTER TABLE applications ADD COLUMN agent_name_rev TEXT COLLATE "C" NOT NULL DEFAULT '';
    ALTER TABLE applications ADD COLUMN agent_initials TEXT COLLATE "C" NOT NULL DEFAULT '';
    ALTER TABLE applications ADD COLUMN agent_pinyin TEXT COLLATE "C" NOT NULL DEFAULT '';
    ALTER TABLE applications ADD COLUMN agent_id_rev TEXT COLLATE "C" NOT NULL DEFAULT '';
    ALTER TABLE applications ADD COLUMN agent_mobile_rev TEXT COLLATE "C" NOT NULL DEFAULT '';
    ALTER TABLE applications ADD COLUMN agent_id_card TEXT REFERENCES photos(sha256);
    ALTER TABLE applications ADD COLUMN authorisation TEXT REFERENCES photos(sha256);
    CREATE INDEX applications_agent_name     ON applications(agent_name);
    CREATE INDEX applications_agent_name_rev ON applications(agent_name_rev);
    CREATE INDEX applications_agent_initials ON applications(agent_initials);
    CREATE INDEX applications_agent_pinyin   ON applications(agent_pinyin);
    CREATE INDEX applications_agent_id_rev   ON applications(agent_id_rev);
    CREATE INDEX applications_agent_mobile   ON applications(agent_mobile_rev);
    "#,
    // 3: the supervisor's day reads what happened in a period: by time, not by application.
    r#"
    CREATE INDEX status_history_status_at ON status_history(status, at);
    CREATE INDEX audit_log_action_at ON audit_log(action, detail, at);
    "#,
    // 4: who holds an outbox claim: the holder key of the claiming session (an advisory
    // lock it holds while it lives, `db::HOLDER_LOCKS`), so that a claim whose session is
    // gone (its backend terminated, the server restarted) is taken over at once instead of
    // when its lease runs out.
    r#"
    ALTER TABLE outbox ADD COLUMN claim_holder BIGINT;
    "#,
];

/// The schema version this build writes.
pub const LATEST: usize = MIGRATIONS.len();

/// The advisory lock two PCs migrating at once take in turn.
const MIGRATION_LOCK: i64 = 0x5B4B_0001;

/// Bring the server's schema to the latest version (once, whoever comes first).
pub fn migrate(db: &impl Sql) -> Result<usize> {
    db.execute("SELECT pg_advisory_lock(?1)", args![MIGRATION_LOCK])?;
    let result = (|| {
        db.batch("CREATE TABLE IF NOT EXISTS sbk_schema (version INTEGER NOT NULL)")?;
        let found: Option<i64> = db
            .query_opt("SELECT max(version) FROM sbk_schema", args![])?
            .map(|r| r.get::<Option<i64>>(0))
            .transpose()?
            .flatten();
        let found = found.unwrap_or(0) as usize;
        if found > LATEST {
            return Err(StoreError::TooNew {
                found,
                supported: LATEST,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found) {
            let tx = db.conn().begin()?;
            tx.batch(sql)?;
            tx.execute(
                "INSERT INTO sbk_schema (version) VALUES (?1)",
                args![(i + 1) as i64],
            )?;
            tx.commit()?;
        }
        Ok(found)
    })();
    db.execute("SELECT pg_advisory_unlock(?1)", args![MIGRATION_LOCK])?;
    result
}
