//! `kubectl port-forward`: the pod's `portforward` subresource. kubectl
//! 1.32 tunnels SPDY/3.1 in WebSocket binary messages (subprotocol
//! `SPDY/3.1+portforward.k8s.io`) and falls back to a plain SPDY upgrade;
//! both carry the same streams ([`super::spdy`]).
//!
//! For each local connection kubectl opens two streams with the headers
//! `streamType` (`error` or `data`), `port` and `requestID`; the server
//! accepts each at once (SYN_REPLY). Once both are there, the data stream
//! is the connection to the pod's port from inside its network namespace:
//! meshsim serves HTTP/1.1 on it ([`crate::live::serve_http`]) and each
//! request enters the pod's application (or a gateway's Envoy) directly,
//! as loopback traffic passes a sidecar by. A port no container declares
//! is refused as the kubelet refuses it, on the error stream, which
//! kubectl prints. When the connection ends both streams are closed.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::sync::mpsc;

use super::server::Shared;
use super::spdy::{Frame, Reader, Writer};
use crate::k8s::PodId;
use crate::live::{Entry, serve_http};

/// The WebSocket subprotocol kubectl offers for the tunnel.
pub const TUNNEL_PROTOCOL: &str = "SPDY/3.1+portforward.k8s.io";
/// The stream protocol of a plain SPDY upgrade.
pub const STREAM_PROTOCOL: &str = "portforward.k8s.io";

/// What the session writes, in order, through one header compressor.
enum Out {
    Reply(u32),
    Data(u32, Vec<u8>, bool),
    Ping(u32),
}

/// The two streams of one forwarded connection, as they arrive.
#[derive(Default)]
struct Pair {
    error: Option<u32>,
    data: Option<u32>,
    port: Option<u16>,
}

/// Runs a port-forward session on a SPDY byte stream until the client
/// goes away.
pub async fn session<IO>(io: IO, shared: Arc<Shared>, pod: PodId)
where
    IO: AsyncRead + AsyncWrite + Send + 'static,
{
    let (mut rd, mut wr) = tokio::io::split(io);
    let (tx, mut rx) = mpsc::channel::<Out>(256);
    let writer = tokio::spawn(async move {
        let mut w = Writer::default();
        while let Some(out) = rx.recv().await {
            let bytes = match out {
                Out::Reply(stream) => w.syn_reply(stream),
                Out::Data(stream, data, fin) => Writer::data(stream, &data, fin),
                Out::Ping(id) => Writer::ping(id),
            };
            if wr.write_all(&bytes).await.is_err() {
                break;
            }
        }
        let _ = wr.shutdown().await;
    });
    let mut reader = Reader::default();
    let mut pairs: BTreeMap<String, Pair> = BTreeMap::new();
    let mut inputs: BTreeMap<u32, mpsc::Sender<Vec<u8>>> = BTreeMap::new();
    let mut buf = vec![0u8; 16 * 1024];
    'session: loop {
        let n = match rd.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        reader.push(&buf[..n]);
        loop {
            let frame = match reader.frame() {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(_) => break 'session,
            };
            match frame {
                Frame::SynStream {
                    stream, headers, ..
                } => {
                    if tx.send(Out::Reply(stream)).await.is_err() {
                        break 'session;
                    }
                    let get = |name: &str| {
                        headers
                            .iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case(name))
                            .map(|(_, v)| v.clone())
                    };
                    let id = get("requestID").unwrap_or_default();
                    let pair = pairs.entry(id.clone()).or_default();
                    pair.port = get("port").and_then(|p| p.parse().ok());
                    match get("streamType").as_deref() {
                        Some("error") => pair.error = Some(stream),
                        Some("data") => pair.data = Some(stream),
                        _ => {}
                    }
                    if let (Some(error), Some(data)) = (pair.error, pair.data) {
                        let port = pair.port.unwrap_or(0);
                        pairs.remove(&id);
                        if let Some(input) =
                            connect(&shared, pod, port, error, data, tx.clone()).await
                        {
                            inputs.insert(data, input);
                        }
                    }
                }
                Frame::Data { stream, fin, data } => {
                    if let Some(input) = inputs.get(&stream)
                        && !data.is_empty()
                        && input.send(data).await.is_err()
                    {
                        inputs.remove(&stream);
                    }
                    if fin {
                        // The client closed its side: the pod reads EOF.
                        inputs.remove(&stream);
                    }
                }
                Frame::RstStream { stream } => {
                    inputs.remove(&stream);
                }
                Frame::Ping(id) => {
                    if tx.send(Out::Ping(id)).await.is_err() {
                        break 'session;
                    }
                }
                Frame::GoAway => break 'session,
                Frame::Other => {}
            }
        }
    }
    drop(inputs);
    drop(tx);
    let _ = writer.await;
}

