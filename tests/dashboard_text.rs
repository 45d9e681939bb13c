//! Text on the dashboard and in the store: names (invisible characters, graphemes, Unicode
//! normal forms), search (ids, the default key, pasted full keys), the selection when its row
//! leaves, paging in the help, and what fits on screen (dialogs, chips, header, columns).
//!
//! Same layers as `tests/dashboard.rs`: real key events through the keymap and `App::update`
//! over a real SQLite store in a temporary directory, and screens rendered in `TestBackend`.

mod common;

use std::sync::Arc;

use common::dashboard::{Drive, TempApp, render, t0};
use common::{masked, store_options};
use hivekeys::clock::ManualClock;
use hivekeys::store::Grace;
use hivekeys::text::{NameError, fit, validate_name};
use hivekeys::tui::action::Action;
use hivekeys::tui::app::{App, Focus, Modal, RELOAD_INTERVAL};
use hivekeys::tui::clipboard::Osc52Only;
use hivekeys::tui::keymap::Context;
use hivekeys::{Environment, KeyQuery, NewKey, Status, Store};
use ratatui::crossterm::event::KeyCode;
use unicode_width::UnicodeWidthStr;

const WS: &str = "default";

type Fixture = TempApp;

impl Fixture {
    fn with(prepare: impl FnOnce(&mut Store)) -> Fixture {
        Fixture::timed(|store, _| prepare(store))
    }

    /// [`Fixture::with`], the clock in hand while the store is filled.
    fn timed(prepare: impl FnOnce(&mut Store, &ManualClock)) -> Fixture {
        TempApp::at(t0(), prepare)
    }

    fn notice(&self) -> String {
        self.app.notice.as_ref().expect("a notice").text.clone()
    }
}

/// The screen's lines as a terminal shows them: the test backend's quoting and its notes on
/// wide characters taken away.
fn lines(screen: &str) -> Vec<String> {
    screen
        .lines()
        .map(|line| {
            let line = line.strip_prefix('"').unwrap_or(line);
            match line.rfind('"') {
                Some(end) => line[..end].to_owned(),
                None => line.to_owned(),
            }
        })
        .collect()
}

