//! The whole front half on arbitrary bytes: load, parse, check, SMART, every report format.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let outcome = kpi::check_loaded(kpi::spec::load_str("fuzz.yaml", &text), false);
    let _ = outcome.to_json();
    let _ = outcome.summary();
    let d = &outcome.diagnostics;
    let _ = kpi::report::diagnostics::to_human(d, &outcome.sources, false);
    let _ = kpi::report::diagnostics::to_github(d, &outcome.sources);
    let _ = kpi::report::diagnostics::to_sarif(d, &outcome.sources);
});
