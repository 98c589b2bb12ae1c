//! Database URLs, redaction and settings resolution. First byte picks:
//! 0: the input as a URL; 1: `scheme://user:PASSWORD@host/db` built from
//! NUL-separated fields, through redaction, `DatabaseUrl` and settings (as
//! DATABASE_URL and in `.env`); 2: `.env` text and a DATABASE_URL.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

const SCHEMES: [&str; 6] = [
    "postgres",
    "postgresql",
    "mysql",
    "mariadb",
    "sqlite",
    "PostgreS",
];

/// One folder per process for `.env`, removed by nobody: it is in the
/// temp dir and holds one small file.
fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("keel-fuzz-url-{}", std::process::id()));
        if let Err(e) = std::fs::create_dir_all(&d) {
            panic!("creating {}: {e}", d.display());
        }
        d
    })
}

fn alnum(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let result = match mode % 3 {
        0 => keel::fuzzing::url(&text),
        1 => {
            let mut f = text.splitn(5, '\0');
            let mut next = || f.next().unwrap_or_default();
            let scheme = SCHEMES[usize::from(mode / 3) % SCHEMES.len()];
            let (user, host, db) = (alnum(next()), alnum(next()), alnum(next()));
            let host = if host.is_empty() {
                "h".to_string()
            } else {
                host
            };
            let db = if db.is_empty() { "d".to_string() } else { db };
            // marked, so that output text cannot contain it by chance
            let password = &format!("Qz{}zQ", next());
            let dotenv_extra = next();
            let url = format!("{scheme}://{user}:{password}@{host}/{db}");
            let skeleton = format!("{scheme}://{user}:***@{host}/{db}");
            keel::fuzzing::url_with_password(scheme, &user, password, &host, &db).and_then(|()| {
                if password.is_empty()
                    || skeleton.contains(password)
                    || password.contains(['\n', '\r'])
                {
                    return Ok(());
                }
                keel::fuzzing::settings(dir(), "", Some(&url), Some(password))?;
                let dotenv = format!("{dotenv_extra}\nDATABASE_URL='{url}'\n");
                keel::fuzzing::settings(dir(), &dotenv, None, Some(password))
            })
        }
        _ => {
            let (dotenv, env) = match text.split_once('\0') {
                Some((d, e)) => (d, Some(e)),
                None => (&*text, None),
            };
            keel::fuzzing::settings(dir(), dotenv, env, None)
        }
    };
    if let Err(e) = result {
        panic!("{e}");
    }
});
