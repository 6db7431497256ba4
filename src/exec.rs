//! Commands run inside a pod's container, the way `kubectl exec POD -c C
//! -- CMD` runs them: the clients the labs use (`fortio load`, `curl`),
//! Envoy's admin stats through `pilot-agent` in the `istio-proxy`
//! container, and pipes into `grep`, `head` and `wc -l`. Requests leave
//! through the pod's sidecar exactly as simulated traffic does, on the
//! world's virtual clock.

use crate::apps::Failure;
use crate::apps::http::reason_phrase;
use crate::clients::{curl, fortio};
use crate::k8s::PodId;
use crate::sim::SimDuration;
use crate::sim::time::http_date;
use crate::world::{PROXY_CONTAINER, World};

mod shell;
use crate::world::flow::Dialled;
use crate::world::load::{LoadOutcome, LoadPlan, LoadSpec, Shot};
use crate::world::probe::{ProbeFrom, ProbeRequest, ProbeResult};

/// What a command printed, and its exit code.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Exec {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub code: i32,
}

impl Exec {
    pub fn fail(message: String, code: i32) -> Exec {
        Exec {
            stdout: Vec::new(),
            stderr: format!("{message}\n").into_bytes(),
            code,
        }
    }
}

/// fortio's `GOMAXPROCS`: the CPUs of the node it runs on (kind nodes on
/// an 8-core machine, as in Istio's published task output).
const GOMAXPROCS: u32 = 8;

/// How long fortio's connection to its own sidecar takes (loopback, via
/// iptables redirect).
const LOCAL_CONNECT_S: f64 = 0.000_1;

/// [`exec`] with what `kubectl exec -i` sent on stdin: a command that is
/// a filter (`grep`, `head`, `wc -l`, `cat` with no file) reads it; the
/// other programs read no input.
pub fn exec_with_stdin(
    world: &mut World,
    pod: PodId,
    container: Option<&str>,
    words: &[String],
    stdin: &[u8],
) -> Exec {
    let reads_stdin = match words.first().map(|w| w.rsplit('/').next().unwrap_or(w)) {
        Some("grep" | "head" | "wc") => true,
        Some("cat") => words.len() == 1 || words.get(1).is_some_and(|w| w == "|"),
        _ => false,
    };
    if !reads_stdin {
        return exec(world, pod, container, words);
    }
    let stages: Vec<&[String]> = words.split(|w| w == "|").collect();
    let filters = if stages[0].first().is_some_and(|w| w.ends_with("cat")) {
        &stages[1..]
    } else {
        &stages[..]
    };
    let input = Exec {
        stdout: stdin.to_vec(),
        stderr: Vec::new(),
        code: 0,
    };
    piped(input, filters)
}

/// Runs `words` (a command, maybe piped into filters) in `container` of
/// `pod` (`None`: the pod's first container, as kubectl picks it).
pub fn exec(world: &mut World, pod: PodId, container: Option<&str>, words: &[String]) -> Exec {
    let p = world.cluster.pod(pod);
    let containers: Vec<(String, String)> = p
        .template
        .spec
        .containers
        .iter()
        .map(|c| (c.name.clone(), c.image.clone()))
        .collect();
    let image = match container {
        None => containers
            .first()
            .map(|(_, i)| i.clone())
            .unwrap_or_default(),
        Some(PROXY_CONTAINER) if p.sidecar => "docker.io/istio/proxyv2:1.27.0".to_string(),
        Some(name) => match containers.iter().find(|(n, _)| n == name) {
            Some((_, image)) => image.clone(),
            None => {
                return Exec::fail(
                    format!(
                        "Error from server (BadRequest): container {name} is not valid for pod {}",
                        p.name
                    ),
                    1,
                );
            }
        },
    };
    pipeline(
        world,
        Place::Container {
            pod,
            image: &image,
            shell: false,
        },
        words,
    )
}

/// `A | B | C`: the program, then the filters after it.
fn pipeline(world: &mut World, place: Place<'_>, words: &[String]) -> Exec {
    let stages: Vec<&[String]> = words.split(|w| w == "|").collect();
    let out = run_program(world, place, stages[0]);
    piped(out, &stages[1..])
}

