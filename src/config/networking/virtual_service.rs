//! VirtualService (`networking/v1alpha3/virtual_service.proto`, Istio 1.27):
//! how requests for a set of hosts are matched and routed, rewritten,
//! retried, mirrored or answered with a fault. Validation follows the CRD
//! schema and then istiod's webhook (`ValidateVirtualService` and the
//! helpers in `pkg/config/validation/{validation,virtualservice}.go`), in
//! their words.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::common::{
    Percent, PortSelector, StringMatch, ip_subnet_problem, is_dns1123_label, is_ip,
    validate_export_to, validate_fqdn, validate_label_instance, validate_port, validate_regex,
    validate_wildcard_domain,
};
use super::destination_rule::validate_subset_name;
use crate::config::kinds::Validate;
use crate::config::meta::{NameRule, ObjectMeta};
use crate::config::types::Duration;
use crate::config::validate::{Validator, go_float};
use crate::spec_resources;

/// Routing for the `hosts` it names, applied by the sidecars of the mesh
/// (no `gateways`, or `mesh` listed) and/or by the named gateways. A
/// VirtualService without hosts is a delegate, only reachable through
/// another VirtualService's `delegate`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct VirtualService {
    pub hosts: Vec<String>,
    pub gateways: Vec<String>,
    /// Ordered: the first rule whose match succeeds wins.
    pub http: Vec<HttpRoute>,
    pub tls: Vec<TlsRoute>,
    pub tcp: Vec<TcpRoute>,
    pub export_to: Vec<String>,
}

/// Where traffic goes: a service host, optionally one DestinationRule
/// subset of it and one of its ports.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Destination {
    /// Required by the CRD; `None` only when it was left out.
    pub host: Option<String>,
    pub subset: String,
    pub port: Option<PortSelector>,
}

impl Destination {
    pub fn host(&self) -> &str {
        self.host.as_deref().unwrap_or("")
    }

    /// The port to send to, when one is named (0 means "not set").
    pub fn port_number(&self) -> Option<u32> {
        self.port.as_ref().map(|p| p.number).filter(|&n| n != 0)
    }
}

/// One HTTP rule: conditions, then exactly one action (route, redirect,
/// direct response or delegate) and the policies applied on the way.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpRoute {
    pub name: String,
    /// Any one of these matching selects the rule; none means "always".
    pub r#match: Vec<HttpMatchRequest>,
    /// Weighted destinations.
    pub route: Vec<HttpRouteDestination>,
    pub redirect: Option<HttpRedirect>,
    pub direct_response: Option<HttpDirectResponse>,
    pub delegate: Option<Delegate>,
    pub rewrite: Option<HttpRewrite>,
    pub timeout: Option<Duration>,
    pub retries: Option<HttpRetry>,
    pub fault: Option<HttpFaultInjection>,
    pub mirror: Option<Destination>,
    pub mirrors: Vec<HttpMirrorPolicy>,
    /// Deprecated in favour of `mirrorPercentage`.
    pub mirror_percent: Option<u32>,
    /// The same deprecated field under its proto name, which the CRD also
    /// accepts.
    #[serde(rename = "mirror_percent")]
    pub mirror_percent_proto_name: Option<u32>,
    pub mirror_percentage: Option<Percent>,
    pub cors_policy: Option<CorsPolicy>,
    pub headers: Option<Headers>,
}

impl HttpRoute {
    /// The deprecated `mirrorPercent`, under either of its spellings.
    pub fn deprecated_mirror_percent(&self) -> Option<u32> {
        self.mirror_percent.or(self.mirror_percent_proto_name)
    }
}

/// Hands the rule over to the HTTP rules of another (delegate)
/// VirtualService.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Delegate {
    pub name: String,
    pub namespace: String,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Headers {
    pub request: Option<HeaderOperations>,
    pub response: Option<HeaderOperations>,
}

/// Header edits: `set` overwrites, `add` appends, `remove` deletes.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct HeaderOperations {
    pub set: BTreeMap<String, String>,
    pub add: BTreeMap<String, String>,
    pub remove: Vec<String>,
}

/// Routing of TLS connections by SNI, without terminating them.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct TlsRoute {
    /// Required by the CRD; `None` only when it was left out.
    pub r#match: Option<Vec<TlsMatchAttributes>>,
    pub route: Vec<RouteDestination>,
}

/// Routing of opaque TCP connections.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct TcpRoute {
    pub r#match: Vec<L4MatchAttributes>,
    pub route: Vec<RouteDestination>,
}

