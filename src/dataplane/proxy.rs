//! A sidecar's outbound decision, and kube-proxy's for pods without one.

use crate::k8s::{Endpoint, Service};
use crate::sim::Rng;

/// Where a proxy sends a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    To(Endpoint),
    /// The Service has no ready endpoint: Envoy answers 503 with flag UH and
    /// body `no healthy upstream` without touching the network.
    NoHealthyUpstream,
}

/// A sidecar's outbound state: one round-robin cursor per Service port.
#[derive(Clone, Debug)]
pub struct Sidecar {
    cursors: Vec<Vec<u32>>,
    rng: Rng,
}

impl Sidecar {
    pub fn new(rng: Rng) -> Self {
        Sidecar {
            cursors: Vec::new(),
            rng,
        }
    }

    /// Picks the next ready endpoint of `svc`'s port `port_idx`. Each proxy
    /// starts its rotation at a random host, as Envoy does, so many clients
    /// do not all hit the first endpoint together.
    pub fn outbound(&mut self, svc: &Service, port_idx: usize) -> Route {
        let endpoints = &svc.endpoints[port_idx];
        if endpoints.is_empty() {
            return Route::NoHealthyUpstream;
        }
        let id = svc.id.0 as usize;
        if self.cursors.len() <= id {
            self.cursors.resize(id + 1, Vec::new());
        }
        let ports = &mut self.cursors[id];
        if ports.len() <= port_idx {
            let rng = &mut self.rng;
            ports.resize_with(port_idx + 1, || rng.next_u64() as u32);
        }
        let cursor = &mut ports[port_idx];
        let pick = endpoints[*cursor as usize % endpoints.len()];
        *cursor = cursor.wrapping_add(1);
        Route::To(pick)
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
