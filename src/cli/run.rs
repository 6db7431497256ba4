//! `meshsim run SCENARIO`: simulate and report.

use std::path::PathBuf;

use crate::scenario::{self, Pattern, Scenario, Source};
use crate::sim::SimDuration;
use crate::telemetry::Report;
use crate::telemetry::report::{OverheadReport, RunInfo};
use crate::world::World;

use super::Output;

#[derive(clap::Args)]
pub struct Args {
    /// The scenario file (see docs/scenarios.md).
    scenario: PathBuf,
    /// Override the scenario's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Override the scenario's duration (Go syntax: 30s, 5m).
    #[arg(long, value_parser = parse_duration)]
    duration: Option<SimDuration>,
    #[arg(short, long, value_enum, default_value_t)]
    output: Output,
}

pub fn parse_duration(s: &str) -> Result<SimDuration, String> {
    SimDuration::parse(s).map_err(|e| e.to_string())
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let mut scenario = match scenario::load(&args.scenario) {
        Ok(s) => s,
        Err(diags) => {
            for d in diags {
                eprintln!("{d}");
            }
            return Ok(1);
        }
    };
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }
    if let Some(d) = args.duration {
        scenario.duration = d;
    }
    let Some(report) = simulate(&scenario)? else {
        return Ok(1);
    };
    match args.output {
        Output::Text => out!("{}", report.to_text()),
        Output::Json => out!("{}", report.to_json()),
    }
    Ok(0)
}

/// Runs a scenario to its report. `None` when the scenario's manifests are
/// invalid (the diagnostics have been printed).
pub fn simulate(scenario: &Scenario) -> anyhow::Result<Option<Report>> {
    let (mut world, warnings) = match World::new(scenario) {
        Ok(w) => w,
        Err(diags) => {
            for d in diags {
                eprintln!("{d}");
            }
            return Ok(None);
        }
    };
    for w in warnings {
        eprintln!("{w}");
    }
    world.run().map_err(anyhow::Error::msg)?;
    Ok(Some(report(&mut world)))
}

pub fn report(world: &mut World) -> Report {
    let duration = world.scenario().duration;
    let o = world.mesh_overhead(duration);
    let mib = |b: u64| (b as f64 / (1024.0 * 1024.0) * 10.0).round() / 10.0;
    let overhead = OverheadReport {
        proxies: o.proxies,
        proxy_vcpu: (o.proxy_vcpu * 1000.0).round() / 1000.0,
        proxy_memory_mib: mib(o.proxy_memory),
        ztunnel_vcpu: (o.ztunnel_vcpu * 1000.0).round() / 1000.0,
        ztunnel_memory_mib: mib(o.ztunnel_memory),
        istiod_memory_mib: mib(o.istiod_memory),
    };
    let s = world.scenario();
    let info = RunInfo {
        scenario: &s.name,
        seed: s.seed,
        profile: s.profile.to_string(),
        duration: s.duration,
        setup: SimDuration(world.traffic_start.as_nanos()),
        traffic: s
            .traffic
            .iter()
            .map(|t| {
                let from = match &t.source {
                    Source::External => "outside the cluster".to_string(),
                    Source::Workload { namespace, name } => format!("{namespace}/{name}"),
                };
                let pattern = match &t.pattern {
                    Pattern::Open { rate, poisson } => {
                        format!("{} {rate}/s", if *poisson { "poisson" } else { "constant" })
                    }
                    Pattern::Closed { clients, think } => {
                        format!("{clients} clients, think {think}")
                    }
                };
                (t.name.clone(), from, t.url.clone(), pattern)
            })
            .collect(),
        notes: world.notes.clone(),
        overhead,
    };
    Report::build(info, &world.telemetry, &world.cluster)
}
