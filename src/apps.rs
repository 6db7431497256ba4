//! What the workloads do: models of the applications that run in pods.
//!
//! An application model is a sans-IO state machine per request: given what
//! just happened (the request arrived, a CPU burst finished, a downstream
//! call answered) it says what to do next (compute for a while, call a
//! service, respond). The world runs the model on a [`server::Server`] —
//! workers and cores with queues — so latency grows with load as it does in
//! a real process. Models know nothing about proxies: a call goes to a host
//! name and comes back as a response or a failure.
//!
//! Built-in models exist for Bookinfo's services; any other image runs the
//! generic model, tuned by `meshsim.io/*` annotations.

pub mod bookinfo;
pub mod echo;
pub mod footprint;
pub mod generic;
pub mod http;
pub mod logs;
pub mod model;
pub mod server;

pub use http::{Body, Failure, Outcome, Request};
pub use model::{AppState, Input, Model, Step, Target};
pub use server::Server;
