//! The table's keys held compactly: a million keys must fit the dashboard's memory budget
//! (150 MB), which a `Vec<KeyRecord>` (several heap strings and five optional times per key)
//! with a separate lower-cased search text per key did not (380 MB).
//!
//! Each key is a row of fixed-size columns (times as seconds, `i64::MIN` for none), the number
//! of its name (names are held once each, [`Names`]) and its text, `masked key ␟ id`, in one
//! shared arena. That text is also what search reads: for most keys (ASCII, the masked key's
//! "…" stored as "...") comparing it without regard to ASCII case is exactly comparing its
//! folded form (as in [`search_text`]); a key for which that is not true carries its folded
//! form after its text. A whole [`KeyRecord`] is built only for the rows on screen and the
//! selected one.

use std::borrow::Cow;

use chrono::{DateTime, Utc};

use super::key_names::Names;
use super::key_text::{ELLIPSIS, NO_ELLIPSIS, capped, encode};
use super::{byte_classes, byte_pairs};
use crate::environment::{Environment, Status};
#[cfg(doc)]
use crate::store::search_text;
use crate::store::{KeyRecord, KeyUsage, LeakMark};

/// Starts the folded search text of a key whose own text is not it.
const FOLDED: char = '\u{1e}';
/// A time the key does not have.
const NO_TIME: i64 = i64::MIN;
/// A daily limit the key does not have.
const NO_LIMIT: u64 = u64::MAX;

pub(super) const ENVIRONMENT_BITS: u8 = 0b11;
const IS_DEFAULT: u8 = 1 << 2;
/// The key's folded search text follows its own text in the arena.
const HAS_FOLDED: u8 = 1 << 3;
/// Revoked, and has an expiry: what its status depends on, in the byte a filter reads anyway
/// (the times' columns are 8 MB each at a million keys, read in a sort's order).
pub(super) const REVOKED: u8 = 1 << 4;
pub(super) const EXPIRES: u8 = 1 << 5;
/// A scan found a secret of the key: its [`Extra`] says until when that secret works.
const LEAKED: u8 = 1 << 6;
/// An [`Extra::leaked_until`] with no end: the found secret is the key's current one.
const LEAKED_FOR_GOOD: u32 = u32::MAX;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyRows {
    /// Every name a key has, once each.
    names: Names,
    /// Each key's name, by its number in `names`.
    name_ids: Vec<u32>,
    /// Each key's text (masked key and id), one after another.
    text: String,
    /// Where each key's text starts in `text`; it ends where the next one starts.
    starts: Vec<u32>,
    /// Byte lengths of the masked key and id. The store never writes a name longer than 64
    /// characters; a longer one (a hand-edited file) is cut at 65,535 bytes, as these are.
    lens: Vec<[u16; 2]>,
    /// Where the masked key's "…" stood (`text` holds "..." there), or [`NO_ELLIPSIS`].
    ellipsis: Vec<u8>,
    flags: Vec<u8>,
    /// Which bytes each key's searched text holds ([`byte_classes`]), and which pairs of
    /// bytes ([`byte_pairs`]): what search reads before the text.
    byte_masks: Vec<u64>,
    pair_masks: Vec<u64>,
    created: Vec<i64>,
    expires: Vec<i64>,
    last_used: Vec<i64>,
    use_count: Vec<u64>,
    /// What few keys have (a rotation, a revocation, a daily limit), apart, by row: a column
    /// each would cost 8 MB at a million keys.
    extras: Vec<Extra>,
}

/// The rarer fields of one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Extra {
    row: u32,
    /// When the secret a scan found stops working, in Unix seconds ([`LEAKED_FOR_GOOD`]
    /// when it is the key's current one, 0 when no secret was found). Seconds to the year
    /// 2106 fit, and the field takes what was the struct's padding.
    leaked_until: u32,
    rotated: i64,
    revoked: i64,
    daily_limit: u64,
}

