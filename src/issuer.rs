//! A JWT issuer for labs, as Istio's `gen-jwt.py` is: a private key (RSA
//! or P-256, PEM) signs tokens (RS256 / ES256), and gives the JWKS a
//! RequestAuthentication trusts. The `kid` is the key's RFC 7638
//! thumbprint, as in Istio's sample JWKS. Signatures are deterministic
//! (PKCS#1 v1.5, RFC 6979 ECDSA), so the same key and claims give the same
//! token.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use p256::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use rsa::pkcs1::{DecodeRsaPrivateKey as _, EncodeRsaPrivateKey as _};
use rsa::traits::PublicKeyParts as _;
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

use crate::dataplane::jwt::b64;

/// A signing key read from PEM.
pub enum SigningKey {
    Rsa(Box<rsa::RsaPrivateKey>),
    P256(p256::SecretKey),
}

impl SigningKey {
    /// PKCS#1 (`RSA PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`) or PKCS#8
    /// (`PRIVATE KEY`, RSA or P-256).
    pub fn from_pem(pem: &str) -> Result<SigningKey, String> {
        if pem.contains("BEGIN RSA PRIVATE KEY") {
            return rsa::RsaPrivateKey::from_pkcs1_pem(pem)
                .map(|k| SigningKey::Rsa(Box::new(k)))
                .map_err(|e| format!("not an RSA private key: {e}"));
        }
        if pem.contains("BEGIN EC PRIVATE KEY") {
            return p256::SecretKey::from_sec1_pem(pem)
                .map(SigningKey::P256)
                .map_err(|e| format!("not a P-256 private key: {e}"));
        }
        if pem.contains("BEGIN PRIVATE KEY") {
            if let Ok(k) = rsa::RsaPrivateKey::from_pkcs8_pem(pem) {
                return Ok(SigningKey::Rsa(Box::new(k)));
            }
            return p256::SecretKey::from_pkcs8_pem(pem)
                .map(SigningKey::P256)
                .map_err(|_| "a PKCS#8 key that is neither RSA nor P-256".to_string());
        }
        Err("no PEM private key (RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY)".to_string())
    }

    pub fn algorithm(&self) -> Algorithm {
        match self {
            SigningKey::Rsa(_) => Algorithm::RS256,
            SigningKey::P256(_) => Algorithm::ES256,
        }
    }

    /// The public key as a JWK's members, in RFC 7638's thumbprint order.
    fn public_members(&self) -> Map<String, Value> {
        let mut m = Map::new();
        match self {
            SigningKey::Rsa(k) => {
                m.insert("e".into(), b64(&k.e().to_bytes_be()).into());
                m.insert("kty".into(), "RSA".into());
                m.insert("n".into(), b64(&k.n().to_bytes_be()).into());
            }
            SigningKey::P256(k) => {
                let point = k.public_key().to_encoded_point(false);
                m.insert("crv".into(), "P-256".into());
                m.insert("kty".into(), "EC".into());
                m.insert("x".into(), b64(point.x().expect("uncompressed")).into());
                m.insert("y".into(), b64(point.y().expect("uncompressed")).into());
            }
        }
        m
    }

    /// RFC 7638: SHA-256 of the required members, sorted, without spaces.
    pub fn thumbprint(&self) -> String {
        let canonical = Value::Object(self.public_members()).to_string();
        b64(&Sha256::digest(canonical.as_bytes()))
    }

    /// The JWKS that verifies this key's tokens.
    pub fn jwks(&self) -> Value {
        let mut key = Map::new();
        key.insert(
            "alg".into(),
            crate::dataplane::jwt::alg_name(self.algorithm()).into(),
        );
        key.insert("kid".into(), self.thumbprint().into());
        key.insert("use".into(), "sig".into());
        key.extend(self.public_members());
        json!({ "keys": [Value::Object(key)] })
    }

