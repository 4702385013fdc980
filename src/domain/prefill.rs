//! Offering values from outside the form — the registry's data after an eligibility check,
//! what the ID card's photo says — without ever overwriting what the clerk typed: an empty
//! field is filled (from the card: marked 识别 until the clerk confirms it against the
//! card), the same value is noted as agreeing, and a different one is left for the clerk
//! to pick, field by field.

use super::application::Application;
use super::field::Field;
use super::form;

/// Where offered values come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The social security registry, through the eligibility check: what it holds.
    Registry,
    /// Read from the ID card's photo: to be confirmed against the card.
    Card,
}

impl Source {
    /// What the comparison calls it (所填 beside 登记 / 证件).
    pub fn label(self) -> &'static str {
        match self {
            Source::Registry => "登记",
            Source::Card => "证件",
        }
    }
}

/// A value offered for a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub field: Field,
    /// In the model's terms (`form::value`).
    pub value: String,
    /// As the form would show it.
    pub shown: String,
}

/// A field where the offer differs from what the form holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub field: Field,
    /// What the form holds, as shown.
    pub held: String,
    /// What is offered, as shown.
    pub offered: String,
    /// What taking it writes.
    pub value: String,
}

/// What offering did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offered {
    /// Empty before, filled now.
    pub filled: Vec<Field>,
    /// The form already said the same.
    pub agreed: Vec<Field>,
    /// Left for the clerk to pick.
    pub differences: Vec<Difference>,
}

/// Offer `offers` to `app`: fill what is empty, leave the rest for the clerk.
pub fn offer(app: &mut Application, offers: &[Offer], source: Source) -> Offered {
    let mut out = Offered::default();
    for o in offers {
        let held = form::value(app, o.field);
        let held = held.trim();
        if held.is_empty() {
            take(app, o.field, &o.value, source);
            out.filled.push(o.field);
        } else if held == o.value.trim() || form::text(app, o.field).trim() == o.shown.trim() {
            out.agreed.push(o.field);
        } else {
            out.differences.push(Difference {
                field: o.field,
                held: form::text(app, o.field),
                offered: o.shown.clone(),
                value: o.value.clone(),
            });
        }
    }
    out
}

/// Take an offered value for `field`. From the card it is marked 识别 until the clerk
/// confirms it; from the registry it is the clerk's choice, as if chosen.
pub fn take(app: &mut Application, field: Field, value: &str, source: Source) {
    form::set_value(app, field, value);
    match source {
        Source::Card => {
            app.recognised.insert(field);
        }
        Source::Registry => app.mark_edited(field),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer_of(field: Field, value: &str, shown: &str) -> Offer {
        Offer {
            field,
            value: value.into(),
            shown: shown.into(),
        }
    }

    #[test]
    fn empty_fields_are_filled_same_ones_agree_and_typed_ones_are_never_overwritten() {
        let mut app = Application::new(chrono::Utc::now());
        app.applicant.name = "王小明".into();
        app.applicant.gender = Some(super::super::Gender::Female);
        let offers = [
            offer_of(Field::Name, "王晓明", "王晓明"),
            offer_of(Field::Gender, "female", "女"),
            offer_of(Field::Ethnicity, "01", "汉族"),
        ];
        let out = offer(&mut app, &offers, Source::Card);
        assert_eq!(app.applicant.name, "王小明", "typed value kept");
        assert_eq!(out.agreed, [Field::Gender]);
        assert_eq!(out.filled, [Field::Ethnicity]);
        assert_eq!(app.applicant.ethnicity, "01");
        assert!(
            app.recognised.contains(&Field::Ethnicity),
            "from the card: 识别"
        );
        assert_eq!(out.differences.len(), 1);
        assert_eq!(out.differences[0].held, "王小明");
        take(
            &mut app,
            Field::Name,
            &out.differences[0].value,
            Source::Card,
        );
        assert_eq!(app.applicant.name, "王晓明");
        assert!(app.recognised.contains(&Field::Name));
    }

    #[test]
    fn the_registrys_values_need_no_confirmation() {
        let mut app = Application::new(chrono::Utc::now());
        let out = offer(
            &mut app,
            &[offer_of(Field::Mobile, "13800138000", "13800138000")],
            Source::Registry,
        );
        assert_eq!(out.filled, [Field::Mobile]);
        assert!(app.recognised.is_empty());
    }
}
