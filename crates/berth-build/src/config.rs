//! How instructions change the image config, as dockerd's classic builder does it.

use berth_image::{ContainerConfig, Healthcheck};

use crate::history::{self, parse_go_duration};
use crate::parse::{flag_value, CmdLine, Flag};

pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

pub fn env_list(c: &ContainerConfig) -> Vec<String> {
    c.env.clone().unwrap_or_default()
}

/// ENV: replaces a variable of the same name in place, else appends.
pub fn set_env(c: &mut ContainerConfig, key: &str, value: &str) {
    let env = c.env.get_or_insert_with(Vec::new);
    let entry = format!("{key}={value}");
    match env.iter_mut().find(|e| e.split('=').next() == Some(key)) {
        Some(e) => *e = entry,
        None => env.push(entry),
    }
}

/// Every stage starts with a PATH, even on scratch.
pub fn ensure_path(c: &mut ContainerConfig) {
    if !env_list(c).iter().any(|e| e.split('=').next() == Some("PATH")) {
        c.env.get_or_insert_with(Vec::new).push(format!("PATH={DEFAULT_PATH}"));
    }
}

pub fn shell_of(c: &ContainerConfig) -> Vec<String> {
    match &c.shell {
        Some(s) if !s.is_empty() => s.clone(),
        _ => history::default_shell(),
    }
}

/// Exec form as is; shell form wrapped in the SHELL.
pub fn resolve_cmd(cmd: &CmdLine, c: &ContainerConfig) -> Vec<String> {
    match cmd {
        CmdLine::Exec(v) => v.clone(),
        CmdLine::Shell(s) => {
            let mut v = shell_of(c);
            v.push(s.clone());
            v
        }
        CmdLine::Script { name, .. } => vec![format!("/dev/pipes/{name}")],
    }
}

/// EXPOSE values → `port/proto` keys (ranges expanded), Docker's checks.
pub fn exposed_ports(specs: &[String]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for raw in specs {
        // ip:host:container forms are accepted; only the container part counts.
        let container = raw.rsplit(':').next().unwrap_or(raw);
        let (port, proto) = match container.split_once('/') {
            Some((p, pr)) => (p, pr.to_lowercase()),
            None => (container, "tcp".to_string()),
        };
        if port.is_empty() {
            return Err(format!("no port specified: {raw}<empty>"));
        }
        if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
            return Err(format!("invalid proto: {proto}"));
        }
        let bad = || format!("invalid containerPort: {port}");
        let (lo, hi) = match port.split_once('-') {
            Some((a, b)) => (a.parse::<u16>().map_err(|_| bad())?, b.parse::<u16>().map_err(|_| bad())?),
            None => {
                let p = port.parse::<u16>().map_err(|_| bad())?;
                (p, p)
            }
        };
        if hi < lo {
            return Err(bad());
        }
        for p in lo..=hi {
            out.push(format!("{p}/{proto}"));
        }
    }
    Ok(out)
}

