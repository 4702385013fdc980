//! `keys.json`: the key slots, the sign-in attempts, and audit events waiting for the
//! store to be open.
//!
//! A slot is the data key sealed with AES-256-GCM under a key that Argon2id derives from a
//! password (or a delivery secret). The sealing binds the store's id and the slot's owner
//! as associated data, so a slot copied to another operator's name or another store does
//! not open. A wrong password and a damaged slot look the same: the seal does not open.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::kdf::Kdf;
use super::secret::{DataKey, Password, random};
use crate::digest::{hex, unhex};

/// The key slots' file, beside the store.
pub const KEY_FILE: &str = "keys.json";
/// Taken while `keys.json` is read, changed and written back.
pub const LOCK_FILE: &str = "keys.lock";
/// The longest `keys.json` read (a few hundred operators' slots fit in far less).
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Whose a slot is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SlotKind {
    /// An operator's, opened with their password.
    Operator { operator: String },
    /// Delivery's (`sbk sync` from cron), opened with a secret kept in a private file.
    Delivery,
}

impl SlotKind {
    fn aad(&self, store: Uuid) -> String {
        match self {
            SlotKind::Operator { operator } => format!("sbk-slot:{store}:operator:{operator}"),
            SlotKind::Delivery => format!("sbk-slot:{store}:delivery"),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Slot {
    #[serde(flatten)]
    kind: SlotKind,
    /// Argon2id's parameters and salt (PHC string without a hash).
    kdf: String,
    /// AES-256-GCM nonce and sealed data key with its tag, hex.
    nonce: String,
    sealed: String,
    created_at: DateTime<Utc>,
}

/// Failed sign-ins of one 工号 (known or not: an unknown one is treated alike, so that
/// the answers do not tell which 工号 exist).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempts {
    pub failed: u32,
    pub locked_until: Option<DateTime<Utc>>,
}

/// An event for the audit log that happened while the store could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub at: DateTime<Utc>,
    /// The 工号 as typed (cut to 32 characters, control characters removed).
    pub operator: String,
    /// `sign_in_failed` or `locked_out`.
    pub event: String,
}

/// Sign-in rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Wrong passwords in a row before the 工号 is locked.
    pub max_attempts: u32,
    /// How long a lock lasts.
    pub lockout: chrono::Duration,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            max_attempts: 5,
            lockout: chrono::Duration::minutes(15),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct FileBody {
    version: u32,
    store: Uuid,
    slots: Vec<Slot>,
    #[serde(default)]
    attempts: BTreeMap<String, Attempts>,
    #[serde(default)]
    pending: Vec<Pending>,
}

/// Why the slots could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("工号或密码不正确（再错 {remaining} 次，该工号将锁定 {minutes} 分钟）")]
    Wrong { remaining: u32, minutes: i64 },
    #[error("该工号已锁定：连续输错密码次数过多。请于 {} 后再试，或请负责人重置密码", .until.with_timezone(&crate::domain::dates::beijing()).format("%H:%M"))]
    Locked { until: DateTime<Utc> },
    #[error(
        "找不到密钥文件 {}：数据库无法打开。请从备份恢复 keys.json，或由负责人用恢复密钥恢复（sbk operators recover）",
        .0.display()
    )]
    Missing(PathBuf),
    #[error(
        "密钥文件 {} 已损坏，无法读取：请从备份恢复 keys.json，或由负责人用恢复密钥恢复（sbk operators recover）",
        .0.display()
    )]
    Damaged(PathBuf),
    #[error("无人值守发送的密钥不对或已被停用：请负责人重新生成（sbk operators delivery-key）")]
    WrongDeliveryKey,
    #[error("工号 {0} 已有密钥")]
    Exists(String),
    #[error("密钥文件读写失败：{0}")]
    Io(#[from] std::io::Error),
}

/// What opening a slot gives.
#[derive(Debug)]
pub struct Unlocked {
    pub key: DataKey,
    /// Events to put in the audit log now that the store can be read.
    pub pending: Vec<Pending>,
}

/// The slots of one store's data key.
pub struct KeyFile {
    dir: PathBuf,
}

