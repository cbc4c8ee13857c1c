//! Stage 6, report: what users read, and files written whole or not at all.

pub mod diagnostics;
pub mod explain;
pub mod table;
mod write;

pub use write::{remove_temporary_files, write_output};
