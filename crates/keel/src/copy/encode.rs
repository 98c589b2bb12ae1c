//! SQLite values to PostgreSQL's binary COPY format, and the canonical
//! form both sides of a copy are checksummed in.
//!
//! Binary COPY skips PostgreSQL's text parsing (timestamps, floats and
//! integers arrive as the server stores them), and keeps every value
//! exact: a double is its 8 bytes, never a 15-digit rendering. A value
//! that does not fit its column's type is a [`Misfit`] with a reason and a
//! suggested `--cast`; nothing is ever rounded, truncated or guessed.

pub use super::checksum::{Checksum, row_hash, tuple_len};
use super::types::PgType;
use rusqlite::types::ValueRef;

/// The 19-byte header of a binary COPY stream.
pub const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// The end-of-data marker.
pub const TRAILER: &[u8] = &[0xff, 0xff];

/// Days from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_DAYS: i64 = 10_957;
const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Why a value cannot be written as its column's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Misfit {
    pub reason: String,
    /// The `--cast` type that would take the value, when there is one.
    pub cast: Option<&'static str>,
}

fn misfit(reason: impl Into<String>, cast: Option<&'static str>) -> Misfit {
    Misfit {
        reason: reason.into(),
        cast,
    }
}

/// Appends one field (length and bytes, or NULL) for `value` as `ty`.
pub fn field(ty: PgType, value: ValueRef<'_>, out: &mut Vec<u8>) -> Result<(), Misfit> {
    if let ValueRef::Null = value {
        out.extend_from_slice(&(-1i32).to_be_bytes());
        return Ok(());
    }
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    let result = body(ty, value, out);
    if result.is_err() {
        out.truncate(at);
        return result;
    }
    let len = (out.len() - at - 4) as i32;
    out[at..at + 4].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

fn body(ty: PgType, value: ValueRef<'_>, out: &mut Vec<u8>) -> Result<(), Misfit> {
    match ty {
        PgType::Smallint => {
            let i = integer(value)?;
            let v = i16::try_from(i)
                .map_err(|_| misfit(format!("{i} is out of smallint range"), Some("bigint")))?;
            out.extend_from_slice(&v.to_be_bytes());
        }
        PgType::Integer => {
            let i = integer(value)?;
            let v = i32::try_from(i)
                .map_err(|_| misfit(format!("{i} is out of integer range"), Some("bigint")))?;
            out.extend_from_slice(&v.to_be_bytes());
        }
        PgType::Bigint => out.extend_from_slice(&integer(value)?.to_be_bytes()),
        PgType::Double => out.extend_from_slice(&double(value)?.to_bits().to_be_bytes()),
        PgType::Real => {
            let d = double(value)?;
            let f = d as f32;
            if f64::from(f) != d && !d.is_nan() {
                return Err(misfit(
                    format!("{d:?} does not fit a 4-byte real exactly"),
                    Some("double precision"),
                ));
            }
            out.extend_from_slice(&f.to_bits().to_be_bytes());
        }
        PgType::Boolean => out.push(u8::from(boolean(value)?)),
        PgType::Text | PgType::Varchar(_) => {
            let text = text(value)?;
            if let PgType::Varchar(Some(n)) = ty {
                let chars = text.chars().count();
                if chars > n as usize {
                    return Err(misfit(
                        format!("{chars} characters, longer than varchar({n})"),
                        Some("text"),
                    ));
                }
            }
            out.extend_from_slice(text.as_bytes());
        }
        PgType::Bytea => match value {
            ValueRef::Blob(b) | ValueRef::Text(b) => out.extend_from_slice(b),
            _ => return Err(misfit("a number in a bytea column", Some("text"))),
        },
        PgType::Timestamp | PgType::Timestamptz => {
            let micros = timestamp(value, ty == PgType::Timestamptz)?;
            out.extend_from_slice(&micros.to_be_bytes());
        }
        PgType::Date => {
            let days = date(value)?;
            out.extend_from_slice(&days.to_be_bytes());
        }
        PgType::Time => {
            let t = utf8(value, "time")?;
            let micros = parse_time(t.trim())
                .ok_or_else(|| misfit("not a time of day (HH:MM[:SS[.ffffff]])", Some("text")))?;
            out.extend_from_slice(&micros.to_be_bytes());
        }
        PgType::Json | PgType::Jsonb => {
            let t = json_text(value)?;
            if ty == PgType::Jsonb {
                if has_json_nul(&t) {
                    return Err(misfit(
                        "holds the JSON escape \\u0000 (a NUL character), which jsonb cannot store",
                        Some("json"),
                    ));
                }
                out.push(1);
            }
            out.extend_from_slice(t.as_bytes());
        }
        PgType::Numeric(bounds) => {
            let t = match value {
                ValueRef::Integer(i) => i.to_string(),
                ValueRef::Real(r) if r.is_finite() => format!("{r}"),
                ValueRef::Real(r) => {
                    return Err(misfit(
                        format!("{r} is not a finite number"),
                        Some("double precision"),
                    ));
                }
                other => utf8(other, "numeric")?.trim().to_string(),
            };
            numeric(&t, bounds, out)?;
        }
        PgType::Uuid => match value {
            ValueRef::Blob(b) if b.len() == 16 => out.extend_from_slice(b),
            other => {
                let t = utf8(other, "uuid")?;
                let hex: String = t
                    .trim()
                    .trim_matches(['{', '}'])
                    .chars()
                    .filter(|c| *c != '-')
                    .collect();
                if hex.len() != 32 {
                    return Err(misfit("not a UUID", Some("text")));
                }
                for i in 0..16 {
                    let b = u8::from_str_radix(hex.get(2 * i..2 * i + 2).unwrap_or("zz"), 16)
                        .map_err(|_| misfit("not a UUID", Some("text")))?;
                    out.push(b);
                }
            }
        },
    }
    Ok(())
}

fn integer(value: ValueRef<'_>) -> Result<i64, Misfit> {
    match value {
        ValueRef::Integer(i) => Ok(i),
        ValueRef::Real(r) if r.fract() == 0.0 && r.abs() < 9.0e15 => Ok(r as i64),
        ValueRef::Real(r) => Err(misfit(
            format!("{r:?} is not a whole number"),
            Some("double precision"),
        )),
        ValueRef::Text(_) => Err(misfit("text in an integer column", Some("text"))),
        _ => Err(misfit("a blob in an integer column", Some("bytea"))),
    }
}

fn double(value: ValueRef<'_>) -> Result<f64, Misfit> {
    match value {
        ValueRef::Real(r) => Ok(r),
        ValueRef::Integer(i) => {
            let d = i as f64;
            if d as i128 != i as i128 {
                return Err(misfit(
                    format!("{i} cannot be held exactly by a double"),
                    Some("numeric"),
                ));
            }
            Ok(d)
        }
        ValueRef::Text(_) => Err(misfit("text in a floating-point column", Some("text"))),
        _ => Err(misfit("a blob in a floating-point column", Some("bytea"))),
    }
}

fn boolean(value: ValueRef<'_>) -> Result<bool, Misfit> {
    match value {
        ValueRef::Integer(0) => Ok(false),
        ValueRef::Integer(1) => Ok(true),
        ValueRef::Text(t) => match t.to_ascii_lowercase().as_slice() {
            b"1" | b"t" | b"true" | b"y" | b"yes" | b"on" => Ok(true),
            b"0" | b"f" | b"false" | b"n" | b"no" | b"off" => Ok(false),
            _ => Err(misfit("text that is not a boolean", Some("text"))),
        },
        ValueRef::Integer(_) => Err(misfit(
            "an integer other than 0 or 1 in a boolean column",
            Some("bigint"),
        )),
        _ => Err(misfit("not a boolean", Some("text"))),
    }
}

/// Text for a text column: numbers as SQLite would print them, blobs only
/// when they are UTF-8; never a NUL byte (PostgreSQL text cannot hold one).
fn text(value: ValueRef<'_>) -> Result<std::borrow::Cow<'_, str>, Misfit> {
    match value {
        ValueRef::Integer(i) => Ok(i.to_string().into()),
        ValueRef::Real(r) => Ok(format!("{r:?}").into()),
        other => utf8(other, "text").map(Into::into),
    }
}

fn utf8<'a>(value: ValueRef<'a>, what: &str) -> Result<&'a str, Misfit> {
    let bytes = match value {
        ValueRef::Text(b) | ValueRef::Blob(b) => b,
        _ => {
            return Err(misfit(
                format!("a number where {what} was expected"),
                Some("text"),
            ));
        }
    };
    let s = std::str::from_utf8(bytes).map_err(|e| {
        misfit(
            format!(
                "not valid UTF-8 (byte {} of {})",
                e.valid_up_to() + 1,
                bytes.len()
            ),
            Some("bytea"),
        )
    })?;
    if bytes.contains(&0) {
        return Err(misfit(
            "contains a NUL byte, which PostgreSQL text cannot hold",
            Some("bytea"),
        ));
    }
    Ok(s)
}

