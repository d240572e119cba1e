//! TLS to PostgreSQL: reads libpq's `sslmode` and `sslrootcert` from `DATABASE_URL` and builds
//! the rustls connector that gives them libpq's meaning. Every connection the service opens (the
//! pool, the LISTEN connection, the migration connection) uses the connector made here.
//!
//! | `sslmode`     | encrypted                 | certificate chain checked          | host name checked |
//! |---------------|---------------------------|------------------------------------|-------------------|
//! | `disable`     | no                        | –                                  | –                 |
//! | `prefer`      | when the server offers it | only with `sslrootcert`            | no                |
//! | `require`     | yes                       | only with `sslrootcert`            | no                |
//! | `verify-ca`   | yes                       | yes                                | no                |
//! | `verify-full` | yes                       | yes                                | yes               |
//!
//! `prefer` is the default, as in libpq. The chain is checked against `sslrootcert` (a PEM
//! file) or, when it is absent or `system`, the system's roots. tokio-postgres' own URL parser
//! knows only `disable`, `prefer` and `require` and rejects unknown parameters, so the verifying
//! modes and `sslrootcert` are taken out of the URL here and the rest is handed to it (with
//! `sslmode=require` for the verifying modes: encryption is then mandatory, and the connector
//! does the checking).

use std::{path::PathBuf, sync::Arc};

use anyhow::{bail, Context};
use percent_encoding::percent_decode_str;
use rustls::{
    client::{
        danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
        verify_server_cert_signed_by_trust_anchor, WebPkiServerVerifier,
    },
    crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms},
    pki_types::{pem::PemObject, CertificateDer, ServerName, UnixTime},
    server::ParsedCertificate,
    ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

/// Opens TLS sessions for tokio-postgres (and deadpool), with the checks `sslmode` asks for.
pub type Connector = tokio_postgres_rustls::MakeRustlsConnect;

/// How much of the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// Nothing: the session is encrypted but the server is not authenticated (libpq's
    /// `require` without a root certificate).
    Nothing,
    /// The chain up to a trusted root, not the name (`verify-ca`).
    Chain,
    /// The chain and that the certificate names the host connected to (`verify-full`).
    ChainAndHost,
}

/// The connection settings of `url` and the connector that applies its TLS settings.
pub fn connection(url: &str) -> anyhow::Result<(tokio_postgres::Config, Connector)> {
    let Some((base, query)) = url.split_once('?') else {
        // No parameters: tokio-postgres' default, `prefer`, without checks.
        return Ok((parse(url)?, connector(Check::Nothing, None)?));
    };
    let (mut mode, mut root_cert) = (None, None);
    let mut kept = Vec::new();
    for param in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = param.split_once('=').unwrap_or((param, ""));
        let decoded = percent_decode_str(value)
            .decode_utf8()
            .with_context(|| format!("DATABASE_URL parameter `{key}` is not UTF-8"))?
            .into_owned();
        match key {
            "sslmode" => mode = Some(decoded),
            "sslrootcert" => root_cert = Some(decoded),
            _ => kept.push(param),
        }
    }
    let root_cert = root_cert.filter(|path| path != "system").map(PathBuf::from);
    let (driver_mode, check) = match mode.as_deref().unwrap_or("prefer") {
        mode @ ("disable" | "prefer" | "require") if root_cert.is_none() => (mode, Check::Nothing),
        // libpq: with a root certificate, `prefer` and `require` check the chain like `verify-ca`.
        mode @ ("disable" | "prefer" | "require") => (mode, Check::Chain),
        "verify-ca" => ("require", Check::Chain),
        "verify-full" => ("require", Check::ChainAndHost),
        other => bail!(
            "DATABASE_URL: sslmode `{other}` is not supported; use disable, prefer, require, verify-ca or verify-full"
        ),
    };
    let driver_mode = format!("sslmode={driver_mode}");
    kept.push(&driver_mode);
    let config = parse(&format!("{base}?{}", kept.join("&")))?;
    let connector = if driver_mode == "sslmode=disable" {
        // Never used: no certificate is loaded for it.
        connector(Check::Nothing, None)?
    } else {
        connector(check, root_cert)?
    };
    Ok((config, connector))
}

