//! `dialect serve`: the local prediction service (the `dialect-serve` crate) over
//! model folders and runs.

use crate::args::ServeArgs;
use dialect::runs::RunStore;
use dialect::EngineError;
use dialect_serve::{Limits, Models, ServeConfig, ServeError, ServedModel, Token, TOKEN_ENV};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

/// Load each model, then serve them until Ctrl-C or SIGTERM.
pub fn run(args: ServeArgs) -> Result<ExitCode, EngineError> {
    let config = ServeConfig {
        bind: args.bind,
        token: Token::from_sources(args.token_file.as_deref(), std::env::var(TOKEN_ENV).ok())?,
        limits: Limits {
            max_batch: args.max_batch,
            max_concurrent: args.max_concurrent,
            max_queue: args.max_queue,
            max_connections: args.max_connections,
            read_timeout: seconds("--read-timeout", args.read_timeout)?,
            ..Limits::default()
        },
    };
    // Settings first: a refused address should not wait for the models to load.
    config.check()?;
    let store = RunStore::resolve(args.runs_dir.clone())?;
    let located = args
        .models
        .iter()
        .map(|arg| dialect_serve::locate(arg, &store))
        .collect::<Result<Vec<_>, _>>()?;
    dialect_serve::models::check_names(located.iter().map(|(name, _)| name.as_str()))?;
    let mut models = Vec::with_capacity(located.len());
    for (name, dir) in located {
        let predictor = args.precision.load(&dir, &args.device)?;
        eprintln!(
            "model {name}: {} ({} classes, {})",
            dir.display(),
            predictor.labels().len(),
            predictor.precision().name()
        );
        models.push(ServedModel::new(name, predictor));
    }
    let models = Models::new(models)?;
    // How the curl example reads the token: from where the service got it.
    let token = config.token.as_ref().map(|_| match &args.token_file {
        Some(file) => format!("$(cat {})", file.display()),
        None => format!("${TOKEN_ENV}"),
    });
    dialect_serve::serve_until_signalled(&config, models, |addr| {
        print_ready(addr, token.as_deref())
    })?;
    eprintln!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// `value` seconds of the option `name` as a duration (its bounds are the service's to
/// check).
fn seconds(name: &'static str, value: f64) -> Result<Duration, ServeError> {
    Duration::try_from_secs_f64(value).map_err(|_| ServeError::Limit {
        name,
        message: format!("{value} is not a number of seconds: give e.g. 10 or 0.5"),
    })
}

/// Where the service listens, and a request to try it with.
fn print_ready(addr: SocketAddr, token: Option<&str>) {
    let auth = token
        .map(|token| format!(" -H \"Authorization: Bearer {token}\""))
        .unwrap_or_default();
    eprintln!("serving on http://{addr} (Ctrl-C or SIGTERM stops it)");
    eprintln!(
        "  curl -s http://{addr}/v1/classify{auth} -H 'Content-Type: application/json' -d '{{\"texts\": [\"my invoice is wrong\"]}}'"
    );
}
