//! Which keys a search matches, found in the shared text of [`KeyRows`]: each key's mask of
//! the bytes it holds rules most keys out first (a one-byte search needs nothing more), and
//! only the keys left are swept for the rarest byte of the search (either ASCII case), each
//! hit checked in place. A search that only grew (typing) looks only at the keys the shorter
//! one matched.

use super::byte_classes;
use super::key_rows::KeyRows;

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

/// Below this many words of 64 keys one thread sweeps: a thread's start costs more. The
/// tests' few hundred keys take the split path, so that the equivalence tests check it.
#[cfg(not(test))]
const PARALLEL_WORDS: usize = 1024;
#[cfg(test)]
const PARALLEL_WORDS: usize = 2;

/// Fills `words`, the match words from `first_word` on, for the search `needle` swept for
/// its byte at `pivot`; `mask` is the search's byte mask and whether that mask alone answers.
fn sweep_words(
    rows: &KeyRows,
    needle: &[u8],
    pivot: usize,
    (want, answered): (u64, bool),
    within: Option<&Matches>,
    first_word: usize,
    words: &mut [u64],
) {
    let (lower, upper) = (needle[pivot], needle[pivot].to_ascii_uppercase());
    let text = rows.text().as_bytes();
    // Whether key `i`'s searched text holds the search: a sweep of that text alone for the
    // search's rarest byte, each hit compared in place.
    let holds = |i: usize| {
        let (from, to) = rows.searched(i);
        let mut at = from + pivot;
        while at < to {
            let Some(hit) = memchr::memchr2(lower, upper, &text[at..to]) else {
                return false;
            };
            let start = at + hit - pivot;
            if start + needle.len() <= to
                && text[start..start + needle.len()].eq_ignore_ascii_case(needle)
            {
                return true;
            }
            at += hit + 1;
        }
        false
    };
    // The masks rule out most keys at one AND each; for one byte with a bit of its own they
    // are the answer.
    let masks = rows.byte_masks();
    for (n, slot) in words.iter_mut().enumerate() {
        let w = first_word + n;
        // Typing on narrows: most words of the shorter search's matches are empty by then,
        // and their keys' masks need not be read at all.
        let allowed = within.map_or(u64::MAX, |within| within.bits.get(w).copied().unwrap_or(0));
        if allowed == 0 {
            *slot = 0;
            continue;
        }
        let chunk = &masks[w * 64..(w * 64 + 64).min(masks.len())];
        let mut word = chunk.iter().enumerate().fold(0u64, |word, (bit, &mask)| {
            word | u64::from(mask & want == want) << bit
        }) & allowed;
        if !answered {
            let mut candidates = word;
            while candidates != 0 {
                let bit = candidates.trailing_zeros() as usize;
                candidates &= candidates - 1;
                if !holds(w * 64 + bit) {
                    word &= !(1 << bit);
                }
            }
        }
        *slot = word;
    }
}

/// The keys whose searched text (see [`KeyRows::searched`]) holds `needle`, a search folded
/// by [`crate::store::normalize_search`] and not empty; only among `within` when given (the
/// matches of a text `needle` contains).
pub fn matching(rows: &KeyRows, needle: &str, within: Option<&Matches>) -> Matches {
    let needle = needle.as_bytes();
    let mut found = Matches::none(rows.len());
    let Some(pivot) = (0..needle.len()).min_by_key(|&i| commonness(needle[i])) else {
        return found;
    };
    let want = byte_classes::of(needle);
    let answered = needle.len() == 1 && byte_classes::is_exact(needle[0]);
    let sweep = |first_word: usize, words: &mut [u64]| {
        sweep_words(
            rows,
            needle,
            pivot,
            (want, answered),
            within,
            first_word,
            words,
        );
    };
    // Checking text in place is the slow part (a million keys' text when a byte is common):
    // split across the machine's cores, each half of the rows written by one thread.
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    if answered || threads < 2 || found.bits.len() < PARALLEL_WORDS {
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
