//! Applications in the store: create, save (every keystroke), load, list, search, and the
//! checked lifecycle (transitions, submit to the outbox, withdraw, delete).

use chrono::{DateTime, NaiveDate, Utc};
use std::sync::LazyLock;

use serde::Serialize;
use uuid::Uuid;

use super::audit::{AuditAction, Operator, audit_on};
use super::db::{Backend, Row, Sql, ToValue, Value, args};
use super::photos::collect_garbage;
use super::search::{Query, name_keys, prefix_upper_bound, reversed};
use super::{Result, Store, StoreError, from_ms, now_ms};
use crate::domain::{Application, Status, mask_id, validate};

/// One row of a list: what the home screen and `drafts list` show without parsing JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub id: Uuid,
    pub status: Status,
    pub name: String,
    /// Unmasked; call `masked_id_number` for lists.
    pub id_number: String,
    pub application_number: Option<String>,
    pub updated_at: DateTime<Utc>,
    /// Why it came back, while it is returned (the server's words; no personal data).
    pub return_reason: Option<String>,
    /// The agent's name, for a 代办 application (empty otherwise).
    pub agent_name: String,
}

impl Summary {
    pub fn masked_id_number(&self) -> String {
        mask_id(&self.id_number)
    }
}

/// One entry of an application's status history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    pub status: Status,
    pub note: Option<String>,
}

/// The columns derived from the body on every save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Derived {
    name: String,
    name_rev: String,
    name_initials: String,
    name_pinyin: String,
    id_number: String,
    id_rev: String,
    mobile_rev: String,
    card_photo: Option<String>,
    id_front: Option<String>,
    id_back: Option<String>,
    /// The agent's keys, a 代办 application's only (empty otherwise).
    agent_name: String,
    agent_name_rev: String,
    agent_initials: String,
    agent_pinyin: String,
    agent_id_rev: String,
    agent_mobile_rev: String,
    agent_id_card: Option<String>,
    authorisation: Option<String>,
}

/// The derived columns, in the order of `Derived::values`: the one list INSERT and UPDATE use.
const DERIVED_COLUMNS: [&str; 18] = [
    "name",
    "name_rev",
    "name_initials",
    "name_pinyin",
    "id_number",
    "id_rev",
    "mobile_rev",
    "card_photo",
    "id_front",
    "id_back",
    "agent_name",
    "agent_name_rev",
    "agent_initials",
    "agent_pinyin",
    "agent_id_rev",
    "agent_mobile_rev",
    "agent_id_card",
    "authorisation",
];

/// `UPDATE` of body, time and every derived column (a save that changed a search column).
static UPDATE_ALL: LazyLock<String> = LazyLock::new(|| {
    let sets: Vec<String> = DERIVED_COLUMNS
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = ?{}", i + 5))
        .collect();
    format!(
        "UPDATE applications SET body = ?1, updated_at = ?2, version = version + 1, {}
         WHERE id = ?3 AND status = ?4",
        sets.join(", ")
    )
});

/// `UPDATE_ALL` for a save: also conditional on the version (the parameter after the
/// derived columns).
static SAVE_ALL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{} AND version = ?{}",
        *UPDATE_ALL,
        5 + DERIVED_COLUMNS.len()
    )
});

static INSERT: LazyLock<String> = LazyLock::new(|| {
    let marks: Vec<String> = (6..6 + DERIVED_COLUMNS.len())
        .map(|i| format!("?{i}"))
        .collect();
    format!(
        "INSERT INTO applications (id, status, body, created_at, updated_at, {})
         VALUES (?1, ?2, ?3, ?4, ?5, {})",
        DERIVED_COLUMNS.join(", "),
        marks.join(", ")
    )
});

