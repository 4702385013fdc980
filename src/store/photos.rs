//! Photos, content-addressed by SHA-256: one row per distinct content, however many
//! applications use it. Checking and fixing photos is `crate::photo`'s job; this stores them.

use super::db::{Sql, args};

use super::{Result, Store, now_ms};
use crate::domain::PhotoSlot;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    pub sha256: String,
    pub kind: String,
    pub media_type: String,
    pub width: u32,
    pub height: u32,
    pub bytes: Vec<u8>,
}

pub use crate::digest::sha256_hex;

impl Store {
    /// Store a photo (a no-op if the same bytes are already there); returns its SHA-256.
    pub fn put_photo(
        &self,
        bytes: &[u8],
        kind: PhotoSlot,
        media_type: &str,
        width: u32,
        height: u32,
    ) -> Result<String> {
        let sha = sha256_hex(bytes);
        self.db.execute(
            "INSERT INTO photos (sha256, kind, media_type, size, width, height, bytes, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (sha256) DO NOTHING",
            args![
                sha,
                kind.key(),
                media_type,
                bytes.len(),
                width,
                height,
                bytes,
                now_ms()
            ],
        )?;
        Ok(sha)
    }

    pub fn photo(&self, sha256: &str) -> Result<Option<Photo>> {
        self.db
            .query_opt(
                "SELECT sha256, kind, media_type, width, height, bytes FROM photos WHERE sha256 = ?1",
                args![sha256],
            )?
            .map(|r| {
                Ok(Photo {
                    sha256: r.get(0)?,
                    kind: r.get(1)?,
                    media_type: r.get(2)?,
                    width: r.get(3)?,
                    height: r.get(4)?,
                    bytes: r.get(5)?,
                })
            })
            .transpose()
    }

    pub fn has_photo(&self, sha256: &str) -> Result<bool> {
        Ok(self
            .db
            .query_opt("SELECT 1 FROM photos WHERE sha256 = ?1", args![sha256])?
            .is_some())
    }
}

/// Delete photos no application refers to any more.
pub(super) fn collect_garbage(conn: &impl Sql) -> Result<usize> {
    conn.execute(
        "DELETE FROM photos WHERE sha256 NOT IN (
             SELECT card_photo FROM applications WHERE card_photo IS NOT NULL
             UNION SELECT id_front FROM applications WHERE id_front IS NOT NULL
             UNION SELECT id_back FROM applications WHERE id_back IS NOT NULL
             UNION SELECT agent_id_card FROM applications WHERE agent_id_card IS NOT NULL
             UNION SELECT authorisation FROM applications WHERE authorisation IS NOT NULL)",
        args![],
    )
}
