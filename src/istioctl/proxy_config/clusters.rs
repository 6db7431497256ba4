//! `istioctl proxy-config clusters`: every cluster the proxy's Envoy
//! holds. The data path builds only the clusters its routes name; istiod
//! pushes one per visible service port and DestinationRule subset, so the
//! list is made here from the same registry and DestinationRule index the
//! data path's clusters come from.
//!
//! Sources (istio/istio 1.27.9):
//! - C: `pilot/pkg/networking/core/cluster.go` (`buildClusters`: outbound
//!   clusters, then `BlackHoleCluster` and `PassthroughCluster`, then the
//!   inbound clusters and `InboundPassthroughCluster`; gateways get only
//!   the outbound ones and `BlackHoleCluster`; `convertResolution`: EDS,
//!   STRICT_DNS for DNS, LOGICAL_DNS for DNS_ROUND_ROBIN, ORIGINAL_DST for
//!   resolution NONE on a sidecar), `cluster_builder.go` (`buildCluster`
//!   skips UDP; an inbound cluster without a bind address is ORIGINAL_DST;
//!   the DestinationRule's metadata goes on the default cluster and every
//!   subset cluster; a subset with `simple: PASSTHROUGH` is ORIGINAL_DST).
//! - W: `istioctl/pkg/writer/envoy/configdump/cluster.go`: the columns,
//!   the sort (service FQDN, then subset, port, direction), the filters
//!   (`--fqdn`, `--direction`, `--subset` are substrings of the name,
//!   `--port` matches `|PORT|`), `describeManagement` (`name.namespace`
//!   of the DestinationRule).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::config::networking::destination_rule::{SimpleLb, TrafficPolicy};
use crate::config::networking::gateway::Protocol;
use crate::config::networking::service_entry::Resolution;
use crate::control::registry::{Origin, RegService};
use crate::world::World;

use super::envoy::Proxy;

/// Envoy's cluster discovery type, as `Cluster.GetType()` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Discovery {
    Eds,
    Static,
    OriginalDst,
    StrictDns,
    LogicalDns,
}

impl Discovery {
    pub fn as_str(self) -> &'static str {
        match self {
            Discovery::Eds => "EDS",
            Discovery::Static => "STATIC",
            Discovery::OriginalDst => "ORIGINAL_DST",
            Discovery::StrictDns => "STRICT_DNS",
            Discovery::LogicalDns => "LOGICAL_DNS",
        }
    }
}

/// Where a cluster's hosts come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Hosts {
    /// A registry service's port, narrowed to a subset's labels.
    Service {
        service: usize,
        port: u16,
        subset: Option<String>,
        labels: BTreeMap<String, String>,
    },
    /// Addresses written into the bootstrap (B).
    Fixed(Vec<Address>),
    /// None until traffic creates them (ORIGINAL_DST), or never
    /// (`BlackHoleCluster`).
    None,
}

/// A host address as Envoy's admin shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    Socket(String, u16),
    Pipe(&'static str),
}

/// One cluster of the proxy's Envoy.
#[derive(Clone, Debug, PartialEq)]
pub struct EnvoyCluster {
    pub name: String,
    pub discovery: Discovery,
    /// `ns/name` of the DestinationRule whose metadata it carries.
    pub destination_rule: Option<String>,
    pub hosts: Hosts,
}

/// `istioctl proxy-config clusters` filters.
#[derive(Default)]
pub struct Filter<'a> {
    pub fqdn: &'a str,
    pub port: u16,
    pub subset: &'a str,
    pub direction: &'a str,
}

impl Filter<'_> {
    /// W `ClusterFilter.Verify`.
    pub fn keeps(&self, name: &str) -> bool {
        (self.fqdn.is_empty() || name.contains(self.fqdn))
            && (self.direction.is_empty() || name.contains(self.direction))
            && (self.subset.is_empty() || name.contains(self.subset))
            && (self.port == 0 || name.contains(&format!("|{}|", self.port)))
    }
}

/// Every cluster of the proxy, in istioctl's order (W).
pub fn clusters(world: &World, proxy: &Proxy) -> Vec<EnvoyCluster> {
    let mut out = outbound(world, proxy);
    out.push(fixed("BlackHoleCluster", Discovery::Static, Hosts::None));
    if !proxy.gateway {
        out.push(fixed(
            "PassthroughCluster",
            Discovery::OriginalDst,
            Hosts::None,
        ));
        for port in proxy.inbound_ports(world) {
            let name = Proxy::inbound_cluster(port.target_port);
            out.push(fixed(&name, Discovery::OriginalDst, Hosts::None));
        }
        out.push(fixed(
            "InboundPassthroughCluster",
            Discovery::OriginalDst,
            Hosts::None,
        ));
    }
    out.extend(bootstrap());
    out.sort_by(|a, b| sort_key(&a.name).cmp(&sort_key(&b.name)));
    out
}

