//! Migration files: loading a folder (or files embedded at compile time),
//! validating every name and body before anything touches a database, and
//! the parsed [`Migration`] type the planner and runner work with.
//!
//! Validation reports *every* problem at once, each naming its file: a bad
//! name, a duplicate version, a non-UTF-8 or empty file, a down file without
//! its up file, an unknown `-- keel:` directive.

pub mod checksum;
pub mod directives;
pub mod layout;
pub mod name;
pub mod split;
pub mod textdiff;

use crate::error::{Error, SourceProblem};
pub use checksum::Checksum;
pub use directives::Directives;
use layout::{DownRule, File, Part, Role};
pub use layout::{Layout, Splitting};
use split::Statement;
use std::collections::BTreeMap;
use std::path::Path;

/// One SQL file of a migration.
#[derive(Clone, Debug)]
pub struct SqlFile {
    /// The file name, e.g. `0003_add_email.up.sql` (`<dir>/up.sql` in a
    /// diesel folder, `<file> (-- migrate:up)` for one section of a file).
    pub file: String,
    /// The file's text, BOM removed and line endings normalised to LF.
    pub sql: String,
    pub checksum: Checksum,
    pub directives: Directives,
    /// How its statements are found.
    pub splitting: Splitting,
}

impl SqlFile {
    /// The statements to run, one by one.
    pub fn statements(&self, dialect: crate::Dialect) -> Vec<Statement> {
        self.split_like(&self.sql, dialect)
    }

    /// Splits other text of this file (its SQL as once applied) the same way.
    pub fn split_like(&self, sql: &str, dialect: crate::Dialect) -> Vec<Statement> {
        match self.splitting {
            Splitting::Standard => split::split(sql, dialect),
            Splitting::Goose => layout::split_goose(sql, dialect),
        }
    }
}

/// A migration found on disk or embedded: its up file and optional down file.
#[derive(Clone, Debug)]
pub struct Migration {
    pub version: i64,
    pub name: String,
    pub up: SqlFile,
    pub down: Option<SqlFile>,
    /// A down file that holds no statement (diesel's and dbmate's templates):
    /// the migration is not reversible, and `down` says so naming it.
    pub irreversible: Option<String>,
}

impl Migration {
    /// A repeatable migration (`R__<name>.sql`): re-applied, after the
    /// versioned ones, whenever its checksum changes. Its version is
    /// [`repeatable_version`] of its name, always negative.
    pub fn is_repeatable(&self) -> bool {
        self.version < 0
    }
}

/// The tracking-table key of the repeatable migration `name`: a negative
/// number from the SHA-256 of the name (48 bits), so it never meets a
/// versioned migration's version and stays the same across runs.
pub fn repeatable_version(name: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(format!("keel-repeatable:{name}").as_bytes());
    let mut n: i64 = 0;
    for b in d.iter().take(6) {
        n = (n << 8) | i64::from(*b);
    }
    -(n + 1)
}

/// A file embedded by [`embed_migrations!`](crate::embed_migrations).
#[derive(Clone, Copy, Debug)]
pub struct EmbeddedFile {
    pub name: &'static str,
    pub bytes: &'static [u8],
}

/// A validated set of migrations, ordered by version.
#[derive(Clone, Debug)]
pub struct Migrations {
    /// Where they came from: a folder path, or `embedded`.
    pub origin: String,
    /// The layout they were read in.
    pub layout: Layout,
    /// Sorted by version: repeatables (negative versions) first.
    list: Vec<Migration>,
}

impl Default for Migrations {
    fn default() -> Self {
        Migrations {
            origin: String::new(),
            layout: Layout::Keel,
            list: Vec::new(),
        }
    }
}

/// Extensions of the files a layout may need to read.
fn wanted(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".sql", ".toml", ".sql.conf"]
        .iter()
        .any(|e| lower.ends_with(e))
}

/// Files whose name alone tells that they are migrations keel cannot run.
fn named_only(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".py", ".rb", ".go"].iter().any(|e| lower.ends_with(e))
}

