//! meshsim's `istioctl`, run on the user's machine against the simulated
//! cluster (`meshsim exec --from external -- istioctl …`). So far:
//!
//! - `istioctl proxy-config secret POD[.NS] [-n NS] [-o short|json]`
//!   (alias `pc`): the proxy's SDS secrets as Envoy's config dump holds
//!   them (`istioctl/pkg/writer/compare/sds`): the table with istioctl's
//!   columns, or the `dynamicActiveSecrets` JSON whose `inlineBytes` are
//!   the real PEM certificates (base64), which `openssl x509` reads.
//! - `istioctl proxy-config routes|clusters|endpoints|listeners` (see
//!   [`proxy_config`]) and `istioctl proxy-status` (see [`proxy_status`]).

pub mod analyze;
pub mod describe;
pub(crate) mod go_yaml;
pub mod install;
pub mod proxy_config;
pub mod proxy_status;
pub mod remote;
pub mod validate;
pub mod waypoint;
pub mod ztunnel_config;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::control::ca::WorkloadCert;
use crate::exec::Exec;
use crate::sim::time::rfc3339;
use crate::world::World;

/// Runs `istioctl ARGS`.
pub fn run(world: &mut World, args: &[String]) -> Exec {
    match args.first().map(String::as_str) {
        Some("analyze") => analyze::analyze(world, &args[1..]),
        Some("proxy-config" | "pc") => proxy_config(world, &args[1..]),
        Some("proxy-status" | "ps") => proxy_status::run(world, &args[1..]),
        Some("ztunnel-config" | "zc") => ztunnel_config::run(world, &args[1..]),
        Some("x" | "experimental") if args.get(1).is_some_and(|a| a == "describe") => {
            describe::run(world, &args[2..], &describe::LbIps::new())
        }
        Some(other) => Exec::fail(
            format!(
                "Error: unknown command \"{other}\" for \"istioctl\"\nmeshsim's istioctl has: analyze, proxy-config, proxy-status, ztunnel-config, x describe"
            ),
            1,
        ),
        None => Exec::fail(
            "Usage: istioctl proxy-config secret|routes|clusters|endpoints|listeners POD[.NAMESPACE]".into(),
            1,
        ),
    }
}

/// The flags `proxy-config` takes, and its one positional argument.
struct Flags<'a> {
    target: Option<&'a str>,
    namespace: Option<&'a str>,
    output: &'a str,
}

fn flags(args: &[String]) -> Result<Flags<'_>, String> {
    let mut f = Flags {
        target: None,
        namespace: None,
        output: "short",
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .map(String::as_str)
                .ok_or_else(|| format!("Error: flag needs an argument: {name}"))
        };
        match a.as_str() {
            "-n" | "--namespace" => f.namespace = Some(value(a)?),
            "-o" | "--output" => f.output = value(a)?,
            s if s.starts_with("--namespace=") => f.namespace = Some(&s[12..]),
            s if s.starts_with("--output=") => f.output = &s[9..],
            s if s.starts_with("-o") && s.len() > 2 => f.output = &s[2..],
            s if s.starts_with('-') => return Err(format!("Error: unknown flag: {s}")),
            s if f.target.is_none() => f.target = Some(s),
            s => return Err(format!("Error: unexpected argument {s:?}")),
        }
    }
    Ok(f)
}

fn proxy_config(world: &mut World, args: &[String]) -> Exec {
    match args.first().map(String::as_str) {
        Some("secret" | "secrets" | "s") => match secret(world, &args[1..]) {
            Ok(out) => out,
            Err(e) => Exec::fail(e, 1),
        },
        Some(other) => match proxy_config::Kind::parse(other) {
            Some(kind) => proxy_config::run(world, kind, &args[1..]),
            None => Exec::fail(
                format!(
                    "Error: unknown command \"{other}\" for \"istioctl proxy-config\"\nmeshsim's istioctl proxy-config has: clusters, endpoints, listeners, routes, secret"
                ),
                1,
            ),
        },
        None => Exec::fail(
            "Error: proxy-config needs a command: clusters, endpoints, listeners, routes, secret"
                .into(),
            1,
        ),
    }
}

/// `istioctl proxy-config secret`.
fn secret(world: &mut World, args: &[String]) -> Result<Exec, String> {
    let f = flags(args)?;
    let target = f
        .target
        .ok_or("Error: secret requires pod name or --file parameter")?;
    let (name, ns) = match target
        .strip_prefix("deploy/")
        .or_else(|| target.strip_prefix("deployment/"))
    {
        Some(workload) => (workload, f.namespace.unwrap_or("default")),
        None => match target.split_once('.') {
            Some((pod, ns)) => (pod, ns),
            None => (target, f.namespace.unwrap_or("default")),
        },
    };
    let pod = world
        .find_pod(ns, name)
        .ok_or_else(|| format!("Error: pods \"{name}\" not found"))?;
    let Some(cert) = world.proxy_cert(pod).cloned() else {
        return Err(format!(
            "Error: {name}.{ns} has no Envoy proxy with secrets (no sidecar, or istiod has not signed its certificate)"
        ));
    };
    let stdout = match f.output {
        "json" => json_dump(world, &cert)?,
        "short" => table(world, &cert)?,
        other => {
            return Err(format!(
                "Error: unknown output format {other:?} (meshsim's istioctl prints short or json)"
            ));
        }
    };
    Ok(Exec {
        stdout: stdout.into_bytes(),
        ..Exec::default()
    })
}

