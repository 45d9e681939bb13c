//! `hivekeys completions SHELL` and `hivekeys man`: the shell's view of the command line,
//! generated from the same clap definition that parses it, so neither can drift from it.
//! Neither opens a store.

use std::io::{self, Write};

use clap::CommandFactory;
use clap_complete::Shell;
use clap_mangen::roff::{self, Roff, bold, italic, roman};

use super::Cli;

pub const COMPLETIONS_HELP: &str = "Print a completion script for bash, zsh, fish, elvish or \
powershell on stdout. It completes the commands, their options and the values of --env, \
--status, --sort and --grace.

To install it for your user:

  bash        hivekeys completions bash > ~/.local/share/bash-completion/completions/hivekeys
  zsh         hivekeys completions zsh > ~/.zfunc/_hivekeys
              (with `fpath+=~/.zfunc; autoload -Uz compinit; compinit` in ~/.zshrc)
  fish        hivekeys completions fish > ~/.config/fish/completions/hivekeys.fish
  elvish      eval (hivekeys completions elvish | slurp)   (in ~/.config/elvish/rc.elv)
  powershell  hivekeys completions powershell | Out-String | Invoke-Expression   (in $PROFILE)";

/// The completion script for `shell`.
pub fn completion_script(shell: Shell) -> Vec<u8> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    // Into memory first: the generators panic on a write error, and a closed pipe is not a
    // crash (see `write_all`).
    clap_complete::generate(shell, &mut command, "hivekeys", &mut script);
    script
}

/// The manual page, in roff: the generated NAME, SYNOPSIS, DESCRIPTION and OPTIONS, then one
/// subsection per command with its own options, then the environment and exit status.
pub fn man_page() -> Vec<u8> {
    let mut command = Cli::command();
    command.build();
    let man = clap_mangen::Man::new(command.clone());
    let mut page = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = man.render_title(&mut page);
    let _ = man.render_name_section(&mut page);
    let _ = man.render_synopsis_section(&mut page);
    let _ = man.render_description_section(&mut page);
    let _ = man.render_options_section(&mut page);

    let globals: Vec<String> = command
        .get_arguments()
        .filter(|arg| arg.is_global_set() || arg.get_id() == "help")
        .map(|arg| arg.get_id().to_string())
        .collect();
    let mut commands = Roff::new();
    commands.control("SH", ["COMMANDS"]);
    commands.text([roman(
        "Without a command, hivekeys opens the dashboard. The global options above work \
         with every command.",
    )]);
    let _ = commands.to_writer(&mut page);
    for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        let mut sub = sub.clone();
        for id in &globals {
            if sub.get_arguments().any(|arg| arg.get_id() == id.as_str()) {
                sub = sub.mut_arg(id, |arg| arg.hide(true));
            }
        }
        let mut heading = Roff::new();
        heading.control("SS", [format!("hivekeys {}", sub.get_name()).as_str()]);
        heading.text(usage(&sub));
        heading.control("PP", []);
        let about = sub
            .get_long_about()
            .or_else(|| sub.get_about())
            .map(|about| about.to_string())
            .unwrap_or_default();
        for (index, paragraph) in about.split("\n\n").enumerate() {
            if index > 0 {
                heading.control("PP", []);
            }
            if paragraph.lines().any(|line| line.starts_with("  ")) {
                // An indented block (the install lines of `completions`) keeps its lines.
                heading.control("nf", []);
                for line in paragraph.lines() {
                    heading.text([roman(line)]);
                }
                heading.control("fi", []);
            } else {
                heading.text([roman(paragraph.replace('\n', " "))]);
            }
        }
        let _ = heading.to_writer(&mut page);
        if sub.get_arguments().any(|arg| !arg.is_hide_set()) {
            let mut options = Vec::new();
            let _ = clap_mangen::Man::new(sub).render_options_section(&mut options);
            // The command's options belong under its subsection, not in a section of their own.
            let options = String::from_utf8_lossy(&options).replacen(".SH OPTIONS\n", "", 1);
            page.extend_from_slice(options.as_bytes());
        }
    }

    let mut tail = Roff::new();
    tail.control("SH", ["ENVIRONMENT"]);
    for (name, what) in [
        (
            "HIVEKEYS_DB",
            "The store, as --db takes it: a file path, or a postgres:// URL.",
        ),
        ("HIVEKEYS_WORKSPACE", "The workspace, as --workspace."),
        (
            "HIVEKEYS_NO_MOUSE",
            "When true, the dashboard leaves the mouse to the terminal, as --no-mouse.",
        ),
        (
            "HIVEKEYS_LISTEN",
            "The address serve listens on, as --listen.",
        ),
        (
            crate::store::BUSY_TIMEOUT_VAR,
            "How long, in milliseconds, to wait for another process that holds the store.",
        ),
        ("NO_COLOR", "When set, the dashboard uses no colour."),
    ] {
        tail.control("TP", []);
        tail.text([bold(name)]);
        tail.text([roman(what)]);
    }
    tail.control("SH", ["FILES"]);
    tail.control("TP", []);
    tail.text([italic("$XDG_DATA_HOME/hivekeys/hivekeys.db")]);
    tail.text([roman(
        "The default store on Linux (~/.local/share/hivekeys/hivekeys.db when XDG_DATA_HOME is \
         unset). \
         It holds a SHA-256 hash of each key, never a key.",
    )]);
    tail.control("SH", ["EXIT STATUS"]);
    for (status, what) in [
        ("0", "Success; for verify, the key is valid."),
        (
            "1",
            "Failure, said in one sentence on stderr; for verify, the key is not valid.",
        ),
        ("2", "A usage error: a bad option or value."),
    ] {
        tail.control("TP", []);
        tail.text([bold(status)]);
        tail.text([roman(what)]);
    }
    let _ = tail.to_writer(&mut page);
    let mut version = Vec::new();
    let _ = man.render_version_section(&mut version);
    page.extend_from_slice(&version);
    only_one_preamble(&page)
}

/// Each piece rendered on its own starts with roff's preamble (the `Aq` string); the page
/// needs it once, at its top.
fn only_one_preamble(page: &[u8]) -> Vec<u8> {
    let page = String::from_utf8_lossy(page);
    let mut seen = Vec::new();
    let mut kept = String::with_capacity(page.len());
    for line in page.split_inclusive('\n') {
        let preamble = line.starts_with(".ie \\n(.g .ds Aq") || line.starts_with(".el .ds Aq");
        if preamble && seen.contains(&line) {
            continue;
        }
        if preamble {
            seen.push(line);
        }
        kept.push_str(line);
    }
    kept.into_bytes()
}

/// `hivekeys list [OPTIONS]`, from clap's usage line without its "Usage: ".
fn usage(sub: &clap::Command) -> Vec<roff::Inline> {
    let line = sub.clone().render_usage().to_string();
    let line = line.trim().trim_start_matches("Usage:").trim().to_owned();
    vec![bold(line)]
}

/// Writes generated text to stdout. Errors go through `Failure` as every command's do: a
/// reader that stopped early (`hivekeys man | head`) ends quietly with status 0, anything
/// else is one sentence and status 1.
pub fn write_all(text: &[u8]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text)?;
    out.flush()
}
