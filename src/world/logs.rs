//! Container output, for `kubectl logs`: what each application prints
//! ([`crate::apps::logs`]), what pilot-agent prints as its proxy starts,
//! and Envoy's access log ([`crate::dataplane::access_log`]) when
//! `meshConfig.accessLogFile` or a Telemetry `accessLogging` turns it on.
//!
//! Only a world that serves the Kubernetes API keeps logs
//! ([`World::keep_logs`]): a `meshsim run` of millions of requests formats
//! no lines nobody reads. Each container keeps its newest
//! [`KEEP_BYTES`] (the kubelet rotates at 10 MiB; this bound keeps a
//! soak's memory flat while holding far more than any `--tail` a lab asks).

use std::collections::VecDeque;

use crate::apps::Body;
use crate::apps::logs::{self as app_logs, Served, Stamp};
use crate::config::Body as ConfigBody;
use crate::config::telemetry::WorkloadMode;
use crate::dataplane::access_log::{self, Entry};
use crate::k8s::PodId;
use crate::k8s::names::Fnv64;
use crate::sim::SimTime;
use crate::sim::time::rfc3339_fraction;

use super::World;
use super::calls::CallId;

/// The newest bytes of output kept per container.
pub const KEEP_BYTES: usize = 256 * 1024;

/// The port pilot-agent's inbound passthrough connects to applications
/// from (`127.0.0.6`, Istio's `InboundPassthroughBindIpv4`).
const INBOUND_PASSTHROUGH: &str = "127.0.0.6";

/// One container's output: lines with the instant each was written.
#[derive(Clone, Debug, Default)]
pub struct ContainerLog {
    lines: VecDeque<(SimTime, String)>,
    bytes: usize,
    /// Lines ever written, dropped ones included: where a follower is.
    total: u64,
}

impl ContainerLog {
    fn push(&mut self, at: SimTime, line: String) {
        self.total += 1;
        self.bytes += line.len() + 1;
        self.lines.push_back((at, line));
        while self.bytes > KEEP_BYTES {
            match self.lines.pop_front() {
                Some((_, old)) => self.bytes -= old.len() + 1,
                None => break,
            }
        }
    }

    /// The lines, oldest first.
    pub fn lines(&self) -> impl DoubleEndedIterator<Item = &(SimTime, String)> + ExactSizeIterator {
        self.lines.iter()
    }

    /// How many lines were ever written.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The lines written after the first `seen` ever written (those still
    /// kept).
    pub fn after(&self, seen: u64) -> impl Iterator<Item = &(SimTime, String)> {
        let first = self.total - self.lines.len() as u64;
        let skip = usize::try_from(seen.saturating_sub(first)).unwrap_or(usize::MAX);
        self.lines.iter().skip(skip)
    }
}

/// Which side of a request a proxy logs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    /// The client's proxy (a sidecar's outbound, or a gateway).
    Outbound,
    /// The server's sidecar.
    Inbound,
}

impl World {
    /// The wall-calendar moment of virtual instant `t`.
    pub fn stamp(&self, t: SimTime) -> Stamp {
        let ns = t.as_nanos();
        Stamp {
            unix: self.epoch_unix + ns / 1_000_000_000,
            nanos: (ns % 1_000_000_000) as u32,
        }
    }

    /// Appends to a container's log, when this world keeps logs.
    fn log(&mut self, pod: PodId, container: &str, lines: Vec<String>) {
        let now = self.queue.now();
        self.log_at(pod, container, now, lines);
    }

    /// [`World::log`], written at `now` (the container's start, for lines
    /// it printed before the pod was seen running).
    pub(super) fn log_at(&mut self, pod: PodId, container: &str, now: SimTime, lines: Vec<String>) {
        if !self.keep_logs || lines.is_empty() {
            return;
        }
        let log = self.pods[pod.0 as usize]
            .logs
            .entry(container.to_string())
            .or_default();
        for line in lines {
            log.push(now, line);
        }
    }

    /// What container `container` of `pod` has printed; `None` before it
    /// printed anything.
    pub fn container_log(&self, pod: PodId, container: &str) -> Option<&ContainerLog> {
        self.pods.get(pod.0 as usize)?.logs.get(container)
    }

