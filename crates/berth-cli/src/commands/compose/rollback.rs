//! What a failed `up` takes back: the containers it created that never
//! ran (a start refused for a taken port, a dependency that failed its
//! condition first), then the networks and volumes it created that nothing
//! uses any more — so a refused `up` leaves nothing half-made. Containers
//! that ran stay, with their logs, as Compose leaves them; so does what
//! existed before this `up`.

use super::ops;
use super::progress::Progress;
use super::session::{name_of, OneOff, Session};
use berth_api::network::Network;
use berth_api::volume::VolumeListResponse;
use berth_client::{segment, Query};
use berth_compose::plan::ExistingContainer;
use std::collections::BTreeSet;

/// The project's service containers, networks and volumes before `up`
/// touched them (converge makes service containers only).
pub struct Before {
    containers: BTreeSet<String>,
    networks: BTreeSet<String>,
    volumes: BTreeSet<String>,
}

fn project_query(s: &Session<'_>) -> Query {
    Query::new().filters(&s.project_filters())
}

impl Before {
    /// `existing`: the project's service containers, as converge lists them.
    pub async fn take(s: &Session<'_>, existing: &[ExistingContainer]) -> anyhow::Result<Before> {
        let nets: Vec<Network> = s.client.get_json("/networks", &project_query(s)).await?;
        let vols: VolumeListResponse = s.client.get_json("/volumes", &project_query(s)).await?;
        Ok(Before {
            containers: existing.iter().map(|c| c.id.clone()).collect(),
            networks: nets.into_iter().map(|n| n.name).collect(),
            volumes: vols.volumes.into_iter().map(|v| v.name).collect(),
        })
    }

    /// Removes what was made since [`Before::take`] and never used.
    /// Best effort: the `up` has failed already; its error is what the
    /// user needs to see, so failures here are only noted.
    pub async fn roll_back(&self, s: &Session<'_>, p: &Progress) {
        if let Err(e) = self.try_roll_back(s, p).await {
            p.note(&format!("WARN[0000] cleaning up after the failed up: {e:#}"));
        }
    }

    async fn try_roll_back(&self, s: &Session<'_>, p: &Progress) -> anyhow::Result<()> {
        for c in s.containers(true, OneOff::Exclude, &[]).await? {
            if c.state == "created" && !self.containers.contains(&c.id) {
                ops::remove(s, p, &c.id, name_of(&c), true).await?;
            }
        }
        let nets: Vec<Network> = s.client.get_json("/networks", &project_query(s)).await?;
        for n in nets.iter().filter(|n| !self.networks.contains(&n.name)) {
            // In use by a container that ran: it stays, as the container does.
            let _ = s.client.delete(&format!("/networks/{}", segment(&n.name)), &Query::new()).await;
        }
        let vols: VolumeListResponse = s.client.get_json("/volumes", &project_query(s)).await?;
        for v in vols.volumes.iter().filter(|v| !self.volumes.contains(&v.name)) {
            let _ = s.client.delete(&format!("/volumes/{}", segment(&v.name)), &Query::new()).await;
        }
        Ok(())
    }
}
