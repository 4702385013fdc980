//! Secrets in memory: the data key and passwords, wiped when dropped, never printed.

use data_encoding::{Encoding, Specification};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::{Zeroize, Zeroizing};

/// The store's data key: 32 random bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct DataKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(****)")
    }
}

/// Why a typed recovery key was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecoveryKeyError {
    #[error("恢复密钥应为 14 组、每组 4 个字母或数字（共 56 个）：请对照纸上抄写的逐组输入")]
    Length,
    #[error("恢复密钥中有无效的字符：只有数字和字母（不含 I、L、O、U）")]
    Character,
    #[error("恢复密钥的校验不符：有一组抄错或输错了，请逐组核对")]
    Check,
}

/// Crockford's base32 alphabet (no I, L, O, U), read case-insensitively with the usual
/// look-alikes (O→0, I/L→1).
fn crockford() -> Encoding {
    let mut spec = Specification::new();
    spec.symbols.push_str("0123456789ABCDEFGHJKMNPQRSTVWXYZ");
    spec.translate.from.push_str("abcdefghjkmnpqrstvwxyzOoIiLl");
    spec.translate.to.push_str("ABCDEFGHJKMNPQRSTVWXYZ001111");
    spec.encoding().expect("a valid base32 alphabet")
}

impl DataKey {
    /// A new random key.
    pub fn generate() -> DataKey {
        let mut bytes = Zeroizing::new([0u8; 32]);
        SystemRandom::new()
            .fill(&mut bytes[..])
            .expect("the system's random number generator");
        DataKey(bytes)
    }

    pub fn from_bytes(bytes: [u8; 32]) -> DataKey {
        DataKey(Zeroizing::new(bytes))
    }

    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The key as SQLCipher takes a raw key: `x'…'` (64 hex digits), used as is without
    /// SQLCipher's own key derivation.
    pub fn sqlcipher_key(&self) -> Zeroizing<String> {
        let mut s = Zeroizing::new(String::with_capacity(67));
        s.push_str("x'");
        for b in self.0.iter() {
            s.push_str(&format!("{b:02x}"));
        }
        s.push('\'');
        s
    }

    /// The recovery key as the supervisor writes it down: the 32 bytes and a three-byte
    /// check (of SHA-256) in base32, 14 groups of 4 (`7K2Q-…`).
    pub fn recovery_text(&self) -> Zeroizing<String> {
        let mut raw = Zeroizing::new(Vec::with_capacity(35));
        raw.extend_from_slice(&self.0[..]);
        raw.extend_from_slice(&check(&self.0));
        let symbols = Zeroizing::new(crockford().encode(&raw)); // 35 bytes → 56 symbols
        let mut out = Zeroizing::new(String::with_capacity(70));
        for (i, chunk) in symbols.as_bytes().chunks(4).enumerate() {
            if i > 0 {
                out.push('-');
            }
            out.push_str(std::str::from_utf8(chunk).expect("base32 is ASCII"));
        }
        out
    }

    /// The key from a recovery key as typed (groups, spaces and case as the clerk likes).
    pub fn from_recovery_text(text: &str) -> Result<DataKey, RecoveryKeyError> {
        let symbols: Zeroizing<String> = Zeroizing::new(
            text.chars()
                .filter(|c| !c.is_whitespace() && *c != '-')
                .collect(),
        );
        if symbols.chars().count() != 56 {
            return Err(RecoveryKeyError::Length);
        }
        let raw = Zeroizing::new(
            crockford()
                .decode(symbols.as_bytes())
                .map_err(|_| RecoveryKeyError::Character)?,
        );
        let mut key = [0u8; 32];
        key.copy_from_slice(&raw[..32]);
        let ok = raw[32..] == check(&key);
        let key = DataKey::from_bytes(key);
        if !ok {
            return Err(RecoveryKeyError::Check);
        }
        Ok(key)
    }
}

fn check(key: &[u8; 32]) -> [u8; 3] {
    let digest = ring::digest::digest(&ring::digest::SHA256, key);
    let d = digest.as_ref();
    [d[0], d[1], d[2]]
}

