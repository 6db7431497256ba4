//! What one proxy's Envoy holds beyond the routing the data path needs,
//! reconstructed the way istiod and the bootstrap write it, for
//! `istioctl proxy-config`: the pod's identity, its inbound ports with the
//! mTLS mode each enforces, and the fixed entries every sidecar carries.
//!
//! Sources (istio/istio 1.27.9):
//! - B: `tools/packaging/common/envoy_bootstrap.json`: the static clusters
//!   `prometheus_stats` (127.0.0.1:15000), `agent` (127.0.0.1:15020),
//!   `sds-grpc` (`./var/run/secrets/workload-spiffe-uds/socket`),
//!   `xds-grpc` (`./etc/istio/proxy/XDS`), and the static listeners
//!   0.0.0.0:15090 (`/stats/prometheus`) and 0.0.0.0:15021
//!   (`/healthz/ready`), each with a virtual host `backend`. The `zipkin`
//!   cluster exists only with `global.proxy.tracer`, which 1.27 leaves
//!   `none` (`manifests/charts/istio-control/istio-discovery/values.yaml`).
//! - L: `pilot/pkg/networking/core/listener_inbound.go`
//!   (`getFilterChainsByServicePort`: one inbound chain set per target
//!   port, the oldest Service winning; `buildInboundChainConfigs` sorts
//!   them by target port).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::networking::gateway::Protocol;
use crate::config::security::MtlsMode;
use crate::control::registry::port_protocol;
use crate::control::security::mtls_mode;
use crate::dataplane::xds::ProxyConfig;
use crate::k8s::{PodId, PodPhase};
use crate::world::World;

/// The ports of the sidecar's own listeners, which no outbound HTTP
/// listener may take (`pilot/pkg/model/context.go`
/// `conflictWithReservedListener`:
/// 15001 and 15006 virtual, 15021 and 15090 static).
pub const RESERVED_PORTS: [u16; 4] = [15001, 15006, 15021, 15090];

/// The pod whose Envoy is shown, and what istiod knows of it.
pub struct Proxy {
    pub pod: PodId,
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    /// A gateway (`router`) rather than a sidecar.
    pub gateway: bool,
    pub config: Arc<ProxyConfig>,
}

/// One port a Service exposes on this pod (istiod's `ServiceTarget`).
#[derive(Clone, Debug, PartialEq)]
pub struct InboundPort {
    pub service_port: u16,
    pub target_port: u16,
    pub protocol: Protocol,
    /// The mTLS mode the proxy enforces on the target port.
    pub mode: MtlsMode,
}

impl Proxy {
    /// The Envoy of `pod`, or `None` when the pod has none.
    pub fn of(world: &mut World, pod: PodId) -> Option<Proxy> {
        world.pods[pod.0 as usize].proxy.as_ref()?;
        let config = world.proxy_config(pod);
        let p = world.cluster.pod(pod);
        Some(Proxy {
            pod,
            namespace: p.namespace.clone(),
            labels: p.labels.clone(),
            gateway: world.is_gateway(pod),
            config,
        })
    }

    /// The cluster name of the inbound chains for a target port
    /// (`model.BuildInboundSubsetKey`).
    pub fn inbound_cluster(port: u16) -> String {
        format!("inbound|{port}||")
    }

    /// The mode of the catch-all inbound chains: the workload's, without a
    /// port-level override (`pilot/pkg/networking/plugin/authn`
    /// `Builder.ForPassthrough`, its first entry).
    pub fn passthrough_mode(&self, world: &World) -> MtlsMode {
        mtls_mode(&world.mesh.store, &self.namespace, &self.labels, 0)
    }

    /// The ports Services expose on this pod, one per target port (the
    /// oldest Service wins), sorted by target port. Gateways have none:
    /// istiod builds no inbound listeners for them.
    pub fn inbound_ports(&self, world: &World) -> Vec<InboundPort> {
        if self.gateway {
            return Vec::new();
        }
        let pod = world.cluster.pod(self.pod);
        let mut by_target: BTreeMap<u16, InboundPort> = BTreeMap::new();
        for svc in world.cluster.services.iter().filter(|s| !s.deleted) {
            let selects = svc.namespace == pod.namespace
                && svc.selector.as_ref().is_some_and(|sel| {
                    !sel.is_empty() && sel.iter().all(|(k, v)| pod.labels.get(k) == Some(v))
                });
            if !selects {
                continue;
            }
            for sp in &svc.ports {
                let Some(target) = pod.resolve_port(&sp.target_port) else {
                    continue;
                };
                let protocol = port_protocol(&sp.name, sp.app_protocol.as_deref());
                if protocol == Protocol::Udp || sp.protocol.eq_ignore_ascii_case("udp") {
                    continue;
                }
                by_target.entry(target).or_insert_with(|| InboundPort {
                    service_port: sp.port,
                    target_port: target,
                    protocol,
                    mode: mtls_mode(&world.mesh.store, &pod.namespace, &pod.labels, target),
                });
            }
        }
        by_target.into_values().collect()
    }
}

