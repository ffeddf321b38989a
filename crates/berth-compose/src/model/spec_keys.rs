//! The keys the Compose specification defines for each kind of object, so
//! that a key berth does not model is told apart: one the specification has
//! (refused as not supported yet, never ignored) from one nobody defines
//! (refused as Compose does, "additional properties ... not allowed").

/// The kind of object at a path inside a service, from the path serde
/// reports (`build`, `deploy.resources.limits`, `volumes[0].bind`).
pub fn service_kind(path: &str) -> &'static str {
    let segs: Vec<&str> = path
        .split('.')
        .map(|s| s.split('[').next().unwrap_or(s))
        .filter(|s| !s.is_empty())
        .collect();
    match segs.as_slice() {
        [] => "service",
        ["build"] => "build",
        ["deploy"] => "deploy",
        ["deploy", "resources"] => "resources",
        ["deploy", "resources", "limits"] => "limits",
        ["deploy", "resources", "reservations"] => "reservations",
        ["deploy", "restart_policy"] => "restart_policy",
        ["healthcheck"] => "healthcheck",
        ["logging"] => "logging",
        ["networks", _] => "service_network",
        ["volumes"] => "service_volume",
        ["volumes", "bind"] => "bind",
        ["volumes", "volume"] => "volume_options",
        ["volumes", "tmpfs"] => "tmpfs",
        ["ports"] => "port",
        ["depends_on", _] => "depends_on",
        ["secrets"] | ["configs"] => "file_ref",
        ["env_file"] => "env_file",
        _ => "",
    }
}

/// The specification's keys for a kind of object.
pub fn spec_keys(kind: &str) -> &'static [&'static str] {
    match kind {
        "service" => &[
            "annotations", "attach", "blkio_config", "build", "cap_add", "cap_drop", "cgroup", "cgroup_parent",
            "command", "configs", "container_name", "cpu_count", "cpu_percent", "cpu_period", "cpu_quota",
            "cpu_rt_period", "cpu_rt_runtime", "cpu_shares", "cpus", "cpuset", "credential_spec", "depends_on",
            "deploy", "develop", "device_cgroup_rules", "devices", "dns", "dns_opt", "dns_search", "domainname",
            "entrypoint", "env_file", "environment", "expose", "extends", "external_links", "extra_hosts", "gpus",
            "group_add", "healthcheck", "hostname", "image", "init", "ipc", "isolation", "label_file", "labels",
            "links", "logging", "mac_address", "mem_limit", "mem_reservation", "mem_swappiness", "memswap_limit",
            "models", "network_mode", "networks", "oom_kill_disable", "oom_score_adj", "pid", "pids_limit",
            "platform", "ports", "post_start", "pre_stop", "privileged", "profiles", "provider", "pull_policy",
            "pull_refresh_after", "read_only", "restart", "runtime", "scale", "secrets", "security_opt", "shm_size",
            "stdin_open", "stop_grace_period", "stop_signal", "storage_opt", "sysctls", "tmpfs", "tty", "ulimits",
            "use_api_socket", "user", "userns_mode", "uts", "volumes", "volumes_from", "working_dir",
        ],
        "build" => &[
            "additional_contexts", "args", "cache_from", "cache_to", "context", "dockerfile", "dockerfile_inline",
            "entitlements", "extra_hosts", "isolation", "labels", "network", "no_cache", "platforms", "privileged",
            "provenance", "pull", "sbom", "secrets", "shm_size", "ssh", "tags", "target", "ulimits",
        ],
        "deploy" => &[
            "endpoint_mode", "labels", "mode", "placement", "replicas", "resources", "restart_policy",
            "rollback_config", "update_config",
        ],
        "resources" => &["limits", "reservations"],
        "limits" => &["cpus", "memory", "pids"],
        "reservations" => &["cpus", "devices", "generic_resources", "memory"],
        "restart_policy" => &["condition", "delay", "max_attempts", "window"],
        "healthcheck" => &["disable", "interval", "retries", "start_interval", "start_period", "test", "timeout"],
        "logging" => &["driver", "options"],
        "service_network" => &[
            "aliases", "interface_name", "ipv4_address", "ipv6_address", "link_local_ips", "mac_address",
            "driver_opts", "priority", "gw_priority",
        ],
        "service_volume" => &["bind", "consistency", "image", "read_only", "source", "target", "tmpfs", "type", "volume"],
        "bind" => &["propagation", "create_host_path", "recursive", "selinux"],
        "volume_options" => &["labels", "nocopy", "subpath"],
        "tmpfs" => &["mode", "size"],
        "port" => &["name", "mode", "host_ip", "target", "published", "protocol", "app_protocol"],
        "depends_on" => &["restart", "required", "condition"],
        "file_ref" => &["gid", "mode", "source", "target", "uid"],
        "env_file" => &["path", "format", "required"],
        "network" => &[
            "attachable", "driver", "driver_opts", "enable_ipv4", "enable_ipv6", "external", "internal", "ipam",
            "labels", "name",
        ],
        "ipam" => &["driver", "config", "options"],
        "ipam_pool" => &["subnet", "ip_range", "gateway", "aux_addresses"],
        "volume" => &["driver", "driver_opts", "external", "labels", "name"],
        "secret" => &["driver", "driver_opts", "environment", "external", "file", "labels", "name", "template_driver"],
        "config" => &["content", "environment", "external", "file", "labels", "name", "template_driver"],
        "top" => &["version", "name", "include", "services", "models", "networks", "volumes", "secrets", "configs"],
        _ => &[],
    }
}

/// The kind of object at a path inside a top-level network.
pub fn network_kind(path: &str) -> &'static str {
    let segs: Vec<&str> = path.split('.').map(|s| s.split('[').next().unwrap_or(s)).filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        [] => "network",
        ["ipam"] => "ipam",
        ["ipam", "config"] => "ipam_pool",
        _ => "",
    }
}
