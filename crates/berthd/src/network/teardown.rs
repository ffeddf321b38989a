//! The slow half of releasing a stopped container's network, run off the
//! exit path: deleting a veth costs 10-20 ms here (an `ip` process and the
//! kernel's unregister), which `run --rm` and `die` events should not wait
//! for. The namespace itself is unpinned at once (cheap), the bookkeeping
//! (DNS names, ports, network users) is done at once; the veths go in a
//! background thread and only then are their addresses leased again, so an
//! address is never on two live interfaces. A new attach of the same
//! container and the daemon's shutdown wait for what is pending.

use super::NetworkManager;
use berth_net::firewall::{Proto, Rule};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Condvar, Mutex};

/// What is left to do for one container once its bookkeeping is released.
#[derive(Debug, Default, Clone)]
pub(super) struct Deferred {
    /// Host ends of its veths.
    pub links: Vec<String>,
    /// (network id, address) leases to give back after the veths are gone.
    pub leases: Vec<(String, IpAddr)>,
    /// Published ports' rules to delete, then their held host ports
    /// (endpoint.rs `drop_ports`; done before the rest is deferred).
    pub rules: Vec<Vec<Rule>>,
    pub ports: Vec<(Proto, String, u16)>,
}

/// Container ids with a teardown in flight (a count: a container can stop,
/// start and stop again before the first finished).
#[derive(Default)]
pub(super) struct Pending {
    ids: Mutex<HashMap<String, usize>>,
    changed: Condvar,
}

impl Pending {
    fn begin(&self, id: &str) {
        *self.lock().entry(id.to_string()).or_default() += 1;
    }

    fn end(&self, id: &str) {
        let mut ids = self.lock();
        if let Some(n) = ids.get_mut(id) {
            *n -= 1;
            if *n == 0 {
                ids.remove(id);
            }
        }
        self.changed.notify_all();
    }

    /// Blocks until no teardown of `id` (or of anything, for None) is pending.
    pub fn wait(&self, id: Option<&str>) {
        let mut ids = self.lock();
        while match id {
            Some(id) => ids.contains_key(id),
            None => !ids.is_empty(),
        } {
            ids = self.changed.wait(ids).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        self.ids.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl NetworkManager {
    /// Finishes `d` for container `id` in a background thread (inline if
    /// no thread can be had).
    pub(super) fn finish_later(self: &Arc<Self>, id: &str, d: Deferred) {
        if d.links.is_empty() && d.leases.is_empty() {
            return;
        }
        self.pending.begin(id);
        let mgr = self.clone();
        let owned = id.to_string();
        let work = d.clone();
        let spawned = std::thread::Builder::new().name("net-teardown".into()).spawn(move || {
            mgr.finish(work);
            mgr.pending.end(&owned);
        });
        if spawned.is_err() {
            self.finish(d);
            self.pending.end(id);
        }
    }

    /// Deletes the veths, then gives the addresses back.
    pub(super) fn finish(&self, d: Deferred) {
        for link in &d.links {
            // Gone already when the kernel destroyed the namespace first.
            let _ = self.links.delete_link(link);
        }
        let mut st = self.lock();
        for (network, ip) in d.leases {
            if let Some(a) = st.alloc.get_mut(&network) {
                a.release(ip);
            }
        }
    }

    /// Blocks until every pending teardown is done (daemon shutdown).
    pub fn wait_teardowns(&self) {
        self.pending.wait(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn waiters_wake_when_the_last_teardown_of_an_id_ends() {
        let p = Arc::new(Pending::default());
        p.begin("a");
        p.begin("a");
        p.begin("b");
        p.wait(Some("c"));
        let waiter = {
            let p = p.clone();
            std::thread::spawn(move || p.wait(Some("a")))
        };
        p.end("a");
        std::thread::sleep(Duration::from_millis(20));
        assert!(!waiter.is_finished(), "woke with one teardown of a still pending");
        p.end("a");
        waiter.join().expect("waiter");
        p.end("b");
        p.wait(None);
    }
}
