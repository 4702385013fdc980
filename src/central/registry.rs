//! The synthetic registry of residents the reference server answers from: made-up people
//! with valid ID numbers, most of them retirees who may apply, and some who may not
//! (an existing card, not insured, not retired), plus some whose first application is
//! returned at review. `sbk central seed` (re)creates it; the first few of every seed are
//! the same kinds in the same order, so the README can name one of each.

use chrono::{Duration, NaiveDate};
use rusqlite::{Connection, OptionalExtension, params};

use crate::api::{IneligibleReason, RegisteredPerson};
use crate::domain::synthetic::{Rng, resident, resident_born};
use crate::domain::{CardIssuer, Gender, IdType, PickupMethod, refdata::refdata};

/// What kind of resident a registry entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A retiree who may apply; bank mail only.
    Eligible,
    /// A retiree who may apply and may also collect at a branch.
    EligibleWithBranchPickup,
    /// Has a valid third-generation card already.
    HasCard,
    /// Registered but not insured.
    NotInsured,
    /// Insured but not retired (born 1970–1995).
    NotRetired,
    /// May apply, but the first application is returned at review for its card photo.
    ReturnedAtReview,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Eligible => "可申领（银行邮寄）",
            Kind::EligibleWithBranchPickup => "可申领（邮寄或网点领卡）",
            Kind::HasCard => "不可申领：已有有效第三代社保卡",
            Kind::NotInsured => "不可申领：未参保",
            Kind::NotRetired => "不可申领：未退休",
            Kind::ReturnedAtReview => "可申领，首次申领审核时因照片被退回",
        }
    }

    /// The kind of the `i`th resident of a seed: the first six are one of each, then a
    /// mix in which most may apply.
    fn of_index(i: usize) -> Kind {
        const FIRST: [Kind; 6] = [
            Kind::Eligible,
            Kind::EligibleWithBranchPickup,
            Kind::HasCard,
            Kind::NotInsured,
            Kind::NotRetired,
            Kind::ReturnedAtReview,
        ];
        if i < FIRST.len() {
            return FIRST[i];
        }
        match i % 20 {
            0 => Kind::HasCard,
            1 => Kind::NotInsured,
            2 => Kind::NotRetired,
            3 => Kind::ReturnedAtReview,
            4..=7 => Kind::EligibleWithBranchPickup,
            _ => Kind::Eligible,
        }
    }
}

/// The message with which an application is returned at review (the card photo).
pub const REVIEW_RETURN_MESSAGE: &str =
    "制卡照片审核未通过：背景不是纯白色或浅色，请重新拍摄免冠白底彩色照片后再次提交";

/// One resident as seeded, for `sbk central seed` to print and tests to use.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub kind: Kind,
    pub name: String,
    pub id_number: String,
}

/// Replace the registry with `count` synthetic residents generated from `seed`.
pub fn seed(conn: &mut Connection, count: usize, seed: u64) -> rusqlite::Result<Vec<Seeded>> {
    let banks = &refdata().banks;
    let mut rng = Rng::new(seed);
    let tx = conn.transaction()?;
    tx.execute("DELETE FROM residents", [])?;
    let mut out = Vec::with_capacity(count);
    {
        let mut insert = tx.prepare(
            "INSERT OR IGNORE INTO residents VALUES
             (?1, ?2, ?3, ?4, ?5, 'CHN', ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
        )?;
        while out.len() < count {
            let kind = Kind::of_index(out.len());
            let person = if kind == Kind::NotRetired {
                let start = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
                resident_born(&mut rng, start, 365 * 25)
            } else {
                resident(&mut rng)
            };
            let valid_from = NaiveDate::from_ymd_opt(2010, 1, 1).expect("valid date")
                + Duration::days(rng.below(365 * 13) as i64);
            let bank = rng.pick(banks);
            let district = refdata()
                .district(&person.district)
                .map(|d| d.name)
                .unwrap_or("北京");
            let branch_code = format!("{}{}{:03}", bank.code, person.district, rng.below(50));
            let branch_name = format!("{}北京{}支行", bank.name, district);
            let pickup = if kind == Kind::EligibleWithBranchPickup {
                "bank_mail,branch_pickup"
            } else {
                "bank_mail"
            };
            let (review_field, review_message) = if kind == Kind::ReturnedAtReview {
                (Some("photos.card_photo"), Some(REVIEW_RETURN_MESSAGE))
            } else {
                (None, None)
            };
            let inserted = insert.execute(params![
                person.id_number,
                IdType::ResidentId.key(),
                person.name,
                gender_key(person.gender),
                person.birth_date.to_string(),
                person.district,
                person.address,
                valid_from.to_string(),
                person.mobile,
                kind != Kind::NotInsured,
                kind != Kind::NotRetired,
                kind == Kind::HasCard,
                bank.code,
                bank.name,
                branch_code,
                branch_name,
                pickup,
                review_field,
                review_message,
            ])?;
            if inserted == 1 {
                out.push(Seeded {
                    kind,
                    name: person.name,
                    id_number: person.id_number,
                });
            }
        }
    }
    tx.commit()?;
    Ok(out)
}

fn gender_key(g: Gender) -> &'static str {
    g.key()
}

