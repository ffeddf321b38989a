//! `berth compose cp`: `berth cp` with `SERVICE:PATH` in place of
//! `CONTAINER:PATH`. Copying from a service reads replica `--index`
//! (default 1); copying to one writes every replica unless `--index`.

use super::session::{number_of, OneOff, Session};
use super::Global;
use crate::commands::cp as cli_cp;
use berth_client::Client;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Archive mode (copy all uid/gid information)
    #[arg(short = 'a', long)]
    pub archive: bool,
    /// Always follow symbol link in SRC_PATH
    #[arg(short = 'L', long = "follow-link")]
    pub follow_link: bool,
    /// Index of the container if service has multiple replicas
    #[arg(long)]
    pub index: Option<u64>,
    pub src: String,
    pub dest: String,
}

/// `SERVICE:PATH` → (service, path); a local path (absolute, or `./x:y`) → None.
fn service_part(arg: &str) -> Option<(&str, &str)> {
    if arg.starts_with('/') || arg.starts_with('.') {
        return None;
    }
    arg.split_once(':')
}

pub async fn run(client: &Client, global: &Global, args: Args) -> anyhow::Result<()> {
    let (from, to) = (service_part(&args.src), service_part(&args.dest));
    let (service, path, outward) = match (from, to) {
        (Some(_), Some(_)) => anyhow::bail!("copying between services is not supported"),
        (None, None) => anyhow::bail!("must specify at least one container source"),
        (Some((s, p)), None) => (s, p, true),
        (None, Some((s, p))) => (s, p, false),
    };
    let s = Session::load(client, global, &[service.to_string()])?;
    let targets = if outward || args.index.is_some() {
        vec![super::target::pick(&s, service, args.index, true).await?]
    } else {
        s.check_services(&[service.to_string()])?;
        let mut all = s.containers(true, OneOff::Exclude, &[service.to_string()]).await?;
        all.sort_by_key(number_of);
        if all.is_empty() {
            anyhow::bail!("no container found for service {service:?}");
        }
        all
    };
    for c in targets {
        let spec = format!("{}:{path}", c.id);
        let (src, dest) = if outward { (spec, args.dest.clone()) } else { (args.src.clone(), spec) };
        let a = cli_cp::Args { archive: args.archive, follow_link: args.follow_link, quiet: true, src, dest };
        cli_cp::run(client, a).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_service_paths() {
        assert_eq!(service_part("web:/etc/hosts"), Some(("web", "/etc/hosts")));
        assert_eq!(service_part("/tmp/x:y"), None);
        assert_eq!(service_part("./a:b"), None);
        assert_eq!(service_part("local.txt"), None);
    }
}
