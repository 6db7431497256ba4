//! A proxy's configuration as istiod pushes it (route configurations,
//! virtual hosts, routes, clusters), already compiled for evaluation:
//! regexes built, hosts resolved, clusters linked by index. The control
//! plane (`crate::control::routing`) writes it; the router
//! (`super::router`) reads it.
//!
//! Names follow what `istioctl proxy-config routes|clusters` shows: route
//! configs `9080` (or `<fqdn>:<port>` for sniffed ports, `http.8080` on a
//! gateway), virtual hosts `reviews.bookinfo.svc.cluster.local:9080`,
//! clusters `outbound|9080|v1|reviews.bookinfo.svc.cluster.local`.

use std::collections::BTreeMap;
use std::sync::Arc;

use regex::Regex;

use crate::config::networking::virtual_service::HttpFaultInjection;
use crate::sim::SimDuration;

use super::lb::PolicyConfig;
use super::outlier::OutlierConfig;
use super::pool::Limits;
use super::retry::RetryPolicy;
use super::route_match::CompiledMatch;
use crate::config::networking::destination_rule::TlsMode;

/// Which proxy a configuration is for: its namespace and labels (route
/// filtering by `sourceLabels`/`sourceNamespace`, DestinationRule
/// `workloadSelector`s), and the gateways it implements (`None` for a
/// sidecar, which is the `mesh` gateway).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ProxyIdentity {
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    /// `ns/name` of every Gateway whose selector picks this proxy.
    pub gateways: Option<Vec<String>>,
}

/// Where an outbound request to an unknown host goes
/// (`meshConfig.outboundTrafficPolicy.mode`, ALLOW_ANY by default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OutboundPolicy {
    /// `allow_any`: to the destination the application dialled.
    #[default]
    AllowAny,
    /// `block_all`: a direct 502.
    RegistryOnly,
}

impl std::str::FromStr for OutboundPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "ALLOW_ANY" => Ok(OutboundPolicy::AllowAny),
            "REGISTRY_ONLY" => Ok(OutboundPolicy::RegistryOnly),
            other => Err(format!(
                "Unsupported value: {other:?}: supported values: \"ALLOW_ANY\", \"REGISTRY_ONLY\""
            )),
        }
    }
}

#[derive(Clone, Debug)]
pub struct ProxyConfig {
    pub identity: ProxyIdentity,
    /// Route configurations by listener: a port, or a sniffed service port.
    pub routes: BTreeMap<Listener, RouteConfig>,
    pub clusters: Vec<Cluster>,
    pub outbound: OutboundPolicy,
    /// Gateways: the Gateway server port behind each pod port the route
    /// configurations are keyed by (a server on 80 listens on 8080).
    pub server_ports: BTreeMap<u16, u16>,
    /// Gateways: the pod ports whose servers terminate TLS, and how, by
    /// the SNI names each server takes.
    pub tls_ports: BTreeMap<u16, Vec<TlsServer>>,
    /// TCP proxying by (registry service, port) for non-HTTP ports.
    pub tcp: BTreeMap<(usize, u16), TcpRoute>,
    /// Gateways: TCP and TLS-passthrough servers by pod port.
    pub gateway_tcp: BTreeMap<u16, TcpRoute>,
}

/// How a gateway server that terminates TLS treats its clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsTermination {
    /// `SIMPLE` or `OPTIONAL_MUTUAL`: any client completes the handshake.
    ServerOnly,
    /// `MUTUAL` or `ISTIO_MUTUAL`: the handshake needs a client
    /// certificate, which meshsim's probe clients do not present.
    ClientCertRequired,
}

/// A gateway server that terminates TLS: its hosts are the filter chain's
/// `server_names` (I model/gateway.go `GetSNIHostsForServer`).
#[derive(Clone, Debug)]
pub struct TlsServer {
    pub hosts: Vec<String>,
    pub termination: TlsTermination,
}

