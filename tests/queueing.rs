//! Queueing theory is the oracle for the server model: an M/M/1 queue
//! (Poisson arrivals at lambda, one worker, exponential service at mu) has
//! an exponentially distributed time in system with mean 1/(mu - lambda)
//! (Kleinrock, Queueing Systems vol. 1, §3.2). `scenarios/mm1.yaml` sets
//! lambda = 50/s, mu = 100/s and every network and proxy cost to zero.

use std::path::Path;

use meshsim::cli::run::simulate;
use meshsim::scenario;

#[test]
fn an_mm1_server_matches_queueing_theory() {
    let scenario = scenario::load(Path::new("scenarios/mm1.yaml")).expect("scenario loads");
    let report = simulate(&scenario).unwrap().expect("manifests are valid");
    let latency = &report.traffic[0].latency_ms;
    let w = 1000.0 / (100.0 - 50.0); // mean time in system, ms
    // ~50,000 requests: the sample mean of correlated sojourn times is
    // within a few percent; 5% bounds keep the test robust to the seed.
    let close = |got: f64, want: f64| (got - want).abs() / want < 0.05;
    assert!(
        close(latency.mean, w),
        "mean {} ms, theory {w} ms",
        latency.mean
    );
    assert!(
        close(latency.p50, w * 2f64.ln()),
        "p50 {} ms, theory {} ms",
        latency.p50,
        w * 2f64.ln()
    );
    assert!(
        close(latency.p90, w * 10f64.ln()),
        "p90 {} ms, theory {} ms",
        latency.p90,
        w * 10f64.ln()
    );
    // Every request was answered: the queue is stable at rho = 0.5.
    assert_eq!(report.traffic[0].answered, report.traffic[0].sent);
}

#[test]
fn latency_grows_with_load_as_the_queue_fills() {
    let mean_at = |rate: f64| {
        let text = std::fs::read_to_string("scenarios/mm1.yaml")
            .unwrap()
            .replace("rate: 50", &format!("rate: {rate}"));
        let mut s = scenario::parse(Path::new("scenarios/mm1.yaml"), &text).unwrap();
        s.duration = meshsim::sim::SimDuration::from_secs(400);
        simulate(&s).unwrap().unwrap().traffic[0].latency_ms.mean
    };
    let (light, heavy) = (mean_at(20.0), mean_at(80.0));
    // Theory: 1/(100-20) = 12.5 ms and 1/(100-80) = 50 ms.
    assert!((light - 12.5).abs() / 12.5 < 0.08, "rho 0.2: {light} ms");
    assert!((heavy - 50.0).abs() / 50.0 < 0.15, "rho 0.8: {heavy} ms");
}

/// A closed loop of N users with exponential think time Z in front of one
/// exponential server S is the machine-repairman model (M/M/1//N):
/// p0 = 1 / sum_k N!/(N-k)! (S/Z)^k, throughput X = (1 - p0)/S, and the
/// response time follows from the interactive response time law
/// R = N/X - Z (Lazowska et al., Quantitative System Performance, §3.3).
#[test]
fn a_closed_loop_matches_the_machine_repairman_model() {
    let text = std::fs::read_to_string("scenarios/mm1.yaml")
        .unwrap()
        .replace(
            "  rate: 50\n  arrival: poisson\n",
            "  clients: 5\n  thinkTime: exp(100ms)\n",
        );
    let s = scenario::parse(Path::new("scenarios/mm1.yaml"), &text).unwrap();
    let report = simulate(&s).unwrap().unwrap();
    let (n, z, svc) = (5.0f64, 0.1f64, 0.01f64);
    let mut sum = 0.0;
    let mut term = 1.0;
    for k in 0..=5 {
        if k > 0 {
            term *= (n - f64::from(k) + 1.0) * svc / z;
        }
        sum += term;
    }
    let x = (1.0 - 1.0 / sum) / svc;
    let r_ms = (n / x - z) * 1000.0;
    let t = &report.traffic[0];
    assert!(
        (t.rps - x).abs() / x < 0.03,
        "throughput {} /s, theory {x:.2} /s",
        t.rps
    );
    assert!(
        (t.latency_ms.mean - r_ms).abs() / r_ms < 0.05,
        "response time {} ms, theory {r_ms:.2} ms",
        t.latency_ms.mean
    );
}
