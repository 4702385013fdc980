//! Printing a 受理单: the application from the store, set as a PDF (`crate::receipt`),
//! then sent to the printer through CUPS's `lp` where there is one, or saved for the clerk
//! to print. The wizard (`p`) and `sbk receipt` both come here. A saved receipt holds
//! personal data: it is written private, into the data directory's `receipts/` unless a
//! file is named, and `sbk purge` removes those older than a day.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::config::ReceiptSettings;
use crate::domain::Status;
use crate::receipt::{CjkFont, Number, Receipt, ReceiptError, render};
use crate::store::{AuditAction, Operator, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("这份申请还没有提交（{0}）：提交后才能打印受理单")]
    NotSubmitted(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Receipt(#[from] ReceiptError),
    #[error("无法保存受理单 {path}：{reason}")]
    Save { path: PathBuf, reason: String },
}

/// A 受理单 made, with the number it carries.
pub struct Made {
    pub pdf: Vec<u8>,
    pub number: Number,
}

/// The 受理单 of application `id`, printed now by `operator` (audited: it shows the
/// person's name and masked numbers).
pub fn make(
    store: &Store,
    id: Uuid,
    settings: &ReceiptSettings,
    operator: &Operator,
    now: DateTime<Utc>,
) -> Result<Made, PrintError> {
    let app = store.get(id)?;
    if matches!(app.status, Status::Draft | Status::Ready) {
        return Err(PrintError::NotSubmitted(app.status.label()));
    }
    let font = CjkFont::find(settings.font.as_deref()).map_err(ReceiptError::from)?;
    let photo = app
        .photos
        .card_photo
        .as_ref()
        .and_then(|p| store.photo(&p.sha256).ok().flatten())
        .filter(|p| p.media_type == "image/jpeg")
        .map(|p| p.bytes);
    let window = settings
        .window
        .clone()
        .or_else(|| Some(store.window().to_owned()).filter(|w| !w.is_empty()))
        .unwrap_or_else(|| "本机".into());
    let receipt = Receipt::for_application(
        &app,
        &settings.centre,
        &window,
        &format!("{}（{}）", operator.name, operator.id),
        now,
        photo,
    );
    let pdf = render(&receipt, &font, settings.paper)?;
    store.audit(operator, AuditAction::Print, Some(id), Some("受理单"))?;
    Ok(Made {
        pdf,
        number: receipt.number,
    })
}

/// Where a 受理单 went.
#[derive(Debug, PartialEq, Eq)]
pub enum Sent {
    /// To the default printer, through `lp`.
    Printed,
    /// Saved as a file (no printing asked, or no `lp` on this PC).
    Saved { path: PathBuf, no_printer: bool },
}

impl Sent {
    /// What the clerk is told.
    pub fn message(&self) -> String {
        match self {
            Sent::Printed => "受理单已发送到打印机".into(),
            Sent::Saved {
                path,
                no_printer: true,
            } => format!(
                "本机没有打印服务（CUPS 的 lp），受理单已保存为 {}：请用 PDF 阅读器打开后打印（Windows 上双击打开，按 Ctrl-P）",
                path.display()
            ),
            Sent::Saved { path, .. } => format!("受理单已保存为 {}", path.display()),
        }
    }
}

/// Print `made` (when `print`), else save it to `output` or into `data_dir/receipts/`.
pub fn send(
    made: &Made,
    print: bool,
    output: Option<&Path>,
    data_dir: &Path,
) -> Result<Sent, PrintError> {
    if print && let Some(lp) = find_lp() {
        let status = Command::new(lp)
            .args(["-t", "受理单", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().expect("piped").write_all(&made.pdf)?;
                child.wait()
            });
        if status.is_ok_and(|s| s.success()) {
            return Ok(Sent::Printed);
        }
    }
    let path = match output {
        Some(p) => p.to_owned(),
        None => {
            let dir = data_dir.join(RECEIPTS);
            crate::private_files::create_private_dir(&dir).map_err(|e| PrintError::Save {
                path: dir.clone(),
                reason: crate::private_files::io_reason(&e).into(),
            })?;
            dir.join(format!("受理单-{}.pdf", made.number.code()))
        }
    };
    crate::private_files::write_private(&path, &made.pdf).map_err(|e| PrintError::Save {
        path: path.clone(),
        reason: crate::private_files::io_reason(&e).into(),
    })?;
    Ok(Sent::Saved {
        path,
        no_printer: print,
    })
}

/// The folder of saved receipts inside the data directory.
pub const RECEIPTS: &str = "receipts";

/// How long a saved receipt is kept: long enough to print it on another PC.
pub const RECEIPTS_KEPT: chrono::Duration = chrono::Duration::days(1);

/// Remove saved receipts older than `RECEIPTS_KEPT`; returns how many went.
pub fn sweep(data_dir: &Path, now: std::time::SystemTime) -> usize {
    let Ok(entries) = std::fs::read_dir(data_dir.join(RECEIPTS)) else {
        return 0;
    };
    let keep = RECEIPTS_KEPT.to_std().unwrap_or_default();
    entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "pdf"))
        .filter(|e| {
            e.metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age > keep))
        })
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .count()
}

/// CUPS's `lp` on the PATH, if this PC has one.
fn find_lp() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("lp"))
        .find(|p| p.is_file())
}
