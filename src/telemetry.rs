//! What the mesh observed: request counts and latency histograms keyed the
//! way Istio's standard metrics are (`reporter`, source workload,
//! destination service and workload, response code and flags), and what
//! each traffic generator's clients saw end to end.

pub mod latency;
pub mod recorder;
pub mod report;

pub use latency::Latency;
pub use recorder::{ClientStats, EdgeKey, Reporter, Telemetry};
pub use report::Report;
