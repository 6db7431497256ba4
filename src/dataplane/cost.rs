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
//! - Network: pod to pod on one node ~30 µs, across nodes in a zone ~150 µs,
//!   across zones ~600 µs one way (typical cloud figures, not Istio's).
//! - A server on the internet answers in ~20 ms (p99 80 ms), meshsim's
//!   estimate.

use crate::sim::{Dist, SimDuration};

#[derive(Clone, Debug, PartialEq)]
pub struct Costs {
    /// One crossing of a sidecar, in either direction.
    pub sidecar_latency: Dist,
    /// CPU a sidecar spends on one request (both directions).
    pub sidecar_cpu: SimDuration,
    /// What injecting a sidecar adds to a pod's start-up.
    pub sidecar_startup: Dist,
    pub net_same_node: Dist,
    pub net_same_zone: Dist,
    pub net_cross_zone: Dist,
    /// What a server outside the cluster (a ServiceEntry host, a
    /// passthrough destination) takes to answer.
    pub external_latency: Dist,
}

impl Default for Costs {
    fn default() -> Self {
        let d = |s: &str| Dist::parse(s).expect("built-in distribution");
        Costs {
            sidecar_latency: d("lognormal(40us, 130us)"),
            sidecar_cpu: SimDuration::from_micros(200),
            sidecar_startup: d("lognormal(1400ms, 3s)"),
            net_same_node: d("lognormal(30us, 100us)"),
            net_same_zone: d("lognormal(150us, 500us)"),
            net_cross_zone: d("lognormal(600us, 2ms)"),
            external_latency: d("lognormal(20ms, 80ms)"),
        }
    }
}
