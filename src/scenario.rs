//! Scenario files: a cluster, a mesh, the manifests to apply, the traffic to
//! send, a timeline of things that happen, for how long, with which seed.
//! The format is documented in `docs/scenarios.md`; scenarios are loaded
//! with the same located deserializer as manifests, so a typo in a scenario
//! is reported with its line too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::diag::{Diagnostic, Severity};
use crate::config::sim_annotations::parse_http_url;
use crate::config::validate::Validator;
use crate::control::Profile;
use crate::dataplane::Costs;
use crate::sim::{Dist, SimDuration};
use crate::yaml::{from_node, parse_documents};

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ScenarioDoc {
    pub name: String,
    pub description: String,
    pub seed: Option<u64>,
    pub duration: String,
    pub cluster: ClusterDoc,
    pub mesh: MeshDoc,
    pub manifests: Vec<ManifestDoc>,
    pub traffic: Vec<TrafficDoc>,
    pub timeline: Vec<TimelineDoc>,
    /// URL → file (relative to the scenario) served at that URL, e.g. a
    /// RequestAuthentication's `jwksUri`.
    pub urls: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ClusterDoc {
    pub name: Option<String>,
    pub nodes: Option<u32>,
    pub zones: Vec<String>,
    pub region: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct MeshDoc {
    pub profile: Option<String>,
    /// `meshConfig.outboundTrafficPolicy.mode`: ALLOW_ANY or REGISTRY_ONLY.
    pub outbound_traffic_policy: Option<String>,
    pub costs: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ManifestDoc {
    pub path: String,
    pub namespace: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct TrafficDoc {
    pub name: String,
    pub from: String,
    pub url: String,
    pub method: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub rate: Option<f64>,
    pub arrival: Option<String>,
    pub clients: Option<u32>,
    pub think_time: Option<String>,
    pub start: Option<String>,
    pub stop: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct TimelineDoc {
    pub at: String,
    pub kill_pod: Option<String>,
    pub delete_pod: Option<String>,
    pub scale: Option<ScaleDoc>,
    pub apply: Option<ManifestDoc>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ScaleDoc {
    pub deployment: String,
    pub replicas: u32,
}

/// A validated scenario, ready to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub file: PathBuf,
    pub seed: u64,
    pub duration: SimDuration,
    pub cluster_name: String,
    pub nodes: Vec<crate::k8s::NodeSpec>,
    pub profile: Profile,
    pub outbound: crate::dataplane::xds::OutboundPolicy,
    pub costs: Costs,
    pub manifests: Vec<Manifest>,
    pub traffic: Vec<Traffic>,
    pub timeline: Vec<Action>,
    /// What URLs serve (no internet).
    pub web: crate::web::Web,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    pub source: ManifestSource,
    pub namespace: Option<String>,
}

/// A source applied as written, with no namespace override.
impl From<ManifestSource> for Manifest {
    fn from(source: ManifestSource) -> Manifest {
        Manifest {
            source,
            namespace: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ManifestSource {
    File(PathBuf),
    /// Manifest text held in memory (built into meshsim for `meshsim
    /// bench`, or written by a test), with the name diagnostics show for it.
    Inline {
        name: String,
        text: String,
    },
}

impl Manifest {
    pub fn load(&self) -> crate::config::Loaded {
        let ns = self.namespace.as_deref();
        match &self.source {
            ManifestSource::File(path) => crate::config::load_paths(std::slice::from_ref(path), ns),
            ManifestSource::Inline { name, text } => crate::config::load_str(name, text, ns),
        }
    }

    pub fn describe(&self) -> String {
        match &self.source {
            ManifestSource::File(path) => path.display().to_string(),
            ManifestSource::Inline { name, .. } => name.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// `namespace/workload`: requests leave from that workload's pods
    /// (through their sidecars, if any).
    Workload { namespace: String, name: String },
    /// A client outside the cluster.
    External,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Pattern {
    /// Open loop: requests arrive at `rate` per second whatever happens to
    /// earlier ones (Poisson or evenly spaced).
    Open { rate: f64, poisson: bool },
    /// Closed loop: `clients` users, each sending its next request a think
    /// time after the previous answer.
    Closed { clients: u32, think: Dist },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Traffic {
    pub name: String,
    pub source: Source,
    pub url: String,
    pub host: String,
    pub port: u16,
    pub path: String,
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub pattern: Pattern,
    pub start: SimDuration,
    pub stop: Option<SimDuration>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Action {
    pub at: SimDuration,
    pub what: ActionKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ActionKind {
    /// The pod's containers crash; the kubelet restarts them.
    KillPod {
        namespace: String,
        name: String,
    },
    /// The pod is deleted; its owner replaces it.
    DeletePod {
        namespace: String,
        name: String,
    },
    Scale {
        namespace: String,
        name: String,
        replicas: u32,
    },
    Apply(Manifest),
}

/// Reads and validates a scenario. Every problem is a located diagnostic.
pub fn load(path: &Path) -> Result<Scenario, Vec<Diagnostic>> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![diag(
            &file,
            Default::default(),
            String::new(),
            format!("cannot read scenario: {e}"),
        )]
    })?;
    parse(path, &text)
}

fn diag(file: &str, loc: crate::yaml::Loc, path: String, message: String) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        file: file.to_string(),
        loc,
        document: None,
        object: None,
        path,
        message,
    }
}

/// Parses scenario text; `path` locates relative manifest paths.
pub fn parse(path: &Path, text: &str) -> Result<Scenario, Vec<Diagnostic>> {
    let file = path.display().to_string();
    let (docs, syntax) = parse_documents(text);
    if let Some(e) = syntax {
        return Err(vec![diag(
            &file,
            e.loc,
            String::new(),
            format!("invalid YAML: {}", e.message),
        )]);
    }
    let Some(doc) = docs.into_iter().find(|d| !d.root.is_null()) else {
        return Err(vec![diag(
            &file,
            Default::default(),
            String::new(),
            "the scenario is empty".to_string(),
        )]);
    };
    let parsed: ScenarioDoc = from_node(&doc.root).map_err(|problems| {
        problems
            .into_iter()
            .map(|p| diag(&file, p.loc, p.path, p.message))
            .collect::<Vec<_>>()
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut v = Validator::new();
    let scenario = build(&parsed, path, base, &mut v);
    let errors: Vec<Diagnostic> = v
        .into_findings()
        .into_iter()
        .map(|f| diag(&file, doc.root.locate(&f.path), f.path_text(), f.message))
        .collect();
    if errors.is_empty() {
        Ok(scenario)
    } else {
        Err(errors)
    }
}

fn duration(text: &str, v: &mut Validator) -> SimDuration {
    SimDuration::parse(text).unwrap_or_else(|e| {
        v.error(e.to_string());
        SimDuration::ZERO
    })
}

fn dist(text: &str, v: &mut Validator) -> Dist {
    Dist::parse(text).unwrap_or_else(|e| {
        v.error(e.to_string());
        Dist::ZERO
    })
}

/// A memory quantity as Kubernetes writes it: bytes, or with `Ki`, `Mi`,
/// `Gi` (or `k`, `M`, `G`).
fn bytes(text: &str, v: &mut Validator) -> u64 {
    let units: [(&str, u64); 6] = [
        ("Ki", 1 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("k", 1_000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
    ];
    let (number, scale) = units
        .iter()
        .find_map(|(u, f)| text.strip_suffix(u).map(|n| (n, *f)))
        .unwrap_or((text, 1));
    match number.trim().parse::<f64>() {
        Ok(n) if n >= 0.0 && n * scale as f64 <= (1u64 << 40) as f64 => (n * scale as f64) as u64,
        _ => {
            v.error(format!(
                "expected a memory quantity from 0 to 1Ti, such as 24Mi, got {text:?}"
            ));
            0
        }
    }
}

/// A CPU quantity in millicores: `2m`, or cores (`0.1`).
fn millicores(text: &str, v: &mut Validator) -> u64 {
    let parsed = match text.strip_suffix('m') {
        Some(m) => m.trim().parse::<f64>().ok(),
        None => text.trim().parse::<f64>().ok().map(|c| c * 1000.0),
    };
    match parsed {
        Some(n) if (0.0..=1_000_000.0).contains(&n) => n as u64,
        _ => {
            v.error(format!(
                "expected a CPU quantity from 0 to 1000 cores, such as 2m, got {text:?}"
            ));
            0
        }
    }
}

fn ns_name(text: &str, what: &str, v: &mut Validator) -> (String, String) {
    match text.split_once('/') {
        Some((ns, name)) if !ns.is_empty() && !name.is_empty() => {
            (ns.to_string(), name.to_string())
        }
        _ => {
            v.error(format!("expected namespace/{what}, got {text:?}"));
            (String::new(), String::new())
        }
    }
}

fn build(doc: &ScenarioDoc, file: &Path, base: &Path, v: &mut Validator) -> Scenario {
    let mut s = Scenario {
        name: if doc.name.is_empty() {
            file.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        } else {
            doc.name.clone()
        },
        description: doc.description.clone(),
        file: file.to_path_buf(),
        seed: doc.seed.unwrap_or(1),
        duration: SimDuration::from_secs(60),
        cluster_name: doc
            .cluster
            .name
            .clone()
            .unwrap_or_else(|| "meshsim".to_string()),
        nodes: Vec::new(),
        profile: Profile::Default,
        outbound: crate::dataplane::xds::OutboundPolicy::AllowAny,
        costs: Costs::default(),
        manifests: Vec::new(),
        traffic: Vec::new(),
        timeline: Vec::new(),
        web: crate::web::Web::default(),
    };
    if doc.duration.is_empty() {
        v.required_field("duration");
    } else {
        v.field("duration", |v| s.duration = duration(&doc.duration, v));
    }
    v.field("cluster", |v| {
        let count = doc.cluster.nodes.unwrap_or(3);
        if count == 0 {
            v.field("nodes", |v| v.error("a cluster needs at least one node"));
        }
        let zones = if doc.cluster.zones.is_empty() {
            vec!["zone-a".to_string()]
        } else {
            doc.cluster.zones.clone()
        };
        let region = doc
            .cluster
            .region
            .clone()
            .unwrap_or_else(|| "region-1".to_string());
        s.nodes = (0..count)
            .map(|i| crate::k8s::NodeSpec {
                name: if i == 0 {
                    format!("{}-control-plane", s.cluster_name)
                } else if i == 1 {
                    format!("{}-worker", s.cluster_name)
                } else {
                    format!("{}-worker{}", s.cluster_name, i)
                },
                zone: zones[i as usize % zones.len()].clone(),
                region: region.clone(),
            })
            .collect();
    });
    v.field("mesh", |v| {
        if let Some(p) = &doc.mesh.profile {
            v.field("profile", |v| match p.parse() {
                Ok(p) => s.profile = p,
                Err(e) => v.error(e),
            });
        }
        if let Some(mode) = &doc.mesh.outbound_traffic_policy {
            v.field("outboundTrafficPolicy", |v| match mode.parse() {
                Ok(p) => s.outbound = p,
                Err(e) => v.error(e),
            });
        }
        v.field("costs", |v| {
            for (key, value) in &doc.mesh.costs {
                v.field(key, |v| {
                    let c = &mut s.costs;
                    match key.as_str() {
                        "sidecarLatency" => c.sidecar_latency = dist(value, v),
                        "sidecarStartup" => c.sidecar_startup = dist(value, v),
                        "sidecarCpu" => c.sidecar_cpu = duration(value, v),
                        "ztunnelLatency" => c.ztunnel_latency = dist(value, v),
                        "ztunnelCpu" => c.ztunnel_cpu = duration(value, v),
                        "netSameNode" => c.net_same_node = dist(value, v),
                        "netSameZone" => c.net_same_zone = dist(value, v),
                        "netCrossZone" => c.net_cross_zone = dist(value, v),
                        "externalLatency" => c.external_latency = dist(value, v),
                        "configPush" => c.config_push = duration(value, v),
                        "envoyMemory" => c.memory.envoy_base = bytes(value, v),
                        "envoyMemoryPerCluster" => c.memory.envoy_per_cluster = bytes(value, v),
                        "envoyMemoryPerEndpoint" => c.memory.envoy_per_endpoint = bytes(value, v),
                        "envoyMemoryPerRoute" => c.memory.envoy_per_route = bytes(value, v),
                        "envoyMemoryPerConnection" => {
                            c.memory.envoy_per_connection = bytes(value, v);
                        }
                        "ztunnelMemory" => c.memory.ztunnel_base = bytes(value, v),
                        "ztunnelMemoryPerWorkload" => {
                            c.memory.ztunnel_per_workload = bytes(value, v);
                        }
                        "istiodMemory" => c.memory.istiod_base = bytes(value, v),
                        "istiodMemoryPerProxy" => c.memory.istiod_per_proxy = bytes(value, v),
                        "istiodMemoryPerService" => c.memory.istiod_per_service = bytes(value, v),
                        "envoyIdleCpu" => c.memory.envoy_idle_millicores = millicores(value, v),
                        "ztunnelIdleCpu" => c.memory.ztunnel_idle_millicores = millicores(value, v),
                        "istiodIdleCpu" => c.memory.istiod_idle_millicores = millicores(value, v),
                        other => v.error(format!(
                            "unknown cost {other:?}; known: sidecarLatency, sidecarCpu, sidecarStartup, ztunnelLatency, ztunnelCpu, netSameNode, netSameZone, netCrossZone, externalLatency, configPush, envoyMemory, envoyMemoryPerCluster, envoyMemoryPerEndpoint, envoyMemoryPerRoute, envoyMemoryPerConnection, ztunnelMemory, ztunnelMemoryPerWorkload, istiodMemory, istiodMemoryPerProxy, istiodMemoryPerService, envoyIdleCpu, ztunnelIdleCpu, istiodIdleCpu"
                        )),
                    }
                });
            }
        });
    });
    v.each("manifests", &doc.manifests, |v, _, m| {
        if let Some(m) = manifest(m, base, v) {
            s.manifests.push(m);
        }
    });
    v.field("urls", |v| {
        for (url, file) in &doc.urls {
            match std::fs::read_to_string(base.join(file)) {
                Ok(body) => s.web.add(url, body),
                Err(e) => v.field(url, |v| v.error(format!("{file}: {e}"))),
            }
        }
    });
    v.each("traffic", &doc.traffic, |v, i, t| {
        if let Some(t) = traffic(t, i, v) {
            s.traffic.push(t);
        }
    });
    v.each("timeline", &doc.timeline, |v, _, a| {
        if let Some(a) = action(a, base, v) {
            s.timeline.push(a);
        }
    });
    s.timeline.sort_by_key(|a| a.at);
    s
}

fn manifest(m: &ManifestDoc, base: &Path, v: &mut Validator) -> Option<Manifest> {
    if m.path.is_empty() {
        v.required_field("path");
        return None;
    }
    let path = base.join(&m.path);
    if !path.exists() {
        v.field("path", |v| {
            v.error(format!(
                "the path {:?} does not exist",
                path.display().to_string()
            ))
        });
        return None;
    }
    Some(Manifest {
        source: ManifestSource::File(path),
        namespace: m.namespace.clone(),
    })
}

fn traffic(t: &TrafficDoc, index: usize, v: &mut Validator) -> Option<Traffic> {
    let name = if t.name.is_empty() {
        format!("traffic-{index}")
    } else {
        t.name.clone()
    };
    let source = match t.from.as_str() {
        "" => {
            v.required_field("from");
            return None;
        }
        "external" => Source::External,
        other => {
            let mut parts = (String::new(), String::new());
            v.field("from", |v| parts = ns_name(other, "workload", v));
            Source::Workload {
                namespace: parts.0,
                name: parts.1,
            }
        }
    };
    let (host, port, path) = match parse_http_url(&t.url) {
        Ok(parts) => parts,
        Err(e) => {
            v.field("url", |v| v.error(e));
            return None;
        }
    };
    let pattern = match (t.rate, t.clients) {
        (Some(_), Some(_)) => {
            v.error("set either rate (open loop) or clients (closed loop), not both");
            return None;
        }
        (Some(rate), None) => {
            if !(rate > 0.0 && rate.is_finite()) {
                v.field("rate", |v| {
                    v.error("rate must be a positive number of requests per second")
                });
            }
            let poisson = match t.arrival.as_deref() {
                None | Some("poisson") => true,
                Some("constant") => false,
                Some(other) => {
                    v.field("arrival", |v| {
                        v.unsupported(other, &["poisson", "constant"])
                    });
                    true
                }
            };
            Pattern::Open { rate, poisson }
        }
        (None, Some(clients)) => {
            if clients == 0 {
                v.field("clients", |v| v.error("clients must be at least 1"));
            }
            let think = v_field_dist(v, "thinkTime", t.think_time.as_deref().unwrap_or("0s"));
            Pattern::Closed { clients, think }
        }
        (None, None) => {
            v.error("set rate (requests per second, open loop) or clients (closed loop)");
            return None;
        }
    };
    let mut start = SimDuration::ZERO;
    if let Some(s) = &t.start {
        v.field("start", |v| start = duration(s, v));
    }
    let mut stop = None;
    if let Some(s) = &t.stop {
        v.field("stop", |v| stop = Some(duration(s, v)));
    }
    Some(Traffic {
        name,
        source,
        url: t.url.clone(),
        host,
        port,
        path,
        method: t.method.clone().unwrap_or_else(|| "GET".to_string()),
        headers: t
            .headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect(),
        pattern,
        start,
        stop,
    })
}

fn v_field_dist(v: &mut Validator, key: &str, text: &str) -> Dist {
    let mut d = Dist::ZERO;
    v.field(key, |v| d = dist(text, v));
    d
}

fn action(a: &TimelineDoc, base: &Path, v: &mut Validator) -> Option<Action> {
    let at = if a.at.is_empty() {
        v.required_field("at");
        SimDuration::ZERO
    } else {
        let mut at = SimDuration::ZERO;
        v.field("at", |v| at = duration(&a.at, v));
        at
    };
    let set = [
        a.kill_pod.is_some(),
        a.delete_pod.is_some(),
        a.scale.is_some(),
        a.apply.is_some(),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if set != 1 {
        v.error("each timeline entry needs exactly one action: killPod, deletePod, scale or apply");
        return None;
    }
    let what = if let Some(p) = &a.kill_pod {
        let (namespace, name) = ns_name(p, "pod", v);
        ActionKind::KillPod { namespace, name }
    } else if let Some(p) = &a.delete_pod {
        let (namespace, name) = ns_name(p, "pod", v);
        ActionKind::DeletePod { namespace, name }
    } else if let Some(s) = &a.scale {
        let mut out = None;
        v.field("scale", |v| {
            let (namespace, name) = ns_name(&s.deployment, "deployment", v);
            out = Some(ActionKind::Scale {
                namespace,
                name,
                replicas: s.replicas,
            });
        });
        out?
    } else {
        let mut out = None;
        v.field("apply", |v| {
            out = a.apply.as_ref().and_then(|m| manifest(m, base, v))
        });
        ActionKind::Apply(out?)
    };
    Some(Action { at, what })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        match parse(Path::new("s.yaml"), text) {
            Ok(_) => vec![],
            Err(d) => d.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn a_minimal_scenario() {
        let s = parse(
            Path::new("s.yaml"),
            "duration: 10s\ntraffic:\n- from: external\n  url: http://web.default:80/\n  rate: 5\n",
        )
        .unwrap();
        assert_eq!(s.duration, SimDuration::from_secs(10));
        assert_eq!(s.nodes.len(), 3);
        assert_eq!(
            s.traffic[0].pattern,
            Pattern::Open {
                rate: 5.0,
                poisson: true
            }
        );
        assert_eq!(s.traffic[0].host, "web.default");
    }

    #[test]
    fn problems_are_located() {
        let errs = errors(
            "duration: 10 seconds\nmesh:\n  profile: ambiant\ntraffic:\n- from: bookinfo\n  url: productpage:9080\n  rate: 5\ntimeline:\n- at: 5s\n",
        );
        assert_eq!(errs.len(), 5, "{errs:#?}");
        assert!(
            errs[0].starts_with("s.yaml:1:11: error: duration: time: unknown unit"),
            "{}",
            errs[0]
        );
        assert!(
            errs[1].starts_with("s.yaml:3:12: error: mesh.profile: unknown profile \"ambiant\"")
        );
        assert!(
            errs[2].starts_with("s.yaml:5:9: error: traffic[0].from: expected namespace/workload"),
            "{}",
            errs[2]
        );
        assert!(errs[3].contains("traffic[0].url: \"productpage:9080\" is not an http:// URL"));
        assert!(errs[4].contains("timeline[0]: each timeline entry needs exactly one action"));
    }

    #[test]
    fn the_cost_model_takes_kubernetes_quantities() {
        let s = parse(
            Path::new("s.yaml"),
            "duration: 1s\nmesh:\n  costs:\n    envoyMemory: 30Mi\n    envoyMemoryPerCluster: 16Ki\n    istiodIdleCpu: '0.1'\n    ztunnelIdleCpu: 3m\n",
        )
        .unwrap();
        let m = &s.costs.memory;
        assert_eq!(
            (
                m.envoy_base,
                m.envoy_per_cluster,
                m.istiod_idle_millicores,
                m.ztunnel_idle_millicores
            ),
            (30 << 20, 16 << 10, 100, 3)
        );
        let errs = errors("duration: 1s\nmesh:\n  costs:\n    envoyMemory: lots\n");
        assert_eq!(
            errs,
            vec![
                "s.yaml:4:18: error: mesh.costs.envoyMemory: expected a memory quantity from 0 to 1Ti, such as 24Mi, got \"lots\""
            ]
        );
    }

    #[test]
    fn unknown_fields_are_caught_by_the_deserializer() {
        let errs = errors("duration: 1s\ntrafic: []\n");
        assert_eq!(
            errs,
            vec!["s.yaml:2:1: error: trafic: unknown field \"trafic\" (did you mean \"traffic\"?)"]
        );
    }
}