    /// A line of pilot-agent's: `TIME\tinfo\t[SCOPE\t]MESSAGE[\tFIELDS]`.
    fn agent_line(&self, at: SimTime, scope: &str, message: &str, fields: &str) -> String {
        let s = self.stamp(at);
        let mut line = format!("{}\tinfo\t", rfc3339_fraction(s.unix, s.nanos, 6));
        if !scope.is_empty() {
            line.push_str(scope);
            line.push('\t');
        }
        line.push_str(message);
        if !fields.is_empty() {
            line.push('\t');
            line.push_str(fields);
        }
        line
    }

    /// The pod's containers started: each prints its startup lines.
    pub(super) fn log_started(&mut self, pod: PodId) {
        if !self.keep_logs {
            return;
        }
        let p = self.cluster.pod(pod);
        let at = self.stamp(self.queue.now());
        let apps: Vec<(String, Vec<String>)> = p
            .template
            .spec
            .containers
            .iter()
            .map(|c| {
                let image = c.image.rsplit('/').next().unwrap_or("");
                let lines = if image.starts_with("ztunnel:") || image == "ztunnel" {
                    self.ztunnel_startup(pod, self.queue.now())
                } else {
                    app_logs::startup(&c.image, &p.name, at)
                };
                (c.name.clone(), lines)
            })
            .collect();
        let started = self.pods[pod.0 as usize].containers_start;
        let proxy = self.pods[pod.0 as usize].proxy.is_some().then(|| {
            let role = match self.pods[pod.0 as usize].model.behavior {
                _ if p.sidecar => "sidecar",
                crate::apps::model::Behavior::Waypoint => "waypoint",
                _ => "router",
            };
            vec![
                self.agent_line(
                    started,
                    "",
                    "Proxy role",
                    &format!(
                        "ips=[{}] type={role} id={}.{} domain={}.svc.cluster.local",
                        p.ip, p.name, p.namespace, p.namespace
                    ),
                ),
                self.agent_line(started, "", "Opening status port 15020", ""),
                self.agent_line(
                    started,
                    "xdsproxy",
                    "Initializing with upstream address \"istiod.istio-system.svc:15012\" and cluster \"Kubernetes\"",
                    "",
                ),
            ]
        });
        let gateway = !p.sidecar;
        for (container, lines) in apps {
            // A gateway's only container is its Envoy: the agent speaks there.
            if !(gateway && proxy.is_some()) {
                self.log(pod, &container, lines);
            }
        }
        if let Some(lines) = proxy {
            self.log_at(pod, super::PROXY_CONTAINER, started, lines);
        }
    }

    /// istiod signed the proxy's certificate, valid for `ttl_secs` more.
    pub(super) fn log_certificate(&mut self, pod: PodId, ttl_secs: u64) {
        if !self.keep_logs {
            return;
        }
        let ttl = crate::sim::SimDuration::from_secs(ttl_secs);
        let line = self.agent_line(
            self.queue.now(),
            "cache",
            "generated new workload certificate",
            &format!("resourceName=default ttl={ttl}"),
        );
        self.log(pod, super::PROXY_CONTAINER, vec![line]);
    }

    /// The pod became ready: its proxy passed its readiness check.
    pub(super) fn log_proxy_ready(&mut self, pod: PodId) {
        if !self.keep_logs || self.pods[pod.0 as usize].proxy.is_none() {
            return;
        }
        let now = self.queue.now();
        let after = now.since(self.pods[pod.0 as usize].containers_start);
        let lines = vec![
            self.agent_line(now, "", &format!("Readiness succeeded in {after}"), ""),
            self.agent_line(now, "", "Envoy proxy is ready", ""),
        ];
        self.log(pod, super::PROXY_CONTAINER, lines);
    }

    /// The application serving call `id` answered it.
    pub(super) fn log_served(&mut self, id: CallId, status: u16, body: &Body) {
        if !self.keep_logs {
            return;
        }
        let call = self.calls.get(id);
        let Some(pod) = call.dst.map(|d| d.pod) else {
            return;
        };
        let model = std::sync::Arc::clone(&self.pods[pod.0 as usize].model);
        let request = std::sync::Arc::clone(self.request(call.req));
        let peer = if call.server_sidecar {
            // The sidecar's connection to the application.
            format!("{INBOUND_PASSTHROUGH}:{}", self.ephemeral_port(id, 2))
        } else {
            match call.src_pod {
                Some(src) => format!(
                    "{}:{}",
                    self.cluster.pod(src).ip,
                    self.ephemeral_port(id, 0)
                ),
                None => format!("10.244.0.1:{}", self.ephemeral_port(id, 0)),
            }
        };
        let now = self.queue.now();
        let lines = app_logs::served(
            &model,
            &Served {
                request: &request,
                status,
                peer: &peer,
                at: self.stamp(now),
                took_ns: now.since(call.arrived_at).as_nanos(),
            },
            // Rendered only for an application whose line counts bytes.
            || self.render_body(body).len() as u64,
        );
        let container = self
            .cluster
            .pod(pod)
            .template
            .spec
            .containers
            .first()
            .map(|c| c.name.clone())
            .unwrap_or_default();
        self.log(pod, &container, lines);
    }

