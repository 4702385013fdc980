//! What an engine read from each field's region, made into values the form takes, with the
//! core rules applied: an ID number that fails its check character is unreliable, a date
//! must be a date, an ethnic group must be one of the 56. Pure: tested without an engine.

use crate::domain::Gender;
use chrono::NaiveDate;

use super::{CardField, Reading};
use crate::domain::id_number::{check_character, normalise_id_input};
use crate::domain::refdata::refdata;

/// Make a reading of `field` from the text read in its region and the engine's confidence.
pub fn interpret(field: CardField, text: &str, confidence: u8) -> Reading {
    let raw: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut r = Reading {
        field,
        raw: raw.clone(),
        value: None,
        shown: String::new(),
        confidence,
        problem: None,
    };
    if raw.is_empty() {
        r.problem = Some("没有读到文字".into());
        r.confidence = 0;
        return r;
    }
    match field {
        CardField::Name => {
            let name: String = raw.chars().filter(|c| is_han(*c) || *c == '·').collect();
            if name.chars().count() < 2 {
                r.problem = Some(format!("“{raw}”不像姓名"));
            } else {
                r.shown = name.clone();
                r.value = Some(name);
            }
        }
        CardField::Gender => match (raw.contains('男'), raw.contains('女')) {
            (true, false) => set(&mut r, Gender::Male.key(), Gender::Male.label()),
            (false, true) => set(&mut r, Gender::Female.key(), Gender::Female.label()),
            _ => r.problem = Some(format!("“{raw}”不是男或女")),
        },
        CardField::Ethnicity => ethnicity(&mut r),
        CardField::BirthDate => match birth_date(&raw) {
            Some(d) => set(
                &mut r,
                &d.to_string(),
                &d.format("%Y年%-m月%-d日").to_string(),
            ),
            None => r.problem = Some(format!("“{raw}”不是日期")),
        },
        CardField::Address | CardField::Authority => {
            let text: String = raw
                .chars()
                .filter(|c| is_han(*c) || c.is_ascii_alphanumeric() || "-－（）()·".contains(*c))
                .collect();
            if text.chars().count() < 4 {
                r.problem = Some(format!("“{raw}”太短"));
            } else {
                r.shown = text.clone();
                r.value = Some(text);
            }
        }
        CardField::IdNumber => id_number(&mut r),
        CardField::ValidFrom => match dotted_date(&raw) {
            Some(d) => set(&mut r, &d.to_string(), &d.format("%Y.%m.%d").to_string()),
            None => r.problem = Some(format!("“{raw}”不是日期")),
        },
        CardField::ValidUntil => {
            if raw.contains('长') || raw.contains('期') {
                set(&mut r, "long_term", "长期");
            } else {
                match dotted_date(&raw) {
                    Some(d) => set(&mut r, &d.to_string(), &d.format("%Y.%m.%d").to_string()),
                    None => r.problem = Some(format!("“{raw}”不是日期，也不是长期")),
                }
            }
        }
    }
    r
}

/// Split the validity line (`2015.01.01-2035.01.01`, `2015.01.01-长期`) into its two
/// halves; the engine reads it as one line.
pub fn validity(text: &str, confidence: u8) -> (Reading, Reading) {
    let raw: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let digits_before_dash = raw
        .find(['-', '－', '—', '一', '~'])
        .map(|i| (&raw[..i], &raw[i..]));
    let (from, until) = match digits_before_dash {
        Some((a, b)) => (a.to_owned(), b.chars().skip(1).collect::<String>()),
        None => {
            // No dash read: the first eight digits are the start.
            let digits: Vec<char> = raw.chars().filter(char::is_ascii_digit).collect();
            if digits.len() >= 8 {
                let from: String = digits[..8].iter().collect();
                (from, raw.chars().skip_while(|c| !is_han(*c)).collect())
            } else {
                (raw.clone(), String::new())
            }
        }
    };
    let from = interpret(CardField::ValidFrom, &from, confidence);
    let mut until = interpret(CardField::ValidUntil, &until, confidence);
    let mut from = from;
    if until.problem.is_none() && from.problem.is_none() {
        until.problem = validity_problem(
            from.value.as_deref().unwrap_or_default(),
            until.value.as_deref().unwrap_or_default(),
        );
        // Two dates a card's term apart (or 长期) vouch for each other.
        if until.problem.is_none() {
            from.confidence = from.confidence.max(85);
            until.confidence = until.confidence.max(85);
        }
    }
    (from, until)
}

/// Cards are valid for 5, 10 or 20 years (or long term) from the same month and day.
fn validity_problem(from: &str, until: &str) -> Option<String> {
    if until == "long_term" {
        return None;
    }
    let (Ok(f), Ok(u)) = (from.parse::<NaiveDate>(), until.parse::<NaiveDate>()) else {
        return None;
    };
    use chrono::Datelike;
    let years = u.year() - f.year();
    if [5, 10, 20].contains(&years) && (u.month(), u.day()) == (f.month(), f.day()) {
        None
    } else {
        Some(format!(
            "有效期 {f}—{u} 不是 5、10 或 20 年（可能读错了数字）"
        ))
    }
}

