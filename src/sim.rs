//! The deterministic discrete-event engine: a virtual clock, an event queue
//! ordered by (time, sequence), and seeded RNG streams.
//!
//! Nothing in here knows about Kubernetes or Istio. The world that uses it
//! (`crate::world`) decides what an event means; this module only promises
//! that the same pushes in the same order pop in the same order, and that a
//! named random stream yields the same numbers for the same seed.

pub mod dist;
pub mod queue;
pub mod rng;
pub mod time;

pub use dist::Dist;
pub use queue::Queue;
pub use rng::Rng;
pub use time::{SimDuration, SimTime};
