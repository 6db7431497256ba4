//! istiod's sidecar injector, as its two webhooks select pods
//! (`istio-sidecar-injector` MutatingWebhookConfiguration, Istio 1.27):
//!
//! - `namespace.sidecar-injector.istio.io`: namespaces labelled
//!   `istio-injection=enabled` (or with an `istio.io/rev`), unless the pod
//!   says `sidecar.istio.io/inject: "false"`;
//! - `object.sidecar-injector.istio.io`: pods labelled
//!   `sidecar.istio.io/inject: "true"` in namespaces not labelled
//!   `istio-injection=disabled`.
//!
//! Injection happens only when a pod is created, so pods that existed before
//! the namespace was labelled keep running without a sidecar until they are
//! recreated (`kubectl rollout restart`).

use std::collections::BTreeMap;

use crate::k8s::cluster::{Admission, Namespace};

pub struct SidecarInjector {
    /// Whether istiod (and so the webhook) is installed at all.
    pub enabled: bool,
    /// Installed control-plane revisions (`default` for a plain install).
    pub revisions: Vec<String>,
}

impl SidecarInjector {
    /// The revision the `default` tag points at (`istio-revision-tag-default`):
    /// `default` when installed, else the first revision installed.
    fn default_revision(&self) -> Option<&String> {
        self.revisions
            .iter()
            .find(|r| *r == "default")
            .or(self.revisions.first())
    }
}

impl Admission for SidecarInjector {
    /// Which revision's webhook injects the pod: `istio-injection=enabled`
    /// wins over a namespace's `istio.io/rev` (Istio's canary upgrade
    /// page), which wins over the pod's own labels.
    fn inject_sidecar(
        &self,
        ns: &Namespace,
        pod_labels: &BTreeMap<String, String>,
        _pod_annotations: &BTreeMap<String, String>,
    ) -> Option<String> {
        if !self.enabled {
            return None;
        }
        let pod_says = pod_labels
            .get("sidecar.istio.io/inject")
            .map(String::as_str);
        let ns_injection = ns.labels.get("istio-injection").map(String::as_str);
        let known = |rev: Option<&String>| rev.filter(|r| self.revisions.contains(r)).cloned();
        match (ns_injection, pod_says) {
            (Some("disabled"), _) | (_, Some("false")) => None,
            (Some("enabled"), _) => self.default_revision().cloned(),
            // Every other webhook wants `istio-injection` absent.
            (Some(_), _) => None,
            _ if ns.labels.contains_key("istio.io/rev") => known(ns.labels.get("istio.io/rev")),
            _ if pod_labels.contains_key("istio.io/rev") => known(pod_labels.get("istio.io/rev")),
            (_, Some("true")) => self.default_revision().cloned(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test_case(&[("istio-injection", "enabled")], &[], true; "namespace enabled")]
    #[test_case(&[("istio-injection", "enabled")], &[("sidecar.istio.io/inject", "false")], false; "pod opts out")]
    #[test_case(&[], &[("sidecar.istio.io/inject", "true")], true; "pod opts in")]
    #[test_case(&[("istio-injection", "disabled")], &[("sidecar.istio.io/inject", "true")], false; "namespace disabled wins")]
    #[test_case(&[("istio.io/rev", "default")], &[], true; "revision label")]
    #[test_case(&[("istio.io/rev", "canary")], &[], false; "unknown revision")]
    #[test_case(&[("istio.io/rev", "canary")], &[("sidecar.istio.io/inject", "true")], false; "an unknown namespace revision is not the default")]
    #[test_case(&[("istio.io/dataplane-mode", "ambient")], &[], false; "ambient namespace")]
    #[test_case(&[], &[], false; "unlabelled")]
    fn selects_pods_like_the_webhooks(ns: &[(&str, &str)], pod: &[(&str, &str)], want: bool) {
        let injector = SidecarInjector {
            enabled: true,
            revisions: vec!["default".into()],
        };
        let ns = Namespace {
            labels: map(ns),
            annotations: BTreeMap::new(),
        };
        assert_eq!(
            injector
                .inject_sidecar(&ns, &map(pod), &BTreeMap::new())
                .is_some(),
            want
        );
    }

    #[test]
    fn nothing_is_injected_without_istiod() {
        let injector = SidecarInjector {
            enabled: false,
            revisions: vec![],
        };
        let ns = Namespace {
            labels: map(&[("istio-injection", "enabled")]),
            annotations: BTreeMap::new(),
        };
        assert!(
            injector
                .inject_sidecar(&ns, &BTreeMap::new(), &BTreeMap::new())
                .is_none()
        );
    }

    /// Istio's canary upgrade: `istio.io/rev=canary` on the namespace
    /// injects canary's sidecar; `istio-injection=enabled` beside it wins
    /// and injects the default revision.
    #[test]
    fn revisions_pick_their_namespaces() {
        let injector = SidecarInjector {
            enabled: true,
            revisions: vec!["default".into(), "canary".into()],
        };
        let pick = |ns: &[(&str, &str)], pod: &[(&str, &str)]| {
            let ns = Namespace {
                labels: map(ns),
                annotations: BTreeMap::new(),
            };
            injector.inject_sidecar(&ns, &map(pod), &BTreeMap::new())
        };
        assert_eq!(
            pick(&[("istio.io/rev", "canary")], &[]).as_deref(),
            Some("canary")
        );
        assert_eq!(
            pick(
                &[("istio.io/rev", "canary"), ("istio-injection", "enabled")],
                &[]
            )
            .as_deref(),
            Some("default")
        );
        assert_eq!(
            pick(&[], &[("istio.io/rev", "canary")]).as_deref(),
            Some("canary")
        );
        assert_eq!(
            pick(&[], &[("sidecar.istio.io/inject", "true")]).as_deref(),
            Some("default")
        );
    }
}
