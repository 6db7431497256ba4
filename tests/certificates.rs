//! Workload certificates as a user inspects them, with real clients:
//! `istioctl proxy-config secret POD -o json` gives the PEM that the real
//! `openssl` reads (SPIFFE URI SAN, 24 h validity, chained to istiod's
//! root or to a plugged-in CA), and certificates expire on the virtual
//! clock when istiod is gone long enough.
//!
//! Istio facts (`../shared/facts/istio-envoy.md` §4): 24 h workload TTL
//! (`SECRET_TTL`), NotBefore two minutes early (`ClockSkewGracePeriod`,
//! `generate_cert.go`), renewal at half life (`SECRET_GRACE_PERIOD_RATIO`
//! 0.5), self-signed root `O=cluster.local` for 10 years; with `cacerts`
//! the chain is leaf + `cert-chain.pem` + `root-cert.pem`
//! (`security/pkg/server/ca/server.go`).

use std::io::Write as _;
use std::process::Command;

use base64::Engine as _;
use meshsim::dataplane::xds::OutboundPolicy;
use meshsim::exec::exec_outside;
use meshsim::scenario::{Manifest, ManifestSource};
use meshsim::sim::SimDuration;
use meshsim::world::World;
use meshsim::world::probe::{ProbeFrom, ProbeRequest, ProbeResult, world_from};

fn world(extra: &[&str]) -> World {
    let mut manifests = vec![
        Manifest {
            source: ManifestSource::File("manifests/samples/httpbin.yaml".into()),
            namespace: None,
        },
        Manifest {
            source: ManifestSource::File("manifests/samples/curl.yaml".into()),
            namespace: None,
        },
    ];
    manifests.extend(extra.iter().map(|f| Manifest {
        source: ManifestSource::File((*f).into()),
        namespace: None,
    }));
    match world_from(manifests, &[], 9, OutboundPolicy::AllowAny) {
        Ok((w, _, _)) => w,
        Err(d) => panic!("{d:?}"),
    }
}

fn istioctl(w: &mut World, line: &str) -> String {
    let words: Vec<String> = line.split(' ').map(String::from).collect();
    let out = exec_outside(w, &words);
    assert_eq!(out.code, 0, "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// `jq -r '.dynamicActiveSecrets[N].secret…inlineBytes' | base64 -d`.
fn secret_pem(dump: &str, index: usize, path: &[&str]) -> String {
    let v: serde_json::Value = serde_json::from_str(dump).unwrap();
    let mut at = &v["dynamicActiveSecrets"][index]["secret"];
    for p in path {
        at = &at[*p];
    }
    let b64 = at["inlineBytes"].as_str().expect("inlineBytes");
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
    )
    .unwrap()
}

fn chain_and_root(w: &mut World, target: &str) -> (String, String) {
    let dump = istioctl(w, &format!("istioctl proxy-config secret {target} -o json"));
    (
        secret_pem(&dump, 0, &["tlsCertificate", "certificateChain"]),
        secret_pem(&dump, 1, &["validationContext", "trustedCa"]),
    )
}

fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("meshsim-certs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    path
}

/// The real `openssl`, which must be installed (`.ci/run` installs it).
fn openssl(args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl is installed");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `openssl x509 -in FILE -noout -text`.
fn openssl_text(file: &std::path::Path) -> String {
    openssl(&["x509", "-in", file.to_str().unwrap(), "-noout", "-text"])
}

/// `openssl verify -attime NOW -CAfile ROOT [-untrusted CHAIN] CERT` says OK
/// at the simulation's time.
fn assert_verifies(w: &World, root: &str, untrusted: Option<&str>, cert: &std::path::Path) {
    let at = w.now_unix().to_string();
    let mut args = vec!["verify", "-attime", &at, "-CAfile", root];
    if let Some(u) = untrusted {
        args.extend(["-untrusted", u]);
    }
    args.push(cert.to_str().unwrap());
    let verified = openssl(&args);
    assert!(verified.trim_end().ends_with(": OK"), "{verified}");
}

/// `Jan  2 00:00:03 2026 GMT` → Unix seconds (openssl's date format).
fn openssl_time(text: &str) -> u64 {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let parts: Vec<&str> = text.split_whitespace().collect();
    let month = MONTHS.iter().position(|m| *m == parts[0]).unwrap() as i64 + 1;
    let day: i64 = parts[1].parse().unwrap();
    let hms: Vec<i64> = parts[2].split(':').map(|x| x.parse().unwrap()).collect();
    let year: i64 = parts[3].parse().unwrap();
    // days_from_civil.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    (days * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2]) as u64
}

#[test]
fn openssl_reads_the_spiffe_id_and_a_24_hour_validity() {
    let mut w = world(&[]);
    let (chain, root) = chain_and_root(&mut w, "deploy/httpbin");
    let chain_file = temp_file("httpbin-chain.pem", &chain);
    let text = openssl_text(&chain_file);
    assert!(
        text.contains("X509v3 Subject Alternative Name: critical"),
        "{text}"
    );
    assert!(
        text.contains("URI:spiffe://cluster.local/ns/default/sa/httpbin"),
        "{text}"
    );
    assert!(text.contains("Issuer: O = cluster.local"), "{text}");
    assert!(text.contains("Public-Key: (2048 bit)"), "{text}");
    assert!(text.contains("CA:FALSE"), "{text}");
    let dates = openssl(&[
        "x509",
        "-in",
        chain_file.to_str().unwrap(),
        "-noout",
        "-dates",
    ]);
    let field = |name: &str| {
        let line = dates.lines().find(|l| l.starts_with(name)).unwrap();
        openssl_time(line.split_once('=').unwrap().1)
    };
    let (not_before, not_after) = (field("notBefore"), field("notAfter"));
    assert_eq!(not_after - not_before, 24 * 3600 + 120, "{dates}");
    // Issued when the proxy started, on the simulation's calendar.
    assert!(not_before + 120 <= w.now_unix() && w.now_unix() < not_after);
    // The chain verifies against the root the proxy trusts, at the
    // simulation's time.
    let root_file = temp_file("root.pem", &root);
    assert_verifies(&w, root_file.to_str().unwrap(), None, &chain_file);
    let root_text = openssl_text(&root_file);
    assert!(
        root_text.contains("Subject: O = cluster.local"),
        "{root_text}"
    );
    assert!(root_text.contains("CA:TRUE"), "{root_text}");
}

#[test]
fn the_secret_table_has_istioctls_columns() {
    let mut w = world(&[]);
    let table = istioctl(&mut w, "istioctl proxy-config secret deploy/curl");
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0],
        "RESOURCE NAME     TYPE           STATUS     VALID CERT     SERIAL NUMBER                        NOT AFTER                NOT BEFORE"
    );
    let row = |l: &str| l.split_whitespace().map(String::from).collect::<Vec<_>>();
    let default = row(lines[1]);
    assert_eq!(
        &default[..5],
        ["default", "Cert", "Chain", "ACTIVE", "true"]
    );
    let root = row(lines[2]);
    assert_eq!(&root[..4], ["ROOTCA", "CA", "ACTIVE", "true"]);
    assert_eq!(root[5], "2035-12-30T00:00:00Z", "ten years of root");
    // The same run prints the same certificates.
    let again = istioctl(
        &mut world(&[]),
        "istioctl proxy-config secret deploy/curl -o json",
    );
    assert_eq!(
        again,
        istioctl(&mut w, "istioctl proxy-config secret deploy/curl -o json")
    );
}

