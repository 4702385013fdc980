//! Reading the resident ID card (居民身份证) from its photos, as the 民生一卡通 flow does
//! (第四步 (1)): name, gender, ethnicity, birth date, address and number from the portrait
//! side, issuing authority and validity from the national-emblem side.
//!
//! The parts: `layout` (where each field is on a card), `interpret` (the text an engine
//! read made into checked values, pure), `engine` (Tesseract, only with the `ocr` cargo
//! feature) and `prefill` (recognised values into an application, never over what the
//! clerk typed).

pub mod find;
pub mod interpret;
pub mod layout;
pub mod lines;
pub mod prefill;
pub mod shape;

#[cfg(feature = "ocr")]
pub mod engine;
#[cfg(feature = "ocr")]
pub mod line_model;

use serde::Serialize;

/// Which side of the card a photo shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// 人像面: the portrait side (the 民生一卡通 flow calls it 正面).
    Front,
    /// 国徽面: the national-emblem side (反面).
    Back,
}

impl Side {
    /// The side a photo slot holds (`None` for the card photo).
    pub fn of(slot: crate::domain::PhotoSlot) -> Option<Side> {
        match slot {
            crate::domain::PhotoSlot::IdFront => Some(Side::Front),
            crate::domain::PhotoSlot::IdBack => Some(Side::Back),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Side::Front => "身份证正面（人像面）",
            Side::Back => "身份证背面（国徽面）",
        }
    }
}

/// A field printed on the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CardField {
    Name,
    Gender,
    Ethnicity,
    BirthDate,
    Address,
    IdNumber,
    Authority,
    ValidFrom,
    ValidUntil,
}

impl CardField {
    pub const FRONT: [CardField; 6] = [
        CardField::Name,
        CardField::Gender,
        CardField::Ethnicity,
        CardField::BirthDate,
        CardField::Address,
        CardField::IdNumber,
    ];
    pub const BACK: [CardField; 3] = [
        CardField::Authority,
        CardField::ValidFrom,
        CardField::ValidUntil,
    ];

    pub fn label(self) -> &'static str {
        match self {
            CardField::Name => "姓名",
            CardField::Gender => "性别",
            CardField::Ethnicity => "民族",
            CardField::BirthDate => "出生",
            CardField::Address => "住址",
            CardField::IdNumber => "公民身份号码",
            CardField::Authority => "签发机关",
            CardField::ValidFrom => "有效期限起",
            CardField::ValidUntil => "有效期限止",
        }
    }

    pub fn of(side: Side) -> &'static [CardField] {
        match side {
            Side::Front => &CardField::FRONT,
            Side::Back => &CardField::BACK,
        }
    }
}

/// One field as read from the card.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reading {
    pub field: CardField,
    /// What the engine read, as it read it (whitespace removed).
    pub raw: String,
    /// The value in the form's terms (a date as 1990-01-31, an ethnic group's code,
    /// `male`/`female`, `long_term`), when the text made one that passes the field's rules.
    pub value: Option<String>,
    /// As the clerk reads it (the ethnic group's name, 男, 长期).
    pub shown: String,
    /// The engine's confidence in the text, 0–100, lowered where the value had to be
    /// guessed at (an ethnic group matched by a part of its name).
    pub confidence: u8,
    /// Why the value is not used (校验码不符, not a date), for the clerk.
    pub problem: Option<String>,
}

impl Reading {
    /// A value that can go into the form (read, checked, and confident enough).
    pub fn usable(&self) -> Option<&str> {
        if self.problem.is_some() || self.confidence < MIN_CONFIDENCE {
            return None;
        }
        self.value.as_deref()
    }
}

/// Below this, a value is shown but not filled in.
pub const MIN_CONFIDENCE: u8 = 50;

/// Everything read from one side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recognised {
    pub side: Side,
    pub readings: Vec<Reading>,
}

impl Recognised {
    pub fn get(&self, field: CardField) -> Option<&Reading> {
        self.readings.iter().find(|r| r.field == field)
    }
}

/// Whether this build can read ID cards (the `ocr` cargo feature).
pub const BUILT_IN: bool = cfg!(feature = "ocr");

/// Said where recognition is asked for in a build without it.
pub const NOT_BUILT_IN: &str =
    "此版本未包含身份证识别（构建时未启用 ocr 功能）：请按证件手工填写，其余功能不受影响";
