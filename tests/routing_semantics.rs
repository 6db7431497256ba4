//! HTTP routing semantics against Istio 1.27: VirtualService matching and
//! actions, DestinationRule subsets and load balancing, ServiceEntries, the
//! outbound traffic policy and the ingress gateway, each checked by probing
//! a small Bookinfo world from the `curl` pod (or from outside the cluster).
//!
//! Every test cites the Istio (istio/istio 1.27.9) or Envoy code whose
//! behaviour it pins down; the facts are collected in the routing research
//! notes (sections §1–§10 referred to below).

use std::collections::{BTreeMap, BTreeSet};

use meshsim::dataplane::xds::OutboundPolicy;
use meshsim::k8s::PodId;
use meshsim::scenario::{Manifest, ManifestSource};
use meshsim::world::World;
use meshsim::world::probe::{ClientSpec, ProbeFrom, ProbeRequest, ProbeResult, world_from};
use test_case::test_case;

// ---------------------------------------------------------------------------
// The world: Bookinfo and curl in namespace `bookinfo`, plus routing YAML.
// ---------------------------------------------------------------------------

const NAMESPACE: &str = "apiVersion: v1
kind: Namespace
metadata:
  name: bookinfo
  labels:
    istio-injection: enabled
";

/// Subsets v1, v2, v3 of reviews by `version` label.
const REVIEWS_DR: &str = "apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: v2}
  - name: v3
    labels: {version: v3}
";

const FQDN: &str = "reviews.bookinfo.svc.cluster.local";

/// `outbound|9080|<subset>|reviews.bookinfo.svc.cluster.local`.
fn reviews(subset: &str) -> String {
    format!("outbound|9080|{subset}|{FQDN}")
}

/// A VirtualService `bookinfo/reviews` for host `reviews` with these `http`
/// rules (YAML, indented as list items under `http:`).
fn reviews_vs(http: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: bookinfo
spec:
  hosts: [reviews]
  http:
{http}"
    )
}

/// The reviews DestinationRule and a reviews VirtualService.
fn with_dr(http: &str) -> String {
    format!("{REVIEWS_DR}---\n{}", reviews_vs(http))
}

/// [`reviews_vs`] under another name.
fn named_reviews_vs(name: &str, http: &str) -> String {
    reviews_vs(http).replace("name: reviews\n", &format!("name: {name}\n"))
}

/// The reviews DestinationRule and VirtualServices `a-reviews` and
/// `b-reviews` for the same host, in that order.
fn two_reviews_vss(a_http: &str, b_http: &str) -> String {
    format!(
        "{REVIEWS_DR}---\n{}---\n{}",
        named_reviews_vs("a-reviews", a_http),
        named_reviews_vs("b-reviews", b_http)
    )
}

struct Mesh {
    world: World,
    curl: PodId,
    clients: Vec<PodId>,
}

impl Mesh {
    fn build(routing: &str, clients: &[ClientSpec], seed: u64, outbound: OutboundPolicy) -> Mesh {
        // The sample files leave the namespace to `kubectl -n bookinfo`.
        let inline = |name: &str, text: &str, namespace: Option<&str>| Manifest {
            source: ManifestSource::Inline {
                name: name.to_string(),
                text: text.to_string(),
            },
            namespace: namespace.map(str::to_string),
        };
        let mut sources = vec![
            inline("namespace.yaml", NAMESPACE, None),
            inline(
                "bookinfo.yaml",
                include_str!("../manifests/bookinfo/bookinfo.yaml"),
                Some("bookinfo"),
            ),
            inline(
                "curl.yaml",
                include_str!("../manifests/samples/curl.yaml"),
                Some("bookinfo"),
            ),
        ];
        if !routing.trim().is_empty() {
            sources.push(inline("routing.yaml", routing, None));
        }
        let (world, _warnings, clients) = match world_from(sources, clients, seed, outbound) {
            Ok(w) => w,
            Err(diags) => panic!(
                "the manifests do not load:\n{}",
                diags
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
        };
        let curl = world
            .find_pod("bookinfo", "curl")
            .expect("the curl pod runs");
        Mesh {
            world,
            curl,
            clients,
        }
    }

    fn new(routing: &str) -> Mesh {
        Mesh::build(routing, &[], 1, OutboundPolicy::AllowAny)
    }

    fn send(
        &mut self,
        from: ProbeFrom,
        method: &str,
        to: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (ProbeResult, Vec<String>) {
        let (host, port) = match to.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse().expect("a port")),
            None => (to.to_string(), 80),
        };
        let req = ProbeRequest {
            from,
            host,
            port,
            method: method.to_string(),
            path: path.to_string(),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
        };
        self.world.probe(&req, true).expect("the probe is answered")
    }

    /// A request from the curl pod.
    fn curl(&mut self, to: &str, path: &str, headers: &[(&str, &str)]) -> ProbeResult {
        self.send(ProbeFrom::Pod(self.curl), "GET", to, path, headers)
            .0
    }

    /// `GET http://reviews:9080/reviews/0` from the curl pod.
    fn reviews(&mut self, headers: &[(&str, &str)]) -> ProbeResult {
        self.curl("reviews:9080", "/reviews/0", headers)
    }

    /// `n` requests from `from`; how many went to each cluster and to each
    /// workload (the pod name up to its ReplicaSet hash).
    fn spread(
        &mut self,
        n: usize,
        from: ProbeFrom,
        to: &str,
        headers: &[(&str, &str)],
    ) -> (BTreeMap<String, usize>, BTreeMap<String, usize>) {
        let mut clusters = BTreeMap::new();
        let mut workloads = BTreeMap::new();
        for _ in 0..n {
            let (r, _) = self.send(from.clone(), "GET", to, "/reviews/0", headers);
            assert_eq!(r.status, Some(200), "{r:?}");
            *clusters.entry(r.cluster.clone()).or_default() += 1;
            *workloads
                .entry(workload(r.pod.as_deref().unwrap_or("-")))
                .or_default() += 1;
        }
        (clusters, workloads)
    }
}

/// `bookinfo/reviews-v1-5dd6466c7f-8277m` → `reviews-v1`.
fn workload(pod: &str) -> String {
    let name = pod.rsplit('/').next().unwrap_or(pod);
    let parts: Vec<&str> = name.split('-').collect();
    if parts.len() > 2 {
        parts[..parts.len() - 2].join("-")
    } else {
        name.to_string()
    }
}

fn served_by(r: &ProbeResult) -> String {
    workload(r.pod.as_deref().unwrap_or("-"))
}

// ---------------------------------------------------------------------------
// Default route
// ---------------------------------------------------------------------------

/// Without a VirtualService the sidecar has the default route for the
/// service (`BuildDefaultHTTPOutboundRoute`, httproute.go: prefix `/`, cluster
/// `outbound|9080||fqdn`), and the cluster's load balancer is LEAST_REQUEST
/// (`defaultLBAlgorithm`, cluster_traffic_policy.go), which with equal load
/// picks uniformly among reviews v1, v2 and v3 (§4, §7).
#[test]
fn without_a_virtual_service_the_default_route_spreads_over_all_versions() {
    let mut m = Mesh::new("");
    let r = m.reviews(&[]);
    assert_eq!(r.status, Some(200));
    assert_eq!(r.flags, "-");
    assert_eq!(r.cluster, reviews(""));
    let from = ProbeFrom::Pod(m.curl);
    let (clusters, workloads) = m.spread(300, from, "reviews:9080", &[]);
    assert_eq!(clusters.len(), 1, "{clusters:?}");
    assert_eq!(
        workloads.keys().collect::<Vec<_>>(),
        ["reviews-v1", "reviews-v2", "reviews-v3"],
        "{workloads:?}"
    );
    // Each share is binomial(300, 1/3): mean 100, sd 8.2; allow 5 sd.
    for (w, n) in &workloads {
        assert!((59..=141).contains(n), "{w}: {n} of 300 ({workloads:?})");
    }
}

// ---------------------------------------------------------------------------
// First match wins
// ---------------------------------------------------------------------------

