//! The C allocator's settings for one evaluation process.
//!
//! glibc gives each thread that allocates its own arena and hands large
//! blocks back to the system as soon as they are freed. Evaluation frees
//! and allocates column-sized buffers on every core, so a buffer freed by
//! one thread is not reused by the next, and every new one is fresh pages
//! the kernel must zero: at 5M deals that was a quarter of the run, spent
//! in page faults. Few arenas and a high threshold for handing memory back
//! keep those pages in the process; Polars allocates in large buffers, so
//! threads seldom wait for an arena. Peak memory fell too at 5M and 25M
//! deals (the same pages reused instead of new ones mapped), and grew by a
//! few MiB at 1M.

/// Sets the allocator up, unless the user chose its settings themselves
/// (`GLIBC_TUNABLES`).
#[allow(unsafe_code)]
pub(crate) fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("GLIBC_TUNABLES").is_none() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        // One arena per eight cores, at least one.
        let arenas = i32::try_from(cores.div_ceil(8)).unwrap_or(i32::MAX);
        // SAFETY: mallopt only changes the allocator's settings; called
        // first thing in main, before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas);
            // glibc's largest: blocks up to 32 MiB come from the heap.
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
        }
    }
}
