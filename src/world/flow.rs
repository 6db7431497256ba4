//! A request's journey: out of the client's application, through its proxy
//! and the network to the server's proxy and application, and the answer
//! back. Each hop's latency comes from the cost model; each decision from
//! the sans-IO pieces (`dataplane::router`, the balancers, the apps).

use std::sync::Arc;

use crate::apps::model::{Behavior, StepCx};
use crate::apps::{Body, Failure, Input, Outcome, Request, Step};
use crate::config::networking::destination_rule::TlsMode;
use crate::dataplane::lb::hash_key;
use crate::dataplane::outlier::Detector;
use crate::dataplane::router::{self, Decision, Forward, LocalReply, Outbound};
use crate::dataplane::xds::{
    HashPolicy, HeaderOps, Listener, OutboundPolicy, ProxyConfig, TlsTermination, tls_server_for,
};
use crate::dataplane::{ResponseFlags, Upstream, kube_proxy_pick};
use crate::k8s::{PodId, ServiceId};
use crate::sim::{Rng, SimDuration};
use crate::telemetry::{EdgeKey, Reporter};

use super::calls::{CallId, CallRef, Parent, ReqId, Routed};
use super::inbound::Enforcer;
use super::{Event, World};

pub const NO_HEALTHY_UPSTREAM: &str = "no healthy upstream";
/// The port HBONE tunnels arrive on (ztunnel, waypoints, sidecars).
pub const HBONE_PORT: u16 = 15008;
/// Envoy's `host_selection_retry_max_attempts` as Istio sets it.
const HOST_SELECTION_ATTEMPTS: usize = 5;
pub const CONNECT_FAILURE: &str =
    "upstream connect error or disconnect/reset before headers. reset reason: connection failure";

/// What an application dialled, after DNS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dialled {
    /// A Service's ClusterIP and one of its ports.
    Service {
        svc: ServiceId,
        port_idx: usize,
        port: u16,
    },
    /// A name or address outside the cluster.
    External { host: String, port: u16 },
}

impl World {
    /// One network hop's latency, by placement: same node, same zone, or
    /// across zones (and from or to outside the cluster).
    pub(super) fn network(&mut self, a: Option<PodId>, b: Option<PodId>) -> SimDuration {
        let node = |p: Option<PodId>| p.map(|p| self.cluster.pod(p).node);
        let dist = match (node(a), node(b)) {
            (Some(na), Some(nb)) if na == nb => &self.costs.net_same_node,
            (Some(na), Some(nb)) if self.cluster.node(na).zone == self.cluster.node(nb).zone => {
                &self.costs.net_same_zone
            }
            _ => &self.costs.net_cross_zone,
        };
        dist.sample(&mut self.net_rng)
    }

    pub(super) fn sidecar_pass(&mut self, present: bool) -> SimDuration {
        if present {
            self.costs.sidecar_latency.sample(&mut self.net_rng)
        } else {
            SimDuration::ZERO
        }
    }

    /// One crossing of whatever proxies a side of a call: its sidecar, or
    /// its node's ztunnel, or nothing.
    fn side_pass(&mut self, sidecar: bool, ztunnel: bool) -> SimDuration {
        if ztunnel && !sidecar {
            self.costs.ztunnel_latency.sample(&mut self.net_rng)
        } else {
            self.sidecar_pass(sidecar)
        }
    }

    /// The way back from server to client: server proxy, network, client
    /// proxy.
    pub(super) fn return_latency(&mut self, id: CallId) -> SimDuration {
        let call = self.calls.get(id);
        let (src, dst, cs, ss, ext) = (
            call.src_pod,
            call.dst,
            (call.client_sidecar, call.client_ztunnel),
            (call.server_sidecar, call.server_ztunnel),
            call.external,
        );
        let mut d = self.side_pass(cs.0, cs.1);
        if let Some(ep) = dst {
            d += self.side_pass(ss.0, ss.1) + self.network(src, Some(ep.pod));
        } else if ext {
            d += self.network(src, None);
        }
        d
    }

    /// DNS from a pod in `namespace`: a cluster-local name (`svc`,
    /// `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`) or ClusterIP is a
    /// Service (its port must exist); other dotted names resolve on the
    /// internet; a missing cluster-local name does not resolve.
    pub fn dial(&self, namespace: &str, host: &str, port: u16) -> Result<Dialled, Failure> {
        let host = host.trim_end_matches('.');
        let service = |ns: &str, name: &str| -> Result<Dialled, Failure> {
            let svc = self
                .cluster
                .find_service(ns, name)
                .ok_or(Failure::NameResolution)?;
            let port_idx = self
                .cluster
                .service(svc)
                .port_index(port)
                .ok_or(Failure::ConnectionRefused)?;
            Ok(Dialled::Service {
                svc,
                port_idx,
                port,
            })
        };
        if let Ok(ip) = host.parse::<std::net::Ipv4Addr>() {
            return match self
                .cluster
                .services
                .iter()
                .find(|s| !s.deleted && s.cluster_ip == Some(ip))
            {
                Some(s) => service(&s.namespace, &s.name),
                None => Ok(Dialled::External {
                    host: host.to_string(),
                    port,
                }),
            };
        }
        let labels: Vec<&str> = host.split('.').collect();
        match labels.as_slice() {
            [name] => service(namespace, name),
            [name, ns] if self.cluster.namespaces.contains_key(*ns) => service(ns, name),
            [name, ns, "svc"] | [name, ns, "svc", "cluster", "local"] => service(ns, name),
            _ if host.ends_with(".cluster.local") || host.ends_with(".svc") => {
                Err(Failure::NameResolution)
            }
            _ => Ok(Dialled::External {
                host: host.to_string(),
                port,
            }),
        }
    }

    /// What `targets[slot]` of the pod's application resolves to, cached
    /// until a Service changes.
    fn target(&mut self, pod: PodId, slot: u8) -> Result<Dialled, Failure> {
        let epoch = self.services_epoch;
        let rt = &self.pods[pod.0 as usize];
        if rt.targets_epoch != epoch {
            let ns = self.cluster.pod(pod).namespace.clone();
            let resolved = rt
                .model
                .targets
                .iter()
                .map(|t| self.dial(&ns, &t.host, t.port))
                .collect();
            let rt = &mut self.pods[pod.0 as usize];
            rt.targets = resolved;
            rt.targets_epoch = epoch;
        }
        self.pods[pod.0 as usize]
            .targets
            .get(usize::from(slot))
            .cloned()
            .unwrap_or(Err(Failure::NameResolution))
    }