#[test]
fn a_plugged_in_ca_signs_the_workload_certificates() {
    let mut w = world(&["tests/fixtures/cacerts/cacerts.yaml"]);
    let (chain, root) = chain_and_root(&mut w, "deploy/httpbin");
    assert_eq!(
        chain.matches("BEGIN CERTIFICATE").count(),
        4,
        "leaf, intermediate, root, root"
    );
    let fixture = |f: &str| std::fs::read_to_string(format!("tests/fixtures/cacerts/{f}")).unwrap();
    assert_eq!(root.trim(), fixture("root-cert.pem").trim());
    let leaf = &chain[..chain.find("-----END CERTIFICATE-----").unwrap() + 26];
    let leaf_file = temp_file("plugged-leaf.pem", leaf);
    let text = openssl_text(&leaf_file);
    assert!(
        text.contains("Issuer: O = Istio, CN = Intermediate CA, L = cluster1"),
        "{text}"
    );
    assert!(text.contains("URI:spiffe://cluster.local/ns/default/sa/httpbin"));
    assert_verifies(
        &w,
        "tests/fixtures/cacerts/root-cert.pem",
        Some("tests/fixtures/cacerts/ca-cert.pem"),
        &leaf_file,
    );
    // Traffic still flows over mTLS.
    assert_eq!(get(&mut w).status, Some(200));
}

/// `kubectl exec deploy/curl -- curl -s http://httpbin:8000/get`.
fn get(w: &mut World) -> ProbeResult {
    let curl = w.find_pod("default", "curl").unwrap();
    let p = ProbeRequest {
        from: ProbeFrom::Pod(curl),
        host: "httpbin".to_string(),
        port: 8000,
        method: "GET".to_string(),
        path: "/get".to_string(),
        headers: Vec::new(),
    };
    w.probe(&p, false).unwrap().0
}

/// istiod's Deployment (the profile's) scaled to `replicas`.
fn scale_istiod(w: &mut World, replicas: u32) {
    let yaml = include_str!("../src/control/profiles/istiod.yaml")
        .replace("replicas: 1", &format!("replicas: {replicas}"));
    let loaded = meshsim::config::load_str("istiod.yaml", &yaml, None);
    for obj in loaded.objects.iter().filter(|o| o.kind() == "Deployment") {
        w.apply(obj).unwrap();
    }
}

/// With every istiod replica gone, proxies keep their certificates and
/// traffic flows until they expire (24 h after issue); then the mTLS
/// handshake fails (the client's sidecar answers 503 after its two
/// connect-failure retries). When istiod returns, the proxies' next
/// retries get new certificates and traffic flows again.
#[test]
fn certificates_expire_while_istiod_is_down_and_renew_when_it_returns() {
    let mut w = world(&[]);
    assert_eq!(get(&mut w).status, Some(200));
    scale_istiod(&mut w, 0);
    w.advance_by(SimDuration::from_secs(13 * 3600));
    assert!(!w.istiod_serving());
    // Past the renewal point, still within the certificate's life.
    assert_eq!(get(&mut w).status, Some(200));
    w.advance_by(SimDuration::from_secs(12 * 3600));
    let r = get(&mut w);
    assert_eq!((r.status, r.flags.as_str()), (Some(503), "UF,URX"), "{r:?}");
    assert!(r.body.contains("CERTIFICATE_VERIFY_FAILED"), "{}", r.body);
    scale_istiod(&mut w, 1);
    w.advance_by(SimDuration::from_secs(10 * 60));
    assert!(w.istiod_serving());
    assert_eq!(get(&mut w).status, Some(200));
    let table = istioctl(&mut w, "istioctl proxy-config secret deploy/curl");
    assert!(
        table.lines().nth(1).unwrap().contains("ACTIVE     true"),
        "{table}"
    );
}
