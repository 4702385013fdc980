//! A photo file coming into the store, the same way whoever brings it (the wizard's
//! import, `sbk drafts import`): read within limits, decoded, checked for its slot (an ID
//! side must show an ID card, the right side), and stored as the card system wants it —
//! a card photo that passes as it is without its metadata, ID images upright and no larger
//! than the system takes, a card photo that does not pass placed from its face when the
//! caller asks (the wizard opens the crop editor instead).

use std::path::{Path, PathBuf};

use crate::domain::{PhotoRef, PhotoSlot};
use crate::photo::check::Verdict;
use crate::photo::{Decoded, decode, normalise_id};
use crate::store::Store;

/// A photo file read and checked, not yet stored.
pub struct Checked {
    pub slot: PhotoSlot,
    pub bytes: Vec<u8>,
    pub decoded: Decoded,
    pub verdict: Verdict,
    /// The file's name, kept with the photo (shown as 已导入 NAME).
    pub name: Option<String>,
    path: PathBuf,
}

/// Read and check `path` as `slot`. `Err` says in Chinese what is wrong with the file,
/// after the slot's name and the file's (身份证背面照片（IMG_0001.jpg）：…).
pub fn read(path: &Path, slot: PhotoSlot) -> Result<Checked, String> {
    // The file's name with what is wrong with it: the clerk needs to know which.
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let label = format!("{}（{name}）", slot.label());
    let bytes = crate::private_files::read_regular(path, crate::photo::decode::MAX_FILE_BYTES)
        .map_err(|e| format!("{label}：{e}"))?;
    let decoded = decode(&bytes).map_err(|e| format!("{label}：{e}"))?;
    let verdict = crate::idcard::shape::check(&decoded, slot);
    tracing::info!(
        kind = slot.key(),
        width = verdict.width,
        height = verdict.height,
        passes = verdict.passes(),
        "photo read for import"
    );
    Ok(Checked {
        slot,
        bytes,
        decoded,
        verdict,
        name: path.file_name().map(|n| n.to_string_lossy().into_owned()),
        path: path.to_owned(),
    })
}

/// What storing a checked photo came to.
pub enum Stored {
    /// In the store; the warnings are advice for the clerk.
    Done(PhotoRef, Vec<String>),
    /// A card photo that does not pass as it is, and was not to be fixed here.
    NeedsFix(Box<Checked>),
}

impl Checked {
    /// The checks' advice (findings that do not fail).
    pub fn warnings(&self) -> Vec<String> {
        self.verdict
            .findings
            .iter()
            .filter(|f| !f.fails)
            .map(|f| f.message.clone())
            .collect()
    }

    /// Why it fails, each finding's message.
    pub fn reasons(&self) -> Vec<String> {
        self.verdict
            .findings
            .iter()
            .filter(|f| f.fails)
            .map(|f| f.message.clone())
            .collect()
    }

    /// Store it as the card system wants it. A card photo that does not pass is placed
    /// from its face when `fix` (bulk import), else handed back (the wizard's crop
    /// editor). `Err`: why it cannot be taken (an ID image that is no ID card, a face
    /// too small …), in Chinese.
    pub fn store(self, store: &Store, fix: bool) -> Result<Stored, String> {
        let label = self.slot.label();
        let bytes = match self.slot {
            PhotoSlot::CardPhoto if self.verdict.passes() => {
                crate::photo::card_bytes_without_metadata(&self.decoded, &self.bytes)
                    .map_err(|e| format!("{label}：{e}"))?
            }
            PhotoSlot::CardPhoto if !fix => return Ok(Stored::NeedsFix(Box::new(self))),
            PhotoSlot::CardPhoto => {
                crate::photo::auto_fix_card(&self.decoded, &self.bytes)
                    .map_err(|e| format!("{label}：{e}"))?
                    .0
            }
            _ => {
                if let Some(f) = self.verdict.findings.iter().find(|f| f.fails) {
                    return Err(format!("{label}：{}", f.message));
                }
                normalise_id(&self.decoded).map_err(|e| format!("{label}：{e}"))?
            }
        };
        let stored = put(store, &bytes, self.slot, self.name.clone())?;
        Ok(Stored::Done(stored, self.warnings()))
    }

    /// The file it came from, to note once it is stored (a file of the photo folder).
    pub fn original(&self) -> Original {
        Original {
            path: self.path.clone(),
            sha256: crate::store::sha256_hex(&self.bytes),
        }
    }
}

/// A file of the photo folder that was imported.
pub struct Original {
    path: PathBuf,
    sha256: String,
}

impl Original {
    /// It is in the store now: it stays in the photo folder a day (it may be imported
    /// again), then retention removes it — an ID card scan is not to lie about
    /// unencrypted (unless the config keeps originals). Only the photo folder's files are
    /// noted: a folder a bulk import reads from is the centre's own.
    pub fn imported(&self, store: &Store) {
        if let Err(e) = store.note_original(&self.path, &self.sha256) {
            tracing::warn!(error = e.kind(), "an imported original was not recorded");
        }
    }
}

/// Store finished JPEG bytes (a card photo or a normalised ID image) for `slot`.
pub fn put(
    store: &Store,
    bytes: &[u8],
    slot: PhotoSlot,
    name: Option<String>,
) -> Result<PhotoRef, String> {
    let d = decode(bytes).map_err(|e| e.to_string())?;
    let sha256 = store
        .put_photo(bytes, slot, "image/jpeg", d.image.width(), d.image.height())
        .map_err(|e| format!("保存照片失败：{e}"))?;
    Ok(PhotoRef {
        sha256,
        source_name: name,
    })
}
