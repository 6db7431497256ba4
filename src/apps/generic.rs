//! Every other application: a generic HTTP service that computes for a
//! while, makes its downstream calls one after the other, and answers; plus
//! the few well-known images the Istio tasks use (httpbin, fortio's server,
//! nginx's hello page) and the client-only images (curl, sleep).

use crate::config::sim_annotations::CallSpec;
use crate::sim::{Dist, SimDuration};

use super::echo::EchoKind;
use super::http::{Body, Outcome, Request};
use super::model::{
    AppState, Behavior, DEFAULT_STARTUP, Input, Memo, Model, Step, StepCx, image_name,
};

#[derive(Clone, Debug, PartialEq)]
pub struct Generic {
    pub kind: GenericKind,
    pub calls: Vec<CallSpec>,
    pub response_size: u32,
    /// What a TCP echo server writes before each line it echoes (its
    /// second argument: `tcp-echo-server 9000,9001 one`).
    pub prefix: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GenericKind {
    /// Answers 200 with a body of `response_size` bytes.
    Plain,
    /// Echoes the request. The httpbins also answer `/status/N` with N and
    /// wait S seconds (at most 10) on `/delay/S`.
    Echo(EchoKind),
}

impl GenericKind {
    fn is_httpbin(self) -> bool {
        matches!(
            self,
            GenericKind::Echo(EchoKind::GoHttpbin | EchoKind::FlaskHttpbin)
        )
    }
}

fn model(kind: GenericKind, service_time: &str, workers: u32) -> Model {
    Model {
        behavior: Behavior::Generic(Generic {
            kind,
            calls: Vec::new(),
            response_size: 100,
            prefix: String::new(),
        }),
        service_time: Dist::parse(service_time).expect("built-in distribution"),
        workers,
        cores: 1,
        error_rate: 0.0,
        error_status: 500,
        targets: Vec::new(),
        startup: Dist::parse(DEFAULT_STARTUP).expect("built-in distribution"),
    }
}

/// The model for a well-known non-Bookinfo image, if any, given the
/// container's arguments (`proxy router` makes Envoy a gateway, `proxy
/// waypoint` a waypoint).
pub fn model_for_image(image: &str, args: &[String]) -> Option<Model> {
    let (name, tag) = image_name(image);
    let router = args.iter().any(|a| a == "router");
    Some(match name {
        "proxyv2" if router => Model {
            behavior: Behavior::Gateway,
            ..model(GenericKind::Plain, "0s", 1_000_000)
        },
        "proxyv2" if args.iter().any(|a| a == "waypoint") => Model {
            behavior: Behavior::Waypoint,
            ..model(GenericKind::Plain, "0s", 1_000_000)
        },
        "proxyv2" | "pilot" | "ztunnel" | "install-cni" => Model {
            behavior: Behavior::Client,
            ..model(GenericKind::Plain, "0s", 1)
        },
        "curl" | "sleep" | "netshoot" | "busybox" => Model {
            behavior: Behavior::Client,
            ..model(GenericKind::Plain, "0s", 1)
        },
        // Istio's httpbin sample is go-httpbin (`mccutchen/go-httpbin`);
        // the other `httpbin` images are the Flask original.
        "go-httpbin" => model(
            GenericKind::Echo(EchoKind::GoHttpbin),
            "lognormal(200us, 1ms)",
            1000,
        ),
        "httpbin" => model(
            GenericKind::Echo(EchoKind::FlaskHttpbin),
            "lognormal(200us, 1ms)",
            1000,
        ),
        // Istio's tcp-echo sample: `tcp-echo-server PORTS PREFIX`.
        "tcp-echo-server" => {
            let mut m = model(
                GenericKind::Echo(EchoKind::Tcp),
                "lognormal(100us, 500us)",
                1000,
            );
            if let Behavior::Generic(g) = &mut m.behavior {
                g.prefix = args.get(1).cloned().unwrap_or_default();
            }
            m
        }
        "fortio" => model(
            GenericKind::Echo(EchoKind::Plain),
            "lognormal(100us, 500us)",
            1000,
        ),
        "hello" => model(
            GenericKind::Echo(if tag == "plain-text" {
                EchoKind::NginxText
            } else {
                EchoKind::NginxHtml
            }),
            "lognormal(100us, 500us)",
            1000,
        ),
        _ => return None,
    })
}

/// Any other image: a generic service, shaped by `meshsim.io/*` annotations.
pub fn echo_model() -> Model {
    model(GenericKind::Plain, "lognormal(1ms, 5ms)", 64)
}

impl Generic {
    pub fn step(
        &self,
        model: &Model,
        state: &mut AppState,
        input: Input,
        cx: &mut StepCx<'_>,
    ) -> Step {
        // Phases: 0 compute, 1..=calls.len() the calls, then a respond.
        match input {
            Input::Start => {
                if self.kind.is_httpbin()
                    && let Some(status) = httpbin_status(&cx.request.path)
                {
                    state.memo = Memo::Status(status);
                }
                Step::Compute(model.service_time.sample(cx.rng))
            }
            Input::Resumed if state.phase == 0 => {
                if let Some(delay) = self.httpbin_delay(&cx.request.path) {
                    state.phase = u8::MAX;
                    return Step::Wait(delay);
                }
                self.next_call(state)
            }
            Input::Resumed => self.respond(state, cx),
            Input::Reply(outcome) => {
                let call = &self.calls[usize::from(state.phase) - 1];
                let ok = matches!(outcome, Outcome::Response { status, .. } if status < 400);
                if !ok && u32::from(state.tries) <= call.retries {
                    state.tries += 1;
                    return Step::Call {
                        slot: state.phase - 1,
                        timeout: call.timeout,
                    };
                }
                if !ok {
                    state.memo = Memo::Failed;
                }
                self.next_call(state)
            }
        }
    }

