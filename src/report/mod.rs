//! Stage 6, report: what users read, and files written whole or not at all.

pub mod diagnostics;
pub mod explain;
#[cfg(feature = "eval")]
pub mod html;
#[cfg(feature = "eval")]
mod parquet;
#[cfg(feature = "eval")]
mod results;
#[cfg(feature = "eval")]
mod status_table;
pub mod table;
pub mod text;
mod write;

#[cfg(feature = "eval")]
pub use status_table::{status_json, status_ndjson, status_table};
pub use write::{remove_temporary_files, write_output};
