//! Resilience as the client's sidecar applies it, through `meshsim eval`'s
//! probe: Envoy's fault filter (istiod's `TranslateFault`,
//! pilot/pkg/networking/core/route/route.go), the router's retries
//! (route/retry/retry.go) and timeouts.

use meshsim::dataplane::xds::OutboundPolicy;
use meshsim::scenario::ManifestSource;
use meshsim::world::World;
use meshsim::world::load::{LoadPlan, LoadSpec};
use meshsim::world::probe::{ProbeFrom, ProbeRequest, ProbeResult, world_from};

const APP: &str = r#"
apiVersion: v1
kind: Service
metadata: {name: httpbin}
spec:
  selector: {app: httpbin}
  ports: [{name: http, port: 8000, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: httpbin}
spec:
  selector: {matchLabels: {app: httpbin}}
  template:
    metadata: {labels: {app: httpbin}}
    spec: {containers: [{name: httpbin, image: docker.io/mccutchen/go-httpbin:v2.15.0}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: curl}
spec:
  selector: {matchLabels: {app: curl}}
  template:
    metadata: {labels: {app: curl}}
    spec: {containers: [{name: curl, image: docker.io/curlimages/curl:8.16.0}]}
"#;

/// httpbin with `fault` (YAML under `fault:`) on its only route.
fn with_fault(fault: &str) -> World {
    with_route(&format!("    fault:\n{fault}"))
}

/// httpbin whose only route also has `fields` (YAML at the rule's
/// indentation, 4 spaces).
fn with_route(fields: &str) -> World {
    let vs = format!(
        "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: httpbin}}\nspec:\n  hosts: [httpbin]\n  http:\n  - route: [{{destination: {{host: httpbin}}}}]\n{fields}"
    );
    let source = ManifestSource::Inline {
        name: "faults.yaml".to_string(),
        text: format!("{APP}{vs}"),
    };
    match world_from(vec![source], &[], 7, OutboundPolicy::AllowAny) {
        Ok((w, _, _)) => w,
        Err(d) => panic!("{d:?}"),
    }
}

fn send(w: &mut World, n: usize) -> Vec<ProbeResult> {
    (0..n).map(|_| get(w, "/status/200")).collect()
}

/// One `GET path` from the curl pod to httpbin.
fn get(w: &mut World, path: &str) -> ProbeResult {
    get_from(w, "httpbin", 8000, path)
}

/// One `GET http://host:port/path` from the curl pod.
fn get_from(w: &mut World, host: &str, port: u16, path: &str) -> ProbeResult {
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

/// The course's 20 % abort: over 1000 requests the count of 500s is
/// binomial(1000, 0.2): mean 200, sd 12.6; 4.5 sd either side.
#[test]
fn a_20_percent_abort_fails_about_a_fifth() {
    let mut w = with_fault("      abort: {httpStatus: 500, percentage: {value: 20}}\n");
    let rs = send(&mut w, 1000);
    let aborted: Vec<_> = rs.iter().filter(|r| r.status == Some(500)).collect();
    assert!(
        (143..=257).contains(&aborted.len()),
        "{} aborted",
        aborted.len()
    );
    for r in &aborted {
        assert_eq!(
            (r.flags.as_str(), r.body.as_str()),
            ("FI", "fault filter abort")
        );
        assert_eq!((&r.pod, &r.upstream), (&None, &None));
    }
    assert!(
        rs.iter()
            .filter(|r| r.status != Some(500))
            .all(|r| r.status == Some(200) && r.flags == "-")
    );
}

/// 10 % of requests held 5 s: the slow ones carry DI and sit in the
/// latency tail; the rest are untouched.
#[test]
fn a_10_percent_delay_is_the_latency_tail() {
    let mut w = with_fault("      delay: {fixedDelay: 5s, percentage: {value: 10}}\n");
    let rs = send(&mut w, 1000);
    let slow: Vec<_> = rs.iter().filter(|r| r.latency_ms >= 5000.0).collect();
    assert!((60..=140).contains(&slow.len()), "{} delayed", slow.len());
    assert!(
        slow.iter()
            .all(|r| r.flags == "DI" && r.status == Some(200))
    );
    assert!(
        rs.iter()
            .filter(|r| r.latency_ms < 5000.0)
            .all(|r| r.flags == "-" && r.latency_ms < 100.0)
    );
}

/// Without `percentage` an abort never fires, and a delay falls back to
/// the deprecated integer `percent`, 0 unless set (istio/istio#36303,
/// #39969: the filter "never triggers").
#[test_case::test_case("      abort: {httpStatus: 500}\n", 0; "abort without percentage")]
#[test_case::test_case("      delay: {fixedDelay: 2s}\n", 0; "delay without percentage")]
#[test_case::test_case("      delay: {fixedDelay: 2s, percent: 100}\n", 20; "delay with the deprecated percent")]
fn the_chance_comes_from_percentage_or_percent(fault: &str, faulted: usize) {
    let mut w = with_fault(fault);
    let rs = send(&mut w, 20);
    assert_eq!(rs.iter().filter(|r| r.flags != "-").count(), faulted);
}

/// A delay and an abort on one route: the abort comes after the delay,
/// with both flags.
#[test]
fn a_delayed_abort_has_both_flags() {
    let mut w = with_fault(
        "      delay: {fixedDelay: 1s, percentage: {value: 100}}\n      abort: {httpStatus: 418, percentage: {value: 100}}\n",
    );
    let r = &send(&mut w, 1)[0];
    assert_eq!((r.status, r.flags.as_str()), (Some(418), "DI,FI"));
    assert!(r.latency_ms >= 1000.0, "{}", r.latency_ms);
}

/// Istio's default policy retries only failures to connect (no 503 since
/// 1.24, EXCLUDE_UNSAFE_503_FROM_DEFAULT_RETRY): a 503 answer is final.
#[test]
fn the_default_policy_does_not_retry_a_503() {
    let mut w = with_route("");
    let r = get(&mut w, "/status/503");
    assert_eq!(
        (r.status, r.flags.as_str(), r.attempts),
        (Some(503), "-", 1)
    );
}

/// `retryOn: 5xx` with 3 attempts: 1 + 3 tries, the last answer goes back
/// flagged URX (Envoy `UpstreamRetryLimitExceeded`), and each try carries
/// its `x-envoy-attempt-count`.
#[test]
fn retries_on_5xx_stop_after_the_attempts() {
    let mut w = with_route("    retries: {attempts: 3, retryOn: 5xx}\n");
    let r = get(&mut w, "/status/503");
    assert_eq!(
        (r.status, r.flags.as_str(), r.attempts),
        (Some(503), "URX", 4)
    );
    let r = get(&mut w, "/anything");
    assert_eq!((r.status, r.attempts), (Some(200), 1));
    assert!(
        r.body.contains(r#""X-Envoy-Attempt-Count": ["#),
        "{}",
        r.body
    );
}

/// `gateway-error` retries 502/503/504 only; `retriable-4xx` only 409; a
/// bare code in `retryOn` is a retriable status code.
#[test_case::test_case("gateway-error", "/status/500", 1)]
#[test_case::test_case("gateway-error", "/status/504", 3)]
#[test_case::test_case("retriable-4xx", "/status/409", 3)]
#[test_case::test_case("retriable-4xx", "/status/404", 1)]
#[test_case::test_case("connect-failure,418", "/status/418", 3)]
fn retry_on_picks_the_answers_retried(on: &str, path: &str, tries: u32) {
    let mut w = with_route(&format!(
        "    retries: {{attempts: 2, retryOn: \"{on}\"}}\n"
    ));
    assert_eq!(get(&mut w, path).attempts, tries);
}

/// A route `timeout` (none by default) answers 504 UT "upstream request
/// timeout" when it fires, whatever the upstream was doing.
#[test]
fn a_route_timeout_answers_504() {
    let mut w = with_route("    timeout: 1s\n");
    let r = get(&mut w, "/delay/3");
    assert_eq!(
        (r.status, r.flags.as_str(), r.body.as_str()),
        (Some(504), "UT", "upstream request timeout")
    );
    assert!((1000.0..1010.0).contains(&r.latency_ms), "{}", r.latency_ms);
    let mut w = with_route("");
    assert_eq!(get(&mut w, "/delay/3").status, Some(200));
}

/// `perTryTimeout` with retries on 5xx: each try is cut at 1 s and retried
/// (Envoy counts a per-try timeout as a reset, which `5xx` retries); after
/// the last one, 504 UT,URX. The total is bounded by (1 + attempts) ×
/// perTryTimeout plus the backoffs (each under 250 ms).
#[test]
fn per_try_timeouts_bound_the_total_time() {
    let mut w = with_route("    retries: {attempts: 2, perTryTimeout: 1s, retryOn: 5xx}\n");
    let r = get(&mut w, "/delay/5");
    assert_eq!(
        (r.status, r.flags.as_str(), r.attempts),
        (Some(504), "UT,URX", 3)
    );
    assert!((3000.0..3510.0).contains(&r.latency_ms), "{}", r.latency_ms);
}

/// The route timeout covers every attempt: 3 tries of 1 s do not fit in
/// 2.5 s.
#[test]
fn the_route_timeout_covers_the_retries() {
    let mut w = with_route(
        "    timeout: 2500ms\n    retries: {attempts: 2, perTryTimeout: 1s, retryOn: 5xx}\n",
    );
    let r = get(&mut w, "/delay/5");
    assert_eq!((r.status, r.flags.as_str()), (Some(504), "UT"));
    assert!((2500.0..2510.0).contains(&r.latency_ms), "{}", r.latency_ms);
}

/// A per-try timeout the policy does not retry (the default conditions)
/// ends the request at once with 504 UT.
#[test]
fn a_per_try_timeout_without_retry_on_is_final() {
    let mut w = with_route("    retries: {attempts: 2, perTryTimeout: 1s}\n");
    let r = get(&mut w, "/delay/5");
    assert_eq!(
        (r.status, r.flags.as_str(), r.attempts),
        (Some(504), "UT", 1)
    );
}

/// Istio's circuit-breaking task: the DestinationRule it applies to
/// httpbin, with fortio as the client.
const CIRCUIT_BREAKER: &str = r#"
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: httpbin}
spec:
  host: httpbin
  trafficPolicy:
    connectionPool:
      tcp: {maxConnections: 1}
      http: {http1MaxPendingRequests: 1, maxRequestsPerConnection: 1}
    outlierDetection:
      consecutive5xxErrors: 1
      interval: 1s
      baseEjectionTime: 3m
      maxEjectionPercent: 100
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: fortio}
spec:
  selector: {matchLabels: {app: fortio}}
  template:
    metadata: {labels: {app: fortio}}
    spec: {containers: [{name: fortio, image: fortio/fortio:latest_release}]}
"#;

/// `fortio load -c C -qps 0 -n 30 http://httpbin:8000/get` against the
/// circuit breaker: the statuses it got.
fn fortio_statuses(connections: u32) -> Vec<Option<u16>> {
    let source = ManifestSource::Inline {
        name: "cb.yaml".to_string(),
        text: format!("{APP}{CIRCUIT_BREAKER}"),
    };
    let (mut w, _, _) = world_from(vec![source], &[], 7, OutboundPolicy::AllowAny).unwrap();
    let fortio = w.find_pod("default", "fortio").expect("fortio runs");
    let per_thread = 30 / u64::from(connections);
    let spec = LoadSpec {
        request: ProbeRequest {
            from: ProbeFrom::Pod(fortio),
            host: "httpbin".to_string(),
            port: 8000,
            method: "GET".to_string(),
            path: "/get".to_string(),
            headers: Vec::new(),
        },
        threads: connections,
        plan: LoadPlan::Calls(vec![per_thread; connections as usize]),
        schedule: None,
        timeout: None,
    };
    let run = w.load(&spec).unwrap();
    assert_eq!(run.shots.len(), 30);
    run.shots
        .iter()
        .map(|s| {
            let r = s.result.as_ref().expect("every call is answered");
            if r.status == Some(503) {
                assert_eq!(r.flags, "UO");
                assert_eq!(
                    r.body,
                    "upstream connect error or disconnect/reset before headers. reset reason: overflow"
                );
            }
            r.status
        })
        .collect()
}

/// Three connections against 1 connection + 1 pending request: some
/// requests overflow (the task page shows about 11 × 200 / 19 × 503, timing
/// dependent); one connection never does.
#[test]
fn the_circuit_breaker_trips_under_concurrency_only() {
    let three = fortio_statuses(3);
    let overflowed = three.iter().filter(|s| **s == Some(503)).count();
    let ok = three.iter().filter(|s| **s == Some(200)).count();
    assert_eq!(ok + overflowed, 30);
    assert!(
        (5..=25).contains(&overflowed),
        "{overflowed} of 30 overflowed"
    );
    assert!(fortio_statuses(1).iter().all(|s| *s == Some(200)));
}

/// A service of two pods, one of which answers every request with 503.
const FLAKY: &str = r#"
---
apiVersion: v1
kind: Service
metadata: {name: flaky}
spec:
  selector: {app: flaky}
  ports: [{name: http, port: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: flaky-good}
spec:
  selector: {matchLabels: {app: flaky, health: good}}
  template:
    metadata: {labels: {app: flaky, health: good}}
    spec: {containers: [{name: app, image: example/app}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: flaky-bad}
spec:
  selector: {matchLabels: {app: flaky, health: bad}}
  template:
    metadata:
      labels: {app: flaky, health: bad}
      annotations: {meshsim.io/error-rate: "1", meshsim.io/error-status: "503"}
    spec: {containers: [{name: app, image: example/app}]}
"#;

/// The flaky service with `outlier` (YAML under `outlierDetection:`); the
/// pods that answered `n` requests from curl, one at a time.
fn flaky_run(outlier: &str, n: usize) -> (World, Vec<ProbeResult>) {
    let dr = format!(
        "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: flaky}}\nspec:\n  host: flaky\n  trafficPolicy:\n    outlierDetection:\n{outlier}"
    );
    let source = ManifestSource::Inline {
        name: "flaky.yaml".to_string(),
        text: format!("{APP}{FLAKY}{dr}"),
    };
    let (mut w, _, _) = world_from(vec![source], &[], 7, OutboundPolicy::AllowAny).unwrap();
    let rs = (0..n)
        .map(|_| get_from(&mut w, "flaky", 8080, "/"))
        .collect();
    (w, rs)
}

/// `consecutive5xxErrors: 1`: the bad pod's first 503 ejects it for
/// `baseEjectionTime`; every later request goes to the good pod.
#[test]
fn an_ejected_host_gets_no_traffic() {
    let (_, rs) = flaky_run(
        "      consecutive5xxErrors: 1\n      interval: 1s\n      baseEjectionTime: 3m\n      maxEjectionPercent: 100\n",
        40,
    );
    let failed: Vec<usize> = (0..rs.len())
        .filter(|&i| rs[i].status == Some(503))
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    let bad = rs[failed[0]].pod.clone();
    assert!(
        rs[failed[0] + 1..]
            .iter()
            .all(|r| r.pod != bad && r.status == Some(200))
    );
}

/// The course's removed `consecutiveErrors: 1` is not read: Envoy's
/// default of 5 consecutive 5xx applies, so the bad pod fails 5 times
/// before it goes.
#[test]
fn consecutive_errors_is_ignored_for_the_default_five() {
    let (_, rs) = flaky_run(
        "      consecutiveErrors: 1\n      interval: 1s\n      baseEjectionTime: 3m\n      maxEjectionPercent: 100\n",
        60,
    );
    assert_eq!(rs.iter().filter(|r| r.status == Some(503)).count(), 5);
}

/// With both pods ejectable and `minHealthPercent` 0 (no panic mode), the
/// ejected bad pod stays out while the good one serves; after
/// `baseEjectionTime` the bad pod is back and fails again.
#[test]
fn ejection_ends_after_base_ejection_time() {
    let (mut w, rs) = flaky_run(
        "      consecutive5xxErrors: 1\n      interval: 1s\n      baseEjectionTime: 2s\n      maxEjectionPercent: 100\n",
        10,
    );
    assert_eq!(rs.iter().filter(|r| r.status == Some(503)).count(), 1);
    w.advance_by(meshsim::sim::SimDuration::from_secs(3));
    let again: Vec<_> = (0..10)
        .map(|_| get_from(&mut w, "flaky", 8080, "/"))
        .collect();
    assert_eq!(again.iter().filter(|r| r.status == Some(503)).count(), 1);
}

/// An upstream that takes 20 s to fail with 503.
const SLOW_FAILURE: &str = r#"
---
apiVersion: v1
kind: Service
metadata: {name: slow}
spec:
  selector: {app: slow}
  ports: [{name: http, port: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: slow}
spec:
  selector: {matchLabels: {app: slow}}
  template:
    metadata:
      labels: {app: slow}
      annotations: {meshsim.io/service-time: "20s", meshsim.io/error-rate: "1", meshsim.io/error-status: "503"}
    spec: {containers: [{name: app, image: example/app}]}
"#;

/// The course's pitfall: retries without timeouts. Istio sets no route
/// timeout and no per-try timeout, so every retry waits as long as the
/// upstream takes: 4 tries × 20 s. A per-try timeout bounds each try, a
/// route timeout the whole request.
#[test_case::test_case("", "", 80_000.0, 81_000.0, Some(503), "URX"; "retries alone wait for every slow try")]
#[test_case::test_case(", perTryTimeout: 2s", "", 8_000.0, 9_000.0, Some(504), "UT,URX"; "a per-try timeout bounds each try")]
#[test_case::test_case("", "    timeout: 5s\n", 5_000.0, 5_010.0, Some(504), "UT"; "a route timeout bounds them all")]
fn retries_without_timeouts_wait_for_every_try(
    retry_extra: &str,
    route_extra: &str,
    min_ms: f64,
    max_ms: f64,
    status: Option<u16>,
    flags: &str,
) {
    let retries = format!("    retries: {{attempts: 3, retryOn: 5xx{retry_extra}}}\n{route_extra}");
    let vs = format!(
        "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: slow}}\nspec:\n  hosts: [slow]\n  http:\n  - route: [{{destination: {{host: slow}}}}]\n{retries}"
    );
    let source = ManifestSource::Inline {
        name: "slow.yaml".to_string(),
        text: format!("{APP}{SLOW_FAILURE}{vs}"),
    };
    let (mut w, _, _) = world_from(vec![source], &[], 7, OutboundPolicy::AllowAny).unwrap();
    let r = get_from(&mut w, "slow", 8080, "/");
    assert_eq!((r.status, r.flags.as_str()), (status, flags));
    assert!((min_ms..max_ms).contains(&r.latency_ms), "{}", r.latency_ms);
}
