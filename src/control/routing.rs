//! What istiod writes for one proxy: route configurations built from
//! Services, ServiceEntries and VirtualServices, clusters shaped by
//! DestinationRules. Each rule follows Istio 1.27.9's `pilot/pkg/networking`
//! (`core/httproute.go`, `core/route/route.go`, `core/gateway.go`,
//! `model/push_context.go`, `model/sidecar.go`); the research notes behind
//! them are summarised in `docs/routing.md`.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::apps::Request;
use crate::config::Body;
use crate::config::networking::destination_rule::{
    ConnectionPoolSettings, ConsistentHashLb, LoadBalancerSettings, PortTrafficPolicy, SimpleLb,
    TrafficPolicy,
};
use crate::config::networking::gateway::Gateway;
use crate::config::networking::virtual_service::{
    Destination, Headers, HttpRedirect, HttpRoute, RedirectPortSelection, VirtualService,
};
use crate::dataplane::lb::PolicyConfig;
use crate::dataplane::outlier::OutlierConfig;
use crate::dataplane::pool::Limits;
use crate::dataplane::retry::RetryPolicy;
use crate::dataplane::route_match::{CompiledMatch, MatchInput};
use crate::dataplane::xds::{
    Action, Cluster, ClusterRef, Fault, HashPolicy, HeaderOps, Listener, Mirror, OutboundPolicy,
    ProxyConfig, ProxyIdentity, Redirect, Rewrite, RewriteSpan, Route, RouteConfig, RouteOrigin,
    SniRoute, TcpRoute, TlsServer, TlsTermination, VirtualHost, WeightedCluster,
};

use super::destination_rules::{DestinationRules, MergedRule};
use super::registry::{Origin, Registry, Visibility, host_matches, resolve_short_name};
use super::store::ConfigStore;

/// The namespace whose DestinationRules apply mesh-wide
/// (`meshConfig.rootNamespace`).
pub const ROOT_NAMESPACE: &str = "istio-system";

/// What every proxy's configuration is built from.
pub struct Inputs<'a> {
    pub registry: &'a Registry,
    pub store: &'a ConfigStore,
    pub destination_rules: &'a DestinationRules,
    pub outbound: OutboundPolicy,
}

/// Builds the configuration of a sidecar (the `mesh` gateway).
pub fn sidecar_config(inputs: &Inputs<'_>, identity: ProxyIdentity) -> ProxyConfig {
    let mut b = Builder::new(inputs, identity);
    let vss = b.virtual_services("mesh");
    let bound = b.bind_virtual_services(&vss);
    let mut by_listener: BTreeMap<Listener, Vec<VirtualHost>> = BTreeMap::new();
    for (i, svc) in inputs.registry.services.iter().enumerate() {
        if !svc.visibility.visible_from(&b.identity.namespace) {
            continue;
        }
        for port in &svc.ports {
            if !(port.protocol.is_http()
                || port.protocol == crate::config::networking::gateway::Protocol::Unsupported)
            {
                continue;
            }
            let listener = if port.protocol.is_http() {
                Listener::Port(port.number)
            } else {
                Listener::Sniffed(svc.hostname.clone(), port.number)
            };
            let (virtual_service, routes) = match b.first_with_routes(bound.get(&i), port.number) {
                Some((vs, routes)) => (Some(vs.key()), routes),
                None => (None, vec![b.default_route(i, port.number)]),
            };
            let mut domains = b.service_domains(i);
            if matches!(listener, Listener::Sniffed(..)) {
                domains = vec!["*".to_string()];
            }
            by_listener.entry(listener).or_default().push(VirtualHost {
                name: format!("{}:{}", svc.hostname, port.number),
                domains,
                routes,
                virtual_service,
                require_tls: false,
            });
        }
    }
    // VirtualService hosts no registry service carries get virtual hosts
    // of their own, on port 80 (istiod's "gross HACK") and on the ports of
    // services the VirtualService also names.
    for (host, vs) in b.unbound_hosts(&vss) {
        let ports: Vec<u16> = by_listener
            .keys()
            .filter_map(|l| match l {
                Listener::Port(p) => Some(*p),
                Listener::Sniffed(..) => None,
            })
            .filter(|p| *p == 80 || vs_names_service_with_port(&b, vs, *p))
            .chain(std::iter::once(80))
            .collect::<std::collections::BTreeSet<u16>>()
            .into_iter()
            .collect();
        for port in ports {
            if let Some(routes) = b.vs_routes(vs, port, None) {
                by_listener
                    .entry(Listener::Port(port))
                    .or_default()
                    .push(VirtualHost {
                        name: format!("{host}:{port}"),
                        domains: vec![host.clone()],
                        routes,
                        virtual_service: Some(vs.key()),
                        require_tls: false,
                    });
            }
        }
    }
    let tcp = b.tcp_routes(&vss);
    let outbound = inputs.outbound;
    let routes = by_listener
        .into_iter()
        .map(|(listener, mut vhosts)| {
            let name = match &listener {
                Listener::Port(p) => p.to_string(),
                Listener::Sniffed(h, p) => format!("{h}:{p}"),
            };
            if matches!(listener, Listener::Port(_)) {
                vhosts.sort_by(|a, b| a.name.cmp(&b.name));
                dedupe_domains(&mut vhosts);
                vhosts.push(catch_all(outbound));
            }
            (listener, RouteConfig::new(name, vhosts))
        })
        .collect();
    ProxyConfig {
        identity: b.identity.clone(),
        routes,
        clusters: b.clusters,
        outbound,
        server_ports: BTreeMap::new(),
        tls_ports: BTreeMap::new(),
        tcp,
        gateway_tcp: BTreeMap::new(),
    }
}

