//! Which keys a search matches, found in the shared text of [`KeyRows`] at the speed of a
//! memory scan: one sweep of the whole arena for the rarest byte of the search (either ASCII
//! case), each hit checked in place, rather than a search per key. A search that only grew
//! (typing) looks only at the keys the shorter one matched.

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

    /// How many keys matched.
    pub fn count(&self) -> usize {
        self.bits.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn contains(&self, i: usize) -> bool {
        self.bits
            .get(i / 64)
            .is_some_and(|word| word & (1 << (i % 64)) != 0)
    }

    fn set(&mut self, i: usize) {
        self.bits[i / 64] |= 1 << (i % 64);
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

/// The keys whose searched text (see [`KeyRows::searched`]) holds `needle`, a search folded
/// by [`crate::store::normalize_search`] and not empty; only among `within` when given (the
/// matches of a text `needle` contains).
pub fn matching(rows: &KeyRows, needle: &str, within: Option<&Matches>) -> Matches {
    let needle = needle.as_bytes();
    let mut found = Matches::none(rows.len());
    let Some(pivot) = (0..needle.len()).min_by_key(|&i| commonness(needle[i])) else {
        return found;
    };
    let (lower, upper) = (needle[pivot], needle[pivot].to_ascii_uppercase());
    let text = rows.text().as_bytes();
    // Whether the search starts at `at` inside key `i`'s searched text.
    let starts_at = |i: usize, at: usize| {
        let (from, to) = rows.searched(i);
        at >= from
            && at + needle.len() <= to
            && text[at..at + needle.len()].eq_ignore_ascii_case(needle)
    };
    // Narrowing looks at each earlier match on its own: worth it while they are few. Past
    // that one sweep of the arena, passing over the keys that did not match, costs less.
    let few = within.filter(|w| w.count() * 16 < rows.len());
    match few {
        Some(within) => {
            for i in within.iter() {
                let (from, to) = rows.searched(i);
                let mut at = from + pivot;
                while at < to {
                    let Some(hit) = memchr::memchr2(lower, upper, &text[at..to]) else {
                        break;
                    };
                    if starts_at(i, at + hit - pivot) {
                        found.set(i);
                        break;
                    }
                    at += hit + 1;
                }
            }
        }
        None => {
            let mut key = 0;
            // Where the sweep goes on from: past the keys decided already.
            let mut from = pivot;
            'sweep: while from < text.len() {
                for hit in memchr::memchr2_iter(lower, upper, &text[from..]) {
                    let hit = from + hit;
                    while key + 1 < rows.len() && rows.start(key + 1) <= hit {
                        key += 1;
                    }
                    let decided = within.is_some_and(|w| !w.contains(key)) || {
                        let matched = starts_at(key, hit - pivot);
                        if matched {
                            found.set(key);
                        }
                        matched
                    };
                    if decided {
                        // The rest of this key cannot add anything: start again at the next.
                        from = rows.span(key).1 + pivot;
                        continue 'sweep;
                    }
                }
                break;
            }
        }
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
        ];
        // Many keys no search below but "y_0" finds: narrowing from a few matches looks at
        // each on its own, from many sweeps; both are tried.
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
}
