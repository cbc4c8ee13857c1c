mod cli;

fn main() -> std::process::ExitCode {
    // A panic is a bug (user input gets diagnostics): said as one, with an
    // exit code of 1 rather than Rust's own report and 101.
    std::panic::set_hook(Box::new(|info| {
        if kpi::panics::is_quiet() {
            return;
        }
        let at = info
            .location()
            .map_or(String::new(), |l| format!(" ({}:{})", l.file(), l.line()));
        eprintln!(
            "error[kpi::internal_error]: kpi stopped on an internal error: {}{at}\n  help: this is a bug in kpi or a library it uses; please report it with the command and, if you can, the data's columns and types",
            kpi::panics::message(info.payload())
        );
    }));
    std::panic::catch_unwind(cli::run).unwrap_or(std::process::ExitCode::FAILURE)
}