impl Derived {
    /// The values of `DERIVED_COLUMNS`, in that order.
    fn values(&self) -> [Value; 18] {
        [
            self.name.to_value(),
            self.name_rev.to_value(),
            self.name_initials.to_value(),
            self.name_pinyin.to_value(),
            self.id_number.to_value(),
            self.id_rev.to_value(),
            self.mobile_rev.to_value(),
            self.card_photo.to_value(),
            self.id_front.to_value(),
            self.id_back.to_value(),
            self.agent_name.to_value(),
            self.agent_name_rev.to_value(),
            self.agent_initials.to_value(),
            self.agent_pinyin.to_value(),
            self.agent_id_rev.to_value(),
            self.agent_mobile_rev.to_value(),
            self.agent_id_card.to_value(),
            self.authorisation.to_value(),
        ]
    }

    fn of(app: &Application) -> Derived {
        let digits = |s: &str| -> String { s.chars().filter(char::is_ascii_digit).collect() };
        let name = app.applicant.name.trim().to_owned();
        let keys = name_keys(&name);
        let id_number = crate::domain::id_number::normalise_id_input(&app.applicant.id_number);
        let sha = |p: &Option<crate::domain::PhotoRef>| p.as_ref().map(|p| p.sha256.clone());
        // The agent only while the application is a 代办 one: data kept from a switch
        // back to 本人申领 is not searched.
        let empty = crate::domain::Agent::default();
        let agent = if app.by_agent() { &app.agent } else { &empty };
        let agent_name = agent.name.trim().to_owned();
        let agent_keys = name_keys(&agent_name);
        Derived {
            name_rev: keys.reversed,
            name_initials: keys.initials,
            name_pinyin: keys.pinyin,
            id_rev: reversed(&id_number),
            mobile_rev: reversed(&digits(&app.applicant.mobile)),
            name,
            id_number,
            card_photo: sha(&app.photos.card_photo),
            id_front: sha(&app.photos.id_front),
            id_back: sha(&app.photos.id_back),
            agent_name_rev: agent_keys.reversed,
            agent_initials: agent_keys.initials,
            agent_pinyin: agent_keys.pinyin,
            agent_name,
            agent_id_rev: reversed(&crate::domain::id_number::normalise_id_input(
                &agent.id_number,
            )),
            agent_mobile_rev: reversed(&digits(&agent.mobile)),
            // The papers are kept as long as the body names them, whichever way it applies.
            agent_id_card: sha(&app.agent.photos.id_card),
            authorisation: sha(&app.agent.photos.authorisation),
        }
    }
}

/// Above this many matching rows a search walks the applications newest first instead of
/// sorting every hit (see `Store::search`).
const DENSE_SEARCH_HITS: usize = 1500;

const SUMMARY_COLUMNS: &str = "applications.id, status, name, id_number, application_number, updated_at, return_reason, agent_name";

fn summary(r: &Row) -> Result<Summary> {
    let id: String = r.get(0)?;
    let status: String = r.get(1)?;
    Ok(Summary {
        id: Uuid::parse_str(&id).unwrap_or_default(),
        status: Status::from_key(&status).unwrap_or(Status::Draft),
        name: r.get(2)?,
        id_number: r.get(3)?,
        application_number: r.get(4)?,
        updated_at: from_ms(r.get(5)?),
        return_reason: r.get(6)?,
        agent_name: r.get(7)?,
    })
}

/// A photo the application names is not in the store (a foreign key), said so.
fn map_fk(e: StoreError) -> StoreError {
    if e.is_foreign_key() {
        StoreError::MissingPhoto
    } else {
        e
    }
}

impl Store {
    /// Insert a new application (normally a fresh `Application::new`) and record who made it.
    pub fn create(&mut self, app: &Application, operator: &Operator) -> Result<()> {
        let tx = self.db.begin()?;
        insert(&tx, app)?;
        history(&tx, app.id, app.status, None)?;
        audit_on(&tx, operator, AuditAction::Create, Some(app.id), None)?;
        self.settle(tx.commit(), |db| exists(db, app.id))
    }

