//! The HTTP side of the apiserver: hyper on a loopback listener, bearer
//! token checks, the clock, and watch streams. What requests mean is
//! [`super::handler`]'s.
//!
//! One mutex guards the cluster; a request holds it while it is handled,
//! and a watch in step mode while it fast-forwards the world. Watches wait
//! on a [`Notify`] that every write and every clock tick wakes.

use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::{Response, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc};

use super::cluster::ApiCluster;
use super::handler::{self, Reply, Request, Watch};
use crate::sim::{SimDuration, SimTime};

/// How the cluster's virtual clock moves.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Clock {
    /// Only when asked: watches fast-forward to what they wait for.
    Step,
    /// With the wall clock, `speed` times faster.
    Wall { speed: f64 },
}

/// How far a watch in step mode lets virtual time run looking for a change
/// it wants (the apiserver's own watch timeout is 5 to 10 minutes).
const STEP_HORIZON: SimDuration = SimDuration::from_secs(300);

/// How long a watch in step mode waits, after sending what it found, for
/// its client to hang up before it moves the clock on to the next change:
/// `kubectl wait` hangs up as soon as its condition holds, and a clock
/// moved for a client that is gone would change what later commands see.
const STEP_GRACE: Duration = Duration::from_millis(300);

/// The largest request body accepted (the apiserver's limit is 3 MiB for
/// most objects; kubectl's bodies are far smaller).
const MAX_BODY: usize = 3 * 1024 * 1024;

pub struct Shared {
    cluster: Mutex<ApiCluster>,
    /// Woken by every write and every clock tick that changed something.
    pub changed: Notify,
    token: String,
    clock: Clock,
    /// The wall instant virtual time zero maps to (wall clock mode).
    started: std::time::Instant,
    base: SimTime,
    /// How far virtual time has been run ahead of the wall (nanoseconds).
    ahead: std::sync::atomic::AtomicU64,
    /// Woken when the cluster stops; [`Shared::stopped`] reads `stopping`
    /// too, so a stop between two waits is not missed.
    shutdown: Notify,
    stopping: std::sync::atomic::AtomicBool,
    /// Where the cluster's state is kept, and the cluster's name.
    snapshot: Option<(std::path::PathBuf, String)>,
}

impl Shared {
    #[allow(clippy::disallowed_methods)] // the cluster's one wall clock: `--clock wall`
    pub fn new(
        cluster: ApiCluster,
        token: String,
        clock: Clock,
        snapshot: Option<(std::path::PathBuf, String)>,
    ) -> Arc<Self> {
        let base = cluster.world.queue.now();
        Arc::new(Shared {
            cluster: Mutex::new(cluster),
            changed: Notify::new(),
            token,
            clock,
            started: std::time::Instant::now(),
            base,
            ahead: std::sync::atomic::AtomicU64::new(0),
            shutdown: Notify::new(),
            stopping: std::sync::atomic::AtomicBool::new(false),
            snapshot,
        })
    }

    /// Stops the cluster: every task waiting in [`Shared::stopped`] ends.
    pub fn stop(&self) {
        self.stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.shutdown.notify_waiters();
    }

    /// Returns once the cluster is stopping.
    pub async fn stopped(&self) {
        loop {
            // A `Notified` made before the check hears a stop that comes
            // after it, even before it is first polled.
            let woken = self.shutdown.notified();
            if self.stopping.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            woken.await;
        }
    }

    /// How much faster than the wall the clock runs, for a wall clock.
    pub fn wall_speed(&self) -> Option<f64> {
        match self.clock {
            Clock::Wall { speed } => Some(speed),
            Clock::Step => None,
        }
    }

    /// Saves the cluster's state, if it is kept; a failure is reported on
    /// the server's log and in the answer's status.
    pub fn save(&self, cluster: &ApiCluster) -> Result<(), String> {
        let Some((path, name)) = &self.snapshot else {
            return Ok(());
        };
        super::snapshot::save(path, &cluster.snapshot(name)).map_err(|e| {
            let message = format!("cannot save the cluster's state to {}: {e}", path.display());
            eprintln!("{message}");
            message
        })
    }

