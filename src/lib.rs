//! meshsim: an Istio service mesh and the Kubernetes cluster around it,
//! simulated deterministically in one process. See `DESIGN.md` in the
//! repository docs for the architecture.

pub mod api;
pub mod apps;
pub mod cli;
pub mod clients;
pub mod config;
pub mod control;
pub mod dataplane;
pub mod exec;
pub mod go;
pub mod issuer;
pub mod istioctl;
pub mod k8s;
pub mod kubectl;
pub mod live;
pub mod scenario;
pub mod sim;
pub mod telemetry;
pub mod web;
pub mod world;
pub mod yaml;