fn create(store: &mut Store, name: &str, environment: Environment) -> hivekeys::store::IssuedKey {
    store
        .create_key(WS, NewKey::new(name, environment))
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// 6. Names: invisible characters, graphemes, one normal form for search
// ---------------------------------------------------------------------------------------------

#[test]
fn a_name_made_only_of_invisible_characters_is_refused() {
    for name in [
        "\u{200B}",
        "\u{00AD}\u{2060}",
        "\u{FEFF}",
        "\u{200B}\u{00AD}\u{2060}\u{FEFF}",
        " \u{200B} \u{FEFF} ",
    ] {
        assert_eq!(
            validate_name(name, "key"),
            Err(NameError::Invisible("key")),
            "{name:?}"
        );
    }
    // A visible character among them makes a name.
    assert!(validate_name("\u{200B}billing", "key").is_ok());

    let mut fx = Fixture::with(|_| {});
    fx.press(KeyCode::Char('a'));
    fx.paste("\u{200B}\u{00AD}\u{2060}\u{FEFF}");
    fx.press(KeyCode::Enter);
    let Some(Modal::AddKey(dialog)) = &fx.app.modal else {
        panic!("the Add API Key dialog closed: the name was accepted");
    };
    assert_eq!(
        dialog.error.as_deref(),
        Some("The key name has no visible character.")
    );
    assert_eq!(
        fx.app.store().count_keys(WS, &KeyQuery::default()).unwrap(),
        0
    );
}

#[test]
fn a_names_length_counts_user_perceived_characters() {
    // 64 "é" typed as e + combining acute: 128 code points, 64 characters on screen.
    let decomposed = "e\u{301}".repeat(64);
    assert_eq!(validate_name(&decomposed, "key").unwrap(), decomposed);
    assert_eq!(
        validate_name(&format!("{decomposed}e\u{301}"), "key"),
        Err(NameError::TooLong {
            what: "key",
            chars: 65
        })
    );
    let flags = "🇯🇵".repeat(64);
    assert!(
        validate_name(&flags, "key").is_ok(),
        "64 flags, 128 code points"
    );
}

#[test]
fn search_compares_one_normal_form_ignoring_case() {
    let stored_decomposed = "Cafe\u{301} gateway";
    let mut fx = Fixture::with(|store| {
        create(store, stored_decomposed, Environment::Production);
        create(store, "ＡＰＩ bridge", Environment::Staging);
        create(store, "Other", Environment::Staging);
    });
    for (query, expected) in [
        ("Café", stored_decomposed),
        ("CAFÉ", stored_decomposed),
        ("cafe\u{301}", stored_decomposed),
        ("api", "ＡＰＩ bridge"),
    ] {
        fx.press(KeyCode::Esc);
        fx.press(KeyCode::Char('/'));
        fx.type_text(query);
        let names: Vec<&str> = fx
            .app
            .visible
            .iter()
            .map(|&i| fx.app.keys.name(i as usize))
            .collect();
        assert_eq!(names, [expected], "dashboard search for {query:?}");
        // The store's own search (what `hivekeys list --search` runs) agrees.
        let listed = fx
            .app
            .store()
            .list_keys(
                WS,
                &KeyQuery {
                    search: Some(query.into()),
                    ..KeyQuery::default()
                },
            )
            .unwrap();
        let listed: Vec<&str> = listed.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(listed, [expected], "store search for {query:?}");
    }
}

#[test]
fn a_store_written_before_folding_is_refolded_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hivekeys.db");
    let clock = Arc::new(ManualClock::new(t0()));
    {
        let mut store = Store::open_with(&path, store_options(&clock, 1)).unwrap();
        create(&mut store, "Cafe\u{301} gateway", Environment::Production);
    }
    // As an older build left it: search text only lower-cased, schema version 3 (the one
    // before folding).
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "UPDATE keys SET search_text = lower(name) || char(31) || masked_key || char(31) || public_id;
             PRAGMA user_version = 3;",
        )
        .unwrap();
    }
    let store = Store::open_with(&path, store_options(&clock, 2)).unwrap();
    let found = store
        .list_keys(
            WS,
            &KeyQuery {
                search: Some("café".into()),
                ..KeyQuery::default()
            },
        )
        .unwrap();
    assert_eq!(found.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// 7. Searching ids, the default key, and pasted full keys
// ---------------------------------------------------------------------------------------------

#[test]
fn searching_the_default_keys_id_says_it_is_the_default_and_focuses_its_panel() {
    let mut default_id = String::new();
    let mut fx = Fixture::with(|store| {
        default_id = store
            .create_default_key(WS, Environment::Production)
            .unwrap()
            .record
            .id;
        create(store, "Billing", Environment::Staging);
    });
    fx.press(KeyCode::Char('/'));
    fx.type_text(&default_id);
    assert!(
        fx.visible_ids().is_empty(),
        "the default key is no table row"
    );
    assert!(fx.app.default_matches);
    assert_eq!(fx.app.focus, Focus::DefaultPanel);
    let screen = fx.screen(120, 40);
    assert!(
        screen.contains("Default API Key · matches the search"),
        "{screen}"
    );
    assert!(
        screen.contains("The workspace's default key matches"),
        "{screen}"
    );
    // Enter keeps the search; the panel's key is the one r, x and Enter act on.
    fx.press(KeyCode::Enter);
    assert_eq!(fx.app.focused_key().unwrap().id, default_id);
}

#[test]
fn a_pasted_full_key_is_masked_in_the_box_and_selects_its_key() {
    let mut keys = Vec::new();
    let mut fx = Fixture::with(|store| {
        for name in ["Alpha", "Beta", "Gamma"] {
            keys.push(create(store, name, Environment::Staging));
        }
    });
    let wanted = &keys[1];
    let full = wanted.secret.expose().to_owned();
    fx.press(KeyCode::Char('/'));
    fx.paste(&format!("  {full}\n"));
    assert_eq!(fx.app.search.value().trim(), masked(&full));
    assert!(!fx.app.search.value().contains(&full));
    assert_eq!(fx.visible_ids(), std::slice::from_ref(&wanted.record.id));
    assert_eq!(fx.app.focused_key().unwrap().id, wanted.record.id);
    let notice = fx.notice();
    assert!(notice.contains(&wanted.record.id), "{notice}");
    assert!(!common::contains_full_key(&notice), "{notice}");
    let screen = fx.screen(120, 40);
    assert!(!common::contains_full_key(&screen), "{screen}");
    assert!(screen.contains(&masked(&full)), "{screen}");

    // Typed one character at a time (no bracketed paste), the key is caught as it completes.
    fx.press(KeyCode::Esc);
    fx.press(KeyCode::Char('/'));
    let other = keys[2].secret.expose().to_owned();
    fx.type_text(&other);
    assert_eq!(fx.app.search.value(), masked(&other));
    assert_eq!(fx.visible_ids(), [keys[2].record.id.clone()]);
    // Edited, the masked text is an ordinary search again, shown as typed.
    fx.press(KeyCode::Backspace);
    let cut = masked(&other);
    let cut = &cut[..cut.len() - 1];
    assert_eq!(fx.app.search.value(), cut);
    assert_eq!(
        fx.visible_ids(),
        [keys[2].record.id.clone()],
        "its masked text"
    );
}

#[test]
fn a_pasted_default_key_or_rotated_out_secret_finds_its_key() {
    let mut default = None;
    let mut old_secret = String::new();
    let mut rotated_id = String::new();
    let fx_store = |store: &mut Store| {
        default = Some(
            store
                .create_default_key(WS, Environment::Production)
                .unwrap(),
        );
        let issued = create(store, "Rotating", Environment::Staging);
        old_secret = issued.secret.expose().to_owned();
        rotated_id = issued.record.id.clone();
        store.rotate_key(WS, &rotated_id, Grace::OneDay).unwrap();
    };
    let mut fx = Fixture::with(fx_store);
    let default = default.unwrap();

    fx.press(KeyCode::Char('/'));
    fx.paste(default.secret.expose());
    assert_eq!(fx.app.focus, Focus::DefaultPanel);
    assert!(fx.app.default_matches);
    assert!(fx.notice().contains("default key"), "{}", fx.notice());

    fx.press(KeyCode::Esc);
    fx.press(KeyCode::Char('/'));
    fx.paste(&old_secret);
    assert_eq!(fx.visible_ids(), [rotated_id.clone()]);
    assert_eq!(fx.app.focus, Focus::Table);
    let notice = fx.notice();
    assert!(notice.contains("earlier secret"), "{notice}");
    assert!(notice.contains(&masked(&old_secret)), "{notice}");

    // A well-formed key no key of the workspace has: said so, nothing selected.
    let mut elsewhere = fx.other_process(4242);
    let foreign = elsewhere
        .create_key("elsewhere", NewKey::new("Foreign", Environment::Staging))
        .unwrap();
    fx.press(KeyCode::Esc);
    fx.press(KeyCode::Char('/'));
    fx.paste(foreign.secret.expose());
    assert!(fx.visible_ids().is_empty());
    assert!(fx.app.notice.as_ref().unwrap().is_error);
    assert!(!common::contains_full_key(&fx.notice()));
}

#[test]
fn find_by_secret_answers_for_current_and_rotated_secrets_of_its_workspace_only() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let mut store = Store::open_with(dir.path().join("s.db"), store_options(&clock, 7)).unwrap();
    let issued = create(&mut store, "Billing", Environment::Production);
    let old = issued.secret.expose().to_owned();
    let rotated = store
        .rotate_key(WS, &issued.record.id, Grace::OneHour)
        .unwrap();
    for secret in [old.as_str(), rotated.secret.expose()] {
        let found = store.find_by_secret(WS, secret).unwrap().expect("found");
        assert_eq!(found.id, issued.record.id);
        assert!(store.find_by_secret("other", secret).unwrap().is_none());
    }
    assert!(
        store
            .find_by_secret(WS, "fhk_prod_nonsense")
            .unwrap()
            .is_none()
    );
}

