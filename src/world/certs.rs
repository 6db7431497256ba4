//! Workload certificates over the virtual clock: each proxy asks istiod's
//! CA ([`crate::control::ca`]) for a certificate when it starts (it is
//! ready once it has one) and again at half its life (pilot-agent's
//! `SECRET_GRACE_PERIOD_RATIO`). While no
//! istiod replica serves, the proxy keeps its certificate and retries; once
//! the certificate has expired, mTLS with that proxy fails in the
//! handshake, as Envoy's does (`CERTIFICATE_EXPIRED`).
//!
//! The CA is istiod's: self-signed (10-year root, `O=cluster.local`), or
//! the plugged-in `istio-system/cacerts` Secret when one exists (istiod
//! watches it, so a Secret applied later signs the next certificates).

use std::sync::Arc;

use crate::config::{Body, Object};
use crate::control::ca::{Ca, WorkloadCert};
use crate::k8s::{PodId, PodPhase};
use crate::sim::{SimDuration, SimTime};

use super::{Event, World};

/// How long a proxy waits before asking again when istiod does not
/// answer: doubling from a second up to five minutes, as the agent's CSR
/// client backs off.
fn retry_after(failures: u32) -> SimDuration {
    SimDuration::from_secs(1u64 << failures.min(9)).min(SimDuration::from_secs(300))
}

/// Where istiod runs.
const ISTIOD_NAMESPACE: &str = "istio-system";

/// istiod's CA and the Secret it was built from.
pub struct Authority {
    ca: Ca,
    /// The `cacerts` Secret it uses, if any.
    from: Option<Arc<Object>>,
    /// Certificates signed so far (distinct serials).
    issued: u64,
}

impl World {
    /// Whether some istiod replica serves (signs certificates, pushes
    /// configuration).
    pub fn istiod_serving(&self) -> bool {
        self.cluster
            .workloads
            .iter()
            .filter(|w| !w.deleted && w.namespace == ISTIOD_NAMESPACE)
            .flat_map(|w| &w.pods)
            .map(|&p| self.cluster.pod(p))
            .any(|p| {
                p.labels.get("app").map(String::as_str) == Some("istiod")
                    && p.phase == PodPhase::Running
                    && p.ready
            })
    }

