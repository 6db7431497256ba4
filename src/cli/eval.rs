//! `meshsim eval -f MANIFESTS... --requests REQS.yaml`: a batch of single
//! requests through a cluster built from the manifests, one JSON object
//! each. The output is a public contract (docs/eval.md): fields are added,
//! never renamed.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::Diagnostic;
use crate::world::World;
use crate::world::probe::{ClientSpec, ProbeFrom, ProbeRequest, ProbeResult};

use super::world_args::{WorldArgs, print_diagnostics, split_host_port};
use crate::yaml::{from_node, parse_documents};

use super::Output;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    world: WorldArgs,
    /// The requests to send (a YAML list; see docs/eval.md).
    #[arg(long)]
    requests: PathBuf,
    #[arg(short, long, value_enum, default_value_t = Output::Json)]
    output: Output,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
struct RequestDoc {
    from: FromDoc,
    to: String,
    method: Option<String>,
    path: Option<String>,
    headers: BTreeMap<String, String>,
    count: Option<u32>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct FromDoc {
    namespace: Option<String>,
    service_account: Option<String>,
    labels: BTreeMap<String, String>,
    mesh: Option<bool>,
    dataplane: Option<String>,
    pod: Option<String>,
    gateway: Option<String>,
    external: Option<bool>,
}

/// One item's result: its probe's or, when repeated, the first probe with the
/// most frequent status and cluster, with the counts.
#[derive(Serialize)]
struct Item {
    #[serde(flatten)]
    first: ProbeResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    clusters: Option<BTreeMap<String, u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    statuses: Option<BTreeMap<String, u64>>,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let requests = match read_requests(&args.requests) {
        Ok(r) => r,
        Err(diags) => return Ok(print_diagnostics(&diags)),
    };
    let clients = client_specs(&requests);
    let (mut world, client_pods) = match args.world.build(&clients) {
        Ok(w) => w,
        Err(code) => return Ok(code),
    };
    let mut items = Vec::new();
    for (i, r) in requests.iter().enumerate() {
        let from = match resolve_from(&world, &r.from, &clients, &client_pods) {
            Ok(f) => f,
            Err(e) => anyhow::bail!("{}: request {i}: {e}", args.requests.display()),
        };
        let (host, port) = split_host_port(&r.to)
            .map_err(|e| anyhow::anyhow!("{}: request {i}: {e}", args.requests.display()))?;
        let probe = ProbeRequest {
            from,
            host,
            port,
            method: r.method.clone().unwrap_or_else(|| "GET".to_string()),
            path: r.path.clone().unwrap_or_else(|| "/".to_string()),
            headers: r
                .headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                .collect(),
        };
        items.push(run_item(&mut world, &probe, r.count.unwrap_or(1)).map_err(anyhow::Error::msg)?);
    }
    match args.output {
        Output::Json => outln!("{}", serde_json::to_string_pretty(&items)?),
        Output::Text => {
            for (i, item) in items.iter().enumerate() {
                let p = &item.first;
                outln!(
                    "{i}: {} {} cluster={} pod={}",
                    p.status
                        .map_or_else(|| p.error.clone().unwrap_or_default(), |s| s.to_string()),
                    p.flags,
                    if p.cluster.is_empty() {
                        "-"
                    } else {
                        &p.cluster
                    },
                    p.pod.as_deref().unwrap_or("-")
                );
            }
        }
    }
    Ok(0)
}

fn run_item(world: &mut World, probe: &ProbeRequest, count: u32) -> Result<Item, String> {
    let mut clusters: BTreeMap<String, u64> = BTreeMap::new();
    let mut statuses: BTreeMap<String, u64> = BTreeMap::new();
    // The first result of each (status, cluster), so the one shown is a
    // request that really happened.
    let mut firsts: BTreeMap<(String, String), ProbeResult> = BTreeMap::new();
    for _ in 0..count.max(1) {
        let (r, _) = world.probe(probe, false)?;
        let status = r
            .status
            .map_or_else(|| "null".to_string(), |s| s.to_string());
        *clusters.entry(r.cluster.clone()).or_default() += 1;
        *statuses.entry(status.clone()).or_default() += 1;
        firsts.entry((status, r.cluster.clone())).or_insert(r);
    }
    if count <= 1 {
        let first = firsts.into_values().next().expect("one probe ran");
        return Ok(Item {
            first,
            clusters: None,
            statuses: None,
        });
    }
    let (status, _) = most_frequent(&statuses).expect("probes ran");
    let (cluster, _) = most_frequent(&clusters).expect("probes ran");
    let mut first = match firsts.remove(&(status.clone(), cluster.clone())) {
        Some(r) => r,
        None => firsts
            .into_iter()
            .find(|((s, _), _)| *s == status)
            .map(|(_, r)| r)
            .expect("the most frequent status was seen"),
    };
    first.cluster = cluster;
    Ok(Item {
        first,
        clusters: Some(clusters),
        statuses: Some(statuses),
    })
}

/// The most frequent key; ties go to the smallest key.
fn most_frequent(m: &BTreeMap<String, u64>) -> Option<(String, u64)> {
    m.iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(k, v)| (k.clone(), *v))
}

