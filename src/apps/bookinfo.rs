//! Bookinfo's four services as istio/istio release-1.27 builds them
//! (images `examples-bookinfo-*:1.20.3`), from their sources:
//!
//! - productpage (Python, gunicorn with 8 gevent workers) calls details then
//!   reviews, one after the other, each with a 3 s timeout; only reviews is
//!   tried a second time, on any outcome but a 200. It always answers 200 and
//!   shows what failed inside the page.
//! - details (Ruby WEBrick) answers a fixed JSON book.
//! - reviews v1 shows no stars; v2 (black stars) and v3 (red stars) call
//!   ratings with timeouts of 10 s and 2.5 s; reviews always answers 200,
//!   with "Ratings service is currently unavailable" when ratings failed.
//! - ratings (Node.js) answers 5 and 4 stars; `SERVICE_VERSION=v-faulty`
//!   fails half the requests with 503, `v-delayed` delays half by 7 s.
//!
//! productpage forwards `end-user` only from its login session (the
//! `session` cookie Flask sets at `/login`; `{"user":"jason"}` is
//! `session=eyJ1c2VyIjoiamFzb24ifQ.x.x`), never from an incoming header;
//! reviews forwards an incoming `end-user` to ratings.
//!
//! CPU times, worker pools and start-up times are meshsim's estimates (no
//! figures are published for Bookinfo); every one can be overridden with
//! `meshsim.io/*` annotations.

pub mod page;

use crate::sim::{Dist, SimDuration};

use super::http::{Body, Outcome, Request};
use super::model::{AppState, Behavior, DEFAULT_STARTUP, Input, Memo, Model, Step, StepCx, Target};

pub use page::{Page, Reviews, Stars};

/// productpage's timeout for each backend call (`requests.get(…, timeout=3.0)`).
const BACKEND_TIMEOUT: SimDuration = SimDuration::from_secs(3);

/// Headers productpage copies from the incoming request (`getForwardHeaders`):
/// the B3 trace headers through OpenTelemetry's propagator (which drops
/// `x-b3-parentspanid` and `x-b3-flags`), then a fixed list. `end-user` is
/// not in it: productpage sets that only from its login session.
const PRODUCTPAGE_FORWARDS: &[&str] = &[
    "x-b3-traceid",
    "x-b3-spanid",
    "x-b3-sampled",
    "x-request-id",
    "x-ot-span-context",
    "x-datadog-trace-id",
    "x-datadog-parent-id",
    "x-datadog-sampling-priority",
    "traceparent",
    "tracestate",
    "x-cloud-trace-context",
    "grpc-trace-bin",
    "sw8",
    "user-agent",
    "cookie",
    "authorization",
    "jwt",
];

/// Headers reviews copies to ratings (`LibertyRestEndpoint`), `end-user` included.
const REVIEWS_FORWARDS: &[&str] = &[
    "x-request-id",
    "x-ot-span-context",
    "x-datadog-trace-id",
    "x-datadog-parent-id",
    "x-datadog-sampling-priority",
    "traceparent",
    "tracestate",
    "x-cloud-trace-context",
    "grpc-trace-bin",
    "x-b3-traceid",
    "x-b3-spanid",
    "x-b3-parentspanid",
    "x-b3-sampled",
    "x-b3-flags",
    "sw8",
    "end-user",
    "user-agent",
    "cookie",
    "authorization",
    "jwt",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bookinfo {
    Productpage,
    Details,
    Reviews {
        version: u8,
        /// `ENABLE_RATINGS` with `STAR_COLOR`.
        stars: Stars,
    },
    Ratings(RatingsMode),
}

/// ratings' `SERVICE_VERSION` behaviours that need no database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RatingsMode {
    Normal,
    /// `v-faulty`: half the requests get 503 `{"error":"Service unavailable"}`.
    Faulty,
    /// `v-delayed`: half the requests are answered 7 s late.
    Delayed,
}

