//! Shared by the test binaries in `xtask/tests/` (each uses part of it).
#![allow(dead_code)]

pub mod journey;
pub mod pods;
