//! SPDY/3.1 framing, as much as `kubectl port-forward` speaks
//! (draft-mbelshe-httpbis-spdy-00; client-go's port-forward over
//! moby/spdystream, tunnelled in WebSocket messages since kubectl 1.31).
//! Sans-IO: bytes in, frames out; frames in, bytes out.
//!
//! Frames: control frames start with a set high bit, version 3 and a
//! type; data frames with a 31-bit stream id. Both carry 8 bits of flags
//! (FIN = 1) and a 24-bit length. SYN_STREAM and SYN_REPLY carry a header
//! block: a 32-bit count of name/value pairs, each a 32-bit length and
//! bytes, compressed with zlib over a preset dictionary, one compression
//! stream per direction for the whole connection.
//!
//! Incoming blocks are inflated with the dictionary as the window's
//! history (miniz's non-wrapping output buffer starts with it). Outgoing
//! blocks are "compressed" as stored deflate blocks: valid zlib that any
//! inflater reads, without the cost of a compressor.

use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::inflate::core::{DecompressorOxide, decompress, inflate_flags};

/// The dictionary of SPDY/3 header compression (§2.6.10.1): these header
/// names and values, each after its 32-bit big-endian length, then a run
/// of common status lines, dates and content types.
fn dictionary() -> Vec<u8> {
    const WORDS: [&str; 65] = [
        "options",
        "head",
        "post",
        "put",
        "delete",
        "trace",
        "accept",
        "accept-charset",
        "accept-encoding",
        "accept-language",
        "accept-ranges",
        "age",
        "allow",
        "authorization",
        "cache-control",
        "connection",
        "content-base",
        "content-encoding",
        "content-language",
        "content-length",
        "content-location",
        "content-md5",
        "content-range",
        "content-type",
        "date",
        "etag",
        "expect",
        "expires",
        "from",
        "host",
        "if-match",
        "if-modified-since",
        "if-none-match",
        "if-range",
        "if-unmodified-since",
        "last-modified",
        "location",
        "max-forwards",
        "pragma",
        "proxy-authenticate",
        "proxy-authorization",
        "range",
        "referer",
        "retry-after",
        "server",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "vary",
        "via",
        "warning",
        "www-authenticate",
        "method",
        "get",
        "status",
        "200 OK",
        "version",
        "HTTP/1.1",
        "url",
        "public",
        "set-cookie",
        "keep-alive",
        "origin",
    ];
    const TAIL: &str = concat!(
        "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505",
        "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request",
        "401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error",
        "501 Not Implemented503 Service Unavailable",
        "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 ",
        "Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT",
        "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,",
        "text/plain,text/javascript,publicprivatemax-age=gzip,deflate,sdch",
        "charset=utf-8charset=iso-8859-1,utf-,*,enq=0.",
    );
    let mut out = Vec::with_capacity(1424);
    for w in WORDS {
        out.extend_from_slice(&(w.len() as u32).to_be_bytes());
        out.extend_from_slice(w.as_bytes());
    }
    out.extend_from_slice(TAIL.as_bytes());
    out
}

const FLAG_FIN: u8 = 1;
const SYN_STREAM: u16 = 1;
const SYN_REPLY: u16 = 2;
const RST_STREAM: u16 = 3;
const PING: u16 = 6;
const GOAWAY: u16 = 7;
/// The largest frame accepted (spdystream's limit is the 24-bit length).
const MAX_FRAME: usize = 1 << 24;
/// History kept for the inflater beyond its 32 KiB window.
const WINDOW: usize = 32 * 1024;

/// A frame the client sent, as far as the server acts on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    SynStream {
        stream: u32,
        fin: bool,
        headers: Vec<(String, String)>,
    },
    Data {
        stream: u32,
        fin: bool,
        data: Vec<u8>,
    },
    RstStream {
        stream: u32,
    },
    Ping(u32),
    GoAway,
    /// SETTINGS, WINDOW_UPDATE, HEADERS and the like: nothing to do.
    Other,
}

/// Reads client frames from a byte stream.
pub struct Reader {
    buf: Vec<u8>,
    inflater: Inflater,
}

impl Default for Reader {
    fn default() -> Self {
        Reader {
            buf: Vec::new(),
            inflater: Inflater::new(),
        }
    }
}

