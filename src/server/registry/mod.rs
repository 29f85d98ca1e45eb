//! The registry: what every resource type means — defaulting, validation, storage layout
//! and the REST semantics (create, update, patch, delete) shared by the HTTP API and the
//! in-process controllers.

pub mod catalog;
pub mod printers;
pub mod typed;