impl KeyFile {
    /// The slots in `data_dir` (which need not exist yet).
    pub fn new(data_dir: &Path) -> KeyFile {
        KeyFile {
            dir: data_dir.to_owned(),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(KEY_FILE)
    }

    pub fn exists(&self) -> bool {
        self.path().exists()
    }

    /// Make `keys.json` for a new store with its first operator's slot; refuses to
    /// overwrite one that exists.
    pub fn create(
        &self,
        key: &DataKey,
        operator: &str,
        password: &Password,
        kdf: Kdf,
    ) -> Result<Uuid, KeyFileError> {
        let _lock = self.lock()?;
        if self.exists() {
            return Err(KeyFileError::Exists(operator.into()));
        }
        let store = Uuid::new_v4();
        let kind = SlotKind::Operator {
            operator: operator.into(),
        };
        let body = FileBody {
            version: 1,
            store,
            slots: vec![seal(store, kind, key, password.expose().as_bytes(), kdf)],
            attempts: BTreeMap::new(),
            pending: Vec::new(),
        };
        self.write(&body)?;
        Ok(store)
    }

    /// Make `keys.json` anew around a key known from elsewhere (the recovery key), with
    /// one operator's slot; an existing file is kept beside it as `keys.json.damaged`.
    pub fn recreate(
        &self,
        key: &DataKey,
        operator: &str,
        password: &Password,
        kdf: Kdf,
    ) -> Result<(), KeyFileError> {
        let _lock = self.lock()?;
        let store = match self.read() {
            Ok(body) => body.store,
            Err(_) => {
                if self.exists() {
                    std::fs::rename(self.path(), self.dir.join("keys.json.damaged"))?;
                }
                Uuid::new_v4()
            }
        };
        let mut body = self.read().unwrap_or(FileBody {
            version: 1,
            store,
            slots: Vec::new(),
            attempts: BTreeMap::new(),
            pending: Vec::new(),
        });
        body.slots
            .retain(|s| !matches!(&s.kind, SlotKind::Operator { operator: o } if o == operator));
        body.slots.push(seal(
            body.store,
            SlotKind::Operator {
                operator: operator.into(),
            },
            key,
            password.expose().as_bytes(),
            kdf,
        ));
        body.attempts.remove(operator);
        self.write(&body)
    }

    /// The Argon2id parameters for the next slot: the strongest any slot was made with
    /// (calibrated at set-up). A slot planted with weak parameters (no password is needed
    /// to add a line to the file) cannot lower them; over-large ones are refused when read
    /// (`Kdf::from_phc`).
    pub fn kdf(&self) -> Option<Kdf> {
        self.read()
            .ok()?
            .slots
            .iter()
            .filter_map(|s| Kdf::from_phc(&s.kdf).map(|(k, _)| k))
            .max_by_key(|k| (k.m_kib, k.t))
    }

    /// The 工号 that have a slot.
    pub fn operators(&self) -> Result<Vec<String>, KeyFileError> {
        Ok(self
            .read()?
            .slots
            .iter()
            .filter_map(|s| match &s.kind {
                SlotKind::Operator { operator } => Some(operator.clone()),
                SlotKind::Delivery => None,
            })
            .collect())
    }

    /// Open `operator`'s slot with `password`. A wrong password (or an unknown 工号, which
    /// costs the same time) counts towards the lock; a right one clears the count.
    pub fn unlock(
        &self,
        operator: &str,
        password: &Password,
        policy: Policy,
        now: DateTime<Utc>,
    ) -> Result<Unlocked, KeyFileError> {
        // Checked before the lock is taken, and again after: the slow part runs unlocked,
        // so that one clerk's sign-in does not hold up another's.
        let body = self.read()?;
        // What is kept of the 工号 typed: itself when it is an operator's, else only a
        // one-byte bucket (a password typed into the 工号 field is never written down).
        let typed = attempts_key(&body, operator);
        let shown = shown_id(&body, operator);
        if let Some(until) = locked(&body, &typed, now) {
            // Tried while locked: on record too, and no closer to getting in.
            let _lock = self.lock()?;
            let mut body = self.read()?;
            body.pending.push(Pending {
                at: now,
                operator: shown,
                event: "sign_in_failed".into(),
            });
            prune_attempts(&mut body, now);
            self.write(&body)?;
            return Err(KeyFileError::Locked { until });
        }
        let kind = SlotKind::Operator {
            operator: operator.into(),
        };
        let found = body.slots.iter().find(|s| s.kind == kind);
        let key = match found {
            Some(slot) => open(body.store, slot, password.expose().as_bytes()),
            None => {
                // The same work for an unknown 工号, so that time does not tell.
                let kdf = body
                    .slots
                    .first()
                    .and_then(|s| Kdf::from_phc(&s.kdf))
                    .map_or(Kdf::FOR_TESTS, |(k, _)| k);
                let _ = kdf.derive(password.expose().as_bytes(), &random::<16>());
                None
            }
        };
        let _lock = self.lock()?;
        let mut body = self.read()?;
        if let Some(until) = locked(&body, &typed, now) {
            return Err(KeyFileError::Locked { until });
        }
        match key {
            Some(key) => {
                body.attempts.remove(&typed);
                let pending = std::mem::take(&mut body.pending);
                self.write(&body)?;
                Ok(Unlocked { key, pending })
            }
            None => {
                let a = body.attempts.entry(typed.clone()).or_default();
                a.failed += 1;
                body.pending.push(Pending {
                    at: now,
                    operator: shown.clone(),
                    event: "sign_in_failed".into(),
                });
                let a = body.attempts.get_mut(&typed).expect("just added");
                let err = if a.failed >= policy.max_attempts {
                    let until = now + policy.lockout;
                    a.locked_until = Some(until);
                    a.failed = 0;
                    body.pending.push(Pending {
                        at: now,
                        operator: shown.clone(),
                        event: "locked_out".into(),
                    });
                    KeyFileError::Locked { until }
                } else {
                    KeyFileError::Wrong {
                        remaining: policy.max_attempts - a.failed,
                        minutes: policy.lockout.num_minutes(),
                    }
                };
                prune_attempts(&mut body, now);
                self.write(&body)?;
                Err(err)
            }
        }
    }

    /// Events waiting for the audit log, taken (a caller that opened the store another way
    /// than `unlock`, with the recovery key say, writes them).
    pub fn take_pending(&self) -> Result<Vec<Pending>, KeyFileError> {
        let _lock = self.lock()?;
        let mut body = self.read()?;
        let pending = std::mem::take(&mut body.pending);
        if !pending.is_empty() {
            self.write(&body)?;
        }
        Ok(pending)
    }

    /// Give `operator` a slot for `password` (replacing theirs), with the data key that a
    /// signed-in supervisor holds. Clears their lock.
    pub fn set_operator(
        &self,
        key: &DataKey,
        operator: &str,
        password: &Password,
        kdf: Kdf,
    ) -> Result<(), KeyFileError> {
        let _lock = self.lock()?;
        let mut body = self.read()?;
        let kind = SlotKind::Operator {
            operator: operator.into(),
        };
        body.slots.retain(|s| s.kind != kind);
        body.slots.push(seal(
            body.store,
            kind,
            key,
            password.expose().as_bytes(),
            kdf,
        ));
        body.attempts.remove(operator);
        self.write(&body)
    }

    /// Remove `operator`'s slot (a disabled operator opens nothing).
    pub fn remove_operator(&self, operator: &str) -> Result<(), KeyFileError> {
        let _lock = self.lock()?;
        let mut body = self.read()?;
        let kind = SlotKind::Operator {
            operator: operator.into(),
        };
        body.slots.retain(|s| s.kind != kind);
        self.write(&body)
    }

    /// A new delivery slot (replacing any earlier one): returns its secret, for a private
    /// file that `sbk sync` reads.
    pub fn set_delivery(&self, key: &DataKey, kdf: Kdf) -> Result<Zeroizing<String>, KeyFileError> {
        let secret = Zeroizing::new(hex(&random::<32>()));
        let _lock = self.lock()?;
        let mut body = self.read()?;
        body.slots.retain(|s| s.kind != SlotKind::Delivery);
        body.slots.push(seal(
            body.store,
            SlotKind::Delivery,
            key,
            secret.as_bytes(),
            kdf,
        ));
        self.write(&body)?;
        Ok(secret)
    }

    /// Remove the delivery slot: the secret in its file opens nothing any more.
    pub fn remove_delivery(&self) -> Result<(), KeyFileError> {
        let _lock = self.lock()?;
        let mut body = self.read()?;
        body.slots.retain(|s| s.kind != SlotKind::Delivery);
        self.write(&body)
    }

    /// Open the delivery slot with its secret.
    pub fn unlock_delivery(&self, secret: &str) -> Result<DataKey, KeyFileError> {
        let body = self.read()?;
        body.slots
            .iter()
            .find(|s| s.kind == SlotKind::Delivery)
            .and_then(|s| open(body.store, s, secret.trim().as_bytes()))
            .ok_or(KeyFileError::WrongDeliveryKey)
    }

    /// A 工号's failed attempts and lock, as the file holds them.
    pub fn attempts(&self, operator: &str) -> Result<Attempts, KeyFileError> {
        let body = self.read()?;
        Ok(body
            .attempts
            .get(&attempts_key(&body, operator))
            .cloned()
            .unwrap_or_default())
    }

    fn read(&self) -> Result<FileBody, KeyFileError> {
        let path = self.path();
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(KeyFileError::Missing(path));
            }
            Err(e) => return Err(e.into()),
        };
        let mut text = String::new();
        use std::io::Read;
        file.take(MAX_FILE_BYTES)
            .read_to_string(&mut text)
            .map_err(|_| KeyFileError::Damaged(path.clone()))?;
        let body: FileBody =
            serde_json::from_str(&text).map_err(|_| KeyFileError::Damaged(path.clone()))?;
        if body.version != 1 {
            return Err(KeyFileError::Damaged(path));
        }
        Ok(body)
    }

    fn write(&self, body: &FileBody) -> Result<(), KeyFileError> {
        crate::private_files::create_private_dir(&self.dir)?;
        let json = serde_json::to_vec_pretty(body).expect("serialisable");
        crate::private_files::write_private(&self.path(), &json)?;
        Ok(())
    }

    /// An exclusive lock on the key file's changes, released when dropped.
    fn lock(&self) -> Result<std::fs::File, KeyFileError> {
        crate::private_files::create_private_dir(&self.dir)?;
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join(LOCK_FILE))?;
        crate::private_files::restrict_to_owner(&self.dir.join(LOCK_FILE))?;
        f.lock()?;
        Ok(f)
    }
}

