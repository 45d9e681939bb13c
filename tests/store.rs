//! Integration tests of the store against real SQLite files in temporary directories: no
//! mocks, only a manual clock and seeded entropy where determinism helps.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use common::{assert_keys_not_on_disk, sidecar, store_options};
use hivekeys::clock::ManualClock;
use hivekeys::entropy::SeededEntropy;
use hivekeys::key::KeyHash;
use hivekeys::store::{
    AuditAction, CHECK_EVERY, Grace, InvalidReason, IssuedKey, LATEST_VERSION, Verification,
    VerifiedKey,
};
use hivekeys::text::NameError;
use hivekeys::{
    Environment, Error, KeyQuery, KeyRecord, NewKey, Secret, Status, Store, StoreOptions,
};
use rusqlite::{Connection, OpenFlags};
use tempfile::TempDir;

const WS: &str = "acme";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// 2026-03-01 12:00:00 UTC: the time every fixture starts at.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

fn options(clock: &Arc<ManualClock>, seed: u64, busy_timeout: Duration) -> StoreOptions {
    StoreOptions {
        busy_timeout,
        // Batches are written when a test says so (flush, drop); the timer has its own test.
        usage_flush_interval: Duration::from_secs(3600),
        ..store_options(clock, seed)
    }
}

fn open(path: &Path, clock: &Arc<ManualClock>, seed: u64) -> Store {
    Store::open_with(path, options(clock, seed, Duration::from_secs(5))).unwrap()
}

/// A store in a fresh temporary directory. Fields drop in order: the store closes (and
/// flushes) before the directory goes.
struct Fixture {
    store: Store,
    clock: Arc<ManualClock>,
    path: PathBuf,
    dir: TempDir,
}

fn fixture() -> Fixture {
    fixture_with_timeout(Duration::from_secs(5))
}

fn fixture_with_timeout(busy_timeout: Duration) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hivekeys.db");
    let clock = Arc::new(ManualClock::new(t0()));
    let store = Store::open_with(&path, options(&clock, 1, busy_timeout)).unwrap();
    Fixture {
        store,
        clock,
        path,
        dir,
    }
}

impl Fixture {
    fn create(&mut self, name: &str, environment: Environment) -> IssuedKey {
        self.store
            .create_key(WS, NewKey::new(name, environment))
            .unwrap()
    }

    fn count(&self) -> u64 {
        self.store.count_keys(WS, &KeyQuery::default()).unwrap()
    }

    fn get(&self, id: &str) -> KeyRecord {
        self.store.get_key(WS, id).unwrap()
    }
}

fn verified(store: &mut Store, key: &str) -> VerifiedKey {
    match store.verify(key).unwrap() {
        Verification::Valid(v) => v,
        other => panic!("expected a valid key, got {other:?}"),
    }
}

fn rejected(store: &mut Store, key: &str) -> InvalidReason {
    match store.verify(key).unwrap() {
        Verification::Invalid(reason) => reason,
        Verification::Valid(v) => panic!("expected an invalid key, got Valid({})", v.id),
    }
}

fn full(issued: &IssuedKey) -> String {
    issued.secret.expose().to_owned()
}

/// Rows of `table`, read through a separate raw connection.
fn raw_count(path: &Path, table: &str) -> i64 {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
        row.get(0)
    })
    .unwrap()
}

