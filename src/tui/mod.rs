//! The terminal wizard: terminal set-up and restore, and the event loop.
//!
//! The terminal is always restored: on quit, on error, and on panic (a hook restores it
//! before the panic is reported, and the report goes to the log file too).

pub mod action;
pub mod app;
pub mod background;
pub mod ctx;
pub mod day;
pub mod events;
pub mod header;
pub mod home;
pub mod operators;
pub mod outcome;
pub mod photo_ui;
pub mod popups;
pub mod signin;
pub mod theme;
pub mod wizard;

use std::io::{IsTerminal, Write};
use std::time::Duration;

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use crate::access::Session;
use crate::config::Settings;

pub use crate::logging::{LOG_FILE, init_logging};

fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = crossterm::execute!(
        std::io::stdout(),
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// Why the wizard could not start or had to stop; said to the clerk in Chinese.
#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    #[error("sbk 向导需要在终端中运行（脚本请用 sbk drafts …、sbk check …）")]
    NotATerminal,
    #[error("无法在数据目录 {} 中写日志：{source}", dir.display())]
    Log {
        dir: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("终端出错：{0}")]
    Terminal(#[from] std::io::Error),
}

/// Open the wizard: sign in (or set the store up at first run) first.
pub fn run(settings: &mut Settings) -> Result<(), TuiError> {
    run_with(settings, None)
}

/// Open the wizard. With `demo`, the demo's signed-in session: no sign-in, every screen
/// marked 演示模式.
pub fn run_with(settings: &mut Settings, demo: Option<Session>) -> Result<(), TuiError> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(TuiError::NotATerminal);
    }
    let started = std::time::Instant::now();
    init_logging(&settings.data_dir, settings.retention_days).map_err(|source| TuiError::Log {
        dir: settings.data_dir.clone(),
        source,
    })?;
    // The photo folder exists from the first run, so that the clerk is told where photos
    // go rather than that a folder is missing.
    if let Err(e) = popups::ensure_photo_dir(&settings.photo_dir) {
        tracing::warn!(error = %e, "could not create the photo folder");
    }
    let is_demo = demo.is_some();
    tracing::info!(data_dir = %settings.data_dir.display(), "wizard starting");

    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        // Where, not what: a panic's message may hold whatever value it was about.
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!(at, "panic");
        default_hook(info);
    }));

    enable_raw_mode()?;
    let setup = crossterm::execute!(
        std::io::stdout(),
        EnterAlternateScreen,
        EnableBracketedPaste,
        EnableMouseCapture
    );
    let result = setup.map_err(TuiError::from).and_then(|()| {
        let backend = CrosstermBackend::new(std::io::stdout());
        let mut terminal = Terminal::new(backend)?;
        // Not `terminal.clear()`: it asks the terminal for the cursor position, and a
        // terminal that never answers (some serial consoles and SSH clients) would stop
        // sbk starting.
        crossterm::execute!(
            std::io::stdout(),
            crossterm::terminal::Clear(crossterm::terminal::ClearType::All)
        )?;
        // Input is read on a thread of its own and comes on the same channel as what the
        // background reports, so the loop sleeps until there is something to show.
        let events = events::Events::default();
        events.read_terminal();
        let session = match demo {
            Some(s) => s,
            None => match sign_in(&mut terminal, &events, settings)? {
                Some(s) => s,
                None => return Ok(()),
            },
        };
        let signed_in = started.elapsed();
        let operator = session.operator();
        let mut app = app::App::with_events(session, settings.photo_dir.clone(), events);
        app.set_access(settings.access.idle_lock, settings.access.rules.policy);
        app.ctx.min_password = settings.access.rules.min_password;
        app.ctx.receipt = settings.receipt.clone();
        app.ctx.data_dir = settings.data_dir.clone();
        retention(&mut app, settings, &operator);
        let home_loaded = started.elapsed();
        app.ctx.picker = picker(settings.preview.as_deref());
        app.ctx.demo = is_demo;
        // Where to deliver: the central API a supervisor set (kept in the store).
        let central = match crate::sync::central_for(&app.ctx.session, settings.central.as_ref()) {
            Ok(choice) => {
                if let Some(note) = choice.note {
                    app.ctx.fail(note);
                }
                choice.settings
            }
            Err(why) => {
                app.ctx.fail(why);
                None
            }
        };
        if let Some(central) = central {
            // The demo polls often so that progress is seen moving within a minute.
            let poll = if is_demo {
                Duration::from_secs(2)
            } else {
                crate::sync::worker::POLL_EVERY
            };
            app.start_delivery(central, poll);
        }
        app.follow_store();
        app.resume();
        tracing::debug!(
            ?signed_in,
            ?home_loaded,
            resumed = ?started.elapsed(),
            "start-up phases (time since start)"
        );
        let outcome = event_loop(&mut app, &mut terminal);
        app.close_application();
        if let Err(e) = app.ctx.session.sign_out() {
            tracing::error!(error = %e, "could not audit the sign-out");
        }
        outcome
    });
    restore_terminal();
    let _ = std::io::stdout().flush();
    if result.is_err() {
        tracing::error!("wizard stopped on an error");
    } else {
        tracing::info!("wizard closed");
    }
    result
}

