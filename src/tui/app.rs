//! The dashboard's state and the one function that changes it.

use std::cell::Cell;
use std::sync::mpsc::{self, Receiver, TryRecvError};

use chrono::{DateTime, TimeDelta, Utc};
use memchr::memmem;
use tui_input::{Input, InputRequest};

use super::action::{Action, Movement};
use super::clipboard::{Clipboard, CopyReport};
use super::keymap::Context;
use crate::environment::{Environment, Status};
use crate::key::Secret;
use crate::store::{
    AuditEvent, DailyUse, Grace, IssuedKey, KeyQuery, KeyRecord, NewKey, Store, WorkspaceKeys,
    WorkspaceLoader, normalize_search, search_text,
};
use crate::text::{MAX_NAME_CHARS, capitalize, validate_name};

/// Days of usage the detail view charts.
pub const USAGE_DAYS: u32 = 30;

/// The shortest time between two reloads prompted by other processes. A busy gateway calling
/// `verify` changes the store's data version all the time, and a full reload of 100,000 keys
/// costs about 100 ms; once a second keeps the dashboard light and, with the tick, still shows
/// every change within the two seconds the product promises.
pub const RELOAD_INTERVAL: TimeDelta = TimeDelta::seconds(1);

/// The longest search kept: no key's searchable text is longer, and a huge paste must not
/// cost a pass per character.
const MAX_SEARCH_CHARS: usize = 256;

/// Rows read at start-up before the whole list, so the first frame never waits for it.
pub const FIRST_PAGE: usize = 200;

/// The environment filter's values, in the order `e` cycles through them.
const ENVIRONMENT_FILTERS: [Option<Environment>; 4] = [
    None,
    Some(Environment::Production),
    Some(Environment::Staging),
    Some(Environment::Development),
];

/// The status filter's values, in the order `s` cycles through them.
const STATUS_FILTERS: [Option<Status>; 4] = [
    None,
    Some(Status::Active),
    Some(Status::Revoked),
    Some(Status::Expired),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Table,
    DefaultPanel,
}

/// At most one dialog or overlay is open; it takes every key first.
pub enum Modal {
    AddKey {
        name: Input,
        environment: Environment,
        /// Shown under the name field as the admin types.
        error: Option<String>,
    },
    CreateDefault {
        environment: Environment,
        error: Option<String>,
    },
    ConfirmRotate {
        key: KeyRecord,
        grace: Grace,
        error: Option<String>,
    },
    ConfirmRevoke {
        key: KeyRecord,
        error: Option<String>,
    },
    NewKey(NewKeyDialog),
    Details {
        key: KeyRecord,
        events: Vec<AuditEvent>,
        usage: Vec<DailyUse>,
        scroll: u16,
    },
    Help {
        scroll: u16,
    },
}

/// "Your New API Key": the only place the full key ever appears. Dropping the dialog drops
/// the [`Secret`], which wipes it.
pub struct NewKeyDialog {
    pub secret: Secret,
    pub key: KeyRecord,
    /// True after a rotation, false after a creation.
    pub rotated: bool,
    pub copied: Option<CopyReport>,
    /// Asking "close without copying?".
    pub confirm_close: bool,
}

/// A one-line message under the table: the result of the last action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub is_error: bool,
}

pub struct App {
    store: Store,
    pub workspace: String,
    clipboard: Box<dyn Clipboard>,
    /// The table's keys: every key of the workspace but the active default, newest first.
    pub keys: Vec<KeyRecord>,
    /// Lower-cased searchable text of each key, parallel to `keys`.
    haystacks: Vec<String>,
    pub default_key: Option<KeyRecord>,
    /// Indices into `keys` that pass the search and filters, in table order.
    pub visible: Vec<usize>,
    pub search: Input,
    pub search_focused: bool,
    pub environment_filter: Option<Environment>,
    pub status_filter: Option<Status>,
    /// Position in `visible` of the selected row.
    pub selected: usize,
    pub focus: Focus,
    pub modal: Option<Modal>,
    pub notice: Option<Notice>,
    pub now: DateTime<Utc>,
    data_version: i64,
    /// When the keys were last read from the store, by the store's (injected) clock: reloads
    /// for other processes' changes wait [`RELOAD_INTERVAL`] after it.
    last_reload: Option<DateTime<Utc>>,
    /// The soonest moment a loaded key (or the default) expires: statuses change then without
    /// any write to the store, so the tick reloads at that moment.
    next_expiry: Option<DateTime<Utc>>,
    /// First table row on screen and rows that fit: layout facts the view records each frame
    /// so paging and scrolling follow the real screen.
    pub scroll: Cell<usize>,
    pub page_rows: Cell<usize>,
    /// How far the open overlay (help, details) can scroll, as the view last measured it
    /// (`u16::MAX` until it has been drawn once).
    pub overlay_max_scroll: Cell<u16>,
    /// The last frame showed the "terminal too small" notice instead of the dashboard: only
    /// quitting is offered then, since nothing the other keys would act on is visible.
    pub too_small: Cell<bool>,
    pub should_quit: bool,
    /// Set when the full key list is read on a background thread (the real dashboard);
    /// `None` reads it inline, which tests and benchmarks use to get one settled state.
    background: Option<Background>,
}

