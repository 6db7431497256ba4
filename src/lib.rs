//! meshsim: an Istio service mesh and the Kubernetes cluster around it,
//! simulated deterministically in one process. See `DESIGN.md` in the
//! repository docs for the architecture.

pub mod config;
pub mod sim;
pub mod yaml;
