//! The cluster state and its controllers.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

use crate::config::apps_v1::PodTemplateSpec;
use crate::config::core_v1::ServiceSpec;
use crate::config::meta::LabelSelector;
use crate::config::types::IntOrString;
use crate::config::{Body, Object};
use crate::sim::{Rng, SimTime};

use super::names::{pod_template_hash, random_suffix};
use super::scheduler::{self, Candidate};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The node's address (kind's docker network: `172.18.0.2` for the
    /// first node).
    pub fn ip(self) -> Ipv4Addr {
        Ipv4Addr::new(172, 18, 0, 2 + (self.0 % 250) as u8)
    }
}
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PodId(pub u32);
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceId(pub u32);
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkloadId(pub u32);

/// A node as a scenario describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeSpec {
    pub name: String,
    pub zone: String,
    pub region: String,
}

#[derive(Clone, Debug)]
pub struct Node {
    pub name: String,
    pub zone: String,
    pub region: String,
    pub labels: BTreeMap<String, String>,
    next_host: u32,
}

#[derive(Clone, Debug, Default)]
pub struct Namespace {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkloadKind {
    Deployment,
    DaemonSet,
    /// A bare Pod applied by itself (`kubectl run`), its own owner.
    Pod,
}

impl WorkloadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::Pod => "Pod",
        }
    }
}

/// A Deployment, DaemonSet or bare Pod and the pods it owns.
#[derive(Clone, Debug)]
pub struct Workload {
    pub id: WorkloadId,
    pub kind: WorkloadKind,
    pub namespace: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub selector: LabelSelector,
    pub template: Arc<PodTemplateSpec>,
    /// `pod-template-hash` of the current template (Deployments).
    pub template_hash: String,
    pub replicas: u32,
    /// Live (not deleted) pods, oldest first.
    pub pods: Vec<PodId>,
    pub deleted: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodPhase {
    Pending,
    Running,
    /// Being deleted; no longer an endpoint.
    Terminating,
    Deleted,
}

#[derive(Clone, Debug)]
pub struct Pod {
    pub id: PodId,
    pub name: String,
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub workload: WorkloadId,
    pub node: NodeId,
    pub ip: Ipv4Addr,
    pub service_account: String,
    pub template: Arc<PodTemplateSpec>,
    /// Set by the admission hook: the pod has an `istio-proxy` sidecar.
    pub sidecar: bool,
    pub phase: PodPhase,
    pub ready: bool,
    pub created: SimTime,
    pub restarts: u32,
    /// Bumped on every restart so stale lifecycle events can be ignored.
    pub incarnation: u32,
}

impl Pod {
    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// The images of the pod's application containers.
    pub fn images(&self) -> impl Iterator<Item = &str> {
        self.template
            .spec
            .containers
            .iter()
            .map(|c| c.image.as_str())
    }