/// Sidecar routes keep VirtualService order and Envoy takes the first route
/// that matches (`BuildHTTPRoutesForVirtualService`, route.go; §3 "Ordering").
#[test_case("v2", "v3"; "v2 listed first")]
#[test_case("v3", "v2"; "v3 listed first")]
fn the_first_matching_rule_wins(first: &str, second: &str) {
    let mut m = Mesh::new(&with_dr(&format!(
        "  - match:
    - uri: {{prefix: /reviews}}
    route:
    - destination: {{host: reviews, subset: {first}}}
  - match:
    - headers:
        end-user: {{exact: jason}}
    route:
    - destination: {{host: reviews, subset: {second}}}
  - route:
    - destination: {{host: reviews, subset: v1}}
"
    )));
    let r = m.reviews(&[("end-user", "jason")]);
    assert_eq!(r.status, Some(200));
    assert_eq!(r.cluster, reviews(first));
    assert_eq!(served_by(&r), format!("reviews-{first}"));
    // A catch-all stops the route list (later rules are not emitted).
    let r = m.curl("reviews:9080", "/health", &[("end-user", "jason")]);
    assert_eq!(r.cluster, reviews(second));
}

// ---------------------------------------------------------------------------
// Match fields
// ---------------------------------------------------------------------------

/// Rule 0 carries the match block `m` (a YAML flow mapping) and goes to v2;
/// rule 1 is a catch-all to v1. Whether `method path` with `headers` from
/// the curl pod to `reviews:9080` matched rule 0.
///
/// Sources (§3): `TranslateRouteMatch` and `translateHeaderMatch`
/// (pilot/pkg/networking/core/route/route.go); Envoy `PathMatcher::match`
/// strips the query (`removeQueryAndFragment`) and regexes are RE2
/// `FullMatch` (`CompiledGoogleReMatcher::match`); `ignoreUriCase` sets
/// `case_sensitive = false`, which Envoy honours for prefix and path only;
/// `{}` and `regex: "*"` become `present_match`; `withoutHeaders` is an
/// inverted matcher with `treat_missing_header_as_empty`; query parameters
/// use the first value only; `method`/`authority` are `:method` and
/// `:authority` header matchers on the raw Host (port included); `port`,
/// `sourceLabels` and `sourceNamespace` filter routes per proxy at config
/// time (`sourceMatchHTTP`, `TranslateRoute`).
#[test_case("{uri: {exact: /reviews/0}}", "GET", "/reviews/0", &[], true; "uri exact")]
#[test_case("{uri: {exact: /reviews/0}}", "GET", "/reviews/01", &[], false; "uri exact is not a prefix")]
#[test_case("{uri: {exact: /reviews/0}}", "GET", "/reviews/0?a=b", &[], true; "uri exact ignores the query")]
#[test_case("{uri: {prefix: /reviews}}", "GET", "/reviews/0", &[], true; "uri prefix")]
#[test_case("{uri: {prefix: /rev}}", "GET", "/reviews/0", &[], true; "uri prefix is not segment aware")]
#[test_case("{uri: {prefix: /reviews/1}}", "GET", "/reviews/0", &[], false; "uri prefix mismatch")]
#[test_case("{uri: {prefix: /reviews/0/}}", "GET", "/reviews/0?x=/", &[], false; "uri prefix does not see the query")]
#[test_case("{uri: {regex: '/reviews/[0-9]+'}}", "GET", "/reviews/12", &[], true; "uri regex")]
#[test_case("{uri: {regex: '/reviews/[0-9]+'}}", "GET", "/reviews/12?x=y", &[], true; "uri regex ignores the query")]
#[test_case("{uri: {regex: '/reviews/[0-9]+'}}", "GET", "/reviews/12/x", &[], false; "uri regex is a full match at the end")]
#[test_case("{uri: {regex: 'reviews/[0-9]+'}}", "GET", "/reviews/12", &[], false; "uri regex is a full match at the start")]
#[test_case("{uri: {exact: /REVIEWS/0}}", "GET", "/reviews/0", &[], false; "uri exact is case sensitive")]
#[test_case("{uri: {exact: /REVIEWS/0}, ignoreUriCase: true}", "GET", "/reviews/0", &[], true; "ignoreUriCase exact")]
#[test_case("{uri: {prefix: /REV}, ignoreUriCase: true}", "GET", "/reviews/0", &[], true; "ignoreUriCase prefix")]
#[test_case("{uri: {regex: '/REVIEWS/0'}, ignoreUriCase: true}", "GET", "/reviews/0", &[], false; "ignoreUriCase does not apply to regex")]
#[test_case("{method: {exact: GET}}", "GET", "/reviews/0", &[], true; "method exact")]
#[test_case("{method: {exact: POST}}", "GET", "/reviews/0", &[], false; "method mismatch")]
#[test_case("{method: {regex: 'GET|HEAD'}}", "HEAD", "/reviews/0", &[], true; "method regex")]
#[test_case("{authority: {exact: 'reviews:9080'}}", "GET", "/reviews/0", &[], true; "authority exact includes the port")]
#[test_case("{authority: {exact: reviews}}", "GET", "/reviews/0", &[], false; "authority is not port stripped")]
#[test_case("{authority: {prefix: rev}}", "GET", "/reviews/0", &[], true; "authority prefix")]
#[test_case("{headers: {end-user: {exact: jason}}}", "GET", "/reviews/0", &[("end-user", "jason")], true; "header exact")]
#[test_case("{headers: {end-user: {exact: jason}}}", "GET", "/reviews/0", &[("end-user", "jasonx")], false; "header exact mismatch")]
#[test_case("{headers: {end-user: {exact: jason}}}", "GET", "/reviews/0", &[], false; "header exact absent")]
#[test_case("{headers: {end-user: {prefix: ja}}}", "GET", "/reviews/0", &[("end-user", "jason")], true; "header prefix")]
#[test_case("{headers: {end-user: {regex: 'j.*n'}}}", "GET", "/reviews/0", &[("end-user", "jason")], true; "header regex")]
#[test_case("{headers: {end-user: {regex: 'j.*s'}}}", "GET", "/reviews/0", &[("end-user", "jason")], false; "header regex is a full match")]
#[test_case("{headers: {end-user: {}}}", "GET", "/reviews/0", &[("end-user", "")], true; "header presence with an empty value")]
#[test_case("{headers: {end-user: {}}}", "GET", "/reviews/0", &[], false; "header presence absent")]
#[test_case("{headers: {end-user: {exact: ''}}}", "GET", "/reviews/0", &[("end-user", "")], true; "header exact empty present")]
#[test_case("{headers: {end-user: {exact: ''}}}", "GET", "/reviews/0", &[], false; "header exact empty absent")]
#[test_case("{headers: {end-user: {exact: jason}}, ignoreUriCase: true}", "GET", "/reviews/0", &[("end-user", "JASON")], false; "ignoreUriCase does not apply to headers")]
#[test_case("{headers: {end-user: {exact: jason}, x-b: {exact: '1'}}}", "GET", "/reviews/0", &[("end-user", "jason")], false; "headers are ANDed")]
#[test_case("{withoutHeaders: {end-user: {exact: jason}}}", "GET", "/reviews/0", &[], true; "withoutHeaders exact absent")]
#[test_case("{withoutHeaders: {end-user: {exact: jason}}}", "GET", "/reviews/0", &[("end-user", "mary")], true; "withoutHeaders exact other value")]
#[test_case("{withoutHeaders: {end-user: {exact: jason}}}", "GET", "/reviews/0", &[("end-user", "jason")], false; "withoutHeaders exact same value")]
#[test_case("{withoutHeaders: {end-user: {}}}", "GET", "/reviews/0", &[], true; "withoutHeaders presence absent")]
#[test_case("{withoutHeaders: {end-user: {}}}", "GET", "/reviews/0", &[("end-user", "x")], false; "withoutHeaders presence present")]
#[test_case("{queryParams: {u: {exact: jason}}}", "GET", "/reviews/0?u=jason", &[], true; "query exact")]
#[test_case("{queryParams: {u: {exact: jason}}}", "GET", "/reviews/0?a=1&u=jason", &[], true; "query exact among others")]
#[test_case("{queryParams: {u: {exact: jason}}}", "GET", "/reviews/0?u=jasonx", &[], false; "query exact mismatch")]
#[test_case("{queryParams: {u: {exact: jason}}}", "GET", "/reviews/0", &[], false; "query absent")]
#[test_case("{queryParams: {u: {exact: jason}}}", "GET", "/reviews/0?u=mary&u=jason", &[], false; "query uses the first value")]
#[test_case("{queryParams: {u: {prefix: ja}}}", "GET", "/reviews/0?u=jason", &[], true; "query prefix")]
#[test_case("{queryParams: {u: {regex: '[a-z]+'}}}", "GET", "/reviews/0?u=jason", &[], true; "query regex")]
#[test_case("{queryParams: {u: {regex: '[a-z]'}}}", "GET", "/reviews/0?u=jason", &[], false; "query regex is a full match")]
#[test_case("{queryParams: {u: {}}}", "GET", "/reviews/0?u=1", &[], true; "query presence")]
#[test_case("{queryParams: {u: {}}}", "GET", "/reviews/0?v=1", &[], false; "query presence absent")]
#[test_case("{queryParams: {u: {exact: ''}}}", "GET", "/reviews/0?u", &[], true; "query exact empty without equals")]
#[test_case("{queryParams: {u: {exact: ''}}}", "GET", "/reviews/0?u=", &[], true; "query exact empty with equals")]
#[test_case("{port: 9080}", "GET", "/reviews/0", &[], true; "port")]
#[test_case("{port: 9081}", "GET", "/reviews/0", &[], false; "port mismatch")]
#[test_case("{sourceLabels: {app: curl}}", "GET", "/reviews/0", &[], true; "sourceLabels")]
#[test_case("{sourceLabels: {app: productpage}}", "GET", "/reviews/0", &[], false; "sourceLabels mismatch")]
#[test_case("{sourceNamespace: bookinfo}", "GET", "/reviews/0", &[], true; "sourceNamespace")]
#[test_case("{sourceNamespace: default}", "GET", "/reviews/0", &[], false; "sourceNamespace mismatch")]
#[test_case("{sourceLabels: {app: curl}, sourceNamespace: default}", "GET", "/reviews/0", &[], false; "sourceLabels and sourceNamespace are ANDed")]
#[test_case("{gateways: [mesh], sourceLabels: {app: productpage}}", "GET", "/reviews/0", &[], true; "match gateways skip the sourceLabels check")]
#[test_case("{gateways: [bookinfo/bookinfo-gateway]}", "GET", "/reviews/0", &[], false; "match gateways without mesh")]
#[test_case("{uri: {prefix: /reviews}, headers: {end-user: {exact: jason}}}", "GET", "/reviews/0", &[], false; "a match block is ANDed")]
fn match_field(m: &str, method: &str, path: &str, headers: &[(&str, &str)], matches: bool) {
    let mut mesh = Mesh::new(&with_dr(&format!(
        "  - match:
    - {m}
    route:
    - destination: {{host: reviews, subset: v2}}
  - route:
    - destination: {{host: reviews, subset: v1}}
"
    )));
    let (r, trace) = mesh.send(
        ProbeFrom::Pod(mesh.curl),
        method,
        "reviews:9080",
        path,
        headers,
    );
    assert_eq!(r.status, Some(200), "{r:?}\n{}", trace.join("\n"));
    let want = if matches { "v2" } else { "v1" };
    assert_eq!(r.cluster, reviews(want), "{}", trace.join("\n"));
}