/// The front's readings checked against each other: the birth date and gender follow from a
/// valid ID number, so where they agree both are surer, and where they disagree the one
/// read from the number (checked by its check character) is the likelier.
pub fn cross_check(readings: &mut [Reading]) {
    let Some(number) = readings
        .iter()
        .find(|r| r.field == CardField::IdNumber)
        .and_then(|r| r.usable().map(str::to_owned))
    else {
        return;
    };
    let birth = NaiveDate::parse_from_str(&number[6..14], "%Y%m%d").ok();
    let gender = if number.as_bytes()[16] % 2 == 1 {
        Gender::Male
    } else {
        Gender::Female
    };
    for r in readings.iter_mut() {
        let expected = match r.field {
            CardField::BirthDate => birth.map(|d| d.to_string()),
            CardField::Gender => Some(gender.key().to_owned()),
            _ => None,
        };
        let Some(expected) = expected else { continue };
        if r.value.as_deref() == Some(expected.as_str()) {
            r.confidence = r.confidence.max(95);
        } else {
            let read = if r.raw.is_empty() {
                "（未读到）".to_owned()
            } else {
                r.raw.clone()
            };
            r.problem = None;
            r.value = Some(expected.clone());
            r.shown = match r.field {
                CardField::Gender => gender.label().into(),
                _ => birth
                    .map(|d| d.format("%Y年%-m月%-d日").to_string())
                    .unwrap_or_default(),
            };
            r.raw = format!("{read}（按身份号码）");
            r.confidence = 90;
        }
    }
}

fn set(r: &mut Reading, value: &str, shown: &str) {
    r.value = Some(value.to_owned());
    r.shown = shown.to_owned();
}

fn is_han(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3400}'..='\u{4dbf}').contains(&c)
}

fn ethnicity(r: &mut Reading) {
    let text: String = r.raw.chars().filter(|c| is_han(*c)).collect();
    let text = text.trim_end_matches('族');
    let groups = &refdata().ethnic_groups;
    let short = |name: &str| name.trim_end_matches('族').to_owned();
    // One of the 56 names exactly: the closed list vouches for the reading.
    if let Some(g) = groups
        .iter()
        .find(|g| short(g.name) == text)
        .or_else(|| refdata().ethnic_group(&format!("{text}族")))
    {
        r.confidence = r.confidence.max(80);
        return set(r, g.code, g.name);
    }
    // One character misread (维吾尔 read as 维吾示): the group sharing the most characters,
    // if it is the only one that close; the value is then less sure.
    let score = |g: &str| g.chars().filter(|c| text.contains(*c)).count();
    let mut best: Vec<_> = groups.iter().map(|g| (score(&short(g.name)), g)).collect();
    best.sort_by_key(|b| std::cmp::Reverse(b.0));
    match best.as_slice() {
        [(s, g), rest @ ..] if *s > 0 && rest.first().is_none_or(|(t, _)| t < s) => {
            let need = short(g.name).chars().count().div_ceil(2);
            if *s >= need.max(1) && text.chars().count() <= short(g.name).chars().count() + 1 {
                set(r, g.code, g.name);
                r.confidence = 60;
            } else {
                r.problem = Some(format!("“{}”不是五十六个民族之一", r.raw));
            }
        }
        _ => r.problem = Some(format!("“{}”不是五十六个民族之一", r.raw)),
    }
}

/// `1990年1月31日`, or the digits of it with the characters misread.
fn birth_date(raw: &str) -> Option<NaiveDate> {
    let groups: Vec<u32> = raw
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .filter_map(|g| g.parse().ok())
        .collect();
    match groups.as_slice() {
        [y, m, d] => NaiveDate::from_ymd_opt(*y as i32, *m, *d),
        [all] if raw.len() == 8 => {
            let all = format!("{all:08}");
            NaiveDate::parse_from_str(&all, "%Y%m%d").ok()
        }
        _ => None,
    }
}

/// `2015.01.31` (dots possibly misread or lost).
fn dotted_date(raw: &str) -> Option<NaiveDate> {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    if digits.len() != 8 {
        return None;
    }
    NaiveDate::parse_from_str(&digits, "%Y%m%d").ok()
}

