//! Does the model speak the tickets' language? The languages of a sample of the texts
//! (whatlang, offline trigram models), how well the chosen model's vocabulary covers
//! them (share of unknown tokens, pieces per word), which languages the model was
//! pre-trained on, and advice when they do not match.
//!
//! The sample is every k-th row, at most [`SAMPLE_ROWS`], each text cut at
//! [`SAMPLE_CHARS`] characters: deterministic, spread over the whole file (a file sorted
//! by class or date is sampled end to end), and well under a second on any file.

use crate::error::Result;
use crate::model::resolve::{preset, Languages, PRESETS};
use crate::model::tokenize::TextEncoder;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// Most rows looked at.
pub const SAMPLE_ROWS: usize = 2_000;
/// Characters of each text looked at.
pub const SAMPLE_CHARS: usize = 500;
/// Detections less sure than this leave a row's language untold. whatlang's own
/// "reliable" mark (0.9) leaves most short tickets untold: on Banking77's short English
/// questions, 0.5 tells about half of them, nearly all as English.
const MIN_CONFIDENCE: f64 = 0.5;
/// Languages listed in a report, most rows first.
const TOP_LANGUAGES: usize = 5;
/// Share of the tickets (of those whose language is told) in other languages than
/// English from which an English-only model gets advice.
pub const ADVICE_SHARE: f64 = 0.10;
/// A vocabulary of more entries than this is taken for a multilingual one (English
/// BERT has ~30k, RoBERTa ~50k; multilingual BERT ~120k, XLM-R ~250k).
const MULTILINGUAL_VOCABULARY: u64 = 100_000;
/// `model_type`s of multilingual encoders.
const MULTILINGUAL_TYPES: [&str; 3] = ["xlm-roberta", "xlm-roberta-xl", "xlm"];
/// Tokens a sampled text can have (its first [`SAMPLE_CHARS`] characters): no cut.
const WHOLE_SAMPLE: usize = 4 * SAMPLE_CHARS + 2;

/// The model the texts are checked against.
#[derive(Debug, Clone, Copy)]
pub struct ChosenModel<'a> {
    /// Hub id or folder, as given.
    pub id: &'a str,
    /// Its folder when it is on this machine (enables the vocabulary check).
    pub folder: Option<&'a Path>,
}

/// One language and the sampled rows written in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct LanguageShare {
    /// ISO 639-3 code, e.g. `deu`.
    pub code: String,
    /// English name, e.g. `German`.
    pub name: String,
    pub rows: usize,
    /// Of the sampled rows whose language was told.
    pub share: f64,
}

/// How the model's languages were decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub enum LanguageSource {
    /// One of the presets, whose languages are known.
    Preset,
    /// Read from its files or name (see `basis`).
    Inferred,
    /// Nothing tells: the measured vocabulary fit is all there is.
    Unknown,
}

/// The languages the chosen model was pre-trained on, as far as can be told offline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ModelLanguages {
    pub model: String,
    pub languages: Option<Languages>,
    pub source: LanguageSource,
    /// What it was decided from, in words.
    pub basis: String,
}

/// A plain-language verdict on a vocabulary's fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub enum VocabularyVerdict {
    /// Most words are one token, hardly any unknown.
    Good,
    /// Many words are cut into pieces, or some tokens are unknown.
    Fair,
    /// Words are cut into many pieces, or many tokens are unknown: the model reads
    /// these texts badly.
    Poor,
}

/// How well the model's tokenizer covers the sampled texts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct VocabularyFit {
    /// Tokens of the sampled texts (special tokens left out).
    pub tokens: usize,
    /// Share of them that are the unknown token (`[UNK]`, `<unk>`).
    pub unknown_share: f64,
    /// Words (pre-tokenizer words with a letter) of the sampled texts.
    pub words: usize,
    /// Mean tokens per word.
    pub pieces_per_word: f64,
    /// Share of words cut into 3 pieces or more.
    pub split_share: f64,
    pub verdict: VocabularyVerdict,
}

