//! The world's controllers as the API shows them: after every change the
//! cluster writes into the store what a real cluster's controllers and
//! kubelets would have written — Nodes, Pods with their status, a
//! Deployment's ReplicaSets, Endpoints, and the `status` of Deployments,
//! DaemonSets and LoadBalancer Services — so that lists and watches see
//! the world move.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::cluster::{ApiCluster, KUBE_VERSION};
use super::events::Source;
use super::resources::{self, Resource};
use super::store::{Key, metadata};
use crate::k8s::cluster::WorkloadKind;
use crate::k8s::{Pod, PodId, PodPhase};

/// A digest of what the projection reads from the cluster: pods' phase,
/// readiness and incarnation, workloads' size and template, services and
/// their endpoints. Equal digests, equal projections.
pub(super) fn fingerprint(c: &crate::k8s::Cluster) -> u64 {
    let mut h = crate::k8s::names::Fnv64::default();
    for p in &c.pods {
        for n in [
            u64::from(p.id.0),
            p.phase as u64,
            u64::from(p.ready),
            u64::from(p.incarnation),
            u64::from(p.restarts),
        ] {
            h.number(n);
        }
    }
    for w in &c.workloads {
        for n in [
            u64::from(w.replicas),
            u64::from(w.deleted),
            w.pods.len() as u64,
        ] {
            h.number(n);
        }
        h.bytes(w.template_hash.as_bytes());
    }
    for s in &c.services {
        h.number(u64::from(s.deleted));
        s.endpoints.iter().for_each(|e| h.number(e.len() as u64));
    }
    h.number(c.nodes.len() as u64);
    h.finish()
}

/// What a pod's projection reads from the world pod.
fn pod_digest(p: &Pod) -> u64 {
    let text = format!(
        "{:?}{}{}{}{}{:?}{:?}",
        p.phase, p.ready, p.incarnation, p.restarts, p.sidecar, p.labels, p.annotations
    );
    crate::k8s::names::fnv64(text.as_bytes())
}

/// One ReplicaSet of a Deployment: a template it has had.
#[derive(Clone)]
pub(super) struct Revision {
    hash: String,
    /// When it appeared (RFC 3339).
    created: String,
    number: u32,
    /// The pod template as it was then.
    template: Value,
}

/// A Deployment's ReplicaSets, oldest first.
#[derive(Default)]
pub(super) struct Revisions(Vec<Revision>);

/// When the cluster saw each pod incarnation start and become ready.
#[derive(Clone, Default)]
pub(super) struct PodTimes {
    incarnation: u32,
    running: Option<String>,
    ready: Option<String>,
}

impl ApiCluster {
    /// Writes what the world's controllers own into the store.
    pub fn sync(&mut self) {
        // Workloads first: their ReplicaSets own the pods projected next.
        self.sync_nodes();
        self.sync_workloads();
        self.sync_pods();
        self.sync_services();
        self.sync_waypoints();
        self.expire_events();
        self.projected = fingerprint(&self.world.cluster);
    }

