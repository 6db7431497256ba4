//! The course's Lab 3 (module 14), steps 2–6, on Bookinfo in namespace
//! `bookinfo` behind the ingress gateway: strict mTLS shuts out a pod
//! outside the mesh, a deny-all policy answers `RBAC: access denied`, the
//! ingress policy brings /productpage back, the service-to-service
//! policies bring the whole page back, and removing one breaks exactly
//! that call. Istio's behaviour, where the course says otherwise, from
//! `../shared/facts/course-errata.md` (17: a STRICT server resets a
//! plaintext connection, curl exit 56, not "connection refused").

use meshsim::dataplane::xds::OutboundPolicy;
use meshsim::scenario::{Manifest, ManifestSource};
use meshsim::world::World;
use meshsim::world::probe::{ProbeFrom, ProbeRequest, ProbeResult, world_from};

/// `kubectl create namespace outside-mesh; kubectl run sleep
/// --image=curlimages/curl -n outside-mesh --command -- sleep infinity`.
const OUTSIDE_MESH: &str = "apiVersion: v1\nkind: Namespace\nmetadata: {name: outside-mesh}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: sleep, namespace: outside-mesh, labels: {run: sleep}}\nspec:\n  containers: [{name: sleep, image: curlimages/curl, command: [sleep, infinity]}]\n";

fn lab3(course_files: &[&str]) -> World {
    let file = |path: &str, ns: Option<&str>| Manifest {
        source: ManifestSource::File(path.into()),
        namespace: ns.map(str::to_string),
    };
    let mut manifests = vec![
        file("manifests/bookinfo/namespace.yaml", None),
        file("manifests/bookinfo/bookinfo.yaml", Some("bookinfo")),
        file(
            "tests/fixtures/istio_tasks/bookinfo-gateway.yaml",
            Some("bookinfo"),
        ),
        Manifest {
            source: ManifestSource::Inline {
                name: "outside-mesh.yaml".to_string(),
                text: OUTSIDE_MESH.to_string(),
            },
            namespace: None,
        },
    ];
    manifests.extend(
        course_files
            .iter()
            .map(|f| file(&format!("manifests/course/{f}"), None)),
    );
    match world_from(manifests, &[], 3, OutboundPolicy::AllowAny) {
        Ok((w, _, _)) => w,
        Err(d) => panic!("{d:?}"),
    }
}

/// `curl -s http://${GATEWAY_URL}/productpage`.
fn through_gateway(w: &mut World) -> ProbeResult {
    let p = ProbeRequest {
        from: ProbeFrom::External,
        host: "192.0.2.10".to_string(),
        port: 80,
        method: "GET".to_string(),
        path: "/productpage".to_string(),
        headers: Vec::new(),
    };
    w.probe(&p, false).unwrap().0
}

/// `kubectl exec -n outside-mesh sleep -- curl -s http://productpage.bookinfo:9080/productpage`.
fn from_outside_mesh(w: &mut World) -> ProbeResult {
    let sleep = w.find_pod("outside-mesh", "sleep").expect("sleep runs");
    let p = ProbeRequest {
        from: ProbeFrom::Pod(sleep),
        host: "productpage.bookinfo".to_string(),
        port: 9080,
        method: "GET".to_string(),
        path: "/productpage".to_string(),
        headers: Vec::new(),
    };
    w.probe(&p, false).unwrap().0
}

const STRICT: &str = "peer-authentication-strict.yaml";
const DENY_ALL: &str = "authz-deny-all.yaml";
const ALLOW_INGRESS: &str = "authz-allow-ingress.yaml";
const SERVICE_TO_SERVICE: &str = "authz-productpage-to-details.yaml";

#[test]
fn step_3_strict_mtls_resets_the_pod_outside_the_mesh() {
    let mut w = lab3(&[]);
    assert_eq!(
        from_outside_mesh(&mut w).status,
        Some(200),
        "PERMISSIVE by default"
    );
    let mut w = lab3(&[STRICT]);
    let r = from_outside_mesh(&mut w);
    assert_eq!(
        (r.status, r.error.as_deref()),
        (None, Some("connection reset"))
    );
    // Inside the mesh everything still works, over mTLS.
    let page = through_gateway(&mut w);
    assert_eq!(page.status, Some(200));
    assert!(page.body.contains("Book Details"));
}

#[test]
fn step_4_deny_all_answers_rbac_access_denied() {
    let mut w = lab3(&[STRICT, DENY_ALL]);
    let r = through_gateway(&mut w);
    assert_eq!(
        (r.status, r.body.as_str()),
        (Some(403), "RBAC: access denied")
    );
}

/// With only the ingress allowed, productpage answers but its own calls to
/// details and reviews are denied: the page shows both as unavailable.
#[test]
fn step_5_the_ingress_policy_restores_productpage_only() {
    let mut w = lab3(&[STRICT, DENY_ALL, ALLOW_INGRESS]);
    let r = through_gateway(&mut w);
    assert_eq!(r.status, Some(200));
    assert!(
        r.body.contains("<title>Simple Bookstore App</title>"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("Sorry, product details are currently unavailable"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("Sorry, product reviews are currently unavailable"),
        "{}",
        r.body
    );
}

#[test]
fn step_6_service_to_service_policies_bring_the_page_back() {
    let mut w = lab3(&[STRICT, DENY_ALL, ALLOW_INGRESS, SERVICE_TO_SERVICE]);
    for _ in 0..12 {
        let r = through_gateway(&mut w);
        assert_eq!(r.status, Some(200));
        assert!(r.body.contains("Book Details"), "{}", r.body);
        assert!(!r.body.contains("Sorry"), "{}", r.body);
        assert!(
            !r.body.contains("Ratings service is currently unavailable"),
            "{}",
            r.body
        );
    }
}

/// Without `allow-reviews-ratings`, exactly the reviews → ratings call is
/// denied: details and reviews still show, the stars do not.
#[test]
fn removing_one_policy_breaks_exactly_that_call() {
    let mut w = lab3(&[STRICT, DENY_ALL, ALLOW_INGRESS, SERVICE_TO_SERVICE]);
    assert!(w.delete_config("AuthorizationPolicy", "bookinfo", "allow-reviews-ratings"));
    let mut saw_ratings_denied = false;
    for _ in 0..12 {
        let r = through_gateway(&mut w);
        assert!(
            r.body.contains("Book Details") && !r.body.contains("Sorry"),
            "{}",
            r.body
        );
        saw_ratings_denied |= r.body.contains("Ratings service is currently unavailable");
    }
    assert!(saw_ratings_denied, "reviews v2/v3 lose their ratings");
}
