//! The registry: what every resource type means — defaulting, validation, storage layout
//! and the REST semantics (create, update, patch, delete) shared by the HTTP API and the
//! in-process controllers.

pub mod catalog;
pub mod definitions;
pub mod field_shapes;
pub mod patch_meta;
pub mod strategic_merge;
pub mod typed;
