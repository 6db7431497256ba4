//! What the echoing images answer, rendered from the request they got:
//! go-httpbin (`mccutchen/go-httpbin`, Istio's httpbin sample since 1.22),
//! the Flask httpbin (`kennethreitz/httpbin`, `kong/httpbin`, which older
//! task pages show), and the plain echo servers (fortio, nginx hello).

use std::collections::BTreeMap;

use serde::Serialize;

use super::http::Request;

/// Which echo server answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EchoKind {
    /// fortio's echo server: the serving pod's name.
    Plain,
    /// `nginxdemos/hello` (its `latest` tag): nginx's "Hello World" HTML
    /// page with the server's address and name, the date, the URI and
    /// nginx's `$request_id`.
    NginxHtml,
    /// `nginxdemos/hello:plain-text`: the same facts as text lines.
    NginxText,
    /// go-httpbin: header values are lists.
    GoHttpbin,
    /// The Flask httpbin: header values are strings.
    FlaskHttpbin,
    /// Istio's tcp-echo-server: not HTTP; each line it reads comes back
    /// after its prefix.
    Tcp,
}

/// Who is answering, for [`EchoKind::render`].
pub struct Echoer<'a> {
    pub pod_name: &'a str,
    /// A TCP echo server's prefix.
    pub prefix: &'a str,
    /// The attempt count of the Envoy that forwarded the request; 0 when
    /// none did.
    pub attempt: u8,
    /// `ip:port` the server listens on (nginx's `$server_addr:$server_port`).
    pub server_addr: String,
    /// When it answered, as nginx's `$time_local` (`27/Nov/2026:10:00:00 +0000`).
    pub date: String,
    /// nginx's `$request_id`: 32 hex digits.
    pub request_id: String,
}

/// Envoy's `x-envoy-attempt-count`, which Istio's sidecars and gateways
/// add to the requests they forward (`IncludeRequestAttemptCount`, I
/// httproute.go).
pub const ATTEMPT_COUNT: &str = "x-envoy-attempt-count";

impl EchoKind {
    pub fn content_type(self) -> &'static str {
        match self {
            EchoKind::Plain | EchoKind::NginxText => "text/plain; charset=utf-8",
            EchoKind::NginxHtml => "text/html",
            EchoKind::GoHttpbin => "application/json; charset=utf-8",
            EchoKind::FlaskHttpbin => "application/json",
            EchoKind::Tcp => "application/octet-stream",
        }
    }

    /// The body for `req`, as `by` answers it.
    pub fn render(self, req: &Request, by: &Echoer<'_>) -> String {
        let attempt = by.attempt;
        let headers = || {
            let mut h: Vec<(String, String)> = vec![("Host".to_string(), req.authority.clone())];
            h.extend(
                req.headers
                    .iter()
                    .map(|(k, v)| (canonical_header(k), v.clone())),
            );
            if attempt > 0 && req.header(ATTEMPT_COUNT).is_none() {
                h.push((canonical_header(ATTEMPT_COUNT), attempt.to_string()));
            }
            h
        };
        let path = req.path.split('?').next().unwrap_or("/");
        match self {
            EchoKind::Plain => format!("Server name: {}\n", by.pod_name),
            EchoKind::NginxText => format!(
                "Server address: {}\nServer name: {}\nDate: {}\nURI: {}\nRequest ID: {}\n",
                by.server_addr, by.pod_name, by.date, req.path, by.request_id
            ),
            EchoKind::NginxHtml => nginx_hello_page(req, by),
            // What a client writes first is its request line.
            EchoKind::Tcp => format!("{} {} {} HTTP/1.1\n", by.prefix, req.method, req.path),
            EchoKind::GoHttpbin => match path {
                "/headers" => pretty(&GoHeaders {
                    headers: lists(headers()),
                }),
                p if p == "/get" || p.starts_with("/anything") || p.starts_with("/delay/") => {
                    go_get(req, headers())
                }
                "/status/418" => "I'm a teapot!".to_string(),
                p if p.starts_with("/status/") => String::new(),
                _ => format!("{} {} HTTP/1.1\n", req.method, req.path),
            },
            EchoKind::FlaskHttpbin => match path {
                "/headers" => pretty(&FlaskHeaders {
                    headers: strings(headers()),
                }),
                "/get" | "/anything" => pretty(&FlaskGet {
                    args: query(&req.path)
                        .into_iter()
                        .map(|(k, mut v)| (k, v.swap_remove(0)))
                        .collect(),
                    headers: strings(headers()),
                    url: format!("http://{}{}", req.authority, req.path),
                }),
                "/status/418" => FLASK_TEAPOT.to_string(),
                p if p.starts_with("/status/") => String::new(),
                _ => format!("{} {} HTTP/1.1\n", req.method, req.path),
            },
        }
    }
}