type Term = Terminal<CrosstermBackend<std::io::Stdout>>;

/// The sign-in (or first-run set-up) before the wizard: `None` if the clerk left.
fn sign_in(
    terminal: &mut Term,
    events: &events::Events,
    settings: &Settings,
) -> Result<Option<Session>, TuiError> {
    let mut gate = signin::Gate::new(
        signin::GateSettings {
            location: settings.location(),
            rules: settings.access.rules,
            default_id: settings.default_operator_id.clone(),
            legacy_key: settings
                .legacy_db_key
                .as_ref()
                .map(|k| k.expose().to_owned()),
            kdf: None,
        },
        events.sender(),
    );
    loop {
        terminal.draw(|frame| gate.draw(frame))?;
        if let Some(event) = events.next(Duration::from_millis(1000)) {
            gate.on_event(event);
        }
        if gate.quit {
            return Ok(None);
        }
        if let Some(session) = gate.done.take() {
            return Ok(Some(session));
        }
    }
}

/// Retention runs at every start: nothing personal outlives its period on this PC.
fn retention(app: &mut app::App, settings: &Settings, operator: &crate::store::Operator) {
    let supervisor = app.ctx.session.account.is_supervisor();
    let store = &mut app.ctx.session.store;
    let periods = settings.retention().for_role(supervisor);
    match store.purge(chrono::Utc::now(), periods, false, operator) {
        Ok(r) if !r.reduced.is_empty() || !r.deleted.is_empty() => tracing::info!(
            reduced = r.reduced.len(),
            deleted = r.deleted.len(),
            photos = r.photos_removed,
            "retention applied"
        ),
        Ok(_) => {}
        Err(e) => tracing::error!(error = e.kind(), "retention failed"),
    }
    if !settings.keep_photo_originals {
        match store.purge_originals(chrono::Utc::now(), false) {
            Ok(removed) if !removed.is_empty() => {
                tracing::info!(files = removed.len(), "imported originals removed")
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = e.kind(), "removing imported originals failed"),
        }
    }
    app.refresh_home();
}

/// Whether to ask the terminal which graphics protocol it speaks. Asking a terminal that
/// never answers leaves a thread blocked reading stdin, which would swallow the clerk's
/// first keys; so only terminals that announce graphics support in the environment are
/// asked (kitty, WezTerm, iTerm2, Ghostty, and not inside tmux). The `preview` setting
/// (`SBK_PREVIEW` or the config file) overrides: "detect" always asks, "halfblocks" never.
pub fn should_query_graphics(env: impl Fn(&str) -> Option<String>) -> bool {
    match env("SBK_PREVIEW").as_deref() {
        Some("halfblocks") => return false,
        Some("detect") => return true,
        _ => {}
    }
    if env("TMUX").is_some_and(|v| !v.is_empty()) {
        return false;
    }
    let term = env("TERM").unwrap_or_default();
    let program = env("TERM_PROGRAM").unwrap_or_default();
    env("KITTY_WINDOW_ID").is_some()
        || env("WEZTERM_EXECUTABLE").is_some_and(|v| !v.is_empty())
        || term.contains("kitty")
        || term.contains("ghostty")
        || matches!(program.as_str(), "iTerm.app" | "WezTerm" | "ghostty")
}

/// How photos are previewed: the terminal's graphics protocol where it has one (asked once,
/// at start), Unicode half-blocks everywhere else (tmux, plain SSH, the Linux console).
fn picker(setting: Option<&str>) -> ratatui_image::picker::Picker {
    use ratatui_image::picker::Picker;
    let env = |k: &str| match k {
        "SBK_PREVIEW" => setting.map(str::to_owned),
        _ => std::env::var(k).ok(),
    };
    if !should_query_graphics(env) {
        return Picker::halfblocks();
    }
    Picker::from_query_stdio().unwrap_or_else(|e| {
        tracing::info!(error = %e, "terminal graphics not detected; using half-blocks");
        Picker::halfblocks()
    })
}

