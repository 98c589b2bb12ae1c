//! `keel new NAME [--reversible]`: creates the next migration file(s),
//! versioned by the UTC timestamp (or one above the newest version, so a
//! new file always sorts last).

use super::{Context, with_header};
use crate::cli::NewArgs;
use crate::exit::ExitStatus;
use keel::Result;
use keel::source::Layout;
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
    let (layout, newest) = keel::Migrations::survey(dir, ctx.settings.layout)?;
    let version = utc_timestamp().max(newest.unwrap_or(0).saturating_add(1));
    let files = layout_files(layout, dir, version, &name, args.reversible)?;
    let mut created = Vec::new();
    for (file, body) in &files {
        let path = dir.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
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
            json!({ "version": version, "name": name, "layout": layout, "files": created }),
        ),
    );
    Ok(ExitStatus::Ok)
}

/// The files of a new migration in `layout`: (path in the folder, text).
fn layout_files(
    layout: Layout,
    dir: &std::path::Path,
    version: i64,
    name: &str,
    reversible: bool,
) -> Result<Vec<(String, String)>> {
    let header = format!("-- {name}\n-- Write the SQL here; end each statement with `;`.\n");
    let undo = format!(
        "-- revert {name}\n-- Undo what the up migration does (leave it empty if it cannot be undone).\n"
    );
    Ok(match layout {
        Layout::Keel | Layout::Sqlx if !reversible => {
            vec![(format!("{version}_{name}.sql"), header)]
        }
        Layout::Keel | Layout::Sqlx | Layout::GolangMigrate => vec![
            (format!("{version}_{name}.up.sql"), header),
            (format!("{version}_{name}.down.sql"), undo),
        ],
        Layout::Diesel => {
            let folder = diesel_folder(version, name);
            vec![
                (format!("{folder}/up.sql"), header),
                (format!("{folder}/down.sql"), undo),
            ]
        }
        Layout::Prisma => vec![(format!("{version}_{name}/migration.sql"), header)],
        Layout::Dbmate => vec![(
            format!("{version}_{name}.sql"),
            format!("-- migrate:up\n{header}\n-- migrate:down\n"),
        )],
        Layout::Goose => vec![(
            format!("{version}_{name}.sql"),
            format!("-- +goose Up\n{header}\n-- +goose Down\n"),
        )],
        Layout::Flyway => {
            let next = flyway_next(dir)?;
            let mut files = vec![(format!("V{next}__{name}.sql"), header)];
            if reversible {
                files.push((format!("U{next}__{name}.sql"), undo));
            }
            files
        }
    })
}

/// diesel's folder name: `YYYY-MM-DD-HHMMSS_<name>`.
fn diesel_folder(version: i64, name: &str) -> String {
    let v = format!("{version:014}");
    match (v.get(0..4), v.get(4..6), v.get(6..8), v.get(8..)) {
        (Some(y), Some(m), Some(d), Some(t)) if v.len() == 14 => format!("{y}-{m}-{d}-{t}_{name}"),
        _ => format!("{v}_{name}"),
    }
}

/// The next Flyway version: `1` in an empty folder, one above the largest
/// leading number when the folder counts (V1, V2, …), else a UTC timestamp.
fn flyway_next(dir: &std::path::Path) -> Result<String> {
    let mut largest: Option<u64> = None;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if let Some(rest) = n.strip_prefix('V').or_else(|| n.strip_prefix('U')) {
                let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
                if let Ok(v) = digits.parse::<u64>() {
                    largest = Some(largest.map_or(v, |l| l.max(v)));
                }
            }
        }
    }
    Ok(match largest {
        Some(v) if v < 10_000_000_000 => (v + 1).to_string(),
        Some(_) => utc_timestamp().to_string(),
        None => "1".to_string(),
    })
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
    fn new_files_follow_the_folder_layout() {
        use keel::source::Layout;
        let dir = std::path::Path::new("/nonexistent");
        let names = |l: Layout, reversible: bool| -> Vec<String> {
            super::layout_files(l, dir, 20240102030405, "add_x", reversible)
                .unwrap()
                .into_iter()
                .map(|(n, _)| n)
                .collect()
        };
        assert_eq!(names(Layout::Keel, false), ["20240102030405_add_x.sql"]);
        assert_eq!(
            names(Layout::Diesel, false),
            [
                "2024-01-02-030405_add_x/up.sql",
                "2024-01-02-030405_add_x/down.sql"
            ]
        );
        assert_eq!(
            names(Layout::GolangMigrate, false),
            [
                "20240102030405_add_x.up.sql",
                "20240102030405_add_x.down.sql"
            ]
        );
        assert_eq!(
            names(Layout::Flyway, true),
            ["V1__add_x.sql", "U1__add_x.sql"]
        );
        let goose = super::layout_files(Layout::Goose, dir, 1, "x", false).unwrap();
        assert!(goose[0].1.starts_with("-- +goose Up") && goose[0].1.contains("-- +goose Down"));
    }

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
