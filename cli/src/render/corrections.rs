//! Corrections and what applying them to a file did.

use super::clip;
use dialect::dataset::corrections::{CorrectionReport, Corrections};

/// One line per correction: line, old → new class, the ticket's start.
pub fn print_corrections(c: &Corrections) {
    if c.is_empty() {
        println!("no corrections");
        return;
    }
    for fix in &c.corrections {
        let to = fix.label.as_deref().unwrap_or("(dropped)");
        println!(
            "line {:>6}  {} → {}  {}",
            fix.line,
            fix.given,
            to,
            clip(&fix.text, 60)
        );
    }
    println!("{} correction(s)", c.corrections.len());
}

/// Relabelled and dropped counts, moved rows and stale corrections with reasons.
pub fn print_report(r: &CorrectionReport) {
    println!(
        "{} relabelled, {} dropped, {} moved, {} no longer match",
        r.relabelled,
        r.dropped,
        r.moved.len(),
        r.stale.len()
    );
    for m in &r.moved {
        println!("  moved: line {} is now line {}", m.from, m.to);
    }
    for s in &r.stale {
        println!(
            "  not applied, line {}: {} ({})",
            s.line,
            s.reason,
            clip(&s.text, 50)
        );
    }
}
