//! `istioctl analyze` over small simulated clusters. Expected lines are
//! built from Istio 1.27's templates (`msg/messages.yaml`) and the
//! analyzers' rules, cited per case; the clusters are the Bookinfo sample
//! (istio/istio 1.27.7, `tests/fixtures/istio_tasks/`) plus inline YAML.

use test_case::test_case;

use crate::dataplane::xds::OutboundPolicy;
use crate::scenario::{Manifest, ManifestSource};
use crate::world::World;
use crate::world::probe::world_from;

const BOOKINFO: &str = include_str!("../../../tests/fixtures/istio_tasks/bookinfo.yaml");
const DR_ALL: &str = include_str!("../../../tests/fixtures/istio_tasks/destination-rule-all.yaml");
const VS_ALL_V1: &str =
    include_str!("../../../tests/fixtures/istio_tasks/virtual-service-all-v1.yaml");
const GATEWAY: &str = include_str!("../../../tests/fixtures/istio_tasks/bookinfo-gateway.yaml");

/// The Istio default profile with `docs` applied in order (namespaces
/// used but not declared are created `istio-injection=enabled`).
fn world(docs: &[&str]) -> World {
    let manifests: Vec<Manifest> = docs
        .iter()
        .enumerate()
        .map(|(i, text)| {
            Manifest::from(ManifestSource::Inline {
                name: format!("doc{i}.yaml"),
                text: text.to_string(),
            })
        })
        .collect();
    match world_from(manifests, &[], 3, OutboundPolicy::AllowAny) {
        Ok((w, _, _)) => w,
        Err(d) => panic!("{d:?}"),
    }
}

/// (stdout, stderr, exit code) of `istioctl analyze ARGS`.
fn analyze(w: &World, args: &[&str]) -> (String, String, i32) {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let out = super::analyze(w, &args);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.code,
    )
}

/// The message lines only.
fn lines(w: &World, args: &[&str]) -> Vec<String> {
    analyze(w, args)
        .0
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect()
}

const CLEAN: &str = "\u{2714} No validation issues found when analyzing namespace: default.\n";
const FOUND: &str = "Error: Analyzers found issues when analyzing namespace: default.\nSee https://istio.io/v1.27/docs/reference/config/analysis for more information about causes and resolutions.\n";

const VS_V4: &str = "apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v4}
";

#[test]
fn a_clean_bookinfo_has_no_issues() {
    // analyze.go: the (empty) output is printed with Fprintln, the
    // all-clear goes to stderr; exit 0.
    let w = world(&[BOOKINFO]);
    assert_eq!(analyze(&w, &[]), ("\n".into(), CLEAN.into(), 0));
}

#[test]
fn a_missing_subset_is_an_error_with_exit_79() {
    // virtualservice/destinationrules.go: "host+subset in destinationrule",
    // "%s+%s"; sysexits.go: ExitAnalyzerFoundIssues = 79.
    let w = world(&[BOOKINFO, DR_ALL, VS_V4]);
    let (out, err, code) = analyze(&w, &["--output-threshold", "Error"]);
    assert_eq!(code, 79);
    assert_eq!(err, FOUND);
    let want = "Error [IST0101] (VirtualService default/reviews) Referenced host+subset in destinationrule not found: \"reviews+v4\"";
    assert!(out.lines().any(|l| l == want), "{out}");
}

#[test]
fn destination_rule_all_has_subsets_bookinfo_does_not_run() {
    // destinationrule/subset.go matches a subset's labels against every
    // pod, whatever its service: `version: v2` of details and ratings is
    // satisfied by reviews-v2, so only ratings' mysql subsets select none.
    let w = world(&[BOOKINFO, DR_ALL]);
    let subset = |dr: &str, s: &str| {
        format!(
            "Error [IST0173] (DestinationRule default/{dr}) The Subset {s} defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream)."
        )
    };
    assert_eq!(
        lines(&w, &[]),
        [
            subset("ratings", "v2-mysql"),
            subset("ratings", "v2-mysql-vm"),
        ]
    );
}

#[test]
fn a_subset_selecting_no_pod_is_ist0173() {
    let dr = "apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v9
    labels: {version: v9}
";
    let w = world(&[BOOKINFO, dr]);
    assert_eq!(
        lines(&w, &[]),
        [
            "Error [IST0173] (DestinationRule default/reviews) The Subset v9 defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream)."
        ]
    );
}

const PLAIN_DEFAULT: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: default\n";
const INJECTED_DEFAULT: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: default\n  labels: {istio-injection: enabled}\n";

