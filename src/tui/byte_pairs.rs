//! Which pairs of neighbouring bytes a key's masked key and id hold, hashed into one 64-bit
//! mask per key: a search of two bytes or more first keeps the keys whose mask holds the bit
//! of every pair it holds. The byte masks ([`super::byte_classes`]) let through most keys
//! for a two-letter search, as random letters and digits make up half of each key's text;
//! few keys hold a given pair.
//!
//! Pairs every key holds (those of "fhk_prod_", "key_", "...") have no bit: a search's such
//! pairs ask nothing of the mask, and keys' bits are left for the pairs that tell keys apart.
//! Pairs are compared without regard to ASCII case.

/// The texts every masked key and id are made of around their random part.
const COMMON: [&[u8]; 5] = [b"fhk_prod_", b"fhk_stg_", b"fhk_dev_", b"...", b"key_"];

/// One bit per pair of (lower-cased) bytes: set for the pairs of [`COMMON`].
const COMMON_PAIRS: [u64; 1024] = common_pairs();

const fn common_pairs() -> [u64; 1024] {
    let mut table = [0u64; 1024];
    let mut t = 0;
    while t < COMMON.len() {
        let text = COMMON[t];
        let mut i = 0;
        while i + 1 < text.len() {
            let pair = pair(text[i], text[i + 1]);
            table[pair / 64] |= 1 << (pair % 64);
            i += 1;
        }
        t += 1;
    }
    table
}

const fn pair(a: u8, b: u8) -> usize {
    (a.to_ascii_lowercase() as usize) << 8 | b.to_ascii_lowercase() as usize
}

/// The bit of the pair `a`, `b`; none for a common pair, or one with a control byte (no
/// search holds one: the fields' separators).
fn bit(a: u8, b: u8) -> u64 {
    let pair = pair(a, b);
    if COMMON_PAIRS[pair / 64] & 1 << (pair % 64) != 0 || a < 0x20 || b < 0x20 {
        return 0;
    }
    // Fibonacci hashing: the top six bits of the product.
    1 << ((pair as u32).wrapping_mul(0x9E37_79B1) >> 26)
}

/// The mask of the pairs in `text`.
pub fn of(text: &[u8]) -> u64 {
    text.windows(2).fold(0, |mask, w| mask | bit(w[0], w[1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_holds_the_mask_of_each_of_its_pieces() {
        let text = "fhk_prod_2t78...xB73\u{1f}key_455f0fa1 Café".as_bytes();
        let mask = of(text);
        for len in 1..=text.len() {
            for piece in text.windows(len) {
                assert_eq!(mask & of(piece), of(piece), "{piece:?}");
                let upper = piece.to_ascii_uppercase();
                assert_eq!(mask & of(&upper), of(&upper), "{piece:?}");
            }
        }
    }

    #[test]
    fn common_pairs_and_separators_have_no_bit_and_others_do() {
        assert_eq!(of(b"fhk_prod_"), 0);
        assert_eq!(of(b"KEY_"), 0);
        assert_eq!(of(b"..."), 0);
        assert_eq!(of(b"a\x1fb"), 0);
        assert_ne!(of(b"bi"), 0);
        assert_eq!(of(b"bi"), of(b"BI"));
        assert_eq!(of(b"7x").count_ones(), 1);
        // Pairs spread over the bits rather than crowd a few.
        let all: u64 = (b'a'..=b'z')
            .flat_map(|a| (b'0'..=b'z').map(move |b| of(&[a, b])))
            .fold(0, |m, b| m | b);
        assert_eq!(all, u64::MAX);
    }
}
