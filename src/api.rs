//! A Kubernetes API server for the real `kubectl` (`meshsim up`): the
//! resources meshsim knows, served from a store joined to the simulated
//! world. What kubectl needs, request by request, is in
//! `facts/kubectl-api.md`; `docs/api.md` says what is served and how.

pub mod cluster;
pub mod defaults;
pub mod events;
pub mod exec;
pub mod handler;
pub mod metrics;
pub mod patch;
pub mod portforward;
pub mod project;
pub mod protobuf;
pub mod resources;
pub mod selectors;
pub mod server;
pub mod snapshot;
pub mod spdy;
pub mod status;
pub mod store;
pub mod table;
pub mod tls;

pub use cluster::{ApiCluster, KUBE_VERSION};
