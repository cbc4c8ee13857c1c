//! Work spread over the machine's cores: items taken one at a time by each
//! core as it finishes its last, so one long item does not leave the others
//! waiting on a share fixed in advance.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use polars::prelude::{polars_err, PolarsResult};

/// `work` applied to every item, the results in the items' order: the
/// first error, if any; an error too if a core's thread failed (a panic,
/// caught rather than passed on, its message kept for the bug report).
pub(crate) fn on_cores<T: Send, R: Send>(
    items: Vec<T>,
    work: impl Fn(T) -> PolarsResult<R> + Sync,
) -> PolarsResult<Vec<R>> {
    each_on_cores(
        items,
        work,
        |panic| polars_err!(ComputeError: "a thread of the work failed ({panic})"),
    )
}

/// [`on_cores`] for work with errors of its own: `failed` is the error of
/// a core's thread that failed, given what its panic said.
pub(crate) fn each_on_cores<T: Send, R: Send, E: Send>(
    items: Vec<T>,
    work: impl Fn(T) -> Result<R, E> + Sync,
    failed: impl Fn(&str) -> E,
) -> Result<Vec<R>, E> {
    let cores = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len());
    if cores <= 1 {
        return items.into_iter().map(work).collect();
    }
    let items: Vec<Mutex<Option<T>>> = items.into_iter().map(|t| Mutex::new(Some(t))).collect();
    let done: Vec<Mutex<Option<Result<R, E>>>> = items.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let panicked = std::thread::scope(|s| {
        let running: Vec<_> = (0..cores)
            .map(|_| {
                s.spawn(|| loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let (Some(item), Some(slot)) = (items.get(k), done.get(k)) else {
                        break;
                    };
                    let Some(item) = item.lock().ok().and_then(|mut i| i.take()) else {
                        continue;
                    };
                    let result = work(item);
                    if let Ok(mut slot) = slot.lock() {
                        *slot = Some(result);
                    }
                })
            })
            .collect();
        // Every thread is joined here, not only up to the first that
        // panicked: one left to the scope's end would make it panic again.
        let panics: Vec<String> = running
            .into_iter()
            .filter_map(|r| r.join().err())
            .map(|payload| crate::panics::message(payload.as_ref()))
            .collect();
        panics.into_iter().next()
    });
    if let Some(panic) = panicked {
        return Err(failed(&panic));
    }
    done.into_iter()
        .map(|m| {
            m.into_inner()
                .ok()
                .flatten()
                .unwrap_or_else(|| Err(failed("no result")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A core's thread that panics gives the error `failed` makes of what
    /// it said, for the bug report (on one core the panic reaches the
    /// caller itself, its message as it is).
    #[test]
    fn a_panic_on_a_core_keeps_its_message() {
        let outcome = std::panic::catch_unwind(|| {
            each_on_cores(
                vec![1, 2, 3],
                |i| match i {
                    2 => panic!("item {i} broke"),
                    _ => Ok(i),
                },
                |panic| panic.to_string(),
            )
        });
        let said = match outcome {
            Ok(result) => result.err(),
            Err(payload) => Some(crate::panics::message(payload.as_ref())),
        };
        assert_eq!(said.as_deref(), Some("item 2 broke"));
    }
}
