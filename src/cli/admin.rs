//! `hivekeys workspaces` and `hivekeys log`: the admin console's questions ("which
//! workspaces are there?", "who changed what?") on the command line.

use std::io::{self, Write};

use chrono::TimeDelta;
use serde::Serialize;
use unicode_width::UnicodeWidthStr;

use super::output::write_json;
use crate::audit_log::{ACTION_WIDTH, LogLine};
use crate::store::{AuditQuery, LoggedEvent, Store, with_current};
use crate::text::{echo, group_digits, pad, printable};
use crate::timefmt::{rfc3339, short};

#[derive(Serialize)]
struct WorkspaceJson<'a> {
    name: &'a str,
    active_keys: u64,
    /// Null for the current workspace while nothing is stored in it.
    created_at: Option<String>,
    current: bool,
}

pub fn workspaces(
    out: &mut impl Write,
    store: &mut Store,
    current: &str,
    create: Option<&str>,
    json: bool,
) -> Result<(), super::Failure> {
    if let Some(name) = create {
        let created = store.create_workspace(name)?;
        if !json {
            writeln!(
                out,
                "Created workspace \"{}\"; use it with --workspace or HIVEKEYS_WORKSPACE.",
                echo(&created.name, 64)
            )?;
            return Ok(());
        }
    }
    let listed = with_current(store.workspaces()?, current);
    if json {
        let rows: Vec<WorkspaceJson<'_>> = listed
            .iter()
            .map(|w| WorkspaceJson {
                name: &w.name,
                // with_current counted every workspace.
                active_keys: w.active_keys.unwrap_or(0),
                created_at: w.created_at.map(rfc3339),
                current: w.current,
            })
            .collect();
        write_json(out, &rows)?;
        return Ok(());
    }
    let names: Vec<String> = listed.iter().map(|w| printable(&w.name, 64)).collect();
    let width = names.iter().map(|n| n.width()).max().unwrap_or(0).max(9);
    writeln!(out, "  {}  ACTIVE KEYS  CREATED", pad("WORKSPACE", width))?;
    for (w, name) in listed.iter().zip(&names) {
        writeln!(
            out,
            "{} {}  {:>11}  {}",
            if w.current { "*" } else { " " },
            pad(name, width),
            group_digits(w.active_keys.unwrap_or(0)),
            w.created_at
                .map_or_else(|| "not stored yet".to_owned(), short)
        )?;
    }
    writeln!(
        out,
        "* current (--workspace or HIVEKEYS_WORKSPACE; \"{}\" when neither is set)",
        crate::store::DEFAULT_WORKSPACE
    )?;
    Ok(())
}

#[derive(Serialize)]
struct EventJson<'a> {
    at: String,
    actor: &'a str,
    action: &'static str,
    key_id: &'a str,
    key_name: &'a str,
    detail: Option<&'a str>,
}

/// Events read from the store at a time: a log of millions is printed page by page, never
/// held whole.
const PAGE: usize = 1_000;

pub fn log(
    out: &mut impl Write,
    store: &Store,
    workspace: &str,
    since: Option<TimeDelta>,
    json: bool,
) -> Result<(), super::Failure> {
    let mut query = AuditQuery {
        since: since.map(|span| store.now() - span),
        before: None,
        limit: Some(PAGE),
    };
    let mut printed = 0usize;
    if json {
        // An array written element by element, so that its pages need not be held together.
        write!(out, "[")?;
    }
    loop {
        let page = store.audit_log(workspace, &query)?;
        for logged in &page {
            match json {
                true => {
                    if printed > 0 {
                        write!(out, ",")?;
                    }
                    write_json_inline(out, logged)?;
                }
                false => write_line(out, logged)?,
            }
            printed += 1;
        }
        match page.last() {
            Some(last) if page.len() == PAGE => query.before = Some(last.seq),
            _ => break,
        }
    }
    if json {
        writeln!(out, "]")?;
    } else if printed == 0 {
        let when = match since {
            Some(_) => " in that time",
            None => "",
        };
        writeln!(
            out,
            "Workspace \"{}\" has no audit events{when}.",
            echo(workspace, 64)
        )?;
    }
    Ok(())
}

fn write_json_inline(out: &mut impl Write, logged: &LoggedEvent) -> io::Result<()> {
    let event = EventJson {
        at: rfc3339(logged.event.at),
        actor: &logged.event.actor,
        action: logged.event.action.as_str(),
        key_id: &logged.key_id,
        key_name: &logged.key_name,
        detail: logged.event.detail.as_deref(),
    };
    // write_json ends its value with a newline; inside the array one value follows another.
    let mut one = Vec::new();
    write_json(&mut one, &event)?;
    out.write_all(one.trim_ascii_end())
}

fn write_line(out: &mut impl Write, logged: &LoggedEvent) -> io::Result<()> {
    let line = LogLine::of(logged);
    let detail = match line.detail.is_empty() {
        true => String::new(),
        false => format!("  ({})", line.detail),
    };
    writeln!(
        out,
        "{}  {}  {:<ACTION_WIDTH$}  {} \"{}\"{detail}",
        line.time,
        pad(&line.actor, 12),
        line.action,
        line.key_id,
        line.key_name
    )
}
