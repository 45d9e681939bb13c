//! The dashboard's behaviour on both backends when other processes change the store under it,
//! and at its edges (quitting, a bad workspace, a write waiting for another process's lock):
//! `App::update` driven through the real keymap, with a standing clock and seeded entropy.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use hivekeys::clock::{Clock, ManualClock};
use hivekeys::store::Grace;
use hivekeys::tui::action::Action;
use hivekeys::tui::app::Modal;
use hivekeys::tui::dialog::{CHANGED_MEANWHILE, ConfirmRevoke, ConfirmRotate, Details, RenameKey};
use hivekeys::tui::keymap::Context;
use hivekeys::tui::writer::WAITING;
use hivekeys::{Environment, KeyRecord, NewKey, Status};
use ratatui::crossterm::event::{KeyCode, KeyModifiers};

use crate::Backend;
use crate::common::dashboard::{Drive, OnStore, key_event};

const WS: &str = "default";

/// 2026-11-26 12:00:00 UTC: the dates on screen below follow from it.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
}

/// An app over a store on the backend holding the keys "Billing" and "Search" (staging).
type Fixture = OnStore;

impl Fixture {
    fn new(backend: &Backend) -> Fixture {
        let clock = Arc::new(ManualClock::new(t0()));
        OnStore::open(&backend.location, clock, |store, _| {
            for name in ["Billing", "Search"] {
                store
                    .create_key(WS, NewKey::new(name, Environment::Staging))
                    .unwrap();
            }
        })
    }

    fn ctrl_c(&mut self) {
        self.send(key_event(KeyCode::Char('c'), KeyModifiers::CONTROL));
    }

    fn focused(&self) -> KeyRecord {
        self.app.focused_key().expect("a focused key").clone()
    }

    fn stored(&self, id: &str) -> KeyRecord {
        self.app.store().get_key(WS, id).unwrap()
    }

    fn rotate_dialog(&self) -> &ConfirmRotate {
        match &self.app.modal {
            Some(Modal::ConfirmRotate(dialog)) => dialog,
            _ => panic!("the rotate dialog is not open ({:?})", self.app.context()),
        }
    }

    fn revoke_dialog(&self) -> &ConfirmRevoke {
        match &self.app.modal {
            Some(Modal::ConfirmRevoke(dialog)) => dialog,
            _ => panic!("the revoke dialog is not open ({:?})", self.app.context()),
        }
    }

    fn details(&self) -> &Details {
        match &self.app.modal {
            Some(Modal::Details(details)) => details,
            _ => panic!("the details are not open ({:?})", self.app.context()),
        }
    }
}

