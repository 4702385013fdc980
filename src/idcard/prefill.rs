//! Recognised values into an application, never over what the clerk typed: an empty field
//! is filled and marked 识别 until the clerk confirms it; a field that already holds a
//! different value is left alone and the two are offered for the clerk to pick; a value
//! the rules or the engine's confidence do not vouch for is only reported.

use super::{CardField, Recognised};
use crate::domain::{Application, Field, IdType, ValidUntil};

/// The form field a card field fills (the issuing authority is shown, not kept).
pub fn form_field(field: CardField) -> Option<Field> {
    Some(match field {
        CardField::Name => Field::Name,
        CardField::Gender => Field::Gender,
        CardField::Ethnicity => Field::Ethnicity,
        CardField::BirthDate => Field::BirthDate,
        CardField::Address => Field::Address,
        CardField::IdNumber => Field::IdNumber,
        CardField::ValidFrom => Field::IdValidFrom,
        CardField::ValidUntil => Field::IdValidUntil,
        CardField::Authority => return None,
    })
}

/// A field where the card says something else than the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub field: Field,
    /// What the form holds, as shown.
    pub held: String,
    /// What the card says, as shown.
    pub read: String,
    /// What taking the card's value writes.
    pub value: String,
}

/// What a prefill did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Filled (they were empty) and marked 识别.
    pub filled: Vec<Field>,
    /// The form already said the same.
    pub agreed: Vec<Field>,
    /// Left for the clerk to pick.
    pub conflicts: Vec<Conflict>,
    /// Read but not used: the field's label and why.
    pub unreliable: Vec<(CardField, String)>,
}

/// Apply what was read from one side of the card to `app`.
pub fn prefill(app: &mut Application, recognised: &Recognised) -> Outcome {
    let mut out = Outcome::default();
    for reading in &recognised.readings {
        let Some(field) = form_field(reading.field) else {
            continue;
        };
        // A residence permit's number is not on a resident ID card.
        if field == Field::IdNumber && app.applicant.id_type != IdType::ResidentId {
            continue;
        }
        let Some(value) = reading.usable() else {
            let why = reading
                .problem
                .clone()
                .unwrap_or_else(|| format!("把握不足（{}%）", reading.confidence));
            out.unreliable.push((reading.field, why));
            continue;
        };
        let held = held_value(app, field);
        if held.trim().is_empty() {
            crate::domain::form::set_value(app, field, value);
            app.recognised.insert(field);
            out.filled.push(field);
        } else if held.trim() == value {
            out.agreed.push(field);
        } else {
            out.conflicts.push(Conflict {
                field,
                held: shown(app, field),
                read: reading.shown.clone(),
                value: value.to_owned(),
            });
        }
    }
    out
}

/// Take the card's value for a conflicting field; it is marked 识别 until confirmed.
pub fn take(app: &mut Application, conflict: &Conflict) {
    crate::domain::form::set_value(app, conflict.field, &conflict.value);
    app.recognised.insert(conflict.field);
}

/// The field's value in the terms a reading's value is in.
fn held_value(app: &Application, field: Field) -> String {
    let a = &app.applicant;
    match field {
        Field::Name => a.name.clone(),
        Field::Gender => a.gender.map(|g| g.key().to_owned()).unwrap_or_default(),
        Field::Ethnicity => a.ethnicity.clone(),
        Field::BirthDate => a.birth_date.clone(),
        Field::Address => app.residence.address.clone(),
        Field::IdNumber => a.id_number.clone(),
        Field::IdValidFrom => a.id_valid_from.clone(),
        Field::IdValidUntil => match &a.id_valid_until {
            ValidUntil::LongTerm => "long_term".into(),
            ValidUntil::Date(d) => d.clone(),
        },
        _ => String::new(),
    }
}

/// The field's value as the form shows it.
fn shown(app: &Application, field: Field) -> String {
    let held = held_value(app, field);
    match field {
        Field::Gender => app
            .applicant
            .gender
            .map(|g| g.label().to_owned())
            .unwrap_or_default(),
        Field::Ethnicity => crate::domain::refdata::refdata()
            .ethnic_group(&held)
            .map_or(held, |g| g.name.to_owned()),
        Field::IdValidUntil if held == "long_term" => "长期".into(),
        _ => held,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idcard::interpret::interpret;
    use crate::idcard::{Reading, Side};

    fn front(readings: Vec<Reading>) -> Recognised {
        Recognised {
            side: Side::Front,
            readings,
        }
    }

    #[test]
    fn empty_fields_are_filled_and_marked_typed_ones_are_never_overwritten() {
        let mut app = Application::new(chrono::Utc::now());
        app.applicant.name = "王小明".into();
        let rec = front(vec![
            interpret(CardField::Name, "王晓明", 95),
            interpret(CardField::Ethnicity, "汉", 95),
            interpret(CardField::IdNumber, "11010519491231002X", 95),
        ]);
        let out = prefill(&mut app, &rec);
        assert_eq!(app.applicant.name, "王小明", "typed value kept");
        assert_eq!(out.conflicts.len(), 1);
        assert_eq!(out.conflicts[0].read, "王晓明");
        assert_eq!(out.filled, vec![Field::Ethnicity, Field::IdNumber]);
        assert_eq!(app.applicant.ethnicity, "01");
        assert!(app.recognised.contains(&Field::IdNumber));
        assert!(!app.recognised.contains(&Field::Name));
        take(&mut app, &out.conflicts[0]);
        assert_eq!(app.applicant.name, "王晓明");
        assert!(app.recognised.contains(&Field::Name));
    }

    #[test]
    fn a_number_failing_its_check_character_is_not_used() {
        let mut app = Application::new(chrono::Utc::now());
        let rec = front(vec![interpret(
            CardField::IdNumber,
            "11010519491231003X",
            99,
        )]);
        let out = prefill(&mut app, &rec);
        assert_eq!(app.applicant.id_number, "");
        assert_eq!(out.unreliable.len(), 1);
        assert!(out.unreliable[0].1.contains("校验码"));
    }

    #[test]
    fn an_unconfirmed_recognised_field_blocks_its_step() {
        let mut app = Application::new(chrono::Utc::now());
        let rec = front(vec![interpret(CardField::Ethnicity, "回", 95)]);
        prefill(&mut app, &rec);
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let step = Field::Ethnicity.step();
        let problems = crate::domain::validate_step(&app, step, today);
        assert!(
            problems
                .iter()
                .any(|p| p.field == Field::Ethnicity && p.message.contains("对照证件核对"))
        );
        app.recognised.remove(&Field::Ethnicity);
        let problems = crate::domain::validate_step(&app, step, today);
        assert!(!problems.iter().any(|p| p.field == Field::Ethnicity));
    }
}
