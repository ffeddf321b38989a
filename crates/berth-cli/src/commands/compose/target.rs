//! Picking the one container a command acts on (`exec`, `port`, `cp`):
//! replica `--index` (default 1) of a service, with Compose's errors.

use super::session::{number_of, OneOff, Session};
use berth_api::container::ContainerSummary;

/// Replica `index` of `service`; stopped containers too with `all`.
pub async fn pick(s: &Session<'_>, service: &str, index: Option<u64>, all: bool) -> anyhow::Result<ContainerSummary> {
    s.check_services(&[service.to_string()])?;
    let list = s.containers(all, OneOff::Exclude, &[service.to_string()]).await?;
    choose(list, service, index)
}

/// The choice itself: the given index, else the first replica.
pub fn choose(list: Vec<ContainerSummary>, service: &str, index: Option<u64>) -> anyhow::Result<ContainerSummary> {
    if list.is_empty() {
        anyhow::bail!("service {service:?} is not running");
    }
    let want = index.unwrap_or(1);
    let mut list = list;
    match list.iter().position(|c| number_of(c) == want) {
        Some(i) => Ok(list.swap_remove(i)),
        None if index.is_none() => Ok(list.swap_remove(0)),
        None => anyhow::bail!("service {service:?} is not running container #{want}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_compose::plan::label;

    fn c(n: &str) -> ContainerSummary {
        let mut c = ContainerSummary { id: n.into(), ..Default::default() };
        c.labels.insert(label::CONTAINER_NUMBER.into(), n.into());
        c
    }

    #[test]
    fn picks_by_index() {
        assert_eq!(choose(vec![c("2"), c("1")], "web", None).unwrap().id, "1");
        assert_eq!(choose(vec![c("2"), c("1")], "web", Some(2)).unwrap().id, "2");
        assert_eq!(choose(vec![c("2")], "web", None).unwrap().id, "2");
        assert_eq!(choose(vec![c("1")], "web", Some(3)).unwrap_err().to_string(), "service \"web\" is not running container #3");
        assert_eq!(choose(vec![], "web", None).unwrap_err().to_string(), "service \"web\" is not running");
    }
}
