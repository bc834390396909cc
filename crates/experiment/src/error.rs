use std::path::PathBuf;

/// A manifest that cannot be used. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("{path}: cannot read the manifest: {source}")]
    Read {
        /// The manifest.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Not TOML, an unknown key, or a value of the wrong type.
    #[error("{path}: {message}")]
    Parse {
        /// The manifest.
        path: PathBuf,
        /// The TOML reader's message (it names the key, line and column).
        message: String,
    },
    /// A key whose value is out of range or not one of the allowed ones.
    #[error("{path}: `{key}` = {value} is not allowed; expected {allowed}")]
    Invalid {
        /// The manifest.
        path: PathBuf,
        /// Dotted key, e.g. `mcts.simulations`.
        key: String,
        /// The value found.
        value: String,
        /// What is allowed.
        allowed: String,
    },
    /// A `--set key=value` that cannot be applied.
    #[error("--set {spec:?}: {message}")]
    Override {
        /// The override as given.
        spec: String,
        /// Why.
        message: String,
    },
}
