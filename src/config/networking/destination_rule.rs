//! DestinationRule (`networking/v1alpha3/destination_rule.proto`, Istio
//! 1.27): what happens to traffic once routing chose a host — load
//! balancing, connection pool limits (circuit breaking), outlier ejection,
//! client TLS — and the named subsets (versions) routes can pick.
//! Validation follows the CRD schema and then istiod's webhook
//! (`ValidateDestinationRule` in `pkg/config/validation/validation.go`,
//! `ValidateTLS`/`ValidateLocalityLbSetting` in its `agent` package).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::common::{
    PortSelector, WorkloadMatchSelector, is_dns1123_label, is_ip, port_problem, validate_export_to,
    validate_fqdn, validate_label_instance, validate_percent, validate_wildcard_domain,
};
use crate::config::kinds::Validate;
use crate::config::meta::{NameRule, ObjectMeta};
use crate::config::types::Duration;
use crate::config::validate::Validator;
use crate::spec_resources;

/// Policies for one service `host` (a short name is relative to the rule's
/// namespace).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct DestinationRule {
    /// Required by the CRD; `None` only when it was left out.
    pub host: Option<String>,
    pub traffic_policy: Option<TrafficPolicy>,
    pub subsets: Vec<Subset>,
    pub export_to: Vec<String>,
    /// Limits the rule to these client workloads (in its namespace).
    pub workload_selector: Option<WorkloadMatchSelector>,
}

impl DestinationRule {
    pub fn host(&self) -> &str {
        self.host.as_deref().unwrap_or("")
    }

    pub fn subset(&self, name: &str) -> Option<&Subset> {
        self.subsets.iter().find(|s| s.name() == name)
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct TrafficPolicy {
    pub load_balancer: Option<LoadBalancerSettings>,
    pub connection_pool: Option<ConnectionPoolSettings>,
    pub outlier_detection: Option<OutlierDetection>,
    pub tls: Option<ClientTlsSettings>,
    /// Per-port overrides, which replace (not merge with) the policy above
    /// for that port.
    pub port_level_settings: Vec<PortTrafficPolicy>,
    pub tunnel: Option<TunnelSettings>,
    pub proxy_protocol: Option<ProxyProtocol>,
    pub retry_budget: Option<RetryBudget>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct PortTrafficPolicy {
    pub port: Option<PortSelector>,
    pub load_balancer: Option<LoadBalancerSettings>,
    pub connection_pool: Option<ConnectionPoolSettings>,
    pub outlier_detection: Option<OutlierDetection>,
    pub tls: Option<ClientTlsSettings>,
}

/// Tunnels the connection through an HTTP CONNECT/POST proxy.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct TunnelSettings {
    pub protocol: String,
    /// Required by the CRD; `None` only when it was left out.
    pub target_host: Option<String>,
    /// Required by the CRD; `None` only when it was left out.
    pub target_port: Option<u32>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ProxyProtocol {
    pub version: ProxyProtocolVersion,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum ProxyProtocolVersion {
    #[default]
    #[serde(rename = "V1")]
    V1,
    #[serde(rename = "V2")]
    V2,
}

/// Caps concurrent retries at a share of active requests (Envoy's retry
/// budget), instead of the `maxRetries` circuit breaker.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct RetryBudget {
    pub percent: Option<f64>,
    pub min_retry_concurrency: u32,
}

/// A named group of the host's endpoints (selected by labels), with an
/// optional policy that overrides the rule's.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Subset {
    /// Required by the CRD; `None` only when it was left out.
    pub name: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub traffic_policy: Option<TrafficPolicy>,
}

impl Subset {
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }
}

/// How an endpoint is picked: one `simple` algorithm or `consistentHash`
/// (session affinity), plus locality preferences and slow start.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct LoadBalancerSettings {
    pub simple: Option<SimpleLb>,
    pub consistent_hash: Option<ConsistentHashLb>,
    pub locality_lb_setting: Option<LocalityLbSetting>,
    pub warmup_duration_secs: Option<Duration>,
    pub warmup: Option<WarmupConfiguration>,
}

/// The simple algorithms. `UNSPECIFIED` lets Istio choose
/// (`LEAST_REQUEST`); `LEAST_CONN` is a deprecated alias of it;
/// `PASSTHROUGH` sends to the address the client asked for.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum SimpleLb {
    #[default]
    #[serde(rename = "UNSPECIFIED")]
    Unspecified,
    #[serde(rename = "LEAST_CONN")]
    LeastConn,
    #[serde(rename = "RANDOM")]
    Random,
    #[serde(rename = "PASSTHROUGH")]
    Passthrough,
    #[serde(rename = "ROUND_ROBIN")]
    RoundRobin,
    #[serde(rename = "LEAST_REQUEST")]
    LeastRequest,
}

/// Session affinity: hash one request property (the hash key) onto a ring
/// or Maglev table.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ConsistentHashLb {
    pub http_header_name: Option<String>,
    pub http_cookie: Option<HttpCookie>,
    pub use_source_ip: Option<bool>,
    pub http_query_parameter_name: Option<String>,
    pub ring_hash: Option<RingHash>,
    pub maglev: Option<MagLev>,
    /// Deprecated in favour of `ringHash.minimumRingSize`.
    pub minimum_ring_size: u64,
}

/// Hash on a cookie, which the proxy sets (with `ttl`) if it is missing.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpCookie {
    /// Required by the CRD; `None` only when it was left out.
    pub name: Option<String>,
    pub path: String,
    pub ttl: Option<Duration>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct RingHash {
    pub minimum_ring_size: u64,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct MagLev {
    pub table_size: u64,
}

/// Locality-aware load balancing: by default traffic stays in the
/// client's locality and fails over by proximity (only when outlier
/// detection is on); `distribute` and `failover` override that.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct LocalityLbSetting {
    pub distribute: Vec<LocalityDistribute>,
    pub failover: Vec<LocalityFailover>,
    pub failover_priority: Vec<String>,
    pub enabled: Option<bool>,
}

/// Weights (summing to 100) for where traffic from `from` goes;
/// localities are `region/zone/subzone`, optionally ending in `*`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct LocalityDistribute {
    pub from: String,
    pub to: BTreeMap<String, u32>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct LocalityFailover {
    pub from: String,
    pub to: String,
}

/// Slow start: new endpoints get a growing share of traffic over
/// `duration`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct WarmupConfiguration {
    /// Required by the CRD; `None` only when it was left out.
    pub duration: Option<Duration>,
    pub minimum_percent: Option<f64>,
    pub aggression: Option<f64>,
}

