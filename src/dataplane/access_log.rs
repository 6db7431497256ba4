//! Envoy's access log line in Istio's default TEXT format
//! (`EnvoyTextLogFormat`, pilot/pkg/model/telemetry_logging.go, 1.27):
//!
//! ```text
//! [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%"
//! %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS%
//! "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION%
//! %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%"
//! "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW%
//! %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS%
//! %REQUESTED_SERVER_NAME% %ROUTE_NAME%
//! ```
//!
//! on one line; Envoy writes `-` for every empty value. START_TIME is UTC
//! with milliseconds. Example (istio.io's access-log task, curl → httpbin
//! outbound): `[2025-04-18T06:36:33.043Z] "GET /status/418 HTTP/1.1" 418 -
//! via_upstream - "-" 0 13 0 0 "-" "curl/8.13.0" "b0bb…" "httpbin:8000"
//! "10.1.77.206:8080" outbound|8000||httpbin.default.svc.cluster.local
//! 10.1.77.234:34528 10.152.183.60:8000 10.1.77.234:34968 - default`.

use super::ResponseFlags;
use crate::sim::time::rfc3339_fraction;

/// One request as a proxy saw it, for its access log.
pub struct Entry<'a> {
    pub start_unix: u64,
    pub start_nanos: u32,
    pub method: &'a str,
    pub path: &'a str,
    /// 0 when no response was sent (a reset).
    pub status: u16,
    pub flags: ResponseFlags,
    /// `%RESPONSE_CODE_DETAILS%`: `via_upstream`, or why the proxy
    /// answered itself.
    pub details: &'a str,
    pub bytes_received: u64,
    pub bytes_sent: u64,
    pub duration_ms: u64,
    /// `x-envoy-upstream-service-time`: set when an upstream answered.
    pub upstream_service_ms: Option<u64>,
    pub forwarded_for: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub request_id: &'a str,
    pub authority: &'a str,
    pub upstream_host: Option<&'a str>,
    pub upstream_cluster: Option<&'a str>,
    pub upstream_local: Option<&'a str>,
    pub downstream_local: &'a str,
    pub downstream_remote: &'a str,
    pub server_name: Option<&'a str>,
    pub route_name: Option<&'a str>,
}

/// `-` for an empty or absent value.
fn or_dash(v: Option<&str>) -> &str {
    match v {
        Some(s) if !s.is_empty() => s,
        _ => "-",
    }
}

/// The access log line (without its newline).
pub fn line(e: &Entry<'_>) -> String {
    let status = e.status.to_string();
    let upstream_time = e.upstream_service_ms.map(|t| t.to_string());
    format!(
        "[{}] \"{} {} HTTP/1.1\" {} {} {} - \"-\" {} {} {} {} \"{}\" \"{}\" \"{}\" \"{}\" \"{}\" {} {} {} {} {} {}",
        rfc3339_fraction(e.start_unix, e.start_nanos, 3),
        e.method,
        e.path,
        if e.status == 0 { "0" } else { &status },
        e.flags,
        or_dash(Some(e.details)),
        e.bytes_received,
        e.bytes_sent,
        e.duration_ms,
        or_dash(upstream_time.as_deref()),
        or_dash(e.forwarded_for),
        or_dash(e.user_agent),
        or_dash(Some(e.request_id)),
        or_dash(Some(e.authority)),
        or_dash(e.upstream_host),
        or_dash(e.upstream_cluster),
        or_dash(e.upstream_local),
        or_dash(Some(e.downstream_local)),
        or_dash(Some(e.downstream_remote)),
        or_dash(e.server_name),
        or_dash(e.route_name),
    )
}

/// `%RESPONSE_CODE_DETAILS%` for a response the proxy made itself, by its
/// flags and status (Envoy's `StreamInfo::ResponseCodeDetails`);
/// `via_upstream` when the upstream answered.
pub fn details(flags: ResponseFlags, status: u16, upstream_answered: bool) -> &'static str {
    use ResponseFlags as F;
    if upstream_answered {
        return "via_upstream";
    }
    if flags.contains(F::UO) {
        "upstream_reset_before_response_started{overflow}"
    } else if flags.contains(F::UH) {
        "no_healthy_upstream"
    } else if flags.contains(F::NR) {
        "route_not_found"
    } else if flags.contains(F::FI) {
        "fault_filter_abort"
    } else if flags.contains(F::UT) {
        "response_timeout"
    } else if flags.contains(F::UF) {
        "upstream_reset_before_response_started{connection_failure}"
    } else if flags.contains(F::URX) || flags.contains(F::UC) {
        "upstream_reset_before_response_started{connection_termination}"
    } else if status == 403 {
        "rbac_access_denied_matched_policy[none]"
    } else if status == 401 {
        "jwt_authn_access_denied{Jwt_verification_fails}"
    } else {
        "-"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::time::EPOCH_UNIX_SECS;

    #[test]
    fn an_outbound_request_reads_as_istios_task_shows_it() {
        let e = Entry {
            start_unix: EPOCH_UNIX_SECS + 33,
            start_nanos: 43_000_000,
            method: "GET",
            path: "/status/418",
            status: 418,
            flags: ResponseFlags::NONE,
            details: "via_upstream",
            bytes_received: 0,
            bytes_sent: 13,
            duration_ms: 0,
            upstream_service_ms: Some(0),
            forwarded_for: None,
            user_agent: Some("curl/8.13.0"),
            request_id: "b0bb62a4-a2ad-92a3-9ba8-5cbc42700ded",
            authority: "httpbin:8000",
            upstream_host: Some("10.1.77.206:8080"),
            upstream_cluster: Some("outbound|8000||httpbin.default.svc.cluster.local"),
            upstream_local: Some("10.1.77.234:34528"),
            downstream_local: "10.152.183.60:8000",
            downstream_remote: "10.1.77.234:34968",
            server_name: None,
            route_name: Some("default"),
        };
        assert_eq!(
            line(&e),
            "[2026-01-01T00:00:33.043Z] \"GET /status/418 HTTP/1.1\" 418 - via_upstream - \"-\" 0 13 0 0 \"-\" \"curl/8.13.0\" \"b0bb62a4-a2ad-92a3-9ba8-5cbc42700ded\" \"httpbin:8000\" \"10.1.77.206:8080\" outbound|8000||httpbin.default.svc.cluster.local 10.1.77.234:34528 10.152.183.60:8000 10.1.77.234:34968 - default"
        );
    }

    #[test]
    fn local_replies_say_why() {
        assert_eq!(
            details(ResponseFlags::UO, 503, false),
            "upstream_reset_before_response_started{overflow}"
        );
        assert_eq!(
            details(ResponseFlags::UH, 503, false),
            "no_healthy_upstream"
        );
        assert_eq!(details(ResponseFlags::NONE, 200, true), "via_upstream");
    }
}
