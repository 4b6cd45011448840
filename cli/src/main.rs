//! `dialect`: the headless command line over the Dialect engine.
//!
//! Exit codes: 0 success; 1 a problem the user can fix (the message says what and
//! how); 2 a command-line usage error (clap's); 3 an internal error; 130 cancelled
//! with Ctrl-C.

mod args;
mod commands;
mod render;

use args::{Cli, Command};
use clap::Parser;
use dialect::EngineError;
use std::process::ExitCode;

/// mimalloc keeps freed memory for reuse: every tensor op allocates its output, and
/// with glibc's malloc large buffers come back as fresh zeroed pages each time
/// (≈30% of CPU time in a prediction profile; bench/README.md).
#[global_allocator]
static GLOBAL: dialect::allocator::Allocator = dialect::allocator::Allocator {};

/// Exit code of a problem the user can fix.
const USER_ERROR: u8 = 1;
/// Exit code of an internal error (2 is clap's, for usage errors).
const INTERNAL_ERROR: u8 = 3;
/// Exit code when Ctrl-C cancelled the command.
const CANCELLED: u8 = 130;

fn main() -> ExitCode {
    dialect::runtime::tune();
    let result = match Cli::parse().command {
        Command::Inspect(args) => commands::inspect::run(args),
        Command::Train(args) => commands::train::run(*args),
        Command::Runs(args) => commands::runs::run(args),
        Command::Devices(args) => commands::devices::run(args),
        Command::Models(args) => commands::models::run(args),
        Command::Evaluate(args) => commands::evaluate::run(args),
        Command::Predict(args) => commands::predict::run(args),
        Command::Serve(args) => commands::serve::run(args),
        Command::Quantize(args) => commands::quantize::run(args),
        Command::Corrections(args) => commands::corrections::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}{}", render::flags(&e.settings()));
            ExitCode::from(error_code(&e))
        }
    }
}

/// The exit code for `e`: whether the user can fix it.
fn error_code(e: &EngineError) -> u8 {
    if e.is_user_error() {
        USER_ERROR
    } else {
        INTERNAL_ERROR
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_exit_with_3_and_user_errors_with_1() {
        let json = serde_json::from_str::<u8>("not json").unwrap_err();
        assert_eq!(error_code(&EngineError::Json(json)), 3);
        assert_eq!(error_code(&EngineError::Config("epochs".into())), 1);
    }
}
