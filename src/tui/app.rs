//! The application state and the home screen (工作台). Input becomes changes here and in
//! `wizard.rs`; `draw.rs` draws whatever the state is.

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use uuid::Uuid;

use super::wizard::{Page, Wizard};
use crate::domain::{Application, Status, Step};
use crate::store::{Operator, Store, Summary};

pub use crate::domain::dates::beijing;

pub enum Screen {
    Home(Home),
    Wizard(Box<Wizard>),
}

/// The home screen: the list, the live search, the counts.
#[derive(Default)]
pub struct Home {
    pub query: String,
    pub searching: bool,
    pub rows: Vec<Summary>,
    pub selected: usize,
    pub counts: Vec<(Status, usize)>,
}

/// A transient message on the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
}

/// Dialogs over the current screen.
pub enum Popup {
    Choice(super::wizard::ChoicePopup),
    Files(super::files::FilePopup),
    /// 是否确认提交个人申领: which button is selected (true = 确定).
    ConfirmSubmit(bool),
    /// 确认撤回 a queued application.
    ConfirmWithdraw(Uuid, bool),
    Help,
    /// Moving and zooming the crop of a card photo that did not pass.
    Crop(Box<super::photo_ui::CropEditor>),
    /// The registry's data beside what the clerk typed, where they differ: Enter takes
    /// the registered values, Esc keeps what was typed.
    Registered(Vec<super::wizard::Difference>),
    /// What the ID card says beside what the form holds, where they differ: per field,
    /// the clerk picks which to keep.
    Recognised(super::recognise::ConflictPopup),
}

pub struct App {
    pub store: Store,
    pub operator: Operator,
    pub photo_dir: PathBuf,
    pub screen: Screen,
    pub popup: Option<Popup>,
    pub notice: Option<Notice>,
    pub quit: bool,
    /// A fixed clock for tests and snapshots; the system clock otherwise.
    pub fixed_now: Option<DateTime<Utc>>,
    /// Applications waiting for delivery, for the status bar; refreshed when statuses change,
    /// never per frame.
    pub queued: usize,
    /// A photo to show full screen outside the wizard (the event loop does it, then redraws).
    pub view_photo: Option<Vec<u8>>,
    /// How photo previews are drawn (detected once at start).
    pub picker: ratatui_image::picker::Picker,
    /// Where the last frame drew each clickable row (rect, row index), for the mouse.
    pub hits: std::cell::RefCell<Vec<(ratatui::layout::Rect, usize)>>,
    /// Delivery and online checks, when a central API is configured.
    pub background: Option<super::background::Background>,
    /// What the status bar says about delivery.
    pub sync: super::background::SyncView,
    /// `sbk demo`: every screen says 演示模式.
    pub demo: bool,
    /// An ID card photo being read.
    pub recognising: Option<super::recognise::Pending>,
}

/// Rows shown on the home screen.
pub const HOME_ROWS: usize = 200;

const UI_OPEN: &str = "open_application";
const UI_STEP: &str = "open_step";

impl App {
    pub fn new(store: Store, operator: Operator, photo_dir: PathBuf) -> App {
        let mut app = App {
            store,
            operator,
            photo_dir,
            screen: Screen::Home(Home::default()),
            popup: None,
            notice: None,
            quit: false,
            fixed_now: None,
            queued: 0,
            view_photo: None,
            picker: ratatui_image::picker::Picker::halfblocks(),
            hits: Default::default(),
            background: None,
            recognising: None,
            sync: Default::default(),
            demo: false,
        };
        app.refresh_home();
        app
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.fixed_now.unwrap_or_else(Utc::now)
    }

    pub fn today(&self) -> NaiveDate {
        crate::domain::dates::beijing_date(self.now())
    }

