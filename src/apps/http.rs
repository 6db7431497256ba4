//! Requests and responses as applications see them.

use crate::k8s::PodId;

/// An HTTP request: method, authority (`Host`), path and headers (names in
/// lower case, as HTTP/2 and Envoy carry them).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Request {
    pub method: String,
    pub authority: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn get(authority: &str, path: &str) -> Request {
        Request {
            method: "GET".to_string(),
            authority: authority.to_string(),
            path: path.to_string(),
            headers: Vec::new(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Copies the headers named in `names` from `from`, in `names` order.
    pub fn forward_headers(&mut self, from: &Request, names: &[&str]) {
        for name in names {
            if let Some(v) = from.header(name) {
                self.headers.push((name.to_string(), v.to_string()));
            }
        }
    }
}

/// A response body, kept symbolic: rendering the Bookinfo page costs
/// microseconds, so it happens only when someone looks at the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    Empty,
    /// A fixed text, such as Envoy's `no healthy upstream`.
    Static(&'static str),
    /// A text from configuration (a VirtualService `directResponse`), by
    /// its index in the world's texts.
    Text(u32),
    /// A generic service's reply of a given size.
    Sized(u32),
    Bookinfo(super::bookinfo::Page),
    /// An echo of the request (by its id in the world) by the pod that
    /// served it; `attempt`: the `x-envoy-attempt-count` of the Envoy that
    /// forwarded it, 0 when none did.
    Echo {
        pod: PodId,
        request: u32,
        kind: super::echo::EchoKind,
        attempt: u8,
    },
}

/// The reason phrase Envoy and the sample apps send with `status`.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        418 => "I'm a teapot",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

/// Why a call produced no HTTP response, as the client sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Nothing listens on the address (TCP RST on connect).
    ConnectionRefused,
    /// The connection was reset after it was made.
    ConnectionReset,
    /// The client's own deadline passed.
    Timeout,
    /// The host name did not resolve.
    NameResolution,
}

impl Failure {
    /// How clients word it (curl's phrasing).
    pub fn describe(self) -> &'static str {
        match self {
            Failure::ConnectionRefused => "connection refused",
            Failure::ConnectionReset => "connection reset",
            Failure::Timeout => "timeout",
            Failure::NameResolution => "could not resolve host",
        }
    }
}

/// What a downstream call came back with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Response { status: u16, body: Body },
    Failed(Failure),
}

impl Outcome {
    pub fn status(&self) -> Option<u16> {
        match self {
            Outcome::Response { status, .. } => Some(*status),
            Outcome::Failed(_) => None,
        }
    }

    pub fn is_ok(&self) -> bool {
        self.status() == Some(200)
    }
}
