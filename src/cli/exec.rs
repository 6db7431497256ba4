//! `meshsim exec -f MANIFESTS --from NS/WORKLOAD [-c CONTAINER] -- CMD…`:
//! runs commands in a pod of the settled cluster, as `kubectl exec` would
//! (see [`crate::exec`]). Several commands separated by a `;` word run one
//! after another on the same cluster and clock, so a load test can be
//! followed by a look at the proxy's stats.

use std::io::Write as _;

use super::world_args::WorldArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    world: WorldArgs,
    /// The pod to run in: NS/POD or NS/WORKLOAD (its first pod), or
    /// `external` for the user's own machine (requests go through the
    /// ingress gateway).
    #[arg(long)]
    from: String,
    /// The container (default: the pod's first; `istio-proxy` for the
    /// sidecar).
    #[arg(short = 'c', long)]
    container: Option<String>,
    /// The command and its arguments, after `--`; `;` separates commands,
    /// and a command may start with `-c CONTAINER` of its own.
    #[arg(last = true, required = true)]
    command: Vec<String>,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let target = match args.from.as_str() {
        "external" => None,
        from => {
            let (ns, name) = from.split_once('/').ok_or_else(|| {
                anyhow::anyhow!("--from must be NS/POD, NS/WORKLOAD or external, not {from:?}")
            })?;
            Some((ns, name.strip_prefix("deploy/").unwrap_or(name)))
        }
    };
    let (mut world, _) = match args.world.build(&[]) {
        Ok(w) => w,
        Err(code) => return Ok(code),
    };
    let pod = match target {
        Some((ns, name)) => Some(
            world
                .find_pod(ns, name)
                .ok_or_else(|| anyhow::anyhow!("no pod or workload {ns}/{name}"))?,
        ),
        None => None,
    };
    let mut code = 0;
    for command in args.command.split(|w| w == ";").filter(|c| !c.is_empty()) {
        let (container, command) = match command {
            [flag, c, rest @ ..] if flag == "-c" => (Some(c.as_str()), rest),
            _ => (args.container.as_deref(), command),
        };
        let out = match pod {
            Some(pod) => crate::exec::exec(&mut world, pod, container, command),
            None => crate::exec::exec_outside(&mut world, command),
        };
        std::io::stdout().lock().write_all(&out.stdout)?;
        std::io::stderr().lock().write_all(&out.stderr)?;
        code = out.code;
    }
    Ok(code)
}
