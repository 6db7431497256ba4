//! Installation profiles, as `istioctl install --set profile=…` applies
//! them in Istio 1.27 (manifests/profiles):
//!
//! | profile | istiod | ingress gateway | egress gateway | istio-cni + ztunnel |
//! |---|---|---|---|---|
//! | minimal | yes | | | |
//! | default | yes | yes | | |
//! | demo | yes | yes | yes | |
//! | ambient | yes | | | yes |
//!
//! The ambient profile has no ingress gateway (the course assumes one; see
//! the errata). The objects are ordinary manifests, loaded like any other.

use std::fmt;
use std::str::FromStr;

use crate::config::{Loaded, load_str};

pub const ISTIO_VERSION: &str = "1.27.9";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// No mesh at all: plain Kubernetes.
    None,
    Minimal,
    Default,
    Demo,
    Ambient,
}

pub const PROFILE_NAMES: &[&str] = &["none", "minimal", "default", "demo", "ambient"];

impl FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "none" | "" => Profile::None,
            "minimal" => Profile::Minimal,
            "default" => Profile::Default,
            "demo" => Profile::Demo,
            "ambient" => Profile::Ambient,
            other => {
                return Err(format!(
                    "unknown profile {other:?}; Istio's profiles are {}",
                    PROFILE_NAMES[1..].join(", ")
                ));
            }
        })
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = match self {
            Profile::None => 0,
            Profile::Minimal => 1,
            Profile::Default => 2,
            Profile::Demo => 3,
            Profile::Ambient => 4,
        };
        f.write_str(PROFILE_NAMES[i])
    }
}

const NAMESPACE: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: istio-system\n";

impl Profile {
    pub fn has_istiod(self) -> bool {
        self != Profile::None
    }

    /// The profile's manifests, in apply order: (file name, YAML).
    pub fn documents(self) -> Vec<(&'static str, &'static str)> {
        let mut parts: Vec<(&str, &str)> = Vec::new();
        if self.has_istiod() {
            parts.push(("profile/namespace.yaml", NAMESPACE));
            parts.push(("profile/istiod.yaml", include_str!("profiles/istiod.yaml")));
        }
        if matches!(self, Profile::Default | Profile::Demo) {
            parts.push((
                "profile/ingressgateway.yaml",
                include_str!("profiles/ingressgateway.yaml"),
            ));
        }
        if self == Profile::Demo {
            parts.push((
                "profile/egressgateway.yaml",
                include_str!("profiles/egressgateway.yaml"),
            ));
        }
        if self == Profile::Ambient {
            parts.push((
                "profile/ambient.yaml",
                include_str!("profiles/ambient.yaml"),
            ));
        }
        parts
    }

    /// The objects the profile installs, in apply order.
    pub fn manifests(self) -> Loaded {
        let mut out = Loaded::default();
        for (file, text) in self.documents() {
            out.extend(load_str(file, text, None));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_loads_cleanly() {
        for name in PROFILE_NAMES {
            let p: Profile = name.parse().unwrap();
            let loaded = p.manifests();
            assert!(
                loaded.diagnostics.is_empty(),
                "{name}: {:?}",
                loaded.diagnostics
            );
        }
    }

    #[test]
    fn ambient_has_ztunnel_and_no_ingress_gateway() {
        let names: Vec<String> = Profile::Ambient
            .manifests()
            .objects
            .iter()
            .map(|o| o.describe())
            .collect();
        assert!(names.contains(&"DaemonSet istio-system/ztunnel".to_string()));
        assert!(names.contains(&"DaemonSet istio-system/istio-cni-node".to_string()));
        assert!(!names.iter().any(|n| n.contains("ingressgateway")));
        let default: Vec<String> = Profile::Default
            .manifests()
            .objects
            .iter()
            .map(|o| o.describe())
            .collect();
        assert!(default.contains(&"Service istio-system/istio-ingressgateway".to_string()));
    }

    #[test]
    fn unknown_profiles_are_named() {
        assert_eq!(
            "ambiant".parse::<Profile>().unwrap_err(),
            "unknown profile \"ambiant\"; Istio's profiles are minimal, default, demo, ambient"
        );
    }
}