impl Extra {
    fn of(row: usize, key: &KeyRecord) -> Option<Extra> {
        let extra = Extra {
            row: row as u32,
            leaked_until: match key.leak {
                None => 0,
                Some(LeakMark { until: None }) => LEAKED_FOR_GOOD,
                Some(LeakMark { until: Some(at) }) => {
                    at.timestamp().clamp(1, u32::MAX.into()) as u32
                }
            },
            rotated: seconds(key.rotated_at),
            revoked: seconds(key.revoked_at),
            daily_limit: key.daily_limit.unwrap_or(NO_LIMIT),
        };
        let none = (
            extra.leaked_until,
            extra.rotated,
            extra.revoked,
            extra.daily_limit,
        ) == (0, NO_TIME, NO_TIME, NO_LIMIT);
        (!none).then_some(extra)
    }
}

fn seconds(at: Option<DateTime<Utc>>) -> i64 {
    at.map_or(NO_TIME, |at| at.timestamp())
}

fn time(secs: i64) -> Option<DateTime<Utc>> {
    (secs != NO_TIME).then(|| DateTime::from_timestamp(secs, 0).unwrap_or_default())
}

impl KeyRows {
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// Where these rows are held: another full read of the list holds them elsewhere, while
    /// the dashboard's own changes and use-count refreshes keep them in place.
    pub fn as_ptr(&self) -> *const u32 {
        self.starts.as_ptr()
    }

    /// The arena itself: search reads the keys' texts in place.
    pub(super) fn text(&self) -> &str {
        &self.text
    }

    /// Where key `i`'s text starts, and where it ends.
    pub(super) fn span(&self, i: usize) -> (usize, usize) {
        let start = self.starts[i] as usize;
        let end = self
            .starts
            .get(i + 1)
            .map_or(self.text.len(), |&s| s as usize);
        (start, end)
    }

    /// The part of the arena search compares for key `i` (its masked key and id): its own
    /// text, or the folded text after it.
    pub(super) fn searched(&self, i: usize) -> (usize, usize) {
        let (start, end) = self.span(i);
        let [masked, id] = self.lens[i].map(usize::from);
        let own = start + masked + id + 1;
        match self.flags[i] & HAS_FOLDED != 0 {
            true => (own + FOLDED.len_utf8(), end),
            false => (start, own),
        }
    }

    /// Which bytes each key's searched text holds, by row.
    pub(super) fn byte_masks(&self) -> &[u64] {
        &self.byte_masks
    }

    /// The columns the filters read: flags, expiry and last use (seconds), by row.
    pub(super) fn filter_columns(&self) -> (&[u8], &[i64], &[i64]) {
        (&self.flags, &self.expires, &self.last_used)
    }

    /// Which pairs of bytes each key's searched text holds, by row.
    pub(super) fn pair_masks(&self) -> &[u64] {
        &self.pair_masks
    }

    /// The names, and each key's name by number.
    pub(super) fn names(&self) -> (&Names, &[u32]) {
        (&self.names, &self.name_ids)
    }

    /// Key `i`'s name folded as search folds it, as bytes: compared byte by byte without
    /// regard to ASCII case when `.1` is true (its own text), as they are otherwise.
    pub(super) fn folded_name(&self, i: usize) -> (&[u8], bool) {
        self.names.searched(self.name_ids[i] as usize)
    }

    pub fn id(&self, i: usize) -> &str {
        let (start, _) = self.span(i);
        let [masked, id] = self.lens[i].map(usize::from);
        let from = start + masked + 1;
        &self.text[from..from + id]
    }

    pub fn name(&self, i: usize) -> &str {
        self.names.name(self.name_ids[i] as usize)
    }

