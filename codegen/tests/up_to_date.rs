//! The checked-in CRDs and Rust types are what the generator makes from the checked-in models
//! and configs; otherwise `cargo xtask codegen` was not run after a change.

use std::path::Path;

#[test]
fn generated_files_are_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("codegen is inside the repository");
    let drift = ack_codegen::check(&ack_codegen::Layout::new(root)).expect("generation succeeds");
    let report: Vec<String> = drift.iter().take(3).map(ToString::to_string).collect();
    assert!(
        drift.is_empty(),
        "{} generated file(s) are stale; run `cargo xtask codegen`:\n{}",
        drift.len(),
        report.join("\n")
    );
}