/// Several match blocks in one rule are ORed: each becomes its own Envoy
/// route (`TranslateRoute`, route.go; §3 "Combination").
#[test_case(&[("end-user", "jason")], "v2"; "first block")]
#[test_case(&[("x-canary", "1")], "v2"; "second block")]
#[test_case(&[("end-user", "mary")], "v1"; "neither")]
fn match_blocks_are_ored(headers: &[(&str, &str)], subset: &str) {
    let mut m = Mesh::new(&with_dr(
        "  - match:
    - headers:
        end-user: {exact: jason}
    - headers:
        x-canary: {exact: '1'}
    route:
    - destination: {host: reviews, subset: v2}
  - route:
    - destination: {host: reviews, subset: v1}
",
    ));
    assert_eq!(m.reviews(headers).cluster, reviews(subset));
}

/// `regex: "*"` would be translated to a presence match, but validation
/// compiles every regex with Go's RE2 `regexp.Compile` first and rejects it
/// (`validateStringMatchRegexp`, pkg/config/validation/validation.go), so
/// such a VirtualService never reaches istiod.
#[test]
fn a_regex_star_is_rejected_by_validation() {
    let yaml = with_dr(
        "  - match:
    - headers:
        end-user: {regex: '*'}
    route:
    - destination: {host: reviews, subset: v2}
",
    );
    let sources = vec![ManifestSource::Inline {
        name: "routing.yaml".into(),
        text: yaml,
    }];
    let Err(errors) = world_from(sources, &[], 1, OutboundPolicy::AllowAny) else {
        panic!("the VirtualService should be rejected");
    };
    assert!(
        errors.iter().any(|d| d
            .to_string()
            .contains("missing argument to repetition operator")),
        "{errors:?}"
    );
}

/// A client whose labels filter out every rule of a VirtualService gets the
/// service's default route, as if the VS did not exist:
/// `BuildHTTPRoutesForVirtualService` fails with "no routes matched" and
/// `buildSidecarVirtualHostsForVirtualService` returns nil, leaving the
/// service's own virtual host (§2 "VS with all routes filtered out").
#[test]
fn a_client_filtered_out_of_every_rule_gets_the_default_route() {
    let mut m = Mesh::new(&with_dr(
        "  - match:
    - sourceLabels: {app: productpage}
    route:
    - destination: {host: reviews, subset: v2}
",
    ));
    let r = m.reviews(&[]);
    assert_eq!(r.status, Some(200));
    assert_eq!(r.cluster, reviews(""));
    // A client with the labels gets the rule.
    let mut m = Mesh::build(
        &with_dr(
            "  - match:
    - sourceLabels: {app: productpage}
    route:
    - destination: {host: reviews, subset: v2}
",
        ),
        &[ClientSpec {
            namespace: "bookinfo".into(),
            labels: [("app".to_string(), "productpage".to_string())].into(),
            ..ClientSpec::default()
        }],
        1,
        OutboundPolicy::AllowAny,
    );
    let pp = ProbeFrom::Pod(m.clients[0]);
    let (r, _) = m.send(pp, "GET", "reviews:9080", "/reviews/0", &[]);
    assert_eq!(r.cluster, reviews("v2"));
}

/// If at least one rule survives the per-proxy filtering, only the
/// surviving routes exist and anything else is 404 NR (§2, §3 "No route
/// matches").
#[test]
fn a_surviving_rule_leaves_no_default_route() {
    let mut m = Mesh::new(&with_dr(
        "  - match:
    - sourceLabels: {app: productpage}
    route:
    - destination: {host: reviews, subset: v2}
  - match:
    - headers:
        end-user: {exact: jason}
    route:
    - destination: {host: reviews, subset: v3}
",
    ));
    let r = m.reviews(&[]);
    assert_eq!((r.status, r.flags.as_str()), (Some(404), "NR"));
    assert_eq!(m.reviews(&[("end-user", "jason")]).cluster, reviews("v3"));
}

// ---------------------------------------------------------------------------
// Weights
// ---------------------------------------------------------------------------

/// Weighted destinations become Envoy `WeightedClusters`; the pick is
/// `random % total_weight` over the intervals in order
/// (`processWeightedDestination`, route.go; Envoy
/// `WeightedClusterSpecifierPlugin::pickWeightedCluster`; §4).
#[test_case(1; "seed 1")]
#[test_case(2; "seed 2")]
fn a_90_10_split_converges(seed: u64) {
    let mut m = Mesh::build(
        &with_dr(
            "  - route:
    - destination: {host: reviews, subset: v1}
      weight: 90
    - destination: {host: reviews, subset: v2}
      weight: 10
",
        ),
        &[],
        seed,
        OutboundPolicy::AllowAny,
    );
    let from = ProbeFrom::Pod(m.curl);
    let n = 1000;
    let (clusters, workloads) = m.spread(n, from, "reviews:9080", &[]);
    let v2 = clusters.get(&reviews("v2")).copied().unwrap_or(0);
    assert_eq!(clusters.values().sum::<usize>(), n);
    assert_eq!(clusters.len(), 2, "{clusters:?}");
    // binomial(1000, 0.1): mean 100, sd 9.5; 5 sd either side.
    assert!((53..=147).contains(&v2), "v2 got {v2} of {n}: {clusters:?}");
    assert_eq!(workloads.get("reviews-v2").copied().unwrap_or(0), v2);
}

/// A destination with weight 0 is dropped from the weighted clusters
/// (`if dst.Weight == 0 { continue }` in route.go; §4).
#[test]
fn a_weight_0_destination_receives_nothing() {
    let mut m = Mesh::new(&with_dr(
        "  - route:
    - destination: {host: reviews, subset: v1}
      weight: 100
    - destination: {host: reviews, subset: v2}
      weight: 0
",
    ));
    let from = ProbeFrom::Pod(m.curl);
    let (clusters, _) = m.spread(200, from, "reviews:9080", &[]);
    assert_eq!(clusters, [(reviews("v1"), 200)].into());
}

