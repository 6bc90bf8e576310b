//! Hand-written code the generated managers call, one module per kind, at the points
//! `generator.toml` lists under `hooks` (signatures: `ack_codegen::emit::manager`).

pub mod json;
pub mod subscription;
pub mod topic;
