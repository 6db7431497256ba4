//! `meshsim up | down | status | shell-env`: the long-running cluster the
//! real kubectl talks to, as `kind create cluster` makes one, but in this
//! process and in milliseconds.
//!
//! A cluster's files live in its state directory (`.meshsim/<name>/`, or
//! `$MESHSIM_STATE/<name>/`): `kubeconfig` (server address and the bearer
//! token every request must carry), `kube-cache/` (kubectl's discovery
//! cache, private so a stale cache of another cluster on the same port
//! cannot mislead kubectl), `bin/istioctl` (meshsim's istioctl), `web/`
//! (the Istio sample files the course fetches by URL), `server.log` and,
//! while it runs, `server.pid`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::api::ApiCluster;
use crate::api::server::{Clock, Shared};

#[derive(clap::Args)]
pub struct UpArgs {
    /// The cluster's name (its state directory and kubeconfig context).
    #[arg(long, default_value = "meshsim")]
    name: String,
    /// Worker nodes (the first is also the control plane).
    #[arg(long, default_value_t = 3)]
    nodes: u32,
    /// Zones the nodes are spread over, round robin.
    #[arg(long, value_delimiter = ',', default_value = "zone-a,zone-b,zone-c")]
    zones: Vec<String>,
    /// The API server's port on the listen address.
    #[arg(long, default_value_t = 6443)]
    port: u16,
    /// The address to listen on; anything but loopback must be asked for.
    #[arg(long, default_value = "127.0.0.1")]
    listen: std::net::IpAddr,
    /// `wall`: virtual time follows the wall clock (people typing);
    /// `step`: it moves only when asked, so a script prints the same bytes
    /// every time.
    #[arg(long, value_enum, default_value_t = ClockArg::Wall)]
    clock: ClockArg,
    /// How much faster than the wall clock virtual time runs (wall clock).
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Seed of every random choice (pod names, IPs, latencies).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Start in the background and return once the cluster is ready.
    #[arg(short = 'd', long)]
    detach: bool,
    /// Forget the state of an earlier run of this cluster.
    #[arg(long)]
    fresh: bool,
    /// Internal: this process is the detached server.
    #[arg(long, hide = true)]
    serve: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ClockArg {
    Wall,
    Step,
}

#[derive(clap::Args)]
pub struct NameArgs {
    /// The cluster's name.
    #[arg(long, default_value = "meshsim")]
    name: String,
}

#[derive(clap::Args)]
pub struct DownArgs {
    /// The cluster's name.
    #[arg(long, default_value = "meshsim")]
    name: String,
    /// Also delete the cluster's state (its objects), as `kind delete
    /// cluster` does; without it the next `meshsim up` restores them.
    #[arg(long)]
    delete: bool,
}

/// The state directory of a cluster.
fn state_dir(name: &str) -> PathBuf {
    let root =
        std::env::var_os("MESHSIM_STATE").map_or_else(|| PathBuf::from(".meshsim"), PathBuf::from);
    let dir = root.join(name);
    std::path::absolute(&dir).unwrap_or(dir)
}

pub fn up(args: UpArgs) -> anyhow::Result<i32> {
    if args.nodes == 0 || args.zones.is_empty() {
        bail!("a cluster needs at least one node and one zone");
    }
    if !(args.speed > 0.0 && args.speed.is_finite()) {
        bail!("--speed must be a positive number, not {}", args.speed);
    }
    if crate::config::validate::dns1123_label(&args.name).is_some() {
        bail!(
            "--name {:?} must be a DNS label (lower-case letters, digits and '-')",
            args.name
        );
    }
    let dir = state_dir(&args.name);
    if let Some(pid) = running_pid(&dir) {
        bail!(
            "cluster {:?} is already running (pid {pid}); `meshsim down --name {}` stops it",
            args.name,
            args.name
        );
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    {
        // The token and the Secrets in the snapshot are the owner's alone.
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
    }
    if args.detach {
        return detach(&dir);
    }
    serve(&args, &dir)
}

/// Starts the server as a background process and waits for it to say it
/// is ready.
#[allow(clippy::disallowed_methods)] // waiting for a real process: wall time
fn detach(dir: &Path) -> anyhow::Result<i32> {
    use std::os::unix::process::CommandExt as _;
    let exe = std::env::current_exe().context("cannot find meshsim's own executable")?;
    let log = std::fs::File::create(dir.join("server.log"))?;
    let ready = dir.join("ready");
    let _ = std::fs::remove_file(&ready);
    let mut child_args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "-d" && a != "--detach")
        .collect();
    child_args.push("--serve".into());
    let mut child = std::process::Command::new(exe)
        .args(&child_args)
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        // Its own process group: the shell's Ctrl-C is not for it.
        .process_group(0)
        .spawn()
        .context("cannot start the cluster process")?;
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if ready.exists() {
            out!("{}", std::fs::read_to_string(&ready).unwrap_or_default());
            return Ok(0);
        }
        if let Some(status) = child.try_wait()? {
            let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
            bail!(
                "the cluster process exited ({status}): {}",
                log.lines().last().unwrap_or("no output")
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    bail!(
        "the cluster did not become ready in 60 s; see {}",
        dir.join("server.log").display()
    )
}

/// Runs the cluster in this process until `meshsim down` or Ctrl-C.
fn serve(args: &UpArgs, dir: &Path) -> anyhow::Result<i32> {
    let nodes = (0..args.nodes)
        .map(|i| crate::k8s::NodeSpec {
            name: node_name(&args.name, i),
            zone: args.zones[i as usize % args.zones.len()].clone(),
            region: "region-1".to_string(),
        })
        .collect();
    let epoch = match args.clock {
        // A script's output must not depend on when it runs.
        ClockArg::Step => crate::sim::time::EPOCH_UNIX_SECS,
        ClockArg::Wall => wall_now(),
    };
    let state = dir.join("snapshot.json");
    if args.fresh {
        let _ = std::fs::remove_file(&state);
    }
    let step = args.clock == ClockArg::Step;
    let (mut cluster, restored) = match crate::api::snapshot::load(&state)
        .map_err(|e| anyhow::anyhow!(e))?
    {
        Some(snapshot) => {
            if snapshot.step != step {
                bail!(
                    "cluster {:?} was made with --clock {}; start it with that clock, or with --fresh to start afresh",
                    args.name,
                    if snapshot.step { "step" } else { "wall" }
                );
            }
            let (mut c, made, problems) = ApiCluster::restore(&snapshot)
                .map_err(|e| anyhow::anyhow!("{}: {e}", state.display()))?;
            for p in &problems {
                eprintln!("meshsim: not restored: {p}");
            }
            if !step {
                // The cluster ran on while it was down, as a real one would.
                let down_for = wall_now().saturating_sub(c.now_unix());
                let now = c.world.queue.now() + crate::sim::SimDuration::from_secs(down_for);
                c.advance_to(now);
            }
            (c, made)
        }
        None => (
            ApiCluster::new(&args.name, nodes, args.seed, epoch).map_err(|e| anyhow::anyhow!(e))?,
            0,
        ),
    };
    cluster.step_clock = step;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let addr = std::net::SocketAddr::new(args.listen, args.port);
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(addr))
        .with_context(|| format!("cannot listen on {addr} (pass --port to choose another)"))?;
    let addr = listener.local_addr()?;
    let token = hex(&random_bytes::<24>()?);
    let cert = crate::api::tls::serving_cert(
        addr.ip(),
        random_bytes::<32>()?,
        random_bytes::<32>()?,
        // Real time, whatever the cluster's clock: the client checks it.
        wall_now(),
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    let tls = cert.server_config().map_err(|e| anyhow::anyhow!(e))?;
    let server = format!("https://{addr}");
    write_files(dir, &args.name, &server, &token, &cert.ca_pem)?;
    let clock = match args.clock {
        ClockArg::Step => Clock::Step,
        ClockArg::Wall => Clock::Wall { speed: args.speed },
    };
    let nodes = cluster.world.cluster.nodes.len();
    let shared = Shared::new(
        cluster,
        token,
        clock,
        Some((state.clone(), args.name.clone())),
    );
    let restored = if restored > 0 {
        format!("Restored {restored} objects from {}.\n", state.display())
    } else {
        String::new()
    };
    let message = format!(
        "{restored}Cluster {:?} is up: {nodes} nodes, API server at {server}, {} clock.\nUse it with:\n  eval \"$(meshsim shell-env --name {})\"\n  kubectl get nodes\nStop it with: meshsim down --name {}\n",
        args.name,
        match args.clock {
            ClockArg::Step => "step",
            ClockArg::Wall => "wall",
        },
        args.name,
        args.name
    );
    std::fs::write(dir.join("server.pid"), std::process::id().to_string())?;
    if args.serve {
        write_atomically(&dir.join("ready"), &message)?;
    } else {
        out!("{message}");
        std::io::stdout().flush()?;
    }
    let listen = args.listen;
    runtime.block_on(async {
        let stop = shared.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.stop();
            }
        });
        tokio::spawn(crate::live::run(shared.clone(), listen));
        crate::api::server::serve(listener, tls, shared).await;
    });
    // A blocking task still at work (a copy to a client that went away)
    // must not keep the process alive.
    runtime.shutdown_timeout(Duration::from_millis(500));
    let _ = std::fs::remove_file(dir.join("server.pid"));
    let _ = std::fs::remove_file(dir.join("ready"));
    Ok(0)
}

