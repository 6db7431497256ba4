//! `istioctl proxy-config endpoints`: the hosts of every cluster, as
//! Envoy's admin `/clusters?format=json` reports them. A service's hosts
//! are the data path's own (`World::upstreams`), and a host the cluster's
//! outlier detector ejected fails its outlier check.
//!
//! Sources:
//! - W: istio/istio 1.27.9 `istioctl/pkg/writer/envoy/clusters/clusters.go`
//!   (`PrintEndpointsSummary`: columns, sort by address, port, cluster; a
//!   pipe address is `unix://PATH` without a port; `--address`,
//!   `--cluster` and `--status` compare ignoring case).
//! - istiod sends EDS only the ready endpoints (`SendUnhealthyEndpoints`
//!   is off by default), so every host is HEALTHY.
//!
//! Left out: ORIGINAL_DST clusters (`PassthroughCluster`, the inbound
//! clusters) get hosts only as traffic creates them, and DNS clusters
//! hold the addresses the name resolved to, which meshsim does not model.

use serde_json::{Value, json};

use crate::dataplane::Upstream;
use crate::dataplane::lb::PolicyConfig;
use crate::dataplane::pool::Limits;
use crate::dataplane::xds::Cluster;
use crate::k8s::PodId;
use crate::world::World;

use super::clusters::{Address, Discovery, EnvoyCluster, Hosts};

/// One host of one cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointRow {
    /// An IP, or `unix://PATH`.
    pub address: String,
    /// 0 for a pipe.
    pub port: u16,
    pub cluster: String,
    pub failed_outlier_check: bool,
}

impl EndpointRow {
    fn endpoint(&self) -> String {
        if self.port == 0 {
            self.address.clone()
        } else {
            format!("{}:{}", self.address, self.port)
        }
    }
}

/// The hosts of every cluster of `pod`'s proxy, in istioctl's order.
pub fn endpoints(world: &World, pod: PodId, clusters: &[EnvoyCluster]) -> Vec<EndpointRow> {
    let mut rows: Vec<EndpointRow> = clusters
        .iter()
        .flat_map(|c| hosts_of(world, pod, c))
        .collect();
    rows.sort_by(|a, b| (&a.address, a.port, &a.cluster).cmp(&(&b.address, b.port, &b.cluster)));
    rows
}

fn hosts_of(world: &World, pod: PodId, c: &EnvoyCluster) -> Vec<EndpointRow> {
    let row = |address: String, port: u16, failed: bool| EndpointRow {
        address,
        port,
        cluster: c.name.clone(),
        failed_outlier_check: failed,
    };
    match &c.hosts {
        Hosts::Fixed(addresses) => addresses
            .iter()
            .map(|a| match a {
                Address::Socket(ip, port) => row(ip.clone(), *port, false),
                Address::Pipe(path) => row(format!("unix://{path}"), 0, false),
            })
            .collect(),
        Hosts::Service { .. } if c.discovery == Discovery::OriginalDst => Vec::new(),
        Hosts::Service {
            service,
            port,
            subset,
            labels,
        } => {
            let cluster = Cluster {
                name: c.name.clone(),
                service: *service,
                port: *port,
                subset: subset.clone(),
                subset_labels: labels.clone(),
                lb: PolicyConfig::ISTIO_DEFAULT,
                hash: None,
                destination_rule: None,
                pool: Limits::UNLIMITED,
                outlier: None,
                tls: None,
            };
            world
                .upstreams(&cluster)
                .into_iter()
                .filter_map(|u| {
                    let (address, port) = address_of(world, &u)?;
                    Some(row(address, port, ejected(world, pod, &c.name, &u)))
                })
                .collect()
        }
        Hosts::None => Vec::new(),
    }
}

/// A host's address: a pod's IP, or an endpoint written as an IP; a host
/// name (resolved by DNS in Envoy) has none here.
fn address_of(world: &World, u: &Upstream) -> Option<(String, u16)> {
    match u {
        Upstream::Pod(ep) => Some((world.cluster.pod(ep.pod).ip.to_string(), ep.port)),
        Upstream::External { host, port } => host
            .parse::<std::net::IpAddr>()
            .ok()
            .map(|ip| (ip.to_string(), *port)),
    }
}