/// The table istioctl prints: one row for the workload chain, one for the
/// root, columns padded as Go's tabwriter with padding 5.
fn table(world: &mut World, cert: &WorkloadCert) -> Result<String, String> {
    let now = world.now_unix();
    let root = read_cert(&world.ca()?.root_pem()?)?;
    let valid = |nb: u64, na: u64| (nb..=na).contains(&now).to_string();
    let rows = vec![
        vec![
            "RESOURCE NAME".to_string(),
            "TYPE".into(),
            "STATUS".into(),
            "VALID CERT".into(),
            "SERIAL NUMBER".into(),
            "NOT AFTER".into(),
            "NOT BEFORE".into(),
        ],
        vec![
            "default".to_string(),
            "Cert Chain".into(),
            "ACTIVE".into(),
            cert.valid_at(now).to_string(),
            format!("{:x}", cert.serial),
            rfc3339(cert.not_after),
            rfc3339(cert.not_before),
        ],
        vec![
            "ROOTCA".to_string(),
            "CA".into(),
            "ACTIVE".into(),
            valid(root.not_before, root.not_after),
            root.serial,
            rfc3339(root.not_after),
            rfc3339(root.not_before),
        ],
    ];
    Ok(tabwrite(&rows, 5))
}

/// The secrets part of Envoy's config dump, as istioctl prints it with
/// `-o json` (4-space indent; the private key redacted as Envoy does).
fn json_dump(world: &mut World, cert: &WorkloadCert) -> Result<String, String> {
    let secrets = world.ca()?.pem(cert)?;
    let issued = rfc3339(cert.not_before + crate::control::ca::BACKDATE_SECS);
    let updated = issued.replace('Z', ".000Z");
    let entry = |name: &str, body: Value| {
        let mut secret = json!({
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret",
            "name": name,
        });
        if let (Value::Object(s), Value::Object(b)) = (&mut secret, body) {
            s.extend(b);
        }
        json!({
            "name": name,
            "versionInfo": issued,
            "lastUpdated": updated,
            "secret": secret,
        })
    };
    let dump = json!({
        "dynamicActiveSecrets": [
            entry("default", json!({
                "tlsCertificate": {
                    "certificateChain": {"inlineBytes": STANDARD.encode(&secrets.chain)},
                    "privateKey": {"inlineBytes": STANDARD.encode("[redacted]")}
                }
            })),
            entry("ROOTCA", json!({
                "validationContext": {
                    "trustedCa": {"inlineBytes": STANDARD.encode(&secrets.root)}
                }
            })),
        ]
    });
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    serde::Serialize::serialize(&dump, &mut ser).map_err(|e| e.to_string())?;
    let mut text = String::from_utf8(out).map_err(|e| e.to_string())?;
    text.push('\n');
    Ok(text)
}

/// What the table shows of a PEM certificate.
struct CertInfo {
    serial: String,
    not_before: u64,
    not_after: u64,
}

fn read_cert(pem: &str) -> Result<CertInfo, String> {
    use x509_parser::prelude::*;
    let (_, block) = parse_x509_pem(pem.as_bytes()).map_err(|e| e.to_string())?;
    let cert = block.parse_x509().map_err(|e| e.to_string())?;
    let secs = |t: ASN1Time| u64::try_from(t.timestamp()).unwrap_or(0);
    Ok(CertInfo {
        serial: cert.serial.to_str_radix(16),
        not_before: secs(cert.validity().not_before),
        not_after: secs(cert.validity().not_after),
    })
}

/// Go's `text/tabwriter` with minwidth 0 and `padding` spaces: every cell
/// but a line's last is padded to its column's width plus `padding`.
pub fn tabwrite(rows: &[Vec<String>], padding: usize) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        for (c, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if c + 1 < row.len() {
                let pad = widths[c] + padding - cell.chars().count();
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabwriter_pads_all_but_the_last_column() {
        let rows = vec![
            vec!["A".to_string(), "BB".to_string(), "C".to_string()],
            vec!["long".to_string(), "x".to_string(), "y".to_string()],
        ];
        assert_eq!(tabwrite(&rows, 5), "A        BB     C\nlong     x      y\n");
    }
}
