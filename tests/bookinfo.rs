//! Bookinfo end to end: the real sample's manifests, the services' own
//! behaviour, through sidecars.

use std::path::Path;

use meshsim::cli::run::simulate;
use meshsim::scenario;
use meshsim::telemetry::Report;

fn bookinfo() -> Report {
    let s = scenario::load(Path::new("scenarios/bookinfo.yaml")).unwrap();
    simulate(&s).unwrap().unwrap()
}

#[test]
fn reviews_spread_evenly_over_its_versions_without_a_virtual_service() {
    let report = bookinfo();
    let shares: Vec<(String, f64)> = report
        .versions
        .iter()
        .filter(|v| v.service.starts_with("reviews."))
        .map(|v| (v.version.clone(), v.share))
        .collect();
    assert_eq!(shares.len(), 3, "{shares:?}");
    for (version, share) in &shares {
        assert!((share - 100.0 / 3.0).abs() < 3.0, "{version}: {share}%");
    }
}

#[test]
fn every_hop_is_reported_and_only_v2_and_v3_call_ratings() {
    let report = bookinfo();
    let requests = |svc: &str| {
        report
            .services
            .iter()
            .find(|s| s.service == format!("{svc}.bookinfo.svc.cluster.local"))
            .map(|s| s.requests)
            .unwrap_or(0)
    };
    let pages = requests("productpage");
    assert!(pages > 2500, "{pages}");
    assert_eq!(requests("details"), pages);
    assert_eq!(requests("reviews"), pages);
    let v1 = report
        .versions
        .iter()
        .find(|v| v.workload == "reviews-v1")
        .unwrap()
        .requests;
    assert_eq!(requests("ratings"), pages - v1);
    assert!(
        report.traffic[0].outcomes.keys().all(|k| k == "200"),
        "{:?}",
        report.traffic[0].outcomes
    );
}

#[test]
fn the_text_report_names_the_percentiles() {
    let text = bookinfo().to_text();
    for needle in [
        "p50",
        "p90",
        "p99",
        "p99.9",
        "max",
        "histogram",
        "reviews-v3",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}
