//! Envoy's access log lines as the proxies write them (Istio's TEXT
//! format): what the server's sidecar writes for a request its
//! authorization policy refuses — the RBAC filter's details, no upstream —
//! against one its application served.

mod common;

use meshsim::world::{PROXY_CONTAINER, World};

/// Bookinfo with access logs kept and `meshConfig.accessLogFile` set.
fn bookinfo(extra: &[&str]) -> World {
    let mut w = common::bookinfo(extra);
    w.keep_logs = true;
    w.mesh.access_log_file = "/dev/stdout".to_string();
    w
}

/// `curl http://details:9080/details/0` from the curl pod, then the last
/// line of details' sidecar log.
fn last_inbound_line(w: &mut World) -> String {
    common::curl(w, "details", 9080, "/details/0");
    let details = w.find_pod("bookinfo", "details-v1").unwrap();
    w.container_log(details, PROXY_CONTAINER)
        .and_then(|l| l.lines().last().map(|(_, line)| line.clone()))
        .unwrap_or_default()
}

#[test]
fn a_served_request_is_logged_via_upstream() {
    let mut w = bookinfo(&[]);
    let line = last_inbound_line(&mut w);
    assert!(
        regex::Regex::new(r#"^\[2026-01-01T[0-9:.]+Z\] "GET /details/0 HTTP/1.1" 200 - via_upstream - "-" 0 178 \d+ \d+ "-" "curl/[0-9.]+" "[0-9a-f-]{36}" "details:9080" "10\.244\.\d+\.\d+:9080" inbound\|9080\|\| 127\.0\.0\.6:\d+ 10\.244\.\d+\.\d+:9080 10\.244\.\d+\.\d+:\d+ outbound_\.9080_\._\.details\.bookinfo\.svc\.cluster\.local default$"#)
            .unwrap()
            .is_match(&line),
        "{line}"
    );
}

#[test]
fn a_request_the_sidecar_refuses_names_the_rbac_filter() {
    let mut w = bookinfo(&["manifests/course/authz-deny-all.yaml"]);
    let line = last_inbound_line(&mut w);
    // No upstream answered: no service time, no upstream host.
    assert!(
        line.contains(r#"HTTP/1.1" 403 - rbac_access_denied_matched_policy[none] - "-" 0 19 "#),
        "{line}"
    );
    assert!(
        line.contains(r#""details:9080" "-" inbound|9080||"#),
        "{line}"
    );
}
