//! What an engine read from a row of the card, made into values the form takes, and only
//! when they are plausible: an ID number whose check character fits, a name of a known
//! surname whose every character the engine was sure of, one of the 56 ethnic groups read
//! as such (never guessed from a part), an address that begins with a province and holds
//! no date, dates a card can carry, an authority that is a police bureau. A wrong value
//! offered as usable is worse than none: when unsure, the value is withheld and the reason
//! said. Pure: tested without an engine.

use std::collections::HashSet;
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};

use super::{CardField, Reading};
use crate::domain::Gender;
use crate::domain::id_number::{check_character, normalise_id_input};
use crate::domain::refdata::refdata;

/// What the engine read from one or more rows: words with its confidence in each, and in
/// each character.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Text {
    pub words: Vec<Word>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    pub text: String,
    /// The engine's confidence in the word, 0–100.
    pub confidence: u8,
    /// Each character with the engine's confidence in it, 0–100.
    pub chars: Vec<(char, u8)>,
}

impl Word {
    /// The word's confidence from its characters' where the engine gives none of its own:
    /// its least sure character not already counted unsure (0), so that one unsure
    /// character does not make the whole line unsure (`Text::chars`).
    fn settle_confidence(&mut self) {
        self.confidence = self
            .chars
            .iter()
            .map(|(_, c)| *c)
            .filter(|c| *c > 0)
            .min()
            .unwrap_or(0);
    }
}

impl Text {
    /// Words separated by whitespace, each character as sure as its word (for tests and
    /// for engines that give no more).
    pub fn plain(text: &str, confidence: u8) -> Text {
        Text {
            words: text
                .split_whitespace()
                .map(|w| Word {
                    text: w.to_owned(),
                    confidence,
                    chars: w.chars().map(|c| (c, confidence)).collect(),
                })
                .collect(),
        }
    }

    /// The words of Tesseract's hOCR (with `hocr_char_boxes`): `ocrx_word` spans with
    /// `x_wconf`, holding `ocrx_cinfo` spans with `x_conf`.
    pub fn from_hocr(hocr: &str) -> Text {
        let mut words = Vec::new();
        for part in hocr.split("class='ocrx_word'").skip(1) {
            let confidence = number_after(part, "x_wconf ").unwrap_or(0.0);
            let mut chars = Vec::new();
            for c in part.split("class='ocrx_cinfo'").skip(1) {
                let conf = number_after(c, "x_conf ").unwrap_or(0.0);
                let Some(start) = c.find('>') else { continue };
                let Some(len) = c[start + 1..].find("</span>") else {
                    continue;
                };
                for ch in unescape(&c[start + 1..start + 1 + len]).chars() {
                    chars.push((ch, conf.round().clamp(0.0, 100.0) as u8));
                }
            }
            if chars.is_empty() {
                // Without character spans: the word's own text.
                if let Some(text) = word_text(part) {
                    chars = text.chars().map(|c| (c, confidence as u8)).collect();
                }
            }
            let text: String = chars.iter().map(|(c, _)| *c).collect();
            if !text.trim().is_empty() {
                words.push(Word {
                    text,
                    confidence: confidence.round().clamp(0.0, 100.0) as u8,
                    chars,
                });
            }
        }
        Text { words }
    }

    pub fn append(&mut self, other: Text) {
        self.words.extend(other.words);
    }

    /// All the characters read, whitespace removed.
    pub fn joined(&self) -> String {
        self.words
            .iter()
            .flat_map(|w| w.text.chars())
            .filter(|c| !c.is_whitespace())
            .collect()
    }

