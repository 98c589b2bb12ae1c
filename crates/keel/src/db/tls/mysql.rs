//! MySQL/MariaDB TLS as the mysql client has it: `ssl-mode`, `ssl-ca`,
//! `ssl-cert`, `ssl-key`, as mysql_async's `SslOpts`.

use super::*;

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
    pub(super) ca: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
}

pub(super) fn my_key(key: &str) -> Option<&'static str> {
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
