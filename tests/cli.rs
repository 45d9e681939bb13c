//! End-to-end tests of the `hivekeys` command line: the real binary, run as a child process
//! against a real SQLite file in a temporary directory. They pin down PRODUCT.md's "Command
//! line" contract, which scripts rely on to the letter: what goes to stdout, what goes to
//! stderr, the exit status, and that a failed command changes nothing.

mod common;

use std::fs;
use std::ops::Deref;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use common::{BASE62, Run, Sandbox, checksum, is_full_key, run};
use proptest::prelude::*;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------------------------

/// One store, `store/hivekeys.db` (its directory not made yet), in its own sandbox.
struct Fixture(Sandbox);

impl Deref for Fixture {
    type Target = Sandbox;

    fn deref(&self) -> &Sandbox {
        &self.0
    }
}

impl Fixture {
    fn new() -> Fixture {
        Fixture(Sandbox::with_store_at("store/hivekeys.db"))
    }

    /// The binary with `--db` pointing at this store, then `args`.
    fn cmd(&self, args: &[&str]) -> Command {
        self.command(args)
    }

    fn run(&self, args: &[&str]) -> Run {
        run(self.cmd(args), None)
    }

    fn run_ok(&self, args: &[&str]) -> Run {
        self.run(args).success()
    }

    fn verify(&self, input: impl Into<Vec<u8>>) -> Run {
        run(self.cmd(&["verify"]), Some(input.into()))
    }

    /// Creates a key and returns the full key, checking the `create` contract on the way.
    fn create(&self, name: &str, env: &str) -> String {
        self.create_with(&["create", "--name", name, "--env", env])
    }

    fn create_with(&self, args: &[&str]) -> String {
        let run = self.run_ok(args);
        let key = run.only_line().to_owned();
        assert!(is_full_key(&key), "not a full key: {run:#?}");
        // What it did, and the one chance to copy the key.
        assert!(
            run.stderr.starts_with("Created key_") && run.stderr.contains("Copy the key now"),
            "create says what it did on stderr: {run:#?}"
        );
        assert!(
            !run.stderr.contains(&key),
            "the key must not reach stderr: {run:#?}"
        );
        key
    }

    fn db_bytes(&self) -> Vec<u8> {
        fs::read(&self.db).expect("read the store")
    }

