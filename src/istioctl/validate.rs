//! `istioctl validate -f FILE…` (Istio 1.27, `istioctl/pkg/validate/validate.go`):
//! istiod's validation of the Istio objects in files, plus istioctl's own
//! checks of Services' port names and Deployments' telemetry labels. It
//! needs no cluster, so the client runs it where the files are.
//!
//! What istioctl prints, all on stderr: `"FILE" is valid` per file, or
//! `"FILE" has warnings: ` and a bulleted list; on errors the
//! go-multierror list after cobra's `Error: `, exit 1 (64 for arguments).
//! The per-object messages are meshsim's validation (istiod's webhook
//! texts; CRD schema problems in the apiserver's words where istioctl
//! would print its proto decoder's), prefixed `Kind/namespace/name:` with
//! the namespace as written. Left out: `List` documents and
//! IstioOperator files.

use std::path::Path;

use serde_json::Value;

use crate::config::diag::Severity;
use crate::config::kinds::lookup;
use crate::exec::Exec;

/// `url.DeploymentRequirements` and `url.ProtocolSelection` for 1.27.
const REQUIREMENTS_URL: &str = "https://istio.io/v1.27/docs/ops/deployment/requirements/";
const PROTOCOL_SELECTION_URL: &str =
    "https://istio.io/v1.27/docs/ops/configuration/traffic-management/protocol-selection/";

const MISSING_FILENAME: &str = "error: you must specify resources by --filename.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'";

/// One input: a file's name and text, or why it could not be read.
enum Input {
    File { name: String, text: String },
    Unreadable(String),
}

/// Validates files already read: `(name, content)`, name `-` for stdin.
pub fn validate(texts: &[(String, String)]) -> Exec {
    let inputs = texts
        .iter()
        .map(|(name, text)| Input::File {
            name: name.clone(),
            text: text.clone(),
        })
        .collect();
    report(inputs)
}

/// Runs `istioctl validate ARGS` on this machine: `-f`/`--filename`
/// (repeatable, comma-separated) names files, directories (walked for
/// `.yaml`, `.yml`, `.json`) or `-` for standard input.
pub fn run_local(args: &[String]) -> Exec {
    let names = match filenames(args) {
        Ok(names) => names,
        Err(e) => return Exec::fail(format!("Error: {e}"), 64),
    };
    if names.is_empty() {
        return Exec::fail(format!("Error: {MISSING_FILENAME}"), 1);
    }
    let mut inputs = Vec::new();
    for name in names {
        read(&name, &mut inputs);
    }
    report(inputs)
}

/// The `-f` values. `-n` is refused: meshsim validates objects that name
/// no namespace in `default`, as istioctl does without it.
fn filenames(args: &[String]) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let value = match arg.as_str() {
            "-f" | "--filename" => it.next().cloned().ok_or_else(|| {
                format!(
                    "flag needs an argument: {}",
                    if arg == "-f" {
                        "'f' in -f"
                    } else {
                        "--filename"
                    }
                )
            })?,
            a if a.starts_with("--filename=") => a["--filename=".len()..].to_string(),
            a if a.starts_with("-f") => a[2..].trim_start_matches('=').to_string(),
            "-x" | "--referential" => continue,
            a if a.starts_with('-') && a != "-" => return Err(format!("unknown flag: {a}")),
            a => return Err(format!("unknown command {a:?} for \"istioctl validate\"")),
        };
        names.extend(value.split(',').map(str::to_string));
    }
    Ok(names)
}

/// Reads one `-f` value: stdin, a file, or every manifest file under a
/// directory in lexical order (`filepath.Walk`).
fn read(name: &str, inputs: &mut Vec<Input>) {
    if name == "-" {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut std::io::stdin(), &mut text);
        inputs.push(Input::File {
            name: name.to_string(),
            text,
        });
        return;
    }
    let path = Path::new(name);
    if !path.exists() {
        let e = format!(
            "cannot stat file {}: stat {name}: no such file or directory",
            quote(name)
        );
        inputs.push(Input::Unreadable(e));
    } else if path.is_dir() {
        for file in walk(path) {
            read_file(&file.display().to_string(), inputs);
        }
    } else {
        read_file(name, inputs);
    }
}

