//! The report of a run: what the clients saw, what each service's proxies
//! saw, and how traffic split across versions; as text for people and JSON
//! for machines. Both are functions of the telemetry alone, so the same run
//! prints the same bytes.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::k8s::Cluster;
use crate::sim::SimDuration;

use super::latency::{Bucket, Latency, Summary, draw};
use super::recorder::{Reporter, Telemetry};

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub scenario: String,
    pub seed: u64,
    pub profile: String,
    /// Simulated seconds of traffic.
    pub duration_s: f64,
    /// Simulated seconds from applying the manifests to every pod ready.
    pub setup_s: f64,
    pub cluster: ClusterSummary,
    pub overhead: OverheadReport,
    pub traffic: Vec<TrafficReport>,
    pub services: Vec<ServiceReport>,
    pub versions: Vec<VersionReport>,
    /// What ztunnels carried (ambient mode), per service.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub connections: Vec<ConnectionReport>,
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ClusterSummary {
    pub nodes: usize,
    pub namespaces: usize,
    pub pods: usize,
    pub ready: usize,
    pub with_sidecar: usize,
}

/// What the mesh itself cost: its Envoys' CPU (average over the traffic)
/// and memory, ztunnel's and istiod's memory, from the cost model.
#[derive(Clone, Debug, Default, Serialize)]
pub struct OverheadReport {
    pub proxies: usize,
    pub proxy_vcpu: f64,
    pub proxy_memory_mib: f64,
    pub ztunnel_vcpu: f64,
    pub ztunnel_memory_mib: f64,
    pub istiod_memory_mib: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct TrafficReport {
    pub name: String,
    pub from: String,
    pub url: String,
    pub pattern: String,
    pub sent: u64,
    pub answered: u64,
    pub rps: f64,
    /// Status codes, and failures below HTTP (`connection refused`…).
    pub outcomes: BTreeMap<String, u64>,
    pub latency_ms: Summary,
    pub histogram: Vec<Bucket>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ServiceReport {
    pub service: String,
    /// `destination` when the service's pods have sidecars, else
    /// `waypoint` when a waypoint serves it, else `source`.
    pub reporter: String,
    pub requests: u64,
    pub rps: f64,
    /// `200`, or `503 UH` when Envoy set response flags.
    pub outcomes: BTreeMap<String, u64>,
    pub latency_ms: Summary,
}

/// `istio_tcp_*` for one service, from its destination's ztunnel when
/// there is one, else from its clients'.
#[derive(Clone, Debug, Serialize)]
pub struct ConnectionReport {
    pub service: String,
    pub reporter: String,
    pub connections: u64,
    pub sent_bytes: u64,
    pub received_bytes: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct VersionReport {
    pub service: String,
    pub workload: String,
    pub version: String,
    pub requests: u64,
    pub share: f64,
}

/// What the report needs besides telemetry.
pub struct RunInfo<'a> {
    pub scenario: &'a str,
    pub seed: u64,
    pub profile: String,
    pub duration: SimDuration,
    pub setup: SimDuration,
    pub traffic: Vec<(String, String, String, String)>,
    pub notes: Vec<String>,
    pub overhead: OverheadReport,
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

impl Report {
    pub fn build(info: RunInfo<'_>, telemetry: &Telemetry, cluster: &Cluster) -> Report {
        let secs = info.duration.as_secs_f64().max(1e-9);
        let live: Vec<_> = cluster.live_pods().collect();
        let cluster_summary = ClusterSummary {
            nodes: cluster.nodes.len(),
            namespaces: cluster.namespaces.len(),
            pods: live.len(),
            ready: live.iter().filter(|p| p.ready).count(),
            with_sidecar: live.iter().filter(|p| p.sidecar).count(),
        };
        let traffic = info
            .traffic
            .iter()
            .zip(&telemetry.clients)
            .map(|((name, from, url, pattern), stats)| TrafficReport {
                name: name.clone(),
                from: from.clone(),
                url: url.clone(),
                pattern: pattern.clone(),
                sent: stats.sent,
                answered: stats.latency.count(),
                rps: round(stats.latency.count() as f64 / secs, 2),
                outcomes: stats.outcomes.clone(),
                latency_ms: stats.latency.summary(),
                histogram: stats.latency.buckets(),
            })
            .collect();

        // Per service: the most preferred reporter's edges
        // ([`Reporter::preference`]).
        let mut per_service: BTreeMap<String, (Reporter, BTreeMap<String, u64>, Latency)> =
            BTreeMap::new();
        let mut per_version: BTreeMap<(String, String), (String, u64)> = BTreeMap::new();
        for edge in telemetry.edges() {
            let fqdn = telemetry.label_name(edge.key.service).to_string();
            let entry = per_service
                .entry(fqdn.clone())
                .or_insert_with(|| (edge.key.reporter, BTreeMap::new(), Latency::default()));
            if edge.key.reporter.preference() > entry.0.preference() {
                *entry = (edge.key.reporter, BTreeMap::new(), Latency::default());
            }
            if edge.key.reporter != entry.0 {
                continue;
            }
            for (code, flags, n) in &edge.outcomes {
                let label = if flags.is_empty() {
                    code.to_string()
                } else {
                    format!("{code} {flags}")
                };
                *entry.1.entry(label).or_default() += n;
            }
            entry.2.merge(&edge.duration);
            if edge.key.reporter != Reporter::Source
                && let Some(w) = edge.key.destination
            {
                let w = cluster.workload(w);
                let version = w
                    .template
                    .metadata
                    .labels
                    .get("version")
                    .cloned()
                    .unwrap_or_default();
                let slot = per_version
                    .entry((fqdn, w.name.clone()))
                    .or_insert((version, 0));
                slot.1 += edge.requests();
            }
        }
        let services: Vec<ServiceReport> = per_service
            .into_iter()
            .map(|(service, (reporter, outcomes, latency))| {
                let requests = outcomes.values().sum();
                ServiceReport {
                    service,
                    reporter: reporter.label().to_string(),
                    requests,
                    rps: round(requests as f64 / secs, 2),
                    outcomes,
                    latency_ms: latency.summary(),
                }
            })
            .collect();
        let totals: BTreeMap<&str, u64> =
            per_version
                .iter()
                .fold(BTreeMap::new(), |mut m, ((svc, _), (_, n))| {
                    *m.entry(svc.as_str()).or_default() += n;
                    m
                });
        let versions = per_version
            .iter()
            .map(|((service, workload), (version, n))| VersionReport {
                service: service.clone(),
                workload: workload.clone(),
                version: version.clone(),
                requests: *n,
                share: round(
                    *n as f64 * 100.0 / totals[service.as_str()].max(1) as f64,
                    2,
                ),
            })
            .collect();
        let mut per_tcp: BTreeMap<String, (Reporter, super::recorder::TcpCounts)> = BTreeMap::new();
        for (key, counts) in telemetry.tcp() {
            let name = telemetry.label_name(key.service).to_string();
            let entry = per_tcp
                .entry(name)
                .or_insert((key.reporter, Default::default()));
            if key.reporter.preference() > entry.0.preference() {
                *entry = (key.reporter, Default::default());
            }
            if key.reporter == entry.0 {
                entry.1.connections += counts.connections;
                entry.1.sent_bytes += counts.sent_bytes;
                entry.1.received_bytes += counts.received_bytes;
            }
        }
        let connections = per_tcp
            .into_iter()
            .map(|(service, (reporter, c))| ConnectionReport {
                service,
                reporter: reporter.label().to_string(),
                connections: c.connections,
                sent_bytes: c.sent_bytes,
                received_bytes: c.received_bytes,
            })
            .collect();
        Report {
            scenario: info.scenario.to_string(),
            seed: info.seed,
            profile: info.profile,
            duration_s: info.duration.as_secs_f64(),
            setup_s: round(info.setup.as_secs_f64(), 3),
            cluster: cluster_summary,
            overhead: info.overhead,
            traffic,
            services,
            versions,
            connections,
            notes: info.notes,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("reports serialize") + "\n"
    }

    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let c = &self.cluster;
        let _ = writeln!(s, "meshsim run: {} (seed {})", self.scenario, self.seed);
        let _ = writeln!(
            s,
            "  {}s of traffic after {}s of setup · profile {} · {} · {}/{} pods ready, {} with sidecars",
            self.duration_s,
            self.setup_s,
            self.profile,
            plural(c.nodes, "node"),
            c.ready,
            c.pods,
            c.with_sidecar
        );
        let o = &self.overhead;
        let _ = writeln!(
            s,
            "  mesh overhead: {} · {} vCPU, {} MiB · ztunnel {} vCPU, {} MiB · istiod {} MiB",
            plural(o.proxies, "Envoy"),
            o.proxy_vcpu,
            o.proxy_memory_mib,
            o.ztunnel_vcpu,
            o.ztunnel_memory_mib,
            o.istiod_memory_mib
        );
        for t in &self.traffic {
            let _ = writeln!(
                s,
                "\ntraffic {:?}: {} → {} ({})",
                t.name, t.from, t.url, t.pattern
            );
            let _ = writeln!(
                s,
                "  requests  {} sent, {} answered ({}/s)",
                t.sent, t.answered, t.rps
            );
            let total: u64 = t.outcomes.values().sum::<u64>().max(1);
            let outcomes = t
                .outcomes
                .iter()
                .map(|(k, v)| format!("{k}: {v} ({:.2}%)", *v as f64 * 100.0 / total as f64))
                .collect::<Vec<_>>()
                .join("  ");
            let _ = writeln!(s, "  status    {outcomes}");
            let l = &t.latency_ms;
            let _ = writeln!(
                s,
                "  latency   p50 {} ms  p90 {} ms  p99 {} ms  p99.9 {} ms  max {} ms  (mean {} ms)",
                l.p50, l.p90, l.p99, l.p999, l.max, l.mean
            );
            if !t.histogram.is_empty() {
                let _ = writeln!(s, "  histogram");
                s.push_str(
                    &draw(&t.histogram, 40)
                        .lines()
                        .map(|l| format!("  {l}\n"))
                        .collect::<String>(),
                );
            }
        }
        if !self.services.is_empty() {
            let _ = writeln!(s, "\nservices, as their proxies report them");
            let mut rows = vec![vec![
                "SERVICE".to_string(),
                "REPORTER".into(),
                "REQUESTS".into(),
                "RPS".into(),
                "2XX".into(),
                "4XX".into(),
                "5XX".into(),
                "P50 MS".into(),
                "P90 MS".into(),
                "P99 MS".into(),
                "P99.9 MS".into(),
                "MAX MS".into(),
            ]];
            for svc in &self.services {
                let class = |c: char| -> u64 {
                    svc.outcomes
                        .iter()
                        .filter(|(k, _)| k.starts_with(c))
                        .map(|(_, v)| v)
                        .sum()
                };
                let l = &svc.latency_ms;
                rows.push(vec![
                    svc.service.clone(),
                    svc.reporter.clone(),
                    svc.requests.to_string(),
                    svc.rps.to_string(),
                    class('2').to_string(),
                    class('4').to_string(),
                    class('5').to_string(),
                    l.p50.to_string(),
                    l.p90.to_string(),
                    l.p99.to_string(),
                    l.p999.to_string(),
                    l.max.to_string(),
                ]);
            }
            s.push_str(&table(&rows, 2));
        }
        if !self.versions.is_empty() {
            let _ = writeln!(s, "\nrequests per version");
            let mut rows = vec![vec![
                "SERVICE".to_string(),
                "WORKLOAD".into(),
                "VERSION".into(),
                "REQUESTS".into(),
                "SHARE".into(),
            ]];
            for v in &self.versions {
                rows.push(vec![
                    v.service.clone(),
                    v.workload.clone(),
                    if v.version.is_empty() {
                        "-".into()
                    } else {
                        v.version.clone()
                    },
                    v.requests.to_string(),
                    format!("{:.2}%", v.share),
                ]);
            }
            s.push_str(&table(&rows, 3));
        }
        if !self.connections.is_empty() {
            let _ = writeln!(s, "\nconnections, as ztunnels report them (istio_tcp_*)");
            let mut rows = vec![vec![
                "SERVICE".to_string(),
                "REPORTER".into(),
                "CONNECTIONS".into(),
                "SENT BYTES".into(),
                "RECEIVED BYTES".into(),
            ]];
            for c in &self.connections {
                rows.push(vec![
                    c.service.clone(),
                    c.reporter.clone(),
                    c.connections.to_string(),
                    c.sent_bytes.to_string(),
                    c.received_bytes.to_string(),
                ]);
            }
            s.push_str(&table(&rows, 2));
        }
        if !self.notes.is_empty() {
            let _ = writeln!(s, "\nduring the run");
            for n in &self.notes {
                let _ = writeln!(s, "  {n}");
            }
        }
        s
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The first `left` columns left-aligned (names), the rest right-aligned
/// (numbers), two spaces apart.
fn table(rows: &[Vec<String>], left: usize) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |x| x.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        out.push_str("  ");
        for (c, cell) in r.iter().enumerate() {
            if c > 0 {
                out.push_str("  ");
            }
            if c < left {
                let _ = write!(out, "{cell:<w$}", w = widths[c]);
            } else {
                let _ = write!(out, "{cell:>w$}", w = widths[c]);
            }
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    }
    out
}
