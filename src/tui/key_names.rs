//! The keys' names, each held once: keys made by automation share a few thousand names among
//! a million keys (22 MB of text held once rather than per key), and a search compares each
//! name once and each key's name by its number. A name no key holds any more stays until
//! the next full read of the list.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};

use super::byte_classes;
use crate::store::fold_for_search;

/// Starts the folded text of a name whose own text is not it, as in [`super::key_rows`].
const FOLDED: char = '\u{1e}';

/// Past this many names a read stops looking for earlier ones: a workspace whose names are
/// all different would otherwise hold a lookup as large as the names themselves.
const MAX_LOOKUP: usize = 1 << 16;

#[derive(Debug, Clone, Default)]
pub struct Names {
    /// Each name's own text, followed by [`FOLDED`] and its folded text when comparing the
    /// own text without regard to ASCII case is not comparing the folded text.
    text: String,
    /// Where each name starts in `text`; it ends where the next one starts.
    starts: Vec<u32>,
    /// The byte length of each name's own text.
    lens: Vec<u16>,
    /// Which bytes each name's searched text holds ([`byte_classes`]).
    masks: Vec<u64>,
    /// The number of a name, by its hash; only while the list is read, and only the first
    /// [`MAX_LOOKUP`] names.
    lookup: HashMap<u64, u32>,
    hasher: RandomState,
}

impl Names {
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// The number of `name` (at most `u16::MAX` bytes), added if it is new.
    pub fn intern(&mut self, name: &str) -> u32 {
        let hash = self.hasher.hash_one(name);
        if let Some(&j) = self.lookup.get(&hash)
            && self.name(j as usize) == name
        {
            return j;
        }
        let j = self.len() as u32;
        self.starts.push(self.text.len() as u32);
        self.lens.push(name.len() as u16);
        self.text.push_str(name);
        let folded = (!name.is_ascii()).then(|| fold_for_search(name));
        let searched = match &folded {
            Some(folded) => folded.as_bytes(),
            None => name.as_bytes(),
        };
        self.masks.push(byte_classes::of(searched));
        if let Some(folded) = folded {
            self.text.push(FOLDED);
            self.text.push_str(&folded);
        }
        if self.lookup.len() < MAX_LOOKUP {
            self.lookup.entry(hash).or_insert(j);
        }
        j
    }

    fn end(&self, j: usize) -> usize {
        self.starts
            .get(j + 1)
            .map_or(self.text.len(), |&s| s as usize)
    }

    pub fn name(&self, j: usize) -> &str {
        let start = self.starts[j] as usize;
        &self.text[start..start + self.lens[j] as usize]
    }

    /// Name `j` folded as search folds it, as bytes: compared byte by byte without regard to
    /// ASCII case when `.1` is true (its own text), as they are otherwise.
    pub fn searched(&self, j: usize) -> (&[u8], bool) {
        let own_end = self.starts[j] as usize + self.lens[j] as usize;
        let end = self.end(j);
        match own_end < end {
            true => (
                &self.text.as_bytes()[own_end + FOLDED.len_utf8()..end],
                false,
            ),
            false => (
                &self.text.as_bytes()[self.starts[j] as usize..own_end],
                true,
            ),
        }
    }

    /// Which bytes each name's searched text holds.
    pub fn masks(&self) -> &[u64] {
        &self.masks
    }

    pub fn reserve(&mut self, n: usize) {
        self.starts.reserve(n.min(MAX_LOOKUP));
    }

    /// The read is over: names are no longer looked for (a name added later is held again),
    /// and memory reserved but not used is given back.
    pub fn shrink_to_fit(&mut self) {
        self.lookup = HashMap::new();
        self.text.shrink_to_fit();
        self.starts.shrink_to_fit();
        self.lens.shrink_to_fit();
        self.masks.shrink_to_fit();
    }
}

impl PartialEq for Names {
    /// The same names in the same order, however they were looked up.
    fn eq(&self, other: &Names) -> bool {
        (&self.text, &self.starts, &self.lens) == (&other.text, &other.starts, &other.lens)
    }
}

impl Eq for Names {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_name_is_held_once_and_comes_back_as_it_went_in() {
        let mut names = Names::default();
        let given = [
            "Billing API",
            "Café ＡＰＩ",
            "Billing API",
            "",
            "ÄLPHA",
            "Café ＡＰＩ",
        ];
        let numbers: Vec<u32> = given.iter().map(|n| names.intern(n)).collect();
        assert_eq!(numbers, [0, 1, 0, 2, 3, 1]);
        for (name, j) in given.iter().zip(&numbers) {
            assert_eq!(names.name(*j as usize), *name);
            let (searched, own) = names.searched(*j as usize);
            let folded = String::from_utf8(searched.to_ascii_lowercase()).unwrap();
            assert_eq!(folded, fold_for_search(name), "{name}");
            assert_eq!(own, name.is_ascii(), "{name}");
        }
        names.shrink_to_fit();
        assert_eq!(
            names.intern("Billing API"),
            4,
            "held again once the read is over"
        );
        assert_eq!(names.name(4), "Billing API");
    }
}