    /// The listener a sidecar's HTTP traffic to `d` enters: the port's
    /// shared route configuration, a sniffed service's own one, or none
    /// (non-HTTP ports are proxied at L4).
    fn listener(&mut self, d: &Dialled) -> Option<Listener> {
        self.refresh_mesh();
        match d {
            Dialled::External { port, .. } => Some(Listener::Port(*port)),
            Dialled::Service { svc, port_idx, .. } => {
                self.mesh.listeners[svc.0 as usize][*port_idx].clone()
            }
        }
    }

    /// Sends a request from `src` (a pod, or outside the cluster) to what it
    /// dialled. The answer always comes back as an [`Event::Respond`].
    pub(super) fn send(
        &mut self,
        parent: Parent,
        src: Option<PodId>,
        dialled: Result<Dialled, Failure>,
        req: ReqId,
    ) -> CallId {
        let id = self.calls.alloc();
        let client_sidecar = src.is_some_and(|p| self.pods[p.0 as usize].proxy.is_some());
        let client_ztunnel = !client_sidecar && src.is_some_and(|p| self.in_ambient(p));
        {
            let now = self.queue.now();
            let call = self.calls.get_mut(id);
            call.parent = parent;
            call.src_pod = src;
            call.src_workload = src.map(|p| self.cluster.pod(p).workload);
            call.client_sidecar = client_sidecar;
            call.client_ztunnel = client_ztunnel;
            call.req = req;
            call.sent_at = now;
        }
        let dialled = match dialled {
            Ok(d) => d,
            Err(f) => {
                self.fail_now(id, f);
                return id;
            }
        };
        match src.filter(|_| client_sidecar) {
            Some(pod) => {
                let cfg = self.proxy_config(pod);
                // An outside name reaches an HTTP listener only where the
                // sidecar has one on that port (`0.0.0.0_PORT`); else the
                // connection is TCP for the virtual outbound listener.
                let listener = self.listener(&dialled).filter(|l| {
                    matches!(dialled, Dialled::Service { .. }) || cfg.routes.contains_key(l)
                });
                let decision = match listener {
                    Some(listener) => {
                        let request = Arc::clone(self.request(req));
                        let out = Outbound {
                            listener,
                            request: &request,
                            port: dialled_port(&dialled),
                            scheme: "http",
                            vhost_for: None,
                        };
                        let traced = self.tracing(id);
                        if traced {
                            let who = self.cluster.pod(pod).key();
                            self.note(id, || {
                                format!("sidecar of {who} (namespace {})", cfg.identity.namespace)
                            });
                        }
                        let proxy = self.pods[pod.0 as usize]
                            .proxy
                            .as_mut()
                            .expect("client has a sidecar");
                        if traced {
                            router::route(&cfg, &out, &mut proxy.rng, self.trace.as_mut())
                        } else {
                            let selection = proxy.selection(req.0, &out.listener, || {
                                router::select(&cfg, &out, None)
                            });
                            router::act(&cfg, &out, &selection, &mut proxy.rng, None)
                        }
                    }
                    None => {
                        self.calls.get_mut(id).l4 = true;
                        self.tcp_decision(id, pod, &cfg, &dialled)
                    }
                };
                self.pods[pod.0 as usize].proxy_cpu += self.costs.sidecar_cpu;
                self.execute(id, pod, &cfg, decision, &dialled);
            }
            None if client_ztunnel => self.ztunnel_send(id, &dialled),
            None => {
                self.note(id, || {
                    "no sidecar: kube-proxy sends the request to the dialled address".to_string()
                });
                self.passthrough(id, &dialled)
            }
        }
        id
    }

    /// The client's ztunnel carries the connection: to the Service's
    /// waypoint when it has one, else straight to a pod of the Service
    /// (ztunnel picks one itself) or to the address dialled; HBONE to
    /// whatever is in the mesh, plaintext to the rest.
    fn ztunnel_send(&mut self, id: CallId, dialled: &Dialled) {
        let src = self
            .calls
            .get(id)
            .src_pod
            .expect("an ambient client is a pod");
        self.charge_ztunnel(src);
        if let Dialled::Service { svc, port, .. } = *dialled
            && let Some((ns, name)) = self.waypoint_of(svc)
            // A waypoint without a ready pod has no address yet: istiod
            // leaves the Service without one until it has.
            && let Some(wp) = self.waypoint_pod(&ns, &name)
        {
            let label = self.telemetry.label(&self.cluster.service(svc).fqdn());
            self.note(id, || {
                format!("ztunnel: the Service uses waypoint {ns}/{name}: HBONE to it")
            });
            let call = self.calls.get_mut(id);
            call.dest_label = Some(label);
            call.waypoint_target = Some((svc, port));
            self.deliver_to(
                id,
                Upstream::Pod(crate::k8s::Endpoint {
                    pod: wp,
                    port: HBONE_PORT,
                }),
            );
            return;
        }
        self.note(id, || {
            "ztunnel: no waypoint, the connection goes to a pod of the Service (HBONE when it is in the mesh)".to_string()
        });
        self.passthrough(id, dialled)
    }

    /// A sidecar's L4 decision for a connection that is not HTTP to it:
    /// the TCP or TLS route of the service dialled (an outside name finds
    /// its ServiceEntry by host), with the request's Host as the TLS SNI.
    /// Without one: a Service's own address is passed through, an outside
    /// one goes by the outbound traffic policy (ALLOW_ANY: through;
    /// REGISTRY_ONLY: the BlackHole cluster resets it). A TLS Service port
    /// whose `tls` chains do not take the SNI matches no filter chain on
    /// its VIP listener: reset, NR.
    fn tcp_decision(
        &mut self,
        id: CallId,
        pod: PodId,
        cfg: &ProxyConfig,
        dialled: &Dialled,
    ) -> Decision {
        let service = match dialled {
            Dialled::Service { svc, .. } => self.mesh.registry_index[svc.0 as usize],
            Dialled::External { host, .. } => self.mesh.registry.find(host),
        };
        let port = dialled_port(dialled);
        let authority = self.request(self.calls.get(id).req).authority.clone();
        let sni = crate::dataplane::xds::strip_port(&authority);
        let (rng, trace) = self.deciding(pod, id);
        let decision = service.and_then(|s| router::route_tcp(cfg, s, port, sni, rng, trace));
        if let Some(d) = decision {
            return d;
        }
        let reset = |flags, cluster: Option<&str>| {
            Decision::Local(LocalReply {
                missing_cluster: cluster.map(str::to_string),
                ..LocalReply::new(0, flags)
            })
        };
        match dialled {
            Dialled::Service { .. }
                if service.is_some_and(|s| cfg.tcp.contains_key(&(s, port))) =>
            {
                reset(ResponseFlags::NR, None)
            }
            Dialled::External { .. } if cfg.outbound == OutboundPolicy::RegistryOnly => {
                self.note(id, || {
                    "REGISTRY_ONLY: an unknown destination goes to the BlackHole cluster"
                        .to_string()
                });
                // A static cluster with no hosts: no healthy upstream.
                reset(ResponseFlags::UH, Some("BlackHoleCluster"))
            }
            _ => {
                self.note(id, || {
                    "not an HTTP port: proxied at L4 to the dialled address".to_string()
                });
                Decision::Passthrough { route: None }
            }
        }
    }

