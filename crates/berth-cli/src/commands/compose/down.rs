//! `berth compose down`: stop and remove the project's containers (its
//! services' and its one-off `run` containers; orphans with
//! `--remove-orphans`) in reverse dependency order, then its networks,
//! then with `-v` its volumes, then with `--rmi` its images.

use super::converge::{levels, orphan_warning};
use super::ops;
use super::parallel::{try_join_all, Task};
use super::progress::Progress;
use super::resources;
use super::session::{existing_of, name_of, service_of, OneOff, Session};
use super::Global;
use crate::exit::describe;
use berth_api::container::ContainerSummary;
use berth_client::{segment, Client, Query};
use berth_compose::plan::{self, RemoveImages};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Remove named volumes declared in the "volumes" section of the Compose file and anonymous volumes attached to containers
    #[arg(short = 'v', long = "volumes")]
    pub volumes: bool,
    /// Remove images used by services. "local" remove only images that don't have a custom tag ("local"|"all")
    #[arg(long = "rmi", value_parser = ["local", "all"])]
    pub rmi: Option<String>,
    /// Remove containers for services not defined in the Compose file
    #[arg(long = "remove-orphans")]
    pub remove_orphans: bool,
    /// Specify a shutdown timeout in seconds
    #[arg(short = 't', long = "timeout", allow_negative_numbers = true)]
    pub timeout: Option<i64>,
    pub services: Vec<String>,
}

/// Groups containers for removal: orphans first (when removed), then the
/// services' containers level by level in reverse start order.
pub fn removal_batches<'c>(s: &Session<'_>, containers: &'c [ContainerSummary], orphans: bool) -> anyhow::Result<Vec<Vec<&'c ContainerSummary>>> {
    let project = &s.project;
    let known = |svc: Option<&str>| svc.is_some_and(|x| project.services.contains_key(x) || project.disabled.contains_key(x));
    let mut batches: Vec<Vec<&ContainerSummary>> = Vec::new();
    if orphans {
        batches.push(containers.iter().filter(|c| !known(service_of(c))).collect());
    }
    let order = plan::start_order(project)?;
    let mut lv = levels(project, &order);
    lv.reverse();
    for level in lv {
        batches.push(containers.iter().filter(|c| service_of(c).is_some_and(|x| level.iter().any(|l| l == x))).collect());
    }
    // Profile-disabled services' containers go last, as they depend on nothing we know.
    batches.push(containers.iter().filter(|c| service_of(c).is_some_and(|x| project.disabled.contains_key(x))).collect());
    batches.retain(|b| !b.is_empty());
    Ok(batches)
}

/// Stops and removes containers batch by batch, each batch in parallel.
pub async fn stop_and_remove(
    s: &Session<'_>,
    p: &Progress,
    batches: &[Vec<&ContainerSummary>],
    timeout: Option<i64>,
    volumes: bool,
) -> anyhow::Result<()> {
    for batch in batches {
        let tasks: Vec<Task<'_, anyhow::Result<()>>> = batch
            .iter()
            .map(|c| {
                Box::pin(async move {
                    let name = name_of(c);
                    if c.state == "running" || c.state == "paused" || c.state == "restarting" {
                        ops::stop(s, p, &c.id, name, timeout).await?;
                    }
                    ops::remove(s, p, &c.id, name, volumes).await
                }) as Task<'_, _>
            })
            .collect();
        try_join_all(tasks).await?;
    }
    Ok(())
}

pub async fn run(client: &Client, global: &Global, args: Args) -> anyhow::Result<()> {
    let s = Session::load(client, global, &args.services)?;
    s.check_services(&args.services)?;
    let p = Progress::new(global, "Running");
    let all = s.containers(true, OneOff::Include, &[]).await?;
    let project = &s.project;
    let known = |c: &ContainerSummary| service_of(c).is_some_and(|x| project.services.contains_key(x) || project.disabled.contains_key(x));
    let orphans: Vec<&ContainerSummary> = all.iter().filter(|c| !known(c)).collect();
    if !orphans.is_empty() && !args.remove_orphans && args.services.is_empty() {
        let ex: Vec<_> = orphans.iter().map(|c| existing_of(c)).collect();
        p.note(&orphan_warning(&ex));
    }
    let chosen: Vec<ContainerSummary> = all
        .iter()
        .filter(|c| args.services.is_empty() || service_of(c).is_some_and(|x| args.services.iter().any(|a| a == x)))
        .filter(|c| known(c) || args.remove_orphans)
        .cloned()
        .collect();
    let batches = removal_batches(&s, &chosen, args.remove_orphans && args.services.is_empty())?;
    stop_and_remove(&s, &p, &batches, args.timeout, args.volumes).await?;
    let mut removed_any = !chosen.is_empty();
    if args.services.is_empty() {
        let rmi = match args.rmi.as_deref() {
            Some("local") => RemoveImages::Local,
            Some("all") => RemoveImages::All,
            _ => RemoveImages::None,
        };
        let dp = plan::down(project, args.volumes, rmi);
        removed_any |= present_networks(&s, &dp.networks).await? || !dp.volumes.is_empty() || !dp.images.is_empty();
        resources::remove_networks(&s, &p, &dp.networks).await?;
        if args.volumes {
            resources::remove_volumes(&s, &p, &dp.volumes).await?;
        }
        remove_images(&s, &p, &dp.images).await?;
    }
    if !removed_any {
        p.note(&format!("WARN[0000] Warning: No resource found to remove for project {:?}.", project.name));
    }
    Ok(())
}

/// Whether any of the networks exists (for Compose's "nothing to remove" warning).
async fn present_networks(s: &Session<'_>, names: &[String]) -> anyhow::Result<bool> {
    let list: Vec<berth_api::network::Network> = s.client.get_json("/networks", &Query::new().filters(&s.project_filters())).await?;
    Ok(list.iter().any(|n| names.contains(&n.name)))
}

/// `--rmi`: removes the images that exist; one still in use is an error.
async fn remove_images(s: &Session<'_>, p: &Progress, images: &[String]) -> anyhow::Result<()> {
    let mut errors = Vec::new();
    for image in images {
        let id = format!("Image {image}");
        match s.client.delete(&format!("/images/{}", segment(image)), &Query::new()).await {
            Ok(()) => {
                p.working(&id, "Removing");
                p.done(&id, "Removed");
            }
            Err(e) if e.is_not_found() => {}
            Err(e) => {
                p.error(&id, "Error");
                errors.push(describe(&e));
            }
        }
    }
    crate::exit::joined(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rmi_values_are_compose_ones() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct T {
            #[command(flatten)]
            a: Args,
        }
        assert!(T::try_parse_from(["down", "--rmi", "local", "-v"]).is_ok());
        assert!(T::try_parse_from(["down", "--rmi", "some"]).is_err());
    }
}
