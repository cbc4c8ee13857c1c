//! Stage 1, load: YAML files → the typed [`model::Spec`] (LANGUAGE.md §1–§7).

pub mod diagnostics;
pub mod load;
pub mod model;
mod yaml;

pub use load::{load, load_files, load_str, InputFile, Loaded};
pub use model::Spec;
