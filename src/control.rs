//! The control plane: what `istioctl install` puts in the cluster (istiod,
//! gateways, ztunnel, waypoints' deployments), and the admission hook through which istiod's sidecar
//! injector decides which pods get an `istio-proxy`.

pub mod ca;
pub mod destination_rules;
pub mod injection;
pub mod install;
pub mod registry;
pub mod routing;
pub mod security;
pub mod store;
pub mod waypoint;

pub use injection::SidecarInjector;
pub use install::Profile;
