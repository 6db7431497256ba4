//! The cluster behind the API: the object store kubectl reads and writes,
//! joined to the simulated [`World`] that runs the controllers, istiod and
//! the data path.
//!
//! A write is decoded and validated by the same loader as `meshsim
//! validate` (the apiserver's and istiod's webhook checks), applied to the
//! world, given the fields the server defaults (a Service's clusterIP from
//! the world's allocator), then stored. Objects the controllers own —
//! pods, ReplicaSets, Endpoints, Nodes, and the `status` of Deployments,
//! DaemonSets and Services — are projected from the world into the store
//! after every change, so watches see the world move.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use super::resources::{self, Resource};
use super::status::ApiError;
use super::store::{Key, Store, metadata, string_map};
use super::{defaults, project};
use crate::config::{Severity, load_str};
use crate::k8s::cluster::WorkloadKind;
use crate::k8s::{NodeSpec, PodId};
use crate::scenario::Scenario;
use crate::sim::{SimDuration, SimTime};
use crate::world::World;

/// The Kubernetes version meshsim's apiserver reports (the installed
/// kubectl is a dispatcher that picks its binary by the server's minor).
pub const KUBE_VERSION: &str = "v1.32.4";

/// What to do with fields the server does not know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldValidation {
    Strict,
    Warn,
    Ignore,
}

/// What a write did.
pub struct Written {
    pub object: Arc<Value>,
    /// What the apiserver or istiod's webhook warns about (HTTP `Warning`
    /// headers; kubectl prints them as `Warning: …`).
    pub warnings: Vec<String>,
}

/// What `kubectl logs` asks of a container's output.
#[derive(Clone, Debug, Default)]
pub struct LogOptions {
    pub tail: Option<u64>,
    pub since_unix: Option<u64>,
    pub limit_bytes: Option<u64>,
    pub timestamps: bool,
}

pub struct ApiCluster {
    pub store: Store,
    pub world: World,
    pub(super) revisions: BTreeMap<(String, String), project::Revisions>,
    pub(super) pod_times: BTreeMap<PodId, project::PodTimes>,
    /// What each pod looked like when it was last projected.
    pub(super) pod_digests: BTreeMap<PodId, u64>,
    /// The clock moves only when asked (`--clock step`): what would depend
    /// on the wall is pinned to virtual time.
    pub step_clock: bool,
    /// The request's `fieldValidation`: `Strict` (kubectl's default)
    /// refuses unknown fields, `Warn` drops them with a warning, `Ignore`
    /// drops them silently (`kubectl apply --validate=false`).
    pub field_validation: FieldValidation,
    /// The request being handled is a dry run (`dryRun=All`): validate
    /// and default, change nothing.
    pub dry_run: bool,
    /// What the cluster looked like at the last projection
    /// ([`project::fingerprint`]).
    pub(super) projected: u64,
    /// Events recorded so far (their names must be unique).
    pub(super) events_made: u64,
    pub(super) seed: u64,
    /// Where the live driver serves each LoadBalancer Service (the
    /// Service's ingress IP); a Service not in it is pending.
    pub(super) ingress: BTreeMap<(String, String), String>,
    /// Where the live driver serves each LoadBalancer Service port.
    pub(super) served: BTreeMap<(String, String, u16), std::net::SocketAddr>,
}

