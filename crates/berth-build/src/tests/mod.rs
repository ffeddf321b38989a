//! End-to-end tests of the builder against the recording fake host.

mod fake;
mod build_basic;
mod build_stages;
