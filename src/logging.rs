//! Logging to `sbk.log` in the data directory (the wizard's, and `sbk sync`'s, so that a
//! centre's IT can see what cron's delivery did), never to the screen the wizard draws on.
//! A line names what happened and to which application (its id), never free text that can
//! carry personal data. The log is rotated daily and kept no longer than the retention
//! period, like everything else about a person on this PC.

use std::path::Path;

use chrono::{DateTime, Utc};

/// The log file in the data directory.
pub const LOG_FILE: &str = "sbk.log";

/// Send `tracing` output to `data_dir/sbk.log` (no colours; level from `SBK_LOG`, default info).
/// Personal data is never logged: only ids, field names, counts and states.
pub fn init_logging(data_dir: &Path, retention_days: u32) -> std::io::Result<()> {
    crate::store::create_private_dir(data_dir)?;
    let path = data_dir.join(LOG_FILE);
    // Best effort: several processes share the directory (the wizard, cron's sbk sync) and
    // may rotate at once; one that finds the file already moved goes on.
    if let Err(e) = rotate(data_dir, chrono::Utc::now(), retention_days) {
        eprintln!("日志轮换未完成（{e}），继续写入 {}", path.display());
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    crate::store::restrict_to_owner(&path)?;
    let mut filter = tracing_subscriber::EnvFilter::try_from_env("SBK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // The HTTP and TLS crates' own debug and trace output can carry request bodies and
    // headers (personal data, the token): whatever SBK_LOG says, they log warnings only.
    for quiet in [
        "hyper=warn",
        "hyper_util=warn",
        "h2=warn",
        "ureq=warn",
        "ureq_proto=warn",
        "rustls=warn",
        "axum=warn",
        "tower=warn",
        "tokio=warn",
        "mio=warn",
        "rusqlite=warn",
    ] {
        if let Ok(d) = quiet.parse() {
            filter = filter.add_directive(d);
        }
    }
    let _ = tracing_subscriber::fmt()
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init();
    Ok(())
}

/// A log is started afresh each day (or once it passes this size).
const ROTATE_BYTES: u64 = 8 * 1024 * 1024;

/// Start a new log when the current one is from an earlier day (Beijing) or large, keeping
/// the old one as `sbk.log.YYYY-MM-DD`; delete kept logs older than the retention period.
pub fn rotate(data_dir: &Path, now: DateTime<Utc>, retention_days: u32) -> std::io::Result<()> {
    let path = data_dir.join(LOG_FILE);
    if let Ok(meta) = std::fs::metadata(&path) {
        let written: DateTime<Utc> = meta.modified()?.into();
        let day = crate::domain::dates::beijing_date(written);
        if day < crate::domain::dates::beijing_date(now) || meta.len() > ROTATE_BYTES {
            let mut kept = data_dir.join(format!("{LOG_FILE}.{day}"));
            let mut n = 1;
            while kept.exists() {
                kept = data_dir.join(format!("{LOG_FILE}.{day}.{n}"));
                n += 1;
            }
            std::fs::rename(&path, kept)?;
        }
    }
    let keep = chrono::Duration::days(i64::from(retention_days.max(1)));
    for entry in std::fs::read_dir(data_dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with(&format!("{LOG_FILE}.")) {
            continue;
        }
        let written: DateTime<Utc> = entry.metadata()?.modified()?.into();
        if now - written > keep {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn age(path: &Path, days: i64) {
        let t = std::time::SystemTime::now() - std::time::Duration::from_secs(days as u64 * 86_400);
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(t)
            .unwrap();
    }

    #[test]
    fn yesterdays_log_is_kept_aside_and_old_ones_go_after_the_retention_period() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join(LOG_FILE);
        std::fs::write(&log, "yesterday").unwrap();
        age(&log, 1);
        let old = dir.path().join("sbk.log.2020-01-01");
        std::fs::write(&old, "long ago").unwrap();
        age(&old, 40);
        let recent = dir.path().join("sbk.log.2026-11-30");
        std::fs::write(&recent, "recent").unwrap();
        age(&recent, 5);
        rotate(dir.path(), Utc::now(), 30).unwrap();
        assert!(!log.exists(), "a new day starts a new log");
        assert!(!old.exists(), "past the retention period");
        assert!(recent.exists());
        let kept: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(kept.len(), 2, "{kept:?}");
    }
}
