//! The README's shell blocks, run, so that the README cannot drift from the program.
//!
//! The convention, also told in the README's Tests section: a fenced block whose info string
//! is `sh` runs. `sh no-run: WHY` does not run and says why (the dashboard needs a terminal,
//! `cargo test` is the suite itself). `sh background: WHY` runs in the background while the
//! blocks after it run: a service they talk to. Any other shell block (`bash`, `console`, or
//! `sh` followed by something else) fails the test, so nobody adds an unchecked command.
//!
//! The blocks run in the README's order with `bash -euo pipefail`, in one sandbox they share,
//! so a later block uses the store an earlier one filled: a temporary directory is the
//! working directory and `HOME`, the XDG directories are inside it (the default store is
//! `~/.local/share/hivekeys/hivekeys.db` there, as on a user's machine), nothing else of the
//! developer's environment is passed on, and the directory of the binary this test run built
//! comes first on `PATH`, so `hivekeys …` runs the real program.
//!
//! What runs differs from what the README says in three rewrites, and only these:
//! - `cargo run --release -- ARGS` becomes `hivekeys ARGS`: the same program, already built
//!   (a release build inside a test would take minutes). Any other `cargo` command in a
//!   runnable block fails the test: it has to be `no-run`.
//! - `127.0.0.1:8484`, the service's default address, becomes `127.0.0.1:PORT` with a port
//!   that was free, so parallel test runs never collide.
//! - A `postgres://…@db.internal…` URL, the README's example server, becomes a fresh database
//!   on the throw-away PostgreSQL of `tests/common/postgres.rs`.
//!
//! A failure names the README line of the block and of the command that failed, and prints
//! the script as run with its stdout and stderr.
//!
//! The nginx and Caddy blocks are not shell: `tests/gateways.rs` runs the files in
//! `assets/gateway/`, and the test here checks that the README's blocks hold only
//! directives of those files.

mod common;

use std::collections::HashSet;
use std::fs;
use std::net::TcpStream;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

const README: &str = include_str!("../README.md");

/// How long one block may run: a `demo`, a PostgreSQL cluster's first start.
const BLOCK_DEADLINE: Duration = Duration::from_secs(180);

/// How long a background block may take to start listening.
const LISTEN_DEADLINE: Duration = Duration::from_secs(30);

/// The service's default address, as the README writes it.
const README_ADDRESS: &str = "127.0.0.1:8484";

/// The README's example PostgreSQL host.
const README_PG_HOST: &str = "@db.internal";

// ---------------------------------------------------------------------------------------------
// Reading the README
// ---------------------------------------------------------------------------------------------

/// One fenced code block.
#[derive(Debug, Clone)]
struct Block {
    /// The README line (from 1) of the opening fence.
    fence_line: usize,
    info: String,
    body: String,
}

/// What a shell block asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Run,
    Background,
    NoRun,
}

/// Every fenced block of `markdown`, in order. As in CommonMark, a fence is three backticks
/// or more, an opening fence's info string holds no backtick (so a line that starts with an
/// inline code span is text), and a closing fence is at least as long as its opening.
fn fenced_blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, Block)> = None;
    for (index, line) in markdown.lines().enumerate() {
        let trimmed = line.trim();
        let fence = trimmed.len() - trimmed.trim_start_matches('`').len();
        match open.as_mut() {
            None => {
                let info = &trimmed[fence..];
                if fence >= 3 && !info.contains('`') {
                    let block = Block {
                        fence_line: index + 1,
                        info: info.trim().to_owned(),
                        body: String::new(),
                    };
                    open = Some((fence, block));
                }
            }
            Some((opening, block)) => {
                if fence >= *opening && fence == trimmed.len() {
                    blocks.extend(open.take().map(|(_, block)| block));
                } else {
                    block.body.push_str(line);
                    block.body.push('\n');
                }
            }
        }
    }
    assert!(open.is_none(), "a code block is never closed");
    blocks
}

/// Languages GitHub highlights as a shell: a block in one of them is a command to check.
const SHELL_LANGUAGES: &[&str] = &[
    "sh",
    "bash",
    "shell",
    "zsh",
    "console",
    "shell-session",
    "sh-session",
];

