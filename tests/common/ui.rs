//! The wizard as a clerk meets it, without a terminal: keys and mouse events in, the screen
//! (as text) out. Data are put in place and read back through the store, as another
//! program would; nothing reaches into the wizard's state.

use chrono::{TimeZone, Utc};
use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sbk_counter::domain::{Application, Step};
use sbk_counter::store::{Operator, Store};
use sbk_counter::tui::app::App;
use tempfile::TempDir;

/// The fixed moment every screen test runs at (Beijing 2026-11-24 10:00).
pub fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 2, 0, 0).unwrap()
}

pub fn clerk() -> Operator {
    Operator {
        id: "C001".into(),
        name: "李娜".into(),
    }
}

/// Compare a screen with its snapshot in tests/snapshots (times, folders and whether
/// the delivery worker has run yet filtered out).
pub fn snapshot(name: &str, screen: String) {
    insta::with_settings!({
        filters => vec![
            (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "[time]"),
            (r"照片文件夹 \S+ ", "照片文件夹 [dir] "),
            (r"：/\S+photos", "：[dir]"),
            // Whether the delivery worker has been through once yet.
            (r"● (在线|连接中断|连接中)", "● [sync]"),
        ],
        prepend_module_to_snapshot => false,
        snapshot_path => "../snapshots",
    }, {
        insta::assert_snapshot!(name, screen);
    });
}

pub struct Ui {
    pub dir: TempDir,
    app: Option<App>,
    /// Another window's data directory (the same store), for two windows on one store.
    shared: Option<std::path::PathBuf>,
}

impl Ui {
    /// A clerk's wizard on an empty store, with an empty photo folder.
    pub fn new() -> Ui {
        let dir = TempDir::new().unwrap();
        std::fs::create_dir_all(dir.path().join("photos")).unwrap();
        let mut ui = Ui {
            dir,
            app: None,
            shared: None,
        };
        ui.restart();
        ui
    }

    /// Run on another clock from now on (the store keeps the real one: a screen that reads
    /// what the store did today needs today).
    pub fn set_now(&mut self, now: chrono::DateTime<Utc>) {
        self.app().set_now(now);
    }

    pub fn data_dir(&self) -> std::path::PathBuf {
        match &self.shared {
            Some(d) => d.clone(),
            None => self.dir.path().join("data"),
        }
    }

    /// A second window on the same store (its own photo folder), signed in as C001 too.
    pub fn another_window(&self) -> Ui {
        let dir = TempDir::new().unwrap();
        std::fs::create_dir_all(dir.path().join("photos")).unwrap();
        let mut ui = Ui {
            dir,
            app: None,
            shared: Some(self.data_dir()),
        };
        ui.restart();
        ui
    }

