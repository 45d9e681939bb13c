//! Every command's contract (PRODUCT.md "Command line"), on both backends: the real binary,
//! its `--db` the SQLite file's path or the PostgreSQL database's URL, in a clean environment.
//! What goes to stdout, what goes to stderr, the exit status, and that a failed command
//! changes nothing.

use std::process::Command;

use serde_json::{Value, json};

use chrono::TimeDelta;
use hivekeys::store::IssuedKey;
use hivekeys::{Environment, NewKey};

use crate::common::{self, Run, checksum, contains_full_key, is_full_key, run};
use crate::{Backend, t0};

/// PRODUCT.md's fields of `list --json`, Part 1's and Part 2's (the admin console adds
/// `expires_in_days` and `expiring_soon`).
const LIST_FIELDS: [&str; 16] = [
    "id",
    "name",
    "environment",
    "status",
    "is_default",
    "masked_key",
    "created_at",
    "last_used_at",
    "use_count",
    "expires_at",
    "daily_limit",
    "uses_today",
    "expires_in_days",
    "expiring_soon",
    "leaked",
    "leaked_in",
];

/// The binary on one backend's store.
pub struct Cli<'a> {
    backend: &'a Backend,
}

impl<'a> Cli<'a> {
    pub fn new(backend: &'a Backend) -> Cli<'a> {
        Cli { backend }
    }

    /// The binary in the backend's sandbox, no `--db` and no arguments yet.
    pub fn bare_command(&self) -> Command {
        common::hivekeys(self.backend.dir.path())
    }

    /// The binary with `--db` naming this store, then `args`.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut command = self.bare_command();
        command.arg("--db").arg(self.backend.db_arg()).args(args);
        command
    }

    pub fn run(&self, args: &[&str]) -> Run {
        run(self.cmd(args), None)
    }

    pub fn run_ok(&self, args: &[&str]) -> Run {
        self.run(args).success()
    }

    pub fn verify(&self, input: impl Into<Vec<u8>>) -> Run {
        run(self.cmd(&["verify"]), Some(input.into()))
    }

    /// Creates a key and returns the full key, checking the `create` contract on the way.
    pub fn create(&self, name: &str, env: &str) -> String {
        self.create_with(&["create", "--name", name, "--env", env])
    }