/// Ratatui's TestBackend pads and quotes each row; the text alone, joined, is enough to look for
/// a sentence that may wrap.
fn words(screen: &str) -> String {
    screen
        .split(['│', '"', '\n', ' '])
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------------------------
// 1. A confirmation whose key changed meanwhile says so and asks again
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// 2. The details view follows the store and lists the live secrets
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// 4. Ctrl-C, then y, on an uncopied new key quits
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// 5. The dashboard refuses a workspace name no command accepts
// ---------------------------------------------------------------------------------------------

/// The Daily Limit dialog as drawn, with its hints from the key map.
/// The case: `r` open, another admin rotates (K3 handed out); the dialog must show the
/// new masked key, say so, and the first `y` after it must not kill K3.
fn a_rotation_elsewhere_shows_in_the_open_rotate_dialog_and_the_next_y_does_not_act(
    backend: &Backend,
) {
    let mut fx = Fixture::new(backend);
    let key = fx.focused();
    fx.char('r');
    let k3 = fx
        .other_process(4242)
        .rotate_key(WS, &key.id, Grace::None)
        .unwrap();
    fx.tick_after_change();

    let dialog = fx.rotate_dialog();
    assert_eq!(
        dialog.key.masked_key, k3.record.masked_key,
        "the dialog follows"
    );
    assert_eq!(dialog.error.as_deref(), Some(CHANGED_MEANWHILE));
    let screen = words(&fx.screen(120, 40));
    assert!(
        screen.contains(&k3.record.masked_key) || screen.contains(&key.name),
        "{screen}"
    );
    assert!(
        screen.contains("This key was changed by someone else meanwhile"),
        "{screen}"
    );

    fx.char('y');
    assert_eq!(
        fx.app.context(),
        Context::ConfirmRotate,
        "the first y only saw it"
    );
    assert_eq!(
        fx.stored(&key.id).masked_key,
        k3.record.masked_key,
        "K3 must still work"
    );
    let again = fx.rotate_dialog().error.clone().unwrap();
    assert!(again.contains("Press y again"), "{again}");

    fx.char('y');
    assert_eq!(
        fx.app.context(),
        Context::NewKey,
        "confirmed again: rotated"
    );
    assert_ne!(fx.stored(&key.id).masked_key, k3.record.masked_key);
}

/// The same change met by the store (no reload in between): the store refuses the rotation,
/// and the dialog stays open with the key as it is now instead of closing; the next `y` acts.
fn a_rotation_refused_as_rotated_meanwhile_keeps_the_dialog_with_the_fresh_key(backend: &Backend) {
    let mut fx = Fixture::new(backend);
    let key = fx.focused();
    fx.char('r');
    let k3 = fx
        .other_process(4242)
        .rotate_key(WS, &key.id, Grace::None)
        .unwrap();
    fx.char('y');

    let dialog = fx.rotate_dialog();
    assert_eq!(dialog.key.masked_key, k3.record.masked_key);
    assert_eq!(dialog.error.as_deref(), Some(CHANGED_MEANWHILE));
    assert_eq!(fx.stored(&key.id).masked_key, k3.record.masked_key);
    let row = fx.app.keys.iter().find(|k| k.id == key.id).unwrap();
    assert_eq!(
        row.masked_key, k3.record.masked_key,
        "the row is read again"
    );

    fx.char('y');
    assert_eq!(fx.app.context(), Context::NewKey);
    assert_ne!(fx.stored(&key.id).masked_key, k3.record.masked_key);
}

/// Revoke asks again too when the key changed under it, and a use of the key (bookkeeping
/// only) is no change worth asking about.
fn the_revoke_dialog_follows_a_change_and_asks_again_but_not_for_a_use(backend: &Backend) {
    let mut fx = Fixture::new(backend);
    let key = fx.focused();
    fx.char('x');
    let mut other = fx.other_process(4242);
    let k2 = other.rotate_key(WS, &key.id, Grace::None).unwrap();
    fx.tick_after_change();
    let dialog = fx.revoke_dialog();
    assert_eq!(dialog.key.masked_key, k2.record.masked_key);
    assert_eq!(dialog.error.as_deref(), Some(CHANGED_MEANWHILE));
    fx.char('y');
    assert_eq!(fx.app.context(), Context::ConfirmRevoke);
    assert_eq!(
        fx.stored(&key.id).revoked_at,
        None,
        "not revoked on the first y"
    );
    fx.press(KeyCode::Esc);

    fx.char('x');
    other.verify(k2.secret.expose()).unwrap();
    other.flush_usage().unwrap();
    fx.tick_after_change();
    assert_eq!(fx.revoke_dialog().error, None, "a use changes nothing");
    fx.char('y');
    assert!(fx.app.modal.is_none());
    assert!(fx.stored(&key.id).revoked_at.is_some());
}

fn the_details_view_follows_other_processes_and_lists_live_secrets(backend: &Backend) {
    let mut fx = Fixture::new(backend);
    let key = fx.focused();
    fx.press(KeyCode::Enter);
    assert_eq!(fx.details().secrets.len(), 1);
    assert_eq!(fx.details().secrets[0].expires_at, None, "the current one");

    let mut other = fx.other_process(4242);
    let rotated = other.rotate_key(WS, &key.id, Grace::OneDay).unwrap();
    let rotated_at = fx.clock.now();
    fx.tick_after_change();
    let details = fx.details();
    assert_eq!(details.key.masked_key, rotated.record.masked_key);
    assert_eq!(details.events.len(), 2, "created, rotated");
    let until: Vec<_> = details.secrets.iter().map(|s| s.expires_at).collect();
    assert_eq!(
        until,
        [None, Some(rotated_at + TimeDelta::hours(24))],
        "the new secret and the old one in its grace"
    );
    let screen = words(&fx.screen(120, 40));
    assert!(screen.contains("Live secrets"), "{screen}");
    assert!(screen.contains("current"), "{screen}");
    assert!(screen.contains("until 2026-11-27 12:00 UTC"), "{screen}");
    assert!(
        !screen.contains(rotated.secret.expose()),
        "never a secret's text"
    );

    other.verify(rotated.secret.expose()).unwrap();
    other.flush_usage().unwrap();
    fx.tick_after_change();
    assert_eq!(fx.details().key.use_count, 1, "a use elsewhere shows");
    assert_eq!(fx.details().usage.last().unwrap().count, 1);

    other.revoke_key(WS, &key.id).unwrap();
    fx.tick_after_change();
    let details = fx.details();
    assert_eq!(details.key.status_at(fx.app.now), Status::Revoked);
    assert!(
        details.secrets.is_empty(),
        "a revoked key has no live secret"
    );
    assert_eq!(details.events.len(), 3);
}

fn a_write_waiting_for_the_lock_keeps_drawing_says_so_and_ignores_other_keys(backend: &Backend) {
    let mut fx = Fixture::new(backend);
    fx.write_in_background();
    let mut blocker = backend.hold_write_lock();
    fx.char('a');
    for c in "Locked".chars() {
        fx.char(c);
    }
    let asked = Instant::now();
    fx.press(KeyCode::Enter);
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "update waited for the lock"
    );
    assert_eq!(fx.app.context(), Context::Waiting);

    for (width, height) in [(120, 40), (90, 30)] {
        let screen = words(&fx.screen(width, height));
        assert!(screen.contains(WAITING), "{width}x{height}: {screen}");
        assert!(screen.contains("Esc withdraw the change"), "{screen}");
    }
    // Typing, y, Enter and Tab do nothing while the write waits.
    for c in ['x', 'y', 'q'] {
        fx.char(c);
    }
    fx.press(KeyCode::Enter);
    fx.press(KeyCode::Tab);
    match &fx.app.modal {
        Some(Modal::AddKey(dialog)) => assert_eq!(dialog.name.value(), "Locked"),
        _ => panic!("the dialog closed ({:?})", fx.app.context()),
    }
    assert!(!fx.app.should_quit);

    blocker.batch("ROLLBACK");
    fx.wait_for_write();
    assert_eq!(fx.app.context(), Context::NewKey, "the write went through");
    let shown = match &fx.app.modal {
        Some(Modal::NewKey(dialog)) => dialog.key.clone(),
        _ => unreachable!(),
    };
    assert_eq!(fx.stored(&shown.id).name, "Locked");
    assert_eq!(fx.focused().id, shown.id, "the new row is selected");
}