fn all_rows(path: &Path) -> [i64; 5] {
    ["workspaces", "keys", "secrets", "audit_events", "key_usage"].map(|t| raw_count(path, t))
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn assert_one_sentence(err: &Error) {
    let text = err.to_string();
    assert!(
        !text.contains('\n') && !text.contains('\r'),
        "error message spans several lines: {text:?}"
    );
    assert!(
        text.ends_with('.'),
        "error message does not end with '.': {text:?}"
    );
    assert!(
        !text.chars().any(char::is_control),
        "error message holds a control character: {text:?}"
    );
}

fn query() -> KeyQuery {
    KeyQuery::default()
}

// ---------------------------------------------------------------------------------------------
// create_key / create_default_key
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// rotate
// ---------------------------------------------------------------------------------------------

/// The store file deleted or replaced (a backup restored over it) under an open store: writes
/// are refused with one sentence instead of landing in a file nobody reads, and `reopen`
/// follows the path to the new file.
#[test]
fn a_store_file_deleted_or_replaced_under_an_open_store() {
    let mut f = fixture();
    f.create("Before", Environment::Production);
    let backup = f.dir.path().join("backup.db");
    {
        let mut other = open(&backup, &f.clock, 7);
        other
            .create_key(WS, NewKey::new("From the backup", Environment::Staging))
            .unwrap();
    }

    // Deleted, with its sidecar files.
    for suffix in ["", "-wal", "-shm"] {
        let _ = fs::remove_file(format!("{}{suffix}", f.path.display()));
    }
    let err = f
        .store
        .create_key(WS, NewKey::new("Into the void", Environment::Production))
        .unwrap_err();
    assert!(matches!(err, Error::StoreGone { .. }), "{err}");
    assert!(err.to_string().contains("was deleted"), "{err}");
    assert!(f.store.check_file().is_err());
    assert!(!f.path.exists(), "nothing recreated the deleted file");

    // A backup moved into its place.
    fs::rename(&backup, &f.path).unwrap();
    let err = f
        .store
        .create_key(
            WS,
            NewKey::new("Into the old inode", Environment::Production),
        )
        .unwrap_err();
    assert!(matches!(err, Error::StoreReplaced { .. }), "{err}");
    f.store.reopen().unwrap();
    f.store.check_file().unwrap();
    let names: Vec<String> = f
        .store
        .list_keys(WS, &KeyQuery::default())
        .unwrap()
        .into_iter()
        .map(|k| k.name)
        .collect();
    assert_eq!(names, vec!["From the backup".to_owned()]);
    let created = f.create("After", Environment::Production);
    let mut fresh = open(&f.path, &f.clock, 8);
    assert_eq!(verified(&mut fresh, &full(&created)).name, "After");
}

/// Review finding: when another file takes the store's place, the use counts still buffered
/// are written to the file they were counted in (moved aside, still open), not lost, and not
/// written into the new file's unrelated rows.
#[test]
fn reopening_writes_buffered_counts_to_the_file_they_were_counted_in() {
    let mut f = fixture();
    let k = f.create("Counted", Environment::Production);
    let backup = f.dir.path().join("backup.db");
    {
        let mut other = open(&backup, &f.clock, 7);
        other
            .create_key(WS, NewKey::new("In the backup", Environment::Staging))
            .unwrap();
    }
    verified(&mut f.store, &full(&k));
    verified(&mut f.store, &full(&k));
    assert_eq!(f.store.pending_usage(), 2);
    let aside = f.dir.path().join("aside.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = fs::rename(
            format!("{}{suffix}", f.path.display()),
            format!("{}{suffix}", aside.display()),
        );
    }
    fs::rename(&backup, &f.path).unwrap();
    f.store.reopen().unwrap();
    let old = open(&aside, &f.clock, 8);
    assert_eq!(old.get_key(WS, &k.record.id).unwrap().use_count, 2);
    let new_keys = f.store.list_keys(WS, &KeyQuery::default()).unwrap();
    assert!(new_keys.iter().all(|key| key.use_count == 0));
}

// ---------------------------------------------------------------------------------------------
// revoke
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// expiry
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// verify
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// list_keys / count_keys
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// resolve_key
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Several connections
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// The full key never reaches the disk
// ---------------------------------------------------------------------------------------------

#[test]
fn the_full_key_is_never_written_to_disk() {
    let mut f = fixture();
    let created = f.create("Secretive", Environment::Production);
    let default = f
        .store
        .create_default_key(WS, Environment::Development)
        .unwrap();
    let rotated = f
        .store
        .rotate_key(WS, &created.record.id, Grace::OneDay)
        .unwrap();
    let keys = vec![full(&created), full(&default), full(&rotated)];
    assert!(
        sidecar(&f.path, "-wal").exists(),
        "the store runs in WAL mode"
    );
    assert_keys_not_on_disk(&f.path, &keys, "after create and rotate");

    for key in &keys {
        verified(&mut f.store, key);
    }
    assert_eq!(f.store.flush_usage().unwrap(), 3);
    assert_keys_not_on_disk(&f.path, &keys, "after verify and flush");

    // Only the SHA-256 digests are stored.
    {
        let conn = Connection::open_with_flags(&f.path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let mut st = conn.prepare("SELECT hash FROM secrets").unwrap();
        let hashes: Vec<Vec<u8>> = st
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(hashes.len(), 3);
        for key in &keys {
            assert!(hashes.contains(&KeyHash::of(key).0.to_vec()));
        }
    }

    // Debug output of what the store hands out never shows the key.
    for (issued, key) in [&created, &default, &rotated].into_iter().zip(&keys) {
        let shown = format!("{issued:?} {:?} {issued:#?}", issued.secret);
        let secret = &key[key.rfind('_').unwrap() + 1..][..32];
        assert!(!shown.contains(key.as_str()));
        assert!(!shown.contains(secret));
        assert!(!shown.contains(&secret[4..]));
    }
    let shown = format!("{:?}", f.store);
    for key in &keys {
        assert!(!shown.contains(key.as_str()));
    }

    // Nor after the store has been closed and checkpointed.
    let Fixture {
        store, path, dir, ..
    } = f;
    drop(store);
    assert_keys_not_on_disk(&path, &keys, "after close");
    drop(dir);
}

// ---------------------------------------------------------------------------------------------
// Opening files
// ---------------------------------------------------------------------------------------------

#[test]
fn a_new_store_and_its_directories_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outer/inner/hivekeys.db");
    let clock = Arc::new(ManualClock::new(t0()));
    let mut store = open(&path, &clock, 1);
    store
        .create_key(WS, NewKey::new("k", Environment::Production))
        .unwrap();
    assert_eq!(mode(&path), 0o600, "store file");
    assert_eq!(mode(&dir.path().join("outer")), 0o700);
    assert_eq!(mode(&dir.path().join("outer/inner")), 0o700);
    for suffix in ["-wal", "-shm"] {
        let file = sidecar(&path, suffix);
        if file.exists() {
            assert_eq!(
                mode(&file) & 0o077,
                0,
                "{} is readable by others",
                file.display()
            );
        }
    }
    assert_eq!(store.permission_warning(), None);
    assert_eq!(store.path(), path);

    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    let warning = store
        .permission_warning()
        .expect("a warning for a 0644 store");
    assert!(!warning.contains('\n'), "{warning:?}");
    drop(store);

    // Reopening an existing store does not change its mode.
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    let store = open(&path, &clock, 2);
    assert_eq!(mode(&path), 0o600);
    assert_eq!(store.count_keys(WS, &query()).unwrap(), 1);
}

