//! How the dashboard cuts user data (heap strings, names, bytes) to a bounded size, and writes
//! 64-bit ids as decimal strings (JavaScript numbers lose precision past 2^53).

use serde::Serialize;

/// Characters of one string (a value, a map key, a class or lock name) the dashboard sends; the
/// rest is cut and `truncated` says so. A row of the page stays readable.
pub const TEXT_CHARS_MAX: usize = 200;

/// Bytes of a `bytes` value shown (as hex); the full length is given beside them.
pub const BYTES_SHOWN_MAX: usize = 64;

/// A piece of user data, cut to `TEXT_CHARS_MAX` characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Text {
    pub text: String,
    /// True when `text` is only the first `TEXT_CHARS_MAX` characters.
    pub truncated: bool,
}

impl Text {
    pub fn cut(text: &str) -> Self {
        match text.char_indices().nth(TEXT_CHARS_MAX) {
            Some((end, _)) => Text { text: text[..end].to_string(), truncated: true },
            None => Text { text: text.to_string(), truncated: false },
        }
    }
}

/// The first `BYTES_SHOWN_MAX` bytes in hex, and whether there were more.
pub fn hex_prefix(bytes: &[u8]) -> Text {
    let shown = &bytes[..bytes.len().min(BYTES_SHOWN_MAX)];
    let text = shown.iter().map(|byte| format!("{byte:02x}")).collect();
    Text { text, truncated: shown.len() < bytes.len() }
}

/// A 64-bit id as the dashboard sends it.
pub fn id_text(id: u64) -> String {
    id.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Long strings are cut on a character boundary (never inside a UTF-8 sequence); short ones pass whole.
    #[test]
    fn cuts_long_text_on_a_character_boundary() {
        assert_eq!(Text::cut("short"), Text { text: "short".to_string(), truncated: false });
        let long = "é".repeat(TEXT_CHARS_MAX + 1);
        let cut = Text::cut(&long);
        assert!(cut.truncated);
        assert_eq!(cut.text.chars().count(), TEXT_CHARS_MAX);
        let exact = "x".repeat(TEXT_CHARS_MAX);
        assert!(!Text::cut(&exact).truncated, "exactly the maximum is not cut");
    }

    /// Bytes show as hex, at most `BYTES_SHOWN_MAX` of them.
    #[test]
    fn shows_a_hex_prefix_of_bytes() {
        assert_eq!(hex_prefix(&[0, 0xab, 0xff]), Text { text: "00abff".to_string(), truncated: false });
        let long = vec![1u8; BYTES_SHOWN_MAX + 1];
        let shown = hex_prefix(&long);
        assert!(shown.truncated);
        assert_eq!(shown.text.len(), 2 * BYTES_SHOWN_MAX);
    }
}