/// Esc withdraws a waiting revoke: once the lock is free, the writer rolls it back.
fn esc_withdraws_a_waiting_write_and_it_is_not_made(backend: &Backend) {
    let mut fx = Fixture::new(backend);
    fx.write_in_background();
    let key = fx.focused();
    let mut blocker = backend.hold_write_lock();
    fx.char('x');
    fx.char('y');
    assert_eq!(fx.app.context(), Context::Waiting);
    fx.press(KeyCode::Esc);
    assert!(fx.app.modal.is_none());
    assert!(
        fx.app
            .notice
            .as_ref()
            .unwrap()
            .text
            .starts_with("Withdrawn")
    );
    blocker.batch("ROLLBACK");
    fx.wait_for_write();
    assert_eq!(fx.stored(&key.id).revoked_at, None, "withdrawn, not made");
    assert_eq!(fx.app.context(), Context::Main);

    // The next write goes through as usual.
    fx.char('x');
    fx.char('y');
    fx.wait_for_write();
    assert!(fx.stored(&key.id).revoked_at.is_some());
    assert!(fx.app.notice.as_ref().unwrap().text.starts_with("Revoked"));
}

/// Ctrl-C while a write waits quits at once; the write is withdrawn.
fn ctrl_c_while_a_write_waits_quits_and_withdraws_it(backend: &Backend) {
    let mut fx = Fixture::new(backend);
    fx.write_in_background();
    let key = fx.focused();
    let mut blocker = backend.hold_write_lock();
    fx.char('r');
    fx.char('y');
    assert_eq!(fx.app.context(), Context::Waiting);
    fx.ctrl_c();
    assert!(fx.app.should_quit);
    assert!(fx.app.withdraw_waiting_write(), "a write was waiting");
    blocker.batch("ROLLBACK");
    fx.wait_for_write();
    assert_eq!(fx.stored(&key.id).masked_key, key.masked_key, "not rotated");
}

