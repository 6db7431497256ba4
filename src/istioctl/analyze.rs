//! `istioctl analyze` (Istio 1.27, `istioctl/pkg/analyze/analyze.go`) over
//! the simulated cluster: the analyzers istioctl runs against a live
//! cluster, their messages in istioctl's words and order, its output
//! formats, thresholds and exit codes.
//!
//! Sources (istio/istio at tag 1.27.9): the analyzers under
//! `pkg/config/analysis/analyzers/`, the catalogue
//! `pkg/config/analysis/msg/messages.yaml`, message rendering and order
//! `pkg/config/analysis/diag/{message,messages,level}.go`, the namespace
//! filter and ignored namespaces `pkg/config/analysis/local/istiod_analyze.go`,
//! the formats `istioctl/pkg/util/formatting/formatter.go`, exit codes
//! `istioctl/cmd/sysexits.go` (79 when analyzers found issues, 64 for a
//! usage error).
//!
//! Left out: files given as arguments (the client runs elsewhere; only the
//! cluster is analyzed), `--use-kube=false`, `-L`, `--meshConfigFile`,
//! `--revision`, `--analyzer`, multi-cluster, and the analyzers for kinds
//! or fields meshsim does not keep (webhooks, image checks, annotations,
//! Deployments' service associations, EnvoyFilter patches, mesh networks,
//! Telemetry providers, JWT claim routes, gateway certificates,
//! conflicting Gateways, ServiceEntry addresses).

mod message;
mod output;
mod schema;
mod services;
mod snapshot;
mod virtual_service;
mod workloads;

use crate::exec::Exec;
use crate::world::World;

use message::{CONFIG_ANALYSIS_URL, Level, Message};
use snapshot::Snapshot;

/// `ExitAnalyzerFoundIssues`.
const EXIT_ISSUES: i32 = 79;
/// `ExitIncorrectUsage`: flag and argument errors.
const EXIT_USAGE: i32 = 64;

/// Runs `istioctl analyze ARGS` against the world's cluster.
pub fn analyze(world: &World, args: &[String]) -> Exec {
    let flags = match Flags::parse(args) {
        Ok(f) => f,
        Err(e) => return Exec::fail(format!("Error: {e}"), EXIT_USAGE),
    };
    if !flags.files.is_empty() {
        return Exec::fail(
            format!(
                "Error: meshsim's istioctl analyze reads the cluster only, not files ({}); apply them and analyze again",
                flags.files.join(", ")
            ),
            1,
        );
    }
    let namespace = flags.namespace.as_deref().unwrap_or("default");
    if !world.cluster.namespaces.contains_key(namespace) {
        // istioctl says so and succeeds.
        let shown = flags.namespace.as_deref().unwrap_or("");
        return Exec {
            stderr: format!("namespace {} not found\n", crate::go::quote(shown)).into_bytes(),
            ..Exec::default()
        };
    }
    let suppress: Vec<(String, String)> =
        match flags.suppress.iter().map(|v| suppression(v)).collect() {
            Ok(list) => list,
            Err(e) => return Exec::fail(format!("Error: {e}"), 1),
        };
    let scope = (!flags.all_namespaces).then_some(namespace);
    let messages = run(world, scope, &suppress);
    render(&flags, scope, &messages)
}

/// Every analyzer's messages for resources in `scope` (all namespaces
/// when `None`), suppressions applied (the resource's own annotation,
/// then `-S`), sorted and deduplicated.
fn run(world: &World, scope: Option<&str>, suppress: &[(String, String)]) -> Vec<Message> {
    let s = Snapshot::new(world);
    let mut all = Vec::new();
    virtual_service::run(&s, &mut all);
    workloads::run(&s, &mut all);
    services::run(&s, &mut all);
    schema::run(&s, &mut all);
    let kept = all.into_iter().filter(|m| {
        let in_scope = scope.is_none_or(|ns| m.origin.scope().is_empty() || m.origin.scope() == ns);
        in_scope && !m.origin.suppresses(m.code) && !suppressed(m, suppress)
    });
    message::sorted_deduped(kept.collect())
}

/// `-S CODE=RESOURCE`: RESOURCE globs the friendly name `Kind ns/name`
/// (the help's `Kind name.ns` examples predate that form), `*` matching
/// any run.
fn suppressed(m: &Message, suppress: &[(String, String)]) -> bool {
    suppress
        .iter()
        .any(|(code, glob)| code == m.code && glob_match(glob, &m.origin.friendly_name()))
}