/// Circuit-breaker limits on the connection pool to each endpoint set.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ConnectionPoolSettings {
    pub tcp: Option<TcpSettings>,
    pub http: Option<HttpSettings>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct TcpSettings {
    /// Envoy's `max_connections` circuit breaker (0: Istio's unlimited
    /// default).
    pub max_connections: i32,
    pub connect_timeout: Option<Duration>,
    pub tcp_keepalive: Option<TcpKeepalive>,
    pub max_connection_duration: Option<Duration>,
    /// `0s` disables the idle timeout.
    pub idle_timeout: Option<Duration>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct TcpKeepalive {
    pub probes: u32,
    pub time: Option<Duration>,
    pub interval: Option<Duration>,
}

/// HTTP limits; 0 leaves Istio's default (unlimited).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpSettings {
    /// Requests waiting for a connection (`max_pending_requests`).
    pub http1_max_pending_requests: i32,
    /// Concurrent requests (`max_requests`), HTTP/1 included.
    pub http2_max_requests: i32,
    /// 1 disables keep-alive.
    pub max_requests_per_connection: i32,
    /// Concurrent retries (`max_retries`).
    pub max_retries: i32,
    pub idle_timeout: Option<Duration>,
    pub h2_upgrade_policy: H2UpgradePolicy,
    pub use_client_protocol: bool,
    pub max_concurrent_streams: i32,
}

/// Whether HTTP/1.1 connections to the upstream are upgraded to HTTP/2.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum H2UpgradePolicy {
    #[default]
    #[serde(rename = "DEFAULT")]
    Default,
    #[serde(rename = "DO_NOT_UPGRADE")]
    DoNotUpgrade,
    #[serde(rename = "UPGRADE")]
    Upgrade,
}

/// Ejection of endpoints that keep failing (passive health checking).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct OutlierDetection {
    /// Deprecated: accepted with a warning and then ignored by istiod, so
    /// Envoy's default (5 consecutive 5xx) applies.
    pub consecutive_errors: i32,
    pub split_external_local_origin_errors: bool,
    pub consecutive_local_origin_failures: Option<u32>,
    pub consecutive_gateway_errors: Option<u32>,
    #[serde(rename = "consecutive5xxErrors")]
    pub consecutive_5xx_errors: Option<u32>,
    pub interval: Option<Duration>,
    pub base_ejection_time: Option<Duration>,
    pub max_ejection_percent: i32,
    pub min_health_percent: i32,
}

/// TLS the client proxy originates. `ISTIO_MUTUAL` uses the mesh
/// certificates; with no `tls` at all, auto-mTLS decides.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ClientTlsSettings {
    pub mode: TlsMode,
    pub client_certificate: String,
    pub private_key: String,
    pub ca_certificates: String,
    pub credential_name: String,
    pub subject_alt_names: Vec<String>,
    pub sni: String,
    pub insecure_skip_verify: Option<bool>,
    pub ca_crl: String,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum TlsMode {
    #[default]
    #[serde(rename = "DISABLE")]
    Disable,
    #[serde(rename = "SIMPLE")]
    Simple,
    #[serde(rename = "MUTUAL")]
    Mutual,
    #[serde(rename = "ISTIO_MUTUAL")]
    IstioMutual,
}

impl TlsMode {
    /// The mode as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::Disable => "DISABLE",
            TlsMode::Simple => "SIMPLE",
            TlsMode::Mutual => "MUTUAL",
            TlsMode::IstioMutual => "ISTIO_MUTUAL",
        }
    }
}

impl Validate for DestinationRule {
    /// `ValidateDestinationRule`.
    fn validate(&self, meta: &ObjectMeta, v: &mut Validator) {
        meta.validate(NameRule::Dns1123Subdomain, v);
        let namespace = meta.namespace();
        v.field("spec", |v| {
            match &self.host {
                None => v.required_field("host"),
                Some(host) => {
                    if let Some(e) = validate_wildcard_domain(host) {
                        v.field("host", |v| v.error(e));
                    }
                }
            }
            if let Some(tp) = &self.traffic_policy {
                v.field("trafficPolicy", |v| {
                    validate_traffic_policy(tp, namespace, v)
                });
            }
            let mut names: Vec<&str> = Vec::new();
            v.each("subsets", &self.subsets, |v, _, subset| {
                match &subset.name {
                    None => v.required_field("name"),
                    Some(name) => v.field("name", |v| {
                        if names.contains(&name.as_str()) {
                            v.error(format!("duplicate subset names: {name}"));
                        }
                        names.push(name);
                        validate_subset_name(name, v);
                    }),
                }
                v.field("labels", |v| validate_label_instance(&subset.labels, v));
                if let Some(tp) = &subset.traffic_policy {
                    v.field("trafficPolicy", |v| {
                        validate_traffic_policy(tp, namespace, v)
                    });
                }
            });
            validate_export_to(
                namespace,
                &self.export_to,
                false,
                self.workload_selector.is_some(),
                v,
            );
            if let Some(sel) = &self.workload_selector {
                v.field("workloadSelector", |v| {
                    sel.warn_if_empty(v);
                    sel.validate_schema(v);
                });
            }
        });
    }
}

/// `validateSubsetName`: subset names are DNS-1123 labels.
pub(crate) fn validate_subset_name(name: &str, v: &mut Validator) {
    if name.is_empty() {
        v.error("subset name cannot be empty");
    } else if !is_dns1123_label(name) {
        v.error(format!("subset name is invalid: {name}"));
    }
}

/// `validateTrafficPolicy`.
fn validate_traffic_policy(tp: &TrafficPolicy, namespace: &str, v: &mut Validator) {
    if tp.outlier_detection.is_none()
        && tp.connection_pool.is_none()
        && tp.load_balancer.is_none()
        && tp.tls.is_none()
        && tp.port_level_settings.is_empty()
        && tp.tunnel.is_none()
        && tp.proxy_protocol.is_none()
        && tp.retry_budget.is_none()
    {
        v.error("traffic policy must have at least one field");
        return;
    }
    if tp.tunnel.is_some() && tp.proxy_protocol.is_some() {
        v.error("tunnel and proxyProtocol must not be set together");
        return;
    }
    validate_port_policy_parts(
        tp.load_balancer.as_ref(),
        tp.connection_pool.as_ref(),
        tp.outlier_detection.as_ref(),
        tp.tls.as_ref(),
        namespace,
        v,
    );
    v.each("portLevelSettings", &tp.port_level_settings, |v, _, p| {
        if p.port.is_none() {
            v.error("portTrafficPolicy must have valid port");
        }
        if p.outlier_detection.is_none()
            && p.connection_pool.is_none()
            && p.load_balancer.is_none()
            && p.tls.is_none()
        {
            v.error("port traffic policy must have at least one field");
        } else {
            validate_port_policy_parts(
                p.load_balancer.as_ref(),
                p.connection_pool.as_ref(),
                p.outlier_detection.as_ref(),
                p.tls.as_ref(),
                namespace,
                v,
            );
        }
    });
    if let Some(t) = &tp.tunnel {
        v.field("tunnel", |v| validate_tunnel(t, v));
    }
    if let Some(p) = tp.retry_budget.as_ref().and_then(|b| b.percent) {
        v.field("retryBudget", |v| {
            v.field("percent", |v| v.bounds(p, Some(0.0), Some(100.0)))
        });
    }
}