    /// The client port of connection `leg` of call `id` (0: client proxy
    /// to server, 1: application to its proxy, 2: server proxy to its
    /// application), stable for the call: the kernel's ephemeral range
    /// (32768–60999), as Envoy's addresses show one.
    pub(super) fn ephemeral_port(&self, id: CallId, leg: u64) -> u16 {
        let call = self.calls.get(id);
        let mut h = Fnv64::default();
        h.number(call.sent_at.as_nanos());
        h.number(u64::from(id.0));
        h.number(leg);
        32_768 + (h.finish() % 28_232) as u16
    }

    /// Envoy's `x-request-id` for call `id`: a version-4 UUID, the same on
    /// every hop of one user request (Envoy generates it at the edge and
    /// propagates it).
    fn request_id(&self, id: CallId) -> String {
        let call = self.calls.get(id);
        if let Some(v) = self.request(call.req).header("x-request-id") {
            return v.to_string();
        }
        let root = self.root_call(id);
        let c = self.calls.get(root);
        let mut h = Fnv64::default();
        h.number(self.seed);
        h.number(c.sent_at.as_nanos());
        h.number(u64::from(root.0));
        let a = h.finish();
        h.number(a);
        let b = h.finish();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }

    /// The first hop of the user request `id` belongs to.
    fn root_call(&self, mut id: CallId) -> CallId {
        use super::calls::Parent;
        for _ in 0..64 {
            match self.calls.get(id).parent {
                Parent::Call(p) | Parent::Relay(p) if self.calls.resolve(p).is_some() => id = p.id,
                _ => break,
            }
        }
        id
    }

    /// Whether `pod`'s proxy writes an access log for `side`: a Telemetry
    /// `accessLogging` (workload, else namespace, else root namespace)
    /// decides; without one, `meshConfig.accessLogFile`.
    fn access_logged(&self, pod: PodId, side: Side) -> bool {
        let p = self.cluster.pod(pod);
        let mode_applies = |m: WorkloadMode| {
            matches!(
                (m, side),
                (WorkloadMode::ClientAndServer, _)
                    | (WorkloadMode::Client, Side::Outbound)
                    | (WorkloadMode::Server, Side::Inbound)
            )
        };
        let mut decided: Option<bool> = None;
        let mut level = 0;
        for obj in self.mesh.store.of_kind("Telemetry") {
            let ConfigBody::Telemetry(t) = &obj.body else {
                continue;
            };
            if t.access_logging.is_empty() {
                continue;
            }
            let this = match &t.selector {
                Some(sel) if obj.namespace() == p.namespace => {
                    if !sel
                        .match_labels
                        .iter()
                        .all(|(k, v)| p.labels.get(k) == Some(v))
                    {
                        continue;
                    }
                    3
                }
                Some(_) => continue,
                None if t.target_ref.is_some() || !t.target_refs.is_empty() => continue,
                None if obj.namespace() == p.namespace => 2,
                None if obj.namespace() == crate::control::routing::ROOT_NAMESPACE => 1,
                None => continue,
            };
            if this < level {
                continue;
            }
            let mut on = None;
            for entry in &t.access_logging {
                let mode = entry
                    .r#match
                    .as_ref()
                    .map_or(WorkloadMode::ClientAndServer, |m| m.mode);
                if !mode_applies(mode) {
                    continue;
                }
                on = Some(
                    entry.disabled != Some(true)
                        && entry
                            .providers
                            .iter()
                            .any(|pr| pr.name.as_deref() == Some("envoy")),
                );
            }
            if on.is_some() {
                level = this;
                decided = on;
            }
        }
        decided.unwrap_or(!self.mesh.access_log_file.is_empty())
    }

