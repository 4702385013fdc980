//! Argon2id: a password (or a delivery secret) made into a key-encryption key. The
//! parameters are chosen once per PC (`calibrate`: about 0.3 s, 64 MiB where the PC can
//! spare it) and kept with each slot as a PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt`),
//! so that a slot made on one PC opens on another.

use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use zeroize::Zeroizing;

/// Argon2id's cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kdf {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

/// What calibration aims for.
const TARGET: Duration = Duration::from_millis(300);
/// Memory where the PC can spare it; 19 MiB (OWASP's floor for Argon2id) where it cannot.
const FULL_MEMORY_KIB: u32 = 64 * 1024;
const LOW_MEMORY_KIB: u32 = 19 * 1024;

impl Kdf {
    /// Cheap parameters, for tests only: they make a password easy to guess.
    pub const FOR_TESTS: Kdf = Kdf {
        m_kib: 256,
        t: 1,
        p: 1,
    };

    /// Parameters that take about 0.3 s on this PC: 64 MiB (19 MiB if that cannot be
    /// had), one lane, and as many passes as fit.
    pub fn calibrate() -> Kdf {
        let m_kib = if can_allocate(FULL_MEMORY_KIB) {
            FULL_MEMORY_KIB
        } else {
            LOW_MEMORY_KIB
        };
        let mut kdf = Kdf { m_kib, t: 1, p: 1 };
        // The first run pays for faulting the memory in; time the ones after it, and take
        // the fastest (another program on the PC only ever makes a run slower).
        let _ = kdf.time_once();
        let one = (0..3).map(|_| kdf.time_once()).min().unwrap_or_default();
        // Time grows linearly with passes; take the number that reaches the target.
        let passes = (TARGET.as_secs_f64() / one.as_secs_f64().max(1e-6)).round() as u32;
        kdf.t = passes.clamp(1, 10);
        kdf
    }

    fn time_once(&self) -> Duration {
        let started = Instant::now();
        let _ = self.derive(b"calibration", &[0u8; 16]);
        started.elapsed()
    }

    fn argon2(&self) -> Argon2<'static> {
        let params = Params::new(self.m_kib, self.t, self.p, Some(32)).expect("valid parameters");
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    /// The 32-byte key derived from `secret` with `salt`.
    pub fn derive(&self, secret: &[u8], salt: &[u8]) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        self.argon2()
            .hash_password_into(secret, salt, &mut out[..])
            .expect("Argon2 with valid parameters and a 16-byte salt");
        out
    }

    /// These parameters and `salt` as a PHC string without a hash.
    pub fn phc(&self, salt: &[u8; 16]) -> String {
        let salt = SaltString::encode_b64(salt).expect("a 16-byte salt");
        format!(
            "$argon2id$v=19$m={},t={},p={}${}",
            self.m_kib,
            self.t,
            self.p,
            salt.as_str()
        )
    }

    /// The parameters and salt of a PHC string, if it is a sane Argon2id one (bounds keep a
    /// crafted file from asking for terabytes or hours).
    pub fn from_phc(phc: &str) -> Option<(Kdf, Vec<u8>)> {
        let hash = PasswordHash::new(phc).ok()?;
        if hash.algorithm.as_str() != "argon2id" {
            return None;
        }
        let params = Params::try_from(&hash).ok()?;
        let kdf = Kdf {
            m_kib: params.m_cost(),
            t: params.t_cost(),
            p: params.p_cost(),
        };
        if kdf.m_kib > 1024 * 1024 || kdf.t > 64 || kdf.p > 16 {
            return None;
        }
        let mut salt = [0u8; 64];
        let salt = hash.salt?.decode_b64(&mut salt).ok()?.to_vec();
        if salt.len() < 16 {
            return None;
        }
        Some((kdf, salt))
    }
}

impl Kdf {
    /// A password's Argon2id hash as a PHC string, with a fresh salt (a centre's store
    /// keeps it in the operators table: there are no key slots on a server).
    pub fn hash_password(&self, password: &[u8]) -> String {
        let salt = super::secret::random::<16>();
        let hash = self.derive(password, &salt);
        let b64 = |b: &[u8]| {
            argon2::password_hash::Output::new(b)
                .expect("32 bytes")
                .to_string()
        };
        format!("{}${}", self.phc(&salt), b64(&hash[..]))
    }

    /// Whether `password` matches a PHC string from `hash_password` (false for anything
    /// malformed or with parameters out of bounds). Takes the parameters' time either way.
    pub fn verify_password(phc: &str, password: &[u8]) -> bool {
        let Some((kdf, salt)) = Kdf::from_phc(phc) else {
            let _ = Kdf::FOR_TESTS.derive(password, &[0u8; 16]);
            return false;
        };
        let Ok(parsed) = PasswordHash::new(phc) else {
            return false;
        };
        let Some(expected) = parsed.hash else {
            return false;
        };
        let actual = kdf.derive(password, &salt);
        // Compared in constant time: every byte, whatever the first difference.
        let expected = expected.as_bytes();
        expected.len() == actual.len()
            && expected
                .iter()
                .zip(actual.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

/// Whether `kib` of memory can be had (and touched) now.
fn can_allocate(kib: u32) -> bool {
    let mut v: Vec<u8> = Vec::new();
    if v.try_reserve_exact(kib as usize * 1024).is_err() {
        return false;
    }
    v.resize(kib as usize * 1024, 1);
    v[v.len() - 1] == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_and_salt_survive_their_phc_string() {
        let salt = [7u8; 16];
        let phc = Kdf::FOR_TESTS.phc(&salt);
        assert!(phc.starts_with("$argon2id$v=19$m=256,t=1,p=1$"), "{phc}");
        let (kdf, back) = Kdf::from_phc(&phc).unwrap();
        assert_eq!(kdf, Kdf::FOR_TESTS);
        assert_eq!(back, salt);
    }

    #[test]
    fn a_password_hash_verifies_only_its_password() {
        let phc = Kdf::FOR_TESTS.hash_password(b"secret-1");
        assert!(phc.starts_with("$argon2id$v=19$m=256,t=1,p=1$"), "{phc}");
        assert!(Kdf::verify_password(&phc, b"secret-1"));
        assert!(!Kdf::verify_password(&phc, b"secret-2"));
        assert!(!Kdf::verify_password("garbage", b"secret-1"));
        assert_ne!(phc, Kdf::FOR_TESTS.hash_password(b"secret-1"), "salted");
    }

    #[test]
    fn crafted_parameters_are_refused() {
        assert!(
            Kdf::from_phc("$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA").is_none()
        );
        assert!(Kdf::from_phc("$argon2i$v=19$m=256,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA").is_none());
        assert!(Kdf::from_phc("nonsense").is_none());
    }

    #[test]
    fn the_same_secret_and_salt_give_the_same_key_and_others_do_not() {
        let a = Kdf::FOR_TESTS.derive(b"password", &[1; 16]);
        assert_eq!(*a, *Kdf::FOR_TESTS.derive(b"password", &[1; 16]));
        assert_ne!(*a, *Kdf::FOR_TESTS.derive(b"passwore", &[1; 16]));
        assert_ne!(*a, *Kdf::FOR_TESTS.derive(b"password", &[2; 16]));
    }
}
