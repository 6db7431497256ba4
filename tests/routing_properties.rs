//! Properties of HTTP routing over generated VirtualServices for Bookinfo's
//! services, checked by probing small worlds from the `curl` pod. The
//! expectations are computed in the test, independently of meshsim, from
//! Istio 1.27's rules (routing research notes §3, §4):
//!
//! - routes keep VirtualService order and the first match wins
//!   (`BuildHTTPRoutesForVirtualService`, route.go);
//! - the conditions of one match block are ANDed, the blocks of a rule are
//!   ORed, each becoming its own Envoy route (`TranslateRouteMatch`);
//! - regexes are RE2 full matches (Envoy `CompiledGoogleReMatcher::match`
//!   is `RE2::FullMatch`);
//! - weighted destinations are picked by `random % total_weight`
//!   (`WeightedClusterSpecifierPlugin::pickWeightedCluster`);
//! - a subset cluster only has the endpoints whose labels match the subset.
//!
//! Each case builds a world (milliseconds), so the case counts are small;
//! the proptest RNG seed is fixed so that runs are reproducible.

use std::collections::BTreeMap;

use meshsim::dataplane::xds::OutboundPolicy;
use meshsim::k8s::PodId;
use meshsim::scenario::{Manifest, ManifestSource};
use meshsim::world::World;
use meshsim::world::probe::{ProbeFrom, ProbeRequest, ProbeResult, world_from};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

// ---------------------------------------------------------------------------
// The world
// ---------------------------------------------------------------------------

const NAMESPACE: &str = "apiVersion: v1
kind: Namespace
metadata:
  name: bookinfo
  labels:
    istio-injection: enabled
";

const FQDN: &str = "reviews.bookinfo.svc.cluster.local";

fn reviews_cluster(subset: &str) -> String {
    format!("outbound|9080|{subset}|{FQDN}")
}

struct Mesh {
    world: World,
    curl: PodId,
}

