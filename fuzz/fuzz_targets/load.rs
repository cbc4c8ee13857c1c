//! The spec loader on arbitrary bytes: YAML, keys, names, expressions in fields.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let loaded = kpi::spec::load_str("fuzz.yaml", &text);
    // Every diagnostic must render against its own source.
    let _ = kpi::report::diagnostics::to_human(&loaded.diagnostics.into_sorted(), &loaded.sources, false);
});
