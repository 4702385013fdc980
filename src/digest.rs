//! Content addresses: photos, audit entries, idempotency bodies and tokens are named by
//! their SHA-256. Shared by the store and the reference server (neither imports the other).

use sha2::{Digest, Sha256};

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of a hex string (either case); `None` unless it is whole pairs of hex digits.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The hash before an audit chain's first entry.
pub const AUDIT_GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An audit entry's hash: SHA-256 over the previous entry's hash and every field of this one,
/// as a JSON array (so no field can run into the next).
#[allow(clippy::too_many_arguments)]
pub fn audit_entry_hash(
    prev: &str,
    id: i64,
    at: i64,
    operator_id: &str,
    operator_name: &str,
    action: &str,
    application: Option<&str>,
    detail: Option<&str>,
) -> String {
    let fields = serde_json::json!([
        prev,
        id,
        at,
        operator_id,
        operator_name,
        action,
        application,
        detail
    ]);
    sha256_hex(fields.to_string().as_bytes())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_empty_input_has_the_known_hash() {
        assert_eq!(
            super::sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn hex_round_trips_and_refuses_what_is_not_hex() {
        let bytes = [0u8, 1, 0xab, 0xff];
        assert_eq!(super::hex(&bytes), "0001abff");
        assert_eq!(super::unhex("0001ABff"), Some(bytes.to_vec()));
        assert_eq!(super::unhex("abc"), None);
        assert_eq!(super::unhex("zz"), None);
        assert_eq!(super::unhex("é1"), None);
        assert_eq!(super::unhex(""), Some(Vec::new()));
    }
}
