//! Dates as a clerk types them: `19491231`, `1949-12-31`, `1949/12/31` (also `1949.12.31`,
//! full-width digits, and one-digit months and days with a separator: `1949-1-5`).

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

/// Beijing time (UTC+8, no daylight saving), in which every date and time is shown and
/// "today" is reckoned, at the counter and at the central API alike.
pub fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// A moment as people read it, in Beijing time whatever the PC's time zone:
/// `2026-12-02 05:10`. (JSON keeps RFC 3339 with the offset.)
pub fn beijing_minutes(at: DateTime<Utc>) -> String {
    at.with_timezone(&beijing())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The calendar date in Beijing at `now`.
pub fn beijing_date(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&beijing()).date_naive()
}

/// Parse a typed date. The error says, in Chinese, what was wrong and what is expected.
pub fn parse_date(input: &str) -> Result<NaiveDate, String> {
    let text: String = input
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '－' | '／' | '.' | '。' | '/' => '-',
            other => other,
        })
        .collect();
    if text.is_empty() {
        return Err("请填写日期，格式如 19491231 或 1949-12-31".into());
    }
    let parts: Vec<&str> = if text.contains('-') {
        text.split('-').collect()
    } else if text.len() == 8 && text.bytes().all(|b| b.is_ascii_digit()) {
        vec![&text[..4], &text[4..6], &text[6..]]
    } else {
        return Err(format!(
            "“{}”不是日期：请按 19491231、1949-12-31 或 1949/12/31 的格式填写",
            input.trim()
        ));
    };
    let well_formed = parts.len() == 3
        && parts[0].len() == 4
        && parts[1..].iter().all(|p| (1..=2).contains(&p.len()))
        && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()));
    if !well_formed {
        return Err(format!(
            "“{}”不是完整的日期：应为 年-月-日，如 1949-12-31",
            input.trim()
        ));
    }
    let (y, m, d) = (
        parts[0].parse().unwrap_or(0),
        parts[1].parse().unwrap_or(0),
        parts[2].parse().unwrap_or(0),
    );
    NaiveDate::from_ymd_opt(y, m, d)
        .ok_or_else(|| format!("{y} 年 {m} 月 {d} 日不存在：请核对月份和日期"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn the_three_formats_of_the_issue_parse() {
        for input in [
            "19491231",
            "1949-12-31",
            "1949/12/31",
            " 1949.12.31 ",
            "１９４９１２３１",
        ] {
            assert_eq!(parse_date(input), Ok(ymd(1949, 12, 31)), "{input}");
        }
        assert_eq!(parse_date("2001-1-5"), Ok(ymd(2001, 1, 5)));
    }

    #[test]
    fn bad_dates_say_why() {
        assert!(parse_date("").unwrap_err().contains("请填写日期"));
        assert!(
            parse_date("1949-12")
                .unwrap_err()
                .contains("不是完整的日期")
        );
        assert!(parse_date("19490230").unwrap_err().contains("不存在"));
        assert!(parse_date("abc").unwrap_err().contains("不是日期"));
        assert!(parse_date("1949123").unwrap_err().contains("不是日期"));
    }

    proptest! {
        #[test]
        fn any_real_date_round_trips_in_every_format(days in 0i64..60000) {
            let date = ymd(1900, 1, 1) + chrono::Duration::days(days);
            for fmt in ["%Y%m%d", "%Y-%m-%d", "%Y/%m/%d"] {
                let text = date.format(fmt).to_string();
                prop_assert_eq!(parse_date(&text), Ok(date));
            }
        }

        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,16}") {
            let _ = parse_date(&s);
        }
    }
}
