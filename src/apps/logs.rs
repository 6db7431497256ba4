//! What the sample applications print, for `kubectl logs`: their startup
//! lines and, for those that log requests, one or two lines per request
//! served. Formats are the images' own (Istio 1.27's samples):
//!
//! - productpage (gunicorn 23, 8 gevent workers, no access log): gunicorn's
//!   startup on stderr, nothing per request.
//! - reviews (Open Liberty 24.0.0.12): the JVM's two warnings and Liberty's
//!   `[AUDIT   ]` startup lines, nothing per request (no HTTP access log
//!   in its server.xml).
//! - ratings (Node.js): `Server listening on: http://0.0.0.0:9080`, then
//!   `console.log(method + ' ' + url)` for each request.
//! - details (Ruby WEBrick 1.8.2): WEBrick's three startup lines, then its
//!   default access log, two lines per request (common log format, then
//!   the referer format `%{Referer}i -> %U`).
//! - httpbin (go-httpbin v2.15.0, slog text on stderr): the listening line,
//!   then one line per request at INFO, WARN for 4xx, ERROR for 5xx.
//! - fortio (`fortio server`): its JSON startup lines; the echo server logs
//!   nothing per request at the default level.
//!
//! Images meshsim has no figures for print nothing.

use super::echo::EchoKind;
use super::generic::GenericKind;
use super::http::Request;
use super::model::{Behavior, Model};
use crate::apps::bookinfo::Bookinfo;
use crate::sim::time::{Civil, common_log_time, rfc3339_fraction};

/// A moment on the wall calendar: Unix seconds and nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    pub unix: u64,
    pub nanos: u32,
}

/// What the application container of an `image` prints when it starts,
/// in pod `pod`.
pub fn startup(image: &str, pod: &str, at: Stamp) -> Vec<String> {
    let name = image.rsplit('/').next().unwrap_or(image);
    let name = name.split(':').next().unwrap_or(name);
    match name {
        "examples-bookinfo-productpage-v1" | "examples-bookinfo-productpage-v-flooding" => {
            gunicorn(at)
        }
        n if n.starts_with("examples-bookinfo-reviews-") => liberty(pod),
        n if n.starts_with("examples-bookinfo-ratings-") => {
            vec!["Server listening on: http://0.0.0.0:9080".to_string()]
        }
        n if n.starts_with("examples-bookinfo-details-") => webrick(at),
        "go-httpbin" => vec![format!(
            "time={} level=INFO msg=\"go-httpbin listening on http://0.0.0.0:8080\"",
            rfc3339_fraction(at.unix, at.nanos, 3)
        )],
        "fortio" => fortio(at),
        _ => Vec::new(),
    }
}

/// `[2026-01-01 00:00:05 +0000] [PID] [INFO] …`, gunicorn's error log.
fn gunicorn(at: Stamp) -> Vec<String> {
    let c = Civil::from_unix(at.unix);
    let stamp = format!(
        "[{:04}-{:02}-{:02} {:02}:{:02}:{:02} +0000]",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    );
    let mut out = vec![
        format!("{stamp} [1] [INFO] Starting gunicorn 23.0.0"),
        format!("{stamp} [1] [INFO] Listening at: http://[::]:9080 (1)"),
        format!("{stamp} [1] [INFO] Using worker: gevent"),
    ];
    out.extend((6..14).map(|pid| format!("{stamp} [{pid}] [INFO] Booting worker with pid: {pid}")));
    out
}

/// Open Liberty's console at its default AUDIT level.
fn liberty(pod: &str) -> Vec<String> {
    [
        "WARNING: Unknown module: jdk.management.agent specified to --add-exports",
        "WARNING: Unknown module: jdk.attach specified to --add-exports",
        "Launching defaultServer (Open Liberty 24.0.0.12/wlp-1.0.96.cl241220241119-0657) on Eclipse OpenJ9 VM, version 17.0.14+7 (en_US)",
        "[AUDIT   ] CWWKE0001I: The server defaultServer has been launched.",
        "[AUDIT   ] CWWKG0093A: Processing configuration drop-ins resource: /opt/ol/wlp/usr/servers/defaultServer/configDropins/defaults/keystore.xml",
        "[AUDIT   ] CWWKG0093A: Processing configuration drop-ins resource: /opt/ol/wlp/usr/servers/defaultServer/configDropins/defaults/open-default-port.xml",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        format!("[AUDIT   ] CWWKT0016I: Web application available (default_host): http://{pod}:9080/"),
        "[AUDIT   ] CWWKZ0001I: Application reviews-app started in 0.151 seconds.".to_string(),
        "[AUDIT   ] CWWKF0012I: The server installed the following features: [jaxrs-2.0, jaxrsClient-2.0, json-1.0, jsonp-1.0, servlet-3.1].".to_string(),
        "[AUDIT   ] CWWKF0011I: The defaultServer server is ready to run a smarter planet. The defaultServer server started in 1.146 seconds.".to_string(),
    ])
    .collect()
}

