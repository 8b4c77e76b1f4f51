//! A raw HTTP/1.1 server on a loopback port that sends exactly the bytes a test asks for: a
//! redirect to another origin, a body that never ends, a stall. httpmock cannot do these.
//!
//! Each connection carries one request; the server records it with its path as sent (still
//! percent-encoded) and answers with the test's [`Reply`]. Everything it does is bounded: an
//! endless body stops at [`ENDLESS_LIMIT`] or when the client hangs up, a stall at its
//! duration, and the server stops when it is dropped.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// How much of an endless body is sent at most, should the client never hang up.
pub const ENDLESS_LIMIT: u64 = 1 << 30;

/// A request as it arrived.
#[derive(Clone, Debug)]
pub struct RawRequest {
    pub method: String,
    /// The request target as sent: path and query, percent-encoding and all.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawRequest {
    /// The value of header `name` (case-insensitive), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The path as sent, without the query.
    pub fn path(&self) -> &str {
        self.target.split_once('?').map_or(&self.target, |(path, _)| path)
    }
}

/// What the server does with a request.
pub enum Reply {
    /// Sends these bytes, then closes the connection.
    Bytes(Vec<u8>),
    /// Sends this head, then body bytes without end until the client hangs up.
    Endless(Vec<u8>),
    /// Sends this head, then chunks of a chunked body without end until the client hangs up.
    EndlessChunks(Vec<u8>),
    /// Sends these bytes, then nothing for this long, then closes the connection.
    Stall(Vec<u8>, Duration),
}

/// A whole response: the status line, `headers`, a `Content-Length` and `body`.
pub fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut bytes = head(status, headers);
    // `head` ends with the blank line; put Content-Length before it.
    bytes.truncate(bytes.len() - 2);
    bytes.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
    bytes.extend_from_slice(body);
    bytes
}

/// A status line and `headers`, with `Connection: close`, ending with the blank line.
pub fn head(status: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut text = format!("HTTP/1.1 {status}\r\nconnection: close\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.into_bytes()
}

type Handler = Arc<dyn Fn(&RawRequest) -> Reply + Send + Sync>;

pub struct RawServer {
    address: SocketAddr,
    requests: Arc<Mutex<Vec<RawRequest>>>,
    body_bytes_sent: Arc<AtomicU64>,
    accepting: tokio::task::JoinHandle<()>,
}

impl RawServer {
    /// Starts a server that answers every request with what `handler` says.
    pub async fn start(handler: impl Fn(&RawRequest) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let body_bytes_sent = Arc::new(AtomicU64::new(0));
        let handler: Handler = Arc::new(handler);
        let accepting = tokio::spawn({
            let (requests, body_bytes_sent) = (requests.clone(), body_bytes_sent.clone());
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let (handler, requests, sent) =
                        (handler.clone(), requests.clone(), body_bytes_sent.clone());
                    tokio::spawn(serve(stream, handler, requests, sent));
                }
            }
        });
        Self {
            address,
            requests,
            body_bytes_sent,
            accepting,
        }
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<RawRequest> {
        self.requests.lock().unwrap().clone()
    }

    /// How many bytes of endless bodies the client has taken so far.
    pub fn endless_bytes_sent(&self) -> u64 {
        self.body_bytes_sent.load(Ordering::SeqCst)
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

async fn serve(
    stream: TcpStream,
    handler: Handler,
    requests: Arc<Mutex<Vec<RawRequest>>>,
    sent: Arc<AtomicU64>,
) {
    let mut stream = BufReader::new(stream);
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    let reply = handler(&request);
    requests.lock().unwrap().push(request);
    let stream = stream.get_mut();
    match reply {
        Reply::Bytes(bytes) => {
            let _ = stream.write_all(&bytes).await;
        }
        Reply::Endless(head) => {
            if stream.write_all(&head).await.is_err() {
                return;
            }
            let chunk = vec![b'x'; 64 * 1024];
            while sent.load(Ordering::SeqCst) < ENDLESS_LIMIT {
                if stream.write_all(&chunk).await.is_err() {
                    break;
                }
                sent.fetch_add(chunk.len() as u64, Ordering::SeqCst);
            }
        }
        Reply::EndlessChunks(head) => {
            if stream.write_all(&head).await.is_err() {
                return;
            }
            let mut chunk = format!("{:x}\r\n", 64 * 1024).into_bytes();
            chunk.extend(std::iter::repeat_n(b'x', 64 * 1024));
            chunk.extend_from_slice(b"\r\n");
            while sent.load(Ordering::SeqCst) < ENDLESS_LIMIT {
                if stream.write_all(&chunk).await.is_err() {
                    break;
                }
                sent.fetch_add(64 * 1024, Ordering::SeqCst);
            }
        }
        Reply::Stall(bytes, duration) => {
            let _ = stream.write_all(&bytes).await;
            tokio::time::sleep(duration).await;
        }
    }
    let _ = stream.shutdown().await;
}

/// Reads a request head and its `Content-Length` body; `None` if the client closed first.
async fn read_request(stream: &mut BufReader<TcpStream>) -> Option<RawRequest> {
    let mut line = String::new();
    stream.read_line(&mut line).await.ok()?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = Vec::new();
    loop {
        line.clear();
        stream.read_line(&mut line).await.ok()?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let length = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.ok()?;
    Some(RawRequest {
        method,
        target,
        headers,
        body,
    })
}