    /// What proxy `pod` decides call `id` with: its random stream, and the
    /// trace when the call is traced.
    fn deciding(&mut self, pod: PodId, id: CallId) -> (&mut Rng, Option<&mut Vec<String>>) {
        let traced = self.tracing(id);
        let proxy = self.pods[pod.0 as usize]
            .proxy
            .as_mut()
            .expect("the deciding pod is a proxy");
        let trace = if traced { self.trace.as_mut() } else { None };
        (&mut proxy.rng, trace)
    }

    /// Whether call `id` is a probe's (or a gateway forwarding one) and a
    /// trace is being collected.
    pub(super) fn tracing(&self, id: CallId) -> bool {
        if self.trace.is_none() {
            return false;
        }
        match self.calls.get(id).parent {
            Parent::Probe => true,
            Parent::Relay(p) => self
                .calls
                .resolve(p)
                .is_some_and(|c| c.parent == Parent::Probe),
            _ => false,
        }
    }

    /// Adds a line to the trace when call `id` is traced.
    pub(super) fn note(&mut self, id: CallId, line: impl FnOnce() -> String) {
        if self.tracing(id) {
            let line = line();
            if let Some(t) = self.trace.as_mut() {
                t.push(line);
            }
        }
    }

    /// Carries out a proxy's decision for call `id`, made by the proxy in
    /// `proxy_pod` (a sidecar, or a gateway).
    pub(super) fn execute(
        &mut self,
        id: CallId,
        proxy_pod: PodId,
        cfg: &ProxyConfig,
        decision: Decision,
        dialled: &Dialled,
    ) {
        match decision {
            Decision::Local(reply) => self.local_reply(id, reply),
            Decision::Passthrough { .. } => {
                // Envoy's `%UPSTREAM_CLUSTER%` for traffic a proxy passes on.
                let cluster = self.texts.intern_str("PassthroughCluster");
                self.calls.get_mut(id).cluster = Some(cluster);
                self.passthrough(id, dialled)
            }
            Decision::Forward(f) => self.forward(id, proxy_pod, cfg, f),
        }
    }

    /// The proxy answers itself (404 NR, 503 NC, a redirect, a direct
    /// response); the answer reaches the client after the proxy's pass.
    pub(super) fn local_reply(&mut self, id: CallId, reply: LocalReply) {
        let authority = self.request(self.calls.get(id).req).authority.clone();
        let label = self
            .telemetry
            .label(crate::dataplane::xds::strip_port(&authority));
        let body = if reply.body.is_empty() {
            Body::Empty
        } else {
            Body::Text(self.texts.intern_str(&reply.body))
        };
        let cluster = reply
            .missing_cluster
            .as_deref()
            .map(|c| self.texts.intern_str(c));
        let call = self.calls.get_mut(id);
        // After a cluster was chosen (503 UH), the reply is that cluster's:
        // Envoy's `%UPSTREAM_CLUSTER%` and Istio's labels name it.
        call.dest_label.get_or_insert(label);
        call.cluster = cluster.or(call.cluster);
        call.answered = true;
        // Status 0: a TCP proxy with nowhere to send closes the connection.
        call.outcome = if reply.status == 0 {
            Outcome::Failed(Failure::ConnectionReset)
        } else {
            Outcome::Response {
                status: reply.status,
                body,
            }
        };
        call.flags = reply.flags;
        if let Some(ops) = reply_ops(reply.headers) {
            call.response_ops = Some(ops);
        }
        let back = reply.delay + self.sidecar_pass(true);
        let r = self.calls.reference(id);
        self.queue.push_after(back, Event::Respond(r));
    }

    /// The request goes where the application dialled: kube-proxy picks a
    /// ready endpoint of a Service, an outside address is reached as is.
    fn passthrough(&mut self, id: CallId, dialled: &Dialled) {
        match dialled {
            Dialled::Service { svc, port_idx, .. } => {
                let label = self.telemetry.label(&self.cluster.service(*svc).fqdn());
                self.calls.get_mut(id).dest_label = Some(label);
                match kube_proxy_pick(self.cluster.service(*svc), *port_idx, &mut self.kube_rng) {
                    Some(ep) => self.deliver_to(id, Upstream::Pod(ep)),
                    None => self.connect_failed(id),
                }
            }
            Dialled::External { host, port } => {
                let label = self.telemetry.label(host);
                self.calls.get_mut(id).dest_label = Some(label);
                self.deliver_to(
                    id,
                    Upstream::External {
                        host: host.clone(),
                        port: *port,
                    },
                );
            }
        }
    }

    /// Nothing accepted the connection: a proxy answers 503 UF, a plain
    /// client sees the refusal — or, in the ambient mesh, a reset: its
    /// ztunnel had accepted the connection before finding nowhere to send
    /// it.
    fn connect_failed(&mut self, id: CallId) {
        let failure = if self.calls.get(id).client_ztunnel {
            Failure::ConnectionReset
        } else {
            Failure::ConnectionRefused
        };
        self.broken(id, failure, CONNECT_FAILURE, ResponseFlags::UF);
    }

    /// Call `id`'s connection failed with `failure`: a client proxy that
    /// read the HTTP answers 503 with its `body` and `flags`; a client
    /// without one, or whose proxy only carried the connection (TCP), sees
    /// the failure itself. The news travels back.
    pub(super) fn broken(
        &mut self,
        id: CallId,
        failure: Failure,
        body: &'static str,
        flags: ResponseFlags,
    ) {
        let call = self.calls.get_mut(id);
        call.answered = true;
        if call.client_sidecar && !call.l4 {
            call.outcome = Outcome::Response {
                status: 503,
                body: Body::Static(body),
            };
            call.flags = flags;
        } else {
            call.outcome = Outcome::Failed(failure);
        }
        let back = self.return_latency(id);
        let r = self.calls.reference(id);
        self.queue.push_after(back, Event::Respond(r));
    }

