//! dbmate's layout (<https://github.com/amacneil/dbmate#creating-migrations>):
//! one file per migration, `<version>_<name>.sql`, with a `-- migrate:up`
//! section and a `-- migrate:down` section. `transaction:false` after a
//! marker (`-- migrate:up transaction:false`) runs that section outside a
//! transaction. An empty down section means the migration is not reversible.

use super::{DownRule, File, Part, Role, version_prefix};
use crate::error::SourceProblem;

fn marker(line: &str) -> Option<(&'static str, &str)> {
    let rest = line.trim().strip_prefix("--")?.trim_start();
    if let Some(opts) = rest.strip_prefix("migrate:up") {
        return Some(("up", opts));
    }
    rest.strip_prefix("migrate:down").map(|opts| ("down", opts))
}

pub(super) fn claims(text: &str) -> bool {
    text.lines()
        .any(|l| marker(l).is_some_and(|(d, _)| d == "up"))
}

pub(super) fn read(f: &File) -> Result<Vec<Part>, SourceProblem> {
    if !f.is_sql() {
        return Ok(Vec::new());
    }
    let problem = |line: Option<usize>, m: String| SourceProblem::new(&f.path, line, m);
    let stem = f.base().trim_end_matches(".sql");
    let Some((version, name)) = version_prefix(stem).filter(|(_, n)| !n.is_empty()) else {
        return Err(problem(
            None,
            "expected <version>_<name>.sql (dbmate)".to_string(),
        ));
    };
    // Each section keeps its lines' positions (blank lines elsewhere), so
    // line numbers in errors are the file's.
    let lines: Vec<&str> = f.text.split('\n').collect();
    let mut sections: Vec<(&str, usize, bool)> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if let Some((direction, options)) = marker(line) {
            let mut no_transaction = false;
            for opt in options.split_whitespace() {
                match opt {
                    "transaction:false" => no_transaction = true,
                    "transaction:true" => {}
                    other => {
                        return Err(problem(
                            Some(i + 1),
                            format!("unknown dbmate option `{other}` (known: transaction:false)"),
                        ));
                    }
                }
            }
            if sections.iter().any(|(d, _, _)| *d == direction) {
                return Err(problem(
                    Some(i + 1),
                    format!("a second `-- migrate:{direction}` section"),
                ));
            }
            sections.push((direction, i, no_transaction));
        }
    }
    if !sections.iter().any(|(d, _, _)| *d == "up") {
        return Err(problem(
            None,
            "no `-- migrate:up` line: dbmate files start their SQL with it".to_string(),
        ));
    }
    let first = sections.iter().map(|s| s.1).min().unwrap_or(0);
    refuse_header_directive(&f.path, &lines, first, "-- migrate:up")?;
    let mut parts = Vec::new();
    for (k, (direction, start, no_transaction)) in sections.iter().enumerate() {
        let end = sections.get(k + 1).map_or(lines.len(), |s| s.1);
        let body = section_text(&lines, *start, end);
        let role = if *direction == "up" {
            Role::Up(DownRule::Optional)
        } else {
            Role::Down
        };
        let mut part = Part::new(
            version,
            name,
            role,
            &format!("{} (-- migrate:{direction})", f.path),
            body,
        );
        part.no_transaction = *no_transaction;
        parts.push(part);
    }
    Ok(parts)
}

/// A `-- keel:` line before a file's first section belongs to no section:
/// an error naming its line, rather than a directive silently lost.
pub(super) fn refuse_header_directive(
    path: &str,
    lines: &[&str],
    first: usize,
    marker: &str,
) -> Result<(), SourceProblem> {
    for (i, line) in lines.iter().take(first).enumerate() {
        let comment = line.trim_start().strip_prefix("--").map(str::trim_start);
        if comment
            .and_then(|c| c.get(..5))
            .is_some_and(|head| head.eq_ignore_ascii_case("keel:"))
        {
            return Err(SourceProblem::new(
                path,
                Some(i + 1),
                format!(
                    "a `-- keel:` directive before `{marker}` applies to no section: move it to the line after `{marker}` (or after the section marker it is meant for)"
                ),
            ));
        }
    }
    Ok(())
}

/// Lines `start+1 .. end`, with every other line blanked so that line
/// numbers stay the file's.
pub(super) fn section_text(lines: &[&str], start: usize, end: usize) -> String {
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        if i > start && i < end {
            out.push_str(line);
        }
        if i + 1 < lines.len() {
            out.push('\n');
        }
    }
    out
}
