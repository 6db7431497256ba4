//! `istioctl proxy-config routes`: the route configurations the proxy's
//! Envoy holds. The ones loaded by RDS are the data path's own
//! (`ProxyConfig::routes`); the static ones are the bootstrap's and the
//! inline routes of the inbound listener's HTTP filter chains.
//!
//! Sources (istio/istio 1.27.9):
//! - W: `istioctl/pkg/writer/envoy/configdump/route.go`
//!   (`PrintRouteSummary` with `--verbose`, the default: one row per
//!   route, routes to `PassthroughCluster` left out, a virtual host
//!   without routes shown as `/*` and `404`; `describeRouteDomains`,
//!   `unexpandDomains`, `describeManagement`; RDS configurations before
//!   static ones, numeric names in ascending order) and `listener.go`
//!   (`describeMatch`: a prefix with `*`, an exact path as is, `regex R`).
//! - R: `pilot/pkg/networking/core/httproute.go`
//!   (`buildSidecarInboundHTTPRouteConfig`: route configuration
//!   `inbound|TARGET||`, virtual host `inbound|http|PORT` with the Service
//!   port, domain `*`, one route `/` to the inbound cluster; the catch-all
//!   inbound chains name theirs `InboundPassthroughCluster` with virtual
//!   host `inbound|http|0`), `gateway.go` (a server without virtual hosts
//!   gets `blackhole:PORT` with domain `*` and no routes).
//! - Envoy keeps one inline route configuration per HTTP filter chain, so
//!   a PERMISSIVE port shows two (mTLS and plaintext chains), as real
//!   output does (`inbound|80||` twice).
//!
//! Envoy's config dump lists route configurations in its own hash order;
//! meshsim lists RDS ones as the data path keys them (ports ascending,
//! then sniffed `host:port` ones) and the static ones as the bootstrap,
//! then the inbound chains declare them.

use serde_json::{Value, json};

use crate::dataplane::route_match::PathSpecifier;
use crate::dataplane::xds::{Action, Listener, Route, RouteConfig, RouteOrigin, VirtualHost};
use crate::sim::SimDuration;
use crate::world::World;

use super::envoy::{Proxy, RESERVED_PORTS};
use super::listeners::inbound_options;

/// A route configuration as Envoy holds it.
#[derive(Clone, Debug)]
pub struct EnvoyRouteConfig {
    pub name: String,
    pub vhosts: Vec<EnvoyVhost>,
}

#[derive(Clone, Debug)]
pub struct EnvoyVhost {
    pub name: String,
    pub domains: Vec<String>,
    pub routes: Vec<EnvoyRoute>,
}

/// One Envoy route: istiod writes one per match block of a rule.
#[derive(Clone, Debug)]
pub struct EnvoyRoute {
    pub name: String,
    pub path: Path,
    /// `ns/name` of the VirtualService it came from.
    pub virtual_service: Option<String>,
    pub action: RouteAction,
}

/// The route's path specifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Path {
    Prefix(String),
    Exact(String),
    Regex(String),
}

#[derive(Clone, Debug)]
pub enum RouteAction {
    /// Weighted clusters; one means no weighting.
    Clusters(Vec<(String, u32)>, Option<SimDuration>),
    Redirect(crate::dataplane::xds::Redirect),
    Direct {
        status: u16,
        body: String,
    },
}

impl EnvoyRoute {
    /// W `isPassthrough`: a route to `PassthroughCluster` (`allow_any`).
    fn is_passthrough(&self) -> bool {
        matches!(&self.action, RouteAction::Clusters(c, _) if c.len() == 1 && c[0].0 == "PassthroughCluster")
    }
}

/// Every route configuration of the proxy: RDS ones first.
pub fn route_configs(world: &World, proxy: &Proxy) -> Vec<EnvoyRouteConfig> {
    let mut out = if proxy.gateway {
        gateway_rds(world, proxy)
    } else {
        sidecar_rds(proxy)
    };
    out.push(bootstrap("/stats/prometheus", "prometheus_stats"));
    out.push(bootstrap("/healthz/ready", "agent"));
    if !proxy.gateway {
        out.extend(inbound(world, proxy));
    }
    out
}

