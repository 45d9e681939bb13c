//! Realistic sample data, so a new user sees a lively dashboard at once and benchmarks have
//! a store of any size to work on.
//!
//! Demo keys are real keys: each has a secret from the store's entropy source whose hash is
//! stored and whose text is dropped at once. Nobody can ever use them.

use super::event_sink::{Events, log_in_time_order};
use super::failure::Failure;
use super::sql::{Arg, Db, args};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::Store;
use super::key_writes::{
    KeyRow, RotationTarget, active_default, insert_key, mark_revoked, replace_secret,
    workspace_for_write,
};
use super::records::{DEFAULT_KEY_NAME, Grace, KeyQuery};
use crate::environment::{Environment, Status};
use crate::error::Result;
use crate::text::validate_name;

const DAY: i64 = 86_400;

/// What a demo fill created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoSummary {
    pub keys: u64,
    pub revoked: u64,
    pub rotated: u64,
    pub expired: u64,
    pub default_key_created: bool,
    pub verifications: u64,
}

const SERVICES: &[&str] = &[
    "Checkout",
    "Billing",
    "Search",
    "Recommendations",
    "Analytics",
    "Notifications",
    "Support bot",
    "Onboarding",
    "Inventory",
    "Payments",
    "Reporting",
    "Mobile app",
    "Web frontend",
    "Data pipeline",
    "Fraud detection",
    "Translation",
    "Summarizer",
    "Docs assistant",
    "Email digest",
    "CRM sync",
    "Slack bot",
    "Zapier",
    "CI",
    "Chat widget",
    "Ticket triage",
    "Voice agent",
    "Lead scoring",
    "Knowledge base",
    "Équipe Paris",
    "東京 support",
    "🚀 Launch tools",
];
const ROLES: &[&str] = &[
    "service",
    "worker",
    "backend",
    "cron",
    "integration",
    "gateway",
    "batch job",
    "preview",
    "canary",
    "webhook",
    "API",
    "agent",
];
const SUFFIXES: &[&str] = &[
    "",
    "",
    "",
    "",
    " (eu-west)",
    " (us-east)",
    " (ap-south)",
    " v2",
    " v3",
];

impl Store {
    /// Adds `count` sample keys to `workspace`, spread over the three environments and the
    /// last six months: some rotated, some revoked, some expired, most with daily usage over
    /// the last 30 days; one of them is an active default key if the workspace has none
    /// (so `count` is exactly how many keys appear, and zero adds nothing). One
    /// transaction: all of it appears, or none. `seed` makes names and history reproducible
    /// (secrets always come from the store's entropy source).
    pub fn fill_demo(&mut self, workspace: &str, count: u64, seed: u64) -> Result<DemoSummary> {
        let workspace = validate_name(workspace, "workspace")?;
        let mut rng = StdRng::seed_from_u64(seed);
        self.write(|tx, cx| {
            let now = cx.now;
            let workspace_id = workspace_for_write(tx, &workspace, now)?;
            // Decided under the write lock: another process may create a default meanwhile.
            let needs_default = active_default(tx, workspace_id, now)?.is_none();
            let mut summary = DemoSummary::default();
            // Each key's history is written at once, back-dated; its events wait to be logged
            // in time order, so that the log reads newest first.
            let mut held = Vec::new();
            let mut events = Events::Held(&mut held);

            for index in 0..count {
                // The last one, so that the others are the same for a seed whether or not the
                // workspace already had a default key.
                let is_default = needs_default && index + 1 == count;
                let plan = if is_default {
                    KeyPlan::default_key(now, &mut rng)
                } else {
                    KeyPlan::random(now, &mut rng)
                };
                let row = KeyRow {
                    workspace_id,
                    name: &plan.name,
                    environment: plan.environment,
                    is_default,
                    created_at: plan.created_at,
                    expires_at: plan.expires_at,
                    daily_limit: None,
                };
                let (key_id, public_id, secret) = insert_key(tx, cx.entropy, &mut events, &row)?;
                drop(secret);
                if let Some(rotated_at) = plan.rotated_at {
                    let target = RotationTarget {
                        key_id,
                        public_id: &public_id,
                        name: &plan.name,
                        environment: plan.environment,
                    };
                    let grace = Grace::ALL[rng.random_range(0..Grace::ALL.len())];
                    replace_secret(tx, cx.entropy, &mut events, &target, rotated_at, grace)?;
                    summary.rotated += 1;
                }
                if let Some(revoked_at) = plan.revoked_at {
                    mark_revoked(tx, key_id, revoked_at, &mut events)?;
                    summary.revoked += 1;
                } else if plan.expires_at.is_some_and(|at| at <= now) {
                    summary.expired += 1;
                }

                let (mut total, mut last_used) = (0i64, None);
                let mut days = Vec::new();
                for (day, uses, last_second) in plan.usage(now, &mut rng) {
                    days.extend([key_id, day, uses]);
                    total += uses;
                    last_used = Some(last_second);
                }
                insert_daily_counts(tx, &days)?;
                if let Some(last_used) = last_used {
                    tx.execute(
                        "UPDATE keys SET last_used_at = ?1, use_count = ?2 WHERE id = ?3",
                        args![last_used, total, key_id],
                    )?;
                }
                summary.verifications += total as u64;
                summary.keys += 1;
                summary.default_key_created |= is_default;
            }
            log_in_time_order(tx, cx.actor, held)?;
            Ok(summary)
        })
    }

