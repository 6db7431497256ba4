//! Fault injection as the client's sidecar does it: Envoy's fault filter,
//! configured by istiod's `TranslateFault` (pilot/pkg/networking/core/
//! route/route.go). Delays and aborts are drawn per request with their own
//! chances; an abort is answered by the proxy (flag FI, body "fault filter
//! abort"), a delay holds the request (flag DI).

use meshsim::dataplane::xds::OutboundPolicy;
use meshsim::scenario::ManifestSource;
use meshsim::world::World;
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
    let vs = format!(
        "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: httpbin}}\nspec:\n  hosts: [httpbin]\n  http:\n  - fault:\n{fault}    route: [{{destination: {{host: httpbin}}}}]\n"
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
    let curl = w.find_pod("default", "curl").expect("curl runs");
    let p = ProbeRequest {
        from: ProbeFrom::Pod(curl),
        host: "httpbin".to_string(),
        port: 8000,
        method: "GET".to_string(),
        path: "/status/200".to_string(),
        headers: Vec::new(),
    };
    (0..n).map(|_| w.probe(&p, false).unwrap().0).collect()
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