/// The four policies a traffic policy and its port-level overrides share,
/// in istiod's order.
fn validate_port_policy_parts(
    lb: Option<&LoadBalancerSettings>,
    pool: Option<&ConnectionPoolSettings>,
    outlier: Option<&OutlierDetection>,
    tls: Option<&ClientTlsSettings>,
    namespace: &str,
    v: &mut Validator,
) {
    if let Some(o) = outlier {
        v.field("outlierDetection", |v| validate_outlier_detection(o, v));
    }
    if let Some(p) = pool {
        v.field("connectionPool", |v| validate_connection_pool(p, v));
    }
    if let Some(lb) = lb {
        v.field("loadBalancer", |v| {
            validate_load_balancer(lb, outlier.is_some(), v)
        });
    }
    if let Some(t) = tls {
        v.field("tls", |v| validate_client_tls(t, namespace, v));
    }
}

/// `validateTunnelSettings`.
fn validate_tunnel(t: &TunnelSettings, v: &mut Validator) {
    if !t.protocol.is_empty() && t.protocol != "CONNECT" && t.protocol != "POST" {
        v.field("protocol", |v| {
            v.error(r#"tunnel protocol must be "CONNECT" or "POST""#)
        });
    }
    match &t.target_host {
        None => v.required_field("targetHost"),
        Some(host) => {
            if let Some(e) = validate_fqdn(host).filter(|_| !is_ip(host)) {
                v.field("targetHost", |v| {
                    v.error(format!("tunnel target host must be valid FQDN or IP address: {e}; {host} is not a valid IP"))
                });
            }
        }
    }
    match t.target_port {
        None => v.required_field("targetPort"),
        Some(port) => {
            if let Some(e) = port_problem(port) {
                v.field("targetPort", |v| {
                    v.error(format!("tunnel target port is invalid: {e}"))
                });
            }
        }
    }
}

/// `validateOutlierDetection`.
fn validate_outlier_detection(o: &OutlierDetection, v: &mut Validator) {
    if let Some(d) = &o.base_ejection_time {
        v.field("baseEjectionTime", |v| d.validate(v));
    }
    if o.consecutive_errors != 0 {
        v.field("consecutiveErrors", |v| v.warn("outlier detection consecutive errors is deprecated, use consecutiveGatewayErrors or consecutive5xxErrors instead"));
    }
    if !o.split_external_local_origin_errors && o.consecutive_local_origin_failures.unwrap_or(0) > 0
    {
        v.field("consecutiveLocalOriginFailures", |v| v.error("outlier detection consecutive local origin failures is specified, but split external local origin errors is set to false"));
    }
    if let Some(d) = &o.interval {
        v.field("interval", |v| d.validate(v));
    }
    v.field("maxEjectionPercent", |v| {
        validate_percent(i64::from(o.max_ejection_percent), v)
    });
    v.field("minHealthPercent", |v| {
        validate_percent(i64::from(o.min_health_percent), v)
    });
}

/// `validateConnectionPool`.
pub(crate) fn validate_connection_pool(p: &ConnectionPoolSettings, v: &mut Validator) {
    if p.http.is_none() && p.tcp.is_none() {
        v.error("connection pool must have at least one field");
        return;
    }
    let non_negative = |v: &mut Validator, key: &str, value: i32, what: &str| {
        if value < 0 {
            v.field(key, |v| v.error(format!("{what} must be non-negative")));
        }
    };
    if let Some(h) = &p.http {
        v.field("http", |v| {
            non_negative(
                v,
                "http1MaxPendingRequests",
                h.http1_max_pending_requests,
                "http1 max pending requests",
            );
            non_negative(
                v,
                "http2MaxRequests",
                h.http2_max_requests,
                "http2 max requests",
            );
            non_negative(
                v,
                "maxRequestsPerConnection",
                h.max_requests_per_connection,
                "max requests per connection",
            );
            non_negative(v, "maxRetries", h.max_retries, "max retries");
            if let Some(d) = &h.idle_timeout {
                v.field("idleTimeout", |v| d.validate(v));
            }
            if h.h2_upgrade_policy == H2UpgradePolicy::Upgrade && h.use_client_protocol {
                v.error("use client protocol must not be true when H2UpgradePolicy is UPGRADE");
            }
            non_negative(
                v,
                "maxConcurrentStreams",
                h.max_concurrent_streams,
                "max concurrent streams",
            );
        });
    }
    if let Some(t) = &p.tcp {
        v.field("tcp", |v| {
            non_negative(v, "maxConnections", t.max_connections, "max connections");
            if let Some(d) = &t.connect_timeout {
                v.field("connectTimeout", |v| d.validate(v));
            }
            if let Some(d) = &t.max_connection_duration {
                v.field("maxConnectionDuration", |v| d.validate(v));
            }
            if let Some(d) = &t.idle_timeout {
                v.field("idleTimeout", |v| validate_idle_timeout(d, v));
            }
            if let Some(ka) = &t.tcp_keepalive {
                v.field("tcpKeepalive", |v| {
                    if let Some(d) = &ka.time {
                        v.field("time", |v| d.validate(v));
                    }
                    if let Some(d) = &ka.interval {
                        v.field("interval", |v| d.validate(v));
                    }
                });
            }
        });
    }
}

/// `tcp.idleTimeout` has no CRD rule: only decoding checks the text, and
/// istiod skips anything under a millisecond (`0s` turns the timeout off)
/// before insisting on millisecond precision.
fn validate_idle_timeout(d: &Duration, v: &mut Validator) {
    if !d.validate_decode_only(v) {
        return;
    }
    let nanos = d.get().as_nanos();
    if nanos >= 1_000_000 && !nanos.is_multiple_of(1_000_000) {
        v.error("only durations to ms precision are supported");
    }
}

/// `validateLoadBalancer`.
fn validate_load_balancer(lb: &LoadBalancerSettings, has_outlier: bool, v: &mut Validator) {
    v.one_of(&[lb.simple.is_some(), lb.consistent_hash.is_some()]);
    if let Some(ch) = &lb.consistent_hash {
        v.field("consistentHash", |v| validate_consistent_hash(ch, v));
    }
    if let Some(l) = &lb.locality_lb_setting {
        v.field("localityLbSetting", |v| {
            validate_locality_lb(l, has_outlier, v)
        });
    }
    if let Some(d) = &lb.warmup_duration_secs {
        v.field("warmupDurationSecs", |v| d.validate(v));
    }
    if let Some(w) = &lb.warmup {
        v.field("warmup", |v| {
            match &w.duration {
                None => v.required_field("duration"),
                Some(d) => v.field("duration", |v| d.validate(v)),
            }
            if let Some(p) = w.minimum_percent {
                v.field("minimumPercent", |v| v.bounds(p, Some(0.0), Some(100.0)));
            }
            if let Some(a) = w.aggression {
                v.field("aggression", |v| v.bounds(a, Some(1.0), None));
            }
        });
    }
}

fn validate_consistent_hash(ch: &ConsistentHashLb, v: &mut Validator) {
    v.one_of(&[
        ch.http_header_name.is_some(),
        ch.http_cookie.is_some(),
        ch.use_source_ip.is_some(),
        ch.http_query_parameter_name.is_some(),
    ]);
    v.one_of(&[ch.ring_hash.is_some(), ch.maglev.is_some()]);
    if let Some(cookie) = &ch.http_cookie {
        v.field("httpCookie", |v| {
            match cookie.name.as_deref() {
                None => v.required_field("name"),
                Some("") => v.field("name", |v| v.error("name required for HttpCookie")),
                Some(_) => {}
            }
            if let Some(ttl) = &cookie.ttl {
                v.field("ttl", |v| {
                    ttl.validate_decode_only(v);
                });
            }
        });
    }
    if ch.minimum_ring_size != 0 {
        v.field("minimumRingSize", |v| {
            v.warn("consistent hash MinimumRingSize is deprecated, use ConsistentHashLB's RingHash configuration instead");
            if ch.ring_hash.is_some() || ch.maglev.is_some() {
                v.error("only one of MinimumRingSize or Maglev/Ringhash can be specified");
            }
        });
    }
    if let Some(m) = &ch.maglev {
        v.field("maglev", |v| {
            v.field("tableSize", |v| {
                if m.table_size == 0 {
                    v.error("tableSize must be set for maglev");
                }
                if m.table_size >= 5_000_011 {
                    v.error("tableSize must be less than 5000011 for maglev");
                }
                if !is_prime(m.table_size) {
                    v.error("tableSize must be a prime number for maglev");
                }
            })
        });
    }
}

/// Envoy's `isPrime` (which istiod copies), quirks included: 0 is not
/// prime, 1 is.
fn is_prime(x: u64) -> bool {
    if x != 0 && x < 4 {
        return true;
    }
    if x.is_multiple_of(2) {
        return false;
    }
    let limit = (x as f64).sqrt() as u64;
    (3..=limit).step_by(2).all(|f| !x.is_multiple_of(f))
}

/// `agent.ValidateLocalityLbSetting`.
fn validate_locality_lb(l: &LocalityLbSetting, has_outlier: bool, v: &mut Validator) {
    const TOPOLOGY_LABELS: [&str; 3] = [
        "topology.kubernetes.io/region",
        "topology.kubernetes.io/zone",
        "topology.istio.io/subzone",
    ];
    if !l.distribute.is_empty() && !l.failover.is_empty() {
        v.error("can not simultaneously specify 'distribute' and 'failover'");
        return;
    }
    if !l.failover.is_empty()
        && let Some(label) = l
            .failover_priority
            .iter()
            .find(|p| TOPOLOGY_LABELS.contains(&p.as_str()))
    {
        v.field("failoverPriority", |v| v.error(format!("can not simultaneously set 'failover' and topology label '{label}' in 'failover_priority'")));
        return;
    }
    let mut stop = false;
    v.each("distribute", &l.distribute, |v, _, d| {
        if stop {
            return;
        }
        v.field("to", |v| {
            if d.to.values().any(|&w| w == 0 || w > 100) {
                v.error("locality weight must be in range [1, 100]");
                stop = true;
                return;
            }
            let total: u64 = d.to.values().map(|&w| u64::from(w)).sum();
            if total != 100 {
                v.error(format!("total locality weight {total} != 100"));
                stop = true;
                return;
            }
            if let Some(e) = locality_problem(d.to.keys().map(String::as_str)) {
                v.error(e);
            }
        });
    });
    if stop {
        return;
    }
    if let Some(e) = locality_problem(l.distribute.iter().map(|d| d.from.as_str())) {
        v.field("distribute", |v| v.error(e));
    }
    if (!l.failover.is_empty() || !l.failover_priority.is_empty()) && !has_outlier {
        v.warn("outlier detection policy must be provided for failover");
    }
    v.each("failover", &l.failover, |v, _, f| {
        if f.from == f.to {
            v.error("locality lb failover settings must specify different regions");
        }
        if f.from.contains('/') || f.to.contains('/') {
            v.error("locality lb failover only specify region");
        }
        if f.from.contains('*') || f.to.contains('*') {
            v.error("locality lb failover region should not contain '*' wildcard");
        }
    });
}

/// `validateLocalities`: `region[/zone[/subzone]]` with at most one `*`,
/// at the end, and no locality covered by an earlier one.
fn locality_problem<'a>(localities: impl Iterator<Item = &'a str>) -> Option<String> {
    // region -> zone -> subzones; "*" marks "everything below".
    let mut seen: BTreeMap<&str, BTreeMap<&str, Vec<&str>>> = BTreeMap::new();
    for loc in localities {
        let stars = loc.matches('*').count();
        if stars > 1 || (stars == 1 && !loc.ends_with('*')) {
            return Some(format!(
                "locality {loc} wildcard '*' number can not exceed 1 and must be in the end"
            ));
        }
        let overlap = || {
            Some(format!(
                "locality {loc} overlap with previous specified ones"
            ))
        };
        if seen.contains_key("*") {
            return overlap();
        }
        let parts: Vec<&str> = loc.splitn(3, '/').collect();
        if parts.iter().any(|p| p.is_empty()) {
            return Some(format!(
                "locality {loc} must not contain empty region/zone/subzone info"
            ));
        }
        match parts[..] {
            [region] => {
                if seen.contains_key(region) {
                    return overlap();
                }
                seen.insert(region, BTreeMap::from([("*", vec!["*"])]));
            }
            [region, zone] => {
                let zones = seen.entry(region).or_default();
                if zones.contains_key("*") || zones.contains_key(zone) {
                    return overlap();
                }
                zones.insert(zone, vec!["*"]);
            }
            [region, zone, subzone] => {
                let zones = seen.entry(region).or_default();
                if zones.contains_key("*") {
                    return overlap();
                }
                let subzones = zones.entry(zone).or_default();
                if subzones.contains(&"*") || subzones.contains(&subzone) {
                    return overlap();
                }
                subzones.push(subzone);
            }
            _ => unreachable!("splitn(3) yields 1 to 3 parts"),
        }
    }
    None
}