/// The wall clock's Unix time: where a wall-clock cluster's virtual time
/// starts, so that ages kubectl computes itself (`describe`) are right.
#[allow(clippy::disallowed_methods)] // the cluster's one wall clock
fn wall_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(crate::sim::time::EPOCH_UNIX_SECS, |d| d.as_secs())
}

/// kind's node names: `<name>-control-plane`, `<name>-worker`,
/// `<name>-worker2`, …
fn node_name(cluster: &str, i: u32) -> String {
    match i {
        0 => format!("{cluster}-control-plane"),
        1 => format!("{cluster}-worker"),
        n => format!("{cluster}-worker{n}"),
    }
}

/// Randomness for the API token and the serving key: the one place
/// meshsim asks the OS for it.
fn random_bytes<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)?;
    Ok(bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes a file only its owner can read (the kubeconfig holds the
/// token), through a temporary file and a rename.
fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(text.as_bytes())?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

fn write_files(
    dir: &Path,
    name: &str,
    server: &str,
    token: &str,
    ca_pem: &str,
) -> anyhow::Result<()> {
    use base64::Engine as _;
    let context = format!("meshsim-{name}");
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: {ca}\n    server: {server}\n  name: {context}\ncontexts:\n- context:\n    cluster: {context}\n    user: {context}\n  name: {context}\ncurrent-context: {context}\npreferences: {{}}\nusers:\n- name: {context}\n  user:\n    token: {token}\n"
    );
    write_atomically(&dir.join("kubeconfig"), &kubeconfig)?;
    std::fs::create_dir_all(dir.join("kube-cache"))?;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin)?;
    let exe = std::env::current_exe()?;
    let script = format!(
        "#!/bin/sh\nexec {} istioctl \"$@\"\n",
        shell_quote(&exe.display().to_string())
    );
    let path = bin.join("istioctl");
    write_atomically(&path, &script)?;
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

/// `'text'` for sh, with embedded quotes escaped.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The pid of the cluster's server, if one is running.
fn running_pid(dir: &Path) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(dir.join("server.pid"))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Path::new(&format!("/proc/{pid}")).exists().then_some(pid)
}

