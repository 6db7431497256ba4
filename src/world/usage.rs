//! What each container uses, as metrics-server reports it to `kubectl
//! top`: CPU averaged over the last scrape interval, memory as it is now.
//!
//! CPU counters are the model's own: each application's compute time
//! ([`crate::apps::server::Server`]) and each proxy's per-request CPU
//! ([`crate::dataplane::Costs`]), plus an idle rate per container. They
//! are sampled every [`RESOLUTION`] of virtual time (metrics-server's
//! `--metric-resolution`) as events are processed, so a reading is the
//! difference of the last two samples over the interval between them —
//! what metrics-server serves. Memory comes from the cost model: an
//! Envoy's from the configuration pushed to it and its open connections,
//! ztunnel's from the workloads it knows, istiod's from the proxies and
//! services it serves, an application's from its image
//! ([`crate::apps::footprint`]).

use crate::apps::footprint;
use crate::k8s::{NodeId, PodId};
use crate::sim::{SimDuration, SimTime};

use super::World;

/// metrics-server's default scrape interval.
pub const RESOLUTION: SimDuration = SimDuration::from_secs(15);

/// What a node's own processes use besides its pods (kubelet, containerd,
/// the OS): meshsim's estimate for a kind node at rest.
const NODE_SYSTEM_MILLICORES: u64 = 100;
const NODE_SYSTEM_MEMORY: u64 = 600 * 1024 * 1024;

/// CPU counters of every pod at one scrape: (application, proxy).
#[derive(Clone, Debug)]
struct Sample {
    at: SimTime,
    cpu: Vec<(SimDuration, SimDuration)>,
}

/// A scrape's time, and a pod's (application, proxy) CPU counters then.
type Counters = (SimTime, (SimDuration, SimDuration));

/// The last two scrapes, and when the next is due.
#[derive(Clone, Debug)]
pub struct Scrapes {
    next: SimTime,
    prev: Option<Sample>,
    last: Option<Sample>,
}

impl Scrapes {
    pub fn new(now: SimTime) -> Scrapes {
        Scrapes {
            next: now + RESOLUTION,
            prev: None,
            last: None,
        }
    }

    /// When every pod running now has a reading: after the next two
    /// scrapes.
    pub fn settled_at(&self) -> SimTime {
        self.next + RESOLUTION
    }
}

/// One container's reading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerUsage {
    pub name: String,
    pub nanocores: u64,
    pub memory: u64,
}

/// A pod's or a node's reading: when it was taken, over which window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reading<T> {
    pub timestamp: SimTime,
    pub window: SimDuration,
    pub usage: T,
}

/// What the mesh itself costs, for the run report.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MeshOverhead {
    /// Envoys: sidecars, gateways, waypoints.
    pub proxies: usize,
    pub proxy_vcpu: f64,
    pub proxy_memory: u64,
    /// The ztunnels': CPU on average, and memory.
    pub ztunnel_vcpu: f64,
    pub ztunnel_memory: u64,
    pub istiod_memory: u64,
}

/// What a pod's containers are, for the cost model.
enum Role {
    /// The application of the pod's model.
    App,
    /// An Envoy: a sidecar, or a gateway's only container.
    Envoy,
    Ztunnel,
    Istiod,
    /// Another container of the pod: at rest.
    Other,
}

impl World {
    /// Takes the scrapes that fell due before now. The counters now are
    /// what they were at every boundary passed since the last event.
    pub(super) fn scrape_due(&mut self) {
        let now = self.queue.now();
        let Some(s) = self.scrapes.as_mut() else {
            return;
        };
        if now < s.next {
            return;
        }
        // The boundaries passed: next, next + 15 s, … up to now.
        let passed = (now.0 - s.next.0) / RESOLUTION.0 + 1;
        let at = SimTime(s.next.0 + (passed - 1) * RESOLUTION.0);
        s.next = SimTime(at.0.saturating_add(RESOLUTION.0));
        let cpu: Vec<_> = self
            .pods
            .iter()
            .map(|rt| (rt.server.cpu_time, rt.proxy_cpu))
            .collect();
        let s = self.scrapes.as_mut().expect("checked above");
        s.prev = if passed > 1 {
            // Nothing ran in the interval before this scrape.
            Some(Sample {
                at: SimTime(at.0 - RESOLUTION.0),
                cpu: cpu.clone(),
            })
        } else {
            s.last.take()
        };
        s.last = Some(Sample { at, cpu });
    }

