//! The cluster `meshsim eval` and `meshsim route` build: the same flags,
//! the same diagnostics.

use std::path::PathBuf;

use crate::config::{Diagnostic, Severity};
use crate::k8s::PodId;
use crate::world::World;
use crate::world::probe::{ClientSpec, world_for, world_for_scenario};

#[derive(clap::Args)]
pub struct WorldArgs {
    /// Manifest files or directories.
    #[arg(short = 'f', long = "filename", required_unless_present = "scenario")]
    pub files: Vec<PathBuf>,
    /// A scenario file whose cluster, mesh, manifests and URLs to start
    /// from (its traffic and timeline are not run); `-f` files are applied
    /// after its manifests.
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Namespace for objects that name none (like `kubectl apply -n`).
    #[arg(short, long)]
    pub namespace: Option<String>,
    /// The run's seed (a `--scenario` brings its own).
    #[arg(long, default_value_t = 1, conflicts_with = "scenario")]
    pub seed: u64,
    /// `meshConfig.outboundTrafficPolicy.mode`: ALLOW_ANY or REGISTRY_ONLY.
    #[arg(long, default_value = "ALLOW_ANY", conflicts_with = "scenario")]
    pub outbound_traffic_policy: crate::dataplane::xds::OutboundPolicy,
    /// Serve FILE at URL (repeatable): a RequestAuthentication's `jwksUri`,
    /// a token for `curl`. Istio's sample JWT files are built in.
    #[arg(long = "url", value_name = "URL=FILE")]
    pub urls: Vec<String>,
}

impl WorldArgs {
    /// The settled cluster with a pod per client; its warnings printed. On
    /// errors, prints them and gives the exit code.
    pub fn build(&self, clients: &[ClientSpec]) -> Result<(World, Vec<PodId>), i32> {
        let mut web = crate::web::Web::default();
        for arg in &self.urls {
            if let Err(e) = web.add_file_arg(arg) {
                eprintln!("error: {e}");
                return Err(2);
            }
        }
        let built = match &self.scenario {
            Some(path) => match crate::scenario::load(path) {
                Ok(mut scenario) => {
                    scenario.manifests.extend(self.files.iter().map(|p| {
                        crate::scenario::Manifest {
                            source: crate::scenario::ManifestSource::File(p.clone()),
                            namespace: self.namespace.clone(),
                        }
                    }));
                    scenario.web.extend(web);
                    world_for_scenario(scenario, clients)
                }
                Err(diags) => Err(diags),
            },
            None => world_for(
                &self.files,
                self.namespace.as_deref(),
                clients,
                self.seed,
                self.outbound_traffic_policy,
                web,
            ),
        };
        match built {
            Ok((world, warnings, pods)) => {
                for w in warnings {
                    eprintln!("{w}");
                }
                Ok((world, pods))
            }
            Err(diags) => Err(print_diagnostics(&diags)),
        }
    }
}

/// Prints diagnostics, one line each; the exit code is 1 if any is an
/// error.
pub fn print_diagnostics(diags: &[Diagnostic]) -> i32 {
    for d in diags {
        eprintln!("{d}");
    }
    i32::from(diags.iter().any(|d| d.severity == Severity::Error))
}

/// `HOST[:PORT]`, optionally as an `http://` or `https://` URL (whose
/// scheme gives the default port: 80 or 443).
pub fn split_host_port(to: &str) -> Result<(String, u16), String> {
    let (to, default_port) = match to.strip_prefix("https://") {
        Some(rest) => (rest, 443),
        None => (to.strip_prefix("http://").unwrap_or(to), 80),
    };
    let to = to.trim_end_matches('/');
    match to.rsplit_once(':') {
        Some((h, p)) => p
            .parse()
            .map(|p| (h.to_string(), p))
            .map_err(|_| format!("invalid port in {to:?}")),
        None => Ok((to.to_string(), default_port)),
    }
}
