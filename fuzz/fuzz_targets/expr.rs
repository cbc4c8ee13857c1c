//! The expression parser on arbitrary text; what parses must print and parse again.
#![no_main]

use kpi::span::FileId;
use kpi::syntax::{parse, print, Rebase};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(e) = parse(text, &Rebase::shifted(FileId(0), 0, text)) {
        let printed = print(&e);
        let again = parse(&printed, &Rebase::shifted(FileId(0), 0, &printed));
        assert!(again.is_ok(), "{text:?} printed as {printed:?} does not parse");
    }
});