/// A cluster as its kubeconfig names it.
pub struct Endpoint {
    pub server: String,
    pub token: String,
    /// The cluster's certificate (PEM).
    pub ca: String,
}

/// The server address, token and certificate from a cluster's kubeconfig.
pub fn endpoint(kubeconfig: &Path) -> anyhow::Result<Endpoint> {
    use base64::Engine as _;
    let text = std::fs::read_to_string(kubeconfig)
        .with_context(|| format!("cannot read kubeconfig {}", kubeconfig.display()))?;
    let (docs, _) = crate::yaml::parse_documents(&text);
    let doc = docs.first().map(|d| d.root.to_json()).unwrap_or_default();
    let current = doc["current-context"].as_str().unwrap_or("");
    let pick = |list: &str, name: &str| {
        doc[list]
            .as_array()
            .and_then(|l| l.iter().find(|e| e["name"] == name).cloned())
            .unwrap_or_default()
    };
    let context = pick("contexts", current);
    let cluster = pick(
        "clusters",
        context["context"]["cluster"].as_str().unwrap_or(""),
    );
    let user = pick("users", context["context"]["user"].as_str().unwrap_or(""));
    let server = cluster["cluster"]["server"].as_str().with_context(|| {
        format!(
            "{}: no server for context {current:?}",
            kubeconfig.display()
        )
    })?;
    let token = user["user"]["token"].as_str().unwrap_or("");
    let ca = base64::engine::general_purpose::STANDARD
        .decode(
            cluster["cluster"]["certificate-authority-data"]
                .as_str()
                .unwrap_or(""),
        )
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .with_context(|| {
            format!(
                "{}: no certificate-authority-data for {current:?}",
                kubeconfig.display()
            )
        })?;
    Ok(Endpoint {
        server: server.to_string(),
        token: token.to_string(),
        ca,
    })
}

