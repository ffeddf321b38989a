//! `berth dashboard`: serves the web dashboard for the daemon this client
//! talks to (crates/berth-dashboard) until interrupted.

use berth_client::Client;
use berth_dashboard::{Dashboard, Options};
use clap::Args as ClapArgs;
use std::net::SocketAddr;

#[derive(ClapArgs, Debug)]
pub struct Args {
    /// Address to listen on (loopback only); port 0 picks a free port
    #[arg(long = "addr", default_value = "127.0.0.1:7780", value_name = "ADDR:PORT")]
    pub addr: SocketAddr,
    /// Open the dashboard in the default browser (xdg-open)
    #[arg(long = "open")]
    pub open: bool,
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    let dash = Dashboard::bind(Options { addr: args.addr }, client.clone()).await?;
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
