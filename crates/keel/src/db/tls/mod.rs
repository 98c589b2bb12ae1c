//! TLS on every connection keel opens, with rustls (the `ring` provider).
//!
//! PostgreSQL follows libpq: `sslmode` = `disable | prefer | require |
//! verify-ca | verify-full` (default `prefer`), `sslrootcert` (a PEM file,
//! or `system` for the operating system's store), `sslcert` + `sslkey`.
//! MySQL/MariaDB follow the mysql client: `ssl-mode` = `DISABLED |
//! PREFERRED | REQUIRED | VERIFY_CA | VERIFY_IDENTITY` (default
//! `PREFERRED`), `ssl-ca`, `ssl-cert`, `ssl-key`.
//!
//! keel takes its parameters out of the URL before the driver sees it (the
//! drivers reject options they do not know), and words every refusal: which
//! mode, and what was wrong with the certificate.

mod mysql;
mod postgres;

pub(crate) use mysql::{MyMode, MyTls};
pub(crate) use postgres::{Failure, PgTls, SslMode};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A TLS parameter keel could not use; the caller turns it into a
/// connection error naming the URL.
#[derive(Debug)]
pub(crate) struct Problem(pub String);

/// A URL with keel's TLS parameters taken out: what the driver gets, and
/// the parameters, decoded by `decode` as the driver would have.
fn split_query(
    raw: &str,
    ours: impl Fn(&str) -> bool,
    decode: fn(&str) -> String,
) -> (String, Vec<(String, String)>) {
    let (base, fragment) = match raw.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (raw, None),
    };
    let Some((head, query)) = base.split_once('?') else {
        return (raw.to_string(), Vec::new());
    };
    let mut kept = Vec::new();
    let mut taken = Vec::new();
    for segment in query.split('&').filter(|s| !s.is_empty()) {
        let (k, v) = segment.split_once('=').unwrap_or((segment, ""));
        let key = decode(k);
        if ours(&key) {
            taken.push((key, decode(v)));
        } else {
            kept.push(segment);
        }
    }
    let mut rest = head.to_string();
    if !kept.is_empty() {
        rest.push('?');
        rest.push_str(&kept.join("&"));
    }
    if let Some(f) = fragment {
        rest.push('#');
        rest.push_str(f);
    }
    (rest, taken)
}

/// `application/x-www-form-urlencoded` (`+` is a space), as mysql_async reads
/// its URL parameters.
fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

/// Percent-decoding only (`+` stays), as libpq and tokio-postgres read a URL.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn home_file(relative: &str) -> Option<PathBuf> {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .map(|h| h.join(relative))
        .filter(|p| p.is_file())
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

pub(super) fn read_certs(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, Problem> {
    let bytes = std::fs::read(path)
        .map_err(|e| Problem(format!("{what}: cannot read {}: {e}", path.display())))?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| Problem(format!("{what}: {} is not PEM: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(Problem(format!(
            "{what}: {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        )));
    }
    Ok(certs)
}

pub(super) fn system_roots(what: &str) -> Result<Vec<CertificateDer<'static>>, Problem> {
    let found = rustls_native_certs::load_native_certs();
    if found.certs.is_empty() {
        let why = found
            .errors
            .first()
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        return Err(Problem(format!(
            "{what}: the operating system's certificate store is empty or unreadable{why}; install the CA certificates (Debian: ca-certificates) or give the CA's file"
        )));
    }
    Ok(found.certs)
}

pub(super) fn client_identity(
    cert: &Path,
    key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), Problem> {
    let chain = read_certs(cert, "client certificate")?;
    let bytes = std::fs::read(key)
        .map_err(|e| Problem(format!("client key: cannot read {}: {e}", key.display())))?;
    if is_encrypted_key(&bytes) {
        let path = key.display();
        // no crate in keel's tree decrypts PKCS#8/PEM keys, and a home-made
        // decryption is not a risk worth taking for a key
        return Err(Problem(format!(
            "client key {path} is encrypted with a passphrase, and keel cannot decrypt keys (so sslpassword is not supported): decrypt it once with `openssl pkey -in {path} -out {path}.plain`, keep that file private (chmod 600), and give it as sslkey / ssl-key"
        )));
    }
    let key = PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| {
        Problem(format!(
            "client key {}: cannot read a PEM private key: {e}",
            key.display()
        ))
    })?;
    Ok((chain, key))
}

