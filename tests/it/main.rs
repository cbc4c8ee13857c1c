//! One integration test binary, so the library links once.
// A test that cannot unwrap has failed: panics are the assertion.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod chunks;
mod cli;
mod crm;
mod diagnostics;
mod diff;
mod differential;
mod engine;
mod eval_cli;
mod expressions;
mod handwritten;
mod library;
mod library_values;
mod messy;
mod new_user;
mod plan;
mod property;
mod report;
mod robustness;
mod schema;
mod sources;
mod spec_tests;
mod sql;
mod status;
mod support;
mod time;
mod warehouse;
