//! Pods at run time: their application process and sidecar, and their
//! lifecycle (start, ready, crash, deletion); plus the scenario's timeline
//! actions, which mostly act on pods.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::apps::model::Behavior;
use crate::apps::{Failure, Model, Server};
use crate::control::ca::WorkloadCert;
use crate::dataplane::outlier::Detector;
use crate::dataplane::pool::Pool;
use crate::dataplane::{ResponseFlags, Sidecar};
use crate::k8s::{PodId, PodPhase};
use crate::scenario::ActionKind;
use crate::sim::{Rng, SimDuration, SimTime};

use super::calls::{CallId, CallRef};
use super::flow::Dialled;
use super::inbound::InboundSecurity;
use super::{Event, World};

/// The running side of a pod.
pub struct PodRuntime {
    pub model: Arc<Model>,
    pub server: Server<CallId>,
    pub rng: Rng,
    /// The pod's Envoy: its sidecar, or the gateway the pod is.
    pub proxy: Option<Sidecar>,
    /// Each model target as DNS resolves it from the pod.
    pub targets: Vec<Result<Dialled, Failure>>,
    pub targets_epoch: u64,
    /// CPU the sidecar spent.
    pub proxy_cpu: SimDuration,
    /// Whether setup waits for this pod to be ready.
    pub expects_ready: bool,
    /// The proxy's connection pools, by cluster name (in the world's
    /// texts): they outlive configuration pushes, as Envoy keeps a
    /// cluster's connections across updates that leave it alone.
    pub pools: BTreeMap<u32, Pool<CallRef>>,
    /// The proxy's outlier detectors, by cluster name, likewise.
    pub outliers: BTreeMap<u32, Detector>,
    /// What the proxy enforces inbound (mTLS, authorization), for the
    /// configuration revision it was computed at.
    pub security: Option<Box<InboundSecurity>>,
    /// A waypoint's policies, per Service it serves (they attach by
    /// `targetRefs` to it or to the Service).
    pub waypoint_security: BTreeMap<crate::k8s::ServiceId, Box<InboundSecurity>>,
    /// The proxy's workload certificate, once istiod signed one.
    pub cert: Option<WorkloadCert>,
    /// Certificate requests in a row that istiod did not answer.
    pub cert_failures: u32,
    /// Whether the report was told the certificate expired.
    pub expiry_noted: bool,
    /// Each container's output, by container name ([`super::logs`]).
    pub logs: BTreeMap<String, super::logs::ContainerLog>,
    /// When the pod's containers started (before its proxy was up).
    pub containers_start: SimTime,
}

/// Envoy's local reply when the upstream connection broke mid-request.
pub const RESET_BODY: &str = "upstream connect error or disconnect/reset before headers. reset reason: connection termination";

impl World {
    pub(super) fn pod_created(&mut self, id: PodId) {
        let pod = self.cluster.pod(id);
        let model = Arc::new(Model::for_pod(pod));
        let mut rng = Rng::stream(self.seed, &format!("app/{}/{}", pod.namespace, pod.name));
        let is_proxy =
            pod.sidecar || matches!(model.behavior, Behavior::Gateway | Behavior::Waypoint);
        let proxy = is_proxy.then(|| {
            Sidecar::new(Rng::stream(
                self.seed,
                &format!("sidecar/{}/{}", pod.namespace, pod.name),
            ))
        });
        let mut delay = model.startup.sample(&mut rng);
        // The containers run once the image is there; the sidecar's own
        // start-up (agent, Envoy, first configuration) follows.
        let containers_start = self.queue.now() + delay;
        if pod.sidecar {
            delay += self.costs.sidecar_startup.sample(&mut rng);
        }
        let runtime = PodRuntime {
            server: Server::new(model.workers, model.cores),
            model,
            rng,
            proxy,
            targets: Vec::new(),
            targets_epoch: u64::MAX,
            proxy_cpu: SimDuration::ZERO,
            expects_ready: true,
            pools: BTreeMap::new(),
            outliers: BTreeMap::new(),
            security: None,
            waypoint_security: BTreeMap::new(),
            cert: None,
            cert_failures: 0,
            expiry_noted: false,
            logs: BTreeMap::new(),
            containers_start,
        };
        debug_assert_eq!(
            self.pods.len(),
            id.0 as usize,
            "pods are created in id order"
        );
        self.pods.push(runtime);
        let inc = pod.incarnation;
        self.queue.push_after(delay, Event::PodStarted(id, inc));
    }

