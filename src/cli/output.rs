//! What the commands print: JSON for scripts (the shapes PRODUCT.md fixes) and aligned
//! text for people. Names are passed through [`printable`] before they reach a terminal.

use std::io::{self, Write};

use chrono::{DateTime, Utc};
use serde::Serialize;
use unicode_width::UnicodeWidthStr;

use crate::expiry;
use crate::store::{AuditEvent, DailyUse, KeyLeak, KeyRecord, LiveSecret, Verification};
use crate::text::{fit, group_digits, is_forbidden_in_name, pad, printable};
use crate::timefmt::{relative, rfc3339, short};

#[derive(Serialize)]
pub struct KeyJson<'a> {
    id: &'a str,
    name: &'a str,
    environment: &'static str,
    status: &'static str,
    is_default: bool,
    masked_key: &'a str,
    created_at: String,
    last_used_at: Option<String>,
    use_count: u64,
    expires_at: Option<String>,
    /// Whole days an active key has left before it expires, rounded down; null without
    /// expiry and once the key is no longer active.
    expires_in_days: Option<i64>,
    /// Active and expiring within 7 days: the keys the Status column marks.
    expiring_soon: bool,
    daily_limit: Option<u64>,
    uses_today: u64,
    /// A scan found a secret that still opens the key (`hivekeys scan`): until it is rotated
    /// or revoked.
    leaked: bool,
    /// Where, first seen first; empty unless `leaked`.
    leaked_in: Vec<LeakJson<'a>>,
}

#[derive(Serialize)]
struct LeakJson<'a> {
    location: &'a str,
    found_at: String,
}

impl<'a> KeyJson<'a> {
    fn new(
        key: &'a KeyRecord,
        uses_today: u64,
        leaks: &'a [KeyLeak],
        now: DateTime<Utc>,
    ) -> KeyJson<'a> {
        let leaked = key.is_leaked_at(now);
        KeyJson {
            id: &key.id,
            name: &key.name,
            environment: key.environment.as_str(),
            status: key.status_at(now).as_str(),
            is_default: key.is_default,
            masked_key: &key.masked_key,
            created_at: rfc3339(key.created_at),
            last_used_at: key.last_used_at.map(rfc3339),
            use_count: key.use_count,
            expires_at: key.expires_at.map(rfc3339),
            expires_in_days: expiry::days_left(key, now),
            expiring_soon: expiry::soon_note(key, now).is_some(),
            daily_limit: key.daily_limit,
            uses_today,
            leaked,
            leaked_in: leaks
                .iter()
                .filter(|_| leaked)
                .map(|leak| LeakJson {
                    location: &leak.location,
                    found_at: rfc3339(leak.found_at),
                })
                .collect(),
        }
    }
}

/// `keys` with `uses_today[i]` the uses of `keys[i]` today and `leaks[i]` where it leaked.
pub fn key_list_json<'a>(
    keys: &'a [KeyRecord],
    uses_today: &[u64],
    leaks: &'a [Vec<KeyLeak>],
    now: DateTime<Utc>,
) -> Vec<KeyJson<'a>> {
    keys.iter()
        .zip(uses_today)
        .zip(leaks)
        .map(|((key, &uses), leaks)| KeyJson::new(key, uses, leaks, now))
        .collect()
}

#[derive(Serialize)]
pub struct KeyDetailJson<'a> {
    #[serde(flatten)]
    key: KeyJson<'a>,
    rotated_at: Option<String>,
    revoked_at: Option<String>,
    /// The secrets that verify now, newest first; never any secret text, which is not stored.
    secrets: Vec<SecretJson>,
    events: Vec<EventJson<'a>>,
    /// The last 30 days, oldest first, days without use included.
    daily_uses: Vec<DailyUseJson>,
}

#[derive(Serialize)]
struct SecretJson {
    created_at: String,
    /// Null for the current secret, which lasts until the next rotation.
    expires_at: Option<String>,
}

#[derive(Serialize)]
struct EventJson<'a> {
    at: String,
    action: &'static str,
    actor: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
}

#[derive(Serialize)]
struct DailyUseJson {
    date: String,
    count: u64,
}

