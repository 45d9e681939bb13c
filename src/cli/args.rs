//! The command line, as clap parses it. The grammar is PRODUCT.md's "Command line".

use std::path::PathBuf;

use chrono::TimeDelta;
use clap::builder::{PossibleValue, TypedValueParser};
use clap::{Parser, Subcommand};

use crate::environment::{Environment, Status};
use crate::store::{Grace, SortBy, UnknownSort};

#[derive(Debug, Parser)]
#[command(
    name = "hivekeys",
    version,
    about = "Create, find, rotate, revoke and verify workspace API keys.",
    long_about = "Create, find, rotate, revoke and verify workspace API keys.\n\n\
        Without a command, opens the dashboard. Only a SHA-256 hash of each key is stored; \
        the full key is shown once, when it is created or rotated."
)]
pub struct Cli {
    /// The store file [default: hivekeys.db in the user's data directory]
    #[arg(long, global = true, env = "HIVEKEYS_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// The workspace to work in [default: default]
    // An Option rather than a clap default: `verify` must know whether a workspace was given
    // at all (see `Cli::workspace`).
    #[arg(long, global = true, env = "HIVEKEYS_WORKSPACE", value_name = "NAME")]
    pub workspace: Option<String>,

    /// Leave the mouse to the terminal in the dashboard (no clicks, wheel or double clicks)
    #[arg(long, env = "HIVEKEYS_NO_MOUSE", value_parser = clap::builder::BoolishValueParser::new())]
    pub no_mouse: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// The workspace to work in: the one given by `--workspace` or `HIVEKEYS_WORKSPACE`, else
    /// the default one.
    pub fn workspace(&self) -> &str {
        self.workspace
            .as_deref()
            .unwrap_or(crate::store::DEFAULT_WORKSPACE)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the workspace's keys
    List {
        /// Only keys of this environment (production, staging, development or prod, stg, dev)
        #[arg(long, value_name = "ENV", value_parser = environments(), hide_possible_values = true)]
        env: Option<Environment>,
        /// Only keys with this status (active, revoked, expired)
        #[arg(long, value_name = "STATUS", value_parser = statuses(), hide_possible_values = true)]
        status: Option<Status>,
        /// Only keys whose name, masked key or id contains TEXT (any case)
        #[arg(long, value_name = "TEXT")]
        search: Option<String>,
        /// Order: created (newest first), last-used (most recent first, never-used last),
        /// name (A→Z, any case) or uses (most first)
        #[arg(long, value_name = "ORDER", default_value_t = SortBy::Created, value_parser = orders(),
              hide_possible_values = true)]
        sort: SortBy,
        /// Only keys not used for this long (e.g. 30d), never-used keys included
        #[arg(long, value_name = "DURATION", value_parser = parse_duration, allow_hyphen_values = true)]
        unused_for: Option<TimeDelta>,
        /// Only active keys that expire within this long (e.g. 7d)
        #[arg(long, value_name = "DURATION", value_parser = parse_duration, allow_hyphen_values = true)]
        expiring_within: Option<TimeDelta>,
        /// Print a JSON array instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Create a key and print it (the only time it is shown)
    Create {
        /// The key's name (1-64 characters)
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// The key's environment [default for --default: production]
        #[arg(long, value_name = "ENV", value_parser = environments(), hide_possible_values = true)]
        env: Option<Environment>,
        /// Create the workspace's default key
        #[arg(long)]
        default: bool,
        /// Let the key expire after this long (e.g. 30d, 90d, 1y; also 90m, 12h)
        #[arg(long, value_name = "DURATION", value_parser = parse_duration, allow_hyphen_values = true)]
        expires_in: Option<TimeDelta>,
        /// Allow at most N uses per UTC day (1 to 1,000,000,000)
        #[arg(long, value_name = "N", value_parser = parse_daily_limit)]
        daily_limit: Option<u64>,
    },
    /// Set a key's daily limit (uses per UTC day), or remove it with `none`
    Limit {
        /// The key's id, or a name only one key has
        key: String,
        /// 1 to 1,000,000,000 uses a day, or `none`
        #[arg(value_name = "N|none", value_parser = parse_limit)]
        limit: Limit,
    },
    /// Give a key a new name (its id, secret and history stay)
    Rename {
        /// The key's id, or a name only one key has
        key: String,
        /// The new name (1-64 characters)
        #[arg(long, value_name = "NEW")]
        name: String,
    },
    /// Give a key a new secret and print it
    Rotate {
        /// The key's id, or a name only one key has
        key: String,
        /// Keep the old secret working for this long: 1h, 24h or 7d [default: stop at once]
        #[arg(long, value_name = "PERIOD", value_parser = graces(), hide_possible_values = true)]
        grace: Option<Grace>,
        /// Do not ask for confirmation (required when stdin is not a terminal)
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Revoke keys for good: every app using them stops working at once
    Revoke {
        /// Each key's id, or a name only one key has; several are revoked in one transaction
        #[arg(required = true, value_name = "KEY")]
        keys: Vec<String>,
        /// Do not ask for confirmation (required when stdin is not a terminal)
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Show a key's details, audit trail and daily usage
    Show {
        /// The key's id, or a name only one key has
        key: String,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Check a full key read from stdin; prints JSON, exits 0 if valid and 1 if not
    Verify,
    /// Serve key checks over HTTP for gateways (forward auth) and apps, until SIGTERM
    Serve {
        /// Address and port to listen on; port 0 picks a free one
        #[arg(long, env = "HIVEKEYS_LISTEN", value_name = "ADDR:PORT",
              default_value = crate::serve::DEFAULT_LISTEN)]
        listen: std::net::SocketAddr,
        /// Connections served at once; more wait until one closes
        #[arg(long, value_name = "N", default_value_t = 4096,
              value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        max_connections: u32,
    },
    /// List the store's workspaces with their active keys (the current one marked)
    Workspaces {
        /// Create an empty workspace with this name first (1-64 characters)
        #[arg(long, value_name = "NAME")]
        create: Option<String>,
        /// Print a JSON array instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Print the workspace's audit log, newest first
    Log {
        /// Only events of this recent span (e.g. 90m, 12h, 7d)
        #[arg(long, value_name = "DURATION", value_parser = parse_duration, allow_hyphen_values = true)]
        since: Option<TimeDelta>,
        /// Print a JSON array instead of text
        #[arg(long)]
        json: bool,
    },
    /// Fill the workspace with realistic sample keys (no secret is printed)
    Demo {
        /// How many keys to add, the default key included if the workspace has none
        #[arg(long, value_name = "N", default_value_t = 40,
              value_parser = clap::value_parser!(u64).range(0..=10_000_000))]
        keys: u64,
        /// Seed for reproducible names and history (secrets are always random)
        #[arg(long, value_name = "SEED")]
        seed: Option<u64>,
    },
    /// Copy the whole store (every workspace) into an empty one, SQLite or PostgreSQL
    Copy {
        /// The empty store to fill: a file path, or postgres://USER@HOST[:PORT]/DBNAME
        #[arg(long, value_name = "DB")]
        to: std::ffi::OsString,
    },
    /// Find leaked keys in files (or a repository's history); exits 1 if one is live
    Scan {
        /// Files and directories to scan (.gitignore respected); with --git, repositories
        /// [default: the current directory]
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Scan every blob reachable from every ref of the repository, not the files
        #[arg(long)]
        git: bool,
        /// Also scan binary files (a NUL byte in the first 8 KiB), skipped and counted by
        /// default: a key inside a SQLite file or an uncompressed archive is a leak too
        #[arg(long)]
        binary: bool,
        /// Print one JSON document instead of text
        #[arg(long)]
        json: bool,
        /// Revoke every live key found, in one transaction, after one confirmation
        #[arg(long)]
        revoke: bool,
        /// Do not ask for confirmation (required with --revoke when stdin is not a terminal)
        #[arg(long, short = 'y', requires = "revoke")]
        yes: bool,
    },
    /// Print a completion script for bash, zsh, fish, elvish or powershell
    #[command(long_about = crate::cli::shell::COMPLETIONS_HELP)]
    Completions {
        /// The shell to complete in
        #[arg(value_enum, value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff); read it with `hivekeys man | man -l -`
    Man,
}

/// A value parser that also names the values it accepts, for shell completions and the
/// manual; parsing and its messages stay those of `parse`.
#[derive(Clone)]
pub struct Choices<T> {
    parse: fn(&str) -> Result<T, String>,
    values: Vec<PossibleValue>,
}

impl<T: Clone + Send + Sync + 'static> TypedValueParser for Choices<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        self.parse.parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(self.values.iter().cloned()))
    }
}

