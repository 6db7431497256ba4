//! Request authentication, sans-IO: Envoy's `jwt_authn` filter as istiod
//! configures it from RequestAuthentications (`pilot/pkg/security/authn`).
//!
//! - Each `jwtRules` entry is a provider: an issuer, its keys (a JWKS), the
//!   places its tokens travel in (by default `Authorization: Bearer …` and
//!   the `access_token` query parameter), and what to pass on upstream.
//! - The requirement is "any provider, or no token at all" (`allow_missing`):
//!   a request without a token passes (an AuthorizationPolicy on
//!   `requestPrincipals` is what demands one); a token that fails any check
//!   is answered 401 with the check's message, before authorization runs.
//! - Checks, in the order of Envoy's authenticator: the token's form and
//!   JSON, an issuer some provider accepts at that location, `exp`/`nbf`
//!   against the clock with 60 s of skew, the provider's audiences, then a
//!   key that matches the token's `kid` and `alg` and verifies its
//!   signature.
//! - A verified token gives the request principal `iss/sub` and the claims
//!   that `request.auth.claims[…]` conditions match.
//!
//! Times are seconds since the Unix epoch on the simulation's calendar; the
//! caller passes the clock.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey};
#[cfg(test)]
use serde_json::json;
use serde_json::{Map, Value};

/// The `kid` of istiod's fake JWKS (`jwks_resolver.go`).
const FAKE_KID: &str = "abc";

/// Envoy's default allowance for clocks that disagree (`clock_skew_seconds`).
const CLOCK_SKEW_SECS: u64 = 60;

/// Where a provider looks for its token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A request header; `prefix` (e.g. `Bearer `) is stripped and must be
    /// there.
    Header { name: String, prefix: String },
    /// A query parameter.
    Param(String),
    /// A cookie.
    Cookie(String),
}

impl Location {
    /// Envoy's defaults when a rule names no location.
    pub fn defaults() -> Vec<Location> {
        vec![
            Location::Header {
                name: "authorization".to_string(),
                prefix: "Bearer ".to_string(),
            },
            Location::Param("access_token".to_string()),
        ]
    }

    /// The token in this location of a request, if one is there.
    fn extract<'r>(&self, headers: &'r [(String, String)], path: &'r str) -> Option<&'r str> {
        match self {
            Location::Header { name, prefix } => headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .find_map(|(_, v)| token_after_prefix(v, prefix)),
            Location::Param(name) => path
                .split_once('?')?
                .1
                .split('&')
                .find_map(|kv| kv.strip_prefix(name.as_str())?.strip_prefix('=')),
            Location::Cookie(name) => headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case("cookie"))
                .flat_map(|(_, v)| v.split(';'))
                .find_map(|c| c.trim().strip_prefix(name.as_str())?.strip_prefix('=')),
        }
        .filter(|t| !t.is_empty())
    }
}

/// Envoy's header extraction: the prefix may sit anywhere in the value
/// (a header without it is skipped); after it, characters outside the
/// token alphabet are skipped and the next run of `[A-Za-z0-9-_.]` is the
/// token. Without a prefix the whole value is the token.
fn token_after_prefix<'v>(value: &'v str, prefix: &str) -> Option<&'v str> {
    if prefix.is_empty() {
        return Some(value);
    }
    let rest = &value[value.find(prefix)? + prefix.len()..];
    let in_token = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let start = rest.find(in_token)?;
    let rest = &rest[start..];
    Some(&rest[..rest.find(|c| !in_token(c)).unwrap_or(rest.len())])
}

/// One `jwtRules` entry, with its keys resolved.
#[derive(Clone, Debug)]
pub struct Provider {
    pub issuer: Option<String>,
    pub audiences: Vec<String>,
    /// The JWKS; `None` when istiod could not get it and configured its
    /// fake JWKS (`CreateFakeJwks`: one RSA key, `kid` "abc"), which
    /// verifies no token.
    pub keys: Option<Vec<Jwk>>,
    pub locations: Vec<Location>,
    /// Keep the token in the request sent on (`forwardOriginalToken`).
    pub forward: bool,
    /// `outputPayloadToHeader`.
    pub payload_header: Option<String>,
    /// `outputClaimToHeaders`: (header, claim).
    pub claim_headers: Vec<(String, String)>,
}

