//! Predictions for texts given on the command line (`dialect predict`).

use dialect::Prediction;

/// One line per text: label, confidence, the text and the top three classes.
pub fn print_predictions(texts: &[String], predictions: &[Prediction]) {
    for (text, p) in texts.iter().zip(predictions) {
        let mut ranked: Vec<_> = p.scores.iter().collect();
        ranked.sort_by(|a, b| b.probability.total_cmp(&a.probability));
        let top: Vec<String> = ranked
            .iter()
            .take(3)
            .map(|s| format!("{} {:.3}", s.label, s.probability))
            .collect();
        println!(
            "{}\t{:.3}\t{}\t[top: {}]",
            p.label,
            p.confidence,
            text,
            top.join(", ")
        );
    }
}
