//! Events, as the scheduler, the kubelet and the workload controllers
//! record them (`kubectl get events`, `kubectl describe`): core/v1 Events
//! about the object they concern, with the reasons and messages of
//! Kubernetes 1.32.

use serde_json::{Value, json};

use super::cluster::ApiCluster;
use super::resources;
use super::store::Key;

/// Who reports an event.
#[derive(Clone, Copy)]
pub enum Source<'a> {
    Scheduler,
    Kubelet { node: &'a str },
    ReplicaSetController,
    DaemonSetController,
    DeploymentController,
}

impl Source<'_> {
    fn component(self) -> &'static str {
        match self {
            Source::Scheduler => "default-scheduler",
            Source::Kubelet { .. } => "kubelet",
            Source::ReplicaSetController => "replicaset-controller",
            Source::DaemonSetController => "daemonset-controller",
            Source::DeploymentController => "deployment-controller",
        }
    }
}

impl ApiCluster {
    /// Records a Normal event about `object` (as stored).
    pub(super) fn event(
        &mut self,
        object: &Value,
        reason: &str,
        message: &str,
        source: Source<'_>,
    ) {
        let meta = &object["metadata"];
        let (Some(name), Some(namespace)) = (meta["name"].as_str(), meta["namespace"].as_str())
        else {
            return;
        };
        self.events_made += 1;
        let now = self.now();
        let stamp = self.world.queue.now().as_nanos()
            + self.world.epoch_unix * 1_000_000_000
            + self.events_made;
        let event_name = format!("{name}.{stamp:016x}");
        let mut source_json = json!({"component": source.component()});
        if let Source::Kubelet { node } = source {
            source_json["host"] = json!(node);
        }
        let event = json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": event_name, "namespace": namespace},
            "involvedObject": {
                "apiVersion": object["apiVersion"],
                "kind": object["kind"],
                "name": name,
                "namespace": namespace,
                "uid": meta["uid"],
                "resourceVersion": meta["resourceVersion"],
            },
            "reason": reason,
            "message": message,
            "source": source_json,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "type": "Normal",
            "eventTime": null,
            "reportingComponent": source.component(),
            "reportingInstance": "",
        });
        let r = resources::find("", "events").expect("events are served");
        let _ = self
            .store
            .create(Key::new(r, namespace, &event_name), event, &now);
    }

    /// Forgets events last seen more than an hour ago, as the apiserver's
    /// `--event-ttl` (1 h) does.
    pub(super) fn expire_events(&mut self) {
        const TTL_SECS: i64 = 3600;
        let r = resources::find("", "events").expect("events are served");
        let now = i64::try_from(self.now_unix()).unwrap_or(i64::MAX);
        let old: Vec<Key> = self
            .store
            .list(r, None)
            .filter(|(_, e)| {
                e["lastTimestamp"]
                    .as_str()
                    .and_then(super::table::parse_rfc3339)
                    .is_some_and(|t| now - t > TTL_SECS)
            })
            .map(|(k, _)| k.clone())
            .collect();
        for k in old {
            self.store.delete(&k);
        }
    }

    /// The object that owns a pod (its ReplicaSet or DaemonSet), as stored.
    pub(super) fn owner_of(&self, pod: &Value) -> Option<Value> {
        let owner = &pod["metadata"]["ownerReferences"][0];
        let plural = match owner["kind"].as_str()? {
            "ReplicaSet" => "replicasets",
            "DaemonSet" => "daemonsets",
            _ => return None,
        };
        let r = resources::find("apps", plural)?;
        let ns = pod["metadata"]["namespace"].as_str()?;
        let key = Key::new(r, ns, owner["name"].as_str()?);
        self.store.get(&key).map(|o| Value::clone(o))
    }

    /// A pod appeared: the scheduler placed it, its controller made it.
    pub(super) fn pod_created_events(&mut self, pod: &Value) {
        let (ns, name) = (str_at(pod, "namespace"), str_at(pod, "name"));
        let node = pod["spec"]["nodeName"].as_str().unwrap_or("").to_string();
        self.event(
            pod,
            "Scheduled",
            &format!("Successfully assigned {ns}/{name} to {node}"),
            Source::Scheduler,
        );
        if let Some(owner) = self.owner_of(pod) {
            let source = controller_of(&owner);
            self.event(
                &owner,
                "SuccessfulCreate",
                &format!("Created pod: {name}"),
                source,
            );
        }
    }

    /// A pod's containers started: the kubelet found each image, created
    /// and started the container.
    pub(super) fn pod_started_events(&mut self, pod: &Value) {
        let node = pod["spec"]["nodeName"].as_str().unwrap_or("").to_string();
        let containers: Vec<(String, String)> = ["initContainers", "containers"]
            .iter()
            .flat_map(|list| pod["spec"][list].as_array().cloned().unwrap_or_default())
            .map(|c| (str_of(&c["name"]), str_of(&c["image"])))
            .collect();
        for (name, image) in containers {
            let kubelet = Source::Kubelet { node: &node };
            self.event(
                pod,
                "Pulled",
                &format!("Container image {image:?} already present on machine"),
                kubelet,
            );
            self.event(
                pod,
                "Created",
                &format!("Created container: {name}"),
                kubelet,
            );
            self.event(
                pod,
                "Started",
                &format!("Started container {name}"),
                kubelet,
            );
        }
    }

    /// A pod is going away: the kubelet stops its containers, its
    /// controller records the deletion.
    pub(super) fn pod_deleted_events(&mut self, pod: &Value) {
        let node = pod["spec"]["nodeName"].as_str().unwrap_or("").to_string();
        let names: Vec<String> = pod["spec"]["containers"]
            .as_array()
            .map(|cs| cs.iter().map(|c| str_of(&c["name"])).collect())
            .unwrap_or_default();
        for name in names {
            self.event(
                pod,
                "Killing",
                &format!("Stopping container {name}"),
                Source::Kubelet { node: &node },
            );
        }
        if let Some(owner) = self.owner_of(pod) {
            let source = controller_of(&owner);
            let message = format!("Deleted pod: {}", str_at(pod, "name"));
            self.event(&owner, "SuccessfulDelete", &message, source);
        }
    }
}

fn controller_of(owner: &Value) -> Source<'static> {
    if owner["kind"] == "DaemonSet" {
        Source::DaemonSetController
    } else {
        Source::ReplicaSetController
    }
}

fn str_of(v: &Value) -> String {
    v.as_str().unwrap_or("").to_string()
}

fn str_at(obj: &Value, field: &str) -> String {
    str_of(&obj["metadata"][field])
}