    /// [`Self::sync`], when the world changed anything it projects since
    /// the last time: most events (requests, timers) change nothing
    /// kubectl can see, and rendering every pod after each would cost
    /// more than the event.
    pub fn sync_if_changed(&mut self) {
        if fingerprint(&self.world.cluster) != self.projected {
            self.sync();
        }
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

    /// Deletes the objects of `r` the controllers no longer have (all but
    /// `keep`, by namespace and name); returns them.
    fn prune(
        &mut self,
        r: &Resource,
        keep: &BTreeSet<(String, String)>,
    ) -> Vec<std::sync::Arc<Value>> {
        let gone: Vec<Key> = self
            .store
            .list(r, None)
            .filter(|(k, _)| !keep.contains(&(k.namespace.clone(), k.name.clone())))
            .map(|(k, _)| k.clone())
            .collect();
        gone.iter().filter_map(|k| self.store.delete(k)).collect()
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
                    "addresses": [{"type": "InternalIP", "address": crate::k8s::NodeId(i as u32).ip().to_string()},
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
        let mut keep = BTreeSet::new();
        for id in live {
            let pod = self.world.cluster.pod(id);
            keep.insert((pod.namespace.clone(), pod.name.clone()));
            let (ns, name) = (pod.namespace.clone(), pod.name.clone());
            // A pod the world left alone projects as it did.
            let digest = pod_digest(pod);
            let stored = self.store.get(&Key::new(r, &ns, &name)).is_some();
            if stored && self.pod_digests.get(&id) == Some(&digest) {
                continue;
            }
            // A bare pod is in the store before it is first projected.
            let first = self.pod_digests.insert(id, digest).is_none();
            let obj = self.pod_object(id);
            let before = self
                .store
                .get(&Key::new(r, &ns, &name))
                .map(|o| o["status"]["phase"].clone());
            self.put(r, &ns, obj);
            let Some(stored) = self.store.get(&Key::new(r, &ns, &name)).cloned() else {
                continue;
            };
            if first {
                self.pod_created_events(&stored);
            }
            if stored["status"]["phase"] == "Running"
                && before.is_none_or(|phase| phase != "Running")
            {
                self.pod_started_events(&stored);
            }
        }
        for old in self.prune(r, &keep) {
            self.pod_deleted_events(&old);
        }
    }

    /// The pod as the kubelet reports it.
    fn pod_object(&mut self, id: PodId) -> Value {
        let now = self.now();
        let pod = self.world.cluster.pod(id).clone();
        let w = self.world.cluster.workload(pod.workload);
        let (kind, w_name, w_namespace, hash) = (
            w.kind,
            w.name.clone(),
            w.namespace.clone(),
            w.template_hash.clone(),
        );
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
        let created = crate::sim::time::rfc3339(
            self.world.epoch_unix + pod.created.as_nanos() / 1_000_000_000,
        );
        let (owner_kind, owner_group, owner_plural, owner_name) = match kind {
            WorkloadKind::Deployment => (
                "ReplicaSet",
                "apps",
                "replicasets",
                format!("{w_name}-{hash}"),
            ),
            WorkloadKind::DaemonSet => ("DaemonSet", "apps", "daemonsets", w_name.clone()),
            WorkloadKind::Pod => ("", "", "", String::new()),
        };
        let mut base = match kind {
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
                let plural = if kind == WorkloadKind::Deployment {
                    "deployments"
                } else {
                    "daemonsets"
                };
                let template = self
                    .store
                    .get(&Key::new(
                        resources::find("apps", plural).expect("served"),
                        &w_namespace,
                        &w_name,
                    ))
                    .map(|o| o["spec"]["template"].clone())
                    .unwrap_or_else(|| json!({}));
                let mut meta = template["metadata"].clone();
                if !meta.is_object() {
                    meta = json!({});
                }
                meta["name"] = json!(pod.name);
                // Its own annotations: the template's, or what `kubectl
                // annotate pod` made of them.
                match meta.as_object_mut() {
                    Some(m) if pod.annotations.is_empty() => {
                        m.remove("annotations");
                    }
                    Some(m) => {
                        m.insert("annotations".into(), json!(pod.annotations));
                    }
                    None => {}
                }
                meta["generateName"] = json!(match kind {
                    WorkloadKind::Deployment => format!("{owner_name}-"),
                    _ => format!("{w_name}-"),
                });
                let owner_uid = self
                    .store
                    .get(&Key::new(
                        resources::find(owner_group, owner_plural).expect("served"),
                        &w_namespace,
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
            let revision = pod
                .annotations
                .get(crate::k8s::cluster::REVISION)
                .map_or("default", String::as_str);
            annotations[crate::k8s::cluster::REVISION] = json!(revision);
            annotations["sidecar.istio.io/status"] = json!(format!(
                "{{\"initContainers\":[\"istio-init\"],\"containers\":[\"istio-proxy\"],\"volumes\":[\"workload-socket\",\"credential-socket\",\"workload-certs\",\"istio-envoy\",\"istio-data\",\"istio-podinfo\",\"istio-token\",\"istiod-ca-cert\"],\"imagePullSecrets\":null,\"revision\":\"{revision}\"}}"
            ));
            if let Some(first) = base["spec"]["containers"][0]["name"].as_str() {
                let first = first.to_string();
                let annotations = &mut base["metadata"]["annotations"];
                annotations["kubectl.kubernetes.io/default-container"] = json!(first);
                annotations["kubectl.kubernetes.io/default-logs-container"] = json!(first);
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
            && spec["containers"]
                .as_array()
                .is_none_or(|c| !c.iter().any(|c| c["name"] == "istio-proxy"))
        {
            let mut inits = spec["initContainers"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            inits.push(sidecar_init());
            spec["initContainers"] = json!(inits);
            let mut containers = spec["containers"].as_array().cloned().unwrap_or_default();
            containers.push(sidecar_proxy());
            spec["containers"] = json!(containers);
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
        let mut live_rs = BTreeSet::new();
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
                let previous = history.0.last().map(|r| r.hash.clone());
                let rolled = previous.as_ref() != Some(&w.template_hash);
                if rolled {
                    let number = history.0.last().map_or(1, |r| r.number + 1);
                    history.0.retain(|r| r.hash != w.template_hash);
                    history.0.push(Revision {
                        hash: w.template_hash.clone(),
                        created: now,
                        number,
                        template: stored["spec"]["template"].clone(),
                    });
                }
                let history: Vec<Revision> = history.0.clone();
                let rs_name = |hash: &str| format!("{}-{hash}", w.name);
                let old_replicas = self
                    .store
                    .get(&Key::new(
                        replicasets,
                        &w.namespace,
                        &rs_name(&w.template_hash),
                    ))
                    .and_then(|rs| rs["spec"]["replicas"].as_u64());
                let scaled = match (rolled, old_replicas) {
                    (true, _) => Some(0),
                    (false, Some(n)) if n != u64::from(w.replicas) => Some(n),
                    _ => None,
                };
                if let Some(from) = scaled {
                    let to = u64::from(w.replicas);
                    let way = if to >= from { "up" } else { "down" };
                    let message = format!(
                        "Scaled {way} replica set {} from {from} to {to}",
                        rs_name(&w.template_hash)
                    );
                    self.event(
                        &stored,
                        "ScalingReplicaSet",
                        &message,
                        Source::DeploymentController,
                    );
                }
                if let Some(old) = previous.filter(|_| rolled) {
                    let had = self
                        .store
                        .get(&Key::new(replicasets, &w.namespace, &rs_name(&old)))
                        .and_then(|rs| rs["spec"]["replicas"].as_u64())
                        .unwrap_or(0);
                    let message =
                        format!("Scaled down replica set {} from {had} to 0", rs_name(&old));
                    self.event(
                        &stored,
                        "ScalingReplicaSet",
                        &message,
                        Source::DeploymentController,
                    );
                }
                let revision = history.last().map_or(1, |r| r.number);
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
                for rev in &history {
                    let current = rev.hash == w.template_hash;
                    let rs = replica_set(
                        &stored,
                        rev,
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
                        let _ = self.store.create(key, rs, &rev.created);
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
        self.prune(replicasets, &live_rs);
        // A deleted Deployment forgets its revisions.
        let cluster = &self.world.cluster;
        self.revisions
            .retain(|(ns, name), _| cluster.find_workload(ns, name).is_some());
    }

    /// A waypoint Gateway's status as istiod writes it: its Service's
    /// address, and `Programmed` once a waypoint pod is ready.
    fn sync_waypoints(&mut self) {
        let r = resources::find("gateway.networking.k8s.io", "gateways").expect("served");
        let gateways: Vec<(String, std::sync::Arc<Value>)> = self
            .store
            .list(r, None)
            .filter(|(_, o)| {
                o["spec"]["gatewayClassName"] == crate::config::gateway_api::WAYPOINT_CLASS
            })
            .map(|(k, o)| (k.namespace.clone(), std::sync::Arc::clone(o)))
            .collect();
        for (ns, stored) in gateways {
            let name = stored["metadata"]["name"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let c = &self.world.cluster;
            let address = c
                .find_service(&ns, &name)
                .and_then(|s| c.service(s).cluster_ip)
                .map(|ip| ip.to_string());
            let ready = c.live_pods().any(|p| {
                p.namespace == ns
                    && p.ready
                    && p.labels
                        .get(crate::control::waypoint::GATEWAY_NAME)
                        .is_some_and(|g| *g == name)
            });
            let since = stored["metadata"]["creationTimestamp"].clone();
            let generation = stored["metadata"]["generation"].clone();
            let condition = |kind: &str, ok: bool, reason: &str, message: &str| {
                json!({"type": kind, "status": if ok { "True" } else { "False" },
                       "reason": reason, "message": message,
                       "lastTransitionTime": since, "observedGeneration": generation})
            };
            let mut status = json!({"conditions": [
                condition("Accepted", true, "Accepted", "Resource accepted"),
                if ready {
                    condition("Programmed", true, "Programmed", &format!(
                        "Resource programmed, assigned to service(s) {name}.{ns}.svc.cluster.local:15008"
                    ))
                } else {
                    condition("Programmed", false, "NoResources", "Deployment has no ready replicas")
                },
            ]});
            if let Some(ip) = address {
                status["addresses"] = json!([{"type": "IPAddress", "value": ip}]);
            }
            if stored.get("status") != Some(&status) {
                let mut obj = Value::clone(&stored);
                obj["status"] = status;
                self.put(r, &ns, obj);
            }
        }
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
        let mut keep = BTreeSet::new();
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
                // Pending (no ingress) until the live driver serves it, as
                // a cloud's load balancer is until it is provisioned.
                obj["status"] = match self.ingress.get(&(s.namespace.clone(), s.name.clone())) {
                    Some(ip) => json!({"loadBalancer": {"ingress": [{"ip": ip, "ipMode": "VIP"}]}}),
                    None => json!({"loadBalancer": {}}),
                };
                let served: Vec<String> = s
                    .ports
                    .iter()
                    .filter_map(|p| {
                        let at = self
                            .served
                            .get(&(s.namespace.clone(), s.name.clone(), p.port))?;
                        Some(format!("{}={at}", p.port))
                    })
                    .collect();
                if !served.is_empty() {
                    let meta = metadata(&mut obj);
                    let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
                    if !annotations.is_object() {
                        *annotations = json!({});
                    }
                    annotations[SERVED_AT] = json!(served.join(","));
                }
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
                .filter(|p| s.selects(p))
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
        self.prune(endpoints, &keep);
    }
}

/// The ReplicaSet of one template of a Deployment.
fn replica_set(
    deploy: &Value,
    rev: &Revision,
    (desired, current, ready): (u64, u64, u64),
) -> Value {
    let (hash, revision) = (&rev.hash, rev.number);
    let name = deploy["metadata"]["name"].as_str().unwrap_or("");
    let mut template = rev.template.clone();
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

/// The annotation on a LoadBalancer Service that says where on this
/// machine each of its ports is served: `80=127.0.0.1:80,443=127.0.0.1:443`.
pub const SERVED_AT: &str = "meshsim.io/served-at";

/// The `istio-init` container the injector adds (traffic redirection; no
/// CNI in sidecar installs).
fn sidecar_init() -> Value {
    json!({"name": "istio-init", "image": format!("docker.io/istio/proxyv2:{}", crate::control::install::ISTIO_VERSION),
        "args": ["istio-iptables", "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-x", "", "-b", "*", "-d", "15090,15021,15020"]})
}

/// The `istio-proxy` sidecar, a regular container after the application's:
/// Istio 1.27's injector makes it a native sidecar (an init container with
/// `restartPolicy: Always`) only when every node's kubelet is 1.33 or
/// newer (ENABLE_NATIVE_SIDECARS "auto", `detectNativeSidecar` in
/// pkg/kube/inject/webhook.go), and this cluster's nodes run v1.32.
fn sidecar_proxy() -> Value {
    json!({"name": "istio-proxy", "image": format!("docker.io/istio/proxyv2:{}", crate::control::install::ISTIO_VERSION),
        "args": ["proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local", "--proxyLogLevel=warning",
                 "--proxyComponentLogLevel=misc:error", "--log_output_level=default:info"],
        "ports": [{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}]})
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
        "hostIP": crate::k8s::NodeId(node).ip().to_string(),
        "hostIPs": [{"ip": crate::k8s::NodeId(node).ip().to_string()}],
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
