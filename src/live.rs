//! The live driver: real sockets for the LoadBalancer Services of a
//! `meshsim up` cluster, so the user's own curl (or browser) reaches the
//! simulated mesh. Each Service port is served on the cluster's listen
//! address at the Service's declared port when it is free, else on the
//! next loopback address (127.0.0.2, …) at that port, and the Service's
//! `status.loadBalancer.ingress[0].ip` says where — so the course's
//! `INGRESS_HOST`/`INGRESS_PORT` recipe gives a `GATEWAY_URL` curl can
//! reach. Where the user may not bind a port below 1024, the port is
//! served at port + 10000 instead; the Service's `meshsim.io/served-at`
//! annotation and `meshsim status` always say where each port is. A request is parsed by hyper and enters the Service's gateway
//! pod as a simulated request does ([`crate::world::World::probe`]): the
//! same routing, policy, resilience and application models, on the
//! cluster's clock.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Response, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::api::server::Shared;
use crate::world::probe::{ProbeFrom, ProbeRequest};

/// Connections served at once, over all listeners; more wait.
const MAX_CONNECTIONS: usize = 512;
/// The largest request body accepted.
const MAX_BODY: usize = 1 << 20;
/// How long one request may take, wall time.
const DEADLINE: Duration = Duration::from_secs(120);
/// Loopback addresses tried after the listen address, when a port is
/// taken there.
const SPARE_ADDRESSES: u8 = 16;

/// A Service port to serve: namespace, name and port.
pub type Want = (String, String, u16);

/// Keeps one listener per LoadBalancer Service port, opening and closing
/// them as Services come and go; runs until shutdown.
pub async fn run(shared: Arc<Shared>, listen: IpAddr) {
    let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut open: BTreeMap<Want, tokio::task::JoinHandle<()>> = BTreeMap::new();
    loop {
        let notified = shared.changed.notified();
        let wanted = wanted_ports(&shared);
        open.retain(|want, task| {
            let keep = wanted.contains(want);
            if !keep {
                task.abort();
            }
            keep
        });
        let mut bound = Vec::new();
        for want in wanted {
            if open.contains_key(&want) {
                continue;
            }
            match bind(listen, want.2).await {
                Ok(listener) => {
                    let at = listener
                        .local_addr()
                        .unwrap_or(SocketAddr::new(listen, want.2));
                    if at.port() != want.2 {
                        eprintln!(
                            "meshsim: binding port {} needs privileges here; Service {}/{} port {} is served at {at} (`meshsim status`, annotation {})",
                            want.2,
                            want.0,
                            want.1,
                            want.2,
                            crate::api::project::SERVED_AT
                        );
                    }
                    bound.push((want.clone(), at));
                    let task = tokio::spawn(serve(
                        listener,
                        want.clone(),
                        shared.clone(),
                        permits.clone(),
                    ));
                    open.insert(want, task);
                }
                Err(e) => eprintln!(
                    "meshsim: cannot serve Service {}/{} port {} on any loopback address: {e}",
                    want.0, want.1, want.2
                ),
            }
        }
        if !bound.is_empty() {
            let mut c = shared.lock();
            for ((ns, name, port), at) in bound {
                c.set_served(&ns, &name, port, at);
            }
            drop(c);
            shared.changed.notify_waiters();
        }
        tokio::select! {
            () = notified => {}
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            () = shared.stopped() => {
                open.values().for_each(|t| t.abort());
                return;
            }
        }
    }
}

/// The ports of every LoadBalancer Service in the cluster.
fn wanted_ports(shared: &Shared) -> Vec<Want> {
    let c = shared.lock();
    c.world
        .cluster
        .services
        .iter()
        .filter(|s| !s.deleted && s.type_ == "LoadBalancer")
        .flat_map(|s| {
            s.ports
                .iter()
                .map(|p| (s.namespace.clone(), s.name.clone(), p.port))
        })
        .collect()
}

/// The listen address at `port`, or the first spare loopback address
/// where it is free. A port below 1024 this user may not bind is served
/// at port + 10000 (or any free port) instead: the Service's annotation
/// and `meshsim status` say where.
async fn bind(listen: IpAddr, port: u16) -> std::io::Result<TcpListener> {
    let mut last = match TcpListener::bind(SocketAddr::new(listen, port)).await {
        Ok(l) => return Ok(l),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            if let Some(instead) = port.checked_add(10_000)
                && let Ok(l) = TcpListener::bind(SocketAddr::new(listen, instead)).await
            {
                return Ok(l);
            }
            return TcpListener::bind(SocketAddr::new(listen, 0)).await;
        }
        Err(e) => e,
    };
    if listen.is_loopback() {
        for n in 2..2 + SPARE_ADDRESSES {
            match TcpListener::bind(SocketAddr::new(
                IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)),
                port,
            ))
            .await
            {
                Ok(l) => return Ok(l),
                Err(e) => last = e,
            }
        }
    }
    Err(last)
}