    /// This reading with only what `other` (the same rows read again) agrees with: the
    /// characters that matter (Chinese, letters, digits; not the stray punctuation an
    /// engine adds at a line's end) compared in order; where they differ, or their number
    /// does, they count as unsure (0); where they agree, the surer of the two.
    pub fn agreed_with(&self, other: &Text) -> Text {
        let matters = |c: char| is_han(c) || c.is_ascii_alphanumeric() || c == '·';
        let theirs: Vec<(char, u8)> = other
            .chars()
            .into_iter()
            .filter(|(c, _)| matters(*c))
            .collect();
        let mine = self
            .chars()
            .into_iter()
            .filter(|(c, _)| matters(*c))
            .count();
        let same_length = theirs.len() == mine;
        let mut at = 0;
        let words = self
            .words
            .iter()
            .map(|w| Word {
                text: w.text.clone(),
                confidence: w.confidence,
                chars: w
                    .chars
                    .iter()
                    .map(|(c, conf)| {
                        if !matters(*c) {
                            return (*c, *conf);
                        }
                        let theirs = theirs.get(at).filter(|t| same_length && t.0 == *c);
                        at += 1;
                        (*c, theirs.map_or(0, |t| (*conf).max(t.1)))
                    })
                    .collect(),
            })
            .collect();
        Text { words }
    }

    /// Whether something was read and every character of it (but punctuation) is at least
    /// `CHAR_SURE`.
    pub fn all_sure(&self) -> bool {
        self.all_at_least(CHAR_SURE)
    }

    /// Whether every character that matters was agreed on (none scored 0 by `agreed_with`)
    /// and something was read.
    pub fn fully_agreed(&self) -> bool {
        self.all_at_least(1)
    }

    fn all_at_least(&self, least: u8) -> bool {
        let chars = self.chars();
        !chars.is_empty()
            && chars
                .iter()
                .filter(|(c, _)| is_han(*c) || c.is_ascii_alphanumeric())
                .all(|(_, conf)| *conf >= least)
    }

    /// The words joined by spaces (a date's parts apart when its 年月日 were not read).
    pub fn spaced(&self) -> String {
        let words: Vec<&str> = self.words.iter().map(|w| w.text.as_str()).collect();
        words.join(" ")
    }

    /// Each character read with the engine's confidence in it, none above its word's where
    /// the engine all but rejected the word (below 40): a character the model lacks often
    /// comes out as a common one scored high on its own (珺 as 表 at 69) inside a word
    /// scored 0.
    pub fn chars(&self) -> Vec<(char, u8)> {
        self.words
            .iter()
            .flat_map(|w| {
                w.chars.iter().map(move |(c, conf)| {
                    (
                        *c,
                        if w.confidence < 40 {
                            (*conf).min(w.confidence)
                        } else {
                            *conf
                        },
                    )
                })
            })
            .filter(|(c, _)| !c.is_whitespace())
            .collect()
    }

    /// The same text with every character below `sure` scored 0 (unsure), for an engine
    /// whose scores mean something on their own scale.
    pub fn floored(mut self, sure: u8) -> Text {
        for w in &mut self.words {
            for (_, conf) in &mut w.chars {
                if *conf < sure {
                    *conf = 0;
                }
            }
            w.settle_confidence();
        }
        self
    }

    /// This text (the model's) with every character below `sure` scored 0, but where
    /// `other` (Tesseract's agreed reading) has, character for character, the same one at
    /// least `CHAR_SURE`: two engines reading it the same vouch for it (it scores `sure`).
    /// Texts of different lengths vouch for nothing.
    pub fn confirmed_by(mut self, other: &Text, sure: u8) -> Text {
        let theirs = other.chars();
        let ours = self.words.iter().flat_map(|w| &w.chars).count();
        let aligned = ours == theirs.len();
        let mut i = 0;
        for w in &mut self.words {
            for (c, conf) in &mut w.chars {
                if *conf < sure {
                    let vouched = aligned && theirs[i].0 == *c && theirs[i].1 >= CHAR_SURE;
                    *conf = if vouched { sure } else { 0 };
                }
                i += 1;
            }
            w.settle_confidence();
        }
        self
    }

    /// The engine's overall confidence: its least sure word (0 when nothing was read).
    pub fn confidence(&self) -> u8 {
        self.words.iter().map(|w| w.confidence).min().unwrap_or(0)
    }
}