fn ctrl_c_then_y_on_an_uncopied_new_key_closes_it_and_quits(backend: &Backend) {
    let mut fx = Fixture::new(backend);
    fx.char('D');
    fx.press(KeyCode::Enter);
    assert_eq!(fx.app.context(), Context::NewKey);
    fx.ctrl_c();
    assert_eq!(fx.app.context(), Context::ConfirmClose);
    assert!(!fx.app.should_quit);
    fx.char('y');
    assert!(fx.app.modal.is_none(), "the key is gone");
    assert!(fx.app.should_quit, "the quit was confirmed");
}

/// Closing with Esc asks the same question; its `y` only closes. A quit answered with `n`
/// goes back to the key, and a later Esc-then-y does not quit either.
fn closing_asks_the_same_question_and_its_y_only_closes(backend: &Backend) {
    let mut fx = Fixture::new(backend);
    fx.char('D');
    fx.press(KeyCode::Enter);
    fx.ctrl_c();
    fx.char('n');
    assert_eq!(fx.app.context(), Context::NewKey);
    fx.press(KeyCode::Esc);
    assert_eq!(fx.app.context(), Context::ConfirmClose);
    fx.char('y');
    assert!(fx.app.modal.is_none());
    assert!(!fx.app.should_quit, "closing is not quitting");
}

fn the_dashboard_refuses_an_empty_workspace_before_anything_else(backend: &Backend) {
    let fx = Fixture::new(backend);
    for workspace in ["", "   "] {
        let store = fx.other_process(4242);
        let err = hivekeys::tui::run(store, workspace).expect_err("an empty workspace");
        assert!(
            err.to_string().contains("workspace name is empty"),
            "{workspace:?}: {err}"
        );
    }
}

/// Issue 9: use counts alone (a gateway verifying) refresh the rows on screen without reading
/// the whole list again — that cost a fifth of a core at 100,000 keys — while a key change by
/// another process still reads it again.
fn use_counts_alone_refresh_the_rows_on_screen_without_reading_the_list_again(backend: &Backend) {
    let mut fx = Fixture::new(backend);
    let mut other = fx.other_process(4242);
    let issued = other
        .create_key(WS, NewKey::new("Gateway", Environment::Production))
        .unwrap();
    let id = issued.record.id.clone();
    fx.tick_after_change();
    let row = |fx: &Fixture| fx.app.keys.iter().find(|k| k.id == id).unwrap();
    assert_eq!(row(&fx).use_count, 0, "the new key is listed");

    // The list's buffer is replaced by every full read: its address tells one happened.
    let list = fx.app.keys.as_ptr();
    fx.clock.advance(TimeDelta::seconds(30));
    for _ in 0..3 {
        other.verify(issued.secret.expose()).unwrap();
    }
    other.flush_usage().unwrap();
    fx.tick_after_change();
    assert_eq!(
        fx.app.keys.as_ptr(),
        list,
        "use counts alone must not re-read the list"
    );
    assert_eq!(row(&fx).use_count, 3);
    assert_eq!(row(&fx).last_used_at, Some(t0() + TimeDelta::seconds(31)));

    other.revoke_key(WS, &id).unwrap();
    fx.tick_after_change();
    assert_ne!(fx.app.keys.as_ptr(), list, "a revocation is read in full");
    assert_eq!(row(&fx).status_at(fx.app.now), Status::Revoked);
}

