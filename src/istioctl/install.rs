//! `istioctl install`: the objects of an installation profile created
//! through the cluster's API (so kubectl sees them and their pods start
//! over virtual time), then a wait for each component to be ready, printed
//! as istioctl 1.27 prints it.
//!
//! The ambient profile has no ingress gateway (Istio 1.27
//! `manifests/profiles/ambient.yaml`), whatever the course says; after an
//! ambient install meshsim says how to add one, and
//! `--set components.ingressGateways[0].enabled=true` does.

use crate::api::ApiCluster;
use crate::control::Profile;
use crate::control::install::ISTIO_VERSION;
use crate::exec::Exec;
use crate::sim::SimDuration;

/// What `istioctl install` was asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub profile: Profile,
    /// `-y` / `--skip-confirmation`.
    pub yes: bool,
    pub ingress_gateway: Option<bool>,
    pub egress_gateway: Option<bool>,
    /// `meshConfig.accessLogFile` (the demo profile's `/dev/stdout`
    /// unless set).
    pub access_log_file: Option<String>,
    /// `--revision` / `--set revision=`: a canary control plane
    /// (`istiod-REV`) beside the default one.
    pub revision: Option<String>,
    /// What meshsim says about settings it accepts without simulating.
    pub notes: Vec<String>,
}

/// Parses `install` flags (after the verb). The client side uses it to
/// ask for confirmation, the server side to install.
pub fn parse(args: &[String]) -> Result<Request, String> {
    let mut r = Request {
        profile: Profile::Default,
        yes: false,
        ingress_gateway: None,
        egress_gateway: None,
        access_log_file: None,
        revision: None,
        notes: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("Error: flag needs an argument: {flag}"))
        };
        match a.as_str() {
            "-y" | "--skip-confirmation" => r.yes = true,
            "-r" | "--revision" => r.revision = Some(revision_name(&value(a)?)?),
            s if s.starts_with("--revision=") => r.revision = Some(revision_name(&s[11..])?),
            "--set" | "-s" => set(&mut r, &value(a)?)?,
            s if s.starts_with("--set=") => set(&mut r, &s[6..])?,
            "-f" | "--filename" => {
                let file = value(a)?;
                return Err(format!(
                    "Error: -f {file}: the client reads IstioOperator files (see operator_sets)"
                ));
            }
            s => return Err(format!("Error: unknown flag: {s}")),
        }
    }
    Ok(r)
}

fn set(r: &mut Request, kv: &str) -> Result<(), String> {
    let (key, value) = kv
        .split_once('=')
        .ok_or_else(|| format!("Error: --set {kv:?}: expected key=value"))?;
    let flag = || match value {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(format!(
            "Error: --set {key}: expected true or false, got {other:?}"
        )),
    };
    match key {
        "profile" => r.profile = value.parse().map_err(|e| format!("Error: {e}"))?,
        "revision" => r.revision = Some(revision_name(value)?),
        "meshConfig.accessLogFile" => r.access_log_file = Some(value.to_string()),
        "components.ingressGateways[0].enabled" => r.ingress_gateway = Some(flag()?),
        "components.egressGateways[0].enabled" => r.egress_gateway = Some(flag()?),
        "components.ingressGateways[0].name" if value == "istio-ingressgateway" => {}
        "components.egressGateways[0].name" if value == "istio-egressgateway" => {}
        // Multi-cluster identity: one simulated cluster has nothing to
        // federate with, so these change nothing (said, not ignored).
        "values.global.meshID"
        | "values.global.multiCluster.clusterName"
        | "values.global.network" => {
            r.notes.push(format!(
                "meshsim: --set {key}={value} is accepted; meshsim simulates one cluster, so it changes nothing"
            ));
        }
        other => {
            return Err(format!(
                "Error: meshsim's istioctl does not simulate --set {other}; it knows profile, meshConfig.accessLogFile, components.ingressGateways[0].enabled and components.egressGateways[0].enabled"
            ));
        }
    }
    Ok(())
}

/// A revision name: a DNS label, as it becomes part of `istiod-REV`;
/// `default` is the plain install.
fn revision_name(value: &str) -> Result<String, String> {
    let ok = !value.is_empty()
        && value.len() <= 63
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-');
    if ok {
        Ok(value.to_string())
    } else {
        Err(format!(
            "Error: invalid revision {value:?}: a revision must be a DNS label (lower case letters, digits and '-')"
        ))
    }
}