/// `None` for a block that is not shell; otherwise what it asks for, or why its info string
/// is refused.
fn kind(info: &str) -> Option<Result<Kind, String>> {
    let (language, rest) = info.split_once(char::is_whitespace).unwrap_or((info, ""));
    if !SHELL_LANGUAGES.contains(&language) {
        return None;
    }
    let refused = || {
        Err(format!(
            "the info string `{info}`: a shell block is `sh` (it runs), `sh no-run: WHY` or \
             `sh background: WHY`"
        ))
    };
    if language != "sh" {
        return Some(refused());
    }
    let rest = rest.trim();
    Some(if rest.is_empty() {
        Ok(Kind::Run)
    } else if let Some(why) = rest.strip_prefix("no-run:") {
        match why.trim().is_empty() {
            true => Err(format!(
                "the info string `{info}` does not say why it cannot run"
            )),
            false => Ok(Kind::NoRun),
        }
    } else if rest == "background" || rest.starts_with("background:") {
        Ok(Kind::Background)
    } else {
        refused()
    })
}

/// The shell blocks of `markdown` with what each asks for; every refused info string, with
/// its line, in the error.
fn shell_blocks(markdown: &str) -> Result<Vec<(Block, Kind)>, String> {
    let mut blocks = Vec::new();
    let mut refused = Vec::new();
    for block in fenced_blocks(markdown) {
        match kind(&block.info) {
            None => {}
            Some(Ok(kind)) => blocks.push((block, kind)),
            Some(Err(why)) => refused.push(format!("README.md line {}: {why}", block.fence_line)),
        }
    }
    match refused.is_empty() {
        true => Ok(blocks),
        false => Err(refused.join("\n")),
    }
}

// ---------------------------------------------------------------------------------------------
// Rewriting for the sandbox
// ---------------------------------------------------------------------------------------------

/// The block's script as the sandbox runs it (see the module's comment for the rewrites);
/// `postgres` is asked for a database only when the block names the example server.
fn for_sandbox(
    body: &str,
    port: u16,
    postgres: &mut dyn FnMut() -> String,
) -> Result<String, String> {
    let script = body.replace("cargo run --release -- ", "hivekeys ");
    for line in script.lines() {
        let code = line.split(" #").next().unwrap_or_default();
        let words = code.split(|c: char| c.is_whitespace() || "();|&$`".contains(c));
        if !line.trim_start().starts_with('#') && words.into_iter().any(|word| word == "cargo") {
            return Err(format!(
                "`{}` cannot run in the sandbox (only `cargo run --release -- ARGS` is \
                 rewritten, to `hivekeys ARGS`): mark the block `sh no-run: WHY`",
                line.trim()
            ));
        }
    }
    let script = script.replace(README_ADDRESS, &format!("127.0.0.1:{port}"));
    Ok(replace_example_urls(&script, postgres))
}

/// Every `postgres://` URL on the README's example host, replaced by `postgres()`'s.
fn replace_example_urls(script: &str, postgres: &mut dyn FnMut() -> String) -> String {
    let mut out = String::with_capacity(script.len());
    let mut rest = script;
    while let Some(start) = rest.find("postgres://") {
        out.push_str(&rest[..start]);
        let url_len = rest[start..]
            .find(|c: char| c.is_whitespace() || c == '\'' || c == '"')
            .unwrap_or(rest.len() - start);
        let url = &rest[start..start + url_len];
        match url.contains(README_PG_HOST) {
            true => out.push_str(&postgres()),
            false => out.push_str(url),
        }
        rest = &rest[start + url_len..];
    }
    out.push_str(rest);
    out
}

// ---------------------------------------------------------------------------------------------
// The sandbox
// ---------------------------------------------------------------------------------------------

