//! The preset models (`dialect models`).

use dialect::model::resolve::ModelStatus;

/// One line per preset: on disk (where) or needing a download.
pub fn print_models(models: &[ModelStatus]) {
    for m in models {
        match &m.cached {
            Some(dir) => println!("{:<42} on disk ({})", m.id, dir.display()),
            None => println!("{:<42} needs a download", m.id),
        }
    }
}
