//! Analysis messages as istioctl prints them, and the catalogue of the ones
//! meshsim's analyzers raise: codes, levels and templates from Istio 1.27's
//! `pkg/config/analysis/msg/messages.yaml` (tag 1.27.9), one constructor
//! per message so a template lives in exactly one place.

use std::collections::BTreeMap;
use std::fmt;

/// `diag.Level`: its order is the sort order of the output (errors first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warning,
    Info,
}

impl Level {
    /// `--failure-threshold`/`--output-threshold` values, matched
    /// case-insensitively (`GetUppercaseStringToLevelMap`).
    pub fn parse(s: &str) -> Option<Level> {
        match s.to_ascii_uppercase().as_str() {
            "ERROR" => Some(Level::Error),
            "WARNING" => Some(Level::Warning),
            "INFO" => Some(Level::Info),
            _ => None,
        }
    }

    /// `IsWorseThanOrEqualTo`.
    pub fn at_least(self, threshold: Level) -> bool {
        self <= threshold
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Error => "Error",
            Level::Warning => "Warning",
            Level::Info => "Info",
        })
    }
}

/// The resource a message is about (`kube.Origin`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub kind: &'static str,
    /// Empty for cluster-scoped kinds.
    pub namespace: String,
    pub name: String,
    /// The resource's `galley.istio.io/analyze-suppress` annotation: codes
    /// (or `*`) not to report on it, comma-separated.
    suppressed: String,
}

impl Origin {
    pub fn new(kind: &'static str, namespace: &str, name: &str) -> Origin {
        Origin {
            kind,
            namespace: namespace.to_string(),
            name: name.to_string(),
            suppressed: String::new(),
        }
    }

    /// The origin of a resource with these annotations.
    pub fn annotated(mut self, annotations: &BTreeMap<String, String>) -> Origin {
        if let Some(codes) = annotations.get("galley.istio.io/analyze-suppress") {
            self.suppressed = codes.clone();
        }
        self
    }

    /// Whether the resource's annotation suppresses `code`.
    pub fn suppresses(&self, code: &str) -> bool {
        !self.suppressed.is_empty() && self.suppressed.split(',').any(|c| c == "*" || c == code)
    }

    /// `FriendlyName`: `VirtualService default/reviews`, `Namespace default`.
    /// istioctl always shows the namespace, even `default`.
    pub fn friendly_name(&self) -> String {
        if self.namespace.is_empty() {
            format!("{} {}", self.kind, self.name)
        } else {
            format!("{} {}/{}", self.kind, self.namespace, self.name)
        }
    }

    /// `Comparator`, the sort key after level and code: kind/name/namespace.
    fn comparator(&self) -> String {
        format!("{}/{}/{}", self.kind, self.name, self.namespace)
    }

