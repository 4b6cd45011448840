//! The model's own tokenizer: `tokenizer.json` (BERT's WordPiece, RoBERTa's byte-level
//! BPE, XLM-R's SentencePiece Unigram: special tokens from its post-processor), a BERT
//! WordPiece tokenizer built from `vocab.txt`, or DeBERTa's converted from `spm.model`
//! (saved as tokenizer.json beside the model); truncation at the chosen max length
//! (keeping the closing special token); padding per batch with the tokenizer's pad id.

use super::sentencepiece::{deberta_tokenizer, DebertaOptions, SENTENCEPIECE};
use super::Batch;
use crate::atomic::write_atomic;
use crate::error::{EngineError, Result};
use candle_core::{Device, Tensor};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use tokenizers::{
    decoders::wordpiece::WordPiece as WordPieceDecoder, models::wordpiece::WordPiece,
    normalizers::bert::BertNormalizer, pre_tokenizers::bert::BertPreTokenizer,
    processors::bert::BertProcessing, Tokenizer, TruncationParams,
};

/// Token ids of one text (with special tokens), not padded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub ids: Vec<u32>,
    pub type_ids: Vec<u32>,
    /// Whether truncation cut the text.
    pub truncated: bool,
}

/// Tokenizer files copied next to a saved model when present.
const TOKENIZER_FILES: [&str; 4] = [
    "tokenizer.json",
    "vocab.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
];

/// Texts tokenised between two cancel checks (large enough to keep every core busy).
const ENCODE_CHUNK: usize = 2048;

/// Turns texts into truncated token ids with the model's own tokenizer.
pub struct TextEncoder {
    tokenizer: Tokenizer,
    max_length: usize,
    pad_id: u32,
    source: PathBuf,
}

impl TextEncoder {
    /// Load the tokenizer of the model folder `dir`, truncating at `max_length` tokens.
    pub fn load(dir: &Path, max_length: usize) -> Result<Self> {
        if max_length < 2 {
            return Err(EngineError::Config(format!(
                "max length must be at least 2, got {max_length}"
            )));
        }
        let json = dir.join("tokenizer.json");
        let vocab = dir.join("vocab.txt");
        let spm = dir.join(SENTENCEPIECE);
        let mut tokenizer = if json.is_file() {
            Tokenizer::from_file(&json).map_err(|e| {
                EngineError::Tokenizer(format!("cannot read {}: {e}", json.display()))
            })?
        } else if vocab.is_file() {
            wordpiece_from_vocab(dir, &vocab)?
        } else if spm.is_file() {
            let options = DebertaOptions {
                do_lower_case: config_flag(dir, "do_lower_case").unwrap_or(false),
                split_by_punct: config_flag(dir, "split_by_punct").unwrap_or(false),
                add_prefix_space: config_flag(dir, "add_prefix_space").unwrap_or(true),
            };
            deberta_tokenizer(&spm, options)?
        } else {
            return Err(EngineError::model(
                dir.display().to_string(),
                "no tokenizer: expected tokenizer.json, vocab.txt or spm.model in the folder",
            ));
        };
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length,
                ..Default::default()
            }))
            .map_err(|e| EngineError::Tokenizer(e.to_string()))?;
        // The tokenizer's own padding settings name its pad id; else its pad token.
        let pad_id = tokenizer
            .get_padding()
            .map(|p| p.pad_id)
            .or_else(|| {
                ["[PAD]", "<pad>"]
                    .iter()
                    .find_map(|t| tokenizer.token_to_id(t))
            })
            .unwrap_or(0);
        tokenizer.with_padding(None);
        Ok(Self {
            tokenizer,
            max_length,
            pad_id,
            source: dir.to_path_buf(),
        })
    }

    /// The truncation length in tokens.
    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// Tokenise texts (special tokens added, truncated, not padded).
    pub fn encode(&self, texts: &[String]) -> Result<Vec<Encoded>> {
        let inputs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let encodings = self
            .tokenizer
            .encode_batch(inputs, true)
            .map_err(|e| EngineError::Tokenizer(e.to_string()))?;
        Ok(encodings
            .into_iter()
            .map(|e| Encoded {
                ids: e.get_ids().to_vec(),
                type_ids: e.get_type_ids().to_vec(),
                truncated: !e.get_overflowing().is_empty(),
            })
            .collect())
    }

    /// One text tokenised as [`Self::encode`] does, with the tokenizer's word ids and
    /// byte offsets of each token (for explaining a prediction word by word).
    pub(crate) fn encode_words(&self, text: &str) -> Result<tokenizers::Encoding> {
        self.tokenizer
            .encode(text, true)
            .map_err(|e| EngineError::Tokenizer(e.to_string()))
    }

    /// [`Self::encode`] in chunks, checking `cancel` before each: `None` once it is
    /// set, so tokenising a large file stops promptly.
    pub fn encode_cancellable(
        &self,
        texts: &[String],
        cancel: &AtomicBool,
    ) -> Result<Option<Vec<Encoded>>> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(ENCODE_CHUNK) {
            if cancel.load(Ordering::Relaxed) {
                return Ok(None);
            }
            out.extend(self.encode(chunk)?);
        }
        Ok(Some(out))
    }

    /// Token counts of texts without truncation (to measure how much truncation cuts).
    pub fn token_counts(&self, texts: &[String]) -> Result<Vec<usize>> {
        let mut t = self.tokenizer.clone();
        t.with_truncation(None)
            .map_err(|e| EngineError::Tokenizer(e.to_string()))?;
        let inputs: Vec<&str> = texts.iter().map(String::as_str).collect();
        Ok(t.encode_batch(inputs, true)
            .map_err(|e| EngineError::Tokenizer(e.to_string()))?
            .iter()
            .map(|e| e.len())
            .collect())
    }

    /// Pad `items` to the longest one and move them to `device`.
    pub fn collate(&self, items: &[&Encoded], device: &Device) -> Result<Batch> {
        let len = items.iter().map(|e| e.ids.len()).max().unwrap_or(1).max(1);
        let n = items.len();
        let mut ids = vec![self.pad_id; n * len];
        let mut mask = vec![0u32; n * len];
        let mut types = vec![0u32; n * len];
        for (row, e) in items.iter().enumerate() {
            let base = row * len;
            ids[base..base + e.ids.len()].copy_from_slice(&e.ids);
            mask[base..base + e.ids.len()].fill(1);
            types[base..base + e.type_ids.len()].copy_from_slice(&e.type_ids);
        }
        Ok(Batch {
            input_ids: Tensor::from_vec(ids, (n, len), device)?,
            attention_mask: Tensor::from_vec(mask, (n, len), device)?,
            token_type_ids: Tensor::from_vec(types, (n, len), device)?,
            offsets: None,
        })
    }

    /// `items` one after the other without padding, as one `(1, tokens)` sequence with
    /// the rows' boundaries (a padding-free batch, for the CPU: no work goes to
    /// padding, whatever the rows' lengths).
    pub fn collate_packed(&self, items: &[&Encoded], device: &Device) -> Result<Batch> {
        let mut offsets = Vec::with_capacity(items.len() + 1);
        offsets.push(0);
        let (mut ids, mut types) = (Vec::new(), Vec::new());
        for e in items {
            ids.extend_from_slice(&e.ids);
            types.extend_from_slice(&e.type_ids);
            types.resize(ids.len(), 0);
            offsets.push(ids.len());
        }
        let n = ids.len();
        Ok(Batch {
            input_ids: Tensor::from_vec(ids, (1, n), device)?,
            attention_mask: Tensor::ones((1, n), candle_core::DType::U32, device)?,
            token_type_ids: Tensor::from_vec(types, (1, n), device)?,
            offsets: Some(offsets),
        })
    }

    /// Write the tokenizer files into a model folder (copies of the originals; a
    /// `tokenizer.json` is generated when the source only had `vocab.txt`).
    pub fn save(&self, dir: &Path) -> Result<()> {
        for name in TOKENIZER_FILES {
            let from = self.source.join(name);
            if from.is_file() && self.source != dir {
                let bytes = std::fs::read(&from).map_err(|e| EngineError::io(&from, e))?;
                write_atomic(&dir.join(name), &bytes)?;
            }
        }
        let json = dir.join("tokenizer.json");
        if !json.is_file() {
            let mut plain = self.tokenizer.clone();
            plain
                .with_truncation(None)
                .map_err(|e| EngineError::Tokenizer(e.to_string()))?;
            let text = plain
                .to_string(true)
                .map_err(|e| EngineError::Tokenizer(e.to_string()))?;
            write_atomic(&json, text.as_bytes())?;
        }
        Ok(())
    }
}