/// The state of background loading.
struct Background {
    loader: WorkspaceLoader,
    in_flight: Option<InFlight>,
    /// The dashboard changed a key after the load in flight began: its result may not
    /// include the change, so it is thrown away and read again.
    outdated: bool,
    /// Until the first full list arrives: how many keys the table will hold.
    first_total: Option<usize>,
}

struct InFlight {
    /// The store's data version read just before the load began.
    version: i64,
    result: Receiver<crate::Result<WorkspaceKeys>>,
}

impl App {
    /// The dashboard with every read done inline: each state is settled when `update`
    /// returns, as tests and benchmarks want.
    pub fn new(store: Store, workspace: &str, clipboard: Box<dyn Clipboard>) -> App {
        let mut app = App::new_empty(store, workspace, clipboard);
        app.reload();
        app
    }

    /// The dashboard as the binary runs it: the first frame shows the default key, the newest
    /// [`FIRST_PAGE`] keys and the total, read with indexed queries whose cost does not grow
    /// with the store; the whole list, which search and filters work on, is read on a
    /// background thread and replaces them when it arrives ([`Action::KeysLoaded`]).
    pub fn new_in_background(store: Store, workspace: &str, clipboard: Box<dyn Clipboard>) -> App {
        let loader = store.loader(workspace);
        let mut app = App::new_empty(store, workspace, clipboard);
        let first = KeyQuery {
            limit: Some(FIRST_PAGE),
            ..KeyQuery::default()
        };
        let read = app.store.data_version().and_then(|version| {
            Ok((
                version,
                app.store.default_key(workspace)?,
                app.store.list_keys(workspace, &first)?,
                app.store.count_keys(workspace, &KeyQuery::default())?,
            ))
        });
        let mut background = Background {
            loader,
            in_flight: None,
            outdated: false,
            first_total: None,
        };
        match read {
            Ok((version, default_key, keys, total)) => {
                let total = total as usize - usize::from(default_key.is_some());
                app.install(version, default_key, keys);
                background.first_total = Some(total);
            }
            Err(err) => app.say_error(err.to_string()),
        }
        app.background = Some(background);
        app.reload();
        app
    }

    fn new_empty(store: Store, workspace: &str, clipboard: Box<dyn Clipboard>) -> App {
        let now = store.now();
        App {
            store,
            workspace: workspace.to_owned(),
            clipboard,
            keys: Vec::new(),
            haystacks: Vec::new(),
            default_key: None,
            visible: Vec::new(),
            search: Input::default(),
            search_focused: false,
            environment_filter: None,
            status_filter: None,
            selected: 0,
            focus: Focus::Table,
            modal: None,
            notice: None,
            now,
            data_version: 0,
            last_reload: None,
            next_expiry: None,
            scroll: Cell::new(0),
            page_rows: Cell::new(10),
            overlay_max_scroll: Cell::new(u16::MAX),
            too_small: Cell::new(false),
            should_quit: false,
            background: None,
        }
    }

    /// A full read of the key list is under way on the background thread.
    pub fn is_loading(&self) -> bool {
        self.background
            .as_ref()
            .is_some_and(|b| b.in_flight.is_some())
    }

