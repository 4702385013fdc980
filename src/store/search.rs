//! Search: by name (汉字, surname or given name), pinyin initials (`zs` finds 张三), full
//! pinyin (`zhangsan`), ID number (from its start, or its last 4+ digits), and the
//! applicant's mobile (its last 4+ digits); and the same of a 代办 application's agent (a
//! relative who calls gives their own name or phone).
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
                let mut v = vec![("id_number", q.clone())];
                if q.len() >= MIN_SUFFIX_DIGITS {
                    v.push(("id_rev", reversed(q)));
                    v.push(("mobile_rev", reversed(q)));
                    v.push(("agent_id_rev", reversed(q)));
                    v.push(("agent_mobile_rev", reversed(q)));
                }
                v
            }
        }
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
    fn short_digit_queries_do_not_search_suffixes() {
        let cols: Vec<_> = Query::parse("002")
            .unwrap()
            .ranges()
            .into_iter()
            .map(|r| r.0)
            .collect();
        assert_eq!(cols, vec!["id_number"]);
        let ranges = Query::parse("002X").unwrap().ranges();
        assert!(ranges.contains(&("id_rev", "X200".into())));
        assert!(ranges.contains(&("mobile_rev", "X200".into())));
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
