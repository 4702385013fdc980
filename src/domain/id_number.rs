//! 18-digit citizen identification numbers (GB 11643-1999) and the Hong Kong / Macao /
//! Taiwan residence permit numbers built the same way.
//!
//! Layout: 6-digit region code (GB/T 2260) · 8-digit birth date · 3-digit sequence
//! (odd last digit for men, even for women) · ISO 7064 MOD 11-2 check character (0–9 or X).

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::refdata::{Region, refdata};

/// Weights of ISO 7064 MOD 11-2 for the first 17 digits: 2^(17-i) mod 11.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// The check character for each remainder of the weighted sum mod 11.
const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The region of a Taiwan residents' residence permit (830000), which GB/T 2260 does not list.
static TAIWAN_PERMIT_REGION: Region = Region {
    code: "830000",
    name: "台湾居民",
    full_name: "台湾居民（居住证）",
    retired_after: None,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Male,
    Female,
}

impl Gender {
    pub const ALL: [Gender; 2] = [Gender::Male, Gender::Female];

    pub fn label(self) -> &'static str {
        match self {
            Gender::Male => "男",
            Gender::Female => "女",
        }
    }

    /// The key used in JSON and the model's values: `male`, `female`.
    pub fn key(self) -> &'static str {
        match self {
            Gender::Male => "male",
            Gender::Female => "female",
        }
    }

    pub fn from_key(key: &str) -> Option<Gender> {
        Gender::ALL.into_iter().find(|g| g.key() == key)
    }
}

/// Why an ID number is not valid. `message()` says it in Chinese, with what is expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("empty")]
    Empty,
    #[error("legacy 15-digit number")]
    Legacy15,
    #[error("wrong length {0}")]
    WrongLength(usize),
    #[error("bad character {ch:?} at {position}")]
    BadCharacter { position: usize, ch: char },
    #[error("unknown region {0}")]
    UnknownRegion(String),
    #[error("not a residence permit region {0}")]
    NotPermitRegion(String),
    #[error("no such date {0}")]
    BadBirthDate(String),
    #[error("birth date {0} in the future")]
    BirthInFuture(NaiveDate),
    #[error("birth date {0} before 1900")]
    BirthTooEarly(NaiveDate),
    #[error("check character should be {expected}, is {found}")]
    CheckCharacter { expected: char, found: char },
}

impl IdError {
    /// A stable machine-readable code for `--json` output and tests.
    pub fn code(&self) -> &'static str {
        match self {
            IdError::Empty => "empty",
            IdError::Legacy15 => "legacy_15_digit",
            IdError::WrongLength(_) => "wrong_length",
            IdError::BadCharacter { .. } => "bad_character",
            IdError::UnknownRegion(_) => "unknown_region",
            IdError::NotPermitRegion(_) => "not_permit_region",
            IdError::BadBirthDate(_) => "bad_birth_date",
            IdError::BirthInFuture(_) => "birth_in_future",
            IdError::BirthTooEarly(_) => "birth_too_early",
            IdError::CheckCharacter { .. } => "check_character",
        }
    }

    /// What is wrong and what is expected, in Chinese.
    pub fn message(&self) -> String {
        match self {
            IdError::Empty => "请填写证件号码（18 位）".into(),
            IdError::Legacy15 => {
                "这是 15 位旧身份证号码，已停止使用：请填写 18 位居民身份证号码（以身份证原件为准）"
                    .into()
            }
            IdError::WrongLength(n) => {
                format!("号码长度为 {n} 位：应为 18 位（17 位数字加 1 位校验码）")
            }
            IdError::BadCharacter { position, ch } if *position == 18 => {
                format!("第 18 位是“{ch}”：最后一位只能是数字 0–9 或字母 X")
            }
            IdError::BadCharacter { position, ch } => {
                format!("第 {position} 位是“{ch}”：前 17 位只能是数字")
            }
            IdError::UnknownRegion(code) => {
                format!("前 6 位地区码 {code} 不存在：请核对号码的前 6 位")
            }
            IdError::NotPermitRegion(code) => format!(
                "前 6 位 {code} 不是港澳台居民居住证的地区码：应为 810000（香港）、820000（澳门）或 830000（台湾）"
            ),
            IdError::BadBirthDate(digits) => {
                format!("第 7–14 位出生日期 {digits} 不是真实的日期：应为 YYYYMMDD")
            }
            IdError::BirthInFuture(d) => format!("出生日期 {d} 晚于今天：请核对第 7–14 位"),
            IdError::BirthTooEarly(d) => format!("出生日期 {d} 早于 1900 年：请核对第 7–14 位"),
            IdError::CheckCharacter { expected, found } => format!(
                "校验码错误：按前 17 位算出第 18 位应为 {expected}，实际为 {found}，号码中有抄错的数字，请与身份证原件逐位核对"
            ),
        }
    }
}

