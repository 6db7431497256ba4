//! Envoy's HTTP/1.1 connection pool and circuit breakers for one upstream
//! cluster of one proxy, sans-IO.
//!
//! Envoy keeps a pool per upstream host on each worker thread
//! (`ConnPoolImplBase`): idle connections, connections being established,
//! busy ones, and the streams pending a connection. The circuit breakers
//! are cluster-wide (`ResourceManager`): `max_connections`,
//! `max_pending_requests`, `max_requests`, `max_retries`. A `host` here is
//! one such per-worker host pool (the caller folds the worker into the
//! key). What this module reproduces:
//!
//! - A stream takes an idle connection to its host at once; else it pends
//!   — unless `max_pending_requests` streams pend already: overflow (503
//!   UO, `upstream_rq_pending_overflow`). `max_requests` bounds streams on
//!   connections the same way.
//! - A pending stream asks for a new connection when the host's connections
//!   being established cannot take it; past `max_connections` none is made
//!   (`upstream_cx_overflow`) — except that a host with no connection at all
//!   always gets one (`tryCreateNewConnection`), so pending streams are
//!   never stranded.
//! - A finished stream frees its connection for the host's next pending
//!   stream, or closes it after `max_requests_per_connection` streams (1:
//!   no keep-alive) or when the stream was reset; pending streams then get
//!   a new connection.
//!
//! Istio writes every threshold as 2^32-1 unless a DestinationRule's
//! `connectionPool` sets it (`getDefaultCircuitBreakerThresholds`).

use std::collections::{BTreeMap, VecDeque};

/// The cluster's limits, as istiod writes them (`applyConnectionPool`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_connections: u32,
    pub max_pending_requests: u32,
    pub max_requests: u32,
    /// 0: unlimited.
    pub max_requests_per_connection: u32,
    pub max_retries: u32,
}

impl Limits {
    /// Istio's thresholds when no DestinationRule sets any.
    pub const UNLIMITED: Limits = Limits {
        max_connections: u32::MAX,
        max_pending_requests: u32::MAX,
        max_requests: u32::MAX,
        max_requests_per_connection: 0,
        max_retries: u32::MAX,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::UNLIMITED
    }
}

/// A connection of the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ConnId(pub u32);

/// The cluster's Envoy counters and gauges (`cluster.<name>.*`): the
/// pool's here, the router's and outlier detection's kept by their owners.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterStats {
    pub upstream_rq_retry: u64,
    pub upstream_rq_retry_success: u64,
    pub upstream_rq_retry_limit_exceeded: u64,
    pub upstream_rq_retry_backoff_exponential: u64,
    pub upstream_rq_timeout: u64,
    pub upstream_rq_per_try_timeout: u64,
    pub upstream_cx_connect_fail: u64,
    pub upstream_cx_total: u64,
    pub upstream_cx_active: u64,
    pub upstream_cx_overflow: u64,
    pub upstream_cx_destroy_local: u64,
    pub upstream_rq_total: u64,
    pub upstream_rq_active: u64,
    pub upstream_rq_pending_total: u64,
    pub upstream_rq_pending_active: u64,
    pub upstream_rq_pending_overflow: u64,
    pub upstream_rq_retry_overflow: u64,
    pub upstream_rq_completed: u64,
    /// `upstream_rq_<code>`: upstream answers by status.
    pub upstream_rq_by_status: BTreeMap<u16, u64>,
}

/// What becomes of a new stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admit {
    /// Sent at once on this idle connection.
    Send(ConnId),
    /// Pending; `connect` is a connection started for it (the caller
    /// reports when it is up with [`Pool::connected`]).
    Pending { connect: Option<ConnId> },
    /// A circuit breaker is open: 503 UO.
    Overflow,
}

/// What the pool does after a connection came up or a stream ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next<T> {
    /// Send this pending stream on this connection.
    Send(T, ConnId),
    /// A new connection was started for the pending streams.
    Connect(ConnId),
    Nothing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Connecting,
    Idle,
    Busy,
    Closed,
}

#[derive(Clone, Debug)]
struct Conn {
    host: u64,
    state: State,
    streams: u32,
}

#[derive(Clone, Debug)]
struct Host<T> {
    idle: Vec<ConnId>,
    connecting: u32,
    open: u32,
    pending: VecDeque<T>,
}

