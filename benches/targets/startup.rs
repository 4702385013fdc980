//! Start to first frame and peak memory: the real programs in a pseudo-terminal, timed
//! from spawn until their first frame is on the (parsed) screen.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

use crate::measure::{Row, stats};

const ROWS: u16 = 60;
const COLS: u16 = 200;

/// A program running in a pseudo-terminal; `first_frame` is when `marker` first showed.
pub struct Tui {
    _master: Box<dyn MasterPty + Send>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    pub first_frame: Duration,
    screen: mpsc::Receiver<String>,
}

impl Tui {
    pub fn start(program: &Path, args: &[&str], env: &[(&str, String)], marker: &str) -> Tui {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pseudo-terminal");
        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        // A clean environment, as a clerk's shell gives: not cargo's, whose LD_LIBRARY_PATH
        // (every build script's output directory) sends the dynamic loader through ~140
        // failed opens before it finds libc, more for a program that needs more libraries.
        cmd.env_clear();
        for keep in ["PATH", "HOME", "USER", "TMPDIR"] {
            if let Some(v) = std::env::var_os(keep) {
                cmd.env(keep, v);
            }
        }
        cmd.env("TERM", "xterm-256color");
        cmd.env("LANG", "C.UTF-8");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut reader = pty.master.try_clone_reader().unwrap();
        let writer = pty.master.take_writer().unwrap();
        let (shown, frames) = mpsc::channel::<Instant>();
        let (screens, screen) = mpsc::channel::<String>();
        let marker = marker.to_owned();
        let start = Instant::now();
        let child = pty.slave.spawn_command(cmd).expect("spawn in the pty");
        std::thread::spawn(move || {
            let mut parser = vt100::Parser::new(ROWS, COLS, 0);
            let mut buf = [0u8; 16384];
            let mut seen = false;
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                parser.process(&buf[..n]);
                let contents = parser.screen().contents();
                if !seen && contents.contains(&marker) {
                    seen = true;
                    let _ = shown.send(Instant::now());
                }
                let _ = screens.send(contents);
            }
        });
        let at = frames
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("{} drew no first frame", program.display()));
        Tui {
            _master: pty.master,
            writer,
            child,
            first_frame: at - start,
            screen,
        }
    }

    pub fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    /// Wait until `text` is on screen (keys are answered by a redraw).
    pub fn wait_for(&mut self, text: &str) {
        self.wait_until(text, |s| s.contains(text));
    }

    /// Wait until `text` is gone from the screen.
    pub fn wait_gone(&mut self, text: &str) {
        self.wait_until(text, |s| !s.contains(text));
    }

    fn wait_until(&mut self, what: &str, done: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while let Ok(s) = self
            .screen
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            if done(&s) {
                return;
            }
        }
        panic!("waited in vain for the screen to change ({what})");
    }

    /// Peak resident memory so far (VmHWM), in bytes.
    pub fn peak_memory(&self) -> u64 {
        self.status_kb("VmHWM:") * 1024
    }

    /// Resident memory now (VmRSS), in bytes.
    pub fn resident_memory(&self) -> u64 {
        self.status_kb("VmRSS:") * 1024
    }

    fn status_kb(&self, field: &str) -> u64 {
        let pid = self.child.process_id().expect("a pid");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("{field} in /proc/PID/status"))
    }

    /// Quit with `keys` and wait for the exit (killed if it does not come).
    pub fn quit(mut self, keys: &str) {
        self.send(keys);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = self.child.kill();
        panic!("the program did not quit");
    }
}

pub struct Programs<'a> {
    pub sbk: &'a Path,
    pub baseline: &'a Path,
    pub sbk_env: Vec<(&'static str, String)>,
    pub apps: usize,
    /// The store sbk is on, as the rows name it ("" for the embedded file).
    pub store: &'static str,
}

/// What `sbk`'s home screen shows last (the key help on the bottom row).
const SBK_MARKER: &str = "q 退出";
/// The sign-in screen ready for the password.
const SIGN_IN_MARKER: &str = "Esc 退出";
/// sbk's first frame: the sign-in screen's header (on a centre's server it shows before the
/// connection is made, saying it is connecting).
const FIRST_FRAME_MARKER: &str = "柜台申领";
const BASELINE_MARKER: &str = "第三代社会保障卡";
const CTRL_Q: &str = "\x11";

/// sbk started and signed in (the password typed on its first frame), at its home screen.
fn signed_in(p: &Programs) -> Tui {
    let mut t = Tui::start(p.sbk, &[], &p.sbk_env, SIGN_IN_MARKER);
    t.send(crate::common::PASSWORD);
    t.send("\r");
    t.wait_for(SBK_MARKER);
    t
}

