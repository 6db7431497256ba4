//! `meshsim route -f MANIFESTS... --from NS/WORKLOAD URL`: one request,
//! explained step by step — which proxy, route configuration, virtual host,
//! VirtualService rule (and why earlier ones did not match), cluster,
//! endpoint — and how it ended.

use serde::Serialize;

use crate::world::probe::{ProbeFrom, ProbeRequest, ProbeResult};

use super::Output;
use super::world_args::{WorldArgs, split_host_port};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    world: WorldArgs,
    /// Where the request starts: NS/WORKLOAD or NS/POD (through its
    /// sidecar), gateway:NS/NAME, or external.
    #[arg(long)]
    from: String,
    /// http://HOST:PORT/PATH
    url: String,
    #[arg(short = 'X', long = "request", default_value = "GET")]
    method: String,
    /// A header, `name: value`; repeatable.
    #[arg(short = 'H', long = "header")]
    headers: Vec<String>,
    #[arg(short, long, value_enum, default_value_t)]
    output: Output,
}

#[derive(Serialize)]
struct Explained {
    trace: Vec<String>,
    result: ProbeResult,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let (scheme, url) = match args.url.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), args.url.as_str()),
    };
    let (hostport, path) = match url.find('/') {
        Some(i) => (&url[..i], &url[i..]),
        None => (url, "/"),
    };
    let (host, port) =
        split_host_port(&format!("{scheme}{hostport}")).map_err(anyhow::Error::msg)?;
    let headers = args
        .headers
        .iter()
        .map(|h| {
            h.split_once(':')
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                .ok_or_else(|| anyhow::anyhow!("header {h:?} is not `name: value`"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (mut world, _) = match args.world.build(&[]) {
        Ok(w) => w,
        Err(code) => return Ok(code),
    };
    let from = if args.from == "external" {
        ProbeFrom::External
    } else if let Some(g) = args.from.strip_prefix("gateway:") {
        let (ns, name) = g
            .split_once('/')
            .ok_or_else(|| anyhow::anyhow!("--from gateway:NS/NAME"))?;
        ProbeFrom::Gateway(
            world
                .find_pod(ns, name)
                .filter(|pod| world.is_gateway(*pod))
                .ok_or_else(|| anyhow::anyhow!("no gateway workload {g}"))?,
        )
    } else {
        let (ns, name) = args.from.split_once('/').ok_or_else(|| {
            anyhow::anyhow!("--from must be NS/WORKLOAD, NS/POD, gateway:NS/NAME or external")
        })?;
        world.probe_source(
            world
                .find_pod(ns, name)
                .ok_or_else(|| anyhow::anyhow!("no pod or workload {}", args.from))?,
        )
    };
    let source = match &from {
        ProbeFrom::Pod(p) | ProbeFrom::Gateway(p) | ProbeFrom::Local(p) => {
            world.cluster.pod(*p).key()
        }
        ProbeFrom::External => "outside the cluster".to_string(),
    };
    let probe = ProbeRequest {
        from,
        host,
        port,
        method: args.method.clone(),
        path: path.to_string(),
        headers,
    };
    let (result, mut trace) = world.probe(&probe, true).map_err(anyhow::Error::msg)?;
    trace.insert(0, format!("{} {} from {source}", args.method, args.url));
    match args.output {
        Output::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&Explained { trace, result })?
        ),
        Output::Text => {
            for (i, line) in trace.iter().enumerate() {
                outln!("{:>2}. {line}", i + 1);
            }
            let outcome = match (&result.status, &result.error) {
                (Some(s), _) => format!("{s} (flags {})", result.flags),
                (None, Some(e)) => e.clone(),
                (None, None) => "no answer".to_string(),
            };
            outln!("=> {outcome} in {} ms", result.latency_ms);
            if let Some(pod) = &result.pod {
                outln!(
                    "   served by {pod} via {}",
                    if result.cluster.is_empty() {
                        "-"
                    } else {
                        &result.cluster
                    }
                );
            }
        }
    }
    Ok(0)
}