    /// The namespace `-n` filters on: a Namespace's is its own name.
    pub fn scope(&self) -> &str {
        if self.kind == "Namespace" {
            &self.name
        } else {
            &self.namespace
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub level: Level,
    pub code: &'static str,
    pub origin: Origin,
    /// The template filled in.
    pub text: String,
}

impl Message {
    fn new(level: Level, code: &'static str, origin: &Origin, text: String) -> Message {
        Message {
            level,
            code,
            origin: origin.clone(),
            text,
        }
    }

    /// The `log` format line (`diag.Message.String`), resource origins
    /// from a live cluster carrying no file reference.
    pub fn line(&self) -> String {
        format!(
            "{} [{}] ({}) {}",
            self.level,
            self.code,
            self.origin.friendly_name(),
            self.text
        )
    }

    /// `documentationUrl` of the JSON and YAML formats.
    pub fn documentation_url(&self) -> String {
        format!(
            "{}/{}/?ref=istioctl-analyze",
            CONFIG_ANALYSIS_URL,
            self.code.to_ascii_lowercase()
        )
    }
}

/// `url.ConfigAnalysis` for a 1.27 istioctl.
pub const CONFIG_ANALYSIS_URL: &str = "https://istio.io/v1.27/docs/reference/config/analysis";

/// `Messages.SortedDedupedCopy`: by level, code, origin (kind/name/ns),
/// then text; duplicates (same printed line) dropped.
pub fn sorted_deduped(mut ms: Vec<Message>) -> Vec<Message> {
    ms.sort_by(|a, b| {
        (a.level, a.code, a.origin.comparator(), a.line()).cmp(&(
            b.level,
            b.code,
            b.origin.comparator(),
            b.line(),
        ))
    });
    ms.dedup_by(|a, b| a.line() == b.line());
    ms
}

/// Go's `%v` of a `[]string` or `[]int`: `[a b]`.
pub fn go_list<T: fmt::Display>(items: &[T]) -> String {
    let parts: Vec<String> = items.iter().map(ToString::to_string).collect();
    format!("[{}]", parts.join(" "))
}

/// IST0101 ReferencedResourceNotFound (Error): "Referenced %s not found: %q".
pub fn referenced_resource_not_found(o: &Origin, reftype: &str, refval: &str) -> Message {
    let text = format!(
        "Referenced {reftype} not found: {}",
        crate::go::quote(refval)
    );
    Message::new(Level::Error, "IST0101", o, text)
}

/// IST0102 NamespaceNotInjected (Info).
pub fn namespace_not_injected(o: &Origin, ns: &str) -> Message {
    let text = format!(
        "The namespace is not enabled for Istio injection. Run 'kubectl label namespace {ns} istio-injection=enabled' to enable it, or 'kubectl label namespace {ns} istio-injection=disabled' to explicitly mark it as not needing injection."
    );
    Message::new(Level::Info, "IST0102", o, text)
}

/// IST0103 PodMissingProxy (Warning).
pub fn pod_missing_proxy(o: &Origin, pod: &str) -> Message {
    let text = format!(
        "The pod {pod} is missing the Istio proxy. This can often be resolved by restarting or redeploying the workload."
    );
    Message::new(Level::Warning, "IST0103", o, text)
}

/// IST0109 ConflictingMeshGatewayVirtualServiceHosts (Error).
pub fn conflicting_mesh_gateway_hosts(o: &Origin, virtual_services: &str, host: &str) -> Message {
    let text = format!(
        "The VirtualServices {virtual_services} associated with mesh gateway define the same host {host} which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource."
    );
    Message::new(Level::Error, "IST0109", o, text)
}

/// IST0110 ConflictingSidecarWorkloadSelectors (Error).
pub fn conflicting_sidecar_selectors(
    o: &Origin,
    sidecars: &[String],
    ns: &str,
    pod: &str,
) -> Message {
    let text = format!(
        "The Sidecars {} in namespace {} select the same workload pod {}, which can lead to undefined behavior.",
        go_list(sidecars),
        crate::go::quote(ns),
        crate::go::quote(pod)
    );
    Message::new(Level::Error, "IST0110", o, text)
}

/// IST0111 MultipleSidecarsWithoutWorkloadSelectors (Error).
pub fn multiple_sidecars_without_selectors(o: &Origin, sidecars: &[String], ns: &str) -> Message {
    let text = format!(
        "The Sidecars {} in namespace {} have no workload selector, which can lead to undefined behavior.",
        go_list(sidecars),
        crate::go::quote(ns)
    );
    Message::new(Level::Error, "IST0111", o, text)
}

/// IST0112 VirtualServiceDestinationPortSelectorRequired (Error).
pub fn destination_port_selector_required(o: &Origin, host: &str, ports: &[u32]) -> Message {
    let text = format!(
        "This VirtualService routes to a service {} that exposes multiple ports {}. Specifying a port in the destination is required to disambiguate.",
        crate::go::quote(host),
        go_list(ports)
    );
    Message::new(Level::Error, "IST0112", o, text)
}

/// IST0118 PortNameIsNotUnderNamingConvention (Info).
pub fn port_name_not_under_convention(o: &Origin, name: &str, port: u16, target: &str) -> Message {
    let text = format!(
        "Port name {name} (port: {port}, targetPort: {target}) doesn't follow the naming convention of Istio port."
    );
    Message::new(Level::Info, "IST0118", o, text)
}

/// IST0123 NamespaceMultipleInjectionLabels (Warning).
pub fn namespace_multiple_injection_labels(o: &Origin, labels: &[String]) -> Message {
    let text = format!(
        "The namespace has more than one type of injection labels {}, which may lead to undefined behavior. Make sure only one injection label exists.",
        go_list(labels)
    );
    Message::new(Level::Warning, "IST0123", o, text)
}

/// IST0127 NoMatchingWorkloadsFound (Warning).
pub fn no_matching_workloads(o: &Origin, labels: &str) -> Message {
    let text =
        format!("No matching workloads for this resource with the following labels: {labels}");
    Message::new(Level::Warning, "IST0127", o, text)
}

/// IST0130 VirtualServiceUnreachableRule (Warning): "VirtualService rule
/// %v not used (%s)." — the validation warning's own words, capitalised,
/// with a full stop.
pub fn unreachable_rule(o: &Origin, rule_and_reason: &str) -> Message {
    Message::new(
        Level::Warning,
        "IST0130",
        o,
        format!("VirtualService rule {rule_and_reason}."),
    )
}

/// IST0131 VirtualServiceIneffectiveMatch (Info): "VirtualService rule %v
/// match %v is not used (duplicate/overlapping match in rule %v)."
pub fn ineffective_match(o: &Origin, rule_match_dup: &str) -> Message {
    Message::new(
        Level::Info,
        "IST0131",
        o,
        format!("VirtualService rule {rule_match_dup}."),
    )
}

/// IST0132 VirtualServiceHostNotFoundInGateway (Warning).
pub fn host_not_found_in_gateway(o: &Origin, hosts: &[String], vs: &str, gateway: &str) -> Message {
    let text = format!(
        "one or more host {} defined in VirtualService {vs} not found in Gateway {gateway}.",
        go_list(hosts)
    );
    Message::new(Level::Warning, "IST0132", o, text)
}

/// IST0133 SchemaWarning (Warning): "Schema validation warning: %v".
pub fn schema_warning(o: &Origin, warning: &str) -> Message {
    Message::new(
        Level::Warning,
        "IST0133",
        o,
        format!("Schema validation warning: {warning}"),
    )
}

/// IST0140 IngressRouteRulesNotAffected (Warning).
pub fn ingress_route_rules_not_affected(o: &Origin, subset_vs: &str, vs: &str) -> Message {
    let text = format!(
        "Subset in virtual service {subset_vs} has no effect on ingress gateway {vs} requests"
    );
    Message::new(Level::Warning, "IST0140", o, text)
}

/// IST0150 ExternalNameServiceTypeInvalidPortName (Warning).
pub fn external_name_invalid_port_name(o: &Origin) -> Message {
    let text = "Port name for ExternalName service is invalid. Proxy may prevent tcp named ports and unmatched traffic for ports serving TCP protocol from being forwarded correctly".to_string();
    Message::new(Level::Warning, "IST0150", o, text)
}

/// IST0159 ConflictingTelemetryWorkloadSelectors (Error).
pub fn conflicting_telemetry_selectors(
    o: &Origin,
    telemetries: &[String],
    ns: &str,
    pod: &str,
) -> Message {
    let text = format!(
        "The Telemetries {} in namespace {} select the same workload pod {}, which can lead to undefined behavior.",
        go_list(telemetries),
        crate::go::quote(ns),
        crate::go::quote(pod)
    );
    Message::new(Level::Error, "IST0159", o, text)
}

/// IST0162 GatewayPortNotDefinedOnService (Warning).
pub fn gateway_port_not_on_service(o: &Origin, port: u32, selector: &str) -> Message {
    let text = format!(
        "The gateway is listening on a target port (port {port}) that is not defined in the Service associated with its workload instances (Pod selector {selector}). If you need to access the gateway port through the gateway Service, it will not be available."
    );
    Message::new(Level::Warning, "IST0162", o, text)
}

/// IST0165 ReferencedInternalGateway (Warning).
pub fn referenced_internal_gateway(o: &Origin, vs: &str, gateway: &str) -> Message {
    let text = format!(
        "Gateway reference in VirtualService {vs} is to an implementation-generated internal Gateway: {gateway}."
    );
    Message::new(Level::Warning, "IST0165", o, text)
}

/// IST0167 IneffectivePolicy (Warning): "The policy has no impact: %s.".
pub fn ineffective_policy(o: &Origin, reason: &str) -> Message {
    Message::new(
        Level::Warning,
        "IST0167",
        o,
        format!("The policy has no impact: {reason}."),
    )
}

/// IST0173 DestinationRuleSubsetNotSelectPods (Error).
pub fn subset_not_select_pods(o: &Origin, subset: &str) -> Message {
    let text = format!(
        "The Subset {subset} defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream)."
    );
    Message::new(Level::Error, "IST0173", o, text)
}

/// IST0174 UnknownDestinationRuleHost (Warning).
pub fn unknown_destination_rule_host(o: &Origin, host: &str) -> Message {
    let text = format!(
        "The host {host} defined in the DestinationRule does not match any services in the mesh."
    );
    Message::new(Level::Warning, "IST0174", o, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_sort_by_level_code_then_kind_name_namespace() {
        let vs = |ns: &str, name: &str| Origin::new("VirtualService", ns, name);
        let ms = vec![
            namespace_not_injected(&Origin::new("Namespace", "", "default"), "default"),
            referenced_resource_not_found(&vs("b", "a"), "host", "x"),
            referenced_resource_not_found(&vs("a", "b"), "host", "x"),
            referenced_resource_not_found(&vs("a", "b"), "host", "x"),
            unknown_destination_rule_host(&Origin::new("DestinationRule", "a", "r"), "h"),
        ];
        let lines: Vec<String> = sorted_deduped(ms).iter().map(Message::line).collect();
        assert_eq!(
            lines,
            [
                "Error [IST0101] (VirtualService b/a) Referenced host not found: \"x\"",
                "Error [IST0101] (VirtualService a/b) Referenced host not found: \"x\"",
                "Warning [IST0174] (DestinationRule a/r) The host h defined in the DestinationRule does not match any services in the mesh.",
                "Info [IST0102] (Namespace default) The namespace is not enabled for Istio injection. Run 'kubectl label namespace default istio-injection=enabled' to enable it, or 'kubectl label namespace default istio-injection=disabled' to explicitly mark it as not needing injection.",
            ]
        );
    }
}
