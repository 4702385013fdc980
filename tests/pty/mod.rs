//! The real `sbk` binary in a pseudo-terminal: keys in, the screen read back through a
//! VT100 parser. Shared by the end-to-end tests.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

pub const TAB: &str = "\t";
pub const ENTER: &str = "\r";
pub const SPACE: &str = " ";
pub const PAGE_DOWN: &str = "\x1b[6~";
pub const CTRL_Q: &str = "\x11";
pub const F1: &str = "\x1bOP";
pub const ESC: &str = "\x1b";

pub struct Session {
    _master: Box<dyn MasterPty + Send>,
    pub writer: Box<dyn Write + Send>,
    pub child: Box<dyn Child + Send + Sync>,
    pub screen: Arc<Mutex<vt100::Parser>>,
    /// Everything the program wrote, for checking the escape sequences themselves.
    pub raw: Arc<Mutex<Vec<u8>>>,
}

impl Session {
    /// Run `sbk ARGS` with `env` in a rows×cols pseudo-terminal.
    pub fn start(args: &[&str], env: &[(&str, String)], rows: u16, cols: u16) -> Session {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_sbk"));
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        cmd.env("LANG", "C.UTF-8");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pty.slave.spawn_command(cmd).unwrap();
        let mut reader = pty.master.try_clone_reader().unwrap();
        let writer = pty.master.take_writer().unwrap();
        let screen = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let (sink, raw_sink) = (Arc::clone(&screen), Arc::clone(&raw));
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().process(&buf[..n]);
                raw_sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Session {
            _master: pty.master,
            writer,
            child,
            screen,
            raw,
        }
    }

    pub fn contents(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    /// Wait until `text` is on screen; fail with the screen if it never comes.
    pub fn wait_for(&self, text: &str) {
        self.wait_for_up_to(text, Duration::from_secs(15));
    }

    pub fn wait_for_up_to(&self, text: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.contents().contains(text) {
                return;
            }
            std::thread::sleep(Duration::from_millis(30));
        }
        panic!("“{text}” never appeared. Screen:\n{}", self.contents());
    }

    /// Send keys, then give the wizard a moment to draw.
    pub fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        std::thread::sleep(Duration::from_millis(60));
    }

    pub fn keys(&mut self, keys: &[&str]) {
        for k in keys {
            self.send(k);
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// `sbk` (the wizard) with its data, config and photo folder under `dir`, at its sign-in
/// screen (or first-run set-up, for a new `dir`); `env` adds to its environment.
pub fn wizard_signed_out(
    dir: &std::path::Path,
    rows: u16,
    cols: u16,
    env: &[(&str, String)],
) -> Session {
    let mut all = vec![
        ("SBK_DATA_DIR", dir.join("data").display().to_string()),
        ("SBK_CONFIG", dir.join("config.toml").display().to_string()),
        ("SBK_PHOTO_DIR", dir.join("photos").display().to_string()),
    ];
    all.extend(env.iter().cloned());
    Session::start(&[], &all, rows, cols)
}

/// The wizard of supervisor 李娜 (C001), signed in, with its data, config and photo
/// folder under `dir` (set up first if new).
pub fn wizard(dir: &std::path::Path, rows: u16, cols: u16) -> Session {
    crate::common::signin::ensure_setup(&dir.join("data"));
    let mut s = wizard_signed_out(dir, rows, cols, &[("SBK_OPERATOR_ID", "C001".into())]);
    s.wait_for("操作员登录");
    s.send(crate::common::signin::PASSWORD);
    s.send(ENTER);
    s.wait_for("工作台");
    s
}