/// `agent.ValidateTLS`.
fn validate_client_tls(t: &ClientTlsSettings, namespace: &str, v: &mut Validator) {
    if let Some(res) = t.credential_name.strip_prefix("configmap://") {
        let name = &t.credential_name;
        let problem = match res.split('/').collect::<Vec<_>>()[..] {
            [_] => Some(format!(
                "invalid resource name {name:?}. Expected namespace and name"
            )),
            ["", ..] => Some(format!(
                "invalid resource name {name:?}. Expected namespace"
            )),
            [_, "", ..] => Some(format!("invalid resource name {name:?}. Expected name")),
            [ns, ..] if ns != namespace => Some(format!(
                "namespace must match the configuration namespace {namespace:?}"
            )),
            _ => None,
        };
        if let Some(p) = problem {
            v.field("credentialName", |v| {
                v.error(format!("invalid configmap:// credentialName: {p}"))
            });
        }
    }
    if t.insecure_skip_verify == Some(true) {
        if t.mode == TlsMode::Simple
            && (!t.ca_certificates.is_empty()
                || !t.credential_name.is_empty()
                || !t.subject_alt_names.is_empty())
        {
            v.error("cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify is set true");
        }
        if t.mode == TlsMode::Mutual
            && (!t.ca_certificates.is_empty() || !t.subject_alt_names.is_empty())
        {
            v.error(
                "cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true",
            );
        }
    }
    let simple_or_mutual = matches!(t.mode, TlsMode::Simple | TlsMode::Mutual);
    if simple_or_mutual && !t.credential_name.is_empty() {
        // The credential supplies the certificates.
        if !t.client_certificate.is_empty()
            || !t.ca_certificates.is_empty()
            || !t.private_key.is_empty()
            || !t.ca_crl.is_empty()
        {
            v.error("cannot specify client certificates or CA certificate or CA CRL If credentialName is set");
        }
        return;
    }
    if t.mode == TlsMode::Mutual {
        if t.client_certificate.is_empty() {
            v.error("client certificate required for mutual tls");
        }
        if t.private_key.is_empty() {
            v.error("private key required for mutual tls");
        }
    }
}