fn fixed(name: &str, discovery: Discovery, hosts: Hosts) -> EnvoyCluster {
    EnvoyCluster {
        name: name.to_string(),
        discovery,
        destination_rule: None,
        hosts,
    }
}

/// The static clusters of the bootstrap (B).
fn bootstrap() -> Vec<EnvoyCluster> {
    let socket = |port| Hosts::Fixed(vec![Address::Socket("127.0.0.1".into(), port)]);
    let pipe = |path| Hosts::Fixed(vec![Address::Pipe(path)]);
    vec![
        fixed("prometheus_stats", Discovery::Static, socket(15000)),
        fixed("agent", Discovery::Static, socket(15020)),
        fixed(
            "sds-grpc",
            Discovery::Static,
            pipe("./var/run/secrets/workload-spiffe-uds/socket"),
        ),
        fixed("xds-grpc", Discovery::Static, pipe("./etc/istio/proxy/XDS")),
    ]
}

/// The outbound clusters: one per visible service port, and one per
/// subset of the DestinationRule this proxy uses for the host (C).
fn outbound(world: &World, proxy: &Proxy) -> Vec<EnvoyCluster> {
    let mut out = Vec::new();
    for (i, svc) in world.mesh.registry.services.iter().enumerate() {
        if !svc.visibility.visible_from(&proxy.namespace) {
            continue;
        }
        let rule = world.mesh.destination_rules.for_proxy(
            &proxy.namespace,
            &proxy.labels,
            &svc.hostname,
            Some(&svc.namespace),
        );
        let base = resolution(svc, proxy.gateway);
        for port in svc.ports.iter().filter(|p| p.protocol != Protocol::Udp) {
            let top = rule.as_ref().and_then(|r| r.policy.as_ref());
            let top_lb = top.and_then(|p| simple_lb(p, port.number));
            let key = rule.as_ref().map(|r| r.key.clone());
            let hosts = |subset: Option<&str>, labels| Hosts::Service {
                service: i,
                port: port.number,
                subset: subset.map(str::to_string),
                labels,
            };
            out.push(EnvoyCluster {
                name: format!("outbound|{}||{}", port.number, svc.hostname),
                discovery: passthrough_or(top_lb, base),
                destination_rule: key.clone(),
                hosts: hosts(None, BTreeMap::new()),
            });
            for subset in rule.iter().flat_map(|r| &r.subsets) {
                let lb = subset
                    .traffic_policy
                    .as_ref()
                    .and_then(|p| simple_lb(p, port.number))
                    .or(top_lb);
                out.push(EnvoyCluster {
                    name: format!(
                        "outbound|{}|{}|{}",
                        port.number,
                        subset.name(),
                        svc.hostname
                    ),
                    discovery: passthrough_or(lb, base),
                    destination_rule: key.clone(),
                    hosts: hosts(Some(subset.name()), subset.labels.clone()),
                });
            }
        }
    }
    out
}

/// C `convertResolution`: a Kubernetes Service without a cluster IP
/// (headless) resolves like a ServiceEntry with resolution NONE; a
/// gateway cannot use ORIGINAL_DST and falls back to EDS.
fn resolution(svc: &RegService, gateway: bool) -> Discovery {
    let passthrough = if gateway {
        Discovery::Eds
    } else {
        Discovery::OriginalDst
    };
    match &svc.origin {
        Origin::Kubernetes(_) if svc.addresses.is_empty() => passthrough,
        Origin::Kubernetes(_) => Discovery::Eds,
        Origin::ServiceEntry { resolution, .. } => match resolution {
            Resolution::None => passthrough,
            Resolution::Static => Discovery::Eds,
            Resolution::Dns => Discovery::StrictDns,
            Resolution::DnsRoundRobin => Discovery::LogicalDns,
        },
    }
}

/// The `simple` balancer a traffic policy sets for `port`: its port-level
/// settings replace the top-level ones for that port.
fn simple_lb(policy: &TrafficPolicy, port: u16) -> Option<SimpleLb> {
    let level = policy
        .port_level_settings
        .iter()
        .find(|pl| pl.port.as_ref().map(|s| s.number) == Some(u32::from(port)));
    match level {
        Some(pl) => pl.load_balancer.as_ref().and_then(|lb| lb.simple),
        None => policy.load_balancer.as_ref().and_then(|lb| lb.simple),
    }
}

fn passthrough_or(lb: Option<SimpleLb>, base: Discovery) -> Discovery {
    if lb == Some(SimpleLb::Passthrough) {
        Discovery::OriginalDst
    } else {
        base
    }
}