/// What to do when the tickets are in languages the model was not pre-trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct LanguageAdvice {
    pub message: String,
    /// A multilingual preset to train instead.
    pub suggested_model: Option<String>,
}

/// The languages of a sample of the tickets and, for a chosen model, how they fit it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct LanguageReport {
    /// Rows looked at (every k-th row, at most [`SAMPLE_ROWS`]).
    pub rows_sampled: usize,
    /// Sampled rows whose language could not be told (too short, mixed, no letters).
    pub undetermined: usize,
    /// The most common languages, most rows first.
    pub languages: Vec<LanguageShare>,
    /// Share of the rows whose language was told that are not English.
    pub not_english: f64,
    /// The chosen model's languages, when a model is chosen.
    pub model: Option<ModelLanguages>,
    /// How the model's vocabulary fits the texts, when it is on this machine.
    pub vocabulary: Option<VocabularyFit>,
    /// Why the vocabulary was not measured, when a model is chosen.
    pub vocabulary_note: Option<String>,
    pub advice: Option<LanguageAdvice>,
}

/// The language report of `texts` (each row's text, in file order) for `model`.
pub fn language_report(texts: &[&str], model: Option<ChosenModel>) -> Result<LanguageReport> {
    let sample = sample(texts);
    let detected = detect(&sample);
    let (vocabulary, vocabulary_note) = match model {
        Some(ChosenModel {
            folder: Some(folder),
            ..
        }) => {
            let encoder = TextEncoder::load(folder, WHOLE_SAMPLE)?;
            (Some(vocabulary_fit(&encoder, &sample)?), None)
        }
        Some(m) => (
            None,
            Some(format!(
                "the vocabulary check reads {}'s tokenizer: it is measured once the model is on this machine",
                m.id
            )),
        ),
        None => (None, None),
    };
    let model = model.map(|m| model_languages(m.id, m.folder));
    let advice = model
        .as_ref()
        .and_then(|m| advice(&detected, m, vocabulary.as_ref()));
    Ok(LanguageReport {
        rows_sampled: sample.len(),
        undetermined: detected.undetermined,
        languages: detected.top.clone(),
        not_english: detected.not_english,
        model,
        vocabulary,
        vocabulary_note,
        advice,
    })
}

/// Every k-th text (at most [`SAMPLE_ROWS`]), each cut at [`SAMPLE_CHARS`] characters.
fn sample<'t>(texts: &[&'t str]) -> Vec<&'t str> {
    let n = texts.len();
    let k = n.min(SAMPLE_ROWS);
    (0..k)
        .map(|i| {
            let text = texts[i * n / k];
            text.char_indices()
                .nth(SAMPLE_CHARS)
                .map_or(text, |(end, _)| &text[..end])
        })
        .collect()
}

/// The languages of the sampled texts.
struct Detected {
    undetermined: usize,
    top: Vec<LanguageShare>,
    not_english: f64,
}

fn detect(texts: &[&str]) -> Detected {
    let detected: Vec<Option<whatlang::Lang>> = texts
        .par_iter()
        .map(|text| {
            whatlang::detect(text)
                .filter(|info| info.confidence() >= MIN_CONFIDENCE)
                .map(|info| info.lang())
        })
        .collect();
    let mut counts: HashMap<whatlang::Lang, usize> = HashMap::new();
    let mut undetermined = 0;
    for lang in detected {
        match lang {
            Some(lang) => *counts.entry(lang).or_default() += 1,
            None => undetermined += 1,
        }
    }
    let told: usize = counts.values().sum();
    let share = |rows: usize| {
        if told == 0 {
            0.0
        } else {
            rows as f64 / told as f64
        }
    };
    let english = counts.get(&whatlang::Lang::Eng).copied().unwrap_or(0);
    let mut all: Vec<(whatlang::Lang, usize)> = counts.into_iter().collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.code().cmp(b.0.code())));
    Detected {
        undetermined,
        top: all
            .into_iter()
            .take(TOP_LANGUAGES)
            .map(|(lang, rows)| LanguageShare {
                code: lang.code().into(),
                name: lang.eng_name().into(),
                rows,
                share: share(rows),
            })
            .collect(),
        not_english: share(told - english),
    }
}