#[test]
fn a_directory_is_not_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let err = Store::open_with(dir.path(), options(&clock, 1, Duration::from_secs(1))).unwrap_err();
    assert!(
        matches!(&err, Error::IsDirectory { path } if path == dir.path()),
        "{err:?}"
    );
    assert_one_sentence(&err);
    assert!(dir.path().is_dir());
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing was created"
    );
}

/// Every file in `dir` with its bytes.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let bytes = fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn a_file_that_is_not_sqlite_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let mut text = String::new();
    while text.len() < 4096 {
        text.push_str("These are my notes, not a database. ");
    }
    text.truncate(4096);
    for (name, content) in [
        ("notes.txt", text.as_bytes()),
        ("tiny.txt", b"hello\n".as_slice()),
    ] {
        let path = dir.path().join(name);
        fs::write(&path, content).unwrap();
        let before = snapshot(dir.path());
        let err = Store::open_with(&path, options(&clock, 1, Duration::from_secs(1))).unwrap_err();
        assert!(
            matches!(&err, Error::NotADatabase { path: p } if p == &path),
            "{name}: {err:?}"
        );
        assert_one_sentence(&err);
        assert_eq!(snapshot(dir.path()), before, "{name} was changed");
    }
}

#[test]
fn a_database_of_another_program_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));

    let plain = dir.path().join("notes.db");
    {
        let conn = Connection::open(&plain).unwrap();
        conn.execute_batch(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
             INSERT INTO notes (body) VALUES ('buy milk'), ('call bob');",
        )
        .unwrap();
    }
    // Another program that uses user_version and WAL mode too, with its own application id.
    let other = dir.path().join("other.db");
    {
        let conn = Connection::open(&other).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA application_id = 1234;
             PRAGMA user_version = 1;
             CREATE TABLE keys (id INTEGER PRIMARY KEY);",
        )
        .unwrap();
    }
    // Another program's database with a schema version beyond ours but no application id.
    let versioned = dir.path().join("versioned.db");
    {
        let conn = Connection::open(&versioned).unwrap();
        conn.execute_batch(&format!(
            "CREATE TABLE t (x); PRAGMA user_version = {};",
            LATEST_VERSION + 5
        ))
        .unwrap();
    }

    for path in [&plain, &other, &versioned] {
        let before = snapshot(dir.path());
        let err = Store::open_with(path, options(&clock, 1, Duration::from_secs(1))).unwrap_err();
        assert!(
            matches!(&err, Error::ForeignDatabase { path: p } if p == path),
            "{}: {err:?}",
            path.display()
        );
        assert_one_sentence(&err);
        assert_eq!(
            snapshot(dir.path()),
            before,
            "{} was changed",
            path.display()
        );
    }
    let conn = Connection::open(&plain).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM notes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2);
}

#[test]
fn a_store_from_a_newer_hivekeys_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hivekeys.db");
    let clock = Arc::new(ManualClock::new(t0()));
    {
        let mut store = open(&path, &clock, 1);
        store
            .create_key(WS, NewKey::new("from the future", Environment::Production))
            .unwrap();
    }
    {
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", LATEST_VERSION + 1)
            .unwrap();
    }
    let before = snapshot(dir.path());
    assert_eq!(
        before.len(),
        1,
        "the store was checkpointed on close: {before:?}"
    );
    let err = Store::open_with(&path, options(&clock, 1, Duration::from_secs(1))).unwrap_err();
    match &err {
        Error::TooNew {
            path: p,
            found,
            supported,
        } => {
            assert_eq!(p, &path);
            assert_eq!(*found, LATEST_VERSION + 1);
            assert_eq!(*supported, LATEST_VERSION);
        }
        other => panic!("expected TooNew, got {other:?}"),
    }
    assert_one_sentence(&err);
    assert_eq!(snapshot(dir.path()), before, "the newer store was changed");
}