/// Why a token was refused; the message is Envoy's, sent as the 401 body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    BadFormat,
    HeaderBadBase64,
    HeaderBadJson,
    HeaderBadAlg,
    HeaderNotImplementedAlg,
    PayloadBadBase64,
    PayloadBadJson,
    /// A header or payload field of the wrong type; Envoy's message.
    BadField(&'static str),
    SignatureBadBase64,
    UnknownIssuer,
    Expired,
    NotYetValid,
    AudienceNotAllowed,
    KidAlgMismatch,
    VerificationFail,
}

impl Failure {
    /// The response status: Envoy answers 403 for a token meant for
    /// another audience, 401 for every other failure (`filter.cc`).
    pub fn status(self) -> u16 {
        if self == Failure::AudienceNotAllowed {
            403
        } else {
            401
        }
    }

    /// Envoy's status text (`source/common/jwt/status.cc`).
    pub fn message(self) -> &'static str {
        match self {
            Failure::BadFormat => {
                "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections"
            }
            Failure::HeaderBadBase64 => "Jwt header is an invalid Base64url encoded",
            Failure::HeaderBadJson => "Jwt header is an invalid JSON",
            Failure::HeaderBadAlg => "Jwt header [alg] field is required and must be a string",
            Failure::HeaderNotImplementedAlg => "Jwt header [alg] is not supported",
            Failure::PayloadBadBase64 => "Jwt payload is an invalid Base64url encoded",
            Failure::PayloadBadJson => "Jwt payload is an invalid JSON",
            Failure::BadField(message) => message,
            Failure::SignatureBadBase64 => "Jwt signature is an invalid Base64url encoded",
            Failure::UnknownIssuer => "Jwt issuer is not configured",
            Failure::Expired => "Jwt is expired",
            Failure::NotYetValid => "Jwt not yet valid",
            Failure::AudienceNotAllowed => "Audiences in Jwt are not allowed",
            Failure::KidAlgMismatch => "Jwks doesn't have key to match kid or alg from Jwt",
            Failure::VerificationFail => "Jwt verification fails",
        }
    }
}

/// A token that passed every check.
#[derive(Clone, Debug, PartialEq)]
pub struct Verified {
    /// `iss/sub`, the request principal.
    pub principal: String,
    pub claims: Map<String, Value>,
    /// The provider that accepted it, and where the token was.
    pub provider: usize,
    pub location: Location,
    /// The payload segment as the token carried it (base64url).
    pub payload_b64: String,
}

/// What the filter decided.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// No token in any provider's location: passes, unauthenticated.
    Missing,
    Verified(Box<Verified>),
    Rejected(Failure),
}

/// The providers of the RequestAuthentications that select a workload.
#[derive(Clone, Debug, Default)]
pub struct Authenticator {
    pub providers: Vec<Provider>,
}

/// The parts of a token, decoded.
struct Parsed<'t> {
    alg: Algorithm,
    kid: Option<String>,
    claims: Map<String, Value>,
    signed: String,
    signature: &'t str,
    payload_b64: &'t str,
}

impl Authenticator {
    pub fn is_empty(&self) -> bool {
        self.providers.is_empty()
    }

    /// Authenticates a request given its headers and path (with query) at
    /// `now` (Unix seconds).
    pub fn authenticate(&self, headers: &[(String, String)], path: &str, now: u64) -> Outcome {
        // The first token found, in provider then location order, and the
        // providers that look where it was found.
        let mut found = None;
        for p in &self.providers {
            for loc in &p.locations {
                if let Some(token) = loc.extract(headers, path) {
                    found = Some((token, loc.clone()));
                    break;
                }
            }
            if found.is_some() {
                break;
            }
        }
        let Some((token, location)) = found else {
            return Outcome::Missing;
        };
        let parsed = match parse(token) {
            Ok(p) => p,
            Err(f) => return Outcome::Rejected(f),
        };
        let issuer = parsed.claims.get("iss").and_then(Value::as_str);
        let Some((index, provider)) = self.providers.iter().enumerate().find(|(_, p)| {
            p.locations.contains(&location) && p.issuer.as_deref().is_none_or(|i| Some(i) == issuer)
        }) else {
            return Outcome::Rejected(Failure::UnknownIssuer);
        };
        if let Err(f) = check_times(&parsed.claims, now) {
            return Outcome::Rejected(f);
        }
        if !provider.audiences.is_empty() && !audiences_allowed(&parsed.claims, &provider.audiences)
        {
            return Outcome::Rejected(Failure::AudienceNotAllowed);
        }
        let Some(keys) = &provider.keys else {
            // The fake key's `kid` is "abc": other kids find no key.
            return Outcome::Rejected(match parsed.kid.as_deref() {
                Some(kid) if kid != FAKE_KID => Failure::KidAlgMismatch,
                _ => Failure::VerificationFail,
            });
        };
        if let Err(f) = verify_signature(&parsed, keys) {
            return Outcome::Rejected(f);
        }
        let sub = parsed
            .claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or("");
        Outcome::Verified(Box::new(Verified {
            principal: format!("{}/{sub}", issuer.unwrap_or("")),
            payload_b64: parsed.payload_b64.to_string(),
            claims: parsed.claims,
            provider: index,
            location,
        }))
    }

