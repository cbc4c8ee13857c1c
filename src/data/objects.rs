//! CSV and NDJSON in object storage (`s3://`, `gs://`, `az://`): kpi's
//! readers of them (types from the whole file, `read:` options, places in
//! messages) read bytes, so each object is listed and fetched whole, once
//! per run, and a Parquet object's footer is fetched to see its columns'
//! types as a local file's are, through the stores Polars builds for
//! Parquet: the same variables give the same credentials, region and
//! endpoint.

use polars::io::cloud::concurrency_config::{ConcurrencyStrategy, FetchConfig};
use polars::io::cloud::{build_object_store, glob, object_path_from_str};
use polars::prelude::{PlRefPath, PolarsResult};
use polars_core::runtime::ASYNC;

/// The objects a glob names, sorted (those of no bytes left out, as
/// Polars lists them for Parquet); the store's error as text.
pub(crate) fn list(pattern: &str) -> Result<Vec<String>, String> {
    let url = PlRefPath::new(pattern);
    ASYNC
        .block_in_place_on(glob(url, None))
        .map_err(|e| e.to_string())
}

/// The bytes of each object of `urls`, fetched side by side (a glob of
/// many small exports waits for the slowest, not for their sum); each
/// store's error as text.
pub(crate) fn fetch_all(urls: &[String]) -> Vec<Result<Vec<u8>, String>> {
    ranges_of(urls, |size| 0..size)
}

/// The last `n` bytes of each object of `urls` (all of them if it is
/// shorter), fetched side by side; each store's error as text.
pub(crate) fn tails_of(urls: &[String], n: usize) -> Vec<Result<Vec<u8>, String>> {
    ranges_of(urls, move |size| size.saturating_sub(n)..size)
}

/// The bytes of each object of `urls` in the range `pick` gives of its
/// size, fetched side by side.
fn ranges_of(
    urls: &[String],
    pick: impl Fn(usize) -> std::ops::Range<usize> + Copy + Send + 'static,
) -> Vec<Result<Vec<u8>, String>> {
    let fetches: Vec<_> = urls
        .iter()
        .map(|u| ASYNC.spawn(range_of(u.clone(), pick)))
        .collect();
    fetches
        .into_iter()
        .map(|f| match ASYNC.block_in_place_on(f) {
            Ok(bytes) => bytes.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        })
        .collect()
}

/// The bytes of the object at `url` in the range `pick` gives of its size.
async fn range_of(url: String, pick: impl FnOnce(usize) -> std::ops::Range<usize>) -> PolarsResult<Vec<u8>> {
    let (location, store) = build_object_store(PlRefPath::new(url), None, false).await?;
    let key = object_path_from_str(&location.prefix)?;
    let meta = store.head(&key, ConcurrencyStrategy::Legacy).await?;
    let size = usize::try_from(meta.size).unwrap_or(usize::MAX);
    let bytes = store
        .get_range(&key, pick(size), FetchConfig::streaming())
        .await?;
    Ok(bytes.to_vec())
}
