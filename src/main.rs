mod cli;

use std::io::Write;

fn main() -> std::process::ExitCode {
    cli::allocator::tune();
    // A panic is a bug (user input gets diagnostics): said as one, with an
    // exit code of 1 rather than Rust's own report and 101.
    std::panic::set_hook(Box::new(|info| {
        if kpi::panics::is_quiet() {
            return;
        }
        let at = info
            .location()
            .map_or(String::new(), |l| format!(" ({}:{})", l.file(), l.line()));
        // Written, not printed: a closed stderr must not panic again here.
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "error[kpi::internal_error]: kpi stopped on an internal error: {}{at}\n  help: this is a bug in kpi or a library it uses; please report it with the command and, if you can, the data's columns and types",
            kpi::panics::message(info.payload())
        );
        // For whoever fixes it.
        if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
            let _ = writeln!(err, "{}", std::backtrace::Backtrace::force_capture());
        }
    }));
    std::panic::catch_unwind(cli::run).unwrap_or(std::process::ExitCode::FAILURE)
}
