//! `berth compose wait`: block until the containers of all (or the named)
//! services stop; the exit status is the first one's exit code, as
//! Compose's. `--down-project` takes the project down after that first exit.

use super::session::{OneOff, Session};
use super::Global;
use crate::exit::StatusError;
use berth_client::Client;
use tokio::task::JoinSet;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Drops project when the first container stops
    #[arg(long = "down-project")]
    pub down_project: bool,
    pub services: Vec<String>,
}

pub async fn run(client: &Client, global: &Global, args: Args) -> anyhow::Result<()> {
    let s = Session::load(client, global, &args.services)?;
    s.check_services(&args.services)?;
    let list = s.containers(false, OneOff::Exclude, &args.services).await?;
    if list.is_empty() {
        return Ok(());
    }
    let mut set = JoinSet::new();
    for c in list {
        let client = client.clone();
        set.spawn(async move {
            let r = client.wait(&c.id, "not-running").await?.result().await?;
            anyhow::Ok(r.status_code)
        });
    }
    let mut first: Option<i64> = None;
    while let Some(r) = set.join_next().await {
        let code = r.map_err(|e| anyhow::anyhow!("wait failed: {e}"))??;
        first.get_or_insert(code);
        if args.down_project {
            set.abort_all();
            down(client, global).await?;
            break;
        }
    }
    match first {
        Some(0) | None => Ok(()),
        Some(code) => Err(StatusError::code(i32::try_from(code).unwrap_or(1)).into()),
    }
}

/// `down` of the whole project, with its defaults.
async fn down(client: &Client, global: &Global) -> anyhow::Result<()> {
    let args = super::down::Args { volumes: false, rmi: None, remove_orphans: false, timeout: None, services: Vec::new() };
    super::down::run(client, global, args).await
}
