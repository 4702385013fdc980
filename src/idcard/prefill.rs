//! Recognised values into an application, never over what the clerk typed: an empty field
//! is filled and marked 识别 until the clerk confirms it; a field that already holds a
//! different value is left alone and the two are offered for the clerk to pick; a value
//! the rules or the engine's confidence do not vouch for is only reported.

use super::{CardField, Recognised};
use crate::domain::prefill::{Offer, Offered, Source, offer};
use crate::domain::{Application, Field, IdType};

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

/// What reading one side of the card did to the form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Filled, agreed, and left for the clerk to pick (`domain::prefill`).
    pub offered: Offered,
    /// Read but not used: the field's label and why.
    pub unreliable: Vec<(CardField, String)>,
}

/// Offer what was read from one side of the card to `app` (`domain::prefill`: nothing
/// typed is overwritten; what fills an empty field is marked 识别).
pub fn prefill(app: &mut Application, recognised: &Recognised) -> Outcome {
    let mut offers = Vec::new();
    let mut unreliable = Vec::new();
    // The validity against the holder's age, where the form knows the birth date (read from
    // the front or typed): a term the law does not give at that age means a misread digit.
    let mut readings = recognised.readings.clone();
    if let Ok(birth) = chrono::NaiveDate::parse_from_str(&app.applicant.birth_date, "%Y-%m-%d") {
        super::interpret::check_term(&mut readings, birth);
    }
    for reading in &readings {
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
            unreliable.push((reading.field, why));
            continue;
        };
        offers.push(Offer {
            field,
            value: value.to_owned(),
            shown: reading.shown.clone(),
        });
    }
    if let Some(district) = offers
        .iter()
        .find(|o| o.field == Field::Address)
        .and_then(|o| district_of(&o.value))
    {
        offers.push(district);
    }
    Outcome {
        offered: offer(app, &offers, Source::Card),
        unreliable,
    }
}

/// The 常住地所在区 an address read from the card names (北京市门头沟区… → 门头沟区), so
/// that the clerk confirms it with the address rather than picking it from the list.
fn district_of(address: &str) -> Option<Offer> {
    let rest = address.strip_prefix("北京市")?;
    let d = crate::domain::refdata::refdata()
        .districts
        .iter()
        .find(|d| rest.starts_with(d.name))?;
    Some(Offer {
        field: Field::District,
        value: d.code.to_owned(),
        shown: d.name.to_owned(),
    })
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
        let out = prefill(&mut app, &rec).offered;
        assert_eq!(app.applicant.name, "王小明", "typed value kept");
        assert_eq!(out.differences.len(), 1);
        assert_eq!(out.differences[0].offered, "王晓明");
        assert_eq!(out.filled, vec![Field::Ethnicity, Field::IdNumber]);
        assert_eq!(app.applicant.ethnicity, "01");
        assert!(app.recognised.contains(&Field::IdNumber));
        assert!(!app.recognised.contains(&Field::Name));
        let d = &out.differences[0];
        crate::domain::prefill::take(&mut app, d.field, &d.value, Source::Card);
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

    #[test]
    fn a_validity_the_holders_age_rules_out_is_not_filled() {
        let mut app = Application::new(chrono::Utc::now());
        app.applicant.birth_date = "1990-06-01".into();
        let (from, until) = crate::idcard::interpret::validity("2020.07.01-长期", 95);
        let back = Recognised {
            side: Side::Back,
            readings: vec![from, until],
        };
        let outcome = prefill(&mut app, &back);
        assert!(app.applicant.id_valid_from.is_empty(), "{outcome:?}");
        assert_ne!(
            app.applicant.id_valid_until,
            crate::domain::ValidUntil::LongTerm
        );
        assert!(
            outcome
                .unreliable
                .iter()
                .any(|(_, why)| why.contains("不会是长期"))
        );
    }

    #[test]
    fn the_district_comes_with_a_beijing_address() {
        let mut app = Application::new(chrono::Utc::now());
        let front = Recognised {
            side: Side::Front,
            readings: vec![interpret(
                CardField::Address,
                "北京市门头沟区回龙观西大街281号院16号楼5单元603",
                90,
            )],
        };
        let outcome = prefill(&mut app, &front);
        assert!(
            outcome.offered.filled.contains(&Field::District),
            "{outcome:?}"
        );
        let d = crate::domain::refdata::refdata()
            .district(&app.residence.district)
            .unwrap();
        assert_eq!(d.name, "门头沟区");
        // Elsewhere than Beijing, no district is guessed.
        let mut app = Application::new(chrono::Utc::now());
        let front = Recognised {
            side: Side::Front,
            readings: vec![interpret(
                CardField::Address,
                "河北省保定市竞秀区东风路1号",
                90,
            )],
        };
        assert!(
            !prefill(&mut app, &front)
                .offered
                .filled
                .contains(&Field::District)
        );
    }
}
