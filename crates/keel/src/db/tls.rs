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

// ---------------------------------------------------------------- PostgreSQL

/// libpq's `sslmode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub fn name(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// What a connection checks of the server's certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verify {
    /// Encrypt, trust any certificate.
    Nothing,
    /// The chain up to a trusted root; not the host name.
    Chain,
    /// The chain and the host name.
    Full,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Roots {
    File(PathBuf),
    System,
}

/// keel's PostgreSQL TLS parameters, out of a URL.
#[derive(Clone, Debug)]
pub(crate) struct PgTls {
    pub mode: SslMode,
    roots: Option<Roots>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
}

const PG_KEYS: [&str; 4] = ["sslmode", "sslrootcert", "sslcert", "sslkey"];

impl PgTls {
    /// Splits `raw` into the URL tokio-postgres gets (with its own
    /// `sslmode` of disable/prefer/require) and keel's TLS settings.
    pub fn split(raw: &str) -> Result<(String, PgTls), Problem> {
        let (rest, taken) = split_query(raw, |k| PG_KEYS.contains(&k), percent_decode);
        let mut mode = None;
        let mut roots = None;
        let mut cert = None;
        let mut key = None;
        for (k, v) in taken {
            match k.as_str() {
                "sslmode" => {
                    mode = Some(match v.to_ascii_lowercase().as_str() {
                        "disable" => SslMode::Disable,
                        // libpq's `allow` tries plain text first; keel has no
                        // such fallback and prefers TLS instead
                        "allow" | "prefer" => SslMode::Prefer,
                        "require" => SslMode::Require,
                        "verify-ca" => SslMode::VerifyCa,
                        "verify-full" => SslMode::VerifyFull,
                        other => {
                            return Err(Problem(format!(
                                "unknown sslmode `{other}`: use disable, prefer, require, verify-ca or verify-full"
                            )));
                        }
                    })
                }
                "sslrootcert" if v == "system" => roots = Some(Roots::System),
                "sslrootcert" => roots = Some(Roots::File(PathBuf::from(v))),
                "sslcert" => cert = Some(PathBuf::from(v)),
                _ => key = Some(PathBuf::from(v)),
            }
        }
        let mode = match (mode, &roots) {
            // as libpq 16: the system store only makes sense with host checks
            (None, Some(Roots::System)) => SslMode::VerifyFull,
            (Some(m), Some(Roots::System)) if m != SslMode::VerifyFull && m != SslMode::Disable => {
                return Err(Problem(format!(
                    "sslmode={} may not be used with sslrootcert=system: use sslmode=verify-full",
                    m.name()
                )));
            }
            (m, _) => m.unwrap_or(SslMode::Prefer),
        };
        let tokio_mode = match mode {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            _ => "require",
        };
        let sep = if rest.contains('?') { '&' } else { '?' };
        let rest = match rest.split_once('#') {
            Some((b, f)) => format!("{b}{sep}sslmode={tokio_mode}#{f}"),
            None => format!("{rest}{sep}sslmode={tokio_mode}"),
        };
        Ok((
            rest,
            PgTls {
                mode,
                roots,
                cert,
                key,
            },
        ))
    }

    /// What the handshake checks, as libpq: `require` with a root
    /// certificate (given, or `~/.postgresql/root.crt`) verifies the chain.
    fn verify(&self) -> Verify {
        match self.mode {
            SslMode::Disable | SslMode::Prefer => Verify::Nothing,
            SslMode::Require if self.roots.is_some() || home_file(PG_ROOT).is_some() => {
                Verify::Chain
            }
            SslMode::Require => Verify::Nothing,
            SslMode::VerifyCa => Verify::Chain,
            SslMode::VerifyFull => Verify::Full,
        }
    }