fn event_loop(app: &mut app::App, terminal: &mut Term) -> Result<(), TuiError> {
    let mut full_screen = false;
    while !app.quit {
        if !full_screen {
            terminal.draw(|frame| app.draw(frame))?;
        }
        // Wake now and then even without input: the clock on the screen, a day that turns,
        // the idle lock.
        let Some(event) = app.events.next(Duration::from_millis(1000)) else {
            app.tick();
            continue;
        };
        if full_screen {
            // A photo is shown full screen: the first key (or a resize) takes it away.
            if matches!(
                event,
                events::Event::Terminal(crossterm::event::Event::Key(k))
                    if k.kind != crossterm::event::KeyEventKind::Release
            ) || matches!(
                event,
                events::Event::Terminal(crossterm::event::Event::Resize(..))
            ) {
                leave_full_screen()?;
                full_screen = false;
                // The wizard's screen is gone: make ratatui draw every cell again.
                let size = terminal.size()?;
                terminal.resize(ratatui::layout::Rect::new(0, 0, size.width, size.height))?;
            } else if !matches!(event, events::Event::Terminal(_)) {
                app.handle(event);
            }
            continue;
        }
        app.handle(event);
        app.pump();
        app.tick();
        if let Some(bytes) = app.ctx.view_photo.take() {
            let graphics =
                app.ctx.picker.protocol_type() != ratatui_image::picker::ProtocolType::Halfblocks;
            match show_full_screen(&bytes, graphics) {
                Ok(()) => full_screen = true,
                Err(e) => {
                    tracing::warn!(error = %e.kind(), "a photo could not be shown full screen");
                    let _ = leave_full_screen();
                    app.ctx.fail("无法全屏显示这张照片");
                    let size = terminal.size()?;
                    terminal.resize(ratatui::layout::Rect::new(0, 0, size.width, size.height))?;
                }
            }
        }
    }
    Ok(())
}

/// Show a photo at full terminal size outside the wizard's screen (viuer); the event loop
/// goes back at the next key. `graphics` allows the terminal's graphics protocol;
/// otherwise half-blocks.
fn show_full_screen(bytes: &[u8], graphics: bool) -> std::io::Result<()> {
    use crossterm::{cursor, terminal};
    let image = crate::photo::decode(bytes)
        .map_err(|e| std::io::Error::other(e.to_string()))?
        .image;
    let mut out = std::io::stdout();
    crossterm::execute!(
        out,
        LeaveAlternateScreen,
        terminal::Clear(terminal::ClearType::All),
        cursor::MoveTo(0, 0)
    )?;
    let (_, rows) = terminal::size()?;
    let config = viuer::Config {
        absolute_offset: true,
        x: 0,
        y: 0,
        // Only the height: viuer then keeps the photo's proportions (both would stretch it).
        width: None,
        height: Some(rows.saturating_sub(2) as u32),
        use_kitty: graphics,
        use_iterm: graphics,
        ..Default::default()
    };
    viuer::print(&image, &config).map_err(|e| std::io::Error::other(e.to_string()))?;
    crossterm::execute!(out, cursor::MoveTo(0, rows.saturating_sub(1)))?;
    write!(out, "按任意键返回向导")?;
    out.flush()
}

/// Back from the full-screen photo to the wizard's screen.
fn leave_full_screen() -> std::io::Result<()> {
    use crossterm::terminal;
    crossterm::execute!(
        std::io::stdout(),
        terminal::Clear(terminal::ClearType::All),
        EnterAlternateScreen
    )
}

#[cfg(test)]
mod tests {
    use super::should_query_graphics;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn only_terminals_that_announce_graphics_are_asked() {
        assert!(should_query_graphics(env(&[("TERM", "xterm-kitty")])));
        assert!(should_query_graphics(env(&[("TERM_PROGRAM", "iTerm.app")])));
        assert!(!should_query_graphics(env(&[("TERM", "xterm-256color")])));
        assert!(!should_query_graphics(env(&[
            ("TERM", "xterm-kitty"),
            ("TMUX", "/tmp/t,1,0")
        ])));
        assert!(!should_query_graphics(env(&[
            ("TERM", "xterm-kitty"),
            ("SBK_PREVIEW", "halfblocks")
        ])));
        assert!(should_query_graphics(env(&[
            ("TERM", "linux"),
            ("SBK_PREVIEW", "detect")
        ])));
    }
}
