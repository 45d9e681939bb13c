//! TLS for the connection, through rustls, as libpq's `sslmode` asks: `prefer` and
//! `require` encrypt without checking who answers (libpq's meaning, kept so that a URL behaves
//! as it does with `psql`); `verify-full` checks the certificate chain against the system's
//! authorities (or the URL's `sslrootcert`) and that the certificate names the host.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::url::{PgUrl, SslMode};
use crate::error::Error;

/// `sslrootcert=system`: the system's authorities, as in libpq 16.
const SYSTEM_ROOTS: &str = "system";

/// The connector for `url`'s `sslmode`. Fails only for `verify-full` with no authority to
/// trust (an unreadable `sslrootcert`, a system without certificates).
pub(super) fn connector(url: &PgUrl) -> Result<MakeRustlsConnect, Error> {
    match url.sslmode() {
        // Never used to encrypt, but the connection wants a connector of one type.
        SslMode::Disable | SslMode::Prefer | SslMode::Require => Ok(unverified().clone()),
        SslMode::VerifyFull => match url.sslrootcert() {
            Some(path) if path.as_os_str() != SYSTEM_ROOTS => from_root_file(url, path),
            _ => system_roots()
                .clone()
                .map_err(|reason| Error::StoreTlsFailed {
                    store: url.redacted(),
                    reason,
                    remedy: "give the server's certificate authority with ?sslrootcert=PATH",
                }),
        },
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn builder() -> rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier> {
    ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports TLS 1.2 and 1.3")
}

/// Built once: a reconnecting process must not rebuild it on every attempt.
fn unverified() -> &'static MakeRustlsConnect {
    static CONNECTOR: OnceLock<MakeRustlsConnect> = OnceLock::new();
    CONNECTOR.get_or_init(|| {
        let verifier = Arc::new(AnyCertificate(provider()));
        MakeRustlsConnect::new(
            builder()
                .dangerous()
                .with_custom_certificate_verifier(verifier)
                .with_no_client_auth(),
        )
    })
}

/// Built once: reading and parsing the system's bundle costs milliseconds, and a
/// reconnecting process would pay them on every attempt.
fn system_roots() -> &'static Result<MakeRustlsConnect, String> {
    static CONNECTOR: OnceLock<Result<MakeRustlsConnect, String>> = OnceLock::new();
    CONNECTOR.get_or_init(|| {
        MakeRustlsConnect::with_native_certs()
            .map(|(connector, _unparsable)| connector)
            .map_err(|_| "this system has no certificate authorities to check the server's certificate against".to_owned())
    })
}

/// Read at every connection: a renewed authority file counts from the next reconnect.
fn from_root_file(url: &PgUrl, path: &std::path::Path) -> Result<MakeRustlsConnect, Error> {
    let failed = |reason: String| Error::StoreTlsFailed {
        store: url.redacted(),
        reason,
        remedy: "give sslrootcert the path of a PEM file of certificate authorities",
    };
    let shown = crate::text::printable_path(path);
    let certificates = CertificateDer::pem_file_iter(path)
        .and_then(|certificates| certificates.collect::<Result<Vec<_>, _>>())
        .map_err(|err| failed(format!("sslrootcert {shown} cannot be read ({err})")))?;
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(certificates);
    if added == 0 {
        return Err(failed(format!(
            "sslrootcert {shown} holds no usable certificate"
        )));
    }
    Ok(MakeRustlsConnect::new(
        builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    ))
}

/// libpq's `require`: any certificate is accepted, but the handshake's signatures are still
/// checked against it, so the session is at least encrypted to whoever holds its key.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
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
            &self.0.signature_verification_algorithms,
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
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