impl ApiCluster {
    /// A new cluster: nodes, the namespaces and Service every cluster
    /// starts with, and no mesh (`istioctl install` adds it).
    pub fn new(
        name: &str,
        nodes: Vec<NodeSpec>,
        seed: u64,
        epoch_unix: u64,
    ) -> Result<Self, String> {
        let scenario = Scenario {
            name: name.to_string(),
            description: String::new(),
            file: "meshsim-up".into(),
            seed,
            duration: SimDuration::ZERO,
            cluster_name: name.to_string(),
            nodes,
            profile: crate::control::Profile::None,
            outbound: crate::dataplane::xds::OutboundPolicy::AllowAny,
            costs: crate::dataplane::Costs::default(),
            manifests: Vec::new(),
            traffic: Vec::new(),
            timeline: Vec::new(),
            web: crate::web::Web::default(),
        };
        let (mut world, _) = World::new(&scenario).map_err(|d| {
            d.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        })?;
        world.epoch_unix = epoch_unix;
        world.keep_logs = true;
        world.deploys_waypoints = false;
        world.scrapes = Some(Box::new(crate::world::usage::Scrapes::new(
            world.queue.now(),
        )));
        let mut c = ApiCluster {
            store: Store::new(seed),
            world,
            revisions: BTreeMap::new(),
            pod_times: BTreeMap::new(),
            pod_digests: BTreeMap::new(),
            events_made: 0,
            dry_run: false,
            field_validation: FieldValidation::Strict,
            step_clock: false,
            projected: 0,
            seed,
            ingress: BTreeMap::new(),
            served: BTreeMap::new(),
        };
        c.seed_objects();
        c.sync();
        Ok(c)
    }