/// A password as typed: wiped when dropped, never shown.
#[derive(Clone, PartialEq, Eq, Zeroize)]
#[zeroize(drop)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(****)")
    }
}

impl Password {
    pub fn new(text: impl Into<String>) -> Password {
        Password(text.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Why this password may not be set, or `None`: at least `min_len` characters, or at
    /// the default length (8 or less) a numeric PIN of at least 6 digits; a centre that
    /// asks for more gets it of PINs too (a PIN is digits: its length is all it has). No
    /// control characters; at most 128 characters.
    pub fn problem(&self, min_len: usize) -> Option<String> {
        let n = self.0.chars().count();
        if self.0.chars().any(char::is_control) {
            return Some("密码不能含控制字符".into());
        }
        if n > 128 {
            return Some("密码太长：最多 128 个字符".into());
        }
        let pin_min = if min_len <= 8 { 6 } else { min_len };
        let pin = n >= pin_min && self.0.chars().all(|c| c.is_ascii_digit());
        if n < min_len && !pin {
            return Some(if pin_min < min_len {
                format!("密码太短：至少 {min_len} 个字符，或至少 {pin_min} 位数字的密码（PIN）")
            } else {
                format!("密码太短：至少 {min_len} 个字符（数字密码也是）")
            });
        }
        if self.0.trim().is_empty() {
            return Some("密码不能为空".into());
        }
        None
    }
}

/// Random bytes from the system.
pub(crate) fn random<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    SystemRandom::new()
        .fill(&mut out)
        .expect("the system's random number generator");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_recovery_key_reads_back_as_written_in_any_case_and_spacing() {
        let key = DataKey::generate();
        let text = key.recovery_text();
        assert_eq!(text.len(), 14 * 4 + 13, "{}", *text);
        assert_eq!(DataKey::from_recovery_text(&text).unwrap(), key);
        let spaced = text.replace('-', " ").to_lowercase();
        assert_eq!(DataKey::from_recovery_text(&spaced).unwrap(), key);
    }

    #[test]
    fn a_recovery_key_with_a_group_missing_or_a_bad_letter_is_refused() {
        let key = DataKey::generate();
        let text = key.recovery_text();
        assert_eq!(
            DataKey::from_recovery_text(&text[5..]).unwrap_err(),
            RecoveryKeyError::Length
        );
        let bad = format!("U{}", &text[1..]);
        assert_eq!(
            DataKey::from_recovery_text(&bad).unwrap_err(),
            RecoveryKeyError::Character
        );
    }

    #[test]
    fn passwords_need_length_or_six_digits_and_no_control_characters() {
        assert!(Password::new("12345").problem(8).is_some());
        assert!(Password::new("123456").problem(8).is_none());
        assert!(Password::new("abcdefg").problem(8).is_some());
        assert!(Password::new("abcdefgh").problem(8).is_none());
        assert!(Password::new("abc\u{1b}[2Jdefgh").problem(8).is_some());
        assert!(Password::new("x".repeat(129)).problem(8).is_some());
        assert!(Password::new("        ").problem(8).is_some());
        // A centre that asks for 16 gets 16 of a PIN too (M2: a birthday as a PIN).
        assert!(Password::new("19750314").problem(16).is_some());
        assert!(Password::new("1975031419750314").problem(16).is_none());
        assert_eq!(format!("{:?}", Password::new("secret")), "Password(****)");
    }

    proptest! {
        /// A mistyped symbol is caught by the check: it never yields a key.
        #[test]
        fn a_mistyped_symbol_is_caught(i in 0usize..56, sym in 0usize..32) {
            let key = DataKey::generate();
            let text: String = key.recovery_text().replace('-', "");
            let alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ".as_bytes();
            let mut bytes = text.into_bytes();
            prop_assume!(bytes[i] != alphabet[sym]);
            bytes[i] = alphabet[sym];
            let typed = String::from_utf8(bytes).unwrap();
            prop_assert!(DataKey::from_recovery_text(&typed).is_err());
        }
    }
}