    /// `pod`'s reading, once two scrapes have seen it.
    pub fn pod_usage(&mut self, pod: PodId) -> Option<Reading<Vec<ContainerUsage>>> {
        self.scrape_due();
        let (prev, last) = self.samples_of(pod)?;
        let (timestamp, (app0, proxy0)) = prev;
        let (at, (app1, proxy1)) = last;
        let (window, timestamp) = (at.since(timestamp), at);
        let i = pod.0 as usize;
        let secs = window.as_secs_f64();
        let rate = |busy: SimDuration, idle_millicores: u64| -> u64 {
            ((busy.as_nanos() as f64 / secs) as u64)
                .saturating_add(idle_millicores.saturating_mul(1_000_000))
        };
        let p = self.cluster.pod(pod);
        let mut containers: Vec<(String, String, Role)> = p
            .template
            .spec
            .containers
            .iter()
            .enumerate()
            .map(|(n, c)| {
                let role = match c.image.rsplit('/').next().unwrap_or("") {
                    img if img.starts_with("ztunnel:") || img == "ztunnel" => Role::Ztunnel,
                    img if img.starts_with("pilot:") || img == "pilot" => Role::Istiod,
                    _ if self.pods[i].proxy.is_some() && !p.sidecar => Role::Envoy,
                    _ if n == 0 => Role::App,
                    _ => Role::Other,
                };
                (c.name.clone(), c.image.clone(), role)
            })
            .collect();
        if p.sidecar {
            containers.push((
                super::PROXY_CONTAINER.to_string(),
                String::new(),
                Role::Envoy,
            ));
        }
        let m = self.costs.memory.clone();
        let mut out = Vec::new();
        for (name, image, role) in containers {
            let (nanocores, memory) = match role {
                Role::App => {
                    let f = footprint::of_image(&image);
                    (
                        rate(
                            SimDuration(app1.0.saturating_sub(app0.0)),
                            f.idle_millicores,
                        ),
                        f.memory,
                    )
                }
                Role::Envoy => (
                    rate(
                        SimDuration(proxy1.0.saturating_sub(proxy0.0)),
                        m.envoy_idle_millicores,
                    ),
                    self.envoy_memory(pod),
                ),
                Role::Ztunnel => (
                    rate(
                        SimDuration(proxy1.0.saturating_sub(proxy0.0)),
                        m.ztunnel_idle_millicores,
                    ),
                    self.ztunnel_memory(),
                ),
                Role::Istiod => (
                    rate(SimDuration::ZERO, m.istiod_idle_millicores),
                    self.istiod_memory(),
                ),
                Role::Other => {
                    let f = footprint::of_image(&image);
                    (rate(SimDuration::ZERO, f.idle_millicores), f.memory)
                }
            };
            out.push(ContainerUsage {
                name,
                nanocores,
                memory,
            });
        }
        Some(Reading {
            timestamp,
            window,
            usage: out,
        })
    }

    /// What a ztunnel holds: its process and every workload it knows.
    fn ztunnel_memory(&self) -> u64 {
        let m = &self.costs.memory;
        m.ztunnel_base + self.cluster.live_pods().count() as u64 * m.ztunnel_per_workload
    }

    /// What istiod holds: its process, the proxies it serves, the services
    /// it knows.
    fn istiod_memory(&self) -> u64 {
        let m = &self.costs.memory;
        let proxies = self.pods.iter().filter(|rt| rt.proxy.is_some()).count() as u64;
        let services = self.cluster.services.iter().filter(|s| !s.deleted).count() as u64;
        m.istiod_base + proxies * m.istiod_per_proxy + services * m.istiod_per_service
    }