    /// The cluster, with virtual time brought up to the wall clock in wall
    /// mode.
    pub fn lock(&self) -> MutexGuard<'_, ApiCluster> {
        let mut c = self
            .cluster
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Clock::Wall { speed } = self.clock {
            use std::sync::atomic::Ordering;
            let elapsed = self.started.elapsed().as_secs_f64() * speed;
            let target = self.base
                + SimDuration::from_secs_f64(elapsed)
                + SimDuration(self.ahead.load(Ordering::Relaxed));
            let now = c.world.queue.now();
            if target > now {
                let rv = c.store.rv();
                c.advance_to(target);
                if c.store.rv() != rv {
                    self.changed.notify_waiters();
                }
            } else {
                // Something ran the clock ahead (istioctl install waits in
                // virtual time): the wall clock carries on from there.
                self.ahead
                    .fetch_add(now.since(target).as_nanos(), Ordering::Relaxed);
            }
        }
        c
    }
}

/// How long an exec without stdin waits, after the upgrade, before it
/// answers: for kubectl to set up its streams.
const EXEC_SETTLE: Duration = Duration::from_millis(100);

/// Serves HTTPS until `shared.shutdown` is notified.
pub async fn serve(listener: TcpListener, tls: Arc<rustls::ServerConfig>, shared: Arc<Shared>) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    if let Clock::Wall { .. } = shared.clock {
        let ticker = shared.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_millis(100));
            loop {
                every.tick().await;
                drop(ticker.lock());
            }
        });
    }
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = shared.stopped() => {
                let _ = shared.save(&shared.lock());
                return;
            }
        };
        let Ok((stream, _)) = accepted else {
            // Out of descriptors, say: wait rather than spin.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let shared = shared.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let Ok(stream) = acceptor.accept(stream).await else {
                return;
            };
            let io = hyper_util::rt::TokioIo::new(stream);
            let service = hyper::service::service_fn(move |req| respond(shared.clone(), req));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .with_upgrades()
                .await;
        });
    }
}

type Body = BoxBody<Bytes, Infallible>;

fn full(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("Content-Type", content_type)
        .body(Full::new(body.into()).boxed())
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()).boxed()))
}

async fn respond(
    shared: Arc<Shared>,
    req: hyper::Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let public = matches!(
        req.uri().path(),
        "/version" | "/healthz" | "/readyz" | "/livez"
    );
    let authorized = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| t == shared.token);
    if !public && !authorized {
        let e = super::status::ApiError::unauthorized();
        return Ok(full(
            StatusCode::UNAUTHORIZED,
            "application/json",
            e.to_status().to_string(),
        ));
    }
    match pod_subresource(req.uri().path()) {
        Some("exec") => return Ok(exec_request(shared, req)),
        Some("portforward") => return Ok(portforward_request(shared, req)),
        _ => {}
    }
    if public && req.uri().path() == "/version" {
        return Ok(full(
            StatusCode::OK,
            "application/json",
            handler::version().to_string(),
        ));
    }
    let request = match read_request(req).await {
        Ok(r) => r,
        Err(response) => return Ok(response),
    };
    if let Some(internal) = request.path.strip_prefix("/meshsim/v1/") {
        return Ok(internal_request(&shared, internal, &request));
    }
    let reply = {
        let mut cluster = shared.lock();
        let reply = handler::handle(&mut cluster, &request);
        let wrote = request.method != "GET"
            && matches!(&reply, Reply::Full { status, .. } if *status < 300);
        match wrote.then(|| shared.save(&cluster)) {
            Some(Err(e)) => Reply::Full {
                status: 500,
                content_type: "application/json",
                body: super::status::ApiError::internal(e)
                    .to_status()
                    .to_string()
                    .into_bytes(),
                warnings: Vec::new(),
            },
            _ => reply,
        }
    };
    if request.method != "GET" {
        shared.changed.notify_waiters();
    }
    Ok(match reply {
        Reply::Full {
            status,
            content_type,
            body,
            warnings,
        } => {
            let mut r = full(
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                content_type,
                body,
            );
            for w in warnings {
                if let Ok(v) = hyper::header::HeaderValue::from_str(&format!(
                    "299 - {:?}",
                    w.replace('\n', " ")
                )) {
                    r.headers_mut().append("Warning", v);
                }
            }
            r
        }
        Reply::Watch(w) => watch_response(shared, w),
        Reply::Follow(f) => follow_response(shared, f),
    })
}