/// Whether JSON text holds the escape `\u0000` (not an escaped backslash
/// followed by `u0000`): jsonb refuses it, json keeps it.
fn has_json_nul(t: &str) -> bool {
    let bytes = t.as_bytes();
    let mut from = 0;
    while let Some(at) = t.get(from..).and_then(|rest| rest.find("u0000")) {
        let u = from + at;
        let slashes = bytes
            .get(..u)
            .map_or(0, |b| b.iter().rev().take_while(|&&c| c == b'\\').count());
        if slashes % 2 == 1 {
            return true;
        }
        from = u + 5;
    }
    false
}

fn json_text(value: ValueRef<'_>) -> Result<std::borrow::Cow<'_, str>, Misfit> {
    match value {
        ValueRef::Integer(i) => Ok(i.to_string().into()),
        ValueRef::Real(r) if r.is_finite() => Ok(format!("{r:?}").into()),
        other => utf8(other, "JSON").map(Into::into),
    }
}

/// Microseconds since 2000-01-01 00:00:00 (UTC for `with_zone`).
/// Text must be ISO 8601; integers are Unix epoch seconds, or
/// milliseconds when at least 10^11 (after 1973 in milliseconds, after
/// the year 5138 in seconds).
fn timestamp(value: ValueRef<'_>, with_zone: bool) -> Result<i64, Misfit> {
    match value {
        ValueRef::Integer(i) => {
            let micros = if i.abs() < 100_000_000_000 {
                i.checked_mul(1_000_000)
            } else if i.abs() < 100_000_000_000_000 {
                i.checked_mul(1_000)
            } else {
                None
            };
            micros
                .and_then(|m| m.checked_sub(PG_EPOCH_DAYS * MICROS_PER_DAY))
                .ok_or_else(|| {
                    misfit(
                        format!("{i} is not Unix epoch seconds or milliseconds"),
                        Some("bigint"),
                    )
                })
        }
        ValueRef::Real(r) => Err(misfit(
            format!("{r:?}: a real number in a timestamp column (Julian day or fractional epoch?)"),
            Some("double precision"),
        )),
        other => {
            let t = utf8(other, "a timestamp")?;
            let (days, micros, offset) = parse_datetime(t.trim()).ok_or_else(|| {
                misfit(
                    "not an ISO 8601 timestamp (YYYY-MM-DD[ HH:MM[:SS[.ffffff]]])",
                    Some("text"),
                )
            })?;
            let mut v = (days - PG_EPOCH_DAYS) * MICROS_PER_DAY + micros;
            match offset {
                Some(off) if with_zone => v -= i64::from(off) * 1_000_000,
                Some(0) => {}
                Some(_) => {
                    return Err(misfit(
                        "has a UTC offset, but the column is timestamp without time zone",
                        Some("timestamptz"),
                    ));
                }
                None => {}
            }
            Ok(v)
        }
    }
}

fn date(value: ValueRef<'_>) -> Result<i32, Misfit> {
    let days = match value {
        ValueRef::Integer(_) => {
            let micros = timestamp(value, false)?;
            if micros.rem_euclid(MICROS_PER_DAY) != 0 {
                return Err(misfit(
                    "epoch value with a time of day in a date column",
                    Some("timestamp"),
                ));
            }
            micros.div_euclid(MICROS_PER_DAY)
        }
        other => {
            let t = utf8(other, "a date")?;
            let (days, micros, offset) = parse_datetime(t.trim())
                .ok_or_else(|| misfit("not an ISO 8601 date (YYYY-MM-DD)", Some("text")))?;
            if micros != 0 || offset.is_some_and(|o| o != 0) {
                return Err(misfit(
                    "has a time of day, but the column is a date",
                    Some("timestamp"),
                ));
            }
            days - PG_EPOCH_DAYS
        }
    };
    i32::try_from(days).map_err(|_| misfit("date out of range", Some("text")))
}

/// `YYYY-MM-DD[( |T)HH:MM[:SS[.f{1,9}]]][Z|±HH[:]MM]` → (days since
/// 1970-01-01, microseconds into the day, offset in seconds).
pub fn parse_datetime(s: &str) -> Option<(i64, i64, Option<i32>)> {
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    if b.len() == 10 {
        return Some((days, 0, None));
    }
    if b[10] != b' ' && b[10] != b'T' {
        return None;
    }
    let rest = &s[11..];
    let (time, offset) = split_offset(rest)?;
    Some((days, parse_time(time)?, offset))
}

fn split_offset(rest: &str) -> Option<(&str, Option<i32>)> {
    if let Some(t) = rest.strip_suffix('Z').or_else(|| rest.strip_suffix('z')) {
        return Some((t, Some(0)));
    }
    // an offset starts at the last '+' or '-' (times have no other signs)
    match rest.rfind(['+', '-']) {
        None => Some((rest, None)),
        Some(i) => {
            let sign = if rest.as_bytes()[i] == b'-' { -1 } else { 1 };
            let off: Vec<u8> = rest[i + 1..].bytes().filter(|c| *c != b':').collect();
            if off.len() != 4 && off.len() != 2 {
                return None;
            }
            let h = digits(&off[0..2])?;
            let m = if off.len() == 4 {
                digits(&off[2..4])?
            } else {
                0
            };
            if h > 23 || m > 59 {
                return None;
            }
            Some((
                rest[..i].trim_end(),
                Some(sign * (h as i32 * 3600 + m as i32 * 60)),
            ))
        }
    }
}

/// `HH:MM[:SS[.f{1,9}]]` → microseconds (sub-microsecond digits must be 0).
pub fn parse_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 5 || b[2] != b':' {
        return None;
    }
    let h = digits(&b[0..2])?;
    let m = digits(&b[3..5])?;
    let (mut sec, mut micros) = (0, 0i64);
    if b.len() > 5 {
        if b[5] != b':' || b.len() < 8 {
            return None;
        }
        sec = digits(&b[6..8])?;
        if b.len() > 8 {
            if b[8] != b'.' || b.len() == 9 {
                return None;
            }
            let frac = &b[9..];
            if frac.len() > 9 || !frac.iter().all(u8::is_ascii_digit) {
                return None;
            }
            for (i, d) in frac.iter().enumerate() {
                let d = i64::from(d - b'0');
                if i < 6 {
                    micros += d * 10i64.pow(5 - i as u32);
                } else if d != 0 {
                    return None; // nanoseconds would be rounded away
                }
            }
        }
    }
    if h > 23 || m > 59 || sec > 59 {
        return None;
    }
    Some(((h * 60 + m) * 60 + sec) * 1_000_000 + micros)
}