    /// The headers the request goes on with after `verified`: the token
    /// removed unless forwarded, the payload and claims added as asked.
    pub fn rewrite_headers(&self, headers: &mut Vec<(String, String)>, verified: &Verified) {
        let p = &self.providers[verified.provider];
        if let (false, Location::Header { name, .. }) = (p.forward, &verified.location) {
            headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        }
        if let Some(h) = &p.payload_header {
            headers.push((h.to_ascii_lowercase(), verified.payload_b64.clone()));
        }
        for (header, claim) in &p.claim_headers {
            // Strings as they are; numbers and booleans as their JSON text.
            let value = match verified.claims.get(claim.as_str()) {
                Some(Value::String(s)) => Some(s.clone()),
                Some(v @ (Value::Number(_) | Value::Bool(_))) => Some(v.to_string()),
                _ => None,
            };
            if let Some(value) = value {
                headers.push((header.to_ascii_lowercase(), value));
            }
        }
    }
}

/// Envoy's limit on a token's length (`jwt.cc`).
const MAX_TOKEN_LEN: usize = 8096;

fn parse(token: &str) -> Result<Parsed<'_>, Failure> {
    // `parseFromString`: exactly two dots and a bounded length, then the
    // three parts.
    if token.len() >= MAX_TOKEN_LEN || token.matches('.').count() != 2 {
        return Err(Failure::BadFormat);
    }
    let parts: Vec<&str> = token.split('.').filter(|p| !p.is_empty()).collect();
    let &[h, p, s] = parts.as_slice() else {
        return Err(Failure::BadFormat);
    };
    let header: Map<String, Value> =
        decode_json(h, Failure::HeaderBadBase64, Failure::HeaderBadJson)?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or(Failure::HeaderBadAlg)?;
    let alg: Algorithm = alg.parse().map_err(|_| Failure::HeaderNotImplementedAlg)?;
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(k)) => Some(k.clone()),
        Some(_) => return Err(Failure::BadField("Jwt header [kid] field is not a string")),
    };
    let claims = decode_json(p, Failure::PayloadBadBase64, Failure::PayloadBadJson)?;
    check_claim_types(&claims)?;
    if URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).is_err() {
        return Err(Failure::SignatureBadBase64);
    }
    Ok(Parsed {
        alg,
        kid,
        claims,
        signed: format!("{h}.{p}"),
        signature: s,
        payload_b64: p,
    })
}

/// The registered claims' types, as Envoy's parser checks them.
fn check_claim_types(claims: &Map<String, Value>) -> Result<(), Failure> {
    for (key, message) in [
        ("iss", "Jwt payload [iss] field is not a string"),
        ("sub", "Jwt payload [sub] field is not a string"),
        ("jti", "Jwt payload [jti] field is not a string"),
    ] {
        if claims.get(key).is_some_and(|v| !v.is_string()) {
            return Err(Failure::BadField(message));
        }
    }
    for (key, message) in [
        ("iat", "Jwt payload [iat] field is not an integer"),
        ("nbf", "Jwt payload [nbf] field is not an integer"),
        ("exp", "Jwt payload [exp] field is not an integer"),
    ] {
        if claims.get(key).is_some_and(|v| v.as_u64().is_none()) {
            return Err(Failure::BadField(message));
        }
    }
    let aud_ok = match claims.get("aud") {
        None | Some(Value::String(_)) => true,
        Some(Value::Array(items)) => items.iter().all(Value::is_string),
        Some(_) => false,
    };
    if !aud_ok {
        return Err(Failure::BadField(
            "Jwt payload [aud] field is not a string or string list",
        ));
    }
    Ok(())
}

