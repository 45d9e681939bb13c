//! Connecting to a real PostgreSQL server and migrating its schema: TLS, logins, timeouts,
//! the sentences every failure becomes (none holding the password), concurrent migrations,
//! a newer schema refused, and the triggers that announce key changes.

#[path = "common/postgres.rs"]
mod pg;

use std::net::TcpListener;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use hivekeys::Error;
use hivekeys::store::postgres::{
    CONNECT_TIMEOUT, KEYS_CHANNEL, LATEST_PG_VERSION, PASSWORD_VAR, PgUrl, USAGE_CHANNEL, connect,
    migrate,
};
use postgres::Client;
use postgres::fallible_iterator::FallibleIterator as _;

fn url(text: &str) -> PgUrl {
    // The tests' URLs never rely on the developer's environment.
    PgUrl::parse_with(text, |_| None).unwrap_or_else(|err| panic!("{text}: {err}"))
}

fn open(text: &str) -> (Client, PgUrl) {
    let url = url(text);
    let mut client = connect(&url).unwrap_or_else(|err| panic!("{err}"));
    migrate(&mut client, &url).unwrap_or_else(|err| panic!("{err}"));
    (client, url)
}

fn connect_error(text: &str) -> Error {
    match connect(&url(text)) {
        Ok(_) => panic!("{text} connected"),
        Err(err) => err,
    }
}

/// What a user could ever see of an error: its sentence and its `Debug` form.
fn assert_hides(err: &Error, secret: &str) {
    for shown in [err.to_string(), format!("{err:?}"), format!("{err:#?}")] {
        assert!(!shown.contains(secret), "the password shows in: {shown}");
    }
    let text = err.to_string();
    assert!(text.ends_with('.'), "{text}");
    assert!(!text.chars().any(char::is_control), "{text:?}");
}

fn one_i64(client: &mut Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).unwrap().get(0)
}

