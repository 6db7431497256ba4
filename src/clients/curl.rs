//! `curl` 8.16.0 as the `curlimages/curl` image ships it, sans-IO.
//!
//! [`parse`] reads the command line, [`request_headers`] gives the request
//! curl sends, and [`render`] turns what the simulation made of that request
//! (a [`Transfer`]) into the bytes curl writes to stdout, stderr and files,
//! and its exit code. Messages and layouts follow curl's own sources at tag
//! `curl-8_16_0` (`src/tool_getparam.c`, `src/tool_writeout.c`,
//! `lib/progress.c`, `lib/http.c`, `lib/multi.c`).
//!
//! Assumptions, where curl depends on its surroundings:
//! - stdout is not a terminal (`kubectl exec` without `-t`): curl then shows
//!   its progress meter on stderr unless `-s`, and `-v` notes
//!   `{ [N bytes data]` instead of the body;
//! - the progress meter is updated at the start, at every whole second of
//!   the transfer and at the end, as if the transfer began on a second;
//! - the body arrives in one piece at `time_total_s`, an upload is sent at
//!   `time_connect_s`;
//! - the connection number is always `#0` (one transfer per `render`).

use std::fmt::Write as _;

/// The version the `curlimages/curl` image in the labs reports.
pub const VERSION: &str = "8.16.0";
/// curl's default `User-Agent`.
pub const USER_AGENT: &str = "curl/8.16.0";

const TRY_HELP: &str = "curl: try 'curl --help' or 'curl --manual' for more information";

/// Command-line errors, each with curl's text and exit code.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CurlError {
    #[error("curl: option {0}: is unknown")]
    UnknownOption(String),
    #[error("curl: option {0}: requires parameter")]
    MissingParameter(String),
    #[error("curl: option {0}: expected a proper numerical parameter")]
    BadNumber(String),
    /// Two options that select different methods (`-I` and `-d`).
    #[error("curl: option {option}: is badly used here")]
    MethodConflict {
        option: String,
        asked: &'static str,
        before: &'static str,
    },
    #[error("curl: (2) no URL specified")]
    NoUrl,
    #[error("curl: (1) Protocol \"{0}\" not supported")]
    UnsupportedProtocol(String),
    #[error("curl: (3) URL rejected: Malformed input to a URL function")]
    MalformedUrl(String),
    #[error("curl: (3) URL rejected: Port number was not a decimal number between 0 and 65535")]
    BadPort(String),
    /// A real curl option (or form of one) that meshsim does not simulate.
    #[error("curl: option {0}: not simulated by meshsim")]
    NotSimulated(String),
}

impl CurlError {
    /// The exit code curl ends with.
    pub fn exit_code(&self) -> i32 {
        match self {
            CurlError::UnsupportedProtocol(_) => 1,
            CurlError::MalformedUrl(_) | CurlError::BadPort(_) => 3,
            _ => 2,
        }
    }

    /// Everything curl writes to stderr for this error, newline-terminated.
    pub fn stderr(&self) -> String {
        match self {
            CurlError::UnsupportedProtocol(_)
            | CurlError::MalformedUrl(_)
            | CurlError::BadPort(_)
            | CurlError::NotSimulated(_) => format!("{self}\n"),
            CurlError::MethodConflict { asked, before, .. } => format!(
                "Warning: You can only select one HTTP request method! You asked for both \
                 {asked} and {before}.\n{self}\n{TRY_HELP}\n"
            ),
            _ => format!("{self}\n{TRY_HELP}\n"),
        }
    }

    /// The error as a finished run of curl.
    pub fn output(&self) -> Output {
        Output {
            stdout: Vec::new(),
            stderr: self.stderr().into_bytes(),
            exit_code: self.exit_code(),
            files: Vec::new(),
        }
    }
}

/// A URL as curl splits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// `http` or `https` (curl guesses `http` when none is given).
    pub scheme: String,
    pub host: String,
    pub port: u16,
    /// Whether the port was written in the URL.
    pub port_given: bool,
    /// Path and query, `/` when empty; the fragment is dropped.
    pub path: String,
}

impl Url {
    /// Parses a URL the way curl accepts it on its command line.
    pub fn parse(raw: &str) -> Result<Url, CurlError> {
        let (scheme, rest) = match raw.find("://") {
            Some(i) => (raw[..i].to_ascii_lowercase(), &raw[i + 3..]),
            None => ("http".to_string(), raw),
        };
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return Err(CurlError::UnsupportedProtocol(scheme)),
        };
        let rest = rest.split('#').next().unwrap_or_default();
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        let authority = authority.rsplit('@').next().unwrap_or_default();
        let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
            let end = inner
                .find(']')
                .ok_or_else(|| CurlError::MalformedUrl(raw.to_string()))?;
            (&authority[..end + 2], inner[end + 1..].strip_prefix(':'))
        } else {
            match authority.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() || host.contains(char::is_whitespace) {
            return Err(CurlError::MalformedUrl(raw.to_string()));
        }
        let (port, port_given) = match port {
            None | Some("") => (default_port, false),
            Some(p) => match p.parse::<u16>() {
                Ok(n) if p.bytes().all(|b| b.is_ascii_digit()) => (n, true),
                _ => return Err(CurlError::BadPort(raw.to_string())),
            },
        };
        let path = match path {
            "" => "/".to_string(),
            p if p.starts_with('?') => format!("/{p}"),
            p => p.to_string(),
        };
        Ok(Url {
            scheme,
            host: host.to_string(),
            port,
            port_given,
            path,
        })
    }

    /// The URL as `%{url_effective}` shows it.
    pub fn effective(&self) -> String {
        if self.port_given {
            format!("{}://{}:{}{}", self.scheme, self.host, self.port, self.path)
        } else {
            format!("{}://{}{}", self.scheme, self.host, self.path)
        }
    }

    fn default_port(&self) -> bool {
        (self.scheme == "http" && self.port == 80) || (self.scheme == "https" && self.port == 443)
    }

    fn is_ip(&self) -> bool {
        self.host.starts_with('[') || self.host.parse::<std::net::Ipv4Addr>().is_ok()
    }
}

/// A `--resolve host:port:addr` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolve {
    pub host: String,
    pub port: u16,
    pub addr: String,
}

/// What the command line asks of curl.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CurlArgs {
    pub urls: Vec<Url>,
    pub silent: bool,
    pub show_error: bool,
    pub verbose: bool,
    /// `-I`: a HEAD request, headers to the output.
    pub head: bool,
    /// `-i`: response headers before the body.
    pub include: bool,
    pub output: Option<String>,
    pub write_out: Option<String>,
    /// `-H` lines as given.
    pub headers: Vec<String>,
    pub max_time_s: Option<f64>,
    pub connect_timeout_s: Option<f64>,
    /// `-X`.
    pub request: Option<String>,
    /// `-d`/`--data-raw` parts, joined with `&` when sent.
    pub data: Vec<String>,
    pub location: bool,
    pub insecure: bool,
    pub http1_1: bool,
    pub resolve: Vec<Resolve>,
    pub fail: bool,
    pub cacert: Option<String>,
    pub user_agent: Option<String>,
    /// `-b` cookie strings (those with `=`); file names are ignored.
    pub cookies: Vec<String>,
    /// `--no-progress-meter`.
    pub no_progress_meter: bool,
}

enum Flag {
    Silent,
    ShowError,
    Verbose,
    Head,
    Include,
    Location,
    Insecure,
    Fail,
    ProgressMeter,
    Output,
    WriteOut,
    Header,
    MaxTime,
    ConnectTimeout,
    Request,
    Data,
    DataRaw,
    Resolve,
    Cacert,
    UserAgent,
    Cookie,
    Http11,
    Ignored,
}