/// The boolean `name` of the folder's tokenizer_config.json, if it has one.
fn config_flag(dir: &Path, name: &str) -> Option<bool> {
    std::fs::read_to_string(dir.join("tokenizer_config.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get(name).and_then(|b| b.as_bool()))
}

fn wordpiece_from_vocab(dir: &Path, vocab: &Path) -> Result<Tokenizer> {
    let lowercase = config_flag(dir, "do_lower_case").unwrap_or(true);
    let vocab_str = vocab.display().to_string();
    let model = WordPiece::from_file(&vocab_str)
        .unk_token("[UNK]".into())
        .build()
        .map_err(|e| EngineError::Tokenizer(format!("cannot read {vocab_str}: {e}")))?;
    let mut tokenizer = Tokenizer::new(model);
    let special = |t: &str| {
        tokenizer
            .token_to_id(t)
            .ok_or_else(|| EngineError::Tokenizer(format!("{vocab_str} has no {t} token")))
    };
    let (cls, sep) = (special("[CLS]")?, special("[SEP]")?);
    tokenizer
        .with_normalizer(Some(BertNormalizer::new(true, true, None, lowercase)))
        .map_err(|e| EngineError::Tokenizer(e.to_string()))?
        .with_pre_tokenizer(Some(BertPreTokenizer))
        .with_post_processor(Some(BertProcessing::new(
            ("[SEP]".into(), sep),
            ("[CLS]".into(), cls),
        )))
        .with_decoder(Some(WordPieceDecoder::default()));
    Ok(tokenizer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoder() -> TextEncoder {
        let dir =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/golden/distilbert/model");
        TextEncoder::load(&dir, 16).unwrap()
    }

    #[test]
    fn cancellable_encoding_matches_encode_and_stops_when_cancelled() {
        let encoder = encoder();
        let texts: Vec<String> = (0..ENCODE_CHUNK + 5)
            .map(|i| format!("please add dark mode {i}"))
            .collect();
        let running = AtomicBool::new(false);
        let all = encoder.encode_cancellable(&texts, &running).unwrap();
        assert_eq!(all, Some(encoder.encode(&texts).unwrap()));
        let cancelled = AtomicBool::new(true);
        assert_eq!(
            encoder.encode_cancellable(&texts, &cancelled).unwrap(),
            None
        );
    }
}
