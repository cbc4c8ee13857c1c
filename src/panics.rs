//! Panics of the libraries kpi uses. A few of their paths stop the process
//! on input kpi cannot check beforehand (a Parquet file in object storage
//! whose schema Polars cannot convert): [`quietly`] turns such a panic into
//! its message, for a diagnostic. Anything else that panics is a bug; the
//! binary reports it as `kpi::internal_error` (see `main.rs`), and
//! [`is_quiet`] tells its panic hook to stay silent inside [`quietly`].

use std::cell::Cell;

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Whether this thread is inside [`quietly`].
pub fn is_quiet() -> bool {
    QUIET.with(Cell::get)
}

/// Runs `f`; a panic inside it is its message instead.
pub fn quietly<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let was = QUIET.with(|q| q.replace(true));
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    QUIET.with(|q| q.set(was));
    out.map_err(|payload| message(payload.as_ref()))
}

/// The text a panic was raised with.
pub fn message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_is_its_message_and_quiet_ends_with_it() {
        assert_eq!(quietly(|| 7), Ok(7));
        let got = quietly(|| -> u8 { panic!("no {} here", "schema") });
        assert_eq!(got, Err("no schema here".to_string()));
        assert!(!is_quiet());
        let nested = quietly(|| (is_quiet(), quietly(is_quiet)));
        assert_eq!(nested, Ok((true, Ok(true))));
        assert!(!is_quiet());
    }
}