    pub fn create_with(&self, args: &[&str]) -> String {
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

    /// `list --json` (plus `extra`) as parsed objects.
    pub fn list(&self, extra: &[&str]) -> Vec<Value> {
        let mut args = vec!["list", "--json"];
        args.extend_from_slice(extra);
        let run = self.run_ok(&args);
        run.only_line();
        match run.json() {
            Value::Array(items) => items,
            other => panic!("list --json must print an array: {other}"),
        }
    }

    /// `list --json` verbatim, to compare the store before and after a failed command.
    pub fn snapshot(&self) -> String {
        self.run_ok(&["list", "--json"]).stdout
    }

    pub fn show(&self, key: &str) -> Value {
        self.run_ok(&["show", key, "--json"]).json()
    }

    /// The key object `list --json` has for `id`.
    pub fn listed(&self, id: &str) -> Value {
        self.list(&[])
            .into_iter()
            .find(|k| k["id"] == id)
            .unwrap_or_else(|| panic!("{id} is not listed"))
    }

    /// The public id of the key whose full key is `key`, found by verifying it.
    pub fn id_of(&self, key: &str) -> String {
        let run = self.verify(key).success();
        run.json()["id"].as_str().expect("id").to_owned()
    }
}

/// `key` with the character at byte `at` replaced by another base62 character.
fn with_char_changed(key: &str, at: usize) -> String {
    let old = key.as_bytes()[at];
    let new = if old == b'A' { b'B' } else { b'A' };
    let mut bytes = key.as_bytes().to_vec();
    bytes[at] = new;
    String::from_utf8(bytes).expect("ascii")
}

/// A well-formed key (right checksum) that was never issued: one secret character of `key`
/// changed and the checksum recomputed.
fn forged(key: &str) -> String {
    let changed = with_char_changed(key, key.len() - 10);
    let signed = &changed[..changed.len() - 6];
    format!("{signed}{}", checksum(signed))
}

#[track_caller]
fn assert_rfc3339_utc(value: &Value) {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a time string: {value}"));
    assert!(text.ends_with('Z'), "not UTC with Z: {text}");
    chrono::DateTime::parse_from_rfc3339(text).unwrap_or_else(|e| panic!("{text}: {e}"));
}

fn today() -> String {
    chrono::Utc::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

fn field_names(object: &Value) -> Vec<String> {
    let mut names: Vec<String> = object
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {object}"))
        .keys()
        .cloned()
        .collect();
    names.sort();
    names
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    names.sort();
    names
}

fn verdict_invalid(code: &str) -> Value {
    json!({"valid": false, "code": code})
}

#[track_caller]
fn assert_invalid(run: &Run, code: &str) {
    assert_eq!(run.code, 1, "an invalid key exits 1: {run:#?}");
    run.only_line();
    assert_eq!(run.json(), verdict_invalid(code), "{run:#?}");
    assert!(!contains_full_key(&run.stdout), "{run:#?}");
}

fn ids(keys: &[Value]) -> Vec<&str> {
    keys.iter().map(|k| k["id"].as_str().expect("id")).collect()
}

fn create_prints_the_full_key_alone_on_stdout(backend: &Backend) {
    let f = Cli::new(backend);
    for (env, code) in [
        ("prod", "prod"),
        ("stg", "stg"),
        ("dev", "dev"),
        ("production", "prod"),
        ("staging", "stg"),
        ("development", "dev"),
    ] {
        let key = f.create("Billing worker", env);
        assert!(key.starts_with(&format!("fhk_{code}_")), "{env}: {key}");
        // The checksum is the documented CRC32 in base62.
        let (signed, sum) = key.split_at(key.len() - 6);
        assert_eq!(sum, checksum(signed), "checksum of {key}");
    }
    // Every key is different.
    let keys: Vec<String> = (0..3).map(|_| f.create("Same name", "dev")).collect();
    assert_ne!(keys[0], keys[1]);
    assert_ne!(keys[1], keys[2]);
    assert_eq!(f.list(&[]).len(), 9);
}

fn create_default_key_is_production_unless_told_and_only_one_is_active(backend: &Backend) {
    let f = Cli::new(backend);
    let key = f.create_with(&["create", "--default"]);
    assert!(key.starts_with("fhk_prod_"), "{key}");
    let keys = f.list(&[]);
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["is_default"], true);
    assert_eq!(keys[0]["environment"], "production");
    assert_eq!(keys[0]["status"], "active");

    // A second active default is refused, and nothing changes.
    let before = f.snapshot();
    f.run(&["create", "--default"]).one_line_error(1);
    f.run(&["create", "--default", "--env", "dev"])
        .one_line_error(1);
    assert_eq!(f.snapshot(), before);

    // Once the default is revoked, a new one may be created.
    let id = keys[0]["id"].as_str().expect("id");
    f.run_ok(&["revoke", id, "--yes"]);
    let again = f.create_with(&["create", "--default", "--env", "dev"]);
    assert!(again.starts_with("fhk_dev_"), "{again}");
    let defaults: Vec<Value> = f
        .list(&[])
        .into_iter()
        .filter(|k| k["is_default"] == true && k["status"] == "active")
        .collect();
    assert_eq!(defaults.len(), 1);
    assert_eq!(defaults[0]["environment"], "development");

    // `--env stg` is honoured in a fresh store too.
    let other_backend = backend.fresh();
    let other = Cli::new(&other_backend);
    let stg = other.create_with(&["create", "--default", "--env", "stg"]);
    assert!(stg.starts_with("fhk_stg_"), "{stg}");
    assert_eq!(other.list(&[])[0]["environment"], "staging");
    assert_eq!(other.list(&[])[0]["is_default"], true);
}

fn list_json_has_the_documented_shape(backend: &Backend) {
    let f = Cli::new(backend);
    let created = [
        (f.create("Checkout service", "prod"), "production"),
        (f.create("Search worker", "stg"), "staging"),
        (f.create("Local tests", "dev"), "development"),
    ];
    let run = f.run_ok(&["list", "--json"]);
    run.only_line();
    let keys = f.list(&[]);
    assert_eq!(keys.len(), 3);
    for key in &keys {
        assert_eq!(field_names(key), sorted(&LIST_FIELDS), "{key}");
        assert!(key["id"].as_str().is_some_and(|id| !id.is_empty()), "{key}");
        assert_eq!(key["status"], "active");
        assert_eq!(key["is_default"], false);
        assert_eq!(key["last_used_at"], Value::Null);
        assert_eq!(key["use_count"], 0);
        assert_rfc3339_utc(&key["created_at"]);
        assert!(!contains_full_key(&key.to_string()));
    }
    for (full, environment) in &created {
        let key = keys
            .iter()
            .find(|k| k["masked_key"] == common::masked(full).as_str())
            .unwrap_or_else(|| panic!("no key masked as {}: {keys:?}", common::masked(full)));
        assert_eq!(key["environment"], *environment);
        // The public id is never derived from the secret.
        let id = key["id"].as_str().expect("id");
        assert!(
            !full.contains(id.trim_start_matches("key_")),
            "{id} vs {full}"
        );
    }
    for (full, _) in &created {
        assert!(!run.stdout.contains(full.as_str()));
    }
}

fn list_filters_by_environment_status_and_search(backend: &Backend) {
    let f = Cli::new(backend);
    let checkout = f.create("Checkout Service", "prod");
    f.create("Billing", "prod");
    f.create("Search worker", "stg");
    let local = f.create("Local tests", "dev");
    let checkout_id = f.id_of(&checkout);
    let local_id = f.id_of(&local);
    f.run_ok(&["revoke", &local_id, "--yes"]);

    let prod = f.run_ok(&["list", "--json", "--env", "prod"]).stdout;
    assert_eq!(
        prod,
        f.run_ok(&["list", "--json", "--env", "production"]).stdout
    );
    let prod: Vec<Value> = serde_json::from_str(&prod).expect("json");
    assert_eq!(prod.len(), 2);
    assert!(prod.iter().all(|k| k["environment"] == "production"));
    assert_eq!(
        f.run_ok(&["list", "--json", "--env", "stg"]).stdout,
        f.run_ok(&["list", "--json", "--env", "staging"]).stdout
    );
    let dev = f.list(&["--env", "development"]);
    assert_eq!(ids(&dev), [local_id.as_str()]);
    assert_eq!(
        f.run_ok(&["list", "--json", "--env", "dev"]).stdout,
        f.run_ok(&["list", "--json", "--env", "development"]).stdout
    );

    let revoked = f.list(&["--status", "revoked"]);
    assert_eq!(ids(&revoked), [local_id.as_str()]);
    assert_eq!(revoked[0]["status"], "revoked");
    let active = f.list(&["--status", "active"]);
    assert_eq!(active.len(), 3);
    assert!(active.iter().all(|k| k["status"] == "active"));
    assert!(f.list(&["--status", "expired"]).is_empty());
    assert!(f.list(&["--env", "dev", "--status", "active"]).is_empty());

    // Search: case-insensitive substring of the name…
    assert_eq!(
        ids(&f.list(&["--search", "cHeCkOuT sErV"])),
        [checkout_id.as_str()]
    );
    assert_eq!(
        ids(&f.list(&["--search", "checkout"])),
        [checkout_id.as_str()]
    );
    // …of the masked key…
    let masked = common::masked(&checkout);
    let middle = &masked[4..masked.find('…').expect("ellipsis")]; // e.g. "prod_7Gq1"
    assert!(ids(&f.list(&["--search", middle])).contains(&checkout_id.as_str()));
    assert!(ids(&f.list(&["--search", &middle.to_uppercase()])).contains(&checkout_id.as_str()));
    assert!(ids(&f.list(&["--search", &masked])).contains(&checkout_id.as_str()));
    // …and of the id.
    assert_eq!(
        ids(&f.list(&["--search", &checkout_id])),
        [checkout_id.as_str()]
    );
    assert_eq!(
        ids(&f.list(&["--search", &checkout_id.to_uppercase()])),
        [checkout_id.as_str()]
    );
    // Never the secret itself.
    let secret_part = &checkout[12..24];
    assert!(
        !ids(&f.list(&["--search", secret_part])).contains(&checkout_id.as_str()),
        "search must not match the hidden part of the key"
    );
    assert!(f.list(&["--search", "no such key anywhere"]).is_empty());
    assert_eq!(
        f.run_ok(&["list", "--json", "--search", "zzz-nothing"])
            .stdout,
        "[]\n"
    );
}

fn human_list_shows_names_and_counts(backend: &Backend) {
    let f = Cli::new(backend);
    f.create("Checkout service", "prod");
    f.create("Search worker", "stg");
    f.create("Local tests", "dev");
    let all = f.run_ok(&["list"]);
    for name in ["Checkout service", "Search worker", "Local tests"] {
        assert!(all.stdout.contains(name), "{all:#?}");
    }
    assert!(all.stdout.contains("3 of 3 keys"), "{all:#?}");
    assert!(!contains_full_key(&all.stdout));

    let some = f.run_ok(&["list", "--env", "stg"]);
    assert!(some.stdout.contains("Search worker"), "{some:#?}");
    assert!(!some.stdout.contains("Checkout service"), "{some:#?}");
    assert!(some.stdout.contains("1 of 3 keys"), "{some:#?}");
}

fn list_into_a_closed_pipe_is_quiet(backend: &Backend) {
    // `hivekeys list | head`: the reader going away is not an error worth a word
    // (src/cli/mod.rs maps BrokenPipe to a silent exit 0).
    let f = Cli::new(backend);
    f.run_ok(&["demo", "--keys", "600", "--seed", "7"]);
    for args in [&["list"][..], &["list", "--json"][..]] {
        let mut cmd = f.cmd(args);
        let mut child = cmd.spawn().expect("spawn");
        // Close the read end at once: the output (well over a pipe buffer) cannot be written.
        drop(child.stdout.take());
        let output = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(output.status.code(), Some(0), "{args:?}: stderr {stderr:?}");
        assert_eq!(stderr, "", "{args:?}");
    }
}

fn verify_accepts_a_valid_key_and_records_its_use(backend: &Backend) {
    let f = Cli::new(backend);
    let key = f.create("Gateway", "stg");
    let id = f.list(&[])[0]["id"].as_str().expect("id").to_owned();

    let run = f.verify(format!("{key}\n")).success();
    run.only_line();
    assert_eq!(
        run.json(),
        json!({
            "valid": true,
            "id": id,
            "name": "Gateway",
            "environment": "staging",
            "workspace": "default",
        })
    );
    assert!(!run.stdout.contains(&key) && !run.stderr.contains(&key));
    assert!(!contains_full_key(&run.stdout) && !contains_full_key(&run.stderr));

    let listed = f.listed(&id);
    assert_rfc3339_utc(&listed["last_used_at"]);
    assert_eq!(listed["use_count"], 1);
    let shown = f.show(&id);
    let days = shown["daily_uses"].as_array().expect("daily_uses");
    assert_eq!(days.len(), 30);
    let last = days.last().expect("today");
    assert_eq!(last["date"], today().as_str());
    assert_eq!(last["count"], 1);
    assert_eq!(
        days.iter()
            .map(|d| d["count"].as_u64().expect("count"))
            .sum::<u64>(),
        1
    );

    // Without a trailing newline too; every use counts.
    let run = f.verify(key.clone()).success();
    assert_eq!(run.json()["id"], id.as_str());
    assert_eq!(f.listed(&id)["use_count"], 2);
    assert_eq!(f.show(&id)["daily_uses"][29]["count"], 2);
}

fn verify_rejects_malformed_input(backend: &Backend) {
    let f = Cli::new(backend);
    let key = f.create("Gateway", "prod");
    let id = f.list(&[])[0]["id"].as_str().expect("id").to_owned();
    let before = f.snapshot();

    let mut inputs: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", b"hello world\n".to_vec()),
        ("empty stdin", Vec::new()),
        ("just a newline", b"\n".to_vec()),
        ("leading space", format!(" {key}").into_bytes()),
        ("trailing space", format!("{key} ").into_bytes()),
        ("two trailing newlines", format!("{key}\n\n").into_bytes()),
        ("two keys", format!("{key}\n{key}\n").into_bytes()),
        (
            "checksum char changed",
            with_char_changed(&key, key.len() - 1).into_bytes(),
        ),
        (
            "secret char changed",
            with_char_changed(&key, 12).into_bytes(),
        ),
        ("truncated", key.as_bytes()[..key.len() - 1].to_vec()),
        (
            "wrong environment code",
            key.replacen("fhk_prod_", "fhk_dev_", 1).into_bytes(),
        ),
        ("invalid UTF-8", b"\xff\xfe\xfd".to_vec()),
        (
            "invalid UTF-8 after a key",
            [key.as_bytes(), b"\xff"].concat(),
        ),
        ("NUL after a key", [key.as_bytes(), b"\0"].concat()),
        ("lower-cased", key.to_lowercase().into_bytes()),
    ];
    inputs.push(("1025 bytes", vec![b'a'; 1025]));
    for (what, input) in inputs {
        let run = f.verify(input);
        assert_invalid(&run, "MALFORMED");
        assert!(!run.stdout.contains(&key), "{what}: {run:#?}");
    }
    // Nothing was recorded.
    assert_eq!(f.snapshot(), before);
    assert_eq!(f.listed(&id)["use_count"], 0);

