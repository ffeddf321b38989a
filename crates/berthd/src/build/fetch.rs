//! `ADD <url>`: an HTTP GET (http, or https verified against the
//! system's CA bundle) into a file in the build's work directory.
//! Redirects are followed (a few).

use berth_build::Fetched;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1;
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

const MAX_REDIRECTS: usize = 5;

trait Conn: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin> Conn for T {}
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub fn fetch(rt: &tokio::runtime::Handle, url: &str, work: &Path) -> Result<Fetched, String> {
    let path = work.join(berth_store::unique_name("add-url"));
    let mut file = std::fs::File::create(&path).map_err(|e| format!("creating {}: {e}", path.display()))?;
    let mut uri: Uri = url.parse().map_err(|e| format!("invalid URL {url:?}: {e}"))?;
    for _ in 0..=MAX_REDIRECTS {
        if !matches!(uri.scheme_str(), Some("http" | "https")) {
            return Err(format!("ADD {url}: unsupported URL scheme"));
        }
        let (status, location, last_modified) = rt.block_on(get(&uri, &mut file))?;
        if (300..400).contains(&status) {
            let loc = location.ok_or_else(|| format!("ADD {url}: redirect without a Location"))?;
            uri = resolve(&uri, &loc)?;
            file.set_len(0).map_err(|e| e.to_string())?;
            continue;
        }
        if !(200..300).contains(&status) {
            return Err(format!("failed to GET {url} with status {status}"));
        }
        file.flush().map_err(|e| e.to_string())?;
        let file_name = uri.path().rsplit('/').find(|s| !s.is_empty()).unwrap_or("").to_string();
        return Ok(Fetched { path, file_name, last_modified });
    }
    Err(format!("ADD {url}: too many redirects"))
}

fn resolve(base: &Uri, loc: &str) -> Result<Uri, String> {
    if loc.contains("://") {
        return loc.parse().map_err(|e| format!("bad redirect {loc:?}: {e}"));
    }
    let auth = base.authority().map(|a| a.as_str()).unwrap_or("");
    let scheme = base.scheme_str().unwrap_or("http");
    format!("{scheme}://{auth}{loc}").parse().map_err(|e| format!("bad redirect {loc:?}: {e}"))
}

async fn get(uri: &Uri, out: &mut std::fs::File) -> Result<(u16, Option<String>, Option<String>), String> {
    let host = uri.host().ok_or_else(|| format!("no host in {uri}"))?.trim_start_matches('[').trim_end_matches(']').to_string();
    let https = uri.scheme_str() == Some("https");
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let tcp = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect((host.as_str(), port)))
        .await
        .map_err(|_| format!("dial tcp {host}:{port}: i/o timeout"))?
        .map_err(|e| format!("dial tcp {host}:{port}: {e}"))?;
    let io: Box<dyn Conn> = if https {
        let cfg = berth_distribution::system_roots().map_err(|e| e.to_string())?;
        let name = rustls_pki_types::ServerName::try_from(host.clone()).map_err(|e| format!("invalid TLS server name {host:?}: {e}"))?;
        let tls = tokio::time::timeout(CONNECT_TIMEOUT, tokio_rustls::TlsConnector::from(cfg).connect(name, tcp))
            .await
            .map_err(|_| "TLS handshake timeout".to_string())?
            .map_err(|e| format!("tls: {e}"))?;
        Box::new(tls)
    } else {
        Box::new(tcp)
    };
    let (mut sender, conn) = http1::handshake(TokioIo::new(io)).await.map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let authority = uri.authority().map(|a| a.as_str().to_string()).unwrap_or(host.clone());
    let req = Request::get(path)
        .header(hyper::header::HOST, authority)
        .header(hyper::header::USER_AGENT, "berth-build")
        .body(Empty::<bytes::Bytes>::new())
        .map_err(|e| e.to_string())?;
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let header = |name: hyper::header::HeaderName| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let (status, location, modified) = (resp.status().as_u16(), header(hyper::header::LOCATION), header(hyper::header::LAST_MODIFIED));
    let mut body = resp.into_body();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| e.to_string())?;
        if let Some(d) = frame.data_ref() {
            if (200..300).contains(&status) {
                out.write_all(d).map_err(|e| e.to_string())?;
            }
        }
    }
    Ok((status, location, modified))
}
