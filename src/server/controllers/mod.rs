//! Controllers that run inside the server process.

pub mod namespace;
