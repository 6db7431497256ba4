//! `istioctl proxy-config routes|clusters|endpoints|listeners
//! POD[.NAMESPACE] [-n NS] [-o short|json|yaml]`: what the pod's Envoy
//! holds, from the configuration the simulated data path uses, printed as
//! istioctl 1.27.9 prints it (`istioctl/pkg/proxyconfig/proxyconfig.go`:
//! the commands, their aliases and flags; tables through Go's tabwriter
//! with padding 5, listeners with padding 1; `-o json` through
//! `json.MarshalIndent` with four spaces, `-o yaml` through
//! `sigs.k8s.io/yaml`, each followed by `Println`'s newline).

mod clusters;
mod endpoints;
pub(super) mod envoy;
mod listeners;
mod routes;

use serde_json::Value;

use crate::exec::Exec;
use crate::world::World;

use envoy::{Proxy, Unreachable};

/// The four listings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Routes,
    Clusters,
    Endpoints,
    Listeners,
}

impl Kind {
    /// The subcommand for a name or alias (`route`, `routes`, `r`, …).
    pub fn parse(word: &str) -> Option<Kind> {
        Some(match word {
            "route" | "routes" | "r" => Kind::Routes,
            "cluster" | "clusters" | "c" => Kind::Clusters,
            "endpoint" | "endpoints" | "ep" => Kind::Endpoints,
            "listener" | "listeners" | "l" => Kind::Listeners,
            _ => return None,
        })
    }

    /// The command's name in its messages.
    fn command(self) -> &'static str {
        match self {
            Kind::Routes => "route",
            Kind::Clusters => "cluster",
            Kind::Endpoints => "endpoints",
            Kind::Listeners => "listener",
        }
    }

    /// The admin path istioctl asks the Envoy for.
    fn admin_path(self) -> &'static str {
        match self {
            Kind::Routes => "config_dump?mask=dynamic_route_configs,static_route_configs",
            Kind::Clusters => {
                "config_dump?mask=dynamic_active_clusters,dynamic_warming_clusters,static_clusters"
            }
            Kind::Endpoints => "clusters?format=json",
            Kind::Listeners => "config_dump?mask=dynamic_listeners,static_listeners",
        }
    }

    /// The flags the command defines beyond the shared ones.
    fn takes(self, flag: &str) -> bool {
        let own: &[&str] = match self {
            Kind::Routes => &["name", "verbose"],
            Kind::Clusters => &["fqdn", "direction", "subset", "port"],
            Kind::Endpoints => &["address", "port", "cluster", "status"],
            Kind::Listeners => &["address", "type", "port", "verbose", "waypoint"],
        };
        own.contains(&flag)
    }
}

/// The command line of one listing.
#[derive(Debug, Default, PartialEq)]
struct Flags {
    target: Option<String>,
    extra_args: usize,
    namespace: Option<String>,
    output: String,
    verbose: bool,
    name: String,
    port: u16,
    fqdn: String,
    subset: String,
    direction: String,
    address: String,
    kind: String,
    cluster: String,
    status: String,
}

/// Flags of the root and `proxy-config` commands, which every listing
/// takes (and meshsim has no use for).
const SHARED: &[&str] = &[
    "proxy-admin-port",
    "istioNamespace",
    "context",
    "kubeconfig",
    "vklog",
];

/// Parses `args` as cobra would for `kind`.
fn parse(kind: Kind, args: &[String]) -> Result<Flags, String> {
    let mut f = Flags {
        output: "short".into(),
        verbose: true,
        ..Flags::default()
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let Some(flag) = arg.strip_prefix('-') else {
            match f.target {
                None => f.target = Some(arg.clone()),
                Some(_) => f.extra_args += 1,
            }
            continue;
        };
        let (name, inline) = split_flag(flag);
        if (name == "verbose" || name == "waypoint") && kind.takes(name) {
            let on = inline.map_or(Ok(true), |v| parse_bool(v, name))?;
            if name == "verbose" {
                f.verbose = on;
            }
            continue;
        }
        let known = kind.takes(name)
            || SHARED.contains(&name)
            || matches!(name, "output" | "namespace" | "file");
        if !known {
            return Err(format!("unknown flag: {arg}"));
        }
        let value = match inline {
            Some(v) => v.to_string(),
            None => it
                .next()
                .cloned()
                .ok_or_else(|| format!("flag needs an argument: {arg}"))?,
        };
        set(&mut f, name, value)?;
    }
    Ok(f)
}

/// `--name=value`, `--name`, `-o`, `-ojson`, `-n ns` → (long name, value).
fn split_flag(flag: &str) -> (&str, Option<&str>) {
    if let Some(long) = flag.strip_prefix('-') {
        return match long.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (long, None),
        };
    }
    let (short, rest) = flag.split_at(flag.len().min(1));
    let rest = rest.strip_prefix('=').unwrap_or(rest);
    let long = match short {
        "o" => "output",
        "n" => "namespace",
        "i" => "istioNamespace",
        "c" => "kubeconfig",
        "f" => "file",
        other => other,
    };
    (long, Some(rest).filter(|r| !r.is_empty()))
}

fn parse_bool(v: &str, name: &str) -> Result<bool, String> {
    match v {
        "true" | "1" | "t" | "T" | "TRUE" | "True" => Ok(true),
        "false" | "0" | "f" | "F" | "FALSE" | "False" => Ok(false),
        _ => Err(format!(
            "invalid argument {v:?} for \"--{name}\" flag: strconv.ParseBool: parsing {v:?}: invalid syntax"
        )),
    }
}