    fn fail_now(&mut self, id: CallId, f: Failure) {
        let call = self.calls.get_mut(id);
        call.answered = true;
        call.outcome = Outcome::Failed(f);
        let r = self.calls.reference(id);
        self.queue.push_after(SimDuration::ZERO, Event::Respond(r));
    }

    /// The proxy sends to a cluster: rewrites apply, the route's timeout
    /// starts, the first attempt leaves, mirrors get their copies.
    fn forward(&mut self, id: CallId, proxy_pod: PodId, cfg: &ProxyConfig, f: Forward) {
        let (label, name) = self.prepare_cluster(proxy_pod, cfg, f.cluster);
        if let Some(up) = f.upstream.clone() {
            let r = self.intern(up);
            self.calls.get_mut(id).req = r;
        }
        let hash = f.hash.as_ref().and_then(|h| self.hash_of(h, id));
        let route = match &f.route {
            Some(r) if self.keep_logs => Some(
                self.texts
                    .intern_str(&crate::dataplane::router::route_at(cfg, r).name),
            ),
            _ => None,
        };
        // The router's timers start once the fault filter let it go.
        let deadline = f.timeout.map(|t| self.queue.now() + f.delay + t);
        {
            let revision = self.mesh.revision;
            let call = self.calls.get_mut(id);
            call.dest_label = Some(label);
            call.cluster = Some(name);
            call.route = route;
            call.flags = call.flags | f.flags;
            if !f.response_headers.is_empty() {
                call.response_ops = Some(Box::new(f.response_headers.clone()));
            }
            call.attempts.policy = f.retry.clone();
            call.attempts.cluster = f.cluster;
            call.attempts.revision = revision;
            call.attempts.hash = hash;
            call.attempts.deadline = deadline;
        }
        let r = self.calls.reference(id);
        if let Some(at) = deadline {
            self.queue.push_at(at, Event::RouteTimeout(r));
        }
        if f.delay.is_zero() {
            self.attempt(id, proxy_pod, cfg, f.route.clone());
        } else {
            self.queue.push_after(f.delay, Event::Dispatch(r));
        }
        for (mirror_cluster, copy) in f.mirrors {
            let (_, name) = self.mirror(proxy_pod, cfg, mirror_cluster, copy);
            self.calls.get_mut(id).mirrored.push(name);
        }
    }

    /// One attempt of a forwarded call: the balancer picks a host (none
    /// ready: 503 UH), avoiding hosts earlier attempts tried when the retry
    /// policy says so (Envoy's `previous_hosts` predicate, at most 5
    /// picks, the last one kept), and the request goes to the cluster's
    /// connection pool.
    pub(super) fn attempt(
        &mut self,
        id: CallId,
        proxy_pod: PodId,
        cfg: &ProxyConfig,
        route: Option<crate::dataplane::router::RouteRef>,
    ) {
        let attempts = &self.calls.get(id).attempts;
        let (index, hash) = (attempts.cluster, attempts.hash);
        let avoid = hash.is_none()
            && !attempts.tried.is_empty()
            && attempts.policy.as_ref().is_some_and(|p| p.previous_hosts);
        let cluster = &cfg.clusters[index];
        let name = self.calls.get(id).cluster;
        let rt = &mut self.pods[proxy_pod.0 as usize];
        let outliers = name.and_then(|n| rt.outliers.get(&n));
        let proxy = rt.proxy.as_mut().expect("the deciding pod has a proxy");
        let mut picked = proxy.pick(index, hash, outliers);
        for _ in 1..HOST_SELECTION_ATTEMPTS {
            match &picked {
                Some((Upstream::Pod(ep), lease)) if avoid && attempts.tried.contains(ep) => {
                    proxy.release(*lease);
                    picked = proxy.pick(index, hash, outliers);
                }
                _ => break,
            }
        }
        match picked {
            Some((up, lease)) => {
                let call = self.calls.get_mut(id);
                call.lease = Some(lease);
                call.attempts.tries += 1;
                call.tls = cluster.tls;
                if self.tracing(id) {
                    let line = format!(
                        "{} picked {} of {} endpoint(s)",
                        cluster.lb.name(),
                        self.describe_upstream(&up),
                        self.upstreams(cluster).len()
                    );
                    self.trace.as_mut().expect("tracing").push(line);
                }
                let up = self.ingress_waypoint(id, proxy_pod, cluster.service, cluster.port, up);
                self.admit(id, proxy_pod, cluster.pool, up);
            }
            None if cluster.lb == crate::dataplane::lb::PolicyConfig::Passthrough => {
                let host = self.mesh.registry.get(cluster.service).hostname.clone();
                self.deliver_after(
                    id,
                    Upstream::External {
                        host,
                        port: cluster.port,
                    },
                    SimDuration::ZERO,
                );
            }
            None => {
                self.note(id, || {
                    format!("cluster {} has no ready endpoint: 503 (UH)", cluster.name)
                });
                let flags = self.calls.get(id).flags;
                self.local_reply(
                    id,
                    LocalReply {
                        route,
                        body: NO_HEALTHY_UPSTREAM.to_string(),
                        ..LocalReply::new(503, ResponseFlags::UH | flags)
                    },
                )
            }
        }
    }

    /// `ns/pod (10.244.1.5:9080)`, or the outside address.
    pub fn describe_upstream(&self, up: &Upstream) -> String {
        match up {
            Upstream::Pod(ep) => {
                let p = self.cluster.pod(ep.pod);
                format!("{} ({}:{})", p.key(), p.ip, ep.port)
            }
            Upstream::External { host, port } => format!("{host}:{port} (outside the cluster)"),
        }
    }

    /// Makes sure the proxy's balancer for a cluster knows its current
    /// upstreams; returns the cluster's telemetry label and name ids.
    pub(super) fn prepare_cluster(
        &mut self,
        proxy_pod: PodId,
        cfg: &ProxyConfig,
        index: usize,
    ) -> (u32, u32) {
        let epoch = self.mesh.endpoints_epoch;
        let proxy = self.pods[proxy_pod.0 as usize]
            .proxy
            .as_ref()
            .expect("the deciding pod has a proxy");
        if !proxy.needs_upstreams(index, epoch) {
            return proxy.tags(index).expect("prepared clusters have tags");
        }
        let cluster = &cfg.clusters[index];
        let ups = self.upstreams(cluster);
        let tags = (
            self.telemetry
                .label(&self.mesh.registry.get(cluster.service).hostname),
            self.texts.intern_str(&cluster.name),
        );
        let proxy = self.pods[proxy_pod.0 as usize]
            .proxy
            .as_mut()
            .expect("the deciding pod has a proxy");
        let hosts = ups.len();
        proxy.set_upstreams(index, cluster.lb, epoch, ups, tags);
        let outliers = &mut self.pods[proxy_pod.0 as usize].outliers;
        match cluster.outlier {
            Some(config) => {
                let d = outliers
                    .entry(tags.1)
                    .or_insert_with(|| Detector::new(config));
                d.config = config;
                d.set_host_count(hosts);
            }
            None => {
                outliers.remove(&tags.1);
            }
        }
        tags
    }