impl Flag {
    fn takes_arg(&self) -> bool {
        !matches!(
            self,
            Flag::Silent
                | Flag::ShowError
                | Flag::Verbose
                | Flag::Head
                | Flag::Include
                | Flag::Location
                | Flag::Insecure
                | Flag::Fail
                | Flag::ProgressMeter
                | Flag::Http11
                | Flag::Ignored
        )
    }

    fn is_bool(&self) -> bool {
        !self.takes_arg() && !matches!(self, Flag::Http11)
    }
}

fn long_flag(name: &str) -> Option<Flag> {
    Some(match name {
        "silent" => Flag::Silent,
        "show-error" => Flag::ShowError,
        "verbose" => Flag::Verbose,
        "head" => Flag::Head,
        "include" | "show-headers" => Flag::Include,
        "location" => Flag::Location,
        "insecure" => Flag::Insecure,
        "fail" => Flag::Fail,
        "progress-meter" => Flag::ProgressMeter,
        "buffer" => Flag::Ignored,
        "output" => Flag::Output,
        "write-out" => Flag::WriteOut,
        "header" => Flag::Header,
        "max-time" => Flag::MaxTime,
        "connect-timeout" => Flag::ConnectTimeout,
        "request" => Flag::Request,
        "data" | "data-ascii" => Flag::Data,
        "data-raw" => Flag::DataRaw,
        "resolve" => Flag::Resolve,
        "cacert" => Flag::Cacert,
        "user-agent" => Flag::UserAgent,
        "cookie" => Flag::Cookie,
        "http1.1" => Flag::Http11,
        _ => return None,
    })
}

fn short_flag(c: char) -> Option<Flag> {
    Some(match c {
        's' => Flag::Silent,
        'S' => Flag::ShowError,
        'v' => Flag::Verbose,
        'I' => Flag::Head,
        'i' => Flag::Include,
        'L' => Flag::Location,
        'k' => Flag::Insecure,
        'f' => Flag::Fail,
        'N' => Flag::Ignored,
        'o' => Flag::Output,
        'w' => Flag::WriteOut,
        'H' => Flag::Header,
        'm' => Flag::MaxTime,
        'X' => Flag::Request,
        'd' => Flag::Data,
        'A' => Flag::UserAgent,
        'b' => Flag::Cookie,
        _ => return None,
    })
}

/// curl 8.16.0's other long options (from `aliases[]` in `tool_getparam.c`),
/// so that they are told apart from options curl does not know at all.
const OTHER_LONG: &str = "abstract-unix-socket alt-svc aws-sigv4 capath cert cert-type \
ciphers config connect-to continue-at cookie-jar create-file-mode crlfile curves \
data-binary data-urlencode delegation dns-interface dns-ipv4-addr dns-ipv6-addr \
dns-servers dump-header ech egd-file engine etag-compare etag-save expect100-timeout form \
form-string ftp-account ftp-alternative-to-user ftp-method ftp-port ftp-ssl-ccc-mode \
happy-eyeballs-timeout-ms haproxy-clientip help hostpubmd5 hostpubsha256 hsts interface \
ip-tos ipfs-gateway json keepalive-cnt keepalive-time key key-type krb krb4 libcurl \
limit-rate local-port login-options mail-auth mail-from mail-rcpt max-filesize max-redirs \
netrc-file noproxy oauth2-bearer output-dir parallel-max parallel-max-host pass \
pinnedpubkey preproxy proto proto-default proto-redir proxy proxy-cacert proxy-capath \
proxy-cert proxy-cert-type proxy-ciphers proxy-crlfile proxy-header proxy-key \
proxy-key-type proxy-pass proxy-pinnedpubkey proxy-service-name proxy-tls13-ciphers \
proxy-tlsauthtype proxy-tlspassword proxy-tlsuser proxy-user proxy1.0 pubkey quote \
random-file range rate referer request-target retry retry-delay retry-max-time \
sasl-authzid service-name sigalgs socks4 socks4a socks5 socks5-gssapi-service \
socks5-hostname speed-limit speed-time ssl-sessions stderr telnet-option tftp-blksize \
time-cond tls-max tls13-ciphers tlsauthtype tlspassword tlsuser trace trace-ascii \
trace-config unix-socket upload-file upload-flags url url-query user variable \
vlan-priority alpn append basic ca-native cert-status clobber compressed compressed-ssh \
create-dirs crlf digest disable disable-eprt disable-epsv disallow-username-in-url \
doh-cert-status doh-insecure eprt epsv fail-early fail-with-body false-start follow \
form-escape ftp-create-dirs ftp-pret ftp-skip-pasv-ip ftp-ssl ftp-ssl-ccc ftp-ssl-control \
ftp-ssl-reqd get globoff haproxy-protocol http0.9 ignore-content-length \
junk-session-cookies keepalive list-only location-trusted mail-rcpt-allowfails manual \
metalink mptcp negotiate netrc netrc-optional npn ntlm ntlm-wb out-null parallel \
parallel-immediate path-as-is post301 post302 post303 progress-bar proxy-anyauth \
proxy-basic proxy-ca-native proxy-digest proxy-http2 proxy-insecure proxy-negotiate \
proxy-ntlm proxy-ssl-allow-beast proxy-ssl-auto-client-cert proxytunnel raw \
remote-header-name remote-name remote-name-all remote-time remove-on-error \
retry-all-errors retry-connrefused sasl-ir sessionid skip-existing socks5-basic \
socks5-gssapi socks5-gssapi-nec ssl ssl-allow-beast ssl-auto-client-cert ssl-no-revoke \
ssl-reqd ssl-revoke-best-effort styled-output suppress-connect-headers tcp-fastopen \
tcp-nodelay test-duphandle test-event tftp-no-options tls-earlydata tr-encoding trace-ids \
trace-time use-ascii version wdebug xattr anyauth dump-ca-embed ftp-pasv http1.0 http2 \
http2-prior-knowledge http3 http3-only ipv4 ipv6 next proxy-tlsv1 sslv2 sslv3 tlsv1 \
tlsv1.0 tlsv1.1 tlsv1.2 tlsv1.3";

/// curl 8.16.0's other short options.
const OTHER_SHORT: &str = "aEKCcqDFPGgjlMnZ#xUpQreJORYyt23z1TBuV46:0h";

const REQ_HEAD: &str = "HEAD (-I, --head)";
const REQ_POST: &str = "POST (-d, --data)";

/// Parses curl's arguments (without the program name).
pub fn parse(args: &[String]) -> Result<CurlArgs, CurlError> {
    let mut out = CurlArgs::default();
    let mut method_set: Option<&'static str> = None;
    let mut i = 0;
    let mut only_urls = false;
    let mut raw_urls = Vec::new();
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if only_urls || !arg.starts_with('-') || arg == "-" {
            raw_urls.push(arg);
            continue;
        }
        if arg == "--" {
            only_urls = true;
            continue;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (flag, toggle) = match long_flag(long) {
                Some(f) => (f, true),
                None => match long.strip_prefix("no-").and_then(long_flag) {
                    Some(f) if f.is_bool() => (f, false),
                    _ => {
                        let base = long.strip_prefix("no-").unwrap_or(long);
                        if OTHER_LONG.split(' ').any(|o| o == long || o == base) {
                            return Err(CurlError::NotSimulated(arg.clone()));
                        }
                        return Err(CurlError::UnknownOption(arg.clone()));
                    }
                },
            };
            let value = if flag.takes_arg() {
                let v = args
                    .get(i)
                    .ok_or_else(|| CurlError::MissingParameter(arg.clone()))?;
                i += 1;
                Some(v.as_str())
            } else {
                None
            };
            apply(&mut out, &mut method_set, flag, toggle, value, arg)?;
            continue;
        }
        let letters: Vec<char> = arg[1..].chars().collect();
        let mut j = 0;
        while j < letters.len() {
            let c = letters[j];
            j += 1;
            let Some(flag) = short_flag(c) else {
                if OTHER_SHORT.contains(c) {
                    return Err(CurlError::NotSimulated(format!("-{c}")));
                }
                return Err(CurlError::UnknownOption(arg.clone()));
            };
            let value = if flag.takes_arg() {
                let rest: String = letters[j..].iter().collect();
                j = letters.len();
                if rest.is_empty() {
                    let v = args
                        .get(i)
                        .ok_or_else(|| CurlError::MissingParameter(arg.clone()))?;
                    i += 1;
                    Some(v.clone())
                } else {
                    Some(rest)
                }
            } else {
                None
            };
            apply(&mut out, &mut method_set, flag, true, value.as_deref(), arg)?;
        }
    }
    if raw_urls.is_empty() {
        return Err(CurlError::NoUrl);
    }
    out.urls = raw_urls
        .into_iter()
        .map(|u| Url::parse(u))
        .collect::<Result<_, _>>()?;
    Ok(out)
}

