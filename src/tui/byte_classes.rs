//! Which bytes a key's searched text holds, as one 64-bit mask per key: a search first keeps
//! the keys whose mask holds every bit of its own mask (one AND per key, over 8 MB at a
//! million keys) instead of sweeping the 55 MB of text. Letters (either ASCII case), digits
//! and the commonest punctuation have a bit each, so a one-byte search of them is answered by
//! the masks alone; other bytes share the remaining bits and are checked in the text.

/// Bits below this one stand for one byte (one letter, either case) each.
const EXACT: u32 = 40;

/// The bit standing for `byte`, compared without regard to ASCII case.
fn class(byte: u8) -> u32 {
    match byte.to_ascii_lowercase() {
        b @ b'a'..=b'z' => u32::from(b - b'a'),
        b @ b'0'..=b'9' => 26 + u32::from(b - b'0'),
        b' ' => 36,
        b'_' => 37,
        b'-' => 38,
        b'.' => 39,
        other => EXACT + u32::from(other) % (64 - EXACT),
    }
}

/// The mask of the bytes in `text`.
pub fn of(text: &[u8]) -> u64 {
    text.iter().fold(0, |mask, &b| mask | 1 << class(b))
}

/// Whether a text holds `byte` (without regard to ASCII case) exactly when its mask holds the
/// mask of `byte`.
pub fn is_exact(byte: u8) -> bool {
    class(byte) < EXACT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_bytes_have_a_bit_of_their_own() {
        for a in 0..=u8::MAX {
            for b in 0..=u8::MAX {
                let same = a.eq_ignore_ascii_case(&b);
                if is_exact(a) && !same {
                    assert_ne!(class(a), class(b), "{a} {b}");
                }
                if same {
                    assert_eq!(class(a), class(b), "{a} {b}");
                }
            }
        }
        assert!(is_exact(b'Q') && is_exact(b'7') && is_exact(b'_'));
        assert!(!is_exact(0xc3) && !is_exact(b'/'));
    }

    #[test]
    fn a_text_holds_the_mask_of_each_of_its_bytes() {
        let text = "Café ＡＰＩ key_07-x.y/z".as_bytes();
        let mask = of(text);
        for &b in text {
            assert_eq!(mask & of(&[b]), of(&[b]));
        }
        assert_eq!(mask & of(b"q"), 0);
    }
}