async fn serve(listener: TcpListener, want: Want, shared: Arc<Shared>, permits: Arc<Semaphore>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of descriptors, say: wait rather than spin.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let entry = Entry::Service(want.clone());
        let shared = shared.clone();
        tokio::spawn(async move {
            serve_http(stream, shared, entry).await;
            drop(permit);
        });
    }
}

/// Where a real connection enters the simulated cluster.
#[derive(Clone, Debug)]
pub enum Entry {
    /// A LoadBalancer Service port: its gateway pod's Envoy.
    Service(Want),
    /// A pod's own port from inside its network namespace (`kubectl
    /// port-forward`): the application, or a gateway's Envoy, without the
    /// sidecar in the way.
    Pod(crate::k8s::PodId, u16),
}

/// Serves HTTP/1.1 on a byte stream: every request enters the cluster at
/// `entry` and its simulated answer goes back.
pub async fn serve_http<IO>(io: IO, shared: Arc<Shared>, entry: Entry)
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let io = hyper_util::rt::TokioIo::new(io);
    // A port-forwarded client's closed write side (kubectl relays its
    // FIN) still gets its answers, as a real server's would.
    let half_close = matches!(entry, Entry::Pod(..));
    let service = hyper::service::service_fn(move |req| answer(shared.clone(), entry.clone(), req));
    let _ = hyper::server::conn::http1::Builder::new()
        .max_buf_size(64 * 1024)
        .half_close(half_close)
        .serve_connection(io, service)
        .await;
}

type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

fn plain(status: StatusCode, text: &str) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(text.to_string())).boxed());
    *r.status_mut() = status;
    r
}

/// The gateway reset the connection instead of answering (no listener for
/// the port, a reset upstream): hyper drops the connection, and the client
/// sees no response ("Empty reply from server").
#[derive(Debug)]
struct Reset;

impl std::fmt::Display for Reset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the simulated gateway reset the connection")
    }
}

impl std::error::Error for Reset {}

/// One real request through the simulated cluster.
async fn answer(
    shared: Arc<Shared>,
    entry: Entry,
    req: hyper::Request<Incoming>,
) -> Result<Response<Body>, Reset> {
    let (parts, body) = req.into_parts();
    if http_body_util::Limited::new(body, MAX_BODY)
        .collect()
        .await
        .is_err()
    {
        return Ok(plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large\n",
        ));
    }
    let host = parts
        .headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_string();
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter(|(k, _)| *k != "host")
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/".to_string(), |p| p.as_str().to_string());
    let run = {
        let shared = shared.clone();
        let method = parts.method.to_string();
        tokio::task::spawn_blocking(move || {
            let mut c = shared.lock();
            let (from, port) = match &entry {
                Entry::Service((ns, name, port)) => {
                    let gateway = c.world.cluster.find_service(ns, name).and_then(|id| {
                        let svc = c.world.cluster.service(id);
                        let i = svc.port_index(*port)?;
                        svc.endpoints.get(i)?.first().map(|e| e.pod)
                    });
                    let Some(gateway) = gateway else {
                        return Err("no endpoint".to_string());
                    };
                    (ProbeFrom::Gateway(gateway), *port)
                }
                Entry::Pod(pod, port) => (ProbeFrom::Local(*pod), *port),
            };
            let probe = ProbeRequest {
                from,
                host: crate::dataplane::xds::strip_port(&host).to_string(),
                port,
                method,
                path,
                headers,
            };
            let result = c.world.probe(&probe, false).map(|(r, _)| r);
            c.sync_if_changed();
            result
        })
    };
    let result = match tokio::time::timeout(DEADLINE, run).await {
        Ok(Ok(r)) => r,
        _ => {
            return Ok(plain(
                StatusCode::GATEWAY_TIMEOUT,
                "meshsim: the simulated request took too long\n",
            ));
        }
    };
    shared.changed.notify_waiters();
    let r = match result {
        Ok(r) => r,
        // Nothing serves the Service: as kube-proxy with no endpoint.
        Err(_) => {
            return Ok(plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "no healthy upstream",
            ));
        }
    };
    // On a wall clock the answer takes its simulated time (a 7 s fault
    // delay is 7 s at --speed 1); on a step clock it is immediate.
    if let Some(speed) = shared.wall_speed() {
        let secs = r.latency_ms / 1000.0 / speed;
        if secs.is_finite() && secs > 0.0 {
            tokio::time::sleep(Duration::from_secs_f64(secs.min(DEADLINE.as_secs_f64()))).await;
        }
    }
    let Some(status) = r.status.and_then(|s| StatusCode::from_u16(s).ok()) else {
        return Err(Reset);
    };
    let mut response = Response::new(Full::new(Bytes::from(r.body)).boxed());
    *response.status_mut() = status;
    for (k, v) in &r.response_headers {
        if k == "content-length" || k == "transfer-encoding" {
            continue;
        }
        if let (Ok(k), Ok(v)) = (
            hyper::header::HeaderName::from_bytes(k.as_bytes()),
            hyper::header::HeaderValue::from_str(v),
        ) {
            response.headers_mut().append(k, v);
        }
    }
    Ok(response)
}
