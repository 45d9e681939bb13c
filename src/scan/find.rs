//! Finding keys in a stream of bytes: `fhk_` located with `memchr::memmem` (SIMD), then each
//! hit checked for a key's exact shape and checksum. Bytes are read in fixed chunks, so a file
//! or blob of any size is scanned in constant memory; the end of each chunk is carried over
//! into the next, so a key split across a chunk boundary is still found. An input with a NUL
//! byte in its first [`BINARY_SNIFF_LEN`] bytes is binary, and unless asked otherwise is
//! dropped after that first chunk: the test costs one `memchr` over bytes already read.

use std::fmt;
use std::io::{self, Read};

use memchr::memmem;
use zeroize::Zeroizing;

use crate::key::{self, CHECKSUM_LEN, KEY_PREFIX, KeyHash, MAX_KEY_LEN, SECRET_LEN};

/// How much is read at a time. Large enough that a typical source file is one read.
pub const CHUNK_LEN: usize = 256 * 1024;

/// How far into an input a NUL byte makes it binary: 8 KiB (git looks at 8,000 bytes).
pub const BINARY_SNIFF_LEN: usize = 8 * 1024;

/// What to do with a binary input (a NUL in its first [`BINARY_SNIFF_LEN`] bytes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Binary {
    /// Stop at the first chunk and say so: the caller counts it as skipped.
    #[default]
    Skip,
    /// Scan it as any other input (`scan --binary`).
    Scan,
}

/// What [`Finder::find_in_reader`] made of one input.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Read to its end: the keys in it and the number of bytes read.
    Scanned { hits: Vec<Hit>, bytes: u64 },
    /// Binary, and binary inputs are skipped: read no further than its first chunk.
    Binary,
}

/// Bytes a hit may need beyond its `fhk_`: the longest key plus the byte after it, which
/// must not be a key character.
const LOOKAHEAD: usize = MAX_KEY_LEN + 1;

/// One well-formed key found in the bytes. Holds only the digest and the masked form: the
/// key's text is dropped as soon as it is checked, so neither `Debug` nor a log can show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Hit {
    pub hash: KeyHash,
    pub masked: String,
    /// 1-based line number.
    pub line: u64,
    /// 1-based column, in bytes from the start of the line (as ripgrep's `--column`): the
    /// bytes may be any encoding, or none.
    pub column: u64,
}

impl fmt::Debug for Hit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hit({} at {}:{})", self.masked, self.line, self.column)
    }
}

/// A reusable scanner: one per thread, its buffer kept between files.
pub struct Finder {
    prefix: memmem::Finder<'static>,
    binary: Binary,
    // Wiped when dropped: it held the bytes of files that contain keys.
    buffer: Zeroizing<Vec<u8>>,
}

impl Default for Finder {
    fn default() -> Self {
        Finder::new()
    }
}

impl Finder {
    /// A finder that skips binary inputs, as the scan does by default.
    pub fn new() -> Finder {
        Finder::with_binary(Binary::Skip)
    }

    pub fn with_binary(binary: Binary) -> Finder {
        Finder {
            prefix: memmem::Finder::new(KEY_PREFIX.as_bytes()),
            binary,
            buffer: Zeroizing::new(Vec::new()),
        }
    }

    /// Every key in `bytes` held whole in memory, binary or not.
    pub fn find_in(&self, bytes: &[u8]) -> Vec<Hit> {
        let mut hits = Vec::new();
        let mut lines = LineCounter::default();
        scan_window(&self.prefix, bytes, 0, bytes.len(), &mut lines, &mut hits);
        hits
    }