#[test]
fn a_truncated_store_reports_damage_and_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hivekeys.db");
    let clock = Arc::new(ManualClock::new(t0()));
    let mut keys = Vec::new();
    {
        let mut store = open(&path, &clock, 1);
        for i in 0..80 {
            let name = format!("{i:02} {}", "padding to fill pages ".repeat(2));
            let issued = store
                .create_key(WS, NewKey::new(name, Environment::Production))
                .unwrap();
            keys.push((issued.record.id.clone(), full(&issued)));
        }
    }
    assert!(!sidecar(&path, "-wal").exists(), "checkpointed on close");
    let len = fs::metadata(&path).unwrap().len();
    assert!(
        len >= 8 * 4096,
        "the store should span several pages ({len} bytes)"
    );
    let pristine = fs::read(&path).unwrap();

    // Whether cut short or scribbled over, the store reports the damage, never panics and
    // speaks in sentences.
    let mut damaged: Vec<(String, Vec<u8>)> = [len / 2, len * 3 / 4, len - 4096, 4096, 100]
        .into_iter()
        .map(|cut| {
            (
                format!("cut at {cut} of {len}"),
                pristine[..cut as usize].to_vec(),
            )
        })
        .collect();
    for page in [2usize, 3, pristine.len() / 4096 - 1] {
        let mut bytes = pristine.clone();
        bytes[page * 4096..(page + 1) * 4096].fill(0xA5);
        damaged.push((format!("page {page} overwritten"), bytes));
    }
    for (what, bytes) in &damaged {
        fs::write(&path, bytes).unwrap();
        let outcomes = exercise_damaged_store(&path, &clock, &keys);
        let errors: Vec<&Error> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
        for err in &errors {
            assert_one_sentence(err);
        }
        assert!(
            errors
                .iter()
                .any(|e| matches!(e, Error::Corrupt { .. } | Error::NotADatabase { .. })),
            "{what}: no operation reported the damage: {errors:?}"
        );
        for suffix in ["-wal", "-shm"] {
            let _ = fs::remove_file(sidecar(&path, suffix));
        }
    }
}

/// Runs every kind of operation on a damaged store, collecting the outcomes.
fn exercise_damaged_store(
    path: &Path,
    clock: &Arc<ManualClock>,
    keys: &[(String, String)],
) -> Vec<Result<(), Error>> {
    let mut outcomes: Vec<Result<(), Error>> = Vec::new();
    let mut store = match Store::open_with(path, options(clock, 2, Duration::from_secs(1))) {
        Err(e) => return vec![Err(e)],
        Ok(store) => store,
    };
    outcomes.push(store.list_keys(WS, &query()).map(drop));
    outcomes.push(store.count_keys(WS, &query()).map(drop));
    outcomes.push(store.default_key(WS).map(drop));
    outcomes.push(
        store
            .list_keys(
                WS,
                &KeyQuery {
                    search: Some("padding".into()),
                    status: Some(Status::Active),
                    ..query()
                },
            )
            .map(drop),
    );
    for (id, key) in keys.iter().step_by(7) {
        outcomes.push(store.verify(key).map(drop));
        outcomes.push(store.get_key(WS, id).map(drop));
        outcomes.push(store.resolve_key(WS, id).map(drop));
        outcomes.push(store.audit_trail(WS, id).map(drop));
        outcomes.push(store.daily_usage(WS, id, 30).map(drop));
        outcomes.push(store.rotate_key(WS, id, Grace::None).map(drop));
        outcomes.push(store.revoke_key(WS, id).map(drop));
    }
    outcomes.push(
        store
            .create_key(WS, NewKey::new("after damage", Environment::Staging))
            .map(drop),
    );
    outcomes.push(store.flush_usage().map(drop));
    outcomes
}

#[test]
fn a_locked_store_reports_busy_and_changes_nothing() {
    let timeout = Duration::from_millis(100);
    let mut f = fixture_with_timeout(timeout);
    let k = f.create("Existing", Environment::Production);
    let id = k.record.id.clone();
    let key = full(&k);
    let before_rows = all_rows(&f.path);

    let locker = Connection::open(&f.path).unwrap();
    locker.execute_batch("BEGIN IMMEDIATE").unwrap();

    let started = Instant::now();
    let err = f
        .store
        .create_key(WS, NewKey::new("Blocked", Environment::Production))
        .unwrap_err();
    let waited = started.elapsed();
    assert!(matches!(err, Error::Busy { timeout_ms: 100 }), "{err:?}");
    assert_one_sentence(&err);
    // It waited for the lock before giving up (a lower bound cannot fail on a slow machine);
    // that it gave up after the timeout it was given is in the error itself.
    assert!(
        waited >= Duration::from_millis(80),
        "gave up after {waited:?}"
    );

    for err in [
        f.store
            .create_default_key(WS, Environment::Production)
            .unwrap_err(),
        f.store.rotate_key(WS, &id, Grace::None).unwrap_err(),
        f.store.revoke_key(WS, &id).map(drop).unwrap_err(),
    ] {
        assert!(matches!(err, Error::Busy { .. }), "{err:?}");
    }

    // Readers are not blocked (WAL): verification still works, and its bookkeeping waits.
    assert_eq!(verified(&mut f.store, &key).id, id);
    assert_eq!(f.store.pending_usage(), 1);
    assert!(matches!(f.store.flush_usage(), Err(Error::Busy { .. })));
    assert_eq!(f.store.pending_usage(), 1, "a failed flush keeps its batch");
    assert_eq!(f.count(), 1);

    locker.execute_batch("ROLLBACK").unwrap();
    drop(locker);

    assert_eq!(all_rows(&f.path), before_rows, "a busy store was changed");
    assert_eq!(f.count(), 1);
    let r = f.get(&id);
    assert_eq!(r.rotated_at, None);
    assert_eq!(r.revoked_at, None);
    assert_eq!(
        verified(&mut f.store, &key).id,
        id,
        "the old secret still works"
    );
    assert_eq!(f.store.flush_usage().unwrap(), 2);
    assert_eq!(f.get(&id).use_count, 2);
    let actions: Vec<_> = f
        .store
        .audit_trail(WS, &id)
        .unwrap()
        .iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, vec![AuditAction::Created]);
    // And writes work again.
    f.create("Unblocked", Environment::Production);
    assert_eq!(f.count(), 2);
}