    /// A fire-and-forget copy of a request to another cluster; its answer
    /// is dropped (Envoy's shadow requests).
    fn mirror(
        &mut self,
        proxy_pod: PodId,
        cfg: &ProxyConfig,
        cluster_index: usize,
        copy: Request,
    ) -> (u32, u32) {
        let tags = self.prepare_cluster(proxy_pod, cfg, cluster_index);
        let label = tags.0;
        let id = self.calls.alloc();
        let req = self.intern(copy);
        let now = self.queue.now();
        {
            let call = self.calls.get_mut(id);
            call.parent = Parent::Mirror;
            call.src_pod = Some(proxy_pod);
            call.src_workload = Some(self.cluster.pod(proxy_pod).workload);
            call.client_sidecar = true;
            call.req = req;
            call.sent_at = now;
            call.dest_label = Some(label);
            call.cluster = Some(tags.1);
        }
        let proxy = self.pods[proxy_pod.0 as usize]
            .proxy
            .as_mut()
            .expect("the mirroring pod has a proxy");
        match proxy.pick(cluster_index, None, None) {
            Some((up, lease)) => {
                self.calls.get_mut(id).lease = Some(lease);
                self.deliver_to(id, up);
            }
            None => self.calls.release(id),
        }
        tags
    }

    /// The consistent-hash key of a request, when it has one.
    fn hash_of(&self, policy: &HashPolicy, id: CallId) -> Option<u64> {
        let call = self.calls.get(id);
        let req = self.request(call.req);
        match policy {
            HashPolicy::Header(h) => req.header(h).map(|v| hash_key(v.as_bytes())),
            HashPolicy::Cookie { name, .. } => req
                .header("cookie")
                .and_then(|c| {
                    c.split(';')
                        .map(str::trim)
                        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                })
                .map(|v| hash_key(v.as_bytes())),
            HashPolicy::SourceIp => call
                .src_pod
                .map(|p| hash_key(self.cluster.pod(p).ip.to_string().as_bytes())),
            HashPolicy::QueryParameter(q) => req
                .path
                .split_once('?')
                .and_then(|(_, qs)| {
                    qs.split('&')
                        .find_map(|kv| kv.strip_prefix(&format!("{q}=")))
                })
                .map(|v| hash_key(v.as_bytes())),
        }
    }

    /// [`World::deliver_to`] for a call set up elsewhere (a probe aimed at
    /// one pod).
    pub(super) fn deliver_to_upstream(&mut self, id: CallId, up: Upstream) {
        self.deliver_to(id, up);
    }

    /// Puts the request on the wire to `up`: a pod's proxy and application,
    /// or an address outside the cluster (which answers 200).
    fn deliver_to(&mut self, id: CallId, up: Upstream) {
        self.deliver_after(id, up, SimDuration::ZERO);
    }

    /// [`World::deliver_to`], the request held `delay` first by the client
    /// proxy (an injected fault).
    pub(super) fn deliver_after(&mut self, id: CallId, up: Upstream, delay: SimDuration) {
        let now = self.queue.now();
        let src = self.calls.get(id).src_pod;
        let (client_sidecar, client_ztunnel) = {
            let c = self.calls.get(id);
            (c.client_sidecar, c.client_ztunnel)
        };
        let out_pass = delay + self.side_pass(client_sidecar, client_ztunnel);
        let r = self.calls.reference(id);
        match up {
            Upstream::Pod(ep) => {
                let dst_workload = self.cluster.pod(ep.pod).workload;
                let server_sidecar = self.pods[ep.pod.0 as usize].proxy.is_some()
                    && !matches!(
                        self.pods[ep.pod.0 as usize].model.behavior,
                        Behavior::Gateway | Behavior::Waypoint
                    );
                let server_ztunnel = !server_sidecar && self.in_ambient(ep.pod);
                if server_ztunnel {
                    self.charge_ztunnel(ep.pod);
                }
                let to_proxy = out_pass + self.network(src, Some(ep.pod));
                let in_pass = self.side_pass(server_sidecar, server_ztunnel);
                let call = self.calls.get_mut(id);
                call.dst = Some(ep);
                call.dst_workload = Some(dst_workload);
                call.server_sidecar = server_sidecar;
                call.server_ztunnel = server_ztunnel;
                call.arrived_at = now + to_proxy;
                self.queue.push_after(to_proxy + in_pass, Event::Arrive(r));
            }
            Upstream::External { .. } => {
                let there = out_pass + self.network(src, None);
                let serve = self.costs.external_latency.sample(&mut self.net_rng);
                let call = self.calls.get_mut(id);
                call.external = true;
                call.answered = true;
                call.outcome = Outcome::Response {
                    status: 200,
                    body: Body::Empty,
                };
                let back = self.return_latency(id);
                self.queue
                    .push_after(there + serve + back, Event::Respond(r));
            }
        }
    }

    pub(super) fn on_arrive(&mut self, r: CallRef) {
        let Some(call) = self.calls.resolve(r) else {
            return;
        };
        let ep = call.dst.expect("arriving calls have an endpoint");
        if !self.pod_serving(ep.pod) {
            self.connect_failed(r.id);
            return;
        }
        self.calls.get_mut(r.id).arrived = true;
        match self.pods[ep.pod.0 as usize].model.behavior {
            Behavior::Gateway => {
                self.gateway_route(r.id, ep.pod, ep.port);
                return;
            }
            Behavior::Waypoint => {
                self.waypoint_route(r.id, ep.pod);
                return;
            }
            _ => {}
        }
        let call = self.calls.get(r.id);
        if call.server_sidecar {
            if !self.inbound_admits(r.id, ep.pod, ep.port) {
                return;
            }
        } else if call.server_ztunnel {
            if !self.ztunnel_admits(r.id, ep.pod, ep.port) {
                return;
            }
        } else if call.client_sidecar && call.tls == Some(TlsMode::IstioMutual) {
            // ISTIO_MUTUAL to a server without a sidecar: the handshake
            // fails (Envoy's "TLS error"), a connection failure.
            self.note(r.id, || {
                "ISTIO_MUTUAL to a server without a sidecar: the TLS handshake fails".to_string()
            });
            self.connect_failed(r.id);
            return;
        }
        let rt = &mut self.pods[ep.pod.0 as usize];
        if rt.server.arrive(r.id) {
            self.advance(r.id, Input::Start);
        }
    }

