//! The app: which screen is shown, the popup over it, and what every input comes to. Input
//! goes to the popup if one is open, else to the screen; what they decide (an `Outcome`) is
//! carried out here. Drawing draws the header, the screen, the status line, the footer
//! (the hints of whatever takes the keys) and the popup, and keeps where the screen's rows
//! went, for the mouse.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use crossterm::event::{
    Event as TermEvent, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent,
    MouseEventKind,
};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use uuid::Uuid;

use super::background::Background;
use super::ctx::Ctx;
use super::day::DayScreen;
use super::events::AccessReply;
use super::events::{Event, Events};
use super::home::{Hits, Home};
use super::operators::OperatorsScreen;
use super::outcome::Outcome;
use super::popups::Popup;
use super::signin::{LockReply, LockScreen};
use super::theme::{MIN_HEIGHT, MIN_WIDTH, dim, pack, prose};
use super::wizard::{Page, Wizard, first_unfinished_step};
use crate::access::Session;
use crate::config::CentralSettings;
use crate::domain::{Application, Step};
use crate::keys::Policy;

pub enum Screen {
    Home(Home),
    Wizard(Box<Wizard>),
    /// 操作员管理 (supervisors).
    Operators(OperatorsScreen),
    Day(DayScreen),
}

pub struct App {
    pub ctx: Ctx,
    screen: Screen,
    popup: Option<Popup>,
    /// Over everything while the screen is locked.
    lock: Option<LockScreen>,
    /// No input for this long locks the screen.
    idle_lock: Duration,
    last_input: Instant,
    /// Sign-in rules (for unlocking and switching operator).
    policy: Policy,
    /// Where the last frame drew the screen's rows.
    hits: Hits,
    pub quit: bool,
    pub events: Events,
    /// How to start delivery again for another operator (after a switch).
    delivery: Option<(CentralSettings, Duration)>,
    /// Another window changed the store since the list was last read.
    store_changed: bool,
    /// The SQLite file's data version when last looked at (another process's changes).
    data_version: Option<i64>,
}

impl App {
    pub fn new(session: Session, photo_dir: PathBuf) -> App {
        App::with_events(session, photo_dir, Events::default())
    }

    /// The wizard for a signed-in `session`, on an event channel that already exists (the
    /// sign-in before it used it).
    pub fn with_events(session: Session, photo_dir: PathBuf, events: Events) -> App {
        let operator = session.operator();
        let data_dir = match session.location() {
            crate::access::Location::File(dir) => dir.clone(),
            crate::access::Location::Server(_) => photo_dir.clone(),
        };
        let mut ctx = Ctx {
            session,
            operator,
            photo_dir,
            fixed_now: None,
            picker: ratatui_image::picker::Picker::halfblocks(),
            background: None,
            sync: Default::default(),
            queued: 0,
            demo: false,
            notice: None,
            view_photo: None,
            open_application: None,
            events: events.sender(),
            min_password: 8,
            receipt: crate::config::ReceiptSettings {
                centre: "北京市社会保障卡服务网点".into(),
                window: None,
                paper: Default::default(),
                font: None,
            },
            data_dir,
        };
        let home = Home::new(&mut ctx);
        App {
            ctx,
            screen: Screen::Home(home),
            popup: None,
            lock: None,
            idle_lock: Duration::from_secs(300),
            last_input: Instant::now(),
            policy: Policy::default(),
            hits: Hits::new(),
            quit: false,
            events,
            delivery: None,
            store_changed: false,
            data_version: None,
        }
    }

    /// Follow the other windows' changes: a centre's server notifies (on a thread of its
    /// own); an SQLite file is asked for its data version at every tick.
    pub fn follow_store(&mut self) {
        self.data_version = self.ctx.session.store.data_version();
        if let crate::access::Location::Server(server) = self.ctx.session.location().clone() {
            let tx = self.events.sender();
            let _ = std::thread::Builder::new()
                .name("sbk-follow".into())
                .spawn(move || {
                    crate::store::server::follow_changes(&server, |_| {
                        tx.send(Event::StoreChanged).is_ok()
                    })
                });
        }
    }

    /// The list again, if another window changed the store.
    fn take_store_changes(&mut self) {
        if let Some(v) = self.ctx.session.store.data_version()
            && self.data_version != Some(v)
        {
            // (Our own writes change it too: a refresh then costs a list read, no more.)
            self.data_version = Some(v);
            self.store_changed = true;
        }
        if std::mem::take(&mut self.store_changed) {
            match &mut self.screen {
                Screen::Home(home) => home.refresh(&mut self.ctx),
                Screen::Wizard(w) => w.reload(&mut self.ctx),
                Screen::Operators(_) | Screen::Day(_) => {}
            }
            self.ctx.refresh_queued();
        }
    }

