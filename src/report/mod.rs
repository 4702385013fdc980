//! The supervisor's day: what each operator (each window) did over a period, and what is
//! stuck now. Read from the store's own records: the audit log says who started and
//! submitted (and withdrew) what; the status history says what was delivered, accepted
//! and returned, credited to the operator who started the application. On a centre's
//! server it covers every window. `table`, `json`, `csv` and `xlsx` print it.

pub mod xlsx;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::domain::dates::beijing;
use crate::domain::{Status, mask_id};
use crate::store::db::{Sql, ToValue, args};
use crate::store::{Result, Store};

/// Beijing calendar days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    pub fn day(d: NaiveDate) -> Period {
        Period { from: d, to: d }
    }

    /// [start, end) in unix milliseconds.
    fn bounds(&self) -> (i64, i64) {
        let at = |d: NaiveDate| {
            beijing()
                .from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
                .single()
                .map_or(0, |t| t.timestamp_millis())
        };
        (at(self.from), at(self.to + Duration::days(1)))
    }
}

/// What was done, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// New applications started (created or imported).
    pub started: usize,
    /// Submitted at the counter (first time or again after a return).
    pub submitted: usize,
    /// Reached the central API (已提交).
    pub delivered: usize,
    /// 已受理.
    pub accepted: usize,
    /// 已退回.
    pub returned: usize,
    /// Taken back from the queue to change.
    pub withdrawn: usize,
}

/// The figures' columns, as every format (table, CSV, workbook, screen) heads them.
pub const COLUMNS: [&str; 8] = [
    "工号", "姓名", "新建", "提交", "送达", "受理", "退回", "撤回",
];

/// A stuck application's columns, in `StuckItem::cells`' order.
pub const STUCK_COLUMNS: [&str; 8] = [
    "待处理",
    "编号",
    "姓名",
    "证件号码",
    "状态",
    "起始",
    "经办人",
    "说明",
];

impl Counts {
    /// The figures in `COLUMNS`' order (after 工号 and 姓名).
    pub fn values(&self) -> [usize; 6] {
        [
            self.started,
            self.submitted,
            self.delivered,
            self.accepted,
            self.returned,
            self.withdrawn,
        ]
    }

    fn add(&mut self, o: &Counts) {
        self.started += o.started;
        self.submitted += o.submitted;
        self.delivered += o.delivered;
        self.accepted += o.accepted;
        self.returned += o.returned;
        self.withdrawn += o.withdrawn;
    }
}

/// One operator's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperatorRow {
    pub operator_id: String,
    pub operator_name: String,
    pub counts: Counts,
}

/// Why stuck.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StuckKind {
    /// 待同步 for over an hour.
    QueuedOverAnHour,
    /// A draft nobody touched for 7 days.
    DraftUntouched,
    /// 已退回 and not corrected for 3 days.
    ReturnedNotCorrected,
    /// Delivery keeps failing: a person must look (the network, the token, the server).
    DeliveryFailing,
}

impl StuckKind {
    pub const ALL: [StuckKind; 4] = [
        StuckKind::QueuedOverAnHour,
        StuckKind::DraftUntouched,
        StuckKind::ReturnedNotCorrected,
        StuckKind::DeliveryFailing,
    ];

    pub fn label(self) -> &'static str {
        match self {
            StuckKind::QueuedOverAnHour => "待同步超过 1 小时",
            StuckKind::DraftUntouched => "草稿 7 天未动",
            StuckKind::ReturnedNotCorrected => "退回 3 天未修改",
            StuckKind::DeliveryFailing => "发送一再失败，需要人工处理",
        }
    }
}

/// An application that needs someone: masked, and with the id that opens it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StuckItem {
    pub kind: StuckKind,
    pub id: Uuid,
    pub name: String,
    /// Masked unless the report was asked revealed.
    pub id_number: String,
    pub status: Status,
    pub since: DateTime<Utc>,
    /// Who started it.
    pub operator_id: String,
    pub operator_name: String,
    /// The last delivery error, or the return reason.
    pub detail: Option<String>,
}

/// How many applications are stuck, by kind.
pub type StuckTotals = Vec<(StuckKind, usize)>;

impl StuckItem {
    /// Its cells, in `STUCK_COLUMNS`' order (as stored: guard them for a spreadsheet).
    pub fn cells(&self) -> [String; 8] {
        [
            self.kind.label().to_owned(),
            self.id.to_string(),
            self.name.clone(),
            self.id_number.clone(),
            self.status.label().to_owned(),
            self.since
                .with_timezone(&beijing())
                .format("%Y-%m-%d %H:%M")
                .to_string(),
            format!("{}（{}）", self.operator_name, self.operator_id),
            self.detail.clone().unwrap_or_default(),
        ]
    }
}

