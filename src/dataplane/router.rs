//! The outbound HTTP decision of a proxy: route configuration by listener,
//! virtual host by Host, first matching route, then the route's action —
//! a weighted cluster, a redirect, a direct response, or Envoy's own local
//! replies (404 NR, 503 NC). Sans-IO: configuration, request and a random
//! stream in, a [`Decision`] out; optionally a human trace of every step
//! for `meshsim route`.

use std::sync::Arc;

use crate::apps::Request;
use crate::sim::{Rng, SimDuration};

use super::flags::ResponseFlags;
use super::retry::RetryPolicy;
use super::route_match::{MatchInput, evaluate_any};
use super::xds::{
    Action, HashPolicy, HeaderOps, Listener, ProxyConfig, RewriteSpan, Route, RouteOrigin,
    TcpRoute, WeightedCluster,
};

/// Which route a request took: route configuration, virtual host, route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteRef {
    pub listener: Listener,
    pub vhost: usize,
    pub route: usize,
}

/// What the proxy does with the request.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Send to a cluster (by index into the proxy's clusters).
    Forward(Forward),
    /// `allow_any`, or a port with no HTTP route configuration: on to the
    /// address the application dialled.
    Passthrough { route: Option<RouteRef> },
    /// The proxy answers itself.
    Local(LocalReply),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Forward {
    /// The HTTP route taken; `None` for TCP routing.
    pub route: Option<RouteRef>,
    pub cluster: usize,
    pub cluster_name: String,
    /// What a hashing balancer hashes (the route's or TCP proxy's policy).
    pub hash: Option<HashPolicy>,
    /// The request as it leaves the proxy, when the route changed it.
    pub upstream: Option<Request>,
    /// Header operations on the way back.
    pub response_headers: HeaderOps,
    /// Clusters that get a copy, and the copy's request.
    pub mirrors: Vec<(usize, Request)>,
    /// An injected delay before the request leaves (fault filter).
    pub delay: SimDuration,
    /// Flags the proxy has set already (DI).
    pub flags: ResponseFlags,
    /// The route's retry policy (`None`: no retries, e.g. TCP).
    pub retry: Option<Arc<RetryPolicy>>,
    /// The route's timeout, covering every attempt (`None`: disabled).
    pub timeout: Option<SimDuration>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LocalReply {
    pub route: Option<RouteRef>,
    pub status: u16,
    pub flags: ResponseFlags,
    pub body: String,
    /// Response header operations: a redirect's `location`, then the
    /// route's own `headers.response` (Envoy applies a route's response
    /// headers to its direct responses and redirects too).
    pub headers: HeaderOps,
    /// The cluster a route named but that does not exist (for NC).
    pub missing_cluster: Option<String>,
    /// An injected delay before the reply (fault filter).
    pub delay: SimDuration,
}

impl LocalReply {
    /// A reply with this status and flags, no body, headers or route.
    pub fn new(status: u16, flags: ResponseFlags) -> LocalReply {
        LocalReply {
            route: None,
            status,
            flags,
            body: String::new(),
            headers: HeaderOps::default(),
            missing_cluster: None,
            delay: SimDuration::ZERO,
        }
    }
}

/// The request and where it is going.
pub struct Outbound<'a> {
    pub listener: Listener,
    pub request: &'a Request,
    /// The port the client dialled (sidecar) or the Gateway server port.
    pub port: u16,
    pub scheme: &'a str,
    /// What picks the virtual host when not the request's Host: a
    /// waypoint routes for the Service the request was tunnelled to
    /// (its per-Service route configuration takes any Host).
    pub vhost_for: Option<&'a str>,
}

/// Appends a formatted line to an optional trace. Lines are formatted only
/// when someone asked for a trace: routing runs for every simulated request.
macro_rules! note {
    ($trace:expr, $($arg:tt)*) => {
        if let Some(t) = $trace.as_deref_mut() {
            t.push(format!($($arg)*));
        }
    };
}

/// The deterministic half of routing: which route a request takes. It
/// depends only on the request and the configuration, so proxies may
/// remember it per request until their configuration changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// No HTTP route configuration for the listener: passed through.
    NoRouteConfig,
    /// No virtual host for the Host: 404 NR.
    NoVirtualHost,
    /// A virtual host, but no route matched: 404 NR.
    NoRoute,
    /// A virtual host that requires TLS, reached over plain HTTP: 301 to
    /// `https://`, before any route is looked at.
    TlsRequired,
    /// The route, and which of its match blocks matched.
    Route {
        route: RouteRef,
        block: Option<usize>,
    },
}

