//! A request's journey: out of the client's application, through its proxy
//! and the network to the server's proxy and application, and the answer
//! back. Each hop's latency comes from the cost model; each decision from
//! the sans-IO pieces.

use std::sync::Arc;

use crate::apps::model::StepCx;
use crate::apps::{Body, Failure, Input, Outcome, Step};
use crate::dataplane::{ResponseFlags, Route, kube_proxy_pick};
use crate::k8s::{PodId, ServiceId};
use crate::sim::SimDuration;
use crate::telemetry::{EdgeKey, Reporter};

use super::calls::{CallId, CallRef, Parent, ReqId};
use super::{Event, World};

const NO_HEALTHY_UPSTREAM: &str = "no healthy upstream";
const CONNECT_FAILURE: &str =
    "upstream connect error or disconnect/reset before headers. reset reason: connection failure";

impl World {
    /// One network hop's latency, by placement: same node, same zone, or
    /// across zones (and from outside the cluster).
    fn network(&mut self, a: Option<PodId>, b: PodId) -> SimDuration {
        let nb = self.cluster.pod(b).node;
        let dist = match a.map(|a| self.cluster.pod(a).node) {
            Some(na) if na == nb => &self.costs.net_same_node,
            Some(na) if self.cluster.node(na).zone == self.cluster.node(nb).zone => {
                &self.costs.net_same_zone
            }
            _ => &self.costs.net_cross_zone,
        };
        dist.sample(&mut self.net_rng)
    }

    fn sidecar_pass(&mut self, present: bool) -> SimDuration {
        if present {
            self.costs.sidecar_latency.sample(&mut self.net_rng)
        } else {
            SimDuration::ZERO
        }
    }

    /// The way back from server to client: server proxy, network, client
    /// proxy.
    pub(super) fn return_latency(&mut self, id: CallId) -> SimDuration {
        let call = self.calls.get(id);
        let (src, dst, cs, ss) = (
            call.src_pod,
            call.dst,
            call.client_sidecar,
            call.server_sidecar,
        );
        let mut d = self.sidecar_pass(cs);
        if let Some(ep) = dst {
            d += self.sidecar_pass(ss) + self.network(src, ep.pod);
        }
        d
    }

    /// Cluster DNS from a pod in `namespace`: `svc`, `svc.ns`, `svc.ns.svc`,
    /// `svc.ns.svc.cluster.local`. The port must be one the Service exposes.
    pub fn resolve_host(
        &self,
        namespace: &str,
        host: &str,
        port: u16,
    ) -> Result<(ServiceId, usize), Failure> {
        let host = host.trim_end_matches('.');
        let labels: Vec<&str> = host.split('.').collect();
        let (name, ns) = match labels.as_slice() {
            [name] => (*name, namespace),
            [name, ns] | [name, ns, "svc"] | [name, ns, "svc", "cluster", "local"] => (*name, *ns),
            _ => return Err(Failure::NameResolution),
        };
        let svc = self
            .cluster
            .find_service(ns, name)
            .ok_or(Failure::NameResolution)?;
        let port_idx = self
            .cluster
            .service(svc)
            .port_index(port)
            .ok_or(Failure::ConnectionRefused)?;
        Ok((svc, port_idx))
    }

    /// The Service behind `targets[slot]` of the pod's application, cached
    /// until a Service changes.
    fn target(&mut self, pod: PodId, slot: u8) -> Result<(ServiceId, usize), Failure> {
        let epoch = self.services_epoch;
        let rt = &self.pods[pod.0 as usize];
        if rt.targets_epoch != epoch {
            let ns = self.cluster.pod(pod).namespace.clone();
            let resolved = rt
                .model
                .targets
                .iter()
                .map(|t| self.resolve_host(&ns, &t.host, t.port).ok())
                .collect();
            let rt = &mut self.pods[pod.0 as usize];
            rt.targets = resolved;
            rt.targets_epoch = epoch;
        }
        self.pods[pod.0 as usize]
            .targets
            .get(usize::from(slot))
            .copied()
            .flatten()
            .ok_or(Failure::NameResolution)
    }

