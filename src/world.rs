//! The simulated world: the cluster, the mesh and the applications, driven
//! by the event queue on the virtual clock.
//!
//! The world owns every piece of state and is the only thing that turns
//! decisions into events: the cluster says a pod was created, the world
//! schedules its start; an application says "call reviews", the world asks
//! the client's proxy where to send it and schedules the arrival after the
//! hop's latency. Everything that decides is sans-IO and lives elsewhere
//! (`k8s`, `apps`, `dataplane`).

pub mod admin;
pub mod ambient;
pub mod attempts;
pub mod calls;
pub mod certs;
pub mod flow;
pub mod inbound;
pub mod interner;
pub mod kube;
pub mod load;
pub mod logs;
pub mod mesh;
pub mod pods;
pub mod pools;
pub mod probe;
pub mod traffic;
pub mod usage;
pub mod ztunnel_log;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::apps::Request;
use crate::config::networking::destination_rule::TlsMode;
use crate::config::{Diagnostic, Loaded, Object, Severity};
use crate::control::SidecarInjector;
use crate::dataplane::Costs;
use crate::dataplane::pool::ConnId;
use crate::k8s::{Cluster, Effect, PodId, WorkloadId};
use crate::scenario::Scenario;
use crate::sim::{Queue, Rng, SimDuration, SimTime};
use crate::telemetry::Telemetry;

use calls::{CallRef, Calls, ReqId};
use interner::Interner;
use mesh::Mesh;
use pods::PodRuntime;
use traffic::Generator;

/// Everything that can happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Open-loop generator `g` sends its next request.
    Traffic(u32),
    /// Closed-loop client `c` of generator `g` sends its next request.
    ClientReady(u32, u32),
    /// A request reaches the server's application.
    Arrive(CallRef),
    /// A request that waited for a worker gets one.
    Start(CallRef),
    /// A CPU burst of the request being served finished.
    ComputeDone(CallRef),
    /// A deliberate wait of the request being served is over.
    Resume(CallRef),
    /// The answer reaches the client's application.
    Respond(CallRef),
    /// The client's own timeout for a call.
    Timeout(CallRef),
    /// The client proxy sends the next attempt of a call.
    Retry(CallRef),
    /// A route's timeout for a call (its first reference) fires.
    RouteTimeout(CallRef),
    /// The per-try timeout of an attempt fires.
    PerTryTimeout(CallRef),
    /// The fault filter's delay is over: the router takes the call.
    Dispatch(CallRef),
    /// A connection of a proxy's pool (proxy, cluster name) is up.
    Connected(PodId, u32, ConnId),
    /// The interval timer of a proxy's outlier detector (proxy, cluster name).
    OutlierTick(PodId, u32),
    PodStarted(PodId, u32),
    PodReady(PodId, u32),
    /// istiod pushes the cluster's configuration to the proxies.
    Push,
    /// A proxy (pod, incarnation) asks istiod for its certificate.
    CertRequest(PodId, u32),
    /// Timeline action `i` of the scenario.
    Action(u32),
    /// Thread `t` of the load run sends its next request.
    LoadNext(u32),
}

/// Things that happened during the run worth telling the user (timeline
/// actions, and what could not be done).
pub type Notes = Vec<String>;

/// Counters about the run itself, for `meshsim bench`.
#[derive(Clone, Debug, Default)]
pub struct RunStats {
    pub events: u64,
    pub peak_queue: usize,
    /// Pending events averaged over every pop.
    pub mean_queue_len: f64,
    /// The part of them in the binary heap (the rest wait in timer lanes).
    pub mean_heap_len: f64,
    pub peak_calls: usize,
}

