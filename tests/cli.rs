//! The command line as a user meets it: exit codes, one line per problem
//! with file and line, never a panic or a backtrace.

use std::process::{Command, Output};

fn meshsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meshsim"))
        .args(args)
        .output()
        .expect("meshsim runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn broken_manifests_get_one_located_line_each_and_exit_1() {
    let out = meshsim(&["validate", "tests/fixtures/broken"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("tests/fixtures/broken/indentation.yaml:")
                && l.contains("invalid YAML")),
        "{err}"
    );
    assert!(
        lines.iter().any(
            |l| l.starts_with("tests/fixtures/broken/unknown-kind.yaml:3:7: error:")
                && l.contains("no matches for kind \"Deploymint\"")
        ),
        "{err}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("tests/fixtures/broken/replicas.yaml:")
                && l.contains("spec.replicas: expected integer, got string \"two\"")),
        "{err}"
    );
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
}

#[test]
fn several_problems_in_one_file_are_all_reported() {
    let out = meshsim(&["validate", "tests/fixtures/broken/replicas.yaml"]);
    let err = stderr(&out);
    // replicas: two, an unknown field and a label that is not a string.
    assert_eq!(
        err.lines().filter(|l| l.contains(": error: ")).count(),
        3,
        "{err}"
    );
}

#[test]
fn the_shipped_manifests_are_valid() {
    let out = meshsim(&["validate", "manifests/bookinfo", "manifests/samples"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn a_missing_file_is_named() {
    let out = meshsim(&["validate", "no-such.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).lines().next(),
        Some("no-such.yaml: error: the path \"no-such.yaml\" does not exist")
    );
    let out = meshsim(&["run", "no-such-scenario.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("no-such-scenario.yaml: error: cannot read scenario"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_unknown_flag_is_one_line_and_exit_2() {
    let out = meshsim(&["run", "scenarios/bookinfo.yaml", "--sed", "7"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--sed"), "{err}");
}

#[test]
fn json_validation_output_is_machine_readable() {
    let out = meshsim(&[
        "validate",
        "-o",
        "json",
        "tests/fixtures/broken/replicas.yaml",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let first = &v["diagnostics"][0];
    assert_eq!(first["severity"], "error");
    assert!(first["line"].as_u64().unwrap() > 0);
}

/// A reader that stops early (`meshsim run … | head -1`) closes the pipe:
/// meshsim ends quietly instead of panicking on the failed write.
#[test]
fn a_closed_stdout_ends_quietly() {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_meshsim"))
        .args(["run", "scenarios/mm1.yaml"])
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("meshsim runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}