fn seconds(option: &str, v: &str) -> Result<f64, CurlError> {
    match v.parse::<f64>() {
        Ok(s) if s.is_finite() && s >= 0.0 => Ok(s),
        _ => Err(CurlError::BadNumber(option.to_string())),
    }
}

fn apply(
    out: &mut CurlArgs,
    method_set: &mut Option<&'static str>,
    flag: Flag,
    toggle: bool,
    value: Option<&str>,
    option: &str,
) -> Result<(), CurlError> {
    let v = value.unwrap_or_default();
    let mut select = |asked: &'static str| match *method_set {
        Some(before) if before != asked => Err(CurlError::MethodConflict {
            option: option.to_string(),
            asked,
            before,
        }),
        _ => {
            *method_set = Some(asked);
            Ok(())
        }
    };
    match flag {
        Flag::Silent => out.silent = toggle,
        Flag::ShowError => out.show_error = toggle,
        Flag::Verbose => out.verbose = toggle,
        Flag::Head => {
            select(REQ_HEAD)?;
            out.head = toggle;
        }
        Flag::Include => out.include = toggle,
        Flag::Location => out.location = toggle,
        Flag::Insecure => out.insecure = toggle,
        Flag::Fail => out.fail = toggle,
        Flag::ProgressMeter => out.no_progress_meter = !toggle,
        Flag::Http11 => out.http1_1 = true,
        Flag::Ignored => {}
        Flag::Output => out.output = Some(v.to_string()),
        Flag::WriteOut => {
            if v.starts_with('@') {
                return Err(CurlError::NotSimulated(format!("{option} @file")));
            }
            out.write_out = Some(v.to_string());
        }
        Flag::Header => {
            if v.starts_with('@') {
                return Err(CurlError::NotSimulated(format!("{option} @file")));
            }
            out.headers.push(v.to_string());
        }
        Flag::MaxTime => out.max_time_s = Some(seconds(option, v)?),
        Flag::ConnectTimeout => out.connect_timeout_s = Some(seconds(option, v)?),
        Flag::Request => out.request = Some(v.to_string()),
        Flag::Data | Flag::DataRaw => {
            if matches!(flag, Flag::Data) && v.starts_with('@') {
                return Err(CurlError::NotSimulated(format!("{option} @file")));
            }
            select(REQ_POST)?;
            out.data.push(v.to_string());
        }
        Flag::Resolve => {
            let mut parts = v.splitn(3, ':');
            let (Some(host), Some(port), Some(addr)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(CurlError::NotSimulated(format!("{option} {v}")));
            };
            let port = port
                .parse()
                .map_err(|_| CurlError::NotSimulated(format!("{option} {v}")))?;
            out.resolve.push(Resolve {
                host: host.to_string(),
                port,
                addr: addr.to_string(),
            });
        }
        Flag::Cacert => out.cacert = Some(v.to_string()),
        Flag::UserAgent => out.user_agent = Some(v.to_string()),
        Flag::Cookie => {
            if v.contains('=') {
                out.cookies.push(v.to_string());
            }
        }
    }
    Ok(())
}

/// The deadline of `-m`, in seconds from the start of the transfer.
pub fn max_time(args: &CurlArgs) -> Option<f64> {
    args.max_time_s
}

/// The deadline for connecting: `--connect-timeout`, else `-m`, else curl's
/// built-in 300 seconds, whichever comes first.
pub fn connect_deadline(args: &CurlArgs) -> f64 {
    [args.connect_timeout_s, args.max_time_s, Some(300.0)]
        .into_iter()
        .flatten()
        .fold(f64::INFINITY, f64::min)
}

/// The request method curl sends.
pub fn method(args: &CurlArgs) -> String {
    if let Some(m) = &args.request {
        m.clone()
    } else if args.head {
        "HEAD".to_string()
    } else if !args.data.is_empty() {
        "POST".to_string()
    } else {
        "GET".to_string()
    }
}

/// The request body (`-d` parts joined with `&`), empty without `-d`.
pub fn request_body(args: &CurlArgs) -> Vec<u8> {
    args.data.join("&").into_bytes()
}

/// The URL of the first transfer.
pub fn url(args: &CurlArgs) -> &Url {
    &args.urls[0]
}

fn header_name(line: &str) -> &str {
    line.split([':', ';']).next().unwrap_or_default()
}

fn has_header(args: &CurlArgs, name: &str) -> bool {
    args.headers.iter().any(|h| {
        h.len() > name.len()
            && h[..name.len()].eq_ignore_ascii_case(name)
            && matches!(h.as_bytes()[name.len()], b':' | b';')
    })
}

/// The request header lines curl writes, in order, without CRLF.
fn header_lines(args: &CurlArgs, url: &Url) -> Vec<String> {
    let mut lines = Vec::new();
    let custom_host = args
        .headers
        .iter()
        .find(|h| h.len() > 4 && h[..4].eq_ignore_ascii_case("Host") && h.as_bytes()[4] == b':');
    match custom_host {
        Some(h) if h.len() > 5 => lines.push(format!("Host:{}", &h[5..])),
        Some(_) => {}
        None if url.default_port() => lines.push(format!("Host: {}", url.host)),
        None => lines.push(format!("Host: {}:{}", url.host, url.port)),
    }
    let agent = args.user_agent.as_deref().unwrap_or(USER_AGENT);
    if !agent.is_empty() && !has_header(args, "User-Agent") {
        lines.push(format!("User-Agent: {agent}"));
    }
    if !has_header(args, "Accept") {
        lines.push("Accept: */*".to_string());
    }
    if !args.cookies.is_empty() && !has_header(args, "Cookie") {
        lines.push(format!("Cookie: {}", args.cookies.join(";")));
    }
    for h in &args.headers {
        let name = header_name(h);
        if name.eq_ignore_ascii_case("Host") || name.eq_ignore_ascii_case("Connection") {
            continue;
        }
        if h.len() == name.len() + 1 && h.ends_with(';') {
            lines.push(format!("{name}:"));
        } else if let Some((_, value)) = h.split_once(':')
            && !value.trim().is_empty()
        {
            lines.push(h.clone());
        }
    }
    if !args.data.is_empty() {
        if !has_header(args, "Content-Length") {
            lines.push(format!("Content-Length: {}", request_body(args).len()));
        }
        if !has_header(args, "Content-Type") {
            lines.push("Content-Type: application/x-www-form-urlencoded".to_string());
        }
    }
    lines
}