pub fn key_detail_json<'a>(
    key: &'a KeyRecord,
    secrets: &[LiveSecret],
    events: &'a [AuditEvent],
    usage: &[DailyUse],
    leaks: &'a [KeyLeak],
    now: DateTime<Utc>,
) -> KeyDetailJson<'a> {
    // The usage series ends today.
    let uses_today = usage.last().map_or(0, |day| day.count);
    KeyDetailJson {
        key: KeyJson::new(key, uses_today, leaks, now),
        rotated_at: key.rotated_at.map(rfc3339),
        revoked_at: key.revoked_at.map(rfc3339),
        secrets: secrets
            .iter()
            .map(|s| SecretJson {
                created_at: rfc3339(s.created_at),
                expires_at: s.expires_at.map(rfc3339),
            })
            .collect(),
        events: events
            .iter()
            .map(|e| EventJson {
                at: rfc3339(e.at),
                action: e.action.as_str(),
                actor: &e.actor,
                detail: e.detail.as_deref(),
            })
            .collect(),
        daily_uses: usage
            .iter()
            .map(|day| DailyUseJson {
                date: day.date.format("%Y-%m-%d").to_string(),
                count: day.count,
            })
            .collect(),
    }
}

#[derive(Serialize)]
#[serde(untagged)]
pub enum VerificationJson<'a> {
    Valid {
        valid: bool,
        id: &'a str,
        name: &'a str,
        environment: &'static str,
        workspace: &'a str,
    },
    Invalid {
        valid: bool,
        code: &'static str,
    },
}

pub fn verification_json(verdict: &Verification) -> VerificationJson<'_> {
    match verdict {
        Verification::Valid(key) => VerificationJson::Valid {
            valid: true,
            id: &key.id,
            name: &key.name,
            environment: key.environment.as_str(),
            workspace: &key.workspace,
        },
        Verification::Invalid(reason) => VerificationJson::Invalid {
            valid: false,
            code: reason.code(),
        },
    }
}

pub fn write_json(out: &mut impl Write, value: &impl Serialize) -> io::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(&mut *out, TerminalSafe);
    // Keep the I/O error's kind: a closed pipe must stay recognisable as one.
    value
        .serialize(&mut serializer)
        .map_err(|e| match e.io_error_kind() {
            Some(kind) => io::Error::from(kind),
            None => io::Error::other(e),
        })?;
    writeln!(out)
}

/// Compact JSON that a terminal can show as it is. serde_json escapes only C0 controls; a
/// name written into the store by another program may hold DEL, a C1 control (U+009B is an
/// 8-bit CSI: an escape sequence in one character) or a bidirectional override. Those are
/// written as `\uXXXX` too: the same string to a JSON parser, inert on a screen.
struct TerminalSafe;

impl serde_json::ser::Formatter for TerminalSafe {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut rest = fragment;
        while let Some((at, c)) = rest.char_indices().find(|&(_, c)| is_forbidden_in_name(c)) {
            writer.write_all(&rest.as_bytes()[..at])?;
            // Every such character is in the Basic Multilingual Plane: one `\u` escape.
            write!(writer, "\\u{:04x}", u32::from(c))?;
            rest = &rest[at + c.len_utf8()..];
        }
        writer.write_all(rest.as_bytes())
    }
}

/// Widest name column, in terminal cells; longer names end in `…`.
const NAME_WIDTH: usize = 32;

