//! The sign-in before the wizard as a clerk meets it, without a terminal: keys in, the
//! screen as text out; the slow part (Argon2) on its thread as in the real program.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use sbk_counter::access::{Rules, Session};
use sbk_counter::keys::Kdf;
use sbk_counter::tui::events::{Event as AppEvent, Events};
use sbk_counter::tui::signin::{Gate, GateSettings};

use super::ui::render_with;

pub struct GateUi {
    pub gate: Gate,
    events: Events,
}

impl GateUi {
    /// The gate for the data directory `data` (new, or set up), 工号 `default_id` filled in.
    pub fn new(data: &std::path::Path, default_id: Option<&str>) -> GateUi {
        let events = Events::default();
        let gate = Gate::new(
            GateSettings {
                location: super::signin::location(data),
                rules: Rules::default(),
                default_id: default_id.map(str::to_owned),
                legacy_key: None,
                kdf: Some(Kdf::FOR_TESTS),
            },
            events.sender(),
        );
        GateUi { gate, events }
    }

    pub fn key(&mut self, code: KeyCode) {
        self.gate
            .on_event(AppEvent::Terminal(Event::Key(KeyEvent::new(
                code,
                KeyModifiers::NONE,
            ))));
    }

    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    /// Type `text` into the focused field and press Enter.
    pub fn enter(&mut self, text: &str) {
        self.type_text(text);
        self.key(KeyCode::Enter);
    }

    /// Wait for what the sign-in thread reports, and take it in.
    pub fn settle(&mut self) {
        let event = self
            .events
            .next(std::time::Duration::from_secs(20))
            .expect("the sign-in thread answers");
        self.gate.on_event(event);
    }

    pub fn done(&mut self) -> Option<Session> {
        self.gate.done.take()
    }

    pub fn screen(&mut self) -> String {
        let gate = &self.gate;
        render_with(80, 24, |f| gate.draw(f))
    }
}