    /// Sends a request to a Service port. The answer comes back as a
    /// [`Event::Respond`], whatever happens on the way.
    pub(super) fn send(
        &mut self,
        parent: Parent,
        src: Option<PodId>,
        target: Result<(ServiceId, usize), Failure>,
        req: ReqId,
    ) -> CallId {
        let now = self.queue.now();
        let id = self.calls.alloc();
        let client_sidecar = src.is_some_and(|p| self.pods[p.0 as usize].sidecar.is_some());
        {
            let call = self.calls.get_mut(id);
            call.parent = parent;
            call.src_pod = src;
            call.src_workload = src.map(|p| self.cluster.pod(p).workload);
            call.client_sidecar = client_sidecar;
            call.req = req;
            call.sent_at = now;
        }
        let r = self.calls.reference(id);
        let (svc, port_idx) = match target {
            Ok(t) => t,
            Err(f) => {
                let call = self.calls.get_mut(id);
                call.answered = true;
                call.outcome = Outcome::Failed(f);
                self.queue.push_at(now, Event::Respond(r));
                return id;
            }
        };
        let service = self.cluster.service(svc);
        let service_port = service.ports[port_idx].port;
        let endpoint = match src.filter(|_| client_sidecar) {
            Some(p) => {
                let sidecar = self.pods[p.0 as usize]
                    .sidecar
                    .as_mut()
                    .expect("client has a sidecar");
                match sidecar.outbound(service, port_idx) {
                    Route::To(ep) => Some(ep),
                    Route::NoHealthyUpstream => None,
                }
            }
            None => kube_proxy_pick(service, port_idx, &mut self.kube_rng),
        };
        if let Some(p) = src.filter(|_| client_sidecar) {
            self.pods[p.0 as usize].proxy_cpu += self.costs.sidecar_cpu;
        }
        let out_pass = self.sidecar_pass(client_sidecar);
        let call = self.calls.get_mut(id);
        call.service = Some(svc);
        call.service_port = service_port;
        let Some(ep) = endpoint else {
            call.answered = true;
            if client_sidecar {
                call.outcome = Outcome::Response {
                    status: 503,
                    body: Body::Static(NO_HEALTHY_UPSTREAM),
                };
                call.flags = ResponseFlags::UH;
                self.queue.push_after(out_pass, Event::Respond(r));
            } else {
                call.outcome = Outcome::Failed(Failure::ConnectionRefused);
                self.queue.push_at(now, Event::Respond(r));
            }
            return id;
        };
        let dst_pod = self.cluster.pod(ep.pod);
        let dst_workload = dst_pod.workload;
        let server_sidecar = self.pods[ep.pod.0 as usize].sidecar.is_some();
        let call = self.calls.get_mut(id);
        call.dst = Some(ep);
        call.dst_workload = Some(dst_workload);
        call.server_sidecar = server_sidecar;
        let to_proxy = out_pass + self.network(src, ep.pod);
        let in_pass = self.sidecar_pass(server_sidecar);
        self.calls.get_mut(id).arrived_at = now + to_proxy;
        self.queue.push_after(to_proxy + in_pass, Event::Arrive(r));
        id
    }

    pub(super) fn on_arrive(&mut self, r: CallRef) {
        let Some(call) = self.calls.resolve(r) else {
            return;
        };
        let ep = call.dst.expect("arriving calls have an endpoint");
        let client_sidecar = call.client_sidecar;
        if !self.pod_serving(ep.pod) {
            let call = self.calls.get_mut(r.id);
            call.answered = true;
            if client_sidecar {
                call.outcome = Outcome::Response {
                    status: 503,
                    body: Body::Static(CONNECT_FAILURE),
                };
                call.flags = ResponseFlags::UF;
            } else {
                call.outcome = Outcome::Failed(Failure::ConnectionRefused);
            }
            let back = self.return_latency(r.id);
            self.queue.push_after(back, Event::Respond(r));
            return;
        }
        self.calls.get_mut(r.id).arrived = true;
        let rt = &mut self.pods[ep.pod.0 as usize];
        if rt.server.arrive(r.id) {
            self.advance(r.id, Input::Start);
        }
    }

    pub(super) fn on_start(&mut self, r: CallRef) {
        if self.calls.resolve(r).is_some_and(|c| !c.answered) {
            self.advance(r.id, Input::Start);
        }
    }

    pub(super) fn on_compute_done(&mut self, r: CallRef) {
        let Some(call) = self.calls.resolve(r).filter(|c| !c.answered) else {
            return;
        };
        let pod = call.dst.expect("served calls have an endpoint").pod;
        if let Some((next, d)) = self.pods[pod.0 as usize].server.compute_done() {
            let next = self.calls.reference(next);
            self.queue.push_after(d, Event::ComputeDone(next));
        }
        self.advance(r.id, Input::Resumed);
    }

    pub(super) fn on_resume(&mut self, r: CallRef) {
        if self.calls.resolve(r).is_some_and(|c| !c.answered) {
            self.advance(r.id, Input::Resumed);
        }
    }

