//! A data file's profile and inspection (`dialect inspect`).

use super::{clip, flags, severity_name, top_counts};
use dialect::dataset::inspect::Inspection;
use dialect::dataset::language::{LanguageReport, VocabularyVerdict};
use dialect::dataset::overlap::Overlap;
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
    match (&i.text, &i.label_column) {
        (Some(text), Some(label)) => println!(
            "\nusing text {:?}, label '{label}': {} usable rows",
            text.columns, i.rows_used
        ),
        (Some(text), None) => println!(
            "\nusing text {:?}, 0/1 label columns: {} usable rows",
            text.columns, i.rows_used
        ),
        _ => {}
    }
    if let Some(separator) = i.label_separator {
        println!("multi-label: label cells split by '{separator}' (per-label counts below)");
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
    if let Some(overlap) = &report.overlap {
        for line in overlap_lines(overlap) {
            println!("  {:<8}  {line}", "");
        }
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
    if let Some(language) = &i.language {
        print_language(language);
    }
    if report.findings.iter().any(|f| f.code == "too_many_classes") {
        println!("\nblocking problems: `dialect train` refuses this data (even with --force)");
    } else if report.is_blocking() {
        println!("\nblocking problems: `dialect train` refuses this data unless --force");
    }
}

/// The tickets' languages, the model's, its vocabulary's fit and the advice.
fn print_language(l: &LanguageReport) {
    println!(
        "\nlanguage and vocabulary ({} rows sampled, evenly through the file)",
        l.rows_sampled
    );
    let languages: Vec<String> = l
        .languages
        .iter()
        .map(|s| format!("{} {:.0}% ({})", s.name, 100.0 * s.share, s.rows))
        .collect();
    let languages = if languages.is_empty() {
        "none told".to_string()
    } else {
        languages.join(", ")
    };
    let untold = match l.undetermined {
        0 => String::new(),
        n => format!("; {n} rows too short or mixed to tell"),
    };
    println!("  languages   {languages}{untold}");
    if let Some(m) = &l.model {
        let languages = match m.languages {
            Some(languages) => format!("{languages:?}").to_lowercase(),
            None => "languages unknown".into(),
        };
        println!("  model       {}: {languages} ({})", m.model, m.basis);
    }
    if let Some(v) = &l.vocabulary {
        let verdict = match v.verdict {
            VocabularyVerdict::Good => "fits well",
            VocabularyVerdict::Fair => "fair: many words are cut into pieces",
            VocabularyVerdict::Poor => "poor: the model reads these texts badly",
        };
        println!(
            "  vocabulary  {:.1}% unknown tokens, {:.2} pieces per word, {:.1}% of words in 3+ pieces: {verdict}",
            100.0 * v.unknown_share,
            v.pieces_per_word,
            100.0 * v.split_share
        );
    } else if let Some(note) = &l.vocabulary_note {
        println!("  vocabulary  not measured: {note}");
    } else {
        println!("  vocabulary  not measured: pass --model to check its vocabulary");
    }
    if let Some(a) = &l.advice {
        println!("  advice      {}", a.message);
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

/// Most overlap pairs printed (`--json` has all the report keeps).
const OVERLAP_PAIRS_PRINTED: usize = 10;

/// The validation tickets that repeat training tickets, one pair a line, then how
/// many more; nothing when there are none.
pub fn overlap_lines(overlap: &Overlap) -> Vec<String> {
    let mut lines: Vec<String> = overlap
        .pairs
        .iter()
        .take(OVERLAP_PAIRS_PRINTED)
        .map(|p| {
            let how = if p.exact {
                "same text".to_string()
            } else {
                format!("word similarity {:.2}", p.similarity)
            };
            format!(
                "validation line {} repeats training line {} ({how})",
                p.validation_line, p.training_line
            )
        })
        .collect();
    let shown = lines.len();
    if overlap.rows > shown {
        lines.push(format!("… and {} more", overlap.rows - shown));
    }
    lines
}