/// A gateway server that terminates HTTPS: its own route configuration
/// (`pilot/pkg/model/gateway.go` `gatewayRDSRouteName`:
/// `https.PORT.PORT_NAME.GATEWAY.NAMESPACE`) and its SNI names
/// (`GetSNIHostsForServer`: `ns/` dropped, sorted, unique).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpsServer {
    pub route_name: String,
    pub server_port: u16,
    pub sni_hosts: Vec<String>,
}

impl Proxy {
    /// The HTTPS servers of this gateway's Gateways, by the pod port they
    /// listen on (a server on 443 listens on the Service's target port).
    pub fn https_servers(&self, world: &World) -> BTreeMap<u16, Vec<HttpsServer>> {
        use crate::config::Body;
        use crate::config::networking::gateway::ServerTlsMode;
        let ports = world.gateway_ports(self.pod);
        let mut out: BTreeMap<u16, Vec<HttpsServer>> = BTreeMap::new();
        for key in self.config.identity.gateways.iter().flatten() {
            let Some((ns, name)) = key.split_once('/') else {
                continue;
            };
            let Some(Body::Gateway(gw)) =
                world.mesh.store.get("Gateway", ns, name).map(|o| &o.body)
            else {
                continue;
            };
            for server in &gw.servers {
                let port = server.port();
                let passthrough = server.tls.as_ref().is_none_or(|t| {
                    matches!(
                        t.mode,
                        ServerTlsMode::Passthrough | ServerTlsMode::AutoPassthrough
                    )
                });
                if port.protocol() != Protocol::Https || passthrough {
                    continue;
                }
                let number = u16::try_from(port.number()).unwrap_or(0);
                let target = ports
                    .iter()
                    .find(|(p, _)| *p == number)
                    .map_or(number, |(_, t)| *t);
                let sni_hosts: std::collections::BTreeSet<String> = server
                    .hosts
                    .iter()
                    .map(|h| h.split_once('/').map_or(h.as_str(), |(_, h)| h).to_string())
                    .collect();
                out.entry(target).or_default().push(HttpsServer {
                    route_name: format!("https.{number}.{}.{name}.{ns}", port.name()),
                    server_port: number,
                    sni_hosts: sni_hosts.into_iter().collect(),
                });
            }
        }
        out
    }
}

/// How a pod refuses `istioctl proxy-config`, in the words of istioctl's
/// port-forward to the pod's Envoy admin port 15000
/// (`pkg/kube/portforwarder.go`, `client.go` `portForwardRequest`).
pub enum Unreachable {
    /// No such pod: the port-forward's pod lookup fails.
    NotFound,
    /// The pod is not running yet (or any more).
    NotRunning(&'static str),
    /// The pod runs but nothing listens on 15000: no sidecar. The
    /// forwarded connection is reset, so the HTTP client reads EOF.
    NoProxy,
}

/// Finds a pod for istioctl's `[<type>/]<name>[.<namespace>]` argument
/// (`istioctl/pkg/util/handlers` `inferNsInfo`: the namespace follows the
/// last `.` after any `/`): a pod by name, or the first pod of a
/// Deployment (`deploy/`, `deployment/`), ready ones first.
pub fn resolve(
    world: &World,
    target: &str,
    default_ns: &str,
) -> Result<(String, String, Option<PodId>), String> {
    let (resource, ns) = split_namespace(target, default_ns);
    let (kind, name) = match resource.split_once('/') {
        Some((kind, name)) => (kind.to_ascii_lowercase(), name),
        None => ("pod".to_string(), resource),
    };
    match kind.as_str() {
        "pod" | "pods" | "po" => {
            let pod = world
                .cluster
                .live_pods()
                .find(|p| p.namespace == ns && p.name == name)
                .map(|p| p.id);
            Ok((name.to_string(), ns.to_string(), pod))
        }
        "deployment" | "deployments" | "deploy" | "deployment.apps" => {
            let pod = first_pod_of(world, ns, name).ok_or_else(|| {
                format!(
                    "failed retrieving: deployments.apps {name:?} not found in the {ns:?} namespace"
                )
            })?;
            let p = world.cluster.pod(pod);
            Ok((p.name.clone(), ns.to_string(), Some(pod)))
        }
        other => Err(format!(
            "failed retrieving: the server doesn't have a resource type {other:?} in the {ns:?} namespace"
        )),
    }
}

/// `inferNsInfo`.
fn split_namespace<'a>(target: &'a str, default_ns: &'a str) -> (&'a str, &'a str) {
    let after_slash = target.rfind('/').map_or(0, |i| i);
    match target[after_slash..].rfind('.') {
        Some(dot) => (
            &target[..after_slash + dot],
            &target[after_slash + dot + 1..],
        ),
        None => (target, default_ns),
    }
}