/// A 工号 as kept in the attempts (bounded, no control characters).
fn clean_id(operator: &str) -> String {
    operator
        .chars()
        .filter(|c| !c.is_control())
        .take(32)
        .collect()
}

/// Whether `typed` is the 工号 of an operator with a slot.
fn is_operator(body: &FileBody, typed: &str) -> bool {
    body.slots
        .iter()
        .any(|s| matches!(&s.kind, SlotKind::Operator { operator } if operator == typed))
}

/// The attempts table's key for what was typed as the 工号: the 工号 itself when it is
/// an operator's; else one of 256 buckets by a hash of it (salted with the store's id).
/// The answer to an unknown 工号 counts down as a real one's does, so it does not tell
/// which 工号 exist; and a password typed into the 工号 field is not written down in a
/// form that a guess could be checked against.
fn attempts_key(body: &FileBody, typed: &str) -> String {
    let typed = clean_id(typed);
    if is_operator(body, &typed) {
        return typed;
    }
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        format!("{}:{typed}", body.store).as_bytes(),
    );
    format!("?{:02x}", digest.as_ref()[0])
}

/// The 工号 as the audit log names it: an operator's, or 未知工号.
fn shown_id(body: &FileBody, typed: &str) -> String {
    let typed = clean_id(typed);
    if is_operator(body, &typed) {
        typed
    } else {
        UNKNOWN_ID.into()
    }
}