/// A sidecar's RDS configurations; a port one of the sidecar's own
/// listeners holds gets no outbound listener, so no routes.
fn sidecar_rds(proxy: &Proxy) -> Vec<EnvoyRouteConfig> {
    proxy
        .config
        .routes
        .iter()
        .filter(|(l, _)| !matches!(l, Listener::Port(p) if RESERVED_PORTS.contains(p)))
        .map(|(_, rc)| convert(&rc.name, rc))
        .collect()
}

/// A gateway's RDS configurations: `http.PORT` for plain HTTP servers,
/// one `https.…` per server that terminates HTTPS on the port, holding
/// the virtual hosts of that server, sorted by name (R `gateway.go`
/// `util.SortVirtualHosts`).
fn gateway_rds(world: &World, proxy: &Proxy) -> Vec<EnvoyRouteConfig> {
    let https = proxy.https_servers(world);
    let mut out = Vec::new();
    for (listener, rc) in &proxy.config.routes {
        let Listener::Port(target) = listener else {
            continue;
        };
        let server_port = proxy
            .config
            .server_ports
            .get(target)
            .copied()
            .unwrap_or(*target);
        match https.get(target) {
            Some(servers) => {
                for s in servers {
                    let mut c = convert(&s.route_name, rc);
                    c.vhosts
                        .retain(|vh| serves(&vh.name, s.server_port, &s.sni_hosts));
                    out.push(sorted_or_blackhole(c, s.server_port));
                }
            }
            None => out.push(sorted_or_blackhole(convert(&rc.name, rc), server_port)),
        }
    }
    out
}

/// Whether gateway virtual host `host:port` belongs to a server.
fn serves(vhost: &str, port: u16, hosts: &[String]) -> bool {
    use crate::control::registry::host_matches;
    let Some((host, p)) = vhost.rsplit_once(':') else {
        return false;
    };
    p == port.to_string()
        && hosts
            .iter()
            .any(|h| host_matches(h, host) || host_matches(host, h))
}

/// R `buildGatewayHTTPRouteConfig`: virtual hosts by name, and without
/// any, one that answers 404 to everything.
fn sorted_or_blackhole(mut c: EnvoyRouteConfig, port: u16) -> EnvoyRouteConfig {
    c.vhosts.sort_by(|a, b| a.name.cmp(&b.name));
    if c.vhosts.is_empty() {
        c.vhosts.push(EnvoyVhost {
            name: format!("blackhole:{port}"),
            domains: vec!["*".to_string()],
            routes: Vec::new(),
        });
    }
    c
}

fn convert(name: &str, rc: &RouteConfig) -> EnvoyRouteConfig {
    EnvoyRouteConfig {
        name: name.to_string(),
        vhosts: rc.vhosts.iter().map(vhost).collect(),
    }
}

fn vhost(vh: &VirtualHost) -> EnvoyVhost {
    EnvoyVhost {
        name: vh.name.clone(),
        domains: vh.domains.clone(),
        routes: vh.routes.iter().flat_map(envoy_routes).collect(),
    }
}

/// istiod's Envoy routes for one meshsim route: one per match block, named
/// `rule.block` (or either alone), `prefix: /` without blocks.
fn envoy_routes(r: &Route) -> Vec<EnvoyRoute> {
    let virtual_service = match &r.origin {
        RouteOrigin::VirtualService { name, .. } => Some(name.clone()),
        RouteOrigin::Default | RouteOrigin::CatchAll => None,
    };
    let action = action(r);
    let one = |name: String, path: Path| EnvoyRoute {
        name,
        path,
        virtual_service: virtual_service.clone(),
        action: action.clone(),
    };
    if r.matches.is_empty() {
        return vec![one(r.name.clone(), Path::Prefix("/".into()))];
    }
    r.matches
        .iter()
        .map(|m| {
            let name = match (r.name.as_str(), m.name()) {
                (rule, "") => rule.to_string(),
                ("", block) => block.to_string(),
                (rule, block) => format!("{rule}.{block}"),
            };
            let path = match m.path_specifier() {
                PathSpecifier::Prefix(p) => Path::Prefix(p.to_string()),
                PathSpecifier::Path(p) => Path::Exact(p.to_string()),
                PathSpecifier::Regex(p) => Path::Regex(p.to_string()),
            };
            one(name, path)
        })
        .collect()
}