    /// Every key in what `reader` yields, read to its end in chunks; or, when binary inputs
    /// are skipped and this one is binary, [`Outcome::Binary`] after its first chunk (the
    /// caller drains the rest if it must: a pipe shared by many inputs).
    pub fn find_in_reader(&mut self, reader: &mut dyn Read) -> io::Result<Outcome> {
        let mut hits = Vec::new();
        let mut lines = LineCounter::default();
        let mut total = 0u64;
        // Sized (and zeroed) once per finder, not per file: zeroing 256 KiB for each small
        // file cost more than reading it.
        let buffer = &mut *self.buffer;
        buffer.resize(CHUNK_LEN + LOOKAHEAD + 1, 0);
        // `kept` bytes at the front of `buffer` are the previous chunk's tail; searching
        // starts at `from` (past the one byte kept only to check a key's left side).
        let (mut kept, mut from) = (0usize, 0usize);
        loop {
            let read = read_full(reader, &mut buffer[kept..kept + CHUNK_LEN])?;
            // Only the first chunk decides, from what was read anyway: nothing is read twice.
            if total == 0 && self.binary == Binary::Skip && is_binary(&buffer[..read]) {
                return Ok(Outcome::Binary);
            }
            total += read as u64;
            let len = kept + read;
            let at_end = read < CHUNK_LEN;
            // Hits starting before `limit` have all the bytes they need.
            let limit = match at_end {
                true => len,
                false => len - LOOKAHEAD,
            };
            let window = &buffer[..len];
            scan_window(&self.prefix, window, from, limit, &mut lines, &mut hits);
            if at_end {
                return Ok(Outcome::Scanned { hits, bytes: total });
            }
            // Keep from one byte before `limit`: hits at or after `limit` come round again,
            // with the byte before them.
            let keep_from = limit - 1;
            lines.advance(window, keep_from);
            lines.rebase(keep_from);
            buffer.copy_within(keep_from..len, 0);
            (kept, from) = (len - keep_from, 1);
        }
    }
}

/// Whether an input starting with `first` is binary: a NUL byte in its first
/// [`BINARY_SNIFF_LEN`] bytes (git's heuristic). A NUL further on does not count, so
/// a text file with a stray NUL late in it is still scanned.
pub fn is_binary(first: &[u8]) -> bool {
    memchr::memchr(0, &first[..first.len().min(BINARY_SNIFF_LEN)]).is_some()
}

/// Checks every `fhk_` in `bytes[from..]` that starts before `limit`. `bytes` ends at the
/// end of the input, or at least `LOOKAHEAD` bytes after `limit`.
fn scan_window(
    prefix: &memmem::Finder<'_>,
    bytes: &[u8],
    from: usize,
    limit: usize,
    lines: &mut LineCounter,
    hits: &mut Vec<Hit>,
) {
    for offset in prefix.find_iter(&bytes[from..]) {
        let start = from + offset;
        if start >= limit {
            break;
        }
        if start > 0 && is_key_char(bytes[start - 1]) {
            continue;
        }
        let Some(len) = candidate_len(&bytes[start..]) else {
            continue;
        };
        // A candidate is ASCII by construction.
        let Ok(text) = std::str::from_utf8(&bytes[start..start + len]) else {
            continue;
        };
        if key::check_format(text).is_err() {
            continue;
        }
        lines.advance(bytes, start);
        hits.push(Hit {
            hash: KeyHash::of(text),
            masked: key::mask(text),
            line: lines.line,
            column: lines.column_of(start),
        });
    }
}

/// The length of the key-shaped run at the start of `bytes` (`fhk_`, an environment code,
/// `_`, 38 key characters, then a non-key character or the end), if there is one.
fn candidate_len(bytes: &[u8]) -> Option<usize> {
    let rest = &bytes[KEY_PREFIX.len()..];
    let code_len = [b"prod".as_slice(), b"stg", b"dev"]
        .into_iter()
        .find(|code| rest.starts_with(code) && rest.get(code.len()) == Some(&b'_'))?
        .len();
    let len = KEY_PREFIX.len() + code_len + 1 + SECRET_LEN + CHECKSUM_LEN;
    let body = bytes.get(KEY_PREFIX.len() + code_len + 1..len)?;
    if !body.iter().all(|&b| is_key_char(b)) {
        return None;
    }
    match bytes.get(len) {
        Some(&next) if is_key_char(next) => None,
        _ => Some(len),
    }
}

