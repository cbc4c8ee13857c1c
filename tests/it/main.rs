//! One integration test binary, so the library links once.
// A test that cannot unwrap has failed: panics are the assertion.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli;
mod diagnostics;
mod expressions;
mod library;
mod robustness;
mod support;
