//! Envoy's router after the first attempt: retries, the per-try timeout
//! and the route timeout, as the client proxy applies them.
//!
//! An attempt is a call slot. When the client proxy tries again, or stops
//! waiting while the server still works, the client's side moves to a new
//! slot ([`Calls::successor`](super::calls::Calls::successor)); the old one
//! finishes alone and its answer is dropped. Events scheduled for the
//! first attempt (the application's own timeout, the route timeout) find
//! the current slot through [`Calls::current`](super::calls::Calls::current).

use crate::apps::{Body, Outcome};
use crate::dataplane::ResponseFlags;
use crate::dataplane::retry::{Attempt, RetryPolicy};

use super::calls::{CallId, CallRef};
use super::{Event, World};

/// Envoy's body for a request its router timed out.
pub const UPSTREAM_TIMEOUT: &str = "upstream request timeout";

impl World {
    /// Whether the client proxy tries again after attempt `id` was answered
    /// (at the client, before its application hears): an upstream answer
    /// the policy retries, while retries remain. When they are exhausted
    /// the answer goes on, flagged URX. Local replies (no healthy
    /// upstream, faults, overflow) are never retried.
    pub(super) fn retry_after(&mut self, id: CallId) -> bool {
        let call = self.calls.get(id);
        let (Some(policy), Some(status), Some(dst)) =
            (&call.attempts.policy, call.outcome.status(), call.dst)
        else {
            return false;
        };
        if call
            .attempts
            .deadline
            .is_some_and(|d| d <= self.queue.now())
        {
            // The route timeout fired while this answer was on its way:
            // the router had already answered 504.
            let call = self.calls.get_mut(id);
            call.outcome = Outcome::Response {
                status: 504,
                body: Body::Static(UPSTREAM_TIMEOUT),
            };
            call.flags = call.flags | ResponseFlags::UT;
            return false;
        }
        let attempt = Attempt::from_response(status, call.flags);
        if !policy.retries(attempt) {
            return false;
        }
        if call.attempts.retries >= policy.num_retries {
            let call = self.calls.get_mut(id);
            call.flags = call.flags | ResponseFlags::URX;
            if let Some(pool) = self.pool_of(id) {
                pool.stats.upstream_rq_retry_limit_exceeded += 1;
            }
            return false;
        }
        let policy = std::sync::Arc::clone(policy);
        let flags = call.flags;
        if !self.retry_allowed(id) {
            return false;
        }
        self.note(id, || {
            format!("attempt answered {status} ({flags}): the retry policy tries again")
        });
        let next = self.next_attempt(id, dst);
        self.calls.release(id);
        self.schedule_retry(next, &policy);
        true
    }

    /// `max_retries`: whether the cluster lets one more retry start; if not
    /// the answer goes on flagged UO (Envoy's `NoOverflow`).
    fn retry_allowed(&mut self, id: CallId) -> bool {
        let allowed = self.pool_of(id).is_none_or(|p| p.start_retry());
        if allowed {
            if let Some(pool) = self.pool_of(id) {
                pool.stats.upstream_rq_retry += 1;
                pool.stats.upstream_rq_retry_backoff_exponential += 1;
            }
        } else {
            let call = self.calls.get_mut(id);
            call.flags = call.flags | ResponseFlags::UO;
        }
        allowed
    }

    /// A new slot for the next attempt after `id`, which went to `dst`.
    fn next_attempt(&mut self, id: CallId, dst: crate::k8s::Endpoint) -> CallId {
        let next = self.calls.successor(id);
        let call = self.calls.get_mut(next);
        call.attempts.retries += 1;
        call.attempts.tried.push(dst);
        // What the fault filter did stays; what the attempt met does not.
        call.flags = if call.flags.contains(ResponseFlags::DI) {
            ResponseFlags::DI
        } else {
            ResponseFlags::NONE
        };
        next
    }

    /// Sends attempt `id` after Envoy's jittered backoff.
    fn schedule_retry(&mut self, id: CallId, policy: &RetryPolicy) {
        let call = self.calls.get(id);
        let (n, src) = (call.attempts.retries, call.src_pod);
        let proxy = src
            .and_then(|p| self.pods[p.0 as usize].proxy.as_mut())
            .expect("retrying calls come from a proxy");
        let wait = policy.backoff(n, &mut proxy.rng);
        self.note(id, || {
            format!("retry {n} of {} after {wait}", policy.num_retries)
        });
        let r = self.calls.reference(id);
        self.queue.push_after(wait, Event::Retry(r));
    }