// ---------------------------------------------------------------------------------------------
// Error messages
// ---------------------------------------------------------------------------------------------

/// Which variant `err` is: a match without a wildcard, so a new variant does not compile until
/// it is listed here, and then fails the test until an instance of it is in the list below.
fn variant(err: &Error) -> &'static str {
    match err {
        Error::InvalidName(NameError::Empty(_)) => "InvalidName(Empty)",
        Error::InvalidName(NameError::TooLong { .. }) => "InvalidName(TooLong)",
        Error::InvalidName(NameError::TooManyCodePoints { .. }) => "InvalidName(TooManyCodePoints)",
        Error::InvalidName(NameError::ControlCharacter(_)) => "InvalidName(ControlCharacter)",
        Error::InvalidName(NameError::Invisible(_)) => "InvalidName(Invisible)",
        Error::InvalidName(NameError::ContainsKey { .. }) => "InvalidName(ContainsKey)",
        Error::InvalidName(NameError::LooksLikeId { .. }) => "InvalidName(LooksLikeId)",
        Error::KeyNotFound { .. } => "KeyNotFound",
        Error::AmbiguousKey { .. } => "AmbiguousKey",
        Error::DefaultKeyExists { .. } => "DefaultKeyExists",
        Error::WorkspaceExists { .. } => "WorkspaceExists",
        Error::ExpiryInPast => "ExpiryInPast",
        Error::InvalidDailyLimit => "InvalidDailyLimit",
        Error::KeyRevoked { .. } => "KeyRevoked",
        Error::KeyExpired { .. } => "KeyExpired",
        Error::Busy { .. } => "Busy",
        Error::ReadOnly { .. } => "ReadOnly",
        Error::IsDirectory { .. } => "IsDirectory",
        Error::NotAFile { .. } => "NotAFile",
        Error::BadEnvironmentVariable { .. } => "BadEnvironmentVariable",
        Error::NotADatabase { .. } => "NotADatabase",
        Error::ForeignDatabase { .. } => "ForeignDatabase",
        Error::Corrupt { .. } => "Corrupt",
        Error::TooNew { .. } => "TooNew",
        Error::DiskFull { .. } => "DiskFull",
        Error::CannotOpen { .. } => "CannotOpen",
        Error::NoStore { .. } => "NoStore",
        Error::NoDataDirectory => "NoDataDirectory",
        Error::Entropy(_) => "Entropy",
        Error::Database { .. } => "Database",
        Error::NotDelivered {
            rotation: false, ..
        } => "NotDelivered(create)",
        Error::NotDelivered { rotation: true, .. } => "NotDelivered(rotate)",
        Error::RotatedMeanwhile { .. } => "RotatedMeanwhile",
        Error::StoreReplaced { .. } => "StoreReplaced",
        Error::StoreGone { .. } => "StoreGone",
        Error::Withdrawn => "Withdrawn",
        Error::UnsupportedDatabaseUrl { .. } => "UnsupportedDatabaseUrl",
        Error::InvalidDatabaseUrl { .. } => "InvalidDatabaseUrl",
        Error::StoreUnreachable { .. } => "StoreUnreachable",
        Error::StoreLoginRefused { .. } => "StoreLoginRefused",
        Error::StoreDatabaseMissing { .. } => "StoreDatabaseMissing",
        Error::StoreTlsRefused { .. } => "StoreTlsRefused",
        Error::StoreTlsFailed { .. } => "StoreTlsFailed",
        Error::ForeignSchema { .. } => "ForeignSchema",
        Error::StoreFailed { .. } => "StoreFailed",
        Error::CopyTargetNotEmpty { .. } => "CopyTargetNotEmpty",
    }
}

