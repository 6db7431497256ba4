//! `istioctl proxy-config listeners`: the proxy's listeners and their
//! filter chains, as istiod writes them from the registry, the data path's
//! TCP routes and the pod's inbound ports.
//!
//! Sources (istio/istio 1.27.9):
//! - O: `pilot/pkg/networking/core/listener.go`
//!   (`buildSidecarOutboundListener`: HTTP ports on `0.0.0.0:PORT` with a
//!   chain for sniffed HTTP (`raw_buffer`, ALPN `http/1.1,h2c` when
//!   HTTP/1.0 is off) routed by RDS `PORT`; TCP and TLS ports on the
//!   Service VIP; sniffed ports on the VIP with a TCP chain and an HTTP
//!   chain to RDS `HOST:PORT`; the conflict rules and
//!   `mergeTCPFilterChains`; `buildListenerFromEntry`: a match-all chain
//!   becomes the default chain, and a listener without one falls through
//!   to `PassthroughCluster`, or `BlackHoleCluster` under REGISTRY_ONLY),
//!   `tls.go` (a TLS port without a `tls` rule and without a VIP matches
//!   the service's hostname by SNI), `listener_builder.go`
//!   (`virtualOutbound` on 15001: a chain for port 15001 to
//!   `BlackHoleCluster`, then the catch-all), `listener_inbound.go` and
//!   `filterchain_options.go` (`virtualInbound` on 15006: the 15006
//!   blackhole chain, the catch-all chains to `InboundPassthroughCluster`,
//!   then each target port's chains, by protocol and mTLS mode),
//!   `gateway.go` (`0.0.0.0_PORT` per server port).
//! - B: the bootstrap's static listeners 15021 and 15090.
//! - W: `istioctl/pkg/writer/envoy/configdump/listener.go`
//!   (`PrintListenerSummary`: sorted by port, address, type; each chain a
//!   row, sorted by destination, descending; `getMatches`,
//!   `getFilterType`, `retrieveListenerType`; padding 1).
//!
//! Left out: per-pod listeners of headless Services, explicit `Sidecar`
//! resources, port-level PeerAuthentication ports no Service exposes.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::config::networking::gateway::Protocol;
use crate::config::security::MtlsMode;
use crate::dataplane::xds::{Listener, OutboundPolicy, TcpRoute};
use crate::world::World;

use super::envoy::{Proxy, RESERVED_PORTS, describe_cluster};

const WILDCARD: &str = "0.0.0.0";
const TLS: &str = "tls";
const RAW: &str = "raw_buffer";
/// `plaintextHTTPALPNs` with HTTP/1.0 off (the default).
const HTTP_ALPN: &[&str] = &["http/1.1", "h2c"];
const MTLS_HTTP_ALPN: &[&str] = &["istio-http/1.0", "istio-http/1.1", "istio-h2"];
const ALL_ISTIO_ALPN: &[&str] = &[
    "istio",
    "istio-peer-exchange",
    "istio-http/1.0",
    "istio-http/1.1",
    "istio-h2",
];
const MTLS_TCP_ALPN: &[&str] = &["istio-peer-exchange", "istio"];