fn number_after(s: &str, key: &str) -> Option<f32> {
    let at = s.find(key)? + key.len();
    let digits: String = s[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    digits.parse().ok()
}

fn word_text(part: &str) -> Option<String> {
    let start = part.find('>')? + 1;
    let end = part[start..].find('<')? + start;
    Some(unescape(&part[start..end]))
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Below this the engine's confidence in a character of a name, an address, an ethnicity
/// or an authority, the value is withheld. The engine's own scores say little (a rare
/// character it does not know comes out as a common one at 95); what vouches is that two
/// readings at different sizes agree (`Text::agreed_with`), and a character they disagree
/// on scores 0.
pub const CHAR_SURE: u8 = 35;

/// Make a reading of `field` from the text read in its row(s) (`interpret_text`), from
/// plain text with one confidence for all of it.
pub fn interpret(field: CardField, text: &str, confidence: u8) -> Reading {
    interpret_text(field, &Text::plain(text, confidence))
}

/// Make a reading of `field` from what the engine read in its row(s). The gender row holds
/// the ethnicity too: both fields are read from it.
pub fn interpret_text(field: CardField, text: &Text) -> Reading {
    let raw = text.joined();
    let mut r = Reading {
        field,
        raw: raw.clone(),
        value: None,
        shown: String::new(),
        confidence: text.confidence(),
        problem: None,
    };
    if raw.is_empty() {
        r.problem = Some("没有读到文字".into());
        r.confidence = 0;
        return r;
    }
    match field {
        CardField::Name => name(&mut r, text),
        CardField::Gender => gender(&mut r, text),
        CardField::Ethnicity => ethnicity(&mut r, text),
        CardField::BirthDate => match birth_date(&text.spaced()) {
            Some(d) => set(
                &mut r,
                &d.to_string(),
                &d.format("%Y年%-m月%-d日").to_string(),
            ),
            None => r.problem = Some(format!("“{raw}”不是出生日期")),
        },
        CardField::Address => address(&mut r, text),
        CardField::Authority => authority(&mut r, text),
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

/// The surnames (data/surnames.txt): single characters and compound ones.
static SURNAMES: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../data/surnames.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
});

/// Whether `surname` is one (单姓 or 复姓).
pub fn is_surname(surname: &str) -> bool {
    SURNAMES.contains(surname)
}

/// Characters an engine puts where it sees strokes or noise, and no name has (一, 中 and 之
/// are in names: 王一博, 李建中, 王羲之).
const NOT_IN_NAMES: &str = "丨丿乙口曰了的是不也乎者";

fn name(r: &mut Reading, text: &Text) {
    let chars: Vec<(char, u8)> = text
        .chars()
        .into_iter()
        .filter(|(c, _)| is_han(*c) || *c == '·')
        .collect();
    let name: String = chars.iter().map(|(c, _)| *c).collect();
    let count = name.chars().filter(|c| *c != '·').count();
    let plausible = if name.contains('·') {
        // 少数民族 names in their own order: 阿依古丽·买买提.
        name.split('·').all(|p| p.chars().count() >= 2) && count <= 15
    } else {
        let first: String = name.chars().take(1).collect();
        let first_two: String = name.chars().take(2).collect();
        let compound = is_surname(&first_two) && first_two.chars().count() == 2;
        (2..=4).contains(&count)
            && (compound || is_surname(&first))
            && !name.chars().skip(1).any(|c| NOT_IN_NAMES.contains(c))
    };
    let repeated = name
        .chars()
        .any(|c| name.chars().filter(|d| *d == c).count() >= 3);
    if !plausible || repeated {
        r.problem = Some(format!(
            "读到“{}”，不像姓名：请按证件录入",
            if name.is_empty() { &r.raw } else { &name }
        ));
        return;
    }
    if let Some(unsure) = unsure_chars(&chars) {
        r.problem = Some(format!(
            "姓名中“{unsure}”认不准（可能是生僻字）：请按证件录入"
        ));
        r.confidence = r.confidence.min(40);
        return;
    }
    // Two readings agreed on every character and the name is a plausible one: that
    // vouches for it more than the engine's own score.
    r.confidence = chars
        .iter()
        .map(|(_, c)| *c)
        .min()
        .unwrap_or(0)
        .max(super::MIN_CONFIDENCE);
    r.shown = name.clone();
    r.value = Some(name);
}

/// The characters the engine was not sure of, if any.
fn unsure_chars(chars: &[(char, u8)]) -> Option<String> {
    let unsure: String = chars
        .iter()
        .filter(|(_, conf)| *conf < CHAR_SURE)
        .map(|(c, _)| *c)
        .collect();
    (!unsure.is_empty()).then_some(unsure)
}

/// The gender row: 男 or 女 first (the label 性别 before it is dropped as a colour
/// photo drops it, or is cut off by the value column).
fn gender(r: &mut Reading, text: &Text) {
    let chars: Vec<(char, u8)> = text
        .chars()
        .into_iter()
        .filter(|(c, _)| is_han(*c))
        .collect();
    let first = chars
        .iter()
        .position(|(c, _)| *c == '男' || *c == '女')
        .filter(|i| *i <= 2);
    match first {
        Some(i) if chars[i].1 >= 50 => {
            let g = if chars[i].0 == '男' {
                Gender::Male
            } else {
                Gender::Female
            };
            r.confidence = chars[i].1;
            set(r, g.key(), g.label());
        }
        _ => r.problem = Some(format!("“{}”中没有读到男或女", r.raw)),
    }
}

/// The ethnicity from the gender row: what follows the gender and the 民族 label, one of the
/// 56 names exactly.
fn ethnicity(r: &mut Reading, text: &Text) {
    let chars: Vec<(char, u8)> = text
        .chars()
        .into_iter()
        .filter(|(c, _)| is_han(*c))
        .collect();
    let after_gender = chars
        .iter()
        .position(|(c, _)| *c == '男' || *c == '女')
        .filter(|i| *i <= 2)
        .map_or(0, |i| i + 1);
    let rest: Vec<(char, u8)> = chars[after_gender..]
        .iter()
        .copied()
        .skip_while(|(c, _)| *c == '民' || *c == '族')
        .collect();
    let mut name: String = rest.iter().map(|(c, _)| *c).collect();
    if name.chars().count() > 1 {
        name = name.trim_end_matches('族').to_owned();
    }
    r.raw = name.clone();
    let found = refdata()
        .ethnic_groups
        .iter()
        .find(|g| g.name.trim_end_matches('族') == name)
        .or_else(|| refdata().ethnic_group(&format!("{name}族")));
    let Some(group) = found else {
        r.problem = Some(if name.is_empty() {
            "没有读到民族".into()
        } else {
            format!("“{name}”不是五十六个民族之一：请按证件选择")
        });
        return;
    };
    let least = rest.iter().map(|(_, c)| *c).min().unwrap_or(0);
    r.confidence = least.max(super::MIN_CONFIDENCE);
    if least < CHAR_SURE {
        r.problem = Some(format!("民族“{name}”认不准：请按证件选择"));
        return;
    }
    set(r, group.code, group.name);
}

/// The provinces, municipalities and autonomous regions an address begins with.
static PROVINCES: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let refs = refdata();
    let mut names: Vec<&'static str> = refs
        .region_codes()
        .filter(|c| c.ends_with("0000"))
        .filter_map(|c| refs.region(c))
        .filter(|r| r.retired_after.is_none())
        .map(|r| r.name)
        .collect();
    names.sort_unstable();
    names
});