fn read_requests(path: &PathBuf) -> Result<Vec<RequestDoc>, Vec<Diagnostic>> {
    let file = path.display().to_string();
    let diag = |loc, p: String, message: String| Diagnostic {
        severity: crate::config::Severity::Error,
        file: file.clone(),
        loc,
        document: None,
        object: None,
        path: p,
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![diag(
            Default::default(),
            String::new(),
            format!("cannot read requests: {e}"),
        )]
    })?;
    let (docs, syntax) = parse_documents(&text);
    if let Some(e) = syntax {
        return Err(vec![diag(
            e.loc,
            String::new(),
            format!("invalid YAML: {}", e.message),
        )]);
    }
    let Some(doc) = docs.into_iter().find(|d| !d.root.is_null()) else {
        return Ok(Vec::new());
    };
    let requests: Vec<RequestDoc> = from_node(&doc.root).map_err(|ps| {
        ps.into_iter()
            .map(|p| diag(p.loc, p.path, p.message))
            .collect::<Vec<_>>()
    })?;
    let mut errors = Vec::new();
    for (i, r) in requests.iter().enumerate() {
        let loc = doc.root.locate(&[crate::yaml::node::PathSeg::Index(i)]);
        if r.to.is_empty() {
            errors.push(diag(
                loc,
                format!("[{i}].to"),
                "Required value: HOST:PORT".to_string(),
            ));
        }
        let f = &r.from;
        let kinds = [
            f.pod.is_some(),
            f.gateway.is_some(),
            f.external == Some(true),
            f.namespace.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            errors.push(diag(
                loc,
                format!("[{i}].from"),
                "give exactly one of namespace (with serviceAccount, labels, mesh, dataplane), pod, gateway or external: true".to_string(),
            ));
        }
        if let Some(d) = &f.dataplane
            && d != "sidecar"
            && d != "ambient"
        {
            errors.push(diag(
                loc,
                format!("[{i}].from.dataplane"),
                format!("Unsupported value: {d:?}: supported values: \"sidecar\", \"ambient\""),
            ));
        }
    }
    if errors.is_empty() {
        Ok(requests)
    } else {
        Err(errors)
    }
}

/// One client pod per distinct namespace-style `from`. An ambient client
/// has no sidecar: without a waypoint, ambient applies no L7 routing on
/// the client side.
fn client_specs(requests: &[RequestDoc]) -> Vec<ClientSpec> {
    let mut specs: Vec<ClientSpec> = Vec::new();
    for r in requests {
        if let Some(spec) = client_spec(&r.from)
            && !specs.contains(&spec)
        {
            specs.push(spec);
        }
    }
    specs
}

fn client_spec(f: &FromDoc) -> Option<ClientSpec> {
    let namespace = f.namespace.clone()?;
    let mesh = match f.dataplane.as_deref() {
        Some("ambient") => Some(false),
        _ => f.mesh,
    };
    Some(ClientSpec {
        namespace,
        service_account: f.service_account.clone(),
        labels: f.labels.clone(),
        mesh,
    })
}

/// Where a request starts, as a probe source.
pub fn resolve_from(
    world: &World,
    f: &FromDoc,
    clients: &[ClientSpec],
    pods: &[crate::k8s::PodId],
) -> Result<ProbeFrom, String> {
    if f.external == Some(true) {
        return Ok(ProbeFrom::External);
    }
    if let Some(p) = &f.pod {
        let (ns, name) = p
            .split_once('/')
            .ok_or_else(|| format!("pod must be namespace/name, got {p:?}"))?;
        return world
            .find_pod(ns, name)
            .map(|pod| world.probe_source(pod))
            .ok_or_else(|| format!("no pod or workload {p}"));
    }
    if let Some(g) = &f.gateway {
        let (ns, name) = g
            .split_once('/')
            .ok_or_else(|| format!("gateway must be namespace/name, got {g:?}"))?;
        return world
            .find_pod(ns, name)
            .filter(|pod| world.is_gateway(*pod))
            .map(ProbeFrom::Gateway)
            .ok_or_else(|| format!("no gateway workload {g}"));
    }
    let spec = client_spec(f).ok_or("no source given")?;
    let i = clients
        .iter()
        .position(|c| *c == spec)
        .ok_or("unknown client")?;
    Ok(ProbeFrom::Pod(pods[i]))
}
