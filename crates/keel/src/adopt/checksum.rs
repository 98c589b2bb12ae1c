//! The other tools' own checksums, computed exactly as each tool does, so
//! `keel adopt` can tell a file edited after it ran:
//!
//! - sqlx: SHA-384 of the file's bytes (`sqlx-core/src/migrate/migration.rs`);
//!   with `[migrate] ignored-chars = ["\r"]` in sqlx.toml the CRs are removed
//!   first, so a file matching either form is unchanged.
//! - Flyway: CRC32 (IEEE) fed each line's UTF-8 bytes without its line
//!   break, the first line without a BOM (`ChecksumCalculator`), as a signed
//!   32-bit integer.
//! - Prisma: SHA-256 of `migration.sql`, as lowercase hex; Prisma also
//!   accepts the file with CRLF turned into LF.

use sha2::{Digest, Sha256, Sha384};

fn hex(bytes: &[u8]) -> String {
    super::read::hex(bytes)
}

/// Whether `raw` is the file sqlx recorded with checksum `stored` (hex).
pub(crate) fn sqlx_matches(raw: &[u8], stored: &str) -> bool {
    let stored = stored.to_ascii_lowercase();
    if hex(&Sha384::digest(raw)) == stored {
        return true;
    }
    let without_cr: Vec<u8> = raw.iter().copied().filter(|b| *b != b'\r').collect();
    hex(&Sha384::digest(&without_cr)) == stored
}

/// Flyway's checksum of a script.
pub(crate) fn flyway(text: &str) -> i32 {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut crc = Crc32::new();
    // Java's readLine: a line ends at \n, \r or \r\n; none is hashed.
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest.find(['\r', '\n']).unwrap_or(rest.len());
        crc.update(rest.get(..end).unwrap_or_default().as_bytes());
        let after = rest.get(end..).unwrap_or_default();
        rest = after
            .strip_prefix("\r\n")
            .or_else(|| after.strip_prefix('\r'))
            .or_else(|| after.strip_prefix('\n'))
            .unwrap_or(after);
    }
    crc.finish() as i32
}

/// Whether `raw` is the `migration.sql` Prisma recorded as `stored`.
pub(crate) fn prisma_matches(raw: &[u8], stored: &str) -> bool {
    let stored = stored.to_ascii_lowercase();
    if hex(&Sha256::digest(raw)) == stored {
        return true;
    }
    let text = String::from_utf8_lossy(raw).replace("\r\n", "\n");
    hex(&Sha256::digest(text.as_bytes())) == stored
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as java.util.zip.CRC32.
struct Crc32 {
    value: u32,
}

impl Crc32 {
    fn new() -> Crc32 {
        Crc32 { value: !0 }
    }

    fn update(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.value ^= u32::from(*b);
            for _ in 0..8 {
                let mask = (self.value & 1).wrapping_neg();
                self.value = (self.value >> 1) ^ (0xEDB8_8320 & mask);
            }
        }
    }

    fn finish(&self) -> u32 {
        !self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_is_ieee() {
        let mut c = Crc32::new();
        c.update(b"123456789");
        assert_eq!(c.finish(), 0xCBF4_3926);
    }

    #[test]
    fn flyway_ignores_line_breaks_and_bom_only() {
        let a = flyway("CREATE TABLE a (id int);\nSELECT 1;\n");
        assert_eq!(a, flyway("\u{feff}CREATE TABLE a (id int);\r\nSELECT 1;"));
        assert_ne!(a, flyway("CREATE TABLE a (id int);\nSELECT 2;\n"));
        // as Flyway computes it: the lines' bytes back to back
        let mut c = Crc32::new();
        c.update(b"CREATE TABLE a (id int);SELECT 1;");
        assert_eq!(a, c.finish() as i32);
    }

    #[test]
    fn sqlx_is_sha384_of_the_bytes() {
        // sha384("") is well known
        let empty = "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b";
        assert!(sqlx_matches(b"", empty));
        assert!(sqlx_matches(b"\r", empty), "ignored-chars = [\"\\r\"]");
        assert!(!sqlx_matches(b"x", empty));
    }
}