    /// Whether two scrapes have seen `pod`, so it has a reading.
    pub fn has_reading(&mut self, pod: PodId) -> bool {
        self.scrape_due();
        self.samples_of(pod).is_some()
    }

    /// `pod`'s CPU counters at the last two scrapes, with their times.
    fn samples_of(&self, pod: PodId) -> Option<(Counters, Counters)> {
        let s = self.scrapes.as_ref()?;
        let (prev, last) = (s.prev.as_ref()?, s.last.as_ref()?);
        let i = pod.0 as usize;
        Some(((prev.at, *prev.cpu.get(i)?), (last.at, *last.cpu.get(i)?)))
    }

    /// What an Envoy holds: its process, the configuration pushed to it
    /// (clusters, their endpoints, routes), its open upstream connections.
    fn envoy_memory(&mut self, pod: PodId) -> u64 {
        let m = self.costs.memory.clone();
        let cfg = self.proxy_config(pod);
        let endpoints: u64 = cfg
            .clusters
            .iter()
            .map(|c| self.upstreams(c).len() as u64)
            .sum();
        let routes: u64 = cfg
            .routes
            .values()
            .flat_map(|rc| rc.vhosts.iter())
            .map(|vh| vh.routes.len() as u64)
            .sum();
        let connections: u64 = self.pods[pod.0 as usize]
            .pools
            .values()
            .map(|p| u64::from(p.in_use().0))
            .sum();
        m.envoy_base
            + cfg.clusters.len() as u64 * m.envoy_per_cluster
            + endpoints * m.envoy_per_endpoint
            + routes * m.envoy_per_route
            + connections * m.envoy_per_connection
    }

    /// What the mesh cost over a run of `duration` of traffic: its proxies'
    /// CPU on average and memory at the end, ztunnel's and istiod's memory.
    pub fn mesh_overhead(&mut self, duration: SimDuration) -> MeshOverhead {
        let m = self.costs.memory.clone();
        let secs = duration.as_secs_f64().max(1e-9);
        let live: Vec<PodId> = self.cluster.live_pods().map(|p| p.id).collect();
        let mut out = MeshOverhead::default();
        for pod in live {
            if self.pods[pod.0 as usize].proxy.is_some() {
                out.proxies += 1;
                out.proxy_vcpu += self.pods[pod.0 as usize].proxy_cpu.as_secs_f64() / secs
                    + m.envoy_idle_millicores as f64 / 1000.0;
                out.proxy_memory += self.envoy_memory(pod);
            }
            for c in &self.cluster.pod(pod).template.spec.containers {
                let image = c.image.rsplit('/').next().unwrap_or("");
                if image.starts_with("ztunnel") {
                    out.ztunnel_vcpu += self.pods[pod.0 as usize].proxy_cpu.as_secs_f64() / secs
                        + m.ztunnel_idle_millicores as f64 / 1000.0;
                    out.ztunnel_memory += self.ztunnel_memory();
                } else if image.starts_with("pilot") {
                    out.istiod_memory += self.istiod_memory();
                }
            }
        }
        out
    }

    /// `node`'s reading: its pods' containers and its own processes.
    pub fn node_usage(&mut self, node: NodeId) -> Option<Reading<(u64, u64)>> {
        self.scrape_due();
        let s = self.scrapes.as_ref()?;
        let (prev, last) = (s.prev.as_ref()?, s.last.as_ref()?);
        let (timestamp, window) = (last.at, last.at.since(prev.at));
        let pods: Vec<PodId> = self
            .cluster
            .live_pods()
            .filter(|p| p.node == node)
            .map(|p| p.id)
            .collect();
        let (mut cpu, mut memory) = (NODE_SYSTEM_MILLICORES * 1_000_000, NODE_SYSTEM_MEMORY);
        for pod in pods {
            for c in self.pod_usage(pod).map(|r| r.usage).unwrap_or_default() {
                cpu += c.nanocores;
                memory += c.memory;
            }
        }
        Some(Reading {
            timestamp,
            window,
            usage: (cpu, memory),
        })
    }
}
