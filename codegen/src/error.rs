//! Why generation failed.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("botocore model of {service} is unreadable: {source}")]
    Model {
        service: String,
        source: serde_json::Error,
    },
    #[error("{origin}: {source}")]
    ConfigSyntax {
        origin: String,
        source: Box<toml::de::Error>,
    },
    /// The config names something the model does not have, or contradicts itself.
    #[error("{origin}: {message}")]
    Config { origin: String, message: String },
    /// The config asks for a manager of a kind whose style the manager emitter cannot handle yet.
    #[error("{kind}: cannot emit a resource manager: {message}")]
    UnsupportedManager { kind: String, message: String },
    #[error("generated Rust for {file} does not parse: {source}")]
    RustSyntax { file: String, source: syn::Error },
    #[error("CRD YAML for {file}: {source}")]
    Yaml {
        file: String,
        source: serde_yaml::Error,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
