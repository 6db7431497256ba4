//! Properties of the client proxy's resilience mechanics over generated
//! policies, checked by probing small worlds from the `curl` pod; the
//! expectations are computed here from Istio 1.27's and Envoy's rules,
//! independently of meshsim:
//!
//! - a request is sent at most 1 + `attempts` times, and exactly that often
//!   when every answer is one `retryOn` retries (Envoy
//!   `RetryStateImpl::shouldRetry`; `5xx` is 500–599, `gateway-error`
//!   502–504, `retriable-4xx` 409, a per-try timeout counts as a reset that
//!   `5xx`, `gateway-error` and `reset` retry);
//! - with `consecutive5xxErrors: T`, no failing host answers more than T
//!   requests before it is ejected, and an ejected host gets no traffic for
//!   `baseEjectionTime` (outside panic mode: Istio sets the panic threshold
//!   to `minHealthPercent`, 0).
//!
//! The pool's own invariant (the pending queue never exceeds its limit) is
//! a property test next to the pool, in `src/dataplane/pool.rs`.

use std::collections::BTreeMap;

use meshsim::dataplane::xds::OutboundPolicy;
use meshsim::scenario::ManifestSource;
use meshsim::telemetry::Reporter;
use meshsim::world::World;
use meshsim::world::probe::{ProbeFrom, ProbeRequest, world_from};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

const HTTPBIN: &str = include_str!("../manifests/samples/httpbin.yaml");
const CURL: &str = include_str!("../manifests/samples/curl.yaml");

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        rng_seed: RngSeed::Fixed(0x5e_7217),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn world(extra: &str) -> World {
    let source = ManifestSource::Inline {
        name: "resilience.yaml".to_string(),
        text: format!("{HTTPBIN}\n---\n{CURL}\n---\n{extra}"),
    };
    match world_from(vec![source], &[], 11, OutboundPolicy::AllowAny) {
        Ok((w, _, _)) => w,
        Err(d) => panic!("{d:?}"),
    }
}

fn get(w: &mut World, host: &str, port: u16, path: &str) -> meshsim::world::probe::ProbeResult {
    let curl = w.find_pod("default", "curl").expect("curl runs");
    let p = ProbeRequest {
        from: ProbeFrom::Pod(curl),
        host: host.to_string(),
        port,
        method: "GET".to_string(),
        path: path.to_string(),
        headers: Vec::new(),
    };
    w.probe(&p, false).unwrap().0
}

/// Requests httpbin's proxy has seen (each attempt is one).
fn served(w: &World) -> u64 {
    w.telemetry
        .edges()
        .filter(|e| e.key.reporter == Reporter::Destination)
        .filter(|e| {
            w.telemetry
                .label_name(e.key.service)
                .starts_with("httpbin.")
        })
        .map(|e| e.requests())
        .sum()
}

/// Whether `retry_on` retries what `path` makes httpbin do.
fn retried(retry_on: &str, path: &str, per_try: bool) -> bool {
    let on = |c: &str| retry_on.split(',').any(|x| x == c);
    match path
        .strip_prefix("/status/")
        .and_then(|s| s.parse::<u16>().ok())
    {
        Some(s) => {
            (on("5xx") && (500..600).contains(&s))
                || (on("gateway-error") && (502..=504).contains(&s))
                || (on("retriable-4xx") && s == 409)
        }
        // `/delay/1` under a 500 ms per-try timeout.
        None => per_try && (on("5xx") || on("gateway-error") || on("reset")),
    }
}

proptest! {
    #![proptest_config(config(24))]

    #[test]
    fn a_request_is_sent_at_most_one_plus_attempts_times(
        attempts in 0u32..4,
        retry_on in prop::sample::select(vec!["5xx", "gateway-error", "connect-failure", "retriable-4xx", "reset", "5xx,reset", "gateway-error,retriable-4xx"]),
        path in prop::sample::select(vec!["/status/200", "/status/500", "/status/503", "/status/409", "/status/404", "/delay/1"]),
        per_try in any::<bool>(),
    ) {
        let per_try_field = if per_try { ", perTryTimeout: 500ms" } else { "" };
        // Istio's validation refuses other fields beside `attempts: 0`.
        let retries = if attempts == 0 {
            "{attempts: 0}".to_string()
        } else {
            format!("{{attempts: {attempts}, retryOn: \"{retry_on}\"{per_try_field}}}")
        };
        let vs = format!(
            "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: httpbin}}\nspec:\n  hosts: [httpbin]\n  http:\n  - route: [{{destination: {{host: httpbin}}}}]\n    retries: {retries}\n"
        );
        let mut w = world(&vs);
        let before = served(&w);
        let r = get(&mut w, "httpbin", 8000, path);
        let sent = served(&w) - before;
        let expected = if attempts > 0 && retried(retry_on, path, per_try) { 1 + u64::from(attempts) } else { 1 };
        prop_assert!(sent <= 1 + u64::from(attempts));
        prop_assert_eq!(sent, expected, "{:?}", r);
    }
}

/// A service of `good` pods that answer and `bad` ones that answer 503.
fn flaky(good: usize, bad: usize, threshold: u32) -> String {
    let deployment = |name: &str, replicas: usize, annotations: &str| {
        format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: flaky, role: {name}}}}}\n  template:\n    metadata:\n      labels: {{app: flaky, role: {name}}}\n      annotations: {{{annotations}}}\n    spec: {{containers: [{{name: app, image: example/app}}]}}\n"
        )
    };
    format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: flaky}}\nspec:\n  selector: {{app: flaky}}\n  ports: [{{name: http, port: 8080}}]\n{}{}---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: flaky}}\nspec:\n  host: flaky\n  trafficPolicy:\n    outlierDetection: {{consecutive5xxErrors: {threshold}, interval: 1s, baseEjectionTime: 1h, maxEjectionPercent: 100}}\n",
        deployment("good", good, ""),
        deployment(
            "bad",
            bad,
            "meshsim.io/error-rate: \"1\", meshsim.io/error-status: \"503\""
        ),
    )
}

proptest! {
    #![proptest_config(config(16))]

    #[test]
    fn ejected_hosts_get_no_traffic(good in 1usize..3, bad in 1usize..3, threshold in 1u32..4) {
        let mut w = world(&flaky(good, bad, threshold));
        let mut answered_by_bad: BTreeMap<String, u32> = BTreeMap::new();
        for _ in 0..30 {
            let r = get(&mut w, "flaky", 8080, "/");
            match r.status {
                Some(503) => *answered_by_bad.entry(r.pod.clone().unwrap_or_default()).or_default() += 1,
                Some(200) => {}
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }
        for (pod, n) in &answered_by_bad {
            prop_assert!(*n <= threshold, "{} answered {} > {}", pod, n, threshold);
        }
    }
}