    /// Insert many applications in one transaction (seeding a demo or a benchmark store),
    /// recorded as one audit entry.
    pub fn create_batch(&mut self, apps: &[Application], operator: &Operator) -> Result<()> {
        let tx = self.db.begin()?;
        for app in apps {
            insert(&tx, app)?;
            history(&tx, app.id, app.status, None)?;
        }
        let detail = format!("batch of {}", apps.len());
        audit_on(&tx, operator, AuditAction::Create, None, Some(&detail))?;
        tx.commit()?;
        Ok(())
    }

    /// Insert an application brought from a file, as a draft, recording the import.
    pub fn import(&mut self, app: &Application, operator: &Operator) -> Result<()> {
        let tx = self.db.begin()?;
        insert(&tx, app)?;
        history(&tx, app.id, app.status, Some("导入"))?;
        audit_on(&tx, operator, AuditAction::Import, Some(app.id), None)?;
        self.settle(tx.commit(), |db| exists(db, app.id))
    }

    /// Save the application as it stands: one small durable transaction, called on every
    /// change. Its status must be editable and still the one in the store (a status is only
    /// changed by `transition`). Sets `updated_at`.
    pub fn save(&mut self, app: &mut Application) -> Result<()> {
        if !app.status.is_editable() {
            return Err(StoreError::NotEditable(app.status));
        }
        let now = now_ms();
        app.updated_at = from_ms(now);
        let body = serde_json::to_string(app)?;
        let d = Derived::of(app);
        let id = app.id.to_string();
        // Most keystrokes change neither the name, the numbers nor the photos: then only the
        // body and the time are written, and no search index is touched.
        let unchanged = self.derived_cache.get(&app.id) == Some(&d);
        // Conditional on the version this copy was loaded or last saved at: a save from a
        // window that missed a newer change is refused, not written over it.
        let changed = if unchanged {
            self.db.execute(
                "UPDATE applications SET body = ?1, updated_at = ?2, version = version + 1
                 WHERE id = ?3 AND status = ?4 AND version = ?5",
                args![body, now, id, app.status.key(), app.version],
            )
        } else {
            let mut values = args![body, now, id, app.status.key()].to_vec();
            values.extend(d.values());
            values.push(Value::Int(app.version));
            self.db.execute(&SAVE_ALL, &values)
        }
        .map_err(map_fk);
        let changed = match changed {
            Ok(n) => n,
            Err(e) => {
                self.derived_cache.remove(&app.id);
                // Sent, and the connection broke: it may have been done. Kept, with every
                // other body sent from the same version, so that the next save can tell
                // (idempotent by version). One never sent (`ConnectionLost`) was not done.
                if e.is_connection() && !matches!(e, StoreError::ConnectionLost) {
                    let sent = self
                        .unsure_saves
                        .entry(app.id)
                        .or_insert_with(|| (app.version, Vec::new()));
                    if sent.0 != app.version {
                        *sent = (app.version, Vec::new());
                    }
                    sent.1.push(body);
                }
                return Err(e);
            }
        };
        let unsure = self.unsure_saves.remove(&app.id);
        if changed == 0 {
            self.derived_cache.remove(&app.id);
            let stored = self.db.query_opt(
                "SELECT status, version, body FROM applications WHERE id = ?1",
                args![app.id],
            )?;
            let Some(stored) = stored else {
                return Err(StoreError::NotFound(app.id));
            };
            let actual = Status::from_key(&stored.get::<String>(0)?)
                .ok_or_else(|| StoreError::Column("an unknown status".into()))?;
            if actual != app.status {
                return Err(StoreError::StatusChanged {
                    expected: app.status,
                    actual,
                });
            }
            // The save whose connection broke had been done after all: this one follows it.
            if let Some((from, sent)) = unsure
                && from == app.version
                && stored.get::<i64>(1)? == from + 1
                && sent.contains(&stored.get::<String>(2)?)
            {
                app.version += 1;
                return self.save(app);
            }
            return Err(StoreError::NewerVersion);
        }
        app.version += 1;
        self.derived_cache.insert(app.id, d);
        Ok(())
    }

