//! The part of berthd that is a library: the pure request checks, which
//! the daemon (main.rs) and the fuzz targets share. Everything with state
//! or OS effects stays in the binary.

pub mod checks;