/// Unknown tokens and pieces per word of `texts` with `encoder` (texts in parallel).
pub fn vocabulary_fit(encoder: &TextEncoder, texts: &[&str]) -> Result<VocabularyFit> {
    let per_text = texts
        .par_iter()
        .map(|text| Counts::of(encoder, text))
        .collect::<Result<Vec<Counts>>>()?;
    let c = per_text.into_iter().fold(Counts::default(), Counts::add);
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let (unknown_share, pieces_per_word) = (ratio(c.unknown, c.tokens), ratio(c.pieces, c.words));
    Ok(VocabularyFit {
        tokens: c.tokens,
        unknown_share,
        words: c.words,
        pieces_per_word,
        split_share: ratio(c.split, c.words),
        verdict: verdict(unknown_share, pieces_per_word),
    })
}

/// Tokens, unknown tokens, words (with a letter), their pieces, and words in 3 or more.
#[derive(Default)]
struct Counts {
    tokens: usize,
    unknown: usize,
    words: usize,
    pieces: usize,
    split: usize,
}

impl Counts {
    fn of(encoder: &TextEncoder, text: &str) -> Result<Self> {
        let encoding = encoder.encode_words(text)?;
        let special = encoding.get_special_tokens_mask();
        let offsets = encoding.get_offsets();
        let mut c = Self::default();
        // A word's pieces: its tokens' run, from the first to the last token.
        let mut add_word = |first: usize, last: usize, pieces: usize| {
            let span = text.get(offsets[first].0..offsets[last].1).unwrap_or("");
            if span.chars().any(char::is_alphabetic) {
                c.words += 1;
                c.pieces += pieces;
                c.split += usize::from(pieces >= 3);
            }
        };
        // (word id, first token, pieces) of the word being read, and its last token.
        let mut word: Option<(u32, usize, usize)> = None;
        let mut last = 0;
        let (mut tokens, mut unknown) = (0, 0);
        for (i, (token, word_id)) in encoding
            .get_tokens()
            .iter()
            .zip(encoding.get_word_ids())
            .enumerate()
        {
            if special[i] == 1 {
                continue;
            }
            tokens += 1;
            unknown += usize::from(token == "[UNK]" || token == "<unk>");
            match (word, word_id) {
                (Some((w, first, n)), Some(id)) if w == *id => word = Some((w, first, n + 1)),
                (_, id) => {
                    if let Some((_, first, n)) = word {
                        add_word(first, last, n);
                    }
                    word = id.map(|id| (id, i, 1));
                }
            }
            last = i;
        }
        if let Some((_, first, n)) = word {
            add_word(first, last, n);
        }
        c.tokens = tokens;
        c.unknown = unknown;
        Ok(c)
    }

    fn add(self, o: Self) -> Self {
        Self {
            tokens: self.tokens + o.tokens,
            unknown: self.unknown + o.unknown,
            words: self.words + o.words,
            pieces: self.pieces + o.pieces,
            split: self.split + o.split,
        }
    }
}

/// Good below 1% unknown tokens and 1.4 pieces per word; poor from 5% or 1.6. With
/// all-MiniLM-L6-v2 (English), English tickets measure 1.03 (Banking77) and 1.26
/// (Ticket Tagger, with code and URLs) pieces per word; French 1.7, Spanish and German
/// 1.8 to 2.0.
fn verdict(unknown_share: f64, pieces_per_word: f64) -> VocabularyVerdict {
    if unknown_share >= 0.05 || pieces_per_word >= 1.6 {
        VocabularyVerdict::Poor
    } else if unknown_share >= 0.01 || pieces_per_word >= 1.4 {
        VocabularyVerdict::Fair
    } else {
        VocabularyVerdict::Good
    }
}