/// Issue 9: `l` on the focused key opens Daily Limit with its current limit; Enter sets it
/// (audited), an empty field removes it, a bad value is refused in the dialog; the details
/// say where the key stands today.
fn l_sets_and_removes_the_focused_keys_daily_limit(backend: &Backend) {
    let mut fx = Fixture::new(backend);
    let key = fx.focused();
    fx.char('l');
    let dialog = match &fx.app.modal {
        Some(Modal::SetLimit(dialog)) => dialog,
        _ => panic!("no Daily Limit dialog"),
    };
    assert_eq!(dialog.value.value(), "", "no limit yet");
    for c in "0".chars() {
        fx.char(c);
    }
    fx.press(KeyCode::Enter);
    match &fx.app.modal {
        Some(Modal::SetLimit(dialog)) => {
            assert_eq!(
                dialog.error.as_deref(),
                Some(hivekeys::tui::dialog::LIMIT_RULE)
            )
        }
        _ => panic!("a bad value keeps the dialog open"),
    }
    assert_eq!(fx.stored(&key.id).daily_limit, None);
    fx.press(KeyCode::Backspace);
    for c in "5,000".chars() {
        fx.char(c);
    }
    fx.press(KeyCode::Enter);
    assert!(fx.app.modal.is_none(), "saved and closed");
    assert_eq!(fx.stored(&key.id).daily_limit, Some(5_000));
    let notice = fx.app.notice.clone().expect("a notice").text;
    assert!(notice.contains("5,000 times a day"), "{notice}");
    assert_eq!(
        fx.focused().daily_limit,
        Some(5_000),
        "the row follows at once"
    );

    fx.press(KeyCode::Enter);
    let screen = fx.screen(120, 40);
    assert!(
        screen.contains("Daily limit Today 0 of 5,000 · resets in 12 h"),
        "{screen}"
    );
    fx.press(KeyCode::Esc);

    fx.char('l');
    match &fx.app.modal {
        Some(Modal::SetLimit(dialog)) => assert_eq!(dialog.value.value(), "5000"),
        _ => panic!("no Daily Limit dialog"),
    }
    for _ in 0..4 {
        fx.press(KeyCode::Backspace);
    }
    fx.press(KeyCode::Enter);
    assert_eq!(fx.stored(&key.id).daily_limit, None);
    let trail = fx.app.store().audit_trail(WS, &key.id).unwrap();
    let details: Vec<_> = trail.iter().filter_map(|e| e.detail.clone()).collect();
    assert_eq!(details, ["5000 uses a day", "no limit"]);
}

impl Fixture {
    fn rename_dialog(&self) -> &RenameKey {
        match &self.app.modal {
            Some(Modal::Rename(dialog)) => dialog,
            _ => panic!("Rename Key is not open ({:?})", self.app.context()),
        }
    }

    fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.char(c);
        }
    }

    /// Empties the focused name field.
    fn clear_field(&mut self) {
        for _ in 0..80 {
            self.press(KeyCode::Backspace);
        }
    }
}

