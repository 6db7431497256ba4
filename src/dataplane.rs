//! The data path, sans-IO: what a proxy decides for a request, as pure
//! functions of its configuration, the request, and a random stream. The
//! simulator (`crate::world`) and, later, a live driver execute the
//! decisions; nothing here reads a clock or touches a socket.
//!
//! This first cut carries a request from a client proxy to a ready endpoint
//! of the Service it names (round robin, per proxy), or fails it as Envoy
//! does when there is none; the cost model says what each hop adds.

pub mod access_log;
pub mod authz;
pub mod cost;
pub mod flags;
pub mod jwt;
pub mod lb;
pub mod outlier;
pub mod pool;
pub mod proxy;
pub mod retry;
pub mod route_match;
pub mod router;
pub mod xds;

pub use cost::Costs;
pub use flags::ResponseFlags;
pub use proxy::{Lease, Sidecar, Upstream, kube_proxy_pick};