    /// The connector for tokio-postgres.
    pub fn connector(&self) -> Result<MakeRustls, Problem> {
        let mode = self.mode.name();
        let verify = self.verify();
        let provider = provider();
        let webpki = match verify {
            Verify::Nothing => None,
            _ => {
                let roots = match &self.roots {
                    Some(r) => r.clone(),
                    None => match home_file(PG_ROOT) {
                        Some(p) => Roots::File(p),
                        None => {
                            return Err(Problem(format!(
                                "sslmode={mode} verifies the server's certificate but no certificate authority is given: add sslrootcert=/path/to/ca.pem (the CA that signed the server's certificate), or sslrootcert=system for the operating system's store"
                            )));
                        }
                    },
                };
                let store = root_store(&roots, &format!("sslmode={mode}"))?;
                Some(
                    WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
                        .build()
                        .map_err(|e| Problem(format!("sslmode={mode}: {e}")))?,
                )
            }
        };
        let verifier = Arc::new(Verifier {
            verify,
            webpki,
            provider: provider.clone(),
        });
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Problem(format!("sslmode={mode}: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let identity = match (&self.cert, &self.key) {
            (Some(c), Some(k)) => Some((c.clone(), k.clone())),
            (None, None) => match (home_file(PG_CERT), home_file(PG_KEY)) {
                (Some(c), Some(k)) => Some((c, k)),
                _ => None,
            },
            (Some(_), None) => {
                return Err(Problem(
                    "sslcert is given without sslkey: add sslkey=/path/to/client.key".into(),
                ));
            }
            (None, Some(_)) => {
                return Err(Problem(
                    "sslkey is given without sslcert: add sslcert=/path/to/client.crt".into(),
                ));
            }
        };
        let config = match identity {
            Some((cert, key)) => {
                let (chain, key) = client_identity(&cert, &key)?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| Problem(format!("client certificate {}: {e}", cert.display())))?
            }
            None => builder.with_no_client_auth(),
        };
        Ok(MakeRustls {
            config: Arc::new(config),
        })
    }
}

const PG_ROOT: &str = ".postgresql/root.crt";
const PG_CERT: &str = ".postgresql/postgresql.crt";
const PG_KEY: &str = ".postgresql/postgresql.key";

fn read_certs(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, Problem> {
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

fn root_store(roots: &Roots, what: &str) -> Result<rustls::RootCertStore, Problem> {
    let mut store = rustls::RootCertStore::empty();
    let certs = match roots {
        Roots::File(path) => read_certs(path, what)?,
        Roots::System => system_roots(what)?,
    };
    for cert in certs {
        store.add(cert).map_err(|e| {
            Problem(format!(
                "{what}: a root certificate cannot be used: {}",
                describe(&e)
            ))
        })?;
    }
    Ok(store)
}

fn system_roots(what: &str) -> Result<Vec<CertificateDer<'static>>, Problem> {
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

fn client_identity(
    cert: &Path,
    key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), Problem> {
    let chain = read_certs(cert, "client certificate")?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        Problem(format!(
            "client key {}: cannot read a PEM private key: {e}",
            key.display()
        ))
    })?;
    Ok((chain, key))
}

/// Checks the server's certificate as the mode says; the handshake's
/// signatures are always checked.
#[derive(Debug)]
struct Verifier {
    verify: Verify,
    webpki: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(webpki) = self
            .webpki
            .as_ref()
            .filter(|_| self.verify != Verify::Nothing)
        else {
            return Ok(ServerCertVerified::assertion());
        };
        match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            // the chain is checked before the name: a name error means the
            // chain was fine, which is all verify-ca asks
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if self.verify == Verify::Chain => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// tokio-postgres's TLS: rustls, with `tls-server-end-point` channel
/// binding for SCRAM-SHA-256-PLUS.
#[derive(Clone)]
pub(crate) struct MakeRustls {
    config: Arc<rustls::ClientConfig>,
}

impl<S> tokio_postgres::tls::MakeTlsConnect<S> for MakeRustls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = PgStream<S>;
    type TlsConnect = RustlsConnect;
    type Error = Failure;

    fn make_tls_connect(&mut self, domain: &str) -> Result<RustlsConnect, Failure> {
        let name = ServerName::try_from(domain.to_string())
            .map_err(|_| Failure(format!("`{domain}` is not a host name TLS can check")))?;
        Ok(RustlsConnect {
            config: self.config.clone(),
            name,
        })
    }
}

pub(crate) struct RustlsConnect {
    config: Arc<rustls::ClientConfig>,
    name: ServerName<'static>,
}

type Connecting<S> = Pin<Box<dyn Future<Output = Result<PgStream<S>, Failure>> + Send>>;

impl<S> tokio_postgres::tls::TlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = PgStream<S>;
    type Error = Failure;
    type Future = Connecting<S>;

    fn connect(self, stream: S) -> Connecting<S> {
        let connector = tokio_rustls::TlsConnector::from(self.config);
        Box::pin(async move {
            connector
                .connect(self.name, stream)
                .await
                .map(PgStream)
                .map_err(|e| Failure(describe_io(&e)))
        })
    }
}

