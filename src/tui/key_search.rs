//! Which keys a search matches. A key matches when its name does or its masked key or id
//! does (no search holds the separator between them). Names are held once each
//! ([`super::key_names`]), so each is compared once and a key's name is looked up by number.
//! A key's masked key and id are read only when its masks of the bytes and of the pairs of
//! bytes they hold ([`byte_classes`], [`byte_pairs`]) do not rule it out (a one-byte search
//! needs nothing more); then they are swept for the rarest byte of the search (either ASCII
//! case), each hit checked in place. A search that only grew (typing) looks only at the keys
//! the shorter one matched.

use super::key_rows::KeyRows;
use super::{byte_classes, byte_pairs};

/// One bit per key: set for the keys a search matches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matches {
    bits: Vec<u64>,
}

impl Matches {
    fn none(len: usize) -> Matches {
        Matches {
            bits: vec![0; len.div_ceil(64)],
        }
    }

    /// The keys of `0..len` for which `passes` holds, asked in row order: a filter read
    /// column by column, not in a sort's order (a million random reads of 8 MB columns).
    #[cfg(test)]
    pub fn of(len: usize, passes: impl Fn(usize) -> bool) -> Matches {
        let mut found = Matches::none(len);
        for (w, word) in found.bits.iter_mut().enumerate() {
            let keys = w * 64..(w * 64 + 64).min(len);
            *word = keys
                .enumerate()
                .fold(0, |word, (bit, i)| word | u64::from(passes(i)) << bit);
        }
        found
    }

    /// The keys whose bits `words` holds, 64 to a word.
    pub(super) fn from_words(bits: Vec<u64>) -> Matches {
        Matches { bits }
    }

    /// Keeps only the keys `other` holds too.
    pub fn intersect(&mut self, other: &Matches) {
        for (word, &theirs) in self.bits.iter_mut().zip(&other.bits) {
            *word &= theirs;
        }
    }

    /// How many keys matched.
    pub fn count(&self) -> usize {
        self.bits.iter().map(|w| w.count_ones() as usize).sum()
    }

    #[inline]
    pub fn contains(&self, i: usize) -> bool {
        self.bits
            .get(i / 64)
            .is_some_and(|word| word & (1 << (i % 64)) != 0)
    }

    /// The keys matched, in order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.bits.iter().enumerate().flat_map(|(w, &word)| {
            let mut word = word;
            std::iter::from_fn(move || {
                (word != 0).then(|| {
                    let bit = word.trailing_zeros() as usize;
                    word &= word - 1;
                    w * 64 + bit
                })
            })
        })
    }
}

/// How common a byte is in key names, masked keys and ids, roughly: the search sweeps for
/// its least common byte, so that fewer places need checking.
fn commonness(byte: u8) -> u8 {
    match byte.to_ascii_lowercase() {
        b'e' | b'a' | b'i' | b'o' | b'n' | b'r' | b't' | b's' | b'_' | b' ' => 9,
        b'l' | b'c' | b'd' | b'u' | b'k' | b'h' | b'p' | b'm' | b'g' | b'-' => 6,
        b'0'..=b'9' => 5,
        b'a'..=b'z' => 3,
        _ => 1,
    }
}

/// Below this many keys to look at one thread sweeps: a sweep of fewer takes a millisecond
/// or two, and on a busy machine a second thread can wait longer than that for a core. The
/// tests' few hundred keys take the split path, so that the equivalence tests check it.
#[cfg(not(test))]
const PARALLEL_KEYS: usize = 1 << 18;
#[cfg(test)]
const PARALLEL_KEYS: usize = 2;

/// Whether `hay` holds `needle` (compared without regard to ASCII case): a sweep for the
/// needle's byte at `pivot` (either case), each hit compared in place.
fn holds(hay: &[u8], needle: &[u8], pivot: usize) -> bool {
    let (lower, upper) = (needle[pivot], needle[pivot].to_ascii_uppercase());
    let mut at = pivot;
    while at < hay.len() {
        let Some(hit) = memchr::memchr2(lower, upper, &hay[at..]) else {
            return false;
        };
        let start = at + hit - pivot;
        if hay
            .get(start..start + needle.len())
            .is_some_and(|piece| piece.eq_ignore_ascii_case(needle))
        {
            return true;
        }
        at += hit + 1;
    }
    false
}

