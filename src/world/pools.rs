//! The world's side of what a client proxy keeps per upstream cluster: its
//! connection pool ([`crate::dataplane::pool`]) — a request waits for a
//! connection, a connection takes time to establish (TCP, plus the mTLS
//! handshake when the server has a sidecar), overflow answers 503 UO — and
//! its outlier detector ([`crate::dataplane::outlier`]), which hears how
//! each attempt ended and ejects hosts.

use crate::apps::Body;
use crate::dataplane::lb::hash_key;
use crate::dataplane::outlier::Result as OutlierResult;
use crate::dataplane::pool::{Admit, ConnId, Limits, Next, Pool};
use crate::dataplane::{ResponseFlags, Upstream};
use crate::k8s::PodId;
use crate::sim::SimDuration;

use super::calls::{CallId, CallRef, Parent};
use super::{Event, World};

/// Envoy's local reply when a circuit breaker refuses the request.
pub const OVERFLOW_BODY: &str =
    "upstream connect error or disconnect/reset before headers. reset reason: overflow";

impl World {
    /// The pool of `proxy`'s cluster `name`, with the limits its latest
    /// configuration gives.
    fn pool(&mut self, proxy: PodId, name: u32, limits: Limits) -> &mut Pool<CallRef> {
        let pool = self.pods[proxy.0 as usize]
            .pools
            .entry(name)
            .or_insert_with(|| Pool::new(limits));
        pool.limits = limits;
        pool
    }

    /// Call `id`'s attempt, its host picked, asks the cluster's pool for a
    /// connection.
    pub(super) fn admit(&mut self, id: CallId, proxy: PodId, limits: Limits, up: Upstream) {
        let name = self
            .calls
            .get(id)
            .cluster
            .expect("forwarded calls name a cluster");
        let r = self.calls.reference(id);
        let key = self.pool_key(id, &up);
        match self.pool(proxy, name, limits).request(key, r) {
            Admit::Send(conn) => self.send_on(id, conn, up),
            Admit::Pending { connect } => {
                if let Some(conn) = connect {
                    let wait = self.connect_latency(Some(proxy), &up);
                    self.queue
                        .push_after(wait, Event::Connected(proxy, name, conn));
                }
                self.note(id, || "waits in the pool for a connection".to_string());
                self.calls.get_mut(id).waiting = Some(Box::new(up));
            }
            Admit::Overflow => self.overflow(id, proxy),
        }
    }

    /// A circuit breaker refused call `id`: its proxy answers 503 UO.
    fn overflow(&mut self, id: CallId, proxy: PodId) {
        self.note(id, || "circuit breaker open: 503 (UO)".to_string());
        let call = self.calls.get_mut(id);
        call.waiting = None;
        if let Some(lease) = call.lease.take()
            && let Some(p) = self.pods[proxy.0 as usize].proxy.as_mut()
        {
            p.release(lease);
        }
        let flags = call.flags | ResponseFlags::UO;
        let back = self.sidecar_pass(true);
        let call = self.calls.get_mut(id);
        call.answered = true;
        call.outcome = crate::apps::Outcome::Response {
            status: 503,
            body: Body::Static(OVERFLOW_BODY),
        };
        call.flags = flags;
        let r = self.calls.reference(id);
        self.queue.push_after(back, Event::Respond(r));
    }

    /// The request of call `id` leaves on pool connection `conn`; its
    /// per-try timeout starts.
    fn send_on(&mut self, id: CallId, conn: ConnId, up: Upstream) {
        let call = self.calls.get_mut(id);
        call.conn = Some(conn);
        if let Some(t) = call
            .attempts
            .policy
            .as_ref()
            .and_then(|p| p.per_try_timeout)
        {
            let r = self.calls.reference(id);
            self.queue.push_after(t, Event::PerTryTimeout(r));
        }
        self.deliver_after(id, up, SimDuration::ZERO);
    }

    pub(super) fn on_connected(&mut self, proxy: PodId, name: u32, conn: ConnId) {
        let Some(pool) = self.pods[proxy.0 as usize].pools.get_mut(&name) else {
            return;
        };
        let next = pool.connected(conn);
        let refused = pool.take_overflowed();
        self.pool_next(proxy, name, next, None, refused);
    }

    /// The stream of call `id` on its pool connection ended (`reset`: the
    /// proxy cut it); the connection serves the next pending request.
    pub(super) fn stream_done(&mut self, id: CallId, reset: bool) {
        let call = self.calls.get_mut(id);
        let (Some(conn), Some(name), Some(proxy)) = (call.conn.take(), call.cluster, call.src_pod)
        else {
            return;
        };
        let (dst, status) = (call.dst, call.outcome.status());
        let Some(pool) = self.pods[proxy.0 as usize].pools.get_mut(&name) else {
            return;
        };
        if let (false, Some(status)) = (reset, status) {
            pool.answered(status);
        }
        let next = pool.finished(conn, reset);
        let refused = pool.take_overflowed();
        self.pool_next(proxy, name, next, dst.map(Upstream::Pod), refused);
    }