    /// istiod's CA as the cluster now configures it.
    pub fn ca(&mut self) -> Result<&Ca, String> {
        let secret = self
            .cluster
            .secrets
            .get(&(ISTIOD_NAMESPACE.to_string(), "cacerts".to_string()))
            .cloned();
        let current = self
            .authority
            .as_ref()
            .is_some_and(|a| match (&a.from, &secret) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                _ => false,
            });
        if !current {
            let started = self.epoch_unix;
            let ca = match secret.as_deref().map(|o| &o.body) {
                Some(Body::Secret(s)) => Ca::plugged_in(
                    crate::control::ca::TRUST_DOMAIN,
                    self.seed,
                    started,
                    &s.data,
                )
                .map_err(|e| format!("Secret istio-system/cacerts: {e}"))?,
                _ => Ca::self_signed(crate::control::ca::TRUST_DOMAIN, self.seed, started),
            };
            let issued = self.authority.as_ref().map_or(0, |a| a.issued);
            self.authority = Some(Box::new(Authority {
                ca,
                from: secret,
                issued,
            }));
        }
        Ok(&self.authority.as_ref().expect("just built").ca)
    }

    /// A proxy asks for its certificate: granted when istiod serves (the
    /// next request is scheduled at half its life), retried soon when not.
    pub(super) fn on_cert_request(&mut self, pod: PodId, incarnation: u32) {
        let p = self.cluster.pod(pod);
        if p.incarnation != incarnation || self.pods[pod.0 as usize].proxy.is_none() {
            return;
        }
        if !self.istiod_serving() {
            self.note_expiry(pod);
            self.cert_retry_later(pod, incarnation);
            return;
        }
        let now = self.now_unix();
        let Some(cert) = self.sign(pod) else {
            // A broken cacerts: istiod cannot sign; the proxy retries.
            self.cert_retry_later(pod, incarnation);
            return;
        };
        // At least a second on: a tiny SECRET_TTL must not renew in a loop
        // at one instant.
        let renew_in = SimDuration::from_secs(cert.renew_at().saturating_sub(now).max(1));
        self.log_certificate(pod, cert.not_after.saturating_sub(now));
        self.pods[pod.0 as usize].cert_failures = 0;
        self.pods[pod.0 as usize].expiry_noted = false;
        if self.pods[pod.0 as usize].cert.replace(cert).is_none() {
            self.queue
                .push_after(SimDuration::ZERO, Event::PodReady(pod, incarnation));
        }
        self.queue
            .push_after(renew_in, Event::CertRequest(pod, incarnation));
    }

    /// istiod signs a certificate for `pod`'s identity, now; `None` when
    /// its CA is broken (said once in the notes).
    fn sign(&mut self, pod: PodId) -> Option<WorkloadCert> {
        let p = self.cluster.pod(pod);
        let (ns, sa) = (p.namespace.clone(), p.service_account.clone());
        let ttl = self.secret_ttl(pod);
        let now = self.now_unix();
        match self.ca() {
            Ok(_) => {
                let authority = self.authority.as_mut().expect("ca() built it");
                authority.issued += 1;
                Some(authority.ca.issue(&ns, &sa, now, ttl, authority.issued))
            }
            Err(e) => {
                if !self.notes.contains(&e) {
                    self.notes.push(e);
                }
                None
            }
        }
    }

    /// The certificate an ambient workload presents, which its node's
    /// ztunnel fetches from istiod when it first needs it and again once
    /// past half its life (ztunnel's `refresh_at`); while no istiod serves,
    /// the one it holds serves until it expires. Err: why the handshake
    /// fails.
    pub(super) fn ztunnel_cert(&mut self, pod: PodId) -> Result<(), &'static str> {
        let now = self.now_unix();
        let due = self.pods[pod.0 as usize]
            .cert
            .as_ref()
            .is_none_or(|c| now >= c.renew_at());
        if due
            && self.istiod_serving()
            && let Some(cert) = self.sign(pod)
        {
            self.pods[pod.0 as usize].cert = Some(cert);
        }
        self.valid_cert(pod).map(|_| ())
    }

    /// The certificate lifetime `pod`'s proxy asks for: `SECRET_TTL` from
    /// its `proxy.istio.io/config` annotation's `proxyMetadata`, else the
    /// mesh's `defaultConfig.proxyMetadata`, else 24 h.
    fn secret_ttl(&self, pod: PodId) -> u64 {
        self.cluster
            .pod(pod)
            .annotations
            .get("proxy.istio.io/config")
            .and_then(|c| crate::world::mesh::proxy_metadata(c, "SECRET_TTL"))
            .or(self.mesh.secret_ttl)
            .unwrap_or(crate::control::ca::WORKLOAD_TTL_SECS)
    }

    /// Tells the run's report, once, that `pod`'s certificate ran out.
    fn note_expiry(&mut self, pod: PodId) {
        let rt = &self.pods[pod.0 as usize];
        let Some(cert) = rt.cert.as_ref().filter(|c| self.now_unix() > c.not_after) else {
            return;
        };
        if rt.expiry_noted {
            return;
        }
        let expired = SimTime::ZERO
            + SimDuration::from_secs((cert.not_after + 1).saturating_sub(self.epoch_unix));
        let at = expired.since(self.traffic_start);
        let key = self.cluster.pod(pod).key();
        self.notes.push(format!(
            "at {at}: the workload certificate of {key} expired; istiod did not renew it, so mTLS with it fails"
        ));
        self.pods[pod.0 as usize].expiry_noted = true;
    }

    fn cert_retry_later(&mut self, pod: PodId, incarnation: u32) {
        let rt = &mut self.pods[pod.0 as usize];
        let wait = retry_after(rt.cert_failures);
        rt.cert_failures += 1;
        self.queue
            .push_after(wait, Event::CertRequest(pod, incarnation));
    }

    /// The certificate `pod`'s proxy holds, valid or not (an ambient
    /// workload's is its ztunnel's, not an Envoy's).
    pub fn proxy_cert(&self, pod: PodId) -> Option<&WorkloadCert> {
        let rt = &self.pods[pod.0 as usize];
        rt.proxy.as_ref().and(rt.cert.as_ref())
    }

    /// `pod`'s proxy certificate, if it holds one valid now; otherwise why
    /// not, for the handshake's error.
    pub(super) fn valid_cert(&self, pod: PodId) -> Result<&WorkloadCert, &'static str> {
        let now = self.now_unix();
        match &self.pods[pod.0 as usize].cert {
            None => Err("no workload certificate yet (istiod has not signed one)"),
            Some(c) if c.valid_at(now) => Ok(c),
            Some(c) if now > c.not_after => Err("its workload certificate has expired"),
            Some(_) => Err("its workload certificate is not valid yet"),
        }
    }
}