/// What a search asks of each key before its text is read.
struct Search<'a> {
    needle: &'a [u8],
    pivot: usize,
    /// The byte and pair masks a key's text must hold.
    bytes: u64,
    pairs: u64,
    /// The byte mask alone answers (one byte with a bit of its own).
    answered: bool,
    /// Which names hold the search, by number.
    named: Vec<bool>,
}

/// Fills `words`, the match words from `first_word` on: a key matches when its name does
/// (each name looked at once) or its masked key or id does, which its masks rule out for most
/// keys before its text is read.
fn sweep_words(
    rows: &KeyRows,
    search: &Search,
    within: Option<&Matches>,
    first_word: usize,
    words: &mut [u64],
) {
    let text = rows.text().as_bytes();
    let (_, name_ids) = rows.names();
    let (bytes, pairs) = (rows.byte_masks(), rows.pair_masks());
    for (n, slot) in words.iter_mut().enumerate() {
        let w = first_word + n;
        // Typing on narrows: most words of the shorter search's matches are empty by then,
        // and their keys need not be read at all.
        let allowed = within.map_or(u64::MAX, |within| within.bits.get(w).copied().unwrap_or(0));
        if allowed == 0 {
            *slot = 0;
            continue;
        }
        let keys = w * 64..(w * 64 + 64).min(rows.len());
        let (mut named, mut candidates) = (0u64, 0u64);
        // Without a branch per key: a million keys go through here.
        let columns = name_ids[keys.clone()]
            .iter()
            .zip(&bytes[keys.clone()])
            .zip(&pairs[keys]);
        for (bit, ((&name, &byte_mask), &pair_mask)) in columns.enumerate() {
            named |= u64::from(search.named[name as usize]) << bit;
            let masks = (byte_mask & search.bytes == search.bytes)
                & (pair_mask & search.pairs == search.pairs);
            candidates |= u64::from(masks) << bit;
        }
        named &= allowed;
        candidates &= allowed & !named;
        if !search.answered {
            let mut left = candidates;
            while left != 0 {
                let bit = left.trailing_zeros() as usize;
                left &= left - 1;
                let (from, to) = rows.searched(w * 64 + bit);
                if !holds(&text[from..to], search.needle, search.pivot) {
                    candidates &= !(1 << bit);
                }
            }
        }
        *slot = named | candidates;
    }
}

/// The keys whose name, masked key or id (folded, see [`KeyRows::searched`]) holds
/// `needle`, a search folded by [`crate::store::normalize_search`] and not empty; only among
/// `within` when given (the matches of a text `needle` contains).
pub fn matching(rows: &KeyRows, needle: &str, within: Option<&Matches>) -> Matches {
    let needle = needle.as_bytes();
    let mut found = Matches::none(rows.len());
    let Some(pivot) = (0..needle.len()).min_by_key(|&i| commonness(needle[i])) else {
        return found;
    };
    let bytes = byte_classes::of(needle);
    let answered = needle.len() == 1 && byte_classes::is_exact(needle[0]);
    let (names, _) = rows.names();
    let named = (0..names.len())
        .map(|j| {
            let (name, _) = names.searched(j);
            names.masks()[j] & bytes == bytes && (answered || holds(name, needle, pivot))
        })
        .collect();
    let search = Search {
        needle,
        pivot,
        bytes,
        pairs: byte_pairs::of(needle),
        answered,
        named,
    };
    let sweep = |first_word: usize, words: &mut [u64]| {
        sweep_words(rows, &search, within, first_word, words);
    };
    // A million keys' columns, and the text of those their masks do not rule out: split
    // across the machine's cores, each half of the rows written by one thread.
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let keys = within.map_or(rows.len(), Matches::count);
    if threads < 2 || keys < PARALLEL_KEYS {
        sweep(0, &mut found.bits);
    } else {
        let mid = found.bits.len() / 2;
        let (head, tail) = found.bits.split_at_mut(mid);
        std::thread::scope(|scope| {
            scope.spawn(|| sweep(mid, tail));
            sweep(0, head);
        });
    }
    found
}