    /// While the first full read is under way: how many keys the table will hold.
    pub fn loading_total(&self) -> Option<usize> {
        self.background.as_ref().and_then(|b| b.first_total)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Which bindings apply now.
    pub fn context(&self) -> Context {
        if self.too_small.get() {
            return Context::TooSmall;
        }
        match &self.modal {
            Some(Modal::AddKey { .. }) => Context::AddKey,
            Some(Modal::CreateDefault { .. }) => Context::CreateDefault,
            Some(Modal::ConfirmRotate { .. }) => Context::ConfirmRotate,
            Some(Modal::ConfirmRevoke { .. }) => Context::ConfirmRevoke,
            Some(Modal::NewKey(dialog)) if dialog.confirm_close => Context::ConfirmClose,
            Some(Modal::NewKey(_)) => Context::NewKey,
            Some(Modal::Details { .. }) => Context::Details,
            Some(Modal::Help { .. }) => Context::Help,
            None if self.search_focused => Context::Search,
            None => Context::Main,
        }
    }

    /// The key that rotate, revoke and details act on: the table's selected row, or the
    /// default key when its panel has focus.
    pub fn focused_key(&self) -> Option<&KeyRecord> {
        match self.focus {
            Focus::DefaultPanel => self.default_key.as_ref(),
            Focus::Table => self.visible.get(self.selected).map(|&i| &self.keys[i]),
        }
    }

    /// Whether `action` would do something now: the footer leaves out the rest (no "r rotate"
    /// with nothing selected, no "D default" when the workspace has one).
    pub fn offers(&self, action: &Action) -> bool {
        let focused_status = self.focused_key().map(|k| k.status_at(self.now));
        match action {
            Action::OpenCreateDefault => self.default_key.is_none(),
            Action::OpenRotate => focused_status.is_some_and(can_rotate),
            Action::OpenRevoke => focused_status.is_some_and(can_revoke),
            Action::OpenDetails => self.focused_key().is_some(),
            Action::Move(_) => !self.visible.is_empty() || self.modal.is_some(),
            Action::ClearSearch => !self.search.value().is_empty() || self.search_focused,
            _ => true,
        }
    }

    /// Keys in the table before filtering ("M" in "N of M keys").
    pub fn total_keys(&self) -> usize {
        self.loading_total().unwrap_or(self.keys.len())
    }

    pub fn update(&mut self, action: Action) {
        if !matches!(action, Action::Tick | Action::KeysLoaded) {
            self.notice = None;
        }
        // Before anything reads or writes: the store's path may name another file by now.
        if action != Action::KeysLoaded {
            self.follow_store_file();
        }
        match action {
            Action::Quit => self.quit(),
            Action::Tick => self.tick(),
            Action::KeysLoaded => self.take_loaded(),
            action => match self.modal.take() {
                Some(modal) => self.modal = self.update_modal(modal, action),
                None => self.update_main(action),
            },
        }
    }

    fn update_main(&mut self, action: Action) {
        match action {
            Action::Move(movement) => self.move_selection(movement),
            Action::FocusNext | Action::FocusPrevious => {
                self.focus = match self.focus {
                    Focus::Table => Focus::DefaultPanel,
                    Focus::DefaultPanel => Focus::Table,
                };
            }
            Action::StartSearch => {
                self.search_focused = true;
                self.focus = Focus::Table;
            }
            Action::KeepSearch => self.search_focused = false,
            Action::ClearSearch => {
                self.search_focused = false;
                self.search.reset();
                self.refilter();
            }
            Action::Edit(request) if self.search.handle(request).is_some_and(|c| c.value) => {
                self.refilter();
            }
            Action::Paste(text) => {
                let room = MAX_SEARCH_CHARS.saturating_sub(self.search.value().chars().count());
                for c in text.chars().filter(|c| !c.is_control()).take(room) {
                    self.search.handle(InputRequest::InsertChar(c));
                }
                self.refilter();
            }
            Action::CycleEnvironmentFilter => {
                self.environment_filter = cycle(&ENVIRONMENT_FILTERS, self.environment_filter, 1);
                self.refilter();
            }
            Action::CycleStatusFilter => {
                self.status_filter = cycle(&STATUS_FILTERS, self.status_filter, 1);
                self.refilter();
            }
            Action::OpenAddKey => {
                self.modal = Some(Modal::AddKey {
                    name: Input::default(),
                    environment: Environment::Production,
                    error: None,
                });
            }
            Action::OpenCreateDefault => match &self.default_key {
                Some(key) => self.say_error(format!(
                    "The workspace already has an active default key ({}); rotate or revoke it instead.",
                    key.id
                )),
                None => {
                    self.modal = Some(Modal::CreateDefault {
                        environment: Environment::Production,
                        error: None,
                    })
                }
            },
            Action::OpenRotate => self.open_for_focused_key(can_rotate, |key| {
                Modal::ConfirmRotate {
                    key,
                    grace: Grace::None,
                    error: None,
                }
            }),
            Action::OpenRevoke => self.open_for_focused_key(can_revoke, |key| {
                Modal::ConfirmRevoke { key, error: None }
            }),
            Action::OpenDetails => match self.focused_key().cloned() {
                Some(key) => self.open_details(key),
                None => self.say_error("There is no key here to show.".into()),
            },
            Action::OpenHelp => {
                self.overlay_max_scroll.set(u16::MAX);
                self.modal = Some(Modal::Help { scroll: 0 });
            }
            _ => {}
        }
    }

    /// Opens the dialog `open` makes for the focused key, when its status `allows` it;
    /// explains the refusal otherwise.
    fn open_for_focused_key(
        &mut self,
        allows: fn(Status) -> bool,
        open: impl FnOnce(KeyRecord) -> Modal,
    ) {
        let Some(key) = self.focused_key().cloned() else {
            let hint = match self.focus {
                Focus::DefaultPanel => "The workspace has no default key; press D to create one.",
                Focus::Table => "No key is selected.",
            };
            return self.say_error(hint.into());
        };
        match key.status_at(self.now) {
            status if allows(status) => self.modal = Some(open(key)),
            Status::Revoked => self.say_error(format!(
                "{} is revoked; a revoked key cannot change.",
                key.id
            )),
            Status::Expired => {
                self.say_error(format!("{} has expired; create a new key instead.", key.id))
            }
            // Not reached: rotate and revoke both allow an active key.
            Status::Active => self.say_error(format!("{} is active; nothing to do.", key.id)),
        }
    }

    fn open_details(&mut self, key: KeyRecord) {
        let loaded = self
            .store
            .audit_trail(&self.workspace, &key.id)
            .and_then(|events| {
                let usage = self
                    .store
                    .daily_usage(&self.workspace, &key.id, USAGE_DAYS)?;
                Ok((events, usage))
            });
        match loaded {
            Ok((events, usage)) => {
                self.overlay_max_scroll.set(u16::MAX);
                self.modal = Some(Modal::Details {
                    key,
                    events,
                    usage,
                    scroll: 0,
                })
            }
            Err(err) => self.say_error(err.to_string()),
        }
    }

    /// Handles `action` for the open dialog; returns the dialog to keep open, if any.
    fn update_modal(&mut self, modal: Modal, action: Action) -> Option<Modal> {
        match modal {
            Modal::AddKey {
                mut name,
                mut environment,
                error,
            } => match action {
                Action::Cancel => None,
                Action::ChoiceNext => {
                    environment = cycle(&Environment::ALL, environment, 1);
                    Some(Modal::AddKey {
                        name,
                        environment,
                        error,
                    })
                }
                Action::ChoicePrevious => {
                    environment = cycle(&Environment::ALL, environment, -1);
                    Some(Modal::AddKey {
                        name,
                        environment,
                        error,
                    })
                }
                Action::Edit(request) => {
                    name.handle(request);
                    let error = live_name_error(name.value());
                    Some(Modal::AddKey {
                        name,
                        environment,
                        error,
                    })
                }
                Action::Paste(text) => {
                    // A pasted line usually ends in a newline: drop it rather than submit or
                    // reject the name.
                    // One character past the limit is enough to show the "too long" message;
                    // a megabyte pasted by mistake must not be inserted one char at a time.
                    let room = (MAX_NAME_CHARS + 1).saturating_sub(name.value().chars().count());
                    for c in text.trim_end_matches(['\r', '\n']).chars().take(room) {
                        name.handle(InputRequest::InsertChar(c));
                    }
                    let error = live_name_error(name.value());
                    Some(Modal::AddKey {
                        name,
                        environment,
                        error,
                    })
                }
                Action::Submit => {
                    if let Err(invalid) = validate_name(name.value(), "key") {
                        let error = Some(sentence(&invalid.to_string()));
                        return Some(Modal::AddKey {
                            name,
                            environment,
                            error,
                        });
                    }
                    let new = NewKey::new(name.value(), environment);
                    match self.store.create_key(&self.workspace, new) {
                        Ok(issued) => self.show_new_key(issued, false),
                        Err(err) => Some(Modal::AddKey {
                            name,
                            environment,
                            error: Some(err.to_string()),
                        }),
                    }
                }
                _ => Some(Modal::AddKey {
                    name,
                    environment,
                    error,
                }),
            },
            Modal::CreateDefault { environment, error } => match action {
                Action::Cancel => None,
                Action::ChoiceNext => Some(Modal::CreateDefault {
                    environment: cycle(&Environment::ALL, environment, 1),
                    error,
                }),
                Action::ChoicePrevious => Some(Modal::CreateDefault {
                    environment: cycle(&Environment::ALL, environment, -1),
                    error,
                }),
                Action::Submit => match self.store.create_default_key(&self.workspace, environment)
                {
                    Ok(issued) => self.show_new_key(issued, false),
                    Err(err) => Some(Modal::CreateDefault {
                        environment,
                        error: Some(err.to_string()),
                    }),
                },
                _ => Some(Modal::CreateDefault { environment, error }),
            },
            Modal::ConfirmRotate { key, grace, error } => match action {
                Action::Cancel => None,
                Action::ChoiceNext => Some(Modal::ConfirmRotate {
                    key,
                    grace: cycle(&Grace::ALL, grace, 1),
                    error,
                }),
                Action::ChoicePrevious => Some(Modal::ConfirmRotate {
                    key,
                    grace: cycle(&Grace::ALL, grace, -1),
                    error,
                }),
                Action::Confirm => {
                    match self
                        .store
                        .rotate_key_as_seen(&self.workspace, &key, grace, |_| Ok(()))
                    {
                        Ok(issued) => self.show_new_key(issued, true),
                        Err(err) if changed_meanwhile(&err) => self.close_stale(err),
                        Err(err) => Some(Modal::ConfirmRotate {
                            key,
                            grace,
                            error: Some(err.to_string()),
                        }),
                    }
                }
                _ => Some(Modal::ConfirmRotate { key, grace, error }),
            },
            Modal::ConfirmRevoke { key, error } => match action {
                Action::Cancel => None,
                Action::Confirm => match self.store.revoke_key(&self.workspace, &key.id) {
                    Ok(revoked) => {
                        self.changed(&revoked);
                        self.say(format!(
                            "Revoked {} \"{}\": apps using it can no longer authenticate.",
                            revoked.id, revoked.name
                        ));
                        None
                    }
                    Err(err) if changed_meanwhile(&err) => self.close_stale(err),
                    Err(err) => Some(Modal::ConfirmRevoke {
                        key,
                        error: Some(err.to_string()),
                    }),
                },
                _ => Some(Modal::ConfirmRevoke { key, error }),
            },
            Modal::NewKey(mut dialog) => {
                match action {
                    Action::Copy if !dialog.confirm_close => {
                        dialog.copied = Some(self.clipboard.copy(dialog.secret.expose()));
                    }
                    Action::Submit if dialog.copied.is_some() => return self.close_new_key(dialog),
                    Action::Submit => dialog.confirm_close = true,
                    Action::Confirm if dialog.confirm_close => return self.close_new_key(dialog),
                    Action::Cancel if dialog.confirm_close => dialog.confirm_close = false,
                    _ => {}
                }
                Some(Modal::NewKey(dialog))
            }
            Modal::Details {
                key,
                events,
                usage,
                scroll,
            } => match action {
                Action::Cancel => None,
                Action::Move(movement) => Some(Modal::Details {
                    key,
                    events,
                    usage,
                    scroll: scrolled(scroll, movement, self.overlay_max_scroll.get()),
                }),
                _ => Some(Modal::Details {
                    key,
                    events,
                    usage,
                    scroll,
                }),
            },
            Modal::Help { scroll } => match action {
                Action::Cancel => None,
                Action::Move(movement) => Some(Modal::Help {
                    scroll: scrolled(scroll, movement, self.overlay_max_scroll.get()),
                }),
                _ => Some(Modal::Help { scroll }),
            },
        }
    }

    /// `Quit` (Ctrl-C anywhere, `q` where it is bound). A new key that has not been copied is
    /// never lost to it: the first quit asks "close without copying?" as closing the dialog
    /// would, and only a quit while that question is showing leaves.
    fn quit(&mut self) {
        if let Some(Modal::NewKey(dialog)) = &mut self.modal
            && dialog.copied.is_none()
            && !dialog.confirm_close
        {
            dialog.confirm_close = true;
            return;
        }
        self.should_quit = true;
    }

    /// Someone else changed the key while its dialog was open: show what is true now.
    fn close_stale(&mut self, err: crate::Error) -> Option<Modal> {
        self.reload();
        self.say_error(err.to_string());
        None
    }

    fn show_new_key(&mut self, issued: IssuedKey, rotated: bool) -> Option<Modal> {
        self.changed(&issued.record);
        self.select_key(&issued.record.id);
        Some(Modal::NewKey(NewKeyDialog {
            secret: issued.secret,
            key: issued.record,
            rotated,
            copied: None,
            confirm_close: false,
        }))
    }

    /// Closes "Your New API Key"; the dialog, and with it the secret, is dropped here.
    fn close_new_key(&mut self, dialog: NewKeyDialog) -> Option<Modal> {
        let verb = if dialog.rotated { "Rotated" } else { "Created" };
        self.say(format!(
            "{verb} {} \"{}\". Only its masked form {} is kept.",
            dialog.key.id, dialog.key.name, dialog.key.masked_key
        ));
        drop(dialog);
        None
    }

    /// Follows the store's path to the file it names now: after a backup was restored over
    /// it, the dashboard reopens it and reads it again; while it is deleted, it says so and the
    /// store refuses every change.
    fn follow_store_file(&mut self) {
        match self.store.check_file() {
            Ok(()) => {}
            Err(crate::Error::StoreReplaced { .. }) => match self.store.reopen() {
                Ok(()) => {
                    // Every row, dialog and read under way belongs to the old file.
                    self.modal = None;
                    if let Some(background) = &mut self.background
                        && background.in_flight.is_some()
                    {
                        background.outdated = true;
                    }
                    self.install(i64::MIN, None, Vec::new());
                    self.reload();
                    self.say(format!(
                        "The store file {} was replaced by another; showing that one now.",
                        crate::text::printable_path(self.store.path())
                    ));
                }
                Err(err) => self.say_error(err.to_string()),
            },
            Err(err) => self.say_error(err.to_string()),
        }
    }

    fn tick(&mut self) {
        self.now = self.store.now();
        let expired = self.next_expiry.is_some_and(|at| at <= self.now);
        match self.store.data_version() {
            Ok(version) if (version != self.data_version || expired) && self.reload_due() => {
                self.reload()
            }
            // A change seen too soon after the last reload stays pending: the data version
            // still differs at the next tick.
            Ok(_) => {}
            Err(err) => self.say_error(err.to_string()),
        }
    }

    /// At least [`RELOAD_INTERVAL`] has passed since the last reload (or the clock went back,
    /// which must not hold reloads off until it catches up).
    fn reload_due(&self) -> bool {
        self.last_reload
            .is_none_or(|at| self.now < at || self.now - at >= RELOAD_INTERVAL)
    }

    /// Reads the workspace's keys again, keeping the selection on the same key: at once, or
    /// by starting a background read (unless one is already under way: the data version it
    /// began at tells the next tick whether another is needed).
    pub fn reload(&mut self) {
        self.now = self.store.now();
        self.last_reload = Some(self.now);
        let version = match self.store.data_version() {
            Ok(version) => version,
            Err(err) => return self.say_error(err.to_string()),
        };
        if let Some(background) = &mut self.background {
            if background.in_flight.is_none() {
                background.start(version, self.now);
            }
            return;
        }
        let loaded = self
            .store
            .default_key(&self.workspace)
            .and_then(|default_key| {
                let keys = self
                    .store
                    .list_keys(&self.workspace, &KeyQuery::default())?;
                Ok((default_key, keys))
            });
        match loaded {
            Ok((default_key, keys)) => self.install(version, default_key, keys),
            Err(err) => self.say_error(err.to_string()),
        }
    }

    /// A background read finished: show its keys, or read again if the dashboard changed a
    /// key meanwhile.
    fn take_loaded(&mut self) {
        let Some(background) = &mut self.background else {
            return;
        };
        let Some(in_flight) = &background.in_flight else {
            return;
        };
        let result = match in_flight.result.try_recv() {
            Ok(result) => result,
            Err(TryRecvError::Empty) => return,
            Err(TryRecvError::Disconnected) => Err(crate::Error::Database {
                path: self.store.path().to_path_buf(),
                message: "the background reader stopped".into(),
            }),
        };
        let version = in_flight.version;
        background.in_flight = None;
        if std::mem::take(&mut background.outdated) {
            return self.reload();
        }
        match result {
            Ok(loaded) => {
                if let Some(background) = &mut self.background {
                    background.first_total = None;
                }
                self.install(version, loaded.default_key, loaded.keys);
            }
            Err(err) => {
                self.say_error(err.to_string());
                // A version no store has: the next tick past the reload interval tries again
                // instead of leaving a partial list for good.
                self.data_version = i64::MIN;
            }
        }
    }

    /// Makes `keys` (the whole workspace, newest first) what the dashboard shows.
    fn install(&mut self, version: i64, default_key: Option<KeyRecord>, keys: Vec<KeyRecord>) {
        let selected_id = self.focused_table_key_id();
        self.data_version = version;
        // The old rows' positions mean nothing in the new list (which may be shorter):
        // forget them before anything reads them. The selection is kept by id.
        self.visible.clear();
        self.selected = 0;
        let default_id = default_key.as_ref().map(|k| k.id.clone());
        self.keys = keys
            .into_iter()
            .filter(|k| Some(&k.id) != default_id.as_ref())
            .collect();
        self.haystacks = self
            .keys
            .iter()
            .map(|k| search_text(&k.name, &k.masked_key, &k.id))
            .collect();
        self.default_key = default_key;
        let now = self.now;
        self.next_expiry = self
            .keys
            .iter()
            .chain(&self.default_key)
            .filter(|k| k.revoked_at.is_none())
            .filter_map(|k| k.expires_at)
            .filter(|at| *at > now)
            .min();
        self.refilter();
        if let Some(id) = selected_id {
            self.select_key(&id);
        }
    }

    /// After the dashboard itself changed `record`: inline, read everything again; in the
    /// background, put the record in place at once (the table must not show a revoked key as
    /// active for the seconds a million-key read takes) and read everything again behind it.
    fn changed(&mut self, record: &KeyRecord) {
        let Some(background) = &mut self.background else {
            return self.reload();
        };
        if background.in_flight.is_some() {
            background.outdated = true;
        }
        self.now = self.store.now();
        let selected_id = self.focused_table_key_id();
        if self.default_key.as_ref().is_some_and(|k| k.id == record.id) {
            self.default_key = None;
        }
        let was_in_table = match self.keys.iter().position(|k| k.id == record.id) {
            Some(at) => {
                self.keys.remove(at);
                self.haystacks.remove(at);
                true
            }
            None => false,
        };
        let in_table = !(record.is_default && record.status_at(self.now) == Status::Active);
        // While the first full read runs, the total shown comes from a count made before it:
        // keep it in step with the table.
        if let Some(background) = &mut self.background
            && let Some(total) = &mut background.first_total
        {
            *total = (*total + usize::from(in_table)).saturating_sub(usize::from(was_in_table));
        }
        if !in_table {
            self.default_key = Some(record.clone());
        } else {
            // Newest first; among keys created in the same second the store's order may
            // differ, and the read behind this puts that right.
            let at = self
                .keys
                .partition_point(|k| k.created_at > record.created_at);
            self.keys.insert(at, record.clone());
            self.haystacks.insert(
                at,
                search_text(&record.name, &record.masked_key, &record.id),
            );
        }
        self.visible.clear();
        self.refilter();
        if let Some(id) = selected_id {
            self.select_key(&id);
        }
        if !self.is_loading() {
            self.reload();
        }
    }

    fn focused_table_key_id(&self) -> Option<String> {
        self.visible
            .get(self.selected)
            .map(|&i| self.keys[i].id.clone())
    }

    fn select_key(&mut self, id: &str) {
        if let Some(position) = self.visible.iter().position(|&i| self.keys[i].id == id) {
            self.selected = position;
        }
    }

    /// Recomputes which keys pass the search and filters: one pass over the in-memory keys
    /// with a substring finder, so a keystroke never queries the store.
    fn refilter(&mut self) {
        let selected_id = self.focused_table_key_id();
        let needle = normalize_search(self.search.value());
        let finder = memmem::Finder::new(needle.as_bytes());
        let now = self.now;
        self.visible = self
            .keys
            .iter()
            .zip(&self.haystacks)
            .enumerate()
            .filter(|(_, (key, haystack))| {
                self.environment_filter.is_none_or(|e| key.environment == e)
                    && self.status_filter.is_none_or(|s| key.status_at(now) == s)
                    && (needle.is_empty() || finder.find(haystack.as_bytes()).is_some())
            })
            .map(|(i, _)| i)
            .collect();
        self.selected = 0;
        if let Some(id) = selected_id {
            self.select_key(&id);
        }
    }

    fn move_selection(&mut self, movement: Movement) {
        self.focus = Focus::Table;
        let last = self.visible.len().saturating_sub(1);
        let page = self.page_rows.get().max(1);
        self.selected = match movement {
            Movement::Down => (self.selected + 1).min(last),
            Movement::Up => self.selected.saturating_sub(1),
            Movement::PageDown => (self.selected + page).min(last),
            Movement::PageUp => self.selected.saturating_sub(page),
            Movement::Top => 0,
            Movement::Bottom => last,
        };
    }

    fn say(&mut self, text: String) {
        self.notice = Some(Notice {
            text,
            is_error: false,
        });
    }

    fn say_error(&mut self, text: String) {
        self.notice = Some(Notice {
            text,
            is_error: true,
        });
    }
}

impl Background {
    fn start(&mut self, version: i64, now: DateTime<Utc>) {
        let (send, result) = mpsc::channel();
        let loader = self.loader.clone();
        let spawned = std::thread::Builder::new()
            .name("hivekeys-load".into())
            .spawn(move || {
                // The dashboard may have quit meanwhile: nobody to tell, and nothing lost.
                let _ = send.send(loader.load(now));
            });
        // Without a thread the receiver reports a disconnect, which shows as an error.
        drop(spawned);
        self.in_flight = Some(InFlight { version, result });
    }
}

/// Errors that mean the key is no longer what the dialog showed (revoked, expired or gone by
/// another process's hand): retrying cannot help.
fn changed_meanwhile(err: &crate::Error) -> bool {
    matches!(
        err,
        crate::Error::KeyRevoked { .. }
            | crate::Error::KeyExpired { .. }
            | crate::Error::KeyNotFound { .. }
            | crate::Error::RotatedMeanwhile { .. }
    )
}

/// Rotate and revoke are offered only where they can succeed: a revoked key cannot change,
/// an expired one cannot get a new secret but can still be revoked (for the audit trail, or
/// so that a later change of its expiry cannot bring it back).
fn can_rotate(status: Status) -> bool {
    status == Status::Active
}

fn can_revoke(status: Status) -> bool {
    status != Status::Revoked
}

/// The option `step` places after `current` in `all`, wrapping around at either end: how the
/// filters and every dialog choice move.
fn cycle<T: Copy + PartialEq>(all: &[T], current: T, step: isize) -> T {
    let index = all.iter().position(|o| *o == current).unwrap_or(0) as isize;
    all[(index + step).rem_euclid(all.len() as isize) as usize]
}

fn scrolled(scroll: u16, movement: Movement, max: u16) -> u16 {
    let moved = match movement {
        Movement::Down => scroll.saturating_add(1),
        Movement::Up => scroll.saturating_sub(1),
        Movement::PageDown => scroll.saturating_add(10),
        Movement::PageUp => scroll.saturating_sub(10),
        Movement::Top => 0,
        Movement::Bottom => max,
    };
    moved.min(max)
}

/// The validation message for a name being typed; nothing for an empty field (the admin has
/// not started yet), the rule otherwise.
fn live_name_error(name: &str) -> Option<String> {
    if name.is_empty() {
        return None;
    }
    validate_name(name, "key")
        .err()
        .map(|e| sentence(&e.to_string()))
}

/// A validation message as a sentence: capitalised, with a full stop.
fn sentence(message: &str) -> String {
    capitalize(message) + "."
}
