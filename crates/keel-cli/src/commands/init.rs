//! `keel init`: creates the migrations folder and a commented `keel.toml`.

use super::{Context, with_header};
use crate::exit::ExitStatus;
use keel::Result;
use serde_json::json;

const CONFIG: &str = r#"# keel configuration. Flags and DATABASE_URL (environment or .env) take precedence.

# The database keel manages. Passwords are never printed.
#   sqlite:keel.db | postgres://user:pass@host:5432/db | mysql://user:pass@host:3306/db
# database_url = "sqlite:keel.db"

# Folder of <version>_<name>.sql (or .up.sql + .down.sql) files.
# migrations = "migrations"

# The folder's layout: auto (detected from its files), keel, sqlx, diesel,
# golang-migrate, dbmate, goose, flyway or prisma.
# layout = "auto"

# Tracking table.
# table = "keel_migrations"

# Seconds to wait for another runner's migration lock.
# lock_timeout = 300
"#;

pub fn run(ctx: &Context) -> Result<ExitStatus> {
    let dir = &ctx.settings.migrations_dir;
    let config = std::path::Path::new(keel::settings::CONFIG_FILE);
    let mut created = Vec::new();
    let mut existing = Vec::new();
    if dir.is_dir() {
        existing.push(dir.display().to_string());
    } else {
        std::fs::create_dir_all(dir).map_err(|e| keel::Error::Io {
            path: dir.display().to_string(),
            source: e,
        })?;
        created.push(dir.display().to_string());
    }
    if config.exists() {
        existing.push(config.display().to_string());
    } else {
        std::fs::write(config, CONFIG).map_err(|e| keel::Error::Io {
            path: config.display().to_string(),
            source: e,
        })?;
        created.push(config.display().to_string());
    }
    for c in &created {
        ctx.printer.line(format_args!("created {c}"));
    }
    for e in &existing {
        ctx.printer.line(format_args!("kept {e} (already exists)"));
    }
    ctx.printer
        .line("next: keel new <name> to write a migration, keel up to apply");
    ctx.printer.document(
        "init",
        with_header(ctx, json!({ "created": created, "existing": existing })),
    );
    Ok(ExitStatus::Ok)
}
