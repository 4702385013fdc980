//! `sbk check id|mobile|postcode VALUE [--json]`: one value checked by the form's rules.

use std::io::Write;
use std::process::ExitCode;

use chrono::{NaiveDate, Utc};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::EXIT_INVALID;
use crate::domain::IdNumber;
use crate::domain::refdata::refdata;
use crate::domain::rules::{Verdict, check_mobile, check_postcode};

#[derive(Debug, Subcommand)]
pub enum CheckCommand {
    /// An 18-digit resident ID number (GB 11643-1999): prints region, birth date, gender, age.
    Id {
        /// The number, e.g. 11010519491231002X (lower-case x is accepted).
        value: String,
        #[command(flatten)]
        output: Output,
    },
    /// A mainland China mobile number (11 digits beginning 13–19).
    Mobile {
        value: String,
        #[command(flatten)]
        output: Output,
    },
    /// A postcode (6 digits; Beijing's begin with 10).
    Postcode {
        value: String,
        /// A Beijing district code the postcode should belong to (warns if it is not a 10xxxx code).
        #[arg(long)]
        district: Option<String>,
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Args)]
pub struct Output {
    /// Print the result as JSON on standard output.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: CheckCommand) -> ExitCode {
    let today = crate::domain::dates::beijing_date(Utc::now());
    let (outcome, output) = match cmd {
        CheckCommand::Id { value, output } => (check_id(&value, today), output),
        CheckCommand::Mobile { value, output } => (verdict("mobile", check_mobile(&value)), output),
        CheckCommand::Postcode {
            value,
            district,
            output,
        } => {
            // Without --district the postcode is taken to be a Beijing one (this is a Beijing form).
            let beijing = district.is_none_or(|d| refdata().district(&d).is_some());
            (verdict("postcode", check_postcode(&value, beijing)), output)
        }
    };
    // A closed pipe (`| head`) is not an error worth a panic.
    let mut out = std::io::stdout().lock();
    let _ = if output.json {
        writeln!(out, "{}", outcome.json)
    } else {
        write!(out, "{}", outcome.text)
    };
    if outcome.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_INVALID)
    }
}

/// A check's result in both output forms.
struct Outcome {
    ok: bool,
    json: Value,
    text: String,
}

fn check_id(value: &str, today: NaiveDate) -> Outcome {
    match IdNumber::parse(value, today) {
        Ok(id) => {
            let retired = id
                .region
                .retired_after
                .map(|y| format!("（旧地区码，{y} 年后停用；按此码签发的号码仍然有效）"));
            let age = id.age_on(today);
            let text = format!(
                "✓ 证件号码有效：{}\n  地区：{} {}{}\n  出生日期：{}\n  性别：{}\n  年龄：{} 岁\n",
                id.number,
                id.region.code,
                id.region.full_name,
                retired.unwrap_or_default(),
                id.birth_date,
                id.gender.label(),
                age
            );
            Outcome {
                ok: true,
                json: json!({
                    "valid": true,
                    "kind": "id",
                    "normalised": id.number,
                    "region": {
                        "code": id.region.code,
                        "name": id.region.full_name,
                        "retired_after": id.region.retired_after,
                    },
                    "birth_date": id.birth_date.to_string(),
                    "gender": id.gender,
                    "gender_label": id.gender.label(),
                    "age": age,
                }),
                text,
            }
        }
        Err(e) => Outcome {
            ok: false,
            json: json!({
                "valid": false,
                "kind": "id",
                "problems": [{"code": e.code(), "message": e.message()}],
            }),
            text: format!("✗ 证件号码无效：{}\n", e.message()),
        },
    }
}

fn verdict(kind: &str, result: Result<Verdict, String>) -> Outcome {
    let what = if kind == "mobile" {
        "手机号码"
    } else {
        "邮政编码"
    };
    match result {
        Ok(v) => {
            let mut text = format!("✓ {what}有效：{}\n", v.normalised);
            for w in &v.warnings {
                text.push_str(&format!("  注意：{w}\n"));
            }
            Outcome {
                ok: true,
                json: json!({"valid": true, "kind": kind, "normalised": v.normalised, "warnings": v.warnings}),
                text,
            }
        }
        Err(message) => Outcome {
            ok: false,
            json: json!({"valid": false, "kind": kind, "problems": [{"message": message}]}),
            text: format!("✗ {what}无效：{message}\n"),
        },
    }
}
