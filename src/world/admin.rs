//! What a proxy's Envoy admin interface tells about its upstream clusters
//! (`pilot-agent request GET stats`, `curl localhost:15000/stats`): the
//! counters and gauges of the connection pools, circuit breakers, retries,
//! timeouts and outlier detection the simulation keeps.

use crate::dataplane::outlier::OutlierStats;
use crate::dataplane::pool::{ClusterStats, Limits};
use crate::k8s::PodId;

use super::World;

impl World {
    /// Envoy's stats for `pod`'s proxy, as `name: value` pairs sorted by
    /// name (Envoy's admin sorts them); `None` when the pod has no proxy.
    /// Cluster stats are named as Istio's stat tags leave them:
    /// `cluster.<name>;.<stat>`.
    pub fn proxy_stats(&mut self, pod: PodId) -> Option<Vec<(String, u64)>> {
        self.pods[pod.0 as usize].proxy.as_ref()?;
        let cfg = self.proxy_config(pod);
        let mut out = vec![
            (
                "cluster_manager.active_clusters".to_string(),
                cfg.clusters.len() as u64 + 2,
            ),
            ("cluster_manager.warming_clusters".to_string(), 0),
            ("server.live".to_string(), 1),
            ("server.state".to_string(), 0),
        ];
        for cluster in &cfg.clusters {
            let name = self.texts.find(&cluster.name);
            let rt = &self.pods[pod.0 as usize];
            let pool = name.and_then(|n| rt.pools.get(&n));
            let outliers = name.and_then(|n| rt.outliers.get(&n));
            let (in_use, stats) = match pool {
                Some(p) => (p.in_use(), p.stats.clone()),
                None => ((0, 0, 0, 0), ClusterStats::default()),
            };
            let prefix = format!("cluster.{};.", cluster.name);
            let stat = |out: &mut Vec<(String, u64)>, name: &str, v: u64| {
                out.push((format!("{prefix}{name}"), v));
            };
            for (name, v) in cluster_stats(&cluster.pool, in_use, &stats) {
                stat(&mut out, &name, v);
            }
            if cluster.outlier.is_some() {
                let o = outliers.map(|d| d.stats.clone()).unwrap_or_default();
                for (name, v) in outlier_stats(&o) {
                    stat(&mut out, name, v);
                }
            }
        }
        out.sort();
        Some(out)
    }
}

/// A cluster's pool, circuit-breaker, retry and timeout stats.
fn cluster_stats(
    limits: &Limits,
    (connections, pending, active, retries): (u32, u32, u32, u32),
    s: &ClusterStats,
) -> Vec<(String, u64)> {
    let open = |used: u32, max: u32| u64::from(used >= max);
    // Istio turns on `track_remaining`, so the remaining_* gauges exist.
    let remaining = |used: u32, max: u32| u64::from(max.saturating_sub(used));
    let mut v: Vec<(String, u64)> = [
        (
            "circuit_breakers.default.cx_open",
            open(connections, limits.max_connections),
        ),
        ("circuit_breakers.default.cx_pool_open", 0),
        (
            "circuit_breakers.default.remaining_cx",
            remaining(connections, limits.max_connections),
        ),
        (
            "circuit_breakers.default.remaining_pending",
            remaining(pending, limits.max_pending_requests),
        ),
        (
            "circuit_breakers.default.remaining_retries",
            remaining(retries, limits.max_retries),
        ),
        (
            "circuit_breakers.default.remaining_rq",
            remaining(active, limits.max_requests),
        ),
        (
            "circuit_breakers.default.rq_open",
            open(active, limits.max_requests),
        ),
        (
            "circuit_breakers.default.rq_pending_open",
            open(pending, limits.max_pending_requests),
        ),
        (
            "circuit_breakers.default.rq_retry_open",
            open(retries, limits.max_retries),
        ),
        ("circuit_breakers.high.cx_open", 0),
        ("circuit_breakers.high.cx_pool_open", 0),
        ("circuit_breakers.high.rq_open", 0),
        ("circuit_breakers.high.rq_pending_open", 0),
        ("circuit_breakers.high.rq_retry_open", 0),
        ("upstream_cx_active", s.upstream_cx_active),
        ("upstream_cx_connect_fail", s.upstream_cx_connect_fail),
        ("upstream_cx_destroy_local", s.upstream_cx_destroy_local),
        ("upstream_cx_overflow", s.upstream_cx_overflow),
        ("upstream_cx_total", s.upstream_cx_total),
        ("upstream_rq_active", s.upstream_rq_active),
        ("upstream_rq_completed", s.upstream_rq_completed),
        ("upstream_rq_pending_active", s.upstream_rq_pending_active),
        ("upstream_rq_pending_failure_eject", 0),
        (
            "upstream_rq_pending_overflow",
            s.upstream_rq_pending_overflow,
        ),
        ("upstream_rq_pending_total", s.upstream_rq_pending_total),
        ("upstream_rq_per_try_timeout", s.upstream_rq_per_try_timeout),
        ("upstream_rq_retry", s.upstream_rq_retry),
        (
            "upstream_rq_retry_backoff_exponential",
            s.upstream_rq_retry_backoff_exponential,
        ),
        (
            "upstream_rq_retry_limit_exceeded",
            s.upstream_rq_retry_limit_exceeded,
        ),
        ("upstream_rq_retry_overflow", s.upstream_rq_retry_overflow),
        ("upstream_rq_retry_success", s.upstream_rq_retry_success),
        ("upstream_rq_timeout", s.upstream_rq_timeout),
        ("upstream_rq_total", s.upstream_rq_total),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_string(), v))
    .collect();
    let mut classes = std::collections::BTreeMap::new();
    for (code, n) in &s.upstream_rq_by_status {
        v.push((format!("upstream_rq_{code}"), *n));
        *classes.entry(code / 100).or_insert(0) += n;
    }
    for (class, n) in classes {
        v.push((format!("upstream_rq_{class}xx"), n));
    }
    v
}

fn outlier_stats(o: &OutlierStats) -> [(&'static str, u64); 8] {
    [
        ("outlier_detection.ejections_active", o.ejections_active),
        (
            "outlier_detection.ejections_detected_consecutive_5xx",
            o.ejections_detected_consecutive_5xx,
        ),
        (
            "outlier_detection.ejections_detected_consecutive_gateway_failure",
            o.ejections_detected_consecutive_gateway_failure,
        ),
        (
            "outlier_detection.ejections_enforced_consecutive_5xx",
            o.ejections_enforced_consecutive_5xx,
        ),
        (
            "outlier_detection.ejections_enforced_consecutive_gateway_failure",
            o.ejections_enforced_consecutive_gateway_failure,
        ),
        (
            "outlier_detection.ejections_enforced_consecutive_local_origin_failure",
            o.ejections_enforced_consecutive_local_origin_failure,
        ),
        (
            "outlier_detection.ejections_enforced_total",
            o.ejections_enforced_total,
        ),
        ("outlier_detection.ejections_overflow", o.ejections_overflow),
    ]
}