/// The pod `kubectl logs deploy/NAME` would pick: ready before not
/// ready, running before pending, then by name for a stable answer.
fn first_pod_of(world: &World, ns: &str, name: &str) -> Option<PodId> {
    let w = world.cluster.find_workload(ns, name)?;
    world
        .cluster
        .live_pods()
        .filter(|p| p.workload == w)
        .min_by_key(|p| (!p.ready, p.phase != PodPhase::Running, p.name.clone()))
        .map(|p| p.id)
}

/// Why the pod's Envoy cannot be reached, if it cannot.
pub fn reachability(world: &World, pod: Option<PodId>) -> Result<PodId, Unreachable> {
    let pod = pod.ok_or(Unreachable::NotFound)?;
    let p = world.cluster.pod(pod);
    match p.phase {
        // A terminating pod's containers still run: its phase stays Running.
        PodPhase::Running | PodPhase::Terminating => {}
        PodPhase::Pending => return Err(Unreachable::NotRunning("Pending")),
        PodPhase::Deleted => return Err(Unreachable::NotFound),
    }
    if world.pods[pod.0 as usize].proxy.is_none() {
        return Err(Unreachable::NoProxy);
    }
    Ok(pod)
}

/// The message of istioctl's failed request to Envoy's admin `path` on
/// pod `name`.`ns`. The local port of the forward is chosen by the OS; a
/// hash of the pod's name stands in for it, so output stays the same
/// from run to run.
pub fn unreachable_message(why: &Unreachable, name: &str, ns: &str, path: &str) -> String {
    let forward = "failure running port forward process";
    match why {
        Unreachable::NotFound => format!(
            "{forward}: {forward}: building port forwarded: failed retrieving: pods {name:?} not found in the {ns:?} namespace"
        ),
        Unreachable::NotRunning(phase) => format!(
            "{forward}: {forward}: building port forwarded: pod is not running. Status={phase}"
        ),
        Unreachable::NoProxy => {
            let port = local_port(name, ns);
            format!("{forward}: Get \"http://localhost:{port}/{path}\": EOF")
        }
    }
}

/// A port in Linux's ephemeral range, fixed per pod.
fn local_port(name: &str, ns: &str) -> u16 {
    let hash = format!("{ns}/{name}")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    32768 + (hash % 28232) as u16
}

/// How a Go `%s` of a value that contains "Cluster" reads in istioctl's
/// DESTINATION column: the name alone for Istio's fixed clusters
/// (`PassthroughCluster`, `InboundPassthroughCluster`), `Cluster: NAME`
/// otherwise (`configdump/listener.go` `getFilterType`,
/// `getMatchAllCluster`).
pub fn describe_cluster(name: &str) -> String {
    if name.contains("Cluster") {
        name.to_string()
    } else {
        format!("Cluster: {name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("productpage-v1-abc", "default", ("productpage-v1-abc", "default"))]
    #[test_case("productpage-v1-abc.bookinfo", "default", ("productpage-v1-abc", "bookinfo"))]
    #[test_case("deploy/reviews-v1.bookinfo", "default", ("deploy/reviews-v1", "bookinfo"))]
    #[test_case("deployment.apps/x", "ns", ("deployment.apps/x", "ns"); "a dot before the slash is the type's")]
    fn namespaces_follow_the_last_dot(target: &str, default: &str, want: (&str, &str)) {
        assert_eq!(split_namespace(target, default), want);
    }

    #[test]
    fn fixed_clusters_keep_their_names() {
        assert_eq!(describe_cluster("PassthroughCluster"), "PassthroughCluster");
        assert_eq!(
            describe_cluster("inbound|9080||"),
            "Cluster: inbound|9080||"
        );
    }

    #[test]
    fn the_forwarded_port_is_ephemeral_and_stable() {
        let p = local_port("curl-1", "default");
        assert!((32768..61000).contains(&p));
        assert_eq!(p, local_port("curl-1", "default"));
    }
}
