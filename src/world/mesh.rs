//! istiod's view inside the world: the configuration store, the service
//! registry built from it and the cluster, and the configuration each
//! proxy gets, rebuilt only when something it depends on changed.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::apps::model::Behavior;
use crate::config::networking::gateway::Protocol;
use crate::control::destination_rules::DestinationRules;
use crate::control::registry::{Origin, Registry};
use crate::control::routing::ROOT_NAMESPACE;
use crate::control::routing::{self, Inputs};
use crate::control::store::ConfigStore;
use crate::dataplane::Upstream;
use crate::dataplane::xds::{Cluster, Listener, OutboundPolicy, ProxyConfig, ProxyIdentity};
use crate::k8s::{Endpoint, PodId, PodPhase};
use crate::sim::SimTime;

use super::World;

pub struct Mesh {
    /// The configuration istiod last pushed: what every proxy runs with.
    pub store: ConfigStore,
    /// The configuration as applied to the cluster (the API's view),
    /// pushed to `store` a debounce after it changes, while istiod serves.
    pub desired: ConfigStore,
    /// When the scheduled push happens.
    pub push_at: Option<SimTime>,
    /// A change waits for istiod to come back.
    pub push_waiting: bool,
    pub registry: Registry,
    /// istiod's DestinationRule indexes, per registry build.
    pub destination_rules: DestinationRules,
    /// (store revision, services epoch) the registry was built from.
    built_from: Option<(u64, u64)>,
    /// Bumps whenever proxy configuration may have changed.
    pub revision: u64,
    configs: BTreeMap<ProxyIdentity, Arc<ProxyConfig>>,
    pub outbound: OutboundPolicy,
    /// Bumps whenever any Service's endpoints change.
    pub endpoints_epoch: u64,
    /// For each Kubernetes Service and port, the sidecar listener its
    /// traffic enters (`None`: proxied at L4), per registry build.
    pub listeners: Vec<Vec<Option<Listener>>>,
    /// Each Kubernetes Service's entry in the registry, per registry build.
    pub registry_index: Vec<Option<usize>>,
    /// What istiod can fetch (JWKS URIs).
    pub web: crate::web::Web,
    /// `meshConfig.accessLogFile` (empty: no access log unless a Telemetry
    /// asks), from the `istio` ConfigMap in the root namespace.
    pub access_log_file: String,
    /// `defaultConfig.proxyMetadata.SECRET_TTL`, in seconds.
    pub secret_ttl: Option<u64>,
}

/// A duration in a ProxyConfig's `proxyMetadata` (`SECRET_TTL: 30m`), in
/// seconds, from the YAML of a `proxy.istio.io/config` annotation.
pub fn proxy_metadata(proxy_config: &str, key: &str) -> Option<u64> {
    let (docs, _) = crate::yaml::parse_documents(proxy_config);
    let root = docs.first()?.root.to_json();
    let text = root["proxyMetadata"][key].as_str()?;
    crate::sim::SimDuration::parse(text)
        .ok()
        .map(|d| d.as_nanos() / 1_000_000_000)
}

/// Whether a ConfigMap is istiod's mesh config (`istio` in the root
/// namespace, `mesh` key: a MeshConfig in YAML).
pub fn is_mesh_config(namespace: &str, name: &str) -> bool {
    namespace == ROOT_NAMESPACE && name == "istio"
}

impl Default for Mesh {
    fn default() -> Self {
        Self::new()
    }
}

impl Mesh {
    pub fn with_outbound(outbound: OutboundPolicy, web: crate::web::Web) -> Self {
        Mesh {
            outbound,
            web,
            ..Self::new()
        }
    }

    pub fn new() -> Self {
        Mesh {
            store: ConfigStore::default(),
            desired: ConfigStore::default(),
            push_at: None,
            push_waiting: false,
            registry: Registry::default(),
            destination_rules: DestinationRules::build(&ConfigStore::default(), ROOT_NAMESPACE),
            built_from: None,
            revision: 0,
            configs: BTreeMap::new(),
            outbound: OutboundPolicy::AllowAny,
            endpoints_epoch: 0,
            listeners: Vec::new(),
            registry_index: Vec::new(),
            web: crate::web::Web::default(),
            access_log_file: String::new(),
            secret_ttl: None,
        }
    }

