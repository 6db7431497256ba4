//! Istio's authorization as a workload's proxy enforces it, sans-IO: the
//! AuthorizationPolicies that apply to the workload, evaluated as istiod
//! translates them into Envoy's RBAC filters (`pilot/pkg/security/authz`):
//! CUSTOM, then DENY, then ALLOW; AUDIT only logs.
//!
//! - A DENY policy denies a request any of its rules matches.
//! - Without ALLOW policies every request is allowed; with any, a request
//!   must match one of their rules. `spec: {}` (no rules) matches nothing,
//!   so it denies everything; `rules: [{}]` matches everything.
//! - A rule matches when one of its `from` entries (or none given), one of
//!   its `to` entries (or none) and all its `when` conditions match. Within
//!   an entry every set field must match; a field matches when one of its
//!   values does and none of its `not` values does.
//! - Values: exact, `prefix*`, `*suffix`, and `*` for "present" (a
//!   principal `*` needs an authenticated peer). Hosts ignore case; paths
//!   are matched without the query string.
//! - For TCP traffic the HTTP-only fields (request principals, hosts,
//!   methods, paths, `request.*` conditions) cannot be checked: an ALLOW
//!   rule using them is dropped (it never matches), a DENY rule loses them
//!   (it matches more), as istiod's TCP builder does.
//! - CUSTOM policies need an ext_authz provider from the mesh config;
//!   meshsim's mesh has none, so requests they select are denied, as Envoy
//!   fails closed when the provider is missing.

use std::net::Ipv4Addr;

use serde_json::{Map, Value};

use crate::config::security::{Action, AuthorizationPolicy, Condition, Operation, Rule, Source};
use crate::dataplane::jwt::claim_path;

/// What the proxy knows about a request when it authorizes it.
#[derive(Clone, Debug, Default)]
pub struct Attributes<'a> {
    /// The peer's identity from mTLS (`cluster.local/ns/NS/sa/SA`); `None`
    /// for plaintext.
    pub principal: Option<&'a str>,
    /// The JWT's `iss/sub`, when a valid token came with the request.
    pub request_principal: Option<&'a str>,
    /// That token's claims.
    pub claims: Option<&'a Map<String, Value>>,
    pub source_ip: Option<Ipv4Addr>,
    pub destination_ip: Option<Ipv4Addr>,
    pub destination_port: u16,
    /// `None` for TCP traffic.
    pub http: Option<Http<'a>>,
}

#[derive(Clone, Debug)]
pub struct Http<'a> {
    pub host: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub headers: &'a [(String, String)],
}