    pub fn masked_key(&self, i: usize) -> Cow<'_, str> {
        let (start, _) = self.span(i);
        let from = start;
        let stored = &self.text[from..from + self.lens[i][0] as usize];
        match self.ellipsis[i] {
            NO_ELLIPSIS => Cow::Borrowed(stored),
            at => {
                let at = at as usize;
                Cow::Owned(format!("{}{ELLIPSIS}{}", &stored[..at], &stored[at + 3..]))
            }
        }
    }

    pub fn environment(&self, i: usize) -> Environment {
        Environment::ALL[(self.flags[i] & ENVIRONMENT_BITS) as usize]
    }

    pub fn created_secs(&self, i: usize) -> i64 {
        self.created[i]
    }

    /// Seconds of the last use, `i64::MIN` for never: larger is more recent.
    pub fn last_used_secs(&self, i: usize) -> i64 {
        self.last_used[i]
    }

    pub fn use_count(&self, i: usize) -> u64 {
        self.use_count[i]
    }

    pub fn expires_at(&self, i: usize) -> Option<DateTime<Utc>> {
        time(self.expires[i])
    }

    pub fn last_used_at(&self, i: usize) -> Option<DateTime<Utc>> {
        time(self.last_used[i])
    }

    pub fn is_revoked(&self, i: usize) -> bool {
        self.flags[i] & REVOKED != 0
    }

    /// As [`KeyRecord::status_at`].
    pub fn status_at(&self, i: usize, now: DateTime<Utc>) -> Status {
        self.status_at_secs(i, now.timestamp())
    }

    pub(super) fn status_at_secs(&self, i: usize, now: i64) -> Status {
        let flags = self.flags[i];
        if flags & REVOKED != 0 {
            Status::Revoked
        } else if flags & EXPIRES != 0 && self.expires[i] <= now {
            Status::Expired
        } else {
            Status::Active
        }
    }

    /// Key `i` whole.
    pub fn record(&self, i: usize) -> KeyRecord {
        let extra = self.extra(i).ok().map(|at| self.extras[at]);
        KeyRecord {
            id: self.id(i).to_owned(),
            name: self.name(i).to_owned(),
            environment: self.environment(i),
            is_default: self.flags[i] & IS_DEFAULT != 0,
            masked_key: self.masked_key(i).into_owned(),
            created_at: time(self.created[i]).unwrap_or_default(),
            rotated_at: extra.and_then(|e| time(e.rotated)),
            revoked_at: extra.and_then(|e| time(e.revoked)),
            expires_at: time(self.expires[i]),
            last_used_at: time(self.last_used[i]),
            use_count: self.use_count[i],
            daily_limit: extra
                .map(|e| e.daily_limit)
                .filter(|&limit| limit != NO_LIMIT),
            leak: extra
                .filter(|_| self.flags[i] & LEAKED != 0)
                .map(|e| LeakMark {
                    until: match e.leaked_until {
                        LEAKED_FOR_GOOD => None,
                        secs => time(secs.into()),
                    },
                }),
        }
    }

    /// Every key whole, in order.
    pub fn iter(&self) -> impl Iterator<Item = KeyRecord> + '_ {
        (0..self.len()).map(|i| self.record(i))
    }

    /// The position of the key with id `id`.
    pub fn position(&self, id: &str) -> Option<usize> {
        (0..self.len()).find(|&i| self.id(i) == id)
    }

    /// Where `key` goes among rows kept newest first: after every key created later.
    pub fn newest_first_place(&self, key: &KeyRecord) -> usize {
        let created = key.created_at.timestamp();
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let mid = (low + high) / 2;
            if self.created[mid] > created {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        low
    }

    /// Adds `key` after the last row.
    pub fn push(&mut self, key: &KeyRecord) {
        self.insert(self.len(), key);
    }

    /// Puts `key` at position `at`, the rows from there on moving one down.
    pub fn insert(&mut self, at: usize, key: &KeyRecord) {
        let encoded = encode(key);
        let offset = self.span_start(at);
        let searched = match &encoded.folded {
            Some(folded) => folded.as_bytes(),
            None => encoded.text.as_bytes(),
        };
        let byte_mask = byte_classes::of(searched);
        let pair_mask = byte_pairs::of(searched);
        let mut text = encoded.text;
        if let Some(folded) = &encoded.folded {
            text.push(FOLDED);
            text.push_str(folded);
        }
        self.text.insert_str(offset, &text);
        for start in &mut self.starts[at..] {
            *start += text.len() as u32;
        }
        let environment = Environment::ALL
            .iter()
            .position(|e| *e == key.environment)
            .unwrap_or(0) as u8;
        let flags = environment
            | if key.is_default { IS_DEFAULT } else { 0 }
            | if encoded.folded.is_some() {
                HAS_FOLDED
            } else {
                0
            }
            | if key.revoked_at.is_some() { REVOKED } else { 0 }
            | if key.expires_at.is_some() { EXPIRES } else { 0 }
            | if key.leak.is_some() { LEAKED } else { 0 };
        self.starts.insert(at, offset as u32);
        let name = self.names.intern(capped(&key.name));
        self.name_ids.insert(at, name);
        self.lens.insert(at, encoded.lens);
        self.ellipsis.insert(at, encoded.ellipsis);
        self.flags.insert(at, flags);
        self.byte_masks.insert(at, byte_mask);
        self.pair_masks.insert(at, pair_mask);
        self.created.insert(at, key.created_at.timestamp());
        self.expires.insert(at, seconds(key.expires_at));
        self.last_used.insert(at, seconds(key.last_used_at));
        self.use_count.insert(at, key.use_count);
        let place = self.extra(at).unwrap_or_else(|place| place);
        for extra in &mut self.extras[place..] {
            extra.row += 1;
        }
        if let Some(extra) = Extra::of(at, key) {
            self.extras.insert(place, extra);
        }
    }

    /// Takes out the key at position `at`, the rows after it moving one up.
    pub fn remove(&mut self, at: usize) {
        let (start, end) = self.span(at);
        self.text.replace_range(start..end, "");
        for s in &mut self.starts[at + 1..] {
            *s -= (end - start) as u32;
        }
        self.starts.remove(at);
        self.name_ids.remove(at);
        self.lens.remove(at);
        self.ellipsis.remove(at);
        self.flags.remove(at);
        self.byte_masks.remove(at);
        self.pair_masks.remove(at);
        self.created.remove(at);
        self.expires.remove(at);
        self.last_used.remove(at);
        self.use_count.remove(at);
        let place = match self.extra(at) {
            Ok(place) => {
                self.extras.remove(place);
                place
            }
            Err(place) => place,
        };
        for extra in &mut self.extras[place..] {
            extra.row -= 1;
        }
    }

    /// Key `i`'s use count and last use, read again.
    pub fn set_usage(&mut self, i: usize, usage: KeyUsage) {
        self.last_used[i] = seconds(usage.last_used_at);
        self.use_count[i] = usage.use_count;
    }

    /// Makes room for `n` more keys (of a typical text length), so that a read of a million
    /// does not double its columns (and briefly hold both) as it grows.
    pub fn reserve(&mut self, n: usize) {
        self.text.reserve(n * 32);
        self.names.reserve(n);
        self.name_ids.reserve(n);
        self.starts.reserve(n);
        self.lens.reserve(n);
        self.ellipsis.reserve(n);
        self.flags.reserve(n);
        self.byte_masks.reserve(n);
        self.pair_masks.reserve(n);
        self.created.reserve(n);
        self.expires.reserve(n);
        self.last_used.reserve(n);
        self.use_count.reserve(n);
    }

    /// Gives back memory a read reserved but did not use.
    pub fn shrink_to_fit(&mut self) {
        self.names.shrink_to_fit();
        self.name_ids.shrink_to_fit();
        self.text.shrink_to_fit();
        self.starts.shrink_to_fit();
        self.lens.shrink_to_fit();
        self.ellipsis.shrink_to_fit();
        self.flags.shrink_to_fit();
        self.byte_masks.shrink_to_fit();
        self.pair_masks.shrink_to_fit();
        self.created.shrink_to_fit();
        self.expires.shrink_to_fit();
        self.last_used.shrink_to_fit();
        self.use_count.shrink_to_fit();
        self.extras.shrink_to_fit();
    }

    /// Where row `i`'s extras are in `extras`, or where they would go.
    fn extra(&self, i: usize) -> Result<usize, usize> {
        self.extras.binary_search_by_key(&(i as u32), |e| e.row)
    }

    fn span_start(&self, at: usize) -> usize {
        self.starts.get(at).map_or(self.text.len(), |&s| s as usize)
    }
}

