//! Predictions for texts given on the command line (`dialect predict`).

use super::clip;
use dialect::explain::Explanation;
use dialect::routing::Route;
use dialect::Prediction;

/// One line per text: label, confidence, the text, the top three classes, and the
/// route when a threshold sends it to a person; for a multi-label model the label set
/// (`-` when none applies), the text and every label's probability over its threshold.
pub fn print_predictions(texts: &[String], predictions: &[Prediction]) {
    for (text, p) in texts.iter().zip(predictions) {
        if let Some(set) = &p.labels {
            print_label_set(text, set, p);
            continue;
        }
        let mut ranked: Vec<_> = p.scores.iter().collect();
        ranked.sort_by(|a, b| b.probability.total_cmp(&a.probability));
        let top: Vec<String> = ranked
            .iter()
            .take(3)
            .map(|s| format!("{} {:.3}", s.label, s.probability))
            .collect();
        let route = match p.route {
            Some(Route::Person) => "\t→ person (below the routing threshold)",
            Some(Route::Auto) | None => "",
        };
        println!(
            "{}\t{:.3}\t{}\t[top: {}]{route}",
            p.label,
            p.confidence,
            text,
            top.join(", ")
        );
    }
}

/// `billing; bug\ttext\t[billing 0.912/0.40, bug 0.655/0.50, question 0.031/0.50]`.
fn print_label_set(text: &str, set: &[String], p: &Prediction) {
    let scores: Vec<String> = p
        .scores
        .iter()
        .map(|s| match s.threshold {
            Some(t) => format!("{} {:.3}/{t:.2}", s.label, s.probability),
            None => format!("{} {:.3}", s.label, s.probability),
        })
        .collect();
    let shown = if set.is_empty() {
        "-".to_string()
    } else {
        set.join("; ")
    };
    println!(
        "{shown}\t{text}\t[probability/threshold: {}]",
        scores.join(", ")
    );
}

/// Why a text gets `class`: up to `top` words pushing it toward the class and away from
/// it, strongest first, each with the class's probability without the word.
pub fn print_explanation(e: &Explanation, class: usize, top: usize) {
    let (Some(label), Some(&p)) = (e.labels.get(class), e.probabilities.get(class)) else {
        return;
    };
    let score = |w: usize| e.words[w].scores[class];
    let ranked = e.ranked(class);
    let toward: Vec<usize> = ranked.iter().copied().filter(|&w| score(w) > 0.0).collect();
    let away: Vec<usize> = ranked
        .iter()
        .rev()
        .copied()
        .filter(|&w| score(w) < 0.0)
        .collect();
    let shown = |words: &[usize]| -> String {
        if words.is_empty() {
            return "(none)".into();
        }
        words
            .iter()
            .take(top)
            .map(|&w| {
                let without = e.words[w].probabilities_without[class];
                format!("{} ({p:.3} → {without:.3})", clip(&e.words[w].text, 24))
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "  toward {label} ({p:.3} with every word): {}",
        shown(&toward)
    );
    println!("  away from {label}: {}", shown(&away));
    if e.truncated {
        println!("  (the text is longer than the model reads: the rest was not scored)");
    }
}