impl Attributes<'_> {
    /// `source.namespace`: from the peer's principal.
    fn namespace(&self) -> Option<&str> {
        self.principal.and_then(|p| {
            let rest = p.split_once("/ns/")?.1;
            Some(rest.split_once("/sa/").map_or(rest, |(ns, _)| ns))
        })
    }

    /// `ns/sa` of the peer, for `serviceAccounts`.
    fn service_account(&self) -> Option<String> {
        let p = self.principal?;
        let (ns, sa) = p.split_once("/ns/")?.1.split_once("/sa/")?;
        Some(format!("{ns}/{sa}"))
    }

    fn header(&self, name: &str) -> Vec<&str> {
        self.http
            .as_ref()
            .map(|h| {
                h.headers
                    .iter()
                    .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.as_str())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The decision, and the policy that made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Denied by this policy (`ns/name`), or by no ALLOW policy matching
    /// (`None`).
    Deny(Option<String>),
}

/// Envoy's body for a request its RBAC filter denied.
pub const DENIED_BODY: &str = "RBAC: access denied";

/// Evaluates the policies that apply to a workload (`(ns/name, policy)`)
/// for one request.
pub fn evaluate(policies: &[(String, AuthorizationPolicy)], req: &Attributes<'_>) -> Verdict {
    let matching = |action: Action| {
        policies
            .iter()
            .filter(move |(_, p)| p.action == action)
            .find(|(_, p)| p.rules.iter().any(|r| rule_matches(r, req, action)))
            .map(|(name, _)| name.clone())
    };
    if let Some(name) = matching(Action::Custom) {
        return Verdict::Deny(Some(name));
    }
    if let Some(name) = matching(Action::Deny) {
        return Verdict::Deny(Some(name));
    }
    let has_allow = policies.iter().any(|(_, p)| p.action == Action::Allow);
    if !has_allow || matching(Action::Allow).is_some() {
        Verdict::Allow
    } else {
        Verdict::Deny(None)
    }
}

fn rule_matches(rule: &Rule, req: &Attributes<'_>, action: Action) -> bool {
    let tcp = req.http.is_none();
    if tcp && action == Action::Allow && uses_http_fields(rule) {
        return false;
    }
    let from = rule.from.is_empty()
        || rule
            .from
            .iter()
            .any(|f| f.source.as_ref().is_none_or(|s| source_matches(s, req)));
    let to = rule.to.is_empty()
        || rule.to.iter().any(|t| {
            t.operation
                .as_ref()
                .is_none_or(|o| operation_matches(o, req))
        });
    from && to && rule.when.iter().all(|c| condition_matches(c, req))
}

/// Whether a rule needs HTTP to be checked.
fn uses_http_fields(rule: &Rule) -> bool {
    rule.from
        .iter()
        .filter_map(|f| f.source.as_ref())
        .any(|s| !s.request_principals.is_empty() || !s.not_request_principals.is_empty())
        || rule
            .to
            .iter()
            .filter_map(|t| t.operation.as_ref())
            .any(|o| {
                !o.hosts.is_empty()
                    || !o.not_hosts.is_empty()
                    || !o.methods.is_empty()
                    || !o.not_methods.is_empty()
                    || !o.paths.is_empty()
                    || !o.not_paths.is_empty()
            })
        || rule
            .when
            .iter()
            .any(|c| c.key.as_deref().is_some_and(|k| k.starts_with("request.")))
}

/// A field: matches when it is unset or one of its values matches, and
/// none of its `not` values does.
fn field(
    values: &[String],
    not_values: &[String],
    actual: &[&str],
    matches: fn(&str, &str) -> bool,
) -> bool {
    let hit = |v: &String| actual.iter().any(|a| matches(v, a));
    (values.is_empty() || values.iter().any(hit)) && !not_values.iter().any(hit)
}

fn source_matches(s: &Source, req: &Attributes<'_>) -> bool {
    let principal: Vec<&str> = req.principal.into_iter().collect();
    let namespace: Vec<&str> = req.namespace().into_iter().collect();
    let sa = req.service_account();
    let service_account: Vec<&str> = sa.as_deref().into_iter().collect();
    let ip = req.source_ip;
    let http = req.http.is_some();
    field(
        &s.principals,
        &s.not_principals,
        &principal,
        principal_matches,
    ) && field(&s.namespaces, &s.not_namespaces, &namespace, string_matches)
        && field(
            &s.service_accounts,
            &s.not_service_accounts,
            &service_account,
            string_matches,
        )
        && ip_field(&s.ip_blocks, &s.not_ip_blocks, ip)
        && ip_field(&s.remote_ip_blocks, &s.not_remote_ip_blocks, ip)
        && (!http || request_principal_field(s, req))
}

/// `requestPrincipals`: istiod splits each value at its last `/` and
/// matches the token's `iss` and `sub` separately, each exact, `prefix*`
/// or `*suffix`; `*` alone wants any authenticated token.
fn request_principal_field(s: &Source, req: &Attributes<'_>) -> bool {
    let claim = |k: &str| {
        req.claims
            .and_then(|c| c.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    let hit = |pattern: &String| {
        req.request_principal
            .is_some_and(|actual| match pattern.rsplit_once('/') {
                _ if pattern == "*" => true,
                Some((iss, sub)) if req.claims.is_some() => {
                    string_matches(iss, claim("iss")) && string_matches(sub, claim("sub"))
                }
                _ => string_matches(pattern, actual),
            })
    };
    (s.request_principals.is_empty() || s.request_principals.iter().any(hit))
        && !s.not_request_principals.iter().any(hit)
}

fn operation_matches(o: &Operation, req: &Attributes<'_>) -> bool {
    let port = req.destination_port.to_string();
    if !field(&o.ports, &o.not_ports, &[port.as_str()], string_matches) {
        return false;
    }
    let Some(h) = &req.http else {
        return true;
    };
    let path = h.path.split('?').next().unwrap_or(h.path);
    field(&o.hosts, &o.not_hosts, &[h.host], host_matches)
        && field(&o.methods, &o.not_methods, &[h.method], string_matches)
        && field(&o.paths, &o.not_paths, &[path], string_matches)
}

fn condition_matches(c: &Condition, req: &Attributes<'_>) -> bool {
    let Some(key) = c.key.as_deref() else {
        return true;
    };
    if req.http.is_none() && key.starts_with("request.") {
        // An HTTP-only condition cannot be checked on TCP: dropped.
        return true;
    }
    let owned: Vec<String>;
    let actual: Vec<&str> = if let Some(name) = key
        .strip_prefix("request.headers[")
        .and_then(|k| k.strip_suffix(']'))
    {
        req.header(name)
    } else {
        owned = match key {
            "source.ip" | "remote.ip" => {
                return ip_field(&c.values, &c.not_values, req.source_ip);
            }
            "destination.ip" => {
                return ip_field(&c.values, &c.not_values, req.destination_ip);
            }
            "source.namespace" => req.namespace().map(str::to_string).into_iter().collect(),
            "source.principal" => req.principal.map(str::to_string).into_iter().collect(),
            "source.serviceAccount" => req.service_account().into_iter().collect(),
            "request.auth.principal" => req
                .request_principal
                .map(str::to_string)
                .into_iter()
                .collect(),
            "destination.port" => vec![req.destination_port.to_string()],
            "request.auth.audiences" => claims(req, &["aud"]),
            "request.auth.presenter" => claims(req, &["azp"]),
            _ => match claim_key(key) {
                Some(path) => claims(req, &path),
                // The mTLS SNI (`connection.sni`) is not kept: nothing to
                // match.
                None => Vec::new(),
            },
        };
        owned.iter().map(String::as_str).collect()
    };
    field(&c.values, &c.not_values, &actual, string_matches)
}

fn claims(req: &Attributes<'_>, path: &[&str]) -> Vec<String> {
    req.claims.map(|c| claim_path(c, path)).unwrap_or_default()
}

/// `request.auth.claims[a][b]…` → `["a", "b"]`.
fn claim_key(key: &str) -> Option<Vec<&str>> {
    let rest = key
        .strip_prefix("request.auth.claims[")?
        .strip_suffix(']')?;
    Some(rest.split("][").collect())
}

fn ip_field(values: &[String], not_values: &[String], ip: Option<Ipv4Addr>) -> bool {
    let hit = |cidr: &String| ip.is_some_and(|ip| cidr_contains(cidr, ip));
    (values.is_empty() || values.iter().any(hit)) && !not_values.iter().any(hit)
}

/// `10.0.0.0/8` or a single address.
fn cidr_contains(cidr: &str, ip: Ipv4Addr) -> bool {
    let (addr, len) = match cidr.split_once('/') {
        Some((a, l)) => (a, l.parse::<u32>().unwrap_or(32)),
        None => (cidr, 32),
    };
    let Ok(net) = addr.trim().parse::<Ipv4Addr>() else {
        return false;
    };
    let mask = if len == 0 {
        0
    } else {
        u32::MAX << (32 - len.min(32))
    };
    (u32::from(net) & mask) == (u32::from(ip) & mask)
}

/// Istio's string match: `*` (present), `prefix*`, `*suffix`, exact.
fn string_matches(pattern: &str, actual: &str) -> bool {
    if pattern == "*" {
        return !actual.is_empty();
    }
    if let Some(suffix) = pattern.strip_prefix('*') {
        return actual.ends_with(suffix);
    }
    if let Some(prefix) = pattern.strip_suffix('*') {
        return actual.starts_with(prefix);
    }
    pattern == actual
}

/// Principals may be written with `spiffe://`; Istio compares without it.
fn principal_matches(pattern: &str, actual: &str) -> bool {
    let strip = |s: &str| s.strip_prefix("spiffe://").unwrap_or(s).to_string();
    string_matches(&strip(pattern), &strip(actual))
}

fn host_matches(pattern: &str, actual: &str) -> bool {
    string_matches(&pattern.to_ascii_lowercase(), &actual.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    /// A policy's `spec`, written as JSON to stay short.
    fn policy(json: &str) -> AuthorizationPolicy {
        serde_json::from_str(json).unwrap()
    }

    const CURL: &str = "cluster.local/ns/default/sa/curl";
    const GATEWAY: &str = "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account";

    fn get<'a>(principal: Option<&'a str>, path: &'a str) -> Attributes<'a> {
        Attributes {
            principal,
            source_ip: Some(Ipv4Addr::new(10, 244, 1, 7)),
            destination_port: 9080,
            http: Some(Http {
                host: "productpage:9080",
                method: "GET",
                path,
                headers: &[],
            }),
            ..Attributes::default()
        }
    }

    fn eval(policies: &[&str], req: &Attributes<'_>) -> Verdict {
        let named: Vec<(String, AuthorizationPolicy)> = policies
            .iter()
            .enumerate()
            .map(|(i, p)| (format!("default/p{i}"), policy(p)))
            .collect();
        evaluate(&named, req)
    }

    #[test]
    fn no_policy_allows() {
        assert_eq!(eval(&[], &get(None, "/")), Verdict::Allow);
    }

    /// The authorization task's `allow-nothing`: `spec: {}` denies all.
    #[test]
    fn an_empty_allow_policy_denies_everything() {
        assert_eq!(eval(&["{}"], &get(Some(CURL), "/")), Verdict::Deny(None));
    }

    #[test]
    fn an_empty_rule_allows_everything() {
        assert_eq!(
            eval(&[r#"{"rules": [{}]}"#], &get(None, "/")),
            Verdict::Allow
        );
    }

    /// Lab 3: the gateway may GET /productpage; others may not.
    #[test_case(Some(GATEWAY), "GET", "/productpage", true)]
    #[test_case(Some(GATEWAY), "POST", "/productpage", false)]
    #[test_case(Some(CURL), "GET", "/productpage", false)]
    #[test_case(None, "GET", "/productpage", false; "plaintext has no principal")]
    #[test_case(Some(GATEWAY), "GET", "/static/x.css?v=1", true; "prefix paths ignore the query")]
    fn principals_methods_and_paths(
        principal: Option<&str>,
        method: &str,
        path: &str,
        allowed: bool,
    ) {
        let p = format!(
            r#"{{"rules": [{{"from": [{{"source": {{"principals": ["{GATEWAY}"]}}}}], "to": [{{"operation": {{"methods": ["GET"], "paths": ["/productpage", "/static/*"]}}}}]}}]}}"#
        );
        let mut req = get(principal, path);
        if let Some(h) = req.http.as_mut() {
            h.method = method;
        }
        assert_eq!(eval(&[&p], &req) == Verdict::Allow, allowed);
    }

    #[test]
    fn deny_beats_allow() {
        let allow = r#"{"rules": [{}]}"#;
        let deny =
            r#"{"action": "DENY", "rules": [{"to": [{"operation": {"paths": ["/admin*"]}}]}]}"#;
        assert_eq!(
            eval(&[allow, deny], &get(Some(CURL), "/admin/x")),
            Verdict::Deny(Some("default/p1".into()))
        );
        assert_eq!(
            eval(&[allow, deny], &get(Some(CURL), "/home")),
            Verdict::Allow
        );
    }

    #[test_case(r#"{"namespaces": ["default"]}"#, true)]
    #[test_case(r#"{"notNamespaces": ["default"]}"#, false)]
    #[test_case(r#"{"principals": ["*"]}"#, true)]
    #[test_case(
        r#"{"principals": ["spiffe://cluster.local/ns/default/sa/curl"]}"#,
        true
    )]
    #[test_case(r#"{"ipBlocks": ["10.244.0.0/16"]}"#, true)]
    #[test_case(r#"{"notIpBlocks": ["10.244.1.7"]}"#, false)]
    #[test_case(r#"{"serviceAccounts": ["default/curl"]}"#, true)]
    #[test_case(r#"{"requestPrincipals": ["*"]}"#, false; "no token, no request principal")]
    fn sources(source: &str, allowed: bool) {
        let p = format!(r#"{{"rules": [{{"from": [{{"source": {source}}}]}}]}}"#);
        assert_eq!(
            eval(&[&p], &get(Some(CURL), "/")) == Verdict::Allow,
            allowed
        );
    }

    #[test_case(r#"{"key": "request.headers[version]", "values": ["v1"]}"#, true)]
    #[test_case(r#"{"key": "request.headers[version]", "notValues": ["v1"]}"#, false)]
    #[test_case(r#"{"key": "source.namespace", "values": ["default"]}"#, true)]
    #[test_case(r#"{"key": "destination.port", "values": ["9080"]}"#, true)]
    #[test_case(r#"{"key": "source.ip", "values": ["10.0.0.0/8"]}"#, true)]
    fn conditions(condition: &str, allowed: bool) {
        let p = format!(r#"{{"rules": [{{"when": [{condition}]}}]}}"#);
        let headers = [("version".to_string(), "v1".to_string())];
        let mut req = get(Some(CURL), "/");
        if let Some(h) = req.http.as_mut() {
            h.headers = &headers;
        }
        assert_eq!(eval(&[&p], &req) == Verdict::Allow, allowed);
    }

    /// TCP: an ALLOW rule with HTTP fields never matches; a DENY rule drops
    /// them and denies more.
    #[test]
    fn http_fields_on_tcp() {
        let tcp = Attributes {
            principal: Some(CURL),
            destination_port: 9000,
            ..Attributes::default()
        };
        let allow_get = r#"{"rules": [{"to": [{"operation": {"methods": ["GET"]}}]}]}"#;
        assert_eq!(eval(&[allow_get], &tcp), Verdict::Deny(None));
        let deny_get = r#"{"action": "DENY", "rules": [{"to": [{"operation": {"methods": ["GET"], "ports": ["9000"]}}]}]}"#;
        assert!(matches!(eval(&[deny_get], &tcp), Verdict::Deny(Some(_))));
    }

    #[test]
    fn audit_policies_decide_nothing() {
        let audit = r#"{"action": "AUDIT", "rules": [{}]}"#;
        assert_eq!(eval(&[audit], &get(None, "/")), Verdict::Allow);
    }

    /// istiod splits a request principal at its last `/` and matches
    /// `iss` and `sub` each with prefix/suffix wildcards
    /// (`authz/model/generator.go`); `*` wants any token.
    #[test_case(r#"["testing@secure.istio.io/alice"]"#, true; "exact")]
    #[test_case(r#"["*"]"#, true; "any token")]
    #[test_case(r#"["testing@secure.istio.io/*"]"#, true; "any subject of the issuer")]
    #[test_case(r#"["*/alice"]"#, true; "alice from any issuer")]
    #[test_case(r#"["https://accounts/*"]"#, false; "another issuer")]
    #[test_case(r#"["testing@secure.istio.io/al*"]"#, true; "subject prefix")]
    fn request_principals_match_issuer_and_subject(principals: &str, allowed: bool) {
        let claims: serde_json::Map<String, Value> = serde_json::from_str(
            r#"{"iss": "testing@secure.istio.io", "sub": "alice", "groups": ["dev", "ops"], "nested": {"level": "gold"}}"#,
        )
        .unwrap();
        let mut req = get(None, "/");
        req.request_principal = Some("testing@secure.istio.io/alice");
        req.claims = Some(&claims);
        let allow = format!(
            r#"{{"rules": [{{"from": [{{"source": {{"requestPrincipals": {principals}}}}}]}}]}}"#
        );
        assert_eq!(eval(&[&allow], &req) == Verdict::Allow, allowed);
        // Without a token no request principal matches.
        assert_ne!(eval(&[&allow], &get(None, "/")), Verdict::Allow);
    }

    #[test]
    fn claim_conditions_read_lists_and_nested_claims() {
        let claims: serde_json::Map<String, Value> = serde_json::from_str(
            r#"{"iss": "i", "sub": "s", "aud": ["web", "api"], "azp": "portal", "groups": ["dev", "ops"], "nested": {"level": "gold"}}"#,
        )
        .unwrap();
        let mut req = get(None, "/");
        req.request_principal = Some("i/s");
        req.claims = Some(&claims);
        let when = |key: &str, values: &str| {
            format!(r#"{{"rules": [{{"when": [{{"key": "{key}", "values": {values}}}]}}]}}"#)
        };
        let allowed = |p: String| eval(&[&p], &req) == Verdict::Allow;
        assert!(allowed(when("request.auth.claims[groups]", r#"["ops"]"#)));
        assert!(!allowed(when(
            "request.auth.claims[groups]",
            r#"["admin"]"#
        )));
        assert!(allowed(when(
            "request.auth.claims[nested][level]",
            r#"["gold"]"#
        )));
        assert!(allowed(when("request.auth.audiences", r#"["api"]"#)));
        assert!(allowed(when("request.auth.presenter", r#"["port*"]"#)));
        assert!(allowed(when("request.auth.principal", r#"["i/s"]"#)));
    }
}