    // A malformed key is rejected without touching the store: not even creating it.
    let untouched_backend = backend.fresh();
    let untouched = Cli::new(&untouched_backend);
    assert_invalid(&untouched.verify("fhk_prod_nope\n"), "MALFORMED");
    assert!(
        !untouched_backend.store_exists(),
        "verify created the store for a malformed key"
    );
}

/// Ten megabytes on stdin are refused without being read: verify stops at its input limit,
/// so the rest of the input is never read (the writer meets a closed pipe). How long a large
/// input takes is a figure for the benchmark, not an assertion.
fn verify_rejects_ten_megabytes_without_reading_them(backend: &Backend) {
    let f = Cli::new(backend);
    let key = f.create("Gateway", "prod");
    let mut input = key.into_bytes();
    input.resize(10 * 1024 * 1024, b'A');
    let (run, written) = common::run_checked(f.cmd(&["verify"]), Some(input));
    assert_invalid(&run, "MALFORMED");
    let unread = written.expect_err("verify read all 10 MB of its input");
    assert_eq!(unread.kind(), std::io::ErrorKind::BrokenPipe, "{unread}");
}

fn verify_reports_not_found_revoked_and_expired(backend: &Backend) {
    let f = Cli::new(backend);
    let key = f.create("Gateway", "prod");
    let id = f.id_of(&key);

    // A well-formed key issued by another store.
    let elsewhere_backend = backend.fresh();
    let elsewhere = Cli::new(&elsewhere_backend);
    let foreign = elsewhere.create("Gateway", "prod");
    assert_invalid(&f.verify(format!("{foreign}\n")), "NOT_FOUND");
    // A well-formed key (right checksum) never issued at all.
    let forged = forged(&key);
    assert!(is_full_key(&forged));
    assert_ne!(forged, key);
    assert_invalid(&f.verify(format!("{forged}\n")), "NOT_FOUND");

    // Rotation without grace: the old secret is expired at once.
    let rotated = f.run_ok(&["rotate", &id, "--yes"]).only_line().to_owned();
    assert_invalid(&f.verify(format!("{key}\n")), "EXPIRED");
    assert_eq!(
        f.verify(format!("{rotated}\n")).success().json()["id"],
        id.as_str()
    );

    // Revocation stops every secret of the key.
    f.run_ok(&["revoke", &id, "--yes"]);
    assert_invalid(&f.verify(format!("{rotated}\n")), "REVOKED");
    let old = f.verify(format!("{key}\n"));
    assert_eq!(old.code, 1);
    assert_eq!(old.json()["valid"], false);

    // Failed verifications are not counted as uses: only `id_of` and the rotated key's check.
    assert_eq!(f.listed(&id)["use_count"], 2);
}

fn rotate_gives_the_same_key_a_new_secret(backend: &Backend) {
    let f = Cli::new(backend);
    let old = f.create("Payments backend", "stg");
    let id = f.id_of(&old);
    let before = f.show(&id);
    assert_eq!(before["rotated_at"], Value::Null);

    let run = f.run_ok(&["rotate", &id, "--yes"]);
    let new = run.only_line().to_owned();
    assert!(is_full_key(&new) && new.starts_with("fhk_stg_"), "{new}");
    assert_ne!(new, old);
    assert!(
        !run.stderr.contains(&new) && !run.stderr.contains(&old),
        "{run:#?}"
    );

    let after = f.show(&id);
    assert_eq!(after["id"], before["id"]);
    assert_eq!(after["name"], "Payments backend");
    assert_eq!(after["environment"], "staging");
    assert_eq!(after["status"], "active");
    assert_eq!(after["masked_key"], common::masked(&new).as_str());
    assert_ne!(after["masked_key"], before["masked_key"]);
    assert_rfc3339_utc(&after["rotated_at"]);
    assert_eq!(f.list(&[]).len(), 1, "rotation must not add a key");

    assert_invalid(&f.verify(format!("{old}\n")), "EXPIRED");
    let valid = f.verify(format!("{new}\n")).success().json();
    assert_eq!(valid["id"], id.as_str());
    assert_eq!(valid["name"], "Payments backend");
    assert_eq!(valid["environment"], "staging");

    // By name as well as by id.
    let newer = f
        .run_ok(&["rotate", "Payments backend", "--yes"])
        .only_line()
        .to_owned();
    assert_invalid(&f.verify(new.clone()), "EXPIRED");
    assert_eq!(f.verify(newer).success().json()["id"], id.as_str());
}

fn rotate_with_grace_keeps_the_old_secret_working(backend: &Backend) {
    let f = Cli::new(backend);
    let old = f.create("Mobile app", "prod");
    let id = f.id_of(&old);
    let new = f
        .run_ok(&["rotate", &id, "--grace", "1h", "--yes"])
        .only_line()
        .to_owned();
    assert_eq!(
        f.verify(format!("{old}\n")).success().json()["id"],
        id.as_str()
    );
    assert_eq!(
        f.verify(format!("{new}\n")).success().json()["id"],
        id.as_str()
    );

    for grace in ["24h", "7d"] {
        let before = f.create(&format!("Grace {grace}"), "dev");
        let after = f
            .run_ok(&[
                "rotate",
                &format!("Grace {grace}"),
                "--grace",
                grace,
                "--yes",
            ])
            .only_line()
            .to_owned();
        f.verify(before).success();
        f.verify(after).success();
    }

    // Only the documented periods.
    let snapshot = f.snapshot();
    for bad in ["5m", "2h", "forever", ""] {
        let run = f.run(&["rotate", &id, "--grace", bad, "--yes"]);
        assert_eq!(run.code, 2, "--grace {bad:?}: {run:#?}");
        assert_eq!(run.stdout, "");
        assert!(run.stderr.contains(bad), "{run:#?}");
    }
    assert_eq!(f.snapshot(), snapshot);
}

fn rotate_and_revoke_refuse_without_yes_when_stdin_is_not_a_terminal(backend: &Backend) {
    let f = Cli::new(backend);
    let key = f.create("Careful", "prod");
    let id = f.id_of(&key);
    let before = f.snapshot();
    let rows_before = backend.row_counts();
    for args in [
        &["rotate", id.as_str()][..],
        &["rotate", id.as_str(), "--grace", "1h"][..],
        &["revoke", id.as_str()][..],
    ] {
        let run = f.run(args); // stdin is /dev/null
        run.one_line_error(2);
        assert!(run.stderr.contains("--yes"), "{run:#?}");
    }
    // Also with something piped in that looks like a "yes".
    let run = run(f.cmd(&["revoke", &id]), Some(b"y\n".to_vec()));
    run.one_line_error(2);
    assert!(run.stderr.contains("--yes"), "{run:#?}");

    assert_eq!(f.snapshot(), before);
    assert_eq!(backend.row_counts(), rows_before);
    f.verify(key).success();
}