/// With exactly one destination the route uses `ClusterSpecifier = Cluster`
/// and its weight is ignored (route.go `applyHTTPRouteDestination`; §4).
#[test]
fn a_single_destinations_weight_is_ignored() {
    let mut m = Mesh::new(&with_dr(
        "  - route:
    - destination: {host: reviews, subset: v3}
      weight: 10
",
    ));
    let from = ProbeFrom::Pod(m.curl);
    let (clusters, _) = m.spread(100, from, "reviews:9080", &[]);
    assert_eq!(clusters, [(reviews("v3"), 100)].into());
}

// ---------------------------------------------------------------------------
// Host forms
// ---------------------------------------------------------------------------

/// A short VS host is resolved in the VirtualService's namespace
/// (`ResolveShortnameToFQDN`, pilot/pkg/model/config.go): `reviews` in
/// namespace `other` is `reviews.other.svc.cluster.local`, not Bookinfo's
/// reviews, while in `bookinfo` it is Bookinfo's (§2 "Short names").
#[test_case("bookinfo", "reviews", true; "short name in the service namespace")]
#[test_case("other", "reviews", false; "short name in another namespace")]
#[test_case("other", "reviews.bookinfo.svc.cluster.local", true; "fqdn from another namespace")]
#[test_case("bookinfo", "reviews.bookinfo", false; "dotted name is taken literally")]
fn virtual_service_host_forms(vs_namespace: &str, host: &str, applies: bool) {
    let mut m = Mesh::new(&format!(
        "apiVersion: v1
kind: Namespace
metadata:
  name: other
---
{REVIEWS_DR}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: {vs_namespace}
spec:
  hosts: [{host}]
  http:
  - route:
    - destination: {{host: {FQDN}, subset: v2}}
"
    ));
    let want = if applies { reviews("v2") } else { reviews("") };
    for to in [
        "reviews:9080",
        "reviews.bookinfo:9080",
        "reviews.bookinfo.svc.cluster.local:9080",
    ] {
        let r = m.curl(to, "/reviews/0", &[]);
        assert_eq!(r.status, Some(200), "{to}: {r:?}");
        assert_eq!(r.cluster, want, "{to}");
    }
}

// ---------------------------------------------------------------------------
// Missing subsets and hosts, no route
// ---------------------------------------------------------------------------

/// Istio does not check subsets or destination hosts: the route names a
/// cluster that CDS never built and, with `ValidateClusters: false`, Envoy
/// answers 503 NC with an empty body (`cluster_not_found`); a subset whose
/// labels select no pod is a cluster without endpoints, 503 UH `no healthy
/// upstream` (`Filter::sendNoHealthyUpstreamResponse`). §4 "Missing
/// subsets and hosts".
#[test_case("{host: reviews, subset: v4}", 503, "NC", &reviews("v4"), ""; "subset in no DestinationRule")]
#[test_case("{host: reviews, subset: v9}", 503, "UH", "", "no healthy upstream"; "subset selecting no pods")]
#[test_case("{host: nosuch}", 503, "NC", "outbound|9080||nosuch.bookinfo.svc.cluster.local", ""; "host not in the registry")]
fn broken_destinations(dst: &str, status: u16, flags: &str, cluster: &str, body: &str) {
    let mut m = Mesh::new(&format!(
        "{REVIEWS_DR}  - name: v9
    labels: {{version: v9}}
---
{}",
        reviews_vs(&format!("  - route:\n    - destination: {dst}\n"))
    ));
    let r = m.reviews(&[]);
    assert_eq!(r.status, Some(status), "{r:?}");
    assert_eq!(r.flags, flags);
    if flags == "NC" {
        assert_eq!(r.cluster, cluster);
    }
    assert_eq!(r.body, body);
    assert_eq!(r.pod, None);
}

/// With UH the route's cluster exists and was chosen (only its load
/// balancer found no host), so Envoy's `%UPSTREAM_CLUSTER%` names it, as it
/// does for NC (router.cc `Filter::decodeHeaders` sets the cluster info
/// before `sendNoHealthyUpstreamResponse`; §4 notes the UH metric labels
/// come from that cluster's metadata).
#[test]
fn a_subset_without_pods_names_its_cluster() {
    let mut m = Mesh::new(&format!(
        "{REVIEWS_DR}  - name: v9
    labels: {{version: v9}}
---
{}",
        reviews_vs("  - route:\n    - destination: {host: reviews, subset: v9}\n")
    ));
    let r = m.reviews(&[]);
    assert_eq!((r.status, r.flags.as_str()), (Some(503), "UH"));
    assert_eq!(r.cluster, reviews("v9"));
}

/// A VirtualService with no catch-all gets no default route appended:
/// unmatched requests are 404 NR with an empty body (Envoy router
/// `decodeHeaders`: `NoRouteFound`; §1, §3).
#[test]
fn no_matching_rule_is_404_nr() {
    let mut m = Mesh::new(&with_dr(
        "  - match:
    - headers:
        end-user: {exact: jason}
    route:
    - destination: {host: reviews, subset: v2}
",
    ));
    let r = m.reviews(&[]);
    assert_eq!(r.status, Some(404));
    assert_eq!(r.flags, "NR");
    assert_eq!(r.cluster, "");
    assert_eq!(r.body, "");
    assert_eq!(r.pod, None);
    assert_eq!(m.reviews(&[("end-user", "jason")]).cluster, reviews("v2"));
}

// ---------------------------------------------------------------------------
// Redirect, direct response, rewrite, headers
// ---------------------------------------------------------------------------

/// `ApplyRedirect` (route.go): redirectCode 0 is 301; `uri` replaces the
/// whole path and Envoy (`Utility::newUri`) keeps the query string; with no
/// `authority` the request Host (port included) is kept; a redirect port
/// replaces the request's, except that `ApplyRedirect` zeroes port 80 for
/// http ("Do not put explicit :80 or :443"), and with no port redirect
/// Envoy's `processRequestHost` keeps the request Host as is, stripping
/// its port on a scheme change only if it is `:80` (from http) or `:443`
/// (from https). No flag (§5).
#[test_case("{uri: /v1/bookinfo}", "/reviews/0", 301, "http://reviews:9080/v1/bookinfo"; "default code keeps the host")]
#[test_case("{uri: /v1/bookinfo}", "/reviews/0?a=b", 301, "http://reviews:9080/v1/bookinfo?a=b"; "query kept")]
#[test_case("{uri: /new, authority: example.com, redirectCode: 302}", "/reviews/0", 302, "http://example.com/new"; "authority and code")]
#[test_case("{authority: example.com}", "/reviews/0", 301, "http://example.com/reviews/0"; "authority only keeps the path")]
#[test_case("{uri: /x, port: 8080}", "/reviews/0", 301, "http://reviews:8080/x"; "port replaces the request port")]
#[test_case("{uri: /x, port: 80}", "/reviews/0", 301, "http://reviews:9080/x"; "port 80 over http is dropped so the request port stays")]
#[test_case("{uri: /x, authority: example.com, port: 8080}", "/reviews/0", 301, "http://example.com:8080/x"; "authority and port")]
#[test_case("{uri: /x, scheme: https}", "/reviews/0", 301, "https://reviews:9080/x"; "scheme keeps a non default port")]
#[test_case("{uri: /x, scheme: https, port: 8443}", "/reviews/0", 301, "https://reviews:8443/x"; "scheme and port")]
#[test_case("{uri: /x, redirectCode: 308}", "/reviews/0", 308, "http://reviews:9080/x"; "code 308")]
fn redirect(redirect: &str, path: &str, status: u16, location: &str) {
    let mut m = Mesh::new(&with_dr(&format!("  - redirect: {redirect}\n")));
    let r = m.curl("reviews:9080", path, &[]);
    assert_eq!(r.status, Some(status), "{r:?}");
    assert_eq!(r.flags, "-");
    assert_eq!(
        r.response_headers.get("location").map(String::as_str),
        Some(location),
        "{r:?}"
    );
    assert_eq!(r.pod, None);
}

/// `ApplyDirectResponse` (route.go): Envoy answers with the configured
/// status and body, no flag (§5).
#[test]
fn direct_response() {
    let mut m = Mesh::new(&with_dr(
        "  - directResponse:
      status: 418
      body:
        string: I am a teapot
",
    ));
    let r = m.reviews(&[]);
    assert_eq!(r.status, Some(418));
    assert_eq!(r.body, "I am a teapot");
    assert_eq!(r.flags, "-");
    assert_eq!(r.pod, None);
    assert_eq!(r.upstream, None);
}