/// Routes one request; `trace`, when given, collects one line per step.
pub fn route(
    cfg: &ProxyConfig,
    out: &Outbound<'_>,
    rng: &mut Rng,
    mut trace: Option<&mut Vec<String>>,
) -> Decision {
    let selection = select(cfg, out, trace.as_deref_mut());
    act(cfg, out, &selection, rng, trace)
}

/// Route configuration by listener, virtual host by Host, first route
/// whose matches hold.
pub fn select(
    cfg: &ProxyConfig,
    out: &Outbound<'_>,
    mut trace: Option<&mut Vec<String>>,
) -> Selection {
    let Some(rc) = cfg.routes.get(&out.listener) else {
        note!(
            trace,
            "no HTTP route configuration for {:?}: passed through to the original destination",
            out.listener
        );
        return Selection::NoRouteConfig;
    };
    note!(trace, "route configuration {:?}", rc.name);
    let Some(vh_index) = rc.select(out.vhost_for.unwrap_or(&out.request.authority)) else {
        note!(
            trace,
            "no virtual host matches Host {:?}: 404 (NR)",
            out.request.authority
        );
        return Selection::NoVirtualHost;
    };
    let vh = &rc.vhosts[vh_index];
    // E `VirtualHostImpl::getRouteFromEntries` answers `require_tls` before
    // matching routes, when `x-forwarded-proto` is not https.
    if vh.require_tls && out.scheme != "https" {
        note!(
            trace,
            "virtual host {:?} requires TLS (httpsRedirect): 301 to https",
            vh.name
        );
        return Selection::TlsRequired;
    }
    match &vh.virtual_service {
        Some(vs) => note!(
            trace,
            "virtual host {:?} (Host {:?}), routes from VirtualService {vs}",
            vh.name,
            out.request.authority
        ),
        None => note!(
            trace,
            "virtual host {:?} (Host {:?})",
            vh.name,
            out.request.authority
        ),
    }
    for (i, r) in vh.routes.iter().enumerate() {
        let input = MatchInput {
            request: out.request,
            scheme: out.scheme,
            port: out.port,
            source_labels: &cfg.identity.labels,
            source_namespace: &cfg.identity.namespace,
            gateway: r.gateway.as_deref(),
        };
        match evaluate_any(&r.matches, &input) {
            Ok(block) => {
                note!(
                    trace,
                    "{} matched{}",
                    describe_route(r),
                    block.map(|b| format!(" (match[{b}])")).unwrap_or_default()
                );
                return Selection::Route {
                    route: RouteRef {
                        listener: out.listener.clone(),
                        vhost: vh_index,
                        route: i,
                    },
                    block,
                };
            }
            Err(misses) => {
                note!(
                    trace,
                    "{} did not match: {}",
                    describe_route(r),
                    misses
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                );
            }
        }
    }
    note!(trace, "no route matched: 404 (NR)");
    Selection::NoRoute
}

/// Carries out the selected route: the weighted pick, rewrites, mirrors,
/// redirects and direct responses, and Envoy's local replies.
pub fn act(
    cfg: &ProxyConfig,
    out: &Outbound<'_>,
    selection: &Selection,
    rng: &mut Rng,
    mut trace: Option<&mut Vec<String>>,
) -> Decision {
    let (rref, matched_block) = match selection {
        Selection::NoRouteConfig => return Decision::Passthrough { route: None },
        Selection::NoVirtualHost | Selection::NoRoute => {
            return Decision::Local(LocalReply::new(404, ResponseFlags::NR));
        }
        Selection::TlsRequired => {
            // E `Utility::createSslRedirectPath`: `https://` + Host + path.
            return Decision::Local(LocalReply {
                headers: HeaderOps {
                    set: vec![(
                        "location".to_string(),
                        format!("https://{}{}", out.request.authority, out.request.path),
                    )],
                    ..HeaderOps::default()
                },
                ..LocalReply::new(301, ResponseFlags::NONE)
            });
        }
        Selection::Route { route, block } => (route.clone(), *block),
    };
    let r = route_at(cfg, &rref);
    // Envoy's fault filter runs before the router: the delay, then the
    // abort, each drawn on its own.
    let Some(fault) = &r.fault else {
        return take_route(cfg, out, rref, matched_block, rng, trace);
    };
    let mut flags = ResponseFlags::NONE;
    let mut delay = SimDuration::ZERO;
    if let Some((d, chance)) = fault.delay
        && rng.below(1_000_000) < u64::from(chance)
    {
        note!(trace, "fault: delayed {d} (DI)");
        delay = d;
        flags = ResponseFlags::DI;
    }
    if let Some((status, chance)) = fault.abort
        && rng.below(1_000_000) < u64::from(chance)
    {
        note!(trace, "fault: aborted with {status} (FI)");
        return Decision::Local(LocalReply {
            route: Some(rref),
            body: "fault filter abort".to_string(),
            delay,
            ..LocalReply::new(status, flags | ResponseFlags::FI)
        });
    }
    let mut decision = take_route(cfg, out, rref, matched_block, rng, trace);
    match &mut decision {
        Decision::Forward(f) => {
            f.delay = delay;
            f.flags = flags;
        }
        Decision::Local(l) => {
            l.delay = delay;
            l.flags = l.flags | flags;
        }
        Decision::Passthrough { .. } => {}
    }
    decision
}

