//! A cluster's state on disk, so that it survives `meshsim down` and
//! `meshsim up` (and a crash): the objects users wrote, in the order they
//! were created, with the cluster's shape and its clock. Everything the
//! controllers make (pods, ReplicaSets, endpoints, events) is made again
//! by replaying the objects at the virtual times they were created.
//!
//! The file is rewritten after every accepted write, before the answer is
//! sent, through a temporary file and a rename, so a write kubectl was
//! told succeeded is never lost.

use std::path::Path;

use serde_json::{Value, json};

use super::cluster::ApiCluster;
use super::resources;
use crate::k8s::NodeSpec;

/// What a restart needs.
pub struct Snapshot {
    pub name: String,
    pub seed: u64,
    pub nodes: Vec<NodeSpec>,
    pub epoch_unix: u64,
    /// Virtual time when it was taken, in nanoseconds.
    pub now_nanos: u64,
    /// User-written objects, oldest first.
    pub objects: Vec<Value>,
    /// Made by a step-clock cluster.
    pub step: bool,
}

/// The format's version; an older or newer file is refused with a clear
/// message rather than half read.
const FORMAT: u64 = 1;

impl ApiCluster {
    /// The objects users wrote (everything a controller did not make).
    pub fn snapshot(&self, name: &str) -> Snapshot {
        let mut objects: Vec<(u64, Value)> = Vec::new();
        for r in resources::all().iter().filter(|r| r.info.is_some()) {
            for (k, obj) in self.store.list(r, None) {
                if r.kind == "Pod" && !obj["metadata"]["ownerReferences"].is_null() {
                    continue;
                }
                let mut obj = Value::clone(obj);
                if let Some(o) = obj.as_object_mut() {
                    o.remove("status");
                }
                objects.push((self.store.creation(k), obj));
            }
        }
        objects.sort_by_key(|(order, _)| *order);
        Snapshot {
            name: name.to_string(),
            seed: self.seed,
            nodes: self
                .world
                .cluster
                .nodes
                .iter()
                .map(|n| NodeSpec {
                    name: n.name.clone(),
                    zone: n.zone.clone(),
                    region: n.region.clone(),
                })
                .collect(),
            epoch_unix: self.world.epoch_unix,
            now_nanos: self.world.queue.now().as_nanos(),
            objects: objects.into_iter().map(|(_, o)| o).collect(),
            step: self.step_clock,
        }
    }

    /// A cluster rebuilt from a snapshot: each object created again at the
    /// virtual time it was first created, then the clock run on to where
    /// the snapshot was taken.
    /// Also says how many objects it made (the rest updated what every
    /// cluster starts with) and which it could not restore.
    pub fn restore(s: &Snapshot) -> Result<(ApiCluster, usize, Vec<String>), String> {
        let mut c = ApiCluster::new(&s.name, s.nodes.clone(), s.seed, s.epoch_unix)?;
        c.step_clock = s.step;
        let mut problems = Vec::new();
        let mut made = 0;
        for obj in &s.objects {
            let created = obj["metadata"]["creationTimestamp"]
                .as_str()
                .and_then(super::table::parse_rfc3339)
                .and_then(|t| u64::try_from(t).ok())
                .unwrap_or(s.epoch_unix);
            let at = crate::sim::SimTime::ZERO
                + crate::sim::SimDuration::from_secs(created.saturating_sub(s.epoch_unix));
            c.advance_to(at.max(c.world.queue.now()));
            let group =
                crate::config::kinds::split_api_version(obj["apiVersion"].as_str().unwrap_or("")).0;
            let kind = obj["kind"].as_str().unwrap_or("");
            let name = obj["metadata"]["name"].as_str().unwrap_or("");
            let restored = match resources::by_kind(group, kind) {
                Some(r) => c.restore_object(r, obj.clone()).map_err(|e| e.message),
                None => Err(format!("unknown kind {kind}")),
            };
            // One object that no longer loads must not lose the others.
            match restored {
                Ok(created) => made += usize::from(created),
                Err(e) => problems.push(format!("{kind} {name}: {e}")),
            }
        }
        c.advance_to(crate::sim::SimTime(s.now_nanos).max(c.world.queue.now()));
        Ok((c, made, problems))
    }
}

