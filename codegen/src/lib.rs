//! AWS API models → IR → generated CRD YAML, Rust custom resource types and resource managers.
//!
//! The pipeline, one module per step:
//!
//! | module     | step                                                                   |
//! |------------|------------------------------------------------------------------------|
//! | [`model`]  | botocore's `service-2.json` (pinned in `codegen/models/`)              |
//! | [`config`] | `services/<svc>/generator.toml`: resources, operations, overrides      |
//! | [`lower`]  | model + config → [`ir`], checking every name the config uses           |
//! | [`naming`] | ACK's field names, Rust and SDK names                                  |
//! | [`docs`]   | model HTML → short plain text                                          |
//! | [`emit`]   | IR → CRD YAML ([`emit::crd`]), Rust types ([`emit::rust`]), managers   |
//! |            | ([`emit::manager`]), CR ↔ SDK conversions ([`emit::convert`])          |
//! | [`output`] | writing files, and the staleness check with its diff                   |
//! | [`schema`] | comparing two CRD schemas field by field (used by tests)               |
//!
//! `cargo xtask codegen` runs [`generate`] and writes; `--check` (and a test) runs [`check`].

pub mod config;
pub mod docs;
pub mod emit;
mod error;
pub mod ir;
pub mod lower;
pub mod model;
pub mod naming;
pub mod output;
pub mod schema;

use std::fs;
use std::path::{Path, PathBuf};

pub use error::Error;
pub use output::{Drift, GeneratedFile, Written};

/// The generator's inputs and outputs inside the repository.
#[derive(Clone, Debug)]
pub struct Layout {
    pub root: PathBuf,
}

impl Layout {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// `codegen/models`: one directory per service model, and `BOTOCORE_VERSION`.
    pub fn models_dir(&self) -> PathBuf {
        self.root.join("codegen/models")
    }

    pub fn botocore_version_file(&self) -> PathBuf {
        self.models_dir().join("BOTOCORE_VERSION")
    }

    pub fn model_file(&self, model: &str) -> PathBuf {
        self.models_dir().join(model).join("service-2.json")
    }

    /// Service crates with a `generator.toml`, as `services/<name>` paths relative to the root,
    /// sorted.
    pub fn service_crates(&self) -> Result<Vec<String>, Error> {
        let dir = self.root.join("services");
        let entries = fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
        let mut crates = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            if entry.path().join("generator.toml").is_file() {
                crates.push(format!("services/{}", entry.file_name().to_string_lossy()));
            }
        }
        crates.sort();
        Ok(crates)
    }
}

/// One service's IR from its model and config texts (`origin` names the config in errors).
pub fn lower_service(
    origin: &str,
    model_json: &str,
    config_toml: &str,
) -> Result<ir::Service, Error> {
    let config = config::ServiceConfig::parse(origin, config_toml)?;
    let model = model::Model::parse(&config.service.model, model_json)?;
    lower::lower(origin, &model, &config)
}

/// Every service's config, with the crate directory it belongs to.
pub fn service_configs(layout: &Layout) -> Result<Vec<(String, config::ServiceConfig)>, Error> {
    layout
        .service_crates()?
        .into_iter()
        .map(|crate_dir| {
            let origin = format!("{crate_dir}/generator.toml");
            let text = read(&layout.root.join(&origin))?;
            let config = config::ServiceConfig::parse(&origin, &text)?;
            Ok((crate_dir, config))
        })
        .collect()
}

/// Everything the generator makes for the repository at `layout`.
pub fn generate(layout: &Layout) -> Result<Vec<GeneratedFile>, Error> {
    let mut files = Vec::new();
    for (crate_dir, config) in service_configs(layout)? {
        let model_text = read(&layout.model_file(&config.service.model))?;
        let model = model::Model::parse(&config.service.model, &model_text)?;
        let service = lower::lower(&format!("{crate_dir}/generator.toml"), &model, &config)?;
        files.extend(emit::service_files(&service, &crate_dir)?);
    }
    Ok(files)
}

/// Regenerates and writes; returns what changed.
pub fn write(layout: &Layout) -> Result<Vec<Written>, Error> {
    let files = generate(layout)?;
    output::write(&layout.root, &files)
}

/// Regenerates in memory and compares with the checked-in files; empty when up to date.
pub fn check(layout: &Layout) -> Result<Vec<Drift>, Error> {
    let files = generate(layout)?;
    output::drift(&layout.root, &files)
}

fn read(path: &Path) -> Result<String, Error> {
    fs::read_to_string(path).map_err(|e| Error::io(path, e))
}