fn environments() -> Choices<Environment> {
    Choices {
        parse: parse_environment,
        values: Environment::ALL
            .iter()
            .map(|env| PossibleValue::new(env.as_str()).alias(env.code()))
            .collect(),
    }
}

fn statuses() -> Choices<Status> {
    Choices {
        parse: parse_status,
        values: Status::ALL
            .iter()
            .map(|status| PossibleValue::new(status.as_str()))
            .collect(),
    }
}

fn orders() -> Choices<SortBy> {
    Choices {
        parse: parse_sort,
        values: SortBy::ALL
            .iter()
            .map(|order| PossibleValue::new(order.as_str()))
            .collect(),
    }
}

fn graces() -> Choices<Grace> {
    Choices {
        parse: parse_grace,
        values: Grace::ALL
            .iter()
            .map(|grace| PossibleValue::new(grace.code()))
            .collect(),
    }
}

fn parse_environment(input: &str) -> Result<Environment, String> {
    input
        .parse()
        .map_err(|e: crate::environment::UnknownEnvironment| e.to_string())
}

fn parse_status(input: &str) -> Result<Status, String> {
    input
        .parse()
        .map_err(|e: crate::environment::UnknownStatus| e.to_string())
}

fn parse_sort(input: &str) -> Result<SortBy, String> {
    input.parse().map_err(|e: UnknownSort| e.to_string())
}

