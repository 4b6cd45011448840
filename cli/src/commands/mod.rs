//! One module per subcommand: each reads its arguments, calls the engine, and hands
//! what it got to `render` (or prints JSON).

pub mod corrections;
pub mod devices;
pub mod estimate;
pub mod evaluate;
pub mod inspect;
pub mod models;
pub mod predict;
pub mod quantize;
pub mod runs;
pub mod serve;
pub mod train;