/// The languages `model` was pre-trained on: a preset's; else multilingual when its
/// `config.json` names a multilingual `model_type` (XLM-R) or a vocabulary of more than
/// 100,000 entries, or its name says `multilingual`; else unknown.
pub fn model_languages(model: &str, folder: Option<&Path>) -> ModelLanguages {
    let known = |languages, source, basis: String| ModelLanguages {
        model: model.to_string(),
        languages,
        source,
        basis,
    };
    if let Some(p) = preset(model) {
        return known(Some(p.languages), LanguageSource::Preset, "a preset".into());
    }
    let config = folder
        .and_then(|f| std::fs::read_to_string(f.join("config.json")).ok())
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok());
    let model_type = config
        .as_ref()
        .and_then(|c| c.get("model_type")?.as_str().map(str::to_string));
    let vocabulary = config.as_ref().and_then(|c| c.get("vocab_size")?.as_u64());
    let multilingual = Some(Languages::Multilingual);
    if let Some(t) = model_type.filter(|t| MULTILINGUAL_TYPES.contains(&t.as_str())) {
        return known(
            multilingual,
            LanguageSource::Inferred,
            format!("its config.json says model_type {t}"),
        );
    }
    if let Some(n) = vocabulary.filter(|&n| n > MULTILINGUAL_VOCABULARY) {
        return known(
            multilingual,
            LanguageSource::Inferred,
            format!("its vocabulary has {n} entries (more than {MULTILINGUAL_VOCABULARY}: a multilingual one)"),
        );
    }
    if short_name(model).to_lowercase().contains("multilingual") {
        return known(
            multilingual,
            LanguageSource::Inferred,
            "its name says multilingual".into(),
        );
    }
    known(
        None,
        LanguageSource::Unknown,
        "not a preset, and neither its name nor its config.json tells".into(),
    )
}

/// The last part of a hub id or folder path.
fn short_name(model: &str) -> &str {
    model
        .trim_end_matches(['/', '\\'])
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(model)
}