impl Reader {
    /// Bytes as they arrived.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole frame, if one has arrived; an error ends the
    /// connection (a malformed frame or header block).
    pub fn frame(&mut self) -> Result<Option<Frame>, String> {
        if self.buf.len() < 8 {
            return Ok(None);
        }
        let len = usize::from(self.buf[5]) << 16
            | usize::from(self.buf[6]) << 8
            | usize::from(self.buf[7]);
        if len >= MAX_FRAME {
            return Err(format!("frame of {len} bytes"));
        }
        if self.buf.len() < 8 + len {
            return Ok(None);
        }
        let frame: Vec<u8> = self.buf.drain(..8 + len).collect();
        let flags = frame[4];
        let body = &frame[8..];
        let word = |at: usize| -> Result<u32, String> {
            body.get(at..at + 4)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                .ok_or_else(|| "truncated frame".to_string())
        };
        if frame[0] & 0x80 == 0 {
            return Ok(Some(Frame::Data {
                stream: u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]),
                fin: flags & FLAG_FIN != 0,
                data: body.to_vec(),
            }));
        }
        let version = u16::from_be_bytes([frame[0] & 0x7f, frame[1]]);
        if version != 3 {
            return Err(format!("SPDY version {version}"));
        }
        Ok(Some(match u16::from_be_bytes([frame[2], frame[3]]) {
            SYN_STREAM => {
                let stream = word(0)? & 0x7fff_ffff;
                let block = body.get(10..).ok_or("truncated SYN_STREAM")?;
                let headers = parse_headers(&self.inflater.inflate(block)?)?;
                Frame::SynStream {
                    stream,
                    fin: flags & FLAG_FIN != 0,
                    headers,
                }
            }
            RST_STREAM => Frame::RstStream {
                stream: word(0)? & 0x7fff_ffff,
            },
            PING => Frame::Ping(word(0)?),
            GOAWAY => Frame::GoAway,
            // HEADERS has a header block too: inflate it to keep the
            // compression stream in step.
            8 => {
                self.inflater
                    .inflate(body.get(4..).ok_or("truncated HEADERS")?)?;
                Frame::Other
            }
            _ => Frame::Other,
        }))
    }
}

/// Writes server frames.
#[derive(Default)]
pub struct Writer {
    /// Whether the compression stream's zlib header went out.
    started: bool,
}

impl Writer {
    /// SYN_REPLY for `stream`, with no headers: the stream is accepted.
    pub fn syn_reply(&mut self, stream: u32) -> Vec<u8> {
        let mut block = Vec::new();
        if !self.started {
            // CMF: deflate, 32 KiB window; FLG: no dictionary, check bits.
            block.extend_from_slice(&[0x78, 0x01]);
            self.started = true;
        }
        // A stored block, not final, holding the empty header list; then
        // an empty stored block, as zlib's sync flush ends a block: Go's
        // inflater stops there with the data in hand, where after a
        // block's last byte it would read on into the next frame's.
        let data = 0u32.to_be_bytes();
        block.push(0);
        block.extend_from_slice(&(data.len() as u16).to_le_bytes());
        block.extend_from_slice(&(!(data.len() as u16)).to_le_bytes());
        block.extend_from_slice(&data);
        block.extend_from_slice(&[0, 0, 0, 0xff, 0xff]);
        let mut body = (stream & 0x7fff_ffff).to_be_bytes().to_vec();
        body.extend_from_slice(&block);
        control(SYN_REPLY, 0, &body)
    }

    /// DATA on `stream`; `fin` closes the server's side of it.
    pub fn data(stream: u32, data: &[u8], fin: bool) -> Vec<u8> {
        let mut out = (stream & 0x7fff_ffff).to_be_bytes().to_vec();
        out.push(if fin { FLAG_FIN } else { 0 });
        out.extend_from_slice(&(data.len() as u32).to_be_bytes()[1..]);
        out.extend_from_slice(data);
        out
    }

    /// The answer to a client's PING.
    pub fn ping(id: u32) -> Vec<u8> {
        control(PING, 0, &id.to_be_bytes())
    }
}

fn control(kind: u16, flags: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![0x80, 3];
    out.extend_from_slice(&kind.to_be_bytes());
    out.push(flags);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(body);
    out
}

/// The name/value pairs of an inflated header block.
fn parse_headers(block: &[u8]) -> Result<Vec<(String, String)>, String> {
    let mut at = 0;
    let mut take = |n: usize| -> Result<&[u8], String> {
        let s = block.get(at..at + n).ok_or("truncated header block")?;
        at += n;
        Ok(s)
    };
    let count = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
    let pairs = count(take(4)?);
    let mut out = Vec::new();
    for _ in 0..pairs.min(1024) {
        let n = count(take(4)?);
        let name = String::from_utf8_lossy(take(n)?).into_owned();
        let n = count(take(4)?);
        let value = String::from_utf8_lossy(take(n)?).into_owned();
        out.push((name, value));
    }
    Ok(out)
}

