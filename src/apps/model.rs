//! Application models: which one a pod runs, and the per-request state
//! machine protocol they all share.

use crate::config::sim_annotations::{CallSpec, SimAnnotations};
use crate::config::validate::Validator;
use crate::k8s::{Pod, PodId};
use crate::sim::{Dist, Rng, SimDuration};

use super::bookinfo::{self, Bookinfo};
use super::generic::{self, Generic};
use super::http::{Body, Outcome, Request};

/// A service an application calls, by the name it uses (resolved through
/// cluster DNS from the pod's namespace).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
}

/// What happened to a request in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// The request was admitted to a worker.
    Start,
    /// The CPU burst or wait it asked for is over.
    Resumed,
    /// The downstream call it made came back.
    Reply(Outcome),
}

/// What a request in progress does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Use a core for this long.
    Compute(SimDuration),
    /// Hold the worker without using a core (a sleep, a deliberate delay).
    Wait(SimDuration),
    /// Call `targets[slot]`, giving up after `timeout`.
    Call {
        slot: u8,
        timeout: Option<SimDuration>,
    },
    Respond {
        status: u16,
        body: Body,
    },
}

/// Per-request progress; small and `Copy` so it lives inline in the call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AppState {
    pub phase: u8,
    /// Tries made of the current call.
    pub tries: u8,
    /// A model-specific outcome kept between steps.
    pub memo: Memo,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Memo {
    #[default]
    None,
    /// productpage: whether details answered 200.
    Details(bool),
    /// productpage: details, then what reviews gave.
    Page(bool, bookinfo::Reviews),
    /// reviews: whether ratings answered 200.
    RatingsOk(bool),
    /// generic: a downstream call failed.
    Failed,
    /// a status chosen up front (httpbin `/status/N`, error injection).
    Status(u16),
}

/// What `step` may use besides the state: the request, the pod serving it
/// and randomness.
pub struct StepCx<'a> {
    pub request: &'a Request,
    /// The request's id in the world, for bodies that echo it.
    pub request_id: u32,
    /// The attempt an Envoy (sidecar or gateway) forwarded the request
    /// as (its `x-envoy-attempt-count`); 0 when none did.
    pub attempt: u8,
    pub pod: PodId,
    pub rng: &'a mut Rng,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Behavior {
    Bookinfo(Bookinfo),
    Generic(Generic),
    /// Serves nothing (curl/sleep pods): connections are refused.
    Client,
    /// An Istio gateway (`proxyv2` running `proxy router`): the pod is an
    /// Envoy that routes what it receives; the world runs it, not a model.
    Gateway,
    /// An ambient waypoint (`proxyv2` running `proxy waypoint`): an Envoy
    /// that routes what ztunnels tunnel to it for the Services it serves.
    Waypoint,
}

/// Everything about how a pod's application behaves.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub behavior: Behavior,
    pub service_time: Dist,
    pub workers: u32,
    pub cores: u32,
    pub error_rate: f64,
    pub error_status: u16,
    pub targets: Vec<Target>,
    /// Container start to ready.
    pub startup: Dist,
}

/// Container start for an image meshsim has no figure for: pull from cache
/// and process start, a second or two.
pub const DEFAULT_STARTUP: &str = "lognormal(1200ms, 3s)";

impl Model {
    /// The model for a pod, from its images, environment and annotations.
    pub fn for_pod(pod: &Pod) -> Model {
        let mut ignored = Validator::new();
        let notes = SimAnnotations::parse(&pod.annotations, &mut ignored);
        let container = pod.template.spec.containers.first();
        let image = container.map(|c| c.image.as_str()).unwrap_or_default();
        let env = |name: &str| {
            container
                .and_then(|c| c.env_value(name))
                .map(str::to_string)
        };
        let args = container.map(|c| c.args.as_slice()).unwrap_or_default();
        let mut model = bookinfo::model_for(image, &env)
            .or_else(|| generic::model_for_image(image, args))
            .unwrap_or_else(generic::echo_model);
        model.apply(&notes);
        model
    }

    /// Annotations override the model's defaults.
    fn apply(&mut self, notes: &SimAnnotations) {
        if let Some(d) = &notes.service_time {
            self.service_time = d.clone();
        }
        if let Some(w) = notes.workers {
            self.workers = w;
        }
        if let Some(c) = notes.cores {
            self.cores = c;
        }
        if let Some(r) = notes.error_rate {
            self.error_rate = r;
        }
        if let Some(s) = notes.error_status {
            self.error_status = s;
        }
        if let Some(d) = &notes.startup {
            self.startup = d.clone();
        }
        if let Behavior::Generic(g) = &mut self.behavior {
            if let Some(n) = notes.response_size {
                g.response_size = n;
            }
            if let Some(calls) = &notes.calls {
                g.calls = calls.clone();
                self.targets = targets_of(calls);
            }
        }
    }

    /// Whether anything listens for HTTP in this pod.
    pub fn serves(&self) -> bool {
        !matches!(self.behavior, Behavior::Client)
    }

    /// Advances one request.
    pub fn step(&self, state: &mut AppState, input: Input, cx: &mut StepCx<'_>) -> Step {
        let step = match &self.behavior {
            Behavior::Bookinfo(b) => b.step(self, state, input, cx),
            Behavior::Generic(g) => g.step(self, state, input, cx),
            Behavior::Client | Behavior::Gateway | Behavior::Waypoint => Step::Respond {
                status: 503,
                body: Body::Empty,
            },
        };
        self.inject_errors(state, step, cx)
    }

    /// `meshsim.io/error-rate`: decided once per request, when it would
    /// otherwise succeed.
    fn inject_errors(&self, state: &mut AppState, step: Step, cx: &mut StepCx<'_>) -> Step {
        match step {
            Step::Respond { status, .. } if status < 400 && self.error_rate > 0.0 => {
                if cx.rng.chance(self.error_rate) {
                    state.memo = Memo::Status(self.error_status);
                    Step::Respond {
                        status: self.error_status,
                        body: Body::Empty,
                    }
                } else {
                    step
                }
            }
            _ => step,
        }
    }

    /// The request this model sends to `targets[slot]` while serving
    /// `incoming` (which headers it forwards is part of the application).
    pub fn outgoing(&self, slot: u8, incoming: &Request) -> Request {
        match &self.behavior {
            Behavior::Bookinfo(b) => b.outgoing(slot, incoming, &self.targets),
            Behavior::Generic(g) => g.outgoing(slot, incoming),
            Behavior::Client | Behavior::Gateway | Behavior::Waypoint => incoming.clone(),
        }
    }
}

pub fn targets_of(calls: &[CallSpec]) -> Vec<Target> {
    calls
        .iter()
        .map(|c| Target {
            host: c.host.clone(),
            port: c.port,
        })
        .collect()
}

/// Splits `registry/org/name:tag` into `name` and `tag`.
pub fn image_name(image: &str) -> (&str, &str) {
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((name, tag)) => (name, tag),
        None => (last, "latest"),
    }
}