/// tokio-postgres' reading of the URL (the URL itself is not repeated: it may hold a password).
fn parse(url: &str) -> anyhow::Result<tokio_postgres::Config> {
    url.parse()
        .context("DATABASE_URL is not a PostgreSQL URL tokio-postgres accepts")
}

/// The connector for `check`, trusting `root_cert` (PEM) or the system's roots.
fn connector(check: Check, root_cert: Option<PathBuf>) -> anyhow::Result<Connector> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?;
    let algorithms = provider.signature_verification_algorithms;
    let config = match check {
        Check::Nothing => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(ChainOnly {
                roots: None,
                algorithms,
            }))
            .with_no_client_auth(),
        Check::Chain => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(ChainOnly {
                roots: Some(roots(root_cert)?),
                algorithms,
            }))
            .with_no_client_auth(),
        Check::ChainAndHost => builder
            .with_webpki_verifier(
                WebPkiServerVerifier::builder_with_provider(roots(root_cert)?, provider)
                    .build()
                    .context("TLS certificate verifier")?,
            )
            .with_no_client_auth(),
    };
    Ok(Connector::new(config))
}

/// The trusted roots: every certificate in the PEM file `root_cert`, or the system's.
fn roots(root_cert: Option<PathBuf>) -> anyhow::Result<Arc<RootCertStore>> {
    let mut roots = RootCertStore::empty();
    match root_cert {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(&path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .with_context(|| format!("reading sslrootcert {}", path.display()))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                bail!("sslrootcert {} holds no usable certificate", path.display());
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                bail!(
                    "no system root certificates found (errors: {:?}); give the server's CA with sslrootcert",
                    found.errors
                );
            }
        }
    }
    Ok(Arc::new(roots))
}

/// Checks the server's certificate chain against `roots` (or nothing without them), never its
/// name; the handshake's signatures are always checked, so the peer does hold the certificate's
/// key.
#[derive(Debug)]
struct ChainOnly {
    roots: Option<Arc<RootCertStore>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(roots) = &self.roots {
            let cert = ParsedCertificate::try_from(end_entity)?;
            verify_server_cert_signed_by_trust_anchor(&cert, roots, intermediates, now, self.algorithms.all)?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// True when `error` is the TLS layer refusing the server (a certificate that does not check
/// out): retrying cannot help.
pub fn is_rejected_certificate(error: &(dyn std::error::Error + 'static)) -> bool {
    error.is::<rustls::Error>()
        || error
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .is_some_and(|inner| inner.is::<rustls::Error>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(url: &str) -> String {
        format!("{:?}", connection(url).unwrap().0.get_ssl_mode())
    }

    #[test]
    fn modes_tokio_postgres_does_not_know_are_read_here() {
        assert_eq!(mode("postgres://h/db"), "Prefer");
        assert_eq!(mode("postgres://h/db?sslmode=disable"), "Disable");
        assert_eq!(mode("postgres://h/db?sslmode=require&application_name=x"), "Require");
        assert_eq!(mode("postgres://h/db?sslmode=verify-ca&sslrootcert=system"), "Require");
        assert_eq!(mode("postgres://h/db?sslmode=verify-full"), "Require");
    }

    #[test]
    fn other_parameters_reach_tokio_postgres() {
        let (config, _) = connection("postgres://u@h:5433/db?sslmode=verify-full&connect_timeout=7").unwrap();
        assert_eq!(config.get_connect_timeout(), Some(&std::time::Duration::from_secs(7)));
        assert_eq!(config.get_ports(), &[5433]);
    }

    #[test]
    fn unknown_modes_and_missing_root_files_are_named() {
        let Err(e) = connection("postgres://h/db?sslmode=allow") else {
            panic!("sslmode=allow accepted")
        };
        assert!(e.to_string().contains("sslmode `allow` is not supported"), "{e}");
        let Err(e) = connection("postgres://h/db?sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem") else {
            panic!("a missing sslrootcert accepted")
        };
        assert!(
            format!("{e:#}").contains("reading sslrootcert /nonexistent/ca.pem"),
            "{e:#}"
        );
    }
}