/// `ryanuber/go-glob`: `*` matches any run of characters.
fn glob_match(pattern: &str, s: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !s.starts_with(first) || !s.ends_with(last) || s.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &s[first.len()..s.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

/// What istioctl prints: the messages at or above the output threshold
/// on stdout (a line even when there are none), the all-clear on stderr,
/// and in `log` format the failure when a message reaches the failure
/// threshold.
fn render(flags: &Flags, scope: Option<&str>, messages: &[Message]) -> Exec {
    let target = match scope {
        Some(ns) => format!("namespace: {ns}"),
        None => "all namespaces".to_string(),
    };
    let shown: Vec<Message> = messages
        .iter()
        .filter(|m| m.level.at_least(flags.output_threshold))
        .cloned()
        .collect();
    let mut stdout = match flags.format {
        Format::Log => output::log(&shown),
        Format::Json => output::json(&shown),
        Format::Yaml => output::yaml(&shown),
    };
    stdout.push('\n');
    let mut stderr = String::new();
    if shown.is_empty() {
        stderr.push_str(&format!(
            "\u{2714} No validation issues found when analyzing {target}.\n"
        ));
    }
    let failed = flags.format == Format::Log
        && messages
            .iter()
            .any(|m| m.level.at_least(flags.failure_threshold));
    if failed {
        stderr.push_str(&format!(
            "Error: Analyzers found issues when analyzing {target}.\nSee {CONFIG_ANALYSIS_URL} for more information about causes and resolutions.\n"
        ));
    }
    Exec {
        stdout: stdout.into_bytes(),
        stderr: stderr.into_bytes(),
        code: if failed { EXIT_ISSUES } else { 0 },
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Log,
    Json,
    Yaml,
}

/// The flags of `istioctl analyze` meshsim honours; the others are
/// accepted and ignored where they change nothing here.
#[derive(Debug)]
struct Flags {
    namespace: Option<String>,
    all_namespaces: bool,
    format: Format,
    failure_threshold: Level,
    output_threshold: Level,
    /// `-S` values, checked once the namespace is known to exist.
    suppress: Vec<String>,
    files: Vec<String>,
}

impl Flags {
    /// pflag's forms: `-n NS`, `-nNS`, `--namespace NS`, `--namespace=NS`,
    /// `-A`, `--all-namespaces[=true|false]`.
    fn parse(args: &[String]) -> Result<Flags, String> {
        let mut f = Flags {
            namespace: None,
            all_namespaces: false,
            format: Format::Log,
            failure_threshold: Level::Error,
            output_threshold: Level::Info,
            suppress: Vec::new(),
            files: Vec::new(),
        };
        let mut format = "log".to_string();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let (name, inline) = split_flag(arg);
            let mut value = || -> Result<String, String> {
                match &inline {
                    Some(v) => Ok(v.clone()),
                    None => it.next().cloned().ok_or_else(|| {
                        format!("flag needs an argument: {}", flag_display(arg, name))
                    }),
                }
            };
            match name {
                "n" | "namespace" => f.namespace = Some(value()?),
                "o" | "output" => format = value()?,
                "failure-threshold" => f.failure_threshold = threshold(&value()?, name)?,
                "output-threshold" => f.output_threshold = threshold(&value()?, name)?,
                "S" | "suppress" => f.suppress.push(value()?),
                "A" | "all-namespaces" => f.all_namespaces = boolean(inline.as_deref(), name)?,
                "color" | "v" | "verbose" | "k" | "use-kube" | "ignore-unknown" => {
                    boolean(inline.as_deref(), name)?;
                }
                "timeout" | "r" | "revision" | "context" | "kubeconfig" | "c" | "i"
                | "istioNamespace" => {
                    value()?;
                }
                "" => f.files.push(arg.clone()),
                _ if arg.starts_with("--") => return Err(format!("unknown flag: --{name}")),
                _ => return Err(format!("unknown shorthand flag: '{name}' in {arg}")),
            }
        }
        f.format = match format.to_ascii_lowercase().as_str() {
            "log" => Format::Log,
            "json" => Format::Json,
            "yaml" => Format::Yaml,
            other => {
                return Err(format!(
                    "{other} not a valid option for format. See istioctl analyze --help"
                ));
            }
        };
        Ok(f)
    }
}

/// `--name=value` → (`name`, Some(`value`)); `-nNS` → (`n`, Some(`NS`));
/// a positional argument (or `-`) → (``, None).
fn split_flag(arg: &str) -> (&str, Option<String>) {
    if let Some(long) = arg.strip_prefix("--") {
        return match long.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (long, None),
        };
    }
    match arg.strip_prefix('-') {
        Some(short) if !short.is_empty() => {
            let (name, rest) = short.split_at(short.chars().next().map_or(0, char::len_utf8));
            let rest = rest.strip_prefix('=').unwrap_or(rest);
            (name, (!rest.is_empty()).then(|| rest.to_string()))
        }
        _ => ("", None),
    }
}

fn flag_display(arg: &str, name: &str) -> String {
    if arg.starts_with("--") {
        format!("--{name}")
    } else {
        format!("'{name}' in -{name}")
    }
}

/// A pflag boolean: bare, or `=true`/`=false`.
fn boolean(inline: Option<&str>, name: &str) -> Result<bool, String> {
    match inline {
        None | Some("true" | "1" | "t" | "T" | "TRUE" | "True") => Ok(true),
        Some("false" | "0" | "f" | "F" | "FALSE" | "False") => Ok(false),
        Some(v) => Err(format!(
            "invalid argument {} for \"--{name}\" flag: strconv.ParseBool: parsing {}: invalid syntax",
            crate::go::quote(v),
            crate::go::quote(v)
        )),
    }
}

fn threshold(v: &str, name: &str) -> Result<Level, String> {
    Level::parse(v).ok_or_else(|| {
        format!(
            "invalid argument {} for \"--{name}\" flag: invalid level option",
            crate::go::quote(v)
        )
    })
}

/// `CODE=RESOURCE`.
fn suppression(v: &str) -> Result<(String, String), String> {
    match v.split('=').collect::<Vec<_>>()[..] {
        [code, resource] => Ok((code.to_string(), resource.to_string())),
        _ => Err(format!(
            "{v} is not a valid suppression value. See istioctl analyze --help"
        )),
    }
}

#[cfg(test)]
mod tests;
