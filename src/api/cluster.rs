//! The cluster behind the API: the object store kubectl reads and writes,
//! joined to the simulated [`World`] that runs the controllers, istiod and
//! the data path.
//!
//! Writes go store-first: an object is decoded and validated by the same
//! loader as `meshsim validate` (the apiserver's and istiod's webhook
//! checks), applied to the world, given the fields the server defaults
//! (a Service's clusterIP), then stored. Objects the controllers own —
//! pods, ReplicaSets, Endpoints, Nodes, and the `status` of Deployments,
//! DaemonSets and Services — are projected from the world into the store
//! after every change, so watches see the world move.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use super::resources::{self, Resource};
use super::status::ApiError;
use super::store::{Key, Store, metadata};
use crate::config::{Severity, load_str};
use crate::k8s::cluster::WorkloadKind;
use crate::k8s::{NodeSpec, Pod, PodId, PodPhase};
use crate::scenario::Scenario;
use crate::sim::{SimDuration, SimTime};
use crate::world::World;

/// The Kubernetes version meshsim's apiserver reports (the installed
/// kubectl is a dispatcher that picks its binary by the server's minor).
pub const KUBE_VERSION: &str = "v1.32.4";

/// What a write did.
pub struct Written {
    pub object: Arc<Value>,
    /// What the apiserver or istiod's webhook warns about (HTTP `Warning`
    /// headers; kubectl prints them as `Warning: …`).
    pub warnings: Vec<String>,
}

/// A Deployment's ReplicaSets, oldest first: each template hash it has
/// had, with when it appeared and its revision number.
#[derive(Default)]
struct Revisions(Vec<(String, String, u32)>);

/// When the cluster saw each pod incarnation start and become ready.
#[derive(Clone, Default)]
struct PodTimes {
    incarnation: u32,
    running: Option<String>,
    ready: Option<String>,
}

pub struct ApiCluster {
    pub store: Store,
    pub world: World,
    revisions: BTreeMap<(String, String), Revisions>,
    pod_times: BTreeMap<PodId, PodTimes>,
    seed: u64,
    /// The address LoadBalancer Services get as their ingress IP: where
    /// the cluster listens.
    pub ingress_ip: String,
}

