//! libpq's ways to say where PostgreSQL is, beyond URLs: `key=value`
//! strings (`host=h1,h2 port=5432 dbname=app user=app password='it\'s'`),
//! the environment (`PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PGSSLMODE
//! PGSSLROOTCERT PGCONNECT_TIMEOUT PGAPPNAME`, which fill in what a string
//! leaves out) and the password file (`PGPASSFILE`, else `~/.pgpass`).
//! [`finish`] completes every PostgreSQL spelling the way libpq would.

use super::postgres::{self, Flavor, PgParts};
use super::{Context, Invalid, Resolved};
use crate::settings::Engine;
use std::path::{Path, PathBuf};

/// The environment variables libpq reads, and the setting each fills in.
pub const ENV: [(&str, &str); 9] = [
    ("PGHOST", "host"),
    ("PGPORT", "port"),
    ("PGUSER", "user"),
    ("PGPASSWORD", "password"),
    ("PGDATABASE", "dbname"),
    ("PGSSLMODE", "sslmode"),
    ("PGSSLROOTCERT", "sslrootcert"),
    ("PGCONNECT_TIMEOUT", "connect_timeout"),
    ("PGAPPNAME", "application_name"),
];

/// Whether the environment alone names a PostgreSQL database (libpq would
/// connect with it): `PGHOST` or `PGDATABASE` is set.
pub fn env_names_a_database(env: &dyn Fn(&str) -> Option<String>) -> bool {
    ["PGHOST", "PGDATABASE"]
        .iter()
        .any(|k| env(k).is_some_and(|v| !v.is_empty()))
}

/// `host=… dbname=…`: starts with a keyword and `=` (a URL's scheme is
/// followed by `:`).
pub(crate) fn looks_like(raw: &str) -> bool {
    let key: String = raw
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    !key.is_empty()
        && raw
            .get(key.len()..)
            .is_some_and(|r| r.trim_start().starts_with('='))
}

/// A libpq keyword/value string.
pub(crate) fn keywords(raw: &str, cx: &Context) -> Result<Resolved, Invalid> {
    let mut parts = PgParts::default();
    for (k, v) in parse_keywords(raw)? {
        parts.param(&k, v, Flavor::Keywords)?;
    }
    finish(parts, cx, false)
}

