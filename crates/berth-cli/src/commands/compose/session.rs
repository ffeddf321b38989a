//! What the daemon-driving compose commands share: the loaded project,
//! the client, and the project's containers as the engine lists them
//! (found by the `com.docker.compose.project` label, as Compose finds
//! them, so containers made by Docker Compose are recognised too).

use super::Global;
use berth_api::container::ContainerSummary;
use berth_client::{Client, Filters, Query};
use berth_compose::plan::{self, label, ExistingContainer};
use berth_compose::Project;

pub struct Session<'a> {
    pub client: &'a Client,
    pub project: Project,
}

/// Which of the project's containers to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OneOff {
    /// Service containers only (what `ps`, `stop`... act on).
    Exclude,
    Include,
}

impl<'a> Session<'a> {
    pub fn load(client: &'a Client, global: &Global, services: &[String]) -> anyhow::Result<Session<'a>> {
        Ok(Session { client, project: global.load(services)? })
    }

    /// List filters for what carries the project's label (containers,
    /// networks, volumes, events), as Compose finds them; callers add more.
    pub fn project_filters(&self) -> Filters {
        let mut f = Filters::new();
        f.add("label", &plan::project_filter(&self.project));
        f
    }

    /// The project's containers, stopped ones with `all`, limited to
    /// `services` when not empty, ordered by service then number.
    pub async fn containers(&self, all: bool, oneoff: OneOff, services: &[String]) -> anyhow::Result<Vec<ContainerSummary>> {
        let mut f = self.project_filters();
        match oneoff {
            OneOff::Exclude => f.add("label", &format!("{}=False", label::ONEOFF)),
            OneOff::Include => {}
        }
        let q = Query::new().flag("all", all).filters(&f);
        let mut list: Vec<ContainerSummary> = self.client.get_json("/containers/json", &q).await?;
        list.retain(|c| services.is_empty() || services.iter().any(|s| Some(s.as_str()) == service_of(c)));
        list.sort_by(|a, b| (service_of(a), number_of(a), &a.names).cmp(&(service_of(b), number_of(b), &b.names)));
        Ok(list)
    }

    /// The project's service containers in the form the planner compares.
    pub async fn existing(&self) -> anyhow::Result<Vec<ExistingContainer>> {
        Ok(self.containers(true, OneOff::Exclude, &[]).await?.iter().map(existing_of).collect())
    }

    /// Fails with Compose's wording when a named service is not in the project.
    pub fn check_services(&self, services: &[String]) -> anyhow::Result<()> {
        for s in services {
            if !self.project.services.contains_key(s) {
                anyhow::bail!("no such service: {s}");
            }
        }
        Ok(())
    }
}

pub fn service_of(c: &ContainerSummary) -> Option<&str> {
    c.labels.get(label::SERVICE).map(String::as_str)
}

pub fn number_of(c: &ContainerSummary) -> u64 {
    c.labels.get(label::CONTAINER_NUMBER).and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// The container's name without the leading `/`.
pub fn name_of(c: &ContainerSummary) -> &str {
    c.names.first().map(|n| n.trim_start_matches('/')).unwrap_or(&c.id)
}

pub fn existing_of(c: &ContainerSummary) -> ExistingContainer {
    ExistingContainer { id: c.id.clone(), name: name_of(c).to_string(), labels: c.labels.clone(), running: c.state == "running" }
}
