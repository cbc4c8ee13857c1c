//! Stage 2, parse: expression text → [`ast::Expr`], spans rebased into the
//! spec file. The grammar lives in `grammar/kpi.pest`; `direct` reads the
//! common cases in one pass and leaves everything else to it.

pub mod ast;
pub mod diagnostics;
mod direct;
mod lex;
pub mod normalize;
mod parser;
pub mod print;
pub mod rebase;

pub use parser::{parse, MAX_DEPTH, MAX_LEN};
pub use print::print;
pub use rebase::{Rebase, ScalarStyle};
