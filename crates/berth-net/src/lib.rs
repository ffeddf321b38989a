#![cfg_attr(test, allow(clippy::unwrap_used))]
//! Container networking for berth: IPv4 and IPv6 subnets and address management,
//! network namespaces, bridges and veth pairs, NAT and filtering rules,
//! port reservations and the embedded DNS server. OS effects sit behind
//! the [`link::Links`] and [`firewall::Firewall`] traits.

mod error;
pub mod dns;
pub mod dnsns;
pub mod exec;
pub mod firewall;
pub mod iptables;
pub mod ipam;
pub mod ipam6;
pub mod link;
pub mod netns;
pub mod pools;
pub mod rtnl;
pub mod subnet;
pub mod subnet6;

pub use error::NetError;
pub use subnet::Subnet;
pub use subnet6::Subnet6;
