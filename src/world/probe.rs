//! Single requests with everything about them, for `meshsim eval` and
//! `meshsim route`: the answer (status, Envoy flags, body, headers), which
//! cluster and pod served it, what the upstream received, what was
//! mirrored, how long it took, and optionally a trace of the routing.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::apps::echo::EchoKind;
use crate::apps::{Body, Failure, Outcome, Request};
use crate::dataplane::Upstream;
use crate::k8s::{Endpoint, PodId};
use crate::sim::SimDuration;

use super::World;
use super::calls::{Call, Parent, ReqId};
use super::flow::Dialled;

/// Where a probe starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeFrom {
    /// From inside a pod, through its sidecar if it has one.
    Pod(PodId),
    /// Straight into a gateway pod.
    Gateway(PodId),
    /// From outside the cluster.
    External,
    /// Into a pod's own port from inside its network namespace (`kubectl
    /// port-forward` connects to localhost there): its application, or a
    /// gateway's Envoy, without the sidecar's inbound in the way.
    Local(PodId),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeRequest {
    pub from: ProbeFrom,
    pub host: String,
    pub port: u16,
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
}

/// The request as the final upstream received it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UpstreamRequest {
    pub path: String,
    pub authority: String,
    pub headers: BTreeMap<String, String>,
}

/// One probe's result; field names are the `meshsim eval` contract.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProbeResult {
    pub status: Option<u16>,
    pub flags: String,
    pub cluster: String,
    pub pod: Option<String>,
    pub error: Option<String>,
    pub body: String,
    pub response_headers: BTreeMap<String, String>,
    pub upstream: Option<UpstreamRequest>,
    pub attempts: u32,
    pub mirrored_to: Vec<String>,
    pub latency_ms: f64,
}

/// A request ready to send: its id, where it leaves from (a pod, or
/// outside the cluster) and what it dials.
pub(super) type Aimed = (ReqId, Option<PodId>, Result<Dialled, Failure>);

/// What the probe client (curl, as in every Istio task) sends unless the
/// request sets it.
const CURL_HEADERS: [(&str, &str); 2] = [("user-agent", "curl/8.16.0"), ("accept", "*/*")];

/// How long a probe may take, simulated, before it is given up.
const PROBE_DEADLINE: SimDuration = SimDuration::from_secs(600);

impl World {
    /// Requests from `pod`: straight into it when it is a gateway (a
    /// gateway has no sidecar of its own to send through), else from it.
    pub fn probe_source(&self, pod: PodId) -> ProbeFrom {
        if self.is_gateway(pod) {
            ProbeFrom::Gateway(pod)
        } else {
            ProbeFrom::Pod(pod)
        }
    }

    pub fn is_gateway(&self, pod: PodId) -> bool {
        matches!(
            self.pods[pod.0 as usize].model.behavior,
            crate::apps::model::Behavior::Gateway
        )
    }

    /// Sends one request and runs the world until it is answered and
    /// everything it set off (mirrors, abandoned calls) has finished.
    pub fn probe(
        &mut self,
        p: &ProbeRequest,
        trace: bool,
    ) -> Result<(ProbeResult, Vec<String>), String> {
        self.trace = trace.then(Vec::new);
        self.probe_done = None;
        let started = self.queue.now();
        if let ProbeFrom::Gateway(pod) | ProbeFrom::Local(pod) = &p.from {
            let req = self.probe_request(p);
            let port = match p.from {
                ProbeFrom::Gateway(_) => self
                    .gateway_ports(*pod)
                    .into_iter()
                    .find(|(sp, _)| *sp == p.port)
                    .map_or(p.port, |(_, t)| t),
                _ => p.port,
            };
            let id = self.calls.alloc();
            let call = self.calls.get_mut(id);
            call.parent = Parent::Probe;
            call.req = req;
            call.sent_at = started;
            self.deliver_to_upstream(id, Upstream::Pod(Endpoint { pod: *pod, port }));
            if matches!(p.from, ProbeFrom::Local(_)) {
                // Loopback inside the pod: iptables leaves it alone.
                self.calls.get_mut(id).server_sidecar = false;
            }
        } else {
            let (req, src, dialled) = self.aim(p)?;
            self.send(Parent::Probe, src, dialled, req);
        }
        let deadline = started + PROBE_DEADLINE;
        while self.probe_done.is_none() && self.queue.peek_time().is_some_and(|t| t <= deadline) {
            self.step();
        }
        let Some((call, done_at)) = self.probe_done.take() else {
            return Err(format!(
                "no answer within {PROBE_DEADLINE} of simulated time"
            ));
        };
        while self.calls.live() > 0 && self.queue.peek_time().is_some_and(|t| t <= deadline) {
            self.step();
        }
        let result = self.probe_result(&call, done_at.since(call.sent_at));
        Ok((result, self.trace.take().unwrap_or_default()))
    }

