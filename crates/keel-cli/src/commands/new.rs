//! `keel new NAME [--reversible]`: creates the next migration file(s),
//! versioned by the UTC timestamp (or one above the newest version, so a
//! new file always sorts last).

use super::{Context, with_header};
use crate::cli::NewArgs;
use crate::exit::ExitStatus;
use keel::Result;
use serde_json::json;
use std::time::{SystemTime, UNIX_EPOCH};

pub fn run(ctx: &Context, args: &NewArgs) -> Result<ExitStatus> {
    let joined = args.name.join(" ");
    let name = slug(&joined);
    if name.is_empty() {
        return Err(keel::Error::InvalidInput {
            message: format!(
                "`{}` has no letters or digits to name a migration with",
                joined
            ),
            hint: Some("e.g. keel new add_users_email".into()),
        });
    }
    let dir = &ctx.settings.migrations_dir;
    let io = |e| keel::Error::Io {
        path: dir.display().to_string(),
        source: e,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let newest = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok())
        .filter_map(|e| keel::source::name::parse(&e.file_name().to_string_lossy()).ok())
        .map(|f| f.version)
        .max()
        .unwrap_or(0);
    let version = utc_timestamp().max(newest.saturating_add(1));
    let header = format!("-- {name}\n-- Write the SQL here; end each statement with `;`.\n");
    let files: Vec<(String, String)> = if args.reversible {
        vec![
            (format!("{version}_{name}.up.sql"), header.clone()),
            (
                format!("{version}_{name}.down.sql"),
                format!("-- revert {name}\n-- Undo what the .up.sql file does.\n"),
            ),
        ]
    } else {
        vec![(format!("{version}_{name}.sql"), header)]
    };
    let mut created = Vec::new();
    for (file, body) in &files {
        let path = dir.join(file);
        std::fs::write(&path, body).map_err(|e| keel::Error::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        ctx.printer.line(format_args!("created {}", path.display()));
        created.push(path.display().to_string());
    }
    ctx.printer.document(
        "new",
        with_header(
            ctx,
            json!({ "version": version, "name": name, "files": created }),
        ),
    );
    Ok(ExitStatus::Ok)
}

fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().chars() {
        if c.is_alphanumeric() || c == '-' {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_string()
}

/// `YYYYMMDDHHMMSS` in UTC.
fn utc_timestamp() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // civil-from-days (Howard Hinnant's algorithm)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    ((year * 100 + month) * 100 + day) * 1_000_000
        + (rem / 3600) * 10_000
        + (rem % 3600 / 60) * 100
        + rem % 60
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs_and_timestamps() {
        assert_eq!(super::slug("Add Users email!"), "add_users_email");
        let ts = super::utc_timestamp();
        assert!(
            (20_250_101_000_000..21_000_000_000_000).contains(&ts),
            "{ts}"
        );
    }
}