/// The headers curl sends for the first URL, in order, as (name, value).
pub fn request_headers(args: &CurlArgs) -> Vec<(String, String)> {
    header_lines(args, url(args))
        .into_iter()
        .map(|l| match l.split_once(':') {
            Some((n, v)) => (n.to_string(), v.trim().to_string()),
            None => (l, String::new()),
        })
        .collect()
}

/// The connection a transfer used (or tried).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Peer {
    pub remote_ip: String,
    pub remote_port: u16,
    pub local_ip: String,
    pub local_port: u16,
}

/// Why a transfer failed, as libcurl reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum FailureKind {
    /// (6) `Could not resolve host: <host>`.
    CouldNotResolve(String),
    /// (7) `Failed to connect to <host> port <port> after N ms: Could not
    /// connect to server`; host and port as in the URL.
    ConnectRefused { host: String, port: u16 },
    /// (28) `Failed to connect to <url host> port <url port> after N ms:
    /// Timeout was reached` (`--connect-timeout` or `-m` while connecting).
    ConnectTimeout,
    /// (56) `Recv failure: Connection reset by peer`.
    Reset,
    /// (28) `Operation timed out after N milliseconds with M bytes received`
    /// (`with M out of T bytes` when the response announced T).
    Timeout {
        received: u64,
        expected: Option<u64>,
    },
    /// (52) `Empty reply from server`.
    EmptyReply,
}

/// What the simulation made of curl's request.
#[derive(Debug, Clone, PartialEq)]
pub enum Transfer {
    Response {
        /// `"1.1"`.
        http_version: String,
        status: u16,
        reason: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        peer: Peer,
        /// Seconds from the start, as curl's `time_*` variables.
        time_connect_s: f64,
        time_starttransfer_s: f64,
        time_total_s: f64,
    },
    Failure {
        kind: FailureKind,
        /// The address tried or connected to; `None` before connecting.
        peer: Option<Peer>,
        /// 0 when no connection was made.
        time_connect_s: f64,
        elapsed_s: f64,
    },
}

/// What curl printed and wrote, and how it ended.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Output {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub exit_code: i32,
    /// Files written by `-o` (never `/dev/null`).
    pub files: Vec<(String, Vec<u8>)>,
}

fn micros(s: f64) -> u64 {
    (s.max(0.0) * 1_000_000.0).round() as u64
}

fn millis(s: f64) -> u64 {
    (s.max(0.0) * 1000.0).round() as u64
}

fn content_length(headers: &[(String, String)]) -> Option<u64> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
}

/// The facts of one transfer every printer needs.
struct Facts<'a> {
    url: &'a Url,
    method: String,
    request_lines: Vec<String>,
    body_out: Vec<u8>,
    peer: Option<&'a Peer>,
    connected: bool,
    status: u16,
    response_head: Option<Vec<String>>,
    resp_headers: &'a [(String, String)],
    body_in: &'a [u8],
    time_connect_s: f64,
    time_starttransfer_s: f64,
    time_total_s: f64,
    /// (exit code, libcurl's message)
    error: Option<(i32, String)>,
}

fn facts<'a>(args: &'a CurlArgs, t: &'a Transfer) -> Facts<'a> {
    let url = url(args);
    let mut f = Facts {
        url,
        method: method(args),
        request_lines: header_lines(args, url),
        body_out: request_body(args),
        peer: None,
        connected: false,
        status: 0,
        response_head: None,
        resp_headers: &[],
        body_in: &[],
        time_connect_s: 0.0,
        time_starttransfer_s: 0.0,
        time_total_s: 0.0,
        error: None,
    };
    match t {
        Transfer::Response {
            http_version,
            status,
            reason,
            headers,
            body,
            peer,
            time_connect_s,
            time_starttransfer_s,
            time_total_s,
        } => {
            let status_line = if http_version == "1.1" || http_version == "1.0" {
                format!("HTTP/{http_version} {status} {reason}")
            } else {
                format!("HTTP/{http_version} {status}")
            };
            let mut head = vec![status_line];
            head.extend(headers.iter().map(|(n, v)| format!("{n}: {v}")));
            f.response_head = Some(head);
            f.resp_headers = headers;
            f.status = *status;
            f.body_in = if args.head { &[] } else { body };
            f.peer = Some(peer);
            f.connected = true;
            f.time_connect_s = *time_connect_s;
            f.time_starttransfer_s = *time_starttransfer_s;
            f.time_total_s = *time_total_s;
            if args.fail && *status >= 400 {
                f.body_in = &[];
                f.error = Some((22, format!("The requested URL returned error: {status}")));
            }
        }
        Transfer::Failure {
            kind,
            peer,
            time_connect_s,
            elapsed_s,
        } => {
            f.peer = peer.as_ref();
            f.time_total_s = *elapsed_s;
            let ms = millis(*elapsed_s);
            f.error = Some(match kind {
                FailureKind::CouldNotResolve(host) => {
                    (6, format!("Could not resolve host: {host}"))
                }
                FailureKind::ConnectRefused { host, port } => (
                    7,
                    format!(
                        "Failed to connect to {host} port {port} after {ms} ms: \
                         Could not connect to server"
                    ),
                ),
                FailureKind::ConnectTimeout => (
                    28,
                    format!(
                        "Failed to connect to {} port {} after {ms} ms: Timeout was reached",
                        url.host, url.port
                    ),
                ),
                FailureKind::Reset => (56, "Recv failure: Connection reset by peer".to_string()),
                FailureKind::Timeout { received, expected } => (
                    28,
                    match expected {
                        Some(total) => format!(
                            "Operation timed out after {ms} milliseconds with {received} \
                             out of {total} bytes received"
                        ),
                        None => format!(
                            "Operation timed out after {ms} milliseconds with {received} \
                             bytes received"
                        ),
                    },
                ),
                FailureKind::EmptyReply => (52, "Empty reply from server".to_string()),
            });
            f.connected = matches!(
                kind,
                FailureKind::Reset | FailureKind::Timeout { .. } | FailureKind::EmptyReply
            );
            if f.connected {
                f.time_connect_s = *time_connect_s;
            }
        }
    }
    f
}

impl Facts<'_> {
    fn size_header(&self) -> usize {
        self.response_head
            .as_ref()
            .map_or(0, |h| h.iter().map(|l| l.len() + 2).sum::<usize>() + 2)
    }

    fn size_request(&self) -> usize {
        if !self.connected {
            return 0;
        }
        let request_line = format!("{} {} HTTP/1.1", self.method, self.url.path);
        let head: usize = self.request_lines.iter().map(|l| l.len() + 2).sum();
        request_line.len() + 2 + head + 2 + self.body_out.len()
    }

    fn remote_ip(&self) -> &str {
        self.peer.map_or("", |p| p.remote_ip.as_str())
    }
}