/// `rewrite.uri` is Envoy `prefix_rewrite`: the matched prefix (the whole
/// path for `exact`, `/` when the rule has no match) is replaced, so prefix
/// `/foo` with rewrite `/` turns `/foo/bar` into `//bar`; the original path
/// is sent as `x-envoy-original-path` (router `suppress_envoy_headers` is
/// false). §5 "rewrite".
#[test_case("{prefix: /reviews}", "/v2/reviews", "/reviews/0", "/v2/reviews/0"; "prefix")]
#[test_case("{prefix: /foo}", "/", "/foo/bar", "//bar"; "prefix to slash keeps the slash")]
#[test_case("{prefix: /foo/}", "/", "/foo/bar", "/bar"; "prefix with slash to slash")]
#[test_case("{exact: /reviews/0}", "/reviews/1", "/reviews/0?a=b", "/reviews/1?a=b"; "exact keeps the query")]
fn rewrite_uri(uri: &str, rewrite: &str, path: &str, upstream_path: &str) {
    let mut m = Mesh::new(&with_dr(&format!(
        "  - match:
    - uri: {uri}
    rewrite:
      uri: {rewrite}
    route:
    - destination: {{host: reviews, subset: v1}}
"
    )));
    let r = m.curl("reviews:9080", path, &[]);
    let up = r.upstream.as_ref().unwrap_or_else(|| panic!("{r:?}"));
    assert_eq!(up.path, upstream_path);
    assert_eq!(
        up.headers.get("x-envoy-original-path").map(String::as_str),
        Some(path)
    );
}

/// A rule without match has `matched_path` `/`: `/x` with rewrite `/api`
/// becomes `/apix` (Envoy `currentUrlPathAfterRewriteWithMatchedPath`; §5).
#[test]
fn rewrite_without_match_replaces_the_leading_slash() {
    let mut m = Mesh::new(&with_dr(
        "  - rewrite:
      uri: /api
    route:
    - destination: {host: reviews, subset: v1}
",
    ));
    let r = m.curl("reviews:9080", "/reviews/0", &[]);
    assert_eq!(r.upstream.unwrap().path, "/apireviews/0");
}

/// `rewrite.authority` is `host_rewrite_literal`: the upstream sees the new
/// Host (§5).
#[test]
fn rewrite_authority() {
    let mut m = Mesh::new(&with_dr(
        "  - rewrite:
      authority: reviews.example.com
    route:
    - destination: {host: reviews, subset: v1}
",
    ));
    let r = m.reviews(&[]);
    assert_eq!(r.status, Some(200));
    let up = r.upstream.unwrap();
    assert_eq!(up.authority, "reviews.example.com");
    assert_eq!(up.path, "/reviews/0");
    assert!(!up.headers.contains_key("x-envoy-original-path"), "{up:?}");
}

/// Header operations (`TranslateHeadersOperations`, route.go): `set` is
/// OVERWRITE_IF_EXISTS_OR_ADD, `add` APPEND_IF_EXISTS_OR_ADD, `remove`
/// removes; request ops are what the upstream sees, response ops what the
/// client sees (§5 "headers").
#[test]
fn request_and_response_header_operations() {
    let mut m = Mesh::new(&with_dr(
        "  - headers:
      request:
        set: {x-set: 'new', x-fresh: 'yes'}
        add: {x-added: 'a'}
        remove: [x-gone]
      response:
        set: {x-resp: 'r'}
        remove: [content-type]
    route:
    - destination: {host: reviews, subset: v1}
",
    ));
    let r = m.reviews(&[("x-set", "old"), ("x-gone", "1"), ("x-kept", "k")]);
    assert_eq!(r.status, Some(200));
    let h = &r.upstream.as_ref().unwrap().headers;
    assert_eq!(h.get("x-set").map(String::as_str), Some("new"), "{h:?}");
    assert_eq!(h.get("x-fresh").map(String::as_str), Some("yes"), "{h:?}");
    assert_eq!(h.get("x-added").map(String::as_str), Some("a"), "{h:?}");
    assert_eq!(h.get("x-kept").map(String::as_str), Some("k"), "{h:?}");
    assert!(!h.contains_key("x-gone"), "{h:?}");
    let rh = &r.response_headers;
    assert_eq!(rh.get("x-resp").map(String::as_str), Some("r"), "{rh:?}");
    assert!(!rh.contains_key("content-type"), "{rh:?}");
}

/// A destination-level `set` is applied after the route-level one for a
/// single destination and so wins (`applyHTTPRouteDestination` appends the
/// destination's operations; §5 "Single destination").
#[test]
fn destination_header_set_wins_over_route_set_for_a_single_destination() {
    let mut m = Mesh::new(&with_dr(
        "  - headers:
      request:
        set: {x-who: route}
    route:
    - destination: {host: reviews, subset: v1}
      headers:
        request:
          set: {x-who: destination}
",
    ));
    let r = m.reviews(&[]);
    let h = &r.upstream.as_ref().unwrap().headers;
    assert_eq!(h.get("x-who").map(String::as_str), Some("destination"));
}

/// A destination's `:authority` or `host` header is a host rewrite, not a
/// header: for a single destination it applies unless the route rewrites
/// the host itself; for weighted destinations each cluster rewrites its own
/// (route.go `processDestination`, `processWeightedDestination`,
/// `isInternalHeader`; route_test "for header operations for single
/// cluster" / "weighted cluster").
#[test_case("{host: reviews, subset: v1}\n      headers: {request: {set: {host: example.com}}}", "", "example.com"; "single host header")]
#[test_case("{host: reviews, subset: v1}\n      headers: {request: {set: {':authority': example.com}}}", "", "example.com"; "single authority header")]
#[test_case("{host: reviews, subset: v1}\n      headers: {request: {set: {host: example.com}}}", "    rewrite: {authority: route.example}\n", "route.example"; "route rewrite wins over single destination")]
#[test_case("{host: reviews, subset: v1}\n      weight: 100\n      headers: {request: {set: {host: example.com}}}\n    - destination: {host: reviews, subset: v2}\n      weight: 0", "", "example.com"; "weighted destination")]
fn a_destination_authority_header_rewrites_the_host(
    dest: &str,
    route_extra: &str,
    authority: &str,
) {
    let mut m = Mesh::new(&with_dr(&format!(
        "  - route:\n    - destination: {dest}\n{route_extra}"
    )));
    let r = m.reviews(&[]);
    let up = r.upstream.as_ref().expect("reached reviews");
    assert_eq!(up.authority, authority, "{r:?}");
    assert!(!up.headers.contains_key("host"), "{r:?}");
    assert!(!up.headers.contains_key(":authority"), "{r:?}");
}

/// A route's response header operations apply to its redirects and direct
/// responses too (route_test "for redirect and header manipulation", "for
/// direct response code and header manipulation"; Envoy finalizes a local
/// reply's headers with the route's).
#[test_case("  - redirect: {uri: /elsewhere}\n    headers: {response: {set: {x-mark: marked}}}\n", 301; "redirect")]
#[test_case("  - directResponse: {status: 503}\n    headers: {response: {add: {x-mark: marked}}}\n", 503; "direct response")]
fn local_replies_carry_the_routes_response_headers(http: &str, status: u16) {
    let mut m = Mesh::new(&with_dr(http));
    let r = m.reviews(&[]);
    assert_eq!(r.status, Some(status), "{r:?}");
    assert_eq!(
        r.response_headers.get("x-mark").map(String::as_str),
        Some("marked"),
        "{r:?}"
    );
}

// ---------------------------------------------------------------------------
// Mirroring
// ---------------------------------------------------------------------------

/// `mirror` becomes a request mirror policy on the route; with no
/// `mirrorPercentage` it is 100%, an explicit 0 removes it
/// (`MirrorPercent`, route.go). The mirror is fire-and-forget: the client's
/// response is the primary's (router.cc `maybeDoShadowing`; §6).
#[test_case("", true; "default percentage")]
#[test_case("    mirrorPercentage: {value: 100}\n", true; "100 percent")]
#[test_case("    mirrorPercentage: {value: 0}\n", false; "0 percent")]
fn mirror(percentage: &str, mirrored: bool) {
    let mut m = Mesh::new(&with_dr(&format!(
        "  - route:
    - destination: {{host: reviews, subset: v1}}
    mirror: {{host: reviews, subset: v2}}
{percentage}"
    )));
    for _ in 0..5 {
        let r = m.reviews(&[]);
        assert_eq!(r.status, Some(200));
        assert_eq!(r.cluster, reviews("v1"));
        assert_eq!(served_by(&r), "reviews-v1");
        assert!(r.body.contains("reviews-v1-"), "{}", r.body);
        let want: Vec<String> = if mirrored {
            vec![reviews("v2")]
        } else {
            vec![]
        };
        assert_eq!(r.mirrored_to, want);
    }
}