/// The server whose filter chain a TLS client with `sni` lands on: an
/// exact name first, then the longest `*.` wildcard, then `*`; `None`: no
/// filter chain matches and the handshake is refused.
pub fn tls_server_for<'s>(servers: &'s [TlsServer], sni: &str) -> Option<&'s TlsServer> {
    let sni = sni.to_ascii_lowercase();
    let score = |h: &str| -> Option<usize> {
        let h = h.to_ascii_lowercase();
        if h == sni {
            Some(usize::MAX)
        } else if h == "*" {
            Some(0)
        } else {
            h.strip_prefix('*')
                .filter(|suffix| sni.len() > suffix.len() && sni.ends_with(suffix))
                .map(|suffix| suffix.len())
        }
    };
    servers
        .iter()
        .filter_map(|s| {
            s.hosts
                .iter()
                .filter_map(|h| score(h))
                .max()
                .map(|n| (n, s))
        })
        .max_by_key(|(n, _)| *n)
        .map(|(_, s)| s)
}

/// Where a sidecar sends TCP traffic for one service port.
#[derive(Clone, Debug)]
pub struct TcpRoute {
    pub origin: RouteOrigin,
    /// Weighted clusters; one means no weighting.
    pub clusters: Vec<(ClusterRef, u32)>,
    /// A TLS port's filter chains by SNI, from VirtualService `tls` rules.
    /// When there are any, they are all the port has: a connection whose
    /// SNI none of them names matches no filter chain (I tls.go
    /// `buildSidecarOutboundTLSFilterChainOpts` adds the service's default
    /// chain only when no `tls` match applies).
    pub sni: Vec<SniRoute>,
}

/// One TLS filter chain: the SNI names it takes and where it sends them.
#[derive(Clone, Debug)]
pub struct SniRoute {
    pub sni_hosts: Vec<String>,
    pub origin: RouteOrigin,
    pub clusters: Vec<(ClusterRef, u32)>,
}

impl TcpRoute {
    /// The chain Envoy's filter chain match picks for `sni`: an exact
    /// server name first, then the longest `*.` wildcard
    /// (`FilterChainManagerImpl::findFilterChainForServerName`).
    pub fn chain_for(&self, sni: &str) -> Option<&SniRoute> {
        let sni = sni.to_ascii_lowercase();
        self.sni
            .iter()
            .find(|c| c.sni_hosts.iter().any(|h| h.eq_ignore_ascii_case(&sni)))
            .or_else(|| {
                self.sni
                    .iter()
                    .filter_map(|c| {
                        c.sni_hosts
                            .iter()
                            .filter_map(|h| h.strip_prefix('*'))
                            .filter(|suffix| {
                                sni.len() > suffix.len()
                                    && sni.ends_with(&suffix.to_ascii_lowercase())
                            })
                            .map(str::len)
                            .max()
                            .map(|len| (len, c))
                    })
                    .max_by_key(|(len, _)| *len)
                    .map(|(_, c)| c)
            })
    }
}

/// An outbound HTTP listener's route configuration key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Listener {
    /// All HTTP services on a port share route config `"<port>"`.
    Port(u16),
    /// A port whose protocol is sniffed has one config per service,
    /// `"<fqdn>:<port>"`, whose only virtual host takes every Host.
    Sniffed(String, u16),
}

#[derive(Clone, Debug)]
pub struct RouteConfig {
    pub name: String,
    pub vhosts: Vec<VirtualHost>,
    exact: BTreeMap<String, usize>,
    /// `*.suffix` domains, longest suffix first.
    suffix: Vec<(String, usize)>,
    /// `prefix.*` domains, longest prefix first.
    prefix: Vec<(String, usize)>,
    any: Option<usize>,
}

impl RouteConfig {
    pub fn new(name: String, vhosts: Vec<VirtualHost>) -> RouteConfig {
        let mut exact = BTreeMap::new();
        let mut suffix = Vec::new();
        let mut prefix = Vec::new();
        let mut any = None;
        for (i, vh) in vhosts.iter().enumerate() {
            for d in &vh.domains {
                let d = d.to_ascii_lowercase();
                if d == "*" {
                    any.get_or_insert(i);
                } else if let Some(s) = d.strip_prefix('*') {
                    suffix.push((s.to_string(), i));
                } else if let Some(p) = d.strip_suffix('*') {
                    prefix.push((p.to_string(), i));
                } else {
                    exact.entry(d).or_insert(i);
                }
            }
        }
        suffix.sort_by_key(|s| std::cmp::Reverse(s.0.len()));
        prefix.sort_by_key(|p| std::cmp::Reverse(p.0.len()));
        RouteConfig {
            name,
            vhosts,
            exact,
            suffix,
            prefix,
            any,
        }
    }