    /// Reads the MeshConfig YAML of the `istio` ConfigMap (empty: the
    /// defaults). Of its fields, meshsim acts on `accessLogFile` and
    /// `defaultConfig.proxyMetadata.SECRET_TTL`.
    pub fn read_mesh_config(&mut self, yaml: &str) -> Result<(), String> {
        let (docs, syntax) = crate::yaml::parse_documents(yaml);
        if let Some(e) = syntax {
            return Err(format!("line {}: {e}", e.loc.line));
        }
        let root = docs.first().map(|d| d.root.to_json()).unwrap_or_default();
        let file = match &root["accessLogFile"] {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => s.clone(),
            other => return Err(format!("accessLogFile: expected a string, got {other}")),
        };
        let ttl = match &root["defaultConfig"]["proxyMetadata"]["SECRET_TTL"] {
            serde_json::Value::Null => None,
            serde_json::Value::String(t) => Some(
                crate::sim::SimDuration::parse(t)
                    .map_err(|e| format!("defaultConfig.proxyMetadata.SECRET_TTL: {e}"))?
                    .as_nanos()
                    / 1_000_000_000,
            ),
            other => {
                return Err(format!(
                    "defaultConfig.proxyMetadata.SECRET_TTL: expected a duration string, got {other}"
                ));
            }
        };
        self.access_log_file = file;
        self.secret_ttl = ttl;
        Ok(())
    }
}

impl World {
    /// The cluster's configuration changed: istiod pushes it after its
    /// debounce (`PILOT_DEBOUNCE_AFTER`, 100 ms, plus the push: the
    /// `configPush` cost), or, while no istiod replica serves, once one
    /// does. Until then proxies keep the configuration they have.
    pub(super) fn config_changed(&mut self) {
        if self.mesh.push_at.is_some() {
            return;
        }
        if self.istiod_serving() {
            let at = self.queue.now() + self.costs.config_push;
            self.mesh.push_at = Some(at);
            self.queue.push_at(at, super::Event::Push);
        } else {
            self.mesh.push_waiting = true;
        }
    }

    /// istiod pushes what the cluster holds now — if a replica still
    /// serves; else the change waits for one.
    pub(super) fn on_push(&mut self) {
        self.mesh.push_at = None;
        if !self.istiod_serving() {
            self.mesh.push_waiting = true;
            return;
        }
        self.mesh.push_waiting = false;
        self.mesh.store = self.mesh.desired.clone();
    }

    /// An istiod replica became ready: proxies (re)connect and get the
    /// whole configuration at once, changes made while none served
    /// included.
    pub(super) fn istiod_back(&mut self) {
        if self.mesh.push_waiting {
            self.on_push();
        }
    }

    /// Runs the world until a scheduled push has gone out (the time a
    /// `kubectl apply` takes to reach the proxies, on a clock that moves
    /// only when something waits).
    pub fn settle_push(&mut self) {
        while let Some(at) = self.mesh.push_at {
            match self.queue.peek_time() {
                Some(t) if t <= at => self.step(),
                _ => break,
            }
        }
    }

    /// Rebuilds the registry when Services or configuration changed.
    pub(super) fn refresh_mesh(&mut self) {
        let key = (self.mesh.store.revision(), self.services_epoch);
        if self.mesh.built_from == Some(key) {
            return;
        }
        self.mesh.registry = Registry::build(&self.cluster, self.mesh.store.iter());
        self.mesh.destination_rules = DestinationRules::build(&self.mesh.store, ROOT_NAMESPACE);
        self.mesh.configs.clear();
        self.mesh.registry_index = self
            .cluster
            .services
            .iter()
            .map(|svc| self.mesh.registry.find(&svc.fqdn()))
            .collect();
        self.mesh.listeners = self
            .cluster
            .services
            .iter()
            .map(|svc| {
                let reg = self
                    .mesh
                    .registry
                    .find(&svc.fqdn())
                    .map(|i| self.mesh.registry.get(i));
                svc.ports
                    .iter()
                    .map(|p| {
                        let protocol = reg
                            .and_then(|r| r.port(p.port))
                            .map_or(Protocol::Unsupported, |rp| rp.protocol);
                        if protocol.is_http() {
                            Some(Listener::Port(p.port))
                        } else if protocol == Protocol::Unsupported {
                            Some(Listener::Sniffed(svc.fqdn(), p.port))
                        } else {
                            None
                        }
                    })
                    .collect()
            })
            .collect();
        self.mesh.built_from = Some(key);
        self.mesh.revision += 1;
    }

    /// Who the proxy of `pod` is, for istiod.
    pub fn proxy_identity(&self, pod: PodId) -> ProxyIdentity {
        let p = self.cluster.pod(pod);
        let gateways = matches!(self.pods[pod.0 as usize].model.behavior, Behavior::Gateway)
            .then(|| routing::gateways_selecting(&self.mesh.store, &p.labels));
        ProxyIdentity {
            namespace: p.namespace.clone(),
            labels: p.labels.clone(),
            gateways,
        }
    }