impl Mesh {
    /// Bookinfo and curl in `bookinfo`, plus `routing`.
    fn new(routing: &str, seed: u64) -> Mesh {
        let inline = |name: &str, text: &str, namespace: Option<&str>| Manifest {
            source: ManifestSource::Inline {
                name: name.to_string(),
                text: text.to_string(),
            },
            namespace: namespace.map(str::to_string),
        };
        let sources = vec![
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
            inline("routing.yaml", routing, None),
        ];
        let (world, _, _) = match world_from(sources, &[], seed, OutboundPolicy::AllowAny) {
            Ok(w) => w,
            Err(diags) => panic!(
                "the manifests do not load:\n{}\n{routing}",
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
        Mesh { world, curl }
    }

    /// `GET http://<host>:9080<path>` from the curl pod.
    fn get(&mut self, host: &str, path: &str, headers: &BTreeMap<String, String>) -> ProbeResult {
        let req = ProbeRequest {
            from: ProbeFrom::Pod(self.curl),
            host: host.to_string(),
            port: 9080,
            method: "GET".to_string(),
            path: path.to_string(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        };
        self.world
            .probe(&req, false)
            .expect("the probe is answered")
            .0
    }
}

/// `bookinfo/reviews-v1-5dd6466c7f-8277m` → `reviews-v1`.
fn workload(r: &ProbeResult) -> String {
    let pod = r.pod.as_deref().unwrap_or("-");
    let name = pod.rsplit('/').next().unwrap_or(pod);
    let parts: Vec<&str> = name.split('-').collect();
    if parts.len() > 2 {
        parts[..parts.len() - 2].join("-")
    } else {
        name.to_string()
    }
}

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

fn virtual_service(name: &str, host: &str, http: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: {name}
  namespace: bookinfo
spec:
  hosts: [{host}]
  http:
{http}"
    )
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        rng_seed: RngSeed::Fixed(0x1_5710),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------
// Header conditions, and an evaluator for them independent of meshsim
// ---------------------------------------------------------------------------

/// Header values requests carry; conditions are drawn against them.
const VALUES: [&str; 6] = ["", "a", "b", "ab", "ba", "abc"];

/// A header value predicate.
type Holds = fn(&str) -> bool;

/// Regexes with their full-match meaning written out by hand.
const REGEXES: [(&str, Holds); 5] = [
    ("a.*", |v| v.starts_with('a')),
    ("a|b", |v| v == "a" || v == "b"),
    ("[ab]+", |v| {
        !v.is_empty() && v.chars().all(|c| c == 'a' || c == 'b')
    }),
    ("b?", |v| v.is_empty() || v == "b"),
    ("ab", |v| v == "ab"),
];

#[derive(Clone, Debug)]
enum Cond {
    Exact(&'static str),
    Prefix(&'static str),
    Regex(usize),
    Present,
}

impl Cond {
    fn yaml(&self) -> String {
        match self {
            Cond::Exact(v) => format!("{{exact: '{v}'}}"),
            Cond::Prefix(v) => format!("{{prefix: '{v}'}}"),
            Cond::Regex(i) => format!("{{regex: '{}'}}", REGEXES[*i].0),
            Cond::Present => "{}".to_string(),
        }
    }

    /// Envoy's header matcher: a missing header fails every matcher; a
    /// present one is compared whole (§3 "Envoy header semantics").
    fn holds(&self, value: Option<&str>) -> bool {
        let Some(v) = value else { return false };
        match self {
            Cond::Exact(want) => v == *want,
            Cond::Prefix(p) => v.starts_with(p),
            Cond::Regex(i) => (REGEXES[*i].1)(v),
            Cond::Present => true,
        }
    }
}

fn cond() -> impl Strategy<Value = Cond> {
    prop_oneof![
        prop::sample::select(VALUES.to_vec()).prop_map(Cond::Exact),
        // Validation rejects an empty prefix.
        prop::sample::select(VALUES[1..].to_vec()).prop_map(Cond::Prefix),
        (0..REGEXES.len()).prop_map(Cond::Regex),
        Just(Cond::Present),
    ]
}

type Block = BTreeMap<&'static str, Cond>;

fn block(names: &'static [&'static str]) -> impl Strategy<Value = Block> {
    prop::collection::btree_map(prop::sample::select(names), cond(), 1..=names.len().min(2))
}

fn block_holds(b: &Block, headers: &BTreeMap<String, String>) -> bool {
    b.iter()
        .all(|(name, c)| c.holds(headers.get(*name).map(String::as_str)))
}

/// `    - headers:\n        x-a: {exact: 'a'}\n` for a match list item.
fn block_yaml(b: &Block) -> String {
    let mut y = "    - headers:\n".to_string();
    for (name, c) in b {
        y.push_str(&format!("        {name}: {}\n", c.yaml()));
    }
    y
}

const NAMES: &[&str] = &["x-a", "x-b", "x-c"];

fn request(names: &'static [&'static str]) -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map(
        prop::sample::select(names).prop_map(str::to_string),
        prop::sample::select(VALUES.to_vec()).prop_map(str::to_string),
        0..=names.len(),
    )
}

/// A rule: its match blocks (none: a catch-all) and its subset.
#[derive(Clone, Debug)]
struct Rule {
    blocks: Vec<Block>,
    subset: &'static str,
}

impl Rule {
    fn yaml(&self) -> String {
        let mut y = String::new();
        if self.blocks.is_empty() {
            y.push_str("  - route:\n");
        } else {
            y.push_str("  - match:\n");
            for b in &self.blocks {
                y.push_str(&block_yaml(b));
            }
            y.push_str("    route:\n");
        }
        y.push_str(&format!(
            "    - destination: {{host: reviews, subset: {}}}\n",
            self.subset
        ));
        y
    }

    fn matches(&self, headers: &BTreeMap<String, String>) -> bool {
        self.blocks.is_empty() || self.blocks.iter().any(|b| block_holds(b, headers))
    }
}

fn rule() -> impl Strategy<Value = Rule> {
    let blocks = prop_oneof![
        1 => Just(Vec::new()),
        6 => prop::collection::vec(block(NAMES), 1..=2),
    ];
    (blocks, prop::sample::select(vec!["v1", "v2", "v3"]))
        .prop_map(|(blocks, subset)| Rule { blocks, subset })
}

fn reviews_routing(rules: &[Rule]) -> String {
    let http: String = rules.iter().map(Rule::yaml).collect();
    format!(
        "{REVIEWS_DR}---\n{}",
        virtual_service("reviews", "reviews", &http)
    )
}

/// What Istio does with a request: the first matching rule's subset, or
/// no route (404 NR).
fn expected(rules: &[Rule], headers: &BTreeMap<String, String>) -> Option<&'static str> {
    rules.iter().find(|r| r.matches(headers)).map(|r| r.subset)
}

fn outcome(r: &ProbeResult) -> (Option<u16>, String, String, String) {
    (r.status, r.flags.clone(), r.cluster.clone(), workload(r))
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(48))]

    /// The subset chosen is the first rule's whose conditions hold; no
    /// rule holding is 404 NR (§3 "Ordering and no-match behaviour").
    #[test]
    fn the_first_matching_rule_wins(
        rules in prop::collection::vec(rule(), 1..=5),
        requests in prop::collection::vec(request(NAMES), 4),
    ) {
        let mut m = Mesh::new(&reviews_routing(&rules), 1);
        for headers in &requests {
            let r = m.get("reviews", "/reviews/0", headers);
            match expected(&rules, headers) {
                Some(subset) => {
                    prop_assert_eq!(r.status, Some(200), "{:?} {:?}", headers, r);
                    prop_assert_eq!(&r.cluster, &reviews_cluster(subset), "{:?}", headers);
                    prop_assert_eq!(workload(&r), format!("reviews-{subset}"));
                }
                None => {
                    prop_assert_eq!((r.status, r.flags.as_str()), (Some(404), "NR"), "{:?} {:?}", headers, r);
                }
            }
        }
    }

    /// One match block with the conditions of A and B matches exactly when
    /// both A and B do; a match list [A, B] when either does (§3
    /// "Combination"). A names x-a/x-b, B names x-c/x-d.
    #[test]
    fn a_match_block_is_and_and_the_match_list_is_or(
        a in block(&["x-a", "x-b"]),
        b in block(&["x-c", "x-d"]),
        requests in prop::collection::vec(request(&["x-a", "x-b", "x-c", "x-d"]), 4),
    ) {
        let hit = |blocks: &[&Block]| -> String {
            let mut y = "  - match:\n".to_string();
            for b in blocks {
                y.push_str(&block_yaml(b));
            }
            y.push_str("    directResponse: {status: 200, body: {string: hit}}\n");
            y
        };
        let both: Block = a.iter().chain(b.iter()).map(|(k, v)| (*k, v.clone())).collect();
        let routing = [
            virtual_service("only-a", "reviews", &hit(&[&a])),
            virtual_service("only-b", "ratings", &hit(&[&b])),
            virtual_service("a-and-b", "details", &hit(&[&both])),
            virtual_service("a-or-b", "productpage", &hit(&[&a, &b])),
        ]
        .join("---\n");
        let mut m = Mesh::new(&routing, 1);
        for headers in &requests {
            let mut matched = |host: &str| {
                let r = m.get(host, "/", headers);
                match r.status {
                    Some(200) => true,
                    Some(404) if r.flags == "NR" => false,
                    _ => panic!("{host}: {r:?}"),
                }
            };
            let (in_a, in_b) = (matched("reviews"), matched("ratings"));
            let (and, or) = (matched("details"), matched("productpage"));
            prop_assert_eq!(in_a, block_holds(&a, headers), "A {:?}", headers);
            prop_assert_eq!(in_b, block_holds(&b, headers), "B {:?}", headers);
            prop_assert_eq!(and, in_a && in_b, "A and B {:?}", headers);
            prop_assert_eq!(or, in_a || in_b, "A or B {:?}", headers);
        }
    }

    /// Regexes on the path and on headers must match the whole value, not
    /// a part of it (RE2 `FullMatch`; §3 "Default and URI matching").
    #[test]
    fn regex_is_a_full_match(
        lit in "[ab1]{1,3}",
        suffix in 0..4usize,
        values in prop::collection::vec(
            prop_oneof![
                Just(String::new()),
                "[ab1]{0,2}",
                "[ab1]{1,3}",
                "[ab1]{0,2}[ab1]{0,2}",
            ],
            4,
        ),
    ) {
        let (re_suffix, holds): (&str, fn(&str, &str) -> bool) = [
            ("", (|lit: &str, v: &str| v == lit) as fn(&str, &str) -> bool),
            (".*", |lit, v| v.starts_with(lit)),
            ("[a-z]", |lit, v| {
                v.len() == lit.len() + 1
                    && v.starts_with(lit)
                    && v.chars().last().is_some_and(|c| c.is_ascii_lowercase())
            }),
            ("[a-z]+", |lit, v| {
                v.len() > lit.len()
                    && v.starts_with(lit)
                    && v[lit.len()..].chars().all(|c| c.is_ascii_lowercase())
            }),
        ][suffix];
        let re = format!("{lit}{re_suffix}");
        let routing = [
            virtual_service(
                "by-path",
                "reviews",
                &format!("  - match:\n    - uri: {{regex: '/p/{re}'}}\n    directResponse: {{status: 200}}\n"),
            ),
            virtual_service(
                "by-header",
                "ratings",
                &format!("  - match:\n    - headers:\n        x-r: {{regex: '{re}'}}\n    directResponse: {{status: 200}}\n"),
            ),
        ]
        .join("---\n");
        let mut m = Mesh::new(&routing, 1);
        // Values made from the literal, so that matches are frequent.
        let values: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| match i % 3 {
                0 => format!("{lit}{v}"),
                1 => format!("{v}{lit}"),
                _ => v.clone(),
            })
            .collect();
        for v in &values {
            let want = holds(&lit, v);
            let path = m.get("reviews", &format!("/p/{v}"), &BTreeMap::new());
            prop_assert_eq!(path.status == Some(200), want, "path /p/{} vs /p/{}: {:?}", v, re, path);
            let headers = [("x-r".to_string(), v.clone())].into();
            let header = m.get("ratings", "/", &headers);
            prop_assert_eq!(header.status == Some(200), want, "header {:?} vs {}: {:?}", v, re, header);
        }
    }

    /// Removing a rule that does not match a request leaves that request's
    /// routing unchanged (the routes are evaluated in order, each on its
    /// own; §3). At least one rule remains so the VirtualService stays.
    #[test]
    fn removing_a_non_matching_rule_changes_nothing(
        rules in prop::collection::vec(rule(), 2..=5),
        headers in request(NAMES),
        pick in any::<prop::sample::Index>(),
    ) {
        let misses: Vec<usize> = (0..rules.len()).filter(|&i| !rules[i].matches(&headers)).collect();
        prop_assume!(!misses.is_empty());
        let removed = misses[pick.index(misses.len())];
        let mut fewer = rules.clone();
        fewer.remove(removed);
        let before = Mesh::new(&reviews_routing(&rules), 1).get("reviews", "/reviews/0", &headers);
        let after = Mesh::new(&reviews_routing(&fewer), 1).get("reviews", "/reviews/0", &headers);
        prop_assert_eq!(outcome(&before), outcome(&after), "removed rule {} for {:?}", removed, headers);
    }
}