/// HEALTHCHECK: the config entry and the history comment (`HEALTHCHECK &{Test:[...] ...}`).
pub fn healthcheck(flags: &[Flag], cmd: Option<&CmdLine>) -> Result<(Healthcheck, String), String> {
    let Some(cmd) = cmd else {
        let test = vec!["NONE".to_string()];
        let comment = format!("HEALTHCHECK &{{Test:{} Interval:0s Timeout:0s StartPeriod:0s StartInterval:0s Retries:0}}", history::go_list(&test));
        return Ok((Healthcheck { test: Some(test), ..Default::default() }, comment));
    };
    let test = match cmd {
        CmdLine::Exec(v) => {
            let mut t = vec!["CMD".to_string()];
            t.extend(v.iter().cloned());
            t
        }
        CmdLine::Shell(s) | CmdLine::Script { body: s, .. } => vec!["CMD-SHELL".to_string(), s.clone()],
    };
    if test.len() < 2 {
        return Err("Missing command after HEALTHCHECK CMD".into());
    }
    let dur = |name: &str| -> Result<i64, String> {
        match flag_value(flags, name) {
            None => Ok(0),
            Some(v) if v.is_empty() => Ok(0),
            Some(v) => {
                let d = parse_go_duration(&v).ok_or_else(|| format!("time: invalid duration \"{v}\""))?;
                if d == 0 {
                    return Ok(0);
                }
                if d < 1_000_000 {
                    return Err(format!("Interval \"{name}\" cannot be less than 1ms"));
                }
                Ok(d)
            }
        }
    };
    let interval = dur("interval")?;
    let timeout = dur("timeout")?;
    let start_period = dur("start-period")?;
    let start_interval = dur("start-interval")?;
    let retries = match flag_value(flags, "retries") {
        None => 0,
        Some(v) if v.is_empty() => 0,
        Some(v) => {
            let r: i64 = v.parse().map_err(|_| format!("strconv.ParseInt: parsing \"{v}\": invalid syntax"))?;
            if r < 0 {
                return Err(format!("--retries cannot be negative ({r})"));
            }
            r
        }
    };
    let comment = format!(
        "HEALTHCHECK &{{Test:{} Interval:{} Timeout:{} StartPeriod:{} StartInterval:{} Retries:{retries}}}",
        history::go_list(&test),
        history::go_duration(interval),
        history::go_duration(timeout),
        history::go_duration(start_period),
        history::go_duration(start_interval),
    );
    let nz = |v: i64| (v != 0).then_some(v);
    Ok((
        Healthcheck {
            test: Some(test),
            interval: nz(interval),
            timeout: nz(timeout),
            start_period: nz(start_period),
            start_interval: nz(start_interval),
            retries: nz(retries),
            ..Default::default()
        },
        comment,
    ))
}

const SIGNALS: [&str; 31] = [
    "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
    "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
    "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
];

/// STOPSIGNAL's check (moby/sys/signal.ParseSignal).
pub fn check_signal(s: &str) -> Result<(), String> {
    if let Ok(n) = s.parse::<u32>() {
        return if n == 0 || n > 64 { Err(format!("Invalid signal: {s}")) } else { Ok(()) };
    }
    let name = s.strip_prefix("SIG").unwrap_or(s);
    let rt = name.strip_prefix("RTMIN").or_else(|| name.strip_prefix("RTMAX"));
    if SIGNALS.contains(&name) || rt.is_some_and(|r| r.is_empty() || r.trim_start_matches(['+', '-']).parse::<u32>().is_ok()) {
        Ok(())
    } else {
        Err(format!("Invalid signal: {s}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_replaces_in_place() {
        let mut c = ContainerConfig { env: Some(vec!["A=1".into(), "B=2".into()]), ..Default::default() };
        set_env(&mut c, "A", "3");
        set_env(&mut c, "C", "4");
        assert_eq!(c.env, Some(vec!["A=3".into(), "B=2".into(), "C=4".into()]));
    }

    #[test]
    fn ports_and_signals() {
        assert_eq!(
            exposed_ports(&["80".into(), "53/UDP".into(), "8000-8001".into()]),
            Ok(vec!["80/tcp".into(), "53/udp".into(), "8000/tcp".into(), "8001/tcp".into()])
        );
        assert_eq!(exposed_ports(&["80/xyz".into()]), Err("invalid proto: xyz".into()));
        assert!(check_signal("SIGTERM").is_ok());
        assert!(check_signal("9").is_ok());
        assert!(check_signal("SIGNOPE").is_err());
    }

    #[test]
    fn healthcheck_comment_like_go() -> Result<(), String> {
        let flags = vec![Flag { name: "interval".into(), value: Some("5s".into()) }, Flag { name: "retries".into(), value: Some("3".into()) }];
        let (h, c) = healthcheck(&flags, Some(&CmdLine::Shell("curl -f x".into())))?;
        assert_eq!(c, "HEALTHCHECK &{Test:[CMD-SHELL curl -f x] Interval:5s Timeout:0s StartPeriod:0s StartInterval:0s Retries:3}");
        assert_eq!(h.interval, Some(5_000_000_000));
        assert_eq!(h.timeout, None);
        Ok(())
    }
}
