//! Process-wide allocator settings, applied once at start.

/// Most malloc arenas glibc may create. By default it creates up to eight per core as
/// threads come and go; the store's short-lived encoding threads and its dictionary
/// training each landed in an arena of their own, and freed memory stayed spread over
/// them: a 1 M-record sync peaked at 160–235 MB instead of ~120 MB with two arenas,
/// at the same speed (`crates/sync/bench/sync_bench.sh memory`).
const ARENA_MAX: i32 = 2;

/// Apply the settings (glibc only; a no-op elsewhere).
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only changes allocator parameters; called before any thread
    // of ours starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, ARENA_MAX);
    }
}