    /// Load one application.
    pub fn get(&self, id: Uuid) -> Result<Application> {
        load_in(&self.db, id)
    }

    /// Find an application by its UUID or an unambiguous prefix of it (as `git` does).
    pub fn resolve(&self, id_or_prefix: &str) -> Result<Uuid> {
        let prefix = id_or_prefix.trim().to_ascii_lowercase();
        if let Ok(id) = Uuid::parse_str(&prefix) {
            return Ok(id);
        }
        // A 申领编号 (SQ…), as the resident quotes it from the 受理单.
        let upper = id_or_prefix.trim().to_ascii_uppercase();
        if upper.starts_with("SQ")
            && let Some(r) = self.db.query_opt(
                "SELECT id FROM applications WHERE application_number = ?1",
                args![upper],
            )?
        {
            return Ok(Uuid::parse_str(&r.get::<String>(0)?).unwrap_or_default());
        }
        let ids: Vec<String> = self
            .db
            .query(
                "SELECT id FROM applications WHERE id >= ?1 AND id < ?2 LIMIT 2",
                args![prefix, prefix_upper_bound(&prefix)],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect::<Result<_>>()?;
        match ids.as_slice() {
            [one] => Ok(Uuid::parse_str(one).unwrap_or_default()),
            [] => Err(StoreError::NoMatch(prefix)),
            _ => Err(StoreError::Ambiguous { prefix }),
        }
    }

    fn status_of(&self, id: Uuid) -> Result<Option<Status>> {
        self.db
            .query_opt("SELECT status FROM applications WHERE id = ?1", args![id])?
            .map(|r| -> Result<Status> {
                let s: String = r.get(0)?;
                Ok(Status::from_key(&s).unwrap_or(Status::Draft))
            })
            .transpose()
    }

    /// Applications, most recently changed first, optionally of one status.
    pub fn list(
        &self,
        status: Option<Status>,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<Summary>> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM applications
             WHERE CAST(?1 AS TEXT) IS NULL OR status = ?1 ORDER BY updated_at DESC LIMIT ?2 OFFSET ?3"
        );
        self.db
            .query(&sql, args![status.map(Status::key), limit, offset])?
            .iter()
            .map(summary)
            .collect()
    }

    /// How many applications there are in each status (statuses with none left out), from
    /// the counts the triggers of schema version 5 keep.
    pub fn counts(&self) -> Result<Vec<(Status, usize)>> {
        let rows = self
            .db
            .query("SELECT status, n FROM status_counts WHERE n > 0", args![])?;
        let mut out = Vec::new();
        for row in rows {
            let (s, n): (String, i64) = (row.get(0)?, row.get(1)?);
            if let Some(s) = Status::from_key(&s) {
                out.push((s, n as usize));
            }
        }
        out.sort_by_key(|(s, _)| Status::ALL.iter().position(|x| x == s));
        Ok(out)
    }

