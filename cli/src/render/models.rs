//! The preset models (`dialect models`).

use dialect::model::resolve::{Languages, ModelStatus};

/// One line per preset: its languages, then on disk (where) or needing a download (of
/// about what size).
pub fn print_models(models: &[ModelStatus]) {
    for m in models {
        let languages = match m.languages {
            Some(Languages::English) => "English",
            Some(Languages::Multilingual) => "multilingual",
            None => "",
        };
        let status = match (&m.cached, m.download_mb) {
            (Some(dir), _) => format!("on disk ({})", dir.display()),
            (None, Some(mb)) => format!("needs a download (≈ {mb} MB)"),
            (None, None) => "needs a download".into(),
        };
        println!("{:<42} {languages:<12} {status}", m.id);
    }
}