pub fn first_frame(p: &Programs, rounds: usize) -> Row {
    // Alternating starts, so that both see the same noise; the first two of each (page
    // cache, first exec) are not counted. sbk's first frame is its sign-in screen: the
    // store is opened after the password.
    let (mut sbk, mut base) = (Vec::new(), Vec::new());
    for k in 0..rounds + 2 {
        let t = Tui::start(p.sbk, &[], &p.sbk_env, FIRST_FRAME_MARKER);
        let s = t.first_frame;
        t.quit(CTRL_Q);
        let t = Tui::start(p.baseline, &[], &[], BASELINE_MARKER);
        let b = t.first_frame;
        t.quit("q");
        if k >= 2 {
            sbk.push(s);
            base.push(b);
        }
    }
    let (sbk, base) = (stats(sbk), stats(base));
    Row::timed(
        "Start-up",
        &format!(
            "start to first frame: the sign-in screen (pty 200×60){}",
            p.store
        ),
        sbk,
        Some(("minimal ratatui program, one paragraph", base)),
    )
    .ratio_at_most(1.5)
}

/// From Enter after the password to the home screen of a store of `p.apps` applications:
/// Argon2id with the parameters calibrated at set-up, the slot opened, the encrypted store
/// opened, retention, the home list. Beside it, Argon2id alone with the same parameters
/// (the floor: the part that is slow on purpose). `kdf`: the parameters the store's
/// operator was set up with.
pub fn sign_in(p: &Programs, kdf: &sbk_counter::keys::Kdf, rounds: usize) -> Row {
    let salt = [1u8; 16];
    let (mut sbk, mut base) = (Vec::new(), Vec::new());
    for k in 0..rounds + 1 {
        let mut t = Tui::start(p.sbk, &[], &p.sbk_env, SIGN_IN_MARKER);
        t.send(crate::common::PASSWORD);
        let start = Instant::now();
        t.send("\r");
        t.wait_for(SBK_MARKER);
        let s = start.elapsed();
        t.quit("q");
        let start = Instant::now();
        std::hint::black_box(kdf.derive(crate::common::PASSWORD.as_bytes(), &salt));
        let b = start.elapsed();
        if k >= 1 {
            sbk.push(s);
            base.push(b);
        }
    }
    Row::timed(
        "Start-up",
        &format!(
            "sign-in: Enter to home screen, {} applications (Argon2id m={} MiB t={}){}",
            p.apps,
            kdf.m_kib / 1024,
            kdf.t,
            p.store
        ),
        stats(sbk),
        Some(("Argon2id alone, same parameters", stats(base))),
    )
    .median_within_ms(1000.0)
}

/// Peak memory of a working session: first frame, searches, an application opened and
/// paged through every step, the list paged, then VmHWM read before quitting.
pub fn peak_memory(p: &Programs) -> Vec<Row> {
    let mut t = signed_in(p);
    for query in ["wang", "王", "0067"] {
        t.send("/");
        t.send(query);
        t.wait_for("Enter 结束输入");
        t.send("\r");
        t.send("\x1b");
    }
    // The application selected on the home screen (whatever its state), then a new one
    // paged through every step.
    for open in ["\r", "n"] {
        t.send(open);
        t.wait_gone(SBK_MARKER);
        for _ in 0..7 {
            t.send("\x1b[6~");
        }
        t.send("\x1b");
        t.wait_for(SBK_MARKER);
    }
    for _ in 0..10 {
        t.send("\x1b[6~");
    }
    std::thread::sleep(Duration::from_millis(300));
    let sbk = t.peak_memory();
    let now = t.resident_memory();
    t.quit("q");
    let b = Tui::start(p.baseline, &[], &[], BASELINE_MARKER);
    let base = b.peak_memory();
    let base_now = b.resident_memory();
    b.quit("q");
    // MB as the target states it: 10^6 bytes (stricter than MiB).
    let mb = |b: u64| b as f64 / 1e6;
    let row = |what: String, sbk: u64, base: u64| Row {
        section: "Memory".into(),
        what,
        unit: "MB".into(),
        median: mb(sbk),
        p99: None,
        ratio: Some(mb(sbk) / mb(base)),
        baseline: Some(crate::measure::Baseline {
            what: "minimal ratatui program".into(),
            median: mb(base),
            p99: None,
        }),
        target: "≤ 40 MB".into(),
        met: Some(mb(sbk) <= 40.0),
    };
    vec![
        // The peak includes Argon2id's 64 MiB at sign-in (the cost of a password that
        // is slow to guess), freed at once after it.
        row(
            format!(
                "wizard peak RSS (VmHWM), sign-in included, {} applications",
                p.apps
            ),
            sbk,
            base,
        ),
        row(
            format!(
                "wizard RSS after a working session (VmRSS), {} applications",
                p.apps
            ),
            now,
            base_now,
        ),
    ]
}