    /// A search made by `operator`, on record: its shape and its hit count (never the
    /// text). A search by a whole number (ID or mobile) that finds nothing is counted, and
    /// after `WHOLE_NUMBER_MISSES` such misses in ten minutes the operator's next ones are
    /// refused for a while (trying birth dates one by one against a masked number), the
    /// refusal on record too.
    pub fn search_as(
        &self,
        operator: &Operator,
        query: &str,
        limit: usize,
    ) -> Result<Vec<Summary>> {
        let Some(q) = Query::parse(query) else {
            return Ok(Vec::new());
        };
        let miss = format!("{} hits:0", q.shape());
        if q.is_whole_number() {
            let since = now_ms() - WHOLE_NUMBER_WINDOW_MS;
            let misses: i64 = self
                .db
                .query_one(
                    "SELECT count(*) FROM audit_log WHERE action = 'search' AND detail = ?1
                     AND at > ?2 AND operator_id = ?3",
                    args![miss, since, operator.id],
                )?
                .get(0)?;
            if misses >= WHOLE_NUMBER_MISSES {
                let detail = format!("{} refused", q.shape());
                audit_on(&self.db, operator, AuditAction::Search, None, Some(&detail))?;
                return Err(StoreError::SearchLimited);
            }
        }
        let rows = self.search(query, limit)?;
        let detail = format!("{} hits:{}", q.shape(), rows.len());
        audit_on(&self.db, operator, AuditAction::Search, None, Some(&detail))?;
        Ok(rows)
    }

