//! Search: by name (汉字, surname or given name), pinyin initials (`zs` finds 张三), full
//! pinyin (`zhangsan`), ID number (the whole number, its region code — the first six
//! digits, which lists show — or exactly its last four, which lists show too), and the
//! applicant's mobile
//! (the whole number or its last four); and the same of a 代办 application's agent (a
//! relative who calls gives their own name or phone). Nothing else matches a number: a
//! search by any other part of it would let a clerk read the digits a list masks, one
//! search at a time.
//!
//! Every key is a prefix match on an indexed column, so a search is a handful of index
//! range scans whatever the store's size. Suffix searches use reversed columns: the last
//! digits of an ID are a prefix of the reversed ID, a given name a prefix of the reversed
//! name.

pub use crate::domain::pinyin::{NameKeys, name_keys};

/// Reverse a string by characters.
pub fn reversed(s: &str) -> String {
    s.chars().rev().collect()
}

/// What a query looks like, and so which columns it searches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// Latin letters: pinyin initials or full pinyin.
    Pinyin(String),
    /// Digits (and a final X): ID number prefix, ID or mobile suffix.
    Digits(String),
    /// Chinese characters: name prefix (surname) or suffix (given name).
    Han(String),
}

/// The least number of trailing digits searched as a suffix; fewer would match too much.
pub const MIN_SUFFIX_DIGITS: usize = 4;
/// The trailing digits of an ID number searched as a suffix: the four a list shows. Five or
/// six would reach into the hidden birth date (the day), one digit at a time.
pub const ID_SUFFIX_DIGITS: usize = 4;

impl Query {
    /// Classify what the clerk typed; `None` when it cannot match anything.
    pub fn parse(input: &str) -> Option<Query> {
        let q: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if q.is_empty() {
            return None;
        }
        if q.chars().all(|c| c.is_ascii_alphabetic()) {
            let lower = q.to_ascii_lowercase();
            // A trailing x after digits is an ID check character, handled below.
            return Some(Query::Pinyin(lower));
        }
        let upper = crate::domain::id_number::normalise_id_input(&q);
        if upper
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || (c == 'X' && i + 1 == upper.chars().count()))
        {
            return Some(Query::Digits(upper));
        }
        let han: String = q.chars().filter(|c| !c.is_ascii_punctuation()).collect();
        (!han.is_empty()).then_some(Query::Han(han))
    }

    /// (column, prefix) pairs to search; a row matching any of them is a hit.
    pub fn ranges(&self) -> Vec<(&'static str, String)> {
        match self {
            Query::Pinyin(q) => vec![
                ("name_initials", q.clone()),
                ("name_pinyin", q.clone()),
                ("agent_initials", q.clone()),
                ("agent_pinyin", q.clone()),
            ],
            Query::Han(q) => vec![
                ("name", q.clone()),
                ("name_rev", reversed(q)),
                ("agent_name", q.clone()),
                ("agent_name_rev", reversed(q)),
            ],
            Query::Digits(q) => {
                let mut v = Vec::new();
                let n = q.len();
                // The whole number (a prefix as long as the number is the number).
                if n == 18 || n == 15 {
                    v.push(("id_number", q.clone()));
                    v.push(("agent_id_rev", reversed(q)));
                }
                // The region code, as lists show it.
                if n == 6 {
                    v.push(("id_number", q.clone()));
                }
                // Exactly the last four digits of an ID number, as lists show them.
                if n == ID_SUFFIX_DIGITS {
                    v.push(("id_rev", reversed(q)));
                    v.push(("agent_id_rev", reversed(q)));
                }
                // A mobile: the whole number, or its last four.
                if n == 11 || n == MIN_SUFFIX_DIGITS {
                    v.push(("mobile_rev", reversed(q)));
                    v.push(("agent_mobile_rev", reversed(q)));
                }
                v
            }
        }
    }
}