    /// The configuration of the proxy in `pod` (its sidecar, or the gateway
    /// it is), as of the current mesh revision.
    pub fn proxy_config(&mut self, pod: PodId) -> Arc<ProxyConfig> {
        self.refresh_mesh();
        let rev = self.mesh.revision;
        if let Some(cfg) = self.pods[pod.0 as usize]
            .proxy
            .as_ref()
            .and_then(|p| p.config(rev))
        {
            return cfg;
        }
        let identity = self.proxy_identity(pod);
        let cfg = match self.mesh.configs.get(&identity) {
            Some(c) => Arc::clone(c),
            None => {
                let inputs = Inputs {
                    registry: &self.mesh.registry,
                    store: &self.mesh.store,
                    destination_rules: &self.mesh.destination_rules,
                    outbound: self.mesh.outbound,
                };
                let built = Arc::new(if identity.gateways.is_some() {
                    let ports = self.gateway_ports(pod);
                    routing::gateway_config(&inputs, identity.clone(), &ports)
                } else {
                    routing::sidecar_config(&inputs, identity.clone())
                });
                self.mesh.configs.insert(identity, Arc::clone(&built));
                built
            }
        };
        if let Some(proxy) = self.pods[pod.0 as usize].proxy.as_mut() {
            proxy.set_config(rev, Arc::clone(&cfg));
        }
        cfg
    }

    /// (port, targetPort) of the Services that select a gateway pod, so a
    /// Gateway server on 80 serves the pod's 8080.
    pub fn gateway_ports(&self, pod: PodId) -> Vec<(u16, u16)> {
        let p = self.cluster.pod(pod);
        self.cluster
            .services
            .iter()
            .filter(|s| !s.deleted && s.namespace == p.namespace)
            .filter(|s| {
                s.selector.as_ref().is_some_and(|sel| {
                    !sel.is_empty() && sel.iter().all(|(k, v)| p.labels.get(k) == Some(v))
                })
            })
            .flat_map(|s| {
                s.ports
                    .iter()
                    .filter_map(|sp| p.resolve_port(&sp.target_port).map(|t| (sp.port, t)))
            })
            .collect()
    }

    /// The upstreams of a cluster right now: ready pods of its service that
    /// carry the subset's labels, or a ServiceEntry's endpoints.
    pub fn upstreams(&self, cluster: &Cluster) -> Vec<Upstream> {
        let svc = self.mesh.registry.get(cluster.service);
        let subset_ok = |labels: &BTreeMap<String, String>| {
            cluster
                .subset_labels
                .iter()
                .all(|(k, v)| labels.get(k) == Some(v))
        };
        match &svc.origin {
            Origin::Kubernetes(id) => {
                let s = self.cluster.service(*id);
                let Some(port_idx) = s.port_index(cluster.port) else {
                    return Vec::new();
                };
                s.endpoints[port_idx]
                    .iter()
                    .filter(|ep| subset_ok(&self.cluster.pod(ep.pod).labels))
                    .map(|ep| Upstream::Pod(*ep))
                    .collect()
            }
            Origin::ServiceEntry {
                endpoints,
                selector,
                ..
            } => {
                let port = svc.port(cluster.port);
                if let Some(sel) = selector {
                    return self
                        .cluster
                        .live_pods()
                        .filter(|p| {
                            p.namespace == svc.namespace && p.ready && p.phase == PodPhase::Running
                        })
                        .filter(|p| {
                            sel.iter().all(|(k, v)| p.labels.get(k) == Some(v))
                                && subset_ok(&p.labels)
                        })
                        .map(|p| {
                            Upstream::Pod(Endpoint {
                                pod: p.id,
                                port: cluster.port,
                            })
                        })
                        .collect();
                }
                if endpoints.is_empty() {
                    // DNS resolution without endpoints: the host itself.
                    return vec![Upstream::External {
                        host: svc.hostname.clone(),
                        port: cluster.port,
                    }];
                }
                endpoints
                    .iter()
                    .filter(|e| subset_ok(&e.labels))
                    .map(|e| {
                        let p = port
                            .and_then(|p| e.ports.get(&p.name).copied())
                            .unwrap_or(cluster.port);
                        match self.pod_with_ip(&e.address) {
                            Some(pod) => Upstream::Pod(Endpoint { pod, port: p }),
                            None => Upstream::External {
                                host: e.address.clone(),
                                port: p,
                            },
                        }
                    })
                    .collect()
            }
        }
    }

    fn pod_with_ip(&self, address: &str) -> Option<PodId> {
        let ip: std::net::Ipv4Addr = address.parse().ok()?;
        self.cluster.live_pods().find(|p| p.ip == ip).map(|p| p.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_ttl_comes_from_proxy_metadata() {
        assert_eq!(
            proxy_metadata("proxyMetadata:\n  SECRET_TTL: 30m\n", "SECRET_TTL"),
            Some(1800)
        );
        assert_eq!(proxy_metadata("concurrency: 2\n", "SECRET_TTL"), None);
        let mut mesh = Mesh::new();
        mesh.read_mesh_config("defaultConfig:\n  proxyMetadata:\n    SECRET_TTL: 1h\n")
            .unwrap();
        assert_eq!(mesh.secret_ttl, Some(3600));
        assert!(
            mesh.read_mesh_config("defaultConfig:\n  proxyMetadata:\n    SECRET_TTL: soon\n")
                .unwrap_err()
                .starts_with("defaultConfig.proxyMetadata.SECRET_TTL: ")
        );
    }
}