/// Every table, index, function and trigger of the `hivekeys` schema, and its version: what
/// "nothing was touched" compares.
fn fingerprint(client: &mut Client) -> Vec<String> {
    client
        .query(
            "SELECT c.relkind::text || ' ' || c.relname FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'hivekeys'
             UNION ALL SELECT 'function ' || p.proname FROM pg_proc p
               JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'hivekeys'
             UNION ALL SELECT 'trigger ' || t.tgname FROM pg_trigger t
               JOIN pg_class c ON c.oid = t.tgrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'hivekeys'
             UNION ALL SELECT 'version ' || version FROM hivekeys.schema_version
             ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[test]
fn an_empty_database_is_migrated_and_sessions_are_set_up() {
    let (mut client, _url) = open(&pg::database());
    assert_eq!(
        one_i64(&mut client, "SELECT version FROM schema_version"),
        LATEST_PG_VERSION
    );
    let row = client
        .query_one(
            "SELECT current_setting('search_path'), current_setting('application_name')",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "hivekeys");
    assert_eq!(row.get::<_, String>(1), "hivekeys");
    // The tables answer unqualified, the counter starts at 0, SQLite's instr works as there.
    for table in ["workspaces", "keys", "secrets", "audit_events", "key_usage"] {
        assert_eq!(
            one_i64(&mut client, &format!("SELECT count(*) FROM {table}")),
            0
        );
    }
    assert_eq!(one_i64(&mut client, "SELECT version FROM key_changes"), 0);
    assert_eq!(one_i64(&mut client, "SELECT instr('ünïcode', 'code')"), 4);
    assert_eq!(one_i64(&mut client, "SELECT instr('abc', 'x')"), 0);
    // Every integer column is a BIGINT, as the store binds i64 everywhere.
    let narrow: Vec<String> = client
        .query(
            "SELECT table_name || '.' || column_name FROM information_schema.columns
              WHERE table_schema = 'hivekeys' AND data_type IN ('integer', 'smallint')",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(narrow.is_empty(), "not BIGINT: {narrow:?}");
}

#[test]
fn the_schema_keeps_sqlites_constraints() {
    let (mut client, _url) = open(&pg::database());
    client
        .batch_execute(
            "INSERT INTO workspaces (name, created_at) VALUES ('default', 1);
             INSERT INTO keys (public_id, workspace_id, name, environment, masked_key,
                               search_text, created_at)
                  VALUES ('key_00000001', 1, 'A', 'production', 'fhk_prod_AAAA…AAAA', 'a', 1);",
        )
        .unwrap();
    for refused in [
        "INSERT INTO workspaces (name, created_at) VALUES ('default', 2)",
        "UPDATE keys SET environment = 'test'",
        "UPDATE keys SET is_default = 2",
        "UPDATE keys SET daily_limit = 0",
        "UPDATE keys SET daily_limit = 1000000001",
        "INSERT INTO secrets (hash, key_id, created_at) VALUES ('\\x00', 1, 1)",
        "INSERT INTO audit_events (key_id, at, action, actor) VALUES (1, 1, 'deleted', 'me')",
        "INSERT INTO key_changes (\"only\", version) VALUES (2, 0)",
        "INSERT INTO key_usage (key_id, day, count) VALUES (99, 1, 1)",
    ] {
        assert!(
            client.batch_execute(refused).is_err(),
            "{refused} was accepted"
        );
    }
    client
        .batch_execute(
            "UPDATE keys SET daily_limit = 1000000000, is_default = 1;
             INSERT INTO audit_events (key_id, at, action, actor) VALUES (1, 1, 'renamed', 'me');
             INSERT INTO secrets (hash, key_id, created_at)
                  VALUES (sha256('fhk_prod_example'), 1, 1);",
        )
        .unwrap();
}

#[test]
fn migrating_again_changes_nothing() {
    let text = pg::database();
    let (mut client, url) = open(&text);
    client
        .batch_execute("INSERT INTO workspaces (name, created_at) VALUES ('kept', 1)")
        .unwrap();
    let before = fingerprint(&mut client);
    migrate(&mut client, &url).unwrap();
    let (mut again, _) = open(&text);
    assert_eq!(fingerprint(&mut again), before);
    assert_eq!(one_i64(&mut again, "SELECT count(*) FROM workspaces"), 1);
}

#[test]
fn processes_migrating_at_once_do_not_collide() {
    for _ in 0..4 {
        let text = pg::database();
        let start = Arc::new(Barrier::new(3));
        let threads: Vec<_> = (0..3)
            .map(|_| {
                let (text, start) = (text.clone(), start.clone());
                std::thread::spawn(move || {
                    let url = url(&text);
                    let mut client = connect(&url).unwrap();
                    start.wait();
                    migrate(&mut client, &url)
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap().unwrap_or_else(|err| panic!("{err}"));
        }
        let (mut client, _) = open(&text);
        assert_eq!(
            one_i64(&mut client, "SELECT version FROM schema_version"),
            LATEST_PG_VERSION
        );
    }
}

#[test]
fn a_newer_schema_is_refused_and_left_untouched() {
    let text = pg::database();
    let (mut client, url) = open(&text);
    let newer = LATEST_PG_VERSION + 1;
    client
        .batch_execute(&format!(
            "UPDATE schema_version SET version = {newer}; DROP TRIGGER key_changed ON keys;"
        ))
        .unwrap();
    let before = fingerprint(&mut client);
    let err = migrate(&mut client, &url).unwrap_err();
    assert!(
        matches!(err, Error::TooNew { found, supported, .. }
        if found == newer && supported == LATEST_PG_VERSION),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains(&url.redacted()), "{text}");
    assert!(text.contains("newer hivekeys"), "{text}");
    assert_eq!(
        fingerprint(&mut client),
        before,
        "a newer schema was changed"
    );
}

#[test]
fn a_hivekeys_schema_of_another_program_is_refused() {
    let text = pg::database();
    let url = url(&text);
    let mut client = connect(&url).unwrap();
    client
        .batch_execute("CREATE SCHEMA hivekeys; CREATE TABLE hivekeys.things (id int)")
        .unwrap();
    let err = migrate(&mut client, &url).unwrap_err();
    assert!(matches!(err, Error::ForeignSchema { .. }), "{err:?}");
    let tables = one_i64(
        &mut client,
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'hivekeys'",
    );
    assert_eq!(tables, 1, "tables were added beside another program's");
}

#[test]
fn logins_with_a_password() {
    let text = pg::password_database();
    let (user, rest) = text
        .strip_prefix("postgres://")
        .unwrap()
        .split_once('@')
        .unwrap();
    let with = |password: &str| format!("postgres://{user}:{}@{rest}", pg::encode(password));

    // The right password, percent-encoded in the URL; the role owns the database, so it can
    // create the schema.
    let (mut client, _) = open(&with(pg::PASSWORD));
    assert_eq!(one_i64(&mut client, "SELECT version FROM key_changes"), 0);

    // A wrong one: refused in a sentence that holds neither it nor the right one.
    let wrong = "Wr0ng-hunter2";
    let err = connect_error(&with(wrong));
    assert!(matches!(err, Error::StoreLoginRefused { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(shown.contains("password authentication failed"), "{shown}");
    assert!(
        shown.contains(&format!("postgres://{user}@127.0.0.1")),
        "{shown}"
    );
    assert_hides(&err, wrong);
    assert_hides(&err, pg::PASSWORD);

    // None at all.
    let err = connect_error(&text);
    assert!(matches!(err, Error::StoreLoginRefused { .. }), "{err:?}");
    assert!(err.to_string().contains("PGPASSWORD"), "{err}");

    // PGPASSWORD, when the URL has none (read through parse_with: a test cannot set a
    // variable that other threads may be reading).
    let from_env = PgUrl::parse_with(&text, |name| {
        (name == PASSWORD_VAR).then(|| pg::PASSWORD.to_owned())
    })
    .unwrap();
    assert!(from_env.has_password());
    connect(&from_env).unwrap_or_else(|err| panic!("{err}"));
    // A wrong one there is refused the same way.
    let wrong_env = PgUrl::parse_with(&text, |name| {
        (name == PASSWORD_VAR).then(|| wrong.to_owned())
    })
    .unwrap();
    let err = connect(&wrong_env).map(|_| ()).unwrap_err();
    assert!(matches!(err, Error::StoreLoginRefused { .. }), "{err:?}");
    assert_hides(&err, wrong);
    // The URL's password wins over PGPASSWORD, as in libpq.
    let both = PgUrl::parse_with(&with(pg::PASSWORD), |name| {
        (name == PASSWORD_VAR).then(|| wrong.to_owned())
    })
    .unwrap();
    connect(&both).unwrap_or_else(|err| panic!("{err}"));
}

#[test]
fn a_missing_database_is_named() {
    let cluster = pg::own_cluster();
    let err = connect_error(&cluster.url("postgres", "hk_no_such_database"));
    assert!(matches!(err, Error::StoreDatabaseMissing { .. }), "{err:?}");
    assert!(err.to_string().contains("/hk_no_such_database"), "{err}");
}

#[test]
fn a_closed_port_fails_at_once_with_a_sentence() {
    let port = pg::free_port();
    let began = Instant::now();
    let err = connect_error(&format!("postgres://u:hunter2@127.0.0.1:{port}/db"));
    assert!(began.elapsed() < CONNECT_TIMEOUT, "{:?}", began.elapsed());
    assert!(matches!(err, Error::StoreUnreachable { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("connection refused"), "{text}");
    assert!(
        text.contains(&format!("postgres://u@127.0.0.1:{port}/db")),
        "{text}"
    );
    assert_hides(&err, "hunter2");
}

#[test]
fn an_unknown_host_is_unreachable() {
    let err = connect_error("postgres://u:hunter2@hivekeys-no-such-host.invalid/db");
    assert!(matches!(err, Error::StoreUnreachable { .. }), "{err:?}");
    assert!(err.to_string().contains("could not be resolved"), "{err}");
    assert_hides(&err, "hunter2");
}

#[test]
fn a_server_that_never_answers_is_given_up_at_the_deadline() {
    // A socket that accepts and then says nothing, as a stopped or wedged server does.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = std::thread::spawn(move || {
        let (socket, _) = listener.accept().unwrap();
        std::thread::sleep(Duration::from_secs(4));
        drop(socket);
    });
    let began = Instant::now();
    let err = connect_error(&format!(
        "postgres://u:hunter2@127.0.0.1:{port}/db?connect_timeout=1"
    ));
    let waited = began.elapsed();
    assert!(
        waited >= Duration::from_secs(1) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    assert!(matches!(err, Error::StoreUnreachable { .. }), "{err:?}");
    assert!(err.to_string().contains("no answer within 1 s"), "{err}");
    assert_hides(&err, "hunter2");
    held.join().unwrap();
}

#[test]
fn a_peer_that_hangs_up_is_unreachable() {
    // Something that is not a PostgreSQL server: it accepts, then closes at once.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let closer = std::thread::spawn(move || drop(listener.accept().unwrap()));
    let err = connect_error(&format!(
        "postgres://u:hunter2@127.0.0.1:{port}/db?sslmode=disable"
    ));
    assert!(matches!(err, Error::StoreUnreachable { .. }), "{err:?}");
    assert!(
        err.to_string().contains("closed during the handshake"),
        "{err}"
    );
    assert_hides(&err, "hunter2");
    closer.join().unwrap();
}

#[test]
fn require_against_a_server_without_tls_is_refused() {
    let text = pg::own_database();
    let err = connect_error(&format!("{}?sslmode=require", with_password(&text)));
    assert!(matches!(err, Error::StoreTlsRefused { .. }), "{err:?}");
    assert!(err.to_string().contains("sslmode=require"), "{err}");
    assert_hides(&err, "hunter2");
    // prefer (the default) falls back to a plain connection, as in libpq.
    let (mut client, _) = open(&text);
    assert!(!uses_tls(&mut client));
}

/// `text` with a password the trusting server ignores: it must not show in any error.
fn with_password(text: &str) -> String {
    text.replacen("postgres@", "postgres:hunter2@", 1)
}

fn uses_tls(client: &mut Client) -> bool {
    client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .unwrap()
        .get(0)
}

#[test]
fn tls_as_sslmode_asks() {
    let (text, ca) = pg::tls_database();
    let text = with_password(&text);
    let ca = pg::encode(&ca.to_string_lossy());

    // require and prefer encrypt without checking the certificate, as libpq does.
    for mode in ["require", "prefer"] {
        let (mut client, _) = open(&format!("{text}?sslmode={mode}"));
        assert!(uses_tls(&mut client), "sslmode={mode}");
    }
    let (mut client, _) = open(&format!("{text}?sslmode=disable"));
    assert!(!uses_tls(&mut client));

    // verify-full trusts the system's authorities, which never signed the test server's.
    let err = connect_error(&format!("{text}?sslmode=verify-full"));
    assert!(matches!(err, Error::StoreTlsFailed { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(shown.contains("certificate is not trusted"), "{shown}");
    assert!(shown.contains("sslrootcert"), "{shown}");
    assert_hides(&err, "hunter2");

    // With the authority given, it connects, by the name the certificate holds.
    let (mut client, _) = open(&format!("{text}?sslmode=verify-full&sslrootcert={ca}"));
    assert!(uses_tls(&mut client));

    // By an address the certificate does not hold, it refuses.
    let by_address = text.replacen("@localhost:", "@127.0.0.1:", 1);
    let err = connect_error(&format!(
        "{by_address}?sslmode=verify-full&sslrootcert={ca}"
    ));
    assert!(matches!(err, Error::StoreTlsFailed { .. }), "{err:?}");
    assert!(
        err.to_string().contains("not valid for the host 127.0.0.1"),
        "{err}"
    );
    assert_hides(&err, "hunter2");

    // An authority file that is not there.
    let err = connect_error(&format!(
        "{text}?sslmode=verify-full&sslrootcert=%2Fno%2Fsuch%2Fca.pem"
    ));
    assert!(matches!(err, Error::StoreTlsFailed { .. }), "{err:?}");
    assert!(err.to_string().contains("/no/such/ca.pem"), "{err}");
}

#[test]
fn a_key_change_moves_the_counter_and_notifies_listeners() {
    let text = pg::database();
    let (mut listener, _) = open(&text);
    listener
        .batch_execute(&format!("LISTEN {KEYS_CHANNEL}; LISTEN {USAGE_CHANNEL}"))
        .unwrap();
    let (mut writer, _) = open(&text);
    let version = |client: &mut Client| one_i64(client, "SELECT version FROM key_changes");

    // A transaction that changes what verification reads moves the counter once, however
    // many statements it runs, and the new value reaches the listener at commit.
    writer
        .batch_execute(
            "BEGIN;
             INSERT INTO workspaces (name, created_at) VALUES ('default', 1);
             INSERT INTO keys (public_id, workspace_id, name, environment, masked_key,
                               search_text, created_at)
                  VALUES ('key_00000001', 1, 'A', 'production', 'm', 'a', 1),
                         ('key_00000002', 1, 'B', 'staging', 'm', 'b', 1);
             COMMIT;",
        )
        .unwrap();
    assert_eq!(version(&mut writer), 1);
    assert_eq!(received(&mut listener), [format!("{KEYS_CHANNEL} 1")]);

    for change in [
        "UPDATE keys SET revoked_at = 5 WHERE id = 1",
        "UPDATE keys SET name = 'renamed' WHERE id = 2",
        "UPDATE keys SET daily_limit = 10 WHERE id = 2",
        "INSERT INTO secrets (hash, key_id, created_at) VALUES (sha256('x'), 2, 1)",
        "UPDATE secrets SET expires_at = 9",
        "UPDATE workspaces SET name = 'other'",
    ] {
        let before = version(&mut writer);
        writer.batch_execute(change).unwrap();
        let after = before + 1;
        assert_eq!(version(&mut writer), after, "{change}");
        assert_eq!(
            received(&mut listener),
            [format!("{KEYS_CHANNEL} {after}")],
            "{change}"
        );
    }

    // Bookkeeping moves nothing a verifier reads: no key notification, the counter stays.
    let before = version(&mut writer);
    writer
        .batch_execute(
            "UPDATE keys SET use_count = use_count + 1, last_used_at = 7, search_text = 'z';
             INSERT INTO key_usage (key_id, day, count) VALUES (2, 1, 1)
                 ON CONFLICT (key_id, day) DO UPDATE SET count = key_usage.count + 1;",
        )
        .unwrap();
    assert_eq!(version(&mut writer), before);
    assert_eq!(received(&mut listener), [format!("{USAGE_CHANNEL} ")]);
}

/// The notifications that arrive within a moment, as "channel payload".
fn received(client: &mut Client) -> Vec<String> {
    let mut found = Vec::new();
    let mut notifications = client.notifications();
    let mut iter = notifications.timeout_iter(Duration::from_millis(300));
    while let Some(notification) = iter.next().unwrap() {
        found.push(format!(
            "{} {}",
            notification.channel(),
            notification.payload()
        ));
    }
    found
}

#[test]
fn every_failure_sentence_hides_the_password() {
    let secret = "s3cr3t-Pa55";
    let cluster = pg::own_cluster();
    let port = cluster.port;
    let closed = pg::free_port();
    let mut errors = vec![
        connect_error(&format!(
            "postgres://postgres:{secret}@127.0.0.1:{closed}/db"
        )),
        connect_error(&format!(
            "postgres://postgres:{secret}@127.0.0.1:{port}/hk_missing"
        )),
        connect_error(&format!(
            "postgres://postgres:{secret}@127.0.0.1:{port}/postgres?sslmode=require"
        )),
        connect_error(&format!(
            "postgres://{}:{secret}@127.0.0.1:{port}/postgres",
            pg::PASSWORD_USER
        )),
    ];
    for text in [
        format!("postgres://u:{secret}@h:99999/db"),
        format!("mysql://u:{secret}@h/db"),
        format!("postgres://u:{secret}@h/db?sslmode=sometimes"),
    ] {
        errors.push(PgUrl::parse_with(&text, |_| None).unwrap_err());
    }
    for err in &errors {
        assert_hides(err, secret);
    }
}