fn decode_json(
    segment: &str,
    bad_base64: Failure,
    bad_json: Failure,
) -> Result<Map<String, Value>, Failure> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment.trim_end_matches('='))
        .map_err(|_| bad_base64)?;
    serde_json::from_slice(&bytes).map_err(|_| bad_json)
}

/// `verifyTimeConstraint`: `nbf` then `exp` (0 means none), each with the
/// clock skew.
fn check_times(claims: &Map<String, Value>, now: u64) -> Result<(), Failure> {
    let at = |k: &str| claims.get(k).and_then(Value::as_u64).filter(|t| *t != 0);
    if at("nbf").is_some_and(|nbf| now.saturating_add(CLOCK_SKEW_SECS) < nbf) {
        return Err(Failure::NotYetValid);
    }
    if at("exp").is_some_and(|exp| exp.saturating_add(CLOCK_SKEW_SECS) < now) {
        return Err(Failure::Expired);
    }
    Ok(())
}

/// `aud` (a string or a list) names one of the allowed audiences.
fn audiences_allowed(claims: &Map<String, Value>, allowed: &[String]) -> bool {
    // Envoy's `sanitizeAudience`: drop a scheme (`…://`) and one
    // trailing slash.
    let norm = |a: &str| {
        let a = a.split_once("://").map_or(a, |(_, rest)| rest);
        a.strip_suffix('/').unwrap_or(a).to_string()
    };
    let allowed: Vec<String> = allowed.iter().map(|a| norm(a)).collect();
    claim_path(claims, &["aud"])
        .iter()
        .any(|a| allowed.contains(&norm(a)))
}

/// Tries every key that fits the token's `kid` and `alg`. As in Envoy's
/// `verify.cc`, a key whose `kid` and `alg` match counts as found even when
/// its type cannot check the algorithm: the token then fails verification
/// rather than finding no key.
fn verify_signature(parsed: &Parsed<'_>, keys: &[Jwk]) -> Result<(), Failure> {
    let mut tried = false;
    for jwk in keys {
        if let (Some(want), Some(have)) = (&parsed.kid, &jwk.common.key_id)
            && want != have
        {
            continue;
        }
        if jwk
            .common
            .key_algorithm
            .is_some_and(|a| a.to_string() != alg_name(parsed.alg))
        {
            continue;
        }
        tried = true;
        let Ok(key) = DecodingKey::from_jwk(jwk) else {
            continue;
        };
        if !key_fits(jwk, parsed.alg) {
            continue;
        }
        if jsonwebtoken::crypto::verify(
            parsed.signature,
            parsed.signed.as_bytes(),
            &key,
            parsed.alg,
        )
        .unwrap_or(false)
        {
            return Ok(());
        }
    }
    Err(if tried {
        Failure::VerificationFail
    } else {
        Failure::KidAlgMismatch
    })
}

/// The JWA name of an algorithm (`RS256`, …).
pub fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::EdDSA => "EdDSA",
        // The enum is non-exhaustive; a newer variant has no name here, so
        // no key that names its algorithm matches it.
        _ => "",
    }
}

/// Whether a key's type can check an algorithm (an RSA key for RS256, an
/// EC key on the matching curve for ES256, …).
fn key_fits(jwk: &Jwk, alg: Algorithm) -> bool {
    use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve};
    match (&jwk.algorithm, alg) {
        (
            AlgorithmParameters::RSA(_),
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512,
        ) => true,
        (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES256) => {
            ec.curve == EllipticCurve::P256
        }
        (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES384) => {
            ec.curve == EllipticCurve::P384
        }
        (AlgorithmParameters::OctetKeyPair(_), Algorithm::EdDSA) => true,
        (
            AlgorithmParameters::OctetKey(_),
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512,
        ) => true,
        _ => false,
    }
}

/// Parses a JSON Web Key Set as istiod receives it (inline `jwks`, or the
/// body behind `jwksUri`). Keys that do not parse are skipped, as Envoy
/// skips keys it cannot use; a body without a `keys` list is an error.
pub fn parse_jwks(text: &str) -> Result<Vec<Jwk>, String> {
    let set: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let keys = set
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("no \"keys\" list")?;
    Ok(keys
        .iter()
        .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
        .collect())
}