    /// Lock after `idle` without input; `policy` for the passwords typed to unlock.
    pub fn set_access(&mut self, idle: Duration, policy: Policy) {
        self.idle_lock = idle;
        self.policy = policy;
    }

    /// Start the delivery worker (and online checks) for the signed-in operator.
    pub fn start_delivery(&mut self, central: CentralSettings, poll: Duration) {
        self.ctx.sync.configured = true;
        let store = self.ctx.session.open_store();
        let started = store.map_err(|e| e.to_string()).and_then(|store| {
            Background::start(
                &central,
                store,
                &self.ctx.operator,
                poll,
                self.events.sender(),
            )
            .map_err(|e| e.to_string())
        });
        match started {
            Ok(bg) => {
                self.ctx.background = Some(bg);
                self.ctx.sync.needs_attention = None;
            }
            Err(e) => self.ctx.sync.needs_attention = Some(e),
        }
        self.delivery = Some((central, poll));
    }

    /// Whether the lock screen is up.
    pub fn is_locked(&self) -> bool {
        self.lock.is_some()
    }

    /// Lock the screen (`idle`: by the idle timer), audited.
    pub fn lock(&mut self, idle: bool) {
        if self.lock.is_some() {
            return;
        }
        self.popup = None;
        if let Err(e) = self.ctx.session.record_lock(idle) {
            tracing::error!(error = %e, "could not audit a lock");
        }
        tracing::info!(idle, "screen locked");
        let mut lock = LockScreen::new(&self.ctx.operator.id, &self.ctx.operator.name, idle);
        if self.ctx.demo {
            lock.demo_password = Some(crate::demo::DEMO_PASSWORD);
        }
        self.lock = Some(lock);
    }

    /// Called now and then by the event loop: locks the screen once input has been idle
    /// long enough.
    pub fn tick(&mut self) {
        if self.lock.is_none() && self.last_input.elapsed() >= self.idle_lock {
            self.lock(true);
        }
        if let Screen::Wizard(w) = &mut self.screen {
            w.heartbeat(&mut self.ctx, false);
        }
        self.take_store_changes();
    }

    /// Renew the open draft's lease now (tests; the event loop does it every 15 s).
    pub fn heartbeat_now(&mut self) {
        if let Screen::Wizard(w) = &mut self.screen {
            w.heartbeat(&mut self.ctx, true);
        }
    }

    /// A password typed on the lock screen was checked on a thread.
    fn on_verified(&mut self, id: String, verdict: crate::access::Verdict) {
        let Some(lock) = &mut self.lock else { return };
        let account = self
            .ctx
            .session
            .finish_verify(&id, verdict, self.policy, chrono::Utc::now());
        let account = match account {
            Ok(a) => a,
            Err(e) => return lock.refused(e.to_string()),
        };
        if account.must_change {
            return lock.refused(
                "该工号的密码已由负责人重置：请退出后重新打开 sbk 登录，设置新密码".into(),
            );
        }
        if account.id == self.ctx.operator.id {
            if let Err(e) = self.ctx.session.record_unlock() {
                tracing::error!(error = %e, "could not audit an unlock");
            }
            self.lock = None;
            self.last_input = Instant::now();
            self.ctx.notify("已解锁");
            return;
        }
        // Another operator: the one before is signed out, their application closed.
        if let Err(e) = self.ctx.session.switch_to(account) {
            return lock.refused(e.to_string());
        }
        self.ctx.operator = self.ctx.session.operator();
        self.lock = None;
        self.last_input = Instant::now();
        self.go_home();
        if let Some((central, poll)) = self.delivery.clone() {
            self.ctx.background = None;
            self.start_delivery(central, poll);
        }
        tracing::info!("operator switched");
        self.ctx.notify(format!(
            "已换为 {}（{}）登录",
            self.ctx.operator.name, self.ctx.operator.id
        ));
    }

    /// Run on a fixed clock (tests and snapshots).
    pub fn set_now(&mut self, now: DateTime<Utc>) {
        self.ctx.fixed_now = Some(now);
    }

