//! Resource-limit flags shared by `run`/`create` and `update`, and
//! Docker's size syntax (`64m`, `1g`) for them.

use berth_api::container::{Resources, UlimitSpec};

#[derive(clap::Args, Debug, Clone, Default)]
pub struct LimitOptions {
    /// Memory limit
    #[arg(short = 'm', long = "memory", value_name = "bytes")]
    pub memory: Option<String>,
    /// Swap limit equal to memory plus swap: '-1' to enable unlimited swap
    #[arg(long = "memory-swap", value_name = "bytes", allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Memory soft limit
    #[arg(long = "memory-reservation", value_name = "bytes")]
    pub memory_reservation: Option<String>,
    /// Number of CPUs
    #[arg(long = "cpus", value_name = "decimal")]
    pub cpus: Option<f64>,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long = "cpu-shares", value_name = "int")]
    pub cpu_shares: Option<i64>,
    /// Limit CPU CFS (Completely Fair Scheduler) quota
    #[arg(long = "cpu-quota", value_name = "int")]
    pub cpu_quota: Option<i64>,
    /// Limit CPU CFS (Completely Fair Scheduler) period
    #[arg(long = "cpu-period", value_name = "int")]
    pub cpu_period: Option<i64>,
    /// CPUs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-cpus", value_name = "string")]
    pub cpuset_cpus: Option<String>,
    /// MEMs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-mems", value_name = "string")]
    pub cpuset_mems: Option<String>,
    /// Tune container pids limit (set -1 for unlimited)
    #[arg(long = "pids-limit", value_name = "int", allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
}

impl LimitOptions {
    pub fn to_resources(&self) -> Result<Resources, String> {
        let size = |flag: &str, v: &Option<String>| -> Result<i64, String> {
            match v.as_deref() {
                None | Some("") => Ok(0),
                Some("-1") if flag == "memory-swap" => Ok(-1),
                Some(s) => parse_ram(s).map_err(|e| format!("invalid argument \"{s}\" for \"--{flag}\" flag: {e}")),
            }
        };
        let nano_cpus = match self.cpus {
            None => 0,
            Some(c) if c < 0.0 => return Err(format!("invalid argument \"{c}\" for \"--cpus\" flag: invalid value")),
            Some(c) => (c * 1e9).round() as i64,
        };
        Ok(Resources {
            memory: size("memory", &self.memory)?,
            memory_swap: size("memory-swap", &self.memory_swap)?,
            memory_reservation: size("memory-reservation", &self.memory_reservation)?,
            nano_cpus,
            cpu_shares: self.cpu_shares.unwrap_or(0),
            cpu_quota: self.cpu_quota.unwrap_or(0),
            cpu_period: self.cpu_period.unwrap_or(0),
            cpuset_cpus: self.cpuset_cpus.clone().unwrap_or_default(),
            cpuset_mems: self.cpuset_mems.clone().unwrap_or_default(),
            pids_limit: self.pids_limit,
            memory_swappiness: None,
            oom_kill_disable: None,
            ulimits: None,
        })
    }
}

/// `--ulimit nofile=1024[:2048]`.
pub fn parse_ulimit(s: &str) -> Result<UlimitSpec, String> {
    let bad = || format!("invalid argument \"{s}\" for \"--ulimit\" flag: invalid ulimit argument: {s}");
    let (name, limits) = s.split_once('=').ok_or_else(bad)?;
    let (soft, hard) = match limits.split_once(':') {
        Some((a, b)) => (a, b),
        None => (limits, limits),
    };
    let soft: i64 = soft.parse().map_err(|_| bad())?;
    let hard: i64 = hard.parse().map_err(|_| bad())?;
    Ok(UlimitSpec { name: name.to_string(), soft, hard })
}

/// go-units `RAMInBytes`: a number with an optional b/k/m/g/t/p unit
/// (binary multiples, optional trailing `b`).
pub fn parse_ram(s: &str) -> Result<i64, String> {
    let t = s.trim().to_ascii_lowercase();
    let digits = t.bytes().take_while(|c| c.is_ascii_digit() || *c == b'.').count();
    let (num, unit) = t.split_at(digits);
    let value: f64 = num.parse().map_err(|_| format!("invalid size: '{s}'"))?;
    let mult: f64 = match unit.trim_end_matches('b') {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024f64.powi(4),
        "p" => 1024f64.powi(5),
        _ => return Err(format!("invalid size: '{s}'")),
    };
    if unit.len() > 2 || (unit.len() == 2 && !unit.ends_with('b')) {
        return Err(format!("invalid size: '{s}'"));
    }
    Ok((value * mult) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ram_sizes_like_go_units() {
        assert_eq!(parse_ram("64m"), Ok(64 << 20));
        assert_eq!(parse_ram("1g"), Ok(1 << 30));
        assert_eq!(parse_ram("1GB"), Ok(1 << 30));
        assert_eq!(parse_ram("512"), Ok(512));
        assert_eq!(parse_ram("1.5k"), Ok(1536));
        assert!(parse_ram("lots").is_err());
        assert!(parse_ram("5x").is_err());
    }

    #[test]
    fn limits_and_ulimits() {
        let o = LimitOptions { memory: Some("64m".into()), memory_swap: Some("-1".into()), cpus: Some(1.5), pids_limit: Some(10), ..Default::default() };
        let r = o.to_resources().unwrap();
        assert_eq!((r.memory, r.memory_swap, r.nano_cpus, r.pids_limit), (64 << 20, -1, 1_500_000_000, Some(10)));
        assert_eq!(parse_ulimit("nofile=100:200").unwrap(), UlimitSpec { name: "nofile".into(), soft: 100, hard: 200 });
        assert_eq!(parse_ulimit("nproc=5").unwrap().hard, 5);
        assert!(parse_ulimit("nofile").is_err());
    }
}