impl FromIterator<KeyRecord> for KeyRows {
    fn from_iter<T: IntoIterator<Item = KeyRecord>>(keys: T) -> KeyRows {
        let mut rows = KeyRows::default();
        for key in keys {
            rows.push(&key);
        }
        rows.shrink_to_fit();
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::search_text;
    use crate::tui::key_text::FIELD;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
    }

    fn keys() -> Vec<KeyRecord> {
        let mut used = KeyRecord::example("key_0001", "Billing API", Environment::Staging, now());
        used.masked_key = "fhk_stg_AbCd…WxYz".into();
        used.last_used_at = Some(now());
        used.use_count = 42;
        used.daily_limit = Some(1000);
        used.rotated_at = Some(now());
        let mut odd =
            KeyRecord::example("key_0002", "Café ＡＰＩ", Environment::Development, now());
        odd.revoked_at = Some(now());
        odd.expires_at = Some(now());
        odd.is_default = true;
        vec![used, odd]
    }

    #[test]
    fn every_field_comes_back_as_it_went_in() {
        let rows: KeyRows = keys().into_iter().collect();
        assert_eq!(rows.iter().collect::<Vec<_>>(), keys());
        assert_eq!(rows.id(1), "key_0002");
        assert_eq!(rows.position("key_0002"), Some(1));
    }