// ---------------------------------------------------------------------------------------------
// 9. The selection when its row leaves; paging in the help
// ---------------------------------------------------------------------------------------------

#[test]
fn a_selected_key_revoked_elsewhere_hands_its_place_to_the_next_row() {
    let mut fx = Fixture::timed(|store, clock| {
        for i in 1..=8 {
            create(store, &format!("Key {i}"), Environment::Staging);
            clock.advance(chrono::TimeDelta::minutes(1));
        }
    });
    fx.app.update(Action::Resize(120, 40));
    fx.press(KeyCode::Char('s'));
    assert_eq!(fx.app.status_filter, Some(Status::Active));
    for _ in 0..3 {
        fx.press(KeyCode::Down);
    }
    let before = fx.visible_ids();
    let selected = fx.app.focused_key().unwrap().id.clone();
    assert_eq!(selected, before[3]);
    fx.other_process(4242).revoke_key(WS, &selected).unwrap();
    fx.clock.advance(RELOAD_INTERVAL);
    fx.app.update(Action::Tick);
    assert!(!fx.visible_ids().contains(&selected), "filtered out");
    assert_eq!(fx.app.selected, 3, "same position");
    assert_eq!(fx.app.focused_key().unwrap().id, before[4], "the next row");

    // The last row leaving hands its place to the row above.
    fx.press(KeyCode::Char('G'));
    let last = fx.app.focused_key().unwrap().id.clone();
    let above = fx.visible_ids()[fx.visible_ids().len() - 2].clone();
    fx.other_process(4242).revoke_key(WS, &last).unwrap();
    fx.clock.advance(RELOAD_INTERVAL);
    fx.app.update(Action::Tick);
    assert_eq!(fx.app.focused_key().unwrap().id, above);
}

