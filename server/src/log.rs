//! Writing untrusted text into log lines. Provider error strings, user agents, addresses and
//! the messages of errors that echo input all reach the log; unescaped, a newline or a
//! terminal escape in them could forge a line or hide one. [`escaped`] wraps such a value so
//! that it prints on one line, every control, line-separator and bidirectional-override
//! character written as a `\u{…}` escape.

use std::fmt;

/// A value's text, made safe for one log line (see the module docs).
#[derive(Clone, PartialEq, Eq)]
pub struct Escaped(String);

/// Renders `value` and escapes what could break out of a log line.
pub fn escaped(value: impl fmt::Display) -> Escaped {
    Escaped(value.to_string())
}

/// Whether `c` must not reach a log line as itself.
fn unsafe_in_logs(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

impl fmt::Display for Escaped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                c if unsafe_in_logs(c) => write!(f, "\\u{{{:x}}}", u32::from(c))?,
                c => fmt::Write::write_char(f, c)?,
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Escaped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// A multi-line text (an email body the log mailer prints) with every line indented by a
/// marker, so no line of it can pass for a log line of its own, and each line escaped.
pub fn indented_block(text: &str) -> String {
    text.lines()
        .map(|line| format!("    | {}", escaped(line)))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_breaks_escapes_and_overrides_stay_on_one_line() {
        let forged = "boom\n2026-12-03T00:00:00Z  INFO admin signed in\r\u{1b}[2J\u{2028}\u{202e}x";
        let out = escaped(forged).to_string();
        assert!(!out.contains('\n') && !out.contains('\r') && !out.contains('\u{1b}'));
        assert!(!out.contains('\u{2028}') && !out.contains('\u{202e}'));
        assert_eq!(
            out,
            "boom\\n2026-12-03T00:00:00Z  INFO admin signed in\\r\\u{1b}[2J\\u{2028}\\u{202e}x"
        );
        assert_eq!(
            escaped("plain text, é ü 漢").to_string(),
            "plain text, é ü 漢"
        );
    }

    #[test]
    fn blocks_are_indented_line_by_line() {
        assert_eq!(
            indented_block("Your code\n\n123456\u{1b}"),
            "    | Your code\n    | \n    | 123456\\u{1b}"
        );
    }
}
