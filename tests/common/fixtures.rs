//! Applications for the screen tests: the documented example with real photos, half
//! filled, with errors, returned for its photo.

use sbk_counter::domain::PhotoSlot;
use sbk_counter::domain::{Application, PhotoRef, ReturnNote, ReturnedField, Status};
use sbk_counter::store::Store;

use super::ui::now;

/// The documented example, stored with (deterministic, undecodable) photos.
pub fn complete(store: &Store) -> Application {
    let mut app: Application =
        serde_json::from_str(include_str!("../../docs/application-example.json")).unwrap();
    app.status = Status::Draft;
    for (slot, kind, name) in [
        (&mut app.photos.card_photo, PhotoSlot::CardPhoto, "card.jpg"),
        (&mut app.photos.id_front, PhotoSlot::IdFront, "front.jpg"),
        (&mut app.photos.id_back, PhotoSlot::IdBack, "back.jpg"),
    ] {
        let sha = store
            .put_photo(name.as_bytes(), kind, "image/jpeg", 358, 441)
            .unwrap();
        *slot = Some(PhotoRef {
            sha256: sha,
            source_name: Some(name.into()),
        });
    }
    app
}

pub fn half_filled(store: &Store) -> Application {
    let mut app = complete(store);
    app.applicant.ethnicity.clear();
    app.residence.address.clear();
    app.applicant.mobile = "1380013".into();
    app.photos.id_back = None;
    app.photos.card_photo = None;
    app.pickup.mail.postcode.clear();
    app.consents.declaration_agreed_at = None;
    app.consents.identity_verified_in_person_at = None;
    app
}

pub fn with_errors(store: &Store) -> Application {
    let mut app = complete(store);
    app.applicant.id_number = "110105194912310021".into();
    app.applicant.gender = Some(sbk_counter::domain::Gender::Male);
    app.applicant.id_valid_until = sbk_counter::domain::ValidUntil::Date("2020-05-01".into());
    app.applicant.mobile = "12800138000".into();
    app.residence.address = "北京".into();
    app.pickup.mail.postcode = "2000".into();
    app.pickup.mail.recipient_mobile = "1390013".into();
    app
}

/// What the reference server says of a photo it refuses after review.
pub fn photo_returned() -> ReturnNote {
    let message = "制卡照片审核未通过：背景不是纯白色，请在白色背景前重新拍摄".to_owned();
    ReturnNote {
        at: now(),
        reason: message.clone(),
        fields: vec![ReturnedField {
            path: "photos.card_photo".into(),
            message,
            corrected: false,
        }],
    }
}

/// An application the central API returned for its photo, as the progress poll leaves it.
pub fn returned_for_its_photo(store: &Store) -> Application {
    let mut app = complete(store);
    app.status = Status::Returned;
    app.application_number = Some("SQ2026112400000004".into());
    app.returned = Some(photo_returned());
    app
}

/// The documented 代办 example, stored with photos (the agent's ID card among them).
pub fn agent_complete(store: &Store) -> Application {
    let mut app: Application =
        serde_json::from_str(include_str!("../../docs/application-example-agent.json")).unwrap();
    app.status = Status::Draft;
    for (kind, name) in [
        (PhotoSlot::CardPhoto, "card.jpg"),
        (PhotoSlot::IdFront, "front.jpg"),
        (PhotoSlot::IdBack, "back.jpg"),
        (PhotoSlot::AgentIdCard, "agent-id.jpg"),
    ] {
        let sha = store
            .put_photo(name.as_bytes(), kind, "image/jpeg", 856, 540)
            .unwrap();
        *app.photo_mut(kind) = Some(PhotoRef {
            sha256: sha,
            source_name: Some(name.into()),
        });
    }
    app
}

/// 代办 just chosen: nothing of the agent typed yet.
pub fn agent_chosen(store: &Store) -> Application {
    let mut app = agent_complete(store);
    app.agent = Default::default();
    app.consents.agent_id_card_checked_at = None;
    app
}

/// 代办 with every kind of mistake: the applicant's own number, no relation, a short
/// phone, a one-character name.
pub fn agent_with_errors(store: &Store) -> Application {
    let mut app = agent_complete(store);
    app.agent.name = "李".into();
    app.agent.id_number = app.applicant.id_number.clone();
    app.agent.relation.clear();
    app.agent.mobile = "1391111".into();
    app
}

/// A 代办 application that came back for its photo: the agent stays as submitted.
pub fn agent_returned(store: &Store) -> Application {
    let mut app = agent_complete(store);
    app.status = Status::Returned;
    app.application_number = Some("SQ2026112400000009".into());
    app.returned = Some(photo_returned());
    app
}
