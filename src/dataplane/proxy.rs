//! A sidecar's runtime state: the configuration istiod pushed to it, one
//! load balancer per cluster it has sent to (with the in-flight counts
//! LEAST_REQUEST needs), and its random stream. kube-proxy's choice for
//! pods without a sidecar lives here too.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::k8s::{Endpoint, Service};
use crate::sim::Rng;

use super::lb::{Balancer, Host, PolicyConfig, hash_key};
use super::outlier::Detector;
use super::router::Selection;
use super::xds::{Listener, ProxyConfig};

/// Where a request goes on the network.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Upstream {
    Pod(Endpoint),
    /// An address outside the cluster.
    External {
        host: String,
        port: u16,
    },
}

impl Upstream {
    /// The key pools and outlier detection know a host by: pods by
    /// address, outside hosts by name.
    pub fn host_key(&self) -> u64 {
        match self {
            Upstream::Pod(ep) => (u64::from(ep.pod.0) << 16) | u64::from(ep.port),
            Upstream::External { host, port } => hash_key(format!("{host}:{port}").as_bytes()),
        }
    }

    fn key(&self) -> u64 {
        match self {
            Upstream::Pod(ep) => hash_key(format!("pod/{}:{}", ep.pod.0, ep.port).as_bytes()),
            Upstream::External { host, port } => hash_key(format!("{host}:{port}").as_bytes()),
        }
    }
}

/// A cluster's balancer over its current upstreams.
struct ClusterLb {
    balancer: Balancer,
    policy: PolicyConfig,
    hosts: Vec<Host>,
    upstreams: Vec<Upstream>,
    /// The endpoints generation the upstreams were taken at.
    epoch: u64,
    /// World-side names for the cluster (telemetry label, cluster name).
    tags: (u32, u32),
    /// The balancer over the hosts outlier detection left in, for the
    /// detector generation it was built at.
    healthy: Option<HealthyView>,
}

/// A balancer over the hosts that are not ejected: Envoy balances over the
/// healthy host set, rebuilt when it changes.
struct HealthyView {
    generation: u64,
    balancer: Balancer,
    /// Indices of the healthy hosts in the cluster's hosts.
    index: Vec<usize>,
    /// The healthy hosts with their current in-flight counts.
    scratch: Vec<Host>,
}

/// A request in flight to one host of one cluster, to be given back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease {
    pub cluster: usize,
    pub host: usize,
    pub epoch: u64,
}

pub struct Sidecar {
    config: Option<(u64, Arc<ProxyConfig>)>,
    clusters: BTreeMap<usize, ClusterLb>,
    /// Route selections by (interned request, listener): selection depends
    /// only on the request and the configuration, so it is remembered
    /// until the next push.
    selections: BTreeMap<(u32, Listener), Selection>,
    pub rng: Rng,
}

impl Sidecar {
    pub fn new(rng: Rng) -> Self {
        Sidecar {
            config: None,
            clusters: BTreeMap::new(),
            selections: BTreeMap::new(),
            rng,
        }
    }

    /// The configuration, if it is the one for mesh revision `rev`.
    pub fn config(&self, rev: u64) -> Option<Arc<ProxyConfig>> {
        self.config
            .as_ref()
            .filter(|(r, _)| *r == rev)
            .map(|(_, c)| Arc::clone(c))
    }

    /// A new push: cluster indices change with it, so balancers restart.
    pub fn set_config(&mut self, rev: u64, config: Arc<ProxyConfig>) {
        self.config = Some((rev, config));
        self.clusters.clear();
        self.selections.clear();
    }

    /// The route selection for request `req` on `listener`, computed once
    /// per configuration.
    pub fn selection(
        &mut self,
        req: u32,
        listener: &Listener,
        select: impl FnOnce() -> Selection,
    ) -> Selection {
        if let Some(s) = self.selections.get(&(req, listener.clone())) {
            return s.clone();
        }
        let s = select();
        self.selections.insert((req, listener.clone()), s.clone());
        s
    }

    /// Whether cluster `index`'s balancer must be (re)built before a pick:
    /// never used, or its endpoints changed since (`epoch`).
    pub fn needs_upstreams(&self, index: usize, epoch: u64) -> bool {
        self.clusters.get(&index).is_none_or(|lb| lb.epoch != epoch)
    }