    /// Advances the application serving `id` until it waits for something.
    fn advance(&mut self, id: CallId, mut input: Input) {
        loop {
            let World {
                calls,
                pods,
                requests,
                ..
            } = self;
            let call = calls.get_mut(id);
            let pod = call.dst.expect("served calls have an endpoint").pod;
            let rt = &mut pods[pod.0 as usize];
            let mut cx = StepCx {
                request: &requests[call.req.0 as usize],
                pod,
                rng: &mut rt.rng,
            };
            let step = rt.model.step(&mut call.state, input, &mut cx);
            let r = calls.reference(id);
            match step {
                Step::Compute(d) if d.is_zero() => input = Input::Resumed,
                Step::Compute(d) => {
                    if rt.server.compute(id, d) {
                        self.queue.push_after(d, Event::ComputeDone(r));
                    }
                    return;
                }
                Step::Wait(d) => {
                    self.queue.push_after(d, Event::Resume(r));
                    return;
                }
                Step::Call { slot, timeout } => {
                    self.call_out(id, pod, slot, timeout);
                    return;
                }
                Step::Respond { status, body } => {
                    self.answer(id, status, body);
                    return;
                }
            }
        }
    }

    /// The application serving `parent` calls `targets[slot]`.
    fn call_out(&mut self, parent: CallId, pod: PodId, slot: u8, timeout: Option<SimDuration>) {
        let target = self.target(pod, slot);
        let incoming = self.calls.get(parent).req;
        let workload = self.cluster.pod(pod).workload;
        let req = match self.outgoing.get(&(workload, slot, incoming)) {
            Some(r) => *r,
            None => {
                let model = Arc::clone(&self.pods[pod.0 as usize].model);
                let out = model.outgoing(slot, &Arc::clone(self.request(incoming)));
                let r = self.intern(out);
                self.outgoing.insert((workload, slot, incoming), r);
                r
            }
        };
        let parent_ref = self.calls.reference(parent);
        let child = self.send(Parent::Call(parent_ref), Some(pod), target, req);
        if let Some(t) = timeout {
            let lane = self.queue.lane(t);
            let child = self.calls.reference(child);
            self.queue.push_lane(lane, Event::Timeout(child));
        }
    }

    /// The server's application answers: the destination proxy reports it,
    /// the worker is freed, the answer travels back.
    fn answer(&mut self, id: CallId, status: u16, body: Body) {
        let now = self.queue.now();
        let call = self.calls.get_mut(id);
        call.answered = true;
        call.outcome = Outcome::Response { status, body };
        let pod = call.dst.expect("served calls have an endpoint").pod;
        let server_sidecar = call.server_sidecar;
        let (key, flags, arrived_at) = (
            EdgeKey {
                reporter: Reporter::Destination,
                source: call.src_workload,
                service: call.service.expect("served calls have a service"),
                destination: call.dst_workload,
            },
            call.flags,
            call.arrived_at,
        );
        let back = self.return_latency(id);
        if server_sidecar {
            // The destination proxy's duration ends when the response has
            // crossed it again, the start of the way back.
            let out_pass = self.sidecar_pass(true);
            let duration = (now + out_pass).since(arrived_at);
            self.telemetry.record(key, status, flags, duration);
            self.pods[pod.0 as usize].proxy_cpu += self.costs.sidecar_cpu;
        }
        if let Some(next) = self.pods[pod.0 as usize].server.release() {
            let next = self.calls.reference(next);
            self.queue.push_at(now, Event::Start(next));
        }
        let r = self.calls.reference(id);
        self.queue.push_after(back, Event::Respond(r));
    }

    pub(super) fn on_respond(&mut self, r: CallRef) {
        let Some(call) = self.calls.resolve(r) else {
            return;
        };
        if call.abandoned {
            self.calls.release(r.id);
            return;
        }
        let (parent, outcome, sent_at) = (call.parent, call.outcome, call.sent_at);
        if call.client_sidecar
            && let Some(service) = call.service
        {
            let key = EdgeKey {
                reporter: Reporter::Source,
                source: call.src_workload,
                service,
                destination: call.dst_workload,
            };
            let status = outcome.status().unwrap_or(0);
            let (flags, duration) = (call.flags, self.queue.now().since(sent_at));
            self.telemetry.record(key, status, flags, duration);
        }
        self.calls.release(r.id);
        self.deliver(parent, outcome, sent_at);
    }

    pub(super) fn on_timeout(&mut self, r: CallRef) {
        let Some(call) = self.calls.resolve(r).filter(|c| !c.abandoned) else {
            return;
        };
        let (parent, sent_at) = (call.parent, call.sent_at);
        self.calls.get_mut(r.id).abandoned = true;
        self.deliver(parent, Outcome::Failed(Failure::Timeout), sent_at);
    }

    fn deliver(&mut self, parent: Parent, outcome: Outcome, sent_at: crate::sim::SimTime) {
        match parent {
            Parent::Call(p) => {
                if self.calls.resolve(p).is_some_and(|c| !c.answered) {
                    self.advance(p.id, Input::Reply(outcome));
                }
            }
            Parent::Client { generator, client } => {
                self.client_done(generator, client, outcome, sent_at)
            }
        }
    }
}