    /// Resolves a Service `targetPort` against this pod's container ports.
    pub fn resolve_port(&self, target: &IntOrString) -> Option<u16> {
        match target {
            IntOrString::Int(p) => u16::try_from(*p).ok(),
            IntOrString::Str(name) => self
                .template
                .spec
                .containers
                .iter()
                .flat_map(|c| &c.ports)
                .find(|p| p.name.as_deref() == Some(name))
                .and_then(|p| u16::try_from(p.container_port).ok()),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ServicePort {
    pub name: String,
    pub port: u16,
    pub target_port: IntOrString,
    pub protocol: String,
    pub app_protocol: Option<String>,
}

/// A ready endpoint of a service: the pod and the port it serves on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Endpoint {
    pub pod: PodId,
    pub port: u16,
}

#[derive(Clone, Debug)]
pub struct Service {
    pub id: ServiceId,
    pub namespace: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// Read by istiod (`networking.istio.io/exportTo`).
    pub annotations: BTreeMap<String, String>,
    pub type_: String,
    pub cluster_ip: Option<Ipv4Addr>,
    pub ports: Vec<ServicePort>,
    pub selector: Option<BTreeMap<String, String>>,
    pub publish_not_ready: bool,
    /// Ready endpoints per port (same order as `ports`), sorted by pod name.
    pub endpoints: Vec<Vec<Endpoint>>,
    pub deleted: bool,
}

impl Service {
    /// `name.namespace.svc.cluster.local`.
    pub fn fqdn(&self) -> String {
        format!("{}.{}.svc.cluster.local", self.name, self.namespace)
    }

    pub fn port_index(&self, port: u16) -> Option<usize> {
        self.ports.iter().position(|p| p.port == port)
    }

    /// Whether its selector picks `pod` (ready or not).
    pub fn selects(&self, pod: &Pod) -> bool {
        pod.namespace == self.namespace
            && self.selector.as_ref().is_some_and(|s| {
                !s.is_empty() && s.iter().all(|(k, v)| pod.labels.get(k) == Some(v))
            })
    }
}

/// What a change to the cluster means for the rest of the world.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// A pod was created and scheduled; it must now be started.
    PodCreated(PodId),
    /// A pod stopped serving and is gone.
    PodDeleted(PodId),
    EndpointsChanged(ServiceId),
    ServiceChanged(ServiceId),
}

/// The mutating-admission hook: decides, when a pod is created, what the
/// mesh adds to it (Istio's sidecar injector).
/// The annotation (and namespace/pod label) naming a control-plane
/// revision.
pub const REVISION: &str = "istio.io/rev";

pub trait Admission {
    /// The control-plane revision whose sidecar is injected into the pod,
    /// if any.
    fn inject_sidecar(
        &self,
        namespace: &Namespace,
        pod_labels: &BTreeMap<String, String>,
        pod_annotations: &BTreeMap<String, String>,
    ) -> Option<String>;
}

/// No admission webhooks: a cluster without a mesh.
pub struct NoAdmission;

impl Admission for NoAdmission {
    fn inject_sidecar(
        &self,
        _: &Namespace,
        _: &BTreeMap<String, String>,
        _: &BTreeMap<String, String>,
    ) -> Option<String> {
        None
    }
}

/// Why an object could not be applied, in the apiserver's words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error("namespaces {0:?} not found")]
    NamespaceNotFound(String),
    #[error("{0}")]
    Unschedulable(String),
}

#[derive(Debug)]
pub struct Cluster {
    pub name: String,
    pub nodes: Vec<Node>,
    pub namespaces: BTreeMap<String, Namespace>,
    pub workloads: Vec<Workload>,
    pub pods: Vec<Pod>,
    pub services: Vec<Service>,
    pub service_accounts: BTreeMap<(String, String), ()>,
    pub config_maps: BTreeMap<(String, String), Arc<Object>>,
    pub secrets: BTreeMap<(String, String), Arc<Object>>,
    rng: Rng,
    used_cluster_ips: Vec<Ipv4Addr>,
}

impl Cluster {
    /// A new cluster with the namespaces and the `kubernetes` Service every
    /// cluster starts with.
    pub fn new(name: &str, nodes: &[NodeSpec], seed: u64) -> Self {
        let nodes = nodes
            .iter()
            .map(|n| {
                let mut labels = BTreeMap::new();
                labels.insert("kubernetes.io/hostname".to_string(), n.name.clone());
                labels.insert("kubernetes.io/os".to_string(), "linux".to_string());
                labels.insert("topology.kubernetes.io/zone".to_string(), n.zone.clone());
                labels.insert(
                    "topology.kubernetes.io/region".to_string(),
                    n.region.clone(),
                );
                Node {
                    name: n.name.clone(),
                    zone: n.zone.clone(),
                    region: n.region.clone(),
                    labels,
                    next_host: 2,
                }
            })
            .collect();
        let mut c = Cluster {
            name: name.to_string(),
            nodes,
            namespaces: BTreeMap::new(),
            workloads: Vec::new(),
            pods: Vec::new(),
            services: Vec::new(),
            service_accounts: BTreeMap::new(),
            config_maps: BTreeMap::new(),
            secrets: BTreeMap::new(),
            rng: Rng::stream(seed, "k8s"),
            used_cluster_ips: vec![Ipv4Addr::new(10, 96, 0, 1), Ipv4Addr::new(10, 96, 0, 10)],
        };
        for ns in ["default", "kube-node-lease", "kube-public", "kube-system"] {
            c.namespaces.insert(ns.to_string(), Namespace::default());
            c.service_accounts
                .insert((ns.to_string(), "default".to_string()), ());
        }
        c.services.push(Service {
            id: ServiceId(0),
            namespace: "default".to_string(),
            name: "kubernetes".to_string(),
            labels: BTreeMap::from([
                ("component".to_string(), "apiserver".to_string()),
                ("provider".to_string(), "kubernetes".to_string()),
            ]),
            annotations: BTreeMap::new(),
            type_: "ClusterIP".to_string(),
            cluster_ip: Some(Ipv4Addr::new(10, 96, 0, 1)),
            ports: vec![ServicePort {
                name: "https".to_string(),
                port: 443,
                target_port: IntOrString::Int(6443),
                protocol: "TCP".to_string(),
                app_protocol: None,
            }],
            selector: None,
            publish_not_ready: false,
            endpoints: vec![Vec::new()],
            deleted: false,
        });
        c
    }

