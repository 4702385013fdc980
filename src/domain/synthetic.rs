//! Synthetic residents and applications: made-up names, valid ID numbers, mobiles and
//! addresses, generated deterministically from a seed. For benchmarks, tests, the demo and
//! the reference server's registry — never real people.

use chrono::{Duration, NaiveDate, TimeZone, Utc};

use super::application::{Application, Eligibility, PickupMethod, ValidUntil};
use super::id_number::{Gender, check_character};
use super::refdata::refdata;

/// Surnames with a weight in per mille, roughly as common as they are in China (王, 李 and
/// 张 each about 7% of people), so that searches for a common surname are measured as
/// they will be at a counter, not on a flattering uniform spread.
const SURNAMES: &[(&str, u64)] = &[
    ("王", 71),
    ("李", 70),
    ("张", 64),
    ("刘", 54),
    ("陈", 46),
    ("杨", 31),
    ("赵", 20),
    ("黄", 20),
    ("周", 19),
    ("吴", 19),
    ("徐", 14),
    ("孙", 14),
    ("胡", 11),
    ("朱", 11),
    ("高", 11),
    ("林", 9),
    ("何", 9),
    ("郭", 9),
    ("马", 11),
    ("罗", 8),
    ("梁", 7),
    ("宋", 7),
    ("郑", 6),
    ("谢", 6),
    ("韩", 6),
    ("唐", 6),
    ("冯", 5),
    ("于", 5),
    ("董", 5),
    ("萧", 4),
    ("程", 5),
    ("曹", 5),
    ("袁", 4),
    ("邓", 5),
    ("许", 5),
    ("傅", 4),
    ("沈", 4),
    ("曾", 4),
    ("彭", 4),
    ("吕", 4),
    ("欧阳", 1),
    ("司马", 1),
    ("单", 1),
    ("解", 1),
];
const GIVEN: &[&str] = &[
    "秀", "英", "华", "玉", "兰", "明", "国", "强", "建", "军", "伟", "芳", "敏", "静", "丽", "桂",
    "珍", "凤", "淑", "德", "福", "成", "文", "志", "海", "平", "春", "荣", "金", "宝", "永", "忠",
];
const STREETS: &[&str] = &[
    "建国路",
    "朝阳北路",
    "学院路",
    "复兴路",
    "长安街",
    "西直门外大街",
    "广安门内大街",
    "丰台路",
    "鲁谷路",
    "京顺路",
    "通惠河北路",
    "回龙观西大街",
    "黄村西大街",
    "府前街",
];

/// A small, fast, deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    /// Pick by weight.
    pub fn pick_weighted<'a, T>(&mut self, items: &'a [(T, u64)]) -> &'a T {
        let total: u64 = items.iter().map(|(_, w)| w).sum();
        let mut x = self.below(total);
        for (item, w) in items {
            if x < *w {
                return item;
            }
            x -= w;
        }
        &items[items.len() - 1].0
    }
}

/// A made-up resident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resident {
    pub name: String,
    pub id_number: String,
    pub gender: Gender,
    pub birth_date: NaiveDate,
    pub mobile: String,
    pub district: String,
    pub address: String,
}

/// A retiree-aged resident (born 1935–1966) of a Beijing district.
pub fn resident(rng: &mut Rng) -> Resident {
    let start = NaiveDate::from_ymd_opt(1935, 1, 1).expect("valid date");
    resident_born(rng, start, 365 * 31)
}

/// A resident of a Beijing district born within `days` days from `start`.
pub fn resident_born(rng: &mut Rng, start: NaiveDate, days: u64) -> Resident {
    let refs = refdata();
    let district = rng.pick(&refs.districts);
    let name = format!(
        "{}{}{}",
        rng.pick_weighted(SURNAMES),
        rng.pick(GIVEN),
        if rng.below(4) == 0 {
            ""
        } else {
            rng.pick(GIVEN)
        }
    );
    let birth_date = start + Duration::days(rng.below(days) as i64);
    let sequence = rng.below(1000);
    let gender = if sequence % 2 == 1 {
        Gender::Male
    } else {
        Gender::Female
    };
    let first17 = format!(
        "{}{}{sequence:03}",
        district.code,
        birth_date.format("%Y%m%d")
    );
    let id_number = format!("{first17}{}", check_character(&first17));
    let mobile = format!(
        "1{}{:09}",
        rng.pick(&["39", "38", "37", "36", "35", "50", "58", "86", "89"]),
        rng.below(1_000_000_000)
    )[..11]
        .to_owned();
    let address = format!(
        "{}{}{}号院{}号楼{}单元{}",
        district.name,
        rng.pick(STREETS),
        1 + rng.below(300),
        1 + rng.below(20),
        1 + rng.below(6),
        101 + rng.below(20) * 100 + rng.below(4)
    );
    Resident {
        name,
        id_number,
        gender,
        birth_date,
        mobile,
        district: district.code.to_owned(),
        address,
    }
}