/// Every name `variant` can return, in its order.
const VARIANTS: [&str; 46] = [
    "InvalidName(Empty)",
    "InvalidName(TooLong)",
    "InvalidName(TooManyCodePoints)",
    "InvalidName(ControlCharacter)",
    "InvalidName(Invisible)",
    "InvalidName(ContainsKey)",
    "InvalidName(LooksLikeId)",
    "KeyNotFound",
    "AmbiguousKey",
    "DefaultKeyExists",
    "WorkspaceExists",
    "ExpiryInPast",
    "InvalidDailyLimit",
    "KeyRevoked",
    "KeyExpired",
    "Busy",
    "ReadOnly",
    "IsDirectory",
    "NotAFile",
    "BadEnvironmentVariable",
    "NotADatabase",
    "ForeignDatabase",
    "Corrupt",
    "TooNew",
    "DiskFull",
    "CannotOpen",
    "NoStore",
    "NoDataDirectory",
    "Entropy",
    "Database",
    "NotDelivered(create)",
    "NotDelivered(rotate)",
    "RotatedMeanwhile",
    "StoreReplaced",
    "StoreGone",
    "Withdrawn",
    "UnsupportedDatabaseUrl",
    "InvalidDatabaseUrl",
    "StoreUnreachable",
    "StoreLoginRefused",
    "StoreDatabaseMissing",
    "StoreTlsRefused",
    "StoreTlsFailed",
    "ForeignSchema",
    "StoreFailed",
    "CopyTargetNotEmpty",
];

#[test]
fn every_error_message_is_one_sentence() {
    let path = PathBuf::from("/home/alice/.local/share/hivekeys/hivekeys.db");
    let errors = vec![
        Error::InvalidName(NameError::Empty("key")),
        Error::InvalidName(NameError::TooLong {
            what: "workspace",
            chars: 65,
        }),
        Error::InvalidName(NameError::TooManyCodePoints {
            what: "key",
            code_points: 5001,
        }),
        Error::InvalidName(NameError::ControlCharacter("key")),
        Error::InvalidName(NameError::Invisible("key")),
        Error::InvalidName(NameError::ContainsKey {
            what: "key",
            masked: "fhk_prod_0000…OYDm".into(),
        }),
        Error::InvalidName(NameError::LooksLikeId {
            what: "key",
            name: "key_4f9c2a1b".into(),
        }),
        Error::KeyNotFound {
            query: "billing".into(),
            workspace: WS.into(),
        },
        Error::AmbiguousKey {
            query: "Shared".into(),
            workspace: WS.into(),
            candidates: vec![
                "key_0a1b2c3d production, active".into(),
                "key_4e5f6a7b staging, revoked".into(),
            ],
            more: true,
        },
        Error::DefaultKeyExists {
            workspace: WS.into(),
            id: "key_0a1b2c3d".into(),
        },
        Error::WorkspaceExists {
            name: "Billing".into(),
        },
        Error::ExpiryInPast,
        Error::InvalidDailyLimit,
        Error::KeyRevoked {
            id: "key_0a1b2c3d".into(),
        },
        Error::KeyExpired {
            id: "key_0a1b2c3d".into(),
        },
        Error::Busy { timeout_ms: 5000 },
        Error::ReadOnly { path: path.clone() },
        Error::IsDirectory { path: path.clone() },
        Error::NotAFile {
            path: PathBuf::from("/dev/null"),
            kind: "a device",
        },
        Error::BadEnvironmentVariable {
            name: "HIVEKEYS_BUSY_TIMEOUT_MS",
            value: "soon".into(),
            expected: "a number of milliseconds",
        },
        Error::NotADatabase { path: path.clone() },
        Error::ForeignDatabase { path: path.clone() },
        Error::Corrupt { path: path.clone() },
        Error::TooNew {
            path: path.clone(),
            found: 9,
            supported: 1,
        },
        Error::DiskFull { path: path.clone() },
        Error::CannotOpen {
            path: path.clone(),
            reason: "permission denied".into(),
        },
        Error::NoStore { path: path.clone() },
        Error::NoDataDirectory,
        Error::Entropy("getrandom failed".into()),
        Error::Database {
            path: path.clone(),
            message: "no such table: keys".into(),
        },
        Error::NotDelivered {
            rotation: false,
            source: std::io::Error::from(std::io::ErrorKind::BrokenPipe),
        },
        Error::NotDelivered {
            rotation: true,
            source: std::io::Error::from(std::io::ErrorKind::StorageFull),
        },
        Error::RotatedMeanwhile {
            id: "key_0a1b2c3d".into(),
        },
        Error::StoreReplaced { path: path.clone() },
        Error::StoreGone { path },
        Error::Withdrawn,
        Error::UnsupportedDatabaseUrl {
            scheme: "mysql".into(),
        },
        Error::InvalidDatabaseUrl {
            problem: "the port is not a number from 1 to 65535".into(),
        },
        Error::StoreUnreachable {
            store: "postgres://alice@db.example.com:5432/keys".into(),
            reason: "connection refused".into(),
        },
        Error::StoreLoginRefused {
            store: "postgres://alice@db.example.com:5432/keys".into(),
            reason: "password authentication failed for user \"alice\"".into(),
        },
        Error::StoreDatabaseMissing {
            store: "postgres://alice@db.example.com:5432/keys".into(),
        },
        Error::StoreTlsRefused {
            store: "postgres://alice@db.example.com:5432/keys".into(),
            sslmode: "require",
        },
        Error::StoreTlsFailed {
            store: "postgres://alice@db.example.com:5432/keys".into(),
            reason: "the server's certificate has expired".into(),
            remedy: "renew the server's certificate",
        },
        Error::ForeignSchema {
            store: "postgres://alice@db.example.com:5432/keys".into(),
        },
        Error::StoreFailed {
            store: "postgres://alice@db.example.com:5432/keys".into(),
            reason: "permission denied for schema hivekeys.".into(),
        },
        Error::CopyTargetNotEmpty {
            path: "postgres://alice@db.example.com:5432/keys".into(),
        },
    ];
    let covered: Vec<&str> = errors.iter().map(variant).collect();
    assert_eq!(covered, VARIANTS, "one error of every variant, in order");
    for err in &errors {
        assert_one_sentence(err);
    }
}

