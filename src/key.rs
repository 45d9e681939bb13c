//! The key format: generate, parse, checksum, mask and hash. Pure: no I/O except the
//! entropy source handed in.
//!
//! ```text
//! fhk_<env>_<secret><checksum>
//! ```
//! `<secret>` is 32 base62 characters, `<checksum>` the CRC32 (IEEE) of everything before it
//! written as 6 base62 digits, most significant first.

use std::fmt;

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::entropy::Entropy;
use crate::environment::Environment;
use crate::error::Error;

/// Every key starts with this.
pub const KEY_PREFIX: &str = "fhk_";
/// Number of base62 characters of secret material.
pub const SECRET_LEN: usize = 32;
/// Number of base62 digits of the trailing checksum.
pub const CHECKSUM_LEN: usize = 6;
/// The longest well-formed key (`fhk_prod_` + secret + checksum).
pub const MAX_KEY_LEN: usize = KEY_PREFIX.len() + 4 + 1 + SECRET_LEN + CHECKSUM_LEN;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A full API key. It exists only between creation and the moment the new-key dialog or the
/// `create`/`rotate` output is done with it: the bytes are wiped on drop and `Debug` never
/// shows them.
pub struct Secret {
    text: Zeroizing<String>,
    environment: Environment,
}

impl Secret {
    /// A new key for `environment`, its secret drawn from `entropy`.
    pub fn generate(environment: Environment, entropy: &mut dyn Entropy) -> Result<Secret, Error> {
        let mut text = Zeroizing::new(String::with_capacity(MAX_KEY_LEN));
        text.push_str(KEY_PREFIX);
        text.push_str(environment.code());
        text.push('_');
        let mut secret = Zeroizing::new([0u8; SECRET_LEN]);
        fill_base62(&mut *secret, entropy)?;
        // Base62 bytes are ASCII, so this push cannot split a character.
        secret.iter().for_each(|&b| text.push(b as char));
        let checksum = checksum_digits(text.as_bytes());
        checksum.iter().for_each(|&b| text.push(b as char));
        Ok(Secret { text, environment })
    }

    /// Parses and checks a full key typed or pasted by a user.
    pub fn parse(input: &str) -> Result<Secret, MalformedKey> {
        let environment = check_format(input)?;
        Ok(Secret {
            text: Zeroizing::new(input.to_owned()),
            environment,
        })
    }

    /// The full key. Call only to show it once or to hand it to the clipboard.
    pub fn expose(&self) -> &str {
        &self.text
    }

    pub fn environment(&self) -> Environment {
        self.environment
    }

    /// Prefix, first four secret characters, `…`, last four characters.
    pub fn masked(&self) -> String {
        mask(&self.text)
    }

    /// The SHA-256 digest that the store keeps instead of the key.
    pub fn hash(&self) -> KeyHash {
        KeyHash::of(&self.text)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// SHA-256 of a full key: the only form in which a key reaches the store.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyHash(pub [u8; 32]);

impl KeyHash {
    pub fn of(full_key: &str) -> KeyHash {
        KeyHash(Sha256::digest(full_key.as_bytes()).into())
    }
}

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only the first bytes: enough to tell hashes apart in a test failure.
        write!(
            f,
            "KeyHash({:02x}{:02x}{:02x}{:02x}…)",
            self.0[0], self.0[1], self.0[2], self.0[3]
        )
    }
}

/// Why a string is not a well-formed key. The messages never quote the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MalformedKey {
    #[error("the key must start with \"fhk_\"")]
    Prefix,
    #[error("the key's environment code must be prod, stg or dev")]
    Environment,
    #[error(
        "the key must have {SECRET_LEN} secret characters and a {CHECKSUM_LEN}-character checksum after the environment"
    )]
    Length,
    #[error("the key may contain only the characters 0-9, A-Z and a-z after its prefix")]
    Character,
    #[error("the key's checksum does not match: it was mistyped or truncated")]
    Checksum,
}