    /// Envoy's virtual host selection: the Host lower-cased and without its
    /// port (Istio sets `ignore_port_in_host_matching`), then an exact
    /// domain, the longest `*.suffix`, the longest `prefix.*`, then `*`; a
    /// wildcard never matches an empty remainder.
    pub fn select(&self, authority: &str) -> Option<usize> {
        let host = strip_port(authority);
        // Hosts are nearly always lower case already: no allocation then.
        let host: std::borrow::Cow<'_, str> = if host.bytes().any(|b| b.is_ascii_uppercase()) {
            host.to_ascii_lowercase().into()
        } else {
            host.into()
        };
        if let Some(&i) = self.exact.get(host.as_ref()) {
            return Some(i);
        }
        let by_suffix = self
            .suffix
            .iter()
            .find(|(s, _)| host.len() > s.len() && host.ends_with(s.as_str()));
        let by_prefix = || {
            self.prefix
                .iter()
                .find(|(p, _)| host.len() > p.len() && host.starts_with(p.as_str()))
        };
        by_suffix.or_else(by_prefix).map(|(_, i)| *i).or(self.any)
    }
}

/// `host:port` → `host`, leaving IPv6 literals (`[::1]:80`) intact.
pub fn strip_port(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority
            .split_once(']')
            .map_or(authority, |(h, _)| &authority[..=h.len()]);
    }
    match authority.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => authority,
    }
}

#[derive(Clone, Debug)]
pub struct VirtualHost {
    pub name: String,
    pub domains: Vec<String>,
    pub routes: Vec<Route>,
    /// The VirtualService whose routes these are, if any (`ns/name`).
    pub virtual_service: Option<String>,
    /// Envoy's `require_tls: ALL` (a Gateway server's `httpsRedirect`):
    /// a plain-HTTP request gets a 301 to `https://` before any route.
    pub require_tls: bool,
}

/// Where a route came from, for explanations and metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteOrigin {
    /// The route istiod writes for a Service without a VirtualService.
    Default,
    /// Rule `index` of VirtualService `ns/name`'s `http` list.
    VirtualService { name: String, index: usize },
    /// The catch-all of the route configuration (`allow_any`/`block_all`).
    CatchAll,
}

#[derive(Clone, Debug)]
pub struct Route {
    /// Envoy's route name: the rule's `name` (plus `.match-name`), or
    /// `default`, `allow_any`, `block_all`.
    pub name: String,
    pub origin: RouteOrigin,
    /// The gateway (`ns/name`) whose server this route was written for;
    /// `None` on a sidecar (`mesh`). A gateway workload several Gateways
    /// select holds routes for each, and a match's `gateways` condition is
    /// judged against the one its route belongs to.
    pub gateway: Option<String>,
    /// OR of blocks; empty means every request.
    pub matches: Vec<CompiledMatch>,
    /// For each block, how much of a matching path a `rewrite.uri`
    /// replaces.
    pub rewrite_spans: Vec<RewriteSpan>,
    pub action: Action,
    pub rewrite: Option<Rewrite>,
    pub request_headers: HeaderOps,
    pub response_headers: HeaderOps,
    pub mirrors: Vec<Mirror>,
    pub timeout: Option<SimDuration>,
    /// Envoy's retry policy on the route, shared by every request taking it.
    pub retry: Option<Arc<RetryPolicy>>,
    /// The fault filter's configuration for this route.
    pub fault: Option<Fault>,
}

/// Faults the client proxy injects on a route (Envoy's fault filter, as
/// istiod configures it: `TranslateFault`), chances per million.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    pub delay: Option<(SimDuration, u32)>,
    /// An HTTP status, and its chance.
    pub abort: Option<(u16, u32)>,
}

