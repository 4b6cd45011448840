//! Why a ticket gets its class: each word's effect on every class's probability,
//! measured by deleting the word (occlusion). A word is what a reader calls one: a run
//! of text without spaces ("don't", "crash?", a URL), except that CJK ideographs, which
//! are written without spaces, are words of their own, and a scrubbed value's
//! placeholder is one word. Deleting a word removes all its subword tokens from the one
//! tokenisation of the text, and every such variant runs through the predictor's own
//! batched forward pass (int8 when it predicts in int8). The scores are exact for the
//! model: each is what deleting that word does to its output.

use crate::error::{EngineError, Result};
use crate::inference::argmax;
use crate::model::tokenize::Encoded;
use crate::pii::PiiKind;
use crate::predict::Predictor;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use tokenizers::Encoding;

/// What each word of a ticket did to every class's probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    /// The model's classes, in the order of every per-class list here.
    pub labels: Vec<String>,
    /// Index of the predicted class (the most probable).
    pub predicted: usize,
    /// Each class's probability for the whole text, as [`Predictor::predict`] gives it.
    pub probabilities: Vec<f32>,
    /// The text the model read (personal data already replaced by placeholders when the
    /// model scrubs it) cut into words and the text between them: joined in order, the
    /// pieces' texts give it back exactly.
    pub pieces: Vec<TextPiece>,
    /// The scored words, in text order.
    pub words: Vec<WordScore>,
    /// Whether the text is longer than the model reads: the last piece is then `cut`,
    /// and its words have no score.
    pub truncated: bool,
}

/// A stretch of the explained text: one word, or the text between words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct TextPiece {
    pub text: String,
    /// The word it is (an index into [`Explanation::words`]); `None` between words.
    pub word: Option<usize>,
    /// Past the model's max length: the model never read it.
    pub cut: bool,
}

/// One word and what deleting it does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct WordScore {
    pub text: String,
    /// Per class: `ln p(class | text) − ln p(class | text without the word)`. Positive:
    /// the word pushed the ticket toward the class; negative: away from it.
    pub scores: Vec<f32>,
    /// Per class: the probability with the word deleted.
    pub probabilities_without: Vec<f32>,
}

impl Explanation {
    /// Word indices by their score for `class`, the one pushing most toward it first
    /// and the one pushing most away from it last (ties in text order).
    pub fn ranked(&self, class: usize) -> Vec<usize> {
        let score = |w: usize| self.words[w].scores.get(class).copied().unwrap_or(f32::NAN);
        let mut order: Vec<usize> = (0..self.words.len()).collect();
        order.sort_by(|&a, &b| score(b).total_cmp(&score(a)));
        order
    }
}

impl Predictor {
    /// Why `text` gets its class: every word's score for every class (see
    /// [`WordScore::scores`]), from one forward pass per word plus one for the whole
    /// text, batched. The text is scrubbed as [`Predictor::predict`] scrubs it, and
    /// words past the model's max length are not scored. A text without words gives
    /// an explanation without words. Refused for a multi-label model (the scores
    /// are softmax probabilities of one class).
    pub fn explain(&self, text: &str) -> Result<Explanation> {
        self.refuse_multi_label("an explanation (which words push a ticket to its one class)")?;
        let (clean, placeholders) = match self.text_spec().filter(|t| !t.scrub.is_empty()) {
            Some(spec) => {
                let clean = spec.clean(text);
                let spans = placeholder_spans(&clean, &spec.scrub);
                (clean, spans)
            }
            None => (Cow::Borrowed(text), Vec::new()),
        };
        let encoding = self.encoder().encode_words(&clean)?;
        let truncated = !encoding.get_overflowing().is_empty();
        let words = words_of(&clean, &encoding, &placeholders);
        let whole = Encoded {
            ids: encoding.get_ids().to_vec(),
            type_ids: encoding.get_type_ids().to_vec(),
            truncated,
        };
        let rows: Vec<Encoded> = words
            .iter()
            .map(|w| without(&whole, &w.tokens))
            .chain(std::iter::once(whole.clone()))
            .collect();
        let temperature = self.temperature();
        let mut log_probs: Vec<Vec<f64>> = self
            .logits(&rows)?
            .iter()
            .map(|row| log_probabilities(row, temperature))
            .collect();
        let full = log_probs
            .pop()
            .ok_or_else(|| EngineError::Internal("no logits for the explained text".into()))?;
        let probabilities: Vec<f32> = full.iter().map(|lp| lp.exp() as f32).collect();
        let scores = words
            .iter()
            .zip(&log_probs)
            .map(|(w, without)| WordScore {
                text: clean[w.start..w.end].to_string(),
                scores: full
                    .iter()
                    .zip(without)
                    .map(|(a, b)| (a - b) as f32)
                    .collect(),
                probabilities_without: without.iter().map(|lp| lp.exp() as f32).collect(),
            })
            .collect();
        Ok(Explanation {
            labels: self.labels().to_vec(),
            predicted: argmax(&probabilities),
            probabilities,
            pieces: pieces(&clean, &words, truncated),
            words: scores,
            truncated,
        })
    }
}

