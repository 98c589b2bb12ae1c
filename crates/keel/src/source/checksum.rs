//! The migration checksum: SHA-256 over the file's text with line endings
//! normalised, so a CRLF checkout (git's `autocrlf` on Windows) or a leading
//! byte-order mark never counts as a modification (sqlx#2659), while any other
//! edit — comments included — does.
//!
//! The algorithm is a forever-contract: it is stored beside every checksum as
//! [`ALGORITHM`] so it can never silently change meaning (Liquibase's
//! checksums changed under its users after an upgrade). A new algorithm gets a
//! new label; the old one keeps its meaning.

use sha2::{Digest, Sha256};
use std::fmt;

/// Label stored with every checksum: SHA-256, hex, over text with CRLF and
/// lone CR turned into LF and a leading UTF-8 BOM removed.
pub const ALGORITHM: &str = "sha256-lf-v1";

/// A checksum of a migration file's normalised text, as lowercase hex.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Checksum(String);

impl Checksum {
    /// The checksum of `text` under [`ALGORITHM`].
    pub fn of(text: &str) -> Checksum {
        Checksum::of_normalized(&normalize(text))
    }

    /// The checksum of text already passed through [`normalize`].
    pub fn of_normalized(normalized: &str) -> Checksum {
        let digest = Sha256::digest(normalized.as_bytes());
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut hex = String::with_capacity(64);
        for byte in digest.iter() {
            hex.push(HEX[usize::from(byte >> 4)] as char);
            hex.push(HEX[usize::from(byte & 0xf)] as char);
        }
        Checksum(hex)
    }

    /// A checksum read back from the tracking table.
    pub fn from_stored(hex: String) -> Checksum {
        Checksum(hex)
    }

    /// The hex digits as a `String`, for bind parameters.
    pub fn as_string(&self) -> &String {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 12 hex digits, for human output.
    pub fn short(&self) -> &str {
        &self.0[..self.0.len().min(12)]
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The text the checksum is computed over: no leading BOM, every line ending LF.
pub fn normalize(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if !text.contains('\r') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    out
}

/// The text keel runs: a leading BOM removed and CRLF line endings (a
/// checkout artifact) turned into LF, but a lone CR kept, as `psql`,
/// `mysql` and `sqlite3` keep it — it is data inside a string literal.
/// [`normalize`] (the checksum's) also turns lone CRs into LF.
pub fn line_endings(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if !text.contains("\r\n") {
        return text.to_string();
    }
    text.replace("\r\n", "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_run_keeps_a_lone_cr_its_checksum_does_not() {
        let text = "\u{feff}insert into t values ('a\rb');\r\nselect 1;\r\n";
        assert_eq!(
            line_endings(text),
            "insert into t values ('a\rb');\nselect 1;\n"
        );
        assert_eq!(
            Checksum::of(&line_endings(text)),
            Checksum::of("insert into t values ('a\nb');\nselect 1;\n")
        );
    }

    #[test]
    fn crlf_cr_and_bom_do_not_change_the_checksum() {
        let lf = Checksum::of("CREATE TABLE a (id int);\nSELECT 1;\n");
        assert_eq!(
            lf,
            Checksum::of("CREATE TABLE a (id int);\r\nSELECT 1;\r\n")
        );
        assert_eq!(lf, Checksum::of("CREATE TABLE a (id int);\rSELECT 1;\r"));
        assert_eq!(
            lf,
            Checksum::of("\u{feff}CREATE TABLE a (id int);\nSELECT 1;\n")
        );
    }

    #[test]
    fn any_other_edit_changes_it() {
        let base = Checksum::of("SELECT 1;\n");
        assert_ne!(base, Checksum::of("SELECT 2;\n"));
        assert_ne!(base, Checksum::of("-- note\nSELECT 1;\n"));
        assert_ne!(base, Checksum::of("SELECT 1; \n"));
    }

    #[test]
    fn is_sha256_hex_of_normalised_text() {
        // sha256("") is well known; pins the algorithm so it cannot drift.
        assert_eq!(
            Checksum::of("\u{feff}").as_str(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
