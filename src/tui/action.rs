//! What a popup decides and the screen under it carries out.

use std::path::PathBuf;

use uuid::Uuid;

use crate::domain::prefill::Source;
use crate::domain::{Field, PhotoRef};

/// Decided in a popup, carried out by the screen under it.
pub enum Action {
    /// A choice picked from a list.
    Choose { field: Field, code: String },
    /// A photo file picked for a photo field.
    Import { field: Field, path: PathBuf },
    /// The crop editor made a card photo (already stored).
    CardPhotoMade(PhotoRef),
    /// The crop editor was left: nothing imported.
    CropCancelled,
    /// 是否确认提交个人申领 — 确定.
    Submit,
    /// Withdraw this queued application.
    Withdraw(Uuid),
    /// (A supervisor) add an operator with a first password.
    AddOperator {
        id: String,
        name: String,
        role: crate::store::Role,
        password: crate::keys::Password,
    },
    /// (A supervisor) give an operator a temporary password.
    ResetPassword {
        id: String,
        password: crate::keys::Password,
    },
    /// (A supervisor) disable an operator.
    DisableOperator(String),
    /// From a comparison: the fields whose outside value to take (and the rest kept).
    Take {
        source: Source,
        values: Vec<(Field, String)>,
    },
}