/// Why a TLS handshake failed, in words.
#[derive(Debug)]
pub(crate) struct Failure(pub String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failure {}

pub(crate) struct PgStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for PgStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for PgStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> tokio_postgres::tls::TlsStream for PgStream<S> {
    fn channel_binding(&self) -> tokio_postgres::tls::ChannelBinding {
        let (_, session) = self.0.get_ref();
        session
            .peer_certificates()
            .and_then(|certs| certs.first())
            .and_then(|cert| server_end_point(cert.as_ref()))
            .map_or_else(
                tokio_postgres::tls::ChannelBinding::none,
                tokio_postgres::tls::ChannelBinding::tls_server_end_point,
            )
    }
}

/// RFC 5929 `tls-server-end-point`: the server certificate hashed with the
/// hash of its signature algorithm (SHA-256 for MD5 and SHA-1). `None` for
/// algorithms without a defined hash (Ed25519, RSA-PSS): SCRAM then runs
/// without channel binding, as PostgreSQL allows.
fn server_end_point(der: &[u8]) -> Option<Vec<u8>> {
    use sha2::Digest;
    enum Hash {
        Sha256,
        Sha384,
        Sha512,
    }
    let oid = signature_algorithm(der)?;
    const RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01];
    const ECDSA: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04];
    let hash = match oid {
        // md5, sha1, sha256, sha384, sha512, sha224 WithRSAEncryption
        [rsa @ .., last] if rsa == RSA => match last {
            0x04 | 0x05 | 0x0b | 0x0e => Hash::Sha256,
            0x0c => Hash::Sha384,
            0x0d => Hash::Sha512,
            _ => return None,
        },
        // ecdsa-with-SHA1
        [ec @ .., 0x01] if ec == ECDSA => Hash::Sha256,
        // ecdsa-with-SHA224/256/384/512
        [ec @ .., 0x03, last] if ec == ECDSA => match last {
            0x01 | 0x02 => Hash::Sha256,
            0x03 => Hash::Sha384,
            0x04 => Hash::Sha512,
            _ => return None,
        },
        _ => return None,
    };
    Some(match hash {
        Hash::Sha256 => sha2::Sha256::digest(der).to_vec(),
        Hash::Sha384 => sha2::Sha384::digest(der).to_vec(),
        Hash::Sha512 => sha2::Sha512::digest(der).to_vec(),
    })
}

/// The OID of `signatureAlgorithm` in a DER certificate:
/// `SEQUENCE { tbsCertificate, SEQUENCE { OID, ... }, BIT STRING }`.
fn signature_algorithm(der: &[u8]) -> Option<&[u8]> {
    let (tag, certificate, _) = der_element(der)?;
    if tag != 0x30 {
        return None;
    }
    let (_, _, after_tbs) = der_element(certificate)?;
    let (tag, algorithm, _) = der_element(after_tbs)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, oid, _) = der_element(algorithm)?;
    (tag == 0x06).then_some(oid)
}

/// One DER element: its tag, its content and what follows it.
fn der_element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let (bytes, rest) = rest.split_at(n);
        let len = bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, rest)
    };
    if rest.len() < len {
        return None;
    }
    let (content, after) = rest.split_at(len);
    Some((tag, content, after))
}

// ------------------------------------------------------------- MySQL/MariaDB

/// The mysql client's `--ssl-mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MyMode {
    Disabled,
    Preferred,
    Required,
    VerifyCa,
    VerifyIdentity,
}

impl MyMode {
    pub fn name(self) -> &'static str {
        match self {
            MyMode::Disabled => "DISABLED",
            MyMode::Preferred => "PREFERRED",
            MyMode::Required => "REQUIRED",
            MyMode::VerifyCa => "VERIFY_CA",
            MyMode::VerifyIdentity => "VERIFY_IDENTITY",
        }
    }
}

/// keel's MySQL TLS parameters, out of a URL.
#[derive(Clone, Debug)]
pub(crate) struct MyTls {
    pub mode: MyMode,
    ca: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
}

fn my_key(key: &str) -> Option<&'static str> {
    match key.to_ascii_lowercase().replace('_', "-").as_str() {
        "ssl-mode" | "sslmode" => Some("ssl-mode"),
        "ssl-ca" | "sslca" | "sslrootcert" => Some("ssl-ca"),
        "ssl-cert" | "sslcert" => Some("ssl-cert"),
        "ssl-key" | "sslkey" => Some("ssl-key"),
        _ => None,
    }
}