fn digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')))
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A decimal string as PostgreSQL's binary numeric; refuses what
/// `numeric(p, s)` would round or reject.
fn numeric(text: &str, bounds: Option<(u32, u32)>, out: &mut Vec<u8>) -> Result<(), Misfit> {
    let bad = || misfit(format!("`{text}` is not a decimal number"), Some("text"));
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], body[i + 1..].parse::<i32>().map_err(|_| bad())?),
        None => (body, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit())
        || exp.abs() > 1000
    {
        return Err(bad());
    }
    // all digits, and where the decimal point falls among them
    let all: String = format!("{int}{frac}");
    let point = int.len() as i64 + i64::from(exp);
    let (mut int_digits, mut frac_digits) = if point <= 0 {
        (
            String::new(),
            format!("{}{all}", "0".repeat((-point) as usize)),
        )
    } else if point as usize >= all.len() {
        (
            format!("{all}{}", "0".repeat(point as usize - all.len())),
            String::new(),
        )
    } else {
        (
            all[..point as usize].to_string(),
            all[point as usize..].to_string(),
        )
    };
    let dscale = frac_digits.len();
    int_digits = int_digits.trim_start_matches('0').to_string();
    let significant_frac = frac_digits.trim_end_matches('0').len();
    if let Some((p, s)) = bounds {
        if significant_frac > s as usize {
            return Err(misfit(
                format!(
                    "`{text}` has more than {s} decimal places: numeric({p},{s}) would round it"
                ),
                Some("numeric"),
            ));
        }
        if int_digits.len() > (p - s) as usize {
            return Err(misfit(
                format!("`{text}` does not fit numeric({p},{s})"),
                Some("numeric"),
            ));
        }
    }
    frac_digits.truncate(significant_frac);
    // base-10000 groups aligned on the decimal point
    let int_pad = (4 - int_digits.len() % 4) % 4;
    let int_digits = format!("{}{int_digits}", "0".repeat(int_pad));
    let frac_pad = (4 - frac_digits.len() % 4) % 4;
    let frac_digits = format!("{frac_digits}{}", "0".repeat(frac_pad));
    let groups: Vec<i16> = int_digits
        .as_bytes()
        .chunks(4)
        .chain(frac_digits.as_bytes().chunks(4))
        .map(|c| c.iter().fold(0i16, |acc, d| acc * 10 + i16::from(d - b'0')))
        .collect();
    let mut weight = (int_digits.len() / 4) as i32 - 1;
    let mut start = 0;
    while start < groups.len() && groups[start] == 0 {
        start += 1;
        weight -= 1;
    }
    let mut end = groups.len();
    while end > start && groups[end - 1] == 0 {
        end -= 1;
    }
    let digits = &groups[start..end];
    if digits.is_empty() {
        weight = 0;
    }
    let sign: u16 = if negative && !digits.is_empty() {
        0x4000
    } else {
        0
    };
    out.extend_from_slice(&(digits.len() as i16).to_be_bytes());
    out.extend_from_slice(&(weight as i16).to_be_bytes());
    out.extend_from_slice(&sign.to_be_bytes());
    out.extend_from_slice(&(dscale.min(16383) as u16).to_be_bytes());
    for d in digits {
        out.extend_from_slice(&d.to_be_bytes());
    }
    Ok(())
}