/// An IstioOperator file (`istioctl install -f FILE`) as the `--set`
/// flags it stands for; a setting meshsim does not simulate is refused
/// with its path.
pub fn operator_sets(file: &str, text: &str) -> Result<Vec<String>, String> {
    let (docs, syntax) = crate::yaml::parse_documents(text);
    if let Some(e) = syntax {
        return Err(format!("Error: {file}:{}: {e}", e.loc));
    }
    let doc = docs
        .iter()
        .find(|d| !d.root.is_null())
        .map(|d| d.root.to_json())
        .ok_or_else(|| format!("Error: {file}: no IstioOperator in it"))?;
    if doc["kind"] != "IstioOperator" {
        return Err(format!(
            "Error: {file}: expected kind IstioOperator, got {}",
            doc["kind"]
        ));
    }
    let mut sets = Vec::new();
    let mut flat = Vec::new();
    flatten("", &doc["spec"], &mut flat);
    for (path, value) in flat {
        let set = match path.as_str() {
            "profile"
            | "meshConfig.accessLogFile"
            | "values.global.meshID"
            | "values.global.multiCluster.clusterName"
            | "values.global.network" => {
                format!("{path}={value}")
            }
            p if p.starts_with("components.ingressGateways[")
                || p.starts_with("components.egressGateways[") =>
            {
                format!("{path}={value}")
            }
            other => {
                return Err(format!(
                    "Error: {file}: spec.{other} is not simulated by meshsim's istioctl (it knows profile, meshConfig.accessLogFile, components.ingressGateways, components.egressGateways and values.global.meshID/multiCluster.clusterName/network)"
                ));
            }
        };
        sets.push("--set".to_string());
        sets.push(set);
    }
    Ok(sets)
}

/// `a.b[0].c=v` pairs of a JSON tree's leaves.
fn flatten(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&path, v, out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), v, out);
            }
        }
        serde_json::Value::String(s) => out.push((prefix.to_string(), s.clone())),
        serde_json::Value::Null => {}
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

impl Request {
    /// The question istioctl asks without `-y`.
    pub fn confirmation(&self) -> String {
        format!(
            "This will install the Istio {ISTIO_VERSION} profile \"{}\" into the cluster. Proceed? (y/N) ",
            self.profile
        )
    }

    /// istiod's mesh config, the `istio` ConfigMap the istio-discovery
    /// chart renders (keys sorted, as helm's `toYaml` writes them).
    fn mesh_config_map(&self) -> serde_json::Value {
        let file = match (&self.access_log_file, self.profile) {
            (Some(f), _) => f.clone(),
            (None, Profile::Demo) => "/dev/stdout".to_string(),
            (None, _) => String::new(),
        };
        let mut mesh = String::new();
        if !file.is_empty() {
            mesh.push_str(&format!("accessLogFile: {file}\n"));
        }
        mesh.push_str(
            "defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\ndefaultProviders:\n  metrics:\n  - prometheus\nenablePrometheusMerge: true\nrootNamespace: istio-system\ntrustDomain: cluster.local",
        );
        serde_json::json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": match self.revision.as_deref() {
                    Some(rev) if rev != "default" => format!("istio-{rev}"),
                    _ => "istio".to_string(),
                },
                "namespace": "istio-system",
                "labels": {
                    "app.kubernetes.io/name": "istiod",
                    "install.operator.istio.io/owning-resource": "unknown",
                    "istio.io/rev": self.revision.as_deref().unwrap_or("default"),
                    "operator.istio.io/component": "Pilot",
                    "release": "istio",
                },
            },
            "data": {"mesh": mesh, "meshNetworks": "networks: {}"},
        })
    }

    /// The manifests to apply: the profile's, or for a revision only its
    /// istiod, renamed `istiod-REV` and labelled `istio.io/rev: REV`
    /// (gateways, CNI and ztunnel stay with the default revision).
    fn documents(&self) -> Vec<(&'static str, String)> {
        if let Some(rev) = self.revision.as_deref().filter(|r| *r != "default") {
            return self
                .profile
                .documents()
                .into_iter()
                .filter(|(f, _)| f.ends_with("istiod.yaml"))
                .map(|(f, text)| (f, revisioned(text, rev)))
                .collect();
        }
        let mut docs = self.profile.documents();
        let has = |docs: &[(&str, &str)], f: &str| docs.iter().any(|(n, _)| n.ends_with(f));
        let gateways = [
            (
                self.ingress_gateway,
                Profile::Default,
                "ingressgateway.yaml",
            ),
            (self.egress_gateway, Profile::Demo, "egressgateway.yaml"),
        ];
        for (wanted, from, file) in gateways {
            match wanted {
                Some(true) if !has(&docs, file) => {
                    docs.extend(
                        from.documents()
                            .into_iter()
                            .filter(|(n, _)| n.ends_with(file)),
                    );
                }
                Some(false) => docs.retain(|(n, _)| !n.ends_with(file)),
                _ => {}
            }
        }
        docs.into_iter().map(|(f, t)| (f, t.to_string())).collect()
    }

    /// The name of this install's istiod workload.
    fn istiod(&self) -> String {
        match self.revision.as_deref() {
            Some(rev) if rev != "default" => format!("istiod-{rev}"),
            _ => "istiod".to_string(),
        }
    }
}

