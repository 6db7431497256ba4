//! Requests in flight: one [`Call`] per hop (client to service), kept in a
//! slab so ids are small and slots are reused without allocation.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::apps::{AppState, Body, Outcome};
use crate::config::networking::destination_rule::TlsMode;
use crate::dataplane::pool::ConnId;
use crate::dataplane::retry::RetryPolicy;
use crate::dataplane::xds::HeaderOps;
use crate::dataplane::{Lease, ResponseFlags, Upstream};
use crate::k8s::{Endpoint, PodId, WorkloadId};

use crate::sim::SimTime;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallId(pub u32);

/// A call id with the slot generation it was issued for: events and
/// parents hold these, so a reused slot is never mistaken for the old call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CallRef {
    pub id: CallId,
    pub generation: u32,
}

/// An interned request (method, authority, path, headers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReqId(pub u32);

/// Who waits for a call's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parent {
    /// A client of traffic generator `generator`.
    Client { generator: u32, client: u32 },
    /// A request being served that made this call.
    Call(CallRef),
    /// A gateway forwarding the request it is serving: the answer is
    /// relayed to that request's client.
    Relay(CallRef),
    /// A mirror copy: nobody waits, the answer is dropped.
    Mirror,
    /// A thread of the load run, on its `socket`-th connection.
    Load { thread: u32, socket: u32 },
    /// A single request sent by `meshsim eval`/`route`: its answer and
    /// everything about it is kept.
    Probe,
}

#[derive(Clone, Debug)]
pub struct Call {
    /// Bumped each time the slot is reused, so stale timeouts are ignored.
    pub generation: u32,
    pub parent: Parent,
    pub src_pod: Option<PodId>,
    pub src_workload: Option<WorkloadId>,
    /// A proxy on the client side (its sidecar, or the gateway itself)
    /// decided where the request went and reports it as `source`.
    pub client_sidecar: bool,
    /// The client is in the ambient mesh: its node's ztunnel carried the
    /// connection (HBONE) without reading HTTP ([`super::ambient`]).
    pub client_ztunnel: bool,
    /// The Service the client's ztunnel sent through its waypoint, and the
    /// port dialled: the waypoint routes the request as for that Service.
    pub waypoint_target: Option<(crate::k8s::ServiceId, u16)>,
    /// The client proxy carried the connection at L4 (a TCP or TLS port):
    /// it neither read nor changed the HTTP inside.
    pub l4: bool,
    /// The telemetry label of the destination service (`destination_service`).
    pub dest_label: Option<u32>,
    /// The cluster the client proxy chose (a name in the world's texts).
    pub cluster: Option<u32>,
    /// The route it took (Envoy's route name, in the world's texts), kept
    /// only for access logs.
    pub route: Option<u32>,
    /// The client proxy's load-balancer lease on the chosen host.
    pub lease: Option<Lease>,
    /// The pool connection the request went on.
    pub conn: Option<ConnId>,
    /// The host the request waits for a pool connection to.
    pub waiting: Option<Box<Upstream>>,
    /// The cluster's DestinationRule `tls.mode`; `None`: auto mTLS.
    pub tls: Option<TlsMode>,
    /// Header operations the client proxy applies to the response.
    pub response_ops: Option<Box<HeaderOps>>,
    pub dst: Option<Endpoint>,
    /// The request left the cluster (a ServiceEntry host, passthrough).
    pub external: bool,
    pub dst_workload: Option<WorkloadId>,
    pub server_sidecar: bool,
    /// The server is in the ambient mesh: its node's ztunnel took the
    /// connection.
    pub server_ztunnel: bool,
    /// Why the destination's ztunnel refused the connection, as its
    /// access log words it.
    pub ztunnel_denial: Option<Box<str>>,
    pub req: ReqId,
    pub sent_at: SimTime,
    /// When the request reached the server's proxy (or app, without one).
    pub arrived_at: SimTime,
    pub state: AppState,
    pub outcome: Outcome,
    pub flags: ResponseFlags,
    /// The client stopped waiting (its timeout fired); the answer, when it
    /// comes, is dropped.
    pub abandoned: bool,
    /// The request reached the server's application.
    pub arrived: bool,
    /// The server answered (the client may not have heard yet).
    pub answered: bool,
    /// The server's application answered (not its proxy refusing it).
    pub served: bool,
    /// The slot is free.
    released: bool,
    /// Clusters that got a mirrored copy (names in the world's texts).
    pub mirrored: Vec<u32>,
    /// A gateway's forwarded request, as the gateway routed it: copied from
    /// the relayed call when its answer comes back.
    pub routed: Option<Box<Routed>>,
    /// How the client proxy may try again; see [`Attempts`].
    pub attempts: Attempts,
    /// The call this one continues (a retry, or the client's side of an
    /// attempt left behind by a timeout): the reference events scheduled
    /// for the first attempt hold.
    pub origin: Option<CallRef>,
}

/// The client proxy's retry state for a call it forwarded over HTTP.
#[derive(Clone, Debug, Default)]
pub struct Attempts {
    /// The route's policy; `None`: the proxy never retries this call.
    pub policy: Option<Arc<RetryPolicy>>,
    /// The cluster (index in the proxy's configuration) and the
    /// configuration revision it belongs to.
    pub cluster: usize,
    pub revision: u64,
    /// The consistent-hash key the balancer picked with.
    pub hash: Option<u64>,
    /// Retries made so far.
    pub retries: u32,
    /// Attempts that reached a host (picked by the balancer).
    pub tries: u32,
    /// Hosts tried by earlier attempts (`previous_hosts`).
    pub tried: Vec<Endpoint>,
    /// When the route timeout fires, if the route has one.
    pub deadline: Option<SimTime>,
}