    /// Proxy access log for call `id`, written by `pod`'s proxy on `side`.
    pub(super) fn log_access(&mut self, id: CallId, pod: PodId, side: Side) {
        if !self.keep_logs || !self.access_logged(pod, side) {
            return;
        }
        let line = self.access_line(id, side);
        self.log(pod, super::PROXY_CONTAINER, vec![line]);
    }

    fn access_line(&self, id: CallId, side: Side) -> String {
        let call = self.calls.get(id);
        let req = self.request(call.req);
        let now = self.queue.now();
        let (started, status, body) = match call.outcome {
            crate::apps::Outcome::Response { status, body } => (
                if side == Side::Inbound {
                    call.arrived_at
                } else {
                    call.sent_at
                },
                status,
                Some(body),
            ),
            crate::apps::Outcome::Failed(_) => (call.sent_at, 0, None),
        };
        // Inbound, the upstream is the application: a request the sidecar
        // refused (RBAC, JWT) never reached it.
        let upstream_answered = match side {
            Side::Inbound => call.served,
            Side::Outbound => call.arrived && call.dst.is_some(),
        };
        let bytes_sent = body.map_or(0, |b| self.render_body(&b).len() as u64);
        let stamp = self.stamp(started);
        let duration = now.since(started);
        let dst = call
            .dst
            .filter(|_| upstream_answered || side == Side::Outbound)
            .map(|d| {
                let p = self.cluster.pod(d.pod);
                format!("{}:{}", p.ip, d.port)
            });
        let client_ip = call.src_pod.map_or("10.244.0.1".to_string(), |s| {
            self.cluster.pod(s).ip.to_string()
        });
        let port = self.ephemeral_port(id, 0);
        let request_id = self.request_id(id);
        let cluster_name = call.cluster.map(|c| self.texts.get(c).clone());
        let route_name = call.route.map(|r| self.texts.get(r).clone());
        let service_port = cluster_name
            .as_deref()
            .and_then(|c| c.split('|').nth(1))
            .unwrap_or("80")
            .to_string();
        let service_host = cluster_name
            .as_deref()
            .and_then(|c| c.rsplit('|').next())
            .unwrap_or("")
            .to_string();
        let vip = self
            .cluster
            .services
            .iter()
            .find(|s| !s.deleted && s.fqdn() == service_host)
            .and_then(|s| s.cluster_ip)
            .map(|ip| format!("{ip}:{service_port}"));
        let (
            upstream_host,
            upstream_cluster,
            upstream_local,
            downstream_local,
            downstream_remote,
            sni,
            route,
        ) = match side {
            Side::Outbound => (
                dst.clone(),
                cluster_name.clone(),
                Some(format!("{client_ip}:{port}")),
                vip.unwrap_or_else(|| req.authority.clone()),
                format!("{client_ip}:{}", self.ephemeral_port(id, 1)),
                None,
                route_name,
            ),
            Side::Inbound => {
                let app = call.dst.map_or(0, |d| d.port);
                let subset = cluster_name
                    .as_deref()
                    .and_then(|c| c.split('|').nth(2))
                    .unwrap_or("")
                    .to_string();
                (
                    dst.clone(),
                    Some(format!("inbound|{app}||")),
                    Some(format!(
                        "{INBOUND_PASSTHROUGH}:{}",
                        self.ephemeral_port(id, 2)
                    )),
                    dst.clone().unwrap_or_default(),
                    format!("{client_ip}:{port}"),
                    Some(format!(
                        "outbound_.{service_port}_.{subset}_.{service_host}"
                    )),
                    Some("default".to_string()),
                )
            }
        };
        access_log::line(&Entry {
            start_unix: stamp.unix,
            start_nanos: stamp.nanos,
            method: &req.method,
            path: &req.path,
            status,
            flags: call.flags,
            details: access_log::details(call.flags, status, upstream_answered),
            bytes_received: 0,
            bytes_sent,
            duration_ms: duration.as_nanos() / 1_000_000,
            upstream_service_ms: upstream_answered.then(|| duration.as_nanos() / 1_000_000),
            forwarded_for: req.header("x-forwarded-for"),
            user_agent: req.header("user-agent"),
            request_id: &request_id,
            authority: &req.authority,
            upstream_host: upstream_host.as_deref(),
            upstream_cluster: upstream_cluster.as_deref(),
            upstream_local: upstream_local.as_deref(),
            downstream_local: &downstream_local,
            downstream_remote: &downstream_remote,
            server_name: sni.as_deref(),
            route_name: route.as_deref(),
        })
    }
}
