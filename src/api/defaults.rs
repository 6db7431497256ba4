//! What the apiserver fills in when an object is written: the defaults
//! `kubectl get -o yaml` shows on a real cluster (a Service's clusterIP
//! and protocols, a namespace's label and phase, a pod template's restart
//! and pull policies).

use std::net::Ipv4Addr;

use serde_json::{Value, json};

/// A namespace as the apiserver completes it: the
/// `kubernetes.io/metadata.name` label, the `kubernetes` finalizer and
/// phase Active.
pub fn namespace(mut obj: Value) -> Value {
    let name = obj["metadata"]["name"].clone();
    if !obj["metadata"]["labels"].is_object() {
        obj["metadata"]["labels"] = json!({});
    }
    obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
    obj["spec"] = json!({"finalizers": ["kubernetes"]});
    obj["status"] = json!({"phase": "Active"});
    obj
}

/// A Service's defaults; `cluster_ip` is what the cluster allocated.
pub fn service(mut obj: Value, ns: &str, name: &str, cluster_ip: Option<Ipv4Addr>) -> Value {
    let spec = &mut obj["spec"];
    if spec["type"].is_null() {
        spec["type"] = json!("ClusterIP");
    }
    if spec["sessionAffinity"].is_null() {
        spec["sessionAffinity"] = json!("None");
    }
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports {
            if p["protocol"].is_null() {
                p["protocol"] = json!("TCP");
            }
            if p["targetPort"].is_null() {
                p["targetPort"] = p["port"].clone();
            }
        }
    }
    match cluster_ip {
        Some(ip) => {
            spec["clusterIP"] = json!(ip.to_string());
            spec["clusterIPs"] = json!([ip.to_string()]);
            spec["ipFamilies"] = json!(["IPv4"]);
            spec["ipFamilyPolicy"] = json!("SingleStack");
        }
        None if spec["clusterIP"].is_null() => spec["clusterIP"] = json!("None"),
        None => {}
    }
    if spec["type"] == "LoadBalancer" || spec["type"] == "NodePort" {
        let mut next =
            30000 + (crate::k8s::names::fnv32a(format!("{ns}/{name}").as_bytes()) % 2000);
        if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
            for p in ports {
                if p["nodePort"].is_null() {
                    p["nodePort"] = json!(next);
                    next += 1;
                }
            }
        }
        if spec["externalTrafficPolicy"].is_null() {
            spec["externalTrafficPolicy"] = json!("Cluster");
        }
    }
    obj
}

/// Defaults of the kinds that carry a pod spec (`SetDefaults_PodSpec`,
/// `SetDefaults_Container`, `SetDefaults_Deployment`).
pub fn workload(kind: &str, mut obj: Value) -> Value {
    let spec = match kind {
        "Pod" => &mut obj["spec"],
        "Deployment" | "DaemonSet" | "ReplicaSet" => {
            if kind != "DaemonSet" && obj["spec"]["replicas"].is_null() {
                obj["spec"]["replicas"] = json!(1);
            }
            if kind == "DaemonSet" {
                // `SetDefaults_DaemonSet`.
                let spec = &mut obj["spec"];
                for (k, v) in [
                    ("revisionHistoryLimit", json!(10)),
                    (
                        "updateStrategy",
                        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}),
                    ),
                ] {
                    if spec[k].is_null() {
                        spec[k] = v;
                    }
                }
            }
            if kind == "Deployment" {
                let spec = &mut obj["spec"];
                for (k, v) in [
                    ("revisionHistoryLimit", json!(10)),
                    ("progressDeadlineSeconds", json!(600)),
                    (
                        "strategy",
                        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}),
                    ),
                ] {
                    if spec[k].is_null() {
                        spec[k] = v;
                    }
                }
            }
            &mut obj["spec"]["template"]["spec"]
        }
        _ => return obj,
    };
    pod_spec(spec);
    obj
}

fn pod_spec(spec: &mut Value) {
    if !spec.is_object() {
        return;
    }
    for (k, v) in [
        ("restartPolicy", json!("Always")),
        ("terminationGracePeriodSeconds", json!(30)),
        ("dnsPolicy", json!("ClusterFirst")),
        ("securityContext", json!({})),
        ("schedulerName", json!("default-scheduler")),
    ] {
        if spec[k].is_null() {
            spec[k] = v;
        }
    }
    for list in ["initContainers", "containers"] {
        let Some(containers) = spec.get_mut(list).and_then(Value::as_array_mut) else {
            continue;
        };
        for c in containers {
            let image = c["image"].as_str().unwrap_or("");
            // `:latest` or no tag: Always; otherwise IfNotPresent.
            let tag = image
                .rsplit('/')
                .next()
                .and_then(|n| n.split_once(':'))
                .map(|(_, t)| t);
            let pull = if tag.is_none_or(|t| t == "latest") && !image.contains('@') {
                "Always"
            } else {
                "IfNotPresent"
            };
            for (k, v) in [
                ("imagePullPolicy", json!(pull)),
                ("terminationMessagePath", json!("/dev/termination-log")),
                ("terminationMessagePolicy", json!("File")),
                ("resources", json!({})),
            ] {
                if c[k].is_null() {
                    c[k] = v;
                }
            }
            if let Some(ports) = c.get_mut("ports").and_then(Value::as_array_mut) {
                for p in ports {
                    if p["protocol"].is_null() {
                        p["protocol"] = json!("TCP");
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_templates_get_the_apiservers_defaults() {
        let d = workload(
            "Deployment",
            json!({"spec": {"template": {"spec": {"containers": [
                {"name": "a", "image": "nginx", "ports": [{"containerPort": 80}]},
                {"name": "b", "image": "docker.io/istio/proxyv2:1.27.9"}]}}}}),
        );
        assert_eq!(d["spec"]["replicas"], 1);
        assert_eq!(d["spec"]["strategy"]["type"], "RollingUpdate");
        let spec = &d["spec"]["template"]["spec"];
        assert_eq!(spec["restartPolicy"], "Always");
        assert_eq!(spec["containers"][0]["imagePullPolicy"], "Always");
        assert_eq!(spec["containers"][0]["ports"][0]["protocol"], "TCP");
        assert_eq!(spec["containers"][1]["imagePullPolicy"], "IfNotPresent");
    }

    #[test]
    fn services_get_their_ip_and_port_defaults() {
        let s = service(
            json!({"spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}}),
            "ns",
            "gw",
            Some(Ipv4Addr::new(10, 96, 3, 4)),
        );
        assert_eq!(s["spec"]["clusterIP"], "10.96.3.4");
        assert_eq!(s["spec"]["ports"][0]["targetPort"], 80);
        assert_eq!(s["spec"]["ports"][0]["protocol"], "TCP");
        assert!(
            s["spec"]["ports"][0]["nodePort"]
                .as_u64()
                .is_some_and(|p| (30000..32768).contains(&p))
        );
        assert_eq!(
            namespace(json!({"metadata": {"name": "x"}}))["metadata"]["labels"]["kubernetes.io/metadata.name"],
            "x"
        );
    }
}
