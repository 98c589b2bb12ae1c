//! Migration files: loading a folder (or files embedded at compile time),
//! validating every name and body before anything touches a database, and
//! the parsed [`Migration`] type the planner and runner work with.
//!
//! Validation reports *every* problem at once, each naming its file: a bad
//! name, a duplicate version, a non-UTF-8 or empty file, a down file without
//! its up file, an unknown `-- keel:` directive.

pub mod checksum;
pub mod directives;
pub mod name;
pub mod split;
pub mod textdiff;

use crate::error::{Error, SourceProblem};
pub use checksum::Checksum;
pub use directives::Directives;
use name::Direction;
use std::collections::BTreeMap;
use std::path::Path;

/// One SQL file of a migration.
#[derive(Clone, Debug)]
pub struct SqlFile {
    /// The file name, e.g. `0003_add_email.up.sql`.
    pub file: String,
    /// The file's text, BOM removed and line endings normalised to LF.
    pub sql: String,
    pub checksum: Checksum,
    pub directives: Directives,
}

/// A migration found on disk or embedded: its up file and optional down file.
#[derive(Clone, Debug)]
pub struct Migration {
    pub version: i64,
    pub name: String,
    pub up: SqlFile,
    pub down: Option<SqlFile>,
}

/// A file embedded by [`embed_migrations!`](crate::embed_migrations).
#[derive(Clone, Copy, Debug)]
pub struct EmbeddedFile {
    pub name: &'static str,
    pub bytes: &'static [u8],
}

/// A validated set of migrations, ordered by version.
#[derive(Clone, Debug, Default)]
pub struct Migrations {
    /// Where they came from: a folder path, or `embedded`.
    pub origin: String,
    list: Vec<Migration>,
}