    pub(super) fn on_retry(&mut self, r: CallRef) {
        let Some(call) = self.calls.resolve(r) else {
            return;
        };
        let abandoned = call.abandoned;
        if let Some(pool) = self.pool_of(r.id) {
            pool.retry_started();
        }
        if abandoned {
            self.calls.release(r.id);
            return;
        }
        let call = self.calls.get(r.id);
        let pod = call.src_pod.expect("retrying calls come from a proxy");
        let (revision, index, name) = (call.attempts.revision, call.attempts.cluster, call.cluster);
        let cfg = self.proxy_config(pod);
        // A push since the first attempt renumbered the clusters: find it
        // again by name (Envoy keeps the cluster a request started on).
        let index = if revision == self.mesh.revision {
            Some(index)
        } else {
            let name = name.map(|n| self.texts.get(n).clone());
            cfg.clusters
                .iter()
                .position(|c| Some(&c.name) == name.as_ref())
        };
        let Some(index) = index else {
            self.answer_locally(
                r.id,
                503,
                Body::Static(super::flow::NO_HEALTHY_UPSTREAM),
                ResponseFlags::UH,
            );
            return;
        };
        {
            let revision = self.mesh.revision;
            let attempts = &mut self.calls.get_mut(r.id).attempts;
            attempts.cluster = index;
            attempts.revision = revision;
        }
        self.prepare_cluster(pod, &cfg, index);
        self.attempt(r.id, pod, &cfg, None);
    }

    /// The fault filter let a delayed call go: the router routes it.
    pub(super) fn on_dispatch(&mut self, r: CallRef) {
        let Some(call) = self.calls.resolve(r) else {
            return;
        };
        if call.abandoned {
            self.calls.release(r.id);
            return;
        }
        let pod = call.src_pod.expect("delayed calls come from a proxy");
        let cfg = self.proxy_config(pod);
        self.attempt(r.id, pod, &cfg, None);
    }

    /// The per-try timeout: the proxy resets the attempt (the server may
    /// still finish it, unheard) and retries when the policy retries
    /// timeouts (`5xx`, `gateway-error`, `reset`); else 504 UT.
    pub(super) fn on_per_try_timeout(&mut self, r: CallRef) {
        let Some(call) = self
            .calls
            .resolve(r)
            .filter(|c| !c.abandoned && !c.answered)
        else {
            return;
        };
        // Only an attempt with a policy has a per-try timeout.
        let (Some(policy), Some(dst)) = (call.attempts.policy.clone(), call.dst) else {
            return;
        };
        let retries = call.attempts.retries;
        self.note(r.id, || "per-try timeout: the attempt is reset".to_string());
        if let Some(pool) = self.pool_of(r.id) {
            pool.stats.upstream_rq_per_try_timeout += 1;
        }
        self.outlier_record(r.id, crate::dataplane::outlier::Result::LocalOrigin);
        let next = self.next_attempt(r.id, dst);
        self.abandon(r);
        let retriable = policy.retries(Attempt::PerTryTimeout);
        let exhausted = retries >= policy.num_retries;
        if retriable && !exhausted && self.retry_allowed(next) {
            self.schedule_retry(next, &policy);
            return;
        }
        let call = self.calls.get_mut(next);
        call.attempts.retries = retries;
        call.dst_workload = self.cluster.pod(dst.pod).workload.into();
        let mut flags = call.flags | ResponseFlags::UT;
        if retriable && exhausted {
            flags = flags | ResponseFlags::URX;
            if let Some(pool) = self.pool_of(next) {
                pool.stats.upstream_rq_retry_limit_exceeded += 1;
            }
        }
        self.answer_locally(next, 504, Body::Static(UPSTREAM_TIMEOUT), flags);
    }

    /// The route timeout (first reference `origin`): whatever attempt is
    /// under way is abandoned and the client gets 504 UT.
    pub(super) fn on_route_timeout(&mut self, origin: CallRef) {
        let r = self.calls.current(origin);
        let Some(call) = self
            .calls
            .resolve(r)
            .filter(|c| !c.abandoned && !c.answered)
        else {
            return;
        };
        let (dst_workload, flags) = (call.dst_workload, call.flags);
        self.note(r.id, || "route timeout: 504 (UT)".to_string());
        if let Some(pool) = self.pool_of(r.id) {
            pool.stats.upstream_rq_timeout += 1;
        }
        self.outlier_record(r.id, crate::dataplane::outlier::Result::LocalOrigin);
        let next = self.calls.successor(r.id);
        self.abandon(r);
        self.calls.get_mut(next).dst_workload = dst_workload;
        self.answer_locally(
            next,
            504,
            Body::Static(UPSTREAM_TIMEOUT),
            flags | ResponseFlags::UT,
        );
    }

    /// The client side stops waiting for attempt `r`: a request on a pool
    /// connection is reset (closing it), a pending one leaves the queue
    /// (and, with no event left to come for it, its slot); one in flight
    /// finishes unheard.
    pub(super) fn abandon(&mut self, r: CallRef) {
        self.calls.get_mut(r.id).abandoned = true;
        self.stream_done(r.id, true);
        if self.calls.get(r.id).waiting.is_some() {
            self.unqueue(r);
            if let (Some(lease), Some(src)) =
                (self.calls.get(r.id).lease, self.calls.get(r.id).src_pod)
                && let Some(proxy) = self.pods[src.0 as usize].proxy.as_mut()
            {
                proxy.release(lease);
            }
            self.calls.release(r.id);
        }
    }

    /// The client proxy answers call `id` itself, now.
    fn answer_locally(&mut self, id: CallId, status: u16, body: Body, flags: ResponseFlags) {
        let back = self.sidecar_pass(true);
        let call = self.calls.get_mut(id);
        call.answered = true;
        call.outcome = Outcome::Response { status, body };
        call.flags = flags;
        let r = self.calls.reference(id);
        self.queue.push_after(back, Event::Respond(r));
    }
}