/// One filter chain: what it matches and what it does.
#[derive(Clone, Debug, PartialEq)]
pub struct Chain {
    pub server_names: Vec<String>,
    pub transport: Option<&'static str>,
    pub alpn: &'static [&'static str],
    pub port: Option<u16>,
    pub filter: ChainFilter,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ChainFilter {
    /// An HTTP connection manager routed by RDS.
    Rds(String),
    /// An HTTP connection manager whose inline route sends everything to
    /// one cluster.
    InlineCluster(String),
    /// The bootstrap's inline route: one prefix.
    InlinePrefix(&'static str),
    /// A TCP proxy to one cluster, or (`None`) weighted clusters.
    Tcp(Option<String>),
}

/// A listener as Envoy holds it.
#[derive(Clone, Debug, PartialEq)]
pub struct EnvoyListener {
    pub name: String,
    pub address: String,
    pub port: u16,
    pub chains: Vec<Chain>,
    pub default_chain: Option<Chain>,
}

impl Chain {
    fn matching(filter: ChainFilter) -> Chain {
        Chain {
            server_names: Vec::new(),
            transport: None,
            alpn: &[],
            port: None,
            filter,
        }
    }

    fn on_port(port: u16, filter: ChainFilter) -> Chain {
        Chain {
            port: Some(port),
            ..Chain::matching(filter)
        }
    }

    /// O `isMatchAll`.
    fn is_match_all(&self) -> bool {
        (self.server_names.is_empty() || self.server_names.iter().any(|s| s == "*"))
            && self.transport.is_none()
            && self.alpn.is_empty()
            && self.port.is_none()
    }

    /// O `conflictsWith`: the same transport, ALPN and SNI names.
    fn conflicts_with(&self, other: &Chain) -> bool {
        fn names(c: &Chain) -> Vec<&String> {
            let mut v: Vec<&String> = c.server_names.iter().filter(|s| *s != "*").collect();
            v.sort();
            v
        }
        self.transport == other.transport && self.alpn == other.alpn && names(self) == names(other)
    }

    /// W `getMatches`.
    pub fn describe_match(&self) -> String {
        let mut parts = Vec::new();
        if !self.server_names.is_empty() {
            parts.push(format!("SNI: {}", self.server_names.join(",")));
        }
        if let Some(t) = self.transport {
            parts.push(format!("Trans: {t}"));
        }
        if !self.alpn.is_empty() {
            parts.push(format!("App: {}", describe_alpn(self.alpn)));
        }
        if let Some(p) = self.port {
            parts.push(format!("Addr: *:{p}"));
        }
        if parts.is_empty() {
            "ALL".to_string()
        } else {
            parts.join("; ")
        }
    }

    /// W `getFilterType`: a TCP proxy whose configuration names
    /// `BlackHoleCluster` is not counted as one.
    pub fn destination(&self) -> String {
        match &self.filter {
            ChainFilter::Rds(name) => format!("Route: {name}"),
            ChainFilter::InlineCluster(c) => describe_cluster(c),
            ChainFilter::InlinePrefix(p) => format!("Inline Route: {p}*"),
            ChainFilter::Tcp(Some(c)) if c.contains("BlackHoleCluster") => {
                "Non-HTTP/Non-TCP".to_string()
            }
            ChainFilter::Tcp(Some(c)) => describe_cluster(c),
            ChainFilter::Tcp(None) => "Cluster: ".to_string(),
        }
    }
}

/// W `protDescrs`: ALPN lists with a name; others joined.
fn describe_alpn(alpn: &[&str]) -> String {
    const NAMED: [(&str, &[&str]); 4] = [
        (
            "HTTP TLS",
            &[
                "http/1.0",
                "http/1.1",
                "h2c",
                "istio-http/1.0",
                "istio-http/1.1",
                "istio-h2",
            ],
        ),
        (
            "Istio HTTP Plain",
            &["istio", "istio-http/1.0", "istio-http/1.1", "istio-h2"],
        ),
        ("TCP TLS", &["istio-peer-exchange", "istio"]),
        ("HTTP", &["http/1.0", "http/1.1", "h2c"]),
    ];
    NAMED
        .iter()
        .find(|(_, list)| *list == alpn)
        .map_or_else(|| alpn.join(","), |(name, _)| name.to_string())
}

impl EnvoyListener {
    /// The chains as istioctl lists them: filter chains, then the default.
    fn all_chains(&self) -> impl Iterator<Item = &Chain> {
        self.chains.iter().chain(self.default_chain.as_ref())
    }

    /// W `retrieveListenerType`.
    pub fn kind(&self) -> &'static str {
        let (mut http, mut tcp) = (0, 0);
        for c in self.all_chains() {
            match &c.filter {
                ChainFilter::Rds(_)
                | ChainFilter::InlineCluster(_)
                | ChainFilter::InlinePrefix(_) => {
                    http += 1;
                }
                ChainFilter::Tcp(Some(c)) if c.contains("BlackHoleCluster") => {}
                ChainFilter::Tcp(_) => tcp += 1,
            }
        }
        match (http, tcp) {
            (0, 0) => "UNKNOWN",
            (0, _) => "TCP",
            (_, 0) => "HTTP",
            _ => "HTTP+TCP",
        }
    }
}

