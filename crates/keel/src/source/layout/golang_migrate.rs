//! golang-migrate's layout
//! (<https://github.com/golang-migrate/migrate/blob/master/MIGRATIONS.md>):
//! `<version>_<title>.up.sql` and, optionally, `<version>_<title>.down.sql`.
//! golang-migrate runs each file as written, in no transaction of its own
//! (its docs suggest wrapping a file in `BEGIN; … COMMIT;`). keel runs a
//! file in its transaction where the engine allows, except a file that
//! holds its own transaction control: that one runs statement by statement,
//! as golang-migrate would run it. A folder of `.up.sql` files some of which
//! have no `.down.sql` is detected as golang-migrate's.

use super::{DownRule, File, Part, Role};
use crate::error::SourceProblem;

pub(super) fn read(f: &File) -> Result<Vec<Part>, SourceProblem> {
    let mut parts = super::sqlx::numbered(f, "golang-migrate")?;
    for p in &mut parts {
        p.as_written = true;
        if p.role == Role::Up(DownRule::Required) {
            p.role = Role::Up(DownRule::Optional);
        }
    }
    Ok(parts)
}