/// istiod's manifest for revision `rev`: its objects named `istiod-REV`,
/// labelled and selected by `istio.io/rev: REV`.
fn revisioned(text: &str, rev: &str) -> String {
    text.replace("name: istiod\n", &format!("name: istiod-{rev}\n"))
        .replace(
            "serviceAccountName: istiod\n",
            &format!("serviceAccountName: istiod-{rev}\n"),
        )
        .replace("istio.io/rev: default", &format!("istio.io/rev: {rev}"))
}

/// Components in the order istioctl reports them: (label, namespace/name
/// of the workload that must be ready).
const COMPONENTS: &[(&str, &str)] = &[
    ("Istiod installed 🧠", "istiod"),
    ("CNI installed 🪢", "istio-cni-node"),
    ("Ztunnel installed 🔒", "ztunnel"),
    ("Ingress gateways installed 🛬", "istio-ingressgateway"),
    ("Egress gateways installed 🛫", "istio-egressgateway"),
];

/// How long istioctl waits for the components (its `--readiness-timeout`
/// default).
const READINESS_TIMEOUT: SimDuration = SimDuration::from_secs(300);

/// Installs and, in virtual time, waits until every component is ready.
pub fn run(cluster: &mut ApiCluster, args: &[String]) -> Exec {
    let request = match parse(args) {
        Ok(r) => r,
        Err(e) => return Exec::fail(e, 1),
    };
    if request.profile == Profile::None {
        return Exec::fail("Error: the \"none\" profile installs nothing".into(), 1);
    }
    let mut stdout = String::new();
    let mut stderr: String = request.notes.iter().map(|n| format!("{n}\n")).collect();
    for (file, text) in request.documents() {
        let (docs, syntax) = crate::yaml::parse_documents(&text);
        if let Some(e) = syntax {
            return Exec::fail(format!("Error: bundled {file}: {e}"), 1);
        }
        for doc in docs.iter().filter(|d| !d.root.is_null()) {
            if let Err(e) = cluster.create_or_update(doc.root.to_json()) {
                return Exec::fail(format!("Error: failed to install {file}: {e}"), 1);
            }
        }
    }
    if let Err(e) = cluster.create_or_update(request.mesh_config_map()) {
        return Exec::fail(format!("Error: failed to install the mesh config: {e}"), 1);
    }
    stdout.push_str("✔ Istio core installed ⛵️\n");
    let deadline = cluster.world.queue.now() + READINESS_TIMEOUT;
    let istiod = request.istiod();
    let revisioned = istiod != "istiod";
    let components: Vec<(&str, &str)> = if revisioned {
        vec![("Istiod installed 🧠", istiod.as_str())]
    } else {
        COMPONENTS.to_vec()
    };
    for (label, workload) in components {
        if cluster
            .world
            .cluster
            .find_workload("istio-system", workload)
            .is_none()
        {
            continue;
        }
        while !ready(cluster, workload) {
            if !cluster.fast_forward(deadline, &|_| true) {
                break;
            }
        }
        if !ready(cluster, workload) {
            stderr.push_str(&format!(
                "✘ {workload} did not become ready within {}s\n",
                READINESS_TIMEOUT.as_secs_f64()
            ));
            return Exec {
                stdout: stdout.into_bytes(),
                stderr: stderr.into_bytes(),
                code: 1,
            };
        }
        stdout.push_str(&format!("✔ {label}\n"));
    }
    stdout.push_str("✔ Installation complete\n");
    if revisioned {
        // A canary beside the default revision: the default stays.
    } else if request.profile == Profile::Ambient {
        stdout.push_str(
            "The ambient profile has been installed successfully, enjoy Istio without sidecars!\n",
        );
        if request.ingress_gateway != Some(true) {
            stderr.push_str(
                "meshsim: as in Istio 1.27, the ambient profile installs no ingress gateway (the course's \
                 istio-ingressgateway Service will not exist). To add Istio's classic one: istioctl install \
                 --set profile=ambient --set components.ingressGateways[0].enabled=true \
                 --set components.ingressGateways[0].name=istio-ingressgateway -y\n",
            );
        }
    } else {
        stdout.push_str("Made this installation the default for cluster-wide operations.\n");
    }
    Exec {
        stdout: stdout.into_bytes(),
        stderr: stderr.into_bytes(),
        code: 0,
    }
}