#[test]
fn page_keys_and_g_scroll_the_help_as_in_the_table() {
    let mut fx = Fixture::with(|_| {});
    fx.app.update(Action::Resize(80, 24));
    fx.press(KeyCode::Char('?'));
    assert_eq!(fx.app.context(), Context::Help);
    let scroll = |fx: &Fixture| match &fx.app.modal {
        Some(Modal::Help(help)) => help.scroll,
        _ => panic!("help closed"),
    };
    // The help box at 80×24 is 22 lines, 20 inside its border: a page.
    fx.press(KeyCode::PageDown);
    assert_eq!(scroll(&fx), 20);
    fx.press(KeyCode::PageUp);
    assert_eq!(scroll(&fx), 0);
    fx.press(KeyCode::Char('G'));
    let bottom = scroll(&fx);
    assert!(bottom > 20, "{bottom}");
    let screen = fx.screen(80, 24);
    assert!(
        screen.contains("Use your own API Key"),
        "the FAQ's end: {screen}"
    );
    fx.press(KeyCode::Char('g'));
    assert_eq!(scroll(&fx), 0);
    fx.press(KeyCode::End);
    assert_eq!(scroll(&fx), bottom);
    fx.press(KeyCode::Home);
    assert_eq!(scroll(&fx), 0);
}

// ---------------------------------------------------------------------------------------------
// 10. Regional-indicator flags are drawn as letters
// ---------------------------------------------------------------------------------------------

#[test]
fn flags_are_drawn_as_their_letters_everywhere_a_name_shows() {
    let mut fx = Fixture::with(|store| {
        create(store, "🇯🇵 Tokyo gateway", Environment::Production);
    });
    let screen = fx.screen(100, 30);
    assert!(screen.contains("JP Tokyo gateway"), "{screen}");
    assert!(!screen.contains('🇯') && !screen.contains('🇵'), "{screen}");
    fx.press(KeyCode::Char('x'));
    let screen = fx.screen(100, 30);
    assert!(screen.contains("Revoke \"JP Tokyo gateway\""), "{screen}");
    fx.press(KeyCode::Esc);
    fx.press(KeyCode::Enter);
    let screen = fx.screen(100, 30);
    assert!(screen.contains(" JP Tokyo gateway "), "{screen}");
    assert!(!screen.contains('🇵'), "{screen}");
}

// ---------------------------------------------------------------------------------------------
// 11. Dialogs cut names by columns and show their whole text
// ---------------------------------------------------------------------------------------------

#[test]
fn dialogs_cut_names_by_columns_and_keep_their_last_words_at_the_smallest_size() {
    let mut fx = Fixture::with(|store| {
        create(store, &"東".repeat(40), Environment::Development);
    });
    fx.press(KeyCode::Char('x'));
    let screen = fx.screen(120, 40);
    let question = lines(&screen)
        .into_iter()
        .find(|l| l.contains("Revoke \""))
        .expect("the question");
    // 40 wide characters are 80 columns: cut to 41 columns with the "…", not 40 characters.
    assert_eq!(question.matches('東').count(), 20, "{question}");
    assert!(question.contains("東…\""), "{question}");
    for (open, words) in [
        ('x', vec!["undone."]),
        (
            'r',
            vec!["once.", "The current secret stops working:", "7 days"],
        ),
    ] {
        fx.press(KeyCode::Esc);
        fx.press(KeyCode::Char(open));
        let screen = fx.screen(60, 16);
        for word in words {
            assert!(screen.contains(word), "{word:?} at 60×16:\n{screen}");
        }
        assert!(screen.contains("n/Esc cancel"), "{screen}");
    }
    insta::assert_snapshot!("text_rotate_60x16", fx.screen(60, 16));
    fx.press(KeyCode::Esc);
    fx.press(KeyCode::Char('x'));
    insta::assert_snapshot!("text_revoke_60x16", fx.screen(60, 16));
}

