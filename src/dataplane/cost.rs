//! What the mesh costs: latency each hop adds, CPU each proxy burns, time a
//! sidecar adds to pod start-up. Defaults come from Istio's published
//! figures; a scenario can override every one.
//!
//! - Two sidecars add about 0.228 ms at p90 and 0.298 ms at p99 (Istio 1.20
//!   performance page, 1000 rps, 1 KB): a request crosses a proxy four times
//!   (client out and in, server in and out), so one crossing is modelled as
//!   log-normal with median 40 µs and p99 130 µs.
//! - A sidecar uses about 0.20 vCPU per 1000 rps (Istio 1.24 page): 200 µs of
//!   CPU per request it handles.
//! - An injected pod becomes ready about 2.6 s after creation (istio/istio
//!   #51160, 1.22) against roughly 1.2 s for a plain pod: a sidecar adds
//!   log-normal 1.4 s (p99 3 s).
//! - ztunnel: two ztunnels (ambient L4) add about 0.17 ms at p90 and
//!   0.20 ms at p99 over no mesh (Istio 1.22 performance page, 1000 rps,
//!   1 KB, mTLS): four crossings, each log-normal with median 30 µs and
//!   p99 60 µs. A ztunnel uses about 0.06 vCPU at 1000 rps (1.24 page):
//!   60 µs of CPU per connection it carries (each side's ztunnel).
//! - Network: pod to pod on one node ~30 µs, across nodes in a zone ~150 µs,
//!   across zones ~600 µs one way (typical cloud figures, not Istio's).
//! - A server on the internet answers in ~20 ms (p99 80 ms), meshsim's
//!   estimate.
//!
//! Memory and idle CPU, for `kubectl top` and the run report's mesh
//! overhead ([`crate::world::usage`]):
//! - An Envoy (sidecar, gateway, waypoint) holds about 60 MB serving
//!   1000 rps in a mesh of 1000 services (Istio 1.24 performance page),
//!   about 50 MB in a large namespace scoped by a Sidecar (1.22 page):
//!   modelled as 24 MiB of process plus 32 KiB per cluster, 2 KiB per
//!   endpoint and 4 KiB per route it is configured with, plus 32 KiB per
//!   open upstream connection — 1000 services of two pods give ≈ 63 MiB,
//!   Bookinfo's handful ≈ 25 MiB.
//! - ztunnel holds about 12 MB at 1000 rps (1.24 page): 8 MiB of process
//!   plus 1 KiB per workload it knows (WDS).
//! - istiod needs about 1.5 GB for 1000 services and 2000 sidecars (pre-1.22
//!   page), about 0.75 MB per proxy: 60 MiB plus 0.5 MiB per connected
//!   proxy and 0.25 MiB per service.
//! - Idle CPU (stats flushes, xDS keep-alives): 2 millicores per Envoy,
//!   1 per ztunnel, 5 for istiod — meshsim's estimates; busy CPU is what
//!   each request costs (above).

use crate::sim::{Dist, SimDuration};

#[derive(Clone, Debug, PartialEq)]
pub struct Costs {
    /// One crossing of a sidecar, in either direction.
    pub sidecar_latency: Dist,
    /// CPU a sidecar spends on one request (both directions).
    pub sidecar_cpu: SimDuration,
    /// What injecting a sidecar adds to a pod's start-up.
    pub sidecar_startup: Dist,
    /// One crossing of a node's ztunnel, in either direction.
    pub ztunnel_latency: Dist,
    /// CPU a ztunnel spends on one request it carries.
    pub ztunnel_cpu: SimDuration,
    pub net_same_node: Dist,
    pub net_same_zone: Dist,
    pub net_cross_zone: Dist,
    /// What a server outside the cluster (a ServiceEntry host, a
    /// passthrough destination) takes to answer.
    pub external_latency: Dist,
    /// From a configuration change to the proxies having it: istiod's
    /// debounce (`PILOT_DEBOUNCE_AFTER`, 100 ms) and the push.
    pub config_push: SimDuration,
    pub memory: MemoryModel,
}

/// What the mesh's processes hold in memory, in bytes, and burn idle.
#[derive(Clone, Debug, PartialEq)]
pub struct MemoryModel {
    pub envoy_base: u64,
    pub envoy_per_cluster: u64,
    pub envoy_per_endpoint: u64,
    pub envoy_per_route: u64,
    pub envoy_per_connection: u64,
    pub ztunnel_base: u64,
    pub ztunnel_per_workload: u64,
    pub istiod_base: u64,
    pub istiod_per_proxy: u64,
    pub istiod_per_service: u64,
    /// Idle CPU, in millicores.
    pub envoy_idle_millicores: u64,
    pub ztunnel_idle_millicores: u64,
    pub istiod_idle_millicores: u64,
}

const KIB: u64 = 1024;
const MIB: u64 = 1024 * 1024;

impl Default for MemoryModel {
    fn default() -> Self {
        MemoryModel {
            envoy_base: 24 * MIB,
            envoy_per_cluster: 32 * KIB,
            envoy_per_endpoint: 2 * KIB,
            envoy_per_route: 4 * KIB,
            envoy_per_connection: 32 * KIB,
            ztunnel_base: 8 * MIB,
            ztunnel_per_workload: KIB,
            istiod_base: 60 * MIB,
            istiod_per_proxy: MIB / 2,
            istiod_per_service: MIB / 4,
            envoy_idle_millicores: 2,
            ztunnel_idle_millicores: 1,
            istiod_idle_millicores: 5,
        }
    }
}

impl Default for Costs {
    fn default() -> Self {
        let d = |s: &str| Dist::parse(s).expect("built-in distribution");
        Costs {
            sidecar_latency: d("lognormal(40us, 130us)"),
            sidecar_cpu: SimDuration::from_micros(200),
            sidecar_startup: d("lognormal(1400ms, 3s)"),
            ztunnel_latency: d("lognormal(30us, 60us)"),
            ztunnel_cpu: SimDuration::from_micros(60),
            net_same_node: d("lognormal(30us, 100us)"),
            net_same_zone: d("lognormal(150us, 500us)"),
            net_cross_zone: d("lognormal(600us, 2ms)"),
            external_latency: d("lognormal(20ms, 80ms)"),
            config_push: SimDuration::from_millis(110),
            memory: MemoryModel::default(),
        }
    }
}
