//! TLS parameters keel cannot use are bad input, found before the network
//! (a mistyped `sslmode`, a missing root file, an encrypted client key);
//! a certificate without subjectAltName is refused by `verify-full` in
//! words that say so, and accepted by `verify-ca` as the message claims.

use crate::support::{Engine, TestDb, json};
use std::path::{Path, PathBuf};

/// `keel status --format json` on `url`: exit code, document, all output.
fn status(db: &TestDb, url: &str) -> (Option<i32>, serde_json::Value, String) {
    let out = db
        .keel()
        .args(["status", "--format", "json", "--database-url", url])
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), json(&out), all)
}

/// Exit 2, `error.kind` invalid_input; the message.
fn invalid(db: &TestDb, url: &str) -> String {
    let (code, doc, _) = status(db, url);
    assert_eq!(code, Some(2), "{url}: {doc}");
    assert_eq!(doc["error"]["kind"], "invalid_input", "{url}: {doc}");
    doc["error"]["message"].as_str().unwrap().to_string()
}

#[test]
fn unknown_tls_modes_and_missing_files_are_invalid_input() {
    let db = TestDb::new(Engine::Sqlite, "tls_input_modes");
    let pg = "postgres://postgres:s3cret@127.0.0.1:5432/postgres";
    let message = invalid(&db, &format!("{pg}?sslmode=requir"));
    assert!(
        message.contains("unknown sslmode `requir`")
            && message.contains("disable, prefer, require, verify-ca or verify-full"),
        "{message}"
    );
    assert!(!message.contains("s3cret"), "{message}");
    let message = invalid(
        &db,
        "mysql://root:s3cret@127.0.0.1:3306/mysql?ssl-mode=REQUIRD",
    );
    assert!(
        message.contains("unknown ssl-mode `REQUIRD`") && message.contains("VERIFY_IDENTITY"),
        "{message}"
    );
    assert!(!message.contains("s3cret"), "{message}");
    // a root file that is not there: bad input naming the file, for both
    for url in [
        format!("{pg}?sslmode=verify-full&sslrootcert=/nonexistent/keel-ca.pem"),
        "mysql://root@127.0.0.1:3306/mysql?ssl-mode=VERIFY_CA&ssl-ca=/nonexistent/keel-ca.pem"
            .to_string(),
    ] {
        let message = invalid(&db, &url);
        assert!(
            message.contains("cannot read /nonexistent/keel-ca.pem"),
            "{message}"
        );
    }
    // verify-full without any root to verify with
    let message = invalid(&db, &format!("{pg}?sslmode=verify-full"));
    assert!(message.contains("sslrootcert"), "{message}");
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run openssl");
    assert!(out.status.success(), "openssl {args:?}: {out:?}");
}

/// A self-signed client certificate with its key encrypted under `pass`,
/// in the PKCS#8 and the traditional OpenSSL PEM forms.
fn encrypted_keys(dir: &Path, pass: &str) -> (PathBuf, [PathBuf; 2]) {
    let pass_arg = format!("pass:{pass}");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=keel_cert",
            "-keyout",
            "plain.key",
            "-out",
            "client.pem",
        ],
    );
    openssl(
        dir,
        &[
            "pkey",
            "-in",
            "plain.key",
            "-aes256",
            "-passout",
            &pass_arg,
            "-out",
            "pkcs8.key",
        ],
    );
    openssl(
        dir,
        &[
            "rsa",
            "-in",
            "plain.key",
            "-aes256",
            "-traditional",
            "-passout",
            &pass_arg,
            "-out",
            "traditional.key",
        ],
    );
    (
        dir.join("client.pem"),
        [dir.join("pkcs8.key"), dir.join("traditional.key")],
    )
}

#[test]
fn an_encrypted_client_key_is_refused_with_how_to_decrypt_it_and_sslpassword_never_shown() {
    let db = TestDb::new(Engine::Sqlite, "tls_input_encrypted_key");
    let (cert, keys) = encrypted_keys(db.path(), "Key-Passw0rd");
    for key in &keys {
        let (cert, key) = (cert.display(), key.display());
        for url in [
            format!(
                "postgres://postgres@127.0.0.1:5432/postgres?sslmode=require&sslcert={cert}&sslkey={key}&sslpassword=Key-Passw0rd"
            ),
            format!(
                "mysql://root@127.0.0.1:3306/mysql?ssl-mode=REQUIRED&ssl-cert={cert}&ssl-key={key}"
            ),
        ] {
            let (code, doc, all) = status(&db, &url);
            assert_eq!(code, Some(2), "{doc}");
            assert_eq!(doc["error"]["kind"], "invalid_input", "{doc}");
            let message = doc["error"]["message"].as_str().unwrap();
            assert!(
                message.contains(&format!("client key {key} is encrypted"))
                    && message.contains(&format!("openssl pkey -in {key} -out {key}.plain")),
                "{message}"
            );
            assert!(
                !all.contains("Key-Passw0rd"),
                "the sslpassword leaked: {all}"
            );
        }
    }
    // the decrypted key, as the message says, is accepted (and sslpassword,
    // which a plain key does not need, is ignored as libpq ignores it)
    let plain = db.path().join("plain.key");
    let url = format!(
        "postgres://postgres@127.0.0.1:5432/postgres?sslmode=require&sslcert={}&sslkey={}&sslpassword=Key-Passw0rd",
        cert.display(),
        plain.display()
    );
    db.write("0001_a.sql", "CREATE TABLE a (id integer);\n");
    let (code, doc, all) = status(&db, &url);
    assert_eq!(code, Some(1), "pending: {doc}");
    assert!(doc.get("error").is_none(), "{doc}");
    assert!(!all.contains("Key-Passw0rd"), "{all}");
}

/// An old-style certificate that names its host only in the subject CN.
#[test]
fn a_certificate_without_subject_alt_name_is_explained_and_verify_ca_accepts_it() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!("keel-cn-only-{}-{port}", std::process::id()));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/postgres-tls.sh");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .args(["--cn-only"])
        .arg(&dir)
        .arg(port.to_string())
        .arg(std::process::id().to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ca = dir.join("certs/ca.pem");
    let db = TestDb::new(Engine::Sqlite, "tls_input_cn_only");
    db.write("0001_a.sql", "CREATE TABLE a (id integer);\n");
    let base = format!(
        "postgres://postgres@localhost:{port}/postgres?sslrootcert={}",
        ca.display()
    );

    let (code, doc, _) = status(&db, &format!("{base}&sslmode=verify-full"));
    assert_eq!(code, Some(2), "{doc}");
    assert_eq!(doc["error"]["kind"], "connection", "{doc}");
    let message = doc["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("it has no subjectAltName")
            && message.contains("subject CN")
            && message.contains("sslmode=verify-ca"),
        "{message}"
    );
    // what the message offers works: the chain is good, only the name is not
    let (code, doc, _) = status(&db, &format!("{base}&sslmode=verify-ca"));
    assert_eq!(code, Some(1), "pending, connected: {doc}");
    assert!(doc.get("error").is_none(), "{doc}");
}
