//! Masking numbers for lists and exports: what a masked view shows lets the clerk tell
//! applications apart and nothing more (`display::masked` masks a whole application).

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

/// A birth date as a masked view shows it: not at all (`****-**-**`). The masked ID
/// number hides exactly the birth date; a year beside it would leave a few dozen
/// candidates for the hidden digits.
pub fn mask_birth_date(date: &str) -> String {
    if date.trim().is_empty() {
        String::new()
    } else {
        "****-**-**".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
