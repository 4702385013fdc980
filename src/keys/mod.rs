//! Who can open the store. The store is encrypted (SQLCipher) with a random 256-bit data
//! key that is never written down as such. It is kept wrapped, once per operator, under a
//! key derived from that operator's password with Argon2id: a key slot, as LUKS has them.
//! A copied store file, with or without its slots, opens only with an operator's password
//! (or the recovery key, which is the data key itself, shown once at set-up for the
//! supervisor to keep on paper). A delivery-only slot lets `sbk sync` from cron open the
//! store with a secret kept in a private file instead of a password.
//!
//! The slots live in `keys.json` beside the store (0600), with the sign-in attempts that
//! lock an account and the events to put in the audit log when the store is next open (a
//! failed sign-in happens before the store can be read). Changes to the file take a lock
//! (`keys.lock`) and are written atomically, so that several processes share it.
//!
//! - `secret`: the data key, passwords, the recovery key's text; wiped after use.
//! - `kdf`: Argon2id parameters, calibrated on the PC, kept as PHC strings.
//! - `slots`: the file, its slots and attempts.

mod kdf;
mod secret;
mod slots;

pub use kdf::Kdf;
pub use secret::{DataKey, Password, RecoveryKeyError};
pub use slots::{
    Attempts, KEY_FILE, KeyFile, KeyFileError, LOCK_FILE, Pending, Policy, SlotKind, UNKNOWN_ID,
    Unlocked,
};
