//! `sbk drafts import FILE [--photos DIR]`: applications from another system (or another
//! counter) become drafts here. JSON Lines (any part of the model's shape a line) or CSV
//! (the columns `drafts export --format csv` writes, any subset). Only the person's data
//! are needed; each bad line is reported by its number and skipped, the good ones are
//! kept. Photos come as files with their line (or from a folder, named by ID number) and
//! are checked and fixed exactly as the wizard's import does (`intake`); a refused photo
//! is reported by its line and slot, and the draft is kept without it.

use std::io::{BufRead, Read};
use std::path::Path;
use std::process::ExitCode;

use chrono::Utc;

use super::Format;
use crate::cli::{EXIT_INVALID, Failure};
use crate::domain::PhotoSlot;
use crate::domain::interchange::{Imported, draft_from_csv, draft_from_json};
use crate::store::{Operator, Store};

/// The largest import file read (a few hundred thousand applications).
const MAX_IMPORT_BYTES: u64 = 256 * 1024 * 1024;
/// The longest line read (an application is about 2 KB; its photos come as files): a
/// longer one is refused before it is read whole.
const MAX_LINE_BYTES: usize = 64 * 1024;

pub(super) fn import(
    store: &mut Store,
    op: &Operator,
    file: &Path,
    format: Option<Format>,
    photo_dir: Option<&Path>,
) -> Result<ExitCode, Failure> {
    let format = format.unwrap_or_else(|| {
        let csv = file
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        if csv { Format::Csv } else { Format::Jsonl }
    });
    let reader = open_regular(file)?;
    let mut tally = Tally {
        base: file.parent().map(Path::to_owned).unwrap_or_default(),
        photo_dir: photo_dir.map(PhotoFolder::read).transpose()?,
        ..Tally::default()
    };
    match format {
        Format::Jsonl => {
            let mut reader = reader;
            let mut n = 0;
            while let Some(line) = bounded_line(&mut reader)? {
                n += 1;
                match line {
                    Ok(l) if l.trim().is_empty() => {}
                    Ok(l) => tally.take(store, op, n, draft_from_json(&l, Utc::now()))?,
                    Err(why) => tally.skip(n, &why),
                }
            }
        }
        Format::Csv => {
            let reader = LineCap {
                inner: reader,
                since_newline: 0,
            };
            let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
            let header: Vec<String> = csv
                .headers()
                .map_err(|e| Failure::Message(format!("CSV 表头无法读取：{e}")))?
                .iter()
                .map(str::to_owned)
                .collect();
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            for (i, record) in csv.records().enumerate() {
                // Line numbers count the header, as a spreadsheet shows them.
                let n = i + 2;
                match record {
                    Ok(r) => {
                        let cells: Vec<&str> = r.iter().collect();
                        tally.take(store, op, n, draft_from_csv(&header, &cells, Utc::now()))?
                    }
                    Err(e) => tally.skip(n, &format!("无法读取（{e}）")),
                }
            }
        }
    }
    println!(
        "导入 {} 条，跳过 {} 条；照片导入 {} 张，未能导入 {} 张。",
        tally.imported, tally.skipped, tally.photos, tally.photos_refused
    );
    Ok(if tally.skipped == 0 && tally.photos_refused == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_INVALID)
    })
}

/// The next line (without its newline), read no further than `MAX_LINE_BYTES`: a longer
/// one is skipped to its end and said (`Err`). `None` at the end of the file.
fn bounded_line(reader: &mut impl BufRead) -> Result<Option<Result<String, String>>, Failure> {
    let mut buf = Vec::new();
    let read = reader
        .by_ref()
        .take(MAX_LINE_BYTES as u64 + 1)
        .read_until(b'\n', &mut buf)
        .map_err(|e| Failure::Message(format!("无法读取导入文件：{e}")))?;
    if read == 0 {
        return Ok(None);
    }
    if buf.last() != Some(&b'\n') && buf.len() > MAX_LINE_BYTES {
        let mut rest = 0usize;
        loop {
            let chunk = reader
                .fill_buf()
                .map_err(|e| Failure::Message(format!("无法读取导入文件：{e}")))?;
            if chunk.is_empty() {
                break;
            }
            match chunk.iter().position(|b| *b == b'\n') {
                Some(i) => {
                    reader.consume(i + 1);
                    rest += i;
                    break;
                }
                None => {
                    let len = chunk.len();
                    reader.consume(len);
                    rest += len;
                }
            }
        }
        return Ok(Some(Err(format!(
            "这一行有 {} KB，超过 {} KB：一份申请不会这么长（照片应以文件给出）",
            (buf.len() + rest) / 1024,
            MAX_LINE_BYTES / 1024
        ))));
    }
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    Ok(Some(
        String::from_utf8(buf).map_err(|_| "不是 UTF-8 文本".to_owned()),
    ))
}