spec_resources!(DestinationRule);

#[cfg(test)]
mod tests {
    use test_case::test_case;

    use crate::config::load_str;
    use crate::config::testing::{clean, located, manifest, problems};

    fn destination_rule(spec: &str) -> Vec<String> {
        problems(&manifest(
            "networking.istio.io/v1",
            "DestinationRule",
            "r",
            "ns",
            spec,
        ))
    }

    /// A rule for host `r` with this traffic policy.
    fn policy(tp: &str) -> String {
        destination_rule(&format!("{{host: r, trafficPolicy: {tp}}}")).join("\n")
    }

    // ValidateDestinationRule: host, subsets, exportTo, workloadSelector.
    #[test_case("{subsets: [{name: v1}]}", &["error: spec.host: Required value"]; "host required")]
    #[test_case("{host: bad_host}", &["error: spec.host: domain name \"bad_host\" invalid (label \"bad_host\" invalid)"]; "bad host")]
    #[test_case("{host: \"*\"}", &[]; "wildcard host")]
    #[test_case("{host: r, subsets: [{name: v1}, {name: v1, labels: {version: v1}}]}",
        &["error: spec.subsets[1].name: duplicate subset names: v1"]; "duplicate subsets")]
    #[test_case("{host: r, subsets: [{labels: {a: b}}, {name: \"\"}, {name: v_1}, {name: v2, labels: {\"bad key!\": x, app: \"bad value!\"}}]}",
        &["error: spec.subsets[0].name: Required value",
          "error: spec.subsets[1].name: subset name cannot be empty",
          "error: spec.subsets[2].name: subset name is invalid: v_1",
          "error: spec.subsets[3].labels: invalid tag value: \"bad value!\"",
          "error: spec.subsets[3].labels: invalid tag key: \"bad key!\""]; "subset names and labels")]
    #[test_case("{host: r, subsets: [{name: v1, trafficPolicy: {}}]}",
        &["error: spec.subsets[0].trafficPolicy: traffic policy must have at least one field"]; "empty subset policy")]
    #[test_case("{host: r, subsets: [{name: v1, trafficPolicy: {loadBalancer: {warmup: {duration: 1s, minimumPercent: 101}}}}]}",
        &["error: spec.subsets[0].trafficPolicy.loadBalancer.warmup.minimumPercent: Invalid value: 101: spec.subsets[0].trafficPolicy.loadBalancer.warmup.minimumPercent in body should be less than or equal to 100"]; "subset bound path")]
    #[test_case("{host: r, exportTo: [\".\", other], workloadSelector: {matchLabels: {app: a}}}",
        &["error: spec.exportTo: destination rule with workload selector cannot have multiple entries in exportTo"]; "selector with several exports")]
    #[test_case("{host: r, exportTo: [other], workloadSelector: {matchLabels: {app: a}}}",
        &["error: spec.exportTo: destination rule with workload selector cannot have exportTo beyond current namespace"]; "selector exported elsewhere")]
    #[test_case("{host: r, exportTo: [ns, \".\"]}",
        &["error: spec.exportTo: duplicate entries in exportTo: . and current namespace ns"]; "duplicate export")]
    #[test_case("{host: r, workloadSelector: {}}",
        &["warning: spec.workloadSelector: workload selector specified without labels"]; "selector without labels")]
    #[test_case("{host: r, workloadSelector: {matchLabels: {app: \"*\"}}}",
        &["error: spec.workloadSelector.matchLabels.app: Invalid value: \"string\": wildcard not allowed in label value match"]; "selector wildcard")]
    fn rule_level(spec: &str, want: &[&str]) {
        assert_eq!(destination_rule(spec), want);
    }

    // validateTrafficPolicy, validatePortTrafficPolicies, validateTunnelSettings.
    #[test_case("{}", "error: spec.trafficPolicy: traffic policy must have at least one field"; "empty policy")]
    #[test_case("{tunnel: {targetHost: a.com, targetPort: 443}, proxyProtocol: {version: V2}}",
        "error: spec.trafficPolicy: tunnel and proxyProtocol must not be set together"; "tunnel and proxy protocol")]
    #[test_case("{tunnel: {protocol: GET, targetHost: bad_host, targetPort: 0}}",
        "error: spec.trafficPolicy.tunnel.protocol: tunnel protocol must be \"CONNECT\" or \"POST\"\n\
         error: spec.trafficPolicy.tunnel.targetHost: tunnel target host must be valid FQDN or IP address: domain name \"bad_host\" invalid (label \"bad_host\" invalid); bad_host is not a valid IP\n\
         error: spec.trafficPolicy.tunnel.targetPort: tunnel target port is invalid: port number 0 must be in the range 1..65535"; "tunnel")]
    #[test_case("{tunnel: {targetHost: 10.0.0.1, targetPort: 3128}}", ""; "tunnel to an ip")]
    #[test_case("{tunnel: {}}",
        "error: spec.trafficPolicy.tunnel.targetHost: Required value\nerror: spec.trafficPolicy.tunnel.targetPort: Required value"; "tunnel required fields")]
    #[test_case("{proxyProtocol: {version: V3}}",
        "error: spec.trafficPolicy.proxyProtocol.version: Unsupported value: \"V3\": supported values: \"V1\", \"V2\""; "proxy protocol version")]
    #[test_case("{retryBudget: {percent: 150}}",
        "error: spec.trafficPolicy.retryBudget.percent: Invalid value: 150: spec.trafficPolicy.retryBudget.percent in body should be less than or equal to 100"; "retry budget")]
    #[test_case("{portLevelSettings: [{}, {port: {number: 80}, connectionPool: {}}]}",
        "error: spec.trafficPolicy.portLevelSettings[0]: portTrafficPolicy must have valid port\n\
         error: spec.trafficPolicy.portLevelSettings[0]: port traffic policy must have at least one field\n\
         error: spec.trafficPolicy.portLevelSettings[1].connectionPool: connection pool must have at least one field"; "port level")]
    #[test_case("{portLevelSettings: [{port: {number: 80}, loadBalancer: {warmup: {duration: 1s, aggression: 0.5}}}]}",
        "error: spec.trafficPolicy.portLevelSettings[0].loadBalancer.warmup.aggression: Invalid value: 0.5: spec.trafficPolicy.portLevelSettings[0].loadBalancer.warmup.aggression in body should be greater than or equal to 1"; "port level bound path")]
    // validateOutlierDetection.
    #[test_case("{outlierDetection: {consecutiveErrors: 5}}",
        "warning: spec.trafficPolicy.outlierDetection.consecutiveErrors: outlier detection consecutive errors is deprecated, use consecutiveGatewayErrors or consecutive5xxErrors instead"; "consecutive errors")]
    #[test_case("{outlierDetection: {consecutiveLocalOriginFailures: 3, consecutive5xxErrors: 2, interval: 0s, maxEjectionPercent: 150, minHealthPercent: -1}}",
        "error: spec.trafficPolicy.outlierDetection.consecutiveLocalOriginFailures: outlier detection consecutive local origin failures is specified, but split external local origin errors is set to false\n\
         error: spec.trafficPolicy.outlierDetection.interval: Invalid value: \"string\": must be a valid duration greater than 1ms\n\
         error: spec.trafficPolicy.outlierDetection.maxEjectionPercent: percentage 150 is not in range 0..100\n\
         error: spec.trafficPolicy.outlierDetection.minHealthPercent: percentage -1 is not in range 0..100"; "outlier detection")]
    #[test_case("{outlierDetection: {splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 3, consecutiveGatewayErrors: 4, baseEjectionTime: 1m}}", ""; "local origin split")]
    // validateConnectionPool.
    #[test_case("{connectionPool: {}}", "error: spec.trafficPolicy.connectionPool: connection pool must have at least one field"; "empty pool")]
    #[test_case("{connectionPool: {http: {http1MaxPendingRequests: -1, http2MaxRequests: -1, maxRequestsPerConnection: -1, maxRetries: -1, maxConcurrentStreams: -1, h2UpgradePolicy: UPGRADE, useClientProtocol: true, idleTimeout: 1.5ms}}}",
        "error: spec.trafficPolicy.connectionPool.http.http1MaxPendingRequests: http1 max pending requests must be non-negative\n\
         error: spec.trafficPolicy.connectionPool.http.http2MaxRequests: http2 max requests must be non-negative\n\
         error: spec.trafficPolicy.connectionPool.http.maxRequestsPerConnection: max requests per connection must be non-negative\n\
         error: spec.trafficPolicy.connectionPool.http.maxRetries: max retries must be non-negative\n\
         error: spec.trafficPolicy.connectionPool.http.idleTimeout: only durations to ms precision are supported\n\
         error: spec.trafficPolicy.connectionPool.http: use client protocol must not be true when H2UpgradePolicy is UPGRADE\n\
         error: spec.trafficPolicy.connectionPool.http.maxConcurrentStreams: max concurrent streams must be non-negative"; "http pool")]
    #[test_case("{connectionPool: {tcp: {maxConnections: -1, connectTimeout: 0s, tcpKeepalive: {time: 0s}}}}",
        "error: spec.trafficPolicy.connectionPool.tcp.maxConnections: max connections must be non-negative\n\
         error: spec.trafficPolicy.connectionPool.tcp.connectTimeout: Invalid value: \"string\": must be a valid duration greater than 1ms\n\
         error: spec.trafficPolicy.connectionPool.tcp.tcpKeepalive.time: Invalid value: \"string\": must be a valid duration greater than 1ms"; "tcp pool")]
    #[test_case("{connectionPool: {tcp: {idleTimeout: 0s}}}", ""; "idle timeout zero disables")]
    #[test_case("{connectionPool: {tcp: {idleTimeout: 1.5ms}}}",
        "error: spec.trafficPolicy.connectionPool.tcp.idleTimeout: only durations to ms precision are supported"; "idle timeout precision")]
    #[test_case("{connectionPool: {tcp: {idleTimeout: abc}}}",
        "error: spec.trafficPolicy.connectionPool.tcp.idleTimeout: error decoding configuration: bad Duration: time: invalid duration \"abc\""; "idle timeout decode")]
    // validateLoadBalancer.
    #[test_case("{loadBalancer: {simple: RANDOM, consistentHash: {useSourceIp: true}}}",
        "error: spec.trafficPolicy.loadBalancer: must validate one and only one schema (oneOf). Found 2 valid alternatives"; "simple or hash")]
    #[test_case("{loadBalancer: {simple: FASTEST}}",
        "error: spec.trafficPolicy.loadBalancer.simple: Unsupported value: \"FASTEST\": supported values: \"UNSPECIFIED\", \"LEAST_CONN\", \"RANDOM\", \"PASSTHROUGH\", \"ROUND_ROBIN\", \"LEAST_REQUEST\""; "unknown algorithm")]
    #[test_case("{loadBalancer: {consistentHash: {httpHeaderName: x-user, useSourceIp: true}}}",
        "error: spec.trafficPolicy.loadBalancer.consistentHash: must validate one and only one schema (oneOf). Found 2 valid alternatives"; "two hash keys")]
    #[test_case("{loadBalancer: {consistentHash: {httpCookie: {name: \"\", ttl: 0s}}}}",
        "error: spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.name: name required for HttpCookie"; "cookie name empty")]
    #[test_case("{loadBalancer: {consistentHash: {httpCookie: {path: /}}}}",
        "error: spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.name: Required value"; "cookie name missing")]
    #[test_case("{loadBalancer: {consistentHash: {useSourceIp: true, minimumRingSize: 1024, maglev: {tableSize: 65537}}}}",
        "warning: spec.trafficPolicy.loadBalancer.consistentHash.minimumRingSize: consistent hash MinimumRingSize is deprecated, use ConsistentHashLB's RingHash configuration instead\n\
         error: spec.trafficPolicy.loadBalancer.consistentHash.minimumRingSize: only one of MinimumRingSize or Maglev/Ringhash can be specified"; "minimum ring size")]
    #[test_case("{loadBalancer: {consistentHash: {useSourceIp: true, maglev: {tableSize: 0}}}}",
        "error: spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize: tableSize must be set for maglev\n\
         error: spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize: tableSize must be a prime number for maglev"; "maglev unset")]
    #[test_case("{loadBalancer: {consistentHash: {useSourceIp: true, maglev: {tableSize: 5000012}}}}",
        "error: spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize: tableSize must be less than 5000011 for maglev\n\
         error: spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize: tableSize must be a prime number for maglev"; "maglev too large")]
    #[test_case("{loadBalancer: {warmupDurationSecs: 0s, warmup: {minimumPercent: -1}}}",
        "error: spec.trafficPolicy.loadBalancer.warmupDurationSecs: Invalid value: \"string\": must be a valid duration greater than 1ms\n\
         error: spec.trafficPolicy.loadBalancer.warmup.duration: Required value\n\
         error: spec.trafficPolicy.loadBalancer.warmup.minimumPercent: Invalid value: -1: spec.trafficPolicy.loadBalancer.warmup.minimumPercent in body should be greater than or equal to 0"; "warmup")]
    // agent.ValidateLocalityLbSetting.
    #[test_case("{loadBalancer: {localityLbSetting: {distribute: [{from: a, to: {b: 100}}], failover: [{from: a, to: b}]}}}",
        "error: spec.trafficPolicy.loadBalancer.localityLbSetting: can not simultaneously specify 'distribute' and 'failover'"; "distribute and failover")]
    #[test_case("{outlierDetection: {consecutive5xxErrors: 1}, loadBalancer: {localityLbSetting: {failover: [{from: a, to: b}], failoverPriority: [topology.kubernetes.io/zone]}}}",
        "error: spec.trafficPolicy.loadBalancer.localityLbSetting.failoverPriority: can not simultaneously set 'failover' and topology label 'topology.kubernetes.io/zone' in 'failover_priority'"; "failover with topology priority")]
    #[test_case("{loadBalancer: {localityLbSetting: {distribute: [{from: us-west/z1/*, to: {us-west/z1/*: 0}}]}}}",
        "error: spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to: locality weight must be in range [1, 100]"; "locality weight zero")]
    #[test_case("{loadBalancer: {localityLbSetting: {distribute: [{from: us-west/z1/*, to: {us-west/z1/*: 80, us-west/z2/*: 10}}]}}}",
        "error: spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to: total locality weight 90 != 100"; "locality total")]
    #[test_case("{loadBalancer: {localityLbSetting: {distribute: [{from: us-west, to: {us-west/*: 50, us-west/z1: 50}}]}}}",
        "error: spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to: locality us-west/z1 overlap with previous specified ones"; "locality overlap")]
    #[test_case("{loadBalancer: {localityLbSetting: {distribute: [{from: \"us-west/*/z\", to: {us-west: 100}}, {from: \"a//b\", to: {us-west: 100}}]}}}",
        "error: spec.trafficPolicy.loadBalancer.localityLbSetting.distribute: locality us-west/*/z wildcard '*' number can not exceed 1 and must be in the end"; "locality wildcard")]
    #[test_case("{loadBalancer: {localityLbSetting: {distribute: [{from: \"a//b\", to: {us-west: 100}}]}}}",
        "error: spec.trafficPolicy.loadBalancer.localityLbSetting.distribute: locality a//b must not contain empty region/zone/subzone info"; "locality empty part")]
    #[test_case("{loadBalancer: {localityLbSetting: {failover: [{from: a, to: a}, {from: a/b, to: \"c*\"}]}}}",
        "warning: spec.trafficPolicy.loadBalancer.localityLbSetting: outlier detection policy must be provided for failover\n\
         error: spec.trafficPolicy.loadBalancer.localityLbSetting.failover[0]: locality lb failover settings must specify different regions\n\
         error: spec.trafficPolicy.loadBalancer.localityLbSetting.failover[1]: locality lb failover only specify region\n\
         error: spec.trafficPolicy.loadBalancer.localityLbSetting.failover[1]: locality lb failover region should not contain '*' wildcard"; "failover")]
    // agent.ValidateTLS.
    #[test_case("{tls: {mode: MUTUAL}}",
        "error: spec.trafficPolicy.tls: client certificate required for mutual tls\nerror: spec.trafficPolicy.tls: private key required for mutual tls"; "mutual without certs")]
    #[test_case("{tls: {mode: SIMPLE, insecureSkipVerify: true, caCertificates: /ca.pem}}",
        "error: spec.trafficPolicy.tls: cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify is set true"; "simple insecure")]
    #[test_case("{tls: {mode: MUTUAL, insecureSkipVerify: true, subjectAltNames: [a], credentialName: c}}",
        "error: spec.trafficPolicy.tls: cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true"; "mutual insecure")]
    #[test_case("{tls: {mode: SIMPLE, credentialName: c, clientCertificate: /c.pem}}",
        "error: spec.trafficPolicy.tls: cannot specify client certificates or CA certificate or CA CRL If credentialName is set"; "credential and files")]
    #[test_case("{tls: {mode: SIMPLE, credentialName: \"configmap://ca\"}}",
        "error: spec.trafficPolicy.tls.credentialName: invalid configmap:// credentialName: invalid resource name \"configmap://ca\". Expected namespace and name"; "configmap without namespace")]
    #[test_case("{tls: {mode: SIMPLE, credentialName: \"configmap://other/ca\"}}",
        "error: spec.trafficPolicy.tls.credentialName: invalid configmap:// credentialName: namespace must match the configuration namespace \"ns\""; "configmap elsewhere")]
    #[test_case("{tls: {mode: ISTIO_MUTUAL, sni: a.com}}", ""; "istio mutual")]
    fn traffic_policies(tp: &str, want: &str) {
        assert_eq!(policy(tp), want);
    }

    #[test]
    fn subsets_are_found_by_name() {
        let loaded = clean(
            "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: r}\nspec: {host: r, subsets: [{name: v1, labels: {version: v1}}]}\n",
        );
        let crate::config::Body::DestinationRule(dr) = &loaded.objects[0].body else {
            panic!("not a DestinationRule");
        };
        assert_eq!(dr.host(), "r");
        assert_eq!(
            dr.subset("v1").map(|s| s.labels["version"].as_str()),
            Some("v1")
        );
        assert!(dr.subset("v2").is_none());
    }

    /// Several problems in one document, each with its path and line.
    #[test]
    fn problems_are_located() {
        let text = "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  trafficPolicy:
    outlierDetection:
      consecutiveErrors: 3
      maxEjectionPercent: 200
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v1
    trafficPolicy: {}
";
        assert_eq!(
            located(text),
            [
                "9: warning: spec.trafficPolicy.outlierDetection.consecutiveErrors: outlier detection consecutive errors is deprecated, use consecutiveGatewayErrors or consecutive5xxErrors instead",
                "10: error: spec.trafficPolicy.outlierDetection.maxEjectionPercent: percentage 200 is not in range 0..100",
                "15: error: spec.subsets[1].name: duplicate subset names: v1",
                "16: error: spec.subsets[1].trafficPolicy: traffic policy must have at least one field",
            ]
        );
    }

    /// The DestinationRules of the course's Istio module load; the only
    /// findings are the deprecation warnings for `consecutiveErrors`.
    #[test]
    fn course_destination_rules_load_with_the_expected_warnings() {
        let loaded = load_str("course.yaml", COURSE, None);
        let got: Vec<String> = loaded
            .diagnostics
            .iter()
            .map(|d| {
                format!(
                    "{} {} {}: {}",
                    d.severity,
                    d.object.as_deref().unwrap_or(""),
                    d.path,
                    d.message
                )
            })
            .collect();
        let warning = |name: &str| {
            format!(
                "warning DestinationRule {name} spec.trafficPolicy.outlierDetection.consecutiveErrors: outlier detection consecutive errors is deprecated, use consecutiveGatewayErrors or consecutive5xxErrors instead"
            )
        };
        assert_eq!(
            got,
            vec![
                warning("default/reviews-destination"),
                warning("bookinfo/reviews-cb"),
                warning("bookinfo/reviews-resilient"),
                warning("default/locality-lb"),
            ]
        );
        assert_eq!(loaded.objects.len(), 5);
    }

    /// The course's "high-throughput" example writes `warmupDurationSecs:
    /// 60`; the CRD types it as a duration string, so a cluster rejects it.
    #[test]
    fn course_warmup_duration_must_be_a_string() {
        let text = "apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\nmetadata: {name: high-throughput-service}\nspec:\n  host: api.prod.svc.cluster.local\n  trafficPolicy:\n    loadBalancer:\n      simple: LEAST_REQUEST\n      warmupDurationSecs: 60\n";
        let loaded = load_str("x.yaml", text, None);
        let errors: Vec<String> = loaded
            .errors()
            .map(|d| format!("{}: {}", d.path, d.message))
            .collect();
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0]
                .starts_with("spec.trafficPolicy.loadBalancer.warmupDurationSecs: expected string"),
            "{errors:?}"
        );
    }

    const COURSE: &str = r#"
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: reviews-destination
spec:
  host: reviews.default.svc.cluster.local
  trafficPolicy:
    connectionPool:
      tcp:
        maxConnections: 100
      http:
        http1MaxPendingRequests: 50
        maxRequestsPerConnection: 2
    loadBalancer:
      simple: LEAST_REQUEST
    outlierDetection:
      consecutiveErrors: 5
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews.bookinfo.svc.cluster.local
  trafficPolicy:
    loadBalancer:
      simple: RANDOM
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
  - name: v3
    labels:
      version: v3
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: reviews-cb
  namespace: bookinfo