/// A valid 18-digit ID number and what it says about its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdNumber {
    /// Normalised: 18 characters, upper-case X.
    pub number: String,
    pub region: &'static Region,
    pub birth_date: NaiveDate,
    pub gender: Gender,
}

impl IdNumber {
    /// Parse a resident ID number (居民身份证), checking it against `today`.
    pub fn parse(input: &str, today: NaiveDate) -> Result<IdNumber, IdError> {
        parse_with(input, today, |code| {
            refdata()
                .region(code)
                .ok_or_else(|| IdError::UnknownRegion(code.to_owned()))
        })
    }

    /// Parse a Hong Kong / Macao / Taiwan residents' residence permit number (港澳台居民居住证).
    pub fn parse_residence_permit(input: &str, today: NaiveDate) -> Result<IdNumber, IdError> {
        parse_with(input, today, |code| match code {
            "810000" | "820000" => Ok(refdata().region(code).expect("81/82 in GB/T 2260")),
            "830000" => Ok(&TAIWAN_PERMIT_REGION),
            _ => Err(IdError::NotPermitRegion(code.to_owned())),
        })
    }

    /// The holder's age in whole years on `today`.
    pub fn age_on(&self, today: NaiveDate) -> u32 {
        age_on(self.birth_date, today)
    }

    /// The number with the birth date and sequence hidden: `110105********002X` → as lists show it.
    pub fn masked(&self) -> String {
        super::mask::mask_id(&self.number)
    }
}

/// Age in whole years on `today` of someone born on `birth`.
pub fn age_on(birth: NaiveDate, today: NaiveDate) -> u32 {
    let mut years = today.year() - birth.year();
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    years.max(0) as u32
}

/// The ISO 7064 MOD 11-2 check character for the first 17 digits.
/// Panics unless `first17` is 17 ASCII digits (callers check that first).
pub fn check_character(first17: &str) -> char {
    assert!(first17.len() == 17 && first17.bytes().all(|b| b.is_ascii_digit()));
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    CHECK_CHARS[(sum % 11) as usize]
}

/// Typed input as the clerk may enter it: spaces removed, full-width digits and letters
/// (from a Chinese IME) turned into ASCII, lower-case x made X.
pub fn normalise_id_input(input: &str) -> String {
    input
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            'x' | 'ｘ' | 'Ｘ' => 'X',
            other => other,
        })
        .collect()
}