/// WEBrick's logger: `[2026-01-01 00:00:05] INFO  …`.
fn webrick(at: Stamp) -> Vec<String> {
    let c = Civil::from_unix(at.unix);
    let stamp = format!(
        "[{:04}-{:02}-{:02} {:02}:{:02}:{:02}]",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    );
    vec![
        format!("{stamp} INFO  WEBrick 1.8.2"),
        format!("{stamp} INFO  ruby 3.4.3 (2025-04-14) [x86_64-linux]"),
        format!("{stamp} INFO  WEBrick::HTTPServer#start: pid=1 port=9080"),
    ]
}

/// `fortio server`'s JSON log lines (fortio.org/log, JSON when stderr is
/// not a terminal) and the UI banner it prints on stdout.
fn fortio(at: Stamp) -> Vec<String> {
    let ts = format!("{}.{:06}", at.unix, at.nanos / 1000);
    let version = "1.69.5 h1:h+l0Hj/8rSB9Qx8ys0VBMKGOy9gs24UzlRd0cyQ+N84= go1.23.9 amd64 linux";
    let info = |file_line: &str, msg: &str| {
        format!("{{\"ts\":{ts},\"level\":\"info\",\"r\":1,{file_line}\"msg\":\"{msg}\"}}")
    };
    let mut out = vec![
        info(
            "\"file\":\"updater.go\",\"line\":50,",
            "Configmap flag value watching on /etc/fortio",
        ),
        format!(
            "{{\"ts\":{ts},\"level\":\"info\",\"r\":1,\"file\":\"scli.go\",\"line\":122,\"msg\":\"Starting\",\"command\":\"Φορτίο\",\"version\":\"{version}\",\"go-max-procs\":8}}"
        ),
    ];
    for (what, listen) in [
        ("tcp-echo", "tcp [::]:8078"),
        ("udp-echo", "udp [::]:8078"),
        ("grpc 'ping'", "tcp [::]:8079"),
        ("https redirector", "tcp [::]:8081"),
        ("http-echo", "tcp [::]:8080"),
    ] {
        out.push(info(
            "",
            &format!("Fortio 1.69.5 {what} server listening on {listen}"),
        ));
    }
    out.push(info("", "Data directory is /var/lib/fortio"));
    out.push("\t UI started - visit:".to_string());
    out.push("\t\thttp://localhost:8080/fortio/".to_string());
    out.push("\t (or any host/ip reachable on this server)".to_string());
    out.push(info(
        "\"file\":\"fortio_main.go\",\"line\":297,",
        "All fortio 1.69.5 h1:h+l0Hj/8rSB9Qx8ys0VBMKGOy9gs24UzlRd0cyQ+N84= go1.23.9 amd64 linux servers started!",
    ));
    out
}

/// One request an application served, for its log line.
pub struct Served<'a> {
    pub request: &'a Request,
    pub status: u16,
    /// The peer the application saw: `127.0.0.6:PORT` behind a sidecar
    /// (its inbound passthrough address), else the client's address.
    pub peer: &'a str,
    pub at: Stamp,
    /// How long the application took, in nanoseconds.
    pub took_ns: u64,
}