/// One filter chain option of an inbound port (`FilterChainMatchOptions`).
pub struct ChainOption {
    pub transport: &'static str,
    pub alpn: &'static [&'static str],
    /// An HTTP connection manager rather than a TCP proxy.
    pub http: bool,
}

const fn opt(transport: &'static str, alpn: &'static [&'static str], http: bool) -> ChainOption {
    ChainOption {
        transport,
        alpn,
        http,
    }
}

/// `getFilterChainMatchOptions`: the chains of an inbound port by its
/// protocol (`None`: the catch-all chains, which sniff) and mTLS mode.
pub fn inbound_options(protocol: Option<Protocol>, mode: MtlsMode) -> &'static [ChainOption] {
    const AUTO_PERMISSIVE: &[ChainOption] = &[
        opt(TLS, MTLS_HTTP_ALPN, true),
        opt(RAW, HTTP_ALPN, true),
        opt(TLS, MTLS_TCP_ALPN, false),
        opt(RAW, &[], false),
        opt(TLS, &[], false),
    ];
    const AUTO_STRICT: &[ChainOption] = &[opt(TLS, MTLS_HTTP_ALPN, true), opt(TLS, &[], false)];
    const AUTO_PLAIN: &[ChainOption] = &[opt(RAW, HTTP_ALPN, true), opt(RAW, &[], false)];
    const HTTP_PERMISSIVE: &[ChainOption] = &[opt(TLS, ALL_ISTIO_ALPN, true), opt(RAW, &[], true)];
    const TCP_PERMISSIVE: &[ChainOption] = &[
        opt(TLS, ALL_ISTIO_ALPN, false),
        opt(TLS, &[], false),
        opt(RAW, &[], false),
    ];
    const HTTP_STRICT: &[ChainOption] = &[opt(TLS, &[], true)];
    const HTTP_PLAIN: &[ChainOption] = &[opt(RAW, &[], true)];
    const TCP_STRICT: &[ChainOption] = &[opt(TLS, &[], false)];
    const TCP_PLAIN: &[ChainOption] = &[opt(RAW, &[], false)];
    let strict = mode == MtlsMode::Strict;
    let plain = mode == MtlsMode::Disable;
    match protocol {
        Some(p) if p.is_http() => match (strict, plain) {
            (true, _) => HTTP_STRICT,
            (_, true) => HTTP_PLAIN,
            _ => HTTP_PERMISSIVE,
        },
        Some(p) if p.is_tcp() => match (strict, plain) {
            (true, _) => TCP_STRICT,
            (_, true) => TCP_PLAIN,
            _ => TCP_PERMISSIVE,
        },
        _ => match (strict, plain) {
            (true, _) => AUTO_STRICT,
            (_, true) => AUTO_PLAIN,
            _ => AUTO_PERMISSIVE,
        },
    }
}

/// Every listener of the proxy.
pub fn listeners(world: &World, proxy: &Proxy) -> Vec<EnvoyListener> {
    let mut out = if proxy.gateway {
        gateway(world, proxy)
    } else {
        let mut l = outbound(world, proxy);
        l.push(virtual_outbound(proxy));
        l.push(virtual_inbound(world, proxy));
        l
    };
    out.push(bootstrap(15021, "/healthz/ready"));
    out.push(bootstrap(15090, "/stats/prometheus"));
    out
}

fn bootstrap(port: u16, prefix: &'static str) -> EnvoyListener {
    EnvoyListener {
        name: format!("{WILDCARD}_{port}"),
        address: WILDCARD.to_string(),
        port,
        chains: vec![Chain::matching(ChainFilter::InlinePrefix(prefix))],
        default_chain: None,
    }
}

/// The cluster unmatched outbound traffic goes to.
fn fallthrough(proxy: &Proxy) -> String {
    match proxy.config.outbound {
        OutboundPolicy::AllowAny => "PassthroughCluster".to_string(),
        OutboundPolicy::RegistryOnly => "BlackHoleCluster".to_string(),
    }
}