impl Migrations {
    /// Loads and validates a folder, detecting its layout. Files keel has
    /// no use for (a README, `.gitkeep`) are ignored.
    pub fn from_dir(dir: &Path) -> Result<Migrations, Error> {
        Migrations::from_dir_as(dir, None)
    }

    /// Loads and validates a folder in `layout` (`None`: detect it).
    pub fn from_dir_as(dir: &Path, layout: Option<Layout>) -> Result<Migrations, Error> {
        let origin = dir.display().to_string();
        let mut names = Vec::new();
        let mut listed = Vec::new();
        let mut problems = Vec::new();
        list_dir(dir, "", &origin, &mut names, &mut listed, &mut problems)?;
        let (mut files, unreadable) = read_all(dir, names)?;
        problems.extend(unreadable);
        files.extend(listed.into_iter().map(|n| (n, Vec::new())));
        match Migrations::from_files_as(origin.clone(), files, layout) {
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

    /// A folder's layout (`layout` when forced) and the newest version its
    /// files name, without validating their contents: what `keel new` needs
    /// to write the next file in the folder's own layout.
    pub fn survey(dir: &Path, layout: Option<Layout>) -> Result<(Layout, Option<i64>), Error> {
        let origin = dir.display().to_string();
        if !dir.is_dir() {
            return Ok((layout.unwrap_or(Layout::Keel), None));
        }
        let mut names = Vec::new();
        let mut listed = Vec::new();
        let mut problems = Vec::new();
        list_dir(dir, "", &origin, &mut names, &mut listed, &mut problems)?;
        let mut files: Vec<File> = read_all(dir, names)?
            .0
            .into_iter()
            .filter_map(|(path, bytes)| decode(&path, &bytes).ok().map(|text| File { path, text }))
            .collect();
        files.extend(listed.into_iter().map(|path| File {
            path,
            text: String::new(),
        }));
        let layout = match layout {
            Some(l) => l,
            None => layout::detect(&origin, &files)?,
        };
        let (parts, _) = layout::read(layout, &files);
        let newest = parts
            .iter()
            .filter(|p| p.role != Role::Repeatable)
            .map(|p| p.version)
            .max();
        Ok((layout, newest))
    }

    /// Validates files embedded at compile time.
    pub fn from_embedded(files: &[EmbeddedFile]) -> Result<Migrations, Error> {
        let files = files
            .iter()
            .map(|f| (f.name.to_string(), f.bytes.to_vec()))
            .collect();
        Migrations::from_files("embedded".to_string(), files)
    }

    /// Validates named file contents, detecting their layout.
    pub fn from_files(origin: String, files: Vec<(String, Vec<u8>)>) -> Result<Migrations, Error> {
        Migrations::from_files_as(origin, files, None)
    }

    /// Validates named file contents (paths relative to the folder, `/`
    /// between a subfolder and its file) in `layout`, or the detected one;
    /// the one place every loader goes through.
    pub fn from_files_as(
        origin: String,
        mut files: Vec<(String, Vec<u8>)>,
        layout: Option<Layout>,
    ) -> Result<Migrations, Error> {
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let mut problems = Vec::new();
        let mut decoded = Vec::with_capacity(files.len());
        for (path, bytes) in files {
            match decode(&path, &bytes) {
                Ok(text) => decoded.push(File { path, text }),
                Err(p) => problems.push(p),
            }
        }
        let layout = match layout {
            Some(l) => {
                layout::check_forced(&origin, l, &decoded)?;
                l
            }
            None => layout::detect(&origin, &decoded)?,
        };
        let (parts, read_problems) = layout::read(layout, &decoded);
        problems.extend(read_problems);
        let list = assemble(parts, &mut problems);
        if problems.is_empty() {
            Ok(Migrations {
                origin,
                layout,
                list,
            })
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
            .and_then(|i| self.list.get(i))
    }

    pub fn latest_version(&self) -> Option<i64> {
        self.list.last().map(|m| m.version)
    }
}

/// Lists the files of `dir` worth reading (and, one level down, of its
/// subfolders: diesel's and Prisma's one folder per migration). Dot-folders
/// are skipped, as diesel does.
fn list_dir(
    dir: &Path,
    prefix: &str,
    origin: &str,
    names: &mut Vec<String>,
    listed: &mut Vec<String>,
    problems: &mut Vec<SourceProblem>,
) -> Result<(), Error> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(origin, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(origin, e))?;
        // The directory entry's type needs no extra system call; follow
        // symlinks only when there is one.
        let file_type = entry.file_type().map_err(|e| Error::io(origin, e))?;
        let path = entry.path();
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let relative = format!("{prefix}{file_name}");
        let target = if file_type.is_symlink() {
            match std::fs::metadata(&path) {
                Ok(m) => Some(m),
                Err(e) => {
                    // a link that leads nowhere is a migration that would
                    // silently never run
                    if wanted(&file_name) || named_only(&file_name) {
                        let to = std::fs::read_link(&path)
                            .map(|t| t.display().to_string())
                            .unwrap_or_else(|_| "?".to_string());
                        problems.push(SourceProblem::new(
                            &relative,
                            None,
                            format!(
                                "is a symbolic link to {to}, which cannot be read ({e}): fix or remove the link"
                            ),
                        ));
                    }
                    continue;
                }
            }
        } else {
            None
        };
        let is_file = file_type.is_file() || target.as_ref().is_some_and(|m| m.is_file());
        let is_dir = file_type.is_dir() || target.as_ref().is_some_and(|m| m.is_dir());
        if is_file && wanted(&file_name) {
            names.push(relative);
        } else if is_file && named_only(&file_name) {
            listed.push(relative);
        } else if is_dir && file_name.to_ascii_lowercase().ends_with(".sql") {
            problems.push(SourceProblem::new(
                &relative,
                None,
                "is a folder named like a migration: rename or remove it".to_string(),
            ));
        } else if is_dir && prefix.is_empty() && !file_name.starts_with('.') {
            list_dir(
                &path,
                &format!("{relative}/"),
                origin,
                names,
                listed,
                problems,
            )?;
        } else if !is_file && !is_dir && wanted(&file_name) {
            problems.push(SourceProblem::new(
                &relative,
                None,
                "is a symbolic link to something that is not a file".to_string(),
            ));
        }
    }
    Ok(())
}

/// Pairs up and down halves, reporting duplicates and orphans.
fn assemble(parts: Vec<Part>, problems: &mut Vec<SourceProblem>) -> Vec<Migration> {
    struct Half {
        name: String,
        rule: DownRule,
        file: SqlFile,
    }
    let mut ups: BTreeMap<i64, Half> = BTreeMap::new();
    let mut downs: BTreeMap<i64, (String, Option<SqlFile>, String)> = BTreeMap::new();
    let mut broken_ups = std::collections::BTreeSet::new();
    for part in parts {
        let mut part = part;
        let rule = match part.role {
            Role::Up(rule) => Some(rule),
            Role::Down => None,
            Role::Repeatable => {
                part.version = repeatable_version(&part.name);
                Some(DownRule::Forbidden)
            }
        };
        let taken = match rule {
            Some(_) => ups.get(&part.version).map(|h| h.file.file.clone()),
            None => downs.get(&part.version).map(|d| d.2.clone()),
        };
        if let Some(other) = taken {
            problems.push(SourceProblem::new(
                &part.file,
                None,
                format!("duplicate version {}: also used by {other}", part.version),
            ));
            continue;
        }
        let blank_down = rule.is_none() && layout::is_blank(&part.sql);
        let file = match sql_file(&part, blank_down) {
            Ok(f) => f,
            Err(p) => {
                problems.push(p);
                if rule.is_some() {
                    // its down file is not an orphan: the up file has a problem
                    broken_ups.insert(part.version);
                }
                continue;
            }
        };
        match rule {
            Some(rule) => {
                ups.insert(
                    part.version,
                    Half {
                        name: part.name,
                        rule,
                        file,
                    },
                );
            }
            None => {
                let down = (!blank_down).then_some(file);
                downs.insert(part.version, (part.name, down, part.file));
            }
        }
    }
    let mut list = Vec::with_capacity(ups.len());
    for (version, (down_name, _, down_file)) in &downs {
        match ups.get(version) {
            None if broken_ups.contains(version) => {}
            None => problems.push(SourceProblem::new(
                down_file,
                None,
                format!(
                    "down file without an up file: add {version}_{down_name}.up.sql or remove it"
                ),
            )),
            Some(up) if &up.name != down_name || up.rule == DownRule::Forbidden => {
                problems.push(SourceProblem::new(
                    down_file,
                    None,
                    format!(
                        "down file does not match its up file {}: name them {version}_{}.up.sql and {version}_{}.down.sql",
                        up.file.file, up.name, up.name
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    for (version, up) in ups {
        if up.rule == DownRule::Required && !downs.contains_key(&version) {
            problems.push(SourceProblem::new(
                &up.file.file,
                None,
                format!(
                    "up file without its down file {version}_{}.down.sql: add it, or rename to {version}_{}.sql (a golang-migrate folder, whose down files are optional: --layout golang-migrate)",
                    up.name, up.name
                ),
            ));
        }
        let (down, irreversible) = match downs.remove(&version) {
            Some((_, Some(down), _)) => (Some(down), None),
            Some((_, None, file)) => (None, Some(file)),
            None => (None, None),
        };
        list.push(Migration {
            version,
            name: up.name,
            up: up.file,
            down,
            irreversible,
        });
    }
    list
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
            Ok(n) => bytes.extend_from_slice(chunk.get(..n).unwrap_or_default()),
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

/// The file's text as keel runs it ([`checksum::line_endings`]); not UTF-8
/// is a problem.
fn decode(file_name: &str, bytes: &[u8]) -> Result<String, SourceProblem> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let valid = bytes.get(..e.valid_up_to()).unwrap_or_default();
        let line = 1 + valid.iter().filter(|b| **b == b'\n').count();
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
        // re-saving binary data "as UTF-8" would corrupt it
        let advice = if head.contains("-- MySQL dump") || head.contains("-- MariaDB dump") {
            "binary column data written raw: dump again with `mysqldump --hex-blob`, which writes it as hex literals"
        } else {
            "save the file as UTF-8; if it holds binary data, write that as hex literals (X'…', or '\\x…'::bytea on PostgreSQL) instead"
        };
        SourceProblem::new(
            file_name,
            Some(line),
            format!("not valid UTF-8 (byte offset {}): {advice}", e.valid_up_to()),
        )
    })?;
    Ok(checksum::line_endings(text))
}

/// The [`SqlFile`] of one part: its directives read and its SQL checked.
fn sql_file(part: &Part, blank_down: bool) -> Result<SqlFile, SourceProblem> {
    // keel's own directives hold in every layout, next to the tool's marker
    let mut directives = directives::parse(&part.sql)
        .map_err(|(line, message)| SourceProblem::new(&part.file, Some(line), message))?;
    directives.no_transaction |= part.no_transaction;
    directives.as_written = part.as_written;
    // Comment-only detection is the same in every dialect but MySQL's `#`.
    // An empty down file is allowed: it means "not reversible".
    if !blank_down && layout::is_blank(&part.sql) {
        return Err(SourceProblem::new(
            &part.file,
            None,
            "contains no SQL statement: write the migration or delete the file".to_string(),
        ));
    }
    Ok(SqlFile {
        file: part.file.clone(),
        // the text keeps lone CRs, which the checksum's normalisation turns
        // into LF
        checksum: Checksum::of(&part.sql),
        sql: part.sql.clone(),
        directives,
        splitting: part.splitting,
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