/// Renders one transfer of `args` (its first URL) as curl prints it.
pub fn render(args: &CurlArgs, t: &Transfer) -> Output {
    let f = facts(args, t);
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let meter = !args.silent && !args.no_progress_meter;

    // What goes to the output: headers with -i/-I, then the body.
    let mut payload = Vec::new();
    if (args.include || args.head)
        && let Some(head) = &f.response_head
    {
        for line in head {
            payload.extend_from_slice(line.as_bytes());
            payload.extend_from_slice(b"\r\n");
        }
        payload.extend_from_slice(b"\r\n");
    }
    payload.extend_from_slice(f.body_in);

    let mut files = Vec::new();
    match args.output.as_deref() {
        Some("/dev/null") => {}
        Some("-") | None => stdout.extend_from_slice(&payload),
        Some(name) => {
            if !payload.is_empty() || f.error.is_none() {
                files.push((name.to_string(), payload));
            }
        }
    }

    let mut trace = if args.verbose {
        verbose(args, &f)
    } else {
        String::new()
    };
    if meter {
        let lines = progress_lines(&f);
        let (first, rest) = lines.split_first().map_or(("", &[][..]), |(a, b)| (a, b));
        stderr.extend_from_slice(PROGRESS_HEADER.as_bytes());
        stderr.extend_from_slice(first.as_bytes());
        // Verbose text interleaves after the first meter line.
        stderr.append(&mut std::mem::take(&mut trace).into_bytes());
        for l in rest {
            stderr.extend_from_slice(l.as_bytes());
        }
        stderr.push(b'\n');
    } else {
        stderr.append(&mut trace.into_bytes());
    }

    let exit_code = f.error.as_ref().map_or(0, |(c, _)| *c);
    if let Some((code, msg)) = &f.error
        && (!args.silent || args.show_error)
    {
        let _ = writeln!(Str(&mut stderr), "curl: ({code}) {msg}");
    }
    if let Some(fmt) = &args.write_out {
        write_out(fmt, &f, exit_code, &mut stdout, &mut stderr);
    }
    Output {
        stdout,
        stderr,
        exit_code,
        files,
    }
}

/// `fmt::Write` over a byte buffer.
struct Str<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Str<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// The `-v` text (all on stderr).
fn verbose(args: &CurlArgs, f: &Facts) -> String {
    let mut v = String::new();
    let url = f.url;
    let mut line = |s: &str| {
        v.push_str(s);
        v.push('\n');
    };
    for r in &args.resolve {
        line(&format!(
            "* Added {}:{}:{} to DNS cache",
            r.host, r.port, r.addr
        ));
    }
    let resolved = args
        .resolve
        .iter()
        .any(|r| r.host.eq_ignore_ascii_case(&url.host) && r.port == url.port);
    let peer = f.peer;
    if resolved {
        line(&format!("* Hostname {} was found in DNS cache", url.host));
    } else if !url.is_ip()
        && let Some(p) = peer
    {
        line(&format!("* Host {}:{} was resolved.", url.host, url.port));
        line("* IPv6: (none)");
        line(&format!("* IPv4: {}", p.remote_ip));
    }
    if let Some(p) = peer {
        line(&format!("*   Trying {}:{}...", p.remote_ip, p.remote_port));
    }
    if f.connected
        && let Some(p) = peer
    {
        line(&format!(
            "* Established connection to {} ({} port {}) from {} port {} ",
            url.host, p.remote_ip, p.remote_port, p.local_ip, p.local_port
        ));
        line("* using HTTP/1.x");
        let mut req = format!("> {} {} HTTP/1.1\r\n", f.method, url.path);
        for l in &f.request_lines {
            let _ = write!(req, "> {l}\r\n");
        }
        req.push_str("> \r\n");
        v.push_str(&req);
        let mut line = |s: &str| {
            v.push_str(s);
            v.push('\n');
        };
        if !f.body_out.is_empty() {
            line(&format!("}} [{} bytes data]", f.body_out.len()));
        }
        line("* Request completely sent off");
    }
    if let Some(head) = &f.response_head {
        for l in head {
            let _ = write!(v, "< {l}\r\n");
        }
        v.push_str("< \r\n");
    }
    let mut line = |s: &str| {
        v.push_str(s);
        v.push('\n');
    };
    if !f.body_in.is_empty() {
        line(&format!("{{ [{} bytes data]", f.body_in.len()));
    }
    match &f.error {
        Some((_, msg)) => {
            if let (Some(p), Some((7, _))) = (peer, &f.error) {
                line(&format!(
                    "* connect to {} port {} from {} port {} failed: Connection refused",
                    p.remote_ip, p.remote_port, p.local_ip, p.local_port
                ));
            }
            line(&format!("* {msg}"));
            line("* closing connection #0");
        }
        None => line(&format!(
            "* Connection #0 to host {}:{} left intact",
            url.host, url.port
        )),
    }
    v
}

const PROGRESS_HEADER: &str = "  % Total    % Received % Xferd  Average Speed   \
Time    Time     Time  Current\n                                 Dload  Upload   \
Total   Spent    Left  Speed\n";

/// curl's `max5data`: a size in at most five columns.
fn max5(bytes: u64) -> String {
    const K: u64 = 1024;
    const M: u64 = K * K;
    const G: u64 = M * K;
    if bytes < 100_000 {
        format!("{bytes:5}")
    } else if bytes < 10_000 * K {
        format!("{:4}k", bytes / K)
    } else if bytes < 100 * M {
        format!("{:2}.{}M", bytes / M, (bytes % M) / (M / 10))
    } else if bytes < 10_000 * M {
        format!("{:4}M", bytes / M)
    } else if bytes < 100 * G {
        format!("{:2}.{}G", bytes / G, (bytes % G) / (G / 10))
    } else {
        format!("{:4}G", bytes / G)
    }
}

/// curl's `time2str`: eight columns.
fn time2str(secs: u64) -> String {
    if secs == 0 {
        return "--:--:--".to_string();
    }
    let h = secs / 3600;
    if h <= 99 {
        format!("{h:2}:{:02}:{:02}", (secs % 3600) / 60, secs % 60)
    } else {
        format!("{:3}d {:02}h", secs / 86400, (secs % 86400) / 3600)
    }
}

fn est_percent(total: u64, cur: u64) -> u64 {
    if total > 10_000 {
        cur / (total / 100)
    } else {
        (cur * 100).checked_div(total).unwrap_or(0)
    }
}

fn trspeed(size: u64, us: u64) -> u64 {
    if us < 1 {
        size * 1_000_000
    } else {
        ((u128::from(size) * 1_000_000) / u128::from(us)) as u64
    }
}

/// The progress meter's lines (each starting with `\r`, no newline), at
/// the start, every whole second and the end, following `progress_meter`.
fn progress_lines(f: &Facts) -> Vec<String> {
    let total_us = micros(f.time_total_s);
    let mut times: Vec<u64> = (0..=total_us / 1_000_000).map(|s| s * 1_000_000).collect();
    if times.last() != Some(&total_us) {
        times.push(total_us);
    }
    let dl_total = content_length(f.resp_headers);
    let ul_total = f.body_out.len() as u64;
    let connect_us = micros(f.time_connect_s);
    let start_us = micros(f.time_starttransfer_s);
    let mut speeder: Vec<(u64, u64)> = Vec::new();
    let mut lines = Vec::new();
    for (n, &now) in times.iter().enumerate() {
        let last = n + 1 == times.len();
        let dl_cur = if last { f.body_in.len() as u64 } else { 0 };
        let ul_cur = if f.connected && now >= connect_us && now > 0 {
            ul_total
        } else {
            0
        };
        let dl_known = dl_total.filter(|_| last || now >= start_us);
        let dl_speed = trspeed(dl_cur, now);
        let ul_speed = trspeed(ul_cur, now);
        speeder.push((now, dl_cur + ul_cur));
        let count = speeder.len();
        let current = if count.min(6) - 1 == 0 {
            dl_speed + ul_speed
        } else {
            let check = count.saturating_sub(6);
            let span_ms = ((now - speeder[check].0) / 1000).max(1);
            (speeder[count - 1].1 - speeder[check].1) * 1000 / span_ms
        };
        let est = |total: Option<u64>, cur: u64, speed: u64| match total {
            Some(t) if speed > 0 => (t / speed, est_percent(t, cur)),
            _ => (0, 0),
        };
        let (dl_secs, dl_pct) = est(dl_known, dl_cur, dl_speed);
        let (ul_secs, ul_pct) = est(Some(ul_total), ul_cur, ul_speed);
        let secs = dl_secs.max(ul_secs);
        let spent = now / 1_000_000;
        let expected = ul_total + dl_known.unwrap_or(dl_cur);
        lines.push(format!(
            "\r{:3} {}  {:3} {}  {:3} {}  {}  {} {} {} {} {}",
            est_percent(expected, dl_cur + ul_cur),
            max5(expected),
            dl_pct,
            max5(dl_cur),
            ul_pct,
            max5(ul_cur),
            max5(dl_speed),
            max5(ul_speed),
            time2str(secs),
            time2str(spent),
            time2str(if secs > 0 {
                secs.saturating_sub(spent)
            } else {
                0
            }),
            max5(current),
        ));
    }
    lines
}