fn virtual_outbound(proxy: &Proxy) -> EnvoyListener {
    EnvoyListener {
        name: "virtualOutbound".to_string(),
        address: WILDCARD.to_string(),
        port: 15001,
        chains: vec![
            Chain::on_port(15001, ChainFilter::Tcp(Some("BlackHoleCluster".into()))),
            Chain::matching(ChainFilter::Tcp(Some(fallthrough(proxy)))),
        ],
        default_chain: None,
    }
}

fn virtual_inbound(world: &World, proxy: &Proxy) -> EnvoyListener {
    let mut chains = vec![Chain::on_port(
        15006,
        ChainFilter::Tcp(Some("BlackHoleCluster".into())),
    )];
    let passthrough = "InboundPassthroughCluster".to_string();
    let chain = |o: &ChainOption, port: Option<u16>, cluster: &str| Chain {
        server_names: Vec::new(),
        transport: Some(o.transport),
        alpn: o.alpn,
        port,
        filter: if o.http {
            ChainFilter::InlineCluster(cluster.to_string())
        } else {
            ChainFilter::Tcp(Some(cluster.to_string()))
        },
    };
    for o in inbound_options(None, proxy.passthrough_mode(world)) {
        chains.push(chain(o, None, &passthrough));
    }
    for port in proxy.inbound_ports(world) {
        let cluster = Proxy::inbound_cluster(port.target_port);
        for o in inbound_options(Some(port.protocol), port.mode) {
            chains.push(chain(o, Some(port.target_port), &cluster));
        }
    }
    EnvoyListener {
        name: "virtualInbound".to_string(),
        address: WILDCARD.to_string(),
        port: 15006,
        chains,
        default_chain: None,
    }
}

/// How the sidecar handles a port's protocol.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Http,
    Tcp,
    Sniffed,
}

/// An outbound listener being built: its chain options and protocol.
struct Entry {
    chains: Vec<Chain>,
    class: Class,
}

impl Entry {
    /// `mergeTCPFilterChains`: incoming chains whose match an existing
    /// chain already has are dropped.
    fn merge(&mut self, incoming: Vec<Chain>) {
        for c in incoming {
            if !self.chains.iter().any(|e| e.conflicts_with(&c)) {
                self.chains.push(c);
            }
        }
    }
}

/// The sidecar's outbound listeners, one per (address, port).
fn outbound(world: &World, proxy: &Proxy) -> Vec<EnvoyListener> {
    let mut map: BTreeMap<(String, u16), Entry> = BTreeMap::new();
    for (i, svc) in world.mesh.registry.services.iter().enumerate() {
        if !svc.visibility.visible_from(&proxy.namespace) {
            continue;
        }
        let vip = svc
            .addresses
            .iter()
            .find(|a| a.parse::<std::net::Ipv4Addr>().is_ok())
            .cloned();
        for port in &svc.ports {
            let p = port.number;
            let class = if port.protocol.is_http() {
                Class::Http
            } else if port.protocol.is_tcp() {
                Class::Tcp
            } else if port.protocol == Protocol::Unsupported {
                Class::Sniffed
            } else {
                continue; // UDP
            };
            let bind = match class {
                Class::Http => WILDCARD.to_string(),
                Class::Tcp | Class::Sniffed => vip.clone().unwrap_or_else(|| WILDCARD.to_string()),
            };
            if class == Class::Http && RESERVED_PORTS.contains(&p) {
                continue;
            }
            let wildcard = bind == WILDCARD;
            let tcp = || {
                let route = proxy.config.tcp.get(&(i, p));
                tcp_chains(route, &svc.hostname, p, port.protocol.is_tls() && wildcard)
            };
            let http = |rds: String| Chain {
                transport: Some(RAW),
                alpn: HTTP_ALPN,
                ..Chain::matching(ChainFilter::Rds(rds))
            };
            let key = (bind, p);
            match (class, map.get_mut(&key)) {
                (Class::Http, None) => {
                    // An HTTP listener on the wildcard sniffs, with a
                    // fall-through TCP chain: its protocol is "unsupported".
                    let entry = Entry {
                        chains: vec![http(p.to_string())],
                        class: Class::Sniffed,
                    };
                    map.insert(key, entry);
                }
                (Class::Http, Some(e)) if e.class == Class::Tcp => {
                    e.merge(vec![http(p.to_string())]);
                    e.class = Class::Sniffed;
                }
                (Class::Tcp, None) => {
                    map.insert(
                        key,
                        Entry {
                            chains: tcp(),
                            class: Class::Tcp,
                        },
                    );
                }
                (Class::Tcp, Some(e)) => e.merge(tcp()),
                (Class::Sniffed, None) => {
                    let mut chains = tcp();
                    chains.push(http(sniffed_route(proxy, &svc.hostname, p)));
                    map.insert(
                        key,
                        Entry {
                            chains,
                            class: Class::Sniffed,
                        },
                    );
                }
                (Class::Sniffed, Some(e)) if e.class == Class::Tcp => {
                    let mut chains = tcp();
                    chains.push(http(sniffed_route(proxy, &svc.hostname, p)));
                    e.merge(chains);
                    e.class = Class::Sniffed;
                }
                _ => {} // the port already has an HTTP listener
            }
        }
    }
    let fall = fallthrough(proxy);
    map.into_iter()
        .map(|((address, port), e)| finish(address, port, e.chains, &fall))
        .collect()
}