fn action(r: &Route) -> RouteAction {
    match &r.action {
        Action::Forward(wcs) => RouteAction::Clusters(
            wcs.iter()
                .map(|w| (w.cluster.name.clone(), w.weight))
                .collect(),
            r.timeout,
        ),
        Action::Passthrough => {
            RouteAction::Clusters(vec![("PassthroughCluster".into(), 100)], r.timeout)
        }
        Action::Redirect(rd) => RouteAction::Redirect(rd.clone()),
        Action::Direct { status, body } => RouteAction::Direct {
            status: *status,
            body: body.clone(),
        },
    }
}

/// A route configuration with one `*` virtual host and one route to
/// `cluster` for requests under `prefix`, unnamed when `name` is empty.
fn inline(name: &str, vhost: &str, prefix: &str, cluster: &str) -> EnvoyRouteConfig {
    EnvoyRouteConfig {
        name: name.to_string(),
        vhosts: vec![EnvoyVhost {
            name: vhost.to_string(),
            domains: vec!["*".to_string()],
            routes: vec![EnvoyRoute {
                name: String::new(),
                path: Path::Prefix(prefix.to_string()),
                virtual_service: None,
                action: RouteAction::Clusters(vec![(cluster.to_string(), 100)], None),
            }],
        }],
    }
}

/// The bootstrap's static listeners' routes (virtual host `backend`).
fn bootstrap(prefix: &str, cluster: &str) -> EnvoyRouteConfig {
    inline("", "backend", prefix, cluster)
}

/// One inline route configuration per HTTP filter chain of the inbound
/// listener: the catch-all chains first, then each port's.
fn inbound(world: &World, proxy: &Proxy) -> Vec<EnvoyRouteConfig> {
    let mut out = Vec::new();
    let passthrough = "InboundPassthroughCluster";
    for opt in inbound_options(None, proxy.passthrough_mode(world)) {
        if opt.http {
            out.push(inline(passthrough, "inbound|http|0", "/", passthrough));
        }
    }
    for port in proxy.inbound_ports(world) {
        let cluster = Proxy::inbound_cluster(port.target_port);
        let vhost = format!("inbound|http|{}", port.service_port);
        for opt in inbound_options(Some(port.protocol), port.mode) {
            if opt.http {
                out.push(inline(&cluster, &vhost, "/", &cluster));
            }
        }
    }
    out
}

/// W `describeMatch`.
fn describe_match(p: &Path) -> String {
    match p {
        Path::Prefix(p) => format!("{p}*"),
        Path::Exact(p) => p.clone(),
        Path::Regex(r) => format!("regex {r}"),
    }
}

/// W `describeRouteDomains`: one domain as is; otherwise those without a
/// port, the expanded forms of a short name dropped (`unexpandDomains`),
/// at most two and a count of the rest.
pub fn describe_domains(domains: &[String]) -> String {
    match domains {
        [] => String::new(),
        [one] => one.clone(),
        _ => {
            let without_port: Vec<&str> = domains
                .iter()
                .map(String::as_str)
                .filter(|d| !d.contains(':') || (d.matches(':').count() > 2 && d.ends_with(']')))
                .collect();
            let kept: Vec<&str> = without_port
                .iter()
                .copied()
                .filter(|d| !is_expansion(d, &without_port))
                .collect();
            if kept.len() > 2 {
                format!("{} + {} more...", kept[..2].join(", "), kept.len() - 2)
            } else {
                kept.join(", ")
            }
        }
    }
}