/// Claims whose string values Envoy splits on spaces before matching
/// (`normalize_payload_in_metadata.space_delimited_claims`, set by istiod).
const SPACE_DELIMITED: [&str; 2] = ["scope", "permission"];

/// The string values at a claim path (`["groups"]`, `["nested", "key"]`)
/// that AuthorizationPolicy conditions match: a string, each string in a
/// list, or the words of a space-delimited claim (Envoy's string matchers
/// never match numbers or booleans).
pub fn claim_path(claims: &Map<String, Value>, path: &[&str]) -> Vec<String> {
    let mut value = None;
    let mut map = claims;
    for (i, key) in path.iter().enumerate() {
        let Some(v) = map.get(*key) else {
            return Vec::new();
        };
        if i + 1 == path.len() {
            value = Some(v);
        } else if let Value::Object(m) = v {
            map = m;
        } else {
            return Vec::new();
        }
    }
    let split = path.len() == 1 && SPACE_DELIMITED.contains(&path[0]);
    match value {
        Some(Value::String(s)) if split => s.split(' ').map(str::to_string).collect(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| match i {
                Value::String(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Envoy's `www-authenticate` header on a rejection: the realm is the
/// request's URL, its path cut to 256 characters (`buildOriginalUri`).
pub fn www_authenticate(scheme: &str, host: &str, path: &str) -> String {
    let realm: String = format!("{scheme}://{host}{path}")
        .chars()
        .take(256)
        .collect();
    format!("Bearer realm=\"{realm}\", error=\"invalid_token\"")
}

/// Base64url without padding, as JWTs write their segments.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issuer::SigningKey;
    use test_case::test_case;

    const JWKS: &str = include_str!("../../manifests/samples/jwt/jwks.json");
    const DEMO: &str = include_str!("../../manifests/samples/jwt/demo.jwt");
    const KEY: &str = include_str!("../../manifests/samples/jwt/key.pem");
    const ISS: &str = "testing@secure.istio.io";
    /// 2026-01-01, the simulation's calendar epoch.
    const NOW: u64 = 1_767_225_600;

    fn rule(audiences: &[&str]) -> Provider {
        Provider {
            issuer: Some(ISS.to_string()),
            audiences: audiences.iter().map(ToString::to_string).collect(),
            keys: Some(parse_jwks(JWKS).unwrap()),
            locations: Location::defaults(),
            forward: false,
            payload_header: None,
            claim_headers: Vec::new(),
        }
    }

    fn authn(audiences: &[&str]) -> Authenticator {
        Authenticator {
            providers: vec![rule(audiences)],
        }
    }

    fn bearer(token: &str) -> Vec<(String, String)> {
        vec![("Authorization".into(), format!("Bearer {token}"))]
    }

    fn token(claims: Value) -> String {
        let Value::Object(claims) = claims else {
            unreachable!()
        };
        SigningKey::from_pem(KEY).unwrap().sign(&claims).unwrap()
    }

    /// Istio's demo token verifies with Istio's sample JWKS (the authn
    /// task: 200 with `Bearer $TOKEN`).
    #[test]
    fn istios_demo_token_verifies() {
        match authn(&[]).authenticate(&bearer(DEMO.trim()), "/headers", NOW) {
            Outcome::Verified(v) => {
                assert_eq!(v.principal, format!("{ISS}/{ISS}"));
                assert_eq!(v.claims["foo"], "bar");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_token_passes_unauthenticated() {
        assert_eq!(authn(&[]).authenticate(&[], "/", NOW), Outcome::Missing);
        // A header without the prefix is not a token location.
        let basic = vec![("authorization".into(), "Basic dXNlcjpwYXNz".into())];
        assert_eq!(authn(&[]).authenticate(&basic, "/", NOW), Outcome::Missing);
    }

    /// The authn task's `Bearer deadbeef` (401), and Envoy's other checks
    /// in their order.
    #[test_case("deadbeef", Failure::BadFormat; "not three parts")]
    #[test_case("x.y.", Failure::BadFormat; "empty signature")]
    #[test_case("eyJhbGciOiJSUzI1NiJ9..e30.e30", Failure::BadFormat; "three dots")]
    #[test_case("a.b.c", Failure::HeaderBadBase64; "header not base64")]
    #[test_case("YQ.YQ.YQ", Failure::HeaderBadJson; "header not json")]
    #[test_case("e30.e30.e30", Failure::HeaderBadAlg; "no alg")]
    #[test_case("eyJhbGciOiJub25lIn0.e30.e30", Failure::HeaderNotImplementedAlg; "alg none")]
    fn malformed_tokens_are_refused(token: &str, want: Failure) {
        assert_eq!(
            authn(&[]).authenticate(&bearer(token), "/", NOW),
            Outcome::Rejected(want)
        );
    }

    #[test]
    fn checks_issuer_time_audience_then_signature() {
        let a = authn(&["bookinfo"]);
        let check = |claims: Value| match a.authenticate(&bearer(&token(claims)), "/", NOW) {
            Outcome::Rejected(f) => Some(f),
            _ => None,
        };
        assert_eq!(
            check(json!({"iss": "someone@else", "sub": "x", "aud": "bookinfo"})),
            Some(Failure::UnknownIssuer)
        );
        // 60 s of clock skew either way.
        assert_eq!(
            check(json!({"iss": ISS, "sub": "x", "aud": "bookinfo", "exp": NOW - 61})),
            Some(Failure::Expired)
        );
        assert_eq!(
            check(json!({"iss": ISS, "sub": "x", "aud": "bookinfo", "exp": NOW - 59})),
            None
        );
        assert_eq!(
            check(json!({"iss": ISS, "sub": "x", "aud": "bookinfo", "nbf": NOW + 61})),
            Some(Failure::NotYetValid)
        );
        assert_eq!(
            check(json!({"iss": ISS, "sub": "x", "aud": "other"})),
            Some(Failure::AudienceNotAllowed)
        );
        // `exp: 0` is no expiry; the far future does not overflow.
        assert_eq!(
            check(json!({"iss": ISS, "sub": "x", "aud": "bookinfo", "exp": 0})),
            None
        );
        assert_eq!(
            check(json!({"iss": ISS, "sub": "x", "aud": "bookinfo", "exp": u64::MAX, "nbf": 1})),
            None
        );
        assert_eq!(
            check(json!({"iss": ISS, "sub": "x", "aud": "bookinfo", "exp": 1.7e9})),
            Some(Failure::BadField(
                "Jwt payload [exp] field is not an integer"
            ))
        );
        assert_eq!(
            check(json!({"iss": ISS, "sub": 7, "aud": "bookinfo"})),
            Some(Failure::BadField("Jwt payload [sub] field is not a string"))
        );
        assert_eq!(
            check(json!({"iss": ISS, "sub": "x", "aud": [1]})),
            Some(Failure::BadField(
                "Jwt payload [aud] field is not a string or string list"
            ))
        );
        assert_eq!(Failure::AudienceNotAllowed.status(), 403);
        assert_eq!(
            check(json!({"iss": ISS, "sub": "x", "aud": ["other", "https://bookinfo/"]})),
            None
        );
    }

    #[test]
    fn a_tampered_or_foreign_token_fails_verification() {
        let good = token(json!({"iss": ISS, "sub": "x"}));
        let (head, sig) = good.rsplit_once('.').unwrap();
        let forged_payload = b64(br#"{"iss":"testing@secure.istio.io","sub":"admin"}"#);
        let forged = format!("{}.{forged_payload}.{sig}", head.split('.').next().unwrap());
        let a = authn(&[]);
        assert_eq!(
            a.authenticate(&bearer(&forged), "/", NOW),
            Outcome::Rejected(Failure::VerificationFail)
        );
        // A kid the JWKS does not have.
        let other_kid = format!(
            "{}.{}",
            b64(br#"{"alg":"RS256","kid":"nope"}"#),
            good.split_once('.').unwrap().1
        );
        assert_eq!(
            a.authenticate(&bearer(&other_kid), "/", NOW),
            Outcome::Rejected(Failure::KidAlgMismatch)
        );
        // istiod's fake JWKS when the URI could not be fetched: one key
        // with kid "abc", so a token with another kid finds no key, one
        // without a kid fails verification.
        let mut fake = rule(&[]);
        fake.keys = None;
        let fake = Authenticator {
            providers: vec![fake],
        };
        assert_eq!(
            fake.authenticate(&bearer(DEMO.trim()), "/", NOW),
            Outcome::Rejected(Failure::KidAlgMismatch)
        );
        let no_kid = format!(
            "{}.{}",
            b64(br#"{"alg":"RS256"}"#),
            good.split_once('.').unwrap().1
        );
        assert_eq!(
            fake.authenticate(&bearer(&no_kid), "/", NOW),
            Outcome::Rejected(Failure::VerificationFail)
        );
    }

    #[test]
    fn tokens_are_found_where_the_rule_says() {
        let mut p = rule(&[]);
        p.locations = vec![
            Location::Header {
                name: "x-jwt-assertion".into(),
                prefix: String::new(),
            },
            Location::Param("my_token".into()),
        ];
        let a = Authenticator { providers: vec![p] };
        let verified = |o: Outcome| matches!(o, Outcome::Verified(_));
        let demo = DEMO.trim();
        assert!(verified(a.authenticate(
            &[("X-Jwt-Assertion".into(), demo.into())],
            "/",
            NOW
        )));
        assert!(verified(a.authenticate(
            &[],
            &format!("/ip?a=1&my_token={demo}"),
            NOW
        )));
        // The default locations are not looked at any more.
        assert_eq!(a.authenticate(&bearer(demo), "/", NOW), Outcome::Missing);
        assert!(verified(authn(&[]).authenticate(
            &[],
            &format!("/?access_token={demo}"),
            NOW
        )));
    }

    #[test]
    fn verified_tokens_are_removed_or_copied_as_configured() {
        let mut p = rule(&[]);
        p.payload_header = Some("X-Jwt-Payload".into());
        p.claim_headers = vec![("x-foo".into(), "foo".into())];
        let a = Authenticator { providers: vec![p] };
        let mut headers = bearer(DEMO.trim());
        let Outcome::Verified(v) = a.authenticate(&headers, "/", NOW) else {
            panic!()
        };
        a.rewrite_headers(&mut headers, &v);
        let payload = DEMO.trim().split('.').nth(1).unwrap();
        assert_eq!(
            headers,
            vec![
                ("x-jwt-payload".to_string(), payload.to_string()),
                ("x-foo".to_string(), "bar".to_string())
            ]
        );
    }

    #[test]
    fn claims_are_read_by_path() {
        let Value::Object(c) = json!({
            "groups": ["group1", "group2"],
            "scope": "read write",
            "nested": {"key": "value"},
            "admin": true
        }) else {
            unreachable!()
        };
        assert_eq!(claim_path(&c, &["groups"]), ["group1", "group2"]);
        assert_eq!(claim_path(&c, &["scope"]), ["read", "write"]);
        assert_eq!(claim_path(&c, &["nested", "key"]), ["value"]);
        assert!(
            claim_path(&c, &["admin"]).is_empty(),
            "booleans never match"
        );
        assert!(claim_path(&c, &["nested", "none"]).is_empty());
    }

    #[test]
    fn the_challenge_names_the_url() {
        assert_eq!(
            www_authenticate("http", "httpbin.foo:8000", "/headers"),
            r#"Bearer realm="http://httpbin.foo:8000/headers", error="invalid_token""#
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(24))]

            /// Any subject signed by the issuer's key is verified as
            /// `iss/sub`; changing any one character of the token (but a
            /// segment's last, whose spare bits base64 ignores) makes it
            /// fail, never pass as someone else.
            #[test]
            fn only_untouched_tokens_verify(
                sub in "[a-zA-Z0-9@._-]{1,24}",
                at in any::<prop::sample::Index>(),
                with in any::<prop::sample::Index>(),
            ) {
                let good = token(json!({"iss": ISS, "sub": sub}));
                let a = authn(&[]);
                match a.authenticate(&bearer(&good), "/", NOW) {
                    Outcome::Verified(v) => prop_assert_eq!(v.principal, format!("{ISS}/{sub}")),
                    other => prop_assert!(false, "{other:?}"),
                }
                let bytes = good.as_bytes();
                let i = at.index(bytes.len());
                let last_of_segment = i + 1 == bytes.len() || bytes[i + 1] == b'.';
                prop_assume!(bytes[i] != b'.' && !last_of_segment);
                let mut forged = bytes.to_vec();
                let replacement = B64[with.index(B64.len())];
                prop_assume!(replacement != bytes[i]);
                forged[i] = replacement;
                let forged = String::from_utf8(forged).unwrap();
                let outcome = a.authenticate(&bearer(&forged), "/", NOW);
                prop_assert!(matches!(outcome, Outcome::Rejected(_)), "{:?}", outcome);
            }
        }
    }
}