/// `kubectl logs -f`: the output so far, then each new line as the
/// container prints it, until the client hangs up or the pod is gone.
fn follow_response(shared: Arc<Shared>, mut f: handler::Follow) -> Response<Body> {
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    tokio::spawn(async move {
        let first = std::mem::take(&mut f.first);
        if !first.is_empty() && tx.send(Bytes::from(first)).await.is_err() {
            return;
        }
        loop {
            let notified = shared.changed.notified();
            let next = shared.lock().container_log_after(
                &f.namespace,
                &f.pod,
                &f.container,
                f.seen,
                f.timestamps,
            );
            let Some((text, seen)) = next else {
                return;
            };
            f.seen = seen;
            if !text.is_empty() && tx.send(Bytes::from(text)).await.is_err() {
                return;
            }
            tokio::select! {
                () = notified => {},
                () = tokio::time::sleep(Duration::from_millis(500)) => {},
                () = tx.closed() => return,
                () = shared.stopped() => return,
            }
        }
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "text/plain")
        .body(ChannelBody(rx).boxed())
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()).boxed()))
}

async fn read_request(req: hyper::Request<Incoming>) -> Result<Request, Response<Body>> {
    let (parts, body) = req.into_parts();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let limited = http_body_util::Limited::new(body, MAX_BODY);
    let body = match limited.collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(_) => {
            let e = super::status::ApiError::bad_request("request body too large or unreadable");
            return Err(full(
                StatusCode::PAYLOAD_TOO_LARGE,
                "application/json",
                e.to_status().to_string(),
            ));
        }
    };
    Ok(Request {
        method: parts.method.to_string(),
        path: percent_decode(parts.uri.path()),
        query: parse_query(parts.uri.query()),
        accept: header("accept"),
        content_type: header("content-type"),
        body,
    })
}