#[test]
fn errors_naming_a_hostile_path_stay_on_one_line() {
    // A path is shown in error messages; one holding a newline or an escape sequence must not
    // break the one-line message or reach the terminal raw.
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let hostile = dir.path().join("evil\ndir\u{1b}[2J");
    fs::create_dir(&hostile).unwrap();
    let err = Store::open_with(&hostile, options(&clock, 1, Duration::from_secs(1))).unwrap_err();
    assert!(matches!(err, Error::IsDirectory { .. }), "{err:?}");
    assert_one_sentence(&err);
}

/// The propagation bound, measured: 200 revocations and rotations through another connection
/// (as another process makes them) while this one verifies without pause. The old secret is
/// refused within PRODUCT.md's 100 ms every time; the figures are printed (`--nocapture`).
#[test]
fn another_connections_revocations_and_rotations_reach_a_busy_verifier_within_the_bound() {
    let mut f = fixture();
    let keys: Vec<IssuedKey> = (0..200)
        .map(|i| f.create(&format!("Propagated {i}"), Environment::Production))
        .collect();
    let mut admin = open(&f.path, &f.clock, 11);
    let mut delays = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let secret = full(key);
        assert_eq!(verified(&mut f.store, &secret).id, key.record.id, "warm");
        let expected = match i % 2 {
            0 => {
                admin.revoke_key(WS, &key.record.id).unwrap();
                InvalidReason::Revoked
            }
            _ => {
                admin.rotate_key(WS, &key.record.id, Grace::None).unwrap();
                InvalidReason::Expired
            }
        };
        let changed = Instant::now();
        loop {
            match f.store.verify(&secret).unwrap() {
                Verification::Invalid(reason) => {
                    assert_eq!(reason, expected);
                    break;
                }
                Verification::Valid(_) => {
                    assert!(changed.elapsed() < Duration::from_secs(5), "never refused");
                }
            }
        }
        delays.push(changed.elapsed());
    }
    delays.sort();
    let at = |q: f64| delays[((delays.len() - 1) as f64 * q) as usize];
    eprintln!(
        "propagation over {} changes: p50 {:?}, p99 {:?}, max {:?}",
        delays.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    );
    assert!(at(1.0) < Duration::from_millis(100), "max {:?}", at(1.0));
}

/// Review finding: a program writing raw SQL that renames a workspace by deleting and
/// inserting its row moves the key-change counter, so a verifier restricted to the old name
/// stops accepting that workspace's remembered keys.
#[test]
fn raw_sql_workspace_changes_move_the_key_change_counter() {
    let mut f = fixture();
    let k = f.create("Tenant key", Environment::Production);
    assert!(matches!(
        f.store.verify_in(Some(WS), &full(&k)).unwrap(),
        Verification::Valid(_)
    ));
    let before = f.store.keys_version().unwrap();
    let raw = Connection::open(&f.path).unwrap();
    raw.execute_batch(
        "PRAGMA foreign_keys = OFF;
         BEGIN;
         CREATE TEMP TABLE w AS SELECT * FROM workspaces WHERE name = 'acme';
         DELETE FROM workspaces WHERE name = 'acme';
         INSERT INTO workspaces (id, name, created_at) SELECT id, 'other', created_at FROM w;
         COMMIT;",
    )
    .unwrap();
    assert_ne!(f.store.keys_version().unwrap(), before);
    std::thread::sleep(CHECK_EVERY);
    assert_eq!(
        f.store.verify_in(Some(WS), &full(&k)).unwrap(),
        Verification::Invalid(InvalidReason::NotFound)
    );
}

#[test]
fn open_existing_never_creates_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing").join("hivekeys.db");
    let err = Store::open_existing(&path, StoreOptions::default()).unwrap_err();
    assert!(matches!(err, Error::NoStore { .. }), "{err:?}");
    assert!(err.to_string().contains("no hivekeys database"), "{err}");
    assert!(!path.exists() && !path.parent().unwrap().exists());
}