/// `out` through the filters after it.
fn piped(mut out: Exec, filters: &[&[String]]) -> Exec {
    for filter in filters {
        match run_filter(filter, &out.stdout) {
            Ok((stdout, code)) => {
                out.stdout = stdout;
                out.code = code;
            }
            Err(e) => return Exec::fail(e, 127),
        }
    }
    out
}

/// Runs `words` on the user's own machine, outside the cluster: `curl`
/// and `fortio` reach it through the ingress gateway (a name that is no
/// Service is sent there, as to the gateway's address with that Host).
pub fn exec_outside(world: &mut World, words: &[String]) -> Exec {
    pipeline(world, Place::Outside, words)
}

/// Where a program runs: a pod's container (its image decides which
/// programs exist; `shell` when a script in it runs the program), or the
/// user's machine (curl and fortio installed).
#[derive(Clone, Copy)]
enum Place<'a> {
    Container {
        pod: PodId,
        image: &'a str,
        shell: bool,
    },
    Outside,
}

/// One program, by its name (any directory: `/usr/bin/fortio`).
fn run_program(world: &mut World, place: Place<'_>, words: &[String]) -> Exec {
    let Some(program) = words.first() else {
        return Exec::fail(
            "error: you must specify at least one command for the container".into(),
            1,
        );
    };
    let name = program.rsplit('/').next().unwrap_or(program);
    let (pod, has_fortio, has_curl, proxy) = match place {
        Place::Container { pod, image, .. } => {
            let fortio = image.contains("fortio");
            (
                Some(pod),
                fortio,
                !fortio,
                image.contains("proxyv2").then_some(pod),
            )
        }
        Place::Outside => (None, true, true, None),
    };
    match (name, proxy) {
        ("fortio", _) if has_fortio => match words.get(1).map(String::as_str) {
            Some("load") => fortio_load(world, pod, &words[2..]),
            Some(other) => Exec::fail(format!("fortio {other}: not simulated by meshsim"), 1),
            None => Exec::fail("fortio: missing command (try `fortio load URL`)".into(), 1),
        },
        ("curl", _) if has_curl => run_curl(world, pod, &words[1..]),
        ("pilot-agent", Some(proxy)) => pilot_agent(world, proxy, &words[1..]),
        ("istioctl", _) if pod.is_none() => crate::istioctl::run(world, &words[1..]),
        ("kubectl", _) if pod.is_none() => crate::kubectl::run(world, &words[1..]),
        // Every image but fortio's (built from scratch) has a shell.
        ("sh" | "bash" | "ash", _) if has_curl => match place {
            Place::Container { pod, image, .. } => shell::sh(world, pod, image, &words[1..]),
            Place::Outside => Exec::fail(format!("{program}: not simulated outside pods"), 127),
        },
        (_, _) if has_curl && pod.is_some() && shell::is_builtin(name) => match place {
            Place::Container { pod, .. } => shell::builtin(world, pod, name, &words[1..])
                .unwrap_or_else(|| Exec::fail(format!("sh: {program}: not found"), 127)),
            Place::Outside => Exec::fail(format!("{program}: command not found"), 127),
        },
        _ if pod.is_none() => Exec::fail(format!("{program}: command not found"), 127),
        _ if matches!(place, Place::Container { shell: true, .. }) => {
            Exec::fail(format!("sh: {program}: not found"), 127)
        }
        _ => Exec::fail(
            format!(
                "error: Internal error occurred: exec: \"{program}\": executable file not found in $PATH"
            ),
            126,
        ),
    }
}

/// GNU grep's basic regular expressions in the extended syntax: `\|`,
/// `\(`, `\)`, `\{`, `\}`, `\+` and `\?` are the operators, the bare
/// characters literal.
fn basic_to_extended(pattern: &str) -> String {
    let mut out = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(op @ ('|' | '(' | ')' | '{' | '}' | '+' | '?')) => out.push(op),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push_str("\\\\"),
            },
            '|' | '(' | ')' | '{' | '}' | '+' | '?' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// `grep [-v] [-i] [-o] [-c] [-E|-F] PATTERN`, `head [-n] N`, `wc -l` over `input`.
