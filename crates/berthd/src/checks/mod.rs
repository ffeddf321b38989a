//! Checks of request bodies that need nothing of the running daemon, so
//! the fuzz targets (fuzz/) run exactly what create, update and network
//! create run before they touch any state.

pub mod name;
pub mod network;
pub mod resources;
pub mod restart;
