//! `kubectl exec` over WebSocket, the `v5.channel.k8s.io` protocol
//! (`facts/kubectl-api.md` §5): the upgrade handshake, and frames whose
//! first byte is the stream — 0 stdin, 1 stdout, 2 stderr, 3 the command's
//! status as a `Status` object, 255 "this stream is closed" (v5). The
//! command runs in the simulated pod through meshsim's in-pod programs
//! ([`crate::exec`]). Sans-IO: bytes in, bytes out; `server.rs` owns the
//! socket.

use base64::Engine as _;
use serde_json::json;
use sha1::{Digest as _, Sha1};

/// The one protocol kubectl v1.32 offers and meshsim speaks.
pub const PROTOCOL: &str = "v5.channel.k8s.io";

/// `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key` (RFC 6455
/// §4.2.2).
pub fn accept_key(key: &str) -> String {
    let mut h = Sha1::new();
    h.update(key.trim().as_bytes());
    h.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

/// What `kubectl exec` asks for, from the query.
#[derive(Clone, Debug, PartialEq)]
pub struct Command {
    pub words: Vec<String>,
    pub container: Option<String>,
    pub stdin: bool,
}

impl Command {
    pub fn from_query(query: &[(String, String)]) -> Result<Command, String> {
        let words: Vec<String> = query
            .iter()
            .filter(|(k, _)| k == "command")
            .map(|(_, v)| v.clone())
            .collect();
        if words.is_empty() {
            return Err("you must specify at least 1 command".into());
        }
        let get = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        Ok(Command {
            words,
            container: get("container").map(str::to_string),
            stdin: matches!(get("stdin"), Some("true" | "1")),
        })
    }
}

/// One server-to-client binary frame carrying `data` on `channel`
/// (unmasked, as RFC 6455 requires of servers).
pub fn frame(channel: u8, data: &[u8]) -> Vec<u8> {
    let mut payload = Vec::with_capacity(data.len() + 1);
    payload.push(channel);
    payload.extend_from_slice(data);
    server_frame(0x2, &payload)
}

/// One final, unmasked server frame of `opcode` (2 binary, 8 close, 10
/// pong) carrying `payload`.
pub fn server_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let len = payload.len();
    let mut out = vec![0x80 | opcode];
    if len < 126 {
        out.push(len as u8);
    } else if let Ok(short) = u16::try_from(len) {
        out.push(126);
        out.extend_from_slice(&short.to_be_bytes());
    } else {
        out.push(127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(payload);
    out
}

/// A normal close frame (status 1000).
pub fn close_frame() -> Vec<u8> {
    vec![0x88, 0x02, 0x03, 0xe8]
}

/// The status kubectl reads on channel 3: Success, or the exit code it
/// turns into its own exit code ("command terminated with exit code N").
pub fn status(words: &[String], code: i32) -> Vec<u8> {
    let status = if code == 0 {
        json!({"metadata": {}, "status": "Success"})
    } else {
        json!({"metadata": {}, "status": "Failure",
            "message": format!("command terminated with non-zero exit code: error executing command [{}], exit code {code}", words.join(" ")),
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]}})
    };
    status.to_string().into_bytes()
}

/// A frame a client sent: its opcode and unmasked payload.
#[derive(Debug, PartialEq)]
pub struct ClientFrame {
    pub opcode: u8,
    pub payload: Vec<u8>,
}

/// Reads one client frame from the front of `buf`; `None` until a whole
/// frame is there. Returns the frame and how many bytes it took.
pub fn parse_client_frame(buf: &[u8]) -> Option<(ClientFrame, usize)> {
    let b0 = *buf.first()?;
    let b1 = *buf.get(1)?;
    let masked = b1 & 0x80 != 0;
    let (len, mut at) = match b1 & 0x7f {
        126 => (
            usize::from(u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?])),
            4,
        ),
        127 => {
            let bytes: [u8; 8] = buf.get(2..10)?.try_into().ok()?;
            (usize::try_from(u64::from_be_bytes(bytes)).ok()?, 10)
        }
        n => (usize::from(n), 2),
    };
    let mask: [u8; 4] = if masked {
        let m = buf.get(at..at + 4)?.try_into().ok()?;
        at += 4;
        m
    } else {
        [0; 4]
    };
    let payload = buf
        .get(at..at.checked_add(len)?)?
        .iter()
        .enumerate()
        .map(|(i, b)| b ^ mask[i % 4])
        .collect();
    Some((
        ClientFrame {
            opcode: b0 & 0x0f,
            payload,
        },
        at + len,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_accept_key_is_rfc_6455s() {
        // RFC 6455 §1.3's example.
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn frames_carry_their_channel_first() {
        assert_eq!(frame(1, b"hi\n"), [0x82, 4, 1, b'h', b'i', b'\n']);
        let big = frame(2, &[0; 200]);
        assert_eq!(&big[..4], &[0x82, 126, 0, 201]);
        assert_eq!(big[4], 2);
    }

    #[test]
    fn client_frames_are_unmasked() {
        // "\x00hi" masked with 1 2 3 4.
        let sent = [0x82, 0x83, 1, 2, 3, 4, 1, b'h' ^ 2, b'i' ^ 3, 0xff];
        let (f, used) = parse_client_frame(&sent).unwrap();
        assert_eq!(
            (f.opcode, f.payload.as_slice(), used),
            (2, &[0, b'h', b'i'][..], 9)
        );
        assert!(parse_client_frame(&sent[..5]).is_none());
    }

    #[test]
    fn exit_codes_become_kubectls() {
        let s: serde_json::Value =
            serde_json::from_slice(&status(&["sh".into(), "-c".into(), "exit 3".into()], 3))
                .unwrap();
        assert_eq!(s["details"]["causes"][0]["message"], "3");
        assert_eq!(s["reason"], "NonZeroExitCode");
        let q = vec![
            ("command".to_string(), "echo".to_string()),
            ("command".into(), "hi".into()),
            ("container".into(), "c".into()),
        ];
        assert_eq!(
            Command::from_query(&q).unwrap(),
            Command {
                words: vec!["echo".into(), "hi".into()],
                container: Some("c".into()),
                stdin: false
            }
        );
    }
}
