//! `fortio load` (placeholder until the module lands).