fn read_file(name: &str, inputs: &mut Vec<Input>) {
    match std::fs::read_to_string(name) {
        Ok(text) => inputs.push(Input::File {
            name: name.to_string(),
            text,
        }),
        Err(e) => inputs.push(Input::Unreadable(format!(
            "cannot read file {}: {e}",
            quote(name)
        ))),
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    entries.sort();
    let mut files = Vec::new();
    for p in entries {
        if p.is_dir() {
            files.extend(walk(&p));
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        {
            files.push(p);
        }
    }
    files
}

/// What one file gave: errors and warnings, each `Kind/ns/name: message`,
/// and the Deployment notes istioctl writes as it goes.
#[derive(Default)]
struct Checked {
    errors: Vec<String>,
    warnings: Vec<String>,
    notes: String,
}

/// Validates the inputs and prints as `validateFiles` does.
fn report(inputs: Vec<Input>) -> Exec {
    let mut errors = Vec::new();
    let mut notes = String::new();
    let mut files = Vec::new();
    for input in inputs {
        match input {
            Input::Unreadable(e) => errors.push(e),
            Input::File { name, text } => {
                let c = check(&name, &text);
                errors.extend(c.errors);
                notes.push_str(&c.notes);
                files.push((name, c.warnings));
            }
        }
    }
    let mut stderr = notes;
    for (name, warnings) in &files {
        if !warnings.is_empty() {
            if name == "-" {
                stderr.push_str(&bullets(warnings));
            } else {
                stderr.push_str(&format!(
                    "{} has warnings: {}\n",
                    quote(name),
                    bullets(warnings)
                ));
            }
        } else if errors.is_empty() {
            if name == "-" {
                stderr.push_str("validation succeed\n");
            } else {
                stderr.push_str(&format!("{} is valid\n", quote(name)));
            }
        }
    }
    if errors.is_empty() {
        return Exec {
            stderr: stderr.into_bytes(),
            ..Exec::default()
        };
    }
    stderr.push_str(&format!("Error: {}\n", multierror(&errors)));
    Exec {
        stderr: stderr.into_bytes(),
        code: 1,
        ..Exec::default()
    }
}

/// `warningToString`: `\n\t* a\n\t* b\n`.
fn bullets(items: &[String]) -> String {
    let points: Vec<String> = items.iter().map(|w| format!("* {w}")).collect();
    format!("\n\t{}\n", points.join("\n\t"))
}

/// go-multierror's `ListFormatFunc`.
fn multierror(errors: &[String]) -> String {
    if let [one] = errors {
        return format!("1 error occurred:\n\t* {one}\n\n");
    }
    let points: Vec<String> = errors.iter().map(|e| format!("* {e}")).collect();
    format!(
        "{} errors occurred:\n\t{}\n\n",
        errors.len(),
        points.join("\n\t")
    )
}

fn quote(s: &str) -> String {
    crate::go::quote(s)
}

/// `validateFile`: each document in turn; a document that does not parse
/// ends the file.
fn check(name: &str, text: &str) -> Checked {
    let mut c = Checked::default();
    let loaded = crate::config::load_str(name, text, None);
    let (docs, syntax) = crate::yaml::parse_documents(text);
    for doc in &docs {
        let number = doc.index + 1;
        let root = doc.root.to_json();
        let kind = root["kind"].as_str().unwrap_or("");
        let api_version = root["apiVersion"].as_str().unwrap_or("");
        let meta = &root["metadata"];
        let ns = meta["namespace"].as_str().unwrap_or("");
        let prefix = format!("{kind}/{ns}/{}:", meta["name"].as_str().unwrap_or(""));
        let istio = lookup(api_version, kind).is_some_and(|k| k.group.ends_with("istio.io"));
        if istio {
            for d in loaded
                .diagnostics
                .iter()
                .filter(|d| d.document == Some(number))
            {
                let line = format!("{prefix} {}", d.message);
                match d.severity {
                    Severity::Error => c.errors.push(line),
                    Severity::Warning => c.warnings.push(line),
                }
            }
        } else if kind == "Service" && ns != "istio-system" {
            let problems = service_port_problems(&root, ns);
            c.errors
                .extend(problems.into_iter().map(|p| format!("{prefix} {p}")));
        } else if kind == "Deployment" && ns != "istio-system" {
            c.notes.push_str(&deployment_note(&root, ns));
        }
    }
    if let Some(e) = syntax {
        c.errors
            .push(format!("failed to decode file {name}:  {}", e.message));
    }
    c
}

/// `validateServicePortPrefix`: each non-UDP port needs a protocol from
/// its `appProtocol` or its name's prefix.
fn service_port_problems(svc: &Value, ns: &str) -> Vec<String> {
    let id = quote(&format!(
        "{}/{ns}/:",
        svc["metadata"]["name"].as_str().unwrap_or("")
    ));
    let ports = svc["spec"]["ports"].as_array().cloned().unwrap_or_default();
    let mut problems = Vec::new();
    for p in &ports {
        if p["protocol"]
            .as_str()
            .is_some_and(|v| v.eq_ignore_ascii_case("UDP"))
        {
            continue;
        }
        if let Some(ap) = p["appProtocol"].as_str() {
            if !known_protocol(ap) {
                problems.push(format!("service {id} doesn't follow Istio protocol selection. This is not recommended, See {PROTOCOL_SELECTION_URL}"));
            }
        } else if let Some(name) = p["name"].as_str() {
            if !known_protocol(name.split('-').next().unwrap_or(name)) {
                problems.push(format!("service {id} port {} does not follow the Istio naming convention. See {REQUIREMENTS_URL}", quote(name)));
            }
        } else {
            problems.push(format!(
                "service {id} has an unnamed port. This is not recommended, See {REQUIREMENTS_URL}"
            ));
        }
    }
    problems
}

/// `protocol.Parse` knows the name (its `DoubleHBONE` case never matches
/// a lower-cased name).
pub(super) fn known_protocol(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "tcp"
            | "udp"
            | "grpc"
            | "grpc-web"
            | "http"
            | "http_proxy"
            | "http2"
            | "https"
            | "tls"
            | "mongo"
            | "redis"
            | "mysql"
    )
}

/// `validateDeploymentLabel`: a pod template without a canonical service
/// name and revision label gets a note (not an error).
fn deployment_note(deploy: &Value, ns: &str) -> String {
    let labels = deploy["spec"]["template"]["metadata"]["labels"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let has = |keys: [&str; 3]| keys.iter().any(|k| labels.contains_key(*k));
    let name_ok = has([
        "service.istio.io/canonical-name",
        "app.kubernetes.io/name",
        "app",
    ]);
    let rev_ok = has([
        "service.istio.io/canonical-revision",
        "app.kubernetes.io/version",
        "version",
    ]);
    if name_ok && rev_ok {
        return String::new();
    }
    let mut pairs: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
        .collect();
    pairs.sort();
    let map: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}:{}", quote(k), quote(v)))
        .collect();
    let id = quote(&format!(
        "{}/{ns}:",
        deploy["metadata"]["name"].as_str().unwrap_or("")
    ));
    format!(
        "deployment {id} may not provide Istio metrics and telemetry labels: map[{}]. See {REQUIREMENTS_URL}\n",
        map.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::validate;
    use test_case::test_case;

    fn run(files: &[(&str, &str)]) -> (String, i32) {
        let texts: Vec<(String, String)> = files
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        let out = validate(&texts);
        assert!(out.stdout.is_empty());
        (String::from_utf8_lossy(&out.stderr).into_owned(), out.code)
    }

    const GATEWAY: &str = "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: bookinfo-gateway\nspec:\n  selector:\n    istio: ingressgateway\n  servers:\n  - port:\n      number: 8080\n      name: http\n      protocol: HTTP\n    hosts:\n    - \"*\"\n";

    const SHADOWED: &str = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\n  namespace: default\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews}\n  - route:\n    - destination: {host: reviews, subset: v2}\n";

    #[test]
    fn a_valid_file_is_named_valid() {
        // validate.go: `fmt.Fprintf(writer, "%q is valid\n", fname)`, writer
        // being stderr (`c.OutOrStderr()`).
        assert_eq!(
            run(&[("gw.yaml", GATEWAY)]),
            ("\"gw.yaml\" is valid\n".into(), 0)
        );
        assert_eq!(run(&[("-", GATEWAY)]), ("validation succeed\n".into(), 0));
    }

    #[test]
    fn warnings_are_listed_under_the_file() {
        let (out, code) = run(&[("vs.yaml", SHADOWED)]);
        assert_eq!(code, 0);
        assert_eq!(
            out,
            "\"vs.yaml\" has warnings: \n\t* VirtualService/default/reviews: virtualService rule #1 not used (only the last rule can have no matches)\n\n"
        );
    }

    #[test_case("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: bad\nspec:\n  hosts: [reviews]\n",
        "Error: 1 error occurred:\n\t* VirtualService//bad: http, tcp or tls must be provided in virtual service\n\n\n"; "istiod rule, namespace as written")]
    #[test_case("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - name: web\n    port: 80\n  - port: 81\n",
        "Error: 2 errors occurred:\n\t* Service//web: service \"web//:\" port \"web\" does not follow the Istio naming convention. See https://istio.io/v1.27/docs/ops/deployment/requirements/\n\t* Service//web: service \"web//:\" has an unnamed port. This is not recommended, See https://istio.io/v1.27/docs/ops/deployment/requirements/\n\n\n"; "service port names")]
    fn errors_fail_with_go_multierror(text: &str, want: &str) {
        assert_eq!(run(&[("x.yaml", text)]), (want.to_string(), 1));
    }

    #[test]
    fn deployments_without_telemetry_labels_get_a_note() {
        let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  selector:\n    matchLabels: {run: web}\n  template:\n    metadata:\n      labels: {run: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx\n";
        assert_eq!(
            run(&[("d.yaml", deploy)]).0,
            "deployment \"web/shop:\" may not provide Istio metrics and telemetry labels: map[\"run\":\"web\"]. See https://istio.io/v1.27/docs/ops/deployment/requirements/\n\"d.yaml\" is valid\n"
        );
    }
}