    /// The namespaces, ServiceAccounts and the `kubernetes` Service a new
    /// cluster has.
    fn seed_objects(&mut self) {
        let now = self.now();
        let ns = resources::find("", "namespaces").expect("namespaces are served");
        let sa = resources::find("", "serviceaccounts").expect("serviceaccounts are served");
        for name in ["default", "kube-node-lease", "kube-public", "kube-system"] {
            let obj = defaults::namespace(json!({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": name}}));
            self.store_new(ns, "", obj, &now);
            let obj = json!({"apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": {"name": "default", "namespace": name}});
            self.store_new(sa, name, obj, &now);
        }
        let svc = resources::find("", "services").expect("services are served");
        let obj = json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default",
                "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]}});
        let obj = defaults::service(
            obj,
            "default",
            "kubernetes",
            Some(std::net::Ipv4Addr::new(10, 96, 0, 1)),
        );
        self.store_new(svc, "default", obj, &now);
    }

    fn store_new(&mut self, r: &Resource, ns: &str, obj: Value, now: &str) {
        let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
        // Only ever called for objects that cannot exist yet.
        let _ = self.store.create(Key::new(r, ns, &name), obj, now);
    }

    /// The virtual clock as RFC 3339.
    pub fn now(&self) -> String {
        crate::sim::time::rfc3339(self.world.now_unix())
    }

    pub fn now_unix(&self) -> u64 {
        self.world.now_unix()
    }

    /// The log of container `container` of pod `ns/pod`, if it printed.
    fn log_of(
        &self,
        ns: &str,
        pod: &str,
        container: &str,
    ) -> Option<&crate::world::logs::ContainerLog> {
        self.world
            .find_pod(ns, pod)
            .filter(|id| self.world.cluster.pod(*id).name == pod)
            .and_then(|id| self.world.container_log(id, container))
    }

    /// A log line as the kubelet serves it, with its RFC 3339 timestamp
    /// (nanoseconds) first when asked.
    fn log_line(&self, out: &mut String, at: crate::sim::SimTime, line: &str, timestamps: bool) {
        if timestamps {
            let s = self.world.stamp(at);
            out.push_str(&crate::sim::time::rfc3339_fraction(s.unix, s.nanos, 9));
            out.push(' ');
        }
        out.push_str(line);
        out.push('\n');
    }

    /// What container `container` of pod `ns/pod` printed, as the kubelet
    /// serves it: cut to the lines since `since_unix`, the last `tail`,
    /// then at most `limit_bytes`; and how many lines it has written, for
    /// a follower ([`ApiCluster::container_log_after`]).
    pub fn container_log(
        &self,
        ns: &str,
        pod: &str,
        container: &str,
        o: &LogOptions,
    ) -> (String, u64) {
        let Some(log) = self.log_of(ns, pod, container) else {
            return (String::new(), 0);
        };
        let lines: Vec<&(crate::sim::SimTime, String)> = log
            .lines()
            .filter(|(t, _)| o.since_unix.is_none_or(|s| self.world.stamp(*t).unix >= s))
            .collect();
        let skip = match o.tail {
            Some(n) => lines
                .len()
                .saturating_sub(usize::try_from(n).unwrap_or(usize::MAX)),
            None => 0,
        };
        let mut out = String::new();
        for (t, line) in &lines[skip..] {
            self.log_line(&mut out, *t, line, o.timestamps);
        }
        if let Some(limit) = o.limit_bytes.and_then(|l| usize::try_from(l).ok())
            && out.len() > limit
        {
            let mut cut = limit;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
        }
        (out, log.total())
    }

    /// For `kubectl logs -f`: the lines written after the first `seen`, and
    /// the new count; `None` once the pod is gone.
    pub fn container_log_after(
        &self,
        ns: &str,
        pod: &str,
        container: &str,
        seen: u64,
        timestamps: bool,
    ) -> Option<(String, u64)> {
        let id = self
            .world
            .find_pod(ns, pod)
            .filter(|id| self.world.cluster.pod(*id).name == pod)?;
        let Some(log) = self.world.container_log(id, container) else {
            return Some((String::new(), seen));
        };
        let mut out = String::new();
        for (t, line) in log.after(seen) {
            self.log_line(&mut out, *t, line, timestamps);
        }
        Some((out, log.total()))
    }

    /// Creates an object (`POST`).
    pub fn create(
        &mut self,
        r: &'static Resource,
        ns: &str,
        mut obj: Value,
    ) -> Result<Written, ApiError> {
        self.normalize(r, ns, &mut obj)?;
        let name = self.settle_name(r, ns, &mut obj)?;
        let key = Key::new(r, ns, &name);
        if self.store.get(&key).is_some() {
            return Err(ApiError::already_exists(&r.qualified(), &name));
        }
        let warnings = self.admit(r, ns, &name, &mut obj)?;
        let obj = self.server_defaults(r, ns, &name, obj);
        let now = self.now();
        if self.dry_run {
            let mut obj = obj;
            metadata(&mut obj).insert("creationTimestamp".into(), json!(now));
            return Ok(Written {
                object: Arc::new(obj),
                warnings,
            });
        }
        let object = self.store.create(key, obj, &now)?;
        if r.kind == "Namespace" {
            self.namespace_created(&name);
        }
        self.sync();
        self.deploy_waypoint(r, ns, &name);
        Ok(Written { object, warnings })
    }

    /// istiod's deployment controller: a waypoint Gateway gets its
    /// Deployment, Service and ServiceAccount
    /// ([`crate::control::waypoint`]), written through the API as istiod
    /// writes them.
    fn deploy_waypoint(&mut self, r: &Resource, ns: &str, name: &str) {
        use crate::control::waypoint;
        if r.info.is_none_or(|i| i.kind != "KubernetesGateway") {
            return;
        }
        let Some(gateway) = self.world.mesh.desired.get("KubernetesGateway", ns, name) else {
            return;
        };
        if !waypoint::is_waypoint(gateway) {
            return;
        }
        let (docs, _) = crate::yaml::parse_documents(&waypoint::manifests(gateway));
        for doc in docs.iter().filter(|d| !d.root.is_null()) {
            if let Err(e) = self.create_or_update(doc.root.to_json()) {
                self.world
                    .notes
                    .push(format!("istiod cannot deploy waypoint {ns}/{name}: {e}"));
            }
        }
    }

    /// The ingress IPs of the LoadBalancer Services the live driver
    /// serves, by (namespace, name).
    pub fn ingress_ips(&self) -> BTreeMap<(String, String), String> {
        self.ingress.clone()
    }

    /// Creates the object, or replaces it when it exists (a second
    /// install, a waypoint applied again).
    pub fn create_or_update(&mut self, obj: Value) -> Result<(), String> {
        let api_version = obj["apiVersion"].as_str().unwrap_or("");
        let (group, _) = crate::config::kinds::split_api_version(api_version);
        let kind = obj["kind"].as_str().unwrap_or("");
        let r = resources::by_kind(group, kind).ok_or_else(|| format!("no resource for {kind}"))?;
        let ns = obj["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
        match self.create(r, &ns, obj.clone()) {
            Ok(_) => Ok(()),
            Err(e) if e.reason == "AlreadyExists" => self
                .update(r, &ns, &name, obj)
                .map(|_| ())
                .map_err(|e| e.message),
            Err(e) => Err(e.message),
        }
    }

    /// What the serviceaccount controller does for a new namespace: its
    /// `default` ServiceAccount.
    fn namespace_created(&mut self, ns: &str) {
        let sa = resources::find("", "serviceaccounts").expect("serviceaccounts are served");
        let obj = json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "default", "namespace": ns}});
        let now = self.now();
        let _ = self.store.create(Key::new(sa, ns, "default"), obj, &now);
    }

    /// Puts back an object from a snapshot, keeping its identity; false
    /// when it updated one every cluster starts with.
    pub(super) fn restore_object(
        &mut self,
        r: &'static Resource,
        mut obj: Value,
    ) -> Result<bool, ApiError> {
        let ns = obj["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
        // What every cluster starts with (the default namespace, its
        // ServiceAccount) is there already: the saved one updates it.
        if let Some(live) = self.store.get(&Key::new(r, &ns, &name)) {
            metadata(&mut obj).insert(
                "resourceVersion".into(),
                live["metadata"]["resourceVersion"].clone(),
            );
            return self.update(r, &ns, &name, obj).map(|_| false);
        }
        self.normalize(r, &ns, &mut obj)?;
        self.admit(r, &ns, &name, &mut obj)?;
        let obj = self.server_defaults(r, &ns, &name, obj);
        self.store.restore(Key::new(r, &ns, &name), obj);
        if r.kind == "Namespace" {
            self.namespace_created(&name);
        }
        self.sync();
        Ok(true)
    }

    /// Replaces an object (`PUT`, or a patch's result).
    pub fn update(
        &mut self,
        r: &'static Resource,
        ns: &str,
        name: &str,
        mut obj: Value,
    ) -> Result<Written, ApiError> {
        self.normalize(r, ns, &mut obj)?;
        let key = Key::new(r, ns, name);
        let Some(old) = self.store.get(&key).cloned() else {
            return Err(ApiError::not_found(&r.qualified(), name));
        };
        match obj["metadata"]["name"].as_str() {
            Some(n) if n == name => {}
            None | Some("") => {
                metadata(&mut obj).insert("name".into(), json!(name));
            }
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({other}) does not match the name on the URL ({name})"
                )));
            }
        }
        if let (Some(sent), Some(live)) = (
            obj["metadata"]["resourceVersion"].as_str(),
            old["metadata"]["resourceVersion"].as_str(),
        ) && !sent.is_empty()
            && sent != live
        {
            return Err(ApiError::conflict(&r.qualified(), name));
        }
        // The server owns status: a write of the object keeps it.
        match old.get("status") {
            Some(s) => obj["status"] = s.clone(),
            None => {
                if let Some(o) = obj.as_object_mut() {
                    o.remove("status");
                }
            }
        }
        if r.kind == "Pod" {
            return self.update_pod(&key, &old, obj);
        }
        if self.step_clock {
            pin_restarted_at(&old, &mut obj, &self.now());
        }
        immutable_fields(r, name, &old, &mut obj)?;
        let warnings = self.admit(r, ns, name, &mut obj)?;
        let obj = self.server_defaults(r, ns, name, obj);
        if self.dry_run {
            return Ok(Written {
                object: Arc::new(obj),
                warnings,
            });
        }
        if r.kind == "Node" {
            self.relabel_node(name, &obj);
        }
        let object = self.store.update(&key, obj)?;
        self.sync();
        self.deploy_waypoint(r, ns, name);
        Ok(Written { object, warnings })
    }

    /// `kubectl label node`: the scheduler places pods by the new labels.
    fn relabel_node(&mut self, name: &str, obj: &Value) {
        if let Some(node) = self.world.cluster.nodes.iter_mut().find(|n| n.name == name) {
            node.labels = string_map(&obj["metadata"]["labels"]);
        }
    }

    /// A pod's update: its labels and annotations change in place (a
    /// Service may start or stop selecting it); its spec may not change
    /// but for images, as the apiserver's `ValidatePodUpdate` allows. The
    /// running pod is not restarted.
    fn update_pod(&mut self, key: &Key, old: &Value, obj: Value) -> Result<Written, ApiError> {
        let without_images = |spec: &Value| {
            let mut spec = spec.clone();
            for list in ["containers", "initContainers"] {
                if let Some(cs) = spec.get_mut(list).and_then(Value::as_array_mut) {
                    cs.iter_mut()
                        .filter_map(Value::as_object_mut)
                        .for_each(|c| {
                            c.remove("image");
                        });
                }
            }
            for ignored in [
                "activeDeadlineSeconds",
                "tolerations",
                "terminationGracePeriodSeconds",
            ] {
                spec.as_object_mut().map(|s| s.remove(ignored));
            }
            spec
        };
        if without_images(&obj["spec"]) != without_images(&old["spec"]) {
            return Err(ApiError::invalid(
                "Pod",
                &key.name,
                vec![(
                    "spec".into(),
                    "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)".into(),
                )],
            ));
        }
        if self.dry_run {
            return Ok(Written {
                object: Arc::new(obj),
                warnings: Vec::new(),
            });
        }
        if let Some(pod) = self.world.find_pod(&key.namespace, &key.name)
            && self.world.cluster.pod(pod).name == key.name
        {
            let effects = self.world.cluster.relabel_pod(
                pod,
                string_map(&obj["metadata"]["labels"]),
                string_map(&obj["metadata"]["annotations"]),
            );
            self.world.handle_effects(effects);
        }
        let object = self.store.update(key, obj)?;
        self.sync();
        Ok(Written {
            object,
            warnings: Vec::new(),
        })
    }

    /// Deletes an object (and, for a namespace, everything in it).
    pub fn delete(
        &mut self,
        r: &'static Resource,
        ns: &str,
        name: &str,
    ) -> Result<Arc<Value>, ApiError> {
        let key = Key::new(r, ns, name);
        let Some(old) = self.store.get(&key).cloned() else {
            return Err(ApiError::not_found(&r.qualified(), name));
        };
        if self.dry_run {
            return Ok(old);
        }
        if r.kind == "Namespace" {
            // The NamespaceLifecycle admission plugin's immortal namespaces.
            if ["default", "kube-system", "kube-public"].contains(&name) {
                return Err(ApiError::forbidden(&format!(
                    "namespaces {name:?} is forbidden: this namespace may not be deleted"
                )));
            }
            self.delete_namespace_contents(name);
        }
        if r.kind == "Pod" {
            if let Some(pod) = self.world.find_pod(ns, name)
                && self.world.cluster.pod(pod).name == name
            {
                let bare = self
                    .world
                    .cluster
                    .workload(self.world.cluster.pod(pod).workload)
                    .kind
                    == WorkloadKind::Pod;
                if bare {
                    self.world.delete_object("Pod", ns, name);
                } else if let Err(e) = self.world.delete_pod(pod) {
                    return Err(ApiError::internal(e));
                }
            }
        } else if let Some(info) = r.info {
            self.world.delete_object(info.kind, ns, name);
        }
        self.store.delete(&key);
        self.sync();
        let waypoint = r.info.is_some_and(|i| i.kind == "KubernetesGateway")
            && old["spec"]["gatewayClassName"] == crate::config::gateway_api::WAYPOINT_CLASS;
        if waypoint {
            // What istiod deployed for it goes with it (its owner
            // references), and nothing else of that name.
            for kind in crate::control::waypoint::KINDS {
                let group = if kind == "Deployment" { "apps" } else { "" };
                let Some(r) = resources::by_kind(group, kind) else {
                    continue;
                };
                let managed = self.store.get(&Key::new(r, ns, name)).is_some_and(|o| {
                    o["metadata"]["labels"][crate::control::waypoint::MANAGED]
                        == crate::control::waypoint::MESH_CONTROLLER
                });
                if managed {
                    let _ = self.delete(r, ns, name);
                }
            }
        }
        Ok(old)
    }

    fn delete_namespace_contents(&mut self, ns: &str) {
        let keys: Vec<(&'static Resource, String)> = resources::all()
            .iter()
            .filter(|r| r.namespaced)
            .flat_map(|r| {
                self.store
                    .list(r, Some(ns))
                    .map(move |(k, _)| (r, k.name.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        for (r, name) in keys {
            // Pods of workloads go with their owners.
            if r.info.is_none() || r.kind == "Pod" {
                continue;
            }
            let _ = self.delete(r, ns, &name);
        }
        for r in resources::all().iter().filter(|r| r.namespaced) {
            let left: Vec<Key> = self
                .store
                .list(r, Some(ns))
                .map(|(k, _)| k.clone())
                .collect();
            for k in left {
                if r.kind == "Pod" {
                    self.world.delete_object("Pod", ns, &k.name);
                }
                self.store.delete(&k);
            }
        }
    }

    /// Sets `apiVersion` and `kind` to the stored version and the
    /// namespace to the URL's, as the apiserver does.
    fn normalize(&self, r: &Resource, ns: &str, obj: &mut Value) -> Result<(), ApiError> {
        if !obj.is_object() {
            return Err(ApiError::bad_request(
                "the body of the request is not a JSON object",
            ));
        }
        if let Some(kind) = obj["kind"].as_str()
            && !kind.is_empty()
            && kind != r.kind
        {
            return Err(ApiError::bad_request(format!(
                "the kind of the object ({kind}) does not match the resource ({})",
                r.qualified()
            )));
        }
        obj["apiVersion"] = json!(r.api_version());
        obj["kind"] = json!(r.kind);
        let meta = metadata(obj);
        if r.namespaced {
            match meta.get("namespace").and_then(Value::as_str) {
                Some(sent) if !sent.is_empty() && sent != ns => {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ));
                }
                _ => {
                    meta.insert("namespace".into(), json!(ns));
                }
            }
            let ns_key = Key::new(resources::find("", "namespaces").expect("served"), "", ns);
            if self.store.get(&ns_key).is_none() {
                return Err(ApiError::not_found("namespaces", ns));
            }
        } else {
            meta.remove("namespace");
        }
        Ok(())
    }

    /// The object's name, made from `generateName` when it has none.
    fn settle_name(&mut self, r: &Resource, ns: &str, obj: &mut Value) -> Result<String, ApiError> {
        let meta = metadata(obj);
        if let Some(name) = meta.get("name").and_then(Value::as_str)
            && !name.is_empty()
        {
            return Ok(name.to_string());
        }
        let Some(prefix) = meta
            .get("generateName")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
        else {
            return Err(ApiError::invalid(
                r.kind,
                "",
                vec![(
                    "metadata.name".into(),
                    "Required value: name or generateName is required".into(),
                )],
            ));
        };
        let mut rng = crate::sim::Rng::stream(self.seed ^ self.store.rv(), "generate-name");
        loop {
            let name = format!("{prefix}{}", crate::k8s::names::random_suffix(&mut rng));
            if self.store.get(&Key::new(r, ns, &name)).is_none() {
                metadata(obj).insert("name".into(), json!(name));
                return Ok(name);
            }
        }
    }

    /// Validates an object as the apiserver and istiod's webhook do, then
    /// applies it to the world. Returns the warnings.
    fn admit(
        &mut self,
        r: &Resource,
        ns: &str,
        name: &str,
        obj: &mut Value,
    ) -> Result<Vec<String>, ApiError> {
        if r.info.is_none() {
            return Ok(Vec::new());
        }
        let load = |obj: &Value| -> Result<crate::config::Loaded, ApiError> {
            let text = serde_json::to_string(obj).map_err(|e| ApiError::internal(e.to_string()))?;
            Ok(load_str(
                &format!("{} {name}", r.kind),
                &text,
                r.namespaced.then_some(ns),
            ))
        };
        let mut loaded = load(obj)?;
        let mut dropped = Vec::new();
        if self.field_validation != FieldValidation::Strict {
            let unknown: Vec<String> = loaded
                .errors()
                .filter(|d| d.message.starts_with("unknown field"))
                .map(|d| d.path.clone())
                .collect();
            if !unknown.is_empty() {
                let mut trimmed = obj.clone();
                for path in &unknown {
                    remove_path(&mut trimmed, path);
                }
                loaded = load(&trimmed)?;
                *obj = trimmed;
                if self.field_validation == FieldValidation::Warn {
                    dropped = unknown
                        .iter()
                        .map(|p| format!("unknown field {p:?}"))
                        .collect();
                }
            }
        }
        let errors: Vec<&crate::config::Diagnostic> = loaded.errors().collect();
        if !errors.is_empty() {
            return Err(rejection(r, name, &errors));
        }
        if self.dry_run {
            dropped.extend(loaded.diagnostics.into_iter().map(|d| d.message));
            return Ok(dropped);
        }
        let diagnostics = self.world.apply_loaded(loaded);
        let mut warnings = dropped;
        for d in diagnostics {
            match d.severity {
                Severity::Error => return Err(ApiError::internal(d.message)),
                _ => warnings.push(d.message),
            }
        }
        warnings.extend(
            crate::control::security::unreachable_jwks(
                &self.world.mesh.desired,
                &self.world.mesh.web,
            )
            .into_iter()
            .filter(|d| d.object.as_deref() == Some(&format!("{} {ns}/{name}", r.kind)))
            .map(|d| d.message),
        );
        Ok(warnings)
    }

    /// The fields the apiserver fills in on write.
    fn server_defaults(&self, r: &Resource, ns: &str, name: &str, obj: Value) -> Value {
        let cluster_ip = || {
            self.world
                .cluster
                .find_service(ns, name)
                .and_then(|id| self.world.cluster.service(id).cluster_ip)
        };
        match (r.group, r.kind) {
            ("", "Namespace") => defaults::namespace(obj),
            ("", "Service") => defaults::service(obj, ns, name, cluster_ip()),
            (_, kind) => defaults::workload(kind, obj),
        }
    }

    /// Records where a LoadBalancer Service is served, for its status.
    /// The live driver serves port `port` of LoadBalancer Service
    /// `namespace/name` at `at`: the Service's ingress IP and its
    /// `meshsim.io/served-at` annotation say so.
    pub fn set_served(&mut self, namespace: &str, name: &str, port: u16, at: std::net::SocketAddr) {
        self.ingress.insert(
            (namespace.to_string(), name.to_string()),
            at.ip().to_string(),
        );
        self.served
            .insert((namespace.to_string(), name.to_string(), port), at);
        self.sync();
    }

    /// Where each served LoadBalancer Service port listens, for `meshsim
    /// status`: `namespace/name port P → ADDRESS` lines.
    pub fn served_lines(&self) -> String {
        self.served
            .iter()
            .map(|((ns, name, port), at)| format!("  {ns}/{name} port {port} → {at}\n"))
            .collect()
    }

    /// Runs the clock to istiod's scheduled push, if one is due.
    pub fn settle_push(&mut self) {
        if let Some(at) = self.world.mesh.push_at {
            self.advance_to(at);
        }
    }

    /// Lets virtual time run to `until`, projecting after every event.
    pub fn advance_to(&mut self, until: SimTime) {
        while self.world.queue.peek_time().is_some_and(|t| t <= until) {
            self.world.step();
            self.sync_if_changed();
        }
        self.world
            .queue
            .advance_to(until.max(self.world.queue.now()));
        self.sync_if_changed();
    }

    /// Steps the world, event by event, until the store changes in a way
    /// `wanted` accepts or nothing is due before `horizon`. Returns whether
    /// a wanted change happened.
    pub fn fast_forward(
        &mut self,
        horizon: SimTime,
        wanted: &dyn Fn(&super::store::Event) -> bool,
    ) -> bool {
        let from = self.store.rv();
        while self.world.queue.peek_time().is_some_and(|t| t <= horizon) {
            self.world.step();
            self.sync_if_changed();
            if self
                .store
                .events_since(from)
                .is_ok_and(|mut events| events.any(wanted))
            {
                return true;
            }
        }
        false
    }
}

/// Fields an update may not change: a workload's selector
/// (`ValidateDeploymentUpdate`, `ValidateDaemonSetUpdate`) and a
/// Service's cluster IP, which an update that leaves it out keeps
/// (`PrepareForUpdate`).
fn immutable_fields(
    r: &Resource,
    name: &str,
    old: &Value,
    obj: &mut Value,
) -> Result<(), ApiError> {
    let field = match (r.group, r.kind) {
        ("apps", "Deployment" | "DaemonSet" | "ReplicaSet") => "selector",
        ("", "Service") => "clusterIP",
        _ => return Ok(()),
    };
    let was = &old["spec"][field];
    match obj.pointer(&format!("/spec/{field}")) {
        None | Some(Value::Null) if field == "clusterIP" => {
            obj["spec"]["clusterIP"] = was.clone();
            obj["spec"]["clusterIPs"] = old["spec"]["clusterIPs"].clone();
            Ok(())
        }
        Some(now) if now != was => Err(ApiError::invalid(
            r.kind,
            name,
            vec![(
                format!("spec.{field}"),
                format!("Invalid value: {now}: field is immutable"),
            )],
        )),
        _ => Ok(()),
    }
}

/// Removes the field at a diagnostic's path (`spec.ports[0].bogus`).
fn remove_path(obj: &mut Value, path: &str) {
    let mut segments: Vec<String> = Vec::new();
    for part in path.split('.') {
        let mut rest = part;
        while let Some(open) = rest.find('[') {
            if open > 0 {
                segments.push(rest[..open].to_string());
            }
            let close = rest[open..].find(']').map_or(rest.len(), |c| open + c);
            segments.push(rest[open..close].to_string());
            rest = rest.get(close + 1..).unwrap_or("");
        }
        if !rest.is_empty() {
            segments.push(rest.to_string());
        }
    }
    let Some((last, parents)) = segments.split_last() else {
        return;
    };
    let mut at = obj;
    for s in parents {
        let next = match s.strip_prefix('[') {
            Some(i) => i.parse::<usize>().ok().and_then(|i| at.get_mut(i)),
            None => at.get_mut(s.as_str()),
        };
        match next {
            Some(v) => at = v,
            None => return,
        }
    }
    if let Some(m) = at.as_object_mut() {
        m.remove(last.as_str());
    }
}

/// `kubectl rollout restart` stamps the pod template with the wall clock's
/// time; a step-clock cluster stamps virtual time instead, so that the
/// template hash, and the pods' names, are the same on every run.
fn pin_restarted_at(old: &Value, obj: &mut Value, now: &str) {
    const KEY: &str = "kubectl.kubernetes.io/restartedAt";
    let before = old
        .pointer("/spec/template/metadata/annotations")
        .and_then(|a| a.get(KEY))
        .cloned();
    if let Some(stamp) = obj
        .pointer_mut("/spec/template/metadata/annotations")
        .and_then(|a| a.get_mut(KEY))
        && Some(&*stamp) != before.as_ref()
    {
        *stamp = json!(now);
    }
}

/// How the apiserver refuses an object, by what is wrong with it:
/// fields it does not know are a strict decoding error (400, with
/// `fieldValidation=Strict`, which kubectl sends); Istio's kinds are
/// refused by istiod's validating webhook (400, its messages without field
/// paths); everything else is Invalid (422) with a cause per field.
fn rejection(r: &Resource, name: &str, errors: &[&crate::config::Diagnostic]) -> ApiError {
    let unknown: Vec<String> = errors
        .iter()
        .filter(|d| d.message.starts_with("unknown field"))
        .map(|d| format!("unknown field {:?}", d.path))
        .collect();
    if !unknown.is_empty() {
        return ApiError::bad_request(format!(
            "{kind} in version {version:?} cannot be handled as a {kind}: strict decoding error: {}",
            unknown.join(", "),
            kind = r.kind,
            version = r.versions[0],
        ));
    }
    if r.group.ends_with("istio.io") {
        let messages: Vec<String> = errors.iter().map(|d| d.message.clone()).collect();
        return ApiError::webhook_denied(&messages);
    }
    ApiError::invalid(
        r.kind,
        name,
        errors
            .iter()
            .map(|d| (d.path.clone(), d.message.clone()))
            .collect(),
    )
}