/// A short, printable rendering of a value for error messages.
pub fn preview(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Null => "NULL".into(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(r) => format!("{r:?}"),
        ValueRef::Text(t) => {
            let s = String::from_utf8_lossy(t);
            let short: String = s.chars().take(60).collect();
            let more = if s.chars().count() > 60 { "…" } else { "" };
            format!("{:?}{more}", short)
        }
        ValueRef::Blob(b) => {
            let hex: String = b.iter().take(16).map(|x| format!("{x:02x}")).collect();
            format!(
                "x'{hex}{}' ({} bytes)",
                if b.len() > 16 { "…" } else { "" },
                b.len()
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::checksum::numeric_text;
    use super::*;

    fn enc(ty: PgType, v: ValueRef<'_>) -> Result<Vec<u8>, Misfit> {
        let mut out = Vec::new();
        field(ty, v, &mut out)?;
        Ok(out[4..].to_vec())
    }

    #[test]
    fn timestamps_parse_iso_and_epoch_without_inventing_a_zone() {
        // 2000-01-01 00:00:00 is PostgreSQL's zero
        assert_eq!(
            enc(PgType::Timestamp, ValueRef::Text(b"2000-01-01 00:00:00")).unwrap(),
            0i64.to_be_bytes()
        );
        assert_eq!(
            enc(PgType::Timestamp, ValueRef::Text(b"2000-01-01T00:00:01.5")).unwrap(),
            1_500_000i64.to_be_bytes()
        );
        assert_eq!(
            enc(PgType::Timestamp, ValueRef::Text(b"2000-01-02")).unwrap(),
            MICROS_PER_DAY.to_be_bytes()
        );
        // epoch seconds and milliseconds of the same instant agree
        let s = enc(PgType::Timestamp, ValueRef::Integer(1_762_432_496)).unwrap();
        let ms = enc(PgType::Timestamp, ValueRef::Integer(1_762_432_496_000)).unwrap();
        let iso = enc(PgType::Timestamp, ValueRef::Text(b"2025-11-06 12:34:56")).unwrap();
        assert_eq!(s, iso);
        assert_eq!(ms, iso);
        assert!(
            enc(
                PgType::Timestamp,
                ValueRef::Text(b"2025-11-06 12:34:56+02:00")
            )
            .is_err()
        );
        let tz = enc(
            PgType::Timestamptz,
            ValueRef::Text(b"2025-11-06 14:34:56+02:00"),
        )
        .unwrap();
        assert_eq!(tz, iso);
        assert!(enc(PgType::Timestamp, ValueRef::Text(b"2025-02-30 00:00:00")).is_err());
        assert!(enc(PgType::Timestamp, ValueRef::Text(b"yesterday")).is_err());
        assert!(enc(PgType::Timestamp, ValueRef::Real(2460000.5)).is_err());
        assert_eq!(
            enc(
                PgType::Timestamp,
                ValueRef::Text(b"1999-12-31 23:59:59.999999")
            )
            .unwrap(),
            (-1i64).to_be_bytes()
        );
    }

    #[test]
    fn numbers_are_exact_or_refused() {
        assert_eq!(
            enc(PgType::Double, ValueRef::Real(0.1)).unwrap(),
            0.1f64.to_bits().to_be_bytes()
        );
        assert!(
            enc(PgType::Double, ValueRef::Integer(i64::MAX)).is_err(),
            "2^63-1 is not a double"
        );
        assert_eq!(
            enc(PgType::Bigint, ValueRef::Integer(i64::MIN)).unwrap(),
            i64::MIN.to_be_bytes()
        );
        assert!(enc(PgType::Integer, ValueRef::Integer(1 << 31)).is_err());
        assert!(enc(PgType::Bigint, ValueRef::Text(b"abc")).is_err());
        assert_eq!(
            enc(PgType::Double, ValueRef::Real(f64::INFINITY)).unwrap(),
            f64::INFINITY.to_bits().to_be_bytes()
        );
    }

    #[test]
    fn text_refuses_nul_and_invalid_utf8_and_overlong_values() {
        assert_eq!(
            enc(PgType::Text, ValueRef::Text("naïve".as_bytes())).unwrap(),
            "naïve".as_bytes()
        );
        let nul = enc(PgType::Text, ValueRef::Text(b"a\0b")).unwrap_err();
        assert_eq!(nul.cast, Some("bytea"));
        assert!(enc(PgType::Text, ValueRef::Text(b"\xff\xfe")).is_err());
        assert!(enc(PgType::Varchar(Some(3)), ValueRef::Text("abcd".as_bytes())).is_err());
        assert!(
            enc(PgType::Varchar(Some(3)), ValueRef::Text("äöü".as_bytes())).is_ok(),
            "characters, not bytes"
        );
        assert_eq!(enc(PgType::Text, ValueRef::Integer(42)).unwrap(), b"42");
        assert_eq!(
            enc(PgType::Bytea, ValueRef::Text(b"a\0b")).unwrap(),
            b"a\0b"
        );
    }

    #[test]
    fn booleans_take_0_1_and_words() {
        assert_eq!(enc(PgType::Boolean, ValueRef::Integer(1)).unwrap(), [1]);
        assert_eq!(enc(PgType::Boolean, ValueRef::Text(b"False")).unwrap(), [0]);
        assert!(enc(PgType::Boolean, ValueRef::Integer(2)).is_err());
    }

    fn num(text: &str, bounds: Option<(u32, u32)>) -> Result<String, Misfit> {
        let mut out = Vec::new();
        numeric(text, bounds, &mut out)?;
        Ok(numeric_text(&out).unwrap_or_default())
    }

    #[test]
    fn numerics_round_trip_through_the_binary_form() {
        for (input, canonical) in [
            ("0", "0"),
            ("1.50", "1.5"),
            ("-12345.6789", "-12345.6789"),
            ("0.0001", "0.0001"),
            ("100000000", "100000000"),
            ("1e3", "1000"),
            ("1.5e-5", "0.000015"),
            ("-0", "0"),
            (
                "123456789012345678901234567890",
                "123456789012345678901234567890",
            ),
        ] {
            assert_eq!(num(input, None).unwrap(), canonical, "{input}");
        }
        assert!(num("1.234", Some((10, 2))).is_err(), "would round");
        assert!(num("1.230", Some((10, 2))).is_ok());
        assert!(num("123456789", Some((10, 2))).is_err());
        assert!(num("abc", None).is_err());
    }

    #[test]
    fn a_json_nul_escape_is_told_from_an_escaped_backslash() {
        assert!(has_json_nul(r#"{"a": "x\u0000y"}"#));
        assert!(has_json_nul(r#"["\\\u0000"]"#));
        assert!(!has_json_nul(r#"{"a": "\\u0000"}"#));
        assert!(!has_json_nul(r#"{"u0000": 1}"#));
        let mut out = Vec::new();
        let err = field(
            PgType::Jsonb,
            ValueRef::Text(br#"{"a": "\u0000"}"#),
            &mut out,
        );
        assert!(err.is_err_and(|m| m.cast == Some("json")));
    }

    #[test]
    fn checksums_ignore_order_and_normalisation() {
        let types = [PgType::Bigint, PgType::Jsonb, PgType::Numeric(None)];
        let row = |id: i64, json: &str, n: &str| {
            let mut t = 3i16.to_be_bytes().to_vec();
            field(PgType::Bigint, ValueRef::Integer(id), &mut t).unwrap();
            field(PgType::Jsonb, ValueRef::Text(json.as_bytes()), &mut t).unwrap();
            field(PgType::Numeric(None), ValueRef::Text(n.as_bytes()), &mut t).unwrap();
            assert_eq!(tuple_len(&t), Some(t.len()));
            row_hash(&types, &t).unwrap()
        };
        let (mut a, mut b) = (Checksum::default(), Checksum::default());
        a.add(row(1, r#"{"b":1,"a":[true]}"#, "1.50"));
        a.add(row(2, "null", "2"));
        b.add(row(2, "null", "2.000"));
        b.add(row(1, r#"{"a": [true], "b": 1}"#, "1.5"));
        assert_eq!(a, b);
        let mut c = Checksum::default();
        c.add(row(1, r#"{"b":1,"a":[true]}"#, "1.51"));
        c.add(row(2, "null", "2"));
        assert_ne!(a, c);
    }
}
