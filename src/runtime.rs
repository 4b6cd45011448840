//! Process-wide settings for tensor work on the CPU, applied first thing in `main` by
//! the CLI, the app and the benchmarks.

/// Apply the allocator tuning (`allocator::tune`) and the thread layout: candle's own
/// pool for element-wise ops is turned off (`CANDLE_NUM_THREADS=1`), because its spinning
/// workers compete for the cores with rayon's, which run the matrix products and
/// Dialect's fused kernels. On 2 cores this took Ticket Tagger training from 11.7 to
/// 13.4 samples/s and single-ticket prediction from 28 to 25.5 ms. A value already in
/// the environment wins. Call before any other thread starts.
pub fn tune() {
    crate::allocator::tune();
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }
}
