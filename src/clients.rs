//! The command-line clients the course runs inside pods, with their real
//! interfaces and output: `fortio load` and `curl`. Each is sans-IO: it
//! parses its arguments, and renders what the simulation made of the
//! requests exactly as the real tool prints it.

pub mod curl;
pub mod fortio;