/// Advice when at least [`ADVICE_SHARE`] of the tickets are not in English and the
/// model is English-only, or of unknown languages with a poor vocabulary fit.
fn advice(
    detected: &Detected,
    model: &ModelLanguages,
    fit: Option<&VocabularyFit>,
) -> Option<LanguageAdvice> {
    if detected.not_english < ADVICE_SHARE {
        return None;
    }
    let name = short_name(&model.model);
    let why = match (model.languages, fit) {
        (Some(Languages::English), _) => format!("{name} was pre-trained on English only"),
        (None, Some(f)) if f.verdict == VocabularyVerdict::Poor => format!(
            "{name}'s vocabulary fits them poorly ({:.1} pieces per word, {:.1}% unknown tokens)",
            f.pieces_per_word,
            100.0 * f.unknown_share
        ),
        _ => return None,
    };
    let others: Vec<&str> = detected
        .top
        .iter()
        .filter(|l| l.code != whatlang::Lang::Eng.code())
        .take(3)
        .map(|l| l.name.as_str())
        .collect();
    let suggested = PRESETS
        .iter()
        .filter(|p| p.languages == Languages::Multilingual)
        .min_by_key(|p| p.download_mb);
    let percent = (100.0 * detected.not_english).round();
    let of = if detected.undetermined == 0 {
        "the tickets"
    } else {
        "the tickets whose language could be told"
    };
    let mut message = format!("{percent}% of {of} are {}; {why}", others.join(", "));
    if let Some(p) = suggested {
        message += &format!(": consider {} (multilingual)", p.id);
    }
    Some(LanguageAdvice {
        message,
        suggested_model: suggested.map(|p| p.id.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENGLISH: &str =
        "The application crashes every time I try to open the settings page after the update.";
    const GERMAN: &str =
        "Die Anwendung stürzt jedes Mal ab, wenn ich nach dem Update die Einstellungen öffnen möchte.";
    const FRENCH: &str =
        "L'application se ferme chaque fois que j'essaie d'ouvrir la page des paramètres après la mise à jour.";
    const SPANISH: &str =
        "La aplicación se cierra cada vez que intento abrir la página de configuración después de la actualización.";
    const MINILM: &str = "sentence-transformers/all-MiniLM-L6-v2";
    const E5: &str = "intfloat/multilingual-e5-small";

    fn tiny_model() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/golden/bert/model")
    }

    fn preset_model(id: &str) -> Option<ChosenModel<'_>> {
        Some(ChosenModel { id, folder: None })
    }

    #[test]
    fn unknown_tokens_and_pieces_per_word_with_the_tiny_vocabulary() {
        let encoder = TextEncoder::load(&tiny_model(), WHOLE_SAMPLE).unwrap();
        // click ##ed · the · button ##s · "," · [UNK] (no "##e…" after "z")
        // update ##s ##ing · app
        let fit =
            vocabulary_fit(&encoder, &["clicked the buttons, zebra", "updatesing app"]).unwrap();
        assert_eq!(fit.tokens, 11);
        assert!((fit.unknown_share - 1.0 / 11.0).abs() < 1e-12, "{fit:?}");
        // Six words with a letter (the comma is none) in 2 + 1 + 2 + 1 + 3 + 1 pieces.
        assert_eq!(fit.words, 6);
        assert!((fit.pieces_per_word - 10.0 / 6.0).abs() < 1e-12, "{fit:?}");
        assert!((fit.split_share - 1.0 / 6.0).abs() < 1e-12, "{fit:?}");
        assert_eq!(fit.verdict, VocabularyVerdict::Poor);

        let fit = vocabulary_fit(&encoder, &["the app crashes when i click login"]).unwrap();
        assert_eq!((fit.tokens, fit.words), (7, 7));
        assert_eq!(fit.unknown_share, 0.0);
        assert_eq!(fit.pieces_per_word, 1.0);
        assert_eq!(fit.verdict, VocabularyVerdict::Good);
    }

    #[test]
    fn languages_of_clear_sentences_are_told() {
        let r = language_report(&[ENGLISH, GERMAN, FRENCH, SPANISH, "ok"], None).unwrap();
        assert_eq!(r.rows_sampled, 5);
        assert_eq!(r.undetermined, 1, "{r:?}");
        let mut codes: Vec<&str> = r.languages.iter().map(|l| l.code.as_str()).collect();
        codes.sort();
        assert_eq!(codes, ["deu", "eng", "fra", "spa"], "{r:?}");
        assert!(r.languages.iter().all(|l| l.rows == 1 && l.share == 0.25));
        let german = r.languages.iter().find(|l| l.code == "deu").unwrap();
        assert_eq!(german.name, "German");
        assert_eq!(r.not_english, 0.75);
        // No model chosen: nothing about one.
        assert_eq!(
            (r.model, r.vocabulary, r.vocabulary_note),
            (None, None, None)
        );
        assert_eq!(r.advice, None);
    }

    #[test]
    fn non_english_tickets_and_an_english_model_get_advice() {
        let texts = [ENGLISH, GERMAN, GERMAN, FRENCH];
        let r = language_report(&texts, preset_model(MINILM)).unwrap();
        let advice = r.advice.expect("advice for an English-only model");
        assert_eq!(advice.suggested_model.as_deref(), Some(E5));
        assert_eq!(
            advice.message,
            "75% of the tickets are German, French; all-MiniLM-L6-v2 was pre-trained on \
             English only: consider intfloat/multilingual-e5-small (multilingual)"
        );
        let model = r.model.unwrap();
        assert_eq!(
            (model.languages, model.source),
            (Some(Languages::English), LanguageSource::Preset)
        );
        // Not on this machine: the vocabulary is not measured, and the report says so.
        assert_eq!(r.vocabulary, None);
        assert!(r
            .vocabulary_note
            .unwrap()
            .contains("once the model is on this machine"));
    }

    #[test]
    fn english_tickets_or_a_multilingual_model_get_none() {
        let english = [
            ENGLISH,
            ENGLISH,
            "Please add a dark mode to the mobile app, my eyes hurt at night.",
        ];
        let r = language_report(&english, preset_model(MINILM)).unwrap();
        assert_eq!(r.not_english, 0.0);
        assert_eq!(r.advice, None);
        let r = language_report(&[GERMAN, FRENCH, SPANISH], preset_model(E5)).unwrap();
        assert_eq!(r.not_english, 1.0);
        assert_eq!(r.advice, None);
        // Under the share that gets advice: one German ticket in eleven.
        let mut few = vec![ENGLISH; 10];
        few.push(GERMAN);
        assert_eq!(
            language_report(&few, preset_model(MINILM)).unwrap().advice,
            None
        );
    }

    #[test]
    fn a_model_of_unknown_languages_gets_advice_from_its_measured_fit() {
        let dir = tiny_model();
        let id = dir.to_str().unwrap();
        let model = Some(ChosenModel {
            id,
            folder: Some(&dir),
        });
        let r = language_report(&[GERMAN, FRENCH, SPANISH], model).unwrap();
        let m = r.model.unwrap();
        assert_eq!((m.languages, m.source), (None, LanguageSource::Unknown));
        let fit = r.vocabulary.unwrap();
        assert_eq!(fit.verdict, VocabularyVerdict::Poor);
        let advice = r.advice.expect("advice from the poor fit");
        assert!(
            advice
                .message
                .contains("model's vocabulary fits them poorly"),
            "{}",
            advice.message
        );
        assert_eq!(advice.suggested_model.as_deref(), Some(E5));
    }

    #[test]
    fn a_models_languages_are_read_from_its_config_or_name() {
        let dir = tempfile::tempdir().unwrap();
        let config = |json: &str| std::fs::write(dir.path().join("config.json"), json).unwrap();
        config(r#"{"model_type": "xlm-roberta", "vocab_size": 250002}"#);
        let m = model_languages("my-model", Some(dir.path()));
        assert_eq!(
            (m.languages, m.source),
            (Some(Languages::Multilingual), LanguageSource::Inferred)
        );
        assert!(m.basis.contains("xlm-roberta"), "{}", m.basis);
        config(r#"{"model_type": "bert", "vocab_size": 119547}"#);
        let m = model_languages("my-model", Some(dir.path()));
        assert_eq!(m.languages, Some(Languages::Multilingual));
        assert!(m.basis.contains("119547 entries"), "{}", m.basis);
        config(r#"{"model_type": "bert", "vocab_size": 30522}"#);
        assert_eq!(
            model_languages("my-model", Some(dir.path())).source,
            LanguageSource::Unknown
        );
        let named = model_languages("google-bert/bert-base-multilingual-cased", None);
        assert_eq!(named.languages, Some(Languages::Multilingual));
        assert_eq!(model_languages(E5, None).source, LanguageSource::Preset);
    }

    #[test]
    fn the_sample_is_every_kth_row_cut_at_a_character_limit() {
        let texts: Vec<String> = (0..5_000).map(|i| i.to_string()).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let picked = sample(&refs);
        assert_eq!(picked.len(), SAMPLE_ROWS);
        assert_eq!(&picked[..4], ["0", "2", "5", "7"]);
        assert_eq!(picked[SAMPLE_ROWS - 1], "4997");
        let long = "é".repeat(SAMPLE_CHARS + 10);
        assert_eq!(sample(&[long.as_str()])[0].chars().count(), SAMPLE_CHARS);
    }
}