/// Checks a key's shape and checksum without allocating; returns its environment.
pub fn check_format(input: &str) -> Result<Environment, MalformedKey> {
    let rest = input.strip_prefix(KEY_PREFIX).ok_or(MalformedKey::Prefix)?;
    let (code, body) = rest.split_once('_').ok_or(MalformedKey::Environment)?;
    let environment = Environment::from_code(code).ok_or(MalformedKey::Environment)?;
    if body.len() != SECRET_LEN + CHECKSUM_LEN {
        return Err(MalformedKey::Length);
    }
    if !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(MalformedKey::Character);
    }
    let (signed, checksum) = input.split_at(input.len() - CHECKSUM_LEN);
    if checksum_digits(signed.as_bytes()) != checksum.as_bytes() {
        return Err(MalformedKey::Checksum);
    }
    Ok(environment)
}

/// CRC32 of `bytes` as six base62 digits, most significant first, zero-padded.
pub fn checksum_digits(bytes: &[u8]) -> [u8; CHECKSUM_LEN] {
    base62_digits(crc32fast::hash(bytes))
}

/// `value` as six base62 digits, most significant first, zero-padded: 62^6 > 2^32, so every
/// CRC32 fits.
fn base62_digits(mut value: u32) -> [u8; CHECKSUM_LEN] {
    let mut digits = [b'0'; CHECKSUM_LEN];
    for digit in digits.iter_mut().rev() {
        *digit = BASE62[(value % 62) as usize];
        value /= 62;
    }
    digits
}

/// The display form of a well-formed key: `fhk_prod_7Gq1…Ab9x`. Works by characters, so any
/// text gives some answer rather than a panic. Slices the input instead of copying it: no
/// stray copy of a full key is left in freed memory.
pub fn mask(full_key: &str) -> String {
    let char_start = |n: usize| {
        full_key
            .char_indices()
            .nth(n)
            .map_or(full_key.len(), |(i, _)| i)
    };
    let body_start = full_key
        .match_indices('_')
        .nth(1)
        .map_or(char_start(KEY_PREFIX.chars().count()), |(i, _)| i + 1);
    let head_end = full_key[body_start..]
        .char_indices()
        .nth(4)
        .map_or(full_key.len(), |(i, _)| body_start + i);
    let chars = full_key.chars().count();
    let tail_start = char_start(chars.saturating_sub(4)).max(head_end);
    let (head, tail) = (&full_key[..head_end], &full_key[tail_start..]);
    let mut masked = String::with_capacity(head.len() + '…'.len_utf8() + tail.len());
    masked.push_str(head);
    masked.push('…');
    masked.push_str(tail);
    masked
}

/// The length of the well-formed key (shape and checksum) that `text` starts with, if it
/// starts with one. Whatever follows the key does not matter: a key pasted into a word or a
/// path is still a key.
pub(crate) fn key_len_at(text: &str) -> Option<usize> {
    let rest = text.strip_prefix(KEY_PREFIX)?;
    let code_len = rest.find('_')?;
    Environment::from_code(&rest[..code_len])?;
    let len = KEY_PREFIX.len() + code_len + 1 + SECRET_LEN + CHECKSUM_LEN;
    text.get(..len)
        .filter(|candidate| check_format(candidate).is_ok())
        .map(|_| len)
}

/// The masked form of the first well-formed key (shape and checksum) found anywhere in
/// `text`, even inside a word or a path; `None` if it holds none.
pub fn find_key(text: &str) -> Option<String> {
    text.match_indices(KEY_PREFIX).find_map(|(start, _)| {
        key_len_at(&text[start..]).map(|len| mask(&text[start..start + len]))
    })
}

