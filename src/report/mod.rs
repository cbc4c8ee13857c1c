//! Stage 6, report: what users read.

pub mod diagnostics;
