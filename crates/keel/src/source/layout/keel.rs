//! keel's own layout: `<V>_<name>.sql` (up only) or `<V>_<name>.up.sql` +
//! `<V>_<name>.down.sql`, with `-- keel:` directives, and `R__<name>.sql`
//! repeatables.

use super::{DownRule, File, Part, Role};
use crate::error::SourceProblem;
use crate::source::name::{self, Direction};

pub(super) fn read(f: &File) -> Result<Vec<Part>, SourceProblem> {
    if !f.is_sql() {
        return Ok(Vec::new());
    }
    if let Some(name) = f
        .base()
        .strip_prefix("R__")
        .and_then(|n| n.strip_suffix(".sql"))
    {
        return Ok(vec![Part::new(
            0,
            name,
            Role::Repeatable,
            &f.path,
            f.text.clone(),
        )]);
    }
    let parsed =
        name::parse(f.base()).map_err(|message| SourceProblem::new(&f.path, None, message))?;
    let role = match parsed.direction {
        Direction::UpOnly => Role::Up(DownRule::Forbidden),
        Direction::Up => Role::Up(DownRule::Required),
        Direction::Down => Role::Down,
    };
    Ok(vec![Part::new(
        parsed.version,
        &parsed.name,
        role,
        &f.path,
        f.text.clone(),
    )])
}