    /// A gateway routes what reaches it: a local reply, or a forwarded
    /// request whose answer it relays.
    fn gateway_route(&mut self, id: CallId, gateway: PodId, port: u16) {
        let cfg = self.proxy_config(gateway);
        // No server on the port: no listener, so nothing accepts.
        let Some(&server_port) = cfg.server_ports.get(&port) else {
            self.note(id, || format!("the gateway has no listener on port {port}"));
            self.gateway_answers(id);
            self.connect_failed(id);
            return;
        };
        let request = Arc::clone(self.request(self.calls.get(id).req));
        let sni = crate::dataplane::xds::strip_port(&request.authority);
        if let Some(route) = cfg.gateway_tcp.get(&port) {
            let (rng, trace) = self.deciding(gateway, id);
            match router::route_l4(&cfg, route, server_port, sni, rng, trace) {
                Some(decision) => {
                    let dialled = self.authority_dialled(id, server_port);
                    self.relay(id, gateway, &cfg, decision, &dialled, true);
                }
                None => {
                    // No filter chain takes the SNI: the connection closes.
                    self.gateway_answers(id);
                    self.fail_now(id, Failure::ConnectionReset);
                }
            }
            return;
        }
        let scheme = match cfg.tls_ports.get(&port) {
            None => "http",
            Some(servers) => match tls_server_for(servers, sni).map(|s| s.termination) {
                Some(TlsTermination::ServerOnly) => "https",
                found => {
                    // No filter chain for the SNI, or one that wants a
                    // client certificate: the handshake fails.
                    self.note(id, || match found {
                        None => format!("no TLS server on port {port} takes SNI {sni:?}"),
                        Some(_) => "the TLS server wants a client certificate".to_string(),
                    });
                    self.gateway_answers(id);
                    self.fail_now(id, Failure::ConnectionReset);
                    return;
                }
            },
        };
        if !self.request_admitted(id, gateway, port, false, Enforcer::Gateway, scheme) {
            return;
        }
        // The JWT filter may have rewritten the request's headers.
        let request = Arc::clone(self.request(self.calls.get(id).req));
        let out = Outbound {
            listener: Listener::Port(port),
            request: &request,
            port: server_port,
            scheme,
            vhost_for: None,
        };
        let (rng, trace) = self.deciding(gateway, id);
        let decision = router::route(&cfg, &out, rng, trace);
        self.pods[gateway.0 as usize].proxy_cpu += self.costs.sidecar_cpu;
        let dialled = self.authority_dialled(id, server_port);
        self.relay_or_answer(id, gateway, &cfg, decision, &dialled);
    }

    /// What a gateway forwards to: the request's authority on `port`, which
    /// its routes have already turned into clusters.
    fn authority_dialled(&self, id: CallId, port: u16) -> Dialled {
        let authority = &self.request(self.calls.get(id).req).authority;
        Dialled::External {
            host: crate::dataplane::xds::strip_port(authority).to_string(),
            port,
        }
    }

    /// A gateway or waypoint carries out its HTTP `decision` for call `id`:
    /// answers it itself (a local reply), or forwards it and relays the
    /// answer.
    fn relay_or_answer(
        &mut self,
        id: CallId,
        proxy: PodId,
        cfg: &ProxyConfig,
        decision: Decision,
        dialled: &Dialled,
    ) {
        match decision {
            Decision::Local(reply) => {
                let body = if reply.body.is_empty() {
                    Body::Empty
                } else {
                    Body::Text(self.texts.intern_str(&reply.body))
                };
                self.gateway_answers(id);
                let call = self.calls.get_mut(id);
                call.flags = reply.flags;
                if let Some(ops) = reply_ops(reply.headers) {
                    call.response_ops = Some(ops);
                }
                self.answer(id, reply.status, body);
            }
            other => self.relay(id, proxy, cfg, other, dialled, false),
        }
    }

    /// A waypoint takes what a client's ztunnel tunnelled to it (HBONE,
    /// so mTLS with the client's identity), enforces the L7 policies bound
    /// to it or to the Service, and routes the request as a sidecar would
    /// for the Service dialled: VirtualServices, retries, faults, mirrors.
    /// Its own call to the destination goes over HBONE again, to the
    /// destination's ztunnel.
    fn waypoint_route(&mut self, id: CallId, waypoint: PodId) {
        let Some((svc, port)) = self.calls.get(id).waypoint_target else {
            // Only HBONE reaches a waypoint's listener.
            self.note(id, || {
                "the waypoint takes only HBONE connections".to_string()
            });
            self.gateway_answers(id);
            self.connect_failed(id);
            return;
        };
        if !self.handshake(id, waypoint) {
            return;
        }
        let Some(port_idx) = self.cluster.service(svc).port_index(port) else {
            self.gateway_answers(id);
            self.connect_failed(id);
            return;
        };
        let dialled = Dialled::Service {
            svc,
            port_idx,
            port,
        };
        let cfg = self.proxy_config(waypoint);
        let listener = self.listener(&dialled);
        // Not HTTP: the waypoint's policies apply at L4, then it proxies
        // the connection.
        self.calls.get_mut(id).l4 = listener.is_none();
        if !self.request_admitted(id, waypoint, port, true, Enforcer::Waypoint(svc), "http") {
            return;
        }
        self.pods[waypoint.0 as usize].proxy_cpu += self.costs.sidecar_cpu;
        let Some(listener) = listener else {
            let decision = self.tcp_decision(id, waypoint, &cfg, &dialled);
            self.relay(id, waypoint, &cfg, decision, &dialled, true);
            return;
        };
        let request = Arc::clone(self.request(self.calls.get(id).req));
        let fqdn = self.cluster.service(svc).fqdn();
        let out = Outbound {
            listener,
            request: &request,
            port,
            scheme: "http",
            vhost_for: Some(&fqdn),
        };
        if self.tracing(id) {
            let who = self.cluster.pod(waypoint).key();
            self.note(id, || format!("waypoint {who} routes the request"));
        }
        let (rng, trace) = self.deciding(waypoint, id);
        let decision = router::route(&cfg, &out, rng, trace);
        self.relay_or_answer(id, waypoint, &cfg, decision, &dialled);
    }

