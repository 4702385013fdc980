//! How names are said: the pinyin keys a clerk searches and filters by (张三 → zs,
//! zhangsan; a surname read as a surname: 曾 is zeng, 单 is shan).

use pinyin::{ToPinyin, ToPinyinMulti};

/// Search columns derived from a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameKeys {
    /// Reversed name, for given-name search.
    pub reversed: String,
    /// First letters, lower case: 张三 → zs.
    pub initials: String,
    /// Plain pinyin without spaces or tones: 张三 → zhangsan.
    pub pinyin: String,
}

/// Surnames whose reading differs from the character's most common one. The pinyin crate
/// gives a character's most common reading; as a surname these read otherwise, and a
/// clerk searches by how the name is said.
const SURNAME_READINGS: &[(char, &str)] = &[
    ('曾', "zeng"),
    ('单', "shan"),
    ('解', "xie"),
    ('仇', "qiu"),
    ('区', "ou"),
    ('查', "zha"),
    ('朴', "piao"),
    ('乐', "yue"),
    ('盖', "ge"),
    ('缪', "miao"),
    ('翟', "zhai"),
    ('覃', "qin"),
    ('员', "yun"),
    ('贾', "jia"),
    ('秘', "bi"),
    ('万', "wan"),
    ('尉', "wei"),
];

/// The reading of one character: as a surname for the first one, else the crate's default.
fn reading(c: char, first: bool) -> Option<&'static str> {
    if first && let Some((_, r)) = SURNAME_READINGS.iter().find(|(s, _)| *s == c) {
        return Some(r);
    }
    c.to_pinyin().map(|p| p.plain()).or_else(|| {
        c.to_pinyin_multi()
            .and_then(|m| m.into_iter().next())
            .map(|p| p.plain())
    })
}

/// The search keys of a name (also what a choice list's filter matches).
pub fn name_keys(name: &str) -> NameKeys {
    let name = name.trim();
    let mut initials = String::new();
    let mut pinyin = String::new();
    let mut at_word_start = true;
    for (i, c) in name.chars().enumerate() {
        if let Some(r) = reading(c, i == 0) {
            initials.push_str(&r[..1]);
            pinyin.push_str(r);
            at_word_start = true;
        } else if c.is_ascii_alphabetic() {
            let lower = c.to_ascii_lowercase();
            if at_word_start {
                initials.push(lower);
            }
            pinyin.push(lower);
            at_word_start = false;
        } else {
            at_word_start = true;
        }
    }
    NameKeys {
        reversed: name.chars().rev().collect(),
        initials,
        pinyin,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_give_initials_and_pinyin() {
        let k = name_keys("张三");
        assert_eq!(k.initials, "zs");
        assert_eq!(k.pinyin, "zhangsan");
        assert_eq!(k.reversed, "三张");
        let k = name_keys("阿依古丽·买买提");
        assert_eq!(k.initials, "ayglmmt");
        assert_eq!(k.pinyin, "ayigulimaimaiti");
    }

    #[test]
    fn surnames_read_as_surnames() {
        assert_eq!(name_keys("曾国藩").initials, "zgf");
        assert_eq!(name_keys("单田芳").pinyin, "shantianfang");
        // Only the first character is a surname: 曾 elsewhere keeps its usual reading.
        assert_eq!(
            name_keys("王曾").pinyin,
            format!("wang{}", reading('曾', false).unwrap())
        );
    }

    #[test]
    fn latin_names_use_word_initials() {
        let k = name_keys("Chan Tai Man");
        assert_eq!(k.initials, "ctm");
        assert_eq!(k.pinyin, "chantaiman");
    }
}