    #[test]
    fn insert_and_remove_keep_the_others_intact() {
        let mut rows: KeyRows = keys().into_iter().collect();
        let extra = KeyRecord::example("key_0003", "Extra", Environment::Production, now());
        rows.insert(1, &extra);
        assert_eq!(rows.record(1), extra);
        assert_eq!(rows.record(2), keys()[1]);
        rows.remove(0);
        assert_eq!(rows.iter().collect::<Vec<_>>(), [extra, keys()[1].clone()]);
    }

    #[test]
    fn a_leak_mark_comes_back_and_costs_no_memory_per_key() {
        // The mark's time lives in what was the padding of a key's rarer fields.
        assert_eq!(std::mem::size_of::<Extra>(), 32);
        let key = |id: &str, until: Option<Option<DateTime<Utc>>>| KeyRecord {
            leak: until.map(|until| LeakMark { until }),
            ..KeyRecord::example(id, id, Environment::Production, now())
        };
        let keys = vec![
            key("key_grace", Some(Some(now() + chrono::TimeDelta::hours(1)))),
            key("key_plain", None),
            key("key_current", Some(None)),
        ];
        let mut rows: KeyRows = keys.iter().cloned().collect();
        assert_eq!(rows.iter().collect::<Vec<_>>(), keys);
        assert!(rows.record(0).is_leaked_at(now()));
        assert!(
            !rows
                .record(0)
                .is_leaked_at(now() + chrono::TimeDelta::hours(2))
        );
        rows.remove(0);
        assert_eq!(rows.iter().collect::<Vec<_>>(), keys[1..]);
        rows.insert(0, &keys[0]);
        assert_eq!(rows.iter().collect::<Vec<_>>(), keys);
    }

    #[test]
    fn the_searched_text_is_the_folded_text_or_compares_like_it() {
        let rows: KeyRows = keys().into_iter().collect();
        for i in 0..rows.len() {
            let key = rows.record(i);
            let (from, to) = rows.searched(i);
            let searched = &rows.text()[from..to];
            let whole = search_text(&key.name, &key.masked_key, &key.id);
            let rest = &whole[whole.find(FIELD).unwrap() + 1..];
            assert_eq!(searched.to_ascii_lowercase(), rest);
        }
    }
}