/// Builds the configuration of a gateway proxy: one route configuration
/// per server port, from the VirtualServices bound to its Gateways.
/// `service_ports` maps the gateway Service's ports to target ports, so a
/// server on 80 serves the pod's 8080 (`resolvePorts`).
pub fn gateway_config(
    inputs: &Inputs<'_>,
    identity: ProxyIdentity,
    service_ports: &[(u16, u16)],
) -> ProxyConfig {
    use crate::config::networking::gateway::{Protocol, ServerTlsMode};
    let mut b = Builder::new(inputs, identity);
    let gateways: Vec<String> = b.identity.gateways.clone().unwrap_or_default();
    let mut by_port: BTreeMap<u16, (u16, Vec<VirtualHost>)> = BTreeMap::new();
    let mut tls_ports = BTreeMap::new();
    let mut gateway_tcp: BTreeMap<u16, (u16, TcpRoute)> = BTreeMap::new();
    for gw_name in &gateways {
        let Some((gw_ns, gw)) = find_gateway(inputs.store, gw_name) else {
            continue;
        };
        let vss = b.virtual_services(gw_name);
        for server in &gw.servers {
            let Some(number) = server.port.as_ref().and_then(|p| p.number) else {
                continue;
            };
            let protocol = server
                .port
                .as_ref()
                .map(|p| p.protocol())
                .unwrap_or(Protocol::Unsupported);
            // An HTTPS server that terminates TLS routes HTTP like an HTTP
            // server (I gateway.go `buildGatewayListeners`: `IsHTTPS() &&
            // !passthrough` gets an HTTP connection manager).
            let mode = server.tls.as_ref().map(|t| t.mode);
            let termination = match (protocol, mode) {
                (Protocol::Https, Some(ServerTlsMode::Simple | ServerTlsMode::OptionalMutual)) => {
                    Some(TlsTermination::ServerOnly)
                }
                (Protocol::Https, Some(ServerTlsMode::Mutual | ServerTlsMode::IstioMutual)) => {
                    Some(TlsTermination::ClientCertRequired)
                }
                _ => None,
            };
            let number = number as u16;
            let target = service_ports
                .iter()
                .find(|(p, _)| *p == number)
                .map_or(number, |(_, t)| *t);
            if !protocol.is_http() && termination.is_none() {
                // A TCP server without a route has no filter chain, so no
                // listener (gateway.go "listener missed network filter").
                if protocol.is_tcp()
                    && let Some(route) = b.gateway_l4_route(&vss, server, gw_name, &gw_ns, number)
                {
                    gateway_tcp.entry(target).or_insert((number, route));
                }
                continue;
            }
            if let Some(termination) = termination {
                tls_ports
                    .entry(target)
                    .or_insert_with(Vec::new)
                    .push(TlsServer {
                        hosts: server
                            .hosts
                            .iter()
                            .map(|h| h.split_once('/').map_or(h.as_str(), |(_, h)| h).to_string())
                            .collect(),
                        termination,
                    });
            }
            let redirect = server.tls.as_ref().is_some_and(|t| t.https_redirect);
            let entry = by_port.entry(target).or_insert((number, Vec::new()));
            for vs in &vss {
                for host in intersect_hosts(&server.hosts, &gw_ns, vs) {
                    let Some(routes) = b.vs_routes(vs, number, Some(gw_name)) else {
                        continue;
                    };
                    let vh = vhost_for(&mut entry.1, &host, number, Some(vs.key()));
                    vh.routes.extend(routes);
                    vh.require_tls |= redirect;
                }
            }
            // `httpsRedirect` hosts no VirtualService serves still redirect
            // (I `buildGatewayHTTPRouteConfig`).
            // The host is taken as written, so a `ns/host` entry makes a
            // virtual host whose domain no request Host ever matches.
            if redirect {
                for host in &server.hosts {
                    vhost_for(&mut entry.1, host, number, None).require_tls = true;
                }
            }
        }
    }
    let server_ports = by_port
        .iter()
        .map(|(target, (server, _))| (*target, *server))
        .chain(
            gateway_tcp
                .iter()
                .map(|(target, (server, _))| (*target, *server)),
        )
        .collect();
    // A server with no virtual host left still listens; its route
    // configuration answers every request 404 NR (I: "no vhosts; Setting
    // up a default 404 vhost").
    let routes = by_port
        .into_iter()
        .map(|(target, (_, mut vhosts))| {
            for vh in &mut vhosts {
                vh.routes = sort_vhost_routes(std::mem::take(&mut vh.routes));
            }
            (
                Listener::Port(target),
                RouteConfig::new(format!("http.{target}"), vhosts),
            )
        })
        .collect();
    ProxyConfig {
        identity: b.identity.clone(),
        routes,
        clusters: b.clusters,
        outbound: OutboundPolicy::RegistryOnly,
        server_ports,
        tls_ports,
        tcp: BTreeMap::new(),
        gateway_tcp: gateway_tcp
            .into_iter()
            .map(|(target, (_, route))| (target, route))
            .collect(),
    }
}

/// Catch-all routes of the VirtualServices merged into a gateway virtual
/// host go last, each kept in order (I route.go `SortVHostRoutes`). istiod
/// writes one Envoy route per match block, so a rule whose later block is
/// a catch-all (`prefix: /`) is split: its earlier blocks stay in place.
fn sort_vhost_routes(routes: Vec<Route>) -> Vec<Route> {
    let mut head = Vec::with_capacity(routes.len());
    let mut tail = Vec::new();
    for r in routes {
        match r.matches.iter().position(CompiledMatch::is_catch_all) {
            _ if r.matches.is_empty() => tail.push(r),
            None => head.push(r),
            Some(k) => {
                // Blocks after a catch-all are never written.
                let mut catch_all = r.clone();
                catch_all.matches = vec![r.matches[k].clone()];
                catch_all.rewrite_spans = r.rewrite_spans.get(k).copied().into_iter().collect();
                if k > 0 {
                    let mut rest = r;
                    rest.matches.truncate(k);
                    rest.rewrite_spans.truncate(k);
                    head.push(rest);
                }
                tail.push(catch_all);
            }
        }
    }
    head.extend(tail);
    head
}

/// The gateway virtual host for `host` (one per host and server port,
/// named `host:port` as istiod names them), created if missing.
fn vhost_for<'v>(
    vhosts: &'v mut Vec<VirtualHost>,
    host: &str,
    port: u16,
    virtual_service: Option<String>,
) -> &'v mut VirtualHost {
    let host = host.to_ascii_lowercase();
    let name = format!("{host}:{port}");
    let i = match vhosts.iter().position(|v| v.name == name) {
        Some(i) => i,
        None => {
            vhosts.push(VirtualHost {
                name,
                domains: vec![host],
                routes: Vec::new(),
                virtual_service,
                require_tls: false,
            });
            vhosts.len() - 1
        }
    };
    &mut vhosts[i]
}

fn find_gateway<'a>(store: &'a ConfigStore, name: &str) -> Option<(String, &'a Gateway)> {
    let (ns, n) = name.split_once('/')?;
    match &store.get("Gateway", ns, n)?.body {
        Body::Gateway(g) => Some((ns.to_string(), g)),
        _ => None,
    }
}

/// The gateways (`ns/name`) whose selector picks a pod with these labels.
pub fn gateways_selecting(store: &ConfigStore, labels: &BTreeMap<String, String>) -> Vec<String> {
    store
        .of_kind("Gateway")
        .into_iter()
        .filter_map(|o| match &o.body {
            Body::Gateway(g)
                if !g.selector.is_empty()
                    && g.selector.iter().all(|(k, v)| labels.get(k) == Some(v)) =>
            {
                Some(format!("{}/{}", o.namespace(), o.name()))
            }
            _ => None,
        })
        .collect()
}

