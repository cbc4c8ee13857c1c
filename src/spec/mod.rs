//! Stage 1, load: YAML files → the typed [`model::Spec`] (LANGUAGE.md §1–§7).

mod decode;
pub mod diagnostics;
pub mod env;
pub(crate) mod keys;
pub mod load;
pub mod model;
pub mod schema;
mod yaml;

#[cfg(feature = "eval")]
pub(crate) use decode::parse_number;
pub use load::{load, load_files, load_str, InputFile, Loaded};
pub use model::Spec;

/// A YAML file as the JSON an editor validates against `kpi schema`
/// (`None`: no document; `Err`: not YAML).
pub fn yaml_to_json(text: &str) -> Result<Option<serde_json::Value>, String> {
    yaml::parse(crate::span::FileId::default(), text)
        .map(|n| n.as_ref().map(yaml::to_json))
        .map_err(|d| d.message)
}
