//! Content addresses: photos, audit entries, idempotency bodies and tokens are named by
//! their SHA-256. Shared by the store and the reference server (neither imports the other).

use sha2::{Digest, Sha256};

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
}
