//! A data file's profile and inspection (`dialect inspect`).

use super::{clip, flags, severity_name, top_counts};
use dialect::dataset::inspect::Inspection;
use dialect::dataset::profile::Profile;
use dialect::dataset::source::Format;

/// The file's format, columns (role, fill, distinct values), suggested columns and
/// first rows.
pub fn print_profile(p: &Profile) {
    let format = match p.format {
        Format::Delimited { delimiter: '\t' } => "delimited, tab".to_string(),
        Format::Delimited { delimiter } => format!("delimited, '{delimiter}'"),
        Format::Jsonl => "JSON lines".to_string(),
    };
    println!(
        "{}: {} rows, {format}, {}",
        p.path.display(),
        p.rows,
        p.encoding
    );
    for w in p.warnings.items() {
        println!("  warning: {w}");
    }
    println!("\ncolumns");
    let width = p
        .columns
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(6)
        .clamp(6, 30);
    println!(
        "  {:<width$}  {:<6}  {:>7}  {:>9}  {:>10}",
        "name", "role", "filled", "distinct", "mean chars"
    );
    for c in &p.columns {
        let role = format!("{:?}", c.role).to_lowercase();
        let distinct = format!("{}{}", c.distinct, if c.distinct_capped { "+" } else { "" });
        println!(
            "  {:<width$}  {role:<6}  {:>6.1}%  {distinct:>9}  {:>10.1}  {}",
            clip(&c.name, width),
            c.fill_rate * 100.0,
            c.mean_chars,
            top_counts(&c.values, 4, 20)
        );
    }
    println!(
        "\nsuggested: --text-column {} --label-column {}",
        p.suggested_text.as_deref().unwrap_or("?"),
        p.suggested_label.as_deref().unwrap_or("?")
    );
    println!("\nfirst rows");
    for (line, cells) in p.samples.iter().take(3) {
        let joined: Vec<String> = cells.iter().map(|c| clip(c, 40)).collect();
        println!("  line {line}: {}", joined.join(" | "));
    }
}

/// The profile, then the label values, suggested merges and data check findings;
/// `measured_truncation` says whether a tokenizer measured truncation.
pub fn print_inspection(i: &Inspection, measured_truncation: bool) {
    print_profile(&i.profile);
    if let Some(note) = &i.note {
        println!("\n{}{}", note.message, flags(note.setting.as_slice()));
        return;
    }
    if let (Some(text), Some(label)) = (&i.text, &i.label_column) {
        println!(
            "\nusing text {:?}, label '{label}': {} usable rows",
            text.columns, i.rows_used
        );
    }
    println!(
        "label values ({}): {}",
        i.raw_labels.len(),
        top_counts(&i.raw_labels, 12, 30)
    );
    if !i.merges.is_empty() {
        println!("\nlabel variants that look like one class (--write-label-map FILE writes these merges):");
        for m in &i.merges {
            let members: Vec<String> = m
                .members
                .iter()
                .map(|(v, n)| format!("'{v}' ({n})"))
                .collect();
            println!("  '{}' ← {}", m.into, members.join(", "));
        }
    }
    let Some(report) = &i.report else { return };
    println!("\ndata check");
    if report.findings.is_empty() {
        println!("  no problems found");
    }
    for f in &report.findings {
        println!("  {:<8}  {}", severity_name(f.severity), f.message);
        if !f.lines.is_empty() {
            let lines: Vec<String> = f.lines.iter().map(usize::to_string).collect();
            println!("  {:<8}  e.g. line {}", "", lines.join(", "));
        }
        println!("  {:<8}  → {}{}", "", f.fix, flags(f.setting.as_slice()));
    }
    if !measured_truncation {
        println!("  (truncation not measured: pass --model to use its tokenizer)");
    }
    for n in report
        .not_measured
        .iter()
        .filter(|n| n.code != "truncation")
    {
        println!("  ({} not measured: {})", n.code, n.reason);
    }
    if report.findings.iter().any(|f| f.code == "too_many_classes") {
        println!("\nblocking problems: `dialect train` refuses this data (even with --force)");
    } else if report.is_blocking() {
        println!("\nblocking problems: `dialect train` refuses this data unless --force");
    }
}