fn run_filter(words: &[String], input: &[u8]) -> Result<(Vec<u8>, i32), String> {
    let text = String::from_utf8_lossy(input);
    let lines = text.lines();
    match words.first().map(String::as_str) {
        Some("grep") => {
            let (mut invert, mut fold, mut only, mut fixed) = (false, false, false, false);
            let (mut extended, mut count) = (false, false);
            let mut pattern = None;
            for w in &words[1..] {
                match w.strip_prefix('-').filter(|f| !f.is_empty()) {
                    Some(flags) if pattern.is_none() => {
                        for f in flags.chars() {
                            match f {
                                'v' => invert = true,
                                'i' => fold = true,
                                'o' => only = true,
                                'c' => count = true,
                                'F' => fixed = true,
                                'E' => extended = true,
                                other => return Err(format!("grep: invalid option -- '{other}'")),
                            }
                        }
                    }
                    _ if pattern.is_none() => pattern = Some(w.to_string()),
                    _ => return Err(format!("grep: {w}: No such file or directory")),
                }
            }
            let pattern = pattern.ok_or("usage: grep [-v] [-i] [-o] [-c] [-E|-F] PATTERN")?;
            let source = if fixed {
                regex::escape(&pattern)
            } else if extended {
                pattern.clone()
            } else {
                basic_to_extended(&pattern)
            };
            let re = regex::RegexBuilder::new(&source)
                .case_insensitive(fold)
                .build()
                .map_err(|e| format!("grep: invalid pattern {pattern:?}: {e}"))?;
            let kept: Vec<&str> = if only && !invert && !count {
                lines
                    .flat_map(|l| re.find_iter(l).map(|m| m.as_str()))
                    .filter(|m| !m.is_empty())
                    .collect()
            } else {
                lines.filter(|l| re.is_match(l) != invert).collect()
            };
            let code = i32::from(kept.is_empty());
            if count {
                return Ok((format!("{}\n", kept.len()).into_bytes(), code));
            }
            Ok((joined(&kept), code))
        }
        Some("head") => {
            let n = match words.get(1..).unwrap_or_default() {
                [] => 10,
                [flag, n] if flag == "-n" => n
                    .parse()
                    .map_err(|_| format!("head: invalid number of lines: {n:?}"))?,
                [n] if n.starts_with('-') => n[1..]
                    .parse()
                    .map_err(|_| format!("head: invalid option {n:?}"))?,
                other => return Err(format!("head: unsupported arguments {other:?}")),
            };
            let kept: Vec<&str> = lines.take(n).collect();
            Ok((joined(&kept), 0))
        }
        Some("wc") if words.get(1).is_some_and(|f| f == "-l") => {
            Ok((format!("{}\n", lines.count()).into_bytes(), 0))
        }
        Some(other) => Err(format!("sh: {other}: not found")),
        None => Err("sh: syntax error: unexpected \"|\"".to_string()),
    }
}

fn joined(lines: &[&str]) -> Vec<u8> {
    let mut s = lines.join("\n");
    if !s.is_empty() {
        s.push('\n');
    }
    s.into_bytes()
}

/// `pilot-agent request GET stats`: Envoy's admin `/stats`, as far as
/// Istio's stats matcher lets them through.
fn pilot_agent(world: &mut World, pod: PodId, args: &[String]) -> Exec {
    let path = match args {
        [req, method, path] if req == "request" && method.eq_ignore_ascii_case("GET") => {
            path.trim_start_matches('/')
        }
        _ => {
            return Exec::fail(
                format!(
                    "pilot-agent {}: not simulated by meshsim (try `pilot-agent request GET stats`)",
                    args.join(" ")
                ),
                1,
            );
        }
    };
    if path != "stats" {
        return Exec::fail(
            format!("pilot-agent request GET {path}: not simulated by meshsim"),
            1,
        );
    }
    let matcher = StatsMatcher::for_pod(&world.cluster.pod(pod).annotations);
    let Some(stats) = world.proxy_stats(pod) else {
        return Exec::fail("Error: no Envoy in this pod".into(), 1);
    };
    let mut out = String::new();
    for (name, value) in stats.iter().filter(|(n, _)| matcher.includes(n)) {
        out.push_str(&format!("{name}: {value}\n"));
    }
    Exec {
        stdout: out.into_bytes(),
        ..Exec::default()
    }
}

