//! `hivekeys verify`: one key on stdin, a JSON verdict on stdout.

use std::io::{self, Read, Write};
use std::process::ExitCode;

use super::{Cli, Failure, output, say, store_location};
use crate::key::check_format;
use crate::store::{self, Store, StoreOptions, Verification};

/// Longest input `verify` reads; anything longer is malformed without reading further.
pub const MAX_VERIFY_INPUT: usize = 1024;

/// `hivekeys verify`: one key on stdin, a JSON verdict on stdout. The key is checked for
/// shape and checksum before the store is even opened, and never echoed.
pub(super) fn verify(cli: &Cli, workspace: Option<&str>) -> Result<ExitCode, Failure> {
    // A bad setting is reported whatever the input, not only when a key is well-formed.
    let options = StoreOptions::from_env()?;
    let mut input = zeroize::Zeroizing::new(Vec::with_capacity(MAX_VERIFY_INPUT + 1));
    io::stdin()
        .lock()
        .take(MAX_VERIFY_INPUT as u64 + 1)
        .read_to_end(&mut input)
        .map_err(|e| Failure {
            message: format!("Cannot read the key from stdin: {e}."),
            status: 1,
        })?;
    let verdict = match key_from_input(&input) {
        Some(key) => {
            // A mistyped --db must not leave an empty store behind.
            let mut store = Store::open_existing(store_location(cli)?, options)?;
            let verdict = store.verify_in(workspace, key)?;
            // The use is written before the answer (it survives this process being killed
            // once the answer is out; see `close_after_verifying` for a power cut). The
            // verdict stands even if its bookkeeping cannot be written right now.
            if let Err(err) = store.close_after_verifying() {
                say(&format!("warning: this use was not recorded: {err}"));
            }
            verdict
        }
        None => Verification::Invalid(store::InvalidReason::Malformed),
    };
    let mut out = io::stdout().lock();
    output::write_json(&mut out, &output::verification_json(&verdict))?;
    out.flush()?;
    Ok(match verdict {
        Verification::Valid(_) => ExitCode::SUCCESS,
        Verification::Invalid(_) => ExitCode::from(1),
    })
}

/// The key in `input` if it is well-formed: at most 1 KiB of UTF-8 with one trailing newline
/// allowed and nothing else around it.
fn key_from_input(input: &[u8]) -> Option<&str> {
    if input.len() > MAX_VERIFY_INPUT {
        return None;
    }
    let text = std::str::from_utf8(input).ok()?;
    let key = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(text);
    check_format(key).ok().map(|_| key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_input_allows_one_trailing_newline_only() {
        let key = "fhk_prod_000000000000000000000000000000004YOYDm";
        assert_eq!(key_from_input(key.as_bytes()), Some(key));
        assert_eq!(key_from_input(format!("{key}\n").as_bytes()), Some(key));
        assert_eq!(key_from_input(format!("{key}\r\n").as_bytes()), Some(key));
        assert_eq!(key_from_input(format!("{key}\n\n").as_bytes()), None);
        assert_eq!(key_from_input(format!(" {key}").as_bytes()), None);
        assert_eq!(key_from_input(format!("{key} ").as_bytes()), None);
        assert_eq!(key_from_input(b""), None);
        assert_eq!(key_from_input(b"\xff\xfe"), None);
        assert_eq!(key_from_input(&vec![b'a'; MAX_VERIFY_INPUT + 1]), None);
    }
}