/// Sends one request to a cluster's server and returns the status and
/// body: a blocking HTTP/1.1 exchange over TLS on loopback, which is all
/// the clients of meshsim's own endpoints need.
pub fn call(
    to: &Endpoint,
    method: &str,
    path: &str,
    body: &[u8],
) -> anyhow::Result<(u16, Vec<u8>)> {
    use std::io::Read as _;
    let host = to
        .server
        .strip_prefix("https://")
        .with_context(|| format!("meshsim's clusters serve https, not {}", to.server))?;
    let address: std::net::SocketAddr = host
        .parse()
        .with_context(|| format!("{}: not an IP address and port", to.server))?;
    let tcp = std::net::TcpStream::connect_timeout(&address, Duration::from_secs(5))
        .with_context(|| format!("cannot reach the cluster at {}", to.server))?;
    // A cluster busy for minutes is as good as gone.
    tcp.set_read_timeout(Some(Duration::from_secs(300)))?;
    let ip: std::net::IpAddr = host
        .rsplit_once(':')
        .and_then(|(h, _)| h.trim_matches(['[', ']']).parse().ok())
        .with_context(|| format!("{}: not an IP address and port", to.server))?;
    let config = crate::api::tls::client_config(&to.ca).map_err(|e| anyhow::anyhow!(e))?;
    let conn =
        rustls::ClientConnection::new(config, rustls::pki_types::ServerName::IpAddress(ip.into()))?;
    let mut stream = rustls::StreamOwned::new(conn, tcp);
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        to.token,
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut reply = Vec::new();
    match stream.read_to_end(&mut reply) {
        Ok(_) => {}
        // The server may close without a TLS close_notify after answering.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !reply.is_empty() => {}
        Err(e) => return Err(e.into()),
    }
    let split = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("the cluster sent a malformed answer")?;
    let head = String::from_utf8_lossy(&reply[..split]);
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("the cluster sent a malformed status line")?;
    // meshsim's own endpoints answer whole bodies with a Content-Length.
    Ok((status, reply[split + 4..].to_vec()))
}

pub fn down(args: DownArgs) -> anyhow::Result<i32> {
    let dir = state_dir(&args.name);
    match running_pid(&dir) {
        Some(pid) => {
            let to = endpoint(&dir.join("kubeconfig"))?;
            call(&to, "POST", "/meshsim/v1/shutdown", b"")?;
            wait_gone(pid);
            outln!("Stopped cluster {:?}", args.name);
        }
        None if !args.delete => {
            eprintln!("cluster {:?} is not running", args.name);
            return Ok(1);
        }
        None => {}
    }
    if args.delete && dir.exists() {
        std::fs::remove_dir_all(&dir)
            .with_context(|| format!("cannot delete {}", dir.display()))?;
        outln!("Deleted cluster {:?} ({})", args.name, dir.display());
    }
    Ok(0)
}