fn id_number(r: &mut Reading) {
    let text: String = normalise_id_input(&r.raw)
        .chars()
        .map(|c| match c {
            // Shapes an engine confuses with digits on this typeface.
            'O' | 'o' | 'D' => '0',
            'I' | 'l' | '|' => '1',
            'x' | '×' | 'Ⅹ' => 'X',
            other => other,
        })
        .filter(|c| c.is_ascii_digit() || *c == 'X')
        .collect();
    r.shown = text.clone();
    let well_formed = text.len() == 18
        && text[..17].bytes().all(|b| b.is_ascii_digit())
        && (text.as_bytes()[17].is_ascii_digit() || text.ends_with('X'));
    if !well_formed {
        r.problem = Some(format!(
            "读到 {} 位“{}”，不是 18 位身份号码",
            text.len(),
            text
        ));
        return;
    }
    let expected = check_character(&text[..17]);
    if !text.ends_with(expected) {
        r.problem = Some("校验码不符：有数字读错了，不可采用，请按证件录入".into());
        r.confidence = r.confidence.min(30);
        return;
    }
    if NaiveDate::parse_from_str(&text[6..14], "%Y%m%d").is_err() {
        r.problem = Some("号码中的出生日期不成立：不可采用".into());
        return;
    }
    // The check character catches every single misread digit and every swap of two:
    // a number that passes is surer than the engine's own score says.
    r.confidence = r.confidence.max(90);
    r.value = Some(text);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_with_a_wrong_check_character_is_never_usable() {
        let r = interpret(CardField::IdNumber, "11010519491231002X", 99);
        assert!(r.usable().is_some(), "{r:?}");
        // One digit misread: the check character no longer fits.
        let r = interpret(CardField::IdNumber, "11010519491231003X", 99);
        assert_eq!(r.usable(), None);
        assert!(r.problem.as_deref().unwrap().contains("校验码"));
    }

    #[test]
    fn spaces_and_lookalike_letters_in_a_number_are_read_as_digits() {
        let r = interpret(CardField::IdNumber, "1101 0519 4912 3100 2x", 90);
        assert_eq!(r.usable(), Some("11010519491231002X"));
        let r = interpret(CardField::IdNumber, "11O1O519491231002X", 90);
        assert_eq!(r.usable(), Some("11010519491231002X"));
    }

    #[test]
    fn validity_dates_and_long_term() {
        let (f, u) = validity("2015.03.09-2035.03.09", 90);
        assert_eq!(
            (f.usable(), u.usable()),
            (Some("2015-03-09"), Some("2035-03-09"))
        );
        let (f, u) = validity("2010.11.30 - 长期", 90);
        assert_eq!(
            (f.usable(), u.usable()),
            (Some("2010-11-30"), Some("long_term"))
        );
        let (_, u) = validity("2015.03.09-2035.08.09", 90);
        assert_eq!(u.usable(), None, "not 5/10/20 years: a digit was misread");
    }

    #[test]
    fn ethnic_groups_by_name_and_by_a_close_misreading() {
        let r = interpret(CardField::Ethnicity, "汉", 90);
        assert_eq!((r.usable(), r.shown.as_str()), (Some("01"), "汉族"));
        let r = interpret(CardField::Ethnicity, "维吾示", 90);
        assert_eq!(r.value.as_deref(), Some("05"));
        assert!(r.confidence <= 60);
        let r = interpret(CardField::Ethnicity, "火星", 90);
        assert_eq!(r.usable(), None);
    }

    #[test]
    fn the_number_corrects_a_misread_birth_date_and_gender() {
        let mut rs = vec![
            interpret(CardField::BirthDate, "1949年12月3l日", 80),
            interpret(CardField::Gender, "另", 40),
            interpret(CardField::IdNumber, "11010519491231002X", 95),
        ];
        cross_check(&mut rs);
        assert_eq!(rs[0].usable(), Some("1949-12-31"));
        assert_eq!(rs[1].usable(), Some("female"));
    }

    proptest::proptest! {
        /// Any one character of a valid number misread: the check character catches it.
        #[test]
        fn a_number_with_one_misread_character_is_never_accepted(
            days in 0i64..36_000,
            seq in 0u32..1000,
            at in 0usize..18,
            by in 1u8..10,
        ) {
            let birth = NaiveDate::from_ymd_opt(1926, 1, 1).unwrap() + chrono::Duration::days(days);
            let first17 = format!("110105{}{seq:03}", birth.format("%Y%m%d"));
            let good = format!("{first17}{}", check_character(&first17));
            let read = interpret(CardField::IdNumber, &good, 90);
            proptest::prop_assert_eq!(read.usable(), Some(good.as_str()));
            let mut chars: Vec<char> = good.chars().collect();
            chars[at] = match chars[at] {
                'X' => char::from(b'0' + by),
                c => char::from(b'0' + (c as u8 - b'0' + by) % 10),
            };
            let misread: String = chars.into_iter().collect();
            let read = interpret(CardField::IdNumber, &misread, 99);
            proptest::prop_assert_eq!(read.usable(), None);
        }
    }

    #[test]
    fn names_keep_only_chinese_characters() {
        let r = interpret(CardField::Name, "王 小明|", 90);
        assert_eq!(r.usable(), Some("王小明"));
        assert_eq!(interpret(CardField::Name, "", 90).usable(), None);
    }
}