    fn store_dir(&self) -> &Path {
        self.db.parent().expect("parent")
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers about keys and times
// ---------------------------------------------------------------------------------------------

fn verdict_invalid(code: &str) -> Value {
    json!({"valid": false, "code": code})
}

fn dir_listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

// ---------------------------------------------------------------------------------------------
// create
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// list
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// verify
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Any one-character change or truncation of a real key is caught by the checksum.
    #[test]
    fn verify_catches_any_single_character_change(
        at in 0usize..46,
        replacement in proptest::sample::select(BASE62.to_vec()),
        cut in 0usize..46,
    ) {
        let f = Fixture::new();
        let key = f.create("Gateway", "prod");
        let at = at % key.len();
        prop_assume!(key.as_bytes()[at] != replacement);
        let mut changed = key.clone().into_bytes();
        changed[at] = replacement;
        let changed = String::from_utf8(changed).expect("ascii");
        let run = f.verify(changed);
        prop_assert_eq!(run.code, 1);
        prop_assert_eq!(run.json(), verdict_invalid("MALFORMED"));
        let run = f.verify(&key.as_bytes()[..cut % key.len()]);
        prop_assert_eq!(run.json(), verdict_invalid("MALFORMED"));
    }
}

// ---------------------------------------------------------------------------------------------
// rotate and revoke
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// show
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// demo
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Bad input changes nothing
// ---------------------------------------------------------------------------------------------

#[test]
fn db_that_is_a_directory_or_not_a_store() {
    let f = Fixture::new();

    // A directory.
    let dir = f.dir.path().join("a-directory");
    fs::create_dir(&dir).expect("mkdir");
    for args in [
        &["list"][..],
        &["create", "--name", "x", "--env", "dev"][..],
    ] {
        let mut cmd = f.bare_command();
        cmd.arg("--db").arg(&dir).args(args);
        run(cmd, None).one_line_error(1);
        assert!(
            dir_listing(&dir).is_empty(),
            "files appeared in {}",
            dir.display()
        );
    }

    // A text file.
    let text_dir = f.dir.path().join("text");
    fs::create_dir(&text_dir).expect("mkdir");
    let text = text_dir.join("notes.txt");
    let content = b"These are my notes, not a database.\n".repeat(200);
    fs::write(&text, &content).expect("write");
    for args in [
        &["list"][..],
        &["list", "--json"][..],
        &["create", "--name", "x", "--env", "dev"][..],
        &["demo", "--keys", "3"][..],
    ] {
        let mut cmd = f.bare_command();
        cmd.arg("--db").arg(&text).args(args);
        run(cmd, None).one_line_error(1);
        assert_eq!(
            fs::read(&text).expect("read"),
            content,
            "the text file was changed"
        );
        assert_eq!(
            dir_listing(&text_dir),
            ["notes.txt"],
            "files appeared next to it"
        );
    }
    // verify with a well-formed key opens the store, and must fail just as cleanly.
    let other = Fixture::new();
    let key = other.create("Key", "prod");
    let mut cmd = f.bare_command();
    cmd.arg("--db").arg(&text).arg("verify");
    let verdict = run(cmd, Some(format!("{key}\n").into_bytes()));
    assert_eq!(verdict.code, 1, "{verdict:#?}");
    assert!(!verdict.stdout.contains(&key) && !verdict.stderr.contains(&key));
    assert_eq!(fs::read(&text).expect("read"), content);

    // Another program's SQLite database.
    let foreign = f.dir.path().join("foreign.sqlite");
    {
        let conn = rusqlite::Connection::open(&foreign).expect("open");
        conn.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hi');")
            .expect("create");
    }
    let foreign_bytes = fs::read(&foreign).expect("read");
    for args in [
        &["list"][..],
        &["create", "--name", "x", "--env", "dev"][..],
    ] {
        let mut cmd = f.bare_command();
        cmd.arg("--db").arg(&foreign).args(args);
        run(cmd, None).one_line_error(1);
        assert_eq!(fs::read(&foreign).expect("read"), foreign_bytes);
    }
}

#[test]
fn truncated_database_is_reported_and_left_alone() {
    let f = Fixture::new();
    let key = f.create("Before the damage", "prod");
    f.run_ok(&["demo", "--keys", "300", "--seed", "3"]);
    // The binary exits cleanly, which checkpoints the WAL; make sure nothing is left in it.
    let wal = f.db.with_extension("db-wal");
    if wal.exists() {
        assert_eq!(
            fs::metadata(&wal).expect("wal").len(),
            0,
            "WAL not checkpointed"
        );
        fs::remove_file(&wal).expect("remove wal");
    }
    let _ = fs::remove_file(f.db.with_extension("db-shm"));
    let full = f.db_bytes();
    let half = &full[..full.len() / 2];
    fs::write(&f.db, half).expect("truncate");

    for args in [
        &["list"][..],
        &["list", "--json"][..],
        &["create", "--name", "x", "--env", "dev"][..],
        &["demo", "--keys", "5"][..],
    ] {
        let run = f.run(args);
        run.one_line_error(1);
        assert_eq!(f.db_bytes(), half, "{args:?} changed the damaged file");
    }
    let run = f.verify(format!("{key}\n"));
    assert_ne!(run.code, 0, "{run:#?}");
    assert!(!run.stdout.contains(&key) && !run.stderr.contains(&key));
    assert_eq!(f.db_bytes(), half);
}

#[test]
fn database_from_a_newer_version_is_left_alone() {
    let f = Fixture::new();
    let key = f.create("Existing", "prod");
    {
        let conn = rusqlite::Connection::open(&f.db).expect("open");
        conn.pragma_update(None, "user_version", 999)
            .expect("user_version");
    }
    let wal = f.db.with_extension("db-wal");
    assert!(!wal.exists() || fs::metadata(&wal).expect("wal").len() == 0);
    let bytes = f.db_bytes();
    for args in [
        &["list"][..],
        &["list", "--json"][..],
        &["create", "--name", "x", "--env", "dev"][..],
        &["show", "Existing"][..],
    ] {
        let run = f.run(args);
        run.one_line_error(1);
        assert!(run.stderr.contains("newer"), "{run:#?}");
        assert_eq!(f.db_bytes(), bytes, "{args:?} changed a newer store");
    }
    let run = f.verify(format!("{key}\n"));
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(!run.stdout.contains(&key) && !run.stderr.contains(&key));
    assert_eq!(f.db_bytes(), bytes);
}

// ---------------------------------------------------------------------------------------------
// Unicode, permissions, environment variables
// ---------------------------------------------------------------------------------------------

#[test]
fn store_file_and_directory_are_owner_only() {
    let f = Fixture::new();
    let db = f.dir.path().join("new").join("nested").join("keys.db");
    let mut cmd = f.bare_command();
    cmd.arg("--db")
        .arg(&db)
        .args(["create", "--name", "x", "--env", "dev"]);
    run(cmd, None).success();
    let mode = |p: &Path| fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode(&db), 0o600, "store file mode");
    assert_eq!(
        mode(db.parent().expect("parent")),
        0o700,
        "store directory mode"
    );
    assert_eq!(
        mode(&f.dir.path().join("new")),
        0o700,
        "created parent directory mode"
    );

    // The same for the fixture's own store.
    f.create("y", "prod");
    assert_eq!(mode(&f.db), 0o600);
    assert_eq!(mode(f.store_dir()), 0o700);
}

