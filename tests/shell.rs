//! `hivekeys completions SHELL` and `hivekeys man`, from the real binary: the scripts parse in
//! their shells, bash's really completes commands and values, the manual renders with
//! `man -l`, neither command touches a store, and output errors follow every command's rules.
//! No network: everything runs here.

mod common;

use std::fs::OpenOptions;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{Sandbox, text};

const SHELLS: [&str; 5] = ["bash", "zsh", "fish", "elvish", "powershell"];

/// Every subcommand: what completion offers first and what the manual has a heading for.
const COMMANDS: [&str; 16] = [
    "list",
    "create",
    "limit",
    "rename",
    "rotate",
    "revoke",
    "show",
    "verify",
    "serve",
    "demo",
    "copy",
    "workspaces",
    "log",
    "scan",
    "completions",
    "man",
];

/// `program` must be installed: like the servers the other tests start, a missing one fails
/// the test with a sentence saying what to install (`.ci/run` installs it).
fn require(program: &str, package: &str) {
    let found = Command::new("sh")
        .args(["-c", "command -v \"$0\" >/dev/null 2>&1", program])
        .status()
        .is_ok_and(|status| status.success());
    assert!(
        found,
        "{program} is not installed: install it (Debian: `apt-get install -y {package}`) \
         or run `.ci/run`"
    );
}

/// Runs `hivekeys args…` in the sandbox with no `--db`: the default store is the sandbox's.
fn generate(sandbox: &Sandbox, args: &[&str]) -> Output {
    let out = sandbox.bare_command().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "hivekeys {args:?}: {}\n{}",
        out.status,
        text(&out.stderr)
    );
    assert_eq!(text(&out.stderr), "", "hivekeys {args:?} wrote to stderr");
    out
}

fn script(sandbox: &Sandbox, shell: &str) -> String {
    text(&generate(sandbox, &["completions", shell]).stdout)
}

