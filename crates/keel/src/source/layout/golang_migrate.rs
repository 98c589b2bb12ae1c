//! golang-migrate's layout
//! (<https://github.com/golang-migrate/migrate/blob/master/MIGRATIONS.md>):
//! `<version>_<title>.up.sql` and, optionally, `<version>_<title>.down.sql`.
//! No directives: every file runs in a transaction where the engine allows.

use super::{DownRule, File, Part, Role};
use crate::error::SourceProblem;

pub(super) fn read(f: &File) -> Result<Vec<Part>, SourceProblem> {
    let mut parts = super::sqlx::numbered(f, "golang-migrate")?;
    for p in &mut parts {
        if p.role == Role::Up(DownRule::Required) {
            p.role = Role::Up(DownRule::Optional);
        }
    }
    Ok(parts)
}
