//! Subnets for tests that pass `--subnet`. berthd refuses a subnet that
//! overlaps a route on the host, and every daemon's bridge adds one, so
//! fixed test subnets would collide between test processes run side by
//! side (two people's runs, or berthd and dockerd tests on one host).
//! Each call hands out a /16 under 10.0.0.0/8 that no route touches now,
//! starting from an offset drawn from the process id.

use std::sync::atomic::{AtomicU32, Ordering};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// The first two octets of a free 10.X.0.0/16, e.g. "10.157".
pub fn free_net16() -> String {
    let routed = routed_v4();
    let start = std::process::id().wrapping_mul(37) % 200;
    loop {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        assert!(n < 200, "no free 10.X.0.0/16 left for tests");
        let x = 30 + (start + n * 7) % 200;
        let net = u32::from_be_bytes([10, x as u8, 0, 0]);
        if !routed.iter().any(|(dst, mask)| (net & mask) == (dst & mask) || (dst & 0xffff_0000) == net) {
            return format!("10.{x}");
        }
    }
}

/// (destination, mask) of the host's IPv4 routes, host byte order.
fn routed_v4() -> Vec<(u32, u32)> {
    let text = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let dst = u32::from_str_radix(f.get(1)?, 16).ok()?;
            let mask = u32::from_str_radix(f.get(7)?, 16).ok()?;
            // The kernel prints the raw big-endian words as little-endian hex.
            Some((u32::from_be(dst.to_le()), u32::from_be(mask.to_le())))
        })
        .filter(|(_, mask)| *mask != 0)
        .collect()
}