    /// Reopen the application and step that were on screen when `sbk` last stopped.
    pub fn resume(&mut self) {
        let Some((id, step)) = super::wizard::remembered(&self.ctx) else {
            return;
        };
        if let Ok(app) = self.ctx.session.store.get(id) {
            let page = match step {
                Some(s) if app.status.is_editable() => Page::Step(s),
                _ => Page::Progress,
            };
            self.ctx.audit_view(app.id, "wizard resumed");
            self.open(app, page);
            self.ctx
                .notify("已恢复上次未完成的申请，所有已输入的内容都在");
        }
    }

    /// Show `app` in the wizard on `page` (and remember it, for a restart).
    pub fn open(&mut self, app: Application, page: Page) {
        self.close_application();
        self.ctx.open_application = Some(app.id);
        let wizard = Wizard::open(app, page, &mut self.ctx);
        super::wizard::remember_page(&wizard, &self.ctx);
        self.screen = Screen::Wizard(Box::new(wizard));
    }

    /// Close what is open (the draft's lease goes back): going home, quitting.
    pub fn close_application(&mut self) {
        if let Screen::Wizard(w) = &mut self.screen {
            w.close(&mut self.ctx);
        }
    }

    fn go_home(&mut self) {
        self.close_application();
        super::wizard::forget_page(&self.ctx);
        self.ctx.open_application = None;
        self.screen = Screen::Home(Home::new(&mut self.ctx));
        self.popup = None;
    }

    /// Open an application from the list: an editable one where it continues, one that
    /// left the counter on its progress page.
    fn open_by_id(&mut self, id: Uuid) {
        match self.ctx.session.store.get(id) {
            Ok(app) => {
                let page = if app.status.is_editable() {
                    Page::Step(first_unfinished_step(&app, self.ctx.today()))
                } else {
                    Page::Progress
                };
                // Every opening of a person's application is on record, whatever its status.
                self.ctx.audit_view(app.id, "wizard");
                self.open(app, page);
            }
            Err(e) => self.ctx.fail(format!("无法打开申请：{e}")),
        }
    }

    fn new_application(&mut self) {
        let app = Application::new(self.ctx.now());
        match self.ctx.session.store.create(&app, &self.ctx.operator) {
            Ok(()) => {
                tracing::info!(application = %app.id, "new application");
                self.open(app, Page::Step(Step::Disclaimer));
            }
            Err(e) => self.ctx.fail(format!("无法新建申请：{e}")),
        }
    }

    /// Reload the home list from the store (after a change made elsewhere).
    pub fn refresh_home(&mut self) {
        match &mut self.screen {
            Screen::Home(home) => home.refresh(&mut self.ctx),
            Screen::Wizard(_) | Screen::Operators(_) | Screen::Day(_) => self.ctx.refresh_queued(),
        }
    }

    /// Handle everything already waiting on the event channel (background reports), without
    /// waiting: what the event loop does between frames.
    pub fn pump(&mut self) {
        while let Some(event) = self.events.try_next() {
            self.handle(event);
        }
        if std::mem::take(&mut self.store_changed) {
            self.store_changed = true;
            self.take_store_changes();
        }
    }

    pub fn handle(&mut self, event: Event) {
        match event {
            Event::Terminal(e) => {
                if matches!(
                    e,
                    TermEvent::Key(_) | TermEvent::Paste(_) | TermEvent::Mouse(_)
                ) {
                    self.last_input = Instant::now();
                }
                if self.lock.is_some() {
                    return self.on_locked_input(e);
                }
                self.on_terminal(e)
            }
            Event::Delivery(pass) => self.on_delivery(pass),
            Event::StoreChanged => self.store_changed = true,
            Event::Access(reply) => {
                if let AccessReply::Verified { id, verdict } = *reply {
                    self.on_verified(id, verdict);
                }
            }
            other => {
                let outcome = match &mut self.screen {
                    Screen::Wizard(w) => w.on_event(other, &mut self.ctx),
                    Screen::Home(_) | Screen::Operators(_) | Screen::Day(_) => Outcome::Done,
                };
                self.carry_out(outcome);
            }
        }
    }