    /// The interned request `p` describes, with curl's default headers; a
    /// `Host` header, as curl sends it, is the request's authority.
    fn probe_request(&mut self, p: &ProbeRequest) -> ReqId {
        let mut headers = p.headers.clone();
        let host_header = headers
            .iter()
            .position(|(k, _)| k.eq_ignore_ascii_case("host"))
            .map(|i| headers.remove(i).1);
        let authority = match host_header {
            Some(h) => h,
            None if p.port == 80 => p.host.clone(),
            None => format!("{}:{}", p.host, p.port),
        };
        for (name, value) in CURL_HEADERS {
            if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name)) {
                headers.push((name.to_string(), value.to_string()));
            }
        }
        self.intern(Request {
            method: p.method.clone(),
            authority,
            path: p.path.clone(),
            headers,
        })
    }

    /// The request `p` describes, where it leaves from (a pod, or outside)
    /// and what it dials: from outside, a name that is no Service goes
    /// through the ingress gateway.
    pub(super) fn aim(&mut self, p: &ProbeRequest) -> Result<Aimed, String> {
        let req = self.probe_request(p);
        match &p.from {
            ProbeFrom::Pod(pod) => {
                let ns = self.cluster.pod(*pod).namespace.clone();
                Ok((req, Some(*pod), self.dial(&ns, &p.host, p.port)))
            }
            ProbeFrom::External => {
                let dialled = match self.dial("default", &p.host, p.port) {
                    Ok(d @ Dialled::Service { .. }) => d,
                    _ => self.ingress_entry(p.port).ok_or_else(|| {
                        format!(
                            "{} is not a Service and the cluster has no ingress gateway Service (istio-system/istio-ingressgateway) with port {}",
                            p.host, p.port
                        )
                    })?,
                };
                Ok((req, None, Ok(dialled)))
            }
            ProbeFrom::Gateway(_) | ProbeFrom::Local(_) => {
                Err("these requests enter their pod directly, not through a dial".to_string())
            }
        }
    }

    pub(super) fn probe_result(&self, call: &Call, latency: SimDuration) -> ProbeResult {
        // A request that entered through a gateway is described by where
        // the gateway sent it.
        let (cluster, dst, req, mirrored, external, tries) = match &call.routed {
            Some(r) => (
                r.cluster,
                r.dst,
                r.req,
                r.mirrored.clone(),
                r.external,
                r.tries,
            ),
            None => (
                call.cluster,
                call.dst,
                call.req,
                call.mirrored.clone(),
                call.external,
                call.attempts.tries,
            ),
        };
        let (status, error, body) = match call.outcome {
            // Status 0: a server that does not speak HTTP answered.
            Outcome::Response { status: 0, body } => (None, None, body),
            Outcome::Response { status, body } => (Some(status), None, body),
            Outcome::Failed(f) => (None, Some(f.describe().to_string()), Body::Empty),
        };
        let reached = dst.is_some() || external;
        // Whether an Envoy handled the HTTP (not just the connection).
        let via_proxy = match &call.routed {
            Some(r) => !r.l4,
            None => call.client_sidecar && !call.l4,
        };
        let upstream = reached.then(|| {
            let r = self.request(req);
            let mut headers: BTreeMap<String, String> = r.headers.iter().cloned().collect();
            if via_proxy {
                headers
                    .entry(crate::apps::echo::ATTEMPT_COUNT.to_string())
                    .or_insert_with(|| tries.max(1).to_string());
            }
            UpstreamRequest {
                path: r.path.clone(),
                authority: r.authority.clone(),
                headers,
            }
        });
        let mut headers: Vec<(String, String)> = Vec::new();
        let mut rendered = self.render_body(&body);
        if status.is_some() {
            // An empty body is untyped: Envoy's `sendLocalReply` types only
            // a non-empty body, and Go's server sniffs the type from the
            // first bytes written.
            if !rendered.is_empty() {
                headers.push((
                    "content-type".to_string(),
                    self.content_type(&body).to_string(),
                ));
            }
            // Both httpbins answer every request with open CORS headers.
            if let Body::Echo {
                kind: EchoKind::GoHttpbin | EchoKind::FlaskHttpbin,
                ..
            } = body
            {
                headers.push((
                    "access-control-allow-credentials".to_string(),
                    "true".to_string(),
                ));
                headers.push(("access-control-allow-origin".to_string(), "*".to_string()));
            }
            let server = if call.routed.is_some() {
                "istio-envoy"
            } else {
                "envoy"
            };
            if via_proxy {
                headers.push(("server".to_string(), server.to_string()));
            }
            if reached && via_proxy {
                headers.push((
                    "x-envoy-upstream-service-time".to_string(),
                    (latency.as_nanos() / 1_000_000).to_string(),
                ));
            }
        }
        if let Some(ops) = &call.response_ops {
            ops.apply(&mut headers);
        }
        // A HEAD response has the headers a GET would, and no body.
        if self.request(call.req).method.eq_ignore_ascii_case("HEAD") {
            rendered.clear();
        }
        ProbeResult {
            status,
            flags: call.flags.to_string(),
            cluster: cluster
                .map(|c| self.texts.get(c).clone())
                .unwrap_or_default(),
            pod: dst.map(|ep| self.cluster.pod(ep.pod).key()),
            error,
            body: rendered,
            response_headers: headers.into_iter().collect(),
            upstream,
            attempts: tries.max(u32::from(reached)),
            mirrored_to: mirrored
                .iter()
                .map(|m| self.texts.get(*m).clone())
                .collect(),
            latency_ms: (latency.as_nanos() as f64 / 1e3).round() / 1e3,
        }
    }

    fn content_type(&self, body: &Body) -> &'static str {
        match body {
            Body::Bookinfo(p) => p.content_type(),
            Body::Echo { kind, .. } => kind.content_type(),
            _ => "text/plain",
        }
    }

    /// The bytes of a response body.
    pub fn render_body(&self, body: &Body) -> String {
        match body {
            Body::Empty => String::new(),
            Body::Static(s) => s.to_string(),
            Body::Text(id) => self.texts.get(*id).clone(),
            Body::Sized(n) => "x".repeat(*n as usize),
            Body::Bookinfo(page) => page.render(&|id| self.cluster.pod(id).name.clone()),
            Body::Echo {
                pod,
                request,
                kind,
                attempt,
            } => {
                let prefix = match &self.pods[pod.0 as usize].model.behavior {
                    crate::apps::model::Behavior::Generic(g) => g.prefix.as_str(),
                    _ => "",
                };
                let p = self.cluster.pod(*pod);
                let port = p
                    .template
                    .spec
                    .containers
                    .first()
                    .and_then(|c| c.ports.first())
                    .map_or(80, |cp| cp.container_port);
                kind.render(
                    self.request(super::calls::ReqId(*request)),
                    &crate::apps::echo::Echoer {
                        pod_name: &p.name,
                        prefix,
                        attempt: *attempt,
                        server_addr: format!("{}:{port}", p.ip),
                        date: crate::sim::time::common_log_time(self.now_unix(), "+0000"),
                        request_id: format!(
                            "{:016x}{:016x}",
                            crate::k8s::names::fnv64(&request.to_le_bytes()),
                            crate::k8s::names::fnv64(p.name.as_bytes())
                        ),
                    },
                )
            }
        }
    }
}