fn address(r: &mut Reading, text: &Text) {
    let chars: Vec<(char, u8)> = text
        .chars()
        .into_iter()
        .filter(|(c, _)| is_han(*c) || c.is_ascii_alphanumeric() || "-－（）()·".contains(*c))
        .collect();
    let value: String = chars.iter().map(|(c, _)| *c).collect();
    if value.chars().count() < 6 {
        r.problem = Some(format!("“{value}”太短，不像住址"));
        return;
    }
    let province = PROVINCES
        .iter()
        .any(|p| value.starts_with(p) || value.starts_with(p.trim_end_matches(['市', '省'])));
    if !province {
        r.problem = Some(format!(
            "“{value}”不是从省、自治区或直辖市写起：请按证件录入"
        ));
        return;
    }
    if let Some(stray) = stray_after_number(&value) {
        r.problem = Some(format!(
            "住址中数字后的“{stray}”不像门牌（可能是数字读错了）：请按证件录入或核对"
        ));
        return;
    }
    if looks_like_a_date(&value) {
        r.problem = Some(format!("“{value}”里有日期，不像住址：请按证件录入"));
        return;
    }
    if let Some(unsure) = unsure_chars(&chars) {
        r.problem = Some(format!("住址中“{unsure}”认不准：请按证件录入或核对"));
        r.confidence = r.confidence.min(40);
        return;
    }
    r.confidence = r.confidence.max(super::MIN_CONFIDENCE);
    r.shown = value.clone();
    r.value = Some(value);
}