    pub fn pod(&self, id: PodId) -> &Pod {
        &self.pods[id.0 as usize]
    }

    pub fn service(&self, id: ServiceId) -> &Service {
        &self.services[id.0 as usize]
    }

    pub fn workload(&self, id: WorkloadId) -> &Workload {
        &self.workloads[id.0 as usize]
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.0 as usize]
    }

    /// The live service `name` in `namespace`.
    pub fn find_service(&self, namespace: &str, name: &str) -> Option<ServiceId> {
        self.services
            .iter()
            .find(|s| !s.deleted && s.namespace == namespace && s.name == name)
            .map(|s| s.id)
    }

    pub fn find_workload(&self, namespace: &str, name: &str) -> Option<WorkloadId> {
        self.workloads
            .iter()
            .find(|w| !w.deleted && w.namespace == namespace && w.name == name)
            .map(|w| w.id)
    }

    /// Live pods, in creation order.
    pub fn live_pods(&self) -> impl Iterator<Item = &Pod> {
        self.pods.iter().filter(|p| p.phase != PodPhase::Deleted)
    }

    /// Applies one object as `kubectl apply` would: create or update.
    /// Kinds the cluster does not own (Istio's, Gateway API's) are ignored
    /// here; the control plane keeps them.
    pub fn apply(
        &mut self,
        obj: &Object,
        now: SimTime,
        admission: &dyn Admission,
    ) -> Result<Vec<Effect>, ApplyError> {
        let ns = obj.namespace().to_string();
        if obj.info.namespaced && !self.namespaces.contains_key(&ns) {
            return Err(ApplyError::NamespaceNotFound(ns));
        }
        let name = obj.name().to_string();
        Ok(match &obj.body {
            Body::Namespace(_) => {
                let entry = self.namespaces.entry(name.clone()).or_default();
                entry.labels = obj.meta.labels.clone();
                entry.annotations = obj.meta.annotations.clone();
                self.service_accounts
                    .insert((name, "default".to_string()), ());
                Vec::new()
            }
            Body::ServiceAccount(_) => {
                self.service_accounts.insert((ns, name), ());
                Vec::new()
            }
            Body::ConfigMap(_) => {
                self.config_maps.insert((ns, name), Arc::new(obj.clone()));
                Vec::new()
            }
            Body::Secret(_) => {
                self.secrets.insert((ns, name), Arc::new(obj.clone()));
                Vec::new()
            }
            Body::Service(spec) => self.apply_service(obj, spec),
            Body::Deployment(spec) => {
                let template = PodTemplateSpec::clone(&spec.template);
                let selector = spec.selector.clone().unwrap_or_default();
                self.apply_workload(
                    obj,
                    WorkloadKind::Deployment,
                    selector,
                    template,
                    spec.replicas(),
                    now,
                    admission,
                )?
            }
            Body::DaemonSet(spec) => {
                let template = spec.template.clone();
                let selector = spec.selector.clone().unwrap_or_default();
                let replicas = self.nodes.len() as u32;
                self.apply_workload(
                    obj,
                    WorkloadKind::DaemonSet,
                    selector,
                    template,
                    replicas,
                    now,
                    admission,
                )?
            }
            Body::Pod(spec) => {
                let template = PodTemplateSpec {
                    metadata: obj.meta.clone(),
                    spec: spec.clone(),
                };
                self.apply_workload(
                    obj,
                    WorkloadKind::Pod,
                    LabelSelector::default(),
                    template,
                    1,
                    now,
                    admission,
                )?
            }
            _ => Vec::new(),
        })
    }