    /// Input while the screen is locked: only the lock screen takes it.
    fn on_locked_input(&mut self, event: TermEvent) {
        let Some(lock) = &mut self.lock else { return };
        match event {
            TermEvent::Key(key) if key.kind != KeyEventKind::Release => {
                let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
                if ctrl && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('q')) {
                    self.quit = true;
                    return;
                }
                if let LockReply::Verify(id, password) = lock.on_key(key) {
                    let verifier = match self.ctx.session.verifier(&id) {
                        Ok(v) => v,
                        Err(e) => return lock.refused(e.to_string()),
                    };
                    let (policy, tx) = (self.policy, self.events.sender());
                    let _ =
                        std::thread::Builder::new()
                            .name("sbk-unlock".into())
                            .spawn(move || {
                                let verdict =
                                    verifier.check(&id, &password, policy, chrono::Utc::now());
                                let _ = tx.send(Event::Access(Box::new(AccessReply::Verified {
                                    id,
                                    verdict,
                                })));
                            });
                }
            }
            TermEvent::Paste(text) => {
                let clean: String = text.chars().filter(|c| !c.is_control()).collect();
                lock.on_paste(&clean);
            }
            _ => {}
        }
    }

    /// Input from the terminal (as tests send it too).
    pub fn on_event(&mut self, event: TermEvent) {
        self.handle(Event::Terminal(event));
    }

    fn on_terminal(&mut self, event: TermEvent) {
        match event {
            TermEvent::Key(key) if key.kind != KeyEventKind::Release => self.on_key(key),
            TermEvent::Paste(text) => {
                // Control characters (newlines, escapes) never reach a field.
                let clean: String = text.chars().filter(|c| !c.is_control()).collect();
                match (&mut self.popup, &mut self.screen) {
                    (Some(p), _) => p.on_paste(&clean),
                    (None, Screen::Home(home)) => home.on_paste(&clean, &mut self.ctx),
                    (None, Screen::Wizard(w)) => w.on_paste(&clean, &mut self.ctx),
                    (None, Screen::Operators(_) | Screen::Day(_)) => {}
                }
            }
            TermEvent::Mouse(mouse) => self.on_mouse(mouse),
            _ => {}
        }
    }

    fn on_key(&mut self, key: KeyEvent) {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('q')) {
            self.quit = true;
            return;
        }
        if ctrl && key.code == KeyCode::Char('l') {
            self.lock(false);
            return;
        }
        if let Some(popup) = &mut self.popup {
            let reply = popup.on_key(key, &mut self.ctx);
            self.carry_out(reply.into());
            return;
        }
        if key.code == KeyCode::F(1) {
            let help = match &self.screen {
                Screen::Home(home) => home.help(),
                Screen::Wizard(w) => w.help(),
                Screen::Operators(o) => o.help(),
                Screen::Day(d) => d.help(),
            };
            self.popup = Some(Popup::Help(help));
            return;
        }
        self.ctx.notice = None;
        let outcome = match &mut self.screen {
            Screen::Home(home) => home.on_key(key, &mut self.ctx),
            Screen::Wizard(w) => w.on_key(key, &mut self.ctx),
            Screen::Operators(o) => o.on_key(key, &mut self.ctx),
            Screen::Day(d) => d.on_key(key, &mut self.ctx),
        };
        self.carry_out(outcome);
    }

    fn on_mouse(&mut self, mouse: MouseEvent) {
        if self.popup.is_some() {
            return;
        }
        let outcome = match mouse.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                let at = ratatui::layout::Position::new(mouse.column, mouse.row);
                let Some(i) = self
                    .hits
                    .iter()
                    .find(|(r, _)| r.contains(at))
                    .map(|(_, i)| *i)
                else {
                    return;
                };
                match &mut self.screen {
                    Screen::Home(home) => home.on_click(i),
                    Screen::Wizard(w) => w.on_click(i, &mut self.ctx),
                    Screen::Operators(o) => o.on_click(i),
                    Screen::Day(d) => d.on_click(i),
                }
            }
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let down = mouse.kind == MouseEventKind::ScrollDown;
                match &mut self.screen {
                    Screen::Home(home) => home.on_scroll(down),
                    Screen::Wizard(w) => w.on_scroll(down, &mut self.ctx),
                    Screen::Operators(_) | Screen::Day(_) => {}
                }
                Outcome::Done
            }
            _ => Outcome::Done,
        };
        self.carry_out(outcome);
    }

    fn carry_out(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Ignored | Outcome::Done => {}
            Outcome::Open(popup) => self.popup = Some(popup),
            Outcome::Close => self.popup = None,
            Outcome::Act(action) => {
                self.popup = None;
                let next = match &mut self.screen {
                    Screen::Home(home) => home.on_action(action, &mut self.ctx),
                    Screen::Wizard(w) => w.on_action(action, &mut self.ctx),
                    Screen::Operators(o) => o.on_action(action, &mut self.ctx),
                    Screen::Day(_) => Outcome::Done,
                };
                self.carry_out(next);
            }
            Outcome::Home => self.go_home(),
            Outcome::OpenApplication(id) => self.open_by_id(id),
            Outcome::New => self.new_application(),
            Outcome::Day => {
                if self.ctx.session.account.is_supervisor() {
                    self.screen = Screen::Day(DayScreen::new(&mut self.ctx));
                } else {
                    self.ctx.fail("工作日报只有负责人可以查看");
                }
            }
            Outcome::Operators => {
                if self.ctx.session.account.is_supervisor() {
                    self.screen = Screen::Operators(OperatorsScreen::new(&mut self.ctx));
                } else {
                    self.ctx.fail("只有负责人可以管理操作员");
                }
            }
            Outcome::Quit => self.quit = true,
        }
    }

    /// A delivery pass finished: the header, a notice, and what it changed.
    fn on_delivery(&mut self, pass: crate::sync::PassReport) {
        self.ctx.sync.passed(&pass);
        if pass.delivered > 0 {
            self.ctx
                .notify(format!("已有 {} 件申请送达社保卡系统", pass.delivered));
        }
        if pass.returned > 0 {
            self.ctx.fail(format!(
                "有 {} 件申请被退回，请在工作台查看原因并修改",
                pass.returned
            ));
        }
        if pass.delivered + pass.returned + pass.progressed > 0 {
            match &mut self.screen {
                Screen::Home(home) => home.refresh(&mut self.ctx),
                Screen::Operators(_) => self.ctx.refresh_queued(),
                Screen::Day(d) => {
                    d.refresh(&mut self.ctx);
                    self.ctx.refresh_queued();
                }
                Screen::Wizard(w) => {
                    w.reload(&mut self.ctx);
                    self.ctx.refresh_queued();
                }
            }
        }
    }

    pub fn draw(&mut self, frame: &mut Frame) {
        let area = frame.area();
        self.hits.clear();
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            let msg = format!(
                "终端窗口太小：至少需要 {MIN_WIDTH}×{MIN_HEIGHT}，当前 {}×{}。\n请放大窗口。",
                area.width, area.height
            );
            frame.render_widget(prose(msg, area), area);
            return;
        }
        // A long message (why submitting is refused, say) gets a second line rather than
        // being cut off where it says what to do.
        let notice_lines: Vec<String> = self
            .ctx
            .notice
            .as_ref()
            .map(|n| pack(std::slice::from_ref(&n.text), area.width as usize + 1, 0))
            .unwrap_or_default();
        let notice_rows = notice_lines.len().clamp(1, 3) as u16;
        let [header, bar, body, notice, keys] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Min(1),
            Constraint::Length(notice_rows),
            Constraint::Length(1),
        ])
        .areas(area);
        super::header::draw(frame, &self.ctx, header);
        if let Some(lock) = &self.lock {
            // Nothing of the screen beneath: no list, no form, no status line.
            lock.draw(frame, body);
            frame.render_widget(Paragraph::new(LockScreen::HINTS).style(dim()), keys);
            return;
        }
        let today = self.ctx.today();
        self.hits = match &mut self.screen {
            Screen::Home(home) => {
                home.draw_bar(frame, bar);
                home.draw(frame, body)
            }
            Screen::Wizard(w) => {
                w.keep_report_current(today);
                w.draw_bar(frame, bar);
                w.draw(frame, body)
            }
            Screen::Operators(o) => {
                o.draw_bar(frame, bar);
                o.draw(frame, body)
            }
            Screen::Day(d) => {
                d.draw_bar(frame, bar);
                d.draw(frame, body)
            }
        };
        if let Some(n) = &self.ctx.notice {
            let style = if n.error {
                Style::default().fg(Color::Red).add_modifier(Modifier::BOLD)
            } else {
                Style::default().fg(Color::Green)
            };
            let lines: Vec<Line> = notice_lines
                .iter()
                .map(|l| Line::from(Span::styled(l.as_str(), style)))
                .collect();
            frame.render_widget(Paragraph::new(lines), notice);
        }
        let hints = match (&self.popup, &self.screen) {
            (Some(p), _) => p.hints(),
            (None, Screen::Home(home)) => home.hints(),
            (None, Screen::Wizard(w)) => w.hints(),
            (None, Screen::Operators(o)) => o.hints(),
            (None, Screen::Day(d)) => d.hints(),
        };
        frame.render_widget(Paragraph::new(hints).style(dim()), keys);
        if let Some(popup) = &self.popup {
            popup.draw(frame, area);
        }
    }
}