/// curl's `-w` variables, so that unknown ones are told apart.
const WRITE_OUT_VARS: &[&str] = &[
    "certs",
    "conn_id",
    "content_type",
    "errormsg",
    "exitcode",
    "filename_effective",
    "ftp_entry_path",
    "header_json",
    "http_code",
    "http_connect",
    "http_version",
    "json",
    "local_ip",
    "local_port",
    "method",
    "num_certs",
    "num_connects",
    "num_headers",
    "num_redirects",
    "num_retries",
    "onerror",
    "proxy_ssl_verify_result",
    "proxy_used",
    "redirect_url",
    "referer",
    "remote_ip",
    "remote_port",
    "response_code",
    "scheme",
    "size_download",
    "size_header",
    "size_request",
    "size_upload",
    "speed_download",
    "speed_upload",
    "ssl_verify_result",
    "stderr",
    "stdout",
    "time_appconnect",
    "time_connect",
    "time_namelookup",
    "time_posttransfer",
    "time_pretransfer",
    "time_queue",
    "time_redirect",
    "time_starttransfer",
    "time_total",
    "tls_earlydata",
    "url",
    "url_effective",
];

fn time_var(s: f64) -> String {
    let us = micros(s);
    format!("{}.{:06}", us / 1_000_000, us % 1_000_000)
}

/// Expands a `-w` format after the transfer, as `ourWriteOut` does.
fn write_out(fmt: &str, f: &Facts, exit_code: i32, stdout: &mut Vec<u8>, stderr: &mut Vec<u8>) {
    let mut to_stderr = false;
    let b = fmt.as_bytes();
    let mut i = 0;
    macro_rules! out {
        () => {
            if to_stderr {
                &mut *stderr
            } else {
                &mut *stdout
            }
        };
    }
    while i < b.len() {
        if b[i] == b'%' && i + 1 < b.len() {
            if b[i + 1] == b'%' {
                out!().push(b'%');
                i += 2;
            } else if b[i + 1] == b'{' {
                let Some(end) = fmt[i..].find('}').map(|e| e + i) else {
                    out!().extend_from_slice(b"%{");
                    i += 2;
                    continue;
                };
                let name = &fmt[i + 2..end];
                i = end + 1;
                match name {
                    "stderr" => to_stderr = true,
                    "stdout" => to_stderr = false,
                    "onerror" => {
                        if exit_code == 0 {
                            return;
                        }
                    }
                    _ => match write_var(name, f, exit_code) {
                        Some(s) => out!().extend_from_slice(s.as_bytes()),
                        None if WRITE_OUT_VARS.contains(&name) => {}
                        None => {
                            let _ = writeln!(
                                Str(stderr),
                                "curl: unknown --write-out variable: '{name}'"
                            );
                        }
                    },
                }
            } else if fmt[i + 1..].starts_with("header{") {
                let start = i + 8;
                match fmt[start..].find('}') {
                    Some(e) => {
                        let want = &fmt[start..start + e];
                        if let Some(v) = f.response_head.as_ref().and_then(|h| {
                            h.iter().skip(1).find_map(|l| {
                                let (n, v) = l.split_once(": ")?;
                                n.eq_ignore_ascii_case(want).then_some(v)
                            })
                        }) {
                            out!().extend_from_slice(v.as_bytes());
                        }
                        i = start + e + 1;
                    }
                    None => {
                        out!().extend_from_slice(b"%header{");
                        i = start;
                    }
                }
            } else {
                out!().push(b'%');
                out!().push(b[i + 1]);
                i += 2;
            }
        } else if b[i] == b'\\' && i + 1 < b.len() {
            match b[i + 1] {
                b'r' => out!().push(b'\r'),
                b'n' => out!().push(b'\n'),
                b't' => out!().push(b'\t'),
                c => out!().extend_from_slice(&[b'\\', c]),
            }
            i += 2;
        } else {
            out!().push(b[i]);
            i += 1;
        }
    }
}