/// Issue 12: `n` opens Rename Key on the focused key with its name; the field is judged as
/// Add API Key judges a name (same messages, a full key masked); Enter renames (audited, the
/// row and search follow), the same name writes nothing, Esc cancels, a revoked key is not
/// offered.
fn n_renames_the_focused_key_as_the_add_dialog_judges_names(backend: &Backend) {
    let mut fx = Fixture::new(backend);
    let key = fx.focused();
    // What Add API Key says of an empty name and of one holding a full key.
    let leaked = fx
        .other_process(4242)
        .create_key("elsewhere", NewKey::new("x", Environment::Development))
        .unwrap();
    let full = leaked.secret.expose().to_owned();
    fx.char('a');
    fx.press(KeyCode::Enter);
    let add_empty = match &fx.app.modal {
        Some(Modal::AddKey(dialog)) => dialog.error.clone().expect("an empty name refused"),
        _ => panic!("Add API Key is not open"),
    };
    fx.app.update(Action::Paste(format!("see {full}")));
    let add_leaked = match &fx.app.modal {
        Some(Modal::AddKey(dialog)) => dialog.error.clone().expect("a key in a name refused"),
        _ => panic!("Add API Key is not open"),
    };
    fx.press(KeyCode::Esc);

    assert!(fx.app.offers(&Action::OpenRename));
    fx.char('n');
    assert_eq!(fx.app.context(), Context::Rename);
    assert_eq!(fx.rename_dialog().name.value(), key.name, "prefilled");
    fx.press(KeyCode::Esc);
    assert!(fx.app.modal.is_none(), "Esc cancels");

    fx.char('n');
    fx.clear_field();
    assert_eq!(
        fx.rename_dialog().error,
        None,
        "nothing typed yet: no scolding"
    );
    fx.press(KeyCode::Enter);
    assert_eq!(
        fx.rename_dialog().error.as_deref(),
        Some(add_empty.as_str())
    );
    fx.app.update(Action::Paste(format!("see {full}")));
    let error = fx.rename_dialog().error.clone().unwrap();
    assert_eq!(error, add_leaked);
    assert!(
        error.contains(&leaked.secret.masked()) && !error.contains(&full),
        "{error}"
    );
    fx.press(KeyCode::Enter);
    assert_eq!(fx.app.context(), Context::Rename, "refused, still open");
    assert_eq!(fx.stored(&key.id).name, key.name);

    fx.clear_field();
    fx.type_text("Payments");
    fx.press(KeyCode::Enter);
    assert!(fx.app.modal.is_none(), "saved and closed");
    assert_eq!(fx.stored(&key.id).name, "Payments");
    let notice = fx.app.notice.clone().unwrap();
    assert!(!notice.is_error, "{notice:?}");
    assert_eq!(
        notice.text,
        format!("Renamed key {} \"{}\" → \"Payments\".", key.id, key.name)
    );
    assert_eq!(fx.focused().name, "Payments", "the row follows at once");
    let trail = fx.app.store().audit_trail(WS, &key.id).unwrap();
    let detail = format!("{} → Payments", key.name);
    assert_eq!(
        trail.last().unwrap().detail.as_deref(),
        Some(detail.as_str())
    );

    // Search finds the new name.
    fx.char('/');
    fx.type_text("paym");
    fx.press(KeyCode::Enter);
    let found: Vec<_> = fx
        .app
        .visible
        .iter()
        .map(|&i| fx.app.keys.id(i as usize).to_owned())
        .collect();
    assert_eq!(found, [key.id.as_str()]);

    // The same name: nothing written, and the notice says so.
    let events = trail.len();
    fx.char('n');
    fx.press(KeyCode::Enter);
    assert!(fx.app.modal.is_none());
    assert!(
        fx.app
            .notice
            .as_ref()
            .unwrap()
            .text
            .contains("nothing changed")
    );
    assert_eq!(
        fx.app.store().audit_trail(WS, &key.id).unwrap().len(),
        events
    );

    // A revoked key is not offered, and says why.
    fx.char('x');
    fx.char('y');
    assert!(!fx.app.offers(&Action::OpenRename));
    fx.char('n');
    assert!(fx.app.modal.is_none());
    assert!(fx.app.notice.as_ref().unwrap().is_error);
}

/// A rename made elsewhere while Rename Key is open is said in it (the typed name stays); a
/// revocation elsewhere closes it with the news when Enter meets it. A rename waiting for
/// another process's lock says so, and Esc withdraws it.
fn rename_key_follows_other_processes_and_waits_like_the_other_writes(backend: &Backend) {
    let mut fx = Fixture::new(backend);
    let key = fx.focused();
    fx.char('n');
    fx.type_text(" v2");
    fx.other_process(4242)
        .rename_key(WS, &key.id, "Theirs")
        .unwrap();
    fx.tick_after_change();
    let dialog = fx.rename_dialog();
    assert_eq!(dialog.key.name, "Theirs");
    assert_eq!(dialog.name.value(), format!("{} v2", key.name));
    assert!(
        dialog.error.as_deref().unwrap().contains("\"Theirs\""),
        "{:?}",
        dialog.error
    );

    fx.other_process(4242).revoke_key(WS, &key.id).unwrap();
    fx.press(KeyCode::Enter);
    assert!(fx.app.modal.is_none(), "nothing left to rename");
    let notice = fx.app.notice.clone().unwrap();
    assert!(
        notice.is_error && notice.text.contains("revoked"),
        "{notice:?}"
    );
    assert_eq!(fx.stored(&key.id).name, "Theirs");

    // Waiting for the lock, then withdrawn: not renamed.
    fx.write_in_background();
    fx.press(KeyCode::Down);
    let other = fx.focused();
    assert_ne!(other.id, key.id);
    let mut blocker = backend.hold_write_lock();
    fx.char('n');
    fx.type_text("!");
    fx.press(KeyCode::Enter);
    assert_eq!(fx.app.context(), Context::Waiting);
    assert!(words(&fx.screen(120, 40)).contains(WAITING));
    fx.press(KeyCode::Esc);
    assert!(
        fx.app
            .notice
            .as_ref()
            .unwrap()
            .text
            .starts_with("Withdrawn")
    );
    blocker.batch("ROLLBACK");
    fx.wait_for_write();
    assert_eq!(fx.stored(&other.id).name, other.name, "withdrawn, not made");

    // Once the lock is free, the same rename goes through the writer.
    fx.char('n');
    fx.type_text("!");
    fx.press(KeyCode::Enter);
    fx.wait_for_write();
    assert_eq!(fx.stored(&other.id).name, format!("{}!", other.name));
    assert!(fx.app.notice.as_ref().unwrap().text.starts_with("Renamed"));
}