/// Conditions on a request; all that are set must hold.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpMatchRequest {
    pub name: String,
    pub uri: Option<StringMatch>,
    pub scheme: Option<StringMatch>,
    pub method: Option<StringMatch>,
    pub authority: Option<StringMatch>,
    /// Header names are lower case; `@request.auth.claims.x` keys match JWT
    /// claims (gateways only).
    pub headers: BTreeMap<String, StringMatch>,
    pub port: u32,
    pub source_labels: BTreeMap<String, String>,
    pub gateways: Vec<String>,
    pub query_params: BTreeMap<String, StringMatch>,
    pub ignore_uri_case: bool,
    /// Headers that must not match (a regex of `*` means "is present").
    pub without_headers: BTreeMap<String, StringMatch>,
    pub source_namespace: String,
    pub stat_prefix: String,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpRouteDestination {
    /// Required by the CRD; `None` only when it was left out.
    pub destination: Option<Destination>,
    /// Relative share of traffic; a lone destination gets everything.
    pub weight: i32,
    pub headers: Option<Headers>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct RouteDestination {
    /// Required by the CRD; `None` only when it was left out.
    pub destination: Option<Destination>,
    pub weight: i32,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct L4MatchAttributes {
    pub destination_subnets: Vec<String>,
    pub port: u32,
    pub source_subnet: String,
    pub source_labels: BTreeMap<String, String>,
    pub gateways: Vec<String>,
    pub source_namespace: String,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct TlsMatchAttributes {
    /// Required by the CRD; `None` only when it was left out.
    pub sni_hosts: Option<Vec<String>>,
    pub destination_subnets: Vec<String>,
    pub port: u32,
    pub source_labels: BTreeMap<String, String>,
    pub gateways: Vec<String>,
    pub source_namespace: String,
}

/// Answer with a redirect instead of forwarding.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpRedirect {
    pub uri: String,
    pub authority: String,
    pub port: Option<u32>,
    pub derive_port: Option<RedirectPortSelection>,
    pub scheme: String,
    /// 0 means the default, 301.
    pub redirect_code: u32,
}

/// Which port a redirect's `Location` keeps when `port` is not given.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum RedirectPortSelection {
    #[default]
    #[serde(rename = "FROM_PROTOCOL_DEFAULT")]
    FromProtocolDefault,
    #[serde(rename = "FROM_REQUEST_PORT")]
    FromRequestPort,
}

/// Answer with a fixed response instead of forwarding.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpDirectResponse {
    /// Required by the CRD; `None` only when it was left out.
    pub status: Option<u32>,
    pub body: Option<HttpBody>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpBody {
    pub string: Option<String>,
    /// Base64, as protobuf JSON writes bytes.
    pub bytes: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpRewrite {
    pub uri: String,
    pub authority: String,
    pub uri_regex_rewrite: Option<RegexRewrite>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct RegexRewrite {
    pub r#match: String,
    pub rewrite: String,
}

/// Overrides the mesh's default retry policy (2 attempts on
/// `connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes`);
/// `attempts: 0` turns retries off.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpRetry {
    pub attempts: i32,
    pub per_try_timeout: Option<Duration>,
    /// Comma-separated Envoy retry conditions and status codes.
    pub retry_on: String,
    pub retry_remote_localities: Option<bool>,
    pub retry_ignore_previous_hosts: Option<bool>,
    pub backoff: Option<Duration>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct CorsPolicy {
    /// Deprecated exact origins, still used when `allowOrigins` is absent.
    pub allow_origin: Vec<String>,
    pub allow_origins: Vec<StringMatch>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age: Option<Duration>,
    pub allow_credentials: Option<bool>,
    pub unmatched_preflights: Option<UnmatchedPreflights>,
}

/// What to do with a preflight request that matches no allowed origin.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum UnmatchedPreflights {
    #[default]
    #[serde(rename = "UNSPECIFIED")]
    Unspecified,
    #[serde(rename = "FORWARD")]
    Forward,
    #[serde(rename = "IGNORE")]
    Ignore,
}

/// Faults injected by the client-side proxy before the request leaves.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpFaultInjection {
    pub delay: Option<FaultDelay>,
    pub abort: Option<FaultAbort>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct FaultDelay {
    /// Deprecated integer percentage, still used when `percentage` is
    /// absent.
    pub percent: i32,
    pub fixed_delay: Option<Duration>,
    pub exponential_delay: Option<Duration>,
    pub percentage: Option<Percent>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct FaultAbort {
    pub http_status: Option<i32>,
    pub grpc_status: Option<String>,
    pub http2_error: Option<String>,
    pub percentage: Option<Percent>,
}

/// A copy of the traffic, sent fire-and-forget to another destination.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpMirrorPolicy {
    /// Required by the CRD; `None` only when it was left out.
    pub destination: Option<Destination>,
    pub percentage: Option<Percent>,
}

impl Validate for VirtualService {
    /// `ValidateVirtualService`.
    fn validate(&self, meta: &ObjectMeta, v: &mut Validator) {
        meta.validate(NameRule::Dns1123Subdomain, v);
        v.field("spec", |v| self.validate_spec(meta.namespace(), v));
    }
}

impl VirtualService {
    /// Whether the rules apply to gateways only (`isGateway`): true when
    /// `mesh` is not among the gateways, which includes an empty list.
    fn is_gateway(&self) -> bool {
        !self.gateways.iter().any(|g| g == "mesh")
    }

    /// `isSniHost`: any TLS match names SNI hosts.
    fn has_sni_hosts(&self) -> bool {
        self.tls.iter().any(|t| {
            t.r#match
                .iter()
                .flatten()
                .any(|m| m.sni_hosts.as_ref().is_some_and(|s| !s.is_empty()))
        })
    }

    fn validate_spec(&self, namespace: &str, v: &mut Validator) {
        let delegate = self.hosts.is_empty();
        if delegate {
            if !self.gateways.is_empty() {
                v.field("gateways", |v| {
                    v.error("delegate virtual service must have no gateways specified")
                });
            }
            if !self.tls.is_empty() {
                v.field("tls", |v| {
                    v.error("delegate virtual service must have no tls route specified")
                });
            }
            if !self.tcp.is_empty() {
                v.field("tcp", |v| {
                    v.error("delegate virtual service must have no tcp route specified")
                });
            }
        }
        // Bound to gateways only, not to the mesh's sidecars.
        let gateway_only = !self.gateways.is_empty() && self.is_gateway();
        validate_gateway_names("gateways", &self.gateways, v);
        if !gateway_only {
            self.validate_jwt_claim_routes(v);
        }
        self.validate_hosts(gateway_only, v);
        if self.http.is_empty() && self.tcp.is_empty() && self.tls.is_empty() {
            v.error("http, tcp or tls must be provided in virtual service");
        }
        v.each("http", &self.http, |v, _, route| {
            validate_http_route(route, delegate, v)
        });
        v.each("tls", &self.tls, |v, _, route| {
            self.validate_tls_route(route, v)
        });
        v.each("tcp", &self.tcp, |v, _, route| validate_tcp_route(route, v));
        validate_export_to(namespace, &self.export_to, false, false, v);
        analyze_unreachable_http_rules(&self.http, v);
        let tcp: Vec<Rule<&L4MatchAttributes>> = self
            .tcp
            .iter()
            .enumerate()
            .map(|(i, r)| Rule::unnamed(i, r.r#match.iter().collect()))
            .collect();
        analyze_unreachable_rules("tcp", &tcp, v);
        let tls: Vec<Rule<&TlsMatchAttributes>> = self
            .tls
            .iter()
            .enumerate()
            .map(|(i, r)| Rule::unnamed(i, r.r#match.iter().flatten().collect()))
            .collect();
        analyze_unreachable_rules("tls", &tls, v);
    }

    /// JWT claims are only known to gateways, so mesh-bound rules may not
    /// route on them.
    fn validate_jwt_claim_routes(&self, v: &mut Validator) {
        let gateways = format!("[{}]", self.gateways.join(" "));
        v.each("http", &self.http, |v, _, route| {
            v.each("match", &route.r#match, |v, _, m| {
                for (key, map) in [("headers", &m.headers), ("withoutHeaders", &m.without_headers)] {
                    for name in map.keys().filter(|n| is_jwt_claim(n)) {
                        v.field(key, |v| {
                            v.field(name, |v| {
                                v.error(format!("JWT claim based routing (key: {name}) is only supported for gateway, found no gateways: {gateways}"))
                            })
                        });
                    }
                }
            });
        });
    }

    fn validate_hosts(&self, gateway_only: bool, v: &mut Validator) {
        let sni = self.has_sni_hosts();
        let mut all_valid = true;
        v.each("hosts", &self.hosts, |v, _, host| {
            let problem = if gateway_only {
                gateway_host_problem(sni, host)
            } else {
                validate_wildcard_domain(host)
            };
            match problem {
                Some(e) if !is_ip(host) => {
                    v.error(e);
                    all_valid = false;
                }
                None if !gateway_only && host == "*" => {
                    v.error("wildcard host * is not allowed for virtual services bound to the mesh gateway");
                    all_valid = false;
                }
                _ => {}
            }
        });
        if !all_valid {
            return;
        }
        for (i, a) in self.hosts.iter().enumerate() {
            for (j, b) in self.hosts.iter().enumerate().skip(i + 1) {
                if host_matches(a, b) {
                    v.field("hosts", |v| {
                        v.index(j, |v| {
                            v.error(format!("duplicate hosts in virtual service: {a} & {b}"))
                        })
                    });
                }
            }
        }
    }

    /// `validateTLSRoute`.
    fn validate_tls_route(&self, route: &TlsRoute, v: &mut Validator) {
        match &route.r#match {
            None => v.required_field("match"),
            Some(matches) if matches.is_empty() => v.field("match", |v| {
                v.error("TLS route must have at least one match condition")
            }),
            Some(matches) => v.each("match", matches, |v, _, m| self.validate_tls_match(m, v)),
        }
        if route.route.is_empty() {
            v.error("TLS route is required");
        }
        validate_route_destinations(&route.route, v);
    }

    /// `validateTLSMatch`.
    fn validate_tls_match(&self, m: &TlsMatchAttributes, v: &mut Validator) {
        match &m.sni_hosts {
            None => v.required_field("sniHosts"),
            Some(hosts) if hosts.is_empty() => v.field("sniHosts", |v| {
                v.error("TLS match must have at least one SNI host")
            }),
            Some(hosts) => v.each("sniHosts", hosts, |v, _, h| self.validate_sni_host(h, v)),
        }
        validate_subnets(&m.destination_subnets, v);
        validate_match_port(m.port, v);
        v.field("sourceLabels", |v| {
            validate_label_instance(&m.source_labels, v)
        });
        validate_gateway_names("gateways", &m.gateways, v);
    }

    /// `validateSniHost`: a valid name (or, with a warning, an IP) that is
    /// covered by one of the VirtualService's hosts.
    fn validate_sni_host(&self, sni: &str, v: &mut Validator) {
        let problem = if self.is_gateway() {
            gateway_host_problem(true, sni)
        } else {
            validate_wildcard_domain(sni)
        };
        if let Some(e) = problem {
            if is_ip(sni) {
                v.warn(format!("using an IP address ({sni:?}) goes against SNI spec and most clients do not support this"));
            } else {
                v.error(e);
            }
            return;
        }
        if !self.hosts.iter().any(|h| host_subset_of(sni, h)) {
            v.error(format!(
                "SNI host {sni:?} is not a compatible subset of any of the virtual service hosts: [{}]",
                self.hosts.join(", ")
            ));
        }
    }
}

/// `validateHTTPRoute`. `delegate` is true inside a delegate (host-less)
/// VirtualService.
fn validate_http_route(http: &HttpRoute, delegate: bool, v: &mut Validator) {
    validate_http_route_conflict(http, delegate, v);
    v.each("match", &http.r#match, |v, _, m| validate_http_match(m, v));
    if let Some(h) = &http.headers {
        v.field("headers", |v| validate_headers(h, v));
    }
    if let Some(cors) = &http.cors_policy {
        v.field("corsPolicy", |v| validate_cors_policy(cors, v));
    }
    if let Some(fault) = &http.fault {
        v.field("fault", |v| validate_fault(fault, v));
    }
    for (key, percent) in [
        ("mirrorPercent", http.mirror_percent),
        ("mirror_percent", http.mirror_percent_proto_name),
    ] {
        if let Some(p) = percent {
            v.field(key, |v| {
                if p > 100 {
                    v.error(format!(
                        "mirror_percent must have a max value of 100 (it has {p})"
                    ));
                }
                v.warn(
                    r#"using deprecated setting "mirrorPercent", use "mirrorPercentage" instead"#,
                );
            });
        }
    }
    if let Some(p) = &http.mirror_percentage {
        v.field("mirrorPercentage", |v| {
            validate_mirror_percentage("mirror_percentage", p.value, v)
        });
    }
    if let Some(d) = &http.mirror {
        v.field("mirror", |v| validate_destination(d, v));
    }
    v.each("mirrors", &http.mirrors, |v, _, m| match &m.destination {
        None => v.required_field("destination"),
        Some(d) => {
            v.field("destination", |v| validate_destination(d, v));
            if let Some(p) = &m.percentage {
                v.field("percentage", |v| {
                    validate_mirror_percentage("mirror percentage", p.value, v)
                });
            }
        }
    });
    if let Some(r) = &http.redirect {
        v.field("redirect", |v| validate_redirect(r, v));
    }
    if let Some(d) = &http.direct_response {
        v.field("directResponse", |v| validate_direct_response(d, v));
    }
    if let Some(r) = &http.retries {
        v.field("retries", |v| validate_retry(r, v));
    }
    if let Some(r) = &http.rewrite {
        v.field("rewrite", |v| validate_rewrite(r, v));
    }
    validate_authority_rewrite(http, v);
    validate_http_route_destinations(&http.route, v);
    if let Some(t) = &http.timeout {
        v.field("timeout", |v| t.validate(v));
    }
}

/// `validateHTTPRouteConflict`: exactly one action per rule.
fn validate_http_route_conflict(http: &HttpRoute, delegate: bool, v: &mut Validator) {
    if !delegate && http.delegate.is_some() {
        // A root rule hands everything to its delegate.
        if http.redirect.is_some() {
            v.error(format!(
                "root HTTP route {} must not specify redirect",
                http.name
            ));
        }
        if !http.route.is_empty() {
            v.error(format!(
                "root HTTP route {} must not specify route",
                http.name
            ));
        }
        return;
    }
    if delegate && http.delegate.is_some() {
        v.field("delegate", |v| {
            v.error("delegate HTTP route cannot contain delegate")
        });
    }
    if http.redirect.is_some() || http.direct_response.is_some() {
        let action = if http.redirect.is_some() {
            "redirect"
        } else {
            "direct_response"
        };
        if !http.route.is_empty() {
            v.error(format!("HTTP route cannot contain both route and {action}"));
        }
        if http.fault.is_some() {
            v.error(format!("HTTP route cannot contain both fault and {action}"));
        }
        if http.rewrite.is_some() {
            v.error(format!(
                "HTTP route rule cannot contain both rewrite and {action}"
            ));
        }
        if http.redirect.is_some() && http.direct_response.is_some() {
            v.error("HTTP route rule cannot contain both direct_response and redirect");
        }
    } else if http.route.is_empty() {
        v.error("HTTP route, redirect or direct_response is required");
    }
    if http.mirror.is_some() && !http.mirrors.is_empty() {
        v.error("HTTP route cannot contain both mirror and mirrors");
    }
}

/// `validateHTTPRouteMatchRequest`.
fn validate_http_match(m: &HttpMatchRequest, v: &mut Validator) {
    v.field("headers", |v| {
        for (name, sm) in &m.headers {
            v.field(name, |v| {
                validate_match_header_name(name, v);
                sm.validate("headers", v);
            });
        }
    });
    v.field("withoutHeaders", |v| {
        for (name, sm) in &m.without_headers {
            v.field(name, |v| {
                validate_match_header_name(name, v);
                // `*` is not a regex here: it means "header present".
                if sm.regex.as_deref() != Some("*") {
                    sm.validate("withoutHeaders", v);
                }
            });
        }
    });
    for (key, sm) in [
        ("uri", &m.uri),
        ("scheme", &m.scheme),
        ("method", &m.method),
        ("authority", &m.authority),
    ] {
        if let Some(sm) = sm {
            v.field(key, |v| sm.validate(key, v));
        }
    }
    v.field("queryParams", |v| {
        for (name, sm) in &m.query_params {
            v.field(name, |v| sm.validate("queryParams", v));
        }
    });
    validate_match_port(m.port, v);
    v.field("sourceLabels", |v| {
        validate_label_instance(&m.source_labels, v)
    });
    validate_gateway_names("gateways", &m.gateways, v);
    if !m.source_namespace.is_empty() && !is_dns1123_label(&m.source_namespace) {
        v.field("sourceNamespace", |v| {
            v.error(format!(
                "sourceNamespace match {} is invalid",
                m.source_namespace
            ))
        });
    }
}

fn validate_match_port(port: u32, v: &mut Validator) {
    if port != 0 {
        v.field("port", |v| validate_port(port, v));
    }
}

/// `ValidateIPSubnet` for each of `destinationSubnets`.
fn validate_subnets(subnets: &[String], v: &mut Validator) {
    v.each("destinationSubnets", subnets, |v, _, s| {
        if let Some(e) = ip_subnet_problem(s) {
            v.error(e);
        }
    });
}

/// `validateTCPRoute`.
fn validate_tcp_route(route: &TcpRoute, v: &mut Validator) {
    v.each("match", &route.r#match, |v, _, m| {
        validate_subnets(&m.destination_subnets, v);
        validate_match_port(m.port, v);
        v.field("sourceLabels", |v| {
            validate_label_instance(&m.source_labels, v)
        });
        validate_gateway_names("gateways", &m.gateways, v);
    });
    if route.route.is_empty() {
        v.error("TCP route is required");
    }
    validate_route_destinations(&route.route, v);
}

/// `validateGatewayNames`: `namespace/name`, or the legacy `name` /
/// `name.namespace` forms. As in istiod, checking stops after the first
/// name without a slash.
fn validate_gateway_names(key: &str, names: &[String], v: &mut Validator) {
    v.field(key, |v| {
        for (i, name) in names.iter().enumerate() {
            let slash = name.split_once('/');
            v.index(i, |v| match slash {
                None => {
                    if let Some((first, rest)) = name.split_once('.') {
                        let ns = rest.split('.').next().unwrap_or_default();
                        v.warn(format!("using legacy gatewayName format {name:?}; prefer the <namespace>/<name> format: \"{ns}/{first}\""));
                    }
                    if let Some(e) = validate_fqdn(name) {
                        v.error(e);
                    }
                }
                Some((ns, gw)) => {
                    if ns.is_empty() || gw.is_empty() {
                        v.error("config namespace and gateway name cannot be empty");
                    }
                    if !is_dns1123_label(ns) {
                        v.error(format!("invalid value for namespace: {ns:?}"));
                    }
                    if !is_dns1123_label(gw) {
                        v.error(format!("invalid value for gateway name: {gw:?}"));
                    }
                }
            });
            if slash.is_none() {
                break;
            }
        }
    });
}

/// `ValidateWildcardDomainForVirtualServiceBoundToGateway`: with TLS SNI
/// matching, the `outbound_.<PORT>_._.<HOSTNAME>` names that
/// AUTO_PASSTHROUGH gateways see are allowed too.
fn gateway_host_problem(sni: bool, domain: &str) -> Option<String> {
    const FORMAT: &str = "outbound_.<PORT>_._.<HOSTNAME>";
    if !(sni && domain.starts_with("outbound_")) {
        return validate_wildcard_domain(domain);
    }
    if domain.len() > 255 {
        return Some(format!("domain name {domain:?} too long (max 255)"));
    }
    let parts: Vec<&str> = domain.split('_').collect();
    if parts.len() < 4 {
        return Some(format!(
            "domain name {domain} invalid, should follow '{FORMAT}' format"
        ));
    }
    let port = parts[1].trim_matches('.');
    let hostname = parts[3].trim_matches('.');
    let bad_label = |label: &str| {
        format!(
            "domain name {domain:?} invalid (label {label:?} invalid). should follow {FORMAT} format"
        )
    };
    if !port.chars().any(|c| c.is_ascii_digit()) {
        return Some(bad_label(port));
    }
    if !hostname.chars().any(|c| c.is_ascii_alphabetic()) {
        return Some(bad_label(hostname));
    }
    None
}

/// `host.Name.Matches`: the two (possibly wildcard) names overlap.
fn host_matches(a: &str, b: &str) -> bool {
    match (a.strip_prefix('*'), b.strip_prefix('*')) {
        (Some(sa), Some(sb)) => {
            if a.len() < b.len() {
                sb.ends_with(sa)
            } else {
                sa.ends_with(sb)
            }
        }
        (Some(sa), None) => b.ends_with(sa),
        (None, Some(sb)) => a.ends_with(sb),
        (None, None) => a == b,
    }
}

/// `host.Name.SubsetOf`: every name `a` matches is also matched by `b`.
fn host_subset_of(a: &str, b: &str) -> bool {
    match (a.strip_prefix('*'), b.strip_prefix('*')) {
        (Some(sa), Some(sb)) => a.len() >= b.len() && sa.ends_with(sb),
        (Some(_), None) => false,
        (None, Some(sb)) => a.ends_with(sb),
        (None, None) => a == b,
    }
}

/// `jwt.ToRoutingClaim(name).Match`: `@request.auth.claims.a.b` or
/// `@request.auth.claims[a][b]`.
fn is_jwt_claim(name: &str) -> bool {
    const PREFIX: &str = "@request.auth.claims";
    if !name
        .get(..PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(PREFIX))
    {
        return false;
    }
    let rest = &name[PREFIX.len()..];
    (rest.starts_with('.') && rest.len() > 1)
        || (rest.starts_with('[') && rest.ends_with(']') && rest.len() > 2)
}

/// An RFC 7230 token (`validHeaderNameRegex`).
fn is_header_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// `ValidateHTTPHeaderNameOrJwtClaimRoute`.
fn validate_match_header_name(name: &str, v: &mut Validator) {
    const PSEUDO: [&str; 5] = [":method", ":scheme", ":authority", ":path", ":status"];
    if name.is_empty() {
        v.error("header name cannot be empty");
    } else if !is_jwt_claim(name) && !PSEUDO.contains(&name) && !is_header_token(name) {
        v.error(format!("header name {name} is not a valid header name"));
    }
}

fn is_authority_header(name: &str) -> bool {
    name.eq_ignore_ascii_case(":authority") || name.eq_ignore_ascii_case("host")
}

/// `ValidateHTTPHeaderWithAuthorityOperationName` (request `set`/`add`,
/// where the authority is allowed) and `ValidateHTTPHeaderOperationName`
/// (everything else).
fn validate_header_op_name(name: &str, authority_allowed: bool, v: &mut Validator) {
    let internal = name.starts_with(':') || name.eq_ignore_ascii_case("host");
    if name.is_empty() {
        v.error("header name cannot be empty");
    } else if authority_allowed {
        if internal && !is_authority_header(name) {
            v.error(format!(
                r#"invalid header {name:?}: header cannot have ":" prefix"#
            ));
        }
    } else if name.eq_ignore_ascii_case("host") {
        v.error(format!("invalid header {name:?}: cannot set Host header"));
    } else if internal {
        v.error(format!(
            r#"invalid header {name:?}: header cannot have ":" prefix"#
        ));
    }
}

/// `ValidateHTTPHeaderValue`: no control characters, and `%` only as
/// Envoy's `%VARIABLE%` / `%VAR(args)%` syntax or escaped as `%%`.
fn validate_header_value(value: &str, v: &mut Validator) {
    if value
        .chars()
        .any(|c| matches!(c, '\u{0}'..='\u{8}' | '\u{a}'..='\u{1f}' | '\u{7f}'))
    {
        v.error(format!("header value configuration {value} is invalid"));
    } else if let Some(e) = envoy_header_format_problem(value) {
        v.error(format!("header value configuration: {e}"));
    }
}

/// `validateHeaderValue` (a port of Envoy's `header_parser.cc`), with its
/// error texts.
fn envoy_header_format_problem(value: &str) -> Option<String> {
    #[derive(PartialEq)]
    enum S {
        Literal,
        VariableName,
        ExpectArray,
        ExpectString,
        String,
        ExpectArrayDelimiterOrEnd,
        ExpectArgsEnd,
        ExpectVariableEnd,
    }
    let b = value.as_bytes();
    let err = |m: &str| Some(format!("invalid header configuration. {m}"));
    let mut state = S::Literal;
    let mut pos = 0;
    while pos < b.len() {
        let ch = b[pos];
        let has_next = pos + 1 < b.len();
        match state {
            S::Literal if ch == b'%' => {
                if !has_next {
                    return err("Un-escaped %");
                }
                if b[pos + 1] == b'%' {
                    pos += 1;
                } else {
                    state = S::VariableName;
                }
            }
            S::Literal => {}
            S::VariableName if ch == b'%' => state = S::Literal,
            S::VariableName if ch == b'(' => state = S::ExpectArray,
            S::VariableName => {}
            S::ExpectArray if ch == b'[' => state = S::ExpectString,
            S::ExpectArray if ch != b' ' => state = S::String,
            S::ExpectArray => {}
            S::ExpectArrayDelimiterOrEnd if ch == b',' => state = S::ExpectString,
            S::ExpectArrayDelimiterOrEnd if ch == b']' => state = S::ExpectArgsEnd,
            S::ExpectArrayDelimiterOrEnd if ch != b' ' => {
                return err("Expecting ',', ']', or whitespace");
            }
            S::ExpectArrayDelimiterOrEnd => {}
            S::ExpectString if ch == b'"' => state = S::String,
            S::ExpectString if ch != b' ' => return err("Expecting '\"'"),
            S::ExpectString => {}
            S::String if ch == b'\\' => {
                if !has_next {
                    return err("Un-terminated backslash in JSON string");
                }
                pos += 1;
            }
            S::String if ch == b')' => state = S::ExpectVariableEnd,
            S::String if ch == b'"' => state = S::ExpectArrayDelimiterOrEnd,
            S::String => {}
            S::ExpectArgsEnd if ch == b')' => state = S::ExpectVariableEnd,
            S::ExpectArgsEnd if ch != b' ' => {
                // The placeholders are literally in istiod's message.
                return err("Expecting ')' or whitespace after '{}', but found '{}'");
            }
            S::ExpectArgsEnd => {}
            S::ExpectVariableEnd if ch == b'%' => state = S::Literal,
            S::ExpectVariableEnd if ch != b' ' => {
                return err("Expecting '%' or whitespace after");
            }
            S::ExpectVariableEnd => {}
        }
        pos += 1;
    }
    (state != S::Literal).then(|| {
        format!("invalid header configuration. Un-terminated variable expression '{value}'")
    })
}

/// Header manipulation of a rule or of one destination: request `add` and
/// `set` may target the authority, nothing may target other pseudo
/// headers, and the response may not touch `Host`.
fn validate_headers(h: &Headers, v: &mut Validator) {
    for (key, ops, is_request) in [
        ("request", &h.request, true),
        ("response", &h.response, false),
    ] {
        let Some(ops) = ops else { continue };
        v.field(key, |v| {
            for (op, map) in [("add", &ops.add), ("set", &ops.set)] {
                v.field(op, |v| {
                    for (name, value) in map {
                        v.field(name, |v| {
                            validate_header_op_name(name, is_request, v);
                            validate_header_value(value, v);
                        });
                    }
                });
            }
            v.each("remove", &ops.remove, |v, _, name| {
                validate_header_op_name(name, false, v)
            });
        });
    }
}

/// `validateAuthorityRewrite`: the authority is rewritten in one place
/// only (`rewrite.authority` or one `:authority`/`host` request header).
fn validate_authority_rewrite(http: &HttpRoute, v: &mut Validator) {
    let mut current = http
        .rewrite
        .as_ref()
        .map(|r| r.authority.as_str())
        .unwrap_or("");
    let Some(req) = http.headers.as_ref().and_then(|h| h.request.as_ref()) else {
        return;
    };
    for map in [&req.set, &req.add] {
        for (k, value) in map.iter().filter(|(k, _)| is_authority_header(k)) {
            if !current.is_empty() {
                v.field("headers", |v| {
                    v.field("request", |v| {
                        v.field(k, |v| {
                            v.error(format!("authority header cannot be set multiple times: have {current:?}, attempting to set {value:?}"))
                        })
                    })
                });
                return;
            }
            current = value;
        }
    }
}

/// `validateCORSPolicy`.
fn validate_cors_policy(cors: &CorsPolicy, v: &mut Validator) {
    v.each("allowOrigins", &cors.allow_origins, |v, _, origin| {
        if !v.one_of(&[
            origin.exact.is_some(),
            origin.prefix.is_some(),
            origin.regex.is_some(),
        ]) {
            return;
        }
        let text = [&origin.exact, &origin.prefix, &origin.regex]
            .into_iter()
            .flatten()
            .next()
            .map_or("", String::as_str);
        if text.is_empty() {
            v.error(format!(
                "'{text}' is not a valid match type for CORS allow origins"
            ));
        } else if let Some(re) = &origin.regex {
            validate_regex(re, "corsPolicy.allowOrigins", v);
        }
    });
    const METHODS: [&str; 10] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE", "*",
    ];
    v.each("allowMethods", &cors.allow_methods, |v, _, m| {
        if !METHODS.contains(&m.as_str()) {
            v.error(format!("{m:?} is not a supported HTTP method"));
        }
    });
    for (key, names) in [
        ("allowHeaders", &cors.allow_headers),
        ("exposeHeaders", &cors.expose_headers),
    ] {
        v.each(key, names, |v, _, name| {
            if name.is_empty() {
                v.error("header name cannot be empty");
            } else if name != "*" && !is_header_token(name) {
                v.error(format!("header name {name} is not a valid header name"));
            }
        });
    }
    if let Some(age) = &cors.max_age {
        v.field("maxAge", |v| {
            age.validate(v);
            if !age.get().as_nanos().is_multiple_of(1_000_000_000) {
                v.error("max_age duration is accurate only to seconds precision");
            }
        });
    }
}

/// `validatePercentage`: 0, or between 0.0001 and 100.
fn validate_fault_percentage(p: &Option<Percent>, v: &mut Validator) {
    if let Some(p) = p {
        let x = p.value;
        if !(0.0..=100.0).contains(&x) || (x > 0.0 && x < 0.0001) {
            v.field("percentage", |v| {
                v.error(format!(
                    "percentage {} is neither 0.0, nor in range [0.0001, 100.0]",
                    go_float(x)
                ))
            });
        }
    }
}

/// `validateHTTPFaultInjection`.
fn validate_fault(fault: &HttpFaultInjection, v: &mut Validator) {
    if fault.abort.is_none() && fault.delay.is_none() {
        v.error("HTTP fault injection must have an abort and/or a delay");
    }
    if let Some(abort) = &fault.abort {
        v.field("abort", |v| validate_abort(abort, v));
    }
    if let Some(delay) = &fault.delay {
        v.field("delay", |v| {
            validate_fault_percentage(&delay.percentage, v);
            v.one_of(&[
                delay.fixed_delay.is_some(),
                delay.exponential_delay.is_some(),
            ]);
            if let Some(d) = &delay.fixed_delay {
                v.field("fixedDelay", |v| d.validate(v));
            }
            if let Some(d) = &delay.exponential_delay {
                v.field("exponentialDelay", |v| {
                    d.validate(v);
                    v.error("exponentialDelay not supported yet");
                });
            }
        });
    }
}

/// `validateHTTPFaultInjectionAbort`.
fn validate_abort(abort: &FaultAbort, v: &mut Validator) {
    /// `grpc.SupportedGRPCStatus`.
    const GRPC_CODES: [&str; 17] = [
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ];
    validate_fault_percentage(&abort.percentage, v);
    if !v.one_of(&[
        abort.http_status.is_some(),
        abort.grpc_status.is_some(),
        abort.http2_error.is_some(),
    ]) {
        return;
    }
    if let Some(status) = &abort.grpc_status {
        if !GRPC_CODES.contains(&status.as_str()) {
            v.field("grpcStatus", |v| v.error(format!("gRPC status {status:?} is not supported. See https://github.com/grpc/grpc/blob/master/doc/statuscodes.md for a list of supported codes, for example 'NOT_FOUND'")));
        }
    } else if abort.http2_error.is_some() {
        v.field("http2Error", |v| {
            v.error("HTTP/2 abort fault injection not supported yet")
        });
    } else if let Some(status) = abort.http_status {
        v.field("httpStatus", |v| validate_http_status(i64::from(status), v));
    } else {
        v.warn("abort configured, but error type not set");
    }
}

/// `validateHTTPStatus` (which, despite its message, lets 600 through).
fn validate_http_status(status: i64, v: &mut Validator) {
    if !(200..=600).contains(&status) {
        v.error(format!("HTTP status {status} is not in range 200-599"));
    }
}

fn validate_mirror_percentage(what: &str, value: f64, v: &mut Validator) {
    if value > 100.0 {
        v.error(format!(
            "{what} must have a max value of 100 (it has {value:.6})"
        ));
    }
    if value < 0.0 {
        v.error(format!(
            "{what} must have a min value of 0 (it has {value:.6})"
        ));
    }
}

/// `validateHTTPRedirect`, which reports only the first problem.
fn validate_redirect(r: &HttpRedirect, v: &mut Validator) {
    if !v.one_of(&[r.port.is_some(), r.derive_port.is_some()]) {
        return;
    }
    if r.uri.is_empty()
        && r.authority.is_empty()
        && r.port.is_none()
        && r.derive_port.is_none()
        && r.scheme.is_empty()
    {
        v.error("redirect must specify URI, authority, scheme, or port");
    } else if r.redirect_code != 0 && !(300..=399).contains(&r.redirect_code) {
        v.field("redirectCode", |v| {
            v.error(format!(
                "{} is not a valid redirect code, must be 3xx",
                r.redirect_code
            ))
        });
    } else if !r.scheme.is_empty() && r.scheme != "http" && r.scheme != "https" {
        v.field("scheme", |v| {
            v.error(r#"invalid redirect scheme, must be "http" or "https""#)
        });
    } else if let Some(port) = r.port.filter(|&p| p > 0) {
        v.field("port", |v| validate_port(port, v));
    }
}

/// `validateHTTPDirectResponse`.
fn validate_direct_response(d: &HttpDirectResponse, v: &mut Validator) {
    const KB: usize = 1024;
    if let Some(body) = &d.body {
        v.field("body", |v| {
            if !v.one_of(&[body.string.is_some(), body.bytes.is_some()]) {
                return;
            }
            let size = match (&body.string, &body.bytes) {
                (Some(s), _) => s.len(),
                // Decoded size of the base64 text.
                (None, Some(b)) => b.trim_end_matches('=').len() * 3 / 4,
                (None, None) => 0,
            };
            if size > KB * KB {
                v.error("large direct_responses may impact control plane performance, must be less than 1MB");
            } else if size > 100 * KB {
                v.warn("large direct_responses may impact control plane performance");
            }
        });
    }
    match d.status {
        None => v.required_field("status"),
        Some(s) => v.field("status", |v| validate_http_status(i64::from(s), v)),
    }
}

/// `validateHTTPRetry`.
fn validate_retry(r: &HttpRetry, v: &mut Validator) {
    /// Envoy's `x-envoy-retry-on` and `x-envoy-retry-grpc-on` conditions
    /// (`supportedRetryOnPolicies`).
    const POLICIES: [&str; 16] = [
        "5xx",
        "gateway-error",
        "reset",
        "reset-before-request",
        "connect-failure",
        "retriable-4xx",
        "refused-stream",
        "retriable-status-codes",
        "retriable-headers",
        "envoy-ratelimited",
        "http3-post-connect-failure",
        "cancelled",
        "deadline-exceeded",
        "internal",
        "resource-exhausted",
        "unavailable",
    ];
    if r.attempts < 0 {
        v.field("attempts", |v| v.error("attempts cannot be negative"));
    }
    if r.attempts == 0
        && (r.per_try_timeout.is_some()
            || !r.retry_on.is_empty()
            || r.retry_remote_localities.is_some())
    {
        v.error("http retry policy configured when attempts are set to 0 (disabled)");
    }
    if let Some(t) = &r.per_try_timeout {
        v.field("perTryTimeout", |v| t.validate(v));
    }
    if !r.retry_on.is_empty() {
        v.field("retryOn", |v| {
            // Split on commas with no trimming, as istiod does.
            for policy in r.retry_on.split(',') {
                if !POLICIES.contains(&policy) && !is_known_status(policy) {
                    v.error(format!("{policy:?} is not a valid retryOn policy"));
                }
            }
        });
    }
    if let Some(b) = &r.backoff {
        v.field("backoff", |v| b.validate(v));
    }
}

/// Whether `text` parses (as Go's `strconv.Atoi` does) to a status code Go's
/// `http.StatusText` knows.
fn is_known_status(text: &str) -> bool {
    let Ok(code) = text.parse::<i64>() else {
        return false;
    };
    matches!(code,
        100..=103
        | 200..=208 | 226
        | 300..=305 | 307 | 308
        | 400..=418 | 421..=426 | 428 | 429 | 431 | 451
        | 500..=508 | 510 | 511)
}

/// `validateHTTPRewrite`.
fn validate_rewrite(r: &HttpRewrite, v: &mut Validator) {
    if !r.uri.is_empty() && r.uri_regex_rewrite.is_some() {
        v.error("rewrite may only contain one of URI or UriRegexRewrite");
        return;
    }
    if r.uri.is_empty() && r.uri_regex_rewrite.is_none() && r.authority.is_empty() {
        v.error("rewrite must specify at least one of URI, UriRegexRewrite, or authority. Only one of URI or UriRegexRewrite may be specified");
        return;
    }
    let Some(re) = &r.uri_regex_rewrite else {
        return;
    };
    v.field("uriRegexRewrite", |v| {
        // istiod joins the cause under a header line (`errors.Join`).
        let header = "UriRegexRewrite has errors";
        if re.r#match.is_empty() || re.rewrite.is_empty() {
            v.error(format!(
                "{header}\nUriRegexRewrite requires both Rewrite and Match fields to be specified"
            ));
            return;
        }
        let mut inner = Validator::new();
        validate_regex(&re.r#match, "HTTPRewrite.UriRegexRewrite.Match", &mut inner);
        for f in inner.into_findings() {
            v.error(format!("{header}\n{}", f.message));
        }
    });
}

/// `validateDestination`.
pub(crate) fn validate_destination(d: &Destination, v: &mut Validator) {
    match &d.host {
        None => v.required_field("host"),
        Some(host) => v.field("host", |v| {
            if host == "*" {
                v.error(format!("invalid destination host {host}"));
            } else if let Some(e) = validate_wildcard_domain(host) {
                v.error(e);
            }
        }),
    }
    if !d.subset.is_empty() {
        v.field("subset", |v| validate_subset_name(&d.subset, v));
    }
    if let Some(p) = &d.port {
        v.field("port", |v| {
            v.field("number", |v| validate_port(p.number, v))
        });
    }
}

/// What `validateHTTPRouteDestinations` and `validateRouteDestinations`
/// share: each destination and weight, and a non-zero total when traffic
/// is split.
fn validate_weighted<T>(
    items: &[T],
    parts: impl Fn(&T) -> (Option<&Destination>, i32),
    mut extra: impl FnMut(&T, &mut Validator),
    v: &mut Validator,
) {
    let mut total: i32 = 0;
    v.each("route", items, |v, _, item| {
        let (dest, weight) = parts(item);
        extra(item, v);
        match dest {
            None => v.required_field("destination"),
            Some(d) => v.field("destination", |v| validate_destination(d, v)),
        }
        if weight < 0 {
            v.field("weight", |v| v.error(format!("weight {weight} < 0")));
        }
        total = total.wrapping_add(weight);
    });
    if items.len() > 1 && total == 0 {
        v.field("route", |v| v.error("total destination weight = 0"));
    }
}

/// `validateHTTPRouteDestinations`.
fn validate_http_route_destinations(route: &[HttpRouteDestination], v: &mut Validator) {
    validate_weighted(
        route,
        |r| (r.destination.as_ref(), r.weight),
        |r, v| {
            if let Some(h) = &r.headers {
                v.field("headers", |v| validate_headers(h, v));
            }
        },
        v,
    );
}

/// `validateRouteDestinations` (TLS and TCP).
fn validate_route_destinations(route: &[RouteDestination], v: &mut Validator) {
    validate_weighted(route, |r| (r.destination.as_ref(), r.weight), |_, _| {}, v);
}

/// One rule as the unreachable-rule analysis sees it: its name for
/// messages and its matches (HTTP match names blanked, since they do not
/// change what matches).
struct Rule<M> {
    index: usize,
    name: String,
    matches: Vec<(String, M)>,
}

impl<M> Rule<M> {
    /// TLS and TCP rules and matches have no names: `#N`.
    fn unnamed(index: usize, matches: Vec<M>) -> Self {
        Rule {
            index,
            name: format!("#{index}"),
            matches: matches
                .into_iter()
                .enumerate()
                .map(|(i, m)| (format!("#{i}"), m))
                .collect(),
        }
    }
}

/// `analyzeUnreachable{HTTP,TCP,TLS}Rules`: a rule after a match-all rule,
/// or whose every match repeats an earlier one, is never used. Returns the
/// (rule, match) positions of the matches seen for the first time.
fn analyze_unreachable_rules<M: PartialEq>(
    key: &str,
    rules: &[Rule<M>],
    v: &mut Validator,
) -> Vec<(usize, usize)> {
    let mut seen: Vec<(&M, &str)> = Vec::new();
    let mut fresh = Vec::new();
    let mut match_all_seen = false;
    for rule in rules {
        v.field(key, |v| {
            v.index(rule.index, |v| {
                let unused = |v: &mut Validator, reason: &str| {
                    v.warn(format!(
                        "virtualService rule {} not used ({reason})",
                        rule.name
                    ))
                };
                if rule.matches.is_empty() {
                    if match_all_seen {
                        unused(v, "only the last rule can have no matches");
                    }
                    match_all_seen = true;
                    return;
                }
                if match_all_seen {
                    // istiod warns once per match, with the same text;
                    // the API server keeps one copy.
                    unused(v, "route without matches defined before");
                    return;
                }
                let mut duplicates = 0;
                for (i, (name, m)) in rule.matches.iter().enumerate() {
                    if let Some((_, first)) = seen.iter().find(|(s, _)| *s == m) {
                        v.field("match", |v| {
                            v.index(i, |v| {
                                v.warn(format!("virtualService rule {} match {name} is not used (duplicate/overlapping match in rule {first})", rule.name))
                            })
                        });
                        duplicates += 1;
                    } else {
                        seen.push((m, &rule.name));
                        fresh.push((rule.index, i));
                    }
                }
                if duplicates == rule.matches.len() {
                    unused(v, "all matches used by prior rules");
                }
            })
        });
    }
    fresh
}

/// The HTTP analysis: the shared one, then istiod's check that an earlier
/// URI-prefix match does not already cover a later one
/// (`genMatchHTTPRoutes`/`coveredValidation`).
fn analyze_unreachable_http_rules(routes: &[HttpRoute], v: &mut Validator) {
    let rules: Vec<Rule<HttpMatchRequest>> = routes
        .iter()
        .enumerate()
        .map(|(i, r)| Rule {
            index: i,
            name: quoted_or_index(&r.name, i),
            matches: r
                .r#match
                .iter()
                .enumerate()
                .map(|(j, m)| {
                    let mut unnamed = m.clone();
                    unnamed.name.clear();
                    (quoted_or_index(&m.name, j), unnamed)
                })
                .collect(),
        })
        .collect();
    let prefixed: Vec<PrefixMatch> = analyze_unreachable_rules("http", &rules, v)
        .into_iter()
        .filter_map(|(r, m)| PrefixMatch::new(&rules[r], m, &routes[r].r#match[m]))
        .collect();
    for (i, a) in prefixed.iter().enumerate() {
        for b in &prefixed[i + 1..] {
            if b.prefix != a.prefix && a.covers(b) {
                v.field("http", |v| {
                    v.index(b.rule, |v| {
                        v.field("match", |v| {
                            v.index(b.match_index, |v| {
                                v.warn(format!("virtualService rule {} match {} of prefix {} is not used (duplicate/overlapping match in rule {} of prefix {} on {})", b.rule_name, b.match_name, b.prefix, a.match_name, a.prefix, a.rule_name))
                            })
                        })
                    })
                });
            }
        }
    }
}

/// `"name"` when named, else `#N` (`routeName`/`requestName`).
fn quoted_or_index(name: &str, index: usize) -> String {
    if name.is_empty() {
        format!("#{index}")
    } else {
        format!("{name:?}")
    }
}

/// `OverlappingMatchValidationForHTTPRoute`: the parts of a URI-prefix
/// match istiod compares, exact and prefix matches written `exact:x` /
/// `prefix:x` (regexes become empty).
struct PrefixMatch {
    rule: usize,
    rule_name: String,
    match_index: usize,
    match_name: String,
    prefix: String,
    port: u32,
    method: String,
    authority: String,
    headers: BTreeMap<String, String>,
    query_params: BTreeMap<String, String>,
    without_headers: BTreeMap<String, String>,
}

impl PrefixMatch {
    fn new(rule: &Rule<HttpMatchRequest>, index: usize, m: &HttpMatchRequest) -> Option<Self> {
        let prefix = m.uri.as_ref()?.prefix.clone().filter(|p| !p.is_empty())?;
        let summary = |sm: Option<&StringMatch>| {
            let sm = sm.cloned().unwrap_or_default();
            match (sm.exact.as_deref(), sm.prefix.as_deref()) {
                (Some(e), _) if !e.is_empty() => format!("exact:{e}"),
                (_, Some(p)) if !p.is_empty() => format!("prefix:{p}"),
                _ => String::new(),
            }
        };
        let summarize = |map: &BTreeMap<String, StringMatch>| {
            map.iter()
                .map(|(k, sm)| (k.clone(), summary(Some(sm))))
                .collect()
        };
        let method = summary(m.method.as_ref());
        Some(PrefixMatch {
            rule: rule.index,
            rule_name: rule.name.clone(),
            match_index: index,
            match_name: rule.matches[index].0.clone(),
            prefix,
            port: m.port,
            // No method means GET to istiod.
            method: if method.is_empty() {
                "exact:GET".to_string()
            } else {
                method
            },
            authority: summary(m.authority.as_ref()),
            headers: summarize(&m.headers),
            query_params: summarize(&m.query_params),
            without_headers: summarize(&m.without_headers),
        })
    }

    /// `coveredValidation(self, later)`.
    fn covers(&self, later: &PrefixMatch) -> bool {
        let covers_text = |a: &str, b: &str| a == b || a.starts_with(b);
        let covers_map = |a: &BTreeMap<String, String>, b: &BTreeMap<String, String>| {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, av)| b.get(k).is_some_and(|bv| covers_text(av, bv)))
        };
        later.prefix.starts_with(&self.prefix)
            && later.port == self.port
            && covers_text(&self.method, &later.method)
            && covers_text(&self.authority, &later.authority)
            && covers_map(&self.headers, &later.headers)
            && covers_map(&self.query_params, &later.query_params)
            && covers_map(&self.without_headers, &later.without_headers)
    }
}

spec_resources!(VirtualService);

#[cfg(test)]
mod tests {
    use test_case::test_case;

    use crate::config::testing::{clean, located, manifest, problems};

    fn virtual_service(spec: &str) -> Vec<String> {
        problems(&manifest(
            "networking.istio.io/v1",
            "VirtualService",
            "r",
            "ns",
            spec,
        ))
    }

    fn http(rule: &str) -> String {
        format!("{{hosts: [r], http: [{{{rule}}}]}}")
    }

    // ValidateVirtualService: delegate (host-less) services.
    #[test_case("{gateways: [ns/gw], http: [{route: [{destination: {host: r}}]}]}",
        &["error: spec.gateways: delegate virtual service must have no gateways specified"]; "delegate with gateways")]
    #[test_case("{tcp: [{route: [{destination: {host: r}}]}]}",
        &["error: spec.tcp: delegate virtual service must have no tcp route specified"]; "delegate with tcp")]
    #[test_case("{tls: [{match: [{sniHosts: [a.com]}], route: [{destination: {host: r}}]}]}",
        &["error: spec.tls: delegate virtual service must have no tls route specified",
          "error: spec.tls[0].match[0].sniHosts[0]: SNI host \"a.com\" is not a compatible subset of any of the virtual service hosts: []"]; "delegate with tls")]
    #[test_case("{http: [{delegate: {name: d}}]}",
        &["error: spec.http[0].delegate: delegate HTTP route cannot contain delegate",
          "error: spec.http[0]: HTTP route, redirect or direct_response is required"]; "delegate inside delegate")]
    // ValidateVirtualService: JWT claim routing is for gateways only.
    #[test_case("{hosts: [r], http: [{match: [{headers: {\"@request.auth.claims.group\": {exact: a}}}], route: [{destination: {host: r}}]}]}",
        &["error: spec.http[0].match[0].headers.@request.auth.claims.group: JWT claim based routing (key: @request.auth.claims.group) is only supported for gateway, found no gateways: []"]; "jwt claim on mesh")]
    #[test_case("{hosts: [r], gateways: [mesh, ns/gw], http: [{match: [{withoutHeaders: {\"@request.auth.claims[a]\": {exact: a}}}], route: [{destination: {host: r}}]}]}",
        &["error: spec.http[0].match[0].withoutHeaders.@request.auth.claims[a]: JWT claim based routing (key: @request.auth.claims[a]) is only supported for gateway, found no gateways: [mesh ns/gw]"]; "jwt claim with mesh listed")]
    #[test_case("{hosts: [r], gateways: [ns/gw], http: [{match: [{headers: {\"@request.auth.claims.group\": {exact: a}}}], route: [{destination: {host: r}}]}]}",
        &[]; "jwt claim on gateway")]
    // ValidateVirtualService: hosts.
    #[test_case("{hosts: [bad_host], http: [{route: [{destination: {host: r}}]}]}",
        &["error: spec.hosts[0]: domain name \"bad_host\" invalid (label \"bad_host\" invalid)"]; "bad host")]
    #[test_case("{hosts: [\"\"], http: [{route: [{destination: {host: r}}]}]}",
        &["error: spec.hosts[0]: empty domain name not allowed"]; "empty host")]
    #[test_case("{hosts: [10.0.0.1], http: [{route: [{destination: {host: r}}]}]}", &[]; "ip host")]
    #[test_case("{hosts: [\"*\"], http: [{route: [{destination: {host: r}}]}]}",
        &["error: spec.hosts[0]: wildcard host * is not allowed for virtual services bound to the mesh gateway"]; "star on mesh")]
    #[test_case("{hosts: [\"*\"], gateways: [ns/gw], http: [{route: [{destination: {host: r}}]}]}", &[]; "star on gateway")]
    #[test_case("{hosts: [a.example.com, \"*.example.com\"], http: [{route: [{destination: {host: r}}]}]}",
        &["error: spec.hosts[1]: duplicate hosts in virtual service: a.example.com & *.example.com"]; "overlapping hosts")]
    #[test_case("{hosts: [r]}", &["error: spec: http, tcp or tls must be provided in virtual service"]; "no routes")]
    // validateGatewayNames.
    #[test_case("{hosts: [r], gateways: [ns/], http: [{route: [{destination: {host: r}}]}]}",
        &["error: spec.gateways[0]: config namespace and gateway name cannot be empty",
          "error: spec.gateways[0]: invalid value for gateway name: \"\""]; "gateway empty name")]
    #[test_case("{hosts: [r], gateways: [Bad_ns/gw], http: [{route: [{destination: {host: r}}]}]}",
        &["error: spec.gateways[0]: invalid value for namespace: \"Bad_ns\""]; "gateway bad namespace")]
    #[test_case("{hosts: [r], gateways: [gw.istio-system], http: [{route: [{destination: {host: r}}]}]}",
        &["warning: spec.gateways[0]: using legacy gatewayName format \"gw.istio-system\"; prefer the <namespace>/<name> format: \"istio-system/gw\""]; "legacy gateway name")]
    // istiod stops at the first name without a slash.
    #[test_case("{hosts: [r], gateways: [bad_gw, ns/Bad_], http: [{route: [{destination: {host: r}}]}]}",
        &["error: spec.gateways[0]: domain name \"bad_gw\" invalid (label \"bad_gw\" invalid)"]; "gateway check stops")]
    // validateTLSRoute / validateSniHost with AUTO_PASSTHROUGH names.
    #[test_case("{hosts: [\"outbound_.80_._.a.com\"], gateways: [ns/gw], tls: [{match: [{sniHosts: [\"outbound_.80_._.a.com\"]}], route: [{destination: {host: a.com}}]}]}",
        &[]; "outbound sni name")]
    #[test_case("{hosts: [a.com], gateways: [ns/gw], tls: [{match: [{sniHosts: [\"outbound_.x_._.a.com\"]}], route: [{destination: {host: a.com}}]}]}",
        &["error: spec.tls[0].match[0].sniHosts[0]: domain name \"outbound_.x_._.a.com\" invalid (label \"x\" invalid). should follow outbound_.<PORT>_._.<HOSTNAME> format"]; "outbound sni bad port")]
    fn virtual_service_level(spec: &str, want: &[&str]) {
        assert_eq!(virtual_service(spec), want);
    }

    // validateHTTPRouteConflict.
    #[test_case("name: root, delegate: {name: d}, redirect: {uri: /x}, route: [{destination: {host: r}}]",
        &["error: spec.http[0]: root HTTP route root must not specify redirect",
          "error: spec.http[0]: root HTTP route root must not specify route"]; "root route")]
    #[test_case("redirect: {uri: /x}, route: [{destination: {host: r}}]",
        &["error: spec.http[0]: HTTP route cannot contain both route and redirect"]; "route and redirect")]
    #[test_case("redirect: {uri: /x}, fault: {abort: {httpStatus: 500}}, rewrite: {uri: /y}, directResponse: {status: 200}",
        &["error: spec.http[0]: HTTP route cannot contain both fault and redirect",
          "error: spec.http[0]: HTTP route rule cannot contain both rewrite and redirect",
          "error: spec.http[0]: HTTP route rule cannot contain both direct_response and redirect"]; "redirect conflicts")]
    #[test_case("directResponse: {status: 503}, fault: {abort: {httpStatus: 500}}, rewrite: {uri: /y}, route: [{destination: {host: r}}]",
        &["error: spec.http[0]: HTTP route cannot contain both route and direct_response",
          "error: spec.http[0]: HTTP route cannot contain both fault and direct_response",
          "error: spec.http[0]: HTTP route rule cannot contain both rewrite and direct_response"]; "direct response conflicts")]
    #[test_case("timeout: 1s", &["error: spec.http[0]: HTTP route, redirect or direct_response is required"]; "no action")]
    #[test_case("mirror: {host: m}, mirrors: [{destination: {host: m}}], route: [{destination: {host: r}}]",
        &["error: spec.http[0]: HTTP route cannot contain both mirror and mirrors"]; "mirror and mirrors")]
    // validateHTTPRouteMatchRequest.
    #[test_case("match: [{headers: {\"bad header\": {exact: x}, \"\": {exact: z}}}], route: [{destination: {host: r}}]",
        &["error: spec.http[0].match[0].headers.: header name cannot be empty",
          "error: spec.http[0].match[0].headers.bad header: header name bad header is not a valid header name"]; "header names")]
    #[test_case("match: [{headers: {x-a: {prefix: \"\"}}, uri: {prefix: \"\"}}], route: [{destination: {host: r}}]",
        &["error: spec.http[0].match[0].headers.x-a: \"headers\": prefix string match should not be empty"]; "empty prefix")]
    #[test_case("match: [{uri: {regex: \"[a-z\"}}], route: [{destination: {host: r}}]",
        &["error: spec.http[0].match[0].uri: \"uri\": error parsing regexp: missing closing ]: `[a-z`; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)"]; "bad regex")]
    #[test_case("match: [{withoutHeaders: {x-a: {regex: \"*\"}}, queryParams: {q: {regex: \"\"}}}], route: [{destination: {host: r}}]",
        &["error: spec.http[0].match[0].queryParams.q: \"queryParams\": regex string match should not be empty"]; "present match and empty regex")]
    #[test_case("match: [{method: {exact: GET, prefix: G}}], route: [{destination: {host: r}}]",
        &["error: spec.http[0].match[0].method: must validate one and only one schema (oneOf). Found 2 valid alternatives"]; "string match one of")]
    #[test_case("match: [{port: 70000, sourceNamespace: Bad_ns, sourceLabels: {\"bad key!\": v}}], route: [{destination: {host: r}}]",
        &["error: spec.http[0].match[0].port: port number 70000 must be in the range 1..65535",
          "error: spec.http[0].match[0].sourceLabels: invalid tag key: \"bad key!\"",
          "error: spec.http[0].match[0].sourceNamespace: sourceNamespace match Bad_ns is invalid"]; "match port labels namespace")]
    // Header manipulation and validateAuthorityRewrite.
    #[test_case("headers: {request: {set: {\":path\": /x, \":authority\": a}, remove: [\":authority\"]}, response: {add: {host: h}}}, route: [{destination: {host: r}}]",
        &["error: spec.http[0].headers.request.set.:path: invalid header \":path\": header cannot have \":\" prefix",
          "error: spec.http[0].headers.request.remove[0]: invalid header \":authority\": header cannot have \":\" prefix",
          "error: spec.http[0].headers.response.add.host: invalid header \"host\": cannot set Host header"]; "header operation names")]
    #[test_case("route: [{destination: {host: r}, headers: {request: {add: {x-a: \"abc%123\", x-b: \"100%%\", x-c: \"%HOSTNAME%\"}}}}]",
        &["error: spec.http[0].route[0].headers.request.add.x-a: header value configuration: invalid header configuration. Un-terminated variable expression 'abc%123'"]; "header values")]
    #[test_case("rewrite: {authority: a}, headers: {request: {set: {host: b}}}, route: [{destination: {host: r}}]",
        &["error: spec.http[0].headers.request.host: authority header cannot be set multiple times: have \"a\", attempting to set \"b\""]; "authority twice")]
    // validateCORSPolicy.
    #[test_case("corsPolicy: {allowOrigins: [{exact: \"\"}, {regex: \"(\"}], allowMethods: [GET, FOO], allowHeaders: [\"*\", \"bad header\"], maxAge: 1500ms}, route: [{destination: {host: r}}]",
        &["error: spec.http[0].corsPolicy.allowOrigins[0]: '' is not a valid match type for CORS allow origins",
          "error: spec.http[0].corsPolicy.allowOrigins[1]: \"corsPolicy.allowOrigins\": error parsing regexp: missing closing ): `(`; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)",
          "error: spec.http[0].corsPolicy.allowMethods[1]: \"FOO\" is not a supported HTTP method",
          "error: spec.http[0].corsPolicy.allowHeaders[1]: header name bad header is not a valid header name",
          "error: spec.http[0].corsPolicy.maxAge: max_age duration is accurate only to seconds precision"]; "cors")]
    // validateHTTPFaultInjection.
    #[test_case("fault: {}, route: [{destination: {host: r}}]",
        &["error: spec.http[0].fault: HTTP fault injection must have an abort and/or a delay"]; "empty fault")]
    #[test_case("fault: {abort: {httpStatus: 700, percentage: {value: 150}}}, route: [{destination: {host: r}}]",
        &["error: spec.http[0].fault.abort.percentage: percentage 150 is neither 0.0, nor in range [0.0001, 100.0]",
          "error: spec.http[0].fault.abort.httpStatus: HTTP status 700 is not in range 200-599"]; "abort status and percentage")]
    #[test_case("fault: {abort: {httpStatus: 600, percentage: {value: 0}}}, route: [{destination: {host: r}}]", &[]; "status 600 slips through")]
    #[test_case("fault: {abort: {grpcStatus: FOO}}, route: [{destination: {host: r}}]",
        &["error: spec.http[0].fault.abort.grpcStatus: gRPC status \"FOO\" is not supported. See https://github.com/grpc/grpc/blob/master/doc/statuscodes.md for a list of supported codes, for example 'NOT_FOUND'"]; "grpc status")]
    #[test_case("fault: {abort: {http2Error: x}}, route: [{destination: {host: r}}]",
        &["error: spec.http[0].fault.abort.http2Error: HTTP/2 abort fault injection not supported yet"]; "http2 error")]
    #[test_case("fault: {abort: {percentage: {value: 10}}}, route: [{destination: {host: r}}]",
        &["warning: spec.http[0].fault.abort: abort configured, but error type not set"]; "abort without type")]
    #[test_case("fault: {abort: {httpStatus: 500, grpcStatus: NOT_FOUND}}, route: [{destination: {host: r}}]",
        &["error: spec.http[0].fault.abort: must validate one and only one schema (oneOf). Found 2 valid alternatives"]; "abort one of")]
    #[test_case("fault: {delay: {exponentialDelay: 1s, percentage: {value: 0.00001}}}, route: [{destination: {host: r}}]",
        &["error: spec.http[0].fault.delay.percentage: percentage 1e-05 is neither 0.0, nor in range [0.0001, 100.0]",
          "error: spec.http[0].fault.delay.exponentialDelay: exponentialDelay not supported yet"]; "exponential delay")]
    #[test_case("fault: {delay: {fixedDelay: 0s}}, route: [{destination: {host: r}}]",
        &["error: spec.http[0].fault.delay.fixedDelay: Invalid value: \"string\": must be a valid duration greater than 1ms"]; "zero delay")]
    // Mirroring.
    #[test_case("mirror: {host: m}, mirrorPercent: 150, route: [{destination: {host: r}}]",
        &["error: spec.http[0].mirrorPercent: mirror_percent must have a max value of 100 (it has 150)",
          "warning: spec.http[0].mirrorPercent: using deprecated setting \"mirrorPercent\", use \"mirrorPercentage\" instead"]; "mirror percent")]
    #[test_case("mirror: {host: m}, mirror_percent: 50, route: [{destination: {host: r}}]",
        &["warning: spec.http[0].mirror_percent: using deprecated setting \"mirrorPercent\", use \"mirrorPercentage\" instead"]; "mirror percent proto name")]
    #[test_case("mirror: {subset: v1}, mirrorPercentage: {value: 150}, route: [{destination: {host: r}}]",
        &["error: spec.http[0].mirrorPercentage: mirror_percentage must have a max value of 100 (it has 150.000000)",
          "error: spec.http[0].mirror.host: Required value"]; "mirror percentage and host")]
    #[test_case("mirrors: [{destination: {host: m}, percentage: {value: -1}}, {percentage: {value: 5}}], route: [{destination: {host: r}}]",
        &["error: spec.http[0].mirrors[0].percentage: mirror percentage must have a min value of 0 (it has -1.000000)",
          "error: spec.http[0].mirrors[1].destination: Required value"]; "mirrors")]
    // validateHTTPRedirect.
    #[test_case("redirect: {}", &["error: spec.http[0].redirect: redirect must specify URI, authority, scheme, or port"]; "empty redirect")]
    #[test_case("redirect: {uri: /x, redirectCode: 200}", &["error: spec.http[0].redirect.redirectCode: 200 is not a valid redirect code, must be 3xx"]; "redirect code")]
    #[test_case("redirect: {uri: /x, scheme: ftp}", &["error: spec.http[0].redirect.scheme: invalid redirect scheme, must be \"http\" or \"https\""]; "redirect scheme")]
    #[test_case("redirect: {port: 70000}", &["error: spec.http[0].redirect.port: port number 70000 must be in the range 1..65535"]; "redirect port")]
    #[test_case("redirect: {port: 80, derivePort: FROM_REQUEST_PORT}",
        &["error: spec.http[0].redirect: must validate one and only one schema (oneOf). Found 2 valid alternatives"]; "redirect one of")]
    // validateHTTPDirectResponse.
    #[test_case("directResponse: {status: 700}", &["error: spec.http[0].directResponse.status: HTTP status 700 is not in range 200-599"]; "direct response status")]
    #[test_case("directResponse: {body: {string: x}}", &["error: spec.http[0].directResponse.status: Required value"]; "direct response without status")]
    // validateHTTPRetry.
    #[test_case("retries: {attempts: -1}, route: [{destination: {host: r}}]",
        &["error: spec.http[0].retries.attempts: attempts cannot be negative"]; "negative attempts")]
    #[test_case("retries: {attempts: 0, perTryTimeout: 2s}, route: [{destination: {host: r}}]",
        &["error: spec.http[0].retries: http retry policy configured when attempts are set to 0 (disabled)"]; "policy with zero attempts")]
    #[test_case("retries: {attempts: 3, retryOn: \"5xx, reset,503,999,unavailable\"}, route: [{destination: {host: r}}]",
        &["error: spec.http[0].retries.retryOn: \" reset\" is not a valid retryOn policy",
          "error: spec.http[0].retries.retryOn: \"999\" is not a valid retryOn policy"]; "retry on")]
    #[test_case("retries: {attempts: 3, perTryTimeout: 1.5ms, backoff: abc}, route: [{destination: {host: r}}]",
        &["error: spec.http[0].retries.perTryTimeout: only durations to ms precision are supported",
          "error: spec.http[0].retries.backoff: Invalid value: \"string\": type conversion error from 'string' to 'google.protobuf.Duration' evaluating rule: must be a valid duration greater than 1ms"]; "retry durations")]
    // validateHTTPRewrite.
    #[test_case("rewrite: {uri: /a, uriRegexRewrite: {match: a, rewrite: b}}, route: [{destination: {host: r}}]",
        &["error: spec.http[0].rewrite: rewrite may only contain one of URI or UriRegexRewrite"]; "rewrite both")]
    #[test_case("rewrite: {}, route: [{destination: {host: r}}]",
        &["error: spec.http[0].rewrite: rewrite must specify at least one of URI, UriRegexRewrite, or authority. Only one of URI or UriRegexRewrite may be specified"]; "empty rewrite")]
    #[test_case("rewrite: {uriRegexRewrite: {match: \"^/a\"}}, route: [{destination: {host: r}}]",
        &["error: spec.http[0].rewrite.uriRegexRewrite: UriRegexRewrite has errors\nUriRegexRewrite requires both Rewrite and Match fields to be specified"]; "regex rewrite incomplete")]
    #[test_case("rewrite: {uriRegexRewrite: {match: \"[a\", rewrite: b}}, route: [{destination: {host: r}}]",
        &["error: spec.http[0].rewrite.uriRegexRewrite: UriRegexRewrite has errors\n\"HTTPRewrite.UriRegexRewrite.Match\": error parsing regexp: missing closing ]: `[a`; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)"]; "regex rewrite bad regex")]
    // Timeout (CRD rule, then ValidateDuration).
    #[test_case("timeout: 0s, route: [{destination: {host: r}}]",
        &["error: spec.http[0].timeout: Invalid value: \"string\": must be a valid duration greater than 1ms"]; "zero timeout")]
    // validateHTTPRouteDestinations / validateDestination.
    #[test_case("route: [{destination: {host: r}, weight: -1}, {destination: {host: r}, weight: 1}]",
        &["error: spec.http[0].route[0].weight: weight -1 < 0", "error: spec.http[0].route: total destination weight = 0"]; "negative weight")]
    #[test_case("route: [{destination: {host: r}, weight: 0}]", &[]; "lone zero weight")]
    #[test_case("route: [{destination: {host: r}, weight: 30}, {destination: {host: r}, weight: 30}]", &[]; "weights need not sum to 100")]
    #[test_case("route: [{destination: {host: \"*\"}}, {destination: {host: r, subset: V_1, port: {number: 0}}, weight: 1}, {destination: {subset: v1}}, {weight: 1}]",
        &["error: spec.http[0].route[0].destination.host: invalid destination host *",
          "error: spec.http[0].route[1].destination.subset: subset name is invalid: V_1",
          "error: spec.http[0].route[1].destination.port.number: port number 0 must be in the range 1..65535",
          "error: spec.http[0].route[2].destination.host: Required value",
          "error: spec.http[0].route[3].destination: Required value"]; "destinations")]
    fn http_rules(rule: &str, want: &[&str]) {
        assert_eq!(virtual_service(&http(rule)), want);
    }

    #[test]
    fn large_direct_responses_warn_then_fail() {
        let body = |n: usize| {
            format!(
                "directResponse: {{status: 200, body: {{string: {}}}}}",
                "x".repeat(n)
            )
        };
        assert_eq!(
            virtual_service(&http(&body(200 * 1024))),
            vec![
                "warning: spec.http[0].directResponse.body: large direct_responses may impact control plane performance"
            ]
        );
        assert_eq!(
            virtual_service(&http(&body(2 * 1024 * 1024))),
            vec![
                "error: spec.http[0].directResponse.body: large direct_responses may impact control plane performance, must be less than 1MB"
            ]
        );
    }

    // validateTLSRoute / validateTLSMatch / validateSniHost, validateTCPRoute.
    #[test_case("{hosts: [a.com], tls: [{route: [{destination: {host: a.com}}]}]}",
        &["error: spec.tls[0].match: Required value"]; "tls without match")]
    #[test_case("{hosts: [a.com], tls: [{match: []}]}",
        &["error: spec.tls[0].match: TLS route must have at least one match condition",
          "error: spec.tls[0]: TLS route is required"]; "tls empty match and route")]
    #[test_case("{hosts: [a.com], tls: [{match: [{sniHosts: []}, {sniHosts: [b.com, 10.0.0.1], port: 0, destinationSubnets: [10.0.0.0/8, 10.0.0.0/33, \"abc\"]}], route: [{destination: {host: a.com}}]}]}",
        &["error: spec.tls[0].match[0].sniHosts: TLS match must have at least one SNI host",
          "error: spec.tls[0].match[1].sniHosts[0]: SNI host \"b.com\" is not a compatible subset of any of the virtual service hosts: [a.com]",
          "warning: spec.tls[0].match[1].sniHosts[1]: using an IP address (\"10.0.0.1\") goes against SNI spec and most clients do not support this",
          "error: spec.tls[0].match[1].destinationSubnets[1]: 10.0.0.0/33 is not a valid CIDR block",
          "error: spec.tls[0].match[1].destinationSubnets[2]: abc is not a valid IP"]; "tls matches")]
    #[test_case("{hosts: [\"*.a.com\"], tls: [{match: [{sniHosts: [x.a.com, \"*.b.a.com\"]}], route: [{destination: {host: a.com}}]}]}",
        &[]; "sni subsets of a wildcard")]
    #[test_case("{hosts: [a.com], tcp: [{match: [{port: 70000, gateways: [\"/gw\"]}]}]}",
        &["error: spec.tcp[0].match[0].port: port number 70000 must be in the range 1..65535",
          "error: spec.tcp[0].match[0].gateways[0]: config namespace and gateway name cannot be empty",
          "error: spec.tcp[0].match[0].gateways[0]: invalid value for namespace: \"\"",
          "error: spec.tcp[0]: TCP route is required"]; "tcp")]
    #[test_case("{hosts: [a.com], exportTo: [\"~\"], tcp: [{route: [{destination: {host: a.com}}]}]}",
        &["error: spec.exportTo: exportTo ~ (none) is not allowed for Istio configuration objects"]; "export to")]
    fn tls_tcp_and_export(spec: &str, want: &[&str]) {
        assert_eq!(virtual_service(spec), want);
    }

    // analyzeUnreachableHTTPRules / TCP / TLS.
    #[test_case("[{route: [{destination: {host: r}}]}, {route: [{destination: {host: r}}]}]",
        &["warning: spec.http[1]: virtualService rule #1 not used (only the last rule can have no matches)"]; "two catch-alls")]
    #[test_case("[{route: [{destination: {host: r}}]}, {name: b, match: [{uri: {exact: /a}}, {uri: {exact: /b}}], route: [{destination: {host: r}}]}]",
        &["warning: spec.http[1]: virtualService rule \"b\" not used (route without matches defined before)"]; "rule after catch-all")]
    #[test_case("[{match: [{name: x, uri: {exact: /a}}], route: [{destination: {host: r}}]}, {match: [{name: second, uri: {exact: /a}}], route: [{destination: {host: r}}]}]",
        &["warning: spec.http[1].match[0]: virtualService rule #1 match \"second\" is not used (duplicate/overlapping match in rule #0)",
          "warning: spec.http[1]: virtualService rule #1 not used (all matches used by prior rules)"]; "duplicate match")]
    #[test_case("[{name: r1, match: [{uri: {prefix: /debug}}], route: [{destination: {host: r}}]}, {match: [{uri: {prefix: /debugs}}], route: [{destination: {host: r}}]}]",
        &["warning: spec.http[1].match[0]: virtualService rule #1 match #0 of prefix /debugs is not used (duplicate/overlapping match in rule #0 of prefix /debug on \"r1\")"]; "covered prefix")]
    #[test_case("[{match: [{uri: {prefix: /debug}, headers: {a: {exact: x}}}], route: [{destination: {host: r}}]}, {match: [{uri: {prefix: /debugs}}], route: [{destination: {host: r}}]}]",
        &[]; "prefix with more conditions does not cover")]
    fn unreachable_http_rules(rules: &str, want: &[&str]) {
        assert_eq!(
            virtual_service(&format!("{{hosts: [r], http: {rules}}}")),
            want
        );
    }

    #[test]
    fn unreachable_tcp_and_tls_rules() {
        let spec = "{hosts: [a.com], tcp: [{match: [{port: 80}], route: [{destination: {host: a.com}}]}, {match: [{port: 80}], route: [{destination: {host: a.com}}]}], tls: [{match: [{sniHosts: [a.com]}], route: [{destination: {host: a.com}}]}, {match: [{sniHosts: [a.com]}], route: [{destination: {host: a.com}}]}]}";
        assert_eq!(
            virtual_service(spec),
            vec![
                "warning: spec.tcp[1].match[0]: virtualService rule #1 match #0 is not used (duplicate/overlapping match in rule #0)",
                "warning: spec.tcp[1]: virtualService rule #1 not used (all matches used by prior rules)",
                "warning: spec.tls[1].match[0]: virtualService rule #1 match #0 is not used (duplicate/overlapping match in rule #0)",
                "warning: spec.tls[1]: virtualService rule #1 not used (all matches used by prior rules)",
            ]
        );
    }

    #[test]
    fn destinations_expose_host_and_port() {
        let loaded = clean(
            "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r}\nspec: {hosts: [r], http: [{route: [{destination: {host: r, port: {number: 9080}}, weight: 1}, {destination: {host: s}, weight: 1}]}]}\n",
        );
        let crate::config::Body::VirtualService(vs) = &loaded.objects[0].body else {
            panic!("not a VirtualService");
        };
        let d: Vec<_> = vs.http[0]
            .route
            .iter()
            .filter_map(|r| r.destination.as_ref())
            .map(|d| (d.host(), d.port_number()))
            .collect();
        assert_eq!(d, vec![("r", Some(9080)), ("s", None)]);
    }

    /// Several problems in one document, each reported with its path and
    /// the line it is on.
    #[test]
    fn problems_are_located() {
        let text = "\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v_1
      weight: -10
    - destination:
        host: reviews
      weight: 10
    timeout: 0s
    retries:
      attempts: 3
      retryOn: 5xx,bogus
";
        assert_eq!(
            located(text),
            [
                "20: error: spec.http[0].retries.retryOn: \"bogus\" is not a valid retryOn policy",
                "12: error: spec.http[0].route[0].destination.subset: subset name is invalid: v_1",
                "13: error: spec.http[0].route[0].weight: weight -10 < 0",
                "10: error: spec.http[0].route: total destination weight = 0",
                "17: error: spec.http[0].timeout: Invalid value: \"string\": must be a valid duration greater than 1ms",
            ]
        );
    }

    /// The VirtualServices of the course's Istio module load with no
    /// diagnostics at all.
    #[test]
    fn course_virtual_services_load_cleanly() {
        assert_eq!(clean(COURSE).objects.len(), 10);
    }

    const COURSE: &str = r#"
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: reviews-routing
spec:
  hosts:
  - reviews.default.svc.cluster.local
  http:
  - match:
    - headers:
        user-agent:
          regex: ".*Chrome.*"
    route:
    - destination:
        host: reviews.default.svc.cluster.local
        subset: v2
  - route:
    - destination:
        host: reviews.default.svc.cluster.local
        subset: v1
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: reviews
  namespace: bookinfo