/// A mirror to a cluster that does not exist is skipped silently ("shadow
/// cluster '{}' does not exist"); the main request is unaffected (§6).
#[test]
fn a_mirror_to_a_missing_subset_does_not_hurt_the_request() {
    let mut m = Mesh::new(&with_dr(
        "  - route:
    - destination: {host: reviews, subset: v1}
    mirror: {host: reviews, subset: v7}
",
    ));
    let r = m.reviews(&[]);
    assert_eq!(r.status, Some(200));
    assert_eq!(r.cluster, reviews("v1"));
    assert_eq!(r.mirrored_to, Vec::<String>::new(), "no copy was sent");
}

// ---------------------------------------------------------------------------
// DestinationRules
// ---------------------------------------------------------------------------

/// A DestinationRule in the client's namespace beats one in the service's
/// namespace (`PushContext.destinationRule`, push_context.go: client
/// namespace first, then the service namespace, then the root; §7). Here
/// subset `v1` means `version: v3` in the client namespace `front`.
#[test]
fn a_destination_rule_in_the_client_namespace_wins() {
    let routing = format!(
        "apiVersion: v1
kind: Namespace
metadata:
  name: front
  labels:
    istio-injection: enabled
---
{REVIEWS_DR}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews-from-front
  namespace: front
spec:
  host: reviews.bookinfo.svc.cluster.local
  subsets:
  - name: v1
    labels: {{version: v3}}
---
{}",
        reviews_vs(
            "  - route:
    - destination: {host: reviews, subset: v1}
"
        )
    );
    let front = ClientSpec {
        namespace: "front".into(),
        ..ClientSpec::default()
    };
    let mut m = Mesh::build(&routing, &[front], 1, OutboundPolicy::AllowAny);
    let from_front = ProbeFrom::Pod(m.clients[0]);
    for _ in 0..10 {
        let (r, trace) = m.send(
            from_front.clone(),
            "GET",
            "reviews.bookinfo:9080",
            "/reviews/0",
            &[],
        );
        assert_eq!(r.cluster, reviews("v1"), "{}", trace.join("\n"));
        assert_eq!(served_by(&r), "reviews-v3", "{}", trace.join("\n"));
        let r = m.reviews(&[]);
        assert_eq!(served_by(&r), "reviews-v1");
    }
}

/// Subset traffic policy overrides the top-level one field by field
/// (`MergeSubsetTrafficPolicy`, util.go; §7): the top-level ROUND_ROBIN
/// cycles over the three pods, the subset's consistent hash on `x-user`
/// always picks the same one.
#[test]
fn subset_traffic_policy_overrides_the_top_level_one() {
    let mut m = Mesh::new(&format!(
        "apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews
  trafficPolicy:
    loadBalancer: {{simple: ROUND_ROBIN}}
  subsets:
  - name: all
    labels: {{app: reviews}}
    trafficPolicy:
      loadBalancer:
        consistentHash: {{httpHeaderName: x-user}}
---
{}",
        reviews_vs(
            "  - match:
    - headers:
        x-sticky: {}
    route:
    - destination: {host: reviews, subset: all}
  - route:
    - destination: {host: reviews}
"
        )
    ));
    let from = ProbeFrom::Pod(m.curl);
    let (c, w) = m.spread(
        30,
        from.clone(),
        "reviews:9080",
        &[("x-user", "u1"), ("x-sticky", "1")],
    );
    assert_eq!(c.keys().collect::<Vec<_>>(), [&reviews("all")]);
    assert_eq!(w.len(), 1, "consistent hash should stick: {w:?}");
    let (c, w) = m.spread(30, from, "reviews:9080", &[("x-user", "u1")]);
    assert_eq!(c.keys().collect::<Vec<_>>(), [&reviews("")]);
    assert_eq!(
        w,
        [
            ("reviews-v1".to_string(), 10),
            ("reviews-v2".to_string(), 10),
            ("reviews-v3".to_string(), 10)
        ]
        .into(),
        "round robin should cycle"
    );
}

/// `consistentHash.httpHeaderName` is a route hash policy on that header
/// with RING_HASH (`consistentHashToHashPolicy`, `ApplyRingHashLoadBalancer`;
/// §7): the same value always reaches the same pod; different values spread.
#[test]
fn consistent_hash_on_a_header_is_sticky() {
    let mut m = Mesh::new(
        "apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews
  trafficPolicy:
    loadBalancer:
      consistentHash: {httpHeaderName: x-user}
",
    );
    let from = ProbeFrom::Pod(m.curl);
    let mut chosen = BTreeSet::new();
    for u in 0..12 {
        let user = format!("user-{u}");
        let (c, w) = m.spread(20, from.clone(), "reviews:9080", &[("x-user", &user)]);
        assert_eq!(c.keys().collect::<Vec<_>>(), [&reviews("")]);
        assert_eq!(w.len(), 1, "{user}: {w:?}");
        chosen.extend(w.into_keys());
    }
    assert!(chosen.len() >= 2, "12 users all hashed to {chosen:?}");
}

/// A consistent hash in `portLevelSettings` reaches a VirtualService
/// route only when the destination names its port (route.go
/// `HashForHTTPDestination` / `portLevelSettingsConsistentHash`); without
/// it the route has no hash policy and the ring hash cluster picks at
/// random. Without a VirtualService the service port's settings apply
/// (`hashForService`).
#[test_case("    - destination: {host: reviews, port: {number: 9080}}\n", true; "destination with port")]
#[test_case("    - destination: {host: reviews}\n", false; "destination without port")]
#[test_case("", true; "no virtual service")]
fn port_level_consistent_hash_needs_the_destination_port(dest: &str, sticky: bool) {
    let dr = "apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews
  trafficPolicy:
    portLevelSettings:
    - port: {number: 9080}
      loadBalancer:
        consistentHash: {httpHeaderName: x-user}
";
    let yaml = if dest.is_empty() {
        dr.to_string()
    } else {
        format!("{dr}---\n{}", reviews_vs(&format!("  - route:\n{dest}")))
    };
    let mut m = Mesh::new(&yaml);
    let from = ProbeFrom::Pod(m.curl);
    let (_, pods) = m.spread(30, from, "reviews:9080", &[("x-user", "jason")]);
    assert_eq!(pods.len() == 1, sticky, "{pods:?}");
}

// ---------------------------------------------------------------------------
// ServiceEntry and the outbound traffic policy
// ---------------------------------------------------------------------------

const HTTPBIN_SE: &str = "apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: httpbin-ext
  namespace: bookinfo
spec:
  hosts: [httpbin.org]
  location: MESH_EXTERNAL
  resolution: DNS
  ports:
  - number: 80
    name: http
    protocol: HTTP
";

/// A ServiceEntry host gets its own vhost and cluster `outbound|80||host`
/// (`convertServices`, serviceentry/conversion.go; §8). Unknown hosts on an
/// HTTP port hit the catch-all vhost (`buildCatchAllVirtualHost`,
/// httproute.go): `block_all` is a direct 502 with no flag under
/// REGISTRY_ONLY; `allow_any` passes through under ALLOW_ANY, to Envoy's
/// `PassthroughCluster` (§1, §8).
#[test_case(OutboundPolicy::AllowAny, "httpbin.org:80", 200, "outbound|80||httpbin.org"; "service entry, allow any")]
#[test_case(OutboundPolicy::RegistryOnly, "httpbin.org:80", 200, "outbound|80||httpbin.org"; "service entry, registry only")]
#[test_case(OutboundPolicy::AllowAny, "example.com:80", 200, "PassthroughCluster"; "unknown host, allow any")]
#[test_case(OutboundPolicy::RegistryOnly, "example.com:80", 502, ""; "unknown host, registry only")]
fn external_hosts(policy: OutboundPolicy, to: &str, status: u16, cluster: &str) {
    let mut m = Mesh::build(HTTPBIN_SE, &[], 1, policy);
    let r = m.curl(to, "/get", &[]);
    assert_eq!(r.status, Some(status), "{r:?}");
    assert_eq!(r.flags, "-");
    assert_eq!(r.cluster, cluster);
    assert_eq!(r.pod, None);
    if status == 502 {
        assert_eq!(r.body, "");
        assert_eq!(r.upstream, None);
    } else {
        assert_eq!(r.upstream.unwrap().path, "/get");
    }
}

// ---------------------------------------------------------------------------
// Ingress gateway
// ---------------------------------------------------------------------------

const GATEWAY: &str = "apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: bookinfo-gateway
  namespace: bookinfo
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ['*']
";