impl Migrations {
    /// Loads and validates every `.sql` file of `dir`. Other files (a README,
    /// `.gitkeep`) and subfolders are ignored.
    pub fn from_dir(dir: &Path) -> Result<Migrations, Error> {
        let origin = dir.display().to_string();
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io(&origin, e))?;
        let mut names = Vec::new();
        let mut problems = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&origin, e))?;
            let file_name = entry.file_name().to_string_lossy().into_owned();
            if !file_name.to_ascii_lowercase().ends_with(".sql") {
                continue;
            }
            // The directory entry's type needs no extra system call; follow
            // symlinks only when there is one.
            let file_type = entry.file_type().map_err(|e| Error::io(&origin, e))?;
            if file_type.is_file() {
                names.push(file_name);
            } else if file_type.is_symlink() {
                // a link that leads nowhere is a migration that would
                // silently never run
                match std::fs::metadata(entry.path()) {
                    Ok(m) if m.is_file() => names.push(file_name),
                    Ok(_) => problems.push(SourceProblem::new(
                        &file_name,
                        None,
                        "is a symbolic link to something that is not a file".to_string(),
                    )),
                    Err(e) => {
                        let target = std::fs::read_link(entry.path())
                            .map(|t| t.display().to_string())
                            .unwrap_or_else(|_| "?".to_string());
                        problems.push(SourceProblem::new(
                            &file_name,
                            None,
                            format!(
                                "is a symbolic link to {target}, which cannot be read ({e}): fix or remove the link"
                            ),
                        ));
                    }
                }
            } else if file_type.is_dir() {
                problems.push(SourceProblem::new(
                    &file_name,
                    None,
                    "is a folder named like a migration: rename or remove it".to_string(),
                ));
            }
        }
        let (files, unreadable) = read_all(dir, names)?;
        problems.extend(unreadable);
        match Migrations::from_files(origin.clone(), files) {
            Ok(m) if problems.is_empty() => Ok(m),
            Ok(_) => Err(Error::InvalidMigrations { origin, problems }),
            Err(Error::InvalidMigrations {
                problems: mut more, ..
            }) => {
                more.extend(problems);
                Err(Error::InvalidMigrations {
                    origin,
                    problems: more,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Validates files embedded at compile time.
    pub fn from_embedded(files: &[EmbeddedFile]) -> Result<Migrations, Error> {
        let files = files
            .iter()
            .map(|f| (f.name.to_string(), f.bytes.to_vec()))
            .collect();
        Migrations::from_files("embedded".to_string(), files)
    }

    /// Validates named file contents; the one place both loaders go through.
    pub fn from_files(
        origin: String,
        mut files: Vec<(String, Vec<u8>)>,
    ) -> Result<Migrations, Error> {
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let mut problems = Vec::new();
        let mut ups: BTreeMap<i64, (String, SqlFile)> = BTreeMap::new();
        let mut downs: BTreeMap<i64, (String, SqlFile)> = BTreeMap::new();
        for (file_name, bytes) in files {
            let parsed = match name::parse(&file_name) {
                Ok(p) => p,
                Err(message) => {
                    problems.push(SourceProblem::new(&file_name, None, message));
                    continue;
                }
            };
            let sql_file = match read_sql(&file_name, &bytes) {
                Ok(f) => f,
                Err(p) => {
                    problems.push(p);
                    continue;
                }
            };
            let slot = match parsed.direction {
                Direction::Down => &mut downs,
                Direction::Up | Direction::UpOnly => &mut ups,
            };
            if let Some((_, other)) = slot.get(&parsed.version) {
                problems.push(SourceProblem::new(
                    &file_name,
                    None,
                    format!(
                        "duplicate version {}: also used by {}",
                        parsed.version, other.file
                    ),
                ));
                continue;
            }
            slot.insert(parsed.version, (parsed.name, sql_file));
        }
        let mut list = Vec::with_capacity(ups.len());
        for (version, (down_name, down)) in &downs {
            match ups.get(version) {
                None => problems.push(SourceProblem::new(
                    &down.file,
                    None,
                    format!("down file without an up file: add {version}_{down_name}.up.sql or remove it"),
                )),
                Some((up_name, up)) if up_name != down_name || !up.file.ends_with(".up.sql") => {
                    problems.push(SourceProblem::new(
                        &down.file,
                        None,
                        format!(
                            "down file does not match its up file {}: name them {version}_{up_name}.up.sql and {version}_{up_name}.down.sql",
                            up.file
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
        for (version, (name, up)) in ups {
            if up.file.ends_with(".up.sql") && !downs.contains_key(&version) {
                problems.push(SourceProblem::new(
                    &up.file,
                    None,
                    format!("up file without its down file {version}_{name}.down.sql: add it, or rename to {version}_{name}.sql"),
                ));
            }
            let down = downs.remove(&version).map(|(_, f)| f);
            list.push(Migration {
                version,
                name,
                up,
                down,
            });
        }
        if problems.is_empty() {
            Ok(Migrations { origin, list })
        } else {
            Err(Error::InvalidMigrations { origin, problems })
        }
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Migration> {
        self.list.iter()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn get(&self, version: i64) -> Option<&Migration> {
        self.list
            .binary_search_by_key(&version, |m| m.version)
            .ok()
            .map(|i| &self.list[i])
    }

    pub fn latest_version(&self) -> Option<i64> {
        self.list.last().map(|m| m.version)
    }
}

/// Reads the files, on two threads when there are many: a no-op `keel up`
/// at start-up is dominated by reading hundreds of small files.
/// Reads a whole file in as few system calls as it can: `open`, `read`
/// until a read returns nothing, `close`. (`std::fs::read` adds a `statx`
/// and an `lseek` to size its buffer, which costs more than it saves on
/// hundreds of small migration files.)
fn read_file(path: &Path, chunk: &mut [u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    loop {
        match file.read(chunk) {
            Ok(0) => return Ok(bytes),
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Files read (name, bytes), and the problems of those that could not be.
type Loaded = (Vec<(String, Vec<u8>)>, Vec<SourceProblem>);

/// The files' contents, and a problem for each file that cannot be read
/// (permissions, a link that broke meanwhile), named.
fn read_all(dir: &Path, names: Vec<String>) -> Result<Loaded, Error> {
    fn read(dir: &Path, names: &[String]) -> Loaded {
        let mut out = Vec::with_capacity(names.len());
        let mut problems = Vec::new();
        let mut chunk = vec![0u8; 16 * 1024];
        for name in names {
            let path = dir.join(name);
            match read_file(&path, &mut chunk) {
                Ok(bytes) => out.push((name.clone(), bytes)),
                Err(e) => problems.push(SourceProblem::new(
                    name,
                    None,
                    format!("cannot be read: {e}"),
                )),
            }
        }
        (out, problems)
    }
    if names.len() < 64 {
        return Ok(read(dir, &names));
    }
    let (first, second) = names.split_at(names.len() / 2);
    std::thread::scope(|scope| {
        let other = scope.spawn(|| read(dir, second));
        let (mut files, mut problems) = read(dir, first);
        match other.join() {
            Ok((rest, more)) => {
                files.extend(rest);
                problems.extend(more);
            }
            Err(_) => return Err(Error::invalid("reading migration files failed", None)),
        }
        Ok((files, problems))
    })
}

fn read_sql(file_name: &str, bytes: &[u8]) -> Result<SqlFile, SourceProblem> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let valid = &bytes[..e.valid_up_to()];
        let line = 1 + valid.iter().filter(|b| **b == b'\n').count();
        SourceProblem::new(
            file_name,
            Some(line),
            format!(
                "not valid UTF-8 (byte offset {}): save the file as UTF-8",
                e.valid_up_to()
            ),
        )
    })?;
    let sql = checksum::normalize(text);
    let directives = directives::parse(&sql)
        .map_err(|(line, message)| SourceProblem::new(file_name, Some(line), message))?;
    // Comment-only detection is the same in every dialect but MySQL's `#`.
    if !split::has_statement(&sql, crate::Dialect::Postgres) {
        return Err(SourceProblem::new(
            file_name,
            None,
            "contains no SQL statement: write the migration or delete the file".to_string(),
        ));
    }
    Ok(SqlFile {
        file: file_name.to_string(),
        checksum: Checksum::of_normalized(&sql),
        sql,
        directives,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &[u8])]) -> Vec<(String, Vec<u8>)> {
        list.iter()
            .map(|(n, b)| (n.to_string(), b.to_vec()))
            .collect()
    }

    fn problems(list: &[(&str, &[u8])]) -> Vec<SourceProblem> {
        match Migrations::from_files("t".into(), files(list)) {
            Err(Error::InvalidMigrations { problems, .. }) => problems,
            other => panic!("expected invalid migrations, got {other:?}"),
        }
    }

    #[test]
    fn loads_in_numeric_order_with_pairs() {
        let m = Migrations::from_files(
            "t".into(),
            files(&[
                ("10_c.sql", b"SELECT 10;"),
                ("9_b.up.sql", b"SELECT 9;"),
                ("9_b.down.sql", b"SELECT -9;"),
                ("0001_a.sql", b"SELECT 1;"),
            ]),
        )
        .unwrap();
        let versions: Vec<i64> = m.iter().map(|m| m.version).collect();
        assert_eq!(versions, [1, 9, 10]);
        assert!(m.get(9).unwrap().down.is_some());
    }

    #[test]
    fn reports_every_problem_with_its_file() {
        let p = problems(&[
            ("1_a.sql", b"SELECT 1;"),
            ("0001_again.sql", b"SELECT 1;"),
            ("2_bad name.sql", b"SELECT 1;"),
            ("3_latin1.sql", b"SELECT '\xe9';"),
            ("4_empty.sql", b"  -- nothing here\n"),
            ("5_orphan.down.sql", b"SELECT 5;"),
            ("6_typo.sql", b"-- keel:no-transacton\nSELECT 6;"),
        ]);
        let named: Vec<&str> = p.iter().map(|p| p.file.as_str()).collect();
        assert_eq!(p.len(), 6, "{p:#?}");
        let duplicate = p
            .iter()
            .find(|p| p.message.contains("duplicate version 1"))
            .unwrap();
        assert!(duplicate.message.contains("0001_again.sql") && duplicate.file == "1_a.sql");
        for f in [
            "2_bad name.sql",
            "3_latin1.sql",
            "4_empty.sql",
            "5_orphan.down.sql",
            "6_typo.sql",
        ] {
            assert!(named.contains(&f), "{f} not reported: {p:#?}");
        }
    }
}
