//! What a ztunnel pod prints (ztunnel 1.27, `src/telemetry.rs`
//! `IstioFormat`): `TIME\tLEVEL\tTARGET\tMESSAGE\tFIELDS`, the time in UTC
//! with microseconds, a TAB after the message even without fields.
//!
//! - At start: its version (`CryptoProvider:"tls-aws-lc"`), its whole
//!   configuration one YAML line per log line (`running with config:`;
//!   meshsim's copy follows 1.27's `Config` fields in order, values as the
//!   Helm chart sets them), its listeners, the xDS stream and readiness.
//!   No certificate line: fetching one logs only at debug level.
//! - Per connection it carried, once complete, an `access` line from each
//!   ztunnel on the path (`src/proxy/metrics.rs`): the source's
//!   `direction="outbound"`, the destination's `direction="inbound"`, with
//!   identities only over mTLS, `dst.hbone_addr` only over HBONE, and a
//!   failed connection at `error` level with its `error="…"`.
//!
//! So the course's `kubectl logs -n istio-system -l app=ztunnel --tail=50 |
//! grep -i tls` finds nothing in a healthy mesh, as on a real one: "tls"
//! is only in the version line and the configuration's DNS servers, more
//! than 50 lines back.

use crate::apps::Outcome;
use crate::control::ca::TRUST_DOMAIN;
use crate::k8s::PodId;
use crate::sim::SimTime;
use crate::sim::time::rfc3339_fraction;

use crate::telemetry::Reporter;

use super::World;
use super::calls::CallId;
use super::flow::HBONE_PORT;

/// ztunnel's configuration dump; `NODE` and `POD` are filled in.
const CONFIG: &str = include_str!("../apps/ztunnel-config.yaml");

impl World {
    /// One ztunnel log line at `at`.
    fn ztunnel_line(
        &self,
        at: SimTime,
        level: &str,
        target: &str,
        message: &str,
        fields: &str,
    ) -> String {
        let s = self.stamp(at);
        format!(
            "{}\t{level}\t{target}\t{message}\t{fields}",
            rfc3339_fraction(s.unix, s.nanos, 6)
        )
    }

    /// The ztunnel in `pod` started.
    pub(super) fn ztunnel_startup(&self, pod: PodId, at: SimTime) -> Vec<String> {
        let p = self.cluster.pod(pod);
        let node = &self.cluster.node(p.node).name;
        let line = |target: &str, message: &str, fields: &str| {
            self.ztunnel_line(at, "info", target, message, fields)
        };
        let mut out = vec![
            line(
                "ztunnel",
                &format!(
                    "version: version.BuildInfo{{Version:\"{v}\", GitRevision:\"{v}\", RustVersion:\"1.85.1\", BuildProfile:\"release\", BuildStatus:\"Clean\", IstioVersion:\"{v}\", CryptoProvider:\"tls-aws-lc\"}}",
                    v = crate::control::install::ISTIO_VERSION
                ),
                "",
            ),
            line(
                "ztunnel",
                "set file descriptor limits from 1048576 to 1048576",
                "",
            ),
        ];
        let config = CONFIG.replace("NODE", node).replace("POD", &p.name);
        let mut yaml = config.lines();
        let first = yaml.next().unwrap_or_default();
        // The message is the whole dump: its first line follows the
        // header, the rest stand alone, and the message's TAB ends it.
        let s = self.stamp(at);
        out.push(format!(
            "{}\tinfo\tztunnel\trunning with config: {first}",
            rfc3339_fraction(s.unix, s.nanos, 6)
        ));
        out.extend(yaml.map(str::to_string));
        out.push("\t".to_string());
        for (target, message, fields) in [
            (
                "hyper_util",
                "listener established",
                "address=[::]:15021 component=\"readiness\"",
            ),
            ("app", "shared proxy mode - in-pod mode enabled", ""),
            (
                "proxyfactory",
                &format!(
                    "creating ztunnel self-proxy listener with identity: Spiffe {{ trust_domain: \"{TRUST_DOMAIN}\", namespace: \"istio-system\", service_account: \"ztunnel\" }}"
                ),
                "",
            ),
            (
                "proxy::inbound",
                "listener established",
                "address=[::]:15008 component=\"inbound\" transparent=true",
            ),
            (
                "hyper_util",
                "listener established",
                "address=127.0.0.1:15000 component=\"admin\"",
            ),
            ("app", "Starting ztunnel inbound listener task", ""),
            (
                "hyper_util",
                "listener established",
                "address=[::]:15020 component=\"stats\"",
            ),
            (
                "readiness",
                "Task 'dns proxy' complete (1.331208ms), still awaiting 3 tasks",
                "",
            ),
            (
                "readiness",
                "Task 'proxy' complete (1.339208ms), still awaiting 2 tasks",
                "",
            ),
            ("xds::client:xds{id=1}", "Stream established", ""),
            (
                "xds::client:xds{id=1}",
                "received response",
                "type_url=\"type.googleapis.com/istio.workload.Address\" size=118 removes=0",
            ),
            (
                "xds::client:xds{id=1}",
                "received response",
                "type_url=\"type.googleapis.com/istio.security.Authorization\" size=0 removes=0",
            ),
            (
                "readiness",
                "Task 'state manager' complete (26.847041ms), still awaiting 1 tasks",
                "",
            ),
            ("inpod::workloadmanager", "handling new stream", ""),
            ("inpod::statemanager", "received snapshot sent", ""),
            (
                "readiness",
                "Task 'workload proxy manager' complete (27.456208ms), marking server ready",
                "",
            ),
        ] {
            out.push(line(target, message, fields));
        }
        out
    }