/// The Bookinfo sample's `bookinfo` VirtualService, with or without its
/// `gateways` binding.
fn bookinfo_vs(gateways: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: bookinfo
  namespace: bookinfo
spec:
  hosts: ['*']
{gateways}  http:
  - match:
    - uri: {{exact: /productpage}}
    - uri: {{prefix: /static}}
    - uri: {{exact: /login}}
    - uri: {{exact: /logout}}
    - uri: {{prefix: /api/v1/products}}
    route:
    - destination:
        host: productpage
        port: {{number: 9080}}
"
    )
}

/// A VS bound to `bookinfo-gateway` (resolved to `bookinfo/bookinfo-gateway`,
/// `resolveGatewayName`) gives the gateway a vhost per intersecting host
/// (`buildGatewayHTTPRouteConfig`, gateway.go; §9): /productpage goes to
/// productpage; a path no rule matches is 404 NR.
#[test_case("/productpage", 200, "-"; "productpage")]
#[test_case("/static/tailwind/tailwind.css", 200, "-"; "static prefix")]
#[test_case("/reviews/0", 404, "NR"; "unmatched path")]
fn ingress_gateway(path: &str, status: u16, flags: &str) {
    let mut m = Mesh::new(&format!(
        "{GATEWAY}---\n{}",
        bookinfo_vs("  gateways: [bookinfo-gateway]\n")
    ));
    let (r, trace) = m.send(
        ProbeFrom::External,
        "GET",
        "productpage.example.com:80",
        path,
        &[],
    );
    assert_eq!(r.status, Some(status), "{r:?}\n{}", trace.join("\n"));
    assert_eq!(r.flags, flags);
    if status == 200 {
        assert_eq!(
            r.cluster,
            "outbound|9080||productpage.bookinfo.svc.cluster.local"
        );
        assert_eq!(served_by(&r), "productpage-v1");
        if path == "/productpage" {
            assert!(
                r.body.contains("<title>Simple Bookstore App</title>"),
                "{}",
                r.body
            );
        }
    } else {
        assert_eq!(r.cluster, "");
        assert_eq!(r.body, "");
    }
}

/// A VirtualService without `gateways` is bound to `mesh` only
/// (`getGatewayNames`, push_context.go); the gateway then has no vhost with
/// routes and answers 404 NR (§2, §9 "No VS bound at all"). (Host `*` is
/// not allowed on a mesh VirtualService, so the host is named.)
#[test]
fn a_virtual_service_without_gateways_does_not_apply_at_the_gateway() {
    let vs = bookinfo_vs("").replace("hosts: ['*']", "hosts: [productpage.example.com]");
    let mut m = Mesh::new(&format!("{GATEWAY}---\n{vs}"));
    let (r, _) = m.send(
        ProbeFrom::External,
        "GET",
        "productpage.example.com:80",
        "/productpage",
        &[],
    );
    assert_eq!((r.status, r.flags.as_str()), (Some(404), "NR"), "{r:?}");
    assert_eq!(r.cluster, "");
}

/// Conversely a VirtualService whose `gateways` omit `mesh` does not apply
/// to sidecars (§2 "Binding to gateways").
#[test]
fn a_gateway_virtual_service_does_not_apply_to_sidecars() {
    let mut m = Mesh::new(&format!(
        "{GATEWAY}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: bookinfo
spec:
  hosts: [reviews]
  gateways: [bookinfo-gateway]
  http:
  - directResponse:
      status: 418
"
    ));
    let r = m.reviews(&[]);
    assert_eq!(r.status, Some(200));
    assert_eq!(r.cluster, reviews(""));
}

/// The gateway's HCM sets `server_name: istio-envoy` with OVERWRITE
/// (`GetProxyHeadersFromProxyConfig`, httproute.go; §10), which applies to
/// the gateway's local replies (404 NR) as well as to proxied responses:
/// Envoy's HCM sets `server` in `encodeHeaders` for every response.
#[test_case("/productpage"; "proxied")]
#[test_case("/nope"; "local reply")]
fn the_gateway_answers_with_server_istio_envoy(path: &str) {
    let mut m = Mesh::new(&format!(
        "{GATEWAY}---\n{}",
        bookinfo_vs("  gateways: [bookinfo-gateway]\n")
    ));
    let (r, _) = m.send(
        ProbeFrom::External,
        "GET",
        "productpage.example.com:80",
        path,
        &[],
    );
    assert_eq!(
        r.response_headers.get("server").map(String::as_str),
        Some("istio-envoy"),
        "{r:?}"
    );
}

// ---------------------------------------------------------------------------
// More destinations and VirtualService interplay
// ---------------------------------------------------------------------------

/// Destinations without a weight count as weight 0 and are dropped when
/// there are several (`if dst.Weight == 0 { continue }`, route.go; §4):
/// `[{v1}, {v2, weight: 50}]` sends everything to v2.
#[test]
fn an_omitted_weight_among_several_destinations_is_zero() {
    let mut m = Mesh::new(&with_dr(
        "  - route:
    - destination: {host: reviews, subset: v1}
    - destination: {host: reviews, subset: v2}
      weight: 50
",
    ));
    let from = ProbeFrom::Pod(m.curl);
    let (clusters, _) = m.spread(100, from, "reviews:9080", &[]);
    assert_eq!(clusters, [(reviews("v2"), 100)].into());
}

/// On a sidecar the destination port defaults to the listener port
/// (`GetDestinationCluster`, route.go): routing reviews:9080 to `curl`
/// (which only has port 80) names `outbound|9080||curl...`, which does not
/// exist: 503 NC (§4 "Port selection").
#[test]
fn a_destination_without_the_listener_port_is_503_nc() {
    let mut m = Mesh::new(&reviews_vs(
        "  - route:
    - destination: {host: curl}
",
    ));
    let r = m.reviews(&[]);
    assert_eq!((r.status, r.flags.as_str()), (Some(503), "NC"), "{r:?}");
    assert_eq!(r.cluster, "outbound|9080||curl.bookinfo.svc.cluster.local");
}

/// For weighted destinations Envoy applies the cluster-level header
/// operations first and the route-level ones after
/// (`WeightedClusterEntry::finalizeRequestHeaders`), so the route-level
/// `set` wins (§5 "Weighted destinations").
#[test]
fn route_header_set_wins_over_destination_set_for_weighted_destinations() {
    let mut m = Mesh::new(&with_dr(
        "  - headers:
      request:
        set: {x-who: route}
    route:
    - destination: {host: reviews, subset: v1}
      weight: 50
      headers:
        request:
          set: {x-who: destination}
    - destination: {host: reviews, subset: v2}
      weight: 50
      headers:
        request:
          set: {x-who: destination}
",
    ));
    for _ in 0..6 {
        let r = m.reviews(&[]);
        let h = &r.upstream.as_ref().unwrap().headers;
        assert_eq!(h.get("x-who").map(String::as_str), Some("route"), "{r:?}");
    }
}

/// Sidecars do not merge VirtualServices for the same host: the first in
/// order (creation time, then name) wins entirely and the other is ignored
/// (`buildVirtualHost` drops duplicate vhost names; §2 "Several VSs for the
/// same host, sidecar"). `a-reviews` has no catch-all, so a request it does
/// not match is 404 NR even though `b-reviews` would match it.
#[test]
fn the_first_of_two_virtual_services_for_a_host_wins_entirely() {
    let mut m = Mesh::new(&two_reviews_vss(
        "  - match:
    - headers:
        end-user: {exact: jason}
    route:
    - destination: {host: reviews, subset: v2}
",
        "  - route:
    - destination: {host: reviews, subset: v3}
",
    ));
    assert_eq!(m.reviews(&[("end-user", "jason")]).cluster, reviews("v2"));
    let r = m.reviews(&[]);
    assert_eq!((r.status, r.flags.as_str()), (Some(404), "NR"), "{r:?}");
}

/// A VirtualService left with no route for this client (its only rule is
/// for other source labels) does not claim the host, so a later one for
/// the same host applies (route.go `buildSidecarVirtualHostsForVirtualService`
/// returns nothing, and no duplicate virtual host is dropped).
#[test]
fn a_virtual_service_with_no_routes_for_the_client_leaves_the_host_to_the_next() {
    let mut m = Mesh::new(&two_reviews_vss(
        "  - match:
    - sourceLabels: {app: nobody}
    route:
    - destination: {host: reviews, subset: v1}
",
        "  - route:
    - destination: {host: reviews, subset: v3}
",
    ));
    assert_eq!(m.reviews(&[]).cluster, reviews("v3"));
}