/// A passphrase-protected PEM key: PKCS#8 `ENCRYPTED PRIVATE KEY`, or
/// the traditional OpenSSL form with a `Proc-Type: 4,ENCRYPTED` header.
fn is_encrypted_key(pem: &[u8]) -> bool {
    let text = String::from_utf8_lossy(pem);
    text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        || text.contains("Proc-Type: 4,ENCRYPTED")
}

/// What a connection checks of the server's certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verify {
    /// Encrypt, trust any certificate.
    Nothing,
    /// The chain up to a trusted root; not the host name.
    Chain,
    /// The chain and the host name.
    Full,
}

// ------------------------------------------------------------------- errors

/// The rustls error somewhere in `e`'s chain (through `io::Error`s, which
/// hide their payload from `source()`).
pub(crate) fn find_rustls<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::Error> {
    let mut next = Some(e);
    while let Some(err) = next {
        if let Some(found) = err.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            && let Some(found) = find_rustls(inner)
        {
            return Some(found);
        }
        next = err.source();
    }
    None
}

/// The names a certificate is valid for, from a host-name mismatch.
pub(crate) fn presented_names(e: &rustls::Error) -> Vec<String> {
    match e {
        rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext {
            presented,
            ..
        }) => presented.iter().map(|p| clean_name(p)).collect(),
        _ => Vec::new(),
    }
}

/// `DnsName("localhost")` → `localhost`.
fn clean_name(presented: &str) -> String {
    let inner = presented
        .split_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .unwrap_or(presented);
    inner.trim_matches('"').to_string()
}

fn describe_io(e: &std::io::Error) -> String {
    match find_rustls(e) {
        Some(r) => describe(r),
        None => e.to_string(),
    }
}

/// Said of a server certificate without the extension host names are
/// checked against.
pub(crate) const NO_SAN: &str = "it has no subjectAltName";