    /// The gateway (or waypoint) carries out `decision` for incoming call
    /// `id` as a call of its own to `dialled`, whose answer it relays; `l4`
    /// when it proxies the connection without reading HTTP.
    fn relay(
        &mut self,
        id: CallId,
        gateway: PodId,
        cfg: &ProxyConfig,
        decision: Decision,
        dialled: &Dialled,
        l4: bool,
    ) {
        let parent = self.calls.reference(id);
        let child = self.calls.alloc();
        let now = self.queue.now();
        let incoming = self.calls.get(id).req;
        {
            let c = self.calls.get_mut(child);
            c.parent = Parent::Relay(parent);
            c.src_pod = Some(gateway);
            c.src_workload = Some(self.cluster.pod(gateway).workload);
            c.client_sidecar = true;
            c.l4 = l4;
            c.req = incoming;
            c.sent_at = now;
        }
        self.execute(child, gateway, cfg, decision, dialled);
    }

    /// The gateway answers call `id` itself (a refused request).
    pub(super) fn gateway_refuses(&mut self, id: CallId, status: u16, body: Body) {
        self.pods[self.calls.get(id).dst.expect("arrived").pod.0 as usize].proxy_cpu +=
            self.costs.sidecar_cpu;
        self.gateway_answers(id);
        self.answer(id, status, body);
    }

    /// Marks call `id` as routed to nowhere: the gateway itself answers
    /// it (or drops it), so no pod served it and nothing upstream saw it.
    fn gateway_answers(&mut self, id: CallId) {
        let call = self.calls.get_mut(id);
        call.routed = Some(Box::new(Routed {
            cluster: None,
            dst: None,
            req: call.req,
            mirrored: Vec::new(),
            external: false,
            l4: false,
            tries: 0,
        }));
    }

    pub(super) fn on_start(&mut self, r: CallRef) {
        if self.calls.resolve(r).is_some_and(|c| !c.answered) {
            self.advance(r.id, Input::Start);
        }
    }

    pub(super) fn on_compute_done(&mut self, r: CallRef) {
        let Some(call) = self.calls.resolve(r).filter(|c| !c.answered) else {
            return;
        };
        let pod = call.dst.expect("served calls have an endpoint").pod;
        if let Some((next, d)) = self.pods[pod.0 as usize].server.compute_done() {
            let next = self.calls.reference(next);
            self.queue.push_after(d, Event::ComputeDone(next));
        }
        self.advance(r.id, Input::Resumed);
    }

    pub(super) fn on_resume(&mut self, r: CallRef) {
        if self.calls.resolve(r).is_some_and(|c| !c.answered) {
            self.advance(r.id, Input::Resumed);
        }
    }

    /// Advances the application serving `id` until it waits for something.
    fn advance(&mut self, id: CallId, mut input: Input) {
        loop {
            let World {
                calls,
                pods,
                requests,
                ..
            } = self;
            let call = calls.get_mut(id);
            let pod = call.dst.expect("served calls have an endpoint").pod;
            let rt = &mut pods[pod.0 as usize];
            let mut cx = StepCx {
                request: requests.get(call.req.0),
                request_id: call.req.0,
                attempt: if call.client_sidecar && !call.l4 {
                    (call.attempts.retries + 1).min(255) as u8
                } else {
                    0
                },
                pod,
                rng: &mut rt.rng,
            };
            let step = rt.model.step(&mut call.state, input, &mut cx);
            let r = calls.reference(id);
            match step {
                Step::Compute(d) if d.is_zero() => input = Input::Resumed,
                Step::Compute(d) => {
                    if rt.server.compute(id, d) {
                        self.queue.push_after(d, Event::ComputeDone(r));
                    }
                    return;
                }
                Step::Wait(d) => {
                    self.queue.push_after(d, Event::Resume(r));
                    return;
                }
                Step::Call { slot, timeout } => {
                    self.call_out(id, pod, slot, timeout);
                    return;
                }
                Step::Respond { status, body } => {
                    self.answer(id, status, body);
                    return;
                }
            }
        }
    }

    /// The application serving `parent` calls `targets[slot]`.
    fn call_out(&mut self, parent: CallId, pod: PodId, slot: u8, timeout: Option<SimDuration>) {
        let target = self.target(pod, slot);
        let incoming = self.calls.get(parent).req;
        let workload = self.cluster.pod(pod).workload;
        let req = match self.outgoing.get(&(workload, slot, incoming)) {
            Some(r) => *r,
            None => {
                let model = Arc::clone(&self.pods[pod.0 as usize].model);
                let out = model.outgoing(slot, &Arc::clone(self.request(incoming)));
                let r = self.intern(out);
                self.outgoing.insert((workload, slot, incoming), r);
                r
            }
        };
        let parent_ref = self.calls.reference(parent);
        let child = self.send(Parent::Call(parent_ref), Some(pod), target, req);
        if let Some(t) = timeout {
            let lane = self.queue.lane(t);
            let child = self.calls.reference(child);
            self.queue.push_lane(lane, Event::Timeout(child));
        }
    }

    /// The server answers: its proxy reports it, the worker is freed, the
    /// answer travels back.
    pub(super) fn answer(&mut self, id: CallId, status: u16, body: Body) {
        let pod = self
            .calls
            .get(id)
            .dst
            .expect("served calls have an endpoint")
            .pod;
        if !matches!(self.pods[pod.0 as usize].model.behavior, Behavior::Gateway)
            && let Some(next) = self.pods[pod.0 as usize].server.release()
        {
            let next = self.calls.reference(next);
            self.queue.push_at(self.queue.now(), Event::Start(next));
        }
        if !matches!(self.pods[pod.0 as usize].model.behavior, Behavior::Gateway) {
            self.calls.get_mut(id).served = true;
            self.log_served(id, status, &body);
        }
        self.proxy_answers(id, status, body);
    }

    /// The server side answers call `id` — its application (through
    /// [`World::answer`]) or its proxy itself: the destination proxy
    /// reports it, the answer travels back.
    pub(super) fn proxy_answers(&mut self, id: CallId, status: u16, body: Body) {
        let now = self.queue.now();
        let call = self.calls.get_mut(id);
        call.answered = true;
        call.outcome = Outcome::Response { status, body };
        let pod = call.dst.expect("served calls have an endpoint").pod;
        let server_sidecar = call.server_sidecar;
        let key = call.dest_label.map(|service| EdgeKey {
            reporter: Reporter::Destination,
            source: call.src_workload,
            service,
            destination: call.dst_workload,
        });
        let (flags, arrived_at) = (call.flags, call.arrived_at);
        let back = self.return_latency(id);
        if let (true, Some(key)) = (server_sidecar, key) {
            // The destination proxy's duration ends when the response has
            // crossed it again, the start of the way back.
            let out_pass = self.sidecar_pass(true);
            let duration = (now + out_pass).since(arrived_at);
            self.telemetry.record(key, status, flags, duration);
            self.pods[pod.0 as usize].proxy_cpu += self.costs.sidecar_cpu;
            self.log_access(id, pod, super::logs::Side::Inbound);
        }
        let r = self.calls.reference(id);
        self.queue.push_after(back, Event::Respond(r));
    }