/// A registry entry as the server's rules need it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub person: RegisteredPerson,
    pub insured: bool,
    pub retired: bool,
    pub has_card: bool,
    pub issuer: CardIssuer,
    pub allowed_pickup: Vec<PickupMethod>,
    /// The field and message the first application is returned with, if any.
    pub review: Option<(String, String)>,
}

impl Entry {
    /// Why this person may not apply (before looking at applications in progress).
    pub fn refusal(&self, name: &str) -> Option<IneligibleReason> {
        if !self.insured {
            Some(IneligibleReason::NotInsured)
        } else if self.person.name != name.trim() {
            Some(IneligibleReason::NameMismatch)
        } else if self.has_card {
            Some(IneligibleReason::HasValidCard)
        } else if !self.retired {
            Some(IneligibleReason::NotRetired)
        } else {
            None
        }
    }
}

/// Look a resident up by ID type and number.
pub fn lookup(
    conn: &Connection,
    id_type: IdType,
    id_number: &str,
) -> rusqlite::Result<Option<Entry>> {
    conn.query_row(
        "SELECT name, gender, birth_date, nationality, address, id_valid_from, mobile,
                insured, retired, has_card, bank_code, bank_name, branch_code, branch_name,
                allowed_pickup, review_field, review_message
         FROM residents WHERE id_type = ?1 AND id_number = ?2",
        params![id_type.key(), id_number],
        |r| {
            let date = |i: usize| -> rusqlite::Result<NaiveDate> {
                let text: String = r.get(i)?;
                text.parse().map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        i,
                        rusqlite::types::Type::Text,
                        Box::new(e),
                    )
                })
            };
            let gender: String = r.get(1)?;
            let pickup: String = r.get(14)?;
            let review_field: Option<String> = r.get(15)?;
            let review_message: Option<String> = r.get(16)?;
            Ok(Entry {
                person: RegisteredPerson {
                    name: r.get(0)?,
                    gender: Gender::from_key(&gender).unwrap_or(Gender::Female),
                    birth_date: date(2)?,
                    nationality: r.get(3)?,
                    residence_address: r.get(4)?,
                    id_valid_from: date(5)?,
                    reserved_mobile: r.get(6)?,
                },
                insured: r.get(7)?,
                retired: r.get(8)?,
                has_card: r.get(9)?,
                issuer: CardIssuer {
                    bank_code: r.get(10)?,
                    bank_name: r.get(11)?,
                    branch_code: r.get(12)?,
                    branch_name: r.get(13)?,
                },
                allowed_pickup: pickup
                    .split(',')
                    .filter_map(PickupMethod::from_key)
                    .collect(),
                review: review_field.zip(review_message),
            })
        },
    )
    .optional()
}

/// How many residents the registry holds.
pub fn count(conn: &Connection) -> rusqlite::Result<usize> {
    conn.query_row("SELECT count(*) FROM residents", [], |r| r.get::<_, i64>(0))
        .map(|n| n as usize)
}

/// Residents of one kind, in seed order, for tests and the load bench.
pub fn sample(
    conn: &Connection,
    eligible: bool,
    limit: usize,
) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT name, id_number FROM residents
         WHERE (insured AND retired AND NOT has_card AND review_field IS NULL) = ?1
         ORDER BY rowid LIMIT ?2",
    )?;
    stmt.query_map(params![eligible, limit as i64], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?
    .collect()
}

/// A complete, valid application for an eligible resident as the eligibility check read
/// them back, with the given photos: what a clerk would submit. For tests, the load bench
/// and the demo.
pub fn complete_application(
    answer: &crate::api::EligibilityAnswer,
    id_number: &str,
    photos: crate::domain::Photos,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<crate::domain::Application> {
    use crate::domain::{Application, Eligibility, ValidUntil};
    let person = answer.person.as_ref()?;
    let mut app = Application::new(now);
    let a = &mut app.applicant;
    a.name = person.name.clone();
    a.id_number = id_number.to_owned();
    a.gender = Some(person.gender);
    a.birth_date = person.birth_date.to_string();
    a.nationality = person.nationality.clone();
    a.id_valid_from = person.id_valid_from.to_string();
    a.id_valid_until = ValidUntil::LongTerm;
    a.ethnicity = "01".into();
    a.mobile = person.reserved_mobile.clone();
    app.residence.district = id_number.get(..6)?.to_owned();
    app.residence.address = person.residence_address.clone();
    app.card_issuer = answer.card_issuer.clone();
    app.eligibility = Eligibility::Eligible {
        checked_at: answer.checked_at,
        allowed_pickup: answer.allowed_pickup.clone(),
    };
    app.fill_recipient_from_applicant();
    // A made-up Beijing postcode from the district's code (the shortcut leaves it empty).
    app.pickup.mail.postcode = format!("100{}", id_number.get(3..6)?);
    app.photos = photos;
    let t = now;
    app.consents.disclaimer_agreed_at = Some(t);
    app.consents.access_authorised_at = Some(t);
    app.consents.identity_verified_in_person_at = Some(t);
    app.consents.declaration_agreed_at = Some(t);
    Some(app)
}