    pub fn notify(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice {
            text: text.into(),
            error: false,
        });
    }

    pub fn fail(&mut self, text: impl Into<String>) {
        let text = text.into();
        // Which application, never the words: a message may quote what was typed (a photo's
        // file name, a character of a name, the digits of a number).
        let application = match &self.screen {
            Screen::Wizard(w) => Some(w.app.id),
            Screen::Home(_) => None,
        };
        tracing::warn!(?application, "an error was shown to the clerk");
        self.notice = Some(Notice { text, error: true });
    }

    /// Reopen the application and step that were on screen when `sbk` last stopped.
    pub fn resume(&mut self) {
        let Ok(Some(id)) = self.store.ui_state(UI_OPEN) else {
            return;
        };
        let step = self
            .store
            .ui_state(UI_STEP)
            .ok()
            .flatten()
            .and_then(|s| s.parse::<u8>().ok())
            .and_then(|n| Step::ALL.into_iter().find(|s| s.number() == n));
        if let Ok(id) = Uuid::parse_str(&id)
            && let Ok(app) = self.store.get(id)
        {
            let page = match step {
                Some(s) if app.status.is_editable() => Page::Step(s),
                _ => Page::Progress,
            };
            self.audit_view(app.id, "wizard resumed");
            self.open(app, page);
            self.notify("已恢复上次未完成的申请，所有已输入的内容都在");
        }
    }

    /// Record that this operator looked at an application (`how`: where from).
    fn audit_view(&mut self, id: Uuid, how: &str) {
        if let Err(e) = self.store.audit(
            &self.operator,
            crate::store::AuditAction::View,
            Some(id),
            Some(how),
        ) {
            tracing::error!(error = e.kind(), "could not audit a view");
        }
    }

    /// Open an application in the wizard on `page`, remembering it for a restart.
    pub fn open(&mut self, app: Application, page: Page) {
        let _ = self.store.set_ui_state(UI_OPEN, Some(&app.id.to_string()));
        let wizard = Wizard::new(app, page);
        self.remember_page(&wizard);
        self.screen = Screen::Wizard(Box::new(wizard));
        self.load_history();
        self.refresh_thumbnails();
    }

    pub fn remember_page(&self, wizard: &Wizard) {
        let step = match wizard.page {
            Page::Step(s) => Some(s.number().to_string()),
            Page::Progress => None,
        };
        let _ = self.store.set_ui_state(UI_STEP, step.as_deref());
    }

    pub fn go_home(&mut self) {
        let _ = self.store.set_ui_state(UI_OPEN, None);
        let _ = self.store.set_ui_state(UI_STEP, None);
        self.screen = Screen::Home(Home::default());
        self.popup = None;
        self.refresh_home();
    }

    /// Take in what the background threads report (between frames; never blocks).
    pub fn poll_background(&mut self) {
        let Some(bg) = &self.background else {
            return;
        };
        let passes = bg.passes();
        let replies = bg.eligibility_replies();
        let mut changed = false;
        for pass in passes {
            changed |= pass.delivered + pass.returned + pass.progressed > 0;
            self.sync.online = Some(pass.online);
            self.sync.last_error = if pass.online && pass.retrying == 0 {
                None
            } else {
                pass.last_error.clone()
            };
            self.sync.needs_attention = pass.needs_attention.clone();
            if pass.waiting == 0 {
                self.sync.batch_total = 0;
            } else {
                self.sync.batch_total = self.sync.batch_total.max(pass.waiting);
            }
            if pass.delivered > 0 {
                self.notify(format!("已有 {} 件申请送达社保卡系统", pass.delivered));
            }
            if pass.returned > 0 {
                self.fail(format!(
                    "有 {} 件申请被退回，请在工作台查看原因并修改",
                    pass.returned
                ));
            }
        }
        for reply in replies {
            self.apply_eligibility(reply);
        }
        if changed {
            match &mut self.screen {
                Screen::Home(_) => self.refresh_home(),
                Screen::Wizard(w) => {
                    if let Ok(app) = self.store.get(w.app.id)
                        && app.status != w.app.status
                    {
                        w.app = app;
                    }
                    self.refresh_queued();
                    self.load_history();
                }
            }
        }
    }

    /// Recount the applications waiting for delivery.
    pub fn refresh_queued(&mut self) {
        self.queued = self
            .store
            .counts()
            .ok()
            .and_then(|c| c.into_iter().find(|(s, _)| *s == Status::Queued))
            .map_or(0, |(_, n)| n);
    }

    /// Reload the home list (search results if a query is typed) and the counts.
    pub fn refresh_home(&mut self) {
        let Screen::Home(home) = &mut self.screen else {
            self.refresh_queued();
            return;
        };
        let rows = if home.query.trim().is_empty() {
            self.store.list(None, HOME_ROWS, 0)
        } else {
            self.store.search(&home.query, HOME_ROWS)
        };
        match rows {
            Ok(rows) => home.rows = rows,
            Err(e) => {
                let msg = format!("读取申请列表失败：{e}");
                self.fail(msg);
                return;
            }
        }
        home.counts = self.store.counts().unwrap_or_default();
        self.queued = home
            .counts
            .iter()
            .find(|(s, _)| *s == Status::Queued)
            .map_or(0, |(_, n)| *n);
        home.selected = home.selected.min(home.rows.len().saturating_sub(1));
    }

    pub fn on_event(&mut self, event: Event) {
        match event {
            Event::Key(key) if key.kind != KeyEventKind::Release => self.on_key(key),
            Event::Paste(text) => self.on_paste(&text),
            Event::Mouse(mouse) => self.on_mouse(mouse),
            _ => {}
        }
    }

    fn on_key(&mut self, key: KeyEvent) {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('q')) {
            self.quit = true;
            return;
        }
        if self.popup.is_some() {
            self.on_popup_key(key);
            return;
        }
        if key.code == KeyCode::F(1) {
            self.popup = Some(Popup::Help);
            return;
        }
        self.notice = None;
        if matches!(self.screen, Screen::Home(_)) {
            self.on_home_key(key);
        } else {
            self.on_wizard_key(key);
        }
    }

    fn on_paste(&mut self, text: &str) {
        // Control characters (newlines, escapes) never reach a field.
        let clean: String = text.chars().filter(|c| !c.is_control()).collect();
        match (&mut self.popup, &mut self.screen) {
            (Some(Popup::Choice(c)), _) => {
                c.filter.push_str(&clean);
                c.selected = 0;
            }
            (Some(Popup::Files(f)), _) => f.input.push_str(&clean),
            (Some(Popup::Crop(_)), _) => {}
            (None, Screen::Home(home)) if home.searching => {
                home.query.push_str(&clean);
                self.refresh_home();
            }
            (None, Screen::Wizard(_)) => self.paste_into_field(&clean),
            _ => {}
        }
    }

    fn on_home_key(&mut self, key: KeyEvent) {
        let Screen::Home(home) = &mut self.screen else {
            return;
        };
        if home.searching {
            match key.code {
                KeyCode::Esc => {
                    home.searching = false;
                    home.query.clear();
                }
                KeyCode::Enter => home.searching = false,
                KeyCode::Backspace => {
                    home.query.pop();
                }
                KeyCode::Up => home.selected = home.selected.saturating_sub(1),
                KeyCode::Down => home.selected += 1,
                KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                    home.query.push(c);
                    home.selected = 0;
                }
                _ => return,
            }
            self.refresh_home();
            return;
        }
        match key.code {
            KeyCode::Char('q') => self.quit = true,
            KeyCode::Char('/') => home.searching = true,
            KeyCode::Esc if !home.query.is_empty() => {
                home.query.clear();
                self.refresh_home();
            }
            KeyCode::Up | KeyCode::Char('k') => home.selected = home.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => {
                home.selected = (home.selected + 1).min(home.rows.len().saturating_sub(1))
            }
            KeyCode::PageUp => home.selected = home.selected.saturating_sub(10),
            KeyCode::PageDown => {
                home.selected = (home.selected + 10).min(home.rows.len().saturating_sub(1))
            }
            KeyCode::Home => home.selected = 0,
            KeyCode::End => home.selected = home.rows.len().saturating_sub(1),
            KeyCode::Char('n') => self.new_application(),
            KeyCode::Enter => self.open_selected(),
            KeyCode::Char('w') => {
                if let Some(row) = home.rows.get(home.selected) {
                    if row.status == Status::Queued {
                        self.popup = Some(Popup::ConfirmWithdraw(row.id, false));
                    } else {
                        self.fail("只有“待同步”的申请可以撤回");
                    }
                }
            }
            KeyCode::Char('?') => self.popup = Some(Popup::Help),
            _ => {}
        }
    }

    fn new_application(&mut self) {
        let app = Application::new(self.now());
        match self.store.create(&app, &self.operator) {
            Ok(()) => {
                tracing::info!(application = %app.id, "new application");
                self.open(app, Page::Step(Step::Disclaimer));
            }
            Err(e) => self.fail(format!("无法新建申请：{e}")),
        }
    }

    fn open_selected(&mut self) {
        let Screen::Home(home) = &self.screen else {
            return;
        };
        let Some(row) = home.rows.get(home.selected) else {
            return;
        };
        match self.store.get(row.id) {
            Ok(app) => {
                let page = if app.status.is_editable() {
                    Page::Step(super::wizard::first_unfinished_step(&app, self.today()))
                } else {
                    Page::Progress
                };
                // Every opening of a person's application is on record, whatever its status.
                self.audit_view(app.id, "wizard");
                self.open(app, page);
            }
            Err(e) => self.fail(format!("无法打开申请：{e}")),
        }
    }

    pub(super) fn withdraw(&mut self, id: Uuid) {
        match self.store.withdraw(id, &self.operator) {
            Ok(_) => self.notify("已撤回，申请回到草稿，可以继续修改"),
            Err(e) => self.fail(format!("撤回失败：{e}")),
        }
        self.refresh_home();
    }
}