/// The report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayReport {
    pub period: Period,
    pub generated_at: DateTime<Utc>,
    /// Per operator, by 工号.
    pub operators: Vec<OperatorRow>,
    pub total: Counts,
    /// Return reasons in the period, grouped (the part before the first ：), commonest first.
    pub returned_reasons: Vec<(String, usize)>,
    /// The oldest of each kind (at most `STUCK_SHOWN` a kind) …
    pub stuck: Vec<StuckItem>,
    /// … and how many of each kind there are in all.
    pub stuck_totals: StuckTotals,
}

/// How long before an application counts as stuck.
pub const QUEUED_STUCK: Duration = Duration::hours(1);
pub const DRAFT_STUCK: Duration = Duration::days(7);
pub const RETURNED_STUCK: Duration = Duration::days(3);
/// Failed delivery attempts before a person is asked to look.
pub const FAILING_ATTEMPTS: i64 = 3;
/// The most of one kind listed (the oldest first); the total is given beside.
pub const STUCK_SHOWN: usize = 200;

/// Who started the application `a`: its operator's 工号 …
const CREATOR_ID: &str = "(SELECT c.operator_id FROM audit_log c
     WHERE c.application_id = a.id AND c.action IN ('create', 'import') ORDER BY c.id LIMIT 1)";
/// … and 工号, then name (two columns).
const CREATOR: &str = "(SELECT c.operator_id FROM audit_log c
     WHERE c.application_id = a.id AND c.action IN ('create', 'import') ORDER BY c.id LIMIT 1),
     (SELECT c.operator_name FROM audit_log c
     WHERE c.application_id = a.id AND c.action IN ('create', 'import') ORDER BY c.id LIMIT 1)";