/// A CSV source whose physical lines may not exceed `MAX_LINE_BYTES` (a quoted cell may
/// span lines, each within the limit): a longer one ends the import with an error
/// rather than being read whole.
struct LineCap<R> {
    inner: R,
    since_newline: usize,
}

impl<R: Read> Read for LineCap<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(out)?;
        for b in &out[..n] {
            if *b == b'\n' {
                self.since_newline = 0;
            } else {
                self.since_newline += 1;
                if self.since_newline > MAX_LINE_BYTES {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("有一行超过 {} KB，不像申请表", MAX_LINE_BYTES / 1024),
                    ));
                }
            }
        }
        Ok(n)
    }
}

/// A regular file within the size limit (not a FIFO, a device or `/dev/zero`).
fn open_regular(file: &Path) -> Result<std::io::BufReader<std::io::Take<std::fs::File>>, Failure> {
    let cannot = |why: String| Failure::Message(format!("无法导入 {}：{why}", file.display()));
    let meta = std::fs::metadata(file).map_err(|e| cannot(e.to_string()))?;
    if !meta.is_file() {
        return Err(cannot("不是普通文件".into()));
    }
    if meta.len() > MAX_IMPORT_BYTES {
        return Err(cannot(format!(
            "文件超过 {} MB，请分成几个文件导入",
            MAX_IMPORT_BYTES / 1024 / 1024
        )));
    }
    let f = std::fs::File::open(file).map_err(|e| cannot(e.to_string()))?;
    Ok(std::io::BufReader::new(f.take(MAX_IMPORT_BYTES)))
}

#[derive(Default)]
struct Tally {
    imported: usize,
    skipped: usize,
    photos: usize,
    photos_refused: usize,
    /// Where the import file is: photo paths in it are relative to it.
    base: std::path::PathBuf,
    /// A folder of photos named by ID number.
    photo_dir: Option<PhotoFolder>,
}

/// What a photo in a folder named by ID number is called, after the number and `_`.
const FOLDER_NAMES: [(PhotoSlot, &[&str]); 5] = [
    (PhotoSlot::CardPhoto, &["card", "photo", "照片", "制卡照片"]),
    (PhotoSlot::IdFront, &["front", "正面"]),
    (PhotoSlot::IdBack, &["back", "背面"]),
    (PhotoSlot::AgentIdCard, &["agent", "代办人身份证"]),
    (PhotoSlot::Authorisation, &["authorisation", "委托书"]),
];

/// A folder of photos named by ID number (`110105…_card.jpg` and the like), read once.
struct PhotoFolder {
    /// Upper-case ID number → the photos named for it, by file name.
    by_id: std::collections::HashMap<String, Vec<(PhotoSlot, std::path::PathBuf)>>,
}

impl PhotoFolder {
    fn read(dir: &Path) -> Result<Self, Failure> {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| Failure::Message(format!("无法读取照片文件夹 {}：{e}", dir.display())))?;
        let mut by_id: std::collections::HashMap<String, Vec<_>> = Default::default();
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            let Some((number, what)) = stem.rsplit_once(['_', '-']) else {
                continue;
            };
            if let Some((slot, _)) = FOLDER_NAMES
                .iter()
                .find(|(_, names)| names.iter().any(|n| n.eq_ignore_ascii_case(what)))
            {
                by_id
                    .entry(number.to_ascii_uppercase())
                    .or_default()
                    .push((*slot, path));
            }
        }
        for photos in by_id.values_mut() {
            photos.sort_by(|a, b| a.1.cmp(&b.1));
        }
        Ok(Self { by_id })
    }

    /// The photos named for `id_number`.
    fn photos_of(&self, id_number: &str) -> Vec<(PhotoSlot, std::path::PathBuf)> {
        let id = id_number.trim().to_ascii_uppercase();
        if id.is_empty() {
            return Vec::new();
        }
        self.by_id.get(&id).cloned().unwrap_or_default()
    }
}