/// `text` with every key in it replaced by its masked form, wherever it sits (inside a word, a
/// path, a URL): for messages that repeat what a user typed, since a user may well have typed
/// a key where a name, a duration or a path was wanted. Something that starts like a key
/// without being a whole one (a truncated or mistyped key) shows no more than the masked
/// form would: its prefix and first four characters, and its last four only when it has a
/// key's full length.
pub fn redact_keys(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains(KEY_PREFIX) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(KEY_PREFIX) {
        out.push_str(&rest[..start]);
        let candidate = &rest[start..];
        if let Some(len) = key_len_at(candidate) {
            out.push_str(&mask(&candidate[..len]));
            rest = &candidate[len..];
            continue;
        }
        let mut end = candidate[KEY_PREFIX.len()..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(candidate.len(), |i| KEY_PREFIX.len() + i);
        // A whole key may begin inside this run (`fhk_fhk_prod_…`): stop before it.
        if let Some(next) = candidate[1..end].find(KEY_PREFIX) {
            end = next + 1;
        }
        out.push_str(&mask_fragment(&candidate[..end]));
        rest = &candidate[end..];
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// What a message may show of `token` (`fhk_` and key characters) that is not a whole key.
fn mask_fragment(token: &str) -> std::borrow::Cow<'_, str> {
    let after_prefix = &token[KEY_PREFIX.len()..];
    let body_start = match after_prefix.split_once('_') {
        Some((code, _)) if Environment::from_code(code).is_some() => {
            KEY_PREFIX.len() + code.len() + 1
        }
        // Without an environment code it is most likely an ordinary word (`fhk_test`); only
        // a long one may be a damaged key.
        _ if token.len() < 16 => return std::borrow::Cow::Borrowed(token),
        _ => KEY_PREFIX.len(),
    };
    let body = &token[body_start..];
    if body.len() <= 4 {
        std::borrow::Cow::Borrowed(token)
    } else if body.len() == SECRET_LEN + CHECKSUM_LEN {
        // A mistyped key: its last four are checksum characters, as in any masked form.
        std::borrow::Cow::Owned(mask(token))
    } else {
        // Cut short: its last characters would be secret ones.
        std::borrow::Cow::Owned(format!("{}…", &token[..body_start + 4]))
    }
}

/// Fills `out` with uniformly distributed base62 characters. Bytes at or above 248 (the
/// largest multiple of 62 that fits in a byte) are thrown away so that no character is
/// more likely than another.
fn fill_base62(out: &mut [u8], entropy: &mut dyn Entropy) -> Result<(), Error> {
    let mut pool = Zeroizing::new([0u8; 64]);
    let mut filled = 0;
    while filled < out.len() {
        entropy.fill(&mut *pool)?;
        for &byte in pool.iter() {
            if byte < 248 && filled < out.len() {
                out[filled] = BASE62[(byte % 62) as usize];
                filled += 1;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entropy::SeededEntropy;
    use proptest::prelude::*;

    fn key(env: Environment, seed: u64) -> Secret {
        Secret::generate(env, &mut SeededEntropy::new(seed)).unwrap()
    }

    #[test]
    fn generated_key_has_the_documented_shape() {
        let k = key(Environment::Production, 1);
        let text = k.expose();
        assert!(text.starts_with("fhk_prod_"));
        assert_eq!(text.len(), "fhk_prod_".len() + 32 + 6);
        assert!(
            text["fhk_prod_".len()..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric())
        );
        assert_eq!(
            key(Environment::Staging, 1).expose().len(),
            "fhk_stg_".len() + 38
        );
        assert!(
            key(Environment::Development, 1)
                .expose()
                .starts_with("fhk_dev_")
        );
    }

    #[test]
    fn checksum_matches_vectors_computed_with_zlib() {
        // Vectors computed independently with Python's zlib.crc32 and a base62 encoder.
        for vector in [
            "fhk_prod_000000000000000000000000000000004YOYDm",
            "fhk_stg_abcdefghijklmnopqrstuvwxyzABCDEF44I7t3",
            "fhk_dev_7Gq1ZZZZZZZZZZZZZZZZZZZZZZZZZZZZ31AKBH",
        ] {
            let (signed, sum) = vector.split_at(vector.len() - CHECKSUM_LEN);
            assert_eq!(
                &checksum_digits(signed.as_bytes()),
                sum.as_bytes(),
                "{vector}"
            );
            assert!(Secret::parse(vector).is_ok(), "{vector}");
        }
        assert_eq!(
            crc32fast::hash(b"fhk_prod_"),
            0x3f3d_13b0,
            "crc32fast must be zlib's CRC32"
        );
        // The zero value pads with '0'.
        assert_eq!(checksum_digits(b""), *b"000000");
    }

    #[test]
    fn checksums_are_six_base62_digits_most_significant_first() {
        // Worked by hand: 4294967295 = 4·62^5 + 42·62^4 + 41·62^3 + 15·62^2 + 12·62 + 3.
        assert_eq!(&base62_digits(u32::MAX), b"4gfFC3");
        assert_eq!(&base62_digits(0), b"000000");
        assert_eq!(&base62_digits(61), b"00000z");
        assert_eq!(&base62_digits(62), b"000010");
        // The IEEE CRC32 check value: crc32("123456789") = 0xCBF43926 = 3421780262.
        assert_eq!(&checksum_digits(b"123456789"), &base62_digits(0xCBF4_3926));
    }

    #[test]
    fn parse_rejects_each_kind_of_damage() {
        let k = key(Environment::Production, 7);
        let text = k.expose().to_owned();
        assert_eq!(
            Secret::parse(&text).unwrap().environment(),
            Environment::Production
        );
        assert_eq!(Secret::parse("").unwrap_err(), MalformedKey::Prefix);
        assert_eq!(Secret::parse(&text[1..]).unwrap_err(), MalformedKey::Prefix);
        assert_eq!(
            Secret::parse(&text.replace("_prod_", "_live_")).unwrap_err(),
            MalformedKey::Environment
        );
        assert_eq!(
            Secret::parse(&text.replace("_prod_", "_stg_")).unwrap_err(),
            MalformedKey::Checksum,
            "the environment code is covered by the checksum"
        );
        assert_eq!(
            Secret::parse(&text[..text.len() - 1]).unwrap_err(),
            MalformedKey::Length
        );
        assert_eq!(
            Secret::parse(&format!("{text}0")).unwrap_err(),
            MalformedKey::Length
        );
        let mut bad_char = text.clone();
        bad_char.replace_range(12..13, "-");
        assert_eq!(
            Secret::parse(&bad_char).unwrap_err(),
            MalformedKey::Character
        );
        let with_space = format!(" {text}");
        assert_eq!(
            Secret::parse(&with_space).unwrap_err(),
            MalformedKey::Prefix
        );
        assert_eq!(
            Secret::parse(&format!("{text}\n")).unwrap_err(),
            MalformedKey::Length
        );
    }

    #[test]
    fn every_single_character_typo_is_caught() {
        let k = key(Environment::Staging, 3);
        let text = k.expose();
        let body_start = "fhk_stg_".len();
        for i in body_start..text.len() {
            for &replacement in BASE62.iter() {
                if text.as_bytes()[i] == replacement {
                    continue;
                }
                let mut typo = text.as_bytes().to_vec();
                typo[i] = replacement;
                let typo = String::from_utf8(typo).unwrap();
                assert_eq!(Secret::parse(&typo).unwrap_err(), MalformedKey::Checksum);
            }
        }
    }

    #[test]
    fn masked_form_keeps_prefix_first_four_and_last_four() {
        let k = key(Environment::Production, 11);
        let text = k.expose();
        let masked = k.masked();
        assert_eq!(
            masked,
            format!("{}…{}", &text[..13], &text[text.len() - 4..])
        );
        assert!(masked.starts_with("fhk_prod_"));
        assert_eq!(masked.chars().count(), "fhk_prod_".len() + 4 + 1 + 4);
        assert!(
            key(Environment::Development, 2)
                .masked()
                .starts_with("fhk_dev_")
        );
    }

    #[test]
    fn debug_never_shows_the_key() {
        let k = key(Environment::Production, 5);
        let shown = format!("{k:?} {:?}", k.hash());
        assert!(!shown.contains(k.expose()));
        assert!(!shown.contains(&k.expose()[9..20]));
        assert!(shown.contains("[redacted]"));
    }

    #[test]
    fn hash_is_sha256_of_the_full_key() {
        // SHA-256("abc") from FIPS 180-2.
        let expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let got: String = KeyHash::of("abc")
            .0
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn secret_characters_are_spread_over_the_whole_alphabet() {
        let mut counts = [0u32; 62];
        let mut entropy = SeededEntropy::new(99);
        for _ in 0..2_000 {
            let k = Secret::generate(Environment::Development, &mut entropy).unwrap();
            for b in k.expose()["fhk_dev_".len()..][..SECRET_LEN].bytes() {
                counts[BASE62.iter().position(|&c| c == b).unwrap()] += 1;
            }
        }
        // 64,000 draws over 62 symbols: ~1032 each. A biased mapping (e.g. byte % 62 without
        // rejection) would give the first 8 symbols ~25% more.
        let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        assert!(*min > 900 && *max < 1170, "min {min} max {max}");
    }

    #[test]
    fn keys_typed_into_messages_are_masked() {
        let key = "fhk_prod_000000000000000000000000000000004YOYDm";
        let said = format!("No key matches \"{key}\"; try '{key}'.");
        let redacted = redact_keys(&said);
        assert!(!redacted.contains(key), "{redacted}");
        assert_eq!(redacted.matches(&mask(key)).count(), 2, "{redacted}");
        assert_eq!(redact_keys("fhk_ is short"), "fhk_ is short");
        assert_eq!(redact_keys("no key here"), "no key here");
        // Multi-byte text around it stays intact.
        assert_eq!(
            redact_keys(&format!("東京 {key} 🚀")),
            format!("東京 {} 🚀", mask(key))
        );
    }

    #[test]
    fn keys_are_masked_wherever_they_sit_and_fragments_show_no_more() {
        let key = "fhk_prod_000000000000000000000000000000004YOYDm";
        let masked = mask(key);
        assert_eq!(masked, "fhk_prod_0000…OYDm");
        for (text, expected) in [
            (format!("/proc/{key}"), format!("/proc/{masked}")),
            (format!("x{key}y"), format!("x{masked}y")),
            (format!("{key}{key}"), format!("{masked}{masked}")),
            (format!("fhk_{key}"), format!("fhk_{masked}")),
            (format!("my key is {key}."), format!("my key is {masked}.")),
            // Truncated: prefix and first four only, never the characters at the cut.
            (key[..40].to_owned(), "fhk_prod_0000…".to_owned()),
            (
                format!("\"{}…\"", &key[..20]),
                "\"fhk_prod_0000……\"".to_owned(),
            ),
            // Mistyped (wrong checksum, full length): the usual masked form.
            (
                key.replace("4YOYDm", "4YOYDn"),
                "fhk_prod_0000…OYDn".to_owned(),
            ),
            ("fhk_prod_abc".to_owned(), "fhk_prod_abc".to_owned()),
            ("fhk_test words".to_owned(), "fhk_test words".to_owned()),
        ] {
            assert_eq!(redact_keys(&text), expected, "{text}");
            assert!(!redact_keys(&text).contains(&key[13..42]), "{text}");
        }
        assert_eq!(find_key(&format!("a/{key}/b")), Some(masked.clone()));
        assert_eq!(find_key(&format!("name {key}")), Some(masked));
        assert_eq!(find_key(&key[..46]), None);
        assert_eq!(find_key(&key.replace("4YOYDm", "4YOYDn")), None);
        assert_eq!(find_key("no key"), None);
    }

    #[test]
    fn mask_works_by_characters_on_any_text() {
        // Found by the property test below: byte offsets would split the 4-byte character.
        assert_eq!(mask("a0  0𐀀"), "a0  0𐀀…");
        assert_eq!(mask("fhk_prod_東京東京東京"), "fhk_prod_東京東京…東京");
    }

    proptest! {
        #[test]
        fn generate_then_parse_round_trips(seed: u64, env_index in 0usize..3) {
            let env = Environment::ALL[env_index];
            let k = key(env, seed);
            let parsed = Secret::parse(k.expose()).unwrap();
            prop_assert_eq!(parsed.environment(), env);
            prop_assert_eq!(parsed.hash(), k.hash());
            prop_assert_eq!(parsed.masked(), k.masked());
        }

        #[test]
        fn parse_never_panics_on_arbitrary_text(input in ".{0,80}") {
            let _ = Secret::parse(&input);
            let _ = mask(&input);
        }
    }
}