/// `kubectl exec`: the WebSocket upgrade (101), then, on the upgraded
/// connection, the command run in the simulated pod and its output,
/// status and close sent as `v5.channel.k8s.io` frames.
fn exec_request(shared: Arc<Shared>, mut req: hyper::Request<Incoming>) -> Response<Body> {
    use super::exec::{Command, PROTOCOL};
    let pod = match pod_of(&shared, &req, "exec") {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let query = parse_query(req.uri().query());
    let command = match Command::from_query(&query) {
        Ok(c) => c,
        Err(e) => return status_reply(super::status::ApiError::bad_request(e)),
    };
    // A container that has not started yet: the kubelet cannot attach to
    // it, and kubectl says "unable to upgrade connection: container not
    // found" (after trying SPDY too).
    let waiting = {
        let c = shared.lock();
        let p = c.world.cluster.pod(pod);
        (p.phase != crate::k8s::PodPhase::Running).then(|| {
            command.container.clone().unwrap_or_else(|| {
                p.template
                    .spec
                    .containers
                    .first()
                    .map(|c| c.name.clone())
                    .unwrap_or_default()
            })
        })
    };
    if let Some(container) = waiting {
        return full(
            StatusCode::NOT_FOUND,
            "text/plain",
            format!("container not found ({container:?})"),
        );
    }
    let Some(key) = websocket_key(&req) else {
        return status_reply(super::status::ApiError::bad_request(format!(
            "meshsim runs commands over WebSocket ({PROTOCOL}); this request is not an upgrade to it"
        )));
    };
    let upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else {
            return;
        };
        let mut io = hyper_util::rt::TokioIo::new(upgraded);
        let stdin = if command.stdin {
            read_stdin(&mut io).await
        } else {
            // client-go registers its streams only after the upgrade: a
            // frame that comes sooner is dropped ("Unknown stream id"),
            // which a real command's start-up never provokes. Give the
            // client that moment (wall time, outside the simulation).
            tokio::time::sleep(EXEC_SETTLE).await;
            Vec::new()
        };
        let out = {
            let mut c = shared.lock();
            let out = if command.stdin {
                crate::exec::exec_with_stdin(
                    &mut c.world,
                    pod,
                    command.container.as_deref(),
                    &command.words,
                    &stdin,
                )
            } else {
                crate::exec::exec(
                    &mut c.world,
                    pod,
                    command.container.as_deref(),
                    &command.words,
                )
            };
            c.sync_if_changed();
            out
        };
        shared.changed.notify_waiters();
        let mut bytes = Vec::new();
        if !out.stdout.is_empty() {
            bytes.extend(super::exec::frame(1, &out.stdout));
        }
        if !out.stderr.is_empty() {
            bytes.extend(super::exec::frame(2, &out.stderr));
        }
        bytes.extend(super::exec::frame(
            3,
            &super::exec::status(&command.words, out.code),
        ));
        bytes.extend(super::exec::close_frame());
        use tokio::io::AsyncWriteExt as _;
        let _ = io.write_all(&bytes).await;
        let _ = io.shutdown().await;
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("Upgrade", "websocket")
        .header("Connection", "Upgrade")
        .header("Sec-WebSocket-Accept", super::exec::accept_key(&key))
        .header("Sec-WebSocket-Protocol", PROTOCOL)
        .body(Full::new(Bytes::new()).boxed())
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()).boxed()))
}

/// The subresource of a `/api/v1/namespaces/NS/pods/NAME/SUB` path.
fn pod_subresource(path: &str) -> Option<&str> {
    match path
        .split('/')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()[..]
    {
        ["api", "v1", "namespaces", _, "pods", _, sub] => Some(sub),
        _ => None,
    }
}

/// An API error as the apiserver answers it.
fn status_reply(e: super::status::ApiError) -> Response<Body> {
    full(
        StatusCode::from_u16(e.code).unwrap_or(StatusCode::BAD_REQUEST),
        "application/json",
        e.to_status().to_string(),
    )
}

/// The pod of a `pods/NAME/{sub}` request, or the error to answer.
fn pod_of(
    shared: &Arc<Shared>,
    req: &hyper::Request<Incoming>,
    sub: &str,
) -> Result<crate::k8s::PodId, Box<Response<Body>>> {
    let path = percent_decode(req.uri().path());
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let ["api", "v1", "namespaces", ns, "pods", name, last] = segments.as_slice() else {
        return Err(Box::new(status_reply(super::status::ApiError::no_route(
            &path,
        ))));
    };
    if *last != sub {
        return Err(Box::new(status_reply(super::status::ApiError::no_route(
            &path,
        ))));
    }
    let c = shared.lock();
    c.world
        .find_pod(ns, name)
        .filter(|&p| c.world.cluster.pod(p).name == *name)
        .ok_or_else(|| {
            Box::new(status_reply(super::status::ApiError::not_found(
                "pods", name,
            )))
        })
}