/// Review finding: Ctrl-C while a create waits for the lock must withdraw it before the
/// event loop takes any more answers. Released a moment later (the other process commits,
/// the write gets its lock) the create must roll back: no key is stored that nobody sees.
fn ctrl_c_while_a_create_waits_withdraws_it_before_the_lock_is_released(backend: &Backend) {
    let mut fx = Fixture::new(backend);
    fx.write_in_background();
    let before = fx.app.store().count_keys(WS, &Default::default()).unwrap();
    let mut blocker = backend.hold_write_lock();
    fx.char('a');
    for c in "late".chars() {
        fx.char(c);
    }
    fx.press(KeyCode::Enter);
    assert_eq!(fx.app.context(), Context::Waiting);
    fx.ctrl_c();
    assert!(fx.app.should_quit);
    blocker.batch("COMMIT");
    fx.wait_for_write();
    assert!(
        !matches!(fx.app.modal, Some(Modal::NewKey(_))),
        "no key was made to show"
    );
    assert!(fx.app.should_quit);
    assert!(fx.app.withdraw_waiting_write(), "the quit withdrew a write");
    let after = fx.app.store().count_keys(WS, &Default::default()).unwrap();
    assert_eq!(after, before, "nothing was created");
}

/// Issue 12: `o` cycles Created → Last used → Name → Uses → Created. The sorted column's
/// header says so; the order combines with the filters and the "N of M keys" count follows;
/// the focused key stays focused; another process's key change (a full read) and use counts
/// alone (a refresh of the rows on screen) both keep the sort.
fn o_cycles_the_sort_and_it_combines_with_filters_keeps_focus_and_survives_refreshes(
    backend: &Backend,
) {
    // "Billing" and "Search" (staging, never used) were created in the same instant.
    let mut fx = Fixture::new(backend);
    let mut other = fx.other_process(4242);
    fx.clock.advance(TimeDelta::minutes(1));
    let gateway = other
        .create_key(WS, NewKey::new("gateway", Environment::Production))
        .unwrap();
    fx.clock.advance(TimeDelta::minutes(1));
    let admin = other
        .create_key(WS, NewKey::new("Admin", Environment::Production))
        .unwrap();
    fx.clock.advance(TimeDelta::minutes(1));
    other.verify(admin.secret.expose()).unwrap();
    fx.clock.advance(TimeDelta::minutes(1));
    for _ in 0..3 {
        other.verify(gateway.secret.expose()).unwrap();
    }
    other.flush_usage().unwrap();
    fx.tick_after_change();
    let id_of = |fx: &Fixture, name: &str| {
        fx.app
            .keys
            .iter()
            .find(|k| k.name == name)
            .map(|k| k.id.clone())
            .unwrap()
    };
    let names = |fx: &Fixture| -> Vec<String> {
        fx.app
            .visible
            .iter()
            .map(|&i| fx.app.keys.name(i as usize).to_owned())
            .collect()
    };
    let header = |fx: &mut Fixture| -> String {
        let screen = fx.screen(120, 30);
        screen
            .lines()
            .find(|line| line.contains("Key ") && line.contains("Status"))
            .expect("the table's header")
            .to_owned()
    };

    // Ties (Search and Billing) go as the store lists them: the later row first.
    assert_eq!(names(&fx), ["Admin", "gateway", "Search", "Billing"]);
    assert!(header(&mut fx).contains("Created ▼"), "{}", header(&mut fx));
    fx.char('G');
    let billing = id_of(&fx, "Billing");
    assert_eq!(fx.focused().id, billing);

    fx.char('o');
    assert_eq!(
        names(&fx),
        ["gateway", "Admin", "Search", "Billing"],
        "never used last"
    );
    assert!(header(&mut fx).contains("Last used ▼"));
    assert_eq!(fx.focused().id, billing, "the focused key stays focused");

    fx.char('o');
    assert_eq!(
        names(&fx),
        ["Admin", "Billing", "gateway", "Search"],
        "case does not count"
    );
    let line = header(&mut fx);
    assert!(line.contains("Name ▲") && !line.contains('▼'), "{line}");
    assert_eq!(fx.focused().id, billing);

    fx.char('o');
    assert_eq!(names(&fx), ["gateway", "Admin", "Search", "Billing"]);
    assert!(header(&mut fx).contains("Uses ▼"));

    // The environment filter narrows the sorted rows, and the count follows.
    fx.char('e');
    assert_eq!(names(&fx), ["gateway", "Admin"]);
    assert!(fx.screen(120, 30).contains("2 of 4 keys"));
    assert_eq!(
        fx.focused().id,
        id_of(&fx, "Admin"),
        "Billing left the rows: the last row took its place"
    );
    fx.char('e');
    fx.char('e');
    fx.char('e');
    // Staging had no Admin row: the selection moved on; put it back.
    fx.char('g');
    fx.char('j');
    assert_eq!(fx.focused().id, id_of(&fx, "Admin"));
    // The search narrows them too.
    fx.char('/');
    for c in "ADMIN".chars() {
        fx.char(c);
    }
    fx.press(KeyCode::Enter);
    assert_eq!(names(&fx), ["Admin"]);
    fx.press(KeyCode::Esc);
    assert_eq!(names(&fx), ["gateway", "Admin", "Search", "Billing"]);
    assert_eq!(fx.focused().id, id_of(&fx, "Admin"));

    // Another process adds a key used five times: the list is read again, still by uses.
    fx.clock.advance(TimeDelta::minutes(1));
    let worker = other
        .create_key(WS, NewKey::new("Worker", Environment::Development))
        .unwrap();
    for _ in 0..5 {
        other.verify(worker.secret.expose()).unwrap();
    }
    other.flush_usage().unwrap();
    fx.tick_after_change();
    assert_eq!(
        names(&fx),
        ["Worker", "gateway", "Admin", "Search", "Billing"]
    );
    assert_eq!(fx.focused().id, id_of(&fx, "Admin"));

    // Use counts alone: the rows on screen are refreshed, not the list, and re-sorted.
    let list = fx.app.keys.as_ptr();
    for _ in 0..6 {
        other.verify(admin.secret.expose()).unwrap();
    }
    other.flush_usage().unwrap();
    fx.tick_after_change();
    assert_eq!(fx.app.keys.as_ptr(), list, "use counts alone");
    assert_eq!(
        names(&fx),
        ["Admin", "Worker", "gateway", "Search", "Billing"]
    );
    assert_eq!(fx.focused().id, id_of(&fx, "Admin"));
    assert!(header(&mut fx).contains("Uses ▼"));

    fx.char('o');
    assert_eq!(
        names(&fx),
        ["Worker", "Admin", "gateway", "Search", "Billing"],
        "back to Created"
    );
}