    /// Search by name, pinyin initials or full pinyin, ID number (whole, region code or
    /// last 4–6 digits) or mobile (whole or last four); most recently changed first.
    ///
    /// Two plans, chosen by how many rows match (counted from the indexes alone): few hits
    /// are collected from the key indexes and sorted; many (a common surname like 王, about
    /// 7% of people) are found by walking the applications newest first until `limit` match,
    /// which then takes about `limit / density` rows. Either way a search stays in the low
    /// milliseconds at 100,000 applications.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<Summary>> {
        let Some(q) = Query::parse(query) else {
            return Ok(Vec::new());
        };
        let ranges = q.ranges();
        if ranges.is_empty() {
            return Ok(Vec::new());
        }
        let mut args: Vec<String> = Vec::new();
        let mut conditions = Vec::new();
        for (column, prefix) in ranges {
            // Column names come from a fixed list in `Query::ranges`, never from input.
            conditions.push(format!(
                "({column} >= ?{} AND {column} < ?{})",
                args.len() + 1,
                args.len() + 2
            ));
            let upper = prefix_upper_bound(&prefix);
            args.push(prefix);
            args.push(upper);
        }
        let counts: Vec<String> = conditions
            .iter()
            .map(|c| format!("(SELECT count(*) FROM applications WHERE {c})"))
            .collect();
        let values: Vec<Value> = args.iter().map(ToValue::to_value).collect();
        let hits: i64 = self
            .db
            .query_one(&format!("SELECT {}", counts.join(" + ")), &values)?
            .get(0)?;
        let sql = if self.db.backend() == Backend::Postgres {
            // PostgreSQL combines the key indexes itself (a bitmap OR) and sorts the hits.
            format!(
                "SELECT {SUMMARY_COLUMNS} FROM applications WHERE {}
                 ORDER BY updated_at DESC LIMIT {limit}",
                conditions.join(" OR ")
            )
        } else if hits as usize > DENSE_SEARCH_HITS.max(limit) {
            format!(
                "SELECT {SUMMARY_COLUMNS} FROM applications INDEXED BY applications_updated
                 WHERE {} ORDER BY updated_at DESC LIMIT {limit}",
                conditions.join(" OR ")
            )
        } else {
            let branches: Vec<String> = conditions
                .iter()
                .map(|c| format!("SELECT rowid, updated_at FROM applications WHERE {c}"))
                .collect();
            format!(
                "WITH hits(rid, upd) AS ({}),
                      top(rid) AS (SELECT rid FROM hits ORDER BY upd DESC LIMIT {limit})
                 SELECT {SUMMARY_COLUMNS} FROM applications JOIN top ON applications.rowid = top.rid
                 ORDER BY updated_at DESC",
                branches.join(" UNION ")
            )
        };
        self.db.query(&sql, &values)?.iter().map(summary).collect()
    }

    /// Move an application to another status, if the lifecycle allows it; records the
    /// history (with `note`, which must hold no personal data) and the audit entry.
    pub fn transition(
        &mut self,
        id: Uuid,
        to: Status,
        operator: &Operator,
        note: Option<&str>,
    ) -> Result<Application> {
        let tx = self.db.begin()?;
        let app = transition_in(&tx, id, to, operator, note)?;
        self.derived_cache.remove(&id);
        self.settle(tx.commit(), |db| is_stored(db, &app))?;
        Ok(app)
    }

    /// Submit at the counter: the application (complete and valid on `today`) moves to
    /// `queued` and gets an outbox entry with a fresh idempotency key, in one transaction.
    /// Returns the key.
    pub fn submit(&mut self, id: Uuid, operator: &Operator, today: NaiveDate) -> Result<String> {
        let tx = self.db.begin()?;
        let app = load_in(&tx, id)?;
        let report = validate(&app, today);
        if !report.is_ready_to_submit() {
            let blocking = report
                .problems
                .into_iter()
                .filter(|p| p.blocks_submission())
                .collect();
            return Err(StoreError::Incomplete(blocking));
        }
        // Submitted again after a return: the reason has been dealt with.
        transition_with(&tx, id, Status::Queued, operator, None, |app| {
            app.returned = None
        })?;
        let key = Uuid::new_v4().to_string();
        let now = now_ms();
        tx.execute(
            "INSERT INTO outbox (application_id, idempotency_key, state, next_attempt_at, created_at)
             VALUES (?1, ?2, 'pending', ?3, ?3)",
            args![id, key, now],
        )?;
        // The entry's key says whether a submission whose answer was lost was made.
        self.settle(tx.commit(), |db| {
            Ok(db
                .query_opt(
                    "SELECT 1 FROM outbox WHERE idempotency_key = ?1",
                    args![key],
                )?
                .is_some())
        })?;
        Ok(key)
    }

    /// The resident's consents (免责声明, 访问授权, 我已阅读并同意) and the clerk's
    /// in-person checks of the ID card(s), given now at the counter by `operator` outside
    /// the wizard, audited; an eligibility not yet checked is asked for at delivery (待校验).
    /// Only on an application still being edited.
    pub fn give_consents(
        &mut self,
        id: Uuid,
        operator: &Operator,
        now: DateTime<Utc>,
    ) -> Result<Application> {
        let tx = self.db.begin()?;
        let mut app = load_in(&tx, id)?;
        if !app.status.is_editable() {
            return Err(StoreError::NotEditable(app.status));
        }
        let by_agent = app.by_agent();
        let c = &mut app.consents;
        c.disclaimer_agreed_at = Some(now);
        c.access_authorised_at = Some(now);
        c.declaration_agreed_at = Some(now);
        if by_agent {
            c.agent_id_card_checked_at = Some(now);
            c.applicant_id_card_checked_at = Some(now);
        } else {
            c.identity_verified_in_person_at = Some(now);
        }
        // Not checked yet (an import never brings the answer): checked with the central
        // API before delivery, as an application submitted offline is.
        if matches!(app.eligibility, crate::domain::Eligibility::NotChecked) {
            app.eligibility = crate::domain::Eligibility::Pending { requested_at: now };
        }
        app.updated_at = now;
        let changed = tx.execute(
            "UPDATE applications SET body = ?1, updated_at = ?2, version = version + 1
             WHERE id = ?3 AND status = ?4 AND version = ?5",
            args![
                serde_json::to_string(&app)?,
                now.timestamp_millis(),
                id,
                app.status.key(),
                app.version
            ],
        )?;
        if changed == 0 {
            return Err(StoreError::NewerVersion);
        }
        app.version += 1;
        audit_on(
            &tx,
            operator,
            AuditAction::Consent,
            Some(id),
            Some("drafts submit"),
        )?;
        self.derived_cache.remove(&id);
        self.settle(tx.commit(), |db| is_stored(db, &app))?;
        Ok(app)
    }

    /// Take a queued application back to draft before it is delivered.
    /// Refused while a worker holds a live claim on it, or once a submission was sent (it
    /// may have reached the central API: only its answer can tell).
    pub fn withdraw(&mut self, id: Uuid, operator: &Operator) -> Result<Application> {
        let tx = self.db.begin()?;
        let busy: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM outbox WHERE application_id = ?1 AND state = 'pending'
                     AND (posted_at IS NOT NULL OR lease_until > ?2))",
                args![id, now_ms()],
            )?
            .get(0)?;
        if busy {
            return Err(StoreError::BeingDelivered);
        }
        let app = transition_in(&tx, id, Status::Draft, operator, Some("撤回"))?;
        tx.execute(
            "UPDATE outbox SET state = 'withdrawn' WHERE application_id = ?1 AND state = 'pending'",
            args![id],
        )?;
        self.settle(tx.commit(), |db| is_stored(db, &app))?;
        Ok(app)
    }

    /// Delete a draft (or a ready, never-submitted application) and any photos only it used.
    pub fn delete(&mut self, id: Uuid, operator: &Operator) -> Result<()> {
        let tx = self.db.begin()?;
        let status = load_in(&tx, id)?.status;
        if !status.is_deletable() {
            return Err(StoreError::NotDeletable(status));
        }
        tx.execute("DELETE FROM applications WHERE id = ?1", args![id])?;
        self.derived_cache.remove(&id);
        collect_garbage(&tx)?;
        audit_on(&tx, operator, AuditAction::Delete, Some(id), None)?;
        self.settle(tx.commit(), |db| Ok(!exists(db, id)?))?;
        self.forget_deleted()
    }

    /// The status history of one application, oldest first.
    pub fn history(&self, id: Uuid) -> Result<Vec<HistoryEntry>> {
        self.db
            .query(
                "SELECT at, status, note FROM status_history WHERE application_id = ?1 ORDER BY at, id",
                args![id],
            )?
            .iter()
            .map(|r| {
                let status: String = r.get(1)?;
                Ok(HistoryEntry {
                    at: from_ms(r.get(0)?),
                    status: Status::from_key(&status).unwrap_or(Status::Draft),
                    note: r.get(2)?,
                })
            })
            .collect()
    }

    /// Whether an application with this id exists.
    pub fn contains(&self, id: Uuid) -> Result<bool> {
        Ok(self.status_of(id)?.is_some())
    }
}

