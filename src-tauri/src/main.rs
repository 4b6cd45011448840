// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

/// The allocator the CLI uses too: it keeps freed tensor buffers for reuse instead of
/// handing back fresh zeroed pages (bench/README.md).
#[global_allocator]
static GLOBAL: dialect::allocator::Allocator = dialect::allocator::Allocator {};

fn main() {
    dialect::runtime::tune();
    dialect_app::run();
}
