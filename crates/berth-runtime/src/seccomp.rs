//! Docker's default seccomp profile for x86_64, as our own table.
//!
//! The rules say the same as moby's `profiles/seccomp/default.json` once its
//! conditions are resolved for amd64 on a kernel newer than 4.8: everything not
//! allowed fails with EPERM, a few syscalls are allowed only for some arguments,
//! and some only when the container holds a capability. A unit test checks this
//! table against the reference profile in `../shared/reference/`.

use serde_json::{json, Value};

/// The architectures a seccomp filter for an x86_64 host covers (64-bit, i386, x32).
const ARCHITECTURES: [&str; 3] = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"];

/// EPERM: what a denied syscall returns, as in Docker.
const DEFAULT_ERRNO: u32 = 1;

/// The namespace-creating clone flags (CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET).
const CLONE_NAMESPACE_FLAGS: u64 = 0x7E02_0000;

#[derive(Debug, Clone, Copy)]
enum Op {
    Eq,
    Lt,
    Gt,
    MaskedEq,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "SCMP_CMP_EQ",
            Op::Lt => "SCMP_CMP_LT",
            Op::Gt => "SCMP_CMP_GT",
            Op::MaskedEq => "SCMP_CMP_MASKED_EQ",
        }
    }
}

/// One argument condition; several conditions in one rule must all hold.
#[derive(Debug)]
struct Arg {
    index: u32,
    value: u64,
    op: Op,
}

/// When a rule applies, depending on the container's capabilities.
#[derive(Debug)]
enum When {
    Always,
    WithCap(&'static str),
    WithoutCap(&'static str),
}

#[derive(Debug)]
struct Rule {
    names: &'static [&'static str],
    when: When,
    args: &'static [Arg],
    /// `None` allows the call; `Some(errno)` makes it fail with that errno.
    errno: Option<u32>,
}

const fn allow(names: &'static [&'static str], when: When) -> Rule {
    Rule {
        names,
        when,
        args: &[],
        errno: None,
    }
}

const fn allow_if(names: &'static [&'static str], args: &'static [Arg]) -> Rule {
    Rule {
        names,
        when: When::Always,
        args,
        errno: None,
    }
}

const fn arg0(op: Op, value: u64) -> Arg {
    Arg {
        index: 0,
        value,
        op,
    }
}

/// Syscalls every container may make, whatever its capabilities.
#[rustfmt::skip]
const BASE: &[&str] = &[
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget",
    "capset", "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64",
    "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64",
    "clock_nanosleep", "clock_nanosleep_time64", "close", "close_range", "connect",
    "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1",
    "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old",
    "eventfd", "eventfd2", "execve", "execveat", "exit", "exit_group", "faccessat",
    "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod",
    "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync",
    "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64",
    "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex",
    "futex_requeue", "futex_time64", "futex_wait", "futex_waitv", "futex_wake", "futimesat",
    "getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32", "geteuid",
    "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer", "getpeername",
    "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid",
    "getresgid32", "getresuid", "getresuid32", "getrlimit", "get_robust_list", "getrusage",
    "getsid", "getsockname", "getsockopt", "get_thread_area", "gettid", "gettimeofday",
    "getuid", "getuid32", "getxattr", "getxattrat", "inotify_add_watch", "inotify_init",
    "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy", "io_getevents",
    "io_pgetevents", "io_pgetevents_time64", "ioprio_get", "ioprio_set", "io_setup",
    "io_submit", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
    "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen",
    "listmount", "listxattr", "listxattrat", "llistxattr", "_llseek", "lremovexattr", "lseek",
    "lsetxattr", "lstat", "lstat64", "madvise", "map_shadow_stack", "membarrier",
    "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock",
    "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open",
    "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64",
    "mq_unlink", "mremap", "mseal", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock",
    "munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat", "_newselect",
    "open", "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2",
    "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl",
    "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease", "pselect6",
    "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink",
    "readlinkat", "readv", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg",
    "remap_file_pages", "removexattr", "removexattrat", "rename", "renameat", "renameat2",
    "restart_syscall", "riscv_hwprobe", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
    "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
    "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr",
    "sched_getparam", "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
    "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity",
    "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select",
    "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile",
    "sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid",
    "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid",
    "setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
    "setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid",
    "setsockopt", "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr",
    "setxattrat", "shmat", "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd",
    "signalfd4", "sigprocmask", "sigreturn", "socketcall", "socketpair", "splice", "stat",
    "stat64", "statfs", "statfs64", "statmount", "statx", "symlink", "symlinkat", "sync",
    "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create",
    "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
    "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64",
    "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate", "truncate64",
    "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "uretprobe", "utime", "utimensat",
    "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write",
    "writev",
];

