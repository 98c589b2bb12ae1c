//! goose's SQL layout (<https://pressly.github.io/goose/documentation/annotations/>):
//! one file per migration, `<version>_<name>.sql`, with `-- +goose Up` and
//! `-- +goose Down` sections. What stands between `-- +goose StatementBegin`
//! and `-- +goose StatementEnd` is one statement (a function body with its
//! own semicolons); `-- +goose NO TRANSACTION` runs the file outside a
//! transaction. Annotations are matched without regard to case, as goose does.

use super::dbmate::section_text;
use super::{DownRule, File, Part, Role, Splitting, version_prefix};
use crate::dialect::Dialect;
use crate::error::SourceProblem;
use crate::source::split::{Statement, split as split_standard};

/// The annotation of a `-- +goose …` line, lowercased.
fn annotation(line: &str) -> Option<String> {
    let rest = line.trim().strip_prefix("--")?.trim_start();
    let rest = rest.strip_prefix("+goose")?;
    Some(
        rest.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_ascii_lowercase(),
    )
}

pub(super) fn claims(text: &str) -> bool {
    text.lines()
        .any(|l| annotation(l).is_some_and(|a| a == "up"))
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
            "expected <version>_<name>.sql (goose)".to_string(),
        ));
    };
    let lines: Vec<&str> = f.text.split('\n').collect();
    let mut sections: Vec<(&str, usize)> = Vec::new();
    let mut no_transaction = false;
    let mut in_block: Option<usize> = None;
    for (i, line) in lines.iter().enumerate() {
        let Some(a) = annotation(line) else { continue };
        match a.as_str() {
            "up" | "down" => {
                if let Some(start) = in_block {
                    return Err(problem(
                        Some(start + 1),
                        "`-- +goose StatementBegin` without its `StatementEnd`".to_string(),
                    ));
                }
                let d = if a == "up" { "up" } else { "down" };
                if sections.iter().any(|(s, _)| *s == d) {
                    return Err(problem(Some(i + 1), format!("a second `-- +goose {a}`")));
                }
                sections.push((d, i));
            }
            "statementbegin" if in_block.is_none() => in_block = Some(i),
            "statementend" if in_block.is_some() => in_block = None,
            "statementbegin" | "statementend" => {
                return Err(problem(
                    Some(i + 1),
                    "`StatementBegin` and `StatementEnd` must alternate".to_string(),
                ));
            }
            "no transaction" => no_transaction = true,
            other => {
                return Err(problem(
                    Some(i + 1),
                    format!(
                        "goose annotation `{other}` is not supported by keel (known: Up, Down, StatementBegin, StatementEnd, NO TRANSACTION)"
                    ),
                ));
            }
        }
    }
    if let Some(start) = in_block {
        return Err(problem(
            Some(start + 1),
            "`-- +goose StatementBegin` without its `StatementEnd`".to_string(),
        ));
    }
    if !sections.iter().any(|(d, _)| *d == "up") {
        return Err(problem(
            None,
            "no `-- +goose Up` line: goose files start their SQL with it".to_string(),
        ));
    }
    let first = sections.iter().map(|s| s.1).min().unwrap_or(0);
    super::dbmate::refuse_header_directive(&f.path, &lines, first, "-- +goose Up")?;
    let mut parts = Vec::new();
    for (k, (direction, start)) in sections.iter().enumerate() {
        let end = sections.get(k + 1).map_or(lines.len(), |s| s.1);
        let role = if *direction == "up" {
            Role::Up(DownRule::Optional)
        } else {
            Role::Down
        };
        let label = if *direction == "up" { "Up" } else { "Down" };
        let mut part = Part::new(
            version,
            name,
            role,
            &format!("{} (-- +goose {label})", f.path),
            section_text(&lines, *start, end),
        );
        part.no_transaction = no_transaction;
        part.splitting = Splitting::Goose;
        parts.push(part);
    }
    Ok(parts)
}

/// keel's splitter outside `StatementBegin`/`StatementEnd`, one statement
/// for each block (its final `;` removed).
pub(super) fn split(sql: &str, dialect: Dialect) -> Vec<Statement> {
    let mut out = Vec::new();
    let mut offset = 0;
    // (byte offset, line) where the current plain stretch or block starts
    let mut plain = Some((0usize, 1usize));
    let mut block: Option<(usize, usize)> = None;
    for (line_no, line) in (1..).zip(sql.split_inclusive('\n')) {
        match annotation(line).as_deref() {
            Some("statementbegin") => {
                if let Some((start, first)) = plain.take() {
                    standard(
                        sql.get(start..offset).unwrap_or_default(),
                        first,
                        dialect,
                        &mut out,
                    );
                }
                block = Some((offset + line.len(), line_no + 1));
            }
            Some("statementend") => {
                if let Some((start, first)) = block.take() {
                    let body = sql.get(start..offset).unwrap_or_default();
                    let text = body.trim();
                    let text = text.strip_suffix(';').unwrap_or(text).trim_end();
                    if !text.is_empty() {
                        let skipped = body.len() - body.trim_start().len();
                        let lead = body
                            .get(..skipped)
                            .unwrap_or_default()
                            .matches('\n')
                            .count();
                        out.push(Statement {
                            text: text.to_string(),
                            line: first + lead,
                        });
                    }
                }
                plain = Some((offset + line.len(), line_no + 1));
            }
            _ => {}
        }
        offset += line.len();
    }
    if let Some((start, first)) = plain {
        standard(
            sql.get(start..).unwrap_or_default(),
            first,
            dialect,
            &mut out,
        );
    }
    out
}

fn standard(text: &str, first_line: usize, dialect: Dialect, out: &mut Vec<Statement>) {
    for mut s in split_standard(text, dialect) {
        s.line += first_line - 1;
        out.push(s);
    }
}