impl ApiCluster {
    /// A new cluster: nodes, the namespaces and Service every cluster
    /// starts with, and no mesh (`istioctl install` adds it).
    pub fn new(name: &str, nodes: Vec<NodeSpec>, seed: u64) -> Result<Self, String> {
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
        let (world, _) = World::new(&scenario).map_err(|d| {
            d.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        })?;
        let mut c = ApiCluster {
            store: Store::new(seed),
            world,
            revisions: BTreeMap::new(),
            pod_times: BTreeMap::new(),
            seed,
            ingress_ip: "127.0.0.1".to_string(),
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
            let obj = namespace_defaults(json!({"apiVersion": "v1", "kind": "Namespace",
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
        let obj = self.service_defaults(obj, "default", "kubernetes");
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
        let warnings = self.admit(r, ns, &name, &obj)?;
        let obj = self.server_defaults(r, ns, &name, obj);
        let now = self.now();
        let object = self.store.create(key, obj, &now)?;
        self.sync();
        Ok(Written { object, warnings })
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
        let warnings = self.admit(r, ns, name, &obj)?;
        let obj = self.server_defaults(r, ns, name, obj);
        let object = self.store.update(&key, obj)?;
        self.sync();
        Ok(Written { object, warnings })
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
        if r.kind == "Namespace" {
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
        } else if r.info.is_some() {
            self.world.delete_object(r.kind, ns, name);
        }
        self.store.delete(&key);
        self.sync();
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
        obj: &Value,
    ) -> Result<Vec<String>, ApiError> {
        if r.info.is_none() {
            return Ok(Vec::new());
        }
        let text = serde_json::to_string(obj).map_err(|e| ApiError::internal(e.to_string()))?;
        let loaded = load_str(
            &format!("{} {name}", r.kind),
            &text,
            r.namespaced.then_some(ns),
        );
        let istio = r.group.ends_with("istio.io");
        let errors: Vec<&crate::config::Diagnostic> = loaded.errors().collect();
        if !errors.is_empty() {
            return Err(if istio {
                let messages: Vec<String> = errors
                    .iter()
                    .map(|d| {
                        if d.path.is_empty() {
                            d.message.clone()
                        } else {
                            format!("{}: {}", d.path, d.message)
                        }
                    })
                    .collect();
                ApiError::webhook_denied(&messages)
            } else {
                ApiError::invalid(
                    r.kind,
                    name,
                    errors
                        .iter()
                        .map(|d| (d.path.clone(), d.message.clone()))
                        .collect(),
                )
            });
        }
        let diagnostics = self.world.apply_loaded(loaded);
        let mut warnings = Vec::new();
        for d in diagnostics {
            match d.severity {
                Severity::Error => return Err(ApiError::internal(d.message)),
                _ => warnings.push(d.message),
            }
        }
        warnings.extend(
            crate::control::security::unreachable_jwks(
                &self.world.mesh.store,
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
        match (r.group, r.kind) {
            ("", "Namespace") => namespace_defaults(obj),
            ("", "Service") => self.service_defaults(obj, ns, name),
            ("apps", "Deployment") => {
                let mut obj = obj;
                if obj["spec"]["replicas"].is_null() {
                    obj["spec"]["replicas"] = json!(1);
                }
                obj
            }
            _ => obj,
        }
    }

    fn service_defaults(&self, mut obj: Value, ns: &str, name: &str) -> Value {
        let spec = &mut obj["spec"];
        if spec["type"].is_null() {
            spec["type"] = json!("ClusterIP");
        }
        if spec["sessionAffinity"].is_null() {
            spec["sessionAffinity"] = json!("None");
        }
        if let Some(ports) = spec["ports"].as_array_mut() {
            for p in ports {
                if p["protocol"].is_null() {
                    p["protocol"] = json!("TCP");
                }
                if p["targetPort"].is_null() {
                    p["targetPort"] = p["port"].clone();
                }
            }
        }
        let ip = self
            .world
            .cluster
            .find_service(ns, name)
            .and_then(|id| self.world.cluster.service(id).cluster_ip);
        match ip {
            Some(ip) => {
                spec["clusterIP"] = json!(ip.to_string());
                spec["clusterIPs"] = json!([ip.to_string()]);
                spec["ipFamilies"] = json!(["IPv4"]);
                spec["ipFamilyPolicy"] = json!("SingleStack");
            }
            None if spec["clusterIP"].is_null() => spec["clusterIP"] = json!("None"),
            None => {}
        }
        if spec["type"] == "LoadBalancer" || spec["type"] == "NodePort" {
            let mut next =
                30000 + (crate::k8s::names::fnv32a(format!("{ns}/{name}").as_bytes()) % 2000);
            if let Some(ports) = spec["ports"].as_array_mut() {
                for p in ports {
                    if p["nodePort"].is_null() {
                        p["nodePort"] = json!(next);
                        next += 1;
                    }
                }
            }
            if spec["externalTrafficPolicy"].is_null() {
                spec["externalTrafficPolicy"] = json!("Cluster");
            }
        }
        obj
    }

    /// Lets virtual time run to `until`, projecting after every event.
    pub fn advance_to(&mut self, until: SimTime) {
        while self.world.queue.peek_time().is_some_and(|t| t <= until) {
            self.world.step();
            self.sync();
        }
        self.world
            .queue
            .advance_to(until.max(self.world.queue.now()));
        self.sync();
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
            self.sync();
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

    /// Writes what the world's controllers own into the store.
    pub fn sync(&mut self) {
        self.sync_nodes();
        self.sync_pods();
        self.sync_workloads();
        self.sync_services();
    }

    fn put(&mut self, r: &Resource, ns: &str, obj: Value) {
        let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
        let key = Key::new(r, ns, &name);
        let now = self.now();
        let _ = if self.store.get(&key).is_some() {
            self.store.update(&key, obj).map(|_| ())
        } else {
            self.store.create(key, obj, &now).map(|_| ())
        };
    }

    fn sync_nodes(&mut self) {
        let r = resources::find("", "nodes").expect("nodes are served");
        for i in 0..self.world.cluster.nodes.len() {
            let node = &self.world.cluster.nodes[i];
            let mut labels: serde_json::Map<String, Value> = node
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            labels.insert("beta.kubernetes.io/arch".into(), json!("amd64"));
            labels.insert("beta.kubernetes.io/os".into(), json!("linux"));
            labels.insert("kubernetes.io/arch".into(), json!("amd64"));
            if i == 0 {
                labels.insert("node-role.kubernetes.io/control-plane".into(), json!(""));
            }
            let obj = json!({"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": node.name, "labels": labels},
                "spec": {"podCIDR": format!("10.244.{i}.0/24"), "podCIDRs": [format!("10.244.{i}.0/24")]},
                "status": {
                    "addresses": [{"type": "InternalIP", "address": format!("172.18.0.{}", i + 2)},
                                  {"type": "Hostname", "address": node.name}],
                    "capacity": {"cpu": "8", "memory": "16342328Ki", "pods": "110", "ephemeral-storage": "102625208Ki"},
                    "allocatable": {"cpu": "8", "memory": "16342328Ki", "pods": "110", "ephemeral-storage": "102625208Ki"},
                    "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                        "message": "kubelet is posting ready status"}],
                    "nodeInfo": {"kubeletVersion": KUBE_VERSION, "kubeProxyVersion": KUBE_VERSION,
                        "containerRuntimeVersion": "containerd://2.0.3", "osImage": "Debian GNU/Linux 12 (bookworm)",
                        "kernelVersion": "6.1.0-meshsim", "operatingSystem": "linux", "architecture": "amd64"}}});
            if self.store.get(&Key::new(r, "", &node.name)).is_none() {
                self.put(r, "", obj);
            }
        }
    }

    fn sync_pods(&mut self) {
        let r = resources::find("", "pods").expect("pods are served");
        let live: Vec<PodId> = self.world.cluster.live_pods().map(|p| p.id).collect();
        let mut keep = std::collections::BTreeSet::new();
        for id in live {
            let obj = self.pod_object(id);
            let pod = self.world.cluster.pod(id);
            keep.insert((pod.namespace.clone(), pod.name.clone()));
            let ns = pod.namespace.clone();
            self.put(r, &ns, obj);
        }
        let gone: Vec<Key> = self
            .store
            .list(r, None)
            .filter(|(k, _)| !keep.contains(&(k.namespace.clone(), k.name.clone())))
            .map(|(k, _)| k.clone())
            .collect();
        for k in gone {
            self.store.delete(&k);
        }
    }

    /// The pod as the kubelet reports it.
    fn pod_object(&mut self, id: PodId) -> Value {
        let now = self.now();
        let pod = self.world.cluster.pod(id).clone();
        let times = self.pod_times.entry(id).or_default();
        if times.incarnation != pod.incarnation {
            *times = PodTimes {
                incarnation: pod.incarnation,
                ..PodTimes::default()
            };
        }
        if pod.phase == PodPhase::Running && times.running.is_none() {
            times.running = Some(now.clone());
        }
        if pod.ready && times.ready.is_none() {
            times.ready = Some(now.clone());
        }
        if !pod.ready {
            times.ready = None;
        }
        let times = times.clone();
        let w = self.world.cluster.workload(pod.workload).clone();
        let created = crate::sim::time::rfc3339(
            crate::sim::time::EPOCH_UNIX_SECS + pod.created.as_nanos() / 1_000_000_000,
        );
        let (owner_kind, owner_group, owner_plural, owner_name) = match w.kind {
            WorkloadKind::Deployment => (
                "ReplicaSet",
                "apps",
                "replicasets",
                format!("{}-{}", w.name, w.template_hash),
            ),
            WorkloadKind::DaemonSet => ("DaemonSet", "apps", "daemonsets", w.name.clone()),
            WorkloadKind::Pod => ("", "", "", String::new()),
        };
        let mut base = match w.kind {
            WorkloadKind::Pod => self
                .store
                .get(&Key::new(
                    resources::find("", "pods").expect("served"),
                    &pod.namespace,
                    &pod.name,
                ))
                .map(|o| Value::clone(o))
                .unwrap_or_else(|| json!({"metadata": {"name": pod.name}, "spec": {}})),
            _ => {
                let plural = if w.kind == WorkloadKind::Deployment {
                    "deployments"
                } else {
                    "daemonsets"
                };
                let template = self
                    .store
                    .get(&Key::new(
                        resources::find("apps", plural).expect("served"),
                        &w.namespace,
                        &w.name,
                    ))
                    .map(|o| o["spec"]["template"].clone())
                    .unwrap_or_else(|| json!({}));
                let mut meta = template["metadata"].clone();
                if !meta.is_object() {
                    meta = json!({});
                }
                meta["name"] = json!(pod.name);
                meta["generateName"] = json!(match w.kind {
                    WorkloadKind::Deployment => format!("{owner_name}-"),
                    _ => format!("{}-", w.name),
                });
                let owner_uid = self
                    .store
                    .get(&Key::new(
                        resources::find(owner_group, owner_plural).expect("served"),
                        &w.namespace,
                        &owner_name,
                    ))
                    .map(|o| o["metadata"]["uid"].clone())
                    .unwrap_or(Value::Null);
                meta["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": owner_kind, "name": owner_name,
                    "uid": owner_uid, "controller": true, "blockOwnerDeletion": true}]);
                json!({"metadata": meta, "spec": template["spec"].clone()})
            }
        };
        base["apiVersion"] = json!("v1");
        base["kind"] = json!("Pod");
        let meta = metadata(&mut base);
        meta.insert("namespace".into(), json!(pod.namespace));
        meta.insert("labels".into(), json!(pod.labels));
        if meta.get("creationTimestamp").is_none_or(Value::is_null) {
            meta.insert("creationTimestamp".into(), json!(created));
        }
        if pod.sidecar {
            let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
            if !annotations.is_object() {
                *annotations = json!({});
            }
            annotations["sidecar.istio.io/status"] = json!(
                "{\"initContainers\":[\"istio-init\",\"istio-proxy\"],\"containers\":null,\"volumes\":[\"workload-socket\",\"credential-socket\",\"workload-certs\",\"istio-envoy\",\"istio-data\",\"istio-podinfo\",\"istio-token\",\"istiod-ca-cert\"],\"imagePullSecrets\":null,\"revision\":\"default\"}"
            );
            if let Some(first) = base["spec"]["containers"][0]["name"].as_str() {
                let first = first.to_string();
                base["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"] =
                    json!(first);
            }
        }
        let node = self.world.cluster.node(pod.node).name.clone();
        let node_index = pod.node.0;
        let spec = &mut base["spec"];
        spec["nodeName"] = json!(node);
        spec["serviceAccountName"] = json!(pod.service_account);
        spec["serviceAccount"] = json!(pod.service_account);
        if spec["restartPolicy"].is_null() {
            spec["restartPolicy"] = json!("Always");
        }
        if pod.sidecar
            && spec["initContainers"]
                .as_array()
                .is_none_or(|i| !i.iter().any(|c| c["name"] == "istio-proxy"))
        {
            let mut inits = spec["initContainers"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            inits.push(sidecar_init());
            inits.push(sidecar_proxy());
            spec["initContainers"] = json!(inits);
        }
        base["status"] = pod_status(&pod, &base["spec"], &times, &created, node_index);
        base
    }

    fn sync_workloads(&mut self) {
        let deployments = resources::find("apps", "deployments").expect("served");
        let daemonsets = resources::find("apps", "daemonsets").expect("served");
        let replicasets = resources::find("apps", "replicasets").expect("served");
        let workloads: Vec<_> = self
            .world
            .cluster
            .workloads
            .iter()
            .filter(|w| !w.deleted && w.kind != WorkloadKind::Pod)
            .cloned()
            .collect();
        let mut live_rs = std::collections::BTreeSet::new();
        for w in workloads {
            let pods: Vec<&Pod> = w.pods.iter().map(|&p| self.world.cluster.pod(p)).collect();
            let total = pods.len() as u64;
            let ready = pods.iter().filter(|p| p.ready).count() as u64;
            let r = if w.kind == WorkloadKind::Deployment {
                deployments
            } else {
                daemonsets
            };
            let Some(stored) = self.store.get(&Key::new(r, &w.namespace, &w.name)).cloned() else {
                continue;
            };
            let generation = stored["metadata"]["generation"].clone();
            let mut obj = Value::clone(&stored);
            if w.kind == WorkloadKind::Deployment {
                let now = self.now();
                let history = self
                    .revisions
                    .entry((w.namespace.clone(), w.name.clone()))
                    .or_default();
                if history
                    .0
                    .last()
                    .is_none_or(|(h, _, _)| *h != w.template_hash)
                {
                    let revision = history.0.last().map_or(1, |(_, _, n)| n + 1);
                    history.0.retain(|(h, _, _)| *h != w.template_hash);
                    history.0.push((w.template_hash.clone(), now, revision));
                }
                let history: Vec<(String, String, u32)> = history.0.clone();
                let revision = history.last().map_or(1, |(_, _, n)| *n);
                obj["metadata"]["annotations"]["deployment.kubernetes.io/revision"] =
                    json!(revision.to_string());
                let available = ready;
                let mut status = json!({"observedGeneration": generation, "replicas": total,
                    "updatedReplicas": total, "readyReplicas": ready, "availableReplicas": available,
                    "conditions": [
                        {"type": "Available", "status": if available >= u64::from(w.replicas) { "True" } else { "False" },
                         "reason": if available >= u64::from(w.replicas) { "MinimumReplicasAvailable" } else { "MinimumReplicasUnavailable" },
                         "message": if available >= u64::from(w.replicas) { "Deployment has minimum availability." } else { "Deployment does not have minimum availability." }},
                        {"type": "Progressing", "status": "True", "reason": if ready == u64::from(w.replicas) { "NewReplicaSetAvailable" } else { "ReplicaSetUpdated" },
                         "message": format!("ReplicaSet \"{}-{}\" {}", w.name, w.template_hash,
                            if ready == u64::from(w.replicas) { "has successfully progressed." } else { "is progressing." })}]});
                if total > ready {
                    status["unavailableReplicas"] = json!(total - ready);
                }
                for k in ["readyReplicas", "availableReplicas"] {
                    if status[k] == 0 {
                        status.as_object_mut().map(|s| s.remove(k));
                    }
                }
                obj["status"] = status;
                for (hash, created, number) in &history {
                    let current = *hash == w.template_hash;
                    let rs = replica_set(
                        &stored,
                        hash,
                        *number,
                        if current {
                            (u64::from(w.replicas), total, ready)
                        } else {
                            (0, 0, 0)
                        },
                    );
                    let name = rs["metadata"]["name"].as_str().unwrap_or("").to_string();
                    live_rs.insert((w.namespace.clone(), name.clone()));
                    let key = Key::new(replicasets, &w.namespace, &name);
                    if self.store.get(&key).is_none() {
                        let _ = self.store.create(key, rs, created);
                    } else {
                        self.put(replicasets, &w.namespace, rs);
                    }
                }
            } else {
                let nodes = self.world.cluster.nodes.len() as u64;
                obj["status"] = json!({"observedGeneration": generation, "currentNumberScheduled": total,
                    "desiredNumberScheduled": nodes, "numberReady": ready, "numberAvailable": ready,
                    "numberMisscheduled": 0, "updatedNumberScheduled": total});
                if total > ready {
                    obj["status"]["numberUnavailable"] = json!(total - ready);
                }
            }
            self.put(r, &w.namespace, obj);
        }
        let gone: Vec<Key> = self
            .store
            .list(replicasets, None)
            .filter(|(k, _)| !live_rs.contains(&(k.namespace.clone(), k.name.clone())))
            .map(|(k, _)| k.clone())
            .collect();
        for k in gone {
            self.store.delete(&k);
        }
        // A deleted Deployment forgets its revisions.
        let cluster = &self.world.cluster;
        self.revisions
            .retain(|(ns, name), _| cluster.find_workload(ns, name).is_some());
    }

    fn sync_services(&mut self) {
        let services = resources::find("", "services").expect("served");
        let endpoints = resources::find("", "endpoints").expect("served");
        let svcs: Vec<_> = self
            .world
            .cluster
            .services
            .iter()
            .filter(|s| !s.deleted)
            .cloned()
            .collect();
        let mut keep = std::collections::BTreeSet::new();
        for s in svcs {
            let Some(stored) = self
                .store
                .get(&Key::new(services, &s.namespace, &s.name))
                .cloned()
            else {
                continue;
            };
            if s.type_ == "LoadBalancer" {
                let mut obj = Value::clone(&stored);
                obj["status"] = json!({"loadBalancer": {"ingress": [{"ip": self.ingress_ip.as_str(), "ipMode": "VIP"}]}});
                self.put(services, &s.namespace, obj);
            }
            if s.selector.is_none() && s.name != "kubernetes" {
                continue;
            }
            keep.insert((s.namespace.clone(), s.name.clone()));
            let mut ready = Vec::new();
            let mut not_ready = Vec::new();
            let mut pods: Vec<&Pod> = self
                .world
                .cluster
                .live_pods()
                .filter(|p| {
                    p.namespace == s.namespace
                        && s.selector.as_ref().is_some_and(|sel| {
                            !sel.is_empty() && sel.iter().all(|(k, v)| p.labels.get(k) == Some(v))
                        })
                })
                .collect();
            pods.sort_by(|a, b| a.name.cmp(&b.name));
            for p in pods {
                let address = json!({"ip": p.ip.to_string(), "nodeName": self.world.cluster.node(p.node).name,
                    "targetRef": {"kind": "Pod", "namespace": p.namespace, "name": p.name}});
                if p.ready {
                    ready.push(address)
                } else {
                    not_ready.push(address)
                }
            }
            let ports: Vec<Value> = s
                .ports
                .iter()
                .map(|p| {
                    let target = match &p.target_port {
                        crate::config::types::IntOrString::Int(n) => json!(n),
                        crate::config::types::IntOrString::Str(_) => json!(p.port),
                    };
                    let mut port = json!({"port": target, "protocol": p.protocol});
                    if !p.name.is_empty() {
                        port["name"] = json!(p.name);
                    }
                    port
                })
                .collect();
            let mut subset = json!({"ports": ports});
            if !ready.is_empty() {
                subset["addresses"] = json!(ready);
            }
            if !not_ready.is_empty() {
                subset["notReadyAddresses"] = json!(not_ready);
            }
            let mut obj = json!({"apiVersion": "v1", "kind": "Endpoints",
                "metadata": {"name": s.name, "namespace": s.namespace, "labels": stored["metadata"]["labels"].clone()}});
            if s.name == "kubernetes" {
                obj["subsets"] = json!([{"addresses": [{"ip": "172.18.0.2"}], "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]);
            } else if !ready.is_empty() || !not_ready.is_empty() {
                obj["subsets"] = json!([subset]);
            }
            if obj["metadata"]["labels"].is_null() {
                metadata(&mut obj).remove("labels");
            }
            if let Some(existing) = self.store.get(&Key::new(endpoints, &s.namespace, &s.name)) {
                obj["metadata"]["uid"] = existing["metadata"]["uid"].clone();
            }
            self.put(endpoints, &s.namespace, obj);
        }
        let gone: Vec<Key> = self
            .store
            .list(endpoints, None)
            .filter(|(k, _)| !keep.contains(&(k.namespace.clone(), k.name.clone())))
            .map(|(k, _)| k.clone())
            .collect();
        for k in gone {
            self.store.delete(&k);
        }
    }
}

/// A namespace as the apiserver completes it: the
/// `kubernetes.io/metadata.name` label, the `kubernetes` finalizer and
/// phase Active.
fn namespace_defaults(mut obj: Value) -> Value {
    let name = obj["metadata"]["name"].clone();
    if !obj["metadata"]["labels"].is_object() {
        obj["metadata"]["labels"] = json!({});
    }
    obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
    obj["spec"] = json!({"finalizers": ["kubernetes"]});
    obj["status"] = json!({"phase": "Active"});
    obj
}

/// The ReplicaSet of one template of a Deployment.
fn replica_set(
    deploy: &Value,
    hash: &str,
    revision: u32,
    (desired, current, ready): (u64, u64, u64),
) -> Value {
    let name = deploy["metadata"]["name"].as_str().unwrap_or("");
    let mut template = deploy["spec"]["template"].clone();
    template["metadata"]["labels"]["pod-template-hash"] = json!(hash);
    let mut selector = deploy["spec"]["selector"].clone();
    selector["matchLabels"]["pod-template-hash"] = json!(hash);
    let mut status =
        json!({"replicas": current, "fullyLabeledReplicas": current, "observedGeneration": 1});
    if ready > 0 {
        status["readyReplicas"] = json!(ready);
        status["availableReplicas"] = json!(ready);
    }
    json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": format!("{name}-{hash}"), "namespace": deploy["metadata"]["namespace"],
            "labels": template["metadata"]["labels"].clone(),
            "annotations": {"deployment.kubernetes.io/desired-replicas": deploy["spec"]["replicas"].to_string(),
                "deployment.kubernetes.io/max-replicas": (desired + desired.div_ceil(4)).to_string(),
                "deployment.kubernetes.io/revision": revision.to_string()},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                "uid": deploy["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true}]},
        "spec": {"replicas": desired, "selector": selector, "template": template},
        "status": status})
}

/// The `istio-init` container the injector adds (traffic redirection; no
/// CNI in sidecar installs).
fn sidecar_init() -> Value {
    json!({"name": "istio-init", "image": format!("docker.io/istio/proxyv2:{}", crate::control::install::ISTIO_VERSION),
        "args": ["istio-iptables", "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-x", "", "-b", "*", "-d", "15090,15021,15020"]})
}

/// The `istio-proxy` sidecar: since Istio 1.27 a native sidecar (an init
/// container with `restartPolicy: Always`) on Kubernetes that supports it
/// (ENABLE_NATIVE_SIDECARS "auto", pilot/pkg/features/pilot.go).
fn sidecar_proxy() -> Value {
    json!({"name": "istio-proxy", "image": format!("docker.io/istio/proxyv2:{}", crate::control::install::ISTIO_VERSION),
        "args": ["proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local", "--proxyLogLevel=warning",
                 "--proxyComponentLogLevel=misc:error", "--log_output_level=default:info"],
        "ports": [{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}],
        "restartPolicy": "Always"})
}

/// The kubelet's view of a pod: phase, conditions, container states.
fn pod_status(pod: &Pod, spec: &Value, times: &PodTimes, created: &str, node: u32) -> Value {
    let running = pod.phase == PodPhase::Running;
    let started = times.running.clone();
    let condition = |kind: &str, ok: bool, at: &str| {
        let mut c = json!({"type": kind, "status": if ok { "True" } else { "False" }, "lastProbeTime": null, "lastTransitionTime": at});
        if !ok && (kind == "Ready" || kind == "ContainersReady") {
            c["reason"] = json!("ContainersNotReady");
        }
        c
    };
    let ready_at = times.ready.clone().unwrap_or_else(|| created.to_string());
    let container_status = |c: &Value, init: bool| {
        let name = c["name"].as_str().unwrap_or("");
        let sidecar = c["restartPolicy"] == "Always";
        let state = if init && !sidecar {
            json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": created, "finishedAt": started.clone().unwrap_or_else(|| created.to_string())}})
        } else if running {
            json!({"running": {"startedAt": started.clone().unwrap_or_else(|| created.to_string())}})
        } else {
            json!({"waiting": {"reason": if init { "PodInitializing" } else { "ContainerCreating" }}})
        };
        let ready = if init && !sidecar {
            true
        } else {
            running && pod.ready
        };
        let mut s = json!({"name": name, "image": c["image"], "imageID": "", "ready": ready,
            "restartCount": if init && !sidecar { 0 } else { pod.restarts }, "started": running || (init && !sidecar), "state": state});
        if running {
            s["containerID"] = json!(format!(
                "containerd://{:016x}{:048x}",
                crate::k8s::names::fnv32a(
                    format!("{}/{name}/{}", pod.key(), pod.incarnation).as_bytes()
                ),
                pod.id.0
            ));
        }
        s
    };
    let containers: Vec<Value> = spec["containers"]
        .as_array()
        .map(|cs| cs.iter().map(|c| container_status(c, false)).collect())
        .unwrap_or_default();
    let inits: Vec<Value> = spec["initContainers"]
        .as_array()
        .map(|cs| cs.iter().map(|c| container_status(c, true)).collect())
        .unwrap_or_default();
    let mut status = json!({
        "phase": if running { "Running" } else { "Pending" },
        "conditions": [
            condition("PodReadyToStartContainers", running, started.as_deref().unwrap_or(created)),
            condition("Initialized", true, created),
            condition("Ready", pod.ready, &ready_at),
            condition("ContainersReady", pod.ready, &ready_at),
            condition("PodScheduled", true, created),
        ],
        "hostIP": format!("172.18.0.{}", node + 2),
        "hostIPs": [{"ip": format!("172.18.0.{}", node + 2)}],
        "podIP": pod.ip.to_string(),
        "podIPs": [{"ip": pod.ip.to_string()}],
        "qosClass": "BestEffort",
        "startTime": created,
        "containerStatuses": containers,
    });
    if !inits.is_empty() {
        status["initContainerStatuses"] = json!(inits);
    }
    status
}
