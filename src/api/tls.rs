//! The API server's TLS: a self-signed serving certificate for the listen
//! address, made at start from fresh randomness, which the kubeconfig
//! carries as `certificate-authority-data`. kubectl sends its bearer token
//! only over TLS, so the token that guards the cluster needs it.

use std::net::IpAddr;
use std::sync::Arc;

use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, KeyUsagePurpose, SanType,
};

use crate::control::ca::Key;

/// The cluster's CA certificate and the server's certificate and key.
pub struct ServingCert {
    /// The CA (PEM), which the kubeconfig carries.
    pub ca_pem: String,
    der: Vec<u8>,
    /// The server's private key, PKCS#8 DER.
    key: Vec<u8>,
}

/// A one-year CA, and a server certificate it signs for `ip` and
/// `localhost`, from P-256 keys made of `ca_secret` and `secret` (32 random
/// bytes each).
pub fn serving_cert(
    ip: IpAddr,
    ca_secret: [u8; 32],
    secret: [u8; 32],
    now_unix: u64,
) -> Result<ServingCert, String> {
    use p256::pkcs8::EncodePrivateKey as _;
    let at = |unix: u64| {
        i64::try_from(unix)
            .ok()
            .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
            .ok_or_else(|| format!("time {unix} is out of range"))
    };
    let params = |cn: &str, serial: &[u8]| -> Result<CertificateParams, String> {
        let mut p = CertificateParams::default();
        p.distinguished_name = DistinguishedName::new();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.serial_number = Some(rcgen::SerialNumber::from_slice(&serial[..16]));
        p.not_before = at(now_unix.saturating_sub(3600))?;
        p.not_after = at(now_unix + 365 * 86_400)?;
        Ok(p)
    };
    let key_of = |bytes: &[u8; 32]| {
        p256::SecretKey::from_slice(bytes).map_err(|e| format!("serving key: {e}"))
    };
    let (ca_key, leaf_secret) = (key_of(&ca_secret)?, key_of(&secret)?);
    let mut ca = params("meshsim-ca", &ca_secret)?;
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_signer = Key::p256(&ca_key);
    let ca_pem = ca
        .self_signed(&ca_signer)
        .map_err(|e| format!("self-signing the CA: {e}"))?
        .pem();
    let mut leaf = params("meshsim-apiserver", &secret)?;
    leaf.subject_alt_names = vec![
        SanType::IpAddress(ip),
        SanType::DnsName("localhost".try_into().map_err(|e| format!("{e}"))?),
    ];
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let issuer = rcgen::Issuer::from_params(&ca, &ca_signer);
    let cert = leaf
        .signed_by(&Key::p256(&leaf_secret), &issuer)
        .map_err(|e| format!("signing the server certificate: {e}"))?;
    let key = leaf_secret
        .to_pkcs8_der()
        .map_err(|e| format!("serving key: {e}"))?
        .as_bytes()
        .to_vec();
    Ok(ServingCert {
        ca_pem,
        der: cert.der().to_vec(),
        key,
    })
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl ServingCert {
    /// The server side: HTTP/1.1 only (kubectl falls back to it from h2).
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, String> {
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_single_cert(
                vec![self.der.clone().into()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(self.key.clone().into()),
            )
            .map_err(|e| e.to_string())?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// A client configuration that trusts the cluster's certificate (given as
/// PEM, from the kubeconfig), for meshsim's own calls.
pub fn client_config(ca_pem: &str) -> Result<Arc<rustls::ClientConfig>, String> {
    use x509_parser::prelude::*;
    let mut roots = rustls::RootCertStore::empty();
    for pem in Pem::iter_from_buffer(ca_pem.as_bytes()) {
        let pem = pem.map_err(|e| format!("certificate-authority-data: {e}"))?;
        roots
            .add(pem.contents.into())
            .map_err(|e| format!("certificate-authority-data: {e}"))?;
    }
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