/// Writes `contents` into the sandbox and returns its path.
fn file(sandbox: &Sandbox, name: &str, contents: &str) -> std::path::PathBuf {
    let path = sandbox.path().join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// Nothing of a store was made: not the one `--db` names, not the default one.
#[track_caller]
fn no_store_in(sandbox: &Sandbox) {
    assert!(!sandbox.db.exists(), "a store was created at --db");
    assert!(
        !sandbox.path().join("xdg-data").exists(),
        "the default store's directory was created"
    );
}

#[test]
fn every_shell_gets_a_script_naming_every_command() {
    let sandbox = Sandbox::new();
    for shell in SHELLS {
        let script = script(&sandbox, shell);
        for command in [
            "list", "create", "rotate", "revoke", "verify", "serve", "man",
        ] {
            assert!(
                script.contains(command),
                "{shell}: no {command} in\n{script}"
            );
        }
    }
    no_store_in(&sandbox);
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let sandbox = Sandbox::new();
    let out = sandbox
        .bare_command()
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("tcsh"), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
}

#[test]
fn the_bash_script_parses() {
    let sandbox = Sandbox::new();
    let path = file(&sandbox, "hivekeys.bash", &script(&sandbox, "bash"));
    let out = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(out.status.success(), "bash -n: {}", text(&out.stderr));
}

#[test]
fn the_zsh_script_parses() {
    require("zsh", "zsh");
    let sandbox = Sandbox::new();
    let path = file(&sandbox, "_hivekeys", &script(&sandbox, "zsh"));
    let out = Command::new("zsh").arg("-n").arg(&path).output().unwrap();
    assert!(out.status.success(), "zsh -n: {}", text(&out.stderr));
    assert!(text(&out.stdout).is_empty() && text(&out.stderr).is_empty());
}

/// What bash offers after `words` (the last one being completed), by calling the script's
/// completion function as bash's programmable completion does.
fn bash_completes(script: &Path, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|word| format!("'{word}'")).collect();
    let line = words.join(" ");
    let program = format!(
        "source '{script}'\n\
         COMP_WORDS=({words})\n\
         COMP_CWORD={cword}\n\
         COMP_LINE='{line}'\n\
         COMP_POINT=${{#COMP_LINE}}\n\
         _hivekeys hivekeys '{current}' '{previous}' 2>/dev/null\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script = script.display(),
        words = quoted.join(" "),
        cword = words.len() - 1,
        current = words[words.len() - 1],
        previous = words[words.len() - 2],
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{program}\n{}", text(&out.stderr));
    text(&out.stdout).lines().map(str::to_owned).collect()
}

#[test]
fn bash_completes_commands_options_and_values() {
    let sandbox = Sandbox::new();
    let path = file(&sandbox, "hivekeys.bash", &script(&sandbox, "bash"));
    let check = |words: &[&str], expected: &[&str]| {
        let offered = bash_completes(&path, words);
        for word in expected {
            assert!(
                offered.iter().any(|offer| offer == word),
                "after {words:?}, bash offers {offered:?}: no {word}"
            );
        }
        offered
    };

    let commands = check(&["hivekeys", ""], &COMMANDS);
    assert!(commands.iter().any(|offer| offer == "--db"), "{commands:?}");
    assert_eq!(check(&["hivekeys", "cr"], &["create"]), ["create"]);

    check(
        &["hivekeys", "create", "--"],
        &["--name", "--env", "--expires-in"],
    );
    let environments = ["production", "staging", "development"];
    check(&["hivekeys", "create", "--env", ""], &environments);
    check(&["hivekeys", "list", "--env", ""], &environments);
    assert_eq!(
        check(&["hivekeys", "create", "--env", "prod"], &["production"]),
        ["production"]
    );
    check(
        &["hivekeys", "list", "--status", ""],
        &["active", "revoked", "expired"],
    );
    check(
        &["hivekeys", "list", "--sort", ""],
        &["created", "last-used", "name", "uses"],
    );
    check(
        &["hivekeys", "rotate", "--grace", ""],
        &["none", "1h", "24h", "7d"],
    );
    check(&["hivekeys", "completions", ""], &SHELLS);
}

#[test]
fn the_values_named_for_completion_are_still_parsed_as_before() {
    let sandbox = Sandbox::new();
    // Short codes and any case still parse, though only the long names are offered.
    for env in ["prod", "STG", "Development"] {
        let out = sandbox
            .command(&[
                "list",
                "--env",
                env,
                "--status",
                "ACTIVE",
                "--sort",
                "last-used",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{env}: {}", text(&out.stderr));
    }
    let out = sandbox
        .command(&["list", "--env", "moon"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("use production, staging or development"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn the_manual_renders_with_man() {
    require("man", "man-db");
    let sandbox = Sandbox::new();
    let page = text(&generate(&sandbox, &["man"]).stdout);
    assert!(page.contains("\n.TH hivekeys 1 "), "{page}");
    let path = file(&sandbox, "hivekeys.1", &page);
    // groff's warnings (`-w`) on stderr: a page it renders with complaints fails here.
    let out = Command::new("man")
        .args(["--warnings", "-l"])
        .arg(&path)
        .env("MANWIDTH", "100")
        .env("MAN_KEEP_FORMATTING", "")
        .env_remove("MANPAGER")
        .env_remove("PAGER")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let rendered = text(&out.stdout);
    assert!(out.status.success(), "man -l: {}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "", "man -l warned");
    for heading in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "OPTIONS",
        "COMMANDS",
        "ENVIRONMENT",
        "EXIT STATUS",
    ] {
        assert!(
            rendered.lines().any(|line| line == heading),
            "no {heading} in\n{rendered}"
        );
    }
    for command in COMMANDS {
        let heading = format!("   hivekeys {command}");
        assert!(
            rendered.lines().any(|line| line == heading),
            "no {heading:?} in\n{rendered}"
        );
    }
    for option in [
        "--env <ENV>",
        "--grace <PERIOD>",
        "HIVEKEYS_DB",
        "--db <PATH>",
    ] {
        assert!(rendered.contains(option), "no {option} in\n{rendered}");
    }
    no_store_in(&sandbox);
}

#[test]
fn no_store_is_opened_not_even_a_bad_one() {
    let sandbox = Sandbox::new();
    // A --db that could not be opened and a workspace no command would accept: neither
    // matters to a command that only prints the command line.
    for args in [&["completions", "bash"][..], &["man"]] {
        let out = sandbox
            .bare_command()
            .args(["--db", "postgres://nobody@127.0.0.1:1/none"])
            .env("HIVEKEYS_WORKSPACE", "x".repeat(200))
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        assert!(!out.stdout.is_empty());
        let out = sandbox.command(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    }
    no_store_in(&sandbox);
}

#[test]
fn output_errors_are_those_of_every_command() {
    let sandbox = Sandbox::new();
    for args in [&["completions", "zsh"][..], &["man"]] {
        // A reader that went away (`hivekeys man | head -0`): quiet, status 0, as for `list`.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = sandbox
            .bare_command()
            .args(args)
            .stdout(writer)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?} into a closed pipe");
        assert_eq!(text(&out.stderr), "", "{args:?} into a closed pipe");

        // A full disk: one sentence, status 1.
        let full = OpenOptions::new().write(true).open("/dev/full").unwrap();
        let out = sandbox
            .bare_command()
            .args(args)
            .stdout(full)
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?} into /dev/full: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("Cannot write the output"), "{stderr}");
    }
}
