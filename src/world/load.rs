//! Load runs: many requests from one place, the way a load generator such
//! as fortio makes them — a number of threads, each with its own
//! connection, sending one request at a time, as fast as answers come or
//! paced to a rate (catching up when late), for a number of calls or a
//! duration. Each answer is kept whole for the tool to report.

use crate::apps::{Failure, Outcome};
use crate::k8s::PodId;
use crate::sim::{SimDuration, SimTime};

use super::calls::{Parent, ReqId};
use super::flow::Dialled;
use super::probe::{ProbeRequest, ProbeResult};
use super::{Event, World};

/// How much a load run sends.
#[derive(Clone, Debug, PartialEq)]
pub enum LoadPlan {
    /// Exactly this many calls from each thread.
    Calls(Vec<u64>),
    /// Calls until this much time has passed.
    For(SimDuration),
}

#[derive(Clone, Debug)]
pub struct LoadSpec {
    pub request: ProbeRequest,
    pub threads: u32,
    pub plan: LoadPlan,
    /// Paced runs: each thread's target start of each call, from the
    /// start of the run. A call starts at its target, or as soon as the
    /// previous answer came when that is later (fortio's catch-up).
    /// `None`: every thread sends as fast as answers come.
    pub schedule: Option<Vec<Vec<SimDuration>>>,
    /// The client gives up on a request after this long.
    pub timeout: Option<SimDuration>,
}

/// One request of a load run.
#[derive(Clone, Debug)]
pub struct Shot {
    pub thread: u32,
    /// When it was sent, from the start of the run.
    pub start: SimDuration,
    pub duration: SimDuration,
    /// What the client got; `None` when it got no HTTP answer.
    pub result: Option<ProbeResult>,
    /// Why it got none (reset, refused, its own timeout).
    pub failure: Option<Failure>,
}

#[derive(Clone, Debug)]
pub struct LoadOutcome {
    pub shots: Vec<Shot>,
    /// From the start of the run to the last answer.
    pub elapsed: SimDuration,
}

/// A load run in progress.
pub(super) struct LoadRun {
    req: ReqId,
    src: Option<PodId>,
    dialled: Result<Dialled, Failure>,
    started: SimTime,
    remaining: Option<Vec<u64>>,
    stop_at: Option<SimTime>,
    schedule: Option<Vec<Vec<SimDuration>>>,
    /// Calls each thread has sent.
    sent: Vec<usize>,
    /// Each thread's connection count: a load generator such as fortio
    /// opens a new connection after an answer that is not 2xx.
    sockets: Vec<u32>,
    timeout: Option<SimDuration>,
    in_flight: u32,
    shots: Vec<Shot>,
    /// The answer of the call being delivered, taken by [`World::load_done`].
    pub(super) answer: Option<ProbeResult>,
}

/// How long a load run may take, simulated.
const LOAD_DEADLINE: SimDuration = SimDuration::from_secs(3600);

impl World {
    /// Runs `spec` to its end and returns every request's outcome.
    pub fn load(&mut self, spec: &LoadSpec) -> Result<LoadOutcome, String> {
        // A name that does not resolve, or a port nobody serves, fails
        // each request as the client sees it.
        let (req, src, dialled) = self.aim(&spec.request)?;
        let now = self.queue.now();
        let threads = spec.threads.max(1);
        self.load = Some(Box::new(LoadRun {
            req,
            src,
            dialled,
            started: now,
            remaining: match &spec.plan {
                LoadPlan::Calls(c) => Some(c.clone()),
                LoadPlan::For(_) => None,
            },
            stop_at: match spec.plan {
                LoadPlan::For(d) => Some(now + d),
                LoadPlan::Calls(_) => None,
            },
            schedule: spec.schedule.clone(),
            sent: vec![0; threads as usize],
            sockets: vec![0; threads as usize],
            timeout: spec.timeout,
            in_flight: 0,
            shots: Vec::new(),
            answer: None,
        }));
        for t in 0..threads {
            let first = self.load_target(t, 0).unwrap_or(now);
            self.queue.push_at(first, Event::LoadNext(t));
        }
        let deadline = now + LOAD_DEADLINE;
        while self.queue.peek_time().is_some_and(|t| t <= deadline) && !self.load_finished() {
            self.step();
        }
        let run = self.load.take().expect("the run is under way");
        let elapsed = run
            .shots
            .iter()
            .map(|s| s.start + s.duration)
            .max()
            .unwrap_or(SimDuration::ZERO);
        Ok(LoadOutcome {
            shots: run.shots,
            elapsed,
        })
    }

    fn load_finished(&self) -> bool {
        self.load.as_ref().is_some_and(|run| {
            run.in_flight == 0
                && match &run.remaining {
                    Some(r) => r.iter().all(|n| *n == 0),
                    None => run.stop_at.is_some_and(|s| self.queue.now() >= s),
                }
        })
    }

    /// Thread `t` of the load run sends its next request, if it has one.
    pub(super) fn on_load_next(&mut self, t: u32) {
        let now = self.queue.now();
        let Some(run) = self.load.as_mut() else {
            return;
        };
        let more = match &mut run.remaining {
            Some(r) => {
                let left = &mut r[t as usize];
                let more = *left > 0;
                *left = left.saturating_sub(1);
                more
            }
            None => run.stop_at.is_some_and(|s| now < s),
        };
        if !more {
            return;
        }
        run.in_flight += 1;
        run.sent[t as usize] += 1;
        let (req, src, dialled, timeout) = (run.req, run.src, run.dialled.clone(), run.timeout);
        let socket = run.sockets[t as usize];
        let id = self.send(Parent::Load { thread: t, socket }, src, dialled, req);
        if let Some(t) = timeout {
            let child = self.calls.reference(id);
            self.queue.push_after(t, Event::Timeout(child));
        }
    }

    /// A load run's request came back (or was given up on).
    pub(super) fn load_done(&mut self, thread: u32, outcome: Outcome, sent_at: SimTime) {
        let now = self.queue.now();
        let Some(run) = self.load.as_mut() else {
            return;
        };
        run.in_flight -= 1;
        let answer = run.answer.take();
        if !matches!(
            outcome,
            Outcome::Response {
                status: 200..=299 | 418,
                ..
            }
        ) {
            run.sockets[thread as usize] += 1;
        }
        let (result, failure) = match outcome {
            Outcome::Failed(f) => (None, Some(f)),
            Outcome::Response { .. } => (answer, None),
        };
        run.shots.push(Shot {
            thread,
            start: sent_at.since(run.started),
            duration: now.since(sent_at),
            result,
            failure,
        });
        // Paced threads keep to their schedule, and catch up (send at
        // once) when an answer came late.
        let sent = run.sent[thread as usize];
        let next = self.load_target(thread, sent).map_or(now, |t| t.max(now));
        self.queue.push_at(next, Event::LoadNext(thread));
    }

    /// When thread `t`'s call `i` is due in a paced run.
    fn load_target(&self, t: u32, i: usize) -> Option<SimTime> {
        let run = self.load.as_ref()?;
        let offset = run.schedule.as_ref()?.get(t as usize)?.get(i)?;
        Some(run.started + *offset)
    }
}