pub struct World {
    pub queue: Queue<Event>,
    /// The Unix time virtual time zero is: the fixed
    /// [`crate::sim::time::EPOCH_UNIX_SECS`] unless a cluster that follows
    /// the wall clock says otherwise.
    pub epoch_unix: u64,
    pub cluster: Cluster,
    injector: SidecarInjector,
    pub costs: Costs,
    pub seed: u64,
    /// Network and proxy latency draws.
    net_rng: Rng,
    /// kube-proxy's endpoint picks for pods without a sidecar.
    kube_rng: Rng,
    pub pods: Vec<PodRuntime>,
    pub calls: Calls,
    requests: Interner<Arc<Request>>,
    /// Cluster names and configured bodies that calls refer to.
    pub texts: Interner<String>,
    /// (workload making the call, slot, incoming request) → outgoing request.
    outgoing: BTreeMap<(WorkloadId, u8, ReqId), ReqId>,
    /// Bumped whenever a Service changes, so cached DNS answers refresh.
    services_epoch: u64,
    pub generators: Vec<Generator>,
    pub telemetry: Telemetry,
    /// istiod's state: configuration, registry, per-proxy configuration.
    pub mesh: Mesh,
    scenario: Scenario,
    /// When the cluster was ready and traffic began.
    pub traffic_start: SimTime,
    pub notes: Notes,
    /// Lines explaining the routing of the probe in flight, when asked.
    pub trace: Option<Vec<String>>,
    /// The probe's call as it was answered, and when.
    pub probe_done: Option<(calls::Call, SimTime)>,
    /// The load run under way.
    load: Option<Box<load::LoadRun>>,
    /// istiod's CA, made when the first proxy asks.
    authority: Option<Box<certs::Authority>>,
    /// Whether containers' output is kept for `kubectl logs` (a world
    /// behind the Kubernetes API); see [`logs`].
    pub keep_logs: bool,
    /// metrics-server's scrapes, in a world behind the Kubernetes API
    /// (`kubectl top`); see [`usage`].
    pub scrapes: Option<Box<usage::Scrapes>>,
    /// Whether ztunnel is installed (its DaemonSet exists), refreshed on
    /// every cluster change: every connection asks ([`ambient`]).
    ztunnel: bool,
    /// Each node's ztunnel pod, refreshed with `ztunnel`.
    ztunnels: Vec<Option<PodId>>,
    /// Whether applying a waypoint Gateway deploys it here (scenarios);
    /// behind the API istiod's deployment controller writes the
    /// deployment through the API instead ([`crate::api`]).
    pub deploys_waypoints: bool,
}

/// The container of a pod's Envoy: the sidecar's, or a gateway's only one.
pub const PROXY_CONTAINER: &str = "istio-proxy";

/// Whether meshsim's simulation acts on objects of this kind yet.
fn simulated(obj: &Object) -> bool {
    obj.info.group.is_empty()
        || obj.info.group == "apps"
        || matches!(
            obj.kind(),
            "VirtualService"
                | "DestinationRule"
                | "ServiceEntry"
                | "PeerAuthentication"
                | "AuthorizationPolicy"
                | "RequestAuthentication"
                | "Telemetry"
        )
        || (obj.kind() == "Gateway" && obj.info.group == "networking.istio.io")
}

/// Fields of simulated kinds whose behaviour meshsim does not model yet,
/// so a run can say so instead of silently ignoring them.
fn unsimulated_fields(obj: &Object) -> Vec<String> {
    let mut out = Vec::new();
    match &obj.body {
        crate::config::Body::VirtualService(vs) => {
            for (i, r) in vs.http.iter().enumerate() {
                let abort = r.fault.as_ref().and_then(|f| f.abort.as_ref());
                let set = [
                    ("corsPolicy", r.cors_policy.is_some()),
                    ("delegate", r.delegate.is_some()),
                    (
                        "fault.abort.grpcStatus",
                        abort.is_some_and(|a| a.grpc_status.is_some()),
                    ),
                    (
                        "fault.abort.http2Error",
                        abort.is_some_and(|a| a.http2_error.is_some()),
                    ),
                ];
                out.extend(
                    set.iter()
                        .filter(|(_, on)| *on)
                        .map(|(f, _)| format!("spec.http[{i}].{f}")),
                );
            }
        }
        crate::config::Body::DestinationRule(dr) => {
            let policies = dr
                .traffic_policy
                .iter()
                .map(|p| ("spec.trafficPolicy".to_string(), p))
                .chain(dr.subsets.iter().enumerate().filter_map(|(i, s)| {
                    s.traffic_policy
                        .as_ref()
                        .map(|p| (format!("spec.subsets[{i}].trafficPolicy"), p))
                }));
            for (path, p) in policies {
                if p.tls
                    .as_ref()
                    .is_some_and(|t| matches!(t.mode, TlsMode::Simple | TlsMode::Mutual))
                {
                    // TLS origination with the user's certificates.
                    out.push(format!("{path}.tls.mode"));
                }
            }
        }
        // Of Telemetry, the Envoy access log is simulated (who logs, which
        // side, `disabled`), for `kubectl logs`.
        crate::config::Body::Telemetry(t) => {
            let set = [
                ("tracing", !t.tracing.is_empty()),
                ("metrics", !t.metrics.is_empty()),
                (
                    "targetRef",
                    t.target_ref.is_some() || !t.target_refs.is_empty(),
                ),
            ];
            out.extend(
                set.iter()
                    .filter(|(_, on)| *on)
                    .map(|(f, _)| format!("spec.{f}")),
            );
            for (i, entry) in t.access_logging.iter().enumerate() {
                if entry.filter.is_some() {
                    out.push(format!("spec.accessLogging[{i}].filter"));
                }
                for (j, p) in entry.providers.iter().enumerate() {
                    if p.name.as_deref() != Some("envoy") {
                        out.push(format!("spec.accessLogging[{i}].providers[{j}]"));
                    }
                }
            }
        }
        _ => {}
    }
    out
}

