//! MySQL/MariaDB URLs: `mysql://`, `mariadb://`, SQLAlchemy's
//! `mysql+pymysql://` (`+mysqldb`, `+aiomysql`, `+asyncmy`,
//! `mariadb+mariadbconnector://`, …) and JDBC's `jdbc:mysql://` /
//! `jdbc:mariadb://`; what they leave out comes from the option files'
//! `[client]` sections ([`super::mycnf`]). Canonical form: `mysql://` with
//! percent-encoded userinfo and only the parameters mysql_async or keel's
//! TLS layer know.

use super::{Context, Invalid, Resolved, dropped, mycnf};
use crate::settings::Engine;

/// A MySQL connection, spelling-neutral.
#[derive(Debug, Default, Clone)]
pub(crate) struct MyParts {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub database: Option<String>,
    pub params: Vec<(String, String)>,
    pub dropped: Vec<String>,
    pub notes: Vec<String>,
}

/// mysql_async's own URL parameters that matter to one connection.
const PASSED: [&str; 9] = [
    "socket",
    "prefer_socket",
    "compression",
    "tcp_keepalive",
    "tcp_nodelay",
    "stmt_cache_size",
    "wait_timeout",
    "max_allowed_packet",
    "enable_cleartext_plugin",
];

pub const SSL_MODES: [&str; 5] = [
    "DISABLED",
    "PREFERRED",
    "REQUIRED",
    "VERIFY_CA",
    "VERIFY_IDENTITY",
];

impl MyParts {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn set(&mut self, key: &str, value: String) {
        self.params.retain(|(k, _)| k != key);
        self.params.push((key.to_string(), value));
    }

    fn set_mode(&mut self, key: &str, value: &str, mode: &str) {
        if !key.eq_ignore_ascii_case("ssl-mode") {
            self.notes
                .push(format!("`{key}={value}` read as ssl-mode={mode}"));
        }
        self.set("ssl-mode", mode.to_string());
    }

    /// One `key=value` of a URL query or an option file.
    pub fn param(&mut self, key: &str, value: String) -> Result<(), Invalid> {
        let norm = key.to_ascii_lowercase().replace('_', "-");
        match norm.as_str() {
            "user" | "username" => self.user = Some(value),
            "password" | "pass" => self.password = Some(value),
            "host" => self.host = Some(value),
            "port" => self.port = Some(super::parse_port(&value)?),
            "database" | "dbname" => self.database = Some(value),
            "ssl-mode" | "sslmode" => {
                let mode = match value.to_ascii_uppercase().replace('-', "_").as_str() {
                    m if SSL_MODES.contains(&m) => m.to_string(),
                    // MariaDB Connector/J's names
                    "DISABLE" => "DISABLED".to_string(),
                    "TRUST" => "REQUIRED".to_string(),
                    "VERIFY_FULL" => "VERIFY_IDENTITY".to_string(),
                    _ => {
                        return Err(Invalid::new(
                            format!(
                                "unknown ssl-mode `{value}`: use DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY"
                            ),
                            None,
                        ));
                    }
                };
                self.set_mode(key, &value, &mode);
            }
            // Connector/J, PyMySQL, asyncmy
            "usessl" | "ssl" | "requiressl" if self.get("ssl-mode").is_none() => {
                match super::truthy(&value) {
                    Some(true) => self.set_mode(key, &value, "REQUIRED"),
                    Some(false) => self.set_mode(key, &value, "DISABLED"),
                    None => {
                        return Err(Invalid::new(format!("`{key}` is not true or false"), None));
                    }
                }
            }
            "verifyservercertificate" | "ssl-verify-cert"
                if super::truthy(&value) == Some(true) =>
            {
                self.set_mode(key, &value, "VERIFY_CA");
            }
            "ssl-ca" | "sslca" | "sslrootcert" | "servercasslcertificate" => {
                self.set("ssl-ca", value)
            }
            "ssl-cert" | "sslcert" => self.set("ssl-cert", value),
            "unix-socket" => self.set("socket", value),
            "ssl-key" | "sslkey" => self.set("ssl-key", value),
            _ if PASSED.contains(&key.to_ascii_lowercase().as_str()) => {
                self.set(&key.to_ascii_lowercase(), value)
            }
            _ => self.dropped.push(key.to_string()),
        }
        Ok(())
    }
}

/// `mysql[+driver]://…`, `mariadb[+driver]://…`.
pub(crate) fn url(raw: &str, cx: &Context) -> Result<Resolved, Invalid> {
    let (scheme, rest) = raw.split_once(':').unwrap_or((raw, ""));
    let mut parts = MyParts::default();
    if let Some((_, driver)) = scheme.split_once('+') {
        parts.notes.push(format!(
            "`+{driver}` is SQLAlchemy's driver suffix: keel connects with its own driver"
        ));
    }
    let rest = rest.strip_prefix("//").ok_or_else(|| {
        Invalid::new(
            "a MySQL URL needs `//` after the scheme",
            Some("mysql://user@host:3306/db"),
        )
    })?;
    authority_into(&mut parts, rest)?;
    finish(parts, cx)
}