/// libpq's grammar: `key = value` separated by spaces; a value is bare
/// (a backslash escapes the next character) or in single quotes (where a
/// backslash escapes too; keel also reads `''` as a quote, as SQL does).
/// Errors name the keyword, never a value.
pub(crate) fn parse_keywords(raw: &str) -> Result<Vec<(String, String)>, Invalid> {
    let chars: Vec<char> = raw.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    let at = |i: usize| chars.get(i).copied();
    loop {
        while at(i).is_some_and(char::is_whitespace) {
            i += 1;
        }
        if at(i).is_none() {
            return Ok(out);
        }
        let mut key = String::new();
        while let Some(c) = at(i).filter(|c| !c.is_whitespace() && *c != '=') {
            key.push(c);
            i += 1;
        }
        while at(i).is_some_and(char::is_whitespace) {
            i += 1;
        }
        if at(i) != Some('=') {
            // the word is not quoted: it may be half of an unquoted password
            let place = match out.last() {
                Some((previous, _)) => format!("after `{previous}`"),
                None => "at the start".to_string(),
            };
            return Err(Invalid::new(
                format!(
                    "in the key=value connection string, a word {place} is not followed by `=`"
                ),
                Some(
                    "write key=value pairs separated by spaces, e.g. host=db dbname=app user=app; quote a value with spaces: password='a b'",
                ),
            ));
        }
        i += 1;
        while at(i).is_some_and(char::is_whitespace) {
            i += 1;
        }
        let mut value = String::new();
        if at(i) == Some('\'') {
            i += 1;
            loop {
                match at(i) {
                    None => {
                        return Err(Invalid::new(
                            format!(
                                "in the key=value connection string, the quoted value of `{key}` has no closing quote"
                            ),
                            Some("end it with ' (write a quote inside as \\' or '')"),
                        ));
                    }
                    Some('\\') => {
                        if let Some(c) = at(i + 1) {
                            value.push(c);
                        }
                        i += 2;
                    }
                    Some('\'') if at(i + 1) == Some('\'') => {
                        value.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(c) => {
                        value.push(c);
                        i += 1;
                    }
                }
            }
        } else {
            while let Some(c) = at(i).filter(|c| !c.is_whitespace()) {
                if c == '\\' {
                    if let Some(n) = at(i + 1) {
                        value.push(n);
                    }
                    i += 2;
                } else {
                    value.push(c);
                    i += 1;
                }
            }
        }
        out.push((key, value));
    }
}

/// Completes `parts` as libpq would — the environment, then `~/.pgpass`,
/// then the defaults (host `localhost`, port 5432, the OS user, database
/// = user) — and renders the canonical URL. A URL that names no database
/// is refused unless `PGDATABASE` names one: keel will not guess the
/// database it migrates from a URL that forgot it.
pub(crate) fn finish(
    mut parts: PgParts,
    cx: &Context,
    url_form: bool,
) -> Result<Resolved, Invalid> {
    // as libpq: an empty password is no password (the password file may
    // have one)
    if parts.password.as_deref() == Some("") {
        parts.password = None;
    }
    let mut from_env = Vec::new();
    for (var, key) in ENV {
        let Some(value) = cx.var(var) else { continue };
        let missing = match key {
            "host" => parts.hosts.is_empty(),
            "port" => parts.ports.is_empty() && parts.hosts.iter().all(|(_, p)| p.is_none()),
            "user" => parts.user.is_none(),
            "password" => parts.password.is_none(),
            "dbname" => parts.dbname.is_none(),
            k => parts.get(k).is_none(),
        };
        if missing {
            parts
                .param(key, value, Flavor::Keywords)
                .map_err(|e| Invalid::new(format!("{} (from {var})", e.message), None))?;
            from_env.push(var);
        }
    }
    if let Some(t) = parts.get("connect_timeout")
        && t.trim().parse::<u32>().is_err()
    {
        return Err(Invalid::new(
            format!("connect_timeout `{t}` is not a whole number of seconds"),
            None,
        ));
    }
    if parts.hosts.is_empty() {
        parts.hosts.push(("localhost".to_string(), None));
    }
    assign_ports(&mut parts)?;
    if parts.user.is_none() {
        parts.user = cx.os_user();
    }
    let Some(user) = parts.user.clone() else {
        return Err(Invalid::new(
            "the PostgreSQL connection names no user",
            Some("add it (postgres://user@host/db, user=…) or set PGUSER"),
        ));
    };
    if parts.dbname.as_deref().is_none_or(str::is_empty) {
        if url_form {
            return Err(Invalid::new(
                "the database URL names no database",
                Some("add the database name: postgres://user@host:5432/mydb (or set PGDATABASE)"),
            ));
        }
        parts.dbname = Some(user.clone());
    }
    if !from_env.is_empty() {
        parts.notes.push(format!(
            "from the libpq environment: {}",
            from_env.join(", ")
        ));
    }
    if parts.password.is_none() {
        pgpass(&mut parts, cx);
    }
    if let Some(note) = postgres::dropped_note(&parts) {
        parts.notes.push(note);
    }
    Ok(Resolved {
        engine: Engine::Postgres,
        url: postgres::render(&parts),
        description: postgres::describe(&parts),
        notes: parts.notes,
    })
}

/// One port for all hosts, one per host, or each host's own.
fn assign_ports(parts: &mut PgParts) -> Result<(), Invalid> {
    let n = parts.hosts.len();
    let ports = std::mem::take(&mut parts.ports);
    if !ports.is_empty() && ports.len() != 1 && ports.len() != n {
        return Err(Invalid::new(
            format!(
                "{} ports for {n} hosts: give one port, or one per host",
                ports.len()
            ),
            None,
        ));
    }
    for (i, (_, port)) in parts.hosts.iter_mut().enumerate() {
        if port.is_none() {
            *port = Some(
                ports
                    .get(if ports.len() == 1 { 0 } else { i })
                    .copied()
                    .unwrap_or(5432),
            );
        }
    }
    Ok(())
}

/// The password file: `PGPASSFILE`, else `~/.pgpass`.
fn pgpass_path(cx: &Context) -> Option<PathBuf> {
    cx.var("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| cx.home().map(|h| h.join(".pgpass")))
}

/// Fills the password from the password file, as libpq: the first line
/// whose `host:port:database:user` matches (`*` matches anything), tried
/// for each host in turn; ignored with a warning when the file is
/// readable by group or others.
fn pgpass(parts: &mut PgParts, cx: &Context) {
    let Some(path) = pgpass_path(cx) else { return };
    if !path.is_file() {
        return;
    }
    let shown = path.display().to_string();
    if !private(&path) {
        parts.notes.push(format!(
            "warning: password file {shown} is ignored: it is readable by group or others (libpq ignores it too); chmod 0600 {shown}"
        ));
        return;
    }
    let Ok(text) = std::fs::read_to_string(&path) else {
        return;
    };
    let db = parts.dbname.clone().unwrap_or_default();
    let user = parts.user.clone().unwrap_or_default();
    for (host, port) in &parts.hosts {
        let port = port.unwrap_or(5432).to_string();
        let host = if host.starts_with('/') {
            "localhost"
        } else {
            host
        };
        if let Some(pw) = lookup(&text, [host, &port, &db, &user]) {
            parts.password = Some(pw);
            parts.notes.push(format!("password from {shown}"));
            return;
        }
    }
}

#[cfg(unix)]
fn private(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 == 0)
}

#[cfg(not(unix))]
fn private(_: &Path) -> bool {
    true
}

/// The password of the first matching line of a `.pgpass` text.
pub(crate) fn lookup(text: &str, want: [&str; 4]) -> Option<String> {
    for line in text.lines() {
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields = split_pgpass(line);
        let [h, p, d, u, pw] = fields.as_slice() else {
            continue;
        };
        let matches = [h, p, d, u]
            .iter()
            .zip(want)
            .all(|(field, w)| field.as_str() == "*" || field.as_str() == w);
        if matches {
            return Some(pw.clone());
        }
    }
    None
}

/// `a\:b:c\\d:…` → fields, `\:` and `\\` unescaped. The password field
/// takes the rest of the line.
fn split_pgpass(line: &str) -> Vec<String> {
    let mut fields: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    current.push(n);
                }
            }
            ':' if fields.len() < 4 => fields.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    fields.push(current);
    fields
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    #[test]
    fn keyword_strings_with_quotes_and_escapes() {
        let kv = parse_keywords(r"host=db port = 5433 password='it''s a \'x\'' user=a\ b").unwrap();
        assert_eq!(
            kv,
            vec![
                ("host".into(), "db".into()),
                ("port".into(), "5433".into()),
                ("password".into(), "it's a 'x'".into()),
                ("user".into(), "a b".into()),
            ]
        );
        let e = parse_keywords("host=db password='s3cret").unwrap_err();
        assert!(e.message.contains("`password`") && !e.message.contains("s3cret"));
        assert!(parse_keywords("host db").is_err());
    }

    #[test]
    fn keyword_string_resolves_with_multi_host() {
        let r = ok(
            "host=h1,h2 port=5432,5433 dbname=app user=app password='p w' sslmode=require target_session_attrs=read-write",
            &[],
        );
        assert_eq!(
            r.url,
            "postgres://app:p%20w@h1:5432,h2:5433/app?sslmode=require&target_session_attrs=read-write"
        );
        let r = ok("host=/var/run/postgresql dbname=x user=u", &[]);
        assert_eq!(r.url, "postgres://u@%2Fvar%2Frun%2Fpostgresql:5432/x");
        assert!(
            r.description
                .contains("socket /var/run/postgresql port 5432")
        );
        assert!(looks_like("dbname=app"));
        assert!(!looks_like("postgres://u@h/d?x=1"));
        assert!(looks_like("dbname=app application_name=http://x"));
    }

    #[test]
    fn environment_fills_in_what_is_missing() {
        let env = [
            ("PGHOST", "envhost"),
            ("PGPORT", "6000"),
            ("PGUSER", "envuser"),
            ("PGPASSWORD", "envpw"),
            ("PGDATABASE", "envdb"),
            ("PGSSLMODE", "verify-full"),
            ("PGAPPNAME", "app"),
            ("PGCONNECT_TIMEOUT", "7"),
        ];
        let r = ok("postgres://u@h/d", &env);
        assert_eq!(
            r.url,
            "postgres://u:envpw@h:6000/d?sslmode=verify-full&connect_timeout=7&application_name=app"
        );
        assert!(!r.notes.iter().any(|n| n.contains("envpw")));
        let lookup = |k: &str| {
            env.iter()
                .find(|(e, _)| *e == k)
                .map(|(_, v)| v.to_string())
        };
        let cx = Context {
            env: &lookup,
            cwd: Path::new("/"),
            sqlalchemy_dotenv: false,
        };
        assert_eq!(
            keywords("", &cx).unwrap().description,
            "PostgreSQL db `envdb` on envhost:6000 as user envuser, sslmode=verify-full"
        );
        let r = ok("dbname=x", &env);
        assert_eq!(
            r.url,
            "postgres://envuser:envpw@envhost:6000/x?sslmode=verify-full&connect_timeout=7&application_name=app"
        );
        let bad =
            resolve_in("dbname=x", Path::new("/"), &[("PGSSLMODE", "yes")], false).unwrap_err();
        assert!(bad.message.contains("PGSSLMODE"), "{bad:?}");
        assert!(env_names_a_database(
            &|k| (k == "PGDATABASE").then(|| "x".to_string())
        ));
        assert!(!env_names_a_database(
            &|k| (k == "PGUSER").then(|| "x".to_string())
        ));
    }

    #[test]
    fn pgpass_lines() {
        let text =
            "# comment\nother:*:*:*:no\nh\\:x:5432:*:app:pa\\:ss\\\\w:rd\n*:*:*:*:fallback\n";
        assert_eq!(
            lookup(text, ["h:x", "5432", "db", "app"]).as_deref(),
            Some("pa:ss\\w:rd")
        );
        assert_eq!(
            lookup(text, ["z", "1", "d", "u"]).as_deref(),
            Some("fallback")
        );
    }

    #[test]
    fn pgpass_file_is_used_only_when_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(&file, "db:5432:app:app:fromfile\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let passfile = file.display().to_string();
        let env = [("PGPASSFILE", passfile.as_str())];
        let r = ok("postgres://app@db/app", &env);
        assert_eq!(r.url, "postgres://app:fromfile@db:5432/app");
        assert!(r.notes.iter().any(|n| n.starts_with("password from")));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let r = ok("postgres://app@db/app", &env);
        assert_eq!(r.url, "postgres://app@db:5432/app");
        assert!(r.notes.iter().any(|n| n.contains("is ignored")));
    }
}
