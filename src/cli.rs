//! The `meshsim` command line. Thin: parse arguments, call the library,
//! print, choose the exit code (0 fine, 1 a problem with the input or the
//! run, 2 a problem with the command line).

/// `println!` to stdout that returns a closed pipe (`meshsim eval | head`)
/// as an error for `main` to end quietly on, instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}

/// `print!` with [`outln!`]'s handling of a closed pipe.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*)?
    }};
}

pub mod bench;
pub mod eval;
pub mod exec;
pub mod jwt;
pub mod route;
pub mod run;
pub mod up;
pub mod validate;
pub mod world_args;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "meshsim",
    version,
    about = "An Istio service mesh and its Kubernetes cluster, simulated deterministically in one process"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Output {
    #[default]
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and print what its traffic saw.
    Run(run::Args),
    /// Check manifests as a real cluster would, reporting every problem.
    Validate(validate::Args),
    /// Measure the simulator's speed on a fixed, sizable scenario.
    Bench(bench::Args),
    /// Send a batch of single requests and print each outcome as JSON.
    Eval(eval::Args),
    /// Explain, step by step, how one request is routed.
    Route(route::Args),
    /// Run a command in a pod (fortio, curl, pilot-agent), as kubectl exec.
    Exec(exec::Args),
    /// Issue JWTs and print JWKS for RequestAuthentication labs.
    Jwt(jwt::Args),
    /// Start a cluster the real kubectl can drive (an API server on loopback).
    Up(up::UpArgs),
    /// Stop a cluster started with `meshsim up`.
    Down(up::DownArgs),
    /// Say whether a cluster runs, where, and at what virtual time.
    Status(up::NameArgs),
    /// Print the shell lines that point kubectl and istioctl at a cluster:
    /// eval "$(meshsim shell-env)".
    ShellEnv(up::NameArgs),
    /// meshsim's istioctl, run against the cluster KUBECONFIG names.
    Istioctl(up::IstioctlArgs),
    /// Internal: write a bundled web page for the kubectl shell function.
    #[command(hide = true)]
    WebFile(up::WebFileArgs),
}

/// Parses the command line and runs the command; returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Route(args) => route::run(args),
        Command::Exec(args) => exec::run(args),
        Command::Jwt(args) => jwt::run(args),
        Command::Up(args) => up::up(args),
        Command::Down(args) => up::down(args),
        Command::Status(args) => up::status(args),
        Command::ShellEnv(args) => up::shell_env(args),
        Command::Istioctl(args) => up::istioctl(args),
        Command::WebFile(args) => up::web_file(args),
    };
    match result {
        Ok(code) => code,
        // Whoever read the output stopped reading: nothing left to say.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            0
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}

/// clap's errors are several lines of usage; a mistyped flag deserves one
/// line that says what was wrong and where to look.
fn usage_error(e: clap::Error) -> i32 {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                2
            } else {
                0
            }
        }
        _ => {
            let text = e.render().to_string();
            let mut lines = text.lines();
            let mut first = lines
                .next()
                .unwrap_or("error: invalid arguments")
                .to_string();
            // "…were not provided:" lists the arguments on the lines below.
            if first.ends_with(':') {
                let listed: Vec<&str> = lines
                    .take_while(|l| l.starts_with("  "))
                    .map(str::trim)
                    .collect();
                first = format!("{first} {}", listed.join(", "));
            }
            eprintln!("{first} (see 'meshsim --help')");
            2
        }
    }
}
