//! `berth dashboard`: serves the web dashboard for the daemon this client
//! talks to (crates/berth-dashboard) until interrupted.

use berth_client::Client;
use berth_dashboard::{Dashboard, DashboardError, Options, RegistryAuth, TlsFiles};
use clap::Args as ClapArgs;
use std::net::SocketAddr;
use std::sync::Arc;

#[derive(ClapArgs, Debug)]
pub struct Args {
    /// Address to listen on; beyond loopback only with TLS. Port 0 picks a free port
    #[arg(long = "addr", default_value = "127.0.0.1:7780", value_name = "ADDR:PORT")]
    pub addr: SocketAddr,
    /// Serve HTTPS with this certificate (PEM)
    #[arg(long = "tls-cert", value_name = "FILE")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// The certificate's private key (PEM)
    #[arg(long = "tls-key", value_name = "FILE")]
    pub tls_key: Option<std::path::PathBuf>,
    /// A name browsers use to reach the dashboard (host or host:port); needed for 0.0.0.0 or ::
    #[arg(long = "public-host", value_name = "NAME")]
    pub public_hosts: Vec<String>,
    /// Open the dashboard in the default browser (xdg-open)
    #[arg(long = "open")]
    pub open: bool,
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    let tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        (None, None) => None,
        _ => return Err(DashboardError::HalfTls.into()),
    };
    // Pulls from the page use the credentials `berth login` stored, read
    // at each pull (a login or logout while the dashboard runs counts).
    let registry_auth: RegistryAuth = Arc::new(|image: &str| {
        let r = crate::reference::Reference::parse(image).ok()?;
        let host = r.name.split('/').next()?;
        crate::credentials::registry_auth_header(host)
    });
    let opts = Options { addr: args.addr, tls, public_hosts: args.public_hosts, registry_auth: Some(registry_auth) };
    let dash = Dashboard::bind(opts, client.clone()).await?;
    let url = dash.login_url();
    println!("berth dashboard for {} at {url}", client.host());
    println!("The link logs one browser in, once; keep it private. Stop with Ctrl-C.");
    if args.open {
        if let Err(e) = std::process::Command::new("xdg-open").arg(&url).spawn() {
            eprintln!("cannot open a browser (xdg-open: {e}); open the URL above");
        }
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    tokio::select! {
        r = dash.serve() => Ok(r?),
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}