fn write_var(name: &str, f: &Facts, exit_code: i32) -> Option<String> {
    let connected_time = |s: f64| time_var(if f.connected { s } else { 0.0 });
    Some(match name {
        "http_code" | "response_code" => format!("{:03}", f.status),
        "time_total" => time_var(f.time_total_s),
        "time_connect" => connected_time(f.time_connect_s),
        "time_pretransfer" | "time_posttransfer" => connected_time(f.time_connect_s),
        "time_starttransfer" => time_var(f.time_starttransfer_s),
        "time_namelookup" | "time_appconnect" | "time_redirect" | "time_queue" => time_var(0.0),
        "size_download" => f.body_in.len().to_string(),
        "size_header" => f.size_header().to_string(),
        "size_request" => f.size_request().to_string(),
        "size_upload" => {
            if f.connected {
                f.body_out.len().to_string()
            } else {
                "0".to_string()
            }
        }
        "speed_download" => trspeed(f.body_in.len() as u64, micros(f.time_total_s)).to_string(),
        "speed_upload" => trspeed(f.body_out.len() as u64, micros(f.time_total_s)).to_string(),
        "remote_ip" => f.remote_ip().to_string(),
        "remote_port" => f.peer.map_or(0, |p| p.remote_port).to_string(),
        "local_ip" => f.peer.map_or("", |p| p.local_ip.as_str()).to_string(),
        "local_port" => f.peer.map_or(0, |p| p.local_port).to_string(),
        "url_effective" | "url" => f.url.effective(),
        "scheme" => f.url.scheme.clone(),
        "exitcode" => exit_code.to_string(),
        "errormsg" => f.error.as_ref().map(|(_, m)| m.clone()).unwrap_or_default(),
        "method" => f.method.clone(),
        "num_headers" => f
            .response_head
            .as_ref()
            .map_or(0, |h| h.len() - 1)
            .to_string(),
        "num_connects" => u8::from(f.connected).to_string(),
        "num_redirects" | "num_retries" => "0".to_string(),
        "http_version" => {
            if f.response_head.is_some() {
                "1.1".to_string()
            } else {
                "0".to_string()
            }
        }
        "content_type" => f
            .response_head
            .as_ref()
            .and_then(|h| {
                h.iter().skip(1).find_map(|l| {
                    let (n, v) = l.split_once(": ")?;
                    n.eq_ignore_ascii_case("content-type")
                        .then(|| v.to_string())
                })
            })
            .unwrap_or_default(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    fn argv(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_string).collect()
    }

    fn args(line: &str) -> CurlArgs {
        parse(&argv(line)).unwrap()
    }

    fn peer() -> Peer {
        Peer {
            remote_ip: "10.96.0.10".into(),
            remote_port: 8000,
            local_ip: "10.244.0.5".into(),
            local_port: 41234,
        }
    }

    fn ok(status: u16, reason: &str, body: &str) -> Transfer {
        Transfer::Response {
            http_version: "1.1".into(),
            status,
            reason: reason.into(),
            headers: vec![
                ("server".into(), "envoy".into()),
                ("content-length".into(), body.len().to_string()),
            ],
            body: body.as_bytes().to_vec(),
            peer: peer(),
            time_connect_s: 0.001,
            time_starttransfer_s: 0.004,
            time_total_s: 0.005,
        }
    }

    fn fail(kind: FailureKind, elapsed_s: f64) -> Transfer {
        let connected = matches!(
            kind,
            FailureKind::Reset | FailureKind::Timeout { .. } | FailureKind::EmptyReply
        );
        Transfer::Failure {
            peer: (!matches!(kind, FailureKind::CouldNotResolve(_))).then(peer),
            kind,
            time_connect_s: if connected { 0.001 } else { 0.0 },
            elapsed_s,
        }
    }

    fn text(b: &[u8]) -> String {
        String::from_utf8(b.to_vec()).unwrap()
    }

    #[test_case("-sS http://httpbin:8000/get", true, true, false ; "combined s S")]
    #[test_case("-sI http://httpbin:8000/get", true, false, true ; "combined s I")]
    #[test_case("-sSI http://httpbin:8000/get", true, true, true ; "combined s S I")]
    #[test_case("-vs http://httpbin:8000/get", true, false, false ; "combined v s")]
    #[test_case("--silent --show-error --head httpbin:8000/get", true, true, true ; "long forms")]
    #[test_case("-s --no-silent httpbin", false, false, false ; "no prefix")]
    fn parses_flag_combinations(line: &str, silent: bool, show_error: bool, head: bool) {
        let a = args(line);
        assert_eq!((a.silent, a.show_error, a.head), (silent, show_error, head));
    }

    #[test]
    fn parses_options_with_values() {
        let a = args(
            "-so /dev/null -w %{http_code} -H X-A:1 --header X-B:2 -m 2.5 --connect-timeout 1 \
             -XPUT -d a=1 --data-raw b=2 -L -k --http1.1 --resolve h:80:1.2.3.4 -f \
             --cacert /ca.pem -A agent -b c=d https://h:8443/p?q=1",
        );
        assert_eq!(a.output.as_deref(), Some("/dev/null"));
        assert_eq!(a.write_out.as_deref(), Some("%{http_code}"));
        assert_eq!(a.headers, vec!["X-A:1", "X-B:2"]);
        assert_eq!(max_time(&a), Some(2.5));
        assert_eq!(connect_deadline(&a), 1.0);
        assert_eq!(method(&a), "PUT");
        assert_eq!(request_body(&a), b"a=1&b=2");
        assert!(a.location && a.insecure && a.http1_1 && a.fail);
        assert_eq!(
            a.resolve,
            vec![Resolve {
                host: "h".into(),
                port: 80,
                addr: "1.2.3.4".into()
            }]
        );
        assert_eq!(
            a.urls[0],
            Url {
                scheme: "https".into(),
                host: "h".into(),
                port: 8443,
                port_given: true,
                path: "/p?q=1".into()
            }
        );
    }

    #[test_case("http://httpbin:8000/get", "http", "httpbin", 8000, "/get" ; "explicit port")]
    #[test_case("httpbin", "http", "httpbin", 80, "/" ; "no scheme no path")]
    #[test_case("https://example.com?x=1#frag", "https", "example.com", 443, "/?x=1" ; "query only")]
    #[test_case("http://[::1]:9/a", "http", "[::1]", 9, "/a" ; "ipv6")]
    fn parses_urls(raw: &str, scheme: &str, host: &str, port: u16, path: &str) {
        let u = Url::parse(raw).unwrap();
        assert_eq!(
            (u.scheme.as_str(), u.host.as_str(), u.port, u.path.as_str()),
            (scheme, host, port, path)
        );
    }

    #[test_case("--foo http://x", "curl: option --foo: is unknown\ncurl: try 'curl --help' or 'curl --manual' for more information\n", 2 ; "unknown long")]
    #[test_case("-sW http://x", "curl: option -sW: is unknown\ncurl: try 'curl --help' or 'curl --manual' for more information\n", 2 ; "unknown short in cluster")]
    #[test_case("-s", "curl: (2) no URL specified\ncurl: try 'curl --help' or 'curl --manual' for more information\n", 2 ; "no url")]
    #[test_case("http://x -o", "curl: option -o: requires parameter\ncurl: try 'curl --help' or 'curl --manual' for more information\n", 2 ; "missing parameter")]
    #[test_case("-m abc http://x", "curl: option -m: expected a proper numerical parameter\ncurl: try 'curl --help' or 'curl --manual' for more information\n", 2 ; "bad number")]
    #[test_case("ftp://x", "curl: (1) Protocol \"ftp\" not supported\n", 1 ; "protocol")]
    #[test_case("http://x:99999/", "curl: (3) URL rejected: Port number was not a decimal number between 0 and 65535\n", 3 ; "bad port")]
    #[test_case("--compressed http://x", "curl: option --compressed: not simulated by meshsim\n", 2 ; "known but not simulated")]
    #[test_case("-d a=1 -I http://x", "Warning: You can only select one HTTP request method! You asked for both HEAD (-I, --head) and POST (-d, --data).\ncurl: option -I: is badly used here\ncurl: try 'curl --help' or 'curl --manual' for more information\n", 2 ; "method conflict")]
    fn parse_errors(line: &str, stderr: &str, code: i32) {
        let e = parse(&argv(line)).unwrap_err();
        assert_eq!(e.stderr(), stderr);
        assert_eq!(e.exit_code(), code);
        assert!(!e.to_string().contains('\n'));
    }

    #[test]
    fn default_request_headers() {
        let h = request_headers(&args("http://httpbin:8000/get"));
        let want: Vec<(String, String)> = [
            ("Host", "httpbin:8000"),
            ("User-Agent", "curl/8.16.0"),
            ("Accept", "*/*"),
        ]
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
        assert_eq!(h, want);
        let h = request_headers(&args("https://example.com/"));
        assert_eq!(h[0], ("Host".into(), "example.com".into()));
    }

    #[test]
    fn user_headers_replace_and_remove_defaults() {
        let mut a = args("-d x=1 -b a=b -b c=d http://h/");
        a.headers = vec![
            "Host: other".into(),
            "Accept:".into(),
            "User-Agent: me".into(),
            "X-Empty;".into(),
            "Content-Type: application/json".into(),
        ];
        let lines = header_lines(&a, url(&a));
        assert_eq!(
            lines,
            vec![
                "Host: other",
                "Cookie: a=b;c=d",
                "User-Agent: me",
                "X-Empty:",
                "Content-Type: application/json",
                "Content-Length: 3",
            ]
        );
    }

    #[test]
    fn dev_null_with_http_code_prints_just_the_code() {
        let a = args("-s -o /dev/null -w %{http_code} http://httpbin:8000/get");
        let o = render(&a, &ok(200, "OK", "{}"));
        assert_eq!(text(&o.stdout), "200");
        assert!(o.stderr.is_empty() && o.files.is_empty());
        assert_eq!(o.exit_code, 0);
    }

    #[test_case("%{http_code}\\n", "503\n" ; "code and newline")]
    #[test_case("%{response_code}\\t%{method}", "503\tGET" ; "tab and method")]
    #[test_case("%{time_total} %{time_connect} %{time_starttransfer}", "0.005000 0.001000 0.004000" ; "times")]
    #[test_case("%{size_download} %{size_header}", "2 70" ; "sizes")]
    #[test_case("%{remote_ip}:%{remote_port} %{url_effective} %{exitcode}", "10.96.0.10:8000 http://httpbin:8000/get 0" ; "addresses")]
    #[test_case("100%% \\x %z", "100% \\x %z" ; "literal percent and unknown escapes")]
    #[test_case("%header{server}|%{onerror}after", "envoy|" ; "header and onerror")]
    fn write_out_formats(fmt: &str, want: &str) {
        let mut a = args("-s http://httpbin:8000/get");
        a.write_out = Some(fmt.into());
        a.output = Some("/dev/null".into());
        let o = render(&a, &ok(503, "Service Unavailable", "{}"));
        assert_eq!(text(&o.stdout), want);
    }

    #[test]
    fn unknown_write_out_variable_warns() {
        let mut a = args("-s http://h/");
        a.write_out = Some("%{nope}x".into());
        let o = render(&a, &ok(200, "OK", ""));
        assert_eq!(text(&o.stdout), "x");
        assert_eq!(
            text(&o.stderr),
            "curl: unknown --write-out variable: 'nope'\n"
        );
    }

    #[test]
    fn head_prints_headers_with_crlf() {
        let a = args("-sI http://httpbin:8000/get");
        let o = render(&a, &ok(200, "OK", "{}"));
        assert_eq!(
            text(&o.stdout),
            "HTTP/1.1 200 OK\r\nserver: envoy\r\ncontent-length: 2\r\n\r\n"
        );
    }

    #[test]
    fn include_puts_headers_before_body_in_the_file() {
        let a = args("-si -o out.txt http://httpbin:8000/get");
        let o = render(&a, &ok(200, "OK", "{}"));
        assert!(o.stdout.is_empty());
        assert_eq!(
            o.files,
            vec![(
                "out.txt".to_string(),
                b"HTTP/1.1 200 OK\r\nserver: envoy\r\ncontent-length: 2\r\n\r\n{}".to_vec()
            )]
        );
    }

    #[test_case(FailureKind::CouldNotResolve("nope".into()), 0.002, "curl: (6) Could not resolve host: nope\n", 6 ; "resolve")]
    #[test_case(FailureKind::ConnectRefused { host: "httpbin".into(), port: 8000 }, 0.003, "curl: (7) Failed to connect to httpbin port 8000 after 3 ms: Could not connect to server\n", 7 ; "refused")]
    #[test_case(FailureKind::ConnectTimeout, 5.006, "curl: (28) Failed to connect to httpbin port 8000 after 5006 ms: Timeout was reached\n", 28 ; "connect timeout")]
    #[test_case(FailureKind::Reset, 0.01, "curl: (56) Recv failure: Connection reset by peer\n", 56 ; "reset")]
    #[test_case(FailureKind::Timeout { received: 0, expected: None }, 2.002, "curl: (28) Operation timed out after 2002 milliseconds with 0 bytes received\n", 28 ; "timeout")]
    #[test_case(FailureKind::Timeout { received: 10, expected: Some(100) }, 1.0, "curl: (28) Operation timed out after 1000 milliseconds with 10 out of 100 bytes received\n", 28 ; "timeout partial")]
    #[test_case(FailureKind::EmptyReply, 0.01, "curl: (52) Empty reply from server\n", 52 ; "empty reply")]
    fn failures(kind: FailureKind, elapsed: f64, stderr: &str, code: i32) {
        let t = fail(kind, elapsed);
        let o = render(&args("-sS http://httpbin:8000/get"), &t);
        assert_eq!((text(&o.stderr).as_str(), o.exit_code), (stderr, code));
        let quiet = render(&args("-s http://httpbin:8000/get"), &t);
        assert!(quiet.stderr.is_empty());
        assert_eq!(quiet.exit_code, code);
        let w = render(
            &args("-s -w %{http_code}:%{exitcode} http://httpbin:8000/get"),
            &t,
        );
        assert_eq!(text(&w.stdout), format!("000:{code}"));
    }

    #[test]
    fn fail_flag_turns_http_errors_into_exit_22() {
        let o = render(
            &args("-sSf http://httpbin:8000/status/503"),
            &ok(503, "Service Unavailable", "no healthy upstream"),
        );
        assert_eq!(o.exit_code, 22);
        assert!(o.stdout.is_empty());
        assert_eq!(
            text(&o.stderr),
            "curl: (22) The requested URL returned error: 503\n"
        );
        let o = render(&args("-s http://h/"), &ok(503, "Service Unavailable", "x"));
        assert_eq!((o.exit_code, text(&o.stdout).as_str()), (0, "x"));
    }

    #[test]
    fn verbose_trace() {
        let o = render(&args("-sv http://httpbin:8000/get"), &ok(200, "OK", "{}"));
        assert_eq!(text(&o.stdout), "{}");
        assert_eq!(
            text(&o.stderr),
            "* Host httpbin:8000 was resolved.\n\
             * IPv6: (none)\n\
             * IPv4: 10.96.0.10\n\
             *   Trying 10.96.0.10:8000...\n\
             * Established connection to httpbin (10.96.0.10 port 8000) from 10.244.0.5 port 41234 \n\
             * using HTTP/1.x\n\
             > GET /get HTTP/1.1\r\n\
             > Host: httpbin:8000\r\n\
             > User-Agent: curl/8.16.0\r\n\
             > Accept: */*\r\n\
             > \r\n\
             * Request completely sent off\n\
             < HTTP/1.1 200 OK\r\n\
             < server: envoy\r\n\
             < content-length: 2\r\n\
             < \r\n\
             { [2 bytes data]\n\
             * Connection #0 to host httpbin:8000 left intact\n"
        );
    }

    #[test]
    fn verbose_with_resolve_and_reset() {
        let o = render(
            &args("-sv --resolve httpbin:8000:10.96.0.10 -d a http://httpbin:8000/post"),
            &fail(FailureKind::Reset, 0.01),
        );
        let err = text(&o.stderr);
        assert!(err.starts_with(
            "* Added httpbin:8000:10.96.0.10 to DNS cache\n\
             * Hostname httpbin was found in DNS cache\n\
             *   Trying 10.96.0.10:8000...\n"
        ));
        assert!(err.contains("> Content-Length: 1\r\n> Content-Type: application/x-www-form-urlencoded\r\n> \r\n} [1 bytes data]\n"));
        assert!(
            err.ends_with("* Recv failure: Connection reset by peer\n* closing connection #0\n")
        );
    }

    #[test]
    fn progress_meter_for_a_quick_transfer() {
        let body = "x".repeat(267);
        let mut t = ok(200, "OK", &body);
        if let Transfer::Response { time_total_s, .. } = &mut t {
            *time_total_s = 0.021;
        }
        let o = render(&args("-o /dev/null http://h/"), &t);
        assert_eq!(
            text(&o.stderr),
            format!(
                "{PROGRESS_HEADER}\
                 \r  0     0    0     0    0     0      0      0 --:--:-- --:--:-- --:--:--     0\
                 \r100   267  100   267    0     0  12714      0 --:--:-- --:--:-- --:--:-- 12714\n"
            )
        );
    }

    #[test]
    fn progress_meter_counts_seconds_until_timeout() {
        let o = render(
            &args("-m 2 http://h/"),
            &fail(
                FailureKind::Timeout {
                    received: 0,
                    expected: None,
                },
                2.002,
            ),
        );
        let err = text(&o.stderr);
        let lines: Vec<&str> = err.split('\r').collect();
        assert_eq!(lines.len(), 5, "{err:?}");
        assert_eq!(
            lines[4],
            "  0     0    0     0    0     0      0      0 --:--:--  0:00:02 --:--:--     0\n\
             curl: (28) Operation timed out after 2002 milliseconds with 0 bytes received\n"
        );
    }

    #[test]
    fn rendering_is_deterministic() {
        let a = args("-v -i -w %{time_total} http://httpbin:8000/get");
        assert_eq!(
            render(&a, &ok(200, "OK", "{}")),
            render(&a, &ok(200, "OK", "{}"))
        );
    }
}