    /// Call `id`, carried by ztunnels, completed: each ztunnel on its path
    /// counts the connection (`istio_tcp_*`, reporter `source` on the
    /// client's node, `destination` on the server's) and logs it.
    pub(super) fn ztunnel_done(&mut self, id: CallId) {
        let call = self.calls.get(id);
        let (Some(src), Some(dst)) = (call.src_pod, call.dst) else {
            return;
        };
        let hbone = call.server_ztunnel
            || call.server_sidecar
            || self.pods[dst.pod.0 as usize].model.behavior
                == crate::apps::model::Behavior::Waypoint;
        let failure = match call.outcome {
            Outcome::Failed(f) => Some(f),
            Outcome::Response { .. } if !call.arrived => {
                Some(crate::apps::Failure::ConnectionReset)
            }
            Outcome::Response { .. } => None,
        };
        let (sent, received) = {
            let req = self.request(call.req);
            let request = req.method.len() + req.path.len() + req.authority.len() + 60;
            let response = match call.outcome {
                Outcome::Response { body, .. } => self.render_body(&body).len() + 120,
                Outcome::Failed(_) => 0,
            };
            (request as u64, response as u64)
        };
        if let Some(service) = call.dest_label {
            let key = |reporter| crate::telemetry::EdgeKey {
                reporter,
                source: call.src_workload,
                service,
                destination: call.dst_workload,
            };
            let (client, server) = (call.client_ztunnel, call.server_ztunnel);
            if client {
                self.telemetry
                    .record_tcp(key(Reporter::Source), sent, received);
            }
            if server {
                self.telemetry
                    .record_tcp(key(Reporter::Destination), received, sent);
            }
        }
        if !self.keep_logs {
            return;
        }
        let call = self.calls.get(id);
        let now = self.queue.now();
        let duration = now.since(call.sent_at).as_nanos() / 1_000_000;
        let identity = |p: PodId| {
            let p = self.cluster.pod(p);
            format!(
                "spiffe://{TRUST_DOMAIN}/ns/{}/sa/{}",
                p.namespace, p.service_account
            )
        };
        let service = call
            .dest_label
            .map(|l| self.telemetry.label_name(l).to_string())
            .filter(|s| s.ends_with(".svc.cluster.local"));
        let (s, d) = (self.cluster.pod(src), self.cluster.pod(dst.pod));
        let mut fields = format!(
            "src.addr={}:{} src.workload=\"{}\" src.namespace=\"{}\"",
            s.ip,
            self.ephemeral_port(id, 0),
            s.name,
            s.namespace
        );
        if hbone {
            fields.push_str(&format!(" src.identity=\"{}\"", identity(src)));
            fields.push_str(&format!(
                " dst.addr={}:{HBONE_PORT} dst.hbone_addr={}:{}",
                d.ip, d.ip, dst.port
            ));
        } else {
            fields.push_str(&format!(" dst.addr={}:{}", d.ip, dst.port));
        }
        if let Some(svc) = &service {
            fields.push_str(&format!(" dst.service=\"{svc}\""));
        }
        fields.push_str(&format!(
            " dst.workload=\"{}\" dst.namespace=\"{}\"",
            d.name, d.namespace
        ));
        if hbone {
            fields.push_str(&format!(" dst.identity=\"{}\"", identity(dst.pod)));
        }
        let denial = call.ztunnel_denial.clone();
        let level = if failure.is_some() { "error" } else { "info" };
        let tail = |direction: &str, (sent, recv): (u64, u64)| {
            let mut f = format!(
                "{fields} direction=\"{direction}\" bytes_sent={sent} bytes_recv={recv} duration=\"{duration}ms\""
            );
            match (&denial, failure) {
                // The destination answers the HBONE CONNECT with 401; only
                // it knows why.
                (Some(_), _) if direction == "outbound" => {
                    f.push_str(" error=\"http status: 401 Unauthorized\"");
                }
                (Some(why), _) => f.push_str(&format!(
                    " error=\"connection closed due to policy rejection: {why}\""
                )),
                (None, Some(e)) => f.push_str(&format!(" error=\"{}\"", ztunnel_error(e))),
                (None, None) => {}
            }
            f
        };
        let (client_ztunnel, server_ztunnel) = (call.client_ztunnel, call.server_ztunnel);
        if client_ztunnel && let Some(z) = self.node_ztunnel(src) {
            let line = self.ztunnel_line(
                now,
                level,
                "access",
                "connection complete",
                &tail("outbound", (sent, received)),
            );
            self.log_at(z, "istio-proxy", now, vec![line]);
        }
        if server_ztunnel && let Some(z) = self.node_ztunnel(dst.pod) {
            let line = self.ztunnel_line(
                now,
                level,
                "access",
                "connection complete",
                &tail("inbound", (received, sent)),
            );
            self.log_at(z, "istio-proxy", now, vec![line]);
        }
    }
}

/// How ztunnel words a failed connection.
fn ztunnel_error(f: crate::apps::Failure) -> &'static str {
    use crate::apps::Failure;
    match f {
        Failure::ConnectionRefused => "io error: Connection refused (os error 111)",
        Failure::ConnectionReset => "io error: Connection reset by peer (os error 104)",
        _ => "connection closed due to policy rejection",
    }
}
