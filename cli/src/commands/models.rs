//! `dialect models`: the preset models on disk, or download one.

use crate::args::ModelsArgs;
use crate::render::models::print_models;
use crate::render::progress::DownloadBar;
use dialect::model::resolve::{download_model, preset_status};
use dialect::EngineError;
use std::process::ExitCode;

/// Download `--download ID` with a progress bar, else list the presets.
pub fn run(args: ModelsArgs) -> Result<ExitCode, EngineError> {
    if let Some(id) = args.download {
        let bar = DownloadBar::new();
        let dir = download_model(&id, &mut |event| bar.show(event))?;
        println!("{}", dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    let models = preset_status();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&models)?);
    } else {
        print_models(&models);
    }
    Ok(ExitCode::SUCCESS)
}