    fn next_call(&self, state: &mut AppState) -> Step {
        if usize::from(state.phase) < self.calls.len() {
            state.phase += 1;
            state.tries = 1;
            let call = &self.calls[usize::from(state.phase) - 1];
            Step::Call {
                slot: state.phase - 1,
                timeout: call.timeout,
            }
        } else {
            // Calls done (or none): answer. Resumed with phase past the
            // calls lands in `respond`.
            state.phase = u8::MAX;
            Step::Compute(SimDuration::ZERO)
        }
    }

    fn respond(&self, state: &AppState, cx: &StepCx<'_>) -> Step {
        let status = match state.memo {
            Memo::Status(s) => s,
            Memo::Failed => 500,
            // Not HTTP: the bytes come back with no status line.
            _ if self.kind == GenericKind::Echo(EchoKind::Tcp) => 0,
            _ => 200,
        };
        let body = match self.kind {
            GenericKind::Echo(kind) => Body::Echo {
                pod: cx.pod,
                request: cx.request_id,
                kind,
                attempt: cx.attempt,
            },
            GenericKind::Plain => Body::Sized(self.response_size),
        };
        Step::Respond { status, body }
    }

    fn httpbin_delay(&self, path: &str) -> Option<SimDuration> {
        if !self.kind.is_httpbin() {
            return None;
        }
        let secs: f64 = path
            .strip_prefix("/delay/")?
            .split(['/', '?'])
            .next()?
            .parse()
            .ok()?;
        Some(SimDuration::from_secs_f64(secs.clamp(0.0, 10.0)))
    }

    /// Generic services send their calls with no forwarded headers but the
    /// tracing ones a well-behaved service propagates.
    pub fn outgoing(&self, slot: u8, incoming: &Request) -> Request {
        let call = &self.calls[usize::from(slot)];
        let mut out = Request::get(&format!("{}:{}", call.host, call.port), &call.path);
        out.forward_headers(
            incoming,
            &[
                "x-request-id",
                "traceparent",
                "tracestate",
                "end-user",
                "user-agent",
            ],
        );
        out
    }
}

/// go-httpbin's `/status/N`.
fn httpbin_status(path: &str) -> Option<u16> {
    path.strip_prefix("/status/")?
        .split(['/', '?', ','])
        .next()?
        .parse()
        .ok()
        .filter(|s| (100..=599).contains(s))
}