#[test]
fn a_quiet_verifier_lets_go_of_its_snapshot_so_the_log_can_be_checkpointed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hivekeys.db");
    let clock = Arc::new(ManualClock::new(t0()));
    let interval = Duration::from_secs(2);
    let mut gateway = Store::open_with(
        &path,
        StoreOptions {
            usage_flush_interval: interval,
            ..options(&clock, 1, Duration::from_secs(5))
        },
    )
    .unwrap();
    let k = gateway
        .create_key(WS, NewKey::new("Quiet", Environment::Production))
        .unwrap();
    assert!(matches!(
        rejected(&mut gateway, &full(&k).replace("_prod_", "_dev_")),
        InvalidReason::Malformed
    ));
    // An unknown key: a lookup (so a snapshot), and no use to write.
    let stranger = Secret::generate(Environment::Production, &mut SeededEntropy::new(77)).unwrap();
    assert_eq!(
        rejected(&mut gateway, stranger.expose()),
        InvalidReason::NotFound
    );

    let other = Connection::open(&path).unwrap();
    other
        .execute("UPDATE workspaces SET created_at = created_at + 1", [])
        .unwrap();
    // (frames in the log, frames copied into the database) after a passive checkpoint.
    let checkpoint = |conn: &Connection| -> (i64, i64) {
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
            Ok((row.get(1)?, row.get(2)?))
        })
        .unwrap()
    };
    // Right after the verification its snapshot is held: the newest frame cannot be copied.
    let (log, copied) = checkpoint(&other);
    assert!(
        copied < log,
        "the verifier holds no snapshot ({copied} of {log} copied)"
    );

    // Quiet for an interval or two: the snapshot goes, and the whole log can be copied.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (log, copied) = checkpoint(&other);
        if copied == log {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the idle snapshot was never released"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // And verification carries on, seeing the latest state.
    assert_eq!(verified(&mut gateway, &full(&k)).id, k.record.id);
    gateway.revoke_key(WS, &k.record.id).unwrap();
    assert_eq!(rejected(&mut gateway, &full(&k)), InvalidReason::Revoked);
}

// ---------------------------------------------------------------------------------------------
// Hostile-input review: keys as names, verification in one workspace, special files, demo
// ---------------------------------------------------------------------------------------------

#[test]
fn a_device_or_a_pipe_is_refused_before_sqlite_opens_it_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let fifo = dir.path().join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let listing = |dir: &Path| {
        let mut names: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        names
    };
    let before = listing(dir.path());
    for (path, kind) in [
        (fifo.as_path(), "a named pipe"),
        (Path::new("/dev/null"), "a device"),
    ] {
        let journals_before: Vec<bool> = ["-journal", "-wal", "-shm"]
            .iter()
            .map(|s| sidecar(path, s).exists())
            .collect();
        for open in [Store::open_with, Store::open_existing] {
            let err = open(path, options(&clock, 1, Duration::from_secs(1))).unwrap_err();
            assert!(
                matches!(&err, Error::NotAFile { kind: k, .. } if *k == kind),
                "{path:?}: {err:?}"
            );
            assert_one_sentence(&err);
            assert!(err.to_string().contains("regular file"), "{err}");
        }
        let journals_after: Vec<bool> = ["-journal", "-wal", "-shm"]
            .iter()
            .map(|s| sidecar(path, s).exists())
            .collect();
        assert_eq!(
            journals_after, journals_before,
            "{path:?}: SQLite files were created"
        );
    }
    assert_eq!(
        listing(dir.path()),
        before,
        "nothing is created beside the pipe"
    );
}

/// A store of schema version 5 (before leak marks) opened by this build gains the leaks
/// table and its change trigger, its keys untouched, and a leak recorded there marks the key.
#[test]
fn a_store_from_before_leak_marks_is_upgraded_in_place() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("hivekeys.db");
    let clock = Arc::new(ManualClock::new(t0()));
    let key = {
        let mut store = Store::open_with(&path, store_options(&clock, 1)).unwrap();
        store
            .create_key("acme", NewKey::new("Billing", Environment::Production))
            .unwrap()
    };
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "DROP TRIGGER leak_recorded; DROP TRIGGER leak_removed; DROP TABLE leaks;
             ALTER TABLE keys DROP COLUMN leaked_until;
             PRAGMA user_version = 5;",
        )
        .unwrap();
    }
    let mut store = Store::open_with(&path, store_options(&clock, 2)).unwrap();
    assert_eq!(
        store.get_key("acme", &key.record.id).unwrap().name,
        "Billing"
    );
    let before = store.keys_version().unwrap();
    store
        .record_leaks(&[hivekeys::store::LeakSighting {
            hash: key.secret.hash(),
            location: "src/config.py:12".into(),
        }])
        .unwrap();
    assert_ne!(store.keys_version().unwrap(), before);
    assert!(
        store
            .get_key("acme", &key.record.id)
            .unwrap()
            .is_leaked_at(store.now())
    );
    let version: i64 = Connection::open(&path)
        .unwrap()
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    assert_eq!(version, LATEST_VERSION);
}