/// A photo file named in an import line, which must lie in the import file's folder (or
/// below it): a file from another system names its own photos, not whatever else this PC
/// keeps. Relative, no `..`, and no link leading out.
fn within(base: &Path, given: &str) -> Result<std::path::PathBuf, String> {
    use std::path::Component;
    let outside = || {
        format!(
            "照片路径 {given} 不在导入文件所在的文件夹内：请把照片放在导入文件旁边，写相对路径（不含 ..）"
        )
    };
    let relative = Path::new(given);
    if given.trim().is_empty()
        || !relative
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(outside());
    }
    let base = if base.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base
    };
    let joined = base.join(relative);
    let real = joined.canonicalize().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            format!("找不到照片文件 {given}（路径相对于导入文件所在的文件夹）")
        }
        _ => format!("照片文件 {given} 无法打开（{e}）"),
    })?;
    let root = base
        .canonicalize()
        .map_err(|e| format!("导入文件所在的文件夹无法读取（{e}）"))?;
    if !real.starts_with(&root) {
        return Err(outside());
    }
    Ok(real)
}

impl Tally {
    fn skip(&mut self, n: usize, why: &str) {
        eprintln!("第 {n} 行：{why}，已跳过");
        self.skipped += 1;
    }

    fn take(
        &mut self,
        store: &mut Store,
        op: &Operator,
        n: usize,
        parsed: Result<Imported, String>,
    ) -> Result<(), Failure> {
        let Imported {
            mut app,
            notes,
            photo_files,
        } = match parsed {
            Ok(i) => i,
            Err(why) => {
                self.skip(n, &why);
                return Ok(());
            }
        };
        for note in notes {
            eprintln!("第 {n} 行：{note}");
        }
        if store.contains(app.id)? {
            self.skip(n, &format!("申请 {} 已在本机", app.id));
            return Ok(());
        }
        // The photos that came with the line, checked and fixed as the wizard's import
        // does; the draft names no other (`Imported::photo_files`).
        let mut files: Vec<(PhotoSlot, Result<std::path::PathBuf, String>)> = photo_files
            .into_iter()
            .map(|(slot, given)| (slot, within(&self.base, &given)))
            .collect();
        if let Some(folder) = &self.photo_dir {
            for (slot, path) in folder.photos_of(&app.applicant.id_number) {
                if !files.iter().any(|(s, _)| *s == slot) {
                    files.push((slot, Ok(path)));
                }
            }
        }
        for (slot, path) in files {
            let path = match path {
                Ok(path) => path,
                Err(why) => {
                    self.photos_refused += 1;
                    eprintln!("第 {n} 行 {}：{why}，未导入", slot.label());
                    continue;
                }
            };
            let taken = crate::intake::read(&path, slot)
                .and_then(|c| c.store(store, true))
                .and_then(|stored| match stored {
                    crate::intake::Stored::Done(photo, warnings) => Ok((photo, warnings)),
                    crate::intake::Stored::NeedsFix(_) => Err("未能自动修正".into()),
                });
            match taken {
                Ok((photo, warnings)) => {
                    *app.photo_mut(slot) = Some(photo);
                    self.photos += 1;
                    for w in warnings {
                        eprintln!("第 {n} 行 {}：注意：{w}", slot.label());
                    }
                }
                Err(why) => {
                    self.photos_refused += 1;
                    eprintln!("第 {n} 行 {why}（{}），未导入", path.display());
                }
            }
        }
        match store.import(&app, op) {
            Ok(()) => self.imported += 1,
            Err(e) => self.skip(n, &e.to_string()),
        }
        Ok(())
    }
}