/// A base62 character: one that could continue a key.
fn is_key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// Fills `buf` unless the reader ends first; the number of bytes read.
fn read_full(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(filled)
}

/// Line numbers counted lazily: newlines are counted only up to a hit, or up to the bytes
/// about to be dropped, so a file without hits costs one counting pass at most.
#[derive(Default)]
struct LineCounter {
    /// Newlines before `counted` in the current buffer, plus one.
    line: u64,
    /// Position in the buffer up to which newlines are counted.
    counted: usize,
    /// Where the current line starts, as a position in the buffer (may be negative once the
    /// start was dropped with an earlier chunk).
    line_start: i64,
}

impl LineCounter {
    fn advance(&mut self, bytes: &[u8], to: usize) {
        if self.line == 0 {
            self.line = 1;
        }
        if to <= self.counted {
            return;
        }
        let region = &bytes[self.counted..to];
        let newlines = count_newlines(region);
        if newlines > 0 {
            self.line += newlines as u64;
            let last = memchr::memrchr(b'\n', region).expect("counted a newline");
            self.line_start = (self.counted + last + 1) as i64;
        }
        self.counted = to;
    }

    fn column_of(&self, position: usize) -> u64 {
        (position as i64 - self.line_start + 1) as u64
    }

    /// The buffer's first `dropped` bytes are about to go.
    fn rebase(&mut self, dropped: usize) {
        self.counted -= dropped;
        self.line_start -= dropped as i64;
    }
}