conformance![
    a_rotation_elsewhere_shows_in_the_open_rotate_dialog_and_the_next_y_does_not_act,
    a_rotation_refused_as_rotated_meanwhile_keeps_the_dialog_with_the_fresh_key,
    the_revoke_dialog_follows_a_change_and_asks_again_but_not_for_a_use,
    the_details_view_follows_other_processes_and_lists_live_secrets,
    a_write_waiting_for_the_lock_keeps_drawing_says_so_and_ignores_other_keys,
    esc_withdraws_a_waiting_write_and_it_is_not_made,
    ctrl_c_while_a_write_waits_quits_and_withdraws_it,
    ctrl_c_then_y_on_an_uncopied_new_key_closes_it_and_quits,
    closing_asks_the_same_question_and_its_y_only_closes,
    the_dashboard_refuses_an_empty_workspace_before_anything_else,
    use_counts_alone_refresh_the_rows_on_screen_without_reading_the_list_again,
    l_sets_and_removes_the_focused_keys_daily_limit,
    n_renames_the_focused_key_as_the_add_dialog_judges_names,
    rename_key_follows_other_processes_and_waits_like_the_other_writes,
    ctrl_c_while_a_create_waits_withdraws_it_before_the_lock_is_released,
    o_cycles_the_sort_and_it_combines_with_filters_keeps_focus_and_survives_refreshes,
];