/// W `safelyParseSubsetKey`: `direction|port|subset|fqdn`, or the whole
/// name for the fixed clusters; sorted by FQDN, subset, port, direction.
fn sort_key(name: &str) -> (&str, &str, i64, &str) {
    let parts: Vec<&str> = name.split('|').collect();
    if parts.len() > 3 {
        (parts[3], parts[2], parts[1].parse().unwrap_or(0), parts[0])
    } else {
        (name, "", 0, "")
    }
}

/// `name.namespace` of a DestinationRule `ns/name` (W `renderConfig`).
fn management(key: Option<&String>) -> String {
    key.and_then(|k| k.split_once('/'))
        .map(|(ns, name)| format!("{name}.{ns}"))
        .unwrap_or_default()
}

/// The summary table's rows, header first.
pub fn table(clusters: &[EnvoyCluster], filter: &Filter<'_>) -> Vec<Vec<String>> {
    let mut rows = vec![
        [
            "SERVICE FQDN",
            "PORT",
            "SUBSET",
            "DIRECTION",
            "TYPE",
            "DESTINATION RULE",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for c in clusters.iter().filter(|c| filter.keeps(&c.name)) {
        let parts: Vec<&str> = c.name.split('|').collect();
        let (fqdn, port, subset, direction) = if parts.len() > 3 {
            let subset = if parts[2].is_empty() { "-" } else { parts[2] };
            (parts[3], parts[1], subset, parts[0])
        } else {
            (c.name.as_str(), "-", "-", "-")
        };
        rows.push(vec![
            fqdn.to_string(),
            port.to_string(),
            subset.to_string(),
            direction.to_string(),
            c.discovery.as_str().to_string(),
            management(c.destination_rule.as_ref()),
        ]);
    }
    rows
}

/// The clusters as `-o json` prints them: the fields meshsim models, named
/// and shaped as in Envoy's config dump (proto JSON leaves out the default
/// type, STATIC).
pub fn json(clusters: &[EnvoyCluster], filter: &Filter<'_>) -> Value {
    clusters
        .iter()
        .filter(|c| filter.keeps(&c.name))
        .map(cluster_json)
        .collect()
}

fn cluster_json(c: &EnvoyCluster) -> Value {
    let mut v = json!({ "name": c.name });
    if c.discovery != Discovery::Static {
        v["type"] = json!(c.discovery.as_str());
    }
    if c.discovery == Discovery::Eds {
        v["edsClusterConfig"] = json!({
            "edsConfig": {"ads": {}, "initialFetchTimeout": "0s", "resourceApiVersion": "V3"},
            "serviceName": c.name,
        });
    }
    if let Some((ns, name)) = c.destination_rule.as_ref().and_then(|k| k.split_once('/')) {
        let mut istio = json!({
            "config": format!("/apis/networking.istio.io/v1/namespaces/{ns}/destination-rule/{name}")
        });
        if let Hosts::Service {
            subset: Some(s), ..
        } = &c.hosts
        {
            istio["subset"] = json!(s);
        }
        v["metadata"] = json!({ "filterMetadata": { "istio": istio } });
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test]
    fn istioctl_sorts_by_fqdn_then_subset_then_port() {
        let mut names = vec![
            "outbound|9080|v1|reviews.bookinfo.svc.cluster.local",
            "xds-grpc",
            "outbound|9080||reviews.bookinfo.svc.cluster.local",
            "inbound|9080||",
            "BlackHoleCluster",
            "agent",
            "outbound|80||a.default.svc.cluster.local",
            "outbound|443||a.default.svc.cluster.local",
        ];
        names.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
        assert_eq!(
            names,
            [
                "inbound|9080||",
                "BlackHoleCluster",
                "outbound|80||a.default.svc.cluster.local",
                "outbound|443||a.default.svc.cluster.local",
                "agent",
                "outbound|9080||reviews.bookinfo.svc.cluster.local",
                "outbound|9080|v1|reviews.bookinfo.svc.cluster.local",
                "xds-grpc",
            ]
        );
    }

    #[test_case(Filter { fqdn: "reviews", ..Filter::default() }, "outbound|9080|v1|reviews.bookinfo.svc.cluster.local", true)]
    #[test_case(Filter { port: 9080, ..Filter::default() }, "outbound|90800||x", false)]
    #[test_case(Filter { direction: "inbound", ..Filter::default() }, "inbound|9080||", true)]
    #[test_case(Filter { subset: "v2", ..Filter::default() }, "outbound|9080|v1|reviews", false)]
    fn filters_match_parts_of_the_name(f: Filter<'static>, name: &str, keep: bool) {
        assert_eq!(f.keeps(name), keep);
    }
}
