//! networking.istio.io: VirtualService, DestinationRule, Gateway,
//! ServiceEntry, Sidecar, WorkloadEntry, WorkloadGroup, EnvoyFilter,
//! ProxyConfig. Field names follow istio/api's protos (served as v1, v1beta1
//! and v1alpha3, which share one schema); validation follows istiod's
//! webhook (`pkg/config/validation`) and the CRD rules that run before it.

pub mod common;
pub mod destination_rule;
pub mod envoy_filter;
pub mod gateway;
pub mod service_entry;
pub mod sidecar;
pub mod virtual_service;
pub mod workload;

pub use destination_rule::DestinationRule;
pub use envoy_filter::{EnvoyFilter, ProxyConfig};
pub use gateway::Gateway;
pub use service_entry::ServiceEntry;
pub use sidecar::Sidecar;
pub use virtual_service::VirtualService;
pub use workload::{WorkloadEntry, WorkloadGroup};
