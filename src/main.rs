mod cli;

use std::io::Write;

/// What each panic said, with where and on which thread: reported once
/// `main` has caught one (its own thread's, else the first). A panic on a
/// library's worker thread that the library turns into an error (Polars'
/// streaming engine, when another of its tasks failed first) is not the
/// process stopping, and is not reported.
static PANICS: std::sync::Mutex<Vec<(std::thread::ThreadId, String)>> = std::sync::Mutex::new(Vec::new());

fn main() -> std::process::ExitCode {
    cli::allocator::tune();
    // Threads get the main thread's stack (8 MiB) rather than Rust's 2 MiB:
    // expressions are read recursively, and the report's pieces and the
    // batches run side by side on threads of their own. (Read once, at the
    // first thread spawned; a value set by the user stands.)
    if std::env::var_os("RUST_MIN_STACK").is_none() {
        std::env::set_var("RUST_MIN_STACK", (8 << 20).to_string());
    }
    // A panic is a bug (user input gets diagnostics): said as one, with an
    // exit code of 1 rather than Rust's own report and 101.
    std::panic::set_hook(Box::new(|info| {
        if kpi::panics::is_quiet() {
            return;
        }
        let at = info
            .location()
            .map_or(String::new(), |l| format!(" ({}:{})", l.file(), l.line()));
        let mut said = format!("{}{at}", kpi::panics::message(info.payload()));
        // For whoever fixes it.
        if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
            said.push_str(&format!("\n{}", std::backtrace::Backtrace::force_capture()));
        }
        if let Ok(mut panics) = PANICS.lock() {
            panics.push((std::thread::current().id(), said));
        }
    }));
    let main = std::thread::current().id();
    std::panic::catch_unwind(cli::run).unwrap_or_else(|payload| {
        let said = PANICS
            .lock()
            .ok()
            .and_then(|panics| {
                let own = panics.iter().rev().find(|(thread, _)| *thread == main);
                own.or(panics.first()).map(|(_, said)| said.clone())
            })
            .unwrap_or_else(|| kpi::panics::message(payload.as_ref()));
        // Written, not printed: a closed stderr must not panic again here.
        let _ = writeln!(
            std::io::stderr().lock(),
            "error[kpi::internal_error]: kpi stopped on an internal error: {said}\n  help: this is a bug in kpi or a library it uses; please report it with the command and, if you can, the data's columns and types"
        );
        std::process::ExitCode::FAILURE
    })
}