    fn apply_service(&mut self, obj: &Object, spec: &ServiceSpec) -> Vec<Effect> {
        let ports = spec
            .ports
            .iter()
            .map(|p| ServicePort {
                name: p.name.clone().unwrap_or_default(),
                port: u16::try_from(p.port).unwrap_or(0),
                target_port: p
                    .target_port
                    .clone()
                    .unwrap_or(IntOrString::Int(i64::from(p.port))),
                protocol: p.protocol.clone().unwrap_or_else(|| "TCP".to_string()),
                app_protocol: p.app_protocol.clone(),
            })
            .collect::<Vec<_>>();
        let existing = self.find_service(obj.namespace(), obj.name());
        let headless = spec.cluster_ip.as_deref() == Some("None");
        let type_ = spec.service_type().to_string();
        let id = match existing {
            Some(id) => id,
            None => {
                let id = ServiceId(self.services.len() as u32);
                let cluster_ip = if headless || type_ == "ExternalName" {
                    None
                } else {
                    Some(self.allocate_cluster_ip(spec.cluster_ip.as_deref()))
                };
                self.services.push(Service {
                    id,
                    namespace: obj.namespace().to_string(),
                    name: obj.name().to_string(),
                    labels: BTreeMap::new(),
                    annotations: BTreeMap::new(),
                    type_: String::new(),
                    cluster_ip,
                    ports: Vec::new(),
                    selector: None,
                    publish_not_ready: false,
                    endpoints: Vec::new(),
                    deleted: false,
                });
                id
            }
        };
        let svc = &mut self.services[id.0 as usize];
        svc.labels = obj.meta.labels.clone();
        svc.annotations = obj.meta.annotations.clone();
        svc.type_ = type_;
        svc.endpoints = vec![Vec::new(); ports.len()];
        svc.ports = ports;
        svc.selector = spec.selector.clone();
        svc.publish_not_ready = spec.publish_not_ready_addresses.unwrap_or(false);
        self.recompute_endpoints(id);
        vec![Effect::ServiceChanged(id), Effect::EndpointsChanged(id)]
    }

