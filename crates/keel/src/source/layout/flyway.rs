//! Flyway's SQL layout
//! (<https://documentation.red-gate.com/fd/migrations-184127470.html>):
//! `V<version>__<description>.sql` versioned migrations, `U<version>__…`
//! undo files, `R__<description>.sql` repeatables (re-applied whenever their
//! checksum changes, after the versioned ones), and a script config file
//! `<script>.sql.conf` whose `executeInTransaction=false` runs that script
//! outside a transaction.
//!
//! **Versions.** Flyway versions are dotted (`1`, `1.2`, `2.0.1`; `_` may
//! stand for `.`) and compare part by part, trailing zeros ignored. keel's
//! versions are integers, so a folder's versions map to them this way, which
//! keeps Flyway's order:
//!
//! - when no version in the folder has more than one part, the version is
//!   the number itself (`V20230101120000__x` is 20230101120000);
//! - otherwise each version `a.b.c.d` (up to four parts, `b`, `c` and `d` at
//!   most 999, missing parts 0) is `a·10⁹ + b·10⁶ + c·10³ + d`, so `1.2` is
//!   1002000000 and `1.10` is 1010000000.
//!
//! Adding the folder's first dotted version therefore renumbers it: keel
//! then reports the old rows as missing rather than guessing (`keel adopt
//! --from flyway` again maps Flyway's own history onto the new numbers).

use super::{DownRule, File, Part, Role};
use crate::error::SourceProblem;

/// Whether a file name is one of Flyway's SQL migrations.
pub(super) fn claims(base: &str) -> bool {
    split_name(base).is_some()
}

/// `(prefix, version, description)` of `V1.2__x.sql`, `U1__x.sql`, `R__x.sql`.
fn split_name(base: &str) -> Option<(char, &str, &str)> {
    let stem = base.strip_suffix(".sql")?;
    let mut chars = stem.chars();
    let prefix = chars.next().filter(|c| matches!(c, 'V' | 'U' | 'R'))?;
    let rest = chars.as_str();
    let (version, description) = rest.split_once("__")?;
    if prefix == 'R' {
        return version.is_empty().then_some((prefix, version, description));
    }
    let ok = !version.is_empty()
        && version.starts_with(|c: char| c.is_ascii_digit())
        && version
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '_');
    ok.then_some((prefix, version, description))
}

/// The parts of a dotted version, trailing zeros removed.
pub(crate) fn version_parts(version: &str) -> Option<Vec<u64>> {
    let mut parts = version
        .split(['.', '_'])
        .map(|p| p.parse::<u64>().ok())
        .collect::<Option<Vec<u64>>>()?;
    while parts.len() > 1 && parts.last() == Some(&0) {
        parts.pop();
    }
    Some(parts)
}

/// keel's integer for a Flyway version (see the module documentation).
pub(crate) fn map_version(parts: &[u64], dotted: bool) -> Result<i64, String> {
    if !dotted {
        let [only] = parts else {
            return Err("expected a single-part version".to_string());
        };
        return i64::try_from(*only).map_err(|_| format!("version {only} is too large"));
    }
    if parts.len() > 4 {
        return Err(
            "has more than four version parts; keel maps at most four (a.b.c.d)".to_string(),
        );
    }
    let mut value: i64 = 0;
    for (i, p) in (0..4).map(|i| (i, parts.get(i).copied().unwrap_or(0))) {
        if i > 0 && p > 999 {
            return Err(format!(
                "version part {p} is above 999; keel maps dotted versions as a.b.c.d with b, c, d at most 999"
            ));
        }
        let p = i64::try_from(p).map_err(|_| format!("version part {p} is too large"))?;
        value = value
            .checked_mul(if i == 0 { 1 } else { 1000 })
            .and_then(|v| v.checked_add(p))
            .ok_or_else(|| "version is too large to map onto keel's integers".to_string())?;
    }
    Ok(value)
}

