//! The `ack-rs` command-line tool: import a CloudFormation stack as ACK adoption CRs
//! (`import`), and show every ACK resource's mode and state (`status`).
//!
//! Each command is a pure part (what to write or show, unit-tested) and a thin I/O part.

pub mod cloudformation;
pub mod import;
pub mod kinds;
pub mod output;
pub mod status;