fn revoke_is_final(backend: &Backend) {
    let f = Cli::new(backend);
    let key = f.create("Old integration", "dev");
    let id = f.id_of(&key);
    let run = f.run_ok(&["revoke", &id, "--yes"]);
    assert!(!contains_full_key(&run.stdout) && !contains_full_key(&run.stderr));
    let listed = f.listed(&id);
    assert_eq!(listed["status"], "revoked");
    assert_invalid(&f.verify(key), "REVOKED");

    let before = f.snapshot();
    f.run(&["revoke", &id, "--yes"]).one_line_error(1);
    f.run(&["rotate", &id, "--yes"]).one_line_error(1);
    f.run(&["rotate", &id, "--grace", "7d", "--yes"])
        .one_line_error(1);
    assert_eq!(f.snapshot(), before);
    assert_eq!(f.show(&id)["status"], "revoked");
}

fn keys_are_named_by_id_or_by_a_unique_name(backend: &Backend) {
    let f = Cli::new(backend);
    let unique = f.create("Unique name", "prod");
    let unique_id = f.id_of(&unique);
    let twin_a = f.create("Twin", "prod");
    let twin_b = f.create("Twin", "stg");
    let (a, b) = (f.id_of(&twin_a), f.id_of(&twin_b));

    assert_eq!(f.show("Unique name")["id"], unique_id.as_str());
    assert_eq!(f.show(&unique_id)["name"], "Unique name");
    assert_eq!(f.show(&a)["environment"], "production");
    assert_eq!(f.show(&b)["environment"], "staging");

    let before = f.snapshot();
    for args in [
        &["show", "Twin"][..],
        &["show", "Twin", "--json"][..],
        &["rotate", "Twin", "--yes"][..],
        &["revoke", "Twin", "--yes"][..],
    ] {
        let run = f.run(args);
        run.one_line_error(1);
        assert!(
            run.stderr.contains(&a) && run.stderr.contains(&b),
            "both ids: {run:#?}"
        );
    }
    for unknown in ["key_00000000", "No such key", "twin", "Twin ", "unique"] {
        f.run(&["show", unknown]).one_line_error(1);
        f.run(&["revoke", unknown, "--yes"]).one_line_error(1);
        f.run(&["rotate", unknown, "--yes"]).one_line_error(1);
    }
    assert_eq!(f.snapshot(), before);

    // Once one twin is gone by id, the other is still ambiguous by name (revoked keys stay).
    f.run_ok(&["revoke", &a, "--yes"]);
    f.run(&["show", "Twin"]).one_line_error(1);
}

fn show_has_details_audit_trail_and_daily_use(backend: &Backend) {
    let f = Cli::new(backend);
    let key = f.create("Reporting cron", "dev");
    let id = f.id_of(&key);
    f.run_ok(&["rotate", &id, "--yes"]);
    f.run_ok(&["revoke", &id, "--yes"]);

    let run = f.run_ok(&["show", &id, "--json"]);
    run.only_line();
    assert!(!contains_full_key(&run.stdout));
    let shown = run.json();
    let names = field_names(&shown);
    for field in LIST_FIELDS
        .iter()
        .chain(&["rotated_at", "revoked_at", "events", "daily_uses"])
    {
        assert!(
            names.contains(&field.to_string()),
            "show --json lacks {field}: {shown}"
        );
    }
    assert_eq!(shown["id"], id.as_str());
    assert_eq!(shown["name"], "Reporting cron");
    assert_eq!(shown["environment"], "development");
    assert_eq!(shown["status"], "revoked");
    assert_eq!(shown["use_count"], 1);
    assert_rfc3339_utc(&shown["created_at"]);
    assert_rfc3339_utc(&shown["rotated_at"]);
    assert_rfc3339_utc(&shown["revoked_at"]);
    assert_rfc3339_utc(&shown["last_used_at"]);

    let events = shown["events"].as_array().expect("events");
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(actions, ["created", "rotated", "revoked"]);
    for event in events {
        assert_rfc3339_utc(&event["at"]);
        assert!(
            event["actor"].as_str().is_some_and(|a| !a.is_empty()),
            "{event}"
        );
    }
    let actor = events[0]["actor"].as_str().expect("actor").to_owned();

    let days = shown["daily_uses"].as_array().expect("daily_uses");
    assert_eq!(days.len(), 30);
    let dates: Vec<chrono::NaiveDate> = days
        .iter()
        .map(|d| {
            assert!(d["count"].is_u64(), "{d}");
            chrono::NaiveDate::parse_from_str(d["date"].as_str().expect("date"), "%Y-%m-%d")
                .expect("YYYY-MM-DD")
        })
        .collect();
    for pair in dates.windows(2) {
        assert_eq!(pair[1] - pair[0], chrono::TimeDelta::days(1), "{dates:?}");
    }
    assert_eq!(dates[29].to_string(), today());

    // A fresh key: nothing rotated or revoked yet.
    let fresh = f.create("Fresh", "prod");
    let fresh = f.show(&f.id_of(&fresh));
    assert_eq!(fresh["rotated_at"], Value::Null);
    assert_eq!(fresh["revoked_at"], Value::Null);
    assert_eq!(fresh["events"].as_array().expect("events").len(), 1);

    // The human form shows the audit trail, in order.
    let human = f.run_ok(&["show", &id]);
    assert!(human.stdout.contains("Reporting cron"), "{human:#?}");
    assert!(human.stdout.contains(&id), "{human:#?}");
    assert!(human.stdout.contains(&actor), "{human:#?}");
    assert!(!contains_full_key(&human.stdout));
    // The trail's lines are the ones naming who acted; the metadata rows above them
    // ("created", "rotated", "revoked" times) do not.
    let trail: Vec<&str> = human
        .stdout
        .lines()
        .filter(|line| line.contains(actor.as_str()))
        .filter_map(|line| {
            ["created", "rotated", "revoked"]
                .into_iter()
                .find(|action| line.contains(action))
        })
        .collect();
    assert_eq!(trail, ["created", "rotated", "revoked"], "{human:#?}");
}

fn demo_fills_a_workspace_without_printing_secrets(backend: &Backend) {
    let f = Cli::new(backend);
    // A fixed seed: with a random one, about one run in 150 has no revoked key among 40 and
    // the test below would fail for nothing.
    let run = f.run_ok(&["demo", "--seed", "3"]);
    assert!(
        !contains_full_key(&run.stdout) && !contains_full_key(&run.stderr),
        "{run:#?}"
    );
    let keys = f.list(&[]);
    assert_eq!(keys.len(), 40, "40 demo keys, the default key among them");
    let active_defaults = keys
        .iter()
        .filter(|k| k["is_default"] == true && k["status"] == "active")
        .count();
    assert_eq!(active_defaults, 1);
    assert!(
        keys.iter().any(|k| k["status"] == "revoked"),
        "some revoked"
    );
    assert!(
        keys.iter().any(|k| !k["last_used_at"].is_null()),
        "some used"
    );
    for key in &keys {
        assert_eq!(field_names(key), sorted(&LIST_FIELDS));
        assert_rfc3339_utc(&key["created_at"]);
        if !key["last_used_at"].is_null() {
            assert_rfc3339_utc(&key["last_used_at"]);
        }
    }
    let human = f.run_ok(&["list"]);
    assert!(human.stdout.contains("40 of 40 keys"), "{human:#?}");

    // A second fill adds keys but no second default.
    f.run_ok(&["demo", "--keys", "10"]);
    let keys = f.list(&[]);
    assert_eq!(keys.len(), 50);
    let active_defaults = keys
        .iter()
        .filter(|k| k["is_default"] == true && k["status"] == "active")
        .count();
    assert_eq!(active_defaults, 1);
}

