//! The allocator Dialect's programs use (mimalloc) and its one tuning for tensor
//! work. Every candle op allocates its output; freed blocks must be reused, not
//! returned to the OS and faulted back in as fresh zeroed pages.

/// The global allocator of the CLI, the app and the benchmarks.
pub type Allocator = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc's `mi_option_e` (v2).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
/// Freed memory goes back to the OS a minute after it is first left idle. mimalloc
/// does not restart that clock while the memory is reused, so a short delay purges
/// the buffers of a running job between its steps (a CPU training step takes
/// seconds), and every step faults them back in as fresh zeroed pages: 1 s cost
/// Ticket Tagger training 10.8 -> 8.2 samples/s. The app returns memory at once
/// when a job ends (`release`).
const PURGE_DELAY_MS: std::ffi::c_long = 60_000;

/// Apply the tuning (through `runtime::tune`, first thing in `main`). `MIMALLOC_PURGE_DELAY` in the
/// environment still wins.
pub fn tune() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets a documented integer option; mimalloc reads options atomically.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, PURGE_DELAY_MS) };
    }
}

/// Return the memory freed by finished work to the OS now (the app calls this when a
/// job ends, so that it idles small).
pub fn release() {
    // SAFETY: mi_collect may be called from any thread at any time.
    unsafe { libmimalloc_sys::mi_collect(true) };
}
