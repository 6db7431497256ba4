//! YAML with a location on every node, and a serde deserializer over it that
//! reports every problem it can find instead of stopping at the first.
//!
//! Kubernetes users write YAML by hand; a good error names the file, the
//! document and the line. Generic YAML-to-serde crates lose positions as soon
//! as a value is handed to a visitor, so meshsim keeps its own tree
//! ([`Node`]) built from `saphyr-parser` events, and its own deserializer
//! ([`de::from_node`]) that knows, for every value it hands out, which line it
//! came from and which path (`spec.template.spec.containers[0].image`) leads to
//! it.

pub mod de;
pub mod node;

pub use de::{Problem, from_node};
pub use node::{Document, Loc, Node, Scalar, SyntaxError, Value, parse_documents};
