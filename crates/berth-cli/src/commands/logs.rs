//! `berth logs`: fetch (and follow) a container's output.

use crate::stdio::Demux;
use berth_api::container::ContainerInspect;
use berth_client::{segment, Client, Method, Query, RequestBody};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Show extra details provided to logs
    #[arg(long)]
    pub details: bool,
    /// Follow log output
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)
    #[arg(long)]
    pub since: Option<String>,
    /// Number of lines to show from the end of the logs
    #[arg(short = 'n', long, default_value = "all")]
    pub tail: String,
    /// Show timestamps
    #[arg(short = 't', long)]
    pub timestamps: bool,
    /// Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)
    #[arg(long)]
    pub until: Option<String>,
    pub container: String,
}

/// docker's `timetypes.GetTimestamp`: durations and dates become
/// `seconds.nanoseconds`; anything else is passed on for the daemon to judge.
pub fn api_timestamp(value: &str) -> String {
    match berth_api::time::parse_time_filter(value, std::time::SystemTime::now()) {
        Some(n) => format!("{}.{:09}", n.div_euclid(1_000_000_000), n.rem_euclid(1_000_000_000)),
        None => value.to_string(),
    }
}

pub async fn run(client: &Client, args: Args) -> anyhow::Result<()> {
    let path = segment(&args.container);
    let info: ContainerInspect = client.get_json(&format!("/containers/{path}/json"), &Query::new()).await?;
    let q = Query::new()
        .flag("stdout", true)
        .flag("stderr", true)
        .non_empty("since", &args.since.as_deref().map(api_timestamp).unwrap_or_default())
        .non_empty("until", &args.until.as_deref().map(api_timestamp).unwrap_or_default())
        .flag("timestamps", args.timestamps)
        .flag("follow", args.follow)
        .add("tail", args.tail.clone())
        .flag("details", args.details);
    let mut stream = client.stream(Method::GET, &format!("/containers/{path}/logs"), &q, RequestBody::Empty).await?;
    let mut demux = Demux::new(info.config.tty);
    while let Some(chunk) = stream.chunk().await? {
        demux.feed(&chunk)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_timestamps() {
        assert_eq!(api_timestamp("1970-01-01T00:00:10Z"), "10.000000000");
        assert_eq!(api_timestamp("1700000000.5"), "1700000000.500000000");
        assert_eq!(api_timestamp("bogus"), "bogus");
    }
}