/// Opens the connection of one stream pair to `port` of the pod: its
/// input, or `None` when the kubelet refused it (the error stream says
/// why, both streams are closed).
async fn connect(
    shared: &Arc<Shared>,
    pod: PodId,
    port: u16,
    error: u32,
    data: u32,
    tx: mpsc::Sender<Out>,
) -> Option<mpsc::Sender<Vec<u8>>> {
    let refusal = {
        let c = shared.lock();
        let p = c.world.cluster.pod(pod);
        let declared = p
            .template
            .spec
            .containers
            .iter()
            .flat_map(|c| c.ports.iter())
            .any(|cp| cp.container_port == i32::from(port));
        (!declared).then(|| refused(&p.key(), port))
    };
    if let Some(message) = refusal {
        let _ = tx.send(Out::Data(error, message.into_bytes(), true)).await;
        let _ = tx.send(Out::Data(data, Vec::new(), true)).await;
        return None;
    }
    let (client, server) = tokio::io::duplex(64 * 1024);
    tokio::spawn(serve_http(server, shared.clone(), Entry::Pod(pod, port)));
    let (mut from_pod, mut to_pod) = tokio::io::split(client);
    let (input, mut inbox) = mpsc::channel::<Vec<u8>>(64);
    tokio::spawn(async move {
        while let Some(bytes) = inbox.recv().await {
            if to_pod.write_all(&bytes).await.is_err() {
                return;
            }
        }
        let _ = to_pod.shutdown().await;
    });
    tokio::spawn(async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match from_pod.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx
                        .send(Out::Data(data, buf[..n].to_vec(), false))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
        let _ = tx.send(Out::Data(data, Vec::new(), true)).await;
        let _ = tx.send(Out::Data(error, Vec::new(), true)).await;
    });
    Some(input)
}

/// The kubelet's (containerd's) words for a port nothing listens on,
/// with the pod's sandbox id and network namespace.
fn refused(pod: &str, port: u16) -> String {
    let sandbox = format!(
        "{:016x}{:016x}{:016x}{:016x}",
        crate::k8s::names::fnv64(pod.as_bytes()),
        crate::k8s::names::fnv64(format!("{pod}/sandbox").as_bytes()),
        crate::k8s::names::fnv64(format!("{pod}/sandbox/1").as_bytes()),
        crate::k8s::names::fnv64(format!("{pod}/sandbox/2").as_bytes()),
    );
    let netns = crate::k8s::names::fnv64(format!("{pod}/netns").as_bytes());
    format!(
        "error forwarding port {port} to pod {sandbox}, uid : failed to execute portforward in network namespace \"/var/run/netns/cni-{:08x}-{:04x}-{:04x}-{:04x}-{:012x}\": failed to connect to localhost:{port} inside namespace \"{sandbox}\", IPv4: dial tcp4 127.0.0.1:{port}: connect: connection refused IPv6 dial tcp6 [::1]:{port}: connect: connection refused ",
        netns >> 32,
        (netns >> 16) & 0xffff,
        netns & 0xffff,
        (netns >> 48) & 0xffff,
        netns & 0xffff_ffff_ffff
    )
}

/// Unwraps the WebSocket tunnel: the client's binary messages are the
/// SPDY byte stream in, the server's go out as binary messages; pings are
/// answered, a close ends the tunnel.
pub async fn websocket_tunnel<IO>(io: IO, shared: Arc<Shared>, pod: PodId)
where
    IO: AsyncRead + AsyncWrite + Send + 'static,
{
    use super::exec::{parse_client_frame, server_frame};
    let (inner, outer) = tokio::io::duplex(64 * 1024);
    let session = tokio::spawn(session(inner, shared, pod));
    let (mut ws_rd, mut ws_wr) = tokio::io::split(io);
    let (mut spdy_rd, mut spdy_wr) = tokio::io::split(outer);
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(64);
    let writer = tokio::spawn(async move {
        while let Some(frame) = rx.recv().await {
            if ws_wr.write_all(&frame).await.is_err() {
                break;
            }
        }
        let _ = ws_wr.shutdown().await;
    });
    let out = tx.clone();
    let pump = tokio::spawn(async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match spdy_rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if out.send(server_frame(0x2, &buf[..n])).await.is_err() {
                        return;
                    }
                }
            }
        }
        let _ = out.send(server_frame(0x8, &1000u16.to_be_bytes())).await;
    });
    let mut pending = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    'tunnel: loop {
        let n = match ws_rd.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        pending.extend_from_slice(&buf[..n]);
        while let Some((frame, used)) = parse_client_frame(&pending) {
            pending.drain(..used);
            let delivered = match frame.opcode {
                0x0 | 0x2 => spdy_wr.write_all(&frame.payload).await.is_ok(),
                0x8 => false,
                0x9 => tx.send(server_frame(0xA, &frame.payload)).await.is_ok(),
                _ => true,
            };
            if !delivered {
                break 'tunnel;
            }
        }
        if pending.len() > 1 << 24 {
            break;
        }
    }
    let _ = spdy_wr.shutdown().await;
    let _ = session.await;
    let _ = pump.await;
    drop(tx);
    let _ = writer.await;
}
