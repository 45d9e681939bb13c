//! Copying the new key: to the system clipboard where there is one, and always also as an
//! OSC 52 escape sequence, which terminals (and tmux with `set-clipboard on`) turn into a
//! clipboard write — the only way that works over SSH.

use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

/// What a copy achieved, for the dialog to say honestly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    /// The system clipboard took the text.
    pub system: bool,
    /// The OSC 52 sequence was written to the terminal (whether the terminal honours it
    /// cannot be known from here).
    pub osc52: bool,
}

impl CopyReport {
    pub fn message(&self) -> &'static str {
        match (self.system, self.osc52) {
            (true, true) => "Copied to the system clipboard (and sent to the terminal as OSC 52).",
            (true, false) => "Copied to the system clipboard.",
            (false, true) => {
                "Sent to the terminal's clipboard (OSC 52); no system clipboard here. If your \
                 terminal ignores OSC 52, select the key and copy it by hand."
            }
            (false, false) => {
                "Could not copy: no clipboard is available. Select the key and copy it by hand."
            }
        }
    }
}

pub trait Clipboard {
    fn copy(&mut self, text: &str) -> CopyReport;
}

/// Starts an OSC 52 clipboard write (`c`: the clipboard selection).
const OSC52_START: &str = "\x1b]52;c;";
/// Ends it (BEL, which more terminals accept than ST).
const OSC52_END: &str = "\x07";

/// The OSC 52 sequence that asks the terminal to put `text` on the clipboard.
///
/// `text` is the secret, so every buffer that holds it (or its base64, which is as good) is
/// wiped on drop and allocated once at its final size: a buffer that grew would leave the old,
/// unwiped allocation behind, as `format!` does.
pub fn osc52(text: &str) -> Zeroizing<String> {
    let encoded_len =
        base64::encoded_len(text.len(), true).expect("a key's base64 length fits in memory");
    let mut encoded = Zeroizing::new(vec![0u8; encoded_len]);
    let written = STANDARD
        .encode_slice(text, &mut encoded[..])
        .expect("the buffer is exactly the encoded length");
    debug_assert_eq!(written, encoded_len);
    let mut sequence = Zeroizing::new(String::with_capacity(
        OSC52_START.len() + encoded_len + OSC52_END.len(),
    ));
    sequence.push_str(OSC52_START);
    // Base64 is ASCII: each byte is one character.
    encoded.iter().for_each(|&b| sequence.push(b as char));
    sequence.push_str(OSC52_END);
    sequence
}

/// The real clipboard: arboard when a display is reachable, plus OSC 52 on `terminal`.
pub struct SystemClipboard<W: Write> {
    terminal: W,
    /// Kept alive: on X11 the clipboard's contents live as long as their owner.
    system: Option<arboard::Clipboard>,
    tried_system: bool,
}

impl<W: Write> SystemClipboard<W> {
    pub fn new(terminal: W) -> SystemClipboard<W> {
        SystemClipboard {
            terminal,
            system: None,
            tried_system: false,
        }
    }
}

impl<W: Write> Clipboard for SystemClipboard<W> {
    fn copy(&mut self, text: &str) -> CopyReport {
        if !self.tried_system {
            self.tried_system = true;
            // Fails in well under a millisecond without a display.
            self.system = arboard::Clipboard::new().ok();
        }
        let system = self
            .system
            .as_mut()
            .is_some_and(|clipboard| clipboard.set_text(text).is_ok());
        let sequence = osc52(text);
        let osc52 = self
            .terminal
            .write_all(sequence.as_bytes())
            .and_then(|()| self.terminal.flush())
            .is_ok();
        CopyReport { system, osc52 }
    }
}

/// A clipboard that only records OSC 52 bytes: for tests and snapshots, where touching the
/// desktop's clipboard would be wrong.
#[derive(Debug, Default)]
pub struct Osc52Only {
    pub written: Vec<u8>,
}

impl Clipboard for Osc52Only {
    fn copy(&mut self, text: &str) -> CopyReport {
        self.written.extend_from_slice(osc52(text).as_bytes());
        CopyReport {
            system: false,
            osc52: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_carries_the_text_in_base64() {
        // "hello" in base64 is "aGVsbG8=".
        assert_eq!(osc52("hello").as_str(), "\x1b]52;c;aGVsbG8=\x07");
        let key = "fhk_prod_000000000000000000000000000000004YOYDm";
        let sequence = osc52(key);
        let payload = sequence
            .strip_prefix("\x1b]52;c;")
            .unwrap()
            .strip_suffix('\x07')
            .unwrap();
        assert_eq!(STANDARD.decode(payload).unwrap(), key.as_bytes());
    }

    #[test]
    fn osc52_is_built_in_one_allocation_of_its_exact_size() {
        // A buffer that grew (as `format!`'s does) would have left an unwiped copy of the key
        // behind in the allocation it outgrew.
        for text in [
            "",
            "a",
            "ab",
            "abc",
            "fhk_prod_000000000000000000000000000000004YOYDm",
            "fhk_stg_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef123456",
        ] {
            let sequence = osc52(text);
            assert_eq!(sequence.len(), sequence.capacity(), "{text:?}");
            let payload = &sequence["\x1b]52;c;".len()..sequence.len() - 1];
            assert_eq!(STANDARD.decode(payload).unwrap(), text.as_bytes());
        }
    }

    #[test]
    fn system_clipboard_always_sends_osc52_to_the_terminal() {
        let mut terminal = Vec::new();
        let report = SystemClipboard::new(&mut terminal).copy("abc");
        assert!(report.osc52);
        assert_eq!(terminal, b"\x1b]52;c;YWJj\x07");
        // Honest about what happened: OSC 52 always, the system clipboard only with a display.
        let says_osc52 = report.message().contains("OSC 52");
        assert!(says_osc52, "{}", report.message());
        assert_eq!(
            report.message().starts_with("Copied to the system"),
            report.system
        );
    }

    #[test]
    fn each_outcome_says_what_happened() {
        let report = |system, osc52| CopyReport { system, osc52 };
        assert!(report(true, true).message().contains("system clipboard"));
        assert!(
            report(false, true)
                .message()
                .contains("no system clipboard")
        );
        assert!(report(false, false).message().starts_with("Could not copy"));
        assert!(!report(true, false).message().contains("OSC 52"));
    }
}