/// Objects created in the same second are ordered by name (istiod's
/// `sortConfigByCreationTime`; the apiserver's timestamps are seconds),
/// so of two VirtualServices applied together the one whose name sorts
/// first wins, wherever it is in the file.
#[test]
fn of_two_virtual_services_applied_together_the_first_by_name_wins() {
    let vs = |name: &str, subset: &str| {
        named_reviews_vs(
            name,
            &format!("  - route:\n    - destination: {{host: reviews, subset: {subset}}}\n"),
        )
    };
    let mut m = Mesh::new(&format!(
        "{REVIEWS_DR}---\n{}---\n{}",
        vs("z-reviews", "v1"),
        vs("a-reviews", "v2")
    ));
    assert_eq!(m.reviews(&[]).cluster, reviews("v2"));
}

/// VirtualService hosts are case-insensitive (istiod lowercases them).
#[test]
fn virtual_service_hosts_ignore_case() {
    let mut m = Mesh::new(
        &with_dr("  - route:\n    - destination: {host: reviews, subset: v2}\n")
            .replace("hosts: [reviews]", "hosts: [Reviews]"),
    );
    assert_eq!(m.reviews(&[]).cluster, reviews("v2"));
}

/// `authority` matches the raw Host, whatever name the client used (§3).
#[test_case("reviews.bookinfo.svc.cluster.local:9080", "v2"; "fqdn")]
#[test_case("reviews:9080", "v1"; "short")]
fn authority_matches_the_name_the_client_used(to: &str, subset: &str) {
    let mut m = Mesh::new(&with_dr(
        "  - match:
    - authority: {prefix: reviews.bookinfo.svc}
    route:
    - destination: {host: reviews, subset: v2}
  - route:
    - destination: {host: reviews, subset: v1}
",
    ));
    assert_eq!(m.curl(to, "/reviews/0", &[]).cluster, reviews(subset));
}

/// On a gateway, VS hosts intersect the server's hosts
/// (`buildGatewayHTTPRouteConfig`; §9): a VS for `bookinfo.example.com`
/// gives a vhost for that Host only, any other Host is 404 NR; the
/// destination port may be omitted when the service has one port
/// (`GetDestinationCluster`: "one port means that port"); `match.port` is
/// compared with the server port 80, not the pod's 8080.
#[test_case("bookinfo.example.com:80", "{port: 80}", 200; "named host and server port")]
#[test_case("other.example.com:80", "{port: 80}", 404; "other host")]
#[test_case("bookinfo.example.com:80", "{port: 8080}", 404; "target port is not the match port")]
fn gateway_hosts_and_ports(to: &str, m: &str, status: u16) {
    let mut mesh = Mesh::new(&format!(
        "{GATEWAY}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: bookinfo
  namespace: bookinfo
spec:
  hosts: [bookinfo.example.com]
  gateways: [bookinfo-gateway]
  http:
  - match:
    - {m}
    route:
    - destination: {{host: productpage}}
"
    ));
    let (r, trace) = mesh.send(ProbeFrom::External, "GET", to, "/productpage", &[]);
    assert_eq!(r.status, Some(status), "{r:?}\n{}", trace.join("\n"));
    if status == 200 {
        assert_eq!(
            r.cluster,
            "outbound|9080||productpage.bookinfo.svc.cluster.local"
        );
    } else {
        assert_eq!(r.flags, "NR");
    }
}

/// `uriRegexRewrite` is Envoy `regex_rewrite`: `RE2::GlobalReplace` on the
/// path without its query, the query kept, with RE2's `\1` capture group
/// references in the substitution (Envoy `RegexMatchAndSubstitute`; the
/// Istio docs' example is `rewrite: /\2/instance/\1`; §5 "rewrite").
#[test_case("^/reviews", "/r", "/reviews/7", "/r/7"; "literal")]
#[test_case("[0-9]", "n", "/reviews/70?x=1", "/reviews/nn?x=1"; "every match, query kept")]
#[test_case("^/reviews/([0-9]+)$", "/r/\\1", "/reviews/7", "/r/7"; "capture group")]
#[test_case("^/reviews/([0-9]+)$", "/r/\\1", "/reviews/7?x=1", "/r/7?x=1"; "capture group, query kept")]
fn uri_regex_rewrite(re: &str, with: &str, path: &str, upstream_path: &str) {
    let mut m = Mesh::new(&with_dr(&format!(
        "  - rewrite:
      uriRegexRewrite:
        match: '{re}'
        rewrite: '{with}'
    route:
    - destination: {{host: reviews, subset: v1}}
"
    )));
    let r = m.curl("reviews:9080", path, &[]);
    let up = r.upstream.as_ref().unwrap_or_else(|| panic!("{r:?}"));
    assert_eq!(up.path, upstream_path);
}

/// `mirrors[]` entries become one mirror policy each, a `percentage` of 0
/// removing that one (`MirrorPercentByPolicy`, route.go; §6).
#[test]
fn several_mirrors() {
    let mut m = Mesh::new(&with_dr(
        "  - route:
    - destination: {host: reviews, subset: v1}
    mirrors:
    - destination: {host: reviews, subset: v2}
    - destination: {host: reviews, subset: v3}
      percentage: {value: 0}
    - destination: {host: ratings}
",
    ));
    let r = m.reviews(&[]);
    assert_eq!(r.cluster, reviews("v1"));
    assert_eq!(
        r.mirrored_to,
        [
            reviews("v2"),
            "outbound|9080||ratings.bookinfo.svc.cluster.local".to_string()
        ]
    );
}

/// A VirtualService exported only to its own namespace (`exportTo: ["."]`)
/// is invisible to sidecars elsewhere, which get the default route
/// (`initVirtualServices` indexes it as private; §2 "exportTo").
#[test]
fn export_to_dot_keeps_a_virtual_service_in_its_namespace() {
    let routing = format!(
        "apiVersion: v1
kind: Namespace
metadata:
  name: front
  labels:
    istio-injection: enabled
---
{}",
        with_dr(
            "  - route:
    - destination: {host: reviews, subset: v2}
"
        )
        .replace(
            "  hosts: [reviews]\n",
            "  hosts: [reviews]\n  exportTo: ['.']\n"
        )
    );
    let front = ClientSpec {
        namespace: "front".into(),
        ..ClientSpec::default()
    };
    let mut m = Mesh::build(&routing, &[front], 1, OutboundPolicy::AllowAny);
    assert_eq!(m.reviews(&[]).cluster, reviews("v2"));
    let from_front = ProbeFrom::Pod(m.clients[0]);
    let (r, trace) = m.send(
        from_front,
        "GET",
        "reviews.bookinfo:9080",
        "/reviews/0",
        &[],
    );
    assert_eq!(r.status, Some(200));
    assert_eq!(r.cluster, reviews(""), "{}", trace.join("\n"));
}

/// With no DestinationRule in the client's or the service's namespace, one
/// in the root namespace (`istio-system`) applies
/// (`PushContext.destinationRule`, step 3; §7 "Selection").
#[test]
fn a_destination_rule_in_the_root_namespace_is_the_fallback() {
    let dr = REVIEWS_DR
        .replace("namespace: bookinfo", "namespace: istio-system")
        .replace("host: reviews\n", &format!("host: {FQDN}\n"));
    let mut m = Mesh::new(&format!(
        "{dr}---\n{}",
        reviews_vs(
            "  - route:
    - destination: {host: reviews, subset: v3}
"
        )
    ));
    let r = m.reviews(&[]);
    assert_eq!(r.status, Some(200), "{r:?}");
    assert_eq!(served_by(&r), "reviews-v3");
}

/// At a gateway, `sourceLabels` are the gateway pod's labels
/// (`sourceMatchHTTP` with the gateway proxy's labels; §9).
#[test_case("{istio: ingressgateway}", 200; "gateway labels")]
#[test_case("{app: curl}", 404; "other labels")]
fn source_labels_at_the_gateway_are_the_gateways(labels: &str, status: u16) {
    let mut m = Mesh::new(&format!(
        "{GATEWAY}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: bookinfo
  namespace: bookinfo
spec:
  hosts: ['*']
  gateways: [bookinfo-gateway]
  http:
  - match:
    - sourceLabels: {labels}
      uri: {{prefix: /}}
    route:
    - destination: {{host: productpage, port: {{number: 9080}}}}
"
    ));
    let (r, trace) = m.send(
        ProbeFrom::External,
        "GET",
        "bookinfo.example.com:80",
        "/productpage",
        &[],
    );
    assert_eq!(r.status, Some(status), "{r:?}\n{}", trace.join("\n"));
}