    pub fn photo_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("photos")
    }

    /// Another connection to the wizard's store, for putting data in place and reading
    /// back what the wizard saved.
    pub fn store(&self) -> Store {
        super::signin::open_store(&self.data_dir()).unwrap()
    }

    /// Stop the wizard and start it again on the same store (it reopens what was open).
    pub fn restart(&mut self) {
        self.app = None;
        let session = super::signin::session(&self.data_dir());
        let mut app = App::new(session, self.photo_dir());
        app.set_now(now());
        app.resume();
        self.app = Some(app);
    }

    fn app(&mut self) -> &mut App {
        self.app.as_mut().unwrap()
    }

    /// Connect the running wizard to a central API, as a configured one starts: the
    /// delivery worker beside it and online checks.
    pub fn connect(&mut self, central: &sbk_counter::config::CentralSettings) {
        self.app()
            .start_delivery(central.clone(), std::time::Duration::from_secs(30));
        assert!(
            self.app().ctx.sync.needs_attention.is_none(),
            "{:?}",
            self.app().ctx.sync.needs_attention
        );
    }

    /// Wait (taking in background reports) until `text` is on screen.
    pub fn wait_for(&mut self, text: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            self.settle();
            self.app().tick();
            let screen = self.screen();
            if screen.contains(text) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "“{text}” never appeared:\n{screen}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Put `application` in the store and open it on `step`, as the wizard reopens the
    /// application and step it was on when it last stopped. The "resumed" notice is cleared.
    pub fn open_on(&mut self, application: &Application, step: Step) {
        let store = self.store();
        let op = clerk();
        if !store.contains(application.id).unwrap() {
            let mut store = store;
            store.create(application, &op).unwrap();
            self.put_open(&store, application, step);
        } else {
            self.put_open(&store, application, step);
        }
        self.restart();
        self.key(KeyCode::F(12));
    }

    fn put_open(&self, store: &Store, application: &Application, step: Step) {
        store
            .set_ui_state("open_application", Some(&application.id.to_string()))
            .unwrap();
        store
            .set_ui_state("open_step", Some(&step.number().to_string()))
            .unwrap();
    }

    /// Leave every row of the step once (Tab round and back), as a clerk does who goes
    /// through it: each field's problem shows. The cursor ends where it began.
    pub fn visit_every_row(&mut self) {
        for _ in 0..12 {
            self.key(KeyCode::Tab);
        }
        for _ in 0..12 {
            self.key(KeyCode::BackTab);
        }
    }

    /// The home list shows what the store holds now (as after a change elsewhere).
    pub fn refresh_home(&mut self) {
        self.app().refresh_home();
    }

    pub fn event(&mut self, event: Event) {
        self.app().on_event(event);
    }

    pub fn key(&mut self, code: KeyCode) {
        self.event(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    pub fn keys(&mut self, codes: &[KeyCode]) {
        for c in codes {
            self.key(*c);
        }
    }

    pub fn ctrl(&mut self, c: char) {
        self.event(Event::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::CONTROL,
        )));
    }

    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    pub fn paste(&mut self, text: &str) {
        self.event(Event::Paste(text.into()));
    }

    pub fn click(&mut self, column: u16, row: u16) {
        self.event(Event::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column,
            row,
            modifiers: KeyModifiers::NONE,
        }));
    }

    pub fn scroll_down(&mut self) {
        self.event(Event::Mouse(MouseEvent {
            kind: MouseEventKind::ScrollDown,
            column: 10,
            row: 10,
            modifiers: KeyModifiers::NONE,
        }));
    }

    /// What background work would report (an ID card read, say), sent on the wizard's
    /// event channel as the worker sends it, and taken in.
    pub fn report(&mut self, event: sbk_counter::tui::events::Event) {
        self.app().events.sender().send(event).unwrap();
        self.settle();
    }

    /// Take in what background work reported (between frames, as the event loop does).
    pub fn settle(&mut self) {
        self.app().pump();
    }

    /// Whether the wizard asked to quit.
    pub fn quit(&self) -> bool {
        self.app.as_ref().unwrap().quit
    }

    /// The screen as plain text: each wide (CJK) character once, trailing spaces trimmed.
    pub fn render(&mut self, width: u16, height: u16) -> String {
        let app = self.app.as_mut().unwrap();
        render_with(width, height, |f| app.draw(f))
    }

    /// A clerk added to the store (by the supervisor, elsewhere).
    pub fn store_session_add_clerk(&self, id: &str, password: &str) {
        let mut boss = super::signin::session(&self.data_dir());
        boss.add_operator(
            &sbk_counter::access::NewOperator {
                id: id.into(),
                name: "赵敏".into(),
                role: sbk_counter::store::Role::Clerk,
                password: sbk_counter::keys::Password::new(password),
            },
            8,
        )
        .unwrap();
    }

    /// Open an application from the store, as Enter on the home list does.
    pub fn open_application(&mut self, id: uuid::Uuid) {
        self.refresh_home();
        let rows = self.store().list(None, 200, 0).unwrap();
        let i = rows.iter().position(|r| r.id == id).expect("listed");
        self.key(KeyCode::Home);
        for _ in 0..i {
            self.key(KeyCode::Down);
        }
        self.key(KeyCode::Enter);
    }

    /// Follow the other windows' changes, as the wizard does from its start.
    pub fn follow_store(&mut self) {
        self.app().follow_store();
    }

    /// One tick of the event loop (every second without input).
    pub fn tick(&mut self) {
        self.app().tick();
    }

    /// The open draft's heartbeat, now.
    pub fn heartbeat(&mut self) {
        self.app().heartbeat_now();
    }

    /// Lock the screen now (as Ctrl-L does).
    pub fn lock(&mut self) {
        self.ctrl('l');
    }

    /// Whether the lock screen is up.
    pub fn is_locked(&self) -> bool {
        self.app.as_ref().unwrap().is_locked()
    }

    /// Run the idle timer with `idle` as the limit (it has been idle since the last key).
    /// (The limit goes back to five minutes after: the test's own waiting is not idling.)
    pub fn idle_lock_after(&mut self, idle: std::time::Duration) {
        self.app()
            .set_access(idle, sbk_counter::keys::Policy::default());
        self.app().tick();
        self.app().set_access(
            std::time::Duration::from_secs(300),
            sbk_counter::keys::Policy::default(),
        );
    }
}

/// What `draw` draws, as plain text: each wide (CJK) character once, trailing spaces
/// trimmed.
pub fn render_with(width: u16, height: u16, draw: impl FnOnce(&mut ratatui::Frame)) -> String {
    use unicode_width::UnicodeWidthStr;
    {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(draw).unwrap();
        let buf = terminal.backend().buffer();
        let mut out = String::new();
        for y in 0..height {
            let mut line = String::new();
            let mut x = 0;
            while x < width {
                let symbol = buf[(x, y)].symbol();
                line.push_str(symbol);
                x += symbol.width().max(1) as u16;
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

impl Ui {
    /// The screen at 80×24, the smallest the wizard draws.
    pub fn screen(&mut self) -> String {
        self.render(80, 24)
    }

    /// The row of the first line showing `text`, on an 80×24 screen.
    pub fn row_of(&mut self, text: &str) -> u16 {
        let screen = self.screen();
        screen
            .lines()
            .position(|l| l.contains(text))
            .unwrap_or_else(|| panic!("“{text}” is not on screen:\n{screen}")) as u16
    }
}