/// A daily limit given on the command line: a number of uses, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(pub Option<u64>);

fn parse_limit(input: &str) -> Result<Limit, String> {
    match input.trim() {
        "none" => Ok(Limit(None)),
        _ => parse_daily_limit(input).map(|n| Limit(Some(n))),
    }
}

fn parse_daily_limit(input: &str) -> Result<u64, String> {
    input
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|n| (1..=crate::store::MAX_DAILY_LIMIT).contains(n))
        .ok_or_else(|| {
            format!(
                "\"{}\" is not a daily limit: use a whole number from 1 to 1000000000 (or none)",
                crate::text::echo(input, 40)
            )
        })
}

fn parse_grace(input: &str) -> Result<Grace, String> {
    input
        .parse()
        .map_err(|e: crate::store::UnknownGrace| e.to_string())
}

/// `90m`, `12h`, `30d`, `1y`: a whole number of minutes, hours, days or years (of 365 days,
/// as [`crate::expiry::YEAR`]), up to ten years.
pub fn parse_duration(input: &str) -> Result<TimeDelta, String> {
    let error = || {
        format!(
            "\"{}\" is not a duration: use a whole number followed by m, h, d or y (e.g. 30d, 90d, 1y)",
            crate::text::echo(input, 40)
        )
    };
    let input = input.trim();
    let split = input.len().checked_sub(1).ok_or_else(error)?;
    if !input.is_char_boundary(split) {
        return Err(error());
    }
    let (number, unit) = input.split_at(split);
    // Digits only: `-1d` and `+30d` are no whole numbers of the kind the message asks for.
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(error());
    }
    let number: i64 = number.parse().map_err(|_| error())?;
    let minutes = match unit {
        "m" => number,
        "h" => number.checked_mul(60).ok_or_else(error)?,
        "d" => number.checked_mul(24 * 60).ok_or_else(error)?,
        "y" => number
            .checked_mul(crate::expiry::YEAR.num_minutes())
            .ok_or_else(error)?,
        _ => return Err(error()),
    };
    // Ten of the years `1y` means (365 days), so `3660d` is not let through as "10 years".
    if !(1..=10 * crate::expiry::YEAR.num_minutes()).contains(&minutes) {
        return Err("the duration must be between 1 minute and 10 years".into());
    }
    Ok(TimeDelta::minutes(minutes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("90m").unwrap(), TimeDelta::minutes(90));
        assert_eq!(parse_duration("12h").unwrap(), TimeDelta::hours(12));
        assert_eq!(parse_duration("30d").unwrap(), TimeDelta::days(30));
        assert_eq!(parse_duration("90d").unwrap(), TimeDelta::days(90));
        assert_eq!(parse_duration("1y").unwrap(), TimeDelta::days(365));
        assert_eq!(parse_duration("10y").unwrap(), TimeDelta::days(3650));
        let error = parse_duration("2w").unwrap_err();
        assert_eq!(
            error,
            "\"2w\" is not a duration: use a whole number followed by m, h, d or y (e.g. 30d, 90d, 1y)"
        );
        assert!(parse_duration("11y").is_err(), "over ten years");
        assert_eq!(parse_duration("3650d").unwrap(), TimeDelta::days(3650));
        for over in ["3651d", "3660d", "87601h"] {
            assert_eq!(
                parse_duration(over).unwrap_err(),
                "the duration must be between 1 minute and 10 years",
                "{over}"
            );
        }
        for signed in ["+30d", "-1d", "+1y"] {
            assert!(
                parse_duration(signed)
                    .unwrap_err()
                    .contains("is not a duration"),
                "{signed}"
            );
        }
        for bad in [
            "",
            "d",
            "30",
            "30w",
            "-1d",
            "0m",
            "99999999999d",
            "1é",
            "東",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
