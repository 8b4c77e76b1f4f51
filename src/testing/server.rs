//! Serves the fake tenant's router on a loopback port with hyper, one task per connection, so
//! that an injected fault can close a connection without answering (which `axum::serve`
//! cannot do).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{Notify, watch};
use tower::ServiceExt;

/// The connection a request came on, in the request's extensions: closing it drops the
/// connection without a response, resetting it also sends a TCP reset.
#[derive(Clone, Debug, Default)]
pub(crate) struct Connection {
    closed: Arc<Notify>,
    reset: Arc<AtomicBool>,
}

impl Connection {
    pub(crate) fn close(&self) {
        self.closed.notify_one();
    }

    /// Drops the connection with an abortive close: the peer gets a TCP RST, not a FIN.
    pub(crate) fn reset(&self) {
        self.reset.store(true, Ordering::SeqCst);
        self.close();
    }
}

/// Accepts connections until `shutdown` says stop (or its sender is dropped).
pub(crate) async fn serve(listener: TcpListener, app: axum::Router, mut shutdown: watch::Receiver<bool>) {
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    tracing::warn!(%error, "the fake tenant could not accept a connection");
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        let _ = stream.set_nodelay(true);
        // A second handle on the socket, to set `SO_LINGER` when a fault resets it.
        let Ok((stream, twin)) = twin(stream) else {
            continue;
        };
        let app = app.clone();
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            let connection = Connection::default();
            let closed = connection.closed.clone();
            let reset = connection.reset.clone();
            let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                request.extensions_mut().insert(connection.clone());
                app.clone().oneshot(request.map(axum::body::Body::new))
            });
            let serving =
                hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = serving => {}
                _ = closed.notified() => {
                    if reset.load(Ordering::SeqCst) {
                        // Linger zero: closing the socket sends a RST. It does not block.
                        #[allow(deprecated)]
                        let _ = TcpSocket::from_std_stream(twin).set_linger(Some(Duration::ZERO));
                    }
                }
                _ = shutdown.changed() => {}
            }
        });
    }
}

/// `stream` and a duplicate of its socket, outside the runtime's reactor.
fn twin(stream: TcpStream) -> std::io::Result<(TcpStream, std::net::TcpStream)> {
    let stream = stream.into_std()?;
    let twin = stream.try_clone()?;
    Ok((TcpStream::from_std(stream)?, twin))
}