fn set(f: &mut Flags, name: &str, value: String) -> Result<(), String> {
    match name {
        "output" => f.output = value,
        "namespace" => f.namespace = Some(value),
        "name" => f.name = value,
        "fqdn" => f.fqdn = value,
        "subset" => f.subset = value,
        "direction" => f.direction = value,
        "address" => f.address = value,
        "type" => f.kind = value,
        "cluster" => f.cluster = value,
        "status" => f.status = value,
        "port" => {
            f.port = value.parse().map_err(|_| {
                format!(
                    "invalid argument {value:?} for \"--port\" flag: strconv.ParseInt: parsing {value:?}: invalid syntax"
                )
            })?;
        }
        "file" => {
            return Err(
                "meshsim's istioctl reads the pod's Envoy; it has no config dump files".into(),
            );
        }
        _ => {} // shared flags meshsim has no use for
    }
    Ok(())
}

/// Runs one listing.
pub fn run(world: &mut World, kind: Kind, args: &[String]) -> Exec {
    match listing(world, kind, args) {
        Ok(stdout) => Exec {
            stdout: stdout.into_bytes(),
            ..Exec::default()
        },
        Err(e) => Exec::fail(format!("Error: {e}"), 1),
    }
}

fn listing(world: &mut World, kind: Kind, args: &[String]) -> Result<String, String> {
    let f = parse(kind, args)?;
    let target = match (&f.target, f.extra_args) {
        (Some(t), 0) => t.clone(),
        _ => {
            return Err(format!(
                "{} requires pod name or --file parameter",
                kind.command()
            ));
        }
    };
    if !matches!(f.output.as_str(), "short" | "json" | "yaml") {
        return Err(format!("output format {:?} not supported", f.output));
    }
    let ns = f.namespace.clone().unwrap_or_else(|| "default".into());
    let (name, ns, pod) = envoy::resolve(world, &target, &ns)?;
    let pod = envoy::reachability(world, pod).map_err(|why| unreachable(kind, &why, &name, &ns))?;
    let proxy = Proxy::of(world, pod)
        .ok_or_else(|| unreachable(kind, &Unreachable::NoProxy, &name, &ns))?;
    match kind {
        Kind::Routes => show_routes(world, &proxy, &f),
        Kind::Clusters => show_clusters(world, &proxy, &f),
        Kind::Endpoints => show_endpoints(world, &proxy, &f),
        Kind::Listeners => show_listeners(world, &proxy, &f),
    }
}

/// istioctl's error when the Envoy admin request fails
/// (`extractConfigDump`, or `setupPodClustersWriter` for endpoints).
fn unreachable(kind: Kind, why: &Unreachable, name: &str, ns: &str) -> String {
    let cause = envoy::unreachable_message(why, name, ns, kind.admin_path());
    match kind {
        Kind::Endpoints => format!("failed to execute command on Envoy: {cause}"),
        _ => format!("failed to execute command on {name}.{ns} sidecar: {cause}"),
    }
}

fn show_routes(world: &World, proxy: &Proxy, f: &Flags) -> Result<String, String> {
    let configs = routes::route_configs(world, proxy);
    match f.output.as_str() {
        "short" if f.verbose => Ok(super::tabwrite(&routes::table(&configs, &f.name), 5)),
        "short" => Ok(super::tabwrite(&routes::summary(&configs, &f.name), 5)),
        format => dump(&routes::json(&configs, &f.name), format),
    }
}

fn show_clusters(world: &World, proxy: &Proxy, f: &Flags) -> Result<String, String> {
    let list = clusters::clusters(world, proxy);
    let filter = clusters::Filter {
        fqdn: &f.fqdn,
        port: f.port,
        subset: &f.subset,
        direction: &f.direction,
    };
    match f.output.as_str() {
        "short" => Ok(super::tabwrite(&clusters::table(&list, &filter), 5)),
        format => dump(&clusters::json(&list, &filter), format),
    }
}

fn show_endpoints(world: &World, proxy: &Proxy, f: &Flags) -> Result<String, String> {
    let list = clusters::clusters(world, proxy);
    let rows = endpoints::endpoints(world, proxy.pod, &list);
    let filter = endpoints::Filter {
        address: &f.address,
        port: f.port,
        cluster: &f.cluster,
        status: &f.status,
    };
    match f.output.as_str() {
        "short" => Ok(super::tabwrite(&endpoints::table(&rows, &filter), 5)),
        format => dump(&endpoints::json(&rows, &list, &filter), format),
    }
}

fn show_listeners(world: &World, proxy: &Proxy, f: &Flags) -> Result<String, String> {
    let list = listeners::listeners(world, proxy);
    let filter = listeners::Filter {
        address: &f.address,
        port: f.port,
        kind: &f.kind,
    };
    match f.output.as_str() {
        "short" if f.verbose => Ok(super::tabwrite(&listeners::table(&list, &filter), 1)),
        "short" => Ok(super::tabwrite(&listeners::summary(&list, &filter), 1)),
        format => dump(&listeners::json(&list, &filter), format),
    }
}

/// `-o json` (four-space indent) or `-o yaml`, then `Println`'s newline.
fn dump(v: &Value, format: &str) -> Result<String, String> {
    if format == "yaml" {
        return Ok(super::go_yaml::to_yaml(v) + "\n");
    }
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    serde::Serialize::serialize(v, &mut ser).map_err(|e| e.to_string())?;
    String::from_utf8(out)
        .map(|s| s + "\n")
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests;
