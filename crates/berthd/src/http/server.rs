//! The API server: accepts connections on each listener (backing off
//! when accept fails), finishes TLS handshakes in the connection's task, bounds how long a connection may take to send its
//! headers, strips and checks the `/v1.xx` prefix, sets Docker's standard
//! headers, and hands each request to the router in a task of its own, so
//! a handler that panics answers 500 and nothing else is affected.

use super::response::{error, Resp};
use crate::daemon::Daemon;
use crate::router;
use berth_api::version::{check_requested, split_version_prefix, API_VERSION};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::Request;
use hyper_util::rt::TokioIo;
use berth_api::ApiError;
use hyper_util::rt::TokioTimer;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use crate::listen::Listener;

/// How long a connection may take to send a request's headers, counted
/// from when it is ready for a request (so an idle keep-alive connection is
/// closed after it too). dockerd's `ReadHeaderTimeout` is the same five
/// minutes. A streaming response (logs -f, events) or a hijacked stream
/// (attach, exec) is not waiting for headers and is never cut by it.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(300);
/// Back-off after a failed accept (EMFILE, ENFILE, ENOBUFS): without it the
/// loop spins on a listener that stays readable.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(10);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// Serves every listener with the same router until the process ends.
pub async fn serve(listeners: Vec<Listener>, daemon: Arc<Daemon>) {
    let mut all = tokio::task::JoinSet::new();
    for l in listeners {
        let d = daemon.clone();
        all.spawn(serve_with(l, HEADER_READ_TIMEOUT, move |req| handle(d.clone(), req)));
    }
    while all.join_next().await.is_some() {}
}

/// The accept loop, with the per-request handler as a parameter so the
/// connection rules (timeouts, panics) are tested without a daemon.
async fn serve_with<H, F>(listener: Listener, header_timeout: Duration, handler: H)
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Resp> + Send + 'static,
{
    let mut backoff = ACCEPT_BACKOFF_MIN;
    let mut accept_log = crate::daemon::RepeatLog::new(Duration::from_secs(10));
    loop {
        let incoming = match listener.accept().await {
            Ok(s) => {
                backoff = ACCEPT_BACKOFF_MIN;
                s
            }
            Err(e) => {
                accept_log.log(&format!("accept: {e}"));
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                continue;
            }
        };
        let handler = handler.clone();
        tokio::spawn(async move {
            let stream = match incoming.establish().await {
                Ok(s) => s,
                Err(e) => {
                    crate::daemon::debug(&format!("TLS handshake: {e}"));
                    return;
                }
            };
            let svc = service_fn(move |req| {
                let task = AbortOnDrop(tokio::spawn(handler(req)));
                async move { Ok::<_, Infallible>(task.await) }
            });
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), svc)
                .with_upgrades();
            if let Err(e) = conn.await {
                if !e.is_incomplete_message() {
                    crate::daemon::debug(&format!("connection: {e}"));
                }
            }
        });
    }
}

/// One request's handler, run as its own task so that a panic in it is
/// caught (the task's JoinError) and answered with a 500 while the daemon
/// carries on; aborted when hyper drops it (the client went away), as the
/// handler's future would have been dropped.
struct AbortOnDrop(tokio::task::JoinHandle<Resp>);

impl Future for AbortOnDrop {
    type Output = Resp;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Resp> {
        Pin::new(&mut self.0).poll(cx).map(|r| match r {
            Ok(resp) => resp,
            Err(e) => {
                let what = if e.is_panic() { "request handler panicked" } else { "request handler cancelled" };
                crate::daemon::log(what);
                error(&ApiError::internal(what))
            }
        })
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn handle(d: Arc<Daemon>, req: Request<Incoming>) -> Resp {
    let path = req.uri().path().to_string();
    let (version, rest) = split_version_prefix(&path);
    crate::daemon::debug(&format!("{} {}", req.method(), req.uri()));
    let mut resp = match check_requested(version) {
        Err(e) => error(&e),
        Ok(v) => router::route(d, req, rest, v).await,
    };
    let h = resp.headers_mut();
    for (k, v) in [
        ("api-version", API_VERSION),
        ("docker-experimental", "false"),
        ("ostype", "linux"),
        ("server", concat!("Berth/", env!("CARGO_PKG_VERSION"), " (linux)")),
    ] {
        if let Ok(v) = v.parse() {
            h.insert(k, v);
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::response::with_body;
    use crate::http::Body;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::UnixStream;

    /// A server on a temporary socket with a test handler: `/panic`
    /// panics, `/stream` streams a line now and one after 400 ms, anything
    /// else answers "ok".
    async fn server(header_timeout: Duration) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("api.sock");
        use std::os::unix::fs::MetadataExt;
        let gid = std::fs::metadata(dir.path()).unwrap().gid();
        let listener = Listener::Unix(crate::listen::bind_unix(&sock, gid).unwrap(), sock.clone());
        tokio::spawn(serve_with(listener, header_timeout, |req: Request<Incoming>| async move {
            match req.uri().path() {
                "/panic" => panic!("deliberate panic in a test handler"),
                "/stream" => {
                    let (tx, body) = Body::channel(2);
                    tokio::spawn(async move {
                        let _ = tx.send(bytes::Bytes::from_static(b"one\n")).await;
                        tokio::time::sleep(Duration::from_millis(400)).await;
                        let _ = tx.send(bytes::Bytes::from_static(b"two\n")).await;
                    });
                    with_body(200, "text/plain", body)
                }
                _ => with_body(200, "text/plain", Body::from_bytes("ok")),
            }
        }));
        (dir, sock)
    }

    async fn get(sock: &std::path::Path, path: &str) -> String {
        let mut s = UnixStream::connect(sock).await.unwrap();
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_handler_answers_500_and_the_server_goes_on() {
        let (_dir, sock) = server(Duration::from_secs(30)).await;
        let resp = get(&sock, "/panic").await;
        assert!(resp.starts_with("HTTP/1.1 500"), "{resp}");
        assert!(resp.contains(r#"{"message":"request handler panicked"}"#), "{resp}");
        let resp = get(&sock, "/ok").await;
        assert!(resp.starts_with("HTTP/1.1 200") && resp.ends_with("ok"), "{resp}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_silent_connection_is_closed_but_a_slow_stream_is_not() {
        let (_dir, sock) = server(Duration::from_millis(200)).await;
        // Sends nothing: closed once the header timeout passes.
        let mut idle = UnixStream::connect(&sock).await.unwrap();
        let mut buf = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), idle.read_to_end(&mut buf)).await;
        assert!(matches!(read, Ok(Ok(_))), "idle connection not closed: {read:?}");
        // Half a request line, then nothing: closed too.
        let mut slow = UnixStream::connect(&sock).await.unwrap();
        slow.write_all(b"GET /ok HT").await.unwrap();
        let read = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut buf)).await;
        assert!(matches!(read, Ok(Ok(_))), "slow header not cut: {read:?}");
        // A response that streams for longer than the timeout is whole.
        let resp = get(&sock, "/stream").await;
        assert!(resp.starts_with("HTTP/1.1 200") && resp.contains("one\n") && resp.contains("two\n"), "{resp}");
        // A keep-alive connection that goes quiet after a request is closed.
        let mut ka = UnixStream::connect(&sock).await.unwrap();
        ka.write_all(b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let mut all = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), ka.read_to_end(&mut all)).await;
        assert!(matches!(read, Ok(Ok(_))), "idle keep-alive connection not closed: {read:?}");
        assert!(String::from_utf8_lossy(&all).starts_with("HTTP/1.1 200"));
    }
}