/// Whether the proxy's outlier detector for `cluster` has ejected `u`.
fn ejected(world: &World, pod: PodId, cluster: &str, u: &Upstream) -> bool {
    world
        .texts
        .find(cluster)
        .and_then(|id| world.pods[pod.0 as usize].outliers.get(&id))
        .is_some_and(|d| d.is_ejected(u.host_key()))
}

/// `istioctl proxy-config endpoints` filters (W `EndpointFilter.Verify`).
#[derive(Default)]
pub struct Filter<'a> {
    pub address: &'a str,
    pub port: u16,
    pub cluster: &'a str,
    pub status: &'a str,
}

impl Filter<'_> {
    fn keeps(&self, r: &EndpointRow) -> bool {
        (self.address.is_empty() || r.address.eq_ignore_ascii_case(self.address))
            && (self.port == 0 || r.port == self.port)
            && (self.cluster.is_empty() || r.cluster.eq_ignore_ascii_case(self.cluster))
            && (self.status.is_empty() || "HEALTHY".eq_ignore_ascii_case(self.status))
    }
}

/// The table's rows, header first.
pub fn table(rows: &[EndpointRow], filter: &Filter<'_>) -> Vec<Vec<String>> {
    let mut out = vec![
        ["ENDPOINT", "STATUS", "OUTLIER CHECK", "CLUSTER"]
            .map(String::from)
            .to_vec(),
    ];
    for r in rows.iter().filter(|r| filter.keeps(r)) {
        let outlier = if r.failed_outlier_check {
            "FAILED"
        } else {
            "OK"
        };
        out.push(vec![
            r.endpoint(),
            "HEALTHY".to_string(),
            outlier.to_string(),
            r.cluster.clone(),
        ]);
    }
    out
}

/// `-o json`: Envoy's `ClusterStatus` for each cluster with a host the
/// filter keeps, its hosts' addresses and health; statistics, weights and
/// localities are left out.
pub fn json(rows: &[EndpointRow], clusters: &[EnvoyCluster], filter: &Filter<'_>) -> Value {
    clusters
        .iter()
        .filter_map(|c| {
            let hosts: Vec<&EndpointRow> = rows.iter().filter(|r| r.cluster == c.name).collect();
            if !hosts.iter().any(|r| filter.keeps(r)) {
                return None;
            }
            let mut v = json!({ "name": c.name });
            if !matches!(c.hosts, Hosts::Fixed(_)) {
                v["addedViaApi"] = json!(true);
            }
            v["hostStatuses"] = hosts.iter().map(|r| host_json(r)).collect();
            Some(v)
        })
        .collect()
}

fn host_json(r: &EndpointRow) -> Value {
    let address = match r.address.strip_prefix("unix://") {
        Some(path) => json!({ "pipe": { "path": path } }),
        None => json!({ "socketAddress": { "address": r.address, "portValue": r.port } }),
    };
    let mut health = json!({ "edsHealthStatus": "HEALTHY" });
    if r.failed_outlier_check {
        health["failedOutlierCheck"] = json!(true);
    }
    json!({ "address": address, "healthStatus": health })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipes_have_no_port() {
        let r = EndpointRow {
            address: "unix://./etc/istio/proxy/XDS".into(),
            port: 0,
            cluster: "xds-grpc".into(),
            failed_outlier_check: false,
        };
        assert_eq!(r.endpoint(), "unix://./etc/istio/proxy/XDS");
    }

    #[test]
    fn the_status_filter_ignores_case() {
        let r = EndpointRow {
            address: "10.244.0.5".into(),
            port: 9080,
            cluster: "outbound|9080||a".into(),
            failed_outlier_check: false,
        };
        let f = Filter {
            status: "healthy",
            ..Filter::default()
        };
        assert!(f.keeps(&r));
    }
}