/// The client's `Sec-WebSocket-Key`, when the request is a WebSocket upgrade.
fn websocket_key(req: &hyper::Request<Incoming>) -> Option<String> {
    req.headers()
        .get("sec-websocket-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// `kubectl port-forward`: the WebSocket tunnel kubectl 1.32 asks for
/// first, or the SPDY upgrade it falls back to; then the session
/// ([`super::portforward`]) on the upgraded connection.
fn portforward_request(shared: Arc<Shared>, mut req: hyper::Request<Incoming>) -> Response<Body> {
    use super::portforward::{STREAM_PROTOCOL, TUNNEL_PROTOCOL};
    let pod = match pod_of(&shared, &req, "portforward") {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let key = websocket_key(&req);
    let offered = header("sec-websocket-protocol");
    let spdy = header("upgrade").eq_ignore_ascii_case("SPDY/3.1");
    let response = match &key {
        Some(key) if offered.split(',').any(|p| p.trim() == TUNNEL_PROTOCOL) => Response::builder()
            .status(StatusCode::SWITCHING_PROTOCOLS)
            .header("Upgrade", "websocket")
            .header("Connection", "Upgrade")
            .header("Sec-WebSocket-Accept", super::exec::accept_key(key))
            .header("Sec-WebSocket-Protocol", TUNNEL_PROTOCOL),
        None if spdy => Response::builder()
            .status(StatusCode::SWITCHING_PROTOCOLS)
            .header("Upgrade", "SPDY/3.1")
            .header("Connection", "Upgrade")
            .header("X-Stream-Protocol-Version", STREAM_PROTOCOL),
        _ => {
            return status_reply(super::status::ApiError::bad_request(format!(
                "port-forward needs a WebSocket upgrade with subprotocol {TUNNEL_PROTOCOL} or a SPDY/3.1 upgrade"
            )));
        }
    };
    let upgrade = hyper::upgrade::on(&mut req);
    let tunnel = key.is_some();
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else {
            return;
        };
        let io = hyper_util::rt::TokioIo::new(upgraded);
        if tunnel {
            super::portforward::websocket_tunnel(io, shared, pod).await;
        } else {
            super::portforward::session(io, shared, pod).await;
        }
    });
    response
        .body(Full::new(Bytes::new()).boxed())
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()).boxed()))
}

/// Reads what `kubectl exec -i` sends on stream 0 until it closes stdin
/// (stream 255 with 0), closes the connection, or has sent 1 MiB.
async fn read_stdin<T: tokio::io::AsyncRead + Unpin>(io: &mut T) -> Vec<u8> {
    use tokio::io::AsyncReadExt as _;
    let mut buf = Vec::new();
    let mut stdin = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        while let Some((f, used)) = super::exec::parse_client_frame(&buf) {
            buf.drain(..used);
            match f.payload.split_first() {
                _ if f.opcode == 0x8 => return stdin,
                Some((255, _)) => return stdin,
                Some((0, data)) => stdin.extend_from_slice(data),
                _ => {}
            }
        }
        if buf.len() + stdin.len() > 1 << 20 {
            return stdin;
        }
        match tokio::time::timeout(Duration::from_secs(30), io.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => return stdin,
        }
    }
}

