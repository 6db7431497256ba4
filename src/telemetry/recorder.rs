//! Where requests are counted.

use std::collections::BTreeMap;

use crate::dataplane::ResponseFlags;
use crate::k8s::WorkloadId;
use crate::sim::SimDuration;

use super::latency::Latency;

/// Which proxy reported (Istio's `reporter` label).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reporter {
    /// The client-side sidecar.
    Source,
    /// The server-side sidecar.
    Destination,
    /// An ambient waypoint (Istio's `reporter="waypoint"`, a server-side
    /// gateway reporter): the source is the client behind the ztunnel
    /// that tunnelled to it.
    Waypoint,
}

impl Reporter {
    /// The `reporter` label's value.
    pub fn label(self) -> &'static str {
        match self {
            Reporter::Source => "source",
            Reporter::Destination => "destination",
            Reporter::Waypoint => "waypoint",
        }
    }

    /// Which report of a service the run's report prefers: the server's
    /// own sidecar, else the waypoint in front of it, else the clients'.
    pub fn preference(self) -> u8 {
        match self {
            Reporter::Source => 0,
            Reporter::Waypoint => 1,
            Reporter::Destination => 2,
        }
    }
}

/// The labels of one `istio_requests_total` series family, without the
/// per-response labels (code, flags), which are counted inside.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EdgeKey {
    pub reporter: Reporter,
    /// `None`: the source is outside the cluster (`unknown` in Istio).
    pub source: Option<WorkloadId>,
    /// `destination_service`, as an index into [`Telemetry::label_name`].
    pub service: u32,
    /// `None`: no pod answered (a proxy-generated response).
    pub destination: Option<WorkloadId>,
}

#[derive(Clone, Debug)]
pub struct Edge {
    pub key: EdgeKey,
    /// (response code, flags, count); code 0 is "no response".
    pub outcomes: Vec<(u16, ResponseFlags, u64)>,
    pub duration: Latency,
}

impl Edge {
    pub fn requests(&self) -> u64 {
        self.outcomes.iter().map(|o| o.2).sum()
    }
}

/// What one traffic generator's clients saw.
#[derive(Clone, Debug, Default)]
pub struct ClientStats {
    pub sent: u64,
    /// Status codes (`200`) and failures (`connection refused`) by count.
    pub outcomes: BTreeMap<String, u64>,
    pub latency: Latency,
}

/// `istio_tcp_*` of one series family, as a ztunnel reports them
/// (ztunnel's only metrics: it reads no HTTP).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpCounts {
    /// `istio_tcp_connections_opened_total` (and `…_closed_total`: every
    /// connection meshsim counts has completed).
    pub connections: u64,
    /// `istio_tcp_sent_bytes_total`.
    pub sent_bytes: u64,
    /// `istio_tcp_received_bytes_total`.
    pub received_bytes: u64,
}

#[derive(Clone, Debug, Default)]
pub struct Telemetry {
    /// ztunnels' TCP series, keyed like HTTP edges (reporter `source` or
    /// `destination`).
    tcp: BTreeMap<EdgeKey, TcpCounts>,
    edges: Vec<Edge>,
    index: BTreeMap<EdgeKey, usize>,
    labels: Vec<String>,
    label_index: BTreeMap<String, u32>,
    pub clients: Vec<ClientStats>,
}

impl Telemetry {
    /// The id of a `destination_service` value, interned.
    pub fn label(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.label_index.get(name) {
            return i;
        }
        let i = self.labels.len() as u32;
        self.labels.push(name.to_string());
        self.label_index.insert(name.to_string(), i);
        i
    }

    pub fn label_name(&self, id: u32) -> &str {
        &self.labels[id as usize]
    }

    pub fn record(&mut self, key: EdgeKey, code: u16, flags: ResponseFlags, duration: SimDuration) {
        let i = match self.index.get(&key) {
            Some(&i) => i,
            None => {
                self.edges.push(Edge {
                    key,
                    outcomes: Vec::new(),
                    duration: Latency::default(),
                });
                self.index.insert(key, self.edges.len() - 1);
                self.edges.len() - 1
            }
        };
        let edge = &mut self.edges[i];
        match edge
            .outcomes
            .iter_mut()
            .find(|o| o.0 == code && o.1 == flags)
        {
            Some(o) => o.2 += 1,
            None => edge.outcomes.push((code, flags, 1)),
        }
        edge.duration.record(duration);
    }

    /// A completed connection a ztunnel carried.
    pub fn record_tcp(&mut self, key: EdgeKey, sent: u64, received: u64) {
        let c = self.tcp.entry(key).or_default();
        c.connections += 1;
        c.sent_bytes += sent;
        c.received_bytes += received;
    }

    /// ztunnels' TCP series in label order.
    pub fn tcp(&self) -> impl Iterator<Item = (&EdgeKey, &TcpCounts)> {
        self.tcp.iter()
    }

    /// Edges in label order (deterministic whatever the recording order).
    pub fn edges(&self) -> impl Iterator<Item = &Edge> {
        self.index.values().map(|&i| &self.edges[i])
    }
}