#[test]
fn a_namespace_without_injection_is_only_info() {
    // injection/injection.go: neither istio-injection nor istio.io/rev,
    // and not ambient: IST0102 (Info), below the failure threshold.
    let w = world(&[PLAIN_DEFAULT, BOOKINFO]);
    let want = "Info [IST0102] (Namespace default) The namespace is not enabled for Istio injection. Run 'kubectl label namespace default istio-injection=enabled' to enable it, or 'kubectl label namespace default istio-injection=disabled' to explicitly mark it as not needing injection.\n";
    assert_eq!(analyze(&w, &[]), (want.into(), String::new(), 0));
}

#[test_case("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: default\n  labels: {istio.io/dataplane-mode: ambient}\n"; "ambient")]
#[test_case("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: default\n  labels: {istio.io/rev: canary}\n"; "revision label")]
#[test_case("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: default\n  labels: {istio-injection: disabled}\n"; "explicitly disabled")]
fn namespaces_that_chose_are_not_reported(ns: &str) {
    let w = world(&[ns]);
    assert_eq!(analyze(&w, &[]), ("\n".into(), CLEAN.into(), 0));
}

#[test]
fn pods_started_before_injection_miss_their_proxy() {
    // injection.go: a pod of an injected namespace without istio-proxy.
    let app = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web, version: v1}}\n    spec:\n      containers: [{name: web, image: nginx}]\n";
    let w = world(&[PLAIN_DEFAULT, app, INJECTED_DEFAULT]);
    let pod = w
        .cluster
        .live_pods()
        .find(|p| p.namespace == "default")
        .map(|p| p.name.clone());
    let pod = pod.unwrap_or_default();
    assert_eq!(
        lines(&w, &[]),
        [format!(
            "Warning [IST0103] (Pod default/{pod}) The pod default/{pod} is missing the Istio proxy. This can often be resolved by restarting or redeploying the workload."
        )]
    );
}

#[test_case("ratingz", None, "Error [IST0101] (VirtualService default/t) Referenced host not found: \"ratingz\""; "unknown host")]
#[test_case("ratings.default", None, "Error [IST0101] (VirtualService default/t) Referenced host not found: \"ratings.default\""; "dotted short name is not expanded")]
#[test_case("ratings", Some(9999), "Error [IST0101] (VirtualService default/t) Referenced host:port not found: \"ratings:9999\""; "port the service lacks")]
fn destination_hosts_must_exist(host: &str, port: Option<u32>, want: &str) {
    // virtualservice/destinationhosts.go, util/service_lookup.go.
    let port = port.map_or(String::new(), |p| format!(", port: {{number: {p}}}"));
    let vs = format!(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: t}}\nspec:\n  hosts: [ratings]\n  http:\n  - route:\n    - destination: {{host: {host}{port}}}\n"
    );
    let w = world(&[BOOKINFO, &vs]);
    assert_eq!(lines(&w, &[]), [want]);
}

#[test]
fn a_missing_gateway_is_reported_twice_over() {
    // virtualservice/gateways.go: not found (IST0101), and so none of its
    // hosts serve the VirtualService's (IST0132).
    let vs = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: bookinfo}\nspec:\n  hosts: ['*']\n  gateways: [bookinfo-gateway]\n  http:\n  - route:\n    - destination: {host: productpage, port: {number: 9080}}\n";
    let w = world(&[BOOKINFO, vs]);
    assert_eq!(
        lines(&w, &[]),
        [
            "Error [IST0101] (VirtualService default/bookinfo) Referenced gateway not found: \"bookinfo-gateway\"",
            "Warning [IST0132] (VirtualService default/bookinfo) one or more host [*] defined in VirtualService default/bookinfo not found in Gateway default/bookinfo-gateway.",
        ]
    );
}

#[test]
fn gateway_routes_without_subsets_ignore_mesh_subsets() {
    // virtualservice/destinationhosts.go analyzeSubset: the gateway's
    // route to productpage has no subset, the mesh's does (IST0140).
    let w = world(&[BOOKINFO, GATEWAY, DR_ALL, VS_ALL_V1]);
    let out = lines(&w, &["--output-threshold", "warning"]);
    assert!(
        out.contains(&"Warning [IST0140] (VirtualService default/bookinfo) Subset in virtual service default/productpage has no effect on ingress gateway default/bookinfo requests".to_string()),
        "{out:?}"
    );
}

#[test]
fn two_mesh_virtual_services_for_one_host_conflict() {
    let vs = |name: &str| {
        format!(
            "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: {name}}}\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {{host: reviews}}\n"
        )
    };
    let w = world(&[BOOKINFO, &vs("a"), &vs("b")]);
    let line = |n: &str| {
        format!(
            "Error [IST0109] (VirtualService default/{n}) The VirtualServices default/a,default/b associated with mesh gateway define the same host */reviews.default.svc.cluster.local which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource."
        )
    };
    assert_eq!(lines(&w, &[]), [line("a"), line("b")]);
}