/// The route configuration the data path keys a sniffed port's HTTP
/// traffic by (`HOST:PORT`).
fn sniffed_route(proxy: &Proxy, host: &str, port: u16) -> String {
    proxy
        .config
        .routes
        .get(&Listener::Sniffed(host.to_string(), port))
        .map_or_else(|| format!("{host}:{port}"), |rc| rc.name.clone())
}

/// A TCP or TLS port's chains: one per SNI rule, or one to its clusters;
/// a TLS port on the wildcard address matches its hostname by SNI.
fn tcp_chains(route: Option<&TcpRoute>, host: &str, port: u16, sni_by_host: bool) -> Vec<Chain> {
    let default = || vec![(format!("outbound|{port}||{host}"), 100)];
    let dest = |clusters: Vec<(String, u32)>| match clusters.as_slice() {
        [(c, _)] => ChainFilter::Tcp(Some(c.clone())),
        _ => ChainFilter::Tcp(None),
    };
    let names = |cs: &[(crate::dataplane::xds::ClusterRef, u32)]| {
        cs.iter()
            .map(|(c, w)| (c.name.clone(), *w))
            .collect::<Vec<_>>()
    };
    match route {
        Some(r) if !r.sni.is_empty() => r
            .sni
            .iter()
            .map(|s| {
                let mut names_sorted = s.sni_hosts.clone();
                names_sorted.sort();
                Chain {
                    server_names: names_sorted,
                    ..Chain::matching(dest(names(&s.clusters)))
                }
            })
            .collect(),
        _ => {
            let clusters = route
                .map(|r| names(&r.clusters))
                .filter(|c| !c.is_empty())
                .unwrap_or_else(default);
            let server_names = if sni_by_host {
                vec![host.to_string()]
            } else {
                Vec::new()
            };
            vec![Chain {
                server_names,
                ..Chain::matching(dest(clusters))
            }]
        }
    }
}

/// O `buildListenerFromEntry`: a match-all chain becomes the default
/// chain unless it is the only one; without one, unmatched connections
/// fall through to `fall`.
fn finish(address: String, port: u16, chains: Vec<Chain>, fall: &str) -> EnvoyListener {
    let mut kept = Vec::new();
    let mut default = None;
    for c in chains {
        if c.is_match_all() {
            default = Some(Chain {
                server_names: Vec::new(),
                ..c
            });
        } else {
            kept.push(c);
        }
    }
    let default_chain = match (default, kept.is_empty()) {
        (Some(d), true) => {
            kept.push(d);
            None
        }
        (Some(d), false) => Some(d),
        (None, _) => Some(Chain::matching(ChainFilter::Tcp(Some(fall.to_string())))),
    };
    EnvoyListener {
        name: format!("{address}_{port}"),
        address,
        port,
        chains: kept,
        default_chain,
    }
}

