//! Images: references, the content-addressed store, layer unpacking, archive import and
//! registry pulls.

pub mod compression;
pub mod content;
pub mod digest;
pub mod import;
pub mod layers;
pub mod manifest;
pub mod pull;
pub mod records;
pub mod reference;
pub mod registries;
pub mod service;
pub mod store;
pub mod unpack;