/// A client to create for probes: a pod in `namespace` with these labels
/// and service account; `mesh` forces sidecar injection on or off (`None`:
/// the namespace decides, as for any pod).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientSpec {
    pub namespace: String,
    pub service_account: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub mesh: Option<bool>,
}

/// A world for probing: a 3-node cluster with Istio's default profile and
/// the given manifests, plus one client pod per spec, settled until every
/// pod is ready. Returns the world, the manifests' warnings and the client
/// pods.
pub fn world_for(
    manifests: &[std::path::PathBuf],
    namespace: Option<&str>,
    clients: &[ClientSpec],
    seed: u64,
    outbound: crate::dataplane::xds::OutboundPolicy,
    web: crate::web::Web,
) -> Result<(World, Vec<crate::config::Diagnostic>, Vec<PodId>), Vec<crate::config::Diagnostic>> {
    let sources = manifests
        .iter()
        .map(|p| crate::scenario::Manifest {
            source: crate::scenario::ManifestSource::File(p.clone()),
            namespace: namespace.map(str::to_string),
        })
        .collect();
    world_on_web(sources, clients, seed, outbound, web)
}

/// [`world_for`] with manifests given as files or inline text (tests use
/// inline YAML).
pub fn world_from<M: Into<crate::scenario::Manifest>>(
    manifests: Vec<M>,
    clients: &[ClientSpec],
    seed: u64,
    outbound: crate::dataplane::xds::OutboundPolicy,
) -> Result<(World, Vec<crate::config::Diagnostic>, Vec<PodId>), Vec<crate::config::Diagnostic>> {
    world_on_web(
        manifests,
        clients,
        seed,
        outbound,
        crate::web::Web::default(),
    )
}

