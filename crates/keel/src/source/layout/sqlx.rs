//! sqlx's layout (`sqlx-core/src/migrate/source.rs`): keel's names —
//! `<V>_<description>.sql`, or `.up.sql` + `.down.sql` — with sqlx's
//! directive: a first line `-- no-transaction` runs the file outside a
//! transaction. The version is any non-negative integer.

use super::{DownRule, File, Part, Role, version_prefix};
use crate::error::SourceProblem;

/// sqlx's marker, on the file's first line.
pub(super) fn claims(text: &str) -> bool {
    text.lines()
        .next()
        .is_some_and(|l| l.trim() == "-- no-transaction")
}

pub(super) fn read(f: &File) -> Result<Vec<Part>, SourceProblem> {
    let mut parts = numbered(f, "sqlx")?;
    for p in &mut parts {
        p.no_transaction = claims(&p.sql);
    }
    Ok(parts)
}

/// `<V>_<name>.sql`, `.up.sql`, `.down.sql` with any non-negative version.
pub(super) fn numbered(f: &File, tool: &str) -> Result<Vec<Part>, SourceProblem> {
    let Some(stem) = f.base().strip_suffix(".sql") else {
        return Ok(Vec::new());
    };
    let (stem, role) = if let Some(s) = stem.strip_suffix(".up") {
        (s, Role::Up(DownRule::Required))
    } else if let Some(s) = stem.strip_suffix(".down") {
        (s, Role::Down)
    } else {
        (stem, Role::Up(DownRule::Forbidden))
    };
    let Some((version, name)) = version_prefix(stem).filter(|(_, n)| !n.is_empty()) else {
        return Err(SourceProblem::new(
            &f.path,
            None,
            format!("expected <version>_<name>.sql, .up.sql or .down.sql ({tool})"),
        ));
    };
    Ok(vec![Part::new(
        version,
        name,
        role,
        &f.path,
        f.text.clone(),
    )])
}
