//! Scenario timelines: pods crash and restart, are deleted and replaced,
//! deployments scale; traffic notices.

use std::path::Path;

use meshsim::cli::run::simulate;
use meshsim::scenario;

fn bookinfo_with(timeline: &str) -> meshsim::telemetry::Report {
    let text =
        std::fs::read_to_string("scenarios/bookinfo.yaml").unwrap() + "timeline:\n" + timeline;
    let s = scenario::parse(Path::new("scenarios/bookinfo.yaml"), &text).unwrap();
    simulate(&s).unwrap().unwrap()
}

fn share(report: &meshsim::telemetry::Report, workload: &str) -> f64 {
    report
        .versions
        .iter()
        .find(|v| v.workload == workload)
        .map_or(0.0, |v| v.share)
}

#[test]
fn a_killed_pod_restarts_and_users_still_get_pages() {
    let report = bookinfo_with("- at: 20s\n  killPod: bookinfo/reviews-v3\n");
    let killed = report
        .notes
        .iter()
        .any(|n| n.contains("killed pod bookinfo/reviews-v3-"));
    assert!(killed, "{:?}", report.notes);
    assert_eq!(
        report.cluster.ready, report.cluster.pods,
        "restarted by the end"
    );
    // productpage answers 200 whatever reviews did.
    let outcomes = &report.traffic[0].outcomes;
    assert!(outcomes.keys().all(|k| k == "200"), "{outcomes:?}");
}

#[test]
fn a_version_scaled_to_zero_leaves_the_endpoints_until_it_returns() {
    let report = bookinfo_with(
        "- at: 10s\n  scale: {deployment: bookinfo/reviews-v3, replicas: 0}\n- at: 40s\n  scale: {deployment: bookinfo/reviews-v3, replicas: 1}\n",
    );
    // Gone from 10 s to 40 s plus its start-up: about half the minute, so
    // roughly half its usual third.
    let v3 = share(&report, "reviews-v3");
    assert!(v3 > 10.0 && v3 < 22.0, "reviews-v3 share {v3}%");
}

#[test]
fn scaling_a_version_up_moves_its_share() {
    let report =
        bookinfo_with("- at: 0s\n  scale: {deployment: bookinfo/reviews-v1, replicas: 3}\n");
    // After the new pods start, round robin over 5 endpoints gives v1 3/5.
    let v1 = share(&report, "reviews-v1");
    assert!(v1 > 50.0 && v1 < 62.0, "reviews-v1 share {v1}%");
}

#[test]
fn a_deleted_pod_is_replaced_by_its_deployment() {
    let report = bookinfo_with("- at: 10s\n  deletePod: bookinfo/ratings-v1\n");
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("deleted pod bookinfo/ratings-v1-")),
        "{:?}",
        report.notes
    );
    assert_eq!(
        report.cluster.ready, report.cluster.pods,
        "the replacement is ready by the end"
    );
}

#[test]
fn unknown_targets_are_reported_not_fatal() {
    let report = bookinfo_with("- at: 5s\n  killPod: bookinfo/nope\n");
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("killPod: no pod bookinfo/nope")),
        "{:?}",
        report.notes
    );
}

/// `scenarios/istiod-outage.yaml`: istiod scaled to zero at 1 min. The
/// proxies' certificates (24 h from their start, just before traffic)
/// carry the traffic for a day; the last hour of the 25 fails the mTLS
/// handshake (503), and the report says whose certificates ran out.
#[test]
fn with_istiod_gone_traffic_stops_when_the_certificates_expire() {
    let s = scenario::load(Path::new("scenarios/istiod-outage.yaml")).unwrap();
    let report = simulate(&s).unwrap().unwrap();
    let outcomes = &report.traffic[0].outcomes;
    let failed = outcomes.get("503").copied().unwrap_or(0);
    // One request every 10 s for the last hour, give or take the seconds
    // of setup before traffic.
    assert!((355..=365).contains(&failed), "{outcomes:?}");
    let expired: Vec<&String> = report
        .notes
        .iter()
        .filter(|n| n.contains("workload certificate of") && n.contains("expired"))
        .collect();
    assert_eq!(
        expired.len(),
        3,
        "curl, httpbin and the ingress gateway: {:?}",
        report.notes
    );
    assert!(
        expired
            .iter()
            .all(|n| n.starts_with("at 23h59m") || n.starts_with("at 24h0m"))
    );
}