const RULES: &[Rule] = &[
    allow(BASE, When::Always),
    // Docker allows these from kernel 4.8 on, where ptrace can no longer bypass seccomp.
    allow(
        &["process_vm_readv", "process_vm_writev", "ptrace"],
        When::Always,
    ),
    // Every socket family but AF_ALG (38) and AF_VSOCK (40), which are not namespaced.
    allow_if(&["socket"], &[arg0(Op::Lt, 38)]),
    allow_if(&["socket"], &[arg0(Op::Eq, 39)]),
    allow_if(&["socket"], &[arg0(Op::Gt, 40)]),
    // personality(): PER_LINUX, PER_LINUX32, UNAME26 variants and the query 0xffffffff.
    allow_if(&["personality"], &[arg0(Op::Eq, 0x0)]),
    allow_if(&["personality"], &[arg0(Op::Eq, 0x8)]),
    allow_if(&["personality"], &[arg0(Op::Eq, 0x20000)]),
    allow_if(&["personality"], &[arg0(Op::Eq, 0x20008)]),
    allow_if(&["personality"], &[arg0(Op::Eq, 0xffff_ffff)]),
    allow(&["arch_prctl"], When::Always),
    allow(&["modify_ldt"], When::Always),
    allow(&["open_by_handle_at"], When::WithCap("CAP_DAC_READ_SEARCH")),
    allow(
        &[
            "bpf",
            "clone",
            "clone3",
            "fanotify_init",
            "fsconfig",
            "fsmount",
            "fsopen",
            "fspick",
            "lookup_dcookie",
            "lsm_get_self_attr",
            "lsm_list_modules",
            "lsm_set_self_attr",
            "mount",
            "mount_setattr",
            "move_mount",
            "open_tree",
            "perf_event_open",
            "quotactl",
            "quotactl_fd",
            "setdomainname",
            "sethostname",
            "setns",
            "syslog",
            "umount",
            "umount2",
            "unshare",
        ],
        When::WithCap("CAP_SYS_ADMIN"),
    ),
    // Without CAP_SYS_ADMIN, clone may not create namespaces ...
    Rule {
        names: &["clone"],
        when: When::WithoutCap("CAP_SYS_ADMIN"),
        args: &[Arg {
            index: 0,
            value: CLONE_NAMESPACE_FLAGS,
            op: Op::MaskedEq,
        }],
        errno: None,
    },
    // ... and clone3, whose flags seccomp cannot see, reports ENOSYS so libc falls back to clone.
    Rule {
        names: &["clone3"],
        when: When::WithoutCap("CAP_SYS_ADMIN"),
        args: &[],
        errno: Some(libc::ENOSYS as u32),
    },
    allow(&["reboot"], When::WithCap("CAP_SYS_BOOT")),
    allow(&["chroot"], When::WithCap("CAP_SYS_CHROOT")),
    allow(
        &["delete_module", "init_module", "finit_module"],
        When::WithCap("CAP_SYS_MODULE"),
    ),
    allow(&["acct"], When::WithCap("CAP_SYS_PACCT")),
    allow(
        &[
            "kcmp",
            "pidfd_getfd",
            "process_madvise",
            "process_vm_readv",
            "process_vm_writev",
            "ptrace",
        ],
        When::WithCap("CAP_SYS_PTRACE"),
    ),
    allow(&["iopl", "ioperm"], When::WithCap("CAP_SYS_RAWIO")),
    allow(
        &["settimeofday", "stime", "clock_settime", "clock_settime64"],
        When::WithCap("CAP_SYS_TIME"),
    ),
    allow(&["vhangup"], When::WithCap("CAP_SYS_TTY_CONFIG")),
    allow(
        &[
            "get_mempolicy",
            "mbind",
            "set_mempolicy",
            "set_mempolicy_home_node",
        ],
        When::WithCap("CAP_SYS_NICE"),
    ),
    allow(&["syslog"], When::WithCap("CAP_SYSLOG")),
    allow(&["bpf"], When::WithCap("CAP_BPF")),
    allow(&["perf_event_open"], When::WithCap("CAP_PERFMON")),
];

/// The OCI `linux.seccomp` object for a container holding `caps` (bounding set).
pub fn default_profile<S: AsRef<str>>(caps: &[S]) -> Value {
    let has = |cap: &str| caps.iter().any(|c| c.as_ref() == cap);
    let syscalls: Vec<Value> = RULES
        .iter()
        .filter(|rule| match rule.when {
            When::Always => true,
            When::WithCap(cap) => has(cap),
            When::WithoutCap(cap) => !has(cap),
        })
        .map(rule_json)
        .collect();
    json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": DEFAULT_ERRNO,
        "architectures": ARCHITECTURES,
        "syscalls": syscalls,
    })
}

fn rule_json(rule: &Rule) -> Value {
    let mut v = json!({
        "names": rule.names,
        "action": if rule.errno.is_some() { "SCMP_ACT_ERRNO" } else { "SCMP_ACT_ALLOW" },
    });
    if let Some(errno) = rule.errno {
        v["errnoRet"] = json!(errno);
    }
    if !rule.args.is_empty() {
        let args: Vec<Value> = rule
            .args
            .iter()
            .map(
                |a| json!({"index": a.index, "value": a.value, "valueTwo": 0, "op": a.op.as_str()}),
            )
            .collect();
        v["args"] = Value::Array(args);
    }
    v
}

#[cfg(test)]
#[path = "seccomp_tests.rs"]
mod tests;
