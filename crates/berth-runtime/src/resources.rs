//! Resource limits (`--memory`, `--cpus`, `--pids-limit`, `--ulimit` ...)
//! as the OCI spec's `linux.resources` and `process.rlimits`, and as the
//! body of the runtime's `update` command.

use crate::error::RuntimeError;
use serde_json::{json, Map, Value};

/// The CFS period Docker uses to turn `--cpus` into a quota.
pub const CPU_PERIOD_US: i64 = 100_000;

/// One `--ulimit name=soft[:hard]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ulimit {
    pub name: String,
    pub soft: i64,
    pub hard: i64,
}

/// Limits as Docker's HostConfig carries them (0 / None mean "not set").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources {
    pub memory: i64,
    /// Memory plus swap; -1 unlimited; 0 means "twice the memory" when memory is set.
    pub memory_swap: i64,
    pub memory_reservation: i64,
    pub nano_cpus: i64,
    pub cpu_shares: i64,
    pub cpu_quota: i64,
    pub cpu_period: i64,
    pub cpuset_cpus: String,
    pub cpuset_mems: String,
    /// None or <= 0: unlimited.
    pub pids_limit: Option<i64>,
    /// The memory cgroup's `swappiness` (cgroup v1); None: the kernel's.
    pub memory_swappiness: Option<i64>,
    pub oom_kill_disable: bool,
    pub ulimits: Vec<Ulimit>,
}

/// Docker's lower bound on `--memory`.
const MIN_MEMORY: i64 = 6 * 1024 * 1024;

