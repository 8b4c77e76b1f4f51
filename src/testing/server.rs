//! Serves the fake tenant's router on a loopback port with hyper, one task per connection, so
//! that an injected fault can close a connection without answering (which `axum::serve`
//! cannot do).

use std::sync::Arc;

use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tower::ServiceExt;

/// The connection a request came on, in the request's extensions: closing it drops the
/// connection without an answer.
#[derive(Clone, Debug)]
pub(crate) struct Connection(Arc<Notify>);

impl Connection {
    pub(crate) fn close(&self) {
        self.0.notify_one();
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
        let app = app.clone();
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            let connection = Connection(Arc::new(Notify::new()));
            let closed = connection.0.clone();
            let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                request.extensions_mut().insert(connection.clone());
                app.clone().oneshot(request.map(axum::body::Body::new))
            });
            let serving =
                hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = serving => {}
                _ = closed.notified() => {}
                _ = shutdown.changed() => {}
            }
        });
    }
}