/// A gateway's listeners: one per pod port its servers use.
fn gateway(world: &World, proxy: &Proxy) -> Vec<EnvoyListener> {
    let https = proxy.https_servers(world);
    let mut by_port: BTreeMap<u16, Vec<Chain>> = BTreeMap::new();
    for (listener, rc) in &proxy.config.routes {
        let Listener::Port(target) = listener else {
            continue;
        };
        let chains = match https.get(target) {
            Some(servers) => servers
                .iter()
                .map(|s| Chain {
                    server_names: if s.sni_hosts.iter().any(|h| h == "*") {
                        Vec::new()
                    } else {
                        s.sni_hosts.clone()
                    },
                    ..Chain::matching(ChainFilter::Rds(s.route_name.clone()))
                })
                .collect(),
            None => vec![Chain::matching(ChainFilter::Rds(rc.name.clone()))],
        };
        by_port.entry(*target).or_default().extend(chains);
    }
    for (target, route) in &proxy.config.gateway_tcp {
        let server = proxy
            .config
            .server_ports
            .get(target)
            .copied()
            .unwrap_or(*target);
        by_port
            .entry(*target)
            .or_default()
            .extend(tcp_chains(Some(route), "", server, false));
    }
    by_port
        .into_iter()
        .map(|(port, chains)| EnvoyListener {
            name: format!("{WILDCARD}_{port}"),
            address: WILDCARD.to_string(),
            port,
            chains,
            default_chain: None,
        })
        .collect()
}

/// `istioctl proxy-config listeners` filters (W `ListenerFilter.Verify`).
#[derive(Default)]
pub struct Filter<'a> {
    pub address: &'a str,
    pub port: u16,
    pub kind: &'a str,
}

impl Filter<'_> {
    fn keeps(&self, l: &EnvoyListener) -> bool {
        (self.address.is_empty() || l.address.eq_ignore_ascii_case(self.address))
            && (self.port == 0 || l.port == self.port)
            && (self.kind.is_empty() || l.kind().eq_ignore_ascii_case(self.kind))
    }
}

/// W's order: port, then address, then type.
fn sorted<'l>(listeners: &'l [EnvoyListener], filter: &Filter<'_>) -> Vec<&'l EnvoyListener> {
    let mut v: Vec<&EnvoyListener> = listeners.iter().filter(|l| filter.keeps(l)).collect();
    v.sort_by(|a, b| (a.port, &a.address, a.kind()).cmp(&(b.port, &b.address, b.kind())));
    v
}

/// The verbose table's rows, header first: each chain, by destination
/// descending (a stable sort; Go's is not, but agrees for up to 12 rows).
pub fn table(listeners: &[EnvoyListener], filter: &Filter<'_>) -> Vec<Vec<String>> {
    let mut rows = vec![
        ["ADDRESSES", "PORT", "MATCH", "DESTINATION"]
            .map(String::from)
            .to_vec(),
    ];
    for l in sorted(listeners, filter) {
        let mut chains: Vec<(String, String)> = l
            .all_chains()
            .map(|c| (c.describe_match(), c.destination()))
            .collect();
        chains.sort_by(|a, b| b.1.cmp(&a.1));
        for (m, d) in chains {
            rows.push(vec![l.address.clone(), l.port.to_string(), m, d]);
        }
    }
    rows
}

/// `--verbose=false`: one row per listener with its type.
pub fn summary(listeners: &[EnvoyListener], filter: &Filter<'_>) -> Vec<Vec<String>> {
    let mut rows = vec![["ADDRESSES", "PORT", "TYPE"].map(String::from).to_vec()];
    for l in sorted(listeners, filter) {
        rows.push(vec![
            l.address.clone(),
            l.port.to_string(),
            l.kind().to_string(),
        ]);
    }
    rows
}

/// The listeners as `-o json` prints them: addresses, filter chain
/// matches and the filter each chain ends in, named as in Envoy's config
/// dump; the other filters and their settings are left out.
pub fn json(listeners: &[EnvoyListener], filter: &Filter<'_>) -> Value {
    listeners
        .iter()
        .filter(|l| filter.keeps(l))
        .map(|l| {
            let mut v = json!({
                "name": l.name,
                "address": {"socketAddress": {"address": l.address, "portValue": l.port}},
                "filterChains": l.chains.iter().map(chain_json).collect::<Vec<_>>(),
            });
            if let Some(d) = &l.default_chain {
                v["defaultFilterChain"] = chain_json(d);
            }
            v
        })
        .collect()
}