/// A rustls error in words.
pub(crate) fn describe(e: &rustls::Error) -> String {
    use CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => "the server's certificate was refused: unknown issuer — it is self-signed or signed by a certificate authority that is not trusted (not the given root certificate)".to_string(),
            C::NotValidForName => "the server's certificate was refused: host name mismatch — it is not valid for the host name connected to".to_string(),
            // webpki reads host names from the subjectAltName only: `presented`
            // lists every entry of it, so empty means there is none
            C::NotValidForNameContext { expected, presented } if presented.is_empty() => format!(
                "the server's certificate was refused: {NO_SAN}, so it names no host (old certificates name the host only in the subject CN, which TLS host-name checks ignore); reissue it with subjectAltName=DNS:{}",
                expected.to_str()
            ),
            C::NotValidForNameContext { expected, presented } => format!(
                "the server's certificate was refused: host name mismatch — it is not valid for `{}`{}",
                expected.to_str(),
                if presented.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", only for {}",
                        presented.iter().map(|p| clean_name(p)).collect::<Vec<_>>().join(", ")
                    )
                }
            ),
            C::Expired | C::ExpiredContext { .. } => "the server's certificate was refused: it has expired".to_string(),
            C::NotValidYet | C::NotValidYetContext { .. } => "the server's certificate was refused: it is not valid yet (check the clocks)".to_string(),
            C::Revoked => "the server's certificate was refused: it has been revoked".to_string(),
            C::BadSignature => "the server's certificate was refused: its signature is invalid".to_string(),
            C::InvalidPurpose | C::InvalidPurposeContext { .. } => "the server's certificate was refused: it is not meant for a TLS server".to_string(),
            other => format!("the server's certificate was refused: {other}"),
        },
        rustls::Error::AlertReceived(alert) => format!(
            "the server ended the TLS handshake ({alert:?}); if it asks for a client certificate, give one"
        ),
        other => format!("TLS failed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::mysql::*;
    use super::postgres::*;
    use super::*;

    #[test]
    fn postgres_parameters_leave_the_url_for_tokio_postgres() {
        let (rest, tls) = PgTls::split(
            "postgres://u:p@h/db?application_name=a%20b&sslmode=verify-full&sslrootcert=/x/ca.pem",
        )
        .unwrap();
        assert_eq!(
            rest,
            "postgres://u:p@h/db?application_name=a%20b&sslmode=require"
        );
        assert_eq!(tls.mode, SslMode::VerifyFull);
        assert_eq!(tls.roots, Some(Roots::File("/x/ca.pem".into())));
        let (rest, tls) = PgTls::split("postgres://h/db").unwrap();
        assert_eq!(
            (rest.as_str(), tls.mode),
            ("postgres://h/db?sslmode=prefer", SslMode::Prefer)
        );
        let (_, tls) = PgTls::split("postgres://h/db?sslrootcert=/a+b/c%20d.pem").unwrap();
        assert_eq!(tls.roots, Some(Roots::File("/a+b/c d.pem".into())));
        let (_, tls) = PgTls::split("postgres://h/db?sslrootcert=system").unwrap();
        assert_eq!(tls.mode, SslMode::VerifyFull);
        assert!(PgTls::split("postgres://h/db?sslmode=require&sslrootcert=system").is_err());
        assert!(PgTls::split("postgres://h/db?sslmode=on").is_err());
    }

    #[test]
    fn require_with_a_root_verifies_the_chain() {
        let (_, tls) = PgTls::split("postgres://h/db?sslmode=require&sslrootcert=/ca.pem").unwrap();
        assert_eq!(tls.verify(), Verify::Chain);
    }

    #[test]
    fn mysql_parameters_in_every_spelling() {
        for q in [
            "ssl-mode=verify_identity",
            "sslmode=VERIFY_IDENTITY",
            "ssl_mode=Verify_Identity",
        ] {
            let (rest, tls) =
                MyTls::split(&format!("mysql://r@h/db?{q}&ssl-ca=/ca.pem&socket=/s")).unwrap();
            assert_eq!(rest, "mysql://r@h/db?socket=/s");
            assert_eq!(tls.mode, MyMode::VerifyIdentity);
            assert_eq!(tls.ca, Some(PathBuf::from("/ca.pem")));
        }
        assert_eq!(
            MyTls::split("mysql://h/db").unwrap().1.mode,
            MyMode::Preferred
        );
        assert!(MyTls::split("mysql://h/db?ssl-mode=yes").is_err());
    }

    /// RFC 5929's hash for certificates openssl signs with each digest,
    /// against openssl's own fingerprint with that digest.
    #[test]
    fn channel_binding_hashes_the_certificate_with_its_signature_digest() {
        let dir = tempfile::tempdir().unwrap();
        let openssl = |args: &[&str]| {
            let out = std::process::Command::new("openssl")
                .current_dir(dir.path())
                .args(args)
                .output()
                .unwrap();
            assert!(out.status.success(), "openssl {args:?}: {out:?}");
            String::from_utf8(out.stdout).unwrap()
        };
        let cases = [
            ("rsa:2048", "-sha256", Some("-sha256")),
            ("rsa:2048", "-sha1", Some("-sha256")),
            ("rsa:2048", "-sha512", Some("-sha512")),
            ("ec", "-sha384", Some("-sha384")),
            ("ed25519", "", None),
        ];
        for (key, digest, expected) in cases {
            let mut args = vec!["req", "-x509", "-nodes", "-days", "1", "-subj", "/CN=t"];
            args.extend(["-keyout", "k.pem", "-out", "c.pem", "-outform", "DER"]);
            match key {
                "ec" => args.extend(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"]),
                k => args.extend(["-newkey", k]),
            }
            if !digest.is_empty() {
                args.push(digest);
            }
            openssl(&args);
            let der = std::fs::read(dir.path().join("c.pem")).unwrap();
            let ours = server_end_point(&der).map(|h| {
                h.iter()
                    .map(|b| format!("{b:02X}"))
                    .collect::<Vec<_>>()
                    .join(":")
            });
            let theirs = expected.map(|d| {
                let out = openssl(&[
                    "x509",
                    "-inform",
                    "DER",
                    "-in",
                    "c.pem",
                    "-noout",
                    "-fingerprint",
                    d,
                ]);
                out.trim().split_once('=').unwrap().1.to_string()
            });
            assert_eq!(ours, theirs, "{key} {digest}");
        }
    }

    #[test]
    fn der_signature_algorithm_of_a_certificate() {
        // SEQUENCE { SEQUENCE {} , SEQUENCE { OID sha384WithRSA, NULL }, BIT STRING }
        let cert = [
            0x30, 0x14, 0x30, 0x00, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
            0x01, 0x01, 0x0c, 0x05, 0x00, 0x03, 0x01, 0x00,
        ];
        let hash = server_end_point(&cert).unwrap();
        assert_eq!(hash.len(), 48);
        assert_eq!(clean_name("DnsName(\"localhost\")"), "localhost");
    }
}
