//! MySQL option files: the `[client]`, `[client-server]` and
//! `[client-mariadb]` sections of `$MYSQL_HOME/my.cnf` and then
//! `~/.my.cnf` (the later file wins, as the mysql client reads them) fill
//! in `user`, `password`, `host`, `port`, `socket` and `ssl-*` that a
//! MySQL URL leaves out. System-wide files (`/etc/mysql/…`) are not read:
//! they configure the server's own tools, and a keel run should not
//! depend on them. A world-writable file is ignored with a warning, as
//! the mysql client does.

use super::mysql::MyParts;
use super::{Context, Invalid};
use std::path::{Path, PathBuf};

/// The settings an option file may give.
const KEYS: [&str; 9] = [
    "user", "password", "host", "port", "socket", "ssl-mode", "ssl-ca", "ssl-cert", "ssl-key",
];

const SECTIONS: [&str; 3] = ["client", "client-server", "client-mariadb"];

fn files(cx: &Context) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(dir) = cx.var("MYSQL_HOME") {
        out.push(PathBuf::from(dir).join("my.cnf"));
    }
    if let Some(home) = cx.home() {
        out.push(home.join(".my.cnf"));
    }
    out
}

/// Fills what `parts` lacks from the option files.
pub(crate) fn fill(parts: &mut MyParts, cx: &Context) -> Result<(), Invalid> {
    let mut found: Vec<(String, String)> = Vec::new();
    let mut used = Vec::new();
    for path in files(cx) {
        if !path.is_file() {
            continue;
        }
        let shown = path.display().to_string();
        if world_writable(&path) {
            parts.notes.push(format!(
                "warning: option file {shown} is ignored: it is world-writable (the mysql client ignores it too); chmod 0600 {shown}"
            ));
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        for (k, v) in client_settings(&text) {
            found.retain(|(fk, _)| fk != &k);
            found.push((k, v));
        }
        used.push(shown);
    }
    let mut filled = Vec::new();
    for (k, v) in found {
        let missing = match k.as_str() {
            "user" => parts.user.is_none(),
            "password" => parts.password.is_none(),
            "host" => parts.host.is_none(),
            "port" => parts.port.is_none(),
            other => parts.get(other).is_none(),
        };
        if missing {
            parts.param(&k, v).map_err(|e| {
                Invalid::new(format!("{} (in {})", e.message, used.join(", ")), None)
            })?;
            filled.push(k);
        }
    }
    if !filled.is_empty() {
        parts.notes.push(format!(
            "from the [client] section of {}: {}",
            used.join(", "),
            filled.join(", ")
        ));
    }
    Ok(())
}

#[cfg(unix)]
fn world_writable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o002 != 0)
}

#[cfg(not(unix))]
fn world_writable(_: &Path) -> bool {
    false
}

/// The keel-relevant settings of the client sections, in file order
/// (`ssl_ca` is `ssl-ca`; quotes around a value are removed).
pub(crate) fn client_settings(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut in_client = false;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty()
            || line.starts_with('#')
            || line.starts_with(';')
            || line.starts_with('!')
        {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_client = SECTIONS.contains(&section.trim().to_ascii_lowercase().as_str());
            continue;
        }
        if !in_client {
            continue;
        }
        let (key, value) = line.split_once('=').unwrap_or((line, ""));
        let key = key.trim().to_ascii_lowercase().replace('_', "-");
        if !KEYS.contains(&key.as_str()) {
            continue;
        }
        let value = value.trim();
        let value = [('"', '"'), ('\'', '\'')]
            .iter()
            .find_map(|(a, b)| value.strip_prefix(*a).and_then(|v| v.strip_suffix(*b)))
            .unwrap_or(value);
        out.push((key, value.to_string()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    #[test]
    fn client_sections_only() {
        let text = "[mysqld]\nport=1\n[client]\nuser = app\npassword=\"p w\"\nssl_ca=/ca.pem\ncharset=x\n[mysql]\nhost=no\n[client-mariadb]\nport=3307\n";
        assert_eq!(
            client_settings(text),
            vec![
                ("user".to_string(), "app".to_string()),
                ("password".to_string(), "p w".to_string()),
                ("ssl-ca".to_string(), "/ca.pem".to_string()),
                ("port".to_string(), "3307".to_string()),
            ]
        );
    }

    #[test]
    fn my_cnf_fills_what_the_url_leaves_out() {
        use std::os::unix::fs::PermissionsExt;
        let home = tempfile::tempdir().unwrap();
        let cnf = home.path().join(".my.cnf");
        std::fs::write(&cnf, "[client]\nuser=fromfile\npassword=pw\nport=3307\n").unwrap();
        std::fs::set_permissions(&cnf, std::fs::Permissions::from_mode(0o600)).unwrap();
        let h = home.path().display().to_string();
        let r = ok("mysql://root@db/app", &[("HOME", h.as_str())]);
        assert_eq!(r.url, "mysql://root:pw@db:3307/app");
        assert!(r.notes.iter().any(|n| n.contains("password, port")));
        assert!(!r.notes.iter().any(|n| n.contains("pw@")));
        std::fs::set_permissions(&cnf, std::fs::Permissions::from_mode(0o666)).unwrap();
        let r = ok("mysql://root@db/app", &[("HOME", h.as_str())]);
        assert_eq!(r.url, "mysql://root@db:3306/app");
    }
}