#[test]
fn a_store_in_an_existing_shared_directory_is_still_private_and_a_readable_one_is_flagged() {
    let f = Fixture::new();
    let shared = f.dir.path().join("shared");
    fs::create_dir(&shared).expect("mkdir");
    fs::set_permissions(&shared, fs::Permissions::from_mode(0o755)).expect("chmod");
    let db = shared.join("keys.db");
    let create = |name: &str| {
        let mut cmd = f.bare_command();
        cmd.arg("--db")
            .arg(&db)
            .args(["create", "--name", name, "--env", "dev"]);
        run(cmd, None).success()
    };
    let first = create("x");
    let mode = |p: &Path| fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(
        mode(&db),
        0o600,
        "the file is private even in a shared directory"
    );
    assert_eq!(
        mode(&shared),
        0o755,
        "a directory hivekeys did not create is left alone"
    );
    assert!(!first.stderr.contains("readable"), "{first:#?}");

    fs::set_permissions(&db, fs::Permissions::from_mode(0o644)).expect("chmod");
    let second = create("y");
    let warning = second
        .stderr
        .lines()
        .find(|line| line.contains("readable by other users"))
        .unwrap_or_else(|| panic!("no warning: {second:#?}"));
    assert!(warning.contains("chmod 600"), "{warning}");
}

// ---------------------------------------------------------------------------------------------
// Hostile-input review
// ---------------------------------------------------------------------------------------------

#[test]
fn a_db_that_is_a_device_or_a_pipe_is_refused_and_nothing_is_created() {
    let f = Fixture::new();
    let fifo = f.dir.path().join("pipe");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo")
            .success()
    );
    let dev_null_files: Vec<bool> = ["/dev/null-journal", "/dev/null-wal", "/dev/null-shm"]
        .iter()
        .map(|p| Path::new(p).exists())
        .collect();
    let before = dir_listing(f.dir.path());
    for (db, kind) in [
        (Path::new("/dev/null"), "a device"),
        (fifo.as_path(), "a named pipe"),
    ] {
        for args in [
            &["list"][..],
            &["create", "--name", "x", "--env", "dev"][..],
            &["demo", "--keys", "1"][..],
            &["verify"][..],
        ] {
            let mut cmd = f.bare_command();
            cmd.arg("--db").arg(db).args(args);
            let input = args.contains(&"verify").then(|| {
                let signed = format!("fhk_dev_{}", "a".repeat(32));
                format!("{signed}{}\n", checksum(&signed)).into_bytes()
            });
            let out = run(cmd, input);
            out.one_line_error(1);
            assert!(
                out.stderr.contains(&format!("is {kind}, not a file"))
                    && out.stderr.contains("regular file"),
                "{out:#?}"
            );
            assert!(!out.stderr.contains("disk I/O"), "{out:#?}");
        }
    }
    let after: Vec<bool> = ["/dev/null-journal", "/dev/null-wal", "/dev/null-shm"]
        .iter()
        .map(|p| Path::new(p).exists())
        .collect();
    assert_eq!(after, dev_null_files, "files were created beside /dev/null");
    assert_eq!(
        dir_listing(f.dir.path()),
        before,
        "files were created beside the pipe"
    );
}

#[test]
fn a_store_writable_by_others_is_called_writable() {
    let f = Fixture::new();
    f.create("x", "dev");
    let warning_for = |mode: u32| {
        fs::set_permissions(&f.db, fs::Permissions::from_mode(mode)).expect("chmod");
        let out = f.run_ok(&["list"]);
        out.stderr
            .lines()
            .find(|line| line.starts_with("warning:"))
            .map(str::to_owned)
    };
    let writable = warning_for(0o602).expect("a warning for 602");
    assert!(
        writable.contains(" is writable by other users (mode 602)"),
        "{writable}"
    );
    let writable = warning_for(0o620).expect("a warning for 620");
    assert!(
        writable.contains(" is writable by other users"),
        "{writable}"
    );
    let both = warning_for(0o666).expect("a warning for 666");
    assert!(
        both.contains(" is readable and writable by other users"),
        "{both}"
    );
    assert_eq!(warning_for(0o600), None);
}

/// Review finding: a database URL given as `--db` is never taken for a path (its password
/// would become a directory's name) nor repeated in a message. A PostgreSQL URL is a store
/// (here an unreachable one: exit 1, one sentence without the password); any other kind is
/// refused as a usage error.
#[test]
fn a_database_url_is_never_a_path_and_its_password_never_repeated() {
    let f = Fixture::new();
    for (url, code, says) in [
        (
            "postgres://alice:s3cret-pw@db.invalid/keys",
            1,
            "postgres://alice@db.invalid:5432/keys",
        ),
        ("mysql://alice:s3cret-pw@db.example/keys", 2, "mysql"),
    ] {
        for args in [
            vec!["--db", url, "list"],
            vec!["--db", url, "create", "--name", "x", "--env", "prod"],
        ] {
            let mut command = f.bare_command();
            command.args(&args).current_dir(f.path());
            let run = run(command, None);
            assert_eq!(run.code, code, "{run:#?}");
            assert!(!run.stderr.contains("s3cret"), "{run:#?}");
            assert!(run.stderr.contains(says), "{run:#?}");
            assert_eq!(run.stderr.lines().count(), 1, "{run:#?}");
            assert!(run.stdout.is_empty());
        }
        let scheme = url.split(':').next().unwrap();
        assert!(
            !f.path().join(format!("{scheme}:")).exists(),
            "no directory named after the URL"
        );
    }
}