/// How the audit log names a 工号 that is no operator's.
pub const UNKNOWN_ID: &str = "（未知工号）";

fn locked(body: &FileBody, operator: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    body.attempts
        .get(operator)
        .and_then(|a| a.locked_until)
        .filter(|until| *until > now)
}

/// Keep the attempts table small: only expired entries go. It is bounded without
/// dropping anyone's count (operators, and 256 buckets for the rest), so junk attempts
/// cannot flush a lock. Pending events beyond a thousand: failed sign-ins are summed per
/// 工号 (`sign_in_failed×N`, the 工号 kept: an operator tried stays named), locks are kept
/// one by one; so the file stays small and junk cannot hide who was tried.
fn prune_attempts(body: &mut FileBody, now: DateTime<Utc>) {
    body.attempts
        .retain(|_, a| a.failed > 0 || a.locked_until.is_some_and(|u| u > now));
    if body.pending.len() <= 1000 {
        return;
    }
    let count = |p: &Pending| -> u64 {
        p.event
            .split_once('×')
            .and_then(|(_, n)| n.parse().ok())
            .unwrap_or(1)
    };
    let mut failures: BTreeMap<String, (u64, DateTime<Utc>)> = BTreeMap::new();
    let mut kept = Vec::new();
    for p in std::mem::take(&mut body.pending) {
        if p.event.starts_with("sign_in_failed") {
            let entry = failures.entry(p.operator.clone()).or_insert((0, p.at));
            entry.0 += count(&p);
            entry.1 = entry.1.max(p.at);
        } else {
            kept.push(p);
        }
    }
    kept.extend(failures.into_iter().map(|(operator, (n, at))| Pending {
        at,
        operator,
        event: if n == 1 {
            "sign_in_failed".into()
        } else {
            format!("sign_in_failed×{n}")
        },
    }));
    kept.sort_by_key(|p| p.at);
    body.pending = kept;
}

