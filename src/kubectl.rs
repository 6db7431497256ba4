//! The few `kubectl` verbs a lab types between requests, run on the user's
//! machine against the simulated cluster (`meshsim exec --from external --
//! kubectl …`), so a lab's sequence of commands replays in one world:
//!
//! - `kubectl apply -f FILE [-n NS]`: loaded and validated as `meshsim
//!   validate` does, then applied; prints `<kind>.<group>/<name> created`
//!   (or `configured`).
//! - `kubectl delete KIND NAME [-n NS]` for Istio's configuration kinds
//!   (plural, singular or short name: `authorizationpolicy`, `ap`, …);
//!   prints `<kind>.<group> "<name>" deleted`, or kubectl's NotFound error.
//!
//! The whole Kubernetes API, for the real kubectl, is `meshsim up`'s.

use crate::config::kinds::{KINDS, KindInfo};
use crate::exec::Exec;
use crate::world::World;

pub fn run(world: &mut World, args: &[String]) -> Exec {
    let (namespace, words) = match namespace_flag(args) {
        Ok(split) => split,
        Err(e) => return Exec::fail(e, 1),
    };
    match words.first().map(String::as_str) {
        Some("apply") => apply(world, &words[1..], namespace.as_deref()),
        Some("delete") => delete(
            world,
            &words[1..],
            namespace.as_deref().unwrap_or("default"),
        ),
        Some(other) => Exec::fail(
            format!(
                "error: meshsim's kubectl runs apply and delete, not {other:?}; `meshsim up` serves the real kubectl"
            ),
            1,
        ),
        None => Exec::fail("error: kubectl needs a command: apply or delete".into(), 1),
    }
}

/// Takes `-n NS` / `--namespace NS|=NS` out of the arguments.
fn namespace_flag(args: &[String]) -> Result<(Option<String>, Vec<String>), String> {
    let mut namespace = None;
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "-n" || a == "--namespace" {
            namespace = Some(
                it.next()
                    .ok_or("error: flag needs an argument: 'n' in -n")?
                    .clone(),
            );
        } else if let Some(ns) = a.strip_prefix("--namespace=") {
            namespace = Some(ns.to_string());
        } else {
            rest.push(a.clone());
        }
    }
    Ok((namespace, rest))
}

fn apply(world: &mut World, args: &[String], namespace: Option<&str>) -> Exec {
    let file = match args {
        [flag, file] if flag == "-f" || flag == "--filename" => file,
        _ => {
            return Exec::fail(
                "error: meshsim's kubectl applies one file: apply -f FILE".into(),
                1,
            );
        }
    };
    let loaded = crate::config::load_paths(&[file.into()], namespace);
    // kubectl says `created` for a new object, `configured` for one it
    // changed.
    let verbs: Vec<(String, &str)> = loaded
        .objects
        .iter()
        .map(|o| {
            (
                format!("{}/{}", resource(o.info), o.name()),
                if exists(world, o) {
                    "configured"
                } else {
                    "created"
                },
            )
        })
        .collect();
    let diagnostics = world.apply_loaded(loaded);
    world.settle();
    world.settle_push();
    let errors: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.severity == crate::config::Severity::Error)
        .map(ToString::to_string)
        .collect();
    if !errors.is_empty() {
        return Exec::fail(errors.join("\n"), 1);
    }
    let stdout: String = verbs
        .iter()
        .map(|(what, verb)| format!("{what} {verb}\n"))
        .collect();
    let jwks = crate::control::security::unreachable_jwks(&world.mesh.desired, &world.mesh.web)
        .into_iter()
        .filter(|d| d.file == file.as_str());
    let stderr: String = diagnostics
        .iter()
        .cloned()
        .chain(jwks)
        .map(|d| format!("{d}\n"))
        .collect();
    Exec {
        stdout: stdout.into_bytes(),
        stderr: stderr.into_bytes(),
        code: 0,
    }
}

/// Whether the cluster or istiod's store has `o` already.
fn exists(world: &World, o: &crate::config::Object) -> bool {
    let (ns, name) = (o.namespace(), o.name());
    let c = &world.cluster;
    let key = || (ns.to_string(), name.to_string());
    match o.kind() {
        "Namespace" => c.namespaces.contains_key(name),
        "ServiceAccount" => c.service_accounts.contains_key(&key()),
        "ConfigMap" => c.config_maps.contains_key(&key()),
        "Secret" => c.secrets.contains_key(&key()),
        "Service" => c
            .services
            .iter()
            .any(|s| s.namespace == ns && s.name == name),
        "Pod" => c.live_pods().any(|p| p.namespace == ns && p.name == name),
        "Deployment" | "DaemonSet" => c
            .workloads
            .iter()
            .any(|w| w.namespace == ns && w.name == name),
        kind => world.mesh.desired.get(kind, ns, name).is_some(),
    }
}

fn delete(world: &mut World, args: &[String], namespace: &str) -> Exec {
    let [kind, name] = args else {
        return Exec::fail(
            "error: meshsim's kubectl deletes one object: delete KIND NAME".into(),
            1,
        );
    };
    let Some(info) = KINDS.iter().find(|k| {
        !k.group.is_empty()
            && k.group != "apps"
            && (k.plural == kind.as_str()
                || k.kind.eq_ignore_ascii_case(kind)
                || k.short_names.contains(&kind.as_str()))
    }) else {
        return Exec::fail(
            format!(
                "error: the server doesn't have a resource type \"{kind}\" that meshsim's kubectl deletes"
            ),
            1,
        );
    };
    if world.delete_config(info.kind, namespace, name) {
        world.settle_push();
        Exec {
            stdout: format!("{} \"{name}\" deleted\n", resource(info)).into_bytes(),
            ..Exec::default()
        }
    } else {
        Exec::fail(
            format!(
                "Error from server (NotFound): {} \"{name}\" not found",
                resource(info)
            ),
            1,
        )
    }
}

/// `authorizationpolicy.security.istio.io`, as kubectl names a resource.
fn resource(info: &KindInfo) -> String {
    let kind = info.kind.to_ascii_lowercase();
    if info.group.is_empty() {
        kind
    } else {
        format!("{kind}.{}", info.group)
    }
}
