//! Helpers of the unit tests.

use std::path::PathBuf;

/// A folder of the system's temporary ones for the test `name`, made
/// (`kpi-NAME-PID`, so runs of the suite side by side keep apart).
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kpi-{name}-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// A reproducible stream of 64-bit states (a linear congruential
/// generator) from `seed`, for tests that draw many random cases; the high
/// bits are the random ones.
pub fn random_bits(seed: u64) -> impl FnMut() -> u64 {
    let mut state = seed;
    move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        state
    }
}

/// A reproducible stream of numbers, each below the `n` asked.
pub fn random_below(seed: u64) -> impl FnMut(usize) -> usize {
    let mut bits = random_bits(seed);
    move |n| (bits() >> 33) as usize % n
}