    pub(super) fn on_respond(&mut self, r: CallRef) {
        let Some(call) = self.calls.resolve(r) else {
            return;
        };
        if let (Some(lease), Some(src)) = (call.lease, call.src_pod)
            && let Some(proxy) = self.pods[src.0 as usize].proxy.as_mut()
        {
            proxy.release(lease);
        }
        self.stream_done(r.id, false);
        let call = self.calls.get(r.id);
        if call.client_ztunnel || call.server_ztunnel {
            self.ztunnel_done(r.id);
        }
        let call = self.calls.get(r.id);
        if call.client_sidecar && !call.l4 && call.dst.is_some() && !call.abandoned {
            use crate::dataplane::outlier::Result as Seen;
            let seen = match call.outcome.status() {
                _ if call.flags.contains(ResponseFlags::UF)
                    || call.flags.contains(ResponseFlags::UC) =>
                {
                    Seen::LocalOrigin
                }
                Some(status) => Seen::Status(status),
                None => Seen::LocalOrigin,
            };
            self.outlier_record(r.id, seen);
        }
        let call = self.calls.get(r.id);
        if call.abandoned {
            self.calls.release(r.id);
            return;
        }
        if self.retry_after(r.id) {
            return;
        }
        let call = self.calls.get(r.id);
        if call.attempts.retries > 0
            && call.outcome.status().is_some_and(|s| s < 500)
            && let Some(pool) = self.pool_of(r.id)
        {
            pool.stats.upstream_rq_retry_success += 1;
        }
        let call = self.calls.get(r.id);
        let (parent, outcome, sent_at) = (call.parent, call.outcome, call.sent_at);
        if let (true, Some(service), false) = (
            call.client_sidecar,
            call.dest_label,
            parent == Parent::Mirror,
        ) {
            let (reporter, source) = match (parent, call.src_pod) {
                // A waypoint reports its client's workload (from HBONE).
                (Parent::Relay(p), Some(src))
                    if matches!(self.pods[src.0 as usize].model.behavior, Behavior::Waypoint) =>
                {
                    let client = self.calls.resolve(p).and_then(|c| c.src_workload);
                    (Reporter::Waypoint, client)
                }
                _ => (Reporter::Source, call.src_workload),
            };
            let key = EdgeKey {
                reporter,
                source,
                service,
                destination: call.dst_workload,
            };
            let status = outcome.status().unwrap_or(0);
            let (flags, duration) = (call.flags, self.queue.now().since(sent_at));
            let src = call.src_pod;
            self.telemetry.record(key, status, flags, duration);
            if let Some(src) = src {
                self.log_access(r.id, src, super::logs::Side::Outbound);
            }
        }
        let call = self.calls.get(r.id);
        let flags = call.flags;
        if let Parent::Relay(p) = parent {
            let routed = Routed {
                cluster: call.cluster,
                dst: call.dst,
                req: call.req,
                mirrored: call.mirrored.clone(),
                external: call.external,
                l4: call.l4,
                tries: call.attempts.tries,
            };
            // The gateway's response header operations reach its client.
            let ops = self.calls.get_mut(r.id).response_ops.take();
            if let Some(pc) = self.calls.resolve(p).map(|_| p.id) {
                let parent = self.calls.get_mut(pc);
                parent.routed = Some(Box::new(routed));
                parent.response_ops = ops;
            }
        }
        if parent == Parent::Probe {
            let snapshot = self.calls.get(r.id).clone();
            self.probe_done = Some((snapshot, self.queue.now()));
        }
        if let (Parent::Load { .. }, Some(run)) = (parent, self.load.as_ref())
            && run.answer.is_none()
        {
            let call = self.calls.get(r.id);
            let answer = self.probe_result(call, self.queue.now().since(sent_at));
            if let Some(run) = self.load.as_mut() {
                run.answer = Some(answer);
            }
        }
        self.calls.forget(r.id);
        self.calls.release(r.id);
        self.deliver(parent, outcome, flags, sent_at);
    }

    pub(super) fn on_timeout(&mut self, r: CallRef) {
        let r = self.calls.current(r);
        let Some(call) = self.calls.resolve(r).filter(|c| !c.abandoned) else {
            return;
        };
        let (parent, sent_at) = (call.parent, call.sent_at);
        self.calls.forget(r.id);
        self.abandon(r);
        self.deliver(
            parent,
            Outcome::Failed(Failure::Timeout),
            ResponseFlags::NONE,
            sent_at,
        );
    }

    pub(super) fn deliver(
        &mut self,
        parent: Parent,
        outcome: Outcome,
        flags: ResponseFlags,
        sent_at: crate::sim::SimTime,
    ) {
        match parent {
            Parent::Call(p) => {
                if self.calls.resolve(p).is_some_and(|c| !c.answered) {
                    self.advance(p.id, Input::Reply(outcome));
                }
            }
            Parent::Relay(p) => {
                if self.calls.resolve(p).is_some_and(|c| !c.answered) {
                    // The gateway answers its client with what it got; a
                    // failure below HTTP becomes Envoy's 503.
                    let (status, body, flags) = match outcome {
                        Outcome::Response { status, body } => (status, body, flags),
                        Outcome::Failed(_) => {
                            (503, Body::Static(CONNECT_FAILURE), ResponseFlags::UF)
                        }
                    };
                    self.calls.get_mut(p.id).flags = flags;
                    self.answer(p.id, status, body);
                }
            }
            Parent::Client { generator, client } => {
                self.client_done(generator, client, outcome, sent_at)
            }
            Parent::Load { thread, .. } => self.load_done(thread, outcome, sent_at),
            Parent::Mirror | Parent::Probe => {}
        }
    }
}

fn dialled_port(d: &Dialled) -> u16 {
    match d {
        Dialled::Service { port, .. } | Dialled::External { port, .. } => *port,
    }
}

/// The header operations of a proxy's local reply (a redirect's
/// `location`, the route's response headers), if any.
fn reply_ops(ops: HeaderOps) -> Option<Box<HeaderOps>> {
    (!ops.is_empty()).then(|| Box::new(ops))
}
