//! Same scenario, same seed: the same bytes, for every scenario shipped in
//! `scenarios/`; another seed: other numbers. On failure the message says
//! how to reproduce with the CLI.

use std::path::{Path, PathBuf};

use meshsim::cli::run::simulate;
use meshsim::scenario;
use meshsim::sim::SimDuration;

fn scenarios() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir("scenarios")
        .expect("scenarios/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    files
}

/// The JSON report of a scenario with a seed, cut to at most 120 simulated
/// seconds so the test stays quick.
fn run(path: &Path, seed: u64) -> String {
    let mut s = scenario::load(path).unwrap_or_else(|d| panic!("{}: {d:?}", path.display()));
    s.seed = seed;
    s.duration = s.duration.min(SimDuration::from_secs(120));
    simulate(&s).unwrap().expect("valid manifests").to_json()
}

#[test]
fn every_scenario_is_byte_for_byte_repeatable() {
    for path in scenarios() {
        let (a, b) = (run(&path, 7), run(&path, 7));
        assert!(
            a == b,
            "{} is not deterministic with seed 7; reproduce with: meshsim run {} --seed 7 -o json (twice) and diff",
            path.display(),
            path.display()
        );
    }
}

#[test]
fn another_seed_gives_other_numbers() {
    for path in scenarios() {
        assert_ne!(
            run(&path, 7),
            run(&path, 8),
            "{}: seeds 7 and 8 gave the same report",
            path.display()
        );
    }
}

#[test]
fn the_cli_prints_identical_bytes_twice() {
    let out = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_meshsim"))
            .args([
                "run",
                "scenarios/bookinfo.yaml",
                "--seed",
                "7",
                "--duration",
                "10s",
                "-o",
                "json",
            ])
            .output()
            .expect("meshsim runs")
    };
    let (a, b) = (out(), out());
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert!(!a.stdout.is_empty());
    assert_eq!(a.stdout, b.stdout);
}