/// What may follow a number in an address: 12号楼3单元402室, 5排, 甲1号, 7之2.
const AFTER_NUMBER: &str = "号楼院室层单元栋幢座户门排组村巷弄里期区街路胡同之甲乙丙丁东西南北";

/// A Chinese character right after a digit that no address puts there (501 read as 50工).
fn stray_after_number(s: &str) -> Option<char> {
    let chars: Vec<char> = s.chars().collect();
    chars
        .windows(2)
        .find(|w| w[0].is_ascii_digit() && is_han(w[1]) && !AFTER_NUMBER.contains(w[1]))
        .map(|w| w[1])
}

/// `1964年`, `2007.11.18`: a date where none belongs.
fn looks_like_a_date(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    chars.windows(5).any(|w| {
        w[..4].iter().all(char::is_ascii_digit)
            && (w[4] == '年' || w[4] == '.')
            && matches!(w[0], '1' | '2')
    })
}

fn authority(r: &mut Reading, text: &Text) {
    let chars: Vec<(char, u8)> = text
        .chars()
        .into_iter()
        .filter(|(c, _)| is_han(*c) || c.is_ascii_alphanumeric())
        .collect();
    let value: String = chars.iter().map(|(c, _)| *c).collect();
    let bureau = value.contains("公安局") || value.contains("公安分局");
    if !bureau || !value.ends_with('局') || value.chars().any(|c| c.is_ascii_digit()) {
        r.problem = Some(format!("“{value}”不像签发机关（某某公安局或分局）"));
        return;
    }
    if !(5..=24).contains(&value.chars().count()) {
        r.problem = Some(format!("“{value}”长短不像签发机关"));
        return;
    }
    if let Some(unsure) = unsure_chars(&chars) {
        r.problem = Some(format!("签发机关中“{unsure}”认不准"));
        r.confidence = r.confidence.min(40);
        return;
    }
    r.shown = value.clone();
    r.value = Some(value);
}

/// Split the validity line (`2015.01.01-2035.01.01`, `2015.01.01-长期`) into its two
/// halves, from plain text with one confidence.
pub fn validity(text: &str, confidence: u8) -> (Reading, Reading) {
    validity_text(&Text::plain(text, confidence))
}

/// The first day a card's term can have started on: resident ID cards were first issued in
/// 1984 (first generation); no card now valid started earlier.
pub fn earliest_start() -> NaiveDate {
    NaiveDate::from_ymd_opt(1984, 1, 1).expect("a date")
}