/// How long setup may take before the run gives up waiting for pods.
const READY_DEADLINE: SimDuration = SimDuration::from_secs(600);
/// How long in-flight requests may take to finish after traffic stops.
const DRAIN: SimDuration = SimDuration::from_secs(120);

impl World {
    /// Builds the cluster, installs the mesh profile and applies the
    /// scenario's manifests. Errors (invalid manifests, objects that cannot
    /// be applied) are returned as located diagnostics; warnings are kept.
    pub fn new(scenario: &Scenario) -> Result<(World, Vec<Diagnostic>), Vec<Diagnostic>> {
        let seed = scenario.seed;
        let mut world = World {
            queue: Queue::new(),
            epoch_unix: crate::sim::time::EPOCH_UNIX_SECS,
            cluster: Cluster::new(&scenario.cluster_name, &scenario.nodes, seed),
            injector: SidecarInjector {
                enabled: scenario.profile.has_istiod(),
                revisions: if scenario.profile.has_istiod() {
                    vec!["default".to_string()]
                } else {
                    Vec::new()
                },
            },
            costs: scenario.costs.clone(),
            seed,
            net_rng: Rng::stream(seed, "net"),
            kube_rng: Rng::stream(seed, "kube-proxy"),
            pods: Vec::new(),
            calls: Calls::default(),
            requests: Interner::default(),
            texts: Interner::default(),
            outgoing: BTreeMap::new(),
            services_epoch: 0,
            generators: Vec::new(),
            telemetry: Telemetry::default(),
            mesh: Mesh::with_outbound(scenario.outbound, scenario.web.clone()),
            scenario: scenario.clone(),
            traffic_start: SimTime::ZERO,
            notes: Vec::new(),
            trace: None,
            probe_done: None,
            load: None,
            authority: None,
            keep_logs: false,
            scrapes: None,
            ztunnel: false,
            ztunnels: Vec::new(),
            deploys_waypoints: true,
        };
        let mut loaded = scenario.profile.manifests();
        for m in &scenario.manifests {
            loaded.extend(m.load());
        }
        let mut diagnostics = world.apply_loaded(loaded);
        if diagnostics.iter().any(|d| d.severity == Severity::Error) {
            return Err(diagnostics);
        }
        diagnostics.retain(|d| d.severity == Severity::Warning);
        diagnostics.extend(crate::control::security::unreachable_jwks(
            &world.mesh.desired,
            &world.mesh.web,
        ));
        Ok((world, diagnostics))
    }

