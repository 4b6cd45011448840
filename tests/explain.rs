//! Explanations: a word's score is exactly what deleting it does to the model's
//! probabilities (checked against predictions of the edited text), and the pieces give
//! the text back, whatever its characters, truncation or scrubbing.

mod common;

use dialect::explain::Explanation;
use dialect::model_card::ModelCard;
use dialect::pii::PiiKind;
use dialect::{DeviceChoice, Predictor, TextSpec, Trainer};
use std::sync::atomic::AtomicBool;

fn tiny_predictor() -> Predictor {
    Predictor::load(&common::tiny_model("bert"), DeviceChoice::Cpu).unwrap()
}

/// Every class's probability for `text`, from plain prediction.
fn probabilities(predictor: &Predictor, text: &str) -> Vec<f64> {
    predictor.predict(&[text.to_string()]).unwrap()[0]
        .scores
        .iter()
        .map(|s| s.probability as f64)
        .collect()
}

fn joined(e: &Explanation) -> String {
    e.pieces.iter().map(|p| p.text.as_str()).collect()
}

fn word_texts(e: &Explanation) -> Vec<&str> {
    e.words.iter().map(|w| w.text.as_str()).collect()
}

/// Word `word`'s scores and probabilities without it equal those computed by hand from
/// predicting `text` and `text_without` (the text with that word deleted), class by
/// class; returns the largest score, so callers can check the case says something.
fn assert_matches_hand_computed(
    predictor: &Predictor,
    e: &Explanation,
    word: usize,
    text: &str,
    text_without: &str,
) -> f64 {
    let full = probabilities(predictor, text);
    let without = probabilities(predictor, text_without);
    let mut largest = 0f64;
    for c in 0..full.len() {
        let expected = full[c].ln() - without[c].ln();
        let got = e.words[word].scores[c] as f64;
        assert!(
            (got - expected).abs() < 1e-4,
            "word '{}', class {c}: score {got}, by hand {expected}",
            e.words[word].text
        );
        let p = e.words[word].probabilities_without[c] as f64;
        assert!(
            (p - without[c]).abs() < 1e-5,
            "class {c}: {p} vs {}",
            without[c]
        );
        largest = largest.max(expected.abs());
    }
    largest
}

#[test]
fn a_words_score_is_what_deleting_it_does_to_each_class() {
    let predictor = tiny_predictor();
    let text = "the app crashing when i click login";
    let e = predictor.explain(text).unwrap();
    // "crashing" is two subword tokens (crash ##ing) and one word.
    assert_eq!(
        word_texts(&e),
        ["the", "app", "crashing", "when", "i", "click", "login"]
    );
    let full = probabilities(&predictor, text);
    for (got, want) in e.probabilities.iter().zip(&full) {
        assert!((*got as f64 - want).abs() < 1e-5);
    }
    let best = (0..full.len())
        .max_by(|&a, &b| full[a].total_cmp(&full[b]))
        .unwrap();
    assert_eq!(e.predicted, best);
    assert_eq!(e.labels, predictor.labels());

    // Deleting a word from the string gives the same tokens as deleting its ids.
    let largest = [
        (2, "the app  when i click login"),
        (0, " app crashing when i click login"),
        (6, "the app crashing when i click "),
    ]
    .into_iter()
    .map(|(w, edited)| assert_matches_hand_computed(&predictor, &e, w, text, edited))
    .fold(0f64, f64::max);
    // The case discriminates: some deletion moves a class by far more than the tolerance.
    assert!(largest > 1e-2, "largest score {largest}");
}