/// Newlines in `bytes`, in a form the compiler vectorises: it runs over every byte of a long
/// file with a key near its end.
fn count_newlines(bytes: &[u8]) -> usize {
    let mut chunks = bytes.chunks_exact(255);
    let mut total = 0usize;
    for chunk in &mut chunks {
        let n: u8 = chunk.iter().map(|&b| u8::from(b == b'\n')).sum();
        total += n as usize;
    }
    total + chunks.remainder().iter().filter(|&&b| b == b'\n').count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entropy::OsEntropy;
    use crate::environment::Environment;
    use crate::key::Secret;

    fn key(env: Environment) -> Secret {
        Secret::generate(env, &mut OsEntropy).unwrap()
    }

    /// The hits and byte count of an input that must have been scanned.
    fn scanned(finder: &mut Finder, bytes: &[u8]) -> (Vec<Hit>, u64) {
        match finder.find_in_reader(&mut &bytes[..]).unwrap() {
            Outcome::Scanned { hits, bytes } => (hits, bytes),
            Outcome::Binary => panic!("skipped as binary"),
        }
    }

    #[test]
    fn finds_a_key_with_its_line_and_byte_column() {
        let k = key(Environment::Production);
        let text = format!("a = 1\nπ token=\"{}\"\n", k.expose());
        let hits = Finder::new().find_in(text.as_bytes());
        assert_eq!(hits.len(), 1);
        assert_eq!((hits[0].line, hits[0].column), (2, 11));
        assert_eq!(hits[0].hash, k.hash());
        assert_eq!(hits[0].masked, k.masked());
        assert!(!format!("{hits:?}").contains(k.expose()));
    }

    #[test]
    fn refuses_near_misses_and_keys_inside_words() {
        let k = key(Environment::Staging);
        let full = k.expose();
        let mut wrong = full.to_owned().into_bytes();
        let last = wrong.len() - 1;
        wrong[last] = if wrong[last] == b'a' { b'b' } else { b'a' };
        let wrong = String::from_utf8(wrong).unwrap();
        let (head, tail) = full.split_at(20);
        let text = format!(
            "x{full}\n{full}y\n{wrong}\n{head}\n{tail}\nfhk_test_{}\n",
            &full[8..]
        );
        assert!(Finder::new().find_in(text.as_bytes()).is_empty());
    }

    #[test]
    fn a_key_across_every_chunk_boundary_position_is_found_once() {
        let k = key(Environment::Development);
        for shift in [1, 5, 20, MAX_KEY_LEN - 1, MAX_KEY_LEN, MAX_KEY_LEN + 1, 100] {
            let mut bytes = vec![b'x'; CHUNK_LEN - shift];
            bytes.extend_from_slice(b"\n ");
            bytes.extend_from_slice(k.expose().as_bytes());
            bytes.extend_from_slice(b"\n");
            bytes.extend(std::iter::repeat_n(b'\n', CHUNK_LEN + 7));
            bytes.extend_from_slice(k.expose().as_bytes());
            let (hits, total) = scanned(&mut Finder::new(), &bytes);
            assert_eq!(total, bytes.len() as u64);
            assert_eq!(hits.len(), 2, "shift {shift}");
            assert_eq!((hits[0].line, hits[0].column), (2, 2), "shift {shift}");
            assert_eq!(
                (hits[1].line, hits[1].column),
                (3 + CHUNK_LEN as u64 + 7, 1),
                "shift {shift}"
            );
        }
    }

    #[test]
    fn a_reused_finder_sees_nothing_of_the_previous_input() {
        let k = key(Environment::Production);
        let mut finder = Finder::new();
        let mut first = vec![b'\n'; CHUNK_LEN + 100];
        first.extend_from_slice(k.expose().as_bytes());
        assert_eq!(scanned(&mut finder, &first).0.len(), 1);
        let (hits, total) = scanned(&mut finder, b"fhk_");
        assert_eq!((hits.len(), total), (0, 4));
        let (hits, _) = scanned(&mut finder, k.expose().as_bytes());
        assert_eq!((hits[0].line, hits[0].column), (1, 1));
    }

    #[test]
    fn a_nul_in_the_first_8_kib_skips_the_input_unless_binary_is_scanned() {
        let k = key(Environment::Production);
        for nul_at in [0, 100, BINARY_SNIFF_LEN - 1] {
            let mut bytes = vec![b'x'; BINARY_SNIFF_LEN + 10];
            bytes[nul_at] = 0;
            bytes.push(b' ');
            bytes.extend_from_slice(k.expose().as_bytes());
            assert_eq!(
                Finder::new().find_in_reader(&mut &bytes[..]).unwrap(),
                Outcome::Binary,
                "NUL at {nul_at}"
            );
            let (hits, total) = scanned(&mut Finder::with_binary(Binary::Scan), &bytes);
            assert_eq!(
                (hits.len(), total),
                (1, bytes.len() as u64),
                "NUL at {nul_at}"
            );
        }
        // A binary input in a finder that skips it leaves nothing for the next one.
        let mut finder = Finder::new();
        assert_eq!(
            finder.find_in_reader(&mut &b"\0fhk_"[..]).unwrap(),
            Outcome::Binary
        );
        let (hits, _) = scanned(&mut finder, k.expose().as_bytes());
        assert_eq!((hits[0].line, hits[0].column), (1, 1));
    }

    #[test]
    fn a_nul_only_after_8_kib_or_after_the_first_chunk_leaves_the_input_text() {
        let k = key(Environment::Staging);
        for nul_at in [BINARY_SNIFF_LEN, CHUNK_LEN - 1, CHUNK_LEN + 5] {
            let mut bytes = vec![b'\n'; CHUNK_LEN + 10];
            bytes[nul_at] = 0;
            bytes.extend_from_slice(k.expose().as_bytes());
            let (hits, total) = scanned(&mut Finder::new(), &bytes);
            assert_eq!(
                (hits.len(), total),
                (1, bytes.len() as u64),
                "NUL at {nul_at}"
            );
        }
        assert!(!is_binary(b""));
        assert!(is_binary(b"abc\0"));
    }

    #[test]
    fn counts_newlines_in_long_runs() {
        let mut bytes = vec![b'\n'; 1000];
        bytes.extend(vec![b'a'; 1000]);
        assert_eq!(count_newlines(&bytes), 1000);
    }
}