fn seal(store: Uuid, kind: SlotKind, key: &DataKey, secret: &[u8], kdf: Kdf) -> Slot {
    let salt = random::<16>();
    let kek = kdf.derive(secret, &salt);
    let nonce = random::<NONCE_LEN>();
    let sealer = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &kek[..]).expect("32 bytes"));
    let mut data = Zeroizing::new(key.bytes().to_vec());
    sealer
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(kind.aad(store).as_bytes()),
            &mut *data,
        )
        .expect("sealing 32 bytes");
    Slot {
        kdf: kdf.phc(&salt),
        nonce: hex(&nonce),
        sealed: hex(&data),
        created_at: Utc::now(),
        kind,
    }
}

/// The data key in `slot`, opened with `secret`: `None` for a wrong secret or a damaged
/// or misplaced slot (the seal does not open).
fn open(store: Uuid, slot: &Slot, secret: &[u8]) -> Option<DataKey> {
    let (kdf, salt) = Kdf::from_phc(&slot.kdf)?;
    let kek = kdf.derive(secret, &salt);
    let nonce: [u8; NONCE_LEN] = unhex(&slot.nonce)?.try_into().ok()?;
    let mut data = Zeroizing::new(unhex(&slot.sealed)?);
    let opener = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &kek[..]).ok()?);
    let plain = opener
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(slot.kind.aad(store).as_bytes()),
            &mut data[..],
        )
        .ok()?;
    let bytes: [u8; 32] = plain.try_into().ok()?;
    Some(DataKey::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> Password {
        Password::new(s)
    }

    fn setup() -> (tempfile::TempDir, KeyFile, DataKey) {
        let dir = tempfile::TempDir::new().unwrap();
        let keys = KeyFile::new(dir.path());
        let key = DataKey::generate();
        keys.create(&key, "S001", &pw("supervisor-pw"), Kdf::FOR_TESTS)
            .unwrap();
        (dir, keys, key)
    }

    fn now() -> DateTime<Utc> {
        Utc::now()
    }

    #[test]
    fn the_right_password_opens_the_data_key_and_a_wrong_one_does_not() {
        let (_d, keys, key) = setup();
        let got = keys
            .unlock("S001", &pw("supervisor-pw"), Policy::default(), now())
            .unwrap();
        assert_eq!(got.key, key);
        let err = keys
            .unlock("S001", &pw("supervisor-pX"), Policy::default(), now())
            .err()
            .unwrap();
        assert!(
            matches!(err, KeyFileError::Wrong { remaining: 4, .. }),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_id_gets_the_same_answer_and_the_same_lock_as_a_known_one() {
        let (_d, keys, _) = setup();
        let policy = Policy::default();
        let known = keys
            .unlock("S001", &pw("nope-nope"), policy, now())
            .err()
            .unwrap();
        let unknown = keys
            .unlock("X999", &pw("nope-nope"), policy, now())
            .err()
            .unwrap();
        assert_eq!(known.to_string(), unknown.to_string());
        for _ in 0..4 {
            let _ = keys.unlock("X999", &pw("nope-nope"), policy, now());
        }
        assert!(matches!(
            keys.unlock("X999", &pw("nope-nope"), policy, now()),
            Err(KeyFileError::Locked { .. })
        ));
    }

    #[test]
    fn five_wrong_passwords_lock_the_id_even_for_the_right_one_until_the_lock_ends() {
        let (_d, keys, key) = setup();
        let policy = Policy::default();
        let t0 = now();
        for i in 0..5 {
            let e = keys
                .unlock("S001", &pw("wrong-pw"), policy, t0)
                .err()
                .unwrap();
            if i < 4 {
                assert!(matches!(e, KeyFileError::Wrong { .. }), "{e}");
            } else {
                assert!(matches!(e, KeyFileError::Locked { .. }), "{e}");
            }
        }
        assert!(matches!(
            keys.unlock(
                "S001",
                &pw("supervisor-pw"),
                policy,
                t0 + chrono::Duration::minutes(14)
            ),
            Err(KeyFileError::Locked { .. })
        ));
        let later = t0 + chrono::Duration::minutes(16);
        let got = keys
            .unlock("S001", &pw("supervisor-pw"), policy, later)
            .unwrap();
        assert_eq!(got.key, key);
        // Every failure and the lock wait for the audit log; the sign-in hands them over.
        let events: Vec<&str> = got.pending.iter().map(|p| p.event.as_str()).collect();
        // Five wrong, and the right one while locked.
        assert_eq!(events.iter().filter(|e| **e == "sign_in_failed").count(), 6);
        assert_eq!(events.iter().filter(|e| **e == "locked_out").count(), 1);
        assert!(keys.take_pending().unwrap().is_empty());
    }

    #[test]
    fn a_slot_moved_to_another_operator_or_another_store_does_not_open() {
        let (dir, keys, key) = setup();
        keys.set_operator(&key, "C002", &pw("clerk-pw-2"), Kdf::FOR_TESTS)
            .unwrap();
        // An attacker renames C002's slot to S001 (whose password they do not know).
        let text = std::fs::read_to_string(keys.path()).unwrap();
        let mut body: serde_json::Value = serde_json::from_str(&text).unwrap();
        let slots = body["slots"].as_array_mut().unwrap();
        slots.retain(|s| s["operator"] != "S001");
        slots[0]["operator"] = "S001".into();
        std::fs::write(keys.path(), body.to_string()).unwrap();
        assert!(
            keys.unlock("S001", &pw("clerk-pw-2"), Policy::default(), now())
                .is_err()
        );
        drop(dir);
    }

    #[test]
    fn a_removed_slot_opens_nothing_and_a_reset_one_opens_with_the_new_password() {
        let (_d, keys, key) = setup();
        keys.set_operator(&key, "C002", &pw("first-pw-1"), Kdf::FOR_TESTS)
            .unwrap();
        keys.set_operator(&key, "C002", &pw("second-pw-2"), Kdf::FOR_TESTS)
            .unwrap();
        assert!(
            keys.unlock("C002", &pw("first-pw-1"), Policy::default(), now())
                .is_err()
        );
        assert_eq!(
            keys.unlock("C002", &pw("second-pw-2"), Policy::default(), now())
                .unwrap()
                .key,
            key
        );
        keys.remove_operator("C002").unwrap();
        assert!(
            keys.unlock("C002", &pw("second-pw-2"), Policy::default(), now())
                .is_err()
        );
        assert_eq!(keys.operators().unwrap(), ["S001"]);
    }

    #[test]
    fn the_delivery_secret_opens_only_the_delivery_slot_until_it_is_replaced() {
        let (_d, keys, key) = setup();
        let secret = keys.set_delivery(&key, Kdf::FOR_TESTS).unwrap();
        assert_eq!(keys.unlock_delivery(&secret).unwrap(), key);
        assert!(
            keys.unlock("delivery", &pw(&secret), Policy::default(), now())
                .is_err()
        );
        let newer = keys.set_delivery(&key, Kdf::FOR_TESTS).unwrap();
        assert!(keys.unlock_delivery(&secret).is_err());
        assert_eq!(keys.unlock_delivery(&newer).unwrap(), key);
    }

    #[test]
    fn a_missing_or_damaged_file_is_said_so_and_recreating_keeps_the_damaged_one() {
        let (dir, keys, key) = setup();
        std::fs::write(keys.path(), b"{ not json").unwrap();
        let e = keys
            .unlock("S001", &pw("supervisor-pw"), Policy::default(), now())
            .err()
            .unwrap();
        assert!(matches!(e, KeyFileError::Damaged(_)), "{e}");
        keys.recreate(&key, "S001", &pw("new-password"), Kdf::FOR_TESTS)
            .unwrap();
        assert!(dir.path().join("keys.json.damaged").exists());
        assert_eq!(
            keys.unlock("S001", &pw("new-password"), Policy::default(), now())
                .unwrap()
                .key,
            key
        );
        std::fs::remove_file(keys.path()).unwrap();
        let e = keys
            .unlock("S001", &pw("new-password"), Policy::default(), now())
            .err()
            .unwrap();
        assert!(matches!(e, KeyFileError::Missing(_)), "{e}");
    }

    #[test]
    fn the_file_holds_no_key_or_password_in_the_clear_and_is_private() {
        let (_d, keys, key) = setup();
        let text = std::fs::read_to_string(keys.path()).unwrap();
        assert!(!text.contains("supervisor-pw"));
        assert!(!text.contains(&hex(key.bytes())));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(keys.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