/// Whether `app` is stored exactly as written (its body carries the time of the write).
fn is_stored(db: &impl Sql, app: &Application) -> Result<bool> {
    let stored: Option<String> = db
        .query_opt("SELECT body FROM applications WHERE id = ?1", args![app.id])?
        .map(|r| r.get(0))
        .transpose()?;
    Ok(stored == Some(serde_json::to_string(app)?))
}

/// Whole-number searches that find nothing allowed in `WHOLE_NUMBER_WINDOW_MS` per
/// operator: a clerk looks up residents who are not in the store now and then; a guess at
/// the hidden digits needs thousands.
pub const WHOLE_NUMBER_MISSES: i64 = 10;
const WHOLE_NUMBER_WINDOW_MS: i64 = 10 * 60 * 1000;

fn exists(db: &impl Sql, id: Uuid) -> Result<bool> {
    Ok(db
        .query_opt("SELECT 1 FROM applications WHERE id = ?1", args![id])?
        .is_some())
}

fn insert(tx: &impl Sql, app: &Application) -> Result<()> {
    let d = Derived::of(app);
    let (id, status, body) = (
        app.id.to_string(),
        app.status.key(),
        serde_json::to_string(app)?,
    );
    let (created, updated) = (
        app.created_at.timestamp_millis(),
        app.updated_at.timestamp_millis(),
    );
    let mut values = args![id, status, body, created, updated].to_vec();
    values.extend(d.values());
    tx.execute(&INSERT, &values).map_err(map_fk)?;
    Ok(())
}

