//! `meshsim jwt issue|jwks`: tokens and key sets for RequestAuthentication
//! labs without an identity provider (what Istio's `gen-jwt.py` does).
//!
//! Tokens are issued at the simulation's calendar epoch (2026-01-01 UTC,
//! where every run's clock starts) unless `--iat` says otherwise, so the
//! same command prints the same token and `--exp` counts on the virtual
//! clock a run uses.

use anyhow::Context as _;
use serde_json::Map;

use crate::issuer::{SigningKey, claim_value};
use crate::sim::SimDuration;
use crate::sim::time::EPOCH_UNIX_SECS;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Sign a token (RS256 for an RSA key, ES256 for a P-256 key).
    Issue(Issue),
    /// Print the JWKS that verifies a key's tokens.
    Jwks(Jwks),
}

#[derive(clap::Args)]
struct Issue {
    /// The private key, PEM (Istio's demo key:
    /// manifests/samples/jwt/key.pem).
    #[arg(long)]
    key: std::path::PathBuf,
    #[arg(long)]
    iss: String,
    #[arg(long)]
    sub: String,
    /// Audiences (repeatable).
    #[arg(long)]
    aud: Vec<String>,
    /// Lifetime from `iat`, e.g. `1h`, `90s` (default 1h, as gen-jwt.py).
    #[arg(long, default_value = "1h")]
    exp: String,
    /// Issued-at, Unix seconds (default: the simulation's epoch).
    #[arg(long)]
    iat: Option<u64>,
    /// Extra claims `NAME=VALUE` (repeatable); VALUE is JSON when it parses
    /// (`groups=["group1"]`), else a string.
    #[arg(long = "claim", value_name = "NAME=VALUE")]
    claims: Vec<String>,
}

#[derive(clap::Args)]
struct Jwks {
    /// The private key, PEM.
    #[arg(long)]
    key: std::path::PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    match args.command {
        Command::Issue(a) => issue(a),
        Command::Jwks(a) => {
            let key = read_key(&a.key)?;
            outln!("{}", serde_json::to_string_pretty(&key.jwks())?);
            Ok(0)
        }
    }
}

fn read_key(path: &std::path::Path) -> anyhow::Result<SigningKey> {
    let pem = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    SigningKey::from_pem(&pem).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

fn issue(a: Issue) -> anyhow::Result<i32> {
    let key = read_key(&a.key)?;
    let lifetime =
        SimDuration::parse(&a.exp).map_err(|e| anyhow::anyhow!("--exp {:?}: {e}", a.exp))?;
    let iat = a.iat.unwrap_or(EPOCH_UNIX_SECS);
    let mut claims = Map::new();
    claims.insert("iss".into(), a.iss.into());
    claims.insert("sub".into(), a.sub.into());
    match a.aud.as_slice() {
        [] => {}
        [one] => {
            claims.insert("aud".into(), one.clone().into());
        }
        many => {
            claims.insert("aud".into(), many.to_vec().into());
        }
    }
    claims.insert("iat".into(), iat.into());
    claims.insert(
        "exp".into(),
        (iat + lifetime.as_nanos() / 1_000_000_000).into(),
    );
    for c in &a.claims {
        let (name, value) = c
            .split_once('=')
            .filter(|(n, _)| !n.is_empty())
            .ok_or_else(|| anyhow::anyhow!("--claim wants NAME=VALUE, not {c:?}"))?;
        claims.insert(name.to_string(), claim_value(value));
    }
    let token = key
        .sign(&claims)
        .map_err(|e| anyhow::anyhow!("signing: {e}"))?;
    outln!("{token}");
    Ok(0)
}