/// The model for a Bookinfo image, honouring the environment variables the
/// services read.
pub fn model_for(image: &str, env: &dyn Fn(&str) -> Option<String>) -> Option<Model> {
    let (name, _) = super::model::image_name(image);
    let service = name.strip_prefix("examples-bookinfo-")?;
    let host = |var: &str, default: &str| env(var).unwrap_or_else(|| default.to_string());
    let port = |var: &str| env(var).and_then(|p| p.parse().ok()).unwrap_or(9080);
    let domain = env("SERVICES_DOMAIN")
        .map(|d| format!(".{d}"))
        .unwrap_or_default();
    let target = |h: &str, p: &str, default: &str| Target {
        host: format!("{}{domain}", host(h, default)),
        port: port(p),
    };
    let (behavior, service_time, workers, cores, targets) = match service {
        s if s.starts_with("productpage") => (
            Bookinfo::Productpage,
            "lognormal(2ms, 8ms)",
            8000,
            4,
            vec![
                target("DETAILS_HOSTNAME", "DETAILS_SERVICE_PORT", "details"),
                target("REVIEWS_HOSTNAME", "REVIEWS_SERVICE_PORT", "reviews"),
            ],
        ),
        s if s.starts_with("details") => {
            (Bookinfo::Details, "lognormal(600us, 3ms)", 100, 1, vec![])
        }
        s if s.starts_with("reviews") => {
            let version = s
                .strip_prefix("reviews-v")
                .and_then(|v| v.parse().ok())
                .unwrap_or(1);
            let enabled = env("ENABLE_RATINGS")
                .map(|v| v.eq_ignore_ascii_case("true"))
                .unwrap_or(version >= 2);
            let color = env("STAR_COLOR")
                .unwrap_or_else(|| if version == 3 { "red" } else { "black" }.to_string());
            let stars = match (enabled, color.as_str()) {
                (false, _) => Stars::None,
                (true, "red") => Stars::Red,
                (true, _) => Stars::Black,
            };
            let targets = if enabled {
                vec![target(
                    "RATINGS_HOSTNAME",
                    "RATINGS_SERVICE_PORT",
                    "ratings",
                )]
            } else {
                vec![]
            };
            (
                Bookinfo::Reviews { version, stars },
                "lognormal(1ms, 5ms)",
                100,
                2,
                targets,
            )
        }
        s if s.starts_with("ratings") => {
            let mode = match env("SERVICE_VERSION").as_deref() {
                Some("v-faulty") => RatingsMode::Faulty,
                Some("v-delayed") => RatingsMode::Delayed,
                _ => RatingsMode::Normal,
            };
            (
                Bookinfo::Ratings(mode),
                "lognormal(300us, 1500us)",
                1000,
                1,
                vec![],
            )
        }
        _ => return None,
    };
    Some(Model {
        behavior: Behavior::Bookinfo(behavior),
        service_time: Dist::parse(service_time).expect("built-in distribution"),
        workers,
        cores,
        error_rate: 0.0,
        error_status: 500,
        targets,
        startup: Dist::parse(DEFAULT_STARTUP).expect("built-in distribution"),
    })
}

impl Bookinfo {
    pub fn step(
        &self,
        model: &Model,
        state: &mut AppState,
        input: Input,
        cx: &mut StepCx<'_>,
    ) -> Step {
        let compute = |cx: &mut StepCx<'_>| Step::Compute(model.service_time.sample(cx.rng));
        match self {
            Bookinfo::Productpage => productpage(state, input, cx, compute),
            Bookinfo::Details => match input {
                Input::Start => compute(cx),
                _ => respond(200, Page::Details),
            },
            Bookinfo::Reviews { stars, .. } => match (input, *stars) {
                (Input::Start, Stars::None) => compute(cx),
                (Input::Start, _) => Step::Call {
                    slot: 0,
                    timeout: Some(ratings_timeout(*stars)),
                },
                (Input::Reply(o), _) => {
                    state.memo = Memo::RatingsOk(o.is_ok());
                    compute(cx)
                }
                (Input::Resumed, _) => {
                    let ratings_ok = matches!(state.memo, Memo::RatingsOk(true));
                    respond(
                        200,
                        Page::Reviews(Reviews::Served {
                            stars: *stars,
                            ratings_ok,
                            pod: cx.pod,
                        }),
                    )
                }
            },
            Bookinfo::Ratings(mode) => match (input, state.phase) {
                (Input::Start, _) => {
                    let bad = *mode != RatingsMode::Normal && cx.rng.chance(0.5);
                    match (mode, bad) {
                        (RatingsMode::Delayed, true) => {
                            state.phase = 1;
                            Step::Wait(SimDuration::from_secs(7))
                        }
                        (RatingsMode::Faulty, true) => {
                            state.memo = Memo::Status(503);
                            compute(cx)
                        }
                        _ => compute(cx),
                    }
                }
                (Input::Resumed, 1) => {
                    state.phase = 2;
                    compute(cx)
                }
                _ => match state.memo {
                    Memo::Status(503) => respond(503, Page::RatingsUnavailable),
                    _ => respond(200, Page::Ratings),
                },
            },
        }
    }

    /// What productpage and reviews send downstream: a fresh request with
    /// the headers each forwards.
    pub fn outgoing(&self, slot: u8, incoming: &Request, targets: &[Target]) -> Request {
        let target = &targets[usize::from(slot)];
        let authority = format!("{}:{}", target.host, target.port);
        let id = product_id(&incoming.path);
        let (path, forwards) = match (self, slot) {
            (Bookinfo::Productpage, 0) => (format!("/details/{id}"), PRODUCTPAGE_FORWARDS),
            (Bookinfo::Productpage, _) => (format!("/reviews/{id}"), PRODUCTPAGE_FORWARDS),
            _ => (format!("/ratings/{id}"), REVIEWS_FORWARDS),
        };
        let mut out = Request::get(&authority, &path);
        out.forward_headers(incoming, forwards);
        if *self == Bookinfo::Productpage
            && let Some(user) = incoming.header("cookie").and_then(session_user)
        {
            out.headers.push(("end-user".to_string(), user));
        }
        out
    }
}

