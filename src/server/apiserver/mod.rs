//! The HTTP API server.

pub mod openapi;