impl Fault {
    /// A VirtualService `fault`. A `percentage` counts in millionths of
    /// its value; without one a delay falls back to the deprecated integer
    /// `percent` (0 when unset) and an abort to 0%: both then never fire,
    /// whatever the docs said (istio/istio#36303, #39969).
    pub fn compile(f: &HttpFaultInjection) -> Option<Fault> {
        let per_million = |p: &crate::config::networking::common::Percent| {
            (p.value * 10_000.0).clamp(0.0, 1_000_000.0) as u32
        };
        let delay = f.delay.as_ref().and_then(|d| {
            let chance = match &d.percentage {
                Some(p) => per_million(p),
                None => (d.percent.clamp(0, 100) as u32) * 10_000,
            };
            // Exponential delays are not supported (istiod drops them).
            d.fixed_delay.as_ref().map(|t| (t.get(), chance))
        });
        let abort = f.abort.as_ref().and_then(|a| {
            let status = a.http_status? as u16;
            Some((status, a.percentage.as_ref().map_or(0, per_million)))
        });
        (delay.is_some() || abort.is_some()).then_some(Fault { delay, abort })
    }
}

impl Route {
    /// A route that matches every request and only does `action`.
    pub fn catch_all(name: &str, origin: RouteOrigin, action: Action) -> Route {
        Route {
            name: name.to_string(),
            origin,
            gateway: None,
            matches: Vec::new(),
            rewrite_spans: Vec::new(),
            action,
            rewrite: None,
            request_headers: HeaderOps::default(),
            response_headers: HeaderOps::default(),
            mirrors: Vec::new(),
            timeout: None,
            retry: None,
            fault: None,
        }
    }
}

/// What part of the path Envoy's `prefix_rewrite` replaces, by the kind of
/// `uri` match that selected the route: the prefix for a prefix match, the
/// whole path for exact and regex matches, `/` without a `uri` condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RewriteSpan {
    Prefix(usize),
    Whole,
    Root,
}

#[derive(Clone, Debug)]
pub enum Action {
    /// One or more weighted clusters (one means no weighting).
    Forward(Vec<WeightedCluster>),
    Redirect(Redirect),
    Direct {
        status: u16,
        body: String,
    },
    /// `allow_any`: to the original destination.
    Passthrough,
}

#[derive(Clone, Debug)]
pub struct WeightedCluster {
    pub cluster: ClusterRef,
    /// As written; Envoy picks `random % total` over the list.
    pub weight: u32,
    pub request_headers: HeaderOps,
    pub response_headers: HeaderOps,
    /// The destination's own `:authority` (weighted clusters only; a
    /// single destination's joins the route's rewrite).
    pub host_rewrite: Option<String>,
    /// The route's hash policy for this destination, which a ring hash or
    /// Maglev cluster hashes by (istiod puts it on the route, not the
    /// cluster).
    pub hash: Option<HashPolicy>,
}

/// A cluster a route names, resolved to this proxy's clusters when it
/// exists. A missing cluster is not an error at configuration time
/// (istiod sets `validate_clusters: false`): requests get 503 NC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterRef {
    pub name: String,
    pub index: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct Mirror {
    pub cluster: ClusterRef,
    /// 0–100.
    pub percent: f64,
}

#[derive(Clone, Debug, Default)]
pub struct Redirect {
    pub uri: Option<String>,
    pub authority: Option<String>,
    pub port: Option<u16>,
    pub scheme: Option<String>,
    pub code: u16,
}

#[derive(Clone, Debug)]
pub struct Rewrite {
    /// Envoy `prefix_rewrite`: replaces the part of the path the route's
    /// match covered (the prefix, the whole path for exact/regex, `/` for
    /// a rule without matches).
    pub uri: Option<String>,
    pub authority: Option<String>,
    /// `uriRegexRewrite`: every match replaced (`RE2::GlobalReplace`).
    pub regex: Option<(Regex, String)>,
}

/// Header operations as Envoy applies them: remove first, then set
/// (overwrite), then add (append).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderOps {
    pub set: Vec<(String, String)>,
    pub add: Vec<(String, String)>,
    pub remove: Vec<String>,
}