/// The Flask httpbin's `/status/418` (`httpbin/helpers.py`).
const FLASK_TEAPOT: &str = "\n    -=[ teapot ]=-\n\n       _...._\n     .'  _ _ `.\n    | .\"` ^ `\". _,\n    \\_;`\"---\"`|//\n      |       ;/\n      \\_     _/\n        `\"\"\"`\n";

#[derive(Serialize)]
struct GoHeaders {
    headers: BTreeMap<String, Vec<String>>,
}

#[derive(Serialize)]
struct GoGet {
    args: BTreeMap<String, Vec<String>>,
    headers: BTreeMap<String, Vec<String>>,
    method: String,
    url: String,
}

#[derive(Serialize)]
struct FlaskHeaders {
    headers: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct FlaskGet {
    args: BTreeMap<String, String>,
    headers: BTreeMap<String, String>,
    url: String,
}

fn go_get(req: &Request, headers: Vec<(String, String)>) -> String {
    pretty(&GoGet {
        args: query(&req.path),
        headers: lists(headers),
        method: req.method.clone(),
        url: format!("http://{}{}", req.authority, req.path),
    })
}

fn pretty(v: &impl Serialize) -> String {
    serde_json::to_string_pretty(v).expect("strings serialize") + "\n"
}

/// Repeated headers as go-httpbin lists them.
fn lists(headers: Vec<(String, String)>) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in headers {
        m.entry(k).or_default().push(v);
    }
    m
}

/// Repeated headers joined as WSGI joins them.
fn strings(headers: Vec<(String, String)>) -> BTreeMap<String, String> {
    lists(headers)
        .into_iter()
        .map(|(k, v)| (k, v.join(",")))
        .collect()
}

/// The query string's parameters, values in order.
fn query(path: &str) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if let Some((_, q)) = path.split_once('?') {
        for kv in q.split('&').filter(|kv| !kv.is_empty()) {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            m.entry(k.to_string()).or_default().push(v.to_string());
        }
    }
    m
}