/// A filled-in application for a synthetic resident (photos left empty: the caller stores
/// real ones where it needs them), updated `age_minutes` before `now`.
pub fn application(rng: &mut Rng, now: chrono::DateTime<Utc>, age_minutes: i64) -> Application {
    let r = resident(rng);
    let at = now - Duration::minutes(age_minutes);
    let mut app = Application::new(at);
    app.id = uuid::Uuid::from_u64_pair(rng.next_u64(), rng.next_u64());
    let a = &mut app.applicant;
    a.name = r.name.clone();
    a.id_number = r.id_number.clone();
    a.gender = Some(r.gender);
    a.birth_date = r.birth_date.to_string();
    let issued = NaiveDate::from_ymd_opt(
        2010 + rng.below(14) as i32,
        1 + rng.below(12) as u32,
        1 + rng.below(28) as u32,
    )
    .expect("valid date");
    a.id_valid_from = issued.to_string();
    a.id_valid_until = ValidUntil::LongTerm;
    a.ethnicity = if rng.below(10) == 0 {
        rng.pick(&refdata().ethnic_groups).code
    } else {
        "01"
    }
    .to_owned();
    a.mobile = r.mobile.clone();
    app.residence.district = r.district.clone();
    app.residence.address = r.address.clone();
    app.pickup.method = Some(PickupMethod::BankMail);
    app.fill_recipient_from_applicant();
    // A made-up Beijing postcode (the shortcut leaves it for the clerk), from the mobile's
    // last digits so that the generator's sequence of people stays as it was.
    let tail: u32 = a_mobile_tail(&app.applicant.mobile);
    app.pickup.mail.postcode = format!("10{:04}", tail % 3000);
    let t = Utc.timestamp_opt(at.timestamp(), 0).single().unwrap_or(at);
    app.consents.disclaimer_agreed_at = Some(t);
    app.consents.access_authorised_at = Some(t);
    app.consents.identity_verified_in_person_at = Some(t);
    app.eligibility = Eligibility::Pending { requested_at: t };
    app
}

/// Make `app` a 代办 application: an adult son or daughter of the applicant (same surname,
/// born 1970–1995), or a community worker, applies with both ID cards checked by the clerk.
pub fn by_agent(app: &mut Application, rng: &mut Rng) {
    let worker = rng.below(4) == 0;
    let start = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    let r = resident_born(rng, start, 365 * 25);
    let surname: String = app.applicant.name.chars().take(1).collect();
    let name = if worker {
        r.name.clone()
    } else {
        format!("{surname}{}", r.name.chars().skip(1).collect::<String>())
    };
    app.applied_by = crate::domain::AppliedBy::Agent;
    app.agent = crate::domain::Agent {
        name,
        id_type: crate::domain::IdType::ResidentId,
        id_number: r.id_number,
        relation: if worker { "community_worker" } else { "child" }.into(),
        mobile: r.mobile,
        photos: Default::default(),
    };
    let t = app.consents.identity_verified_in_person_at.take();
    app.consents.agent_id_card_checked_at = t;
    app.consents.applicant_id_card_checked_at = t;
}

/// The last four digits of a mobile number, as a number.
fn a_mobile_tail(mobile: &str) -> u32 {
    mobile
        .get(mobile.len().saturating_sub(4)..)
        .and_then(|t| t.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Field, validate};

    #[test]
    fn the_same_seed_gives_the_same_people() {
        assert_eq!(resident(&mut Rng::new(7)), resident(&mut Rng::new(7)));
        assert_ne!(resident(&mut Rng::new(7)), resident(&mut Rng::new(8)));
    }

    #[test]
    fn synthetic_applications_pass_every_field_rule() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let mut rng = Rng::new(42);
        for _ in 0..500 {
            let app = application(&mut rng, Utc::now(), 5);
            let report = validate(&app, today);
            let wrong: Vec<_> = report
                .problems
                .iter()
                .filter(|p| p.blocks_submission())
                .filter(|p| {
                    !matches!(
                        p.field,
                        Field::IdFrontPhoto
                            | Field::IdBackPhoto
                            | Field::CardPhoto
                            | Field::Declaration
                    )
                })
                .collect();
            assert!(wrong.is_empty(), "{:?}: {wrong:#?}", app.applicant);
        }
    }

    #[test]
    fn synthetic_agents_pass_every_agent_rule() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let mut rng = Rng::new(43);
        for _ in 0..300 {
            let mut app = application(&mut rng, Utc::now(), 5);
            by_agent(&mut app, &mut rng);
            let report = validate(&app, today);
            let wrong: Vec<_> = report
                .problems
                .iter()
                .filter(|p| p.field.step() <= crate::domain::Step::Applicant)
                .filter(|p| p.field != Field::Eligibility)
                .collect();
            assert!(wrong.is_empty(), "{:?}: {wrong:#?}", app.agent);
        }
    }
}
