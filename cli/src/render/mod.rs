//! Terminal output for people: tables, reports and progress bars. (`--json` output
//! is the engine's types serialised, printed by the commands.)

pub mod corrections;
pub mod data;
pub mod devices;
pub mod metrics;
pub mod models;
pub mod predictions;
pub mod progress;
pub mod runs;

use dialect::dataset::quality::Severity;
use dialect::setting::Setting;

/// `text` on one line (control characters as spaces), cut to `chars` with an ellipsis.
pub fn clip(text: &str, chars: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() > chars {
        format!("{}…", flat.chars().take(chars - 1).collect::<String>())
    } else {
        flat
    }
}

/// The first `n` values with their counts, each clipped to `chars`, and how many more.
pub fn top_counts(values: &[(String, usize)], n: usize, chars: usize) -> String {
    let shown: Vec<String> = values
        .iter()
        .take(n)
        .map(|(v, count)| format!("{} {count}", clip(v, chars)))
        .collect();
    match values.len().checked_sub(n) {
        Some(more) if more > 0 => format!("{}, … {more} more", shown.join(", ")),
        _ => shown.join(", "),
    }
}

/// How a data-check finding's severity reads in the report.
pub fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Blocking => "BLOCKING",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// The flags of `settings` as a suffix for a message: ` (--lr, --batch-size)`, or
/// nothing.
pub fn flags(settings: &[Setting]) -> String {
    if settings.is_empty() {
        return String::new();
    }
    let flags: Vec<&str> = settings.iter().map(|s| s.flag()).collect();
    format!(" ({})", flags.join(", "))
}
