//! The in-browser shell. A browser cannot hijack an HTTP connection, so
//! the dashboard does it: `POST /shell/{exec}` starts the exec (created
//! through the API proxy with a tty) on a hijacked connection and streams
//! its output as the response; `POST /shell/{exec}/input` writes keystrokes
//! to it. Resizes go through the API proxy (`/exec/{id}/resize`).

use crate::body::{self, Out};
use crate::proxy;
use berth_client::{segment, Client, Query};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncWrite, AsyncWriteExt};

type Writer = Arc<tokio::sync::Mutex<Box<dyn AsyncWrite + Send + Unpin>>>;

/// Input is typed or pasted text.
const MAX_INPUT: usize = 64 * 1024;

/// An idle shell's output sends a NUL this often (see body::reader).
const KEEPALIVE: std::time::Duration = std::time::Duration::from_secs(2);

#[derive(Default)]
pub struct Shells {
    writers: Mutex<HashMap<String, Writer>>,
}

impl Shells {
    pub async fn start(self: &Arc<Self>, client: &Client, exec: &str) -> Response<Out> {
        let body = serde_json::json!({ "Detach": false, "Tty": true });
        let hj = match client.hijack_json(&format!("/exec/{}/start", segment(exec)), &Query::new(), &body).await {
            Ok(h) => h,
            Err(e) => return proxy::client_error(&e),
        };
        self.lock().insert(exec.to_string(), Arc::new(tokio::sync::Mutex::new(hj.writer)));
        // The writer goes when the output ends (the shell exited).
        let reader = Ended { inner: hj.reader, shells: self.clone(), exec: exec.to_string() };
        Response::builder()
            .header(CONTENT_TYPE, "application/octet-stream")
            .header(CACHE_CONTROL, "no-store")
            .body(body::reader(Box::new(reader), KEEPALIVE))
            .unwrap_or_else(|_| proxy::error(StatusCode::INTERNAL_SERVER_ERROR, "berth dashboard: cannot stream the shell"))
    }

    pub async fn input(&self, exec: &str, req: Request<Incoming>) -> Response<Out> {
        let Some(w) = self.lock().get(exec).cloned() else {
            return proxy::error(StatusCode::NOT_FOUND, &format!("berth dashboard: no shell for exec {exec}"));
        };
        let data = match Limited::new(req.into_body(), MAX_INPUT).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => return proxy::error(StatusCode::PAYLOAD_TOO_LARGE, "berth dashboard: input too large"),
        };
        let mut w = w.lock().await;
        match async { w.write_all(&data).await?; w.flush().await }.await {
            Ok(()) => Response::new(body::full("")),
            Err(e) => proxy::error(StatusCode::GONE, &format!("berth dashboard: the shell has ended: {e}")),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Writer>> {
        self.writers.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The exec's output, forgetting its input side once it ends or the
/// browser goes away (dropping the body drops this).
struct Ended {
    inner: Box<dyn tokio::io::AsyncRead + Send + Unpin>,
    shells: Arc<Shells>,
    exec: String,
}

impl tokio::io::AsyncRead for Ended {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl Drop for Ended {
    fn drop(&mut self) {
        self.shells.lock().remove(&self.exec);
    }
}