impl HeaderOps {
    /// These operations followed by `next`'s.
    pub fn then(mut self, next: &HeaderOps) -> HeaderOps {
        self.set.extend(next.set.iter().cloned());
        self.add.extend(next.add.iter().cloned());
        self.remove.extend(next.remove.iter().cloned());
        self
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.add.is_empty() && self.remove.is_empty()
    }

    pub fn apply(&self, headers: &mut Vec<(String, String)>) {
        headers.retain(|(k, _)| !self.remove.iter().any(|r| r.eq_ignore_ascii_case(k)));
        for (k, v) in &self.set {
            headers.retain(|(h, _)| !h.eq_ignore_ascii_case(k));
            headers.push((k.clone(), v.clone()));
        }
        for (k, v) in &self.add {
            headers.push((k.clone(), v.clone()));
        }
    }
}

/// How a consistent-hash cluster hashes a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HashPolicy {
    Header(String),
    Cookie {
        name: String,
        ttl: Option<SimDuration>,
    },
    SourceIp,
    QueryParameter(String),
}

#[derive(Clone, Debug)]
pub struct Cluster {
    pub name: String,
    /// The registry service behind it.
    pub service: usize,
    pub port: u16,
    pub subset: Option<String>,
    /// Endpoints must carry all these labels.
    pub subset_labels: BTreeMap<String, String>,
    pub lb: PolicyConfig,
    pub hash: Option<HashPolicy>,
    /// The DestinationRule that shaped it (`ns/name`).
    pub destination_rule: Option<String>,
    /// Circuit breakers and connection reuse (`connectionPool`).
    pub pool: Limits,
    /// Outlier detection, when the DestinationRule sets it.
    pub outlier: Option<OutlierConfig>,
    /// The DestinationRule's `tls.mode`; `None`: auto mTLS decides.
    pub tls: Option<TlsMode>,
}

impl ProxyConfig {
    pub fn cluster(&self, r: &ClusterRef) -> Option<&Cluster> {
        r.index.map(|i| &self.clusters[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vh(name: &str, domains: &[&str]) -> VirtualHost {
        VirtualHost {
            name: name.into(),
            domains: domains.iter().map(|d| d.to_string()).collect(),
            routes: vec![],
            virtual_service: None,
            require_tls: false,
        }
    }

    #[test]
    fn virtual_hosts_are_chosen_like_envoy() {
        let rc = RouteConfig::new(
            "80".into(),
            vec![
                vh("exact", &["reviews", "reviews.bookinfo.svc.cluster.local"]),
                vh("suffix", &["*.example.com"]),
                vh("longer-suffix", &["*.a.example.com"]),
                vh("prefix", &["api.*"]),
                vh("any", &["*"]),
            ],
        );
        let pick = |h: &str| rc.select(h).map(|i| rc.vhosts[i].name.clone());
        assert_eq!(
            pick("reviews:9080").as_deref(),
            Some("exact"),
            "the port is ignored"
        );
        assert_eq!(pick("REVIEWS").as_deref(), Some("exact"), "case is ignored");
        assert_eq!(pick("x.example.com").as_deref(), Some("suffix"));
        assert_eq!(pick("x.a.example.com").as_deref(), Some("longer-suffix"));
        assert_eq!(pick("api.other").as_deref(), Some("prefix"));
        assert_eq!(
            pick("example.com").as_deref(),
            Some("any"),
            "a wildcard needs something to cover"
        );
    }

    #[test]
    fn header_operations_remove_then_set_then_add() {
        let ops = HeaderOps {
            set: vec![("x-a".into(), "1".into())],
            add: vec![("x-b".into(), "2".into())],
            remove: vec!["x-a".into(), "x-c".into()],
        };
        let mut h = vec![
            ("x-a".into(), "0".into()),
            ("x-b".into(), "1".into()),
            ("x-c".into(), "3".into()),
        ];
        ops.apply(&mut h);
        assert_eq!(
            h,
            vec![
                ("x-b".to_string(), "1".to_string()),
                ("x-a".into(), "1".into()),
                ("x-b".into(), "2".into())
            ]
        );
    }

    #[test]
    fn ports_come_off_hosts() {
        assert_eq!(strip_port("reviews:9080"), "reviews");
        assert_eq!(strip_port("reviews"), "reviews");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
    }
}