/// `unexpandDomains`: `x.svc.cluster.local` and `x.svc` go when `x` is
/// there too.
fn is_expansion(d: &str, all: &[&str]) -> bool {
    [".svc.cluster.local", ".svc"]
        .iter()
        .filter_map(|suffix| d.strip_suffix(suffix))
        .any(|short| all.contains(&short))
}

/// W `renderConfig`: `name.namespace`.
fn management(vs: Option<&String>) -> String {
    vs.and_then(|k| k.split_once('/'))
        .map(|(ns, name)| format!("{name}.{ns}"))
        .unwrap_or_default()
}

/// The verbose table's rows, header first; `name` filters by route
/// configuration name (W `RouteFilter.Verify`).
pub fn table(configs: &[EnvoyRouteConfig], name: &str) -> Vec<Vec<String>> {
    let mut rows = vec![
        ["NAME", "VHOST NAME", "DOMAINS", "MATCH", "VIRTUAL SERVICE"]
            .map(String::from)
            .to_vec(),
    ];
    for rc in configs
        .iter()
        .filter(|rc| name.is_empty() || rc.name == name)
    {
        for vh in &rc.vhosts {
            let domains = describe_domains(&vh.domains);
            let row = |m: String, vs: String| {
                vec![rc.name.clone(), vh.name.clone(), domains.clone(), m, vs]
            };
            for r in vh.routes.iter().filter(|r| !r.is_passthrough()) {
                rows.push(row(
                    describe_match(&r.path),
                    management(r.virtual_service.as_ref()),
                ));
            }
            if vh.routes.is_empty() {
                rows.push(row("/*".into(), "404".into()));
            }
        }
    }
    rows
}

/// `--verbose=false`: each configuration and its number of virtual hosts.
pub fn summary(configs: &[EnvoyRouteConfig], name: &str) -> Vec<Vec<String>> {
    let mut rows = vec![vec!["NAME".to_string(), "VIRTUAL HOSTS".to_string()]];
    rows.extend(
        configs
            .iter()
            .filter(|rc| name.is_empty() || rc.name == name)
            .map(|rc| vec![rc.name.clone(), rc.vhosts.len().to_string()]),
    );
    rows
}

/// The configurations as `-o json` prints them: the fields meshsim
/// models, named as in Envoy's config dump. Header matches, retries,
/// faults and header operations are left out.
pub fn json(configs: &[EnvoyRouteConfig], name: &str) -> Value {
    configs
        .iter()
        .filter(|rc| name.is_empty() || rc.name == name)
        .map(|rc| {
            let mut v = json!({});
            if !rc.name.is_empty() {
                v["name"] = json!(rc.name);
            }
            v["virtualHosts"] = rc.vhosts.iter().map(vhost_json).collect();
            v["validateClusters"] = json!(false);
            v
        })
        .collect()
}

fn vhost_json(vh: &EnvoyVhost) -> Value {
    json!({
        "name": vh.name,
        "domains": vh.domains,
        "routes": vh.routes.iter().map(route_json).collect::<Vec<_>>(),
    })
}

fn route_json(r: &EnvoyRoute) -> Value {
    let mut v = json!({});
    if !r.name.is_empty() {
        v["name"] = json!(r.name);
    }
    v["match"] = match &r.path {
        Path::Prefix(p) => json!({ "prefix": p }),
        Path::Exact(p) => json!({ "path": p }),
        Path::Regex(re) => json!({ "safeRegex": { "regex": re } }),
    };
    match &r.action {
        RouteAction::Clusters(cs, timeout) => {
            let mut route = match cs.as_slice() {
                [(c, _)] => json!({ "cluster": c }),
                _ => json!({ "weightedClusters": { "clusters": cs
                    .iter()
                    .map(|(c, w)| json!({ "name": c, "weight": w }))
                    .collect::<Vec<_>>() } }),
            };
            route["timeout"] = json!(proto_duration(timeout.unwrap_or(SimDuration::ZERO)));
            v["route"] = route;
        }
        RouteAction::Redirect(rd) => v["redirect"] = redirect_json(rd),
        RouteAction::Direct { status, body } => {
            let mut d = json!({ "status": status });
            if !body.is_empty() {
                d["body"] = json!({ "inlineString": body });
            }
            v["directResponse"] = d;
        }
    }
    if let Some((ns, name)) = r.virtual_service.as_ref().and_then(|k| k.split_once('/')) {
        v["metadata"] = json!({ "filterMetadata": { "istio": {
            "config": format!("/apis/networking.istio.io/v1/namespaces/{ns}/virtual-service/{name}")
        } } });
    }
    v
}