fn parse_with(
    input: &str,
    today: NaiveDate,
    region_of: impl Fn(&str) -> Result<&'static Region, IdError>,
) -> Result<IdNumber, IdError> {
    let number = normalise_id_input(input);
    let chars: Vec<char> = number.chars().collect();
    if chars.is_empty() {
        return Err(IdError::Empty);
    }
    if chars.len() == 15 && chars.iter().all(char::is_ascii_digit) {
        return Err(IdError::Legacy15);
    }
    if chars.len() != 18 {
        return Err(IdError::WrongLength(chars.len()));
    }
    for (i, &ch) in chars.iter().enumerate() {
        let ok = ch.is_ascii_digit() || (i == 17 && ch == 'X');
        if !ok {
            return Err(IdError::BadCharacter {
                position: i + 1,
                ch,
            });
        }
    }
    // All ASCII from here on, so byte slicing is safe.
    let region = region_of(&number[..6])?;
    let digits = &number[6..14];
    let birth_date = NaiveDate::parse_from_str(digits, "%Y%m%d")
        .map_err(|_| IdError::BadBirthDate(digits.to_owned()))?;
    if birth_date > today {
        return Err(IdError::BirthInFuture(birth_date));
    }
    if birth_date.year() < 1900 {
        return Err(IdError::BirthTooEarly(birth_date));
    }
    let expected = check_character(&number[..17]);
    if chars[17] != expected {
        return Err(IdError::CheckCharacter {
            expected,
            found: chars[17],
        });
    }
    let gender = if (chars[16] as u8 - b'0') % 2 == 1 {
        Gender::Male
    } else {
        Gender::Female
    };
    Ok(IdNumber {
        number,
        region,
        birth_date,
        gender,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
    }

    #[test]
    fn gender_keys_match_serde() {
        for g in Gender::ALL {
            assert_eq!(serde_json::to_value(g).unwrap(), g.key());
            assert_eq!(Gender::from_key(g.key()), Some(g));
        }
    }

    #[test]
    fn the_issue_example_is_valid() {
        let id = IdNumber::parse("11010519491231002X", today()).unwrap();
        assert_eq!(id.region.code, "110105");
        assert_eq!(id.region.full_name, "北京市朝阳区");
        assert_eq!(
            id.birth_date,
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert_eq!(id.gender, Gender::Female);
        assert_eq!(id.age_on(today()), 76);
        assert_eq!(id.masked(), "110105********002X");
    }

    #[test]
    fn lower_case_x_full_width_digits_and_spaces_are_normalised() {
        let id = IdNumber::parse(" 110105 19491231 002x ", today()).unwrap();
        assert_eq!(id.number, "11010519491231002X");
        let id = IdNumber::parse("１１０１０５１９４９１２３１００２Ｘ", today()).unwrap();
        assert_eq!(id.number, "11010519491231002X");
    }

    #[test]
    fn a_wrong_check_character_says_what_it_should_be() {
        let err = IdNumber::parse("110105194912310021", today()).unwrap_err();
        assert_eq!(
            err,
            IdError::CheckCharacter {
                expected: 'X',
                found: '1'
            }
        );
        assert!(err.message().contains("校验码错误"));
        assert!(err.message().contains("应为 X"));
    }

    #[test]
    fn known_invalid_inputs_give_the_right_error() {
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            ("110105491231002", "legacy_15_digit"),
            ("1101051949123100", "wrong_length"),
            ("11010519491231002XX", "wrong_length"),
            ("11010519491231002Y", "bad_character"),
            ("1101051949123X002X", "bad_character"),
            ("99010519491231002X", "unknown_region"),
            ("110105194902300020", "bad_birth_date"),
            ("110105203001010020", "birth_in_future"),
            ("110105189912310020", "birth_too_early"),
        ];
        for (input, code) in cases {
            let err = IdNumber::parse(input, today()).unwrap_err();
            assert_eq!(err.code(), *code, "{input}: {err:?}");
            assert!(!err.message().is_empty());
        }
        assert!(
            IdError::Legacy15.message().contains("18 位"),
            "legacy numbers are told an 18-digit number is needed"
        );
    }

    #[test]
    fn a_retired_region_code_stays_valid() {
        // 110103 崇文区 was merged into 东城区 in 2010; IDs issued under it are still valid.
        let first17 = "11010319500101003";
        let number = format!("{first17}{}", check_character(first17));
        let id = IdNumber::parse(&number, today()).unwrap();
        assert_eq!(id.region.retired_after, Some(2010));
        assert_eq!(id.gender, Gender::Male);
    }

    #[test]
    fn residence_permits_use_their_own_region_codes() {
        let first17 = "83000019550505004";
        let number = format!("{first17}{}", check_character(first17));
        let id = IdNumber::parse_residence_permit(&number, today()).unwrap();
        assert_eq!(id.region.code, "830000");
        let err = IdNumber::parse_residence_permit("11010519491231002X", today()).unwrap_err();
        assert_eq!(err.code(), "not_permit_region");
    }

    #[test]
    fn masking_keeps_only_the_region_and_last_four() {
        assert_eq!(
            super::super::mask::mask_id("11010519491231002X"),
            "110105********002X"
        );
        assert_eq!(super::super::mask::mask_id("123"), "***");
    }

    #[test]
    fn age_counts_whole_years() {
        let born = NaiveDate::from_ymd_opt(1960, 11, 25).unwrap();
        assert_eq!(age_on(born, today()), 65);
        let born = NaiveDate::from_ymd_opt(1960, 11, 24).unwrap();
        assert_eq!(age_on(born, today()), 66);
    }

    fn region_codes() -> Vec<&'static str> {
        let mut codes: Vec<_> = refdata().region_codes().collect();
        codes.sort_unstable();
        codes
    }

    prop_compose! {
        fn valid_id()(
            region in proptest::sample::select(region_codes()),
            days in 0i64..(NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
                - NaiveDate::from_ymd_opt(1900, 1, 1).unwrap()).num_days(),
            sequence in 0u32..1000,
        ) -> (String, NaiveDate, Gender) {
            let birth = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + chrono::Duration::days(days);
            let first17 = format!("{region}{}{sequence:03}", birth.format("%Y%m%d"));
            let gender = if sequence % 2 == 1 { Gender::Male } else { Gender::Female };
            (format!("{first17}{}", check_character(&first17)), birth, gender)
        }
    }

    proptest! {
        #[test]
        fn every_generated_id_passes_and_round_trips((number, birth, gender) in valid_id()) {
            let id = IdNumber::parse(&number, today()).unwrap();
            prop_assert_eq!(&id.number, &number);
            prop_assert_eq!(id.birth_date, birth);
            prop_assert_eq!(id.gender, gender);
        }

        #[test]
        fn every_single_character_change_fails(
            (number, _, _) in valid_id(),
            position in 0usize..18,
            replacement in proptest::sample::select(
                "0123456789X".chars().collect::<Vec<_>>()),
        ) {
            let mut chars: Vec<char> = number.chars().collect();
            prop_assume!(chars[position] != replacement);
            chars[position] = replacement;
            let changed: String = chars.into_iter().collect();
            prop_assert!(IdNumber::parse(&changed, today()).is_err(), "{} accepted", changed);
        }

        #[test]
        fn arbitrary_input_never_panics(input in "\\PC{0,24}") {
            let _ = IdNumber::parse(&input, today());
        }
    }
}