/// The route a [`RouteRef`] names in `cfg`.
pub fn route_at<'c>(cfg: &'c ProxyConfig, rref: &RouteRef) -> &'c Route {
    &cfg.routes[&rref.listener].vhosts[rref.vhost].routes[rref.route]
}

/// What the router does with the selected route: the weighted pick,
/// rewrites, mirrors, redirects and direct responses.
fn take_route(
    cfg: &ProxyConfig,
    out: &Outbound<'_>,
    rref: RouteRef,
    matched_block: Option<usize>,
    rng: &mut Rng,
    mut trace: Option<&mut Vec<String>>,
) -> Decision {
    let r = route_at(cfg, &rref);
    match &r.action {
        Action::Passthrough => {
            note!(
                trace,
                "passed through to the original destination (PassthroughCluster)"
            );
            Decision::Passthrough { route: Some(rref) }
        }
        Action::Direct { status, body } => {
            note!(trace, "direct response {status}");
            Decision::Local(LocalReply {
                route: Some(rref),
                body: body.clone(),
                headers: r.response_headers.clone(),
                ..LocalReply::new(*status, ResponseFlags::NONE)
            })
        }
        Action::Redirect(rd) => {
            let location = redirect_location(rd, out);
            note!(trace, "redirect {} to {location}", rd.code);
            Decision::Local(LocalReply {
                route: Some(rref),
                headers: HeaderOps {
                    set: vec![("location".to_string(), location)],
                    ..HeaderOps::default()
                }
                .then(&r.response_headers),
                ..LocalReply::new(rd.code, ResponseFlags::NONE)
            })
        }
        Action::Forward(weighted) => {
            let pick = weighted_pick(weighted.iter().map(|w| w.weight), rng);
            let w = &weighted[pick];
            if weighted.len() > 1 {
                note!(
                    trace,
                    "weighted pick among [{}]: {}",
                    weighted
                        .iter()
                        .map(|w| format!("{} {}", w.cluster.name, w.weight))
                        .collect::<Vec<_>>()
                        .join(", "),
                    w.cluster.name
                );
            }
            let upstream = rewrite_request(r, matched_block, w, out);
            let Some(cluster) = w.cluster.index else {
                note!(trace, "cluster {} does not exist: 503 (NC)", w.cluster.name);
                return Decision::Local(LocalReply {
                    route: Some(rref),
                    missing_cluster: Some(w.cluster.name.clone()),
                    ..LocalReply::new(503, ResponseFlags::NC)
                });
            };
            let c = &cfg.clusters[cluster];
            match (&c.destination_rule, &c.subset) {
                (Some(dr), Some(subset)) => note!(
                    trace,
                    "cluster {} (DestinationRule {dr}, subset {subset}: {})",
                    w.cluster.name,
                    c.subset_labels
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                (Some(dr), None) => {
                    note!(trace, "cluster {} (DestinationRule {dr})", w.cluster.name)
                }
                _ => note!(trace, "cluster {}", w.cluster.name),
            }
            let sent = upstream.as_ref().unwrap_or(out.request);
            let mut mirrors = Vec::new();
            for m in &r.mirrors {
                if m.percent >= 100.0 || rng.next_f64() * 100.0 < m.percent {
                    match m.cluster.index {
                        Some(c) => {
                            let mut copy = sent.clone();
                            copy.authority = shadow_host(&copy.authority);
                            note!(
                                trace,
                                "mirrored to {} as Host {:?}",
                                m.cluster.name,
                                copy.authority
                            );
                            mirrors.push((c, copy));
                        }
                        None => note!(
                            trace,
                            "mirror cluster {} does not exist: not mirrored",
                            m.cluster.name
                        ),
                    }
                }
            }
            // Weighted clusters' operations apply before the route's, so the
            // route's `set` wins there (`WeightedClusterEntry`).
            let mut response_headers = w.response_headers.clone();
            response_headers
                .set
                .extend(r.response_headers.set.iter().cloned());
            response_headers
                .add
                .extend(r.response_headers.add.iter().cloned());
            response_headers
                .remove
                .extend(r.response_headers.remove.iter().cloned());
            Decision::Forward(Forward {
                route: Some(rref),
                cluster,
                cluster_name: w.cluster.name.clone(),
                hash: w.hash.clone(),
                upstream,
                response_headers,
                mirrors,
                delay: SimDuration::ZERO,
                flags: ResponseFlags::NONE,
                retry: r.retry.clone(),
                timeout: r.timeout,
            })
        }
    }
}

/// A sidecar's decision for a connection to a TCP or TLS service port:
/// by SNI on a port with `tls` rules (`None` when no chain takes `sni`),
/// else the port's TCP route. `None` too when the port has no route.
pub fn route_tcp(
    cfg: &ProxyConfig,
    service: usize,
    port: u16,
    sni: &str,
    rng: &mut Rng,
    trace: Option<&mut Vec<String>>,
) -> Option<Decision> {
    route_l4(cfg, cfg.tcp.get(&(service, port))?, port, sni, rng, trace)
}

/// A connection taken by L4 `route` (a sidecar's service port or a
/// gateway's TCP server): by SNI when the route has chains (`None` when
/// none takes `sni`), else its weighted clusters.
pub fn route_l4(
    cfg: &ProxyConfig,
    route: &TcpRoute,
    port: u16,
    sni: &str,
    rng: &mut Rng,
    mut trace: Option<&mut Vec<String>>,
) -> Option<Decision> {
    let (origin, clusters, what) = if route.sni.is_empty() {
        (&route.origin, &route.clusters, "tcp")
    } else {
        let Some(chain) = route.chain_for(sni) else {
            note!(
                trace,
                "TLS port {port}: no filter chain for SNI {sni:?} (chains for {})",
                route
                    .sni
                    .iter()
                    .map(|c| c.sni_hosts.join(" "))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            return None;
        };
        (&chain.origin, &chain.clusters, "tls")
    };
    let (cluster, _) = &clusters[weighted_pick(clusters.iter().map(|(_, w)| *w), rng)];
    match origin {
        RouteOrigin::VirtualService { name, index } => note!(
            trace,
            "{} port {port}: {name} {what}[{index}] to {}",
            what.to_ascii_uppercase(),
            cluster.name
        ),
        _ => note!(trace, "TCP port {port}: to {}", cluster.name),
    }
    Some(match cluster.index {
        Some(index) => Decision::Forward(Forward {
            route: None,
            cluster: index,
            cluster_name: cluster.name.clone(),
            // A TCP proxy hashes by the cluster's policy (source IP).
            hash: cfg.clusters[index].hash.clone(),
            upstream: None,
            response_headers: HeaderOps::default(),
            mirrors: Vec::new(),
            delay: SimDuration::ZERO,
            flags: ResponseFlags::NONE,
            retry: None,
            timeout: None,
        }),
        // Istio sends TCP routes to a missing cluster to the BlackHole.
        None => Decision::Local(LocalReply {
            missing_cluster: Some(cluster.name.clone()),
            ..LocalReply::new(0, ResponseFlags::UH)
        }),
    })
}

/// Envoy's weighted choice: `random % total` over the weights'
/// intervals in order; the first when there is one or they sum to 0.
fn weighted_pick(weights: impl Iterator<Item = u32> + Clone, rng: &mut Rng) -> usize {
    let total: u64 = weights.clone().map(u64::from).sum();
    if total == 0 || weights.clone().nth(1).is_none() {
        return 0;
    }
    let x = rng.below(total);
    let mut acc = 0;
    weights
        .map(u64::from)
        .position(|w| {
            acc += w;
            x < acc
        })
        .unwrap_or(0)
}

fn describe_route(r: &Route) -> String {
    match &r.origin {
        RouteOrigin::Default => "default route".to_string(),
        RouteOrigin::CatchAll => format!("catch-all route {:?}", r.name),
        RouteOrigin::VirtualService { name, index } if r.name.is_empty() => {
            format!("{name} http[{index}]")
        }
        RouteOrigin::VirtualService { name, index } => format!("{name} http[{index}] {:?}", r.name),
    }
}

/// Envoy inserts `-shadow` before the port of the Host the request
/// carried (`shadowAppendedHost`).
pub fn shadow_host(authority: &str) -> String {
    match authority.rsplit_once(':') {
        Some((h, p))
            if p.bytes().all(|b| b.is_ascii_digit()) && !h.ends_with(']')
                || authority.starts_with('[') && authority.contains("]:") =>
        {
            format!("{h}-shadow:{p}")
        }
        _ => format!("{authority}-shadow"),
    }
}

/// The request after the route's rewrites and header operations, or `None`
/// when nothing changes it.
fn rewrite_request(
    r: &Route,
    block: Option<usize>,
    cluster: &WeightedCluster,
    out: &Outbound<'_>,
) -> Option<Request> {
    let cluster_headers = &cluster.request_headers;
    if r.rewrite.is_none()
        && r.request_headers.is_empty()
        && cluster_headers.is_empty()
        && cluster.host_rewrite.is_none()
    {
        return None;
    }
    let mut req = out.request.clone();
    if let Some(rw) = &r.rewrite {
        let (path, query) = match req.path.split_once('?') {
            Some((p, q)) => (p.to_string(), Some(q.to_string())),
            None => (req.path.clone(), None),
        };
        let mut new_path = None;
        if let Some(prefix) = &rw.uri {
            let span = block
                .and_then(|b| r.rewrite_spans.get(b))
                .copied()
                .unwrap_or(RewriteSpan::Root);
            let matched = match span {
                RewriteSpan::Prefix(n) => n,
                RewriteSpan::Whole => path.len(),
                RewriteSpan::Root => 1,
            };
            new_path = Some(format!(
                "{prefix}{}",
                path.get(matched.min(path.len())..).unwrap_or("")
            ));
        } else if let Some((re, with)) = &rw.regex {
            new_path = Some(re.replace_all(&path, with.as_str()).into_owned());
        }
        if let Some(p) = new_path {
            req.headers
                .push(("x-envoy-original-path".to_string(), req.path.clone()));
            req.path = match query {
                Some(q) => format!("{p}?{q}"),
                None => p,
            };
        }
        if let Some(a) = &rw.authority {
            req.authority = a.clone();
        }
    }
    // A weighted cluster's host rewrite is applied after the route's.
    if let Some(a) = &cluster.host_rewrite {
        req.authority = a.clone();
    }
    cluster_headers.apply(&mut req.headers);
    r.request_headers.apply(&mut req.headers);
    Some(req)
}

/// `scheme://host[:port]path`, the query kept unless the new path has one.
fn redirect_location(rd: &super::xds::Redirect, out: &Outbound<'_>) -> String {
    let scheme = rd.scheme.clone().unwrap_or_else(|| out.scheme.to_string());
    let host = rd
        .authority
        .clone()
        .unwrap_or_else(|| super::xds::strip_port(&out.request.authority).to_string());
    // E `processRequestHost`: without a port redirect the request Host
    // keeps its port, unless the scheme changes and the port is the old
    // scheme's default (`:80` from http, `:443` from https).
    let request_port = out
        .request
        .authority
        .rsplit_once(':')
        .map(|(_, p)| p)
        .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let port = match (rd.port, request_port) {
        (Some(p), _) => format!(":{p}"),
        (None, Some(p)) if rd.authority.is_none() => {
            let old_default = matches!((out.scheme, p), ("http", "80") | ("https", "443"));
            if scheme != out.scheme && old_default {
                String::new()
            } else {
                format!(":{p}")
            }
        }
        (None, _) => String::new(),
    };
    let (orig_path, orig_query) = match out.request.path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (out.request.path.as_str(), None),
    };
    let mut path = rd.uri.clone().unwrap_or_else(|| orig_path.to_string());
    if !path.starts_with('/') {
        path.insert(0, '/');
    }
    if let (Some(q), false) = (orig_query, path.contains('?')) {
        path = format!("{path}?{q}");
    }
    format!("{scheme}://{host}{port}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("reviews:9080", "reviews-shadow:9080")]
    #[test_case("reviews", "reviews-shadow")]
    #[test_case(
        "reviews.bookinfo.svc.cluster.local",
        "reviews.bookinfo.svc.cluster.local-shadow"
    )]
    fn shadow_hosts(host: &str, want: &str) {
        assert_eq!(shadow_host(host), want);
    }
}