impl MyTls {
    /// Splits `raw` into the URL mysql_async gets and keel's TLS settings.
    pub fn split(raw: &str) -> Result<(String, MyTls), Problem> {
        let (rest, taken) = split_query(raw, |k| my_key(k).is_some(), form_decode);
        let mut tls = MyTls {
            mode: MyMode::Preferred,
            ca: None,
            cert: None,
            key: None,
        };
        for (k, v) in taken {
            match my_key(&k) {
                Some("ssl-mode") => {
                    tls.mode = match v.to_ascii_uppercase().replace('-', "_").as_str() {
                        "DISABLED" | "DISABLE" => MyMode::Disabled,
                        "PREFERRED" | "PREFER" => MyMode::Preferred,
                        "REQUIRED" | "REQUIRE" => MyMode::Required,
                        "VERIFY_CA" => MyMode::VerifyCa,
                        "VERIFY_IDENTITY" | "VERIFY_FULL" => MyMode::VerifyIdentity,
                        other => {
                            return Err(Problem(format!(
                                "unknown ssl-mode `{other}`: use DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY"
                            )));
                        }
                    }
                }
                Some("ssl-ca") => tls.ca = Some(PathBuf::from(v)),
                Some("ssl-cert") => tls.cert = Some(PathBuf::from(v)),
                _ => tls.key = Some(PathBuf::from(v)),
            }
        }
        Ok((rest, tls))
    }

    /// mysql_async's TLS options for this mode (`None`: plain text), and
    /// the host name to check instead of the URL's (VERIFY_CA's retry).
    pub fn ssl_opts(
        &self,
        host_override: Option<&str>,
    ) -> Result<Option<mysql_async::SslOpts>, Problem> {
        use mysql_async::{ClientIdentity, SslOpts};
        let what = format!("ssl-mode={}", self.mode.name());
        let verify = match self.mode {
            MyMode::Disabled => return Ok(None),
            MyMode::Preferred => Verify::Nothing,
            // as libpq's require: a CA that is given is checked
            MyMode::Required if self.ca.is_some() => Verify::Chain,
            MyMode::Required => Verify::Nothing,
            MyMode::VerifyCa => Verify::Chain,
            MyMode::VerifyIdentity => Verify::Full,
        };
        let mut opts = SslOpts::default();
        if verify == Verify::Nothing {
            // mysql_async builds a verifier even when it accepts anything,
            // and that needs a root: its built-in ones, never consulted
            opts = opts.with_danger_accept_invalid_certs(true);
        } else {
            opts = opts.with_disable_built_in_roots(true);
            let roots = match &self.ca {
                Some(ca) => read_certs(ca, &what)?,
                None => system_roots(&what)?,
            }
            .into_iter()
            .map(|c| c.as_ref().to_vec().into())
            .collect();
            opts = opts.with_root_certs(roots);
        }
        if let Some(host) = host_override {
            opts = opts.with_danger_tls_hostname_override(Some(host.to_string()));
        }
        match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => {
                // read here, so a bad file is reported in keel's words
                client_identity(cert, key)?;
                opts = opts.with_client_identity(Some(ClientIdentity::new(
                    cert.clone().into(),
                    key.clone().into(),
                )));
            }
            (None, None) => {}
            (Some(_), None) => {
                return Err(Problem(
                    "ssl-cert is given without ssl-key: add ssl-key=/path/to/client.key".into(),
                ));
            }
            (None, Some(_)) => {
                return Err(Problem(
                    "ssl-key is given without ssl-cert: add ssl-cert=/path/to/client.crt".into(),
                ));
            }
        }
        Ok(Some(opts))
    }

    /// Whether the chain is checked but not the host name.
    pub fn chain_only(&self) -> bool {
        matches!(self.mode, MyMode::VerifyCa)
            || (self.mode == MyMode::Required && self.ca.is_some())
    }
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

/// A rustls error in words.
pub(crate) fn describe(e: &rustls::Error) -> String {
    use CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => "the server's certificate was refused: unknown issuer — it is self-signed or signed by a certificate authority that is not trusted (not the given root certificate)".to_string(),
            C::NotValidForName => "the server's certificate was refused: host name mismatch — it is not valid for the host name connected to".to_string(),
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