/// Gateway server hosts (`ns/host`, `*/host` or `host`) intersected with a
/// VirtualService's hosts, keeping the more specific of each pair.
fn intersect_hosts(server_hosts: &[String], gw_ns: &str, vs: &Vs<'_>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for sh in server_hosts {
        let (ns, h) = sh.split_once('/').unwrap_or(("*", sh));
        // `./host` means the Gateway's own namespace
        // (model/gateway.go `sanitizeServerHostNamespace`).
        let ns = if ns == "." { gw_ns } else { ns };
        if ns != "*" && ns != vs.namespace {
            continue;
        }
        for vh in &vs.hosts {
            let pick = if host_matches(h, vh) {
                Some(vh.clone())
            } else if host_matches(vh, h) {
                Some(h.to_string())
            } else {
                None
            };
            if let Some(p) = pick
                && !out.contains(&p)
            {
                out.push(p);
            }
        }
    }
    out
}

fn vs_names_service_with_port(b: &Builder<'_>, vs: &Vs<'_>, port: u16) -> bool {
    vs.hosts.iter().any(|h| {
        b.inputs
            .registry
            .matching(h, &b.identity.namespace)
            .any(|i| b.inputs.registry.get(i).port(port).is_some())
    })
}

/// The catch-all virtual host of an outbound HTTP route configuration.
fn catch_all(policy: OutboundPolicy) -> VirtualHost {
    let (name, action) = match policy {
        OutboundPolicy::AllowAny => ("allow_any", Action::Passthrough),
        OutboundPolicy::RegistryOnly => (
            "block_all",
            Action::Direct {
                status: 502,
                body: String::new(),
            },
        ),
    };
    VirtualHost {
        name: name.to_string(),
        domains: vec!["*".to_string()],
        routes: vec![Route::catch_all(name, RouteOrigin::CatchAll, action)],
        virtual_service: None,
        require_tls: false,
    }
}

/// `dedupeDomains`: a domain already claimed by an earlier virtual host is
/// dropped from later ones.
fn dedupe_domains(vhosts: &mut [VirtualHost]) {
    let mut seen = std::collections::BTreeSet::new();
    for vh in vhosts {
        vh.domains.retain(|d| seen.insert(d.to_ascii_lowercase()));
    }
}

/// A VirtualService with its hosts resolved.
struct Vs<'a> {
    namespace: &'a str,
    name: &'a str,
    spec: &'a VirtualService,
    hosts: Vec<String>,
    gateways: Vec<String>,
}

impl Vs<'_> {
    fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// `resolveGatewayName`: `gw` and `./gw` are in the VirtualService's
/// namespace, `ns/gw` as written, the legacy `gw.ns…` is `ns/gw`.
pub fn resolve_gateway_name(name: &str, vs_namespace: &str) -> String {
    if name == "mesh" {
        return name.to_string();
    }
    if let Some(rest) = name.strip_prefix("./") {
        return format!("{vs_namespace}/{rest}");
    }
    if name.contains('/') {
        return name.to_string();
    }
    match name.split_once('.') {
        Some((gw, rest)) => format!("{}/{gw}", rest.split('.').next().unwrap_or(rest)),
        None => format!("{vs_namespace}/{name}"),
    }
}

struct Builder<'a> {
    inputs: &'a Inputs<'a>,
    identity: ProxyIdentity,
    clusters: Vec<Cluster>,
    cluster_index: BTreeMap<String, Option<usize>>,
}

impl<'a> Builder<'a> {
    fn new(inputs: &'a Inputs<'a>, identity: ProxyIdentity) -> Self {
        Builder {
            inputs,
            identity,
            clusters: Vec::new(),
            cluster_index: BTreeMap::new(),
        }
    }

    /// The VirtualServices bound to `gateway` (`mesh` for sidecars) that
    /// this proxy may see, in istiod's order: private to its namespace,
    /// exported to it, public; oldest first within each.
    fn virtual_services(&self, gateway: &str) -> Vec<Vs<'a>> {
        let ns = self.identity.namespace.as_str();
        let mut tiers: [Vec<Vs<'a>>; 3] = [Vec::new(), Vec::new(), Vec::new()];
        for obj in self.inputs.store.of_kind("VirtualService") {
            let Body::VirtualService(spec) = &obj.body else {
                continue;
            };
            if spec.hosts.is_empty() {
                continue; // a delegate: only reachable through its root
            }
            let gateways: Vec<String> = if spec.gateways.is_empty() {
                vec!["mesh".to_string()]
            } else {
                spec.gateways
                    .iter()
                    .map(|g| resolve_gateway_name(g, obj.namespace()))
                    .collect()
            };
            if !gateways.iter().any(|g| g == gateway) {
                continue;
            }
            let tier = match Visibility::parse(&spec.export_to, obj.namespace()) {
                Visibility::Public => 2,
                Visibility::Namespaces(list) if list == [obj.namespace().to_string()] => {
                    if obj.namespace() != ns {
                        continue;
                    }
                    0
                }
                Visibility::Namespaces(list) => {
                    if !list.iter().any(|n| n == ns) {
                        continue;
                    }
                    1
                }
                Visibility::Hidden => continue,
            };
            tiers[tier].push(Vs {
                namespace: obj.namespace(),
                name: obj.name(),
                spec,
                // Host names are case-insensitive; istiod lowercases them
                // before matching services (route.go
                // `separateVSHostsAndServices`).
                hosts: spec
                    .hosts
                    .iter()
                    .map(|h| resolve_short_name(&h.to_ascii_lowercase(), obj.namespace()))
                    .collect(),
                gateways,
            });
        }
        tiers.into_iter().flatten().collect()
    }

    /// For each visible registry service, the VirtualServices that may give
    /// its HTTP ports routes, in order (I route.go
    /// `separateVSHostsAndServices` with sidecar.go
    /// `computeWildcardHostVirtualServiceIndex`): every one naming its
    /// hostname exactly; without one, the first with the most specific
    /// wildcard host covering it. On each port the first that has routes
    /// for this proxy wins; one left with none does not claim the service
    /// (`buildSidecarVirtualHostsForVirtualService` returns nothing).
    fn bind_virtual_services<'v>(&self, vss: &'v [Vs<'a>]) -> BTreeMap<usize, Vec<&'v Vs<'a>>> {
        let mut exact: BTreeMap<usize, Vec<&'v Vs<'a>>> = BTreeMap::new();
        let mut wildcard: BTreeMap<usize, (usize, &'v Vs<'a>)> = BTreeMap::new();
        for vs in vss {
            for h in &vs.hosts {
                for i in self.inputs.registry.matching(h, &self.identity.namespace) {
                    if !h.starts_with('*') {
                        let list = exact.entry(i).or_default();
                        if !list.iter().any(|v| std::ptr::eq(*v, vs)) {
                            list.push(vs);
                        }
                    } else if wildcard.get(&i).is_none_or(|(len, _)| h.len() > *len) {
                        wildcard.insert(i, (h.len(), vs));
                    }
                }
            }
        }
        for (i, (_, vs)) in wildcard {
            exact.entry(i).or_insert_with(|| vec![vs]);
        }
        exact
    }

