//! Tauri commands: each parses its arguments, calls the engine off the main thread,
//! and maps engine errors to [`crate::error::AppError`]. See COMMANDS.md.

pub mod app;
pub mod corrections;
pub mod data;
pub mod predict;
pub mod runs;
pub mod serve;
pub mod settings;
pub mod train;
pub mod validation;