/// A query string as decoded (key, value) pairs, in order.
fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| {
            q.split('&')
                .filter(|kv| !kv.is_empty())
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    (percent_decode(k), percent_decode(&v.replace('+', " ")))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `%XX` escapes decoded; invalid escapes are kept as they are.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A watch as a chunked stream of JSON lines. The task sending them ends
/// when the client goes away, when the watch's timeout passes, or at
/// shutdown.
fn watch_response(shared: Arc<Shared>, mut w: Watch) -> Response<Body> {
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    tokio::spawn(async move {
        let deadline = w
            .timeout_seconds
            .and_then(|s| tokio::time::Instant::now().checked_add(Duration::from_secs(s)));
        let (horizon, initial) = {
            let c = shared.lock();
            (c.world.queue.now() + STEP_HORIZON, w.initial_lines(&c))
        };
        let sent_initial = !initial.is_empty();
        for line in initial {
            if tx.send(Bytes::from(line)).await.is_err() {
                return;
            }
        }
        if shared.clock == Clock::Step && sent_initial {
            // As below: the current state may be all the client wanted.
            tokio::select! {
                () = tx.closed() => return,
                () = tokio::time::sleep(STEP_GRACE) => {}
            }
        }
        loop {
            // Register interest before looking, so a change between the
            // look and the wait is not missed.
            let notified = shared.changed.notified();
            let lines = {
                let mut c = shared.lock();
                if shared.clock == Clock::Step && !pending(&c, &w) {
                    c.fast_forward(horizon, &|e| w.wants(e));
                }
                collect(&c, &mut w)
            };
            let lines = match lines {
                Ok(lines) => lines,
                Err(e) => {
                    let mut line =
                        serde_json::json!({"type": "ERROR", "object": e.to_status()}).to_string();
                    line.push('\n');
                    let _ = tx.send(Bytes::from(line)).await;
                    return;
                }
            };
            let delivered = !lines.is_empty();
            for line in lines {
                if tx.send(Bytes::from(line)).await.is_err() {
                    return;
                }
            }
            if shared.clock == Clock::Step && delivered {
                // The client may have what it waited for: give it time to
                // hang up before the clock moves on for it.
                tokio::select! {
                    () = tx.closed() => return,
                    () = tokio::time::sleep(STEP_GRACE) => continue,
                }
            }
            let wait = async {
                tokio::select! {
                    () = notified => {},
                    () = tokio::time::sleep(Duration::from_secs(1)) => {},
                    () = shared.stopped() => {},
                }
            };
            wait.await;
            if tx.is_closed() || deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
                return;
            }
        }
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/json")
        .body(ChannelBody(rx).boxed())
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()).boxed()))
}

/// Whether the watch has changes waiting.
fn pending(c: &ApiCluster, w: &Watch) -> bool {
    c.store
        .events_since(w.from)
        .is_ok_and(|mut events| events.any(|e| w.wants(e)))
}

/// The lines of the changes the watch has not seen, moving it past them.
fn collect(c: &ApiCluster, w: &mut Watch) -> Result<Vec<Vec<u8>>, super::status::ApiError> {
    let mut lines = Vec::new();
    let mut last = w.from;
    for e in c.store.events_since(w.from)? {
        last = e.rv;
        lines.extend(w.line(c, e));
    }
    w.from = last;
    Ok(lines)
}

/// A response body fed by a channel: each message is one chunk.
struct ChannelBody(mpsc::Receiver<Bytes>);

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.get_mut()
            .0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|b| Ok(Frame::data(b))))
    }
}

/// meshsim's own endpoints (the `istioctl` it puts on PATH, `meshsim
/// down`), under `/meshsim/v1/`, behind the same token.
fn internal_request(shared: &Arc<Shared>, what: &str, req: &Request) -> Response<Body> {
    match (req.method.as_str(), what) {
        ("POST", "shutdown") => {
            shared.stop();
            full(StatusCode::OK, "text/plain", "stopping\n")
        }
        ("GET", "status") => {
            let text = {
                let c = shared.lock();
                let pods: Vec<_> = c.world.cluster.live_pods().collect();
                let served = c.served_lines();
                let served = if served.is_empty() {
                    String::new()
                } else {
                    format!("LoadBalancer Services served on this machine:\n{served}")
                };
                format!(
                    "clock: {}, virtual time {}\nnamespaces: {}, pods: {} ({} ready), objects at resourceVersion {}\n{served}",
                    match shared.clock {
                        Clock::Step => "step".to_string(),
                        Clock::Wall { speed } => format!("wall x{speed}"),
                    },
                    c.now(),
                    c.world.cluster.namespaces.len(),
                    pods.len(),
                    pods.iter().filter(|p| p.ready).count(),
                    c.store.rv()
                )
            };
            full(StatusCode::OK, "text/plain", text)
        }
        ("POST", "istioctl") => {
            let reply = {
                let mut cluster = shared.lock();
                let reply = crate::istioctl::remote::serve(&mut cluster, &req.body);
                let _ = shared.save(&cluster);
                reply
            };
            shared.changed.notify_waiters();
            full(StatusCode::OK, "application/json", reply)
        }
        _ => full(
            StatusCode::NOT_FOUND,
            "text/plain",
            "no such meshsim endpoint\n",
        ),
    }
}