/// Write an application's body and every derived column, whatever its status (retention
/// reduces delivered applications, which `save` rightly refuses).
pub(super) fn rewrite(tx: &impl Sql, app: &Application) -> Result<()> {
    let body = serde_json::to_string(app)?;
    let d = Derived::of(app);
    let mut values = args![body, now_ms(), app.id, app.status.key()].to_vec();
    values.extend(d.values());
    tx.execute(&UPDATE_ALL, &values).map_err(map_fk)?;
    Ok(())
}

pub(super) fn load_in(tx: &impl Sql, id: Uuid) -> Result<Application> {
    let row = tx
        .query_opt(
            "SELECT body, version FROM applications WHERE id = ?1",
            args![id],
        )?
        .ok_or(StoreError::NotFound(id))?;
    let mut app: Application = serde_json::from_str(&row.get::<String>(0)?)?;
    app.version = row.get(1)?;
    Ok(app)
}

fn history(tx: &impl Sql, id: Uuid, status: Status, note: Option<&str>) -> Result<()> {
    history_at(tx, id, status, note, now_ms())
}

fn history_at(
    tx: &impl Sql,
    id: Uuid,
    status: Status,
    note: Option<&str>,
    at_ms: i64,
) -> Result<()> {
    tx.execute(
        "INSERT INTO status_history (application_id, at, status, note) VALUES (?1, ?2, ?3, ?4)",
        args![id, at_ms, status.key(), note],
    )?;
    Ok(())
}

fn transition_in(
    tx: &impl Sql,
    id: Uuid,
    to: Status,
    operator: &Operator,
    note: Option<&str>,
) -> Result<Application> {
    transition_with(tx, id, to, operator, note, |_| {})
}

/// A transition that also changes the application (its number, its eligibility), in the
/// caller's transaction.
pub(super) fn transition_with(
    tx: &impl Sql,
    id: Uuid,
    to: Status,
    operator: &Operator,
    note: Option<&str>,
    change: impl FnOnce(&mut Application),
) -> Result<Application> {
    transition_at(tx, id, to, operator, note, None, change)
}

/// A transition whose history entry carries when it happened elsewhere (the central
/// API's time of a progress step), not when this store heard of it. Never earlier than
/// the application's last entry, so that the history stays in order whatever the clocks.
pub(super) fn transition_at(
    tx: &impl Sql,
    id: Uuid,
    to: Status,
    operator: &Operator,
    note: Option<&str>,
    happened_at: Option<DateTime<Utc>>,
    change: impl FnOnce(&mut Application),
) -> Result<Application> {
    let mut app = load_in(tx, id)?;
    let from = app.status;
    if !from.can_become(to) {
        return Err(StoreError::IllegalTransition { from, to });
    }
    let now = now_ms();
    change(&mut app);
    app.status = to;
    app.updated_at = from_ms(now);
    // Conditional on the status it was decided from, whatever the isolation.
    let changed = tx.execute(
        "UPDATE applications SET status = ?1, body = ?2, updated_at = ?3, version = version + 1
         WHERE id = ?4 AND status = ?5",
        args![to.key(), serde_json::to_string(&app)?, now, id, from.key()],
    )?;
    if changed == 0 {
        return Err(StoreError::StatusChanged {
            expected: from,
            actual: to,
        });
    }
    app.version += 1;
    let at = match happened_at {
        None => now,
        Some(t) => {
            let last: Option<i64> = tx
                .query_one(
                    "SELECT max(at) FROM status_history WHERE application_id = ?1",
                    args![id],
                )?
                .get(0)?;
            t.timestamp_millis().max(last.unwrap_or(i64::MIN)).min(now)
        }
    };
    history_at(tx, id, to, note, at)?;
    let detail = format!("{} → {}", from.key(), to.key());
    audit_on(
        tx,
        operator,
        AuditAction::Transition,
        Some(id),
        Some(&detail),
    )?;
    Ok(app)
}