/// [`world_from`] where URLs (JWKS) serve `web`.
pub fn world_on_web<M: Into<crate::scenario::Manifest>>(
    manifests: Vec<M>,
    clients: &[ClientSpec],
    seed: u64,
    outbound: crate::dataplane::xds::OutboundPolicy,
    web: crate::web::Web,
) -> Result<(World, Vec<crate::config::Diagnostic>, Vec<PodId>), Vec<crate::config::Diagnostic>> {
    use crate::scenario::Scenario;
    let scenario = Scenario {
        name: "probe".to_string(),
        description: String::new(),
        file: "probe".into(),
        seed,
        duration: SimDuration::ZERO,
        cluster_name: "meshsim".to_string(),
        nodes: (0..3)
            .map(|i| crate::k8s::NodeSpec {
                name: if i == 0 {
                    "meshsim-control-plane".to_string()
                } else {
                    format!(
                        "meshsim-worker{}",
                        if i == 1 { String::new() } else { i.to_string() }
                    )
                },
                zone: format!("zone-{}", ["a", "b", "c"][i]),
                region: "region-1".to_string(),
            })
            .collect(),
        profile: crate::control::Profile::Default,
        outbound,
        costs: crate::dataplane::Costs::default(),
        manifests: manifests.into_iter().map(Into::into).collect(),
        traffic: Vec::new(),
        timeline: Vec::new(),
        web,
    };
    world_for_scenario(scenario, clients)
}

/// The settled cluster a scenario's manifests make (its traffic and
/// timeline left out), with a pod per client; namespaces the manifests use
/// but do not declare are created injected.
pub fn world_for_scenario(
    mut scenario: crate::scenario::Scenario,
    clients: &[ClientSpec],
) -> Result<(World, Vec<crate::config::Diagnostic>, Vec<PodId>), Vec<crate::config::Diagnostic>> {
    scenario.traffic.clear();
    scenario.timeline.clear();
    scenario.manifests = with_injected_namespaces(std::mem::take(&mut scenario.manifests), clients);
    let (mut world, warnings) = World::new(&scenario)?;
    let mut pods = Vec::new();
    for (i, c) in clients.iter().enumerate() {
        let yaml = client_yaml(i, c);
        let loaded = crate::config::load_str("(probe client)", &yaml, None);
        let errors: Vec<_> = world
            .apply_loaded(loaded)
            .into_iter()
            .filter(|d| d.severity == crate::config::Severity::Error)
            .collect();
        if !errors.is_empty() {
            return Err(errors);
        }
        let pod = world
            .cluster
            .live_pods()
            .find(|p| p.namespace == c.namespace && p.name == format!("meshsim-client-{i}"))
            .map(|p| p.id)
            .expect("the client pod was just created");
        pods.push(pod);
    }
    world.settle();
    Ok((world, warnings, pods))
}