fn chain_json(c: &Chain) -> Value {
    let mut m = json!({});
    if let Some(p) = c.port {
        m["destinationPort"] = json!(p);
    }
    if !c.server_names.is_empty() {
        m["serverNames"] = json!(c.server_names);
    }
    if let Some(t) = c.transport {
        m["transportProtocol"] = json!(t);
    }
    if !c.alpn.is_empty() {
        m["applicationProtocols"] = json!(c.alpn);
    }
    let hcm = "envoy.filters.network.http_connection_manager";
    let hcm_type = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
    let filter = match &c.filter {
        ChainFilter::Rds(name) => json!({"name": hcm, "typedConfig": {
            "@type": hcm_type, "rds": {"routeConfigName": name}}}),
        ChainFilter::InlineCluster(cluster) => json!({"name": hcm, "typedConfig": {
            "@type": hcm_type, "routeConfig": {"name": cluster}}}),
        ChainFilter::InlinePrefix(prefix) => json!({"name": hcm, "typedConfig": {
            "@type": hcm_type, "routeConfig": {"virtualHosts": [{"name": "backend",
            "domains": ["*"], "routes": [{"match": {"prefix": prefix}}]}]}}}),
        ChainFilter::Tcp(cluster) => {
            let mut t = json!({"@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"});
            if let Some(cl) = cluster {
                t["statPrefix"] = json!(cl);
                t["cluster"] = json!(cl);
            }
            json!({"name": "envoy.filters.network.tcp_proxy", "typedConfig": t})
        }
    };
    let mut v = json!({});
    if m.as_object().is_some_and(|o| !o.is_empty()) {
        v["filterChainMatch"] = m;
    }
    v["filters"] = json!([filter]);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case(&["istio-peer-exchange", "istio"], "TCP TLS")]
    #[test_case(&["http/1.1", "h2c"], "http/1.1,h2c"; "not the named HTTP list without 1.0")]
    #[test_case(&["istio-http/1.0", "istio-http/1.1", "istio-h2"], "istio-http/1.0,istio-http/1.1,istio-h2")]
    fn alpn_lists_are_named_like_istioctl(alpn: &'static [&'static str], want: &str) {
        assert_eq!(describe_alpn(alpn), want);
    }

    #[test]
    fn matches_read_sni_transport_alpn_then_port() {
        let c = Chain {
            server_names: vec!["a.com".into()],
            transport: Some(TLS),
            alpn: ALL_ISTIO_ALPN,
            port: Some(9080),
            filter: ChainFilter::Tcp(None),
        };
        assert_eq!(
            c.describe_match(),
            "SNI: a.com; Trans: tls; App: istio,istio-peer-exchange,istio-http/1.0,istio-http/1.1,istio-h2; Addr: *:9080"
        );
        assert_eq!(
            Chain::matching(ChainFilter::Tcp(None)).describe_match(),
            "ALL"
        );
    }

    #[test]
    fn blackhole_chains_are_not_tcp() {
        let c = Chain::on_port(15001, ChainFilter::Tcp(Some("BlackHoleCluster".into())));
        assert_eq!(c.destination(), "Non-HTTP/Non-TCP");
        let l = EnvoyListener {
            name: "x".into(),
            address: WILDCARD.into(),
            port: 1,
            chains: vec![c],
            default_chain: None,
        };
        assert_eq!(l.kind(), "UNKNOWN");
    }

    #[test]
    fn a_lone_match_all_chain_is_not_the_default() {
        let l = finish(
            "10.96.0.1".into(),
            443,
            vec![Chain::matching(ChainFilter::Tcp(Some(
                "outbound|443||k".into(),
            )))],
            "PassthroughCluster",
        );
        assert_eq!(l.chains.len(), 1);
        assert!(l.default_chain.is_none());
    }
}