/// Go's `CanonicalMIMEHeaderKey` (Werkzeug title-cases the same way):
/// `x-request-id` → `X-Request-Id`.
fn canonical_header(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut c = part.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + &c.as_str().to_ascii_lowercase(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// The page `nginxdemos/hello` serves (its `index.html` after nginx's
/// `sub_filter`s), without the inline logo and style sheet.
fn nginx_hello_page(req: &Request, by: &Echoer<'_>) -> String {
    let forwarded = req.header("x-forwarded-for").unwrap_or("");
    format!(
        "<!DOCTYPE html>
<html>
<head>
<title>Hello World</title>
</head>
<body onload=\"checkRefresh();\">
<div class=\"info\">
<p><span>Server&nbsp;address:</span> <span>{addr}</span></p>
<p><span>Server&nbsp;name:</span> <span>{name}</span></p>
<p class=\"smaller\"><span>Date:</span> <span>{date}</span></p>
<p class=\"smaller\"><span>URI:</span> <span>{uri}</span></p>
</div>
<br>
<div class=\"info\">
    <p class=\"smaller\"><span>Host:</span> <span>{host}</span></p>
    <p class=\"smaller\"><span>X-Forwarded-For:</span> <span>{forwarded}</span></p>
</div>

<div class=\"check\"><input type=\"checkbox\" id=\"check\" onchange=\"changeCookie()\"> Auto Refresh</div>
    <div id=\"footer\">
        <div id=\"center\" align=\"center\">
            Request ID: {id}<br/>
            &copy; NGINX, Inc. 2018
        </div>
    </div>
</body>
</html>
",
        addr = by.server_addr,
        name = by.pod_name,
        date = by.date,
        uri = req.path,
        host = crate::dataplane::xds::strip_port(&req.authority),
        id = by.request_id,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by(via_proxy: bool) -> Echoer<'static> {
        let attempt = u8::from(via_proxy);
        Echoer {
            pod_name: "pod",
            prefix: "one",
            attempt,
            server_addr: "10.244.0.5:80".to_string(),
            date: "01/Jan/2026:00:00:00 +0000".to_string(),
            request_id: "0".repeat(32),
        }
    }

    fn json(kind: EchoKind, req: &Request, via_proxy: bool) -> serde_json::Value {
        serde_json::from_str(&kind.render(req, &by(via_proxy))).unwrap()
    }

    #[test]
    fn go_canonical_header_names() {
        assert_eq!(canonical_header("x-request-id"), "X-Request-Id");
        assert_eq!(canonical_header("END-USER"), "End-User");
        assert_eq!(canonical_header("x-b3-traceid"), "X-B3-Traceid");
    }

    #[test]
    fn go_httpbin_lists_header_values() {
        let mut req = Request::get("httpbin:8000", "/headers");
        req.headers.push(("end-user".into(), "jason".into()));
        let body = json(EchoKind::GoHttpbin, &req, true);
        assert_eq!(body["headers"]["Host"], serde_json::json!(["httpbin:8000"]));
        assert_eq!(body["headers"]["End-User"][0], "jason");
        assert_eq!(body["headers"]["X-Envoy-Attempt-Count"][0], "1");
        let direct = json(EchoKind::GoHttpbin, &req, false);
        assert!(direct["headers"].get("X-Envoy-Attempt-Count").is_none());
    }

    #[test]
    fn go_httpbin_get_echoes_query_method_and_url() {
        let req = Request::get("httpbin:8000", "/get?a=1&a=2&b");
        let body = json(EchoKind::GoHttpbin, &req, false);
        assert_eq!(body["args"]["a"], serde_json::json!(["1", "2"]));
        assert_eq!(body["args"]["b"], serde_json::json!([""]));
        assert_eq!(body["method"], "GET");
        assert_eq!(body["url"], "http://httpbin:8000/get?a=1&a=2&b");
        let status = |p: &str| EchoKind::GoHttpbin.render(&Request::get("h", p), &by(false));
        assert_eq!(status("/status/200"), "");
        assert_eq!(status("/status/418"), "I'm a teapot!");
    }

    #[test]
    fn flask_httpbin_gives_header_values_as_strings() {
        let req = Request::get("httpbin:8000", "/get?a=1");
        let body = json(EchoKind::FlaskHttpbin, &req, false);
        assert_eq!(body["headers"]["Host"], "httpbin:8000");
        assert_eq!(body["args"]["a"], "1");
        let teapot = EchoKind::FlaskHttpbin.render(&Request::get("h", "/status/418"), &by(false));
        assert!(teapot.contains("-=[ teapot ]=-"));
    }

    #[test]
    fn tcp_echo_prefixes_what_it_reads() {
        let line = EchoKind::Tcp.render(&Request::get("tcp-echo:9000", "/"), &by(false));
        assert_eq!(line, "one GET / HTTP/1.1\n");
    }
}