/// A word of the encoding: its token positions and its byte span in the text.
#[derive(Debug, Clone, PartialEq)]
struct Word {
    tokens: Vec<usize>,
    start: usize,
    end: usize,
}

/// What groups tokens into a word.
#[derive(Clone, Copy, PartialEq)]
enum WordKey {
    /// The tokenizer's word id.
    Word(u32),
    /// A token without a word id: a word of its own.
    Token(usize),
    /// Inside the n-th placeholder: the whole placeholder is one word.
    Placeholder(usize),
}

/// The encoding's words in text order (special tokens left out), each span on char
/// boundaries of `text`, after the previous word's and never overlapping it. Tokens
/// of one tokenizer word, of one placeholder, or with no space between them (unless a
/// CJK ideograph is on either side) make one word.
fn words_of(text: &str, encoding: &Encoding, placeholders: &[(usize, usize)]) -> Vec<Word> {
    let special = encoding.get_special_tokens_mask();
    let word_ids = encoding.get_word_ids();
    let mut words: Vec<Word> = Vec::new();
    let mut last_key = None;
    for (i, &(start, end)) in encoding.get_offsets().iter().enumerate() {
        if special.get(i).is_some_and(|&s| s == 1) {
            continue;
        }
        let key = match placeholders
            .iter()
            .position(|&(s, e)| s <= start && start < e)
        {
            Some(p) => WordKey::Placeholder(p),
            None => word_ids
                .get(i)
                .copied()
                .flatten()
                .map_or(WordKey::Token(i), WordKey::Word),
        };
        let floor = words.last().map_or(0, |w| w.end);
        let placeholder = |k: Option<WordKey>| matches!(k, Some(WordKey::Placeholder(_)));
        let joins = |word: &Word| {
            last_key == Some(key)
                || (start <= word.end
                    && !placeholder(last_key)
                    && !placeholder(Some(key))
                    && !text[..word.end].chars().next_back().is_some_and(is_cjk)
                    && !text[text.floor_char_boundary(start)..]
                        .chars()
                        .next()
                        .is_some_and(is_cjk))
        };
        match words.last_mut() {
            Some(word) if joins(word) => {
                word.tokens.push(i);
                word.end = text.ceil_char_boundary(end).max(word.end);
            }
            _ => {
                let start = text.floor_char_boundary(start).max(floor);
                words.push(Word {
                    tokens: vec![i],
                    start,
                    end: text.ceil_char_boundary(end).max(start),
                });
            }
        }
        last_key = Some(key);
    }
    words
}

/// A CJK ideograph: BERT's tokenizer makes each a word, as it reads text written
/// without spaces (the ranges of its `_is_chinese_char`).
fn is_cjk(c: char) -> bool {
    matches!(
        c as u32,
        0x4E00..=0x9FFF
            | 0x3400..=0x4DBF
            | 0x20000..=0x2A6DF
            | 0x2A700..=0x2B73F
            | 0x2B740..=0x2B81F
            | 0x2B820..=0x2CEAF
            | 0xF900..=0xFAFF
            | 0x2F800..=0x2FA1F
    )
}

/// `text` cut at `words` (spans in order, not overlapping): the words and the text
/// between them; what follows the last word is `cut` when the text was truncated.
fn pieces(text: &str, words: &[Word], truncated: bool) -> Vec<TextPiece> {
    let mut pieces = Vec::with_capacity(2 * words.len() + 1);
    let mut at = 0;
    for (i, w) in words.iter().enumerate() {
        if w.start > at {
            pieces.push(TextPiece {
                text: text[at..w.start].to_string(),
                word: None,
                cut: false,
            });
        }
        pieces.push(TextPiece {
            text: text[w.start..w.end].to_string(),
            word: Some(i),
            cut: false,
        });
        at = w.end;
    }
    if at < text.len() {
        pieces.push(TextPiece {
            text: text[at..].to_string(),
            word: None,
            cut: truncated,
        });
    }
    pieces
}