    /// How many keys of each status a workspace has: for the demo's closing line.
    pub fn status_counts(&self, workspace: &str) -> Result<[(Status, u64); 3]> {
        let mut counts = [
            (Status::Active, 0),
            (Status::Revoked, 0),
            (Status::Expired, 0),
        ];
        for (status, count) in counts.iter_mut() {
            let query = KeyQuery {
                status: Some(*status),
                ..KeyQuery::default()
            };
            *count = self.count_keys(workspace, &query)?;
        }
        Ok(counts)
    }
}

/// Inserts `(key_id, day, count)` triples, flattened, in one statement: a round trip per
/// key instead of one per day of use, which on PostgreSQL is most of the demo's time.
fn insert_daily_counts(tx: Db<'_>, flat: &[i64]) -> Result<(), Failure> {
    if flat.is_empty() {
        return Ok(());
    }
    let rows: Vec<String> = (0..flat.len() / 3)
        .map(|row| format!("(?{}, ?{}, ?{})", 3 * row + 1, 3 * row + 2, 3 * row + 3))
        .collect();
    let sql = format!(
        "INSERT INTO key_usage (key_id, day, count) VALUES {}",
        rows.join(", ")
    );
    let args: Vec<Arg<'_>> = flat.iter().map(|&n| Arg::from(n)).collect();
    tx.execute(&sql, &args)?;
    Ok(())
}

/// The life of one demo key, decided before it is written.
struct KeyPlan {
    name: String,
    environment: Environment,
    created_at: i64,
    rotated_at: Option<i64>,
    revoked_at: Option<i64>,
    expires_at: Option<i64>,
    /// Typical verifications per active day; 0 for a key nobody uses.
    traffic: i64,
}

impl KeyPlan {
    fn random(now: i64, rng: &mut StdRng) -> KeyPlan {
        let environment = match rng.random_range(0..10) {
            0..5 => Environment::Production,
            5..8 => Environment::Staging,
            _ => Environment::Development,
        };
        let name = format!(
            "{} {}{}",
            SERVICES[rng.random_range(0..SERVICES.len())],
            ROLES[rng.random_range(0..ROLES.len())],
            SUFFIXES[rng.random_range(0..SUFFIXES.len())]
        );
        let created_at = now - rng.random_range(3_600..180 * DAY);
        let rotated_at = rng
            .random_bool(0.22)
            .then(|| rng.random_range(created_at..now));
        let since = rotated_at.unwrap_or(created_at);
        let revoked_at = rng.random_bool(0.12).then(|| rng.random_range(since..now));
        let expires_at = match rng.random_range(0..100) {
            0..5 if now - created_at > DAY => Some(rng.random_range(created_at + DAY / 2..now)),
            5..11 => Some(now + rng.random_range(7 * DAY..365 * DAY)),
            _ => None,
        };
        let traffic = match (environment, rng.random_range(0..10)) {
            (_, 0..3) => 0,
            (Environment::Production, _) => rng.random_range(50..5_000),
            (Environment::Staging, _) => rng.random_range(5..400),
            (Environment::Development, _) => rng.random_range(1..60),
        };
        KeyPlan {
            name,
            environment,
            created_at,
            rotated_at,
            revoked_at,
            expires_at,
            traffic,
        }
    }

    fn default_key(now: i64, rng: &mut StdRng) -> KeyPlan {
        KeyPlan {
            name: DEFAULT_KEY_NAME.to_owned(),
            environment: Environment::Production,
            created_at: now - 200 * DAY,
            rotated_at: Some(now - rng.random_range(20..60) * DAY),
            revoked_at: None,
            expires_at: None,
            traffic: 12_000,
        }
    }

    /// (day, uses, last second used that day) for each used day of the last 30 on which the
    /// key could be used, oldest first.
    fn usage(&self, now: i64, rng: &mut StdRng) -> Vec<(i64, i64, i64)> {
        if self.traffic == 0 {
            return Vec::new();
        }
        let start = self.created_at.max(now - 30 * DAY);
        let end = [self.revoked_at, self.expires_at]
            .into_iter()
            .flatten()
            .fold(now, i64::min);
        if end <= start {
            return Vec::new();
        }
        let busy_days = rng.random_range(0.3..1.0);
        let mut days = Vec::new();
        for day in start.div_euclid(DAY)..=end.div_euclid(DAY) {
            if !rng.random_bool(busy_days) {
                continue;
            }
            let uses = (self.traffic as f64 * rng.random_range(0.4..1.6)).max(1.0) as i64;
            let day_start = (day * DAY).max(start);
            let day_end = ((day + 1) * DAY - 1).min(end);
            if day_end < day_start {
                continue;
            }
            days.push((day, uses, rng.random_range(day_start..=day_end)));
        }
        days
    }
}

/// Seed for a demo fill when the caller does not need reproducibility.
pub fn random_seed() -> u64 {
    rand::random()
}
