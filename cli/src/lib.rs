//! The `ack-rs` command-line tool: import a CloudFormation stack as ACK adoption CRs
//! (`import`), say what switching CRs to managed would change in AWS (`plan`), and show every
//! ACK resource's mode and state (`status`).
//!
//! Each command is a pure part (what to write or show, unit-tested) and a thin I/O part.

pub mod cloudformation;
pub mod import;
pub mod kinds;
pub mod output;
pub mod plan;
pub mod status;
