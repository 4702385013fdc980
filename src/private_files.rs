//! Files and folders that hold personal data: readable by their owner only (0700 folders,
//! 0600 files on Unix; elsewhere the user profile's ACLs keep them private), written
//! atomically, and never a folder that other users can write to.
//!
//! A folder sbk creates is made private. A folder that already exists is tightened only
//! when it is plainly sbk's own (nothing in it but sbk's files); any other (a home folder,
//! `/tmp`) keeps its mode, and one that others can write to is refused: someone else could
//! swap the files in it.

use std::io::Write;
use std::path::Path;

/// What sbk keeps in its own folders: a folder holding only these is sbk's.
const OWN_NAMES: [&str; 13] = [
    "sbk.sqlite3",
    "sbk.sqlite3.encrypting",
    "keys.json",
    "keys.lock",
    "keys.json.damaged",
    "sbk.sqlite3-wal",
    "sbk.sqlite3-shm",
    "sbk.sqlite3-journal",
    "sbk.log",
    "config.toml",
    "demo",
    "photos",
    "receipts",
];

fn is_own_name(name: &str) -> bool {
    OWN_NAMES.contains(&name)
        || name.starts_with("sbk.log.")
        || name.starts_with(".sbk")
        || name.starts_with(".config.toml.")
}

/// Whether every entry of `dir` is one of sbk's (an empty folder counts).
fn holds_only_sbk_files(dir: &Path) -> std::io::Result<bool> {
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        if !name.to_str().is_some_and(is_own_name) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Make sure `dir` exists and is private: created 0700 if missing; an existing one others
/// can write to is refused; an existing one that is sbk's own is tightened to 0700 (a copy
/// or a restored backup may have widened it), and that is logged; any other is left alone.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if !dir.exists() {
        std::fs::create_dir_all(dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir)?.permissions().mode() & 0o7777;
        if mode & 0o022 != 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "目录 {} 其他用户可以写入（权限 {mode:o}）：个人数据不能放在这里，请换一个只有本人可写的目录",
                    dir.display()
                ),
            ));
        }
        if mode & 0o077 != 0 && holds_only_sbk_files(dir)? {
            tracing::warn!(dir = %dir.display(), mode = format!("{mode:o}"), "sbk's directory was open to others; tightened to 0700");
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    Ok(())
}

/// Every file directly in the data directory readable by its owner only: one copied in
/// or created by another tool with a wider mode is tightened, and that is logged.
pub fn tighten_files(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let meta = entry.metadata()?;
            let mode = meta.permissions().mode() & 0o777;
            if meta.is_file() && mode & 0o077 != 0 {
                tracing::warn!(file = %entry.path().display(), mode = format!("{mode:o}"), "file was open to others; tightened to 0600");
                std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Make a file readable and writable by its owner only (0600 on Unix; no-op elsewhere,
/// where the user profile's ACLs already keep it private).
pub fn restrict_to_owner(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Write `bytes` to `path` as a private file, atomically: a temporary file beside it,
/// created 0600 (never wider, not even for a moment), written, flushed to disk, then
/// renamed over `path`. A crash leaves the old file or the new one, never half of one.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = (|| {
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Why a file or folder could not be read, in the clerk's words.
pub fn io_reason(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::NotFound => "不存在",
        std::io::ErrorKind::PermissionDenied => "没有读取权限",
        std::io::ErrorKind::NotADirectory => "不是文件夹",
        std::io::ErrorKind::IsADirectory => "是文件夹",
        _ => "无法读取",
    }
}

/// Read a regular file of at most `max` bytes: never a device (`/dev/zero`), a FIFO
/// (which would hang) or a folder, and never more than `max` bytes whatever the file
/// claims, so memory stays bounded. The error says in Chinese what is wrong.
pub fn read_regular(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("{shown} {}", io_reason(&e)))?;
    if !meta.is_file() {
        return Err(format!("{shown} 不是普通文件：请选择照片文件"));
    }
    let too_large = || format!("{shown} 超过 {} MB 上限：请换一个文件", max / 1024 / 1024);
    if meta.len() > max {
        return Err(too_large());
    }
    let file = std::fs::File::open(path).map_err(|e| format!("{shown} {}", io_reason(&e)))?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{shown} {}", io_reason(&e)))?;
    if bytes.len() as u64 > max {
        return Err(too_large());
    }
    Ok(bytes)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn only_sbks_own_folders_are_tightened_and_open_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir(&home).unwrap();
        std::fs::write(home.join("notes.txt"), "mine").unwrap();
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_private_dir(&home).unwrap();
        assert_eq!(
            mode(&home),
            0o755,
            "a folder that is not sbk's keeps its mode"
        );
        let shared = dir.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let e = create_private_dir(&shared).unwrap_err();
        assert!(e.to_string().contains("其他用户可以写入"), "{e}");
        assert_eq!(mode(&shared), 0o1777, "refused, not changed");
        let own = dir.path().join("own");
        create_private_dir(&own).unwrap();
        assert_eq!(mode(&own), 0o700, "created private");
        std::fs::write(own.join("sbk.sqlite3"), "").unwrap();
        std::fs::set_permissions(&own, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_private_dir(&own).unwrap();
        assert_eq!(mode(&own), 0o700, "sbk's own folder is tightened again");
    }

    #[test]
    fn only_regular_files_within_the_limit_are_read() {
        assert!(
            read_regular(Path::new("/dev/zero"), 1024)
                .unwrap_err()
                .contains("不是普通文件")
        );
        let dir = tempfile::tempdir().unwrap();
        assert!(
            read_regular(dir.path(), 1024)
                .unwrap_err()
                .contains("不是普通文件")
        );
        let big = dir.path().join("big");
        std::fs::write(&big, vec![0u8; 2048]).unwrap();
        assert!(read_regular(&big, 1024).unwrap_err().contains("上限"));
        assert_eq!(read_regular(&big, 4096).unwrap().len(), 2048);
        assert!(
            read_regular(&dir.path().join("nope"), 1)
                .unwrap_err()
                .contains("不存在")
        );
    }

    #[test]
    fn a_private_file_is_never_wider_than_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("photo.jpg");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary left"
        );
    }
}
