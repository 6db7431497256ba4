//! istiod's certificate authority: it signs every proxy's workload
//! certificate, whose URI SAN is the workload's SPIFFE identity
//! `spiffe://<trust domain>/ns/<ns>/sa/<sa>`.
//!
//! Istio's choices (`security/pkg/pki/util/generate_cert.go`,
//! `pki/ca/ca.go`, facts §4):
//! - Self-signed root: subject `O=<trust domain>`, RSA 2048, 10 years
//!   from istiod's start, CA:TRUE, key usage Certificate Sign.
//! - Workload certificate: empty subject, the SPIFFE URI as a critical
//!   SAN, Digital Signature + Key Encipherment (critical), server and
//!   client auth, CA:FALSE, RSA 2048, SHA-256 with RSA; valid from two
//!   minutes before issue (clock skew grace) to 24 h after.
//! - Plugged-in CA (Secret `istio-system/cacerts`: `ca-cert.pem`,
//!   `ca-key.pem`, `root-cert.pem`, `cert-chain.pem`): workload
//!   certificates are signed by `ca-cert.pem` and the chain a proxy holds is
//!   leaf + `cert-chain.pem` + `root-cert.pem`.
//!
//! A simulation with thousands of pods keeps only [`WorkloadCert`]
//! metadata (identity, serial, validity); the X.509 bytes are made when
//! someone looks ([`Ca::pem`]), with keys drawn from a stream seeded by the
//! run's seed and the certificate's serial, so the same run prints the same
//! PEM.

use std::sync::OnceLock;

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng as _;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyIdMethod, KeyUsagePurpose, PublicKeyData, SanType, SerialNumber, SignatureAlgorithm,
};
use rsa::pkcs1::EncodeRsaPublicKey as _;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use sha2::{Digest as _, Sha256};

/// Workload certificate lifetime (`SECRET_TTL`, `DEFAULT_WORKLOAD_CERT_TTL`).
pub const WORKLOAD_TTL_SECS: u64 = 24 * 3600;
/// The longest lifetime istiod signs (`MAX_WORKLOAD_CERT_TTL`, 90 days).
pub const MAX_WORKLOAD_TTL_SECS: u64 = 90 * 24 * 3600;
/// The mesh's trust domain (`meshConfig.trustDomain`'s default).
pub const TRUST_DOMAIN: &str = "cluster.local";
/// How far before issue a workload certificate is valid (`ClockSkewGracePeriod`).
pub const BACKDATE_SECS: u64 = 120;
/// Self-signed root lifetime (`CITADEL_SELF_SIGNED_CA_CERT_TTL`, 3650 days).
pub const ROOT_TTL_SECS: u64 = 3650 * 24 * 3600;
/// The proxy renews at this fraction of its certificate's life
/// (`SECRET_GRACE_PERIOD_RATIO`).
pub const GRACE_RATIO: f64 = 0.5;

/// A proxy's certificate as the simulation tracks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadCert {
    /// `spiffe://cluster.local/ns/NS/sa/SA`.
    pub spiffe: String,
    pub serial: u128,
    /// Unix seconds.
    pub not_before: u64,
    pub not_after: u64,
}

impl WorkloadCert {
    pub fn valid_at(&self, unix: u64) -> bool {
        (self.not_before..=self.not_after).contains(&unix)
    }

    /// When the proxy asks for the next one (Unix seconds).
    pub fn renew_at(&self) -> u64 {
        let life = (self.not_after - self.not_before) as f64;
        self.not_after - (life * GRACE_RATIO) as u64
    }
}

/// A proxy's secrets as Envoy holds them: the `default` chain (leaf first)
/// and the `ROOTCA` bundle, PEM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Secrets {
    pub chain: String,
    pub root: String,
}

/// The signing CA, plugged in or self-signed.
pub struct Ca {
    pub trust_domain: String,
    seed: u64,
    /// Unix seconds istiod started (the self-signed root's NotBefore).
    started: u64,
    plugged: Option<Plugged>,
    /// The self-signed root, made on first use (an RSA key takes a while).
    self_signed: OnceLock<SelfSigned>,
}

struct SelfSigned {
    params: CertificateParams,
    key: Key,
    pem: String,
}

/// `cacerts`, parsed.
struct Plugged {
    ca_params: CertificateParams,
    ca_key: Key,
    /// `cert-chain.pem` then `root-cert.pem`.
    rest_of_chain: String,
    root: String,
}

