//! `meshsim bench`: how fast the simulator runs, measured, next to the
//! physical limit of its event queue on this machine.
//!
//! The scenario is Bookinfo with sidecars, 1000 user requests per second
//! for ten simulated minutes (each request is productpage plus its calls to
//! details, reviews and, for v2/v3, ratings). After the run, the same
//! process times a bare binary heap doing pop+push at the run's average
//! queue size: no simulator can beat that, so the ratio says how much of the
//! budget goes to the simulation itself.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;

use serde::Serialize;

use crate::control::Profile;
use crate::dataplane::Costs;
use crate::k8s::NodeSpec;
use crate::scenario::{Manifest, ManifestSource, Pattern, Scenario, Source, Traffic};
use crate::sim::{Rng, SimDuration};
use crate::world::World;

use super::Output;
use super::run::parse_duration;

#[derive(clap::Args)]
pub struct Args {
    /// Simulated duration of the traffic.
    #[arg(long, default_value = "600s", value_parser = parse_duration)]
    duration: SimDuration,
    /// User requests per second.
    #[arg(long, default_value_t = 1000.0)]
    rate: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(short, long, value_enum, default_value_t)]
    output: Output,
}

#[derive(Serialize)]
struct BenchReport {
    scenario: String,
    requests: u64,
    events: u64,
    wall_s: f64,
    requests_per_wall_s: f64,
    events_per_wall_s: f64,
    simulated_s_per_wall_s: f64,
    mean_queue_len: f64,
    mean_heap_len: f64,
    peak_queue_len: usize,
    heap_limit_events_per_s: f64,
    heap_limit_ratio: f64,
    peak_rss_bytes: u64,
}

fn scenario(args: &Args) -> Scenario {
    let embedded = |name: &str, text: &str| Manifest {
        source: ManifestSource::Inline {
            name: name.to_string(),
            text: text.to_string(),
        },
        namespace: None,
    };
    Scenario {
        name: "bookinfo with sidecars".to_string(),
        description: String::new(),
        file: "bench".into(),
        seed: args.seed,
        duration: args.duration,
        cluster_name: "bench".to_string(),
        nodes: (0..3)
            .map(|i| NodeSpec {
                name: format!("bench-node-{i}"),
                zone: format!("zone-{}", ["a", "b", "c"][i]),
                region: "region-1".to_string(),
            })
            .collect(),
        profile: Profile::Default,
        outbound: crate::dataplane::xds::OutboundPolicy::AllowAny,
        costs: Costs::default(),
        manifests: vec![
            embedded(
                "manifests/bookinfo/namespace.yaml",
                include_str!("../../manifests/bookinfo/namespace.yaml"),
            ),
            Manifest {
                namespace: Some("bookinfo".to_string()),
                ..embedded(
                    "manifests/bookinfo/bookinfo.yaml",
                    include_str!("../../manifests/bookinfo/bookinfo.yaml"),
                )
            },
            Manifest {
                namespace: Some("bookinfo".to_string()),
                ..embedded(
                    "manifests/samples/curl.yaml",
                    include_str!("../../manifests/samples/curl.yaml"),
                )
            },
        ],
        traffic: vec![Traffic {
            name: "users".to_string(),
            source: Source::Workload {
                namespace: "bookinfo".to_string(),
                name: "curl".to_string(),
            },
            url: "http://productpage:9080/productpage".to_string(),
            host: "productpage".to_string(),
            port: 9080,
            path: "/productpage".to_string(),
            method: "GET".to_string(),
            headers: Vec::new(),
            pattern: Pattern::Open {
                rate: args.rate,
                poisson: true,
            },
            start: SimDuration::ZERO,
            stop: None,
        }],
        timeline: Vec::new(),
        web: crate::web::Web::default(),
    }
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let scenario = scenario(&args);
    let (mut world, _) =
        World::new(&scenario).map_err(|d| anyhow::anyhow!("bench scenario invalid: {d:?}"))?;
    #[allow(clippy::disallowed_methods)] // the bench measures wall time: its purpose
    let started = std::time::Instant::now();
    let stats = world.run().map_err(anyhow::Error::msg)?;
    let wall = started.elapsed().as_secs_f64();
    let requests = world
        .telemetry
        .clients
        .iter()
        .map(|c| c.latency.count())
        .sum::<u64>();
    let mean_queue = stats.mean_queue_len;
    let heap = heap_limit(
        mean_queue.round().max(1.0) as usize,
        stats.events.clamp(1_000_000, 20_000_000),
    );
    let events_per_s = stats.events as f64 / wall;
    let report = BenchReport {
        scenario: scenario.name.clone(),
        requests,
        events: stats.events,
        wall_s: wall,
        requests_per_wall_s: requests as f64 / wall,
        events_per_wall_s: events_per_s,
        simulated_s_per_wall_s: (world.queue.now().as_secs_f64()) / wall,
        mean_queue_len: stats.mean_queue_len,
        mean_heap_len: stats.mean_heap_len,
        peak_queue_len: stats.peak_queue,
        heap_limit_events_per_s: heap,
        heap_limit_ratio: events_per_s / heap,
        peak_rss_bytes: peak_rss(),
    };
    match args.output {
        Output::Json => outln!("{}", serde_json::to_string(&report)?),
        Output::Text => {
            outln!("meshsim bench: {}", report.scenario);
            outln!(
                "  simulated      {} s of traffic at {} requests/s",
                args.duration.as_secs_f64(),
                args.rate
            );
            outln!("  requests       {}", report.requests);
            outln!("  events         {}", report.events);
            outln!("  wall time      {:.3} s", report.wall_s);
            outln!(
                "  requests/s     {:.0} (simulated requests per wall second)",
                report.requests_per_wall_s
            );
            outln!("  events/s       {:.0}", report.events_per_wall_s);
            outln!(
                "  speed-up       {:.0}x (simulated seconds per wall second)",
                report.simulated_s_per_wall_s
            );
            outln!(
                "  queue          mean {:.0} pending events: {:.1} in the heap, the rest client timeouts in FIFO lanes (peak {})",
                report.mean_queue_len,
                report.mean_heap_len,
                report.peak_queue_len
            );
            outln!(
                "  heap limit     {:.0} events/s (bare binary heap, pop+push at the run's mean heap size)",
                report.heap_limit_events_per_s
            );
            outln!("  of the limit   {:.1}%", report.heap_limit_ratio * 100.0);
            outln!(
                "  peak memory    {:.1} MiB",
                report.peak_rss_bytes as f64 / (1 << 20) as f64
            );
        }
    }
    Ok(0)
}

/// Pop+push rate of a bare `BinaryHeap` holding `size` (time, seq) keys:
/// the classic "hold" benchmark of event-queue literature.
fn heap_limit(size: usize, ops: u64) -> f64 {
    let mut rng = Rng::from_seed(42);
    let mut heap: BinaryHeap<Reverse<(u64, u64)>> = (0..size as u64)
        .map(|i| Reverse((rng.below(1_000_000), i)))
        .collect();
    let mut seq = size as u64;
    #[allow(clippy::disallowed_methods)] // timing the bare heap is the point
    let started = std::time::Instant::now();
    for _ in 0..ops {
        let Reverse((t, _)) = heap.pop().expect("heap is never empty");
        seq += 1;
        heap.push(Reverse((t + 1 + (rng.next_u64() >> 44), seq)));
    }
    black_box(&heap);
    ops as f64 / started.elapsed().as_secs_f64()
}

/// Peak resident set size (`VmHWM`), Linux only; 0 elsewhere.
fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}
