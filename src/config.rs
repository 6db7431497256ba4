//! Configuration as people write it: multi-document YAML files of
//! Kubernetes, Istio and Gateway API objects, loaded into typed objects with
//! every problem located to file, document and line.
//!
//! Loading happens in the same three stages a real API server uses, so the
//! messages are the ones a real cluster would print:
//! 1. decode: YAML syntax, unknown fields, wrong types ([`crate::yaml`]);
//! 2. schema: required fields, enums, formats (the CRD/OpenAPI rules);
//! 3. semantic validation: istiod's webhook rules and the apiserver's
//!    built-in validation, in the words those components use.

pub mod apps_v1;
pub mod core_v1;
pub mod diag;
pub mod gateway_api;
pub mod kinds;
pub mod load;
pub mod meta;
pub mod networking;
pub mod security;
pub mod sim_annotations;
pub mod telemetry;
#[cfg(test)]
pub(crate) mod testing;
pub mod types;
pub mod validate;

pub use diag::{Diagnostic, Severity};
pub use kinds::{Body, KindInfo, Object};
pub use load::{Loaded, load_paths, load_str};
pub use meta::ObjectMeta;