/// What the application of `model` prints for a request it served;
/// `bytes` gives the response body's size, for the lines that show it.
pub fn served(model: &Model, s: &Served<'_>, bytes: impl FnOnce() -> u64) -> Vec<String> {
    match &model.behavior {
        Behavior::Bookinfo(Bookinfo::Ratings(_)) => {
            vec![format!("{} {}", s.request.method, s.request.path)]
        }
        Behavior::Bookinfo(Bookinfo::Details) => {
            let host = s.peer.rsplit_once(':').map_or(s.peer, |(h, _)| h);
            let referer = s.request.header("referer").unwrap_or("-");
            let path = s.request.path.split('?').next().unwrap_or("");
            vec![
                format!(
                    "{host} - - [{}] \"{} {} HTTP/1.1\" {} {}",
                    common_log_time(s.at.unix, "UTC"),
                    s.request.method,
                    s.request.path,
                    s.status,
                    bytes()
                ),
                format!("{referer} -> {path}"),
            ]
        }
        Behavior::Generic(g) if g.kind == GenericKind::Echo(EchoKind::GoHttpbin) => {
            vec![go_httpbin(s, bytes())]
        }
        _ => Vec::new(),
    }
}

/// go-httpbin's `StdLogObserver` line through slog's text handler.
fn go_httpbin(s: &Served<'_>, bytes: u64) -> String {
    let level = match s.status {
        500.. => "ERROR",
        400.. => "WARN",
        _ => "INFO",
    };
    let ms = s.took_ns as f64 / 1e6;
    let client = s
        .request
        .header("x-forwarded-for")
        .and_then(|x| x.split(',').next())
        .map_or(s.peer.to_string(), |x| x.trim().to_string());
    format!(
        "time={} level={level} msg={} status={} method={} uri={} size_bytes={} duration_ms={} user_agent={} client_ip={}",
        rfc3339_fraction(s.at.unix, s.at.nanos, 3),
        slog_value(&format!(
            "{} {} {} {ms:.1}ms",
            s.status, s.request.method, s.request.path
        )),
        s.status,
        slog_value(&s.request.method),
        slog_value(&s.request.path),
        bytes,
        crate::go::format_float_g(ms),
        slog_value(s.request.header("user-agent").unwrap_or("")),
        slog_value(&client),
    )
}

/// A value as slog's text handler writes it: quoted (Go syntax) when
/// empty or when it holds a space, `=`, `"` or an unprintable character.
fn slog_value(v: &str) -> String {
    let needs_quotes = v.is_empty()
        || v.chars()
            .any(|c| c == ' ' || c == '=' || c == '"' || c.is_control());
    if needs_quotes {
        crate::go::quote(v)
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::time::EPOCH_UNIX_SECS;

    const AT: Stamp = Stamp {
        unix: EPOCH_UNIX_SECS + 5,
        nanos: 123_456_789,
    };

    #[test]
    fn productpage_prints_gunicorns_startup_and_eight_workers() {
        let lines = startup(
            "docker.io/istio/examples-bookinfo-productpage-v1:1.20.3",
            "p",
            AT,
        );
        assert_eq!(
            lines[0],
            "[2026-01-01 00:00:05 +0000] [1] [INFO] Starting gunicorn 23.0.0"
        );
        assert_eq!(lines.len(), 11);
        assert_eq!(
            lines[10],
            "[2026-01-01 00:00:05 +0000] [13] [INFO] Booting worker with pid: 13"
        );
    }

    #[test]
    fn liberty_names_the_pod_it_serves_on() {
        let lines = startup(
            "docker.io/istio/examples-bookinfo-reviews-v3:1.20.3",
            "reviews-v3-5b9c8d7f6-abcde",
            AT,
        );
        assert!(lines.contains(&"[AUDIT   ] CWWKT0016I: Web application available (default_host): http://reviews-v3-5b9c8d7f6-abcde:9080/".to_string()));
        assert!(lines.last().unwrap().contains("CWWKF0011I"));
    }

    #[test]
    fn unknown_images_print_nothing() {
        assert!(startup("docker.io/library/nginx:1.27", "p", AT).is_empty());
    }

    #[test]
    fn slog_quotes_what_its_text_handler_quotes() {
        assert_eq!(slog_value("curl/8.5.0"), "curl/8.5.0");
        assert_eq!(slog_value("200 GET /get 0.2ms"), "\"200 GET /get 0.2ms\"");
        assert_eq!(slog_value(""), "\"\"");
        assert_eq!(slog_value("a=b"), "\"a=b\"");
    }
}