/// Where a proxy sent a request: for reports of requests that entered
/// through a gateway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Routed {
    pub cluster: Option<u32>,
    pub dst: Option<Endpoint>,
    pub req: ReqId,
    pub mirrored: Vec<u32>,
    pub external: bool,
    /// The gateway proxied the connection at L4.
    pub l4: bool,
    /// Attempts the gateway made.
    pub tries: u32,
}

impl Call {
    fn blank() -> Call {
        Call {
            generation: 0,
            parent: Parent::Client {
                generator: 0,
                client: 0,
            },
            src_pod: None,
            src_workload: None,
            client_sidecar: false,
            client_ztunnel: false,
            waypoint_target: None,
            l4: false,
            dest_label: None,
            cluster: None,
            route: None,
            lease: None,
            conn: None,
            waiting: None,
            tls: None,
            response_ops: None,
            dst: None,
            external: false,
            dst_workload: None,
            server_sidecar: false,
            server_ztunnel: false,
            ztunnel_denial: None,
            req: ReqId(0),
            sent_at: SimTime::ZERO,
            arrived_at: SimTime::ZERO,
            state: AppState::default(),
            outcome: Outcome::Response {
                status: 0,
                body: Body::Empty,
            },
            flags: ResponseFlags::NONE,
            abandoned: false,
            arrived: false,
            answered: false,
            served: false,
            released: false,
            mirrored: Vec::new(),
            routed: None,
            attempts: Attempts::default(),
            origin: None,
        }
    }
}

#[derive(Default)]
pub struct Calls {
    slots: Vec<Call>,
    free: Vec<u32>,
    live: usize,
    pub peak: usize,
    /// A call's first reference → the slot now carrying its client side,
    /// for calls that moved (retried, or timed out while the server still
    /// works on the old attempt).
    moved: BTreeMap<CallRef, CallRef>,
}

impl Calls {
    /// A fresh call slot, reset except for its generation.
    pub fn alloc(&mut self) -> CallId {
        self.live += 1;
        self.peak = self.peak.max(self.live);
        match self.free.pop() {
            Some(i) => {
                let slot = &mut self.slots[i as usize];
                let generation = slot.generation.wrapping_add(1);
                *slot = Call::blank();
                slot.generation = generation;
                CallId(i)
            }
            None => {
                self.slots.push(Call::blank());
                CallId(self.slots.len() as u32 - 1)
            }
        }
    }

    pub fn release(&mut self, id: CallId) {
        self.live -= 1;
        self.slots[id.0 as usize].released = true;
        self.free.push(id.0);
    }

    pub fn get(&self, id: CallId) -> &Call {
        &self.slots[id.0 as usize]
    }

    /// The call `r` refers to, if its slot has not been reused since.
    pub fn resolve(&self, r: CallRef) -> Option<&Call> {
        self.slots
            .get(r.id.0 as usize)
            .filter(|c| c.generation == r.generation && !c.released)
    }

    /// Where the client side of the call first issued as `r` is now.
    pub fn current(&self, r: CallRef) -> CallRef {
        self.moved.get(&r).copied().unwrap_or(r)
    }

    /// A new slot to carry on the client side of call `id` (its next
    /// attempt, or its end after a timeout): everything the client and its
    /// proxy know is copied, nothing of the server's side. `id` stays as it
    /// is; the caller releases or abandons it.
    pub fn successor(&mut self, id: CallId) -> CallId {
        let next = self.alloc();
        let old_ref = self.reference(id);
        let old = &self.slots[id.0 as usize];
        let origin = old.origin.unwrap_or(old_ref);
        let carried = Call {
            generation: self.slots[next.0 as usize].generation,
            parent: old.parent,
            src_pod: old.src_pod,
            src_workload: old.src_workload,
            client_sidecar: old.client_sidecar,
            client_ztunnel: old.client_ztunnel,
            waypoint_target: old.waypoint_target,
            l4: old.l4,
            dest_label: old.dest_label,
            cluster: old.cluster,
            response_ops: old.response_ops.clone(),
            req: old.req,
            sent_at: old.sent_at,
            flags: old.flags,
            mirrored: old.mirrored.clone(),
            attempts: old.attempts.clone(),
            origin: Some(origin),
            ..Call::blank()
        };
        self.slots[next.0 as usize] = carried;
        let next_ref = self.reference(next);
        self.moved.insert(origin, next_ref);
        next
    }

    /// Forgets where call `id` moved: its client has its answer, or gave
    /// up on it.
    pub fn forget(&mut self, id: CallId) {
        if let Some(origin) = self.slots[id.0 as usize].origin {
            self.moved.remove(&origin);
        }
    }

    pub fn reference(&self, id: CallId) -> CallRef {
        CallRef {
            id,
            generation: self.slots[id.0 as usize].generation,
        }
    }

    pub fn get_mut(&mut self, id: CallId) -> &mut Call {
        &mut self.slots[id.0 as usize]
    }

    pub fn live(&self) -> usize {
        self.live
    }

    /// Ids of live calls being served by `pod` (arrived, not answered).
    pub fn at_pod(&self, pod: PodId) -> Vec<CallId> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                !c.released && c.arrived && !c.answered && c.dst.is_some_and(|e| e.pod == pod)
            })
            .map(|(i, _)| CallId(i as u32))
            .collect()
    }
}