/// Whether `files` hold a dotted version (then every version is mapped).
pub(crate) fn is_dotted(files: &[&str]) -> bool {
    files.iter().any(|base| {
        split_name(base)
            .and_then(|(_, v, _)| version_parts(v))
            .is_some_and(|p| p.len() > 1)
    })
}

/// keel's version of a Flyway script name in a folder with (`dotted`) or
/// without dotted versions; `None` for repeatables and other files.
pub(crate) fn script_version(base: &str, dotted: bool) -> Option<Result<i64, String>> {
    let (prefix, version, _) = split_name(base)?;
    if prefix == 'R' {
        return None;
    }
    let parts = version_parts(version)?;
    Some(map_version(&parts, dotted))
}

/// The first Flyway placeholder (`${name}`, `${flyway:user}`) in `text`:
/// its line and text. Flyway replaces them before it runs a script, and
/// stops at one it has no value for.
fn placeholder(text: &str) -> Option<(usize, &str)> {
    let mut from = 0;
    while let Some(at) = text[from..].find("${") {
        let start = from + at;
        let rest = &text[start + 2..];
        let len = rest
            .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | ':' | '.' | '-')))
            .unwrap_or(rest.len());
        if len > 0 && rest[len..].starts_with('}') {
            let line = 1 + text[..start].matches('\n').count();
            return Some((line, &text[start..start + 2 + len + 1]));
        }
        from = start + 2;
    }
    None
}

/// `placeholderReplacement=false` in the folder's `flyway.conf`/`flyway.toml`.
fn replacement_off(files: &[File]) -> bool {
    files
        .iter()
        .filter(|f| matches!(f.base(), "flyway.conf" | "flyway.toml"))
        .any(|f| {
            f.text.lines().any(|l| {
                let l: String = l.chars().filter(|c| !c.is_whitespace()).collect();
                let l = l.to_ascii_lowercase();
                l.ends_with("placeholderreplacement=false")
            })
        })
}

pub(super) fn read(files: &[File], parts: &mut Vec<Part>, problems: &mut Vec<SourceProblem>) {
    let top: Vec<&File> = files.iter().filter(|f| f.dir().is_none()).collect();
    let names: Vec<&str> = top.iter().map(|f| f.base()).collect();
    let dotted = is_dotted(&names);
    let replacement_off = replacement_off(files);
    for f in &top {
        let base = f.base();
        if !base.ends_with(".sql") {
            continue;
        }
        let Some((prefix, _, description)) = split_name(base) else {
            problems.push(SourceProblem::new(
                &f.path,
                None,
                "expected V<version>__<description>.sql, U<version>__<description>.sql or R__<description>.sql (Flyway)".to_string(),
            ));
            continue;
        };
        let role = match prefix {
            'V' => Role::Up(DownRule::Optional),
            'U' => Role::Down,
            _ => Role::Repeatable,
        };
        let version = match script_version(base, dotted) {
            None => 0,
            Some(Ok(v)) => v,
            Some(Err(message)) => {
                problems.push(SourceProblem::new(&f.path, None, message));
                continue;
            }
        };
        if !replacement_off && let Some((line, found)) = placeholder(&f.text) {
            problems.push(SourceProblem::new(
                &f.path,
                Some(line),
                format!(
                    "Flyway placeholder `{found}`: Flyway replaces it before running the script, keel does not (it would run the text as written): write the value into the file, or set `placeholderReplacement=false` in flyway.conf if the text is meant literally"
                ),
            ));
            continue;
        }
        let mut part = Part::new(version, description, role, &f.path, f.text.clone());
        let conf = format!("{}.conf", f.path);
        if let Some(c) = files.iter().find(|c| c.path == conf) {
            part.no_transaction = c.text.lines().any(|l| {
                let l: String = l.chars().filter(|c| !c.is_whitespace()).collect();
                l.eq_ignore_ascii_case("executeInTransaction=false")
            });
        }
        parts.push(part);
    }
}
