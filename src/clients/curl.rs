//! `curl` (placeholder until the module lands).