/// Writes the snapshot atomically: a temporary file, flushed to disk,
/// renamed over the old one.
pub fn save(path: &Path, s: &Snapshot) -> std::io::Result<()> {
    use std::io::Write as _;
    let nodes: Vec<Value> = s
        .nodes
        .iter()
        .map(|n| json!({"name": n.name, "zone": n.zone, "region": n.region}))
        .collect();
    let doc = json!({"format": FORMAT, "name": s.name, "seed": s.seed, "nodes": nodes,
        "epochUnix": s.epoch_unix, "nowNanos": s.now_nanos, "objects": s.objects,
        "clock": if s.step { "step" } else { "wall" }});
    let tmp = path.with_extension("tmp");
    // Secrets are in it: only the owner may read it.
    let mut f = {
        use std::os::unix::fs::OpenOptionsExt as _;
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?
    };
    f.write_all(doc.to_string().as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// Reads a snapshot; `None` when there is none.
pub fn load(path: &Path) -> Result<Option<Snapshot>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let doc: Value = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a meshsim snapshot: {e}", path.display()))?;
    if doc["format"].as_u64() != Some(FORMAT) {
        return Err(format!(
            "{}: snapshot format {} is not the {FORMAT} this meshsim reads; remove it to start afresh",
            path.display(),
            doc["format"]
        ));
    }
    let field = |name: &str| {
        doc[name]
            .as_u64()
            .ok_or_else(|| format!("{}: snapshot has no {name}", path.display()))
    };
    let nodes = doc["nodes"]
        .as_array()
        .ok_or_else(|| format!("{}: snapshot has no nodes", path.display()))?
        .iter()
        .map(|n| NodeSpec {
            name: n["name"].as_str().unwrap_or("").to_string(),
            zone: n["zone"].as_str().unwrap_or("").to_string(),
            region: n["region"].as_str().unwrap_or("").to_string(),
        })
        .collect();
    Ok(Some(Snapshot {
        name: doc["name"].as_str().unwrap_or("").to_string(),
        seed: field("seed")?,
        nodes,
        epoch_unix: field("epochUnix")?,
        now_nanos: field("nowNanos")?,
        objects: doc["objects"].as_array().cloned().unwrap_or_default(),
        step: doc["clock"] == "step",
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster() -> ApiCluster {
        let nodes = vec![NodeSpec {
            name: "n1".into(),
            zone: "z".into(),
            region: "r".into(),
        }];
        ApiCluster::new("t", nodes, 3, crate::sim::time::EPOCH_UNIX_SECS).unwrap()
    }

    #[test]
    fn a_restored_cluster_has_the_same_objects_and_pods() {
        let mut c = cluster();
        let ns = resources::find("", "namespaces").unwrap();
        c.create(ns, "", json!({"metadata": {"name": "shop"}}))
            .unwrap();
        let deploy = resources::find("apps", "deployments").unwrap();
        c.create(
            deploy,
            "shop",
            json!({"metadata": {"name": "web"}, "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}}),
        )
        .unwrap();
        c.advance_to(crate::sim::SimTime::ZERO + crate::sim::SimDuration::from_secs(30));
        let s = c.snapshot("t");
        // The two objects written, and what every cluster starts with.
        assert_eq!(s.objects.len(), 12, "{:?}", s.objects);
        let dir = std::env::temp_dir().join(format!("meshsim-snapshot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("snapshot.json");
        save(&path, &s).unwrap();
        let (back, made, problems) = ApiCluster::restore(&load(&path).unwrap().unwrap()).unwrap();
        assert_eq!(made, 2);
        assert!(problems.is_empty(), "{problems:?}");
        std::fs::remove_dir_all(&dir).unwrap();
        let names = |c: &ApiCluster, plural| {
            let r = resources::find(if plural == "pods" { "" } else { "apps" }, plural).unwrap();
            c.store
                .list(r, Some("shop"))
                .map(|(k, o)| (k.name.clone(), o["metadata"]["uid"].clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&back, "deployments"), names(&c, "deployments"));
        assert_eq!(names(&back, "pods").len(), 2);
        assert_eq!(back.now(), c.now());
    }

    #[test]
    fn a_foreign_file_is_refused_with_its_reason() {
        let dir = std::env::temp_dir().join(format!("meshsim-snapshot-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("snapshot.json");
        std::fs::write(&path, "{\"format\": 99}").unwrap();
        let err = load(&path).err().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(err.contains("snapshot format 99"), "{err}");
        assert!(load(&dir.join("none.json")).unwrap().is_none());
    }
}
