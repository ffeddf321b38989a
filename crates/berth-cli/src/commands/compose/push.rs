//! `berth compose push`: the images of the services that are built and
//! named (`build:` and `image:`), as Compose pushes them, through berthd
//! as `berth push` does.

use super::progress::{self, Mode, Progress, Status};
use super::pull::problem;
use super::session::Session;
use super::Global;
use crate::jsonmessage;
use crate::reference::Reference;
use berth_client::Client;
use berth_compose::plan;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Push what it can and ignores images with push failures
    #[arg(long = "ignore-push-failures")]
    pub ignore_push_failures: bool,
    /// Also push images of services declared as dependencies
    #[arg(long = "include-deps")]
    pub include_deps: bool,
    /// Push without printing progress information
    #[arg(short = 'q', long)]
    pub quiet: bool,
    pub services: Vec<String>,
}

async fn push_one(client: &Client, image: &str) -> anyhow::Result<()> {
    let reference = Reference::parse(image).map_err(anyhow::Error::msg)?.with_default_tag();
    let tag = reference.tag.clone().unwrap_or_else(|| "latest".into());
    let stream = crate::commands::push::send(client, &reference, &tag).await?;
    jsonmessage::display(stream, &mut std::io::sink()).await
}

pub async fn run(client: &Client, global: &Global, args: Args) -> anyhow::Result<()> {
    let s = Session::load(client, global, &args.services)?;
    s.check_services(&args.services)?;
    let services: Vec<String> = if args.include_deps && !args.services.is_empty() {
        plan::with_dependencies(&s.project, &args.services, false)?
    } else if args.services.is_empty() {
        s.project.services.keys().cloned().collect()
    } else {
        args.services.clone()
    };
    let mut failed = Vec::new();
    let p = Progress::service_steps(if args.quiet { Mode::Quiet } else { progress::mode(global) }, "Pushing");
    for name in &services {
        let Some(svc) = s.project.services.get(name) else { continue };
        let (Some(image), Some(_)) = (svc.image.as_deref(), svc.build.as_ref()) else { continue };
        p.working(name, "Pushing");
        match push_one(client, image).await {
            Ok(()) => p.done(name, "Pushed"),
            Err(e) if args.ignore_push_failures => problem(&p, name, &format!("Warning {e}"), Status::Done),
            Err(e) => {
                problem(&p, name, &format!("Error {e}"), Status::Error);
                failed.push(format!("{name}: {e}"));
            }
        }
    }
    if !failed.is_empty() {
        anyhow::bail!("{}", failed.join("\n"));
    }
    Ok(())
}