fn demo_with_a_count_and_another_workspace(backend: &Backend) {
    let f = Cli::new(backend);
    let run = f.run_ok(&["demo", "--keys", "200"]);
    assert!(
        !contains_full_key(&run.stdout) && !contains_full_key(&run.stderr),
        "{run:#?}"
    );
    let keys = f.list(&[]);
    assert_eq!(keys.len(), 200);
    assert!(keys.iter().any(|k| k["status"] == "revoked"));
    assert!(keys.iter().any(|k| !k["last_used_at"].is_null()));
    let statuses: Vec<&str> = keys
        .iter()
        .map(|k| k["status"].as_str().expect("status"))
        .collect();
    assert!(
        statuses
            .iter()
            .all(|s| ["active", "revoked", "expired"].contains(s))
    );

    let run = f.run_ok(&["--workspace", "other", "demo", "--keys", "100"]);
    assert!(!contains_full_key(&run.stdout), "{run:#?}");
    assert_eq!(f.list(&[]).len(), 200, "the default workspace is unchanged");
    assert_eq!(f.list(&["--workspace", "other"]).len(), 100);
    let other_defaults = f
        .list(&["--workspace", "other"])
        .into_iter()
        .filter(|k| k["is_default"] == true && k["status"] == "active")
        .count();
    assert_eq!(other_defaults, 1);
}

fn bad_names_are_refused_with_one_line(backend: &Backend) {
    let f = Cli::new(backend);
    f.create("Existing", "prod");
    let before = f.snapshot();
    let too_long = "a".repeat(65);
    let too_long_wide = "東".repeat(65);
    for name in [
        "",
        "   ",
        too_long.as_str(),
        too_long_wide.as_str(),
        "red \u{1b}[31malert",
        "two\nlines",
        "tab\there",
        "bidi \u{202e}txt.exe",
    ] {
        let run = f.run(&["create", "--name", name, "--env", "dev"]);
        assert_ne!(run.code, 0, "{name:?}: {run:#?}");
        run.one_line_error(run.code);
        assert!(run.code == 1 || run.code == 2, "{name:?}: {run:#?}");
        assert!(
            !run.stderr.contains('\u{1b}'),
            "the escape is echoed raw: {run:#?}"
        );
    }
    assert_eq!(f.snapshot(), before);

    // The limits themselves are fine: 64 characters, trimmed.
    let sixty_four = "b".repeat(64);
    f.create(&sixty_four, "dev");
    f.create(&format!("  {}  ", "東".repeat(64)), "dev");
    let names: Vec<String> = f
        .list(&[])
        .iter()
        .map(|k| k["name"].as_str().expect("name").to_owned())
        .collect();
    assert!(names.contains(&sixty_four));
    assert!(
        names.contains(&"東".repeat(64)),
        "names are stored trimmed: {names:?}"
    );
}

fn bad_arguments_are_usage_errors(backend: &Backend) {
    let f = Cli::new(backend);
    f.create("Existing", "prod");
    let before = f.snapshot();
    f.run(&["create", "--name", "x", "--env", "banana"])
        .clap_error("banana");
    f.run(&["create", "--default", "--env", "banana"])
        .clap_error("banana");
    f.run(&["list", "--env", "banana"]).clap_error("banana");
    f.run(&["list", "--status", "nope"]).clap_error("nope");
    f.run(&["list", "--json", "--status", "nope"])
        .clap_error("nope");
    f.run(&["demo", "--keys", "many"]).clap_error("many");
    f.run(&[
        "create",
        "--name",
        "x",
        "--env",
        "dev",
        "--expires-in",
        "soon",
    ])
    .clap_error("soon");
    f.run(&["frobnicate"]).clap_error("frobnicate");
    // Incomplete `create`: the tool's own usage errors, one line.
    f.run(&["create"]).one_line_error(2);
    f.run(&["create", "--name", "x"]).one_line_error(2);
    assert_eq!(f.snapshot(), before);
}

fn wide_and_emoji_names_round_trip(backend: &Backend) {
    let f = Cli::new(backend);
    let names = ["東京 support 🚀", "👨‍👩‍👧 team", "Équipe Paris", "नमस्ते API"];
    let mut issued = Vec::new();
    for name in names {
        issued.push((name, f.create(name, "prod")));
    }
    let listed: Vec<String> = f
        .list(&[])
        .iter()
        .map(|k| k["name"].as_str().expect("name").to_owned())
        .collect();
    for (name, key) in &issued {
        assert!(
            listed.contains(&name.to_string()),
            "{name} not in {listed:?}"
        );
        let verdict = f.verify(format!("{key}\n")).success().json();
        assert_eq!(verdict["name"], *name);
        assert_eq!(f.show(name)["name"], *name);
    }
    assert_eq!(ids(&f.list(&["--search", "東京"])).len(), 1);
    assert_eq!(
        ids(&f.list(&["--search", "ÉQUIPE"])).len(),
        1,
        "case-insensitive beyond ASCII"
    );
    let human = f.run_ok(&["list"]);
    for name in names {
        assert!(human.stdout.contains(name), "{name}: {human:#?}");
    }
    let human = f.run_ok(&["show", "👨‍👩‍👧 team"]);
    assert!(human.stdout.contains("👨‍👩‍👧 team"), "{human:#?}");
}

fn store_and_workspace_from_the_environment(backend: &Backend) {
    let f = Cli::new(backend);
    // The variable names another store than `--db` would.
    let env_backend = backend.fresh();
    let db = env_backend.db_arg();
    let with_env = |args: &[&str], workspace: Option<&str>| {
        let mut cmd = f.bare_command();
        cmd.env("HIVEKEYS_DB", &db).args(args);
        if let Some(ws) = workspace {
            cmd.env("HIVEKEYS_WORKSPACE", ws);
        }
        cmd
    };
    let created = run(
        with_env(
            &["create", "--name", "Env key", "--env", "dev"],
            Some("team"),
        ),
        None,
    )
    .success();
    let key = created.only_line().to_owned();
    assert!(env_backend.store_exists(), "HIVEKEYS_DB was not used");
    assert_eq!(
        env_backend.row_counts()[1],
        1,
        "the key is in HIVEKEYS_DB's store"
    );

    let verdict = run(
        with_env(&["verify"], None),
        Some(format!("{key}\n").into_bytes()),
    )
    .success();
    assert_eq!(verdict.json()["workspace"], "team");
    assert_eq!(verdict.json()["name"], "Env key");

    let in_team = run(with_env(&["list", "--json"], Some("team")), None)
        .success()
        .json();
    assert_eq!(in_team.as_array().expect("array").len(), 1);
    let in_default = run(with_env(&["list", "--json"], None), None)
        .success()
        .json();
    assert_eq!(in_default, json!([]));
    // `--workspace` on the command line wins over the variable; so does `--db`.
    let flagged = run(
        with_env(&["--workspace", "default", "list", "--json"], Some("team")),
        None,
    )
    .success()
    .json();
    assert_eq!(flagged, json!([]));
    let mut cmd = with_env(&["list", "--json"], Some("team"));
    cmd.arg("--db").arg(backend.db_arg());
    assert_eq!(run(cmd, None).success().json(), json!([]));
    assert!(f.list(&["--workspace", "team"]).is_empty());
}

fn verify_with_an_explicit_workspace_accepts_only_that_workspaces_keys(backend: &Backend) {
    let f = Cli::new(backend);
    let in_a = f.create_with(&["--workspace", "A", "create", "--name", "a", "--env", "prod"]);
    let in_b = f.create_with(&["--workspace", "B", "create", "--name", "b", "--env", "dev"]);
    let verify_in = |workspace: Option<&str>, from_env: bool, key: &str| {
        let mut cmd = f.cmd(&["verify"]);
        match (workspace, from_env) {
            (Some(ws), true) => {
                cmd.env("HIVEKEYS_WORKSPACE", ws);
            }
            (Some(ws), false) => {
                cmd.args(["--workspace", ws]);
            }
            (None, _) => {}
        }
        run(cmd, Some(format!("{key}\n").into_bytes()))
    };
    for from_env in [false, true] {
        for (workspace, key) in [
            ("B", &in_a),
            ("A", &in_b),
            ("nowhere", &in_a),
            ("default", &in_b),
        ] {
            assert_invalid(&verify_in(Some(workspace), from_env, key), "NOT_FOUND");
        }
        let ok = verify_in(Some("A"), from_env, &in_a).success();
        assert_eq!(ok.json()["workspace"], "A");
        let ok = verify_in(Some("B"), from_env, &in_b).success();
        assert_eq!(ok.json()["workspace"], "B");
    }
    // Without a workspace, a key of any workspace, as before.
    assert_eq!(
        verify_in(None, false, &in_a).success().json()["workspace"],
        "A"
    );
    assert_eq!(
        verify_in(None, false, &in_b).success().json()["workspace"],
        "B"
    );
    // Only the accepted verifications were counted: 2 + 1 for each key.
    for (workspace, uses) in [("A", 3), ("B", 3)] {
        let keys = f.list(&["--workspace", workspace]);
        assert_eq!(keys[0]["use_count"], uses, "{workspace}: {keys:?}");
    }
}