    pub(super) fn on_pod_started(&mut self, id: PodId, incarnation: u32) {
        if self.cluster.pod(id).incarnation != incarnation {
            return;
        }
        self.cluster.pod_running(id);
        self.log_started(id);
        if self.pods[id.0 as usize].proxy.is_some() {
            // The proxy is ready once istiod has signed its certificate
            // (pilot-agent's readiness needs the SDS secrets); a restarted
            // proxy starts without one.
            self.pods[id.0 as usize].cert = None;
            self.queue
                .push_after(SimDuration::ZERO, Event::CertRequest(id, incarnation));
            return;
        }
        // No readiness probes beyond the sidecar's (counted in its start-up):
        // ready as soon as the containers run.
        self.queue
            .push_after(SimDuration::ZERO, Event::PodReady(id, incarnation));
    }

    pub(super) fn on_pod_ready(&mut self, id: PodId, incarnation: u32) {
        if self.cluster.pod(id).incarnation != incarnation {
            return;
        }
        let effects = self.cluster.set_ready(id, true);
        self.handle_effects(effects);
        self.log_proxy_ready(id);
        if self.istiod_serving() {
            self.istiod_back();
        }
    }

    /// The pod's process is gone: every request it was serving fails, as
    /// its clients see a broken connection.
    fn fail_in_flight(&mut self, pod: PodId) {
        let lost = self.calls.at_pod(pod);
        self.pods[pod.0 as usize].server.reset();
        for id in lost {
            self.broken(id, Failure::ConnectionReset, RESET_BODY, ResponseFlags::UC);
        }
    }

    pub(super) fn pod_gone(&mut self, pod: PodId) {
        self.fail_in_flight(pod);
    }

    /// A live pod by name, or the first pod (by name) of a workload.
    pub fn find_pod(&self, namespace: &str, name: &str) -> Option<PodId> {
        let live = || {
            self.cluster
                .live_pods()
                .filter(|p| p.namespace == namespace)
        };
        live()
            .find(|p| p.name == name)
            .or_else(|| {
                let w = self.cluster.find_workload(namespace, name)?;
                let mut pods: Vec<_> = live().filter(|p| p.workload == w).collect();
                pods.sort_by(|a, b| a.name.cmp(&b.name));
                pods.first().copied()
            })
            .map(|p| p.id)
    }

    pub(super) fn on_action(&mut self, i: usize) {
        let action = self.scenario().timeline[i].clone();
        let at = action.at;
        match action.what {
            ActionKind::KillPod { namespace, name } => match self.find_pod(&namespace, &name) {
                Some(pod) => {
                    let (inc, effects) = self.cluster.crash_pod(pod);
                    self.handle_effects(effects);
                    self.fail_in_flight(pod);
                    let p = &mut self.pods[pod.0 as usize];
                    let restart = p.model.startup.sample(&mut p.rng);
                    self.queue.push_after(restart, Event::PodStarted(pod, inc));
                    let name = self.cluster.pod(pod).key();
                    self.notes.push(format!(
                        "at {at}: killed pod {name}; the kubelet restarts it"
                    ));
                }
                None => self
                    .notes
                    .push(format!("at {at}: killPod: no pod {namespace}/{name}")),
            },
            ActionKind::DeletePod { namespace, name } => match self.find_pod(&namespace, &name) {
                Some(pod) => {
                    let key = self.cluster.pod(pod).key();
                    if let Err(e) = self.delete_pod(pod) {
                        self.notes.push(format!("at {at}: replacing {key}: {e}"));
                    }
                    self.notes.push(format!("at {at}: deleted pod {key}"));
                }
                None => self
                    .notes
                    .push(format!("at {at}: deletePod: no pod {namespace}/{name}")),
            },
            ActionKind::Scale {
                namespace,
                name,
                replicas,
            } => match self.scale(&namespace, &name, replicas) {
                Ok(()) => self
                    .notes
                    .push(format!("at {at}: scaled {namespace}/{name} to {replicas}")),
                Err(e) => self.notes.push(format!("at {at}: scale: {e}")),
            },
            ActionKind::Apply(m) => {
                let loaded = m.load();
                let count = loaded.objects.len();
                for d in self.apply_loaded(loaded) {
                    self.notes.push(format!("at {at}: {d}"));
                }
                self.notes.push(format!(
                    "at {at}: applied {} ({count} objects)",
                    m.describe()
                ));
            }
        }
    }

    /// Whether the pod can take a request now.
    pub(super) fn pod_serving(&self, pod: PodId) -> bool {
        let p = self.cluster.pod(pod);
        p.phase == PodPhase::Running && self.pods[pod.0 as usize].model.serves()
    }
}