impl<T> Host<T> {
    fn new() -> Host<T> {
        Host {
            idle: Vec::new(),
            connecting: 0,
            open: 0,
            pending: VecDeque::new(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Pool<T> {
    pub limits: Limits,
    conns: Vec<Conn>,
    free: Vec<u32>,
    hosts: BTreeMap<u64, Host<T>>,
    connections: u32,
    pending: u32,
    active: u32,
    retries: u32,
    overflowed: Vec<T>,
    pub stats: ClusterStats,
}

impl<T: Copy + PartialEq> Pool<T> {
    pub fn new(limits: Limits) -> Pool<T> {
        Pool {
            limits,
            conns: Vec::new(),
            free: Vec::new(),
            hosts: BTreeMap::new(),
            connections: 0,
            pending: 0,
            active: 0,
            retries: 0,
            overflowed: Vec::new(),
            stats: ClusterStats::default(),
        }
    }

    /// A new stream `token` to `host` (`ConnPoolImplBase::newStreamImpl`).
    pub fn request(&mut self, host: u64, token: T) -> Admit {
        let h = self.hosts.entry(host).or_insert_with(Host::new);
        if !h.idle.is_empty() && self.active >= self.limits.max_requests {
            // `attachStreamToClient`: `max_requests` is checked when a
            // stream gets its connection.
            self.stats.upstream_rq_pending_overflow += 1;
            return Admit::Overflow;
        }
        if let Some(conn) = h.idle.pop() {
            self.conns[conn.0 as usize].state = State::Busy;
            self.start_stream();
            return Admit::Send(conn);
        }
        if self.pending >= self.limits.max_pending_requests {
            self.stats.upstream_rq_pending_overflow += 1;
            return Admit::Overflow;
        }
        h.pending.push_back(token);
        self.pending += 1;
        self.stats.upstream_rq_pending_total += 1;
        self.stats.upstream_rq_pending_active = u64::from(self.pending);
        Admit::Pending {
            connect: self.maybe_connect(host),
        }
    }

    /// Connection `conn` is established: it takes its host's first pending
    /// stream, or waits idle.
    pub fn connected(&mut self, conn: ConnId) -> Next<T> {
        let c = &mut self.conns[conn.0 as usize];
        if c.state != State::Connecting {
            return Next::Nothing;
        }
        let host = c.host;
        let h = self.hosts.get_mut(&host).expect("connections have a host");
        h.connecting -= 1;
        self.assign(conn, host)
    }

    /// The stream on `conn` ended; `reset` when it did not finish cleanly
    /// (HTTP/1.1 then closes the connection).
    pub fn finished(&mut self, conn: ConnId, reset: bool) -> Next<T> {
        self.active -= 1;
        self.stats.upstream_rq_active = u64::from(self.active);
        let c = &mut self.conns[conn.0 as usize];
        c.streams += 1;
        let host = c.host;
        let spent = self.limits.max_requests_per_connection != 0
            && c.streams >= self.limits.max_requests_per_connection;
        if reset || spent {
            self.close(conn);
            return match self.maybe_connect(host) {
                Some(new) => Next::Connect(new),
                None => Next::Nothing,
            };
        }
        self.assign(conn, host)
    }

    /// Pending stream `token` gave up (its request timed out).
    pub fn cancel(&mut self, host: u64, token: T) {
        if let Some(h) = self.hosts.get_mut(&host)
            && let Some(i) = h.pending.iter().position(|t| *t == token)
        {
            h.pending.remove(i);
            self.pending -= 1;
            self.stats.upstream_rq_pending_active = u64::from(self.pending);
        }
    }

    /// Whether a retry may start (`max_retries`, counting retries waiting
    /// for their backoff); counts it when it may.
    pub fn start_retry(&mut self) -> bool {
        if self.retries >= self.limits.max_retries {
            self.stats.upstream_rq_retry_overflow += 1;
            return false;
        }
        self.retries += 1;
        true
    }

    /// A retry's backoff is over (Envoy releases the retry resource then).
    pub fn retry_started(&mut self) {
        self.retries = self.retries.saturating_sub(1);
    }

    /// What the circuit breakers count now: (connections, pending streams,
    /// active streams, retries under way).
    pub fn in_use(&self) -> (u32, u32, u32, u32) {
        (self.connections, self.pending, self.active, self.retries)
    }

    /// Counts an upstream answer on the cluster.
    pub fn answered(&mut self, status: u16) {
        self.stats.upstream_rq_completed += 1;
        *self.stats.upstream_rq_by_status.entry(status).or_default() += 1;
    }

    fn start_stream(&mut self) {
        self.active += 1;
        self.stats.upstream_rq_total += 1;
        self.stats.upstream_rq_active = u64::from(self.active);
    }

    /// Gives `conn` (up, free) its host's next pending stream, or idles it.
    /// While `max_requests` streams are active, each pending stream the
    /// connection would take overflows instead (Envoy's `onUpstreamReady`
    /// loop over `attachStreamToClient`); see [`Pool::take_overflowed`].
    fn assign(&mut self, conn: ConnId, host: u64) -> Next<T> {
        let h = self.hosts.get_mut(&host).expect("connections have a host");
        while let Some(token) = h.pending.pop_front() {
            self.pending -= 1;
            self.stats.upstream_rq_pending_active = u64::from(self.pending);
            if self.active >= self.limits.max_requests {
                self.stats.upstream_rq_pending_overflow += 1;
                self.overflowed.push(token);
                continue;
            }
            self.conns[conn.0 as usize].state = State::Busy;
            self.start_stream();
            return Next::Send(token, conn);
        }
        self.conns[conn.0 as usize].state = State::Idle;
        h.idle.push(conn);
        Next::Nothing
    }

    /// Pending streams that overflowed when a connection came free (503
    /// UO for each).
    pub fn take_overflowed(&mut self) -> Vec<T> {
        std::mem::take(&mut self.overflowed)
    }

    /// Starts a connection to `host` when its pending streams outnumber
    /// its connections being established, within `max_connections` (or
    /// when the host has none at all).
    fn maybe_connect(&mut self, host: u64) -> Option<ConnId> {
        let h = self.hosts.get_mut(&host).expect("the host was just used");
        if h.pending.len() as u32 <= h.connecting {
            return None;
        }
        if self.connections >= self.limits.max_connections {
            self.stats.upstream_cx_overflow += 1;
            if h.open > 0 {
                return None;
            }
        }
        h.connecting += 1;
        h.open += 1;
        self.connections += 1;
        self.stats.upstream_cx_total += 1;
        self.stats.upstream_cx_active = u64::from(self.connections);
        let conn = Conn {
            host,
            state: State::Connecting,
            streams: 0,
        };
        Some(match self.free.pop() {
            Some(i) => {
                self.conns[i as usize] = conn;
                ConnId(i)
            }
            None => {
                self.conns.push(conn);
                ConnId(self.conns.len() as u32 - 1)
            }
        })
    }

    fn close(&mut self, conn: ConnId) {
        let c = &mut self.conns[conn.0 as usize];
        c.state = State::Closed;
        let h = self
            .hosts
            .get_mut(&c.host)
            .expect("connections have a host");
        h.open -= 1;
        self.connections -= 1;
        self.stats.upstream_cx_active = u64::from(self.connections);
        self.stats.upstream_cx_destroy_local += 1;
        self.free.push(conn.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The course's circuit breaker: 1 connection, 1 pending request, 1
    /// request per connection.
    fn course() -> Pool<u32> {
        Pool::new(Limits {
            max_connections: 1,
            max_pending_requests: 1,
            max_requests_per_connection: 1,
            ..Limits::UNLIMITED
        })
    }

    #[test]
    fn a_second_request_while_connecting_overflows() {
        let mut p = course();
        let Admit::Pending { connect: Some(c) } = p.request(7, 1) else {
            panic!("the first request opens a connection");
        };
        assert_eq!(p.request(7, 2), Admit::Overflow);
        assert_eq!(p.connected(c), Next::Send(1, c));
        // On the busy connection one request may pend; a third overflows.
        assert_eq!(p.request(7, 3), Admit::Pending { connect: None });
        assert_eq!(p.request(7, 4), Admit::Overflow);
        assert_eq!(p.stats.upstream_rq_pending_overflow, 2);
        assert_eq!(p.stats.upstream_cx_overflow, 1);
        // One request per connection: it closes, a new one serves 3.
        let Next::Connect(c2) = p.finished(c, false) else {
            panic!("the pending request needs a new connection");
        };
        assert_eq!(p.connected(c2), Next::Send(3, c2));
        assert_eq!(p.finished(c2, false), Next::Nothing);
        assert_eq!(p.stats.upstream_cx_total, 2);
        assert_eq!(p.stats.upstream_rq_total, 2);
    }

    #[test]
    fn keep_alive_reuses_idle_connections() {
        let mut p: Pool<u32> = Pool::new(Limits::UNLIMITED);
        let Admit::Pending { connect: Some(c) } = p.request(1, 1) else {
            panic!()
        };
        assert_eq!(p.connected(c), Next::Send(1, c));
        assert_eq!(p.finished(c, false), Next::Nothing);
        assert_eq!(p.request(1, 2), Admit::Send(c));
        // A reset stream closes its HTTP/1.1 connection.
        assert_eq!(p.finished(c, true), Next::Nothing);
        assert!(matches!(
            p.request(1, 3),
            Admit::Pending { connect: Some(_) }
        ));
        assert_eq!(p.stats.upstream_cx_total, 2);
    }

    #[test]
    fn a_host_without_connections_gets_one_past_the_limit() {
        let mut p: Pool<u32> = Pool::new(Limits {
            max_connections: 1,
            ..Limits::UNLIMITED
        });
        assert!(matches!(
            p.request(1, 1),
            Admit::Pending { connect: Some(_) }
        ));
        assert!(matches!(
            p.request(2, 2),
            Admit::Pending { connect: Some(_) }
        ));
        assert_eq!(p.request(2, 3), Admit::Pending { connect: None });
        assert_eq!(p.stats.upstream_cx_overflow, 2);
    }

    #[test]
    fn cancelled_pending_requests_free_their_place() {
        let mut p = course();
        assert!(matches!(p.request(1, 1), Admit::Pending { .. }));
        p.cancel(1, 1);
        assert_eq!(p.in_use().1, 0);
        assert!(matches!(p.request(1, 2), Admit::Pending { .. }));
    }

    #[test]
    fn max_retries_bounds_concurrent_retries() {
        let mut p: Pool<u32> = Pool::new(Limits {
            max_retries: 1,
            ..Limits::UNLIMITED
        });
        assert!(p.start_retry());
        assert!(!p.start_retry());
        p.retry_started();
        assert!(p.start_retry());
        assert_eq!(p.stats.upstream_rq_retry_overflow, 1);
    }

    #[derive(Clone, Debug)]
    enum Op {
        Request(u64),
        Connected(usize),
        Finished(usize, bool),
        Cancel(usize),
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            (0u64..3).prop_map(Op::Request),
            (0usize..8).prop_map(Op::Connected),
            (0usize..8, any::<bool>()).prop_map(|(i, r)| Op::Finished(i, r)),
            (0usize..8).prop_map(Op::Cancel),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config {
            cases: 256,
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x9001),
            failure_persistence: None,
            ..proptest::test_runner::Config::default()
        })]

        /// Whatever happens, the pending queue stays within
        /// `max_pending_requests` and active streams within `max_requests`;
        /// every pending stream is eventually the one a connection takes.
        #[test]
        fn the_limits_hold(
            max_connections in 1u32..4,
            max_pending in 1u32..4,
            max_requests in 1u32..6,
            per_connection in 0u32..3,
            ops in proptest::collection::vec(op(), 1..80),
        ) {
            let mut p: Pool<u32> = Pool::new(Limits {
                max_connections,
                max_pending_requests: max_pending,
                max_requests,
                max_requests_per_connection: per_connection,
                max_retries: u32::MAX,
            });
            let mut connecting: Vec<ConnId> = Vec::new();
            let mut busy: Vec<ConnId> = Vec::new();
            let mut waiting: Vec<(u64, u32)> = Vec::new();
            let mut next_token = 0;
            let follow = |p: &mut Pool<u32>, n: Next<u32>, connecting: &mut Vec<ConnId>, busy: &mut Vec<ConnId>, waiting: &mut Vec<(u64, u32)>| {
                for t in p.take_overflowed() {
                    waiting.retain(|(_, w)| *w != t);
                }
                match n {
                    Next::Send(t, c) => {
                        waiting.retain(|(_, w)| *w != t);
                        busy.push(c);
                    }
                    Next::Connect(c) => connecting.push(c),
                    Next::Nothing => {}
                }
            };
            for op in ops {
                match op {
                    Op::Request(host) => {
                        next_token += 1;
                        match p.request(host, next_token) {
                            Admit::Send(c) => busy.push(c),
                            Admit::Pending { connect } => {
                                waiting.push((host, next_token));
                                connecting.extend(connect);
                            }
                            Admit::Overflow => {}
                        }
                    }
                    Op::Connected(i) if !connecting.is_empty() => {
                        let c = connecting.remove(i % connecting.len());
                        let n = p.connected(c);
                        follow(&mut p, n, &mut connecting, &mut busy, &mut waiting);
                    }
                    Op::Finished(i, reset) if !busy.is_empty() => {
                        let c = busy.remove(i % busy.len());
                        let n = p.finished(c, reset);
                        follow(&mut p, n, &mut connecting, &mut busy, &mut waiting);
                    }
                    Op::Cancel(i) if !waiting.is_empty() => {
                        let (host, t) = waiting.remove(i % waiting.len());
                        p.cancel(host, t);
                    }
                    _ => {}
                }
                let (_, pending, active, _) = p.in_use();
                proptest::prop_assert!(pending <= max_pending, "{} pending", pending);
                proptest::prop_assert!(active <= max_requests, "{} active", active);
                proptest::prop_assert_eq!(pending as usize, waiting.len());
                proptest::prop_assert_eq!(active as usize, busy.len());
            }
        }
    }
}