impl Query {
    /// What the audit log keeps of a search: its kind and length, never its text.
    pub fn shape(&self) -> String {
        match self {
            Query::Pinyin(q) => format!("pinyin:{}", q.chars().count()),
            Query::Han(q) => format!("name:{}", q.chars().count()),
            // A whole number, ID (15 or 18) or mobile (11): one shape, counted together.
            Query::Digits(q) if matches!(q.len(), 11 | 15 | 18) => "whole".into(),
            Query::Digits(q) => format!("digits:{}", q.len()),
        }
    }

    /// A search by a whole number (an ID or a mobile): the kind whose misses are counted
    /// (a clerk trying birth dates, or a mobile's middle digits, against a masked number).
    pub fn is_whole_number(&self) -> bool {
        matches!(self, Query::Digits(q) if matches!(q.len(), 11 | 15 | 18))
    }
}

/// The exclusive upper bound of all strings that start with `prefix` (SQLite compares
/// TEXT as UTF-8 bytes; U+10FFFF sorts after every character).
pub fn prefix_upper_bound(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_classified_by_what_was_typed() {
        assert_eq!(Query::parse(" ZS "), Some(Query::Pinyin("zs".into())));
        assert_eq!(Query::parse("002x"), Some(Query::Digits("002X".into())));
        assert_eq!(
            Query::parse("1101 05"),
            Some(Query::Digits("110105".into()))
        );
        assert_eq!(Query::parse("张三"), Some(Query::Han("张三".into())));
        assert_eq!(Query::parse("   "), None);
        // Not pinyin, not an ID fragment (X only ends an ID): searched as a name.
        assert_eq!(Query::parse("x1"), Some(Query::Han("x1".into())));
    }

    #[test]
    fn numbers_match_whole_by_region_or_by_their_last_digits_only() {
        let cols = |q: &str| -> Vec<&'static str> {
            Query::parse(q)
                .unwrap()
                .ranges()
                .into_iter()
                .map(|r| r.0)
                .collect()
        };
        // Too few digits, or a part of the masked middle: nothing.
        for q in [
            "002",
            "1101141",
            "11011419",
            "1101141952",
            "110114195203",
            "11011419520315452",
        ] {
            assert!(cols(q).is_empty(), "{q}: {:?}", cols(q));
        }
        assert_eq!(cols("110114"), ["id_number"]);
        assert!(cols("5152").contains(&"id_rev") && cols("5152").contains(&"mobile_rev"));
        // Five or six from the end reach the hidden birth day: nothing.
        assert!(cols("55152").is_empty(), "{:?}", cols("55152"));
        assert_eq!(cols("155152"), ["id_number"], "only as a region code");
        assert!(cols("13800138000").contains(&"mobile_rev"));
        let whole = Query::parse("11011419520315452X").unwrap();
        assert!(whole.is_whole_number());
        assert!(
            whole
                .ranges()
                .contains(&("id_number", "11011419520315452X".into()))
        );
        let ranges = Query::parse("002X").unwrap().ranges();
        assert!(ranges.contains(&("id_rev", "X200".into())));
    }

    #[test]
    fn the_shape_of_a_search_says_its_kind_and_length_never_its_text() {
        assert_eq!(Query::parse("11011419520315452X").unwrap().shape(), "whole");
        assert_eq!(Query::parse("13900001234").unwrap().shape(), "whole");
        assert_eq!(Query::parse("5152").unwrap().shape(), "digits:4");
        assert_eq!(Query::parse("zs").unwrap().shape(), "pinyin:2");
        assert_eq!(Query::parse("张三").unwrap().shape(), "name:2");
    }

    #[test]
    fn the_upper_bound_is_above_every_extension() {
        let hi = prefix_upper_bound("zs");
        for s in ["zs", "zsa", "zs张", "zs\u{10FFFE}"] {
            assert!(s.as_bytes() < hi.as_bytes(), "{s}");
        }
        assert!("zt".as_bytes() > hi.as_bytes());
    }
}