/// Split the validity line the engine read into its two halves, each checked: the start
/// within the dates a card can have been issued on, the end its term after the start.
pub fn validity_text(text: &Text) -> (Reading, Reading) {
    let raw = text.joined();
    let confidence = text.confidence();
    let split = raw
        .find(['-', '－', '—', '一', '~'])
        .map(|i| (&raw[..i], &raw[i..]));
    let (from, until) = match split {
        Some((a, b)) => (a.to_owned(), b.chars().skip(1).collect::<String>()),
        None => {
            // No dash read: the first eight digits are the start.
            let digits: Vec<char> = raw.chars().filter(char::is_ascii_digit).collect();
            if digits.len() >= 8 {
                let from: String = digits[..8].iter().collect();
                let rest: String = if digits.len() >= 16 {
                    digits[8..].iter().collect()
                } else {
                    raw.chars().skip_while(|c| !is_han(*c)).collect()
                };
                (from, rest)
            } else {
                (raw.clone(), String::new())
            }
        }
    };
    let mut from = interpret(CardField::ValidFrom, &from, confidence);
    let mut until = interpret(CardField::ValidUntil, &until, confidence);
    if let Some(start) = from
        .value
        .as_deref()
        .and_then(|v| v.parse::<NaiveDate>().ok())
    {
        let today = chrono::Local::now().date_naive();
        if start < earliest_start() || start > today {
            let why = format!(
                "有效期起始日 {start} 不可能（应在 1984 年以后、不晚于今天）：可能读错了数字"
            );
            from.problem = Some(why.clone());
            until.problem.get_or_insert(why);
        }
    }
    if until.problem.is_none() && from.problem.is_none() {
        until.problem = validity_problem(
            from.value.as_deref().unwrap_or_default(),
            until.value.as_deref().unwrap_or_default(),
        );
        // Two dates a card's term apart (or 长期 after a possible start) vouch for each other.
        if until.problem.is_none() {
            from.confidence = from.confidence.max(85);
            until.confidence = until.confidence.max(85);
        } else {
            from.problem.clone_from(&until.problem);
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
    let years = u.year() - f.year();
    if [5, 10, 20].contains(&years) && (u.month(), u.day()) == (f.month(), f.day()) {
        None
    } else {
        Some(format!(
            "有效期 {f}—{u} 不是 5、10 或 20 年（可能读错了数字）"
        ))
    }
}

/// The term a card issued on `start` to someone born on `birth` has (居民身份证法 第五条):
/// under 16 five years, 16–25 ten, 26–45 twenty, 46 and over long term. `None`: 长期.
fn term_years(birth: NaiveDate, start: NaiveDate) -> Option<i32> {
    let age = start.years_since(birth).map_or(-1, |a| a as i32);
    match age {
        ..16 => Some(5),
        16..=25 => Some(10),
        26..=45 => Some(20),
        _ => None,
    }
}

/// The validity read from the back checked against the holder's birth date (read from the
/// front or typed): the term must be the one the law gives at that age (with three months'
/// grace for a card applied for just before a birthday).
pub fn check_term(readings: &mut [Reading], birth: NaiveDate) {
    let get = |rs: &[Reading], f: CardField| {
        rs.iter()
            .find(|r| r.field == f)
            .and_then(|r| r.usable().map(str::to_owned))
    };
    let (Some(from), Some(until)) = (
        get(readings, CardField::ValidFrom),
        get(readings, CardField::ValidUntil),
    ) else {
        return;
    };
    let Ok(start) = from.parse::<NaiveDate>() else {
        return;
    };
    let read_years = until
        .parse::<NaiveDate>()
        .ok()
        .map(|u| u.year() - start.year());
    let fits = |d: NaiveDate| term_years(birth, d) == read_years;
    if start < birth || !(fits(start) || fits(start - chrono::Duration::days(92))) {
        let why = match read_years {
            None => format!("出生于 {birth} 的人在 {start} 领的证不会是长期：可能读错了数字"),
            Some(y) => format!("出生于 {birth} 的人在 {start} 领的证不是 {y} 年期：可能读错了数字"),
        };
        for r in readings.iter_mut() {
            if matches!(r.field, CardField::ValidFrom | CardField::ValidUntil) {
                r.problem = Some(why.clone());
            }
        }
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
        if r.value.as_deref() == Some(expected.as_str()) && r.problem.is_none() {
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

/// `1990年1月31日`, `1990 1 31` (the 年月日 printed in blue drop out of a colour photo),
/// or the digits of it with the characters misread; within the possible range.
fn birth_date(raw: &str) -> Option<NaiveDate> {
    let groups: Vec<u32> = raw
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .filter_map(|g| g.parse().ok())
        .collect();
    let date = match groups.as_slice() {
        [y, m, d] => NaiveDate::from_ymd_opt(*y as i32, *m, *d),
        [all] if raw.len() == 8 => {
            let all = format!("{all:08}");
            NaiveDate::parse_from_str(&all, "%Y%m%d").ok()
        }
        _ => None,
    }?;
    let today = chrono::Local::now().date_naive();
    (date.year() >= 1890 && date <= today).then_some(date)
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
    fn ethnic_groups_only_by_their_whole_name_never_guessed() {
        let r = interpret(CardField::Ethnicity, "女 民族 汉", 90);
        assert_eq!((r.usable(), r.shown.as_str()), (Some("01"), "汉族"));
        // A colour photo drops the blue label: the row is the gender and the group.
        let r = interpret(CardField::Ethnicity, "男 维吾尔", 90);
        assert_eq!(r.usable(), Some("05"));
        // One character misread is not guessed at: 维吾示 is no group.
        let r = interpret(CardField::Ethnicity, "男 民族 维吾示", 90);
        assert_eq!(r.usable(), None);
        assert!(r.problem.unwrap().contains("不是五十六个民族之一"));
        let r = interpret(CardField::Ethnicity, "女 火星", 90);
        assert_eq!(r.usable(), None);
        // Every one of the 56 is taken as printed (without 族).
        for g in &refdata().ethnic_groups {
            let row = format!("男 {}", g.name.trim_end_matches('族'));
            assert_eq!(
                interpret(CardField::Ethnicity, &row, 90).usable(),
                Some(g.code),
                "{row}"
            );
        }
    }

    #[test]
    fn gender_from_its_row() {
        assert_eq!(
            interpret(CardField::Gender, "男 民族 汉", 90).usable(),
            Some("male")
        );
        assert_eq!(
            interpret(CardField::Gender, "性别女", 90).usable(),
            Some("female")
        );
        assert_eq!(interpret(CardField::Gender, "另 汉", 90).usable(), None);
    }

    #[test]
    fn names_that_are_no_names_are_withheld() {
        for bad in ["一一一", "上口中", "口口", "王", "王小明明明", "1234"] {
            let r = interpret(CardField::Name, bad, 95);
            assert_eq!(r.usable(), None, "{bad}: {r:?}");
            assert!(r.problem.is_some());
        }
        for good in [
            "王小明",
            "欧阳娜娜",
            "许秋",
            "诸葛亮",
            "王一博",
            "李建中",
            "阿依古丽·买买提",
        ] {
            assert_eq!(interpret(CardField::Name, good, 95).usable(), Some(good));
        }
    }

    #[test]
    fn a_name_two_readings_disagree_on_is_withheld() {
        // 许秋堃: chi_sim has no 堃; it reads 生 at one size and 坐 at another, each sure.
        let one = Text::plain("许秋生", 92);
        let other = Text::plain("许秋坐", 90);
        let r = interpret_text(CardField::Name, &one.agreed_with(&other));
        assert_eq!(r.usable(), None);
        assert!(r.problem.unwrap().contains("“生”认不准"));
        // Agreed, it is offered.
        let again = Text::plain("许秋生", 88);
        let r = interpret_text(CardField::Name, &one.agreed_with(&again));
        assert_eq!(r.usable(), Some("许秋生"));
        // A stray comma in one reading is no disagreement; a missing character is.
        let comma = Text::plain("许秋生，", 88);
        assert!(one.agreed_with(&comma).fully_agreed());
        assert!(!one.agreed_with(&Text::plain("许秋", 99)).fully_agreed());
    }

    /// A text as the PP-OCRv5 model gives it: each character with its own probability.
    fn model_text(chars: &[(char, u8)]) -> Text {
        Text {
            words: vec![Word {
                text: chars.iter().map(|(c, _)| *c).collect(),
                confidence: chars.iter().map(|(_, p)| *p).min().unwrap_or(0),
                chars: chars.to_vec(),
            }],
        }
    }

    #[test]
    fn the_model_is_sure_alone_or_where_tesseract_reads_the_same() {
        // 彧: the model sure of it, Tesseract (which lacks it) sure of 或: the model's stands.
        let model = model_text(&[('诸', 99), ('葛', 99), ('宝', 98), ('彧', 96)]);
        let tess = Text::plain("诸葛宝或", 90);
        let r = interpret_text(CardField::Name, &model.clone().confirmed_by(&tess, 90));
        assert_eq!(r.usable(), Some("诸葛宝彧"));
        // 强 unsure in the model (0.79) but read the same by Tesseract: sure.
        let model = model_text(&[('赵', 100), ('永', 100), ('强', 79)]);
        let r = interpret_text(
            CardField::Name,
            &model.clone().confirmed_by(&Text::plain("赵永强", 80), 90),
        );
        assert_eq!(r.usable(), Some("赵永强"));
        // Read differently, or Tesseract unsure, or the texts of different lengths: withheld,
        // naming only the unsure character.
        for tess in [
            Text::plain("赵永弓", 95),
            Text::plain("赵永强", 20),
            Text::plain("赵永强强", 95),
        ] {
            let r = interpret_text(CardField::Name, &model.clone().confirmed_by(&tess, 90));
            assert_eq!(r.usable(), None, "{tess:?}");
            assert!(r.problem.unwrap().contains("“强”认不准"));
        }
        // Alone, floored: the same.
        let r = interpret_text(CardField::Name, &model.floored(90));
        assert!(r.problem.unwrap().contains("“强”认不准"));
    }

    #[test]
    fn addresses_and_authorities_must_look_like_them() {
        let ok = "北京市西城区西长安街7号院3号楼2单元101";
        assert_eq!(interpret(CardField::Address, ok, 95).usable(), Some(ok));
        for bad in [
            "1964年Ju北京市西城区西长安街",
            "西城区西长安街7号",
            "北京市1964年5月",
            "北京市昌平区学院路126号院9号楼3单元50工",
        ] {
            assert_eq!(
                interpret(CardField::Address, bad, 95).usable(),
                None,
                "{bad}"
            );
        }
        let ok = "北京市公安局朝阳分局";
        assert_eq!(interpret(CardField::Authority, ok, 95).usable(), Some(ok));
        for bad in ["2007.11.18-2027.11.18", "北京市朝阳区", "北京市公安局2分局"] {
            assert_eq!(
                interpret(CardField::Authority, bad, 95).usable(),
                None,
                "{bad}"
            );
        }
    }

    #[test]
    fn a_validity_start_a_card_cannot_have_is_withheld_even_with_long_term() {
        let (f, u) = validity("2709.01.03-长期", 95);
        assert_eq!((f.usable(), u.usable()), (None, None));
        let (f, _) = validity("1979.01.03-1999.01.03", 95);
        assert_eq!(f.usable(), None);
        let (f, u) = validity("2009.01.03-长期", 95);
        assert_eq!(
            (f.usable(), u.usable()),
            (Some("2009-01-03"), Some("long_term"))
        );
    }

    #[test]
    fn the_term_must_be_the_one_the_law_gives_at_that_age() {
        let birth = NaiveDate::from_ymd_opt(1950, 6, 1).unwrap();
        // 59 at issue: long term.
        let (f, u) = validity("2009.01.03-长期", 95);
        let mut rs = vec![f, u];
        check_term(&mut rs, birth);
        assert!(rs.iter().all(|r| r.usable().is_some()));
        // 20 years at 59: a digit was misread somewhere.
        let (f, u) = validity("2009.01.03-2029.01.03", 95);
        let mut rs = vec![f, u];
        check_term(&mut rs, birth);
        assert!(rs.iter().all(|r| r.usable().is_none()));
        // Born 1990, issued at 30: twenty years, not long term.
        let birth = NaiveDate::from_ymd_opt(1990, 6, 1).unwrap();
        let (f, u) = validity("2020.07.01-长期", 95);
        let mut rs = vec![f, u];
        check_term(&mut rs, birth);
        assert!(rs[1].problem.as_deref().unwrap().contains("不会是长期"));
    }

    #[test]
    fn hocr_words_and_characters_with_their_confidences() {
        let hocr = "<span class='ocrx_word' id='word_1_1' title='bbox 11 7 139 47; x_wconf 72'>\n\
            <span class='ocrx_cinfo' title='x_bboxes 11 7 139 47; x_conf 96.1'>曹</span>\n\
            </span><span class='ocrx_word' id='word_1_3' title='bbox 103 3 143 60; x_wconf 0'>\n\
            <span class='ocrx_cinfo' title='x_bboxes 103 3 143 60; x_conf 68.8'>表</span></span>";
        let t = Text::from_hocr(hocr);
        assert_eq!(t.joined(), "曹表");
        assert_eq!(t.words[0].confidence, 72);
        assert_eq!(t.words[1].chars, vec![('表', 69)]);
        assert_eq!(t.confidence(), 0);
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
        let r = interpret(CardField::Name, "王小明|", 90);
        assert_eq!(r.usable(), Some("王小明"));
        assert_eq!(interpret(CardField::Name, "", 90).usable(), None);
    }
}