/// The client's header compression stream, inflated block by block.
struct Inflater {
    state: Box<DecompressorOxide>,
    /// Everything inflated so far (the dictionary first), trimmed to the
    /// window between blocks.
    history: Vec<u8>,
    header_read: bool,
}

impl Inflater {
    fn new() -> Inflater {
        Inflater {
            state: Box::default(),
            history: dictionary(),
            header_read: false,
        }
    }

    /// Inflates one frame's header block.
    fn inflate(&mut self, mut block: &[u8]) -> Result<Vec<u8>, String> {
        if !self.header_read {
            // zlib's CMF and FLG, then the dictionary's id when FDICT is set.
            let [_, flg, ..] = *block else {
                return Err("truncated zlib header".into());
            };
            let skip = if flg & 0x20 != 0 { 6 } else { 2 };
            block = block.get(skip..).ok_or("truncated zlib header")?;
            self.header_read = true;
        }
        if self.history.len() > 4 * WINDOW {
            self.history.drain(..self.history.len() - WINDOW);
        }
        let start = self.history.len();
        let flags = inflate_flags::TINFL_FLAG_HAS_MORE_INPUT
            | inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
        loop {
            let pos = self.history.len();
            self.history.resize(pos + 4096, 0);
            let (status, read, written) =
                decompress(&mut self.state, block, &mut self.history, pos, flags);
            self.history.truncate(pos + written);
            block = &block[read..];
            if self.history.len() - start > MAX_FRAME {
                return Err("header block too large".into());
            }
            match status {
                TINFLStatus::HasMoreOutput => continue,
                TINFLStatus::NeedsMoreInput if block.is_empty() => break,
                // A final block ends the stream: nothing may follow it.
                TINFLStatus::Done if block.is_empty() => break,
                TINFLStatus::Done => return Err("header block after the end of its stream".into()),
                TINFLStatus::NeedsMoreInput if read == 0 && written == 0 => {
                    return Err("header block: no progress".into());
                }
                TINFLStatus::NeedsMoreInput => continue,
                other => return Err(format!("header block: {other:?}")),
            }
        }
        Ok(self.history[start..].to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dictionary's shape; that it is byte-exact shows end to end, in
    /// the kubectl test, where the client's blocks refer back into it.
    #[test]
    fn the_dictionary_has_the_specs_shape() {
        let d = dictionary();
        assert_eq!(&d[..11], b"\0\0\0\x07options");
        assert!(d.ends_with(b"utf-,*,enq=0."));
        assert_eq!(d.len(), 1423);
    }

    #[test]
    fn replies_are_stored_zlib_blocks_a_reader_inflates() {
        let mut w = Writer::default();
        let first = w.syn_reply(1);
        assert_eq!(&first[..8], &[0x80, 3, 0, 2, 0, 0, 0, 20]);
        // Read it back with the inflater (a stream without a dictionary id).
        let mut inflater = Inflater::new();
        assert_eq!(inflater.inflate(&first[12..]).unwrap(), [0, 0, 0, 0]);
        let second = w.syn_reply(3);
        assert_eq!(inflater.inflate(&second[12..]).unwrap(), [0, 0, 0, 0]);
    }

    #[test]
    fn bytes_after_the_final_block_are_an_error_not_a_spin() {
        let mut inflater = Inflater::new();
        // zlib header, a final empty stored block, then stray bytes.
        let block = [0x78, 0x01, 0x01, 0x00, 0x00, 0xff, 0xff, 1, 2, 3];
        assert!(inflater.inflate(&block).is_err());
    }

    #[test]
    fn frames_wait_until_whole() {
        let mut r = Reader::default();
        let frame = Writer::data(5, b"GET /", true);
        r.push(&frame[..6]);
        assert_eq!(r.frame(), Ok(None));
        r.push(&frame[6..]);
        assert_eq!(
            r.frame(),
            Ok(Some(Frame::Data {
                stream: 5,
                fin: true,
                data: b"GET /".to_vec()
            }))
        );
        r.push(&Writer::ping(7));
        assert_eq!(r.frame(), Ok(Some(Frame::Ping(7))));
    }
}