impl Ca {
    pub fn self_signed(trust_domain: &str, seed: u64, started: u64) -> Ca {
        Ca {
            trust_domain: trust_domain.to_string(),
            seed,
            started,
            plugged: None,
            self_signed: OnceLock::new(),
        }
    }

    /// A CA from the `cacerts` Secret's files (decoded text by key).
    pub fn plugged_in(
        trust_domain: &str,
        seed: u64,
        started: u64,
        files: &std::collections::BTreeMap<String, String>,
    ) -> Result<Ca, String> {
        let file = |name: &str| {
            files
                .get(name)
                .ok_or_else(|| format!("cacerts has no {name}"))
        };
        let ca_cert = file("ca-cert.pem")?;
        let ca_key = Key::from_pem(file("ca-key.pem")?).map_err(|e| format!("ca-key.pem: {e}"))?;
        let root = file("root-cert.pem")?.clone();
        let chain = files.get("cert-chain.pem").cloned().unwrap_or_default();
        let ca_params = issuer_params(ca_cert)?;
        Ok(Ca {
            trust_domain: trust_domain.to_string(),
            seed,
            started,
            plugged: Some(Plugged {
                ca_params,
                ca_key,
                rest_of_chain: join_pem(&[&chain, &root]),
                root,
            }),
            self_signed: OnceLock::new(),
        })
    }

    /// Signs (in metadata) a certificate for `ns/sa` at `now`, valid for
    /// the `ttl` the proxy asked for (its `SECRET_TTL`), at most 90 days;
    /// `nth` numbers the CA's certificates, for distinct serials.
    pub fn issue(
        &self,
        namespace: &str,
        service_account: &str,
        now: u64,
        ttl: u64,
        nth: u64,
    ) -> WorkloadCert {
        let spiffe = format!(
            "spiffe://{}/ns/{namespace}/sa/{service_account}",
            self.trust_domain
        );
        let digest = Sha256::digest(format!("{}/{spiffe}/{now}/{nth}", self.seed));
        WorkloadCert {
            serial: serial_from(&digest),
            spiffe,
            not_before: now.saturating_sub(BACKDATE_SECS),
            not_after: now + ttl.min(MAX_WORKLOAD_TTL_SECS),
        }
    }

    /// The X.509 certificates behind `cert`.
    pub fn pem(&self, cert: &WorkloadCert) -> Result<Secrets, String> {
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.subject_alt_names = vec![SanType::URI(
            cert.spiffe
                .clone()
                .try_into()
                .map_err(|e| format!("{}: {e}", cert.spiffe))?,
        )];
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.is_ca = IsCa::ExplicitNoCa;
        params.use_authority_key_identifier_extension = true;
        params.serial_number = Some(SerialNumber::from_slice(&cert.serial.to_be_bytes()));
        params.not_before = at(cert.not_before)?;
        params.not_after = at(cert.not_after)?;
        let key = Key::rsa(&format!("leaf/{}/{}", self.seed, cert.serial));
        params.key_identifier_method = KeyIdMethod::PreSpecified(key.identifier());
        let (issuer_params, issuer_key, rest, root) = match &self.plugged {
            Some(p) => (
                &p.ca_params,
                &p.ca_key,
                p.rest_of_chain.clone(),
                p.root.clone(),
            ),
            None => {
                let s = self.root()?;
                (&s.params, &s.key, s.pem.clone(), s.pem.clone())
            }
        };
        let issuer = Issuer::from_params(issuer_params, issuer_key);
        let leaf = params
            .signed_by(&key, &issuer)
            .map_err(|e| format!("signing {}: {e}", cert.spiffe))?;
        Ok(Secrets {
            chain: join_pem(&[&leaf.pem(), &rest]),
            root,
        })
    }

    /// The root certificate proxies trust, PEM.
    pub fn root_pem(&self) -> Result<String, String> {
        match &self.plugged {
            Some(p) => Ok(p.root.clone()),
            None => self.root().map(|s| s.pem.clone()),
        }
    }

    fn root(&self) -> Result<&SelfSigned, String> {
        if let Some(s) = self.self_signed.get() {
            return Ok(s);
        }
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::OrganizationName, self.trust_domain.clone());
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        params.not_before = at(self.started)?;
        params.not_after = at(self.started + ROOT_TTL_SECS)?;
        let digest = Sha256::digest(format!("root/{}/{}", self.seed, self.trust_domain));
        params.serial_number = Some(SerialNumber::from_slice(
            &serial_from(&digest).to_be_bytes(),
        ));
        let key = Key::rsa(&format!("root/{}", self.seed));
        params.key_identifier_method = KeyIdMethod::PreSpecified(key.identifier());
        let pem = params
            .self_signed(&key)
            .map_err(|e| format!("self-signing the root: {e}"))?
            .pem();
        Ok(self
            .self_signed
            .get_or_init(|| SelfSigned { params, key, pem }))
    }
}