/// The manifests, preceded by a Namespace labelled
/// `istio-injection=enabled` for every namespace they (or the clients) use
/// but do not declare, `default` included: the cluster every Istio task
/// starts from (`kubectl label namespace default istio-injection=enabled`).
/// A namespace the manifests declare keeps the labels they give it, so an
/// unlabelled one stays out of the mesh. `kube-*` namespaces are left
/// alone, as Istio's injector never injects there.
fn with_injected_namespaces(
    mut manifests: Vec<crate::scenario::Manifest>,
    clients: &[ClientSpec],
) -> Vec<crate::scenario::Manifest> {
    let mut declared = std::collections::BTreeSet::new();
    let mut used: std::collections::BTreeSet<String> =
        clients.iter().map(|c| c.namespace.clone()).collect();
    for m in &manifests {
        for obj in m.load().objects {
            if obj.info.kind == "Namespace" {
                declared.insert(obj.meta.name.clone());
            } else if obj.info.namespaced {
                used.insert(obj.namespace().to_string());
            }
        }
    }
    let text: String = used
        .iter()
        .filter(|ns| !declared.contains(*ns) && !ns.starts_with("kube-"))
        .map(|ns| {
            format!(
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n  labels:\n    istio-injection: enabled\n---\n"
            )
        })
        .collect();
    if !text.is_empty() {
        manifests.insert(
            0,
            crate::scenario::ManifestSource::Inline {
                name: "(namespaces the manifests use)".to_string(),
                text,
            }
            .into(),
        );
    }
    manifests
}

fn client_yaml(i: usize, c: &ClientSpec) -> String {
    let mut labels = c.labels.clone();
    if let Some(mesh) = c.mesh {
        labels.insert("sidecar.istio.io/inject".to_string(), mesh.to_string());
    }
    let labels: String = labels
        .iter()
        .map(|(k, v)| format!("    {k:?}: {v:?}\n"))
        .collect();
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: meshsim-client-{i}\n  namespace: {}\n  labels:\n{}spec:\n  serviceAccountName: {}\n  containers:\n  - name: client\n    image: docker.io/curlimages/curl:8.16.0\n    command: [\"/bin/sleep\", \"infinity\"]\n",
        c.namespace,
        if labels.is_empty() {
            "    {}\n".to_string()
        } else {
            labels
        },
        c.service_account.as_deref().unwrap_or("default"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_sidecar(world: &World, ns: &str, name: &str) -> bool {
        let pod = world.find_pod(ns, name).expect("the pod runs");
        world.pods[pod.0 as usize].proxy.is_some()
    }

    const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: example/web}]}\n";

    fn inline(text: String) -> crate::scenario::ManifestSource {
        crate::scenario::ManifestSource::Inline {
            name: "test.yaml".to_string(),
            text,
        }
    }

    #[test]
    fn undeclared_namespaces_are_injected_like_every_istio_task_assumes() {
        let client = ClientSpec {
            namespace: "clients".to_string(),
            ..ClientSpec::default()
        };
        let (world, _, pods) = world_from(
            vec![inline(DEPLOYMENT.to_string())],
            &[client],
            1,
            Default::default(),
        )
        .unwrap();
        assert!(has_sidecar(&world, "default", "web"));
        assert!(world.pods[pods[0].0 as usize].proxy.is_some());
    }

    #[test]
    fn a_declared_namespace_keeps_its_labels() {
        let yaml = format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: legacy}}\n---\n{}",
            DEPLOYMENT.replace("{name: web}", "{name: web, namespace: legacy}")
        );
        let forced = ClientSpec {
            namespace: "legacy".to_string(),
            mesh: Some(true),
            ..ClientSpec::default()
        };
        let (world, _, pods) =
            world_from(vec![inline(yaml)], &[forced], 1, Default::default()).unwrap();
        assert!(!has_sidecar(&world, "legacy", "web"));
        assert!(world.pods[pods[0].0 as usize].proxy.is_some());
    }
}
