//! Driving ACK's own example manifests through a controller: every manifest either syncs or is
//! listed as skipped with a reason, so a new manifest can never be ignored silently.

use std::future::Future;
use std::path::PathBuf;

/// ACK's reference data: `$ACK_COMPAT_DIR`, else `shared/ack-compat` beside the repository (where
/// developers and CI have it).
pub fn ack_compat_dir() -> PathBuf {
    std::env::var_os("ACK_COMPAT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/ack-compat")
        })
}

/// Runs `run(file, text)` concurrently for every manifest of `service` not in `skipped`
/// (`(file, reason)`, each reason printed), prints a summary, and panics naming every manifest
/// that neither synced nor is listed — or a listed one that does not exist.
pub async fn sync_every_manifest<F, Fut>(service: &str, skipped: &[(&str, &str)], run: F)
where
    F: Fn(String, String) -> Fut,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let dir = ack_compat_dir().join("manifests").join(service);
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".yaml") || f.ends_with(".yml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no manifests in {}", dir.display());
    for (file, _) in skipped {
        assert!(
            files.iter().any(|f| f == file),
            "{file} is in SKIPPED but not in {}",
            dir.display()
        );
    }

    let mut skipped_notes = Vec::new();
    let mut runs = tokio::task::JoinSet::new();
    for file in &files {
        if let Some((_, reason)) = skipped.iter().find(|(f, _)| f == file) {
            eprintln!("SKIPPED {service}/{file}: {reason}");
            skipped_notes.push(format!("{file} ({reason})"));
            continue;
        }
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let outcome = run(file.clone(), text);
        let file = file.clone();
        runs.spawn(async move { (file, outcome.await) });
    }
    let mut synced = Vec::new();
    let mut failed = Vec::new();
    while let Some(joined) = runs.join_next().await {
        let (file, outcome) = joined.expect("a manifest's task panicked");
        match outcome {
            Ok(()) => synced.push(file),
            Err(why) => {
                eprintln!("FAILED {service}/{file}: {why}");
                failed.push(format!("{file}: {why}"));
            }
        }
    }
    synced.sort();
    eprintln!(
        "ACK {service} manifests: synced {} ({}), skipped {} [{}], failed {}",
        synced.len(),
        synced.join(", "),
        skipped_notes.len(),
        skipped_notes.join("; "),
        failed.len()
    );
    assert!(
        failed.is_empty(),
        "manifests neither synced nor listed in SKIPPED:\n{}",
        failed.join("\n")
    );
}
