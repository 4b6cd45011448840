//! The allocator Dialect's programs use (mimalloc) and its one tuning for tensor
//! work. Every candle op allocates its output; freed blocks must be reused, not
//! returned to the OS and faulted back in as fresh zeroed pages.

/// The global allocator of the CLI, the app and the benchmarks.
pub type Allocator = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc's `mi_option_e` (v2).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
/// Freed memory idle this long goes back to the OS: long enough to survive from one
/// training step to the next, short enough that an idle app shrinks.
const PURGE_DELAY_MS: std::ffi::c_long = 1000;

/// Apply the tuning; call first thing in `main`. `MIMALLOC_PURGE_DELAY` in the
/// environment still wins.
pub fn tune() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets a documented integer option; mimalloc reads options atomically.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, PURGE_DELAY_MS) };
    }
}