/// The user of productpage's login session: Flask keeps `session['user']`
/// in the `session` cookie, base64url JSON, then a timestamp and a
/// signature (`itsdangerous`), which meshsim does not check. A compressed
/// payload (a leading `.`) is not read.
fn session_user(cookie: &str) -> Option<String> {
    let value = cookie
        .split(';')
        .map(str::trim)
        .find_map(|c| c.strip_prefix("session="))?;
    let payload = value.split('.').next().filter(|p| !p.is_empty())?;
    let json: serde_json::Value = serde_json::from_slice(&base64url(payload)?).ok()?;
    json.get("user")?.as_str().map(str::to_string)
}

/// Unpadded base64url, as itsdangerous writes it.
fn base64url(text: &str) -> Option<Vec<u8>> {
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            b'=' => break,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    Some(out)
}

/// reviews' ratings timeout: `star_color.equals("black") ? 10000 : 2500` ms.
fn ratings_timeout(stars: Stars) -> SimDuration {
    match stars {
        Stars::Red => SimDuration::from_millis(2500),
        _ => SimDuration::from_secs(10),
    }
}

/// The product id in `/reviews/7`; `/productpage` always shows product 0.
fn product_id(path: &str) -> u32 {
    path.rsplit('/')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn respond(status: u16, page: Page) -> Step {
    Step::Respond {
        status,
        body: Body::Bookinfo(page),
    }
}

/// productpage's `/productpage`: details, then reviews up to twice, then
/// render.
fn productpage(
    state: &mut AppState,
    input: Input,
    cx: &mut StepCx<'_>,
    compute: impl Fn(&mut StepCx<'_>) -> Step,
) -> Step {
    const DETAILS: u8 = 0;
    const REVIEWS: u8 = 1;
    const RENDER: u8 = 2;
    let call = |slot| Step::Call {
        slot,
        timeout: Some(BACKEND_TIMEOUT),
    };
    match input {
        Input::Start => {
            state.phase = DETAILS;
            call(0)
        }
        Input::Reply(o) if state.phase == DETAILS => {
            state.memo = Memo::Details(o.is_ok());
            state.phase = REVIEWS;
            state.tries = 1;
            call(1)
        }
        Input::Reply(o) => {
            let details = match state.memo {
                Memo::Details(d) | Memo::Page(d, _) => d,
                _ => false,
            };
            let reviews = reviews_from(&o);
            if reviews == Reviews::Unavailable && state.tries < 2 {
                state.tries += 1;
                return call(1);
            }
            state.memo = Memo::Page(details, reviews);
            state.phase = RENDER;
            compute(cx)
        }
        Input::Resumed => {
            let (details, reviews) = match state.memo {
                Memo::Page(d, r) => (d, r),
                _ => (false, Reviews::Unavailable),
            };
            respond(200, Page::ProductPage { details, reviews })
        }
    }
}

/// What productpage makes of reviews' answer: only a 200 counts.
fn reviews_from(o: &Outcome) -> Reviews {
    match o {
        Outcome::Response {
            status: 200,
            body: Body::Bookinfo(Page::Reviews(r)),
        } => *r,
        _ => Reviews::Unavailable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_session_names_the_user() {
        assert_eq!(
            session_user("foo=1; session=eyJ1c2VyIjoiamFzb24ifQ.ZyXq1w.sig").as_deref(),
            Some("jason")
        );
        assert_eq!(session_user("session=.eJyrVg"), None, "compressed");
        assert_eq!(session_user("other=eyJ1c2VyIjoiamFzb24ifQ"), None);
        assert_eq!(session_user("session=!!!"), None);
    }

    #[test]
    fn productpage_forwards_the_session_user_not_an_end_user_header() {
        let targets = [
            Target {
                host: "details".into(),
                port: 9080,
            },
            Target {
                host: "reviews".into(),
                port: 9080,
            },
        ];
        let mut incoming = Request::get("productpage:9080", "/productpage");
        incoming.headers.push(("end-user".into(), "mallory".into()));
        let out = Bookinfo::Productpage.outgoing(1, &incoming, &targets);
        assert_eq!(out.header("end-user"), None);
        incoming
            .headers
            .push(("cookie".into(), "session=eyJ1c2VyIjoiamFzb24ifQ.a.b".into()));
        let out = Bookinfo::Productpage.outgoing(1, &incoming, &targets);
        assert_eq!(out.header("end-user"), Some("jason"));
    }
}
