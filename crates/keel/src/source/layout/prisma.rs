//! Prisma Migrate's layout
//! (<https://www.prisma.io/docs/orm/prisma-migrate/understanding-prisma-migrate/migration-histories>):
//! one folder per migration, `<timestamp>_<name>/migration.sql`, up only,
//! beside `migration_lock.toml`.

use super::{DownRule, File, Part, Role};
use crate::error::SourceProblem;

pub(super) fn read(f: &File) -> Result<Vec<Part>, SourceProblem> {
    let (Some(dir), "migration.sql") = (f.dir(), f.base()) else {
        return Ok(Vec::new());
    };
    let Some((version, name)) = super::version_prefix(dir).filter(|(_, n)| !n.is_empty()) else {
        return Err(SourceProblem::new(
            &f.path,
            None,
            format!(
                "folder `{dir}` does not start with a version: Prisma names them <timestamp>_<name>"
            ),
        ));
    };
    Ok(vec![Part::new(
        version,
        name,
        Role::Up(DownRule::Forbidden),
        &f.path,
        f.text.clone(),
    )])
}
