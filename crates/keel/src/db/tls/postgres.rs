//! PostgreSQL TLS as libpq has it: `sslmode`, `sslrootcert`, `sslcert` +
//! `sslkey`, and tokio-postgres's connector over rustls with
//! `tls-server-end-point` channel binding.

use super::*;

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

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Roots {
    File(PathBuf),
    System,
}

/// keel's PostgreSQL TLS parameters, out of a URL.
#[derive(Clone, Debug)]
pub(crate) struct PgTls {
    pub mode: SslMode,
    pub(super) roots: Option<Roots>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
}

/// keel's parameters; `sslpassword` is taken out so it never reaches the
/// driver (nor a message): keel cannot decrypt keys, and says so when the
/// key is encrypted (libpq ignores it for a plain key, as keel does).
pub(super) const PG_KEYS: [&str; 5] =
    ["sslmode", "sslrootcert", "sslcert", "sslkey", "sslpassword"];

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
                "sslkey" => key = Some(PathBuf::from(v)),
                _ => {}
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
    pub(super) fn verify(&self) -> Verify {
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

pub(super) const PG_ROOT: &str = ".postgresql/root.crt";
pub(super) const PG_CERT: &str = ".postgresql/postgresql.crt";
pub(super) const PG_KEY: &str = ".postgresql/postgresql.key";

pub(super) fn root_store(roots: &Roots, what: &str) -> Result<rustls::RootCertStore, Problem> {
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

/// Checks the server's certificate as the mode says; the handshake's
/// signatures are always checked.
#[derive(Debug)]
pub(super) struct Verifier {
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
        // a Unix socket has no host name: tokio-postgres asks for a connector
        // anyway, and the server answers its TLS request with "no" (as
        // libpq, keel never uses TLS there: see db::postgres)
        let domain = if domain.is_empty() {
            "localhost"
        } else {
            domain
        };
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

pub(super) type Connecting<S> = Pin<Box<dyn Future<Output = Result<PgStream<S>, Failure>> + Send>>;

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
pub(super) fn server_end_point(der: &[u8]) -> Option<Vec<u8>> {
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
pub(super) fn signature_algorithm(der: &[u8]) -> Option<&[u8]> {
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
pub(super) fn der_element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
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