/// A positive serial below 2^127, never zero.
fn serial_from(digest: &[u8]) -> u128 {
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    (u128::from_be_bytes(bytes) >> 1).max(1)
}

fn at(unix: u64) -> Result<time::OffsetDateTime, String> {
    i64::try_from(unix)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .ok_or_else(|| format!("time {unix} is out of range"))
}

/// PEM blocks one after another, each ending in a newline.
fn join_pem(parts: &[&str]) -> String {
    let mut out = String::new();
    for p in parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        out.push_str(p);
        out.push('\n');
    }
    out
}

/// What rcgen needs of an existing CA certificate to sign with it: its
/// subject (the leaf's issuer) and subject key identifier (the leaf's
/// authority key identifier, which OpenSSL matches when it builds the
/// chain).
fn issuer_params(pem: &str) -> Result<CertificateParams, String> {
    use x509_parser::prelude::*;
    let (_, block) =
        parse_x509_pem(pem.as_bytes()).map_err(|e| format!("ca-cert.pem is not PEM: {e}"))?;
    let cert = block
        .parse_x509()
        .map_err(|e| format!("ca-cert.pem is not an X.509 certificate: {e}"))?;
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    for attr in cert.subject().iter_attributes() {
        let Ok(value) = attr.as_str() else { continue };
        let oid: Vec<u64> = attr
            .attr_type()
            .iter()
            .map(|arcs| arcs.collect())
            .unwrap_or_default();
        let ty = match attr.attr_type().to_id_string().as_str() {
            "2.5.4.3" => DnType::CommonName,
            "2.5.4.10" => DnType::OrganizationName,
            "2.5.4.11" => DnType::OrganizationalUnitName,
            "2.5.4.6" => DnType::CountryName,
            "2.5.4.8" => DnType::StateOrProvinceName,
            "2.5.4.7" => DnType::LocalityName,
            _ => DnType::CustomDnType(oid),
        };
        params.distinguished_name.push(ty, value);
    }
    for ext in cert.extensions() {
        if let ParsedExtension::SubjectKeyIdentifier(ski) = ext.parsed_extension() {
            params.key_identifier_method = KeyIdMethod::PreSpecified(ski.0.to_vec());
        }
    }
    params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    Ok(params)
}

/// A CA or workload key: RSA (PKCS#1 v1.5, SHA-256) or P-256 (ECDSA,
/// SHA-256), both deterministic signers.
pub(crate) enum Key {
    Rsa {
        signer: Box<rsa::pkcs1v15::SigningKey<Sha256>>,
        public_der: Vec<u8>,
    },
    P256 {
        signer: p256::ecdsa::SigningKey,
        public_der: Vec<u8>,
    },
}

impl Key {
    /// A fresh RSA 2048 key drawn from a stream named `name`.
    fn rsa(name: &str) -> Key {
        let seed: [u8; 32] = Sha256::digest(name.as_bytes()).into();
        let mut rng = ChaCha20Rng::from_seed(seed);
        let private = rsa::RsaPrivateKey::new(&mut rng, 2048).expect("2048-bit RSA key generation");
        Key::from_rsa(private)
    }

    fn from_rsa(private: rsa::RsaPrivateKey) -> Key {
        let public_der = private
            .to_public_key()
            .to_pkcs1_der()
            .expect("RSA public key encodes")
            .as_bytes()
            .to_vec();
        Key::Rsa {
            signer: Box::new(rsa::pkcs1v15::SigningKey::new(private)),
            public_der,
        }
    }

    /// A key identifier (RFC 7093 method 1: the leftmost 160 bits of the
    /// SHA-256 of the public key), for the subject and authority key
    /// identifier extensions that chain building matches.
    fn identifier(&self) -> Vec<u8> {
        Sha256::digest(self.der_bytes())[..20].to_vec()
    }

    fn from_pem(pem: &str) -> Result<Key, String> {
        Ok(match crate::issuer::SigningKey::from_pem(pem)? {
            crate::issuer::SigningKey::Rsa(k) => Key::from_rsa(*k),
            crate::issuer::SigningKey::P256(secret) => Key::p256(&secret),
        })
    }

