//! Before the wizard: set the store up at first run (the first supervisor, then the
//! recovery key shown once and confirmed), or sign in; a password a supervisor reset is
//! replaced here. Nothing personal is on these screens: the store is not open yet.
//! Argon2 runs on a thread; the screen says so and stays live.

use std::sync::mpsc::Sender;

use crossterm::event::{Event as TermEvent, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use zeroize::Zeroizing;

use super::form::{Form, FormField, FormReply};
use crate::access::{self, AccessError, Location, NewOperator, Rules, Session, StoreState};
use crate::keys::Kdf;
use crate::store::Role;
use crate::tui::events::{AccessReply, Event};
use crate::tui::theme::{MIN_HEIGHT, MIN_WIDTH, centered, dim, prose};

/// What the gate needs to know.
#[derive(Debug, Clone)]
pub struct GateSettings {
    /// Where the store is (a file in the data directory, or a centre's server).
    pub location: Location,
    pub rules: Rules,
    /// The 工号 filled in at sign-in.
    pub default_id: Option<String>,
    /// The passphrase of a store an earlier version encrypted, to convert it.
    pub legacy_key: Option<String>,
    /// Argon2id's parameters for new slots (`None`: calibrate on this PC).
    pub kdf: Option<Kdf>,
}

enum Page {
    Setup(Form),
    SignIn(Form),
    /// The recovery key, shown once; the last group is typed back to confirm it was
    /// written down.
    Recovery {
        text: Zeroizing<String>,
        confirm: Form,
        session: Box<Session>,
    },
    /// A supervisor reset this password: a new one before going on.
    NewPassword {
        form: Form,
        session: Option<Box<Session>>,
    },
    /// The store cannot be opened here (its key slots are missing).
    Blocked(String),
}

pub struct Gate {
    page: Page,
    settings: GateSettings,
    /// Why the last attempt failed, or what is going on.
    message: Option<(String, bool)>,
    /// A thread is deriving a key: keys wait.
    busy: Option<&'static str>,
    /// A centre's server is being asked where the store stands: the form takes keys,
    /// Enter waits for the answer (`Some(true)`: Enter was pressed meanwhile).
    connecting: Option<bool>,
    converting: bool,
    pub done: Option<Session>,
    pub quit: bool,
    events: Sender<Event>,
}

fn setup_form() -> Form {
    Form::new(vec![
        FormField::text("工号"),
        FormField::text("姓名"),
        FormField::secret("密码"),
        FormField::secret("再输一次"),
    ])
}

fn new_password_form() -> Form {
    Form::new(vec![
        FormField::secret("新密码"),
        FormField::secret("再输一次"),
    ])
}

impl Gate {
    pub fn new(settings: GateSettings, events: Sender<Event>) -> Gate {
        let mut gate = Gate {
            page: Page::Blocked(String::new()),
            settings,
            message: None,
            busy: None,
            connecting: None,
            converting: false,
            done: None,
            quit: false,
            events,
        };
        if let Location::Server(server) = &gate.settings.location {
            // A server is asked in the background: the sign-in screen is up at once and
            // takes the password while it connects (a slow or unreachable server does not
            // leave a blank terminal).
            gate.page = gate.page_for(StoreState::Ready);
            gate.connecting = Some(false);
            gate.message = Some(("正在连接中心服务器……".into(), false));
            let server = server.clone();
            let tx = gate.events.clone();
            let _ = std::thread::Builder::new()
                .name("sbk-connect".into())
                .spawn(move || {
                    let state = access::state(Location::Server(server));
                    let _ = tx.send(Event::Access(Box::new(AccessReply::State(state))));
                });
        } else {
            let state = access::state(&gate.settings.location);
            gate.on_state(state);
        }
        gate
    }

    /// The page for where the store stands (or why it cannot be opened).
    fn on_state(&mut self, state: Result<StoreState, AccessError>) {
        self.converting = matches!(state, Ok(StoreState::Plain))
            || (matches!(state, Ok(StoreState::KeysMissing)) && self.settings.legacy_key.is_some());
        self.page = match state {
            Ok(s) => self.page_for(s),
            Err(e) => Page::Blocked(e.to_string()),
        };
    }

    fn page_for(&self, state: StoreState) -> Page {
        let settings = &self.settings;
        match state {
            StoreState::New | StoreState::Plain => Page::Setup(setup_form()),
            StoreState::KeysMissing if settings.legacy_key.is_some() => Page::Setup(setup_form()),
            StoreState::KeysMissing => Page::Blocked(AccessError::KeysMissing.to_string()),
            StoreState::Ready => {
                let mut form = Form::new(vec![
                    FormField::text("工号").with(settings.default_id.as_deref().unwrap_or("")),
                    FormField::secret("密码"),
                ]);
                if settings.default_id.is_some() {
                    form.focus_on(1);
                }
                Page::SignIn(form)
            }
        }
    }

    /// Whether this is first run (the setup page).
    pub fn is_setup(&self) -> bool {
        matches!(self.page, Page::Setup(_))
    }

    pub fn on_event(&mut self, event: Event) {
        match event {
            Event::Terminal(TermEvent::Key(key)) if key.kind != KeyEventKind::Release => {
                let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
                if ctrl && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('q')) {
                    self.quit = true;
                    return;
                }
                if self.busy.is_some() {
                    return;
                }
                self.on_key(key);
            }
            Event::Terminal(TermEvent::Paste(text)) if self.busy.is_none() => {
                let clean: String = text.chars().filter(|c| !c.is_control()).collect();
                if let Some(form) = self.form() {
                    form.on_paste(&clean);
                }
            }
            Event::Access(reply) => self.on_reply(*reply),
            _ => {}
        }
    }

    fn form(&mut self) -> Option<&mut Form> {
        match &mut self.page {
            Page::Setup(f) | Page::SignIn(f) => Some(f),
            Page::Recovery { confirm, .. } => Some(confirm),
            Page::NewPassword { form, .. } => Some(form),
            Page::Blocked(_) => None,
        }
    }

    fn on_key(&mut self, key: crossterm::event::KeyEvent) {
        if let Page::Blocked(_) = self.page {
            if matches!(key.code, KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q')) {
                self.quit = true;
            }
            return;
        }
        if key.code == KeyCode::Esc {
            if matches!(self.page, Page::SignIn(_) | Page::Setup(_)) {
                self.quit = true;
            }
            return;
        }
        let connecting = self.connecting.is_some();
        let Some(form) = self.form() else { return };
        if form.on_key(key) == FormReply::Submit {
            if connecting {
                self.connecting = Some(true);
                self.message = Some(("正在连接中心服务器，连上后即登录……".into(), false));
            } else {
                self.submit();
            }
        }
    }

    fn spawn(&mut self, what: &'static str, work: impl FnOnce() -> AccessReply + Send + 'static) {
        self.busy = Some(what);
        self.message = None;
        let tx = self.events.clone();
        let _ = std::thread::Builder::new()
            .name("sbk-sign-in".into())
            .spawn(move || {
                let _ = tx.send(Event::Access(Box::new(work())));
            });
    }

    fn fail(&mut self, text: impl Into<String>) {
        self.message = Some((text.into(), true));
    }

    fn submit(&mut self) {
        let s = self.settings.clone();
        match &mut self.page {
            Page::Setup(form) => {
                let password = form.password(2);
                if password != form.password(3) {
                    form.clear_secrets();
                    return self.fail("两次输入的密码不一致，请重新输入");
                }
                if let Some(problem) = password.problem(s.rules.min_password) {
                    form.clear_secrets();
                    return self.fail(problem);
                }
                let new = NewOperator {
                    id: form.text(0),
                    name: form.text(1),
                    role: Role::Supervisor,
                    password,
                };
                self.spawn(
                    "正在设置并加密数据库（约需几秒）……",
                    move || {
                        let kdf = s.kdf.unwrap_or_else(Kdf::calibrate);
                        AccessReply::SetUp(access::setup(
                            &s.location,
                            &new,
                            kdf,
                            s.rules.min_password,
                            s.legacy_key.as_deref(),
                        ))
                    },
                );
            }
            Page::SignIn(form) => {
                let id = form.text(0);
                if id.is_empty() {
                    form.focus_on(0);
                    return self.fail("请输入工号");
                }
                let password = form.password(1);
                if password.expose().is_empty() {
                    return self.fail("请输入密码");
                }
                self.spawn("正在核对密码……", move || {
                    AccessReply::SignedIn(access::sign_in(
                        &s.location,
                        &id,
                        &password,
                        s.rules.policy,
                        chrono::Utc::now(),
                        "start",
                    ))
                });
            }
            Page::Recovery { .. } => {
                let Page::Recovery {
                    text,
                    confirm,
                    session,
                } = std::mem::replace(&mut self.page, Page::Blocked(String::new()))
                else {
                    unreachable!()
                };
                let last = text.rsplit('-').next().unwrap_or_default().to_owned();
                if confirm.text(0).eq_ignore_ascii_case(&last) {
                    self.done = Some(*session);
                } else {
                    let mut confirm = confirm;
                    confirm.set(0, "");
                    self.page = Page::Recovery {
                        text,
                        confirm,
                        session,
                    };
                    self.fail("与恢复密钥的最后一组不符：请核对纸上抄写的内容后再输入");
                }
            }
            Page::NewPassword { form, session } => {
                let password = form.password(0);
                if password != form.password(1) {
                    form.clear_secrets();
                    return self.fail("两次输入的密码不一致，请重新输入");
                }
                if let Some(problem) = password.problem(s.rules.min_password) {
                    form.clear_secrets();
                    return self.fail(problem);
                }
                let Some(mut session) = session.take() else {
                    return;
                };
                self.spawn("正在保存新密码……", move || {
                    let result = session.change_password(&password, s.rules.min_password);
                    AccessReply::PasswordChanged(*session, result)
                });
            }
            Page::Blocked(_) => {}
        }
    }

    fn on_reply(&mut self, reply: AccessReply) {
        self.busy = None;
        match reply {
            AccessReply::State(state) => {
                let submit = self.connecting.take() == Some(true);
                self.message = None;
                match state {
                    // The sign-in page it showed is right: what was typed stays.
                    Ok(StoreState::Ready) if matches!(self.page, Page::SignIn(_)) => {
                        if submit {
                            self.submit();
                        }
                    }
                    other => self.on_state(other),
                }
            }
            AccessReply::SetUp(Ok((session, text))) => {
                self.page = Page::Recovery {
                    text,
                    confirm: Form::new(vec![FormField::text("最后一组")]),
                    session: Box::new(session),
                };
            }
            AccessReply::SignedIn(Ok(session)) => {
                if session.account.must_change {
                    self.message = Some((
                        "密码已由负责人重置：请设置只有自己知道的新密码".into(),
                        false,
                    ));
                    self.page = Page::NewPassword {
                        form: new_password_form(),
                        session: Some(Box::new(session)),
                    };
                } else {
                    self.done = Some(session);
                }
            }
            AccessReply::PasswordChanged(session, Ok(())) => self.done = Some(session),
            AccessReply::PasswordChanged(session, Err(e)) => {
                self.page = Page::NewPassword {
                    form: new_password_form(),
                    session: Some(Box::new(session)),
                };
                self.fail(e.to_string());
            }
            AccessReply::SetUp(Err(e)) | AccessReply::SignedIn(Err(e)) => {
                if let Some(form) = self.form() {
                    form.clear_secrets();
                }
                self.fail(e.to_string());
            }
            AccessReply::Verified { .. } => {}
        }
    }

    pub fn hints(&self) -> &'static str {
        match (&self.page, self.busy) {
            (_, Some(_)) => " 请稍候……  Ctrl-C 退出",
            (Page::Blocked(_), _) => " Enter/Esc 退出",
            (Page::Recovery { .. }, _) => " 输入恢复密钥的最后一组  Enter 确定",
            _ => " Tab/↑↓ 换一项  Enter 确定  Esc 退出",
        }
    }

    pub fn draw(&self, frame: &mut Frame) {
        let area = frame.area();
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            let msg = format!(
                "终端窗口太小：至少需要 {MIN_WIDTH}×{MIN_HEIGHT}，当前 {}×{}。\n请放大窗口。",
                area.width, area.height
            );
            frame.render_widget(prose(msg, area), area);
            return;
        }
        let [header, body, status, footer] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(1),
            Constraint::Length(2),
            Constraint::Length(1),
        ])
        .areas(area);
        frame.render_widget(
            Paragraph::new(" 第三代社会保障卡 柜台申领")
                .style(Style::default().add_modifier(Modifier::BOLD)),
            header,
        );
        let (title, intro, height): (&str, Vec<Line>, u16) = match &self.page {
            Page::Setup(_) => (
                " 首次使用：设置负责人 ",
                {
                    let mut l = vec![Line::from(
                        "本机还没有操作员。请先创建第一位负责人（可再添加经办人员）。数据库将加密，只有操作员用自己的密码才能打开。",
                    )];
                    if self.converting {
                        l.push(Line::from(Span::styled(
                            "本机已有旧版本未加密的数据：设置后将自动加密并核对，原文件会被覆盖清除。",
                            Style::default().fg(Color::Yellow),
                        )));
                    }
                    l
                },
                16,
            ),
            Page::SignIn(_) => (" 操作员登录 ", vec![Line::from("请输入工号和密码。")], 10),
            Page::Recovery { text, .. } => (
                " 恢复密钥（只显示这一次） ",
                vec![
                    Line::from(
                        "忘记全部密码或密钥文件损坏时，只有它能打开数据库。请抄在纸上，交负责人锁好保管，不要存在电脑里：",
                    ),
                    Line::from(""),
                    Line::from(Span::styled(
                        format!("  {}", text.as_str()),
                        Style::default().add_modifier(Modifier::BOLD),
                    )),
                    Line::from(""),
                    Line::from("抄好后，请输入最后一组（4 个字符）确认："),
                ],
                16,
            ),
            Page::NewPassword { .. } => (
                " 设置新密码 ",
                vec![Line::from("至少 8 个字符，或 6 位以上数字。")],
                10,
            ),
            Page::Blocked(why) => (" 无法打开 ", vec![Line::from(why.as_str())], 10),
        };
        let rect = centered(body, 74, height);
        let block = Block::default().borders(Borders::ALL).title(title);
        let inner = block.inner(rect);
        frame.render_widget(block, rect);
        let intro_lines = crate::tui::theme::wrap(intro, inner.width);
        let intro_height = intro_lines.len() as u16;
        let [intro_area, _, form_area] = Layout::vertical([
            Constraint::Length(intro_height),
            Constraint::Length(1),
            Constraint::Min(1),
        ])
        .areas(inner);
        frame.render_widget(Paragraph::new(intro_lines), intro_area);
        match &self.page {
            Page::Setup(f) | Page::SignIn(f) => f.draw(frame, form_area),
            Page::Recovery { confirm, .. } => confirm.draw(frame, form_area),
            Page::NewPassword { form, .. } => form.draw(frame, form_area),
            Page::Blocked(_) => {}
        }
        let line = match (self.busy, &self.message) {
            (Some(what), _) => Line::from(Span::styled(format!(" {what}"), dim())),
            (None, Some((text, true))) => Line::from(Span::styled(
                format!(" {text}"),
                Style::default().fg(Color::Red),
            )),
            (None, Some((text, false))) => Line::from(format!(" {text}")),
            (None, None) => Line::from(""),
        };
        frame.render_widget(prose(line, status), status);
        frame.render_widget(Paragraph::new(self.hints()).style(dim()), footer);
    }
}
