//! diesel's layout (`diesel_migrations`, `migrations_internals/src/lib.rs`;
//! <https://diesel.rs/guides/getting-started>): one folder per migration,
//! `<version>_<name>/up.sql` and `down.sql`, where the version is what
//! precedes the first `_` with `-` removed (`2023-01-01-000000_x` is
//! 20230101000000; `00000000000000_diesel_initial_setup` is 0). An optional
//! `metadata.toml` with `run_in_transaction = false` runs both files outside
//! a transaction.

use super::{DownRule, File, Part, Role};
use crate::error::SourceProblem;

/// The version and name of a diesel migration folder.
pub(crate) fn folder(dir: &str) -> Option<(i64, &str)> {
    let (v, name) = dir.split_once('_')?;
    let digits: String = v.chars().filter(|c| *c != '-').collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || name.is_empty() {
        return None;
    }
    Some((digits.parse().ok()?, name))
}

pub(super) fn read(f: &File, all: &[File]) -> Result<Vec<Part>, SourceProblem> {
    let Some(dir) = f.dir() else {
        return Ok(Vec::new());
    };
    let role = match f.base() {
        "up.sql" => Role::Up(DownRule::Optional),
        "down.sql" => Role::Down,
        _ => return Ok(Vec::new()),
    };
    let Some((version, name)) = folder(dir) else {
        return Err(SourceProblem::new(
            &f.path,
            None,
            format!(
                "folder `{dir}` does not start with a version: diesel names them <version>_<name>, e.g. 2023-01-01-000000_create_users"
            ),
        ));
    };
    let mut part = Part::new(version, name, role, &f.path, f.text.clone());
    let metadata = format!("{dir}/metadata.toml");
    if let Some(m) = all.iter().find(|m| m.path == metadata) {
        #[derive(serde::Deserialize)]
        struct Metadata {
            run_in_transaction: Option<bool>,
        }
        let parsed: Metadata = toml::from_str(&m.text).map_err(|e| {
            SourceProblem::new(&m.path, None, format!("not valid TOML: {}", e.message()))
        })?;
        part.no_transaction = parsed.run_in_transaction == Some(false);
    }
    Ok(vec![part])
}
