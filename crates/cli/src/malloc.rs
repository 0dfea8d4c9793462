//! Process-wide allocator settings.
//!
//! Rust's allocations go to jemalloc: records are built by the fetching threads, encoded
//! by the store's encoding threads and freed by others, and glibc's malloc spent about a
//! sixth of a sync's CPU on that traffic (locks, consolidation); with jemalloc the same
//! sync took 20–27 % less CPU per record (`crates/sync/bench/sync_bench.sh throughput`,
//! back to back: 38.7–40.6 vs 48.9–53.4 µs).
//! The C libraries (SQLite, zstd) keep glibc's malloc, limited to two arenas.

/// The allocator of every Rust allocation in the process.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's settings, read when it starts: one arena (a 1 M-record sync peaked at
/// 142 MB with it, 153 MB with the default four arenas per core, 156.5 MB with two:
/// past the 150 MB target), freed pages returned after a second by a background thread.
#[allow(non_upper_case_globals)]
#[unsafe(export_name = "_rjem_malloc_conf")]
pub static malloc_conf: &[u8] = b"narenas:1,dirty_decay_ms:1000,muzzy_decay_ms:0,background_thread:true\0";

/// Most malloc arenas glibc may create (for the C libraries' allocations). By default it
/// creates up to eight per core as threads come and go, and freed memory stayed spread
/// over them.
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