#[test]
fn a_destination_rule_for_no_service_is_ist0174() {
    let dr = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: ghost}\nspec:\n  host: ghost.example.com\n";
    let w = world(&[BOOKINFO, dr]);
    assert_eq!(
        lines(&w, &[]),
        [
            "Warning [IST0174] (DestinationRule default/ghost) The host ghost.example.com defined in the DestinationRule does not match any services in the mesh."
        ]
    );
}

#[test]
fn unnamed_protocol_ports_are_info() {
    // service/portname.go: "Port name %s (port: %d, targetPort: %s) ...".
    let svc = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports:\n  - {name: web, port: 80, targetPort: 8080}\n";
    let w = world(&[svc]);
    assert_eq!(
        lines(&w, &[]),
        [
            "Info [IST0118] (Service default/web) Port name web (port: 80, targetPort: 8080) doesn't follow the naming convention of Istio port."
        ]
    );
}

#[test]
fn a_policy_selecting_no_workload_is_ist0127() {
    let ap = "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: deny-nope}\nspec:\n  selector: {matchLabels: {app: nope}}\n  action: DENY\n  rules:\n  - from:\n    - source: {namespaces: [nowhere]}\n";
    let w = world(&[BOOKINFO, ap]);
    assert_eq!(
        lines(&w, &[]),
        [
            "Error [IST0101] (AuthorizationPolicy default/deny-nope) Referenced namespace not found: \"nowhere\"",
            "Warning [IST0127] (AuthorizationPolicy default/deny-nope) No matching workloads for this resource with the following labels: app=nope",
        ]
    );
}

#[test]
fn gateway_selectors_and_ports_are_checked() {
    // gateway/gateway.go: the selector must pick pods; server ports must be
    // ports or target ports of the Service in front (80 → 8080 here).
    let gw = |name: &str, selector: &str, port: u32| {
        format!(
            "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {{name: {name}}}\nspec:\n  selector: {{{selector}}}\n  servers:\n  - port: {{number: {port}, name: http, protocol: HTTP}}\n    hosts: ['*']\n"
        )
    };
    let w = world(&[
        &gw("ok", "istio: ingressgateway", 8080),
        &gw("ok80", "istio: ingressgateway", 80),
        &gw("odd", "istio: ingressgateway", 9999),
        &gw("none", "istio: nothing", 80),
    ]);
    assert_eq!(
        lines(&w, &[]),
        [
            "Error [IST0101] (Gateway default/none) Referenced selector not found: \"istio=nothing\"",
            "Warning [IST0162] (Gateway default/odd) The gateway is listening on a target port (port 9999) that is not defined in the Service associated with its workload instances (Pod selector istio=ingressgateway). If you need to access the gateway port through the gateway Service, it will not be available.",
        ]
    );
}

#[test]
fn a_missing_credential_is_ist0101() {
    // gateway/secret.go: looked up in the gateway pod's namespace.
    let gw = "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: tls}\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ['*']\n    tls: {mode: SIMPLE, credentialName: httpbin-credential}\n";
    let w = world(&[gw]);
    assert_eq!(
        lines(&w, &[]),
        [
            "Error [IST0101] (Gateway default/tls) Referenced credentialName not found: \"httpbin-credential\""
        ]
    );
}

const SHADOWED: &str = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews}\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews}\n  - route:\n    - destination: {host: reviews}\n";
const DUPLICATE: &str = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews}\nspec:\n  hosts: [reviews]\n  http:\n  - match: [{uri: {prefix: /a}}]\n    route:\n    - destination: {host: reviews}\n  - match: [{uri: {prefix: /a}}]\n    route:\n    - destination: {host: reviews}\n";
const BARE_SIDECAR: &str = "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: default}\nspec:\n  workloadSelector: {labels: {}}\n  egress:\n  - hosts: ['./*']\n";

// schema/validation.go: validation's rule analysis becomes IST0130 and
// IST0131 (`routeName`/`requestName`: `#N` when unnamed); other
// warnings IST0133.
#[test_case(SHADOWED, &["Warning [IST0130] (VirtualService default/reviews) VirtualService rule #1 not used (only the last rule can have no matches)."]; "rule after a catch-all")]
#[test_case(DUPLICATE, &[
    "Warning [IST0130] (VirtualService default/reviews) VirtualService rule #1 not used (all matches used by prior rules).",
    "Info [IST0131] (VirtualService default/reviews) VirtualService rule #1 match #0 is not used (duplicate/overlapping match in rule #0).",
]; "duplicate match")]
#[test_case(BARE_SIDECAR, &["Warning [IST0133] (Sidecar default/default) Schema validation warning: sidecar: workload selector specified without labels, will be applied to all services in namespace"]; "other warning")]
fn validation_warnings_are_reported(doc: &str, want: &[&str]) {
    let w = world(&[BOOKINFO, doc]);
    assert_eq!(lines(&w, &[]), want);
}