/// `jdbc:mysql://host:3306/db?user=…&password=…` (what follows `jdbc:mysql:`).
pub(crate) fn jdbc(tail: &str, cx: &Context) -> Result<Resolved, Invalid> {
    let mut parts = MyParts::default();
    let rest = tail.strip_prefix("//").ok_or_else(|| {
        Invalid::new(
            "a JDBC MySQL URL needs `//`: jdbc:mysql://host:3306/db",
            None,
        )
    })?;
    authority_into(&mut parts, rest)?;
    finish(parts, cx)
}

fn authority_into(parts: &mut MyParts, rest: &str) -> Result<(), Invalid> {
    let a = super::authority(rest)?;
    parts.user = a.user;
    parts.password = a.password;
    let hosts = super::host_list(a.hosts)?;
    if hosts.len() > 1 {
        return Err(Invalid::new(
            "the MySQL URL lists several hosts; keel connects to one",
            Some("give the primary's host"),
        ));
    }
    if let Some((h, p)) = hosts.into_iter().next() {
        parts.host = Some(h).filter(|h| !h.is_empty());
        parts.port = p;
    }
    if let Some(db) = a.path.filter(|p| !p.is_empty()) {
        parts.database = Some(super::decode(db)?);
    }
    for (k, v) in super::query_pairs(a.query)? {
        parts.param(&k, v)?;
    }
    Ok(())
}

fn finish(mut parts: MyParts, cx: &Context) -> Result<Resolved, Invalid> {
    mycnf::fill(&mut parts, cx)?;
    let host = parts
        .host
        .clone()
        .unwrap_or_else(|| "localhost".to_string());
    let port = parts.port.unwrap_or(3306);
    let Some(database) = parts.database.clone().filter(|d| !d.is_empty()) else {
        return Err(Invalid::new(
            "the database URL names no database",
            Some("add the database name: mysql://user@host:3306/mydb"),
        ));
    };
    let user = parts.user.clone().or_else(|| cx.os_user());
    if let Some(note) = dropped(
        &parts.dropped,
        "driver or pool settings (SQLAlchemy, JDBC, Prisma) that are not MySQL connection settings; keel always talks utf8mb4",
    ) {
        parts.notes.push(note);
    }
    use super::encode;
    let mut url = String::from("mysql://");
    if let Some(u) = &user {
        url.push_str(&encode(u));
        if let Some(p) = &parts.password {
            url.push(':');
            url.push_str(&encode(p));
        }
        url.push('@');
    }
    url.push_str(&format!(
        "{}:{port}/{}",
        super::url_host(&host),
        encode(&database)
    ));
    let query: Vec<String> = parts
        .params
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    if !query.is_empty() {
        url.push('?');
        url.push_str(&query.join("&"));
    }
    let mut description = format!(
        "MySQL/MariaDB db `{database}` on {host}:{port} as user {}",
        user.as_deref().unwrap_or_default()
    );
    if let Some(mode) = parts.get("ssl-mode") {
        description.push_str(&format!(", ssl-mode={mode}"));
    }
    Ok(Resolved {
        engine: Engine::Mysql,
        url,
        description,
        notes: parts.notes,
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use std::path::Path;

    #[test]
    fn sqlalchemy_drivers() {
        for scheme in [
            "mysql+pymysql",
            "mysql+mysqldb",
            "mysql+aiomysql",
            "mysql+asyncmy",
            "mariadb+mariadbconnector",
            "mariadb",
        ] {
            let r = ok(
                &format!("{scheme}://root:p%40w@db/app?charset=utf8mb4"),
                &[],
            );
            assert_eq!(r.url, "mysql://root:p%40w@db:3306/app", "{scheme}");
            assert!(r.notes.iter().any(|n| n.contains("`charset`")));
        }
        let r = ok(
            "mysql://root@db/app?ssl_ca=/ca.pem&ssl_mode=verify_identity",
            &[],
        );
        assert_eq!(
            r.url,
            "mysql://root@db:3306/app?ssl-ca=%2Fca.pem&ssl-mode=VERIFY_IDENTITY"
        );
        assert_eq!(
            r.description,
            "MySQL/MariaDB db `app` on db:3306 as user root, ssl-mode=VERIFY_IDENTITY"
        );
    }

    #[test]
    fn jdbc_mysql_and_mariadb() {
        let r = ok(
            "jdbc:mysql://db:3307/app?user=root&password=s3cret&useSSL=true&serverTimezone=UTC",
            &[],
        );
        assert_eq!(r.url, "mysql://root:s3cret@db:3307/app?ssl-mode=REQUIRED");
        assert!(r.notes.iter().any(|n| n.contains("serverTimezone")));
        let r = ok("jdbc:mariadb://db/app?user=u&sslMode=verify-full", &[]);
        assert_eq!(r.url, "mysql://u@db:3306/app?ssl-mode=VERIFY_IDENTITY");
    }

    #[test]
    fn refusals() {
        let bad = |raw: &str| resolve_in(raw, Path::new("/"), &[], false).unwrap_err();
        assert!(
            bad("mysql://r:s3cret@h/d?ssl-mode=yes")
                .message
                .contains("ssl-mode")
        );
        assert!(bad("mysql://r@h").message.contains("names no database"));
        assert!(bad("jdbc:mysql://a,b/d").message.contains("several hosts"));
    }
}