/// The day report over `period`, stuck as of `now`; one operator's only with `operator`.
pub fn day_report(
    store: &Store,
    period: Period,
    operator: Option<&str>,
    reveal: bool,
    now: DateTime<Utc>,
) -> Result<DayReport> {
    let db = store.sql();
    let (start, end) = period.bounds();
    let mut rows: BTreeMap<String, OperatorRow> = BTreeMap::new();
    let mut bump = |id: String, name: String, f: &dyn Fn(&mut Counts)| {
        let row = rows.entry(id.clone()).or_insert_with(|| OperatorRow {
            operator_id: id,
            operator_name: name,
            counts: Counts::default(),
        });
        f(&mut row.counts);
    };
    // Started, submitted, withdrawn: who did it, from the audit log. Each is an exact
    // (action, detail) pair and a time range: index seeks, however long the log.
    let submitted: Vec<String> = [Status::Draft, Status::Ready, Status::Returned]
        .iter()
        .map(|s| format!("'{} → {}'", s.key(), Status::Queued.key()))
        .collect();
    let withdrawn = format!("'{} → {}'", Status::Queued.key(), Status::Draft.key());
    for (what, condition) in [
        (
            0,
            "action IN ('create', 'import') AND detail IS NULL".to_owned(),
        ),
        (
            1,
            format!(
                "action = 'transition' AND detail IN ({})",
                submitted.join(", ")
            ),
        ),
        (2, format!("action = 'transition' AND detail = {withdrawn}")),
    ] {
        for r in db.query(
            &format!(
                "SELECT operator_id, operator_name, count(*) FROM audit_log
                 WHERE {condition} AND at >= ?1 AND at < ?2 AND application_id IS NOT NULL
                 GROUP BY operator_id, operator_name"
            ),
            args![start, end],
        )? {
            let (id, name, n): (String, String, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
            let n = n as usize;
            match what {
                0 => bump(id, name, &|c| c.started += n),
                1 => bump(id, name, &|c| c.submitted += n),
                _ => bump(id, name, &|c| c.withdrawn += n),
            }
        }
    }
    // Delivered, accepted, returned: when the history says, credited to who started it.
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for r in db.query(
        &format!(
            "SELECT h.status, h.note, {CREATOR} FROM status_history h
             JOIN applications a ON a.id = h.application_id
             WHERE h.status IN ('delivered', 'accepted', 'returned') AND h.at >= ?1 AND h.at < ?2"
        ),
        args![start, end],
    )? {
        let status: String = r.get(0)?;
        let note: Option<String> = r.get(1)?;
        let (id, name) = creator(r.get(2)?, r.get(3)?);
        match status.as_str() {
            "delivered" => bump(id, name, &|c| c.delivered += 1),
            "accepted" => bump(id, name, &|c| c.accepted += 1),
            _ => {
                if operator.is_none_or(|o| o == id) {
                    let reason = note.unwrap_or_else(|| "（未说明）".into());
                    *reasons.entry(reason_group(&reason)).or_default() += 1;
                }
                bump(id, name, &|c| c.returned += 1)
            }
        }
    }
    let mut operators: Vec<OperatorRow> = rows
        .into_values()
        .filter(|r| operator.is_none_or(|o| o == r.operator_id))
        .collect();
    operators.sort_by(|a, b| a.operator_id.cmp(&b.operator_id));
    let mut total = Counts::default();
    for r in &operators {
        total.add(&r.counts);
    }
    let mut returned_reasons: Vec<(String, usize)> = reasons.into_iter().collect();
    returned_reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let (stuck, stuck_totals) = stuck(db, operator, reveal, now)?;
    Ok(DayReport {
        period,
        generated_at: now,
        operators,
        total,
        returned_reasons,
        stuck,
        stuck_totals,
    })
}

/// What a return reason is grouped by: its first clause, without the "退回原因（field）："
/// the delivery worker puts before the server's words.
pub fn reason_group(note: &str) -> String {
    let words = match note.strip_prefix("退回原因") {
        Some(rest) => rest.split_once('：').map_or(rest, |(_, w)| w),
        None => note,
    };
    words
        .split_once('：')
        .map_or(words, |(head, _)| head)
        .trim()
        .to_owned()
}

fn creator(id: Option<String>, name: Option<String>) -> (String, String) {
    (
        id.unwrap_or_else(|| "—".into()),
        name.unwrap_or_else(|| "（未知）".into()),
    )
}

/// What is stuck as of `now`: the oldest of each kind (with who started it), and how many
/// of each kind in all.
fn stuck(
    db: &impl Sql,
    operator: Option<&str>,
    reveal: bool,
    now: DateTime<Utc>,
) -> Result<(Vec<StuckItem>, StuckTotals)> {
    let ms = |d: Duration| (now - d).timestamp_millis();
    let mut out = Vec::new();
    let mut totals = Vec::new();
    // One operator's: only what they started (the creator column names them).
    let mine = if operator.is_some() {
        format!("AND {CREATOR_ID} = ?2")
    } else {
        String::new()
    };
    for kind in StuckKind::ALL {
        let (from, condition, since, detail, arg): (&str, &str, &str, &str, i64) = match kind {
            StuckKind::QueuedOverAnHour => (
                "applications a",
                "a.status = 'queued' AND a.updated_at < ?1",
                "a.updated_at",
                "NULL",
                ms(QUEUED_STUCK),
            ),
            StuckKind::DraftUntouched => (
                "applications a",
                "a.status = 'draft' AND a.updated_at < ?1",
                "a.updated_at",
                "NULL",
                ms(DRAFT_STUCK),
            ),
            StuckKind::ReturnedNotCorrected => (
                "applications a",
                "a.status = 'returned' AND a.updated_at < ?1",
                "a.updated_at",
                "a.return_reason",
                ms(RETURNED_STUCK),
            ),
            StuckKind::DeliveryFailing => (
                "outbox o JOIN applications a ON a.id = o.application_id",
                "o.state = 'pending' AND o.attempts >= ?1 AND o.last_error IS NOT NULL",
                "o.created_at",
                "o.last_error",
                FAILING_ATTEMPTS,
            ),
        };
        let mut values = args![arg].to_vec();
        if let Some(o) = operator {
            values.push(o.to_value());
        }
        let total: i64 = db
            .query_one(
                &format!("SELECT count(*) FROM {from} WHERE {condition} {mine}"),
                &values,
            )?
            .get(0)?;
        totals.push((kind, total as usize));
        if total == 0 {
            continue;
        }
        for r in db.query(
            &format!(
                "SELECT a.id, a.name, a.id_number, a.status, {since}, {CREATOR}, {detail}
                 FROM {from} WHERE {condition} {mine} ORDER BY {since} LIMIT {STUCK_SHOWN}"
            ),
            &values,
        )? {
            let id: String = r.get(0)?;
            let (operator_id, operator_name) = creator(r.get(5)?, r.get(6)?);
            let number: String = r.get(2)?;
            out.push(StuckItem {
                kind,
                id: Uuid::parse_str(&id).unwrap_or_default(),
                name: r.get(1)?,
                id_number: if reveal { number } else { mask_id(&number) },
                status: Status::from_key(&r.get::<String>(3)?).unwrap_or(Status::Draft),
                since: crate::store::from_ms(r.get(4)?),
                operator_id,
                operator_name,
                detail: r.get(7)?,
            });
        }
    }
    Ok((out, totals))
}

/// The report as the terminal prints it.
pub fn table(r: &DayReport) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "工作日报  {} 至 {}（北京时间），统计于 {}",
        r.period.from,
        r.period.to,
        r.generated_at
            .with_timezone(&beijing())
            .format("%Y-%m-%d %H:%M")
    );
    let _ = writeln!(s);
    let mut lines = vec![COLUMNS.map(str::to_owned).to_vec()];
    let row = |id: &str, name: &str, c: &Counts| {
        let mut cells = vec![id.to_owned(), name.to_owned()];
        cells.extend(c.values().map(|n| n.to_string()));
        cells
    };
    for o in &r.operators {
        lines.push(row(&o.operator_id, &o.operator_name, &o.counts));
    }
    lines.push(row("合计", "", &r.total));
    let widths: Vec<usize> = (0..COLUMNS.len())
        .map(|i| {
            lines
                .iter()
                .map(|l| unicode_width::UnicodeWidthStr::width(l[i].as_str()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for l in &lines {
        let mut line = String::new();
        for (cell, w) in l.iter().zip(&widths) {
            line.push_str(cell);
            line.push_str(
                &" ".repeat(w - unicode_width::UnicodeWidthStr::width(cell.as_str()) + 2),
            );
        }
        let _ = writeln!(s, "{}", line.trim_end());
    }
    if !r.returned_reasons.is_empty() {
        let _ = writeln!(s, "\n退回原因");
        for (reason, n) in &r.returned_reasons {
            let _ = writeln!(s, "  {n:>4}  {}", crate::domain::display::printable(reason));
        }
    }
    let _ = writeln!(s, "\n待处理（现在）");
    if r.stuck.is_empty() {
        let _ = writeln!(s, "  没有");
    }
    for kind in StuckKind::ALL {
        let items: Vec<&StuckItem> = r.stuck.iter().filter(|i| i.kind == kind).collect();
        if items.is_empty() {
            continue;
        }
        let total = r
            .stuck_totals
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(items.len(), |(_, n)| *n);
        let shown = if total > items.len() {
            format!("（列出最早的 {} 件）", items.len())
        } else {
            String::new()
        };
        let _ = writeln!(s, "  {}：{total} 件{shown}", kind.label());
        for i in items {
            let _ = writeln!(
                s,
                "    {}  {}  {}  {}  {}（{}）{}",
                &i.id.to_string()[..8],
                crate::domain::display::printable(&i.name),
                i.id_number,
                i.since.with_timezone(&beijing()).format("%m-%d %H:%M"),
                i.operator_name,
                i.operator_id,
                i.detail
                    .as_deref()
                    .map(|d| format!("  {}", crate::domain::display::printable(d)))
                    .unwrap_or_default()
            );
        }
    }
    s
}

/// The report as CSV: one row per operator and the total, then one per stuck application;
/// every cell guarded against spreadsheet formulas.
pub fn csv(r: &DayReport) -> std::result::Result<Vec<u8>, csv::Error> {
    use crate::domain::interchange::csv_cell;
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(COLUMNS)?;
    let counts = |c: &Counts| c.values().map(|n| n.to_string());
    for o in &r.operators {
        let mut rec = vec![csv_cell(&o.operator_id), csv_cell(&o.operator_name)];
        rec.extend(counts(&o.counts));
        w.write_record(&rec)?;
    }
    let mut rec = vec!["合计".to_owned(), String::new()];
    rec.extend(counts(&r.total));
    w.write_record(&rec)?;
    w.write_record([""; 8])?;
    w.write_record(STUCK_COLUMNS)?;
    for i in &r.stuck {
        w.write_record(i.cells().map(|c| csv_cell(&c)))?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_group_by_their_first_clause() {
        assert_eq!(
            reason_group("退回原因（photos.card_photo）：制卡照片审核未通过：背景不是纯白色"),
            "制卡照片审核未通过"
        );
        assert_eq!(
            reason_group("制卡照片审核未通过：背景不是纯白色"),
            "制卡照片审核未通过"
        );
        assert_eq!(reason_group("资格校验未通过"), "资格校验未通过");
    }
}