#[allow(clippy::disallowed_methods)] // waiting for a real process: wall time
fn wait_gone(pid: u32) {
    let started = std::time::Instant::now();
    while Path::new(&format!("/proc/{pid}")).exists() && started.elapsed() < Duration::from_secs(10)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn status(args: NameArgs) -> anyhow::Result<i32> {
    let dir = state_dir(&args.name);
    match running_pid(&dir) {
        Some(pid) => {
            let to = endpoint(&dir.join("kubeconfig"))?;
            let (_, body) = call(&to, "GET", "/meshsim/v1/status", b"")?;
            outln!(
                "cluster {:?}: running (pid {pid}), API server at {}",
                args.name,
                to.server
            );
            out!("{}", String::from_utf8_lossy(&body));
            Ok(0)
        }
        None => {
            outln!("cluster {:?}: not running", args.name);
            Ok(3)
        }
    }
}

/// Prints the shell lines that point kubectl and istioctl at the cluster.
pub fn shell_env(args: NameArgs) -> anyhow::Result<i32> {
    let dir = state_dir(&args.name);
    if !dir.join("kubeconfig").exists() {
        eprintln!(
            "cluster {:?} has never been started here ({} has no kubeconfig); run `meshsim up -d` first",
            args.name,
            dir.display()
        );
        return Ok(1);
    }
    let exe = std::env::current_exe()?.display().to_string();
    let q = |p: &Path| shell_quote(&p.display().to_string());
    out!(
        "export KUBECONFIG={}\nexport KUBECACHEDIR={}\nexport PATH={}:\"$PATH\"\n",
        q(&dir.join("kubeconfig")),
        q(&dir.join("kube-cache")),
        q(&dir.join("bin"))
    );
    // kubectl fetches `-f URL` itself; with no internet, the Istio sample
    // URLs the course uses are answered from meshsim's bundled copies.
    outln!(
        "kubectl() {{ local a=() x p; for x in \"$@\"; do p=\"${{x%%http*}}\"; case \"$x\" in *https://*|*http://*) x=\"$p$({} web-file {} \"${{x#\"$p\"}}\")\";; esac; a+=(\"$x\"); done; command kubectl \"${{a[@]}}\"; }}",
        shell_quote(&exe),
        q(&dir.join("web"))
    );
    Ok(0)
}

#[derive(clap::Args)]
pub struct WebFileArgs {
    /// Where to write the page.
    dir: PathBuf,
    /// The URL kubectl was given.
    url: String,
}

/// `meshsim web-file DIR URL`: writes the bundled page at URL into DIR
/// and prints its path, or prints the URL unchanged when meshsim has no
/// such page (kubectl then reports its own error).
pub fn web_file(args: WebFileArgs) -> anyhow::Result<i32> {
    let web = crate::web::Web::default();
    match web.get(&args.url) {
        Some(body) => {
            let name: String = args
                .url
                .split("://")
                .nth(1)
                .unwrap_or(&args.url)
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            std::fs::create_dir_all(&args.dir)?;
            let path = args.dir.join(name);
            std::fs::write(&path, body)?;
            out!("{}", path.display());
        }
        None => out!("{}", args.url),
    }
    Ok(0)
}

#[derive(clap::Args)]
pub struct IstioctlArgs {
    /// istioctl's command line.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

/// `install -f FILE` (or `-f -`, standard input): the IstioOperator
/// file, read here on the user's machine, as the `--set` flags it means.
fn read_operator_files(words: Vec<String>) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut it = words.into_iter();
    while let Some(w) = it.next() {
        let file = match w.as_str() {
            "-f" | "--filename" => it
                .next()
                .ok_or("Error: flag needs an argument: 'f' in -f")?,
            s if s.starts_with("--filename=") => s["--filename=".len()..].to_string(),
            _ => {
                out.push(w);
                continue;
            }
        };
        let text = if file == "-" {
            std::io::read_to_string(std::io::stdin())
        } else {
            std::fs::read_to_string(&file)
        }
        .map_err(|e| format!("Error: cannot read {file}: {e}"))?;
        out.extend(crate::istioctl::install::operator_sets(&file, &text)?);
    }
    Ok(out)
}

/// `meshsim istioctl …` (the `istioctl` on PATH after `shell-env`): runs
/// the command in the cluster KUBECONFIG names.
pub fn istioctl(args: IstioctlArgs) -> anyhow::Result<i32> {
    if matches!(
        args.args.first().map(String::as_str),
        Some("validate" | "v")
    ) {
        // It reads the user's files and needs no cluster, as istioctl's.
        let out = crate::istioctl::validate::run_local(&args.args[1..]);
        std::io::stdout().write_all(&out.stdout)?;
        std::io::stderr().write_all(&out.stderr)?;
        return Ok(out.code);
    }
    let kubeconfig = std::env::var_os("KUBECONFIG")
        .map(PathBuf::from)
        .context("KUBECONFIG is not set; run eval \"$(meshsim shell-env)\" first")?;
    let mut words = args.args;
    if words.first().map(String::as_str) == Some("install") {
        // Mistakes are istioctl's `Error: …` lines, not meshsim's.
        let parsed = read_operator_files(words).and_then(|w| {
            let request = crate::istioctl::install::parse(&w[1..])?;
            Ok((w, request))
        });
        let request = match parsed {
            Ok((w, request)) => {
                words = w;
                request
            }
            Err(e) => {
                eprintln!("{e}");
                return Ok(1);
            }
        };
        if !request.yes {
            out!("{}", request.confirmation());
            std::io::stdout().flush()?;
            let mut answer = String::new();
            std::io::stdin().read_line(&mut answer)?;
            if !matches!(answer.trim(), "y" | "Y" | "yes") {
                outln!("Cancelled.");
                return Ok(1);
            }
            words.push("-y".into());
        }
    }
    let to = endpoint(&kubeconfig)?;
    let body = serde_json::json!({ "args": words }).to_string();
    let (status, reply) = call(&to, "POST", "/meshsim/v1/istioctl", body.as_bytes())?;
    if status != 200 {
        bail!(
            "the cluster answered {status}: {}",
            String::from_utf8_lossy(&reply)
        );
    }
    let reply: serde_json::Value =
        serde_json::from_slice(&reply).context("the cluster sent a malformed answer")?;
    out!("{}", reply["stdout"].as_str().unwrap_or(""));
    eprint!("{}", reply["stderr"].as_str().unwrap_or(""));
    Ok(reply["code"].as_i64().unwrap_or(1) as i32)
}