spec:
  hosts:
  - reviews.bookinfo.svc.cluster.local
  http:
  - route:
    - destination:
        host: reviews.bookinfo.svc.cluster.local
        subset: v1
      weight: 90
    - destination:
        host: reviews.bookinfo.svc.cluster.local
        subset: v2
      weight: 10
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: reviews
  namespace: bookinfo
spec:
  hosts:
  - reviews.bookinfo.svc.cluster.local
  http:
  - match:
    - headers:
        end-user:
          exact: jason
    route:
    - destination:
        host: reviews.bookinfo.svc.cluster.local
        subset: v3
  - route:
    - destination:
        host: reviews.bookinfo.svc.cluster.local
        subset: v2
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: reviews
  namespace: bookinfo
spec:
  hosts:
  - reviews.bookinfo.svc.cluster.local
  http:
  - route:
    - destination:
        host: reviews.bookinfo.svc.cluster.local
        subset: v2
      weight: 100
    mirror:
      host: reviews.bookinfo.svc.cluster.local
      subset: v3
    mirrorPercentage:
      value: 100.0
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: reviews
  namespace: bookinfo
spec:
  hosts:
  - reviews.bookinfo.svc.cluster.local
  http:
  - route:
    - destination:
        host: reviews.bookinfo.svc.cluster.local
        subset: v2
    timeout: 2s
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: reviews
  namespace: bookinfo