proptest! {
    #![proptest_config(config(24))]

    /// Weighted destinations converge to weight / total: a chi-square
    /// goodness-of-fit test over the destinations with a weight (df ≤ 2,
    /// critical values at p = 1e-5), and destinations of weight 0 get
    /// nothing (`if dst.Weight == 0 { continue }`; §4).
    #[test]
    fn weights_converge_to_their_shares(
        weights in prop::collection::vec(0u32..=10, 3).prop_filter("a positive total", |w| w.iter().sum::<u32>() > 0),
        seed in 1u64..1000,
    ) {
        let subsets = ["v1", "v2", "v3"];
        let mut http = "  - route:\n".to_string();
        for (s, w) in subsets.iter().zip(&weights) {
            http.push_str(&format!("    - destination: {{host: reviews, subset: {s}}}\n      weight: {w}\n"));
        }
        let live = weights.iter().filter(|w| **w > 0).count();
        let mut m = Mesh::new(&format!("{REVIEWS_DR}---\n{}", virtual_service("reviews", "reviews", &http)), seed);
        let n = 600u32;
        let mut counts: BTreeMap<String, u32> = BTreeMap::new();
        for _ in 0..n {
            let r = m.get("reviews", "/reviews/0", &BTreeMap::new());
            prop_assert_eq!(r.status, Some(200), "{:?}", r);
            *counts.entry(r.cluster.clone()).or_default() += 1;
        }
        let total: u32 = weights.iter().sum();
        let mut chi2 = 0.0;
        for (s, w) in subsets.iter().zip(&weights) {
            let got = f64::from(counts.get(&reviews_cluster(s)).copied().unwrap_or(0));
            if *w == 0 {
                prop_assert_eq!(got, 0.0, "{} has weight 0: {:?}", s, counts);
                continue;
            }
            let want = f64::from(n) * f64::from(*w) / f64::from(total);
            chi2 += (got - want).powi(2) / want;
        }
        let critical = [0.0, 0.0, 19.51, 23.03][live];
        prop_assert!(chi2 <= critical, "chi2 {} > {} for weights {:?}: {:?}", chi2, critical, weights, counts);
    }

    /// Whatever the weights, rules and subset definitions, a request only
    /// reaches a pod whose labels match the subset of the cluster it was
    /// sent to (EDS for a subset cluster holds only the endpoints with the
    /// subset's labels; §4, §7).
    #[test]
    fn requests_only_reach_pods_of_their_subset(
        defs in prop::collection::vec(
            prop_oneof![
                (1usize..=3).prop_map(Some),
                Just(None),
            ],
            3,
        ),
        route in prop::collection::vec((0usize..3, 1u32..=5), 1..=3),
        jason in 0usize..3,
        seed in 1u64..1000,
    ) {
        // Subset sN selects `version: v<k>` (Some(k)) or every reviews pod.
        let mut dr = "apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: bookinfo
spec:
  host: reviews
  subsets:
".to_string();
        for (i, d) in defs.iter().enumerate() {
            match d {
                Some(k) => dr.push_str(&format!("  - name: s{i}\n    labels: {{app: reviews, version: v{k}}}\n")),
                None => dr.push_str(&format!("  - name: s{i}\n    labels: {{app: reviews}}\n")),
            }
        }
        let mut http = format!(
            "  - match:\n    - headers:\n        end-user: {{exact: jason}}\n    route:\n    - destination: {{host: reviews, subset: s{jason}}}\n  - route:\n"
        );
        for (s, w) in &route {
            http.push_str(&format!("    - destination: {{host: reviews, subset: s{s}}}\n      weight: {w}\n"));
        }
        let mut m = Mesh::new(&format!("{dr}---\n{}", virtual_service("reviews", "reviews", &http)), seed);
        for i in 0..20 {
            let headers: BTreeMap<String, String> = if i % 4 == 0 {
                [("end-user".to_string(), "jason".to_string())].into()
            } else {
                BTreeMap::new()
            };
            let r = m.get("reviews", "/reviews/0", &headers);
            prop_assert_eq!(r.status, Some(200), "{:?}", r);
            let subset = r.cluster.split('|').nth(2).unwrap_or_default().to_string();
            let index: usize = subset
                .strip_prefix('s')
                .and_then(|i| i.parse().ok())
                .unwrap_or_else(|| panic!("cluster {}", r.cluster));
            let w = workload(&r);
            match defs[index] {
                Some(k) => prop_assert_eq!(&w, &format!("reviews-v{k}"), "{}: {:?}", subset, r),
                None => prop_assert!(w.starts_with("reviews-v"), "{}: {:?}", subset, r),
            }
        }
    }
}