    pub(crate) fn p256(secret: &p256::SecretKey) -> Key {
        Key::P256 {
            public_der: p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(
                &secret.public_key(),
                false,
            )
            .as_bytes()
            .to_vec(),
            signer: p256::ecdsa::SigningKey::from(secret),
        }
    }
}

impl PublicKeyData for Key {
    fn der_bytes(&self) -> &[u8] {
        match self {
            Key::Rsa { public_der, .. } | Key::P256 { public_der, .. } => public_der,
        }
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        match self {
            Key::Rsa { .. } => &rcgen::PKCS_RSA_SHA256,
            Key::P256 { .. } => &rcgen::PKCS_ECDSA_P256_SHA256,
        }
    }
}

impl rcgen::SigningKey for Key {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        Ok(match self {
            Key::Rsa { signer, .. } => signer.sign(msg).to_vec(),
            Key::P256 { signer, .. } => {
                let sig: p256::ecdsa::Signature = signer.sign(msg);
                sig.to_der().as_bytes().to_vec()
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::prelude::*;

    /// 2026-01-01, the simulation's epoch.
    const T0: u64 = 1_767_225_600;

    fn parse(pem: &str) -> Vec<Vec<u8>> {
        Pem::iter_from_buffer(pem.as_bytes())
            .map(|p| p.unwrap().contents)
            .collect()
    }

    #[test]
    fn workload_certificates_carry_the_spiffe_id_for_24_hours() {
        let ca = Ca::self_signed("cluster.local", 1, T0);
        let meta = ca.issue(
            "bookinfo",
            "bookinfo-productpage",
            T0 + 60,
            WORKLOAD_TTL_SECS,
            0,
        );
        assert_eq!(
            meta.spiffe,
            "spiffe://cluster.local/ns/bookinfo/sa/bookinfo-productpage"
        );
        assert_eq!(
            meta.not_after - meta.not_before,
            WORKLOAD_TTL_SECS + BACKDATE_SECS
        );
        assert!(meta.valid_at(T0) && !meta.valid_at(meta.not_after + 1));
        // Renewal at half the life: about 12 h after issue.
        assert_eq!(
            meta.renew_at(),
            meta.not_before + (WORKLOAD_TTL_SECS + BACKDATE_SECS) / 2
        );
        let secrets = ca.pem(&meta).unwrap();
        let ders = parse(&secrets.chain);
        assert_eq!(ders.len(), 2, "leaf and root");
        let (_, leaf) = X509Certificate::from_der(&ders[0]).unwrap();
        assert_eq!(leaf.subject().to_string(), "");
        assert_eq!(leaf.issuer().to_string(), "O=cluster.local");
        let san = leaf.subject_alternative_name().unwrap().unwrap();
        assert!(san.critical);
        assert_eq!(
            san.value.general_names,
            vec![GeneralName::URI(
                "spiffe://cluster.local/ns/bookinfo/sa/bookinfo-productpage"
            )]
        );
        assert_eq!(
            leaf.validity().not_before.timestamp() as u64,
            meta.not_before
        );
        assert_eq!(leaf.validity().not_after.timestamp() as u64, meta.not_after);
        assert_eq!(leaf.raw_serial(), &meta.serial.to_be_bytes()[..]);
        let (_, root) = X509Certificate::from_der(&ders[1]).unwrap();
        assert!(root.is_ca());
        assert_eq!(
            root.validity().not_after.timestamp() - root.validity().not_before.timestamp(),
            ROOT_TTL_SECS as i64
        );
        assert_eq!(parse(&secrets.root), vec![ders[1].clone()]);
    }

    #[test]
    fn the_same_seed_makes_the_same_bytes() {
        let a = Ca::self_signed("cluster.local", 7, T0);
        let b = Ca::self_signed("cluster.local", 7, T0);
        let meta = a.issue("default", "httpbin", T0, WORKLOAD_TTL_SECS, 3);
        assert_eq!(
            meta,
            b.issue("default", "httpbin", T0, WORKLOAD_TTL_SECS, 3)
        );
        assert_eq!(a.pem(&meta).unwrap(), b.pem(&meta).unwrap());
        assert_ne!(
            meta.serial,
            a.issue("default", "httpbin", T0, WORKLOAD_TTL_SECS, 4)
                .serial
        );
    }
}