    /// A pending call `r` gives up: it leaves its pool's queue.
    pub(super) fn unqueue(&mut self, r: CallRef) {
        let call = self.calls.get_mut(r.id);
        let (Some(up), Some(name), Some(proxy)) = (call.waiting.take(), call.cluster, call.src_pod)
        else {
            return;
        };
        let key = self.pool_key(r.id, &up);
        if let Some(pool) = self.pods[proxy.0 as usize].pools.get_mut(&name) {
            pool.cancel(key, r);
        }
    }

    /// Carries out what the pool decided: pending requests it `refused`
    /// get 503 UO; a pending request leaves, or a new connection starts
    /// (to `host`, the host whose stream ended).
    fn pool_next(
        &mut self,
        proxy: PodId,
        name: u32,
        next: Next<CallRef>,
        host: Option<Upstream>,
        refused: Vec<CallRef>,
    ) {
        for r in refused {
            self.overflow(r.id, proxy);
        }
        match next {
            Next::Send(r, conn) => {
                let up = self
                    .calls
                    .get_mut(r.id)
                    .waiting
                    .take()
                    .expect("pending calls wait for a host");
                self.send_on(r.id, conn, *up);
            }
            Next::Connect(conn) => {
                let wait = match &host {
                    Some(up) => self.connect_latency(Some(proxy), up),
                    None => SimDuration::ZERO,
                };
                self.queue
                    .push_after(wait, Event::Connected(proxy, name, conn));
            }
            Next::Nothing => {}
        }
    }

    /// The connection pool (and cluster counters) of call `id`'s cluster
    /// at its client proxy, once the call has used it.
    pub(super) fn pool_of(&mut self, id: CallId) -> Option<&mut Pool<CallRef>> {
        let call = self.calls.get(id);
        let (name, proxy) = (call.cluster?, call.src_pod?);
        self.pods[proxy.0 as usize].pools.get_mut(&name)
    }

    /// Tells the outlier detector of call `id`'s cluster how its attempt
    /// on a host ended; an ejection starts the detector's interval timer.
    pub(super) fn outlier_record(&mut self, id: CallId, result: OutlierResult) {
        let call = self.calls.get(id);
        let (Some(name), Some(proxy), Some(dst)) = (call.cluster, call.src_pod, call.dst) else {
            return;
        };
        let now = self.queue.now();
        let Some(d) = self.pods[proxy.0 as usize].outliers.get_mut(&name) else {
            return;
        };
        if d.record(Upstream::Pod(dst).host_key(), result, now) && !d.timer_armed {
            d.timer_armed = true;
            let interval = d.config.interval;
            self.note(id, || "outlier detection ejected the host".to_string());
            self.queue
                .push_after(interval, Event::OutlierTick(proxy, name));
        }
    }

    pub(super) fn on_outlier_tick(&mut self, proxy: PodId, name: u32) {
        let now = self.queue.now();
        let Some(d) = self.pods[proxy.0 as usize].outliers.get_mut(&name) else {
            return;
        };
        if d.tick(now) {
            let interval = d.config.interval;
            self.queue
                .push_after(interval, Event::OutlierTick(proxy, name));
        } else {
            d.timer_armed = false;
        }
    }

    /// Establishing a connection from `src` to `up`: the TCP handshake's
    /// round trip, and one more for the mTLS handshake when the server has
    /// a sidecar (TLS 1.3).
    fn connect_latency(&mut self, src: Option<PodId>, up: &Upstream) -> SimDuration {
        match up {
            Upstream::Pod(ep) => {
                let trips = if self.pods[ep.pod.0 as usize].proxy.is_some() {
                    2
                } else {
                    1
                };
                let mut d = SimDuration::ZERO;
                for _ in 0..trips {
                    d += self.network(src, Some(ep.pod)) + self.network(Some(ep.pod), src);
                }
                d
            }
            Upstream::External { .. } => self.network(src, None) + self.network(None, src),
        }
    }
}

/// Worker threads of every proxy: Istio runs sidecars with
/// `concurrency: 2` (`ProxyConfig.concurrency`, the injector's default).
const WORKERS: u64 = 2;

impl World {
    /// The pool call `id`'s attempt to `up` uses. Envoy keeps a pool per
    /// upstream host on each worker thread (the circuit breakers count
    /// across them), and a request is served by the worker that accepted
    /// its downstream connection: the kernel spreads connections over the
    /// workers (`SO_REUSEPORT`), so the worker is a hash of the connection —
    /// for a load generator's thread, of its current socket; for other
    /// clients, of the request's first call slot. Every attempt of a
    /// request stays on its worker.
    fn pool_key(&self, id: CallId, up: &Upstream) -> u64 {
        let call = self.calls.get(id);
        let connection = match call.parent {
            Parent::Load { thread, socket } => (u64::from(thread) << 32) | u64::from(socket),
            _ => u64::from(call.origin.map_or(id, |o| o.id).0),
        };
        let worker = hash_key(&(connection ^ self.seed).to_le_bytes()) % WORKERS;
        // A pod's host key is (pod << 16 | port), far below 2^56: the low
        // byte is free for the worker.
        up.host_key().rotate_left(8) ^ worker
    }
}
