//! The Kubernetes cluster around the mesh: nodes, namespaces, workloads and
//! their pods, services and their endpoints, and the controllers that move
//! pods from Pending to Ready over virtual time.
//!
//! Like the data path, the cluster is sans-IO: [`Cluster::apply`] and the
//! pod lifecycle calls change state and return [`Effect`]s (a pod was
//! created, a service's endpoints changed) that the world turns into events.
//! Nothing here knows about Istio; sidecar injection plugs in through the
//! [`Admission`] hook, as a mutating webhook does in a real cluster.

pub mod cluster;
pub mod names;
pub mod scheduler;

pub use cluster::{
    Admission, Cluster, Effect, Endpoint, NodeId, NodeSpec, Pod, PodId, PodPhase, Service,
    ServiceId, ServicePort, Workload, WorkloadId,
};
