//! The canonical form both sides of a copy are checksummed in: one hash
//! per binary COPY tuple (numeric and JSON compared by value, everything
//! else by the bytes PostgreSQL stores), combined order-independently.

use super::types::PgType;
use std::hash::Hasher;

/// A binary numeric as its shortest decimal text (`1.50` → `1.5`).
pub(super) fn numeric_text(b: &[u8]) -> Option<String> {
    let n = i16::from_be_bytes([*b.first()?, *b.get(1)?]) as usize;
    let weight = i16::from_be_bytes([b[2], *b.get(3)?]) as i32;
    let sign = u16::from_be_bytes([*b.get(4)?, *b.get(5)?]);
    if sign == 0xC000 {
        return Some("NaN".into());
    }
    let digits: Vec<i16> = (0..n)
        .map(|i| Some(i16::from_be_bytes([*b.get(8 + 2 * i)?, *b.get(9 + 2 * i)?])))
        .collect::<Option<_>>()?;
    let mut int = String::new();
    let mut frac = String::new();
    for (i, d) in digits.iter().enumerate() {
        let w = weight - i as i32;
        if w >= 0 {
            int.push_str(&format!("{d:04}"));
        } else {
            if frac.is_empty() {
                frac.push_str(&"0000".repeat((-w - 1) as usize));
            }
            frac.push_str(&format!("{d:04}"));
        }
    }
    if weight >= n as i32 {
        int.push_str(&"0000".repeat((weight - n as i32 + 1) as usize));
    }
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let mut s = String::new();
    if sign == 0x4000 {
        s.push('-');
    }
    s.push_str(if int.is_empty() { "0" } else { int });
    if !frac.is_empty() {
        s.push('.');
        s.push_str(frac);
    }
    Some(s)
}

/// A fast 64-bit hash of a row's bytes: a multiply-rotate step per 8-byte
/// word and a final avalanche (MurmurHash3's fmix64). Not cryptographic:
/// it tells a copy that lost or changed a value from a faithful one, at
/// several GB/s, where SipHash cost seconds per gigabyte on both sides.
#[derive(Default)]
struct RowHasher {
    h: u64,
    len: u64,
}

impl RowHasher {
    fn step(&mut self, word: u64) {
        self.h = (self.h ^ word)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(29);
    }
}

impl Hasher for RowHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.len = self.len.wrapping_add(bytes.len() as u64);
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.step(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        self.step(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
    }

    fn finish(&self) -> u64 {
        let mut k = self.h ^ self.len;
        k ^= k >> 33;
        k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
        k ^= k >> 33;
        k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        k ^ (k >> 33)
    }
}

/// Order-independent checksum of a table: row count and two sums of
/// per-row hashes of the canonical values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checksum {
    pub rows: u64,
    sum: u64,
    xor: u64,
}

impl Checksum {
    pub fn add(&mut self, row_hash: u64) {
        self.rows += 1;
        self.sum = self.sum.wrapping_add(row_hash);
        self.xor ^= row_hash.rotate_left(17).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    pub fn merge(&mut self, other: Checksum) {
        self.rows += other.rows;
        self.sum = self.sum.wrapping_add(other.sum);
        self.xor ^= other.xor;
    }

    pub fn hex(&self) -> String {
        format!("{:016x}{:016x}", self.sum, self.xor)
    }
}

/// Hashes one binary COPY tuple (from its field count on) in canonical
/// form; `None` if the bytes are not a whole tuple of `types.len()` fields.
/// Both sides use this: the tuple keel sent, and the tuple PostgreSQL
/// sends back.
pub fn row_hash(types: &[PgType], tuple: &[u8]) -> Option<u64> {
    let mut h = RowHasher::default();
    let count = i16::from_be_bytes([*tuple.first()?, *tuple.get(1)?]);
    if count as usize != types.len() {
        return None;
    }
    let mut at = 2;
    for ty in types {
        let len = i32::from_be_bytes(tuple.get(at..at + 4)?.try_into().ok()?);
        at += 4;
        if len < 0 {
            h.write_u8(0);
            continue;
        }
        let bytes = tuple.get(at..at + len as usize)?;
        at += len as usize;
        h.write_u8(1);
        match ty {
            PgType::Numeric(_) => h.write(numeric_text(bytes)?.as_bytes()),
            PgType::Json | PgType::Jsonb => {
                let text = if *ty == PgType::Jsonb {
                    bytes.get(1..)?
                } else {
                    bytes
                };
                match serde_json::from_slice::<serde_json::Value>(text) {
                    Ok(v) => h.write(v.to_string().as_bytes()),
                    Err(_) => h.write(text),
                }
            }
            _ => {
                h.write_usize(bytes.len());
                h.write(bytes);
            }
        }
    }
    (at == tuple.len()).then(|| h.finish())
}

/// The length of the tuple starting at `bytes` (field count first), if
/// it is complete; `Some(0)` for the trailer.
pub fn tuple_len(bytes: &[u8]) -> Option<usize> {
    let count = i16::from_be_bytes([*bytes.first()?, *bytes.get(1)?]);
    if count < 0 {
        return Some(0);
    }
    let mut at = 2;
    for _ in 0..count {
        let len = i32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?);
        at += 4;
        if len > 0 {
            at += len as usize;
        }
    }
    (at <= bytes.len()).then_some(at)
}