/// Envoy's `RedirectAction`; 301 is the default response code, which
/// proto JSON leaves out.
fn redirect_json(rd: &crate::dataplane::xds::Redirect) -> Value {
    let mut v = json!({});
    if let Some(s) = &rd.scheme {
        v["schemeRedirect"] = json!(s);
    }
    if let Some(a) = &rd.authority {
        v["hostRedirect"] = json!(a);
    }
    if let Some(p) = rd.port {
        v["portRedirect"] = json!(p);
    }
    if let Some(u) = &rd.uri {
        v["pathRedirect"] = json!(u);
    }
    let code = match rd.code {
        302 => Some("FOUND"),
        303 => Some("SEE_OTHER"),
        307 => Some("TEMPORARY_REDIRECT"),
        308 => Some("PERMANENT_REDIRECT"),
        _ => None,
    };
    if let Some(c) = code {
        v["responseCode"] = json!(c);
    }
    v
}

/// A protobuf `Duration` in JSON: seconds with 0, 3, 6 or 9 decimals.
fn proto_duration(d: SimDuration) -> String {
    let ns = d.as_nanos();
    let (secs, frac) = (ns / 1_000_000_000, ns % 1_000_000_000);
    if frac == 0 {
        format!("{secs}s")
    } else if frac % 1_000_000 == 0 {
        format!("{secs}.{:03}s", frac / 1_000_000)
    } else if frac % 1_000 == 0 {
        format!("{secs}.{:06}s", frac / 1_000)
    } else {
        format!("{secs}.{frac:09}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    // Real 1.27 output: "details.bookinfo.svc.cluster.local., details + 2 more..."
    // for a proxy in the service's namespace.
    #[test_case(&["reviews.bookinfo.svc.cluster.local", "reviews.bookinfo.svc.cluster.local.", "reviews", "reviews.bookinfo.svc", "reviews.bookinfo", "10.96.0.20"],
        "reviews.bookinfo.svc.cluster.local., reviews + 2 more..."; "same namespace")]
    #[test_case(&["reviews.bookinfo.svc.cluster.local", "reviews.bookinfo.svc.cluster.local.", "reviews.bookinfo.svc", "reviews.bookinfo", "10.96.0.20"],
        "reviews.bookinfo.svc.cluster.local., reviews.bookinfo + 1 more..."; "other namespace")]
    #[test_case(&["*"], "*"; "one domain")]
    #[test_case(&["httpbin.example.com", "httpbin.example.com:80"], "httpbin.example.com"; "ports dropped")]
    fn domains_are_described_like_istioctl(domains: &[&str], want: &str) {
        assert_eq!(describe_domains(&strings(domains)), want);
    }

    #[test_case(Path::Prefix("/".into()), "/*")]
    #[test_case(Path::Exact("/login".into()), "/login")]
    #[test_case(Path::Regex("/api/v[0-9]+".into()), "regex /api/v[0-9]+")]
    fn matches_are_described_like_istioctl(p: Path, want: &str) {
        assert_eq!(describe_match(&p), want);
    }

    #[test_case(0, "0s")]
    #[test_case(1_500_000_000, "1.500s")]
    #[test_case(2_000_000, "0.002s")]
    fn durations_are_proto_json(ns: u64, want: &str) {
        assert_eq!(proto_duration(SimDuration::from_nanos(ns)), want);
    }
}
