//! The `meshsim.io/*` pod annotations that describe how an application
//! behaves, for images meshsim has no built-in model of (and to override the
//! built-in ones: a slow reviews-v3, a failing ratings).
//!
//! ```yaml
//! annotations:
//!   meshsim.io/service-time: "lognormal(5ms, 40ms)"   # CPU time per request
//!   meshsim.io/workers: "16"           # requests served at once; more wait in a queue
//!   meshsim.io/cores: "2"              # CPU cores the service times run on
//!   meshsim.io/error-rate: "0.02"      # fraction answered with error-status
//!   meshsim.io/error-status: "503"
//!   meshsim.io/response-size: "1024"   # body bytes
//!   meshsim.io/calls: "http://details:9080/details/0 timeout=3s; http://reviews:9080/reviews/0"
//!   meshsim.io/startup: "lognormal(2s, 6s)"  # container start to ready
//! ```

use std::collections::BTreeMap;

use crate::sim::{Dist, SimDuration};

use super::validate::Validator;

pub const PREFIX: &str = "meshsim.io/";

const KEYS: &[&str] = &[
    "service-time",
    "workers",
    "cores",
    "error-rate",
    "error-status",
    "response-size",
    "calls",
    "startup",
];

/// One downstream call an application makes for every request it serves.
#[derive(Clone, Debug, PartialEq)]
pub struct CallSpec {
    pub host: String,
    pub port: u16,
    pub path: String,
    /// The client's own timeout (none: wait for ever, like most clients).
    pub timeout: Option<SimDuration>,
    /// Extra tries the client makes when the call fails or is not 2xx.
    pub retries: u32,
}

/// The parsed annotations; `None` means "not set, use the model's default".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SimAnnotations {
    pub service_time: Option<Dist>,
    pub workers: Option<u32>,
    pub cores: Option<u32>,
    pub error_rate: Option<f64>,
    pub error_status: Option<u16>,
    pub response_size: Option<u32>,
    pub calls: Option<Vec<CallSpec>>,
    pub startup: Option<Dist>,
}

impl SimAnnotations {
    /// Parses the `meshsim.io/*` annotations, reporting each bad one to `v`
    /// (whose path should be the annotations map).
    pub fn parse(annotations: &BTreeMap<String, String>, v: &mut Validator) -> SimAnnotations {
        let mut out = SimAnnotations::default();
        for (key, value) in annotations {
            let Some(name) = key.strip_prefix(PREFIX) else {
                continue;
            };
            v.field(key, |v| {
                let mut bad = |why: String| v.error(format!("invalid meshsim annotation: {why}"));
                match name {
                    "service-time" => match Dist::parse(value) {
                        Ok(d) => out.service_time = Some(d),
                        Err(e) => bad(e.to_string()),
                    },
                    "startup" => match Dist::parse(value) {
                        Ok(d) => out.startup = Some(d),
                        Err(e) => bad(e.to_string()),
                    },
                    "workers" | "cores" => match value.trim().parse::<u32>() {
                        Ok(n) if n >= 1 => {
                            if name == "workers" {
                                out.workers = Some(n);
                            } else {
                                out.cores = Some(n);
                            }
                        }
                        _ => bad(format!(
                            "{name} must be a whole number of at least 1, got {value:?}"
                        )),
                    },
                    "error-rate" => match value.trim().parse::<f64>() {
                        Ok(r) if (0.0..=1.0).contains(&r) => out.error_rate = Some(r),
                        _ => bad(format!(
                            "error-rate must be a fraction between 0 and 1, got {value:?}"
                        )),
                    },
                    "error-status" => match value.trim().parse::<u16>() {
                        Ok(s) if (100..=599).contains(&s) => out.error_status = Some(s),
                        _ => bad(format!(
                            "error-status must be an HTTP status 100-599, got {value:?}"
                        )),
                    },
                    "response-size" => match value.trim().parse::<u32>() {
                        Ok(n) => out.response_size = Some(n),
                        Err(_) => bad(format!(
                            "response-size must be a number of bytes, got {value:?}"
                        )),
                    },
                    "calls" => match parse_calls(value) {
                        Ok(c) => out.calls = Some(c),
                        Err(e) => bad(e),
                    },
                    other => v.error(format!(
                        "unknown meshsim annotation {other:?}; known: {}",
                        KEYS.iter()
                            .map(|k| format!("{PREFIX}{k}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                }
            });
        }
        out
    }
}

/// `URL [timeout=D] [retries=N]`, separated by `;` or new lines.
fn parse_calls(text: &str) -> Result<Vec<CallSpec>, String> {
    text.split([';', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            let mut words = item.split_whitespace();
            let url = words.next().unwrap_or_default();
            let (host, port, path) = parse_http_url(url)?;
            let mut call = CallSpec {
                host,
                port,
                path,
                timeout: None,
                retries: 0,
            };
            for w in words {
                match w.split_once('=') {
                    Some(("timeout", d)) => {
                        call.timeout =
                            Some(SimDuration::parse(d).map_err(|e| format!("call {url}: {e}"))?);
                    }
                    Some(("retries", n)) => {
                        call.retries = n.parse().map_err(|_| {
                            format!("call {url}: retries must be a whole number, got {n:?}")
                        })?;
                    }
                    _ => {
                        return Err(format!(
                            "call {url}: unknown option {w:?} (use timeout=D or retries=N)"
                        ));
                    }
                }
            }
            Ok(call)
        })
        .collect()
}

/// Splits `http://host[:port][/path]` into its parts (port 80, path `/` by
/// default).
pub fn parse_http_url(url: &str) -> Result<(String, u16, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url:?} is not an http:// URL"))?;
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (
            h,
            p.parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("{url:?} has an invalid port {p:?}"))?,
        ),
        None => (hostport, 80),
    };
    if host.is_empty() {
        return Err(format!("{url:?} has no host"));
    }
    Ok((host.to_string(), port, path.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> (SimAnnotations, Vec<String>) {
        let map = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut v = Validator::new();
        let a = SimAnnotations::parse(&map, &mut v);
        (
            a,
            v.into_findings()
                .into_iter()
                .map(|f| format!("{}: {}", f.path_text(), f.message))
                .collect(),
        )
    }

    #[test]
    fn parses_every_key() {
        let (a, errs) = parse(&[
            ("meshsim.io/service-time", "exp(2ms)"),
            ("meshsim.io/workers", "4"),
            ("meshsim.io/error-rate", "0.5"),
            (
                "meshsim.io/calls",
                "http://details:9080/details/0 timeout=3s; http://reviews:9080/reviews/0 retries=1",
            ),
            ("prometheus.io/port", "9080"),
        ]);
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(a.workers, Some(4));
        let calls = a.calls.unwrap();
        assert_eq!(calls[0].host, "details");
        assert_eq!(calls[0].timeout, Some(SimDuration::from_secs(3)));
        assert_eq!(calls[1].retries, 1);
    }

    #[test]
    fn reports_bad_values_with_their_key() {
        let (_, errs) = parse(&[
            ("meshsim.io/workers", "0"),
            ("meshsim.io/latency", "5ms"),
            ("meshsim.io/calls", "details:9080"),
        ]);
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(errs[0].starts_with(
            "meshsim.io/calls: invalid meshsim annotation: \"details:9080\" is not an http:// URL"
        ));
        assert!(errs[1].starts_with("meshsim.io/latency: unknown meshsim annotation \"latency\""));
        assert!(
            errs[2].starts_with("meshsim.io/workers: invalid meshsim annotation: workers must be")
        );
    }
}