    /// Signs `claims` into a compact JWT.
    pub fn sign(&self, claims: &Map<String, Value>) -> Result<String, String> {
        let key = match self {
            SigningKey::Rsa(k) => k
                .to_pkcs1_der()
                .map(|der| EncodingKey::from_rsa_der(der.as_bytes())),
            SigningKey::P256(k) => k
                .to_pkcs8_der()
                .map(|der| EncodingKey::from_ec_der(der.as_bytes()))
                .map_err(rsa::pkcs1::Error::Pkcs8),
        }
        .map_err(|e| e.to_string())?;
        let mut header = Header::new(self.algorithm());
        header.kid = Some(self.thumbprint());
        jsonwebtoken::encode(&header, claims, &key).map_err(|e| e.to_string())
    }
}

/// A `--claim k=v` value: JSON when it parses (`["a","b"]`, `3`, `true`),
/// a string otherwise.
pub fn claim_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataplane::jwt::{Authenticator, Location, Outcome, Provider, parse_jwks};

    const ISTIO_KEY: &str = include_str!("../manifests/samples/jwt/key.pem");
    const ISTIO_JWKS: &str = include_str!("../manifests/samples/jwt/jwks.json");

    /// Istio's sample JWKS names its key by the RFC 7638 thumbprint
    /// (gen-jwt.py uses jwcrypto's `thumbprint()`): ours must agree.
    #[test]
    fn the_kid_of_istios_demo_key_is_its_thumbprint() {
        let key = SigningKey::from_pem(ISTIO_KEY).unwrap();
        assert_eq!(
            key.thumbprint(),
            "DHFbpoIUqrY8t2zpA2qXfCmr5VO5ZEr4RzHU_-envvQ"
        );
        let ours = key.jwks();
        let theirs: Value = serde_json::from_str(ISTIO_JWKS).unwrap();
        assert_eq!(ours["keys"][0]["n"], theirs["keys"][0]["n"]);
        assert_eq!(ours["keys"][0]["kid"], theirs["keys"][0]["kid"]);
    }

    fn provider(jwks: &str) -> Authenticator {
        Authenticator {
            providers: vec![Provider {
                issuer: Some("me".into()),
                audiences: Vec::new(),
                keys: Some(parse_jwks(jwks).unwrap()),
                locations: Location::defaults(),
                forward: false,
                payload_header: None,
                claim_headers: Vec::new(),
            }],
        }
    }

    fn bearer(token: &str) -> Vec<(String, String)> {
        vec![("authorization".into(), format!("Bearer {token}"))]
    }

    #[test]
    fn tokens_signed_with_rsa_and_p256_verify_against_their_jwks() {
        let ec_pem = "-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIOutD/fQoAdMgADJt3PBxM/a8R/rwywHyMqNwSde7BYXoAoGCCqGSM49
AwEHoUQDQgAEusOpPOVwqqUpACRHhSB11faWjEp2s1LYx6mlJ2Gh7tF3vQtJMLjK
yyfgqTMR/mqsGkrKSs3ZQ5oGLvbxae90QQ==
-----END EC PRIVATE KEY-----
";
        for pem in [ISTIO_KEY, ec_pem] {
            let key = SigningKey::from_pem(pem).unwrap();
            let mut claims = Map::new();
            claims.insert("iss".into(), "me".into());
            claims.insert("sub".into(), "you".into());
            let token = key.sign(&claims).unwrap();
            assert_eq!(token, key.sign(&claims).unwrap(), "deterministic");
            let authn = provider(&key.jwks().to_string());
            match authn.authenticate(&bearer(&token), "/", 0) {
                Outcome::Verified(v) => assert_eq!(v.principal, "me/you"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn keys_that_are_not_keys_are_refused() {
        assert!(SigningKey::from_pem("hello").is_err());
        assert!(
            SigningKey::from_pem(
                "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"
            )
            .is_err()
        );
    }

    #[test]
    fn claim_values_are_json_or_text() {
        assert_eq!(claim_value("[\"a\",\"b\"]"), json!(["a", "b"]));
        assert_eq!(claim_value("3"), json!(3));
        assert_eq!(claim_value("group1"), json!("group1"));
    }
}
