//! Which of an application's photos: the one name for it in the model, the store, the
//! photo checks, the form and the command line. Three are the applicant's and go to the
//! central API; a 代办 application may add two of its own, kept at the centre.

use serde::{Deserialize, Serialize};

use super::Field;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoSlot {
    /// 制卡照片: printed on the card.
    CardPhoto,
    /// 身份证正面 (the side with the portrait).
    IdFront,
    /// 身份证背面 (the side with the issuing authority and validity).
    IdBack,
    /// 代办人身份证 (代办 only; the side with the portrait).
    AgentIdCard,
    /// 委托书或关系证明 (代办 only): a letter or a document, photographed or scanned.
    Authorisation,
}

impl PhotoSlot {
    /// In the form's order.
    pub const ALL: [PhotoSlot; 5] = [
        PhotoSlot::AgentIdCard,
        PhotoSlot::Authorisation,
        PhotoSlot::IdFront,
        PhotoSlot::IdBack,
        PhotoSlot::CardPhoto,
    ];

    /// The applicant's three, which every application needs and the central API receives.
    pub const APPLICANT: [PhotoSlot; 3] =
        [PhotoSlot::IdFront, PhotoSlot::IdBack, PhotoSlot::CardPhoto];

    /// Its key in the application's JSON (`photos.<key>`) and in the store.
    pub fn key(self) -> &'static str {
        match self {
            PhotoSlot::CardPhoto => "card_photo",
            PhotoSlot::IdFront => "id_front",
            PhotoSlot::IdBack => "id_back",
            PhotoSlot::AgentIdCard => "agent_id_card",
            PhotoSlot::Authorisation => "authorisation",
        }
    }

    pub fn from_key(key: &str) -> Option<PhotoSlot> {
        PhotoSlot::ALL.into_iter().find(|s| s.key() == key)
    }

    /// The form's field for it.
    pub fn field(self) -> Field {
        match self {
            PhotoSlot::CardPhoto => Field::CardPhoto,
            PhotoSlot::IdFront => Field::IdFrontPhoto,
            PhotoSlot::IdBack => Field::IdBackPhoto,
            PhotoSlot::AgentIdCard => Field::AgentIdPhoto,
            PhotoSlot::Authorisation => Field::AuthorisationPhoto,
        }
    }

    /// The slot a photo field fills (`None` for any other field).
    pub fn of(field: Field) -> Option<PhotoSlot> {
        PhotoSlot::ALL.into_iter().find(|s| s.field() == field)
    }

    /// What the clerk calls it: the field's label.
    pub fn label(self) -> &'static str {
        self.field().label()
    }

    /// The label without 照片, where the photo itself is beside it.
    pub fn short_label(self) -> &'static str {
        match self {
            PhotoSlot::CardPhoto => "制卡照片",
            PhotoSlot::IdFront => "身份证正面",
            PhotoSlot::IdBack => "身份证背面",
            PhotoSlot::AgentIdCard => "代办人身份证",
            PhotoSlot::Authorisation => "委托书或关系证明",
        }
    }

    /// A photo of a document (an ID card, a letter), not the card photo.
    pub fn is_document(self) -> bool {
        self != PhotoSlot::CardPhoto
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_field_and_key_go_both_ways() {
        for slot in PhotoSlot::ALL {
            assert_eq!(PhotoSlot::of(slot.field()), Some(slot));
            assert_eq!(PhotoSlot::from_key(slot.key()), Some(slot));
            let json = serde_json::to_string(&slot).unwrap();
            assert_eq!(json, format!("\"{}\"", slot.key()));
        }
        assert_eq!(PhotoSlot::of(Field::Name), None);
        assert_eq!(PhotoSlot::CardPhoto.label(), "制卡照片");
    }
}