impl Resources {
    /// Docker's checks on the combination of limits.
    /// dockerd's checks (its words), with `ncpu` CPUs on the host.
    pub fn validate(&self, ncpu: u32) -> Result<(), RuntimeError> {
        let bad = |m: &str| Err(RuntimeError::InvalidResources(m.to_string()));
        if self.memory != 0 && self.memory < MIN_MEMORY {
            return bad("Minimum memory limit allowed is 6MB");
        }
        if self.memory_reservation > 0 && self.memory_reservation < MIN_MEMORY {
            return bad("Minimum memory reservation allowed is 6MB");
        }
        if self.memory > 0 && self.memory_swap > 0 && self.memory_swap < self.memory {
            return bad("Minimum memoryswap limit should be larger than memory limit, see usage");
        }
        if self.memory == 0 && self.memory_swap > 0 {
            return bad("You should always set the Memory limit when using Memoryswap limit, see usage");
        }
        if self.memory > 0 && self.memory_reservation > self.memory {
            return bad("Minimum memory limit can not be less than memory reservation limit, see usage");
        }
        if self.nano_cpus > 0 && (self.cpu_quota > 0 || self.cpu_period > 0) {
            return bad("Conflicting options: Nano CPUs and CPU Period cannot both be set");
        }
        if self.nano_cpus < 0 || self.nano_cpus > i64::from(ncpu) * 1_000_000_000 {
            return bad(&format!("Range of CPUs is from 0.01 to {ncpu}.00, as there are only {ncpu} CPUs available"));
        }
        if self.cpu_period != 0 && !(1_000..=1_000_000).contains(&self.cpu_period) {
            return bad("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
        }
        if self.cpu_quota > 0 && self.cpu_quota < 1_000 {
            return bad("CPU cfs quota can not be less than 1ms (i.e. 1000)");
        }
        if self.cpu_shares < 0 {
            return bad("invalid CPU shares");
        }
        if let Some(s) = self.memory_swappiness.filter(|s| !(0..=100).contains(s)) {
            return bad(&format!("Invalid value: {s}, valid memory swappiness range is 0-100"));
        }
        for u in &self.ulimits {
            rlimit_type(&u.name)?;
            if u.soft > u.hard {
                return bad(&format!("ulimit soft limit must be less than or equal to hard limit: {} > {}", u.soft, u.hard));
            }
        }
        Ok(())
    }

    /// `linux.resources` without the device rules (the spec adds those).
    pub fn to_oci(&self) -> Map<String, Value> {
        let mut out = Map::new();
        let mut mem = Map::new();
        if self.memory > 0 {
            mem.insert("limit".into(), json!(self.memory));
            // Saturating: a limit near i64::MAX would overflow to a negative swap.
            let swap = match self.memory_swap {
                0 => self.memory.saturating_mul(2),
                s => s,
            };
            mem.insert("swap".into(), json!(swap));
        }
        if self.memory_reservation > 0 {
            mem.insert("reservation".into(), json!(self.memory_reservation));
        }
        if self.oom_kill_disable {
            mem.insert("disableOOMKiller".into(), json!(true));
        }
        if let Some(s) = self.memory_swappiness {
            mem.insert("swappiness".into(), json!(s));
        }
        if !mem.is_empty() {
            out.insert("memory".into(), Value::Object(mem));
        }
        let mut cpu = Map::new();
        if self.cpu_shares > 0 {
            cpu.insert("shares".into(), json!(self.cpu_shares));
        }
        if self.nano_cpus > 0 {
            // In i128: nano_cpus * period overflows i64 from ~92 billion CPUs.
            let quota = i128::from(self.nano_cpus) * i128::from(CPU_PERIOD_US) / 1_000_000_000;
            cpu.insert("quota".into(), json!(i64::try_from(quota).unwrap_or(i64::MAX)));
            cpu.insert("period".into(), json!(CPU_PERIOD_US));
        } else {
            if self.cpu_quota > 0 {
                cpu.insert("quota".into(), json!(self.cpu_quota));
            }
            if self.cpu_period > 0 {
                cpu.insert("period".into(), json!(self.cpu_period));
            }
        }
        if !self.cpuset_cpus.is_empty() {
            cpu.insert("cpus".into(), json!(self.cpuset_cpus));
        }
        if !self.cpuset_mems.is_empty() {
            cpu.insert("mems".into(), json!(self.cpuset_mems));
        }
        if !cpu.is_empty() {
            out.insert("cpu".into(), Value::Object(cpu));
        }
        if let Some(p) = self.pids_limit.filter(|p| *p > 0) {
            out.insert("pids".into(), json!({"limit": p}));
        }
        out
    }

    /// `process.rlimits`; empty when no `--ulimit` was given (the
    /// container inherits the runtime's limits, which may not be raised here).
    pub fn rlimits(&self) -> Vec<Value> {
        self.ulimits
            .iter()
            .filter_map(|u| Some(json!({"type": rlimit_type(&u.name).ok()?, "soft": u.soft, "hard": u.hard})))
            .collect()
    }
}

fn rlimit_type(name: &str) -> Result<String, RuntimeError> {
    const NAMES: &[&str] = &[
        "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc",
        "rss", "rtprio", "rttime", "sigpending", "stack", "as",
    ];
    if NAMES.contains(&name) {
        Ok(format!("RLIMIT_{}", name.to_ascii_uppercase()))
    } else {
        Err(RuntimeError::InvalidResources(format!("invalid ulimit type: {name}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_defaults_swap_to_twice_memory() {
        let r = Resources { memory: 64 << 20, ..Default::default() };
        let o = Value::Object(r.to_oci());
        assert_eq!(o["memory"]["limit"], 64 << 20);
        assert_eq!(o["memory"]["swap"], 128 << 20);
        let r = Resources { memory: 64 << 20, memory_swap: -1, ..Default::default() };
        assert_eq!(Value::Object(r.to_oci())["memory"]["swap"], -1);
    }

    #[test]
    fn swappiness_alone_sets_the_memory_cgroup() {
        let r = Resources { memory_swappiness: Some(40), ..Default::default() };
        let o = Value::Object(r.to_oci());
        assert_eq!(o["memory"]["swappiness"], 40);
        assert!(o["memory"].get("limit").is_none());
        let msg = |s| Resources { memory_swappiness: Some(s), ..Default::default() }.validate(2).unwrap_err().to_string();
        assert!(msg(101).contains("Invalid value: 101, valid memory swappiness range is 0-100"));
        assert!(msg(-2).contains("Invalid value: -2, valid memory swappiness range is 0-100"));
        assert!(Resources { memory_swappiness: Some(0), ..Default::default() }.validate(2).is_ok());
    }

    #[test]
    fn cpus_become_a_quota() {
        let r = Resources { nano_cpus: 1_500_000_000, cpu_shares: 512, cpuset_cpus: "0".into(), ..Default::default() };
        let o = Value::Object(r.to_oci());
        assert_eq!(o["cpu"]["quota"], 150_000);
        assert_eq!(o["cpu"]["period"], 100_000);
        assert_eq!(o["cpu"]["shares"], 512);
        assert_eq!(o["cpu"]["cpus"], "0");
    }

    #[test]
    fn pids_and_ulimits() {
        let r = Resources {
            pids_limit: Some(10),
            ulimits: vec![Ulimit { name: "nofile".into(), soft: 100, hard: 200 }],
            ..Default::default()
        };
        assert_eq!(Value::Object(r.to_oci())["pids"]["limit"], 10);
        assert_eq!(r.rlimits(), vec![json!({"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200})]);
        assert!(Resources { pids_limit: Some(-1), ..Default::default() }.to_oci().is_empty());
    }

    #[test]
    fn rejects_what_docker_rejects() {
        let msg = |r: Resources| r.validate(2).unwrap_err().to_string();
        assert!(msg(Resources { memory: 1024, ..Default::default() }).contains("Minimum memory limit allowed is 6MB"));
        assert!(msg(Resources { memory: 64 << 20, memory_swap: 32 << 20, ..Default::default() }).contains("memoryswap"));
        assert!(msg(Resources { nano_cpus: 1, cpu_quota: 1, ..Default::default() }).contains("Conflicting options"));
        assert!(msg(Resources { ulimits: vec![Ulimit { name: "bogus".into(), soft: 1, hard: 1 }], ..Default::default() }).contains("invalid ulimit type"));
        assert!(Resources::default().validate(2).is_ok());
        for (r, want) in [
            (Resources { memory: -1, ..Default::default() }, "Minimum memory limit allowed is 6MB"),
            (Resources { memory_reservation: 1, ..Default::default() }, "Minimum memory reservation allowed is 6MB"),
            (Resources { cpu_period: -1, ..Default::default() }, "CPU cfs period can not be less than 1ms"),
            (Resources { cpu_period: 1_000_001, ..Default::default() }, "CPU cfs period can not be less than 1ms"),
            (Resources { cpu_quota: 999, ..Default::default() }, "CPU cfs quota can not be less than 1ms"),
            (Resources { nano_cpus: 1 << 62, ..Default::default() }, "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"),
            (Resources { nano_cpus: 2_000_000_001, ..Default::default() }, "Range of CPUs is from 0.01 to 2.00"),
            (Resources { nano_cpus: -1, ..Default::default() }, "Range of CPUs is from 0.01 to 2.00"),
        ] {
            assert!(msg(r.clone()).contains(want), "{r:?}: {}", msg(r.clone()));
        }
        assert!(Resources { nano_cpus: 2_000_000_000, cpu_period: 0, ..Default::default() }.validate(2).is_ok());
    }

    #[test]
    fn huge_values_do_not_overflow() {
        let o = Value::Object(Resources { memory: i64::MAX, ..Default::default() }.to_oci());
        assert_eq!(o["memory"]["swap"], i64::MAX);
        let o = Value::Object(Resources { nano_cpus: 1 << 62, ..Default::default() }.to_oci());
        assert_eq!(o["cpu"]["quota"], ((1i128 << 62) * 100_000 / 1_000_000_000) as i64);
    }
}