    /// The first of `candidates` with HTTP routes for `port` on this
    /// proxy, and those routes.
    fn first_with_routes<'v>(
        &mut self,
        candidates: Option<&Vec<&'v Vs<'a>>>,
        port: u16,
    ) -> Option<(&'v Vs<'a>, Vec<Route>)> {
        candidates?
            .iter()
            .find_map(|vs| self.vs_routes(vs, port, None).map(|r| (*vs, r)))
    }

    /// VirtualService hosts that name no visible registry service.
    fn unbound_hosts<'v>(&self, vss: &'v [Vs<'a>]) -> Vec<(String, &'v Vs<'a>)> {
        let mut out: Vec<(String, &'v Vs<'a>)> = Vec::new();
        for vs in vss {
            for h in &vs.hosts {
                if h == "*"
                    || self
                        .inputs
                        .registry
                        .matching(h, &self.identity.namespace)
                        .next()
                        .is_some()
                {
                    continue;
                }
                if !out.iter().any(|(seen, _)| seen == h) {
                    out.push((h.clone(), vs));
                }
            }
        }
        out
    }

    /// A gateway TCP server's route (I gateway.go
    /// `createGatewayTCPFilterChainOpts`): opaque TCP takes the first
    /// `tcp` rule, of the VirtualServices whose hosts meet the server's,
    /// whose match names the server's port and this Gateway (or neither);
    /// a PASSTHROUGH server gets one SNI chain per `tls` match that does.
    fn gateway_l4_route(
        &mut self,
        vss: &[Vs<'_>],
        server: &crate::config::networking::gateway::Server,
        gw_name: &str,
        gw_ns: &str,
        port: u16,
    ) -> Option<TcpRoute> {
        use crate::config::networking::gateway::ServerTlsMode;
        let l4_match = |m_port: u32, m_gateways: &[String], vs: &Vs<'_>| {
            (m_port == 0 || m_port == u32::from(port))
                && (m_gateways.is_empty()
                    || m_gateways
                        .iter()
                        .any(|g| resolve_gateway_name(g, vs.namespace) == gw_name))
        };
        let serving: Vec<&Vs<'_>> = vss
            .iter()
            .filter(|vs| !intersect_hosts(&server.hosts, gw_ns, vs).is_empty())
            .collect();
        match server.tls.as_ref().map(|t| t.mode) {
            None => {
                let (vs, index, dests) = serving.iter().find_map(|vs| {
                    vs.spec.tcp.iter().enumerate().find_map(|(index, rule)| {
                        let applies = rule.r#match.is_empty()
                            || rule
                                .r#match
                                .iter()
                                .any(|m| l4_match(m.port, &m.gateways, vs));
                        (applies && !rule.route.is_empty()).then_some((*vs, index, &rule.route))
                    })
                })?;
                let clusters = self.l4_clusters(dests, vs.namespace, port);
                Some(TcpRoute {
                    origin: RouteOrigin::VirtualService {
                        name: vs.key(),
                        index,
                    },
                    clusters,
                    sni: Vec::new(),
                })
            }
            Some(ServerTlsMode::Passthrough) => {
                let mut sni: Vec<SniRoute> = Vec::new();
                for vs in &serving {
                    for (index, rule) in vs.spec.tls.iter().enumerate() {
                        if rule.route.is_empty() {
                            continue;
                        }
                        for m in rule.r#match.iter().flatten() {
                            if !l4_match(m.port, &m.gateways, vs) {
                                continue;
                            }
                            let clusters = self.l4_clusters(&rule.route, vs.namespace, port);
                            sni.push(SniRoute {
                                sni_hosts: m.sni_hosts.clone().unwrap_or_default(),
                                origin: RouteOrigin::VirtualService {
                                    name: vs.key(),
                                    index,
                                },
                                clusters,
                            });
                        }
                    }
                }
                (!sni.is_empty()).then(|| TcpRoute {
                    origin: RouteOrigin::Default,
                    clusters: Vec::new(),
                    sni,
                })
            }
            // TLS termination for TCP, AUTO_PASSTHROUGH: not simulated.
            Some(_) => None,
        }
    }

    /// L4 routes for the TCP and TLS ports of visible services, from every
    /// VirtualService with a host covering the service, in order (I tls.go
    /// `getConfigsForHost`). A TCP port takes the first `tcp` rule that
    /// applies to this proxy (`port`, `sourceLabels`, `sourceNamespace`,
    /// `gateways`), else the service's own cluster
    /// (`buildSidecarOutboundTCPFilterChainOpts`); a TLS port ignores `tcp`
    /// rules and gets SNI chains from `tls` rules, or the service's cluster
    /// when none applies (`buildSidecarOutboundTLSFilterChainOpts`).
    fn tcp_routes(&mut self, vss: &[Vs<'_>]) -> BTreeMap<(usize, u16), TcpRoute> {
        let mut out = BTreeMap::new();
        // (registry index, hostname, [(port, carries TLS)])
        type TcpPorts = Vec<(usize, String, Vec<(u16, bool)>)>;
        let services: TcpPorts = self
            .inputs
            .registry
            .services
            .iter()
            .enumerate()
            .filter(|(_, s)| s.visibility.visible_from(&self.identity.namespace))
            .map(|(i, s)| {
                let ports = s
                    .ports
                    .iter()
                    .filter(|p| p.protocol.is_tcp())
                    .map(|p| (p.number, p.protocol.is_tls()))
                    .collect();
                (i, s.hostname.clone(), ports)
            })
            .collect();
        for (i, host, ports) in services {
            if ports.is_empty() {
                continue;
            }
            let configs: Vec<&Vs<'_>> = vss
                .iter()
                .filter(|vs| vs.hosts.iter().any(|h| host_matches(h, &host)))
                .collect();
            for (port, tls) in ports {
                let mut sni = Vec::new();
                let mut weighted = None;
                if tls {
                    for vs in &configs {
                        self.sni_routes(vs, port, &mut sni);
                    }
                } else {
                    weighted = configs.iter().find_map(|vs| {
                        vs.spec.tcp.iter().enumerate().find_map(|(index, rule)| {
                            let applies = rule.r#match.is_empty()
                                || rule
                                    .r#match
                                    .iter()
                                    .any(|m| self.l4_applies(m, port, &vs.gateways));
                            (applies && !rule.route.is_empty()).then_some((*vs, index, &rule.route))
                        })
                    });
                }
                let weighted = weighted.map(|(vs, index, dests)| {
                    (
                        RouteOrigin::VirtualService {
                            name: vs.key(),
                            index,
                        },
                        self.l4_clusters(dests, vs.namespace, port),
                    )
                });
                let (origin, clusters) = match weighted {
                    Some((origin, clusters)) if !clusters.is_empty() => (origin, clusters),
                    _ => (
                        RouteOrigin::Default,
                        vec![(self.cluster(&host, port, ""), 100)],
                    ),
                };
                out.insert(
                    (i, port),
                    TcpRoute {
                        origin,
                        clusters,
                        sni,
                    },
                );
            }
        }
        out
    }

    /// Adds a TLS port's SNI filter chains from a VirtualService's `tls`
    /// rules: one per match that applies to this proxy, the first of
    /// several with the same SNI names winning (I tls.go
    /// `buildSidecarOutboundTLSFilterChainOpts`, `matchTLS`).
    fn sni_routes(&mut self, vs: &Vs<'_>, port: u16, chains: &mut Vec<SniRoute>) {
        for (index, rule) in vs.spec.tls.iter().enumerate() {
            if rule.route.is_empty() {
                continue;
            }
            for m in rule.r#match.iter().flatten() {
                let applies = (m.port == 0 || m.port == u32::from(port))
                    && (m.gateways.is_empty() || m.gateways.iter().any(|g| g == "mesh"))
                    && m.source_labels
                        .iter()
                        .all(|(k, v)| self.identity.labels.get(k) == Some(v))
                    && (m.source_namespace.is_empty()
                        || m.source_namespace == self.identity.namespace);
                let sni_hosts = m.sni_hosts.clone().unwrap_or_default();
                if !applies || chains.iter().any(|c| c.sni_hosts == sni_hosts) {
                    continue;
                }
                let clusters = self.l4_clusters(&rule.route, vs.namespace, port);
                chains.push(SniRoute {
                    sni_hosts,
                    origin: RouteOrigin::VirtualService {
                        name: vs.key(),
                        index,
                    },
                    clusters,
                });
            }
        }
    }

    /// Weighted clusters of an L4 route's destinations (weight-0
    /// destinations dropped when there are several), hosts resolved in the
    /// VirtualService's namespace, the listener port by default.
    fn l4_clusters(
        &mut self,
        dests: &[crate::config::networking::virtual_service::RouteDestination],
        vs_namespace: &str,
        port: u16,
    ) -> Vec<(ClusterRef, u32)> {
        dests
            .iter()
            .filter(|d| dests.len() == 1 || d.weight > 0)
            .filter_map(|d| {
                let dest = d.destination.as_ref()?;
                let h = resolve_short_name(dest.host(), vs_namespace);
                let p = dest.port_number().map_or(port, |p| p as u16);
                Some((self.cluster(&h, p, &dest.subset), d.weight.max(0) as u32))
            })
            .collect()
    }

    /// Whether an L4 match block applies to this proxy for `port`.
    fn l4_applies(
        &self,
        m: &crate::config::networking::virtual_service::L4MatchAttributes,
        port: u16,
        vs_gateways: &[String],
    ) -> bool {
        let proxy_gateway = "mesh";
        if m.port != 0 && m.port != u32::from(port) {
            return false;
        }
        if !vs_gateways.iter().any(|g| g == proxy_gateway) {
            return false;
        }
        if !m.gateways.is_empty() {
            return m.gateways.iter().any(|g| g == proxy_gateway);
        }
        m.source_labels
            .iter()
            .all(|(k, v)| self.identity.labels.get(k) == Some(v))
            && (m.source_namespace.is_empty() || m.source_namespace == self.identity.namespace)
    }

    /// The domains of a service's virtual host, for this proxy
    /// (`generateVirtualHostDomains`): the FQDN with and without a trailing
    /// dot, `name.ns` and `name.ns.svc` for Kubernetes Services, the bare
    /// name only in the service's own namespace, and its addresses.
    fn service_domains(&self, i: usize) -> Vec<String> {
        let svc = self.inputs.registry.get(i);
        let mut d = vec![svc.hostname.clone(), format!("{}.", svc.hostname)];
        if let Some(name) = &svc.k8s_name {
            if svc.namespace == self.identity.namespace {
                d.push(name.clone());
            }
            d.push(format!("{name}.{}.svc", svc.namespace));
            d.push(format!("{name}.{}", svc.namespace));
        }
        d.extend(
            svc.addresses
                .iter()
                .filter(|a| a.parse::<std::net::IpAddr>().is_ok())
                .cloned(),
        );
        d
    }

    /// The route istiod writes for a service without a VirtualService.
    fn default_route(&mut self, service: usize, port: u16) -> Route {
        let host = self.inputs.registry.get(service).hostname.clone();
        let cluster = self.cluster(&host, port, "");
        let action = Action::Forward(vec![WeightedCluster {
            // `hashForService`: by the service port's settings.
            hash: cluster.index.and_then(|i| self.clusters[i].hash.clone()),
            cluster,
            weight: 100,
            request_headers: HeaderOps::default(),
            response_headers: HeaderOps::default(),
            host_rewrite: None,
        }]);
        Route {
            retry: RetryPolicy::convert(None).map(Arc::new),
            ..Route::catch_all("default", RouteOrigin::Default, action)
        }
    }

    /// A VirtualService's HTTP routes for a listener port, as this proxy
    /// gets them; `None` when none survives for it (the service then keeps
    /// its default route).
    ///
    /// `gateway` is the Gateway whose server the routes are for (`None`:
    /// the sidecars, `mesh`); match blocks that do not apply there are
    /// dropped, as istiod drops them.
    fn vs_routes(&mut self, vs: &Vs<'_>, port: u16, gateway: Option<&str>) -> Option<Vec<Route>> {
        let identity = self.identity.clone();
        let probe = Request::get("", "/");
        let input = MatchInput {
            request: &probe,
            scheme: "http",
            port,
            source_labels: &identity.labels,
            source_namespace: &identity.namespace,
            gateway,
        };
        let mut routes = Vec::new();
        for (index, rule) in vs.spec.http.iter().enumerate() {
            let mut matches = Vec::new();
            let mut surviving: Vec<&crate::config::networking::virtual_service::HttpMatchRequest> =
                Vec::new();
            for m in &rule.r#match {
                let Ok(c) = CompiledMatch::compile(m, vs.namespace, &vs.gateways) else {
                    continue;
                };
                if c.applies_to(&input).is_ok() {
                    matches.push(c);
                    surviving.push(m);
                }
            }
            if !rule.r#match.is_empty() && matches.is_empty() {
                continue; // filtered out for this proxy
            }
            let catch_all = rule.r#match.is_empty() || surviving.iter().any(|m| is_catch_all(m));
            let spans = surviving.iter().map(|m| rewrite_span(m)).collect();
            if let Some(route) = self.http_route(vs, index, rule, matches, spans, port, gateway) {
                routes.push(route);
            }
            if catch_all {
                break; // istiod emits nothing after a catch-all
            }
        }
        if routes.is_empty() {
            None
        } else {
            Some(routes)
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn http_route(
        &mut self,
        vs: &Vs<'_>,
        index: usize,
        rule: &HttpRoute,
        matches: Vec<CompiledMatch>,
        rewrite_spans: Vec<RewriteSpan>,
        port: u16,
        gateway: Option<&str>,
    ) -> Option<Route> {
        if rule.delegate.is_some() {
            return None;
        }
        let (mut request_headers, mut response_headers) = header_ops(rule.headers.as_ref());
        let mut authority = rule
            .rewrite
            .as_ref()
            .map(|r| r.authority.clone())
            .filter(|a| !a.is_empty())
            .or_else(|| take_authority(&mut request_headers));
        let action = if let Some(r) = &rule.redirect {
            Action::Redirect(redirect(r, port))
        } else if let Some(d) = &rule.direct_response {
            Action::Direct {
                status: d.status.unwrap_or(200) as u16,
                body: d
                    .body
                    .as_ref()
                    .and_then(|b| b.string.clone().or_else(|| b.bytes.clone()))
                    .unwrap_or_default(),
            }
        } else {
            let dests: Vec<_> = rule
                .route
                .iter()
                .filter(|d| rule.route.len() == 1 || d.weight > 0)
                .filter_map(|d| d.destination.as_ref().map(|dest| (d, dest)))
                .collect();
            if dests.is_empty() {
                return None;
            }
            let single = dests.len() == 1;
            let mut weighted = Vec::new();
            for (d, dest) in dests {
                let cluster = self.destination_cluster(vs, dest, port);
                let hash = self.destination_hash(vs, dest);
                let (mut req, resp) = header_ops(d.headers.as_ref());
                // A destination's `:authority`/`host` is a host rewrite too
                // (`processDestination`, `processWeightedDestination`).
                let host_rewrite = take_authority(&mut req);
                if single {
                    // One destination: its header operations come after the
                    // route's, so its `set` wins (`applyHTTPRouteDestination`);
                    // its host rewrite applies only without a route-level one.
                    request_headers = request_headers.then(&req);
                    response_headers = response_headers.then(&resp);
                    authority = authority.or(host_rewrite);
                    weighted.push(WeightedCluster {
                        cluster,
                        weight: 100,
                        request_headers: HeaderOps::default(),
                        response_headers: HeaderOps::default(),
                        host_rewrite: None,
                        hash,
                    });
                } else {
                    weighted.push(WeightedCluster {
                        cluster,
                        weight: d.weight.max(0) as u32,
                        request_headers: req,
                        response_headers: resp,
                        host_rewrite,
                        hash,
                    });
                }
            }
            Action::Forward(weighted)
        };
        let mut mirrors = Vec::new();
        if let Some(m) = &rule.mirror {
            let percent = rule
                .mirror_percentage
                .as_ref()
                .map(|p| p.value)
                .or_else(|| rule.deprecated_mirror_percent().map(f64::from))
                .unwrap_or(100.0);
            if percent > 0.0 {
                mirrors.push(Mirror {
                    cluster: self.destination_cluster(vs, m, port),
                    percent,
                });
            }
        }
        for m in &rule.mirrors {
            let percent = m.percentage.as_ref().map_or(100.0, |p| p.value);
            if let (Some(dest), true) = (&m.destination, percent > 0.0) {
                mirrors.push(Mirror {
                    cluster: self.destination_cluster(vs, dest, port),
                    percent,
                });
            }
        }
        let rewrite = rule
            .rewrite
            .as_ref()
            .map(|r| Rewrite {
                uri: Some(r.uri.clone()).filter(|u| !u.is_empty()),
                authority: authority.clone(),
                regex: r.uri_regex_rewrite.as_ref().and_then(|rr| {
                    regex::Regex::new(&rr.r#match)
                        .ok()
                        .map(|re| (re, re2_substitution(&rr.rewrite)))
                }),
            })
            .or_else(|| {
                authority.clone().map(|a| Rewrite {
                    uri: None,
                    authority: Some(a),
                    regex: None,
                })
            });
        let name = rule.name.clone();
        Some(Route {
            name,
            origin: RouteOrigin::VirtualService {
                name: vs.key(),
                index,
            },
            gateway: gateway.map(str::to_string),
            matches,
            rewrite_spans,
            action,
            rewrite,
            request_headers,
            response_headers,
            mirrors,
            timeout: rule.timeout.as_ref().map(|t| t.get()),
            retry: RetryPolicy::convert(rule.retries.as_ref()).map(Arc::new),
            fault: rule.fault.as_ref().and_then(Fault::compile),
        })
    }

    /// The cluster a destination names: its host resolved in the
    /// VirtualService's namespace, its port or else the listener's.
    fn destination_cluster(
        &mut self,
        vs: &Vs<'_>,
        dest: &Destination,
        listener_port: u16,
    ) -> ClusterRef {
        let host = resolve_short_name(dest.host(), vs.namespace);
        let port = match dest.port_number() {
            Some(p) => p as u16,
            None if self.identity.gateways.is_some() => {
                // On a gateway the listener is the server port; a service
                // with a single port uses that one (`GetDestinationCluster`).
                match self
                    .inputs
                    .registry
                    .find(&host)
                    .map(|i| self.inputs.registry.get(i))
                {
                    Some(svc) if svc.ports.len() == 1 => svc.ports[0].number,
                    _ => listener_port,
                }
            }
            None => listener_port,
        };
        self.cluster(&host, port, &dest.subset)
    }

    /// The hash policy a VirtualService destination puts on its route (I
    /// route.go `HashForHTTPDestination`): the subset's port-level
    /// consistent hash, the subset's, the rule's port-level, the rule's.
    /// Port-level settings count only when the destination names its port.
    fn destination_hash(&self, vs: &Vs<'_>, dest: &Destination) -> Option<HashPolicy> {
        let dr = self.destination_rule(&resolve_short_name(dest.host(), vs.namespace))?;
        let port = dest.port_number();
        fn ch(lb: Option<&LoadBalancerSettings>) -> Option<&ConsistentHashLb> {
            lb.and_then(|l| l.consistent_hash.as_ref())
        }
        fn port_level(p: &TrafficPolicy, port: Option<u32>) -> Option<&ConsistentHashLb> {
            let port = port?;
            let pl = p
                .port_level_settings
                .iter()
                .find(|pl| pl.port.as_ref().map(|s| s.number) == Some(port))?;
            ch(pl.load_balancer.as_ref())
        }
        let top = dr.policy.as_ref();
        let subset = dr
            .subsets
            .iter()
            .find(|s| s.name() == dest.subset)
            .and_then(|s| s.traffic_policy.as_ref());
        subset
            .and_then(|s| port_level(s, port))
            .or_else(|| subset.and_then(|s| ch(s.load_balancer.as_ref())))
            .or_else(|| top.and_then(|t| port_level(t, port)))
            .or_else(|| top.and_then(|t| ch(t.load_balancer.as_ref())))
            .and_then(hash_policy)
    }

    /// `outbound|port|subset|host`, built once; `index: None` when the host
    /// or subset does not exist (Envoy answers 503 NC).
    fn cluster(&mut self, host: &str, port: u16, subset: &str) -> ClusterRef {
        let name = format!("outbound|{port}|{subset}|{host}");
        if let Some(index) = self.cluster_index.get(&name) {
            return ClusterRef {
                name,
                index: *index,
            };
        }
        let index = self.build_cluster(&name, host, port, subset);
        self.cluster_index.insert(name.clone(), index);
        ClusterRef { name, index }
    }

    fn build_cluster(&mut self, name: &str, host: &str, port: u16, subset: &str) -> Option<usize> {
        let service = self.inputs.registry.find(host)?;
        let svc = self.inputs.registry.get(service);
        if !svc.visibility.visible_from(&self.identity.namespace) || svc.port(port).is_none() {
            return None;
        }
        let dr = self.destination_rule(host);
        let (subset_labels, subset_policy) = if subset.is_empty() {
            (BTreeMap::new(), None)
        } else {
            let s = dr.as_ref()?.subsets.iter().find(|s| s.name() == subset)?;
            (s.labels.clone(), s.traffic_policy.as_ref())
        };
        let top = dr.as_ref().and_then(|d| d.policy.as_ref());
        let lb = effective(
            top,
            subset_policy,
            port,
            |p| p.load_balancer.as_ref(),
            |p| p.load_balancer.as_ref(),
        );
        let (policy, hash) = lb_policy(lb, &svc.origin);
        let pool = effective(
            top,
            subset_policy,
            port,
            |p| p.connection_pool.as_ref(),
            |p| p.connection_pool.as_ref(),
        )
        .map_or(Limits::UNLIMITED, pool_limits);
        let outlier = effective(
            top,
            subset_policy,
            port,
            |p| p.outlier_detection.as_ref(),
            |p| p.outlier_detection.as_ref(),
        )
        .map(OutlierConfig::from_rule);
        let tls = effective(
            top,
            subset_policy,
            port,
            |p| p.tls.as_ref(),
            |p| p.tls.as_ref(),
        )
        .map(|t| t.mode);
        self.clusters.push(Cluster {
            name: name.to_string(),
            service,
            port,
            subset: Some(subset.to_string()).filter(|s| !s.is_empty()),
            subset_labels,
            lb: policy,
            hash,
            destination_rule: dr.as_ref().map(|d| d.key.clone()),
            pool,
            outlier,
            tls,
        });
        Some(self.clusters.len() - 1)
    }

    /// The DestinationRule for `host`, as istiod picks it for this proxy
    /// (see [`DestinationRules`]).
    fn destination_rule(&self, host: &str) -> Option<MergedRule> {
        let service_ns = self
            .inputs
            .registry
            .find(host)
            .map(|i| self.inputs.registry.get(i).namespace.as_str());
        self.inputs.destination_rules.for_proxy(
            &self.identity.namespace,
            &self.identity.labels,
            host,
            service_ns,
        )
    }
}

/// An RE2 rewrite string (`\1` for a group, `\\` for a backslash, `$`
/// literal) in the syntax of Rust's `Regex::replace_all` (`${1}`, `$$`), so
/// `uriRegexRewrite` substitutes as Envoy's `RE2::GlobalReplace` does.
fn re2_substitution(rewrite: &str) -> String {
    let mut out = String::with_capacity(rewrite.len());
    let mut chars = rewrite.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => out.push_str("$$"),
            '\\' => match chars.peek() {
                Some(d) if d.is_ascii_digit() => {
                    out.push_str(&format!("${{{d}}}"));
                    chars.next();
                }
                Some('\\') => {
                    out.push('\\');
                    chars.next();
                }
                _ => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}

/// A match block that matches every request once istiod has settled its
/// proxy conditions: Envoy's `prefix: /` (or regex `.*`) with no header or
/// query condition (`IsCatchAllRoute`).
fn is_catch_all(m: &crate::config::networking::virtual_service::HttpMatchRequest) -> bool {
    let uri_all = match &m.uri {
        None => true,
        Some(u) => u.prefix.as_deref() == Some("/") || u.regex.as_deref() == Some(".*"),
    };
    uri_all
        && m.headers.is_empty()
        && m.without_headers.is_empty()
        && m.query_params.is_empty()
        && m.method.is_none()
        && m.authority.is_none()
        && m.scheme.is_none()
}

/// What `rewrite.uri` replaces for a request selected by this block.
fn rewrite_span(m: &crate::config::networking::virtual_service::HttpMatchRequest) -> RewriteSpan {
    match &m.uri {
        Some(u) => match &u.prefix {
            Some(p) => RewriteSpan::Prefix(p.len()),
            None => RewriteSpan::Whole,
        },
        None => RewriteSpan::Root,
    }
}

/// The load balancer settings in force for a port: port-level settings
/// replace the top-level ones as a unit; a subset's policy then overrides
/// field by field (`MergeSubsetTrafficPolicy`).
fn effective<'p, T>(
    top: Option<&'p TrafficPolicy>,
    subset: Option<&'p TrafficPolicy>,
    port: u16,
    whole: impl Fn(&'p TrafficPolicy) -> Option<&'p T>,
    at_port: impl Fn(&'p PortTrafficPolicy) -> Option<&'p T>,
) -> Option<&'p T> {
    let level = |p: &'p TrafficPolicy| -> Option<Option<&'p T>> {
        p.port_level_settings
            .iter()
            .find(|pl| pl.port.as_ref().map(|s| s.number) == Some(u32::from(port)))
            .map(&at_port)
    };
    let top_setting = top.and_then(|t| level(t).unwrap_or(whole(t)));
    match subset {
        Some(s) => match level(s) {
            Some(setting) => setting,
            None => whole(s).or(top_setting),
        },
        None => top_setting,
    }
}

/// `applyConnectionPool`: each limit a DestinationRule sets (above 0)
/// replaces Istio's unlimited default.
fn pool_limits(p: &ConnectionPoolSettings) -> Limits {
    let set = |v: i32, default: u32| if v > 0 { v as u32 } else { default };
    let (tcp, http) = (p.tcp.as_ref(), p.http.as_ref());
    let d = Limits::UNLIMITED;
    Limits {
        max_connections: set(tcp.map_or(0, |t| t.max_connections), d.max_connections),
        max_pending_requests: set(
            http.map_or(0, |h| h.http1_max_pending_requests),
            d.max_pending_requests,
        ),
        max_requests: set(http.map_or(0, |h| h.http2_max_requests), d.max_requests),
        max_requests_per_connection: set(
            http.map_or(0, |h| h.max_requests_per_connection),
            d.max_requests_per_connection,
        ),
        max_retries: set(http.map_or(0, |h| h.max_retries), d.max_retries),
    }
}

fn lb_policy(
    lb: Option<&LoadBalancerSettings>,
    origin: &Origin,
) -> (PolicyConfig, Option<HashPolicy>) {
    let resolution_passthrough = matches!(
        origin,
        Origin::ServiceEntry {
            resolution: crate::config::networking::service_entry::Resolution::None,
            ..
        }
    );
    if resolution_passthrough {
        return (PolicyConfig::Passthrough, None);
    }
    let Some(lb) = lb else {
        return (PolicyConfig::ISTIO_DEFAULT, None);
    };
    if let Some(ch) = &lb.consistent_hash {
        return (hash_ring(ch), hash_policy(ch));
    }
    let policy = match lb.simple.unwrap_or_default() {
        SimpleLb::Unspecified | SimpleLb::LeastConn | SimpleLb::LeastRequest => {
            PolicyConfig::ISTIO_DEFAULT
        }
        SimpleLb::Random => PolicyConfig::Random,
        SimpleLb::RoundRobin => PolicyConfig::RoundRobin,
        SimpleLb::Passthrough => PolicyConfig::Passthrough,
    };
    (policy, None)
}

/// Ring hash unless Maglev is asked for; ring size 1024 unless set
/// (`ApplyRingHashLoadBalancer`).
fn hash_ring(ch: &ConsistentHashLb) -> PolicyConfig {
    if let Some(m) = &ch.maglev {
        return PolicyConfig::Maglev {
            table_size: if m.table_size == 0 {
                PolicyConfig::DEFAULT_MAGLEV_TABLE_SIZE
            } else {
                m.table_size
            },
        };
    }
    let min = ch
        .ring_hash
        .as_ref()
        .map(|r| r.minimum_ring_size)
        .filter(|m| *m > 0)
        .or(Some(ch.minimum_ring_size).filter(|m| *m > 0))
        .unwrap_or(PolicyConfig::DEFAULT_MIN_RING_SIZE);
    PolicyConfig::RingHash {
        minimum_ring_size: min,
        maximum_ring_size: PolicyConfig::DEFAULT_MAX_RING_SIZE,
    }
}

fn hash_policy(ch: &ConsistentHashLb) -> Option<HashPolicy> {
    if let Some(h) = &ch.http_header_name {
        return Some(HashPolicy::Header(h.to_ascii_lowercase()));
    }
    if let Some(c) = &ch.http_cookie {
        return Some(HashPolicy::Cookie {
            name: c.name.clone().unwrap_or_default(),
            ttl: c.ttl.as_ref().map(|t| t.get()),
        });
    }
    if ch.use_source_ip == Some(true) {
        return Some(HashPolicy::SourceIp);
    }
    ch.http_query_parameter_name
        .clone()
        .map(HashPolicy::QueryParameter)
}

fn header_ops(h: Option<&Headers>) -> (HeaderOps, HeaderOps) {
    let conv = |o: Option<&crate::config::networking::virtual_service::HeaderOperations>| {
        o.map(|o| HeaderOps {
            set: o
                .set
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                .collect(),
            add: o
                .add
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                .collect(),
            remove: o.remove.iter().map(|k| k.to_ascii_lowercase()).collect(),
        })
        .unwrap_or_default()
    };
    match h {
        Some(h) => (conv(h.request.as_ref()), conv(h.response.as_ref())),
        None => (HeaderOps::default(), HeaderOps::default()),
    }
}

/// `:authority`/`host` in request `set`/`add` become a host rewrite (set
/// wins over add) rather than header operations; other pseudo-headers and
/// `host` are dropped from every list (`translateAppendHeaders`,
/// `dropInternal`).
fn take_authority(ops: &mut HeaderOps) -> Option<String> {
    let is_auth = |k: &str| k == ":authority" || k == "host";
    let from_set = ops
        .set
        .iter()
        .find(|(k, _)| is_auth(k))
        .map(|(_, v)| v.clone());
    let from_add = ops
        .add
        .iter()
        .find(|(k, _)| is_auth(k))
        .map(|(_, v)| v.clone());
    ops.set.retain(|(k, _)| !is_auth(k) && !k.starts_with(':'));
    ops.add.retain(|(k, _)| !is_auth(k) && !k.starts_with(':'));
    ops.remove.retain(|k| !is_auth(k) && !k.starts_with(':'));
    from_set.or(from_add)
}

/// `ApplyRedirect`: 301 unless told otherwise; `derivePort:
/// FROM_REQUEST_PORT` redirects to the listener port.
fn redirect(r: &HttpRedirect, listener_port: u16) -> Redirect {
    let port = match (r.port, r.derive_port) {
        (Some(p), _) => Some(p as u16),
        (None, Some(RedirectPortSelection::FromRequestPort)) => Some(listener_port),
        _ => None,
    };
    let scheme = Some(r.scheme.clone()).filter(|s| !s.is_empty());
    // A default port for the scheme is dropped from the Location.
    let effective_scheme = scheme.clone().unwrap_or_else(|| "http".to_string());
    let port = port.filter(|p| {
        !((*p == 80 && effective_scheme == "http") || (*p == 443 && effective_scheme == "https"))
    });
    Redirect {
        uri: Some(r.uri.clone()).filter(|u| !u.is_empty()),
        authority: Some(r.authority.clone()).filter(|a| !a.is_empty()),
        port,
        scheme,
        code: match r.redirect_code {
            0 => 301,
            c => c as u16,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn re2_rewrites_become_rust_replacements() {
        let re = regex::Regex::new("^/reviews/([0-9]+)/(.*)$").unwrap();
        let sub = |rewrite: &str| {
            re.replace_all("/reviews/7/x", re2_substitution(rewrite).as_str())
                .into_owned()
        };
        assert_eq!(sub(r"/\2/instance/\1"), "/x/instance/7");
        assert_eq!(sub(r"/\0"), "//reviews/7/x");
        assert_eq!(sub("/$1"), "/$1", "RE2 takes $ literally");
        assert_eq!(sub(r"/a\\b"), r"/a\b");
    }
}