/// Searches whose matches are kept: deleting back to one of them, or typing on from one,
/// costs nothing or a look at its matches rather than a sweep of every key.
const KEPT_SEARCHES: usize = 16;

/// The most recent searches (folded) and the rows each matches, newest last.
#[derive(Debug, Clone, Default)]
pub struct KeptSearches(Vec<(String, Matches)>);

impl KeptSearches {
    /// The rows change: no kept search holds for them.
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// The rows search text `needle` (folded, not empty) matches: kept from before, or
    /// narrowed from the matches of a search it contains, or found in one sweep.
    pub fn matching(&mut self, rows: &KeyRows, needle: &str) -> &Matches {
        let searches = &mut self.0;
        if let Some(at) = searches.iter().position(|(n, _)| n == needle) {
            let kept = searches.remove(at);
            searches.push(kept);
        } else {
            let narrower = searches
                .iter()
                .filter(|(n, _)| needle.contains(n.as_str()))
                .max_by_key(|(n, _)| n.len())
                .map(|(_, m)| m);
            let found = matching(rows, needle, narrower);
            if searches.len() == KEPT_SEARCHES {
                searches.remove(0);
            }
            searches.push((needle.to_owned(), found));
        }
        &searches.last().expect("just pushed").1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::environment::Environment;
    use crate::store::{KeyRecord, normalize_search, search_text};
    use chrono::{TimeZone, Utc};

    fn rows() -> (Vec<KeyRecord>, KeyRows) {
        let at = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
        let names = [
            "Billing API",
            "billing worker",
            "Café ＡＰＩ",
            "ÄLPHA",
            "search",
            "x",
            "WORKER b",
            "東京 support",
            "Équipe a/b (eu-west) v2",
            "🚀 Launch tools",
        ];
        // Keys past the first 64: the masks are read 64 keys at a time.
        let fillers: Vec<String> = (0..200).map(|i| format!("filler {i}")).collect();
        let keys: Vec<KeyRecord> = names
            .iter()
            .copied()
            .chain(fillers.iter().map(String::as_str))
            .enumerate()
            .map(|(i, name)| KeyRecord {
                masked_key: format!("fhk_prod_Ab{}d…WxYz", i % 10),
                ..KeyRecord::example(&format!("key_{i:04}"), name, Environment::Production, at)
            })
            .collect();
        let rows = keys.iter().cloned().collect();
        (keys, rows)
    }

    /// What a search per key over the folded text finds.
    fn expected(keys: &[KeyRecord], needle: &str) -> Vec<usize> {
        (0..keys.len())
            .filter(|&i| {
                let k = &keys[i];
                search_text(&k.name, &k.masked_key, &k.id).contains(needle)
            })
            .collect()
    }

    #[test]
    fn finds_what_a_search_of_each_folded_text_finds() {
        let (keys, rows) = rows();
        for typed in [
            "b",
            "BILL",
            "billing w",
            "api",
            "ＡＰＩ",
            "café",
            "älpha",
            "d...w",
            "…",
            "0d",
            "key_0003",
            "rker",
            "z\u{1f}k",
            "xkey",
            "b0",
            "y_0006",
            "nothing",
            "Q",
            "7",
            "/",
            "(",
            "é",
            "東",
            "🚀",
            "é",
            "/b",
            "p (",
            "京 s",
        ] {
            let needle = normalize_search(typed);
            let all = matching(&rows, &needle, None);
            assert_eq!(
                all.iter().collect::<Vec<_>>(),
                expected(&keys, &needle),
                "{typed}"
            );
            // Narrowing the matches of a shorter search finds the same.
            let shorter = &needle[..needle.char_indices().last().map_or(0, |(i, _)| i)];
            if !shorter.is_empty() {
                let wider = matching(&rows, shorter, None);
                let narrowed = matching(&rows, &needle, Some(&wider));
                assert_eq!(narrowed, all, "{typed} narrowed");
            }
        }
    }

    /// Every needle of one, two, three and four characters a key's folded text holds, in
    /// both ASCII cases, and each with a byte no key holds added: the masks rule out only what
    /// a plain search of each text would, alone and narrowing.
    #[test]
    fn every_short_piece_of_a_key_finds_what_a_plain_search_finds() {
        let (keys, rows) = rows();
        let mut needles = std::collections::BTreeSet::new();
        for k in &keys[..12] {
            let folded = search_text(&k.name, &k.masked_key, &k.id);
            let chars: Vec<char> = folded.chars().collect();
            for len in 1..=4 {
                for piece in chars.windows(len) {
                    let piece: String = piece.iter().collect();
                    for typed in [
                        piece.to_uppercase(),
                        format!("{piece}q"),
                        format!("{piece}/"),
                        piece,
                    ] {
                        // What the dashboard passes: folded, and never empty.
                        let needle = normalize_search(&typed);
                        if !needle.is_empty() {
                            needles.insert(needle);
                        }
                    }
                }
            }
        }
        for needle in &needles {
            let all = matching(&rows, needle, None);
            assert_eq!(
                all.iter().collect::<Vec<_>>(),
                expected(&keys, needle),
                "{needle:?}"
            );
            if let Some((last, _)) = needle.char_indices().last().filter(|(i, _)| *i > 0) {
                let wider = matching(&rows, &needle[..last], None);
                assert_eq!(
                    matching(&rows, needle, Some(&wider)),
                    all,
                    "{needle:?} narrowed"
                );
            }
        }
    }

    /// Keys and searches made of a few letters (either case), digits, the masked key's and
    /// id's fixed parts and some non-ASCII text, so that searches often match and names
    /// repeat: the index finds exactly what a plain search of each folded text finds, alone
    /// and narrowing a shorter search's matches.
    mod against_a_plain_search {
        use super::*;
        use proptest::prelude::*;

        const PIECES: [&str; 12] = [
            "b", "I", "l", "7", "x", "_", " ", "fhk_", "key_", "É", "ＡＰ", "…",
        ];

        fn text(max: usize) -> impl Strategy<Value = String> {
            proptest::collection::vec(0..PIECES.len(), 0..max)
                .prop_map(|pieces| pieces.into_iter().map(|p| PIECES[p]).collect())
        }

        fn key() -> impl Strategy<Value = (String, String, String)> {
            // Names from a handful, so that keys share them.
            let name = prop_oneof![text(6), Just("Billing".to_owned()), Just("bill É".into())];
            (name, text(8), text(5))
        }

        proptest! {
            #[test]
            fn the_index_finds_what_a_plain_search_finds(
                keys in proptest::collection::vec(key(), 1..150),
                typed in text(4),
            ) {
                let at = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
                let keys: Vec<KeyRecord> = keys
                    .into_iter()
                    .enumerate()
                    .map(|(i, (name, masked, id))| KeyRecord {
                        masked_key: format!("fhk_prod_{masked}"),
                        ..KeyRecord::example(&format!("key_{id}{i}"), &name, Environment::Production, at)
                    })
                    .collect();
                let rows: KeyRows = keys.iter().cloned().collect();
                let needle = normalize_search(&typed);
                prop_assume!(!needle.is_empty());
                let all = matching(&rows, &needle, None);
                prop_assert_eq!(all.iter().collect::<Vec<_>>(), expected(&keys, &needle));
                for (cut, _) in needle.char_indices().skip(1) {
                    let wider = matching(&rows, &needle[..cut], None);
                    prop_assert_eq!(&matching(&rows, &needle, Some(&wider)), &all);
                }
            }
        }
    }

    /// Rows put in and taken out keep each key's mask with its key.
    #[test]
    fn masks_follow_rows_put_in_and_taken_out() {
        let (mut keys, mut rows) = rows();
        let at = keys[0].created_at;
        let added = KeyRecord::example("key_new", "Zebra ÜBER", Environment::Staging, at);
        rows.insert(3, &added);
        keys.insert(3, added);
        rows.remove(0);
        keys.remove(0);
        for needle in ["z", "zebra", "über", "b", "q", "bill", "ü"] {
            assert_eq!(
                matching(&rows, needle, None).iter().collect::<Vec<_>>(),
                expected(&keys, needle),
                "{needle}"
            );
        }
    }
}
