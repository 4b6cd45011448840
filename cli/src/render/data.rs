//! A data file's profile and inspection (`dialect inspect`).

use super::{clip, flags, severity_name, top_counts};
use dialect::dataset::inspect::Inspection;
use dialect::dataset::profile::Profile;
use dialect::dataset::source::Format;
use dialect::pii::PiiSurvey;
use dialect::train::suspects::SuspectReport;

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
    if let Some(pii) = &i.pii {
        print_pii(pii);
    }
    if report.findings.iter().any(|f| f.code == "too_many_classes") {
        println!("\nblocking problems: `dialect train` refuses this data (even with --force)");
    } else if report.is_blocking() {
        println!("\nblocking problems: `dialect train` refuses this data unless --force");
    }
}

/// Personal data per kind: tickets holding it, and the first example with its values
/// marked «like this».
fn print_pii(pii: &PiiSurvey) {
    let found: Vec<_> = pii.kinds.iter().filter(|k| k.tickets > 0).collect();
    if found.is_empty() {
        println!("\npersonal data: none found in {} tickets", pii.tickets);
        return;
    }
    println!(
        "\npersonal data (--scrub KINDS replaces it with placeholders for training and prediction)"
    );
    for k in found {
        println!(
            "  {:<8} {:>6} tickets  ({})",
            k.kind.name(),
            k.tickets,
            k.kind.label()
        );
        if let Some(e) = k.examples.first() {
            let mut marked = String::new();
            let mut at = 0;
            for s in &e.spans {
                marked.push_str(&e.text[at..s.start]);
                marked.push('«');
                marked.push_str(&e.text[s.start..s.end]);
                marked.push('»');
                at = s.end;
            }
            marked.push_str(&e.text[at..]);
            println!("           line {}: {}", e.line, clip(&marked, 90));
        }
    }
}

/// The `top` most suspect labels: line, given → likely class with its held-out
/// probability, and the ticket's start.
pub fn print_suspects(r: &SuspectReport, top: usize) {
    println!(
        "\nsuspect labels: {} of {} tickets (held-out accuracy of the frozen-encoder head {:.1}%, {} folds, {:.1} s)",
        r.suspects.len(),
        r.rows,
        100.0 * r.held_out_accuracy,
        r.folds,
        r.seconds
    );
    for s in r.suspects.iter().take(top) {
        println!(
            "  line {:>6}  {:<18} → {:<18} {:>5.1}%  {}",
            s.line,
            clip(&s.given, 18),
            clip(&s.likely, 18),
            100.0 * s.confidence,
            clip(&s.text, 50)
        );
    }
    if r.suspects.len() > top {
        println!(
            "  … {} more (--top N, or --json for all)",
            r.suspects.len() - top
        );
    }
    if !r.suspects.is_empty() {
        println!("  fix one: dialect corrections FILE.json set --data DATA --line N --to CLASS");
    }
}