#[test]
fn other_namespaces_are_left_out_unless_all() {
    let vs = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: t, namespace: shop}\nspec:\n  hosts: [x]\n  http:\n  - route:\n    - destination: {host: ratingz}\n";
    let w = world(&[INJECTED_DEFAULT, vs]);
    assert_eq!(analyze(&w, &[]), ("\n".into(), CLEAN.into(), 0));
    let want = "Error [IST0101] (VirtualService shop/t) Referenced host not found: \"ratingz\"\n";
    let (out, err, code) = analyze(&w, &["-n", "shop"]);
    assert_eq!((out.as_str(), code), (want, 79));
    assert!(err.starts_with("Error: Analyzers found issues when analyzing namespace: shop.\n"));
    let (out, err, code) = analyze(&w, &["-A"]);
    assert_eq!((out.as_str(), code), (want, 79));
    assert!(err.starts_with("Error: Analyzers found issues when analyzing all namespaces.\n"));
}

#[test]
fn json_and_yaml_never_fail() {
    // analyze.go: the exit code is only computed for the log format.
    let w = world(&[BOOKINFO, DR_ALL, VS_V4]);
    let (out, err, code) = analyze(&w, &["-o", "json", "--output-threshold", "Error"]);
    assert_eq!((err.as_str(), code), ("", 0));
    assert!(
        out.starts_with("[\n\t{\n\t\t\"code\": \"IST0101\",\n"),
        "{out}"
    );
    assert!(out.ends_with("\n\t}\n]\n"));
    let (out, _, code) = analyze(&w, &["-oyaml", "--failure-threshold=info"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("- code: IST0101\n"), "{out}");
    assert!(out.ends_with("\n\n"));
}

#[test]
fn the_failure_threshold_decides_the_exit_code() {
    let w = world(&[PLAIN_DEFAULT]);
    let (_, err, code) = analyze(&w, &["--failure-threshold", "Info"]);
    assert_eq!((err.as_str(), code), (FOUND, 79));
    // Nothing at Warning or above is shown: the all-clear, then success.
    let (out, err, code) = analyze(&w, &["--output-threshold", "Warning"]);
    assert_eq!((out.as_str(), err.as_str(), code), ("\n", CLEAN, 0));
}

#[test_case(&["-o", "xml"], "Error: xml not a valid option for format. See istioctl analyze --help\n", 64; "bad format")]
#[test_case(&["--failure-threshold", "fatal"], "Error: invalid argument \"fatal\" for \"--failure-threshold\" flag: invalid level option\n", 64; "bad level")]
#[test_case(&["--bogus"], "Error: unknown flag: --bogus\n", 64; "unknown flag")]
#[test_case(&["-n", "nope"], "namespace \"nope\" not found\n", 0; "unknown namespace")]
#[test_case(&["-S", "IST0101"], "Error: IST0101 is not a valid suppression value. See istioctl analyze --help\n", 1; "bad suppression")]
fn usage_errors(args: &[&str], want: &str, code: i32) {
    let w = world(&[]);
    let (out, err, got) = analyze(&w, args);
    assert_eq!((out.as_str(), err.as_str(), got), ("", want, code));
}

#[test]
fn suppressions_match_friendly_names() {
    // `-S CODE=RESOURCE` globs the friendly name, `Kind ns/name` in 1.27:
    // the help's `name.namespace` form no longer matches anything.
    let w = world(&[BOOKINFO, DR_ALL, VS_V4]);
    let only_errors = ["--output-threshold", "Error"];
    let suppressed = |s: &[&str]| {
        let args: Vec<&str> = only_errors.iter().chain(s).copied().collect();
        lines(&w, &args).len()
    };
    assert_eq!(suppressed(&[]), 3);
    assert_eq!(
        suppressed(&["-S", "IST0101=VirtualService default/*", "-S", "IST0173=*"]),
        0
    );
    assert_eq!(
        suppressed(&["-S", "IST0101=VirtualService reviews.default"]),
        3
    );
}

#[test]
fn the_suppress_annotation_silences_its_resource() {
    // istiod_analyze.go filterMessages: galley.istio.io/analyze-suppress.
    let ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: default\n  annotations: {galley.istio.io/analyze-suppress: IST0102}\n";
    let w = world(&[ns]);
    assert_eq!(analyze(&w, &[]), ("\n".into(), CLEAN.into(), 0));
}

#[test]
fn istioctl_runs_analyze() {
    // `meshsim exec --from external -- istioctl analyze` comes this way.
    let mut w = world(&[BOOKINFO, DR_ALL, VS_V4]);
    let out = crate::istioctl::run(&mut w, &["analyze".to_string()]);
    assert_eq!(out.code, 79);
}