fn demo_counts_the_default_key_in_n_and_says_key_for_one(backend: &Backend) {
    let f = Cli::new(backend);
    let none = f.run_ok(&["demo", "--keys", "0"]);
    assert!(none.stdout.starts_with("Added 0 demo keys "), "{none:#?}");
    assert_eq!(f.list(&[]).len(), 0);
    let one = f.run_ok(&["demo", "--keys", "1"]);
    assert!(one.stdout.starts_with("Added 1 demo key to "), "{one:#?}");
    assert!(one.stdout.contains("including the default key"), "{one:#?}");
    let keys = f.list(&[]);
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["is_default"], true);
    let more = f.run_ok(&["demo", "--keys", "3"]);
    assert!(more.stdout.starts_with("Added 3 demo keys "), "{more:#?}");
    assert_eq!(f.list(&[]).len(), 4);
}

fn a_bad_busy_timeout_is_refused_with_a_sentence_naming_the_variable(backend: &Backend) {
    let f = Cli::new(backend);
    f.create("x", "dev");
    let key = f.create("y", "dev");
    for bad in ["abc", "-5", "1.5", "5s", "99999999999999999999999"] {
        for (args, input) in [
            (&["list"][..], None),
            (&["create", "--name", "z", "--env", "dev"][..], None),
            (&["verify"][..], Some(format!("{key}\n").into_bytes())),
        ] {
            let mut cmd = f.cmd(args);
            cmd.env("HIVEKEYS_BUSY_TIMEOUT_MS", bad);
            let out = run(cmd, input);
            out.one_line_error(2);
            assert!(
                out.stderr.contains("HIVEKEYS_BUSY_TIMEOUT_MS") && out.stderr.contains(bad),
                "{out:#?}"
            );
        }
    }
    assert_eq!(f.list(&[]).len(), 2, "nothing was created");
    for good in ["250", "0", ""] {
        let mut cmd = f.cmd(&["list", "--json"]);
        cmd.env("HIVEKEYS_BUSY_TIMEOUT_MS", good);
        run(cmd, None).success();
    }
}

fn usage_errors_do_not_show_options_given_through_the_environment_as_required(backend: &Backend) {
    let f = Cli::new(backend);
    for args in [&["rotate"][..], &["show"][..], &["revoke", "--yes"][..]] {
        let mut cmd = f.bare_command();
        cmd.env("HIVEKEYS_DB", backend.db_arg())
            .env("HIVEKEYS_WORKSPACE", "team")
            .args(args);
        let out = run(cmd, None);
        assert_eq!(out.code, 2, "{out:#?}");
        let usage = out
            .stderr
            .lines()
            .find(|line| line.starts_with("Usage:"))
            .unwrap_or_else(|| panic!("no usage line: {out:#?}"));
        assert!(
            !usage.contains("--db") && !usage.contains("--workspace"),
            "{usage}"
        );
        assert!(usage.contains("<KEY>"), "{usage}");
    }
    // Help still names the variables and their values.
    let mut cmd = f.bare_command();
    cmd.env("HIVEKEYS_DB", backend.db_arg()).arg("--help");
    let help = run(cmd, None).success();
    assert!(help.stdout.contains("[env: HIVEKEYS_DB="), "{help:#?}");
}

