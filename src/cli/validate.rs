//! `meshsim validate FILE|DIR...`: every problem in the manifests, one line
//! each, in the words a real cluster would use.

use std::path::PathBuf;

use serde::Serialize;

use crate::config::{Severity, load_paths};

use super::Output;

#[derive(clap::Args)]
pub struct Args {
    /// Manifest files or directories (their .yaml, .yml and .json files).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Namespace for objects that name none (like `kubectl apply -n`).
    #[arg(short, long)]
    namespace: Option<String>,
    #[arg(short, long, value_enum, default_value_t)]
    output: Output,
}

#[derive(Serialize)]
struct JsonDiagnostic {
    severity: String,
    file: String,
    line: u32,
    column: u32,
    document: Option<usize>,
    object: Option<String>,
    path: String,
    message: String,
}

#[derive(Serialize)]
struct JsonReport {
    objects: Vec<String>,
    diagnostics: Vec<JsonDiagnostic>,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let loaded = load_paths(&args.paths, args.namespace.as_deref());
    let errors = loaded.errors().count();
    let warnings = loaded.diagnostics.len() - errors;
    match args.output {
        Output::Text => {
            for d in &loaded.diagnostics {
                eprintln!("{d}");
            }
            if errors == 0 {
                outln!(
                    "{} object(s) valid{}",
                    loaded.objects.len(),
                    if warnings > 0 {
                        format!(", {warnings} warning(s)")
                    } else {
                        String::new()
                    }
                );
            } else {
                eprintln!("{errors} error(s), {warnings} warning(s)");
            }
        }
        Output::Json => {
            let report = JsonReport {
                objects: loaded.objects.iter().map(|o| o.describe()).collect(),
                diagnostics: loaded
                    .diagnostics
                    .iter()
                    .map(|d| JsonDiagnostic {
                        severity: d.severity.to_string(),
                        file: d.file.clone(),
                        line: d.loc.line,
                        column: d.loc.col,
                        document: d.document,
                        object: d.object.clone(),
                        path: d.path.clone(),
                        message: d.message.clone(),
                    })
                    .collect(),
            };
            outln!("{}", serde_json::to_string_pretty(&report)?);
        }
    }
    Ok(
        if loaded
            .diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
        {
            1
        } else {
            0
        },
    )
}