spec:
  hosts:
  - reviews.bookinfo.svc.cluster.local
  http:
  - route:
    - destination:
        host: reviews.bookinfo.svc.cluster.local
        subset: v2
    retries:
      attempts: 3
      perTryTimeout: 2s
      retryOn: 5xx,reset,connect-failure,refused-stream
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: reviews
  namespace: bookinfo
spec:
  hosts:
  - reviews.bookinfo.svc.cluster.local
  http:
  - fault:
      delay:
        percentage:
          value: 10.0
        fixedDelay: 5s
    route:
    - destination:
        host: reviews.bookinfo.svc.cluster.local
        subset: v2
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: reviews
  namespace: bookinfo
spec:
  hosts:
  - reviews.bookinfo.svc.cluster.local
  http:
  - fault:
      abort:
        percentage:
          value: 20.0
        httpStatus: 500
    route:
    - destination:
        host: reviews.bookinfo.svc.cluster.local
        subset: v2
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: reviews
  namespace: bookinfo
spec:
  hosts:
  - reviews.bookinfo.svc.cluster.local
  http:
  - route:
    - destination:
        host: reviews.bookinfo.svc.cluster.local
        subset: v2
    timeout: 10s
    retries:
      attempts: 3
      perTryTimeout: 3s
      retryOn: 5xx,reset,connect-failure
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: web-routing
  namespace: sidecar-app
spec:
  hosts:
  - web.sidecar-app.svc.cluster.local
  http:
  - match:
    - headers:
        test:
          exact: "canary"
    route:
    - destination:
        host: web.sidecar-app.svc.cluster.local
      headers:
        response:
          add:
            x-canary: "true"
  - route:
    - destination:
        host: web.sidecar-app.svc.cluster.local
"#;
}