    /// Applies loaded objects in order; returns their diagnostics plus any
    /// apply errors, located at the object.
    pub fn apply_loaded(&mut self, loaded: Loaded) -> Vec<Diagnostic> {
        let mut diags = loaded.diagnostics;
        for obj in loaded.objects {
            let at = |severity, message| obj.diagnostic(severity, message);
            match self.apply(&obj) {
                Err(message) => diags.push(at(Severity::Error, message)),
                Ok(()) if crate::control::waypoint::is_waypoint(&obj) => {
                    if self.deploys_waypoints
                        && let Err(e) = self.deploy_waypoint(&obj)
                    {
                        diags.push(at(Severity::Error, e));
                    }
                }
                Ok(()) if !simulated(&obj) => diags.push(at(
                    Severity::Warning,
                    format!(
                        "{} is validated but not yet simulated: traffic ignores it and follows plain Kubernetes Service routing",
                        obj.kind()
                    ),
                )),
                Ok(()) => {
                    for field in unsimulated_fields(&obj) {
                        diags.push(at(
                            Severity::Warning,
                            format!("{field} is validated but not yet simulated: traffic behaves as if it were not set"),
                        ));
                    }
                }
            }
        }
        diags
    }

    /// Applies one object now, as `kubectl apply` would.
    pub fn apply(&mut self, obj: &Object) -> Result<(), String> {
        let now = self.queue.now();
        if obj.info.group.is_empty() || obj.info.group == "apps" {
            // Installing istiod installs its revision's sidecar-injector
            // webhook.
            if obj.info.kind == "Deployment"
                && obj.namespace() == "istio-system"
                && obj.meta.labels.get("app").is_some_and(|a| a == "istiod")
            {
                self.injector.enabled = true;
                let rev = obj
                    .meta
                    .labels
                    .get(crate::k8s::cluster::REVISION)
                    .cloned()
                    .unwrap_or_else(|| "default".to_string());
                if !self.injector.revisions.contains(&rev) {
                    self.injector.revisions.push(rev);
                }
            }
            let effects = self
                .cluster
                .apply(obj, now, &self.injector)
                .map_err(|e| e.to_string())?;
            self.handle_effects(effects);
            if let crate::config::Body::ConfigMap(cm) = &obj.body
                && mesh::is_mesh_config(obj.namespace(), obj.name())
            {
                let mesh = cm.data.get("mesh").map_or("", String::as_str);
                if let Err(e) = self.mesh.read_mesh_config(mesh) {
                    self.notes.push(format!(
                        "istio-system/istio: istiod cannot read its mesh config ({e}); it keeps the previous one"
                    ));
                }
            }
        } else {
            if obj.info.namespaced && !self.cluster.namespaces.contains_key(obj.namespace()) {
                return Err(format!("namespaces {:?} not found", obj.namespace()));
            }
            self.mesh.desired.apply(obj.clone(), now);
            self.config_changed();
        }
        Ok(())
    }

    /// What istiod's deployment controller does for a waypoint Gateway:
    /// its Deployment, Service and ServiceAccount
    /// ([`crate::control::waypoint`]).
    pub fn deploy_waypoint(&mut self, gateway: &Object) -> Result<(), String> {
        let text = crate::control::waypoint::manifests(gateway);
        let loaded = crate::config::load_str("waypoint.yaml", &text, None);
        for obj in &loaded.objects {
            self.apply(obj)
                .map_err(|e| format!("istiod cannot deploy the waypoint: {e}"))?;
        }
        Ok(())
    }

    /// Deletes an Istio or Gateway API object, as `kubectl delete` would;
    /// false when there is no such object.
    pub fn delete_config(&mut self, kind: &str, namespace: &str, name: &str) -> bool {
        let deleted = self.mesh.desired.delete(kind, namespace, name).is_some();
        if deleted {
            self.config_changed();
        }
        deleted
    }

    /// Turns cluster effects into runtime state and events.
    pub(crate) fn handle_effects(&mut self, effects: Vec<Effect>) {
        for e in effects {
            match e {
                Effect::PodCreated(pod) => self.pod_created(pod),
                Effect::PodDeleted(pod) => self.pod_gone(pod),
                Effect::ServiceChanged(_) => self.services_epoch += 1,
                Effect::EndpointsChanged(_) => self.mesh.endpoints_epoch += 1,
            }
        }
        self.ztunnel = self
            .cluster
            .find_workload("istio-system", "ztunnel")
            .is_some();
        self.ztunnels = vec![None; self.cluster.nodes.len()];
        if self.ztunnel {
            for p in self.cluster.live_pods() {
                if p.namespace == "istio-system"
                    && p.labels.get("app").is_some_and(|a| a == "ztunnel")
                {
                    self.ztunnels[p.node.0 as usize] = Some(p.id);
                }
            }
        }
    }

