//! `berth compose create|start|stop|restart|kill|pause|unpause|rm`.

use super::Global;
use berth_client::Client;

#[derive(clap::Args, Debug)]
pub struct ServicesArgs {
    pub services: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    pub services: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct StopArgs {
    /// Specify a shutdown timeout in seconds
    #[arg(short = 't', long = "timeout")]
    pub timeout: Option<i64>,
    pub services: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct RestartArgs {
    /// Specify a shutdown timeout in seconds
    #[arg(short = 't', long = "timeout")]
    pub timeout: Option<i64>,
    pub services: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct KillArgs {
    /// SIGNAL to send to the container
    #[arg(short = 's', long = "signal", default_value = "SIGKILL")]
    pub signal: String,
    pub services: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct RmArgs {
    /// Don't ask to confirm removal
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    /// Stop the containers, if required, before removing
    #[arg(short = 's', long = "stop")]
    pub stop: bool,
    /// Remove any anonymous volumes attached to containers
    #[arg(short = 'v', long = "volumes")]
    pub volumes: bool,
    pub services: Vec<String>,
}

pub async fn create(_client: &Client, _global: &Global, _args: CreateArgs) -> anyhow::Result<()> {
    Err(super::not_yet("create"))
}

pub async fn start(_client: &Client, _global: &Global, _args: ServicesArgs) -> anyhow::Result<()> {
    Err(super::not_yet("start"))
}

pub async fn stop(_client: &Client, _global: &Global, _args: StopArgs) -> anyhow::Result<()> {
    Err(super::not_yet("stop"))
}

pub async fn restart(_client: &Client, _global: &Global, _args: RestartArgs) -> anyhow::Result<()> {
    Err(super::not_yet("restart"))
}

pub async fn kill(_client: &Client, _global: &Global, _args: KillArgs) -> anyhow::Result<()> {
    Err(super::not_yet("kill"))
}

pub async fn pause(_client: &Client, _global: &Global, _args: ServicesArgs) -> anyhow::Result<()> {
    Err(super::not_yet("pause"))
}

pub async fn unpause(_client: &Client, _global: &Global, _args: ServicesArgs) -> anyhow::Result<()> {
    Err(super::not_yet("unpause"))
}

pub async fn rm(_client: &Client, _global: &Global, _args: RmArgs) -> anyhow::Result<()> {
    Err(super::not_yet("rm"))
}