/// Whether every pod of `istio-system/<workload>` is ready.
fn ready(cluster: &ApiCluster, workload: &str) -> bool {
    let c = &cluster.world.cluster;
    c.find_workload("istio-system", workload).is_some_and(|id| {
        let w = c.workload(id);
        w.pods.len() as u32 == w.replicas && w.pods.iter().all(|&p| c.pod(p).ready)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn parses_the_course_spelling() {
        let r = parse(&args("--set profile=ambient -y")).unwrap();
        assert_eq!(r.profile, Profile::Ambient);
        assert!(r.yes);
        assert_eq!(
            r.confirmation(),
            format!(
                "This will install the Istio {ISTIO_VERSION} profile \"ambient\" into the cluster. Proceed? (y/N) "
            )
        );
        assert_eq!(parse(&args("")).unwrap().profile, Profile::Default);
    }

    #[test]
    fn refuses_what_it_cannot_do() {
        assert_eq!(
            parse(&args("--bogus")).unwrap_err(),
            "Error: unknown flag: --bogus"
        );
        assert!(
            parse(&args("--set profile=ambiant"))
                .unwrap_err()
                .contains("unknown profile")
        );
        assert!(
            parse(&args("--set meshConfig.enableTracing=true"))
                .unwrap_err()
                .contains("does not simulate")
        );
        assert_eq!(
            parse(&args("--set")).unwrap_err(),
            "Error: flag needs an argument: --set"
        );
    }

    #[test]
    fn multi_cluster_settings_are_noted_and_revisions_named() {
        let r = parse(&args(
            "--set profile=ambient --set values.global.meshID=mesh1 -y",
        ))
        .unwrap();
        assert_eq!(
            r.notes,
            [
                "meshsim: --set values.global.meshID=mesh1 is accepted; meshsim simulates one cluster, so it changes nothing"
            ]
        );
        let canary = parse(&args("--set revision=1-27-1 -y")).unwrap();
        assert_eq!(canary.revision.as_deref(), Some("1-27-1"));
        assert_eq!(canary.istiod(), "istiod-1-27-1");
        let files: Vec<&str> = canary.documents().iter().map(|(f, _)| *f).collect();
        assert_eq!(
            files,
            ["profile/istiod.yaml"],
            "a revision installs only its istiod"
        );
        assert!(canary.documents()[0].1.contains("name: istiod-1-27-1\n"));
        assert_eq!(
            parse(&args("-r canary")).unwrap().revision.as_deref(),
            Some("canary")
        );
        assert!(
            parse(&args("--revision Canary"))
                .unwrap_err()
                .contains("DNS label")
        );
    }

    #[test]
    fn istio_operator_files_become_set_flags() {
        let iop = "apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec:\n  profile: ambient\n  components:\n    ingressGateways:\n    - name: istio-ingressgateway\n      enabled: true\n";
        let sets = operator_sets("iop.yaml", iop).unwrap();
        assert_eq!(
            sets,
            [
                "--set",
                "profile=ambient",
                "--set",
                "components.ingressGateways[0].name=istio-ingressgateway",
                "--set",
                "components.ingressGateways[0].enabled=true"
            ]
        );
        let r = parse(&sets).unwrap();
        assert_eq!(
            (r.profile, r.ingress_gateway),
            (Profile::Ambient, Some(true))
        );
        let sets = operator_sets(
            "iop.yaml",
            "kind: IstioOperator\nspec:\n  meshConfig:\n    accessLogFile: /dev/stdout\n",
        )
        .unwrap();
        assert_eq!(
            parse(&sets).unwrap().access_log_file.as_deref(),
            Some("/dev/stdout")
        );
        let err = operator_sets(
            "iop.yaml",
            "kind: IstioOperator\nspec:\n  meshConfig:\n    enableTracing: true\n",
        )
        .unwrap_err();
        assert!(
            err.contains("spec.meshConfig.enableTracing is not simulated"),
            "{err}"
        );
    }

    #[test]
    fn ambient_can_add_the_classic_ingress_gateway() {
        let r = parse(&args(
            "--set profile=ambient --set components.ingressGateways[0].enabled=true",
        ))
        .unwrap();
        let files: Vec<&str> = r.documents().iter().map(|(f, _)| *f).collect();
        assert!(files.contains(&"profile/ingressgateway.yaml"));
        assert!(files.contains(&"profile/ambient.yaml"));
        let r = parse(&args(
            "--set profile=demo --set components.egressGateways[0].enabled=false",
        ))
        .unwrap();
        assert!(!r.documents().iter().any(|(f, _)| f.contains("egress")));
    }
}