    /// The Unix time now on the simulation's calendar.
    pub fn now_unix(&self) -> u64 {
        self.epoch_unix + self.queue.now().as_nanos() / 1_000_000_000
    }

    /// Interns a request so calls carry a small id.
    pub fn intern(&mut self, req: Request) -> ReqId {
        ReqId(self.requests.intern(Arc::new(req)))
    }

    pub fn request(&self, id: ReqId) -> &Arc<Request> {
        self.requests.get(id.0)
    }

    /// Runs setup until every pod is ready (or the deadline), then the
    /// traffic for the scenario's duration, then lets in-flight requests
    /// finish. Returns problems that stop the run (e.g. a traffic source
    /// with no pod).
    pub fn run(&mut self) -> Result<RunStats, String> {
        self.settle();
        self.traffic_start = self.queue.now();
        let scenario = self.scenario.clone();
        self.start_traffic(&scenario)?;
        for i in 0..scenario.timeline.len() {
            self.queue.push_at(
                self.traffic_start + scenario.timeline[i].at,
                Event::Action(i as u32),
            );
        }
        let end = self.traffic_start + scenario.duration;
        while self.queue.peek_time().is_some_and(|t| t < end) {
            self.step();
        }
        self.queue.advance_to(end);
        let drain_end = end + DRAIN;
        while self.calls.live() > 0 && self.queue.peek_time().is_some_and(|t| t <= drain_end) {
            self.step();
        }
        Ok(RunStats {
            events: self.queue.popped(),
            peak_queue: self.queue.peak_len(),
            mean_queue_len: self.queue.mean_len(),
            mean_heap_len: self.queue.mean_heap_len(),
            peak_calls: self.calls.peak,
        })
    }

    /// Lets `d` of virtual time pass, everything due in it happening.
    pub fn advance_by(&mut self, d: SimDuration) {
        let until = self.queue.now() + d;
        while self.queue.peek_time().is_some_and(|t| t <= until) {
            self.step();
        }
        self.queue.advance_to(until);
    }

    /// Runs until every pod is ready, or gives up after the deadline.
    pub fn settle(&mut self) {
        let deadline = self.queue.now() + READY_DEADLINE;
        while !self.all_pods_ready() {
            match self.queue.peek_time() {
                Some(t) if t <= deadline => self.step(),
                _ => break,
            }
        }
    }

    fn all_pods_ready(&self) -> bool {
        self.cluster
            .live_pods()
            .all(|p| p.ready || !self.pods[p.id.0 as usize].expects_ready)
    }

    /// Pops and handles one event.
    pub fn step(&mut self) {
        let Some((_, event)) = self.queue.pop() else {
            return;
        };
        self.scrape_due();
        match event {
            Event::Traffic(g) => self.on_traffic(g),
            Event::ClientReady(g, c) => self.on_client_ready(g, c),
            Event::Arrive(call) => self.on_arrive(call),
            Event::Start(call) => self.on_start(call),
            Event::ComputeDone(call) => self.on_compute_done(call),
            Event::Resume(call) => self.on_resume(call),
            Event::Respond(call) => self.on_respond(call),
            Event::Timeout(call) => self.on_timeout(call),
            Event::Retry(call) => self.on_retry(call),
            Event::RouteTimeout(call) => self.on_route_timeout(call),
            Event::PerTryTimeout(call) => self.on_per_try_timeout(call),
            Event::Dispatch(call) => self.on_dispatch(call),
            Event::Connected(pod, cluster, conn) => self.on_connected(pod, cluster, conn),
            Event::OutlierTick(pod, cluster) => self.on_outlier_tick(pod, cluster),
            Event::PodStarted(pod, inc) => self.on_pod_started(pod, inc),
            Event::CertRequest(pod, inc) => self.on_cert_request(pod, inc),
            Event::PodReady(pod, inc) => self.on_pod_ready(pod, inc),
            Event::Action(i) => self.on_action(i as usize),
            Event::LoadNext(t) => self.on_load_next(t),
            Event::Push => self.on_push(),
        }
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }
}