pub fn write_key_table(
    out: &mut impl Write,
    keys: &[KeyRecord],
    total: u64,
    workspace: &str,
    now: DateTime<Utc>,
) -> io::Result<()> {
    if total == 0 {
        return writeln!(
            out,
            "Workspace \"{}\" has no keys yet: run `hivekeys create --default` or `hivekeys demo`.",
            printable(workspace, 64)
        );
    }
    if keys.is_empty() {
        return writeln!(out, "No keys match (0 of {total} keys).");
    }
    let names: Vec<String> = keys
        .iter()
        .map(|k| fit(&printable(&k.name, 64), NAME_WIDTH))
        .collect();
    let name_width = names.iter().map(|n| n.width()).max().unwrap_or(0).max(4);
    // "active · expires in 3 days" for a key in its last week, as the dashboard marks it.
    let statuses: Vec<String> = keys
        .iter()
        .map(|k| expiry::status_text(k, now, k.status_at(now).as_str()))
        .collect();
    let status_width = statuses.iter().map(|s| s.width()).max().unwrap_or(0).max(7);
    writeln!(
        out,
        "{:<12}  {}  {:<4}  {:<7}  {}  {:<18}  {:<20}  LAST USED",
        "ID",
        pad("NAME", name_width),
        "ENV",
        "DEFAULT",
        pad("STATUS", status_width),
        "KEY",
        "CREATED"
    )?;
    for ((key, name), status) in keys.iter().zip(&names).zip(&statuses) {
        writeln!(
            out,
            "{:<12}  {}  {:<4}  {:<7}  {}  {:<18}  {:<20}  {}",
            printable(&key.id, 32),
            pad(name, name_width),
            key.environment.code(),
            if key.is_default { "yes" } else { "" },
            pad(status, status_width),
            printable(&key.masked_key, 32),
            short(key.created_at),
            relative(key.last_used_at, now)
        )?;
    }
    writeln!(out, "{} of {total} keys", keys.len())
}

/// What `show` reads of a key besides the key itself.
pub struct KeyReads<'a> {
    pub secrets: &'a [LiveSecret],
    pub events: &'a [AuditEvent],
    pub usage: &'a [DailyUse],
    pub leaks: &'a [KeyLeak],
}

pub fn write_key_detail(
    out: &mut impl Write,
    workspace: &str,
    key: &KeyRecord,
    reads: KeyReads<'_>,
    now: DateTime<Utc>,
) -> io::Result<()> {
    use crate::details::{LABEL_WIDTH, NO_LIVE_SECRET, event_line, fields};
    let KeyReads {
        secrets,
        events,
        usage,
        leaks,
    } = reads;
    writeln!(out, "{}", printable(&key.name, 64))?;
    writeln!(
        out,
        "  {:<LABEL_WIDTH$} {}",
        "Workspace",
        printable(workspace, 64)
    )?;
    let uses_today = usage.last().map_or(0, |day| day.count);
    for field in fields(key, uses_today, leaks, now) {
        writeln!(out, "  {:<LABEL_WIDTH$} {}", field.label, field.value)?;
    }
    writeln!(out, "\nLive secrets")?;
    if secrets.is_empty() {
        writeln!(out, "  {NO_LIVE_SECRET}")?;
    }
    for secret in secrets {
        writeln!(out, "  {}", secret.describe(now))?;
    }
    writeln!(out, "\nAudit trail")?;
    for event in events {
        writeln!(out, "  {}", event_line(event))?;
    }
    let total: u64 = usage.iter().map(|d| d.count).sum();
    let peak = usage.iter().map(|d| d.count).max().unwrap_or(0);
    writeln!(
        out,
        "\nUses per day, last {} days: {} in all, at most {} a day",
        usage.len(),
        group_digits(total),
        group_digits(peak)
    )?;
    writeln!(out, "  {}", sparkline(usage))?;
    if let (Some(first), Some(last)) = (usage.first(), usage.last()) {
        let gap = usage.len().saturating_sub(20);
        writeln!(out, "  {}{:gap$}{}", first.date, "", last.date)?;
    }
    Ok(())
}

/// One bar per day, eight heights; a day without use is a low dot so gaps stay visible.
fn sparkline(usage: &[DailyUse]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let peak = usage.iter().map(|d| d.count).max().unwrap_or(0).max(1);
    usage
        .iter()
        .map(|d| match d.count {
            0 => '·',
            n => BARS[(n * 7 / peak) as usize],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes_every_control_and_bidi_character_and_loses_nothing() {
        let name = "a\u{9b}31m b\u{7f} c\u{85} d\u{202e}e\u{1b}[0m 東京🚀 \"q\"\\";
        let mut out = Vec::new();
        write_json(&mut out, &serde_json::json!({ "name": name })).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "{\"name\":\"a\\u009b31m b\\u007f c\\u0085 d\\u202ee\\u001b[0m 東京🚀 \\\"q\\\"\\\\\"}\n"
        );
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["name"], name);
    }

    #[test]
    fn sparkline_scales_to_the_peak() {
        let day = |count| DailyUse {
            date: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            count,
        };
        assert_eq!(sparkline(&[day(0), day(1), day(100), day(50)]), "·▁█▄");
    }
}