#[test]
fn pieces_give_back_any_text_and_point_at_their_words() {
    let predictor = tiny_predictor();
    for text in [
        "Café CRASHES — naïve 日本 user 🚀 login!",
        "  the app\tcrashes\n\nagain  ",
        "x",
    ] {
        let e = predictor.explain(text).unwrap();
        assert_eq!(joined(&e), text);
        assert!(!e.truncated);
        let mut next = 0;
        for piece in &e.pieces {
            assert!(!piece.cut);
            if let Some(w) = piece.word {
                assert_eq!(w, next, "words appear once, in order");
                assert_eq!(piece.text, e.words[w].text);
                assert!(!piece.text.trim().is_empty());
                next += 1;
            } else {
                assert!(piece.text.trim().is_empty(), "{:?}", piece.text);
            }
        }
        assert_eq!(next, e.words.len());
        for w in &e.words {
            assert_eq!(w.scores.len(), e.labels.len());
        }
    }
    let e = predictor
        .explain("Café CRASHES — naïve 日本 user 🚀 login!")
        .unwrap();
    let words = word_texts(&e);
    // A word is a run without spaces, but CJK ideographs are words of their own.
    assert_eq!(
        words,
        ["Café", "CRASHES", "—", "naïve", "日", "本", "user", "🚀", "login!"]
    );
    let e = predictor
        .explain("don't crash? see https://x.io/a-b.html,日本ok")
        .unwrap();
    assert_eq!(
        word_texts(&e),
        [
            "don't",
            "crash?",
            "see",
            "https://x.io/a-b.html,",
            "日",
            "本",
            "ok"
        ]
    );
}

#[test]
fn a_word_with_its_punctuation_is_deleted_whole() {
    let predictor = tiny_predictor();
    let text = "login fails, the app crashes!";
    let e = predictor.explain(text).unwrap();
    assert_eq!(
        word_texts(&e),
        ["login", "fails,", "the", "app", "crashes!"]
    );
    let largest = [(1, "login  the app crashes!"), (4, "login fails, the app ")]
        .into_iter()
        .map(|(w, edited)| assert_matches_hand_computed(&predictor, &e, w, text, edited))
        .fold(0f64, f64::max);
    assert!(largest > 1e-2, "largest score {largest}");
}

#[test]
fn words_past_the_max_length_are_cut_and_unscored() {
    let predictor = tiny_predictor();
    // The tiny model reads 64 tokens: [CLS], 62 words of one token each, [SEP].
    let text = "the app crashes ".repeat(40);
    let e = predictor.explain(&text).unwrap();
    assert!(e.truncated);
    assert_eq!(e.words.len(), 62);
    assert_eq!(joined(&e), text);
    let last = e.pieces.last().unwrap();
    assert!(last.cut && last.word.is_none());
    assert_eq!(last.text.split_whitespace().count(), 120 - 62);
    assert!(e.pieces[..e.pieces.len() - 1].iter().all(|p| !p.cut));
}

#[test]
fn a_text_without_words_has_an_explanation_without_words() {
    let predictor = tiny_predictor();
    for text in ["", "  \n\t "] {
        let e = predictor.explain(text).unwrap();
        assert!(e.words.is_empty());
        assert_eq!(joined(&e), text);
        let total: f32 = e.probabilities.iter().sum();
        assert!((total - 1.0).abs() < 1e-5);
    }
}

#[test]
fn a_scrubbing_model_explains_the_placeholder_as_one_word_at_its_temperature() {
    let work = tempfile::tempdir().unwrap();
    let mut data = common::tiny_train_data(work.path(), 10);
    let mut spec = TextSpec::column("text");
    spec.scrub = vec![PiiKind::Email];
    data.text = Some(spec);
    let config = common::tiny_config(work.path());
    Trainer::run(&config, &data, |_| {}, &AtomicBool::new(false)).unwrap();
    // A temperature far from 1, so that leaving it out would show.
    let mut calibration = ModelCard::load(&config.output_dir)
        .unwrap()
        .calibration
        .expect("training fits a temperature");
    calibration.temperature = 3.0;
    ModelCard::record_calibration(&config.output_dir, &calibration).unwrap();
    let predictor = Predictor::load(&config.output_dir, DeviceChoice::Cpu).unwrap();
    assert_eq!(predictor.temperature(), 3.0);

    let text = "crash when saving, write to jane.doe@example.com please";
    let e = predictor.explain(text).unwrap();
    assert_eq!(joined(&e), "crash when saving, write to [EMAIL] please");
    let words = word_texts(&e);
    assert_eq!(
        words,
        ["crash", "when", "saving,", "write", "to", "[EMAIL]", "please"]
    );
    let email = words.iter().position(|w| *w == "[EMAIL]").unwrap();
    let largest = assert_matches_hand_computed(
        &predictor,
        &e,
        email,
        text,
        "crash when saving, write to  please",
    );
    assert!(largest > 0.0);
}