/// A home of its own for the README's commands, and the services they started.
struct Sandbox {
    dir: TempDir,
    /// The working directory and `HOME` of every block.
    home: PathBuf,
    /// What `127.0.0.1:8484` becomes.
    port: u16,
    /// The database `db.internal` stands for, made when first named.
    postgres: Option<String>,
    background: Vec<Child>,
    scripts_run: usize,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let home = dir.path().join("home");
        for sub in [
            "",
            ".local/share",
            ".config",
            ".cache",
            ".local/state",
            "../tmp",
        ] {
            fs::create_dir_all(home.join(sub)).expect("the sandbox's directories");
        }
        Sandbox {
            dir,
            home,
            port: common::postgres::free_port(),
            postgres: None,
            background: Vec::new(),
            scripts_run: 0,
        }
    }

    /// `bash -euo pipefail SCRIPT` in the sandbox's environment and nothing else of this
    /// process's, in a process group of its own (so a service it starts can be stopped).
    fn bash(&self, script: &Path, output: &Path) -> Command {
        let bin_dir = Path::new(common::BIN)
            .parent()
            .expect("the binary's directory");
        let path = format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into())
        );
        let home = &self.home;
        let mut command = Command::new("bash");
        command
            .args(["-euo", "pipefail"])
            .arg(script)
            .env_clear()
            .current_dir(home)
            .env("PATH", path)
            .env("HOME", home)
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("XDG_STATE_HOME", home.join(".local/state"))
            .env("TMPDIR", self.dir.path().join("tmp"))
            .env("LANG", "C.UTF-8")
            .env("TERM", "dumb")
            .env("PAGER", "cat")
            .env("MANPAGER", "cat")
            .stdin(Stdio::null())
            .stdout(fs::File::create(output.with_extension("out")).expect("a log file"))
            .stderr(fs::File::create(output.with_extension("err")).expect("a log file"))
            .process_group(0);
        command
    }

    /// Runs `block` as its kind says: to its end, or in the background until it listens.
    fn run(&mut self, block: &Block, kind: Kind) -> Result<(), String> {
        let fence_line = block.fence_line;
        let port = self.port;
        let postgres = &mut self.postgres;
        let mut database = || {
            postgres
                .get_or_insert_with(common::postgres::database)
                .clone()
        };
        let body = for_sandbox(&block.body, port, &mut database)
            .map_err(|why| format!("README.md line {fence_line}: {why}"))?;
        // The first line reports the README line of a failing command: body line k is
        // script line k + 1 and README line fence_line + k.
        let script = format!(
            "trap 'echo \"README.md line $((LINENO + {})): exit status $?\" >&2' ERR\n{body}",
            fence_line - 1
        );
        self.scripts_run += 1;
        let base = self.dir.path().join(format!("block-{}", self.scripts_run));
        let script_path = base.with_extension("sh");
        fs::write(&script_path, &script).expect("write the script");
        let report = |what: &str| {
            let read = |ext: &str| fs::read_to_string(base.with_extension(ext)).unwrap_or_default();
            format!(
                "README.md line {fence_line}: the ```{} block {what}.\n--- as run ---\n{script}\
                 --- stdout ---\n{}--- stderr ---\n{}",
                block.info,
                read("out"),
                read("err")
            )
        };
        let mut child = self
            .bash(&script_path, &base)
            .spawn()
            .expect("cannot start bash");
        match kind {
            Kind::NoRun => unreachable!("no-run blocks are not given to run"),
            Kind::Run => match wait(&mut child, BLOCK_DEADLINE) {
                Some(status) if status.success() => Ok(()),
                Some(status) => Err(report(&format!("failed ({status})"))),
                None => {
                    stop(&mut child);
                    Err(report(&format!("did not end within {BLOCK_DEADLINE:?}")))
                }
            },
            Kind::Background => {
                if !script.contains(&format!("127.0.0.1:{port}")) {
                    stop(&mut child);
                    return Err(report(&format!(
                        "runs in the background but does not listen on {README_ADDRESS}, the \
                         address the test waits for"
                    )));
                }
                let began = Instant::now();
                loop {
                    if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                        self.background.push(child);
                        return Ok(());
                    }
                    if let Ok(Some(status)) = child.try_wait() {
                        return Err(report(&format!("ended ({status}) before it listened")));
                    }
                    if began.elapsed() > LISTEN_DEADLINE {
                        stop(&mut child);
                        return Err(report(&format!(
                            "did not listen within {LISTEN_DEADLINE:?}"
                        )));
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for child in &mut self.background {
            stop(child);
        }
    }
}

/// The child's exit status, or `None` if it is still running at the deadline.
fn wait(child: &mut Child, deadline: Duration) -> Option<ExitStatus> {
    let began = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for bash") {
            return Some(status);
        }
        if began.elapsed() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Ends the child's process group: SIGTERM (a service then exits cleanly), SIGKILL if it is
/// still there after 10 s.
fn stop(child: &mut Child) {
    let group = format!("-{}", child.id());
    let signal = |name: &str| {
        let _ = Command::new("kill")
            .args([name, "--", &group])
            .stderr(Stdio::null())
            .status();
    };
    signal("-TERM");
    if wait(child, Duration::from_secs(10)).is_none() {
        signal("-KILL");
        let _ = child.wait();
    }
}

/// Fails with what to install when a program the README's commands use is missing.
fn require(program: &str, package: &str) {
    let found = Command::new("bash")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    assert!(
        found,
        "{program} is not installed, and the README's commands use it: install it (Debian: \
         `apt-get install -y {package}`) or run `.ci/run`"
    );
}

// ---------------------------------------------------------------------------------------------
// The README
// ---------------------------------------------------------------------------------------------

#[test]
fn every_shell_block_runs_or_says_why_not() {
    let blocks = shell_blocks(README).unwrap_or_else(|why| panic!("{why}"));
    let runnable = blocks.iter().filter(|(_, kind)| *kind != Kind::NoRun);
    assert!(
        runnable.count() >= 5,
        "the README's runnable blocks went missing: {blocks:#?}"
    );
    // The two commands that do all the set-up, exactly as `.ci/run` and a newcomer run them.
    let (first, kind) = &blocks[0];
    assert_eq!(*kind, Kind::NoRun);
    let commands: Vec<&str> = first
        .body
        .lines()
        .map(|line| line.split(" #").next().unwrap_or_default().trim())
        .collect();
    assert_eq!(
        commands,
        ["cargo run --release", "cargo test"],
        "{first:#?}"
    );
}

#[test]
fn readme_shell_blocks_run_in_a_sandbox() {
    let blocks = shell_blocks(README).unwrap_or_else(|why| panic!("{why}"));
    if README.contains("curl ") {
        require("curl", "curl");
    }
    if README.contains("man -l") {
        require("man", "man-db");
    }
    let mut sandbox = Sandbox::new();
    for (block, kind) in &blocks {
        match kind {
            Kind::NoRun => eprintln!("README.md line {}: not run", block.fence_line),
            _ => {
                let began = Instant::now();
                sandbox
                    .run(block, *kind)
                    .unwrap_or_else(|why| panic!("{why}"));
                eprintln!(
                    "README.md line {}: ran ({kind:?}, {:?})",
                    block.fence_line,
                    began.elapsed()
                );
            }
        }
    }
}

#[test]
fn gateway_blocks_hold_only_directives_of_the_tested_configs() {
    let blocks = fenced_blocks(README);
    let only = |info: &str| {
        let found: Vec<&Block> = blocks.iter().filter(|b| b.info == info).collect();
        assert_eq!(found.len(), 1, "one ```{info} block in the README");
        found[0].clone()
    };
    let asset = |name: &str| {
        fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("assets/gateway")
                .join(name),
        )
        .expect("read the gateway configuration")
    };

    let nginx = only("nginx");
    let tested: HashSet<String> = nginx_statements(&asset("nginx.conf")).into_iter().collect();
    for statement in nginx_statements(&nginx.body) {
        assert!(
            tested.contains(&statement),
            "README.md line {}: the nginx block's `{statement}` is not in \
             assets/gateway/nginx.conf, the file tests/gateways.rs runs",
            nginx.fence_line
        );
    }

    let caddy = only("caddyfile");
    let caddyfile = asset("Caddyfile");
    let tested: HashSet<&str> = caddy_lines(&caddyfile).into_iter().collect();
    let mut lines = caddy_lines(&caddy.body).into_iter();
    let site = lines.next().expect("the Caddy block's site");
    assert!(
        site.ends_with(" {"),
        "the Caddy block opens with its site: {site}"
    );
    for line in lines {
        assert!(
            tested.contains(line),
            "README.md line {}: the Caddy block's `{line}` is not in assets/gateway/Caddyfile, \
             the file tests/gateways.rs runs",
            caddy.fence_line
        );
    }
}

/// nginx's statements and block openings, comments dropped, spaces collapsed, whatever the
/// line breaks: `upstream api { server 127.0.0.1:8080; }` is `upstream api {`,
/// `server 127.0.0.1:8080;`, `}`.
fn nginx_statements(config: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut current = String::new();
    for line in config.lines() {
        let mut quote = None;
        for c in line.chars() {
            current.push(c);
            match quote {
                Some(open) if c == open => quote = None,
                Some(_) => {}
                None => match c {
                    '#' => {
                        current.pop();
                        break;
                    }
                    '\'' | '"' => quote = Some(c),
                    ';' | '{' | '}' => {
                        statements.push(current.split_whitespace().collect::<Vec<_>>().join(" "));
                        current.clear();
                    }
                    _ => {}
                },
            }
        }
        current.push(' ');
    }
    statements
}

/// A Caddyfile's lines, trimmed, without blank lines and comments.
fn caddy_lines(config: &str) -> Vec<&str> {
    config
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The machinery itself
// ---------------------------------------------------------------------------------------------

#[test]
fn info_strings_say_run_background_or_why_not() {
    assert_eq!(kind("sh"), Some(Ok(Kind::Run)));
    assert_eq!(
        kind("sh no-run: opens the dashboard"),
        Some(Ok(Kind::NoRun))
    );
    assert_eq!(kind("sh background: a service"), Some(Ok(Kind::Background)));
    assert_eq!(kind("sh background"), Some(Ok(Kind::Background)));
    assert_eq!(kind(""), None);
    assert_eq!(kind("nginx"), None);
    assert_eq!(kind("caddyfile"), None);
    for refused in [
        "sh no-run:",
        "sh no-run",
        "sh norun: x",
        "bash",
        "console",
        "shell",
    ] {
        assert!(
            matches!(kind(refused), Some(Err(_))),
            "`{refused}` should be refused"
        );
    }
    let markdown = "text\n```sh\ntrue\n```\n\n```bash\nls\n```\n```\nplain\n```\n\
                    ```` ```sh no-run: x ```` is inline code\n````md\n```sh\n````\n";
    let why = shell_blocks(markdown).unwrap_err();
    assert!(why.starts_with("README.md line 6: "), "{why}");
    let blocks = fenced_blocks(markdown);
    assert_eq!(blocks.len(), 4);
    assert_eq!(
        (blocks[3].info.as_str(), blocks[3].body.as_str()),
        ("md", "```sh\n")
    );
    assert_eq!(
        (blocks[0].fence_line, blocks[0].body.as_str()),
        (2, "true\n")
    );
}

#[test]
fn blocks_are_rewritten_for_the_sandbox_and_nothing_else() {
    let mut asked = 0;
    let mut database = || {
        asked += 1;
        "postgres://postgres@127.0.0.1:5999/fresh".to_owned()
    };
    let body = "cargo run --release -- demo  # 40 keys\n\
                curl http://127.0.0.1:8484/v1/auth\n\
                hivekeys copy --to 'postgres://keys_admin@db.internal/keys'\n\
                hivekeys --db postgres://other.example/keys list\n";
    let script = for_sandbox(body, 4321, &mut database).unwrap();
    assert_eq!(
        script,
        "hivekeys demo  # 40 keys\n\
         curl http://127.0.0.1:4321/v1/auth\n\
         hivekeys copy --to 'postgres://postgres@127.0.0.1:5999/fresh'\n\
         hivekeys --db postgres://other.example/keys list\n"
    );
    assert_eq!(asked, 1);
    let mut unused = || unreachable!("no example server named");
    for refused in [
        "cargo test\n",
        "cargo run --release\n",
        "x=$(cargo bench)\n",
    ] {
        let why = for_sandbox(refused, 1, &mut unused).unwrap_err();
        assert!(why.contains("no-run"), "{why}");
    }
    assert!(for_sandbox("echo cargo-cult  # cargo\n", 1, &mut unused).is_ok());
}

#[test]
fn a_failing_block_names_its_readme_line_and_prints_its_stderr() {
    let mut sandbox = Sandbox::new();
    let failing = Block {
        fence_line: 40,
        info: "sh".into(),
        body: "echo fine\nhivekeys show nosuchkey\necho never\n".into(),
    };
    let why = sandbox.run(&failing, Kind::Run).unwrap_err();
    assert!(why.starts_with("README.md line 40: "), "{why}");
    assert!(why.contains("README.md line 42: exit status 1"), "{why}");
    // It stopped at the failing line.
    assert!(
        why.contains("--- stdout ---\nfine\n--- stderr ---"),
        "{why}"
    );
    // hivekeys's own sentence, from the sandbox's default store.
    assert!(why.contains("nosuchkey"), "{why}");

    // The sandbox's home is the default store's: a block sees what an earlier one made.
    let making = Block {
        fence_line: 1,
        info: "sh".into(),
        body: "hivekeys demo --keys 3\n".into(),
    };
    sandbox.run(&making, Kind::Run).unwrap();
    assert!(
        sandbox
            .home
            .join(".local/share/hivekeys/hivekeys.db")
            .is_file()
    );
}
