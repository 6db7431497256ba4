//! The course's routing (module 14, Lab 2 and the VirtualService example)
//! through `meshsim eval`, as a user would run it: canary 90/10 and 50/50,
//! all to v1 or v2, `end-user: jason` to v3, Chrome users to v2, and
//! mirroring to v3.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const COURSE: &str = "manifests/course";

/// Runs `meshsim eval` with the Bookinfo manifests (in namespace `ns`),
/// the given course files and requests; returns the JSON results.
fn eval(ns: &str, files: &[&str], requests: &str) -> Vec<Value> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("course-{}", files.join("-").replace('/', "_")));
    std::fs::create_dir_all(&dir).unwrap();
    let reqs = dir.join("requests.yaml");
    std::fs::write(&reqs, requests).unwrap();
    let namespace_file = if ns == "bookinfo" {
        "manifests/bookinfo/namespace.yaml".to_string()
    } else {
        format!("{COURSE}/namespace-default-injected.yaml")
    };
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_meshsim"));
    cmd.args([
        "eval",
        "-n",
        ns,
        "-f",
        &namespace_file,
        "-f",
        "manifests/bookinfo/bookinfo.yaml",
    ]);
    for f in files {
        cmd.args(["-f", &format!("{COURSE}/{f}")]);
    }
    cmd.args(["--requests", reqs.to_str().unwrap(), "-o", "json"]);
    let out = cmd.output().expect("meshsim runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON array")
}

fn subset_counts(item: &Value) -> std::collections::BTreeMap<String, u64> {
    item["clusters"]
        .as_object()
        .expect("counts")
        .iter()
        .map(|(k, v)| {
            (
                k.split('|').nth(2).unwrap_or("").to_string(),
                v.as_u64().unwrap(),
            )
        })
        .collect()
}

const FROM_PRODUCTPAGE: &str =
    "- from: {pod: bookinfo/productpage-v1}\n  to: reviews:9080\n  path: /reviews/0\n";

#[test]
fn all_traffic_to_v1() {
    let r = eval(
        "bookinfo",
        &[
            "destination-rule-reviews.yaml",
            "virtual-service-reviews-v1.yaml",
        ],
        &format!("{FROM_PRODUCTPAGE}  count: 50\n"),
    );
    assert_eq!(subset_counts(&r[0]), [("v1".to_string(), 50)].into());
    assert_eq!(
        r[0]["cluster"],
        "outbound|9080|v1|reviews.bookinfo.svc.cluster.local"
    );
    assert_eq!(r[0]["status"], 200);
}

/// Envoy picks a weighted cluster with `random % total` per request, so
/// 1000 requests at 10 % give v2 about 100 (sd ~9.5); the bound is 4 sd.
#[test]
fn canary_ninety_ten() {
    let r = eval(
        "bookinfo",
        &[
            "destination-rule-reviews.yaml",
            "virtual-service-reviews-canary.yaml",
        ],
        &format!("{FROM_PRODUCTPAGE}  count: 1000\n"),
    );
    let c = subset_counts(&r[0]);
    assert_eq!(c.values().sum::<u64>(), 1000);
    assert!((62..=138).contains(&c["v2"]), "{c:?}");
    assert_eq!(c["v1"] + c["v2"], 1000);
}

#[test]
fn fifty_fifty_then_all_to_v2() {
    let r = eval(
        "bookinfo",
        &[
            "destination-rule-reviews.yaml",
            "virtual-service-reviews-50-50.yaml",
        ],
        &format!("{FROM_PRODUCTPAGE}  count: 1000\n"),
    );
    let c = subset_counts(&r[0]);
    assert!((437..=563).contains(&c["v1"]), "{c:?}");
    let r = eval(
        "bookinfo",
        &[
            "destination-rule-reviews.yaml",
            "virtual-service-reviews-v2.yaml",
        ],
        &format!("{FROM_PRODUCTPAGE}  count: 100\n"),
    );
    assert_eq!(subset_counts(&r[0]), [("v2".to_string(), 100)].into());
}

#[test]
fn jason_gets_v3_everyone_else_v2() {
    let reqs = format!(
        "{FROM_PRODUCTPAGE}  headers: {{end-user: jason}}\n  count: 20\n{FROM_PRODUCTPAGE}  headers: {{end-user: mike}}\n  count: 20\n{FROM_PRODUCTPAGE}  count: 20\n"
    );
    let r = eval(
        "bookinfo",
        &[
            "destination-rule-reviews.yaml",
            "virtual-service-reviews-header.yaml",
        ],
        &reqs,
    );
    assert_eq!(subset_counts(&r[0]), [("v3".to_string(), 20)].into());
    assert_eq!(subset_counts(&r[1]), [("v2".to_string(), 20)].into());
    assert_eq!(subset_counts(&r[2]), [("v2".to_string(), 20)].into());
    // v3's reviews carry red stars.
    assert!(r[0]["body"].as_str().unwrap().contains(r#""color": "red""#));
}

/// productpage forwards `end-user` only from its login session, never from
/// an incoming header (productpage.py `getForwardHeaders`): the course's
/// `curl -H "end-user: jason" .../productpage` shows v2's black stars, not
/// v3's red ones, in Istio 1.27 as in meshsim.
#[test]
fn an_end_user_header_sent_to_productpage_does_not_reach_reviews() {
    let reqs = "- from: {pod: bookinfo/productpage-v1}\n  to: productpage:9080\n  path: /productpage\n  headers: {end-user: jason}\n";
    let r = eval(
        "bookinfo",
        &[
            "destination-rule-reviews.yaml",
            "virtual-service-reviews-header.yaml",
        ],
        reqs,
    );
    let page = r[0]["body"].as_str().unwrap();
    assert!(page.contains("<title>Simple Bookstore App</title>"));
    assert!(
        page.contains("text-black-500") && !page.contains("flex gap-x-1 text-red-500"),
        "v2 served the reviews"
    );
}

#[test]
fn chrome_users_get_v2_others_v1() {
    let reqs = "- from: {pod: default/productpage-v1}\n  to: reviews:9080\n  path: /reviews/0\n  headers: {user-agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36}\n  count: 10\n- from: {pod: default/productpage-v1}\n  to: reviews:9080\n  path: /reviews/0\n  headers: {user-agent: Mozilla/5.0 Firefox/121.0}\n  count: 10\n";
    let r = eval("default", &["virtual-service-reviews-chrome.yaml"], reqs);
    assert_eq!(subset_counts(&r[0]), [("v2".to_string(), 10)].into());
    assert_eq!(subset_counts(&r[1]), [("v1".to_string(), 10)].into());
}

#[test]
fn mirroring_copies_to_v3_and_answers_from_v2() {
    let r = eval(
        "bookinfo",
        &[
            "destination-rule-reviews.yaml",
            "virtual-service-reviews-mirror.yaml",
        ],
        FROM_PRODUCTPAGE,
    );
    assert_eq!(
        r[0]["cluster"],
        "outbound|9080|v2|reviews.bookinfo.svc.cluster.local"
    );
    assert!(
        r[0]["pod"]
            .as_str()
            .unwrap()
            .starts_with("bookinfo/reviews-v2-")
    );
    assert_eq!(
        r[0]["mirrored_to"],
        serde_json::json!(["outbound|9080|v3|reviews.bookinfo.svc.cluster.local"])
    );
    assert!(
        r[0]["body"]
            .as_str()
            .unwrap()
            .contains(r#""color": "black""#),
        "the user sees v2"
    );
}