    fn allocate_cluster_ip(&mut self, requested: Option<&str>) -> Ipv4Addr {
        if let Some(ip) = requested.and_then(|r| r.parse::<Ipv4Addr>().ok())
            && !self.used_cluster_ips.contains(&ip)
        {
            self.used_cluster_ips.push(ip);
            return ip;
        }
        // 10.96.0.0/12, random like the apiserver's allocator, but seeded.
        loop {
            let offset = 16 + self.rng.below((1 << 20) - 32) as u32;
            let ip = Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 96, 0, 0)) + offset);
            if !self.used_cluster_ips.contains(&ip) {
                self.used_cluster_ips.push(ip);
                return ip;
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn apply_workload(
        &mut self,
        obj: &Object,
        kind: WorkloadKind,
        selector: LabelSelector,
        template: PodTemplateSpec,
        replicas: u32,
        now: SimTime,
        admission: &dyn Admission,
    ) -> Result<Vec<Effect>, ApplyError> {
        let hash = pod_template_hash(&canonical_template(&template));
        let template = Arc::new(template);
        let mut effects = Vec::new();
        let id = match self.find_workload(obj.namespace(), obj.name()) {
            Some(id) => {
                let w = &mut self.workloads[id.0 as usize];
                if w.template_hash != hash {
                    // A new template replaces every pod (a rollout; meshsim
                    // does not yet stage it by maxSurge/maxUnavailable).
                    let old = std::mem::take(&mut w.pods);
                    for pod in old {
                        effects.extend(self.delete_pod(pod));
                    }
                }
                let w = &mut self.workloads[id.0 as usize];
                w.labels = obj.meta.labels.clone();
                w.selector = selector;
                w.template = template;
                w.template_hash = hash;
                w.replicas = replicas;
                id
            }
            None => {
                let id = WorkloadId(self.workloads.len() as u32);
                self.workloads.push(Workload {
                    id,
                    kind,
                    namespace: obj.namespace().to_string(),
                    name: obj.name().to_string(),
                    labels: obj.meta.labels.clone(),
                    selector,
                    template,
                    template_hash: hash,
                    replicas,
                    pods: Vec::new(),
                    deleted: false,
                });
                id
            }
        };
        effects.extend(self.reconcile(id, now, admission)?);
        Ok(effects)
    }

    /// Creates or deletes pods until the workload has its replica count.
    pub fn reconcile(
        &mut self,
        id: WorkloadId,
        now: SimTime,
        admission: &dyn Admission,
    ) -> Result<Vec<Effect>, ApplyError> {
        let mut effects = Vec::new();
        let w = &self.workloads[id.0 as usize];
        let have = w.pods.len() as u32;
        let want = if w.deleted { 0 } else { w.replicas };
        let daemon = w.kind == WorkloadKind::DaemonSet;
        if have > want {
            // Newest pods go first, as the ReplicaSet controller prefers.
            let doomed: Vec<PodId> = w.pods[want as usize..].to_vec();
            for pod in doomed {
                effects.extend(self.delete_pod(pod));
            }
            return Ok(effects);
        }
        for i in have..want {
            let node = if daemon { Some(NodeId(i)) } else { None };
            let pod = self.create_pod(id, node, now, admission)?;
            effects.push(Effect::PodCreated(pod));
        }
        Ok(effects)
    }

    fn create_pod(
        &mut self,
        wid: WorkloadId,
        node: Option<NodeId>,
        now: SimTime,
        admission: &dyn Admission,
    ) -> Result<PodId, ApplyError> {
        let w = &self.workloads[wid.0 as usize];
        let template = Arc::clone(&w.template);
        let name = match w.kind {
            WorkloadKind::Deployment => {
                format!(
                    "{}-{}-{}",
                    w.name,
                    w.template_hash,
                    random_suffix(&mut self.rng)
                )
            }
            WorkloadKind::DaemonSet => format!("{}-{}", w.name, random_suffix(&mut self.rng)),
            WorkloadKind::Pod => w.name.clone(),
        };
        let namespace = w.namespace.clone();
        let mut labels = template.metadata.labels.clone();
        if w.kind == WorkloadKind::Deployment {
            labels.insert("pod-template-hash".to_string(), w.template_hash.clone());
        }
        let node = match node {
            Some(n) => n,
            None => self.schedule(wid, &template)?,
        };
        let ns_state = self.namespaces.get(&namespace).cloned().unwrap_or_default();
        let revision = admission.inject_sidecar(&ns_state, &labels, &template.metadata.annotations);
        let mut annotations = template.metadata.annotations.clone();
        if let Some(rev) = &revision {
            // The injection template's annotation: which control plane
            // the sidecar belongs to.
            annotations.insert(REVISION.to_string(), rev.clone());
        }
        let sidecar = revision.is_some();
        let n = &mut self.nodes[node.0 as usize];
        let host = n.next_host;
        n.next_host += 1;
        let ip = Ipv4Addr::new(10, 244 + (node.0 / 256) as u8, (node.0 % 256) as u8, 0);
        let ip = Ipv4Addr::from(u32::from(ip) + host);
        let id = PodId(self.pods.len() as u32);
        self.pods.push(Pod {
            id,
            name,
            namespace,
            labels,
            annotations,
            workload: wid,
            node,
            ip,
            service_account: template.spec.service_account().to_string(),
            template,
            sidecar,
            phase: PodPhase::Pending,
            ready: false,
            created: now,
            restarts: 0,
            incarnation: 0,
        });
        self.workloads[wid.0 as usize].pods.push(id);
        Ok(id)
    }

    fn schedule(&self, wid: WorkloadId, template: &PodTemplateSpec) -> Result<NodeId, ApplyError> {
        let mut per_node = vec![(0usize, 0usize); self.nodes.len()];
        for p in self.live_pods() {
            let slot = &mut per_node[p.node.0 as usize];
            slot.0 += 1;
            if p.workload == wid {
                slot.1 += 1;
            }
        }
        let zone_siblings = |zone: &str| -> usize {
            self.nodes
                .iter()
                .zip(&per_node)
                .filter(|(n, _)| n.zone == zone)
                .map(|(_, c)| c.1)
                .sum()
        };
        let candidates: Vec<Candidate<'_>> = self
            .nodes
            .iter()
            .zip(&per_node)
            .map(|(n, c)| Candidate {
                labels: &n.labels,
                zone: &n.zone,
                pods: c.0,
                siblings: c.1,
                zone_siblings: zone_siblings(&n.zone),
            })
            .collect();
        let name = self.workloads[wid.0 as usize].name.clone();
        scheduler::choose(&candidates, &template.spec.node_selector)
            .map(|i| NodeId(i as u32))
            .ok_or_else(|| {
                ApplyError::Unschedulable(format!(
                    "0/{} nodes are available: {} node(s) didn't match Pod's node affinity/selector (pod of {name})",
                    self.nodes.len(),
                    self.nodes.len()
                ))
            })
    }

    /// The pod's containers started.
    pub fn pod_running(&mut self, id: PodId) {
        let p = &mut self.pods[id.0 as usize];
        if p.phase == PodPhase::Pending {
            p.phase = PodPhase::Running;
        }
    }

    /// The pod passed its readiness checks (or failed them).
    pub fn set_ready(&mut self, id: PodId, ready: bool) -> Vec<Effect> {
        let p = &mut self.pods[id.0 as usize];
        if p.phase != PodPhase::Running || p.ready == ready {
            return Vec::new();
        }
        p.ready = ready;
        self.endpoints_for_pod(id)
    }

    /// The pod's containers died (a crash or `kill`): it stops being an
    /// endpoint and the kubelet restarts it. Returns the new incarnation.
    pub fn crash_pod(&mut self, id: PodId) -> (u32, Vec<Effect>) {
        let p = &mut self.pods[id.0 as usize];
        p.restarts += 1;
        p.incarnation += 1;
        let was_ready = p.ready;
        p.ready = false;
        p.phase = PodPhase::Pending;
        let incarnation = p.incarnation;
        let effects = if was_ready {
            self.endpoints_for_pod(id)
        } else {
            Vec::new()
        };
        (incarnation, effects)
    }

    /// Removes a pod now (no grace period).
    pub fn delete_pod(&mut self, id: PodId) -> Vec<Effect> {
        let p = &mut self.pods[id.0 as usize];
        if p.phase == PodPhase::Deleted {
            return Vec::new();
        }
        let was_ready = p.ready;
        p.ready = false;
        p.phase = PodPhase::Deleted;
        p.incarnation += 1;
        let wid = p.workload;
        self.workloads[wid.0 as usize].pods.retain(|&x| x != id);
        let mut effects = if was_ready {
            self.endpoints_for_pod(id)
        } else {
            Vec::new()
        };
        effects.push(Effect::PodDeleted(id));
        effects
    }

    /// Deletes a Deployment, DaemonSet or bare Pod and its pods
    /// (`kubectl delete`, background propagation done at once).
    pub fn delete_workload(&mut self, id: WorkloadId) -> Vec<Effect> {
        let w = &mut self.workloads[id.0 as usize];
        w.deleted = true;
        let pods = std::mem::take(&mut w.pods);
        pods.into_iter().flat_map(|p| self.delete_pod(p)).collect()
    }

    /// Deletes a Service: it stops resolving and has no endpoints.
    pub fn delete_service(&mut self, id: ServiceId) -> Vec<Effect> {
        let svc = &mut self.services[id.0 as usize];
        svc.deleted = true;
        svc.endpoints.iter_mut().for_each(Vec::clear);
        if let Some(ip) = svc.cluster_ip {
            self.used_cluster_ips.retain(|&used| used != ip);
        }
        vec![Effect::ServiceChanged(id), Effect::EndpointsChanged(id)]
    }

    /// Forgets a ConfigMap, Secret or ServiceAccount.
    pub fn delete_plain(&mut self, kind: &str, namespace: &str, name: &str) -> bool {
        let key = (namespace.to_string(), name.to_string());
        match kind {
            "ConfigMap" => self.config_maps.remove(&key).is_some(),
            "Secret" => self.secrets.remove(&key).is_some(),
            "ServiceAccount" => self.service_accounts.remove(&key).is_some(),
            _ => false,
        }
    }

    /// Sets a pod's labels and annotations (`kubectl label pod`): the
    /// Services that select it before or after change their endpoints.
    pub fn relabel_pod(
        &mut self,
        id: PodId,
        labels: BTreeMap<String, String>,
        annotations: BTreeMap<String, String>,
    ) -> Vec<Effect> {
        let mut effects = self.endpoints_for_pod(id);
        let p = &mut self.pods[id.0 as usize];
        p.labels = labels;
        p.annotations = annotations;
        effects.extend(self.endpoints_for_pod(id));
        effects
    }

    /// Changes a Deployment's replica count (`kubectl scale`).
    pub fn scale(
        &mut self,
        id: WorkloadId,
        replicas: u32,
        now: SimTime,
        admission: &dyn Admission,
    ) -> Result<Vec<Effect>, ApplyError> {
        self.workloads[id.0 as usize].replicas = replicas;
        self.reconcile(id, now, admission)
    }

    fn endpoints_for_pod(&mut self, pod: PodId) -> Vec<Effect> {
        let ids: Vec<ServiceId> = self
            .services
            .iter()
            .filter(|s| !s.deleted && s.selects(&self.pods[pod.0 as usize]))
            .map(|s| s.id)
            .collect();
        ids.into_iter()
            .map(|id| {
                self.recompute_endpoints(id);
                Effect::EndpointsChanged(id)
            })
            .collect()
    }

    fn recompute_endpoints(&mut self, id: ServiceId) {
        let svc = &self.services[id.0 as usize];
        let mut pods: Vec<&Pod> = self
            .pods
            .iter()
            .filter(|p| {
                svc.selects(p) && p.phase == PodPhase::Running && (p.ready || svc.publish_not_ready)
            })
            .collect();
        pods.sort_by(|a, b| a.name.cmp(&b.name));
        let endpoints = svc
            .ports
            .iter()
            .map(|port| {
                pods.iter()
                    .filter_map(|p| {
                        p.resolve_port(&port.target_port).map(|pp| Endpoint {
                            pod: p.id,
                            port: pp,
                        })
                    })
                    .collect()
            })
            .collect();
        self.services[id.0 as usize].endpoints = endpoints;
    }
}

