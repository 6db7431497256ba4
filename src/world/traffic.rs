//! Traffic generators: open-loop (requests arrive at a rate, Poisson or
//! evenly spaced, whatever happens to earlier ones) and closed-loop (a fixed
//! number of users, each waiting for its answer and a think time before the
//! next request).

use crate::apps::{Outcome, Request};
use crate::k8s::PodId;
use crate::scenario::{Pattern, Scenario, Source, Traffic};
use crate::sim::{Rng, SimDuration, SimTime};
use crate::telemetry::ClientStats;

use super::calls::{Parent, ReqId};
use super::flow::Dialled;
use super::{Event, World};

pub struct Generator {
    pub spec: Traffic,
    req: ReqId,
    /// Pods requests leave from, taken in turn; empty for external clients.
    sources: Vec<PodId>,
    next_source: usize,
    target: Dialled,
    rng: Rng,
    stop_at: SimTime,
}

impl World {
    /// Resolves each generator's source and target and queues its first
    /// requests.
    pub(super) fn start_traffic(&mut self, scenario: &Scenario) -> Result<(), String> {
        let start = self.traffic_start;
        for (g, spec) in scenario.traffic.iter().enumerate() {
            let (sources, namespace) = match &spec.source {
                Source::External => (Vec::new(), "default".to_string()),
                Source::Workload { namespace, name } => {
                    let w = self.cluster.find_workload(namespace, name).ok_or_else(|| {
                        format!(
                            "traffic {:?}: there is no workload {namespace}/{name} to send from",
                            spec.name
                        )
                    })?;
                    let pods: Vec<PodId> = self
                        .cluster
                        .workload(w)
                        .pods
                        .iter()
                        .copied()
                        .filter(|p| self.cluster.pod(*p).ready)
                        .collect();
                    if pods.is_empty() {
                        return Err(format!(
                            "traffic {:?}: no pod of {namespace}/{name} is ready to send from",
                            spec.name
                        ));
                    }
                    (pods, namespace.clone())
                }
            };
            let target = match (&spec.source, self.dial(&namespace, &spec.host, spec.port)) {
                (_, Ok(d @ Dialled::Service { .. })) => d,
                // From outside, a name that is no Service (a Host such as
                // bookinfo.example.com) goes through the ingress gateway.
                (Source::External, _) => self.ingress_entry(spec.port).ok_or_else(|| {
                    format!(
                        "traffic {:?}: {} is not a Service and the cluster has no ingress gateway Service (istio-system/istio-ingressgateway) with port {}",
                        spec.name, spec.host, spec.port
                    )
                })?,
                (_, Ok(d)) => d,
                (_, Err(_)) => {
                    return Err(format!(
                        "traffic {:?}: {}:{} does not resolve to a Service port from namespace {namespace}",
                        spec.name, spec.host, spec.port
                    ));
                }
            };
            let mut request = Request::get(&format!("{}:{}", spec.host, spec.port), &spec.path);
            request.method = spec.method.clone();
            request.headers = spec.headers.clone();
            let req = self.intern(request);
            let mut rng = Rng::stream(self.seed, &format!("traffic/{}", spec.name));
            let end = spec
                .stop
                .unwrap_or(scenario.duration)
                .min(scenario.duration);
            let first = start + spec.start;
            match &spec.pattern {
                Pattern::Open { .. } => {
                    let gap = interval(&spec.pattern, &mut rng);
                    self.queue.push_at(first + gap, Event::Traffic(g as u32));
                }
                Pattern::Closed { clients, think } => {
                    for c in 0..*clients {
                        let wait = think.sample(&mut rng);
                        self.queue
                            .push_at(first + wait, Event::ClientReady(g as u32, c));
                    }
                }
            }
            self.telemetry.clients.push(ClientStats::default());
            self.generators.push(Generator {
                spec: spec.clone(),
                req,
                sources,
                next_source: 0,
                target,
                rng,
                stop_at: start + end,
            });
        }
        Ok(())
    }

    pub(super) fn on_traffic(&mut self, g: u32) {
        let now = self.queue.now();
        let generator = &mut self.generators[g as usize];
        if now >= generator.stop_at {
            return;
        }
        let next = now + interval(&generator.spec.pattern, &mut generator.rng);
        if next < generator.stop_at {
            self.queue.push_at(next, Event::Traffic(g));
        }
        self.send_from(g, 0);
    }

    pub(super) fn on_client_ready(&mut self, g: u32, client: u32) {
        if self.queue.now() < self.generators[g as usize].stop_at {
            self.send_from(g, client);
        }
    }

    fn send_from(&mut self, g: u32, client: u32) {
        let generator = &mut self.generators[g as usize];
        let source = if generator.sources.is_empty() {
            None
        } else {
            let pod = generator.sources[generator.next_source % generator.sources.len()];
            generator.next_source += 1;
            Some(pod)
        };
        let (req, target) = (generator.req, generator.target.clone());
        self.telemetry.clients[g as usize].sent += 1;
        self.send(
            Parent::Client {
                generator: g,
                client,
            },
            source,
            Ok(target),
            req,
        );
    }

    pub(super) fn client_done(&mut self, g: u32, client: u32, outcome: Outcome, sent_at: SimTime) {
        let now = self.queue.now();
        let stats = &mut self.telemetry.clients[g as usize];
        let label = match outcome {
            Outcome::Response { status, .. } => status.to_string(),
            Outcome::Failed(f) => f.describe().to_string(),
        };
        *stats.outcomes.entry(label).or_default() += 1;
        stats.latency.record(now.since(sent_at));
        let generator = &mut self.generators[g as usize];
        if let Pattern::Closed { think, .. } = &generator.spec.pattern {
            let next = now + think.sample(&mut generator.rng);
            if next < generator.stop_at {
                self.queue.push_at(next, Event::ClientReady(g, client));
            }
        }
    }
}

impl World {
    /// Where a client outside the cluster reaches it: the ingress gateway's
    /// LoadBalancer Service, on `port`.
    pub fn ingress_entry(&self, port: u16) -> Option<Dialled> {
        let svc = self
            .cluster
            .find_service("istio-system", "istio-ingressgateway")?;
        let port_idx = self.cluster.service(svc).port_index(port)?;
        Some(Dialled::Service {
            svc,
            port_idx,
            port,
        })
    }
}

/// Time to the next open-loop arrival.
fn interval(pattern: &Pattern, rng: &mut Rng) -> SimDuration {
    match pattern {
        Pattern::Open {
            rate,
            poisson: true,
        } => SimDuration::from_secs_f64(-rng.next_f64_open0().ln() / rate),
        Pattern::Open {
            rate,
            poisson: false,
        } => SimDuration::from_secs_f64(1.0 / rate),
        Pattern::Closed { .. } => SimDuration::ZERO,
    }
}