/// Byte spans of the placeholders of `kinds` in `text`, in text order.
fn placeholder_spans(text: &str, kinds: &[PiiKind]) -> Vec<(usize, usize)> {
    let mut spans: Vec<(usize, usize)> = kinds
        .iter()
        .flat_map(|k| {
            let p = k.placeholder();
            text.match_indices(p).map(|(at, _)| (at, at + p.len()))
        })
        .collect();
    spans.sort_unstable();
    spans
}

/// `whole` without the tokens at `positions` (ascending).
fn without(whole: &Encoded, positions: &[usize]) -> Encoded {
    let keep = |i: &usize| positions.binary_search(i).is_err();
    let pick = |values: &[u32]| -> Vec<u32> {
        values
            .iter()
            .enumerate()
            .filter(|(i, _)| keep(i))
            .map(|(_, &v)| v)
            .collect()
    };
    Encoded {
        ids: pick(&whole.ids),
        type_ids: pick(&whole.type_ids),
        truncated: whole.truncated,
    }
}

/// `ln softmax(logits / temperature)` in f64 (no underflow for unlikely classes).
fn log_probabilities(logits: &[f32], temperature: f64) -> Vec<f64> {
    let scaled: Vec<f64> = logits.iter().map(|&z| z as f64 / temperature).collect();
    let max = scaled.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let log_sum = max + scaled.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
    scaled.iter().map(|v| v - log_sum).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(tokens: &[usize], start: usize, end: usize) -> Word {
        Word {
            tokens: tokens.to_vec(),
            start,
            end,
        }
    }

    #[test]
    fn pieces_join_to_the_text_with_gaps_and_a_cut_tail() {
        let text = "  née, ok  and more";
        let words = [word(&[1], 2, 6), word(&[2], 6, 7), word(&[3], 8, 10)];
        let got = pieces(text, &words, true);
        let texts: Vec<&str> = got.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(texts, ["  ", "née", ",", " ", "ok", "  and more"]);
        let joined: String = texts.concat();
        assert_eq!(joined, text);
        let ids: Vec<Option<usize>> = got.iter().map(|p| p.word).collect();
        assert_eq!(ids, [None, Some(0), Some(1), None, Some(2), None]);
        assert!(got[5].cut && got[..5].iter().all(|p| !p.cut));
        // Not truncated: the tail is ordinary text between words.
        assert!(!pieces(text, &words, false)[5].cut);
    }

    #[test]
    fn deleting_a_word_removes_exactly_its_tokens() {
        let whole = Encoded {
            ids: vec![2, 10, 11, 12, 13, 3],
            type_ids: vec![0, 0, 0, 0, 1, 0],
            truncated: false,
        };
        let cut = without(&whole, &[2, 3]);
        assert_eq!(cut.ids, [2, 10, 13, 3]);
        assert_eq!(cut.type_ids, [0, 0, 1, 0]);
    }

    #[test]
    fn log_probabilities_are_the_tempered_softmax_and_survive_extreme_logits() {
        let logits = [2.0f32, -1.0, 0.5];
        let p = crate::calibration::tempered_softmax(&logits, 1.7);
        for (lp, p) in log_probabilities(&logits, 1.7).iter().zip(&p) {
            assert!((lp.exp() - p).abs() < 1e-12);
        }
        let far = log_probabilities(&[0.0, -2000.0], 1.0);
        assert!(far[1].is_finite() && (far[1] + 2000.0).abs() < 1e-9);
    }

    #[test]
    fn ranked_puts_the_strongest_push_toward_a_class_first() {
        let w = |scores: [f32; 2]| WordScore {
            text: String::new(),
            scores: scores.to_vec(),
            probabilities_without: vec![0.5, 0.5],
        };
        let e = Explanation {
            labels: vec!["a".into(), "b".into()],
            predicted: 0,
            probabilities: vec![0.5, 0.5],
            pieces: Vec::new(),
            words: vec![
                w([0.1, -0.1]),
                w([-0.4, 0.4]),
                w([0.9, -0.9]),
                w([0.1, 0.0]),
            ],
            truncated: false,
        };
        assert_eq!(e.ranked(0), [2, 0, 3, 1]);
        assert_eq!(e.ranked(1), [1, 3, 0, 2]);
    }
}