/// A stable text of the parts of a pod template that make a new revision,
/// for `pod-template-hash`.
fn canonical_template(t: &PodTemplateSpec) -> String {
    let mut s = String::new();
    for (k, v) in &t.metadata.labels {
        s.push_str(&format!("l:{k}={v};"));
    }
    for (k, v) in &t.metadata.annotations {
        s.push_str(&format!("a:{k}={v};"));
    }
    s.push_str(&format!("sa:{};", t.spec.service_account()));
    for c in t.spec.init_containers.iter().chain(&t.spec.containers) {
        s.push_str(&format!("c:{}={};", c.name, c.image));
        for e in &c.env {
            s.push_str(&format!("e:{}={:?};", e.name, e.value));
        }
        for p in &c.ports {
            s.push_str(&format!("p:{:?}={};", p.name, p.container_port));
        }
        s.push_str(&format!("cmd:{:?}{:?};", c.command, c.args));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_str;

    fn cluster_with(yaml: &str) -> (Cluster, Vec<Effect>) {
        let nodes: Vec<NodeSpec> = (0..3)
            .map(|i| NodeSpec {
                name: format!("node-{i}"),
                zone: format!("zone-{}", i % 2),
                region: "region".into(),
            })
            .collect();
        let mut c = Cluster::new("test", &nodes, 1);
        let loaded = load_str("t.yaml", yaml, None);
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        let mut effects = Vec::new();
        for o in &loaded.objects {
            effects.extend(c.apply(o, SimTime::ZERO, &NoAdmission).unwrap());
        }
        (c, effects)
    }

    const APP: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 80, targetPort: http, name: http}]\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 3\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - name: web\n        image: nginx\n        ports: [{containerPort: 8080, name: http}]\n";

    #[test]
    fn deployments_make_named_pods_spread_over_nodes() {
        let (c, effects) = cluster_with(APP);
        let created: Vec<_> = effects
            .iter()
            .filter(|e| matches!(e, Effect::PodCreated(_)))
            .collect();
        assert_eq!(created.len(), 3);
        let nodes: std::collections::BTreeSet<_> = c.live_pods().map(|p| p.node).collect();
        assert_eq!(nodes.len(), 3, "one replica per node");
        for p in c.live_pods() {
            let parts: Vec<&str> = p.name.split('-').collect();
            assert_eq!(parts[0], "web");
            assert_eq!(parts[2].len(), 5, "{}", p.name);
            assert_eq!(
                p.labels.get("pod-template-hash").map(String::as_str),
                Some(parts[1])
            );
        }
    }

    #[test]
    fn only_ready_pods_are_endpoints_with_named_target_ports() {
        let (mut c, _) = cluster_with(APP);
        let svc = c.find_service("default", "web").unwrap();
        assert!(c.service(svc).endpoints[0].is_empty());
        let pod = c.live_pods().next().unwrap().id;
        c.pod_running(pod);
        let effects = c.set_ready(pod, true);
        assert_eq!(effects, vec![Effect::EndpointsChanged(svc)]);
        assert_eq!(
            c.service(svc).endpoints[0],
            vec![Endpoint { pod, port: 8080 }]
        );
        c.crash_pod(pod);
        assert!(c.service(svc).endpoints[0].is_empty());
    }

    #[test]
    fn scaling_down_removes_the_newest_pods() {
        let (mut c, _) = cluster_with(APP);
        let w = c.find_workload("default", "web").unwrap();
        let first = c.workload(w).pods[0];
        c.scale(w, 1, SimTime::ZERO, &NoAdmission).unwrap();
        assert_eq!(c.workload(w).pods, vec![first]);
    }

    #[test]
    fn namespaced_objects_need_their_namespace() {
        let nodes = [NodeSpec {
            name: "n".into(),
            zone: "z".into(),
            region: "r".into(),
        }];
        let mut c = Cluster::new("t", &nodes, 1);
        let loaded = load_str(
            "t.yaml",
            "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, namespace: nope}\n",
            None,
        );
        let err = c
            .apply(&loaded.objects[0], SimTime::ZERO, &NoAdmission)
            .unwrap_err();
        assert_eq!(err.to_string(), "namespaces \"nope\" not found");
    }

    #[test]
    fn same_seed_same_names_and_ips() {
        let (a, _) = cluster_with(APP);
        let (b, _) = cluster_with(APP);
        let names = |c: &Cluster| {
            c.live_pods()
                .map(|p| (p.name.clone(), p.ip))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&a), names(&b));
        let ip = |c: &Cluster| {
            c.service(c.find_service("default", "web").unwrap())
                .cluster_ip
        };
        assert_eq!(ip(&a), ip(&b));
    }
}
