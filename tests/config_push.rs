//! istiod pushes configuration; proxies run with what it pushed. A change
//! reaches them after istiod's debounce (`PILOT_DEBOUNCE_AFTER` 100 ms,
//! plus the push: 110 ms by default), and while no istiod replica serves
//! they keep the configuration they have; a change made meanwhile goes out
//! when istiod returns (proxies reconnect and get everything).

mod common;

use common::bookinfo;
use meshsim::config::load::load_str;
use meshsim::sim::SimDuration;
use meshsim::world::World;

/// `curl http://reviews:9080/reviews/0` from the curl pod.
fn reviews(w: &mut World) -> meshsim::world::probe::ProbeResult {
    common::curl(w, "reviews", 9080, "/reviews/0")
}

/// Which reviews version answers `curl http://reviews:9080/reviews/0` from
/// the curl pod.
fn reviews_version(w: &mut World) -> String {
    let pod = reviews(w).pod.unwrap_or_default();
    pod.split('-').nth(1).unwrap_or("").to_string()
}

fn apply(w: &mut World, file: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    let loaded = load_str(file, &text, None);
    for obj in &loaded.objects {
        w.apply(obj).unwrap();
    }
}

#[test]
fn a_change_reaches_the_proxies_after_istiods_debounce() {
    let mut w = bookinfo(&["manifests/course/destination-rule-reviews.yaml"]);
    apply(&mut w, "manifests/course/virtual-service-reviews-v1.yaml");
    // Not pushed yet: reviews still spread over its versions.
    let before: std::collections::BTreeSet<String> =
        (0..30).map(|_| reviews_version(&mut w)).collect();
    assert!(before.len() > 1, "{before:?}");
    w.advance_by(SimDuration::from_millis(200));
    for _ in 0..20 {
        assert_eq!(reviews_version(&mut w), "v1");
    }
}

#[test]
fn proxies_keep_their_configuration_while_istiod_is_down() {
    let mut w = bookinfo(&["manifests/course/destination-rule-reviews.yaml"]);
    apply(&mut w, "manifests/course/virtual-service-reviews-v1.yaml");
    w.settle_push();
    assert_eq!(reviews_version(&mut w), "v1");
    w.scale("istio-system", "istiod", 0).unwrap();
    w.advance_by(SimDuration::from_secs(5));
    assert!(!w.istiod_serving());
    // Traffic goes on with the last pushed routes; the new ones wait.
    apply(&mut w, "manifests/course/virtual-service-reviews-v2.yaml");
    w.advance_by(SimDuration::from_secs(60));
    for _ in 0..10 {
        assert_eq!(reviews_version(&mut w), "v1");
    }
    // istiod returns: the proxies reconnect and get the change.
    w.scale("istio-system", "istiod", 1).unwrap();
    w.advance_by(SimDuration::from_secs(30));
    assert!(w.istiod_serving());
    for _ in 0..10 {
        assert_eq!(reviews_version(&mut w), "v2");
    }
}

/// A one-hour outage with 30-minute certificates (the mesh config's
/// `SECRET_TTL`): traffic flows on the certificates the proxies hold,
/// renewal at half life fails, and past expiry the mTLS handshake does;
/// istiod's return signs new ones.
#[test]
fn with_short_certificates_a_long_outage_breaks_mtls() {
    let mut w = bookinfo(&[
        "manifests/course/destination-rule-reviews.yaml",
        "tests/fixtures/mesh/secret-ttl-30m.yaml",
    ]);
    assert_eq!(reviews(&mut w).status, Some(200));
    w.scale("istio-system", "istiod", 0).unwrap();
    w.advance_by(SimDuration::from_secs(20 * 60));
    assert_eq!(reviews(&mut w).status, Some(200), "still valid");
    w.advance_by(SimDuration::from_secs(25 * 60));
    let expired = reviews(&mut w);
    assert_eq!(expired.status, Some(503), "{expired:?}");
    assert!(
        expired.body.contains("CERTIFICATE_EXPIRED")
            || expired.body.contains("CERTIFICATE_VERIFY_FAILED"),
        "{}",
        expired.body
    );
    w.scale("istio-system", "istiod", 1).unwrap();
    w.advance_by(SimDuration::from_secs(15 * 60));
    assert_eq!(reviews(&mut w).status, Some(200), "renewed");
}
