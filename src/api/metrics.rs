//! `metrics.k8s.io/v1beta1` as metrics-server serves it to `kubectl top`:
//! a PodMetrics per pod two scrapes have seen, a NodeMetrics per node,
//! from the world's readings ([`crate::world::usage`]). CPU is in
//! nanocores (`9559630n`), memory in Ki when it divides (`22244Ki`), as
//! metrics-server writes them; metadata carries the name, namespace,
//! labels and, as creationTimestamp, now. Only `get` and `list`.

use serde_json::{Value, json};

use super::cluster::ApiCluster;
use super::handler::{Reply, Request, selectors};
use super::status::ApiError;
use crate::k8s::PodId;
use crate::sim::{SimDuration, SimTime};
use crate::world::usage::Reading;

/// The API group.
pub const GROUP: &str = "metrics.k8s.io";
const API_VERSION: &str = "metrics.k8s.io/v1beta1";

/// `GET /apis/metrics.k8s.io/v1beta1/{rest}`. On a step clock, asking
/// for readings that do not exist yet waits for the scrapes that make
/// them, as a watch waits for its condition (at most 30 s of virtual time);
/// on a wall clock they come as time passes.
pub fn request(cluster: &mut ApiCluster, req: &Request, rest: &[&str]) -> Result<Reply, ApiError> {
    if cluster.step_clock && !all_read(cluster) {
        let until = cluster
            .world
            .scrapes
            .as_ref()
            .map(|s| s.settled_at())
            .unwrap_or(cluster.world.queue.now());
        cluster.advance_to(until);
    }
    match rest {
        ["pods"] => pod_list(cluster, req, None),
        ["namespaces", ns, "pods"] => pod_list(cluster, req, Some(ns)),
        ["namespaces", ns, "pods", name] => {
            let pod = cluster
                .world
                .find_pod(ns, name)
                .filter(|&p| cluster.world.cluster.pod(p).name == *name)
                .ok_or_else(|| ApiError::not_found("pods", name))?;
            let mut item = pod_metrics(cluster, pod).ok_or_else(|| {
                ApiError::not_found("podmetrics.metrics.k8s.io", &format!("{ns}/{name}"))
            })?;
            item["kind"] = json!("PodMetrics");
            item["apiVersion"] = json!(API_VERSION);
            Ok(Reply::json(200, &item))
        }
        ["nodes"] => {
            let (labels, _) = selectors(req)?;
            let nodes: Vec<usize> = (0..cluster.world.cluster.nodes.len())
                .filter(|&i| labels.matches(&cluster.world.cluster.nodes[i].labels))
                .collect();
            let items: Vec<Value> = nodes
                .into_iter()
                .filter_map(|i| node_metrics(cluster, i))
                .collect();
            Ok(Reply::json(
                200,
                &json!({"kind": "NodeMetricsList", "apiVersion": API_VERSION, "metadata": {}, "items": items}),
            ))
        }
        ["nodes", name] => {
            let i = cluster
                .world
                .cluster
                .nodes
                .iter()
                .position(|n| n.name == *name)
                .ok_or_else(|| ApiError::not_found("nodes", name))?;
            let mut item = node_metrics(cluster, i)
                .ok_or_else(|| ApiError::not_found("nodemetrics.metrics.k8s.io", name))?;
            item["kind"] = json!("NodeMetrics");
            item["apiVersion"] = json!(API_VERSION);
            Ok(Reply::json(200, &item))
        }
        _ => Err(ApiError::no_route(&req.path)),
    }
}

/// Whether every running pod has a reading.
fn all_read(cluster: &mut ApiCluster) -> bool {
    let running: Vec<PodId> = cluster
        .world
        .cluster
        .live_pods()
        .filter(|p| p.phase == crate::k8s::PodPhase::Running)
        .map(|p| p.id)
        .collect();
    running.into_iter().all(|p| cluster.world.has_reading(p))
}

fn pod_list(cluster: &mut ApiCluster, req: &Request, ns: Option<&str>) -> Result<Reply, ApiError> {
    let (labels, fields) = selectors(req)?;
    let mut pods: Vec<(String, String, PodId)> = cluster
        .world
        .cluster
        .live_pods()
        .filter(|p| ns.is_none_or(|n| p.namespace == n))
        .filter(|p| labels.matches(&p.labels))
        .filter(|p| {
            fields.matches(&json!({"metadata": {"name": p.name, "namespace": p.namespace}}))
        })
        .map(|p| (p.namespace.clone(), p.name.clone(), p.id))
        .collect();
    pods.sort();
    let items: Vec<Value> = pods
        .into_iter()
        .filter_map(|(_, _, pod)| pod_metrics(cluster, pod))
        .collect();
    Ok(Reply::json(
        200,
        &json!({"kind": "PodMetricsList", "apiVersion": API_VERSION, "metadata": {}, "items": items}),
    ))
}

/// The reading's `timestamp` and `window` fields.
fn stamped(cluster: &ApiCluster, timestamp: SimTime, window: SimDuration) -> (String, String) {
    (
        crate::sim::time::rfc3339(cluster.world.stamp(timestamp).unix),
        window.to_string(),
    )
}

fn pod_metrics(cluster: &mut ApiCluster, pod: PodId) -> Option<Value> {
    let Reading {
        timestamp,
        window,
        usage,
    } = cluster.world.pod_usage(pod)?;
    let (timestamp, window) = stamped(cluster, timestamp, window);
    let p = cluster.world.cluster.pod(pod);
    let containers: Vec<Value> = usage
        .iter()
        .map(|c| json!({"name": c.name, "usage": {"cpu": cpu(c.nanocores), "memory": memory(c.memory)}}))
        .collect();
    Some(json!({
        "metadata": {"name": p.name, "namespace": p.namespace, "creationTimestamp": cluster.now(), "labels": p.labels},
        "timestamp": timestamp,
        "window": window,
        "containers": containers,
    }))
}

fn node_metrics(cluster: &mut ApiCluster, index: usize) -> Option<Value> {
    let Reading {
        timestamp,
        window,
        usage: (nanocores, bytes),
    } = cluster.world.node_usage(crate::k8s::NodeId(index as u32))?;
    let (timestamp, window) = stamped(cluster, timestamp, window);
    let n = &cluster.world.cluster.nodes[index];
    Some(json!({
        "metadata": {"name": n.name, "creationTimestamp": cluster.now(), "labels": n.labels},
        "timestamp": timestamp,
        "window": window,
        "usage": {"cpu": cpu(nanocores), "memory": memory(bytes)},
    }))
}

/// Nanocores as metrics-server's quantity writes them.
fn cpu(nanocores: u64) -> String {
    format!("{nanocores}n")
}

/// Bytes, in Ki when they divide.
fn memory(bytes: u64) -> String {
    if bytes.is_multiple_of(1024) {
        format!("{}Ki", bytes / 1024)
    } else {
        bytes.to_string()
    }
}