// ---------------------------------------------------------------------------------------------
// 12. What fits: search beside the chips, emoji cut with "…", the header, the columns
// ---------------------------------------------------------------------------------------------

#[test]
fn at_60_columns_the_search_text_shows_beside_both_filters() {
    let mut fx = Fixture::with(|store| {
        let issued = create(store, "Billing", Environment::Development);
        store.revoke_key(WS, &issued.record.id).unwrap();
    });
    fx.press(KeyCode::Char('e'));
    fx.press(KeyCode::Char('e'));
    fx.press(KeyCode::Char('e'));
    fx.press(KeyCode::Char('s'));
    fx.press(KeyCode::Char('s'));
    fx.press(KeyCode::Char('/'));
    fx.type_text("billing");
    let screen = fx.screen(60, 16);
    let controls = lines(&screen)
        .into_iter()
        .find(|l| l.contains("Search:"))
        .unwrap();
    assert!(controls.contains("billing"), "{controls}");
    assert!(
        controls.contains("dev") && controls.contains("Revoked"),
        "{controls}"
    );
    insta::assert_snapshot!("text_chips_60x16", screen);
}

#[test]
fn emoji_with_a_variation_selector_are_cut_with_an_ellipsis() {
    let hearts = "❤️".repeat(10);
    assert_eq!(hearts.width(), 20);
    let cut = fit(&hearts, 9);
    assert_eq!(cut, format!("{}…", "❤️".repeat(4)));
    assert!(cut.width() <= 9);

    let name = format!("Team {}", "❤️".repeat(40));
    let mut fx = Fixture::with(|store| {
        create(store, &name, Environment::Staging);
    });
    let screen = fx.screen(80, 24);
    let row = lines(&screen)
        .into_iter()
        .find(|l| l.contains("Team"))
        .unwrap();
    assert!(row.contains("❤️…"), "{row}");
}

#[test]
fn a_long_workspace_name_stops_before_the_brand() {
    let workspace = "w".repeat(63);
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let mut store = Store::open_with(dir.path().join("s.db"), store_options(&clock, 3)).unwrap();
    store
        .create_key(&workspace, NewKey::new("Billing", Environment::Staging))
        .unwrap();
    let mut app = App::new(store, &workspace, Box::new(Osc52Only::default()));
    for width in [60, 80, 100, 120] {
        app.update(Action::Resize(width, 24));
        let screen = render(&app, width, 24);
        let header = &lines(&screen)[0];
        assert!(header.ends_with(" hivekeys "), "{width}: {header:?}");
        assert!(!header.contains("whivekeys"), "{width}: {header:?}");
        if width >= 110 {
            assert!(
                header.contains(&workspace),
                "room for all of it: {header:?}"
            );
        } else {
            assert!(header.contains("w… "), "{width}: {header:?}");
        }
    }
}

#[test]
fn last_used_keeps_a_column_from_the_scrollbar() {
    let mut fx = Fixture::timed(|store, clock| {
        for i in 0..30 {
            let issued = create(store, &format!("Key {i}"), Environment::Staging);
            store.verify(issued.secret.expose()).unwrap();
        }
        store.flush_usage().unwrap();
        clock.advance(chrono::TimeDelta::minutes(43));
    });
    let screen = fx.screen(120, 40);
    let row = lines(&screen)
        .into_iter()
        .find(|l| l.contains("43 minutes ago"))
        .expect("a 14-column Last used");
    assert!(
        row.contains("43 minutes ago █") || row.contains("43 minutes ago ║"),
        "{row}"
    );
}

#[test]
fn at_250_columns_the_width_is_shared_and_name_is_capped() {
    let mut fx = Fixture::with(|store| {
        create(store, "Billing", Environment::Staging);
    });
    let screen = fx.screen(250, 40);
    let header = lines(&screen)
        .into_iter()
        .find(|l| l.contains("Name") && l.contains("Key"))
        .unwrap();
    let key_column = header.find("Key").unwrap();
    let name_column = header.find("Name").unwrap();
    assert!(
        key_column - name_column <= 82,
        "Key at {key_column}: {header}"
    );
    // Each column after Name got a share of the rest: they spread across the width.
    let last_used = header.find("Last used").unwrap();
    assert!(last_used > 200, "Last used at {last_used}: {header}");
}