/// Daily limits from the command line: `create --daily-limit`, `limit KEY N|none`, the
/// `RATE_LIMITED` verdict (not counted as a use), the JSON fields and the audit event.
fn daily_limits_from_the_command_line(backend: &Backend) {
    let f = Cli::new(backend);
    let key = f.create_with(&[
        "create",
        "--name",
        "metered",
        "--env",
        "prod",
        "--daily-limit",
        "2",
    ]);
    let listed = f.list(&[]);
    assert_eq!(listed[0]["daily_limit"], 2);
    assert_eq!(listed[0]["uses_today"], 0);
    assert!(listed[0]["expires_at"].is_null());

    for _ in 0..2 {
        let run = f.verify(key.as_str());
        assert_eq!(run.code, 0, "{run:#?}");
    }
    let limited = f.verify(key.as_str());
    assert_eq!(limited.code, 1);
    assert_eq!(
        limited.stdout.trim(),
        r#"{"valid":false,"code":"RATE_LIMITED"}"#
    );
    let listed = f.list(&[]);
    assert_eq!(listed[0]["uses_today"], 2, "the refused one is not counted");
    assert_eq!(listed[0]["use_count"], 2);

    let raised = f.run_ok(&["limit", "metered", "3"]);
    assert!(raised.stdout.contains("3 times a day"), "{raised:#?}");
    assert_eq!(f.verify(key.as_str()).code, 0);
    assert_eq!(f.verify(key.as_str()).code, 1);
    let cleared = f.run_ok(&["limit", "metered", "none"]);
    assert!(cleared.stdout.contains("no daily limit"), "{cleared:#?}");
    assert_eq!(f.verify(key.as_str()).code, 0);

    let shown = f.run_ok(&["show", "metered", "--json"]).json();
    assert!(shown["daily_limit"].is_null());
    assert_eq!(shown["uses_today"], 4);
    let changes: Vec<&str> = shown["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "limit_changed")
        .map(|e| e["detail"].as_str().unwrap())
        .collect();
    assert_eq!(changes, ["3 uses a day", "no limit"]);

    for bad in ["0", "-1", "1000000001", "lots"] {
        f.run(&["limit", "metered", bad]).clap_error(bad);
    }
    let run = f.run(&[
        "create",
        "--name",
        "x",
        "--env",
        "prod",
        "--daily-limit",
        "0",
    ]);
    assert_eq!(run.code, 2, "{run:#?}");
}

/// Issue 12: `rename KEY --name NEW` says what it did on one line, is audited (`show`
/// prints "renamed … (OLD → NEW)", `show --json` the event), finds the key by its new name,
/// writes nothing for the same name, and refuses a bad name (usage error, the rule stated, a
/// full key masked) and a revoked key.
fn rename_from_the_command_line(backend: &Backend) {
    let f = Cli::new(backend);
    let key = f.create("Billing", "prod");
    let id = f.id_of(&key);

    let renamed = f.run_ok(&["rename", "Billing", "--name", "Payments"]);
    assert_eq!(
        renamed.only_line(),
        format!("Renamed key {id} \"Billing\" → \"Payments\".")
    );
    assert_eq!(f.listed(&id)["name"], "Payments");
    assert_eq!(
        f.list(&["--search", "paym"]).len(),
        1,
        "search finds the new name"
    );
    assert!(f.list(&["--search", "billing"]).is_empty());
    let shown = f.show("Payments");
    let events = shown["events"].as_array().unwrap();
    let last = events.last().unwrap();
    assert_eq!(
        (&last["action"], &last["detail"]),
        (&"renamed".into(), &"Billing → Payments".into())
    );
    let text = f.run_ok(&["show", &id]).stdout;
    let line = text
        .lines()
        .find(|l| l.contains("renamed"))
        .unwrap_or_else(|| panic!("no rename in show: {text}"));
    // The actor is the OS user running the binary.
    assert!(
        line.contains("  renamed  by ") && line.ends_with(" (Billing → Payments)"),
        "{line}"
    );

    // The same name: nothing written, and it says so.
    let before = f.snapshot();
    let events_before = events.len();
    let same = f.run_ok(&["rename", &id, "--name", " Payments "]);
    assert!(same.only_line().contains("nothing changed"), "{same:#?}");
    assert_eq!(f.snapshot(), before);
    assert_eq!(
        f.show(&id)["events"].as_array().unwrap().len(),
        events_before
    );

    // Bad names: a usage error in one line, as `create` says it; nothing written.
    for bad in ["", "   ", &"x".repeat(65)] {
        let refused = f.run(&["rename", &id, "--name", bad]);
        refused.one_line_error(2);
        let at_creation = f.run(&["create", "--name", bad, "--env", "prod"]);
        assert_eq!(refused.stderr, at_creation.stderr, "{bad:?}");
    }
    let other = f.create("Other", "dev");
    let leaked = f.run(&["rename", &id, "--name", &format!("see {other}")]);
    leaked.one_line_error(2);
    assert!(
        leaked.stderr.contains(&common::masked(&other)),
        "{leaked:#?}"
    );
    assert!(!leaked.stderr.contains(&other), "the key is never echoed");
    assert_eq!(f.listed(&id)["name"], "Payments");

    // A revoked key keeps its name; an unknown one is named.
    f.run_ok(&["revoke", &id, "--yes"]);
    let revoked = f.run(&["rename", &id, "--name", "Ghost"]);
    revoked.one_line_error(1);
    assert!(revoked.stderr.contains("revoked"), "{revoked:#?}");
    assert_eq!(f.listed(&id)["name"], "Payments");
    f.run(&["rename", "key_00000000", "--name", "Ghost"])
        .one_line_error(1);
    f.run(&["rename", &id]).clap_error("--name");
}

fn database_locked_by_another_writer(backend: &Backend) {
    let f = Cli::new(backend);
    let key = f.create("Existing", "prod");
    let before = f.snapshot();
    let mut conn = backend.hold_write_lock();

    let mut cmd = f.cmd(&["create", "--name", "Blocked", "--env", "dev"]);
    cmd.env("HIVEKEYS_BUSY_TIMEOUT_MS", "200");
    let blocked = run(cmd, None);
    blocked.one_line_error(1);
    let message = blocked.stderr.to_lowercase();
    assert!(
        message.contains("busy") || message.contains("locked"),
        "{blocked:#?}"
    );
    // The message names the wait it gave up after: the variable was read, not the default.
    assert!(
        message.contains("more than 200 ms"),
        "HIVEKEYS_BUSY_TIMEOUT_MS ignored: {blocked:#?}"
    );

    // Verification only reads: a valid key stays valid while a writer holds the lock (its
    // use may go unrecorded, which the binary may say on stderr, never with the key).
    let mut cmd = f.cmd(&["verify"]);
    cmd.env("HIVEKEYS_BUSY_TIMEOUT_MS", "200");
    let verdict = run(cmd, Some(format!("{key}\n").into_bytes()));
    assert_eq!(verdict.code, 0, "{verdict:#?}");
    verdict.only_line();
    assert_eq!(verdict.json()["valid"], true, "{verdict:#?}");
    assert!(!verdict.stderr.contains(&key) && !contains_full_key(&verdict.stderr));

    conn.batch("COMMIT");
    drop(conn);
    let after: Vec<Value> = serde_json::from_str(&f.snapshot()).expect("json");
    let before: Vec<Value> = serde_json::from_str(&before).expect("json");
    assert_eq!(
        ids(&after),
        ids(&before),
        "the blocked create added nothing"
    );
}

/// Issue 12: `list --sort created|last-used|name|uses`, the dashboard's orders, in the table
/// and in JSON, combined with the filters; ties go newest first, then as the store lists them.
fn list_sorts_by_created_last_used_name_and_uses(backend: &Backend) {
    let f = Cli::new(backend);
    let clock = &backend.clock;
    let mut store = backend.open(7);
    let mut create =
        |name: &str, env: Environment| store.create_key("default", NewKey::new(name, env)).unwrap();
    let charlie = create("Charlie", Environment::Production);
    clock.advance(TimeDelta::minutes(1));
    let alpha = create("alpha", Environment::Staging);
    clock.advance(TimeDelta::minutes(1));
    let bravo = create("Bravo", Environment::Production);
    clock.advance(TimeDelta::minutes(1));
    // Created in the same instant.
    let upper_alpha = create("ALPHA", Environment::Development);
    let delta = create("Delta", Environment::Staging);
    let mut uses = |key: &IssuedKey, times: usize, at_minute: i64| {
        clock.set(t0() + TimeDelta::minutes(at_minute));
        for _ in 0..times {
            store.verify(key.secret.expose()).unwrap();
        }
    };
    uses(&bravo, 5, 5);
    uses(&charlie, 2, 10);
    uses(&delta, 2, 15);
    uses(&upper_alpha, 2, 20);
    store.flush_usage().unwrap();
    let id = |key: &IssuedKey| key.record.id.clone();
    let ids = [&charlie, &alpha, &bravo, &upper_alpha, &delta].map(id);
    let [charlie, alpha, bravo, upper_alpha, delta] = ids.each_ref().map(String::as_str);
    let sorted = |extra: &[&str]| -> Vec<String> {
        f.list(extra)
            .iter()
            .map(|k| k["id"].as_str().unwrap().to_owned())
            .collect()
    };

    let created = [delta, upper_alpha, bravo, alpha, charlie];
    assert_eq!(sorted(&[]), created, "created is the default");
    assert_eq!(sorted(&["--sort", "created"]), created);
    assert_eq!(
        sorted(&["--sort", "last-used"]),
        [upper_alpha, delta, charlie, bravo, alpha],
        "never used last"
    );
    assert_eq!(
        sorted(&["--sort", "name"]),
        [upper_alpha, alpha, bravo, charlie, delta],
        "any case; the same name newest first"
    );
    assert_eq!(
        sorted(&["--sort", "uses"]),
        [bravo, delta, upper_alpha, charlie, alpha],
        "equal uses newest first; equal times as the store lists them"
    );
    assert_eq!(
        sorted(&["--sort", "uses", "--env", "prod"]),
        [bravo, charlie]
    );
    assert_eq!(
        sorted(&["--sort", "last-used", "--search", "ALPHA"]),
        [upper_alpha, alpha]
    );

    let table = f.run_ok(&["list", "--sort", "name"]).stdout;
    let at = |name: &str| {
        table
            .find(&format!(" {name} "))
            .unwrap_or_else(|| panic!("{name}: {table}"))
    };
    assert!(
        at("ALPHA") < at("alpha") && at("alpha") < at("Bravo"),
        "{table}"
    );
    assert!(
        at("Bravo") < at("Charlie") && at("Charlie") < at("Delta"),
        "{table}"
    );

    let bad = f.run(&["list", "--sort", "oldest"]);
    assert_eq!(bad.code, 2, "{bad:#?}");
    assert!(
        bad.stderr.contains("created, last-used, name or uses"),
        "{bad:#?}"
    );
}

/// `create --expires-in 30d|90d|1y` counts from now; anything else is refused with one
/// sentence before the store is touched.
fn create_expires_in_30d_90d_or_a_year(backend: &Backend) {
    let f = Cli::new(backend);
    for (given, days) in [("30d", 30), ("90d", 90), ("1y", 365)] {
        let before = chrono::Utc::now();
        let key = f.create_with(&[
            "create",
            "--name",
            given,
            "--env",
            "dev",
            "--expires-in",
            given,
        ]);
        let after = chrono::Utc::now();
        let listed = f.listed(&f.id_of(&key));
        let expires: chrono::DateTime<chrono::Utc> =
            listed["expires_at"].as_str().unwrap().parse().unwrap();
        let lifetime = TimeDelta::days(days);
        assert!(
            expires >= before + lifetime - TimeDelta::seconds(1)
                && expires <= after + lifetime + TimeDelta::seconds(1),
            "{given}: {listed}"
        );
        assert_eq!(listed["status"], "active");
        assert_eq!(
            listed["expires_in_days"],
            days - 1,
            "{given}: whole days left"
        );
        assert_eq!(listed["expiring_soon"], false);
    }
    let before = f.snapshot();
    for bad in ["2w", "30", "0d", "11y", "1.5y", "y"] {
        let run = f.run(&["create", "--name", "x", "--env", "dev", "--expires-in", bad]);
        run.clap_error(bad);
        let first = run.stderr.lines().next().unwrap();
        assert!(
            first.contains("is not a duration: use a whole number followed by m, h, d or y")
                || first.contains("the duration must be between 1 minute and 10 years"),
            "{run:#?}"
        );
    }
    assert_eq!(f.snapshot(), before, "nothing was created");
}

/// `list --unused-for` finds keys unused that long, never-used ones included, and
/// `--expiring-within` the active keys that expire in that window; both combine with the other
/// filters, and a key in its last week is marked in text and in JSON.
fn list_finds_unused_and_expiring_keys(backend: &Backend) {
    let f = Cli::new(backend);
    let clock = &backend.clock;
    // The binary reads the system clock: the keys' history is written relative to it.
    let now = chrono::Utc::now();
    clock.set(now - TimeDelta::days(60));
    let mut store = backend.open(11);
    let mut create = |name: &str, env: Environment, expires_in: Option<TimeDelta>| {
        let new = NewKey {
            expires_at: expires_in.map(|d| now + d),
            ..NewKey::new(name, env)
        };
        store.create_key("default", new).unwrap()
    };
    let stale = create("Stale", Environment::Production, None);
    let fresh = create("Fresh", Environment::Production, None);
    let idle = create("Idle", Environment::Staging, None);
    let soon = create(
        "Soon",
        Environment::Staging,
        Some(TimeDelta::days(3) + TimeDelta::hours(2)),
    );
    let today = create("Today", Environment::Development, Some(TimeDelta::hours(5)));
    let later = create("Later", Environment::Development, Some(TimeDelta::days(20)));
    let gone = create("Gone", Environment::Staging, Some(TimeDelta::days(2)));
    let lapsed = create("Lapsed", Environment::Staging, Some(TimeDelta::days(-1)));
    store.revoke_key("default", &gone.record.id).unwrap();
    let mut use_at = |key: &IssuedKey, ago: TimeDelta| {
        clock.set(now - ago);
        store.verify(key.secret.expose()).unwrap();
    };
    use_at(&stale, TimeDelta::days(45));
    use_at(&fresh, TimeDelta::hours(2));
    use_at(&soon, TimeDelta::days(31));
    use_at(&later, TimeDelta::days(1));
    use_at(&lapsed, TimeDelta::days(40));
    store.flush_usage().unwrap();
    drop(store);
    let ids = [&stale, &fresh, &idle, &soon, &today, &later, &gone, &lapsed]
        .map(|key| key.record.id.clone());
    let name_of = |id: &str| {
        let at = ids.iter().position(|i| i == id).unwrap();
        [
            "Stale", "Fresh", "Idle", "Soon", "Today", "Later", "Gone", "Lapsed",
        ][at]
    };
    let names = |extra: &[&str]| -> Vec<&str> {
        let mut names: Vec<&str> = f
            .list(extra)
            .iter()
            .map(|k| name_of(k["id"].as_str().unwrap()))
            .collect();
        names.sort();
        names
    };

    assert_eq!(
        names(&["--unused-for", "30d"]),
        ["Gone", "Idle", "Lapsed", "Soon", "Stale", "Today"],
        "never-used keys included, whatever their status"
    );
    assert_eq!(
        names(&["--unused-for", "1d"]),
        ["Gone", "Idle", "Lapsed", "Later", "Soon", "Stale", "Today"]
    );
    assert_eq!(
        names(&["--unused-for", "1y"]),
        ["Gone", "Idle", "Today"],
        "only never-used ones"
    );
    assert_eq!(
        names(&["--unused-for", "30d", "--status", "active", "--env", "stg"]),
        ["Idle", "Soon"]
    );
    assert_eq!(
        names(&["--expiring-within", "7d"]),
        ["Soon", "Today"],
        "active only: not the revoked one nor the expired one"
    );
    assert_eq!(
        names(&["--expiring-within", "30d"]),
        ["Later", "Soon", "Today"]
    );
    assert_eq!(
        names(&[
            "--expiring-within",
            "7d",
            "--unused-for",
            "30d",
            "--search",
            "soo"
        ]),
        ["Soon"]
    );

    let listed = f.list(&["--expiring-within", "7d"]);
    let soon_json = listed.iter().find(|k| k["name"] == "Soon").unwrap();
    assert_eq!(soon_json["expires_in_days"], 3);
    assert_eq!(soon_json["expiring_soon"], true);
    let today_json = listed.iter().find(|k| k["name"] == "Today").unwrap();
    assert_eq!(today_json["expires_in_days"], 0);
    let later_json = f.listed(&later.record.id);
    assert_eq!(
        (&later_json["expires_in_days"], &later_json["expiring_soon"]),
        (&json!(19), &json!(false))
    );
    let gone_json = f.listed(&gone.record.id);
    assert_eq!(gone_json["expires_in_days"], Value::Null, "revoked");
    assert_eq!(gone_json["expiring_soon"], false);
    assert_eq!(f.listed(&stale.record.id)["expires_in_days"], Value::Null);

    let table = f.run_ok(&["list"]).stdout;
    let line = |name: &str| {
        table
            .lines()
            .find(|l| l.contains(&format!(" {name} ")))
            .unwrap_or_else(|| panic!("{name}: {table}"))
            .to_owned()
    };
    assert!(
        line("Soon").contains("active · expires in 3 days"),
        "{table}"
    );
    assert!(line("Today").contains("active · expires today"), "{table}");
    assert!(!line("Later").contains("expires"), "{table}");
    assert!(!line("Gone").contains("expires"), "{table}");
    assert!(line("Lapsed").contains("expired"), "{table}");
    let header = table.lines().next().unwrap();
    let status_at = header.find("STATUS").unwrap();
    let key_at = header.find("KEY").unwrap();
    assert!(
        key_at - status_at >= "active · expires in 3 days".chars().count(),
        "the column is as wide as its widest status: {table}"
    );
    let narrowed = f.run_ok(&["list", "--unused-for", "1y"]).stdout;
    assert!(narrowed.contains("3 of 8 keys"), "{narrowed}");

    for flag in ["--unused-for", "--expiring-within"] {
        f.run(&["list", flag, "a week"]).clap_error("a week");
    }
}

conformance![
    create_expires_in_30d_90d_or_a_year,
    list_finds_unused_and_expiring_keys,
    create_prints_the_full_key_alone_on_stdout,
    create_default_key_is_production_unless_told_and_only_one_is_active,
    list_json_has_the_documented_shape,
    list_filters_by_environment_status_and_search,
    human_list_shows_names_and_counts,
    list_sorts_by_created_last_used_name_and_uses,
    list_into_a_closed_pipe_is_quiet,
    verify_accepts_a_valid_key_and_records_its_use,
    verify_rejects_malformed_input,
    verify_rejects_ten_megabytes_without_reading_them,
    verify_reports_not_found_revoked_and_expired,
    rotate_gives_the_same_key_a_new_secret,
    rotate_with_grace_keeps_the_old_secret_working,
    rotate_and_revoke_refuse_without_yes_when_stdin_is_not_a_terminal,
    revoke_is_final,
    keys_are_named_by_id_or_by_a_unique_name,
    show_has_details_audit_trail_and_daily_use,
    demo_fills_a_workspace_without_printing_secrets,
    demo_with_a_count_and_another_workspace,
    bad_names_are_refused_with_one_line,
    bad_arguments_are_usage_errors,
    wide_and_emoji_names_round_trip,
    store_and_workspace_from_the_environment,
    verify_with_an_explicit_workspace_accepts_only_that_workspaces_keys,
    demo_counts_the_default_key_in_n_and_says_key_for_one,
    a_bad_busy_timeout_is_refused_with_a_sentence_naming_the_variable,
    usage_errors_do_not_show_options_given_through_the_environment_as_required,
    daily_limits_from_the_command_line,
    rename_from_the_command_line,
    database_locked_by_another_writer,
];