spec:
  host: reviews.bookinfo.svc.cluster.local
  trafficPolicy:
    connectionPool:
      tcp:
        maxConnections: 1
      http:
        http1MaxPendingRequests: 1
        maxRequestsPerConnection: 1
    outlierDetection:
      consecutiveErrors: 1
      interval: 1s
      baseEjectionTime: 30s
      maxEjectionPercent: 100
      minHealthPercent: 0
  subsets:
  - name: v2
    labels:
      version: v2
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: reviews-resilient
  namespace: bookinfo
spec:
  host: reviews.bookinfo.svc.cluster.local
  trafficPolicy:
    connectionPool:
      tcp:
        maxConnections: 100
      http:
        http1MaxPendingRequests: 50
        maxRequestsPerConnection: 5
    loadBalancer:
      simple: LEAST_REQUEST
    outlierDetection:
      consecutiveErrors: 5
      interval: 30s
      baseEjectionTime: 1m
      maxEjectionPercent: 50
  subsets:
  - name: v2
    labels:
      version: v2
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: locality-lb
spec:
  host: myservice.default.svc.cluster.local
  trafficPolicy:
    loadBalancer:
      localityLbSetting:
        enabled: true
        distribute:
        - from: us-west/zone1/*
          to:
            "us-west/zone1/*": 80
            "us-west/zone2/*": 20
    outlierDetection:
      consecutiveErrors: 5
"#;
}