    /// Gives cluster `index` its current upstreams (keeping the in-flight
    /// counts of hosts that stay) and the telemetry tags the world uses
    /// for it.
    pub fn set_upstreams(
        &mut self,
        index: usize,
        policy: PolicyConfig,
        epoch: u64,
        upstreams: Vec<Upstream>,
        tags: (u32, u32),
    ) {
        let rng = &mut self.rng;
        let lb = self.clusters.entry(index).or_insert_with(|| ClusterLb {
            balancer: Balancer::new(checked(policy), &[], rng),
            policy: checked(policy),
            hosts: Vec::new(),
            upstreams: Vec::new(),
            epoch: u64::MAX,
            tags,
            healthy: None,
        });
        let fresh = upstreams_sorted(upstreams);
        let hosts: Vec<Host> = fresh
            .iter()
            .map(|u| {
                let active = lb
                    .upstreams
                    .iter()
                    .position(|old| old == u)
                    .map_or(0, |i| lb.hosts[i].active_requests);
                Host {
                    active_requests: active,
                    ..Host::new(u.key())
                }
            })
            .collect();
        lb.balancer.set_hosts(&hosts);
        lb.hosts = hosts;
        lb.upstreams = fresh;
        lb.epoch = epoch;
        lb.tags = tags;
        lb.healthy = None;
    }

    /// The tags given with the cluster's upstreams.
    pub fn tags(&self, index: usize) -> Option<(u32, u32)> {
        self.clusters.get(&index).map(|lb| lb.tags)
    }

    /// Picks an upstream of cluster `index` (after [`Sidecar::set_upstreams`]);
    /// `None` when it has none, or outlier detection ejected them all
    /// (outside panic mode).
    pub fn pick(
        &mut self,
        index: usize,
        hash: Option<u64>,
        outliers: Option<&Detector>,
    ) -> Option<(Upstream, Lease)> {
        let lb = self.clusters.get_mut(&index)?;
        let i = match outliers.filter(|d| d.stats.ejections_active > 0) {
            None => lb.balancer.pick(&lb.hosts, hash, &mut self.rng)?,
            Some(d) => lb.pick_healthy(d, hash, &mut self.rng)?,
        };
        lb.hosts[i].active_requests += 1;
        Some((
            lb.upstreams[i].clone(),
            Lease {
                cluster: index,
                host: i,
                epoch: lb.epoch,
            },
        ))
    }

    /// The request leased from a cluster finished.
    pub fn release(&mut self, lease: Lease) {
        if let Some(lb) = self.clusters.get_mut(&lease.cluster)
            && lb.epoch == lease.epoch
            && let Some(h) = lb.hosts.get_mut(lease.host)
        {
            h.active_requests = h.active_requests.saturating_sub(1);
        }
    }
}

impl ClusterLb {
    /// A pick among the hosts `detector` has not ejected. Below the panic
    /// threshold of healthy hosts Envoy balances over all of them (Istio
    /// sets the threshold to `minHealthPercent`, 0 by default: never).
    fn pick_healthy(
        &mut self,
        detector: &Detector,
        hash: Option<u64>,
        rng: &mut Rng,
    ) -> Option<usize> {
        let total = self.hosts.len();
        if self
            .healthy
            .as_ref()
            .is_none_or(|h| h.generation != detector.generation)
        {
            let index: Vec<usize> = (0..total)
                .filter(|&i| !detector.is_ejected(self.upstreams[i].host_key()))
                .collect();
            let hosts: Vec<Host> = index.iter().map(|&i| self.hosts[i]).collect();
            self.healthy = Some(HealthyView {
                generation: detector.generation,
                balancer: Balancer::new(self.policy, &hosts, rng),
                index,
                scratch: hosts,
            });
        }
        let view = self.healthy.as_mut().expect("just built");
        let healthy_percent = 100 * view.index.len() / total.max(1);
        if healthy_percent < detector.config.panic_threshold as usize {
            return self.balancer.pick(&self.hosts, hash, rng);
        }
        view.scratch.clear();
        view.scratch
            .extend(view.index.iter().map(|&i| self.hosts[i]));
        let j = view.balancer.pick(&view.scratch, hash, rng)?;
        Some(view.index[j])
    }
}

/// Endpoint order does not depend on how they were listed.
fn upstreams_sorted(mut v: Vec<Upstream>) -> Vec<Upstream> {
    v.sort();
    v
}

/// Istio only writes balancer settings its validation accepted; should one
/// slip through, Envoy's default stands rather than a panic.
fn checked(policy: PolicyConfig) -> PolicyConfig {
    if policy.validate().is_ok() {
        policy
    } else {
        PolicyConfig::ISTIO_DEFAULT
    }
}

/// kube-proxy (iptables mode) picks an endpoint uniformly at random per
/// connection; `None` when there is none (the client's connect is refused).
pub fn kube_proxy_pick(svc: &Service, port_idx: usize, rng: &mut Rng) -> Option<Endpoint> {
    let endpoints = &svc.endpoints[port_idx];
    if endpoints.is_empty() {
        None
    } else {
        Some(endpoints[rng.below(endpoints.len() as u64) as usize])
    }
}