/// Istio's `proxyStatsMatcher`: Envoy keeps only the stats it includes.
/// Always in (`pkg/bootstrap` defaults): `reporter=`, `cluster_manager`,
/// `listener_manager`, `server`, `cluster.xds-grpc`, `wasm`, `component`;
/// a pod adds prefixes, suffixes and regexes through the
/// `proxy.istio.io/config` annotation (Istio's fortio sample adds
/// `cluster.outbound`) or the `sidecar.istio.io/statsInclusion*` ones.
struct StatsMatcher {
    prefixes: Vec<String>,
    suffixes: Vec<String>,
    regexes: Vec<regex::Regex>,
}

impl StatsMatcher {
    fn for_pod(annotations: &std::collections::BTreeMap<String, String>) -> StatsMatcher {
        let mut m = StatsMatcher {
            prefixes: [
                "reporter=",
                "cluster_manager",
                "listener_manager",
                "server",
                "cluster.xds-grpc",
                "wasm",
                "component",
            ]
            .map(String::from)
            .to_vec(),
            suffixes: Vec::new(),
            regexes: Vec::new(),
        };
        let split = |v: &String| -> Vec<String> {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        if let Some(v) = annotations.get("sidecar.istio.io/statsInclusionPrefixes") {
            m.prefixes.extend(split(v));
        }
        if let Some(v) = annotations.get("sidecar.istio.io/statsInclusionSuffixes") {
            m.suffixes.extend(split(v));
        }
        if let Some(v) = annotations.get("sidecar.istio.io/statsInclusionRegexps") {
            m.regexes
                .extend(split(v).iter().filter_map(|r| regex::Regex::new(r).ok()));
        }
        if let Some(cfg) = annotations.get("proxy.istio.io/config") {
            let mut list: Option<&str> = None;
            for line in cfg.lines() {
                let t = line.trim();
                if let Some(key) = t.strip_suffix(':') {
                    list = Some(key);
                } else if let (Some(item), Some(key)) = (t.strip_prefix("- "), list) {
                    let item = item.trim().trim_matches('"').trim_matches('\'').to_string();
                    match key {
                        "inclusionPrefixes" => m.prefixes.push(item),
                        "inclusionSuffixes" => m.suffixes.push(item),
                        "inclusionRegexps" => m.regexes.extend(regex::Regex::new(&item).ok()),
                        _ => {}
                    }
                }
            }
        }
        m
    }

    fn includes(&self, name: &str) -> bool {
        self.prefixes.iter().any(|p| name.starts_with(p.as_str()))
            || self.suffixes.iter().any(|s| name.ends_with(s.as_str()))
            || self.regexes.iter().any(|r| r.is_match(name))
    }
}

/// Where a URL's request goes: host, port, path.
fn target(url: &curl::Url) -> (String, u16, String) {
    (url.host.clone(), url.port, url.path.clone())
}

/// The `host:port` a client connects to for `host`: from a pod, a
/// Service's ClusterIP; else the name itself.
fn address(world: &World, from: Option<PodId>, host: &str, port: u16) -> String {
    let Some(pod) = from else {
        return format!("{host}:{port}");
    };
    let ns = world.cluster.pod(pod).namespace.clone();
    match world.dial(&ns, host, port) {
        Ok(Dialled::Service { svc, .. }) => match world.cluster.service(svc).cluster_ip {
            Some(ip) => format!("{ip}:{port}"),
            None => format!("{host}:{port}"),
        },
        _ => format!("{host}:{port}"),
    }
}

/// The bytes of a response's status line and headers as they come off
/// the wire: the headers the simulation knows, plus `content-length` and
/// `date` (an HTTP date is always 29 bytes).
fn header_bytes(r: &ProbeResult) -> u64 {
    let status = r.status.unwrap_or(0);
    let mut n = format!("HTTP/1.1 {status} {}\r\n", reason_phrase(status)).len();
    for (k, v) in &r.response_headers {
        n += k.len() + 2 + v.len() + 2;
    }
    n += format!("content-length: {}\r\n", r.body.len()).len();
    n += "date: \r\n".len() + 29;
    (n + 2) as u64
}

/// The response headers of `r` in wire order (as a Go or Envoy server
/// writes them: sorted, with `content-length` and `date`).
fn wire_headers(r: &ProbeResult, now_unix: u64) -> Vec<(String, String)> {
    let mut h: Vec<(String, String)> = r
        .response_headers
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    h.push(("content-length".to_string(), r.body.len().to_string()));
    h.push(("date".to_string(), http_date(now_unix)));
    h.sort();
    h
}

/// Where requests start: a pod (through its sidecar), or outside.
fn origin(from: Option<PodId>) -> ProbeFrom {
    from.map_or(ProbeFrom::External, ProbeFrom::Pod)
}

fn fortio_load(world: &mut World, pod: Option<PodId>, args: &[String]) -> Exec {
    let args = match fortio::parse_load(args) {
        Ok(a) => a,
        Err(e) => return Exec::fail(e, 1),
    };
    let url = match curl::Url::parse(&args.normalized_url()) {
        Ok(u) => u,
        Err(e) => return Exec::fail(format!("fortio: bad URL {:?}: {e}", args.url), 1),
    };
    let (host, port, path) = target(&url);
    let headers = args
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    let plan = fortio::plan(&args);
    let request = ProbeRequest {
        from: origin(pod),
        host: host.clone(),
        port,
        method: args.http_method().to_string(),
        path,
        headers,
    };
    let timeout = Some(SimDuration::from_nanos(args.timeout_ns.max(0) as u64));
    let threads = plan.threads;
    let run = |world: &mut World,
               plan: LoadPlan,
               schedule: Option<Vec<Vec<SimDuration>>>|
     -> Result<LoadOutcome, String> {
        world.load(&LoadSpec {
            request: request.clone(),
            threads,
            plan,
            schedule,
            timeout,
        })
    };
    let warmup = if plan.warmup {
        match run(world, LoadPlan::Calls(vec![1; plan.threads as usize]), None) {
            Ok(w) => w.shots,
            Err(e) => return Exec::fail(format!("fortio: {e}"), 1),
        }
    } else {
        Vec::new()
    };
    let start_unix_s = world.now_unix() as f64;
    let main = match &plan.calls_per_thread {
        Some(calls) => LoadPlan::Calls(calls.clone()),
        None => LoadPlan::For(SimDuration::from_nanos(plan.duration_ns.max(0) as u64)),
    };
    // fortio's pacing: each call's target start (`periodic.go`).
    let schedule = plan.calls_per_thread.as_ref().and_then(|calls| {
        (0..plan.threads)
            .map(|t| {
                (0..calls[t as usize])
                    .map(|i| {
                        plan.target_start_ns(t, i)
                            .map(|ns| SimDuration::from_nanos(ns.max(0) as u64))
                    })
                    .collect::<Option<Vec<_>>>()
            })
            .collect::<Option<Vec<_>>>()
    });
    let outcome = match run(world, main, schedule) {
        Ok(o) => o,
        Err(e) => return Exec::fail(format!("fortio: {e}"), 1),
    };
    let to_result = |s: &Shot, offset: f64| {
        let (code, header_size, body_size) = match &s.result {
            Some(r) => (
                i32::from(r.status.unwrap_or(0)),
                header_bytes(r),
                r.body.len() as u64,
            ),
            None => (-1, 0, 0),
        };
        fortio::CallResult {
            start_s: s.start.as_secs_f64() - offset,
            duration_s: s.duration.as_secs_f64(),
            code,
            header_size,
            body_size,
            thread: s.thread,
            socket: 0,
        }
    };
    let warmup: Vec<_> = warmup.iter().map(|s| to_result(s, 1.0)).collect();
    let results: Vec<_> = outcome.shots.iter().map(|s| to_result(s, 0.0)).collect();
    let run = fortio::LoadRun::new(
        args,
        results,
        warmup,
        &address(world, pod, &host, port),
        LOCAL_CONNECT_S,
        outcome.elapsed.as_secs_f64(),
        GOMAXPROCS,
        start_unix_s,
    );
    let (stdout, stderr) = fortio::report(&run);
    Exec {
        stdout: stdout.into_bytes(),
        stderr: stderr.into_bytes(),
        code: run.exit_code(),
    }
}

fn run_curl(world: &mut World, pod: Option<PodId>, args: &[String]) -> Exec {
    let args = match curl::parse(args) {
        Ok(a) => a,
        Err(e) => {
            let o = e.output();
            return Exec {
                stdout: o.stdout,
                stderr: o.stderr,
                code: o.exit_code,
            };
        }
    };
    if pod.is_none()
        && let Some(page) = web_page(world, curl::url(&args))
    {
        let o = curl::render(&args, &page);
        return Exec {
            stdout: o.stdout,
            stderr: o.stderr,
            code: o.exit_code,
        };
    }
    let (host, port, path) = target(curl::url(&args));
    let headers = curl::request_headers(&args)
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .filter(|(k, v)| k != "host" || *v != default_host(&host, port))
        .collect();
    let request = ProbeRequest {
        from: origin(pod),
        host: host.clone(),
        port,
        method: curl::method(&args),
        path,
        headers,
    };
    let timeout = curl::max_time(&args).map(SimDuration::from_secs_f64);
    let outcome = match world.load(&LoadSpec {
        request,
        threads: 1,
        plan: LoadPlan::Calls(vec![1]),
        schedule: None,
        timeout,
    }) {
        Ok(o) => o,
        Err(e) => return Exec::fail(format!("curl: {e}"), 1),
    };
    let shot = &outcome.shots[0];
    let elapsed = shot.duration.as_secs_f64();
    let remote = address(world, pod, &host, port);
    let (ip, _) = remote.rsplit_once(':').unwrap_or((&remote, ""));
    let peer = curl::Peer {
        remote_ip: ip.to_string(),
        remote_port: port,
        local_ip: pod.map_or("192.168.1.10".to_string(), |p| {
            world.cluster.pod(p).ip.to_string()
        }),
        local_port: 43_210,
    };
    let transfer = match (&shot.result, shot.failure) {
        (Some(r), _) if r.status.is_some() => {
            let status = r.status.unwrap_or(0);
            curl::Transfer::Response {
                http_version: "1.1".to_string(),
                status,
                reason: reason_phrase(status).to_string(),
                headers: wire_headers(r, world.now_unix()),
                body: r.body.clone().into_bytes(),
                peer,
                time_connect_s: LOCAL_CONNECT_S,
                time_starttransfer_s: elapsed,
                time_total_s: elapsed,
            }
        }
        (_, failure) => curl::Transfer::Failure {
            kind: match failure {
                Some(Failure::Timeout) => curl::FailureKind::Timeout {
                    received: 0,
                    expected: None,
                },
                Some(Failure::ConnectionRefused) => curl::FailureKind::ConnectRefused {
                    host: host.clone(),
                    port,
                },
                Some(Failure::NameResolution) => curl::FailureKind::CouldNotResolve(host.clone()),
                // A reset, or a server that answered without HTTP.
                Some(Failure::ConnectionReset) | None => curl::FailureKind::Reset,
            },
            peer: Some(peer),
            time_connect_s: LOCAL_CONNECT_S,
            elapsed_s: elapsed,
        },
    };
    let o = curl::render(&args, &transfer);
    Exec {
        stdout: o.stdout,
        stderr: o.stderr,
        code: o.exit_code,
    }
}

/// A URL on the internet that meshsim serves from files (Istio's sample
/// `demo.jwt`, pages given with `--url`), fetched from the user's machine.
fn web_page(world: &World, url: &curl::Url) -> Option<curl::Transfer> {
    let default_port = if url.scheme == "https" { 443 } else { 80 };
    let port = if url.port_given && url.port != default_port {
        format!(":{}", url.port)
    } else {
        String::new()
    };
    let full = format!("{}://{}{port}{}", url.scheme, url.host, url.path);
    let body = world.mesh.web.get(&full)?;
    Some(curl::Transfer::Response {
        http_version: "1.1".to_string(),
        status: 200,
        reason: reason_phrase(200).to_string(),
        headers: vec![
            (
                "content-type".to_string(),
                "text/plain; charset=utf-8".to_string(),
            ),
            ("content-length".to_string(), body.len().to_string()),
            ("date".to_string(), http_date(world.now_unix())),
        ],
        body: body.as_bytes().to_vec(),
        peer: curl::Peer {
            remote_ip: "203.0.113.10".to_string(),
            remote_port: url.port,
            local_ip: "192.168.1.10".to_string(),
            local_port: 43_210,
        },
        time_connect_s: LOCAL_CONNECT_S,
        time_starttransfer_s: LOCAL_CONNECT_S,
        time_total_s: LOCAL_CONNECT_S,
    })
}

/// The `Host` header curl sends by default for `host:port`.
fn default_host(host: &str, port: u16) -> String {
    if port == 80 || port == 443 {
        host.to_string()
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_work_on_lines() {
        let w = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        let input = b"a pending 1\nb other 2\nc pending 3\n";
        assert_eq!(
            run_filter(&w("grep pending"), input).unwrap(),
            (b"a pending 1\nc pending 3\n".to_vec(), 0)
        );
        assert_eq!(
            run_filter(&w("grep -v pending"), input).unwrap(),
            (b"b other 2\n".to_vec(), 0)
        );
        assert_eq!(
            run_filter(&w("grep nothing"), input).unwrap(),
            (Vec::new(), 1)
        );
        assert_eq!(
            run_filter(&w("grep -o pend[a-z]*"), input).unwrap(),
            (b"pending\npending\n".to_vec(), 0)
        );
        assert_eq!(
            run_filter(&w("grep -F ."), b"a.b\nab\n").unwrap(),
            (b"a.b\n".to_vec(), 0)
        );
        assert_eq!(
            run_filter(&w("grep -c pending"), input).unwrap(),
            (b"2\n".to_vec(), 0)
        );
        // Basic regular expressions, as GNU grep reads them without -E.
        assert_eq!(
            run_filter(&w(r"grep -o a\|c"), b"abc\n").unwrap(),
            (b"a\nc\n".to_vec(), 0)
        );
        assert_eq!(
            run_filter(&w("grep a|c"), b"a|c\nac\n").unwrap(),
            (b"a|c\n".to_vec(), 0)
        );
        assert_eq!(
            run_filter(&w("grep -E a|c"), b"a|c\nbd\n").unwrap(),
            (b"a|c\n".to_vec(), 0)
        );
        assert_eq!(
            run_filter(&w("wc -l"), input).unwrap(),
            (b"3\n".to_vec(), 0)
        );
        assert_eq!(
            run_filter(&w("head -n 1"), input).unwrap(),
            (b"a pending 1\n".to_vec(), 0)
        );
        assert!(
            run_filter(&w("awk x"), input)
                .unwrap_err()
                .contains("not found")
        );
    }

    #[test]
    fn the_fortio_sample_includes_outbound_cluster_stats() {
        let mut a = std::collections::BTreeMap::new();
        let m = StatsMatcher::for_pod(&a);
        assert!(!m.includes(
            "cluster.outbound|8000||httpbin.default.svc.cluster.local;.upstream_rq_pending_overflow"
        ));
        assert!(m.includes("server.live"));
        a.insert(
            "proxy.istio.io/config".to_string(),
            "proxyStatsMatcher:\n  inclusionPrefixes:\n  - \"cluster.outbound\"\n  - \"cluster_manager\"\n".to_string(),
        );
        let m = StatsMatcher::for_pod(&a);
        assert!(m.includes(
            "cluster.outbound|8000||httpbin.default.svc.cluster.local;.upstream_rq_pending_overflow"
        ));
    }
}
