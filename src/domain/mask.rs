//! Masking for lists and exports: what a masked view shows lets the clerk tell
//! applications apart and nothing more. In particular nothing beside a masked ID number
//! restores its hidden digits: those eight are the birth date, so a masked view shows the
//! birth year at most, and never a photo's file name (which may hold the number).

use super::application::Application;

/// Hide the middle of a number: the first `keep_front` and last `keep_back` characters stay,
/// the rest become `*`; whitespace is dropped. Anything too short to leave some of it hidden
/// is hidden entirely.
pub fn mask_middle(text: &str, keep_front: usize, keep_back: usize) -> String {
    let chars: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    let n = chars.len();
    if n < keep_front + keep_back + 2 {
        return "*".repeat(n);
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < keep_front || i >= n - keep_back {
                *c
            } else {
                '*'
            }
        })
        .collect()
}

/// Mask an ID number for lists: the region code and the last 4 characters stay
/// (`110105********002X`).
pub fn mask_id(number: &str) -> String {
    mask_middle(number, 6, 4)
}

/// Mask a mobile number for lists: 138****8000.
pub fn mask_mobile(mobile: &str) -> String {
    mask_middle(mobile, 3, 4)
}

/// A birth date as a masked view may show it: the year only (`1949-**-**`).
pub fn mask_birth_date(date: &str) -> String {
    let date = date.trim();
    match date.get(..4) {
        Some(year) if year.bytes().all(|b| b.is_ascii_digit()) => format!("{year}-**-**"),
        _ if date.is_empty() => String::new(),
        _ => "****-**-**".into(),
    }
}

/// The application as a masked view shows it: ID number, mobiles, birth date and the
/// photos' file names hidden. Everything masked lists, `drafts show` and exports print
/// without `--reveal` comes from this copy.
pub fn masked(app: &Application) -> Application {
    let mut m = app.clone();
    let a = &mut m.applicant;
    a.id_number = mask_id(a.id_number.trim());
    a.mobile = mask_mobile(&a.mobile);
    a.birth_date = mask_birth_date(&a.birth_date);
    m.pickup.mail.recipient_mobile = mask_mobile(&m.pickup.mail.recipient_mobile);
    for field in super::Photos::FIELDS {
        if let Some(Some(p)) = m.photos.slot_mut(field) {
            p.source_name = None;
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_masked_digits_are_not_given_back_beside_them() {
        let mut app = crate::domain::synthetic::application(
            &mut crate::domain::synthetic::Rng::new(5),
            chrono::Utc::now(),
            0,
        );
        app.photos.card_photo = Some(crate::domain::PhotoRef {
            sha256: "a".repeat(64),
            source_name: Some(format!("{}.jpg", app.applicant.id_number)),
        });
        let id = app.applicant.id_number.clone();
        let json = serde_json::to_string(&masked(&app)).unwrap();
        assert!(!json.contains(&id), "{json}");
        // The eight hidden digits are the birth date: not in any form.
        let hidden = &id[6..14];
        let dashed = format!("{}-{}-{}", &id[6..10], &id[10..12], &id[12..14]);
        assert!(!json.contains(hidden) && !json.contains(&dashed), "{json}");
        assert!(json.contains(&format!("{}-**-**", &id[6..10])));
    }

    proptest! {
        #[test]
        fn a_masked_number_keeps_only_its_ends(s in "[0-9X]{18}") {
            let m = mask_id(&s);
            prop_assert_eq!(&m[..6], &s[..6]);
            prop_assert_eq!(&m[14..], &s[14..]);
            prop_assert_eq!(&m[6..14], "********");
        }
    }
}
