//! SentencePiece models (`spm.model`, as DeBERTa-v2/v3 ship them) read without Python:
//! the protobuf `ModelProto` ([`SentencePieceModel::read`]) turned into the same
//! `tokenizers::Tokenizer` that transformers' `DebertaV2Converter` builds
//! ([`deberta_tokenizer`]), so saving it gives a `tokenizer.json` transformers loads.

mod wire;

use crate::error::{EngineError, Result};
use std::path::Path;
use tokenizers::{
    decoders::metaspace::Metaspace as MetaspaceDecoder,
    models::unigram::Unigram,
    normalizers::{Lowercase, Precompiled, Replace, Sequence, Strip},
    pre_tokenizers::{
        metaspace::{Metaspace, PrependScheme},
        punctuation::Punctuation,
        sequence::Sequence as PreTokenizerSequence,
    },
    processors::template::TemplateProcessing,
    AddedToken, NormalizerWrapper, PreTokenizerWrapper, SplitDelimiterBehavior, Tokenizer,
};
use wire::{Reader, Value, WireError};

/// What a piece is for (`SentencePiece.Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PieceKind {
    Normal,
    Unknown,
    Control,
    UserDefined,
    Unused,
    Byte,
}

/// One vocabulary entry: its text, log-probability score and kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub piece: String,
    pub score: f32,
    pub kind: PieceKind,
}

/// The segmentation algorithm a model was trained with (`TrainerSpec.model_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelType {
    Unigram,
    Bpe,
    Word,
    Char,
}

/// The parts of a SentencePiece `ModelProto` a conversion needs.
#[derive(Debug, Clone, PartialEq)]
pub struct SentencePieceModel {
    /// The vocabulary; a piece's id is its index.
    pub pieces: Vec<Piece>,
    pub model_type: ModelType,
    /// Id of the unknown piece.
    pub unk_id: usize,
    /// The normaliser's compiled character map (empty for the identity rule).
    pub precompiled_charsmap: Vec<u8>,
}

/// Field numbers of `ModelProto` and its messages (sentencepiece_model.proto).
mod field {
    pub const PIECES: u32 = 1;
    pub const TRAINER_SPEC: u32 = 2;
    pub const NORMALIZER_SPEC: u32 = 3;
    pub const PIECE_TEXT: u32 = 1;
    pub const PIECE_SCORE: u32 = 2;
    pub const PIECE_TYPE: u32 = 3;
    pub const MODEL_TYPE: u32 = 3;
    pub const UNK_ID: u32 = 40;
    pub const PRECOMPILED_CHARSMAP: u32 = 2;
}

/// Why the bytes are not a SentencePiece model.
#[derive(Debug, thiserror::Error)]
enum ProtoError {
    #[error(transparent)]
    Wire(#[from] WireError),
    #[error("field {field} of {message} has the wrong wire type")]
    WireType { field: u32, message: &'static str },
    #[error("piece {index} is not UTF-8 text")]
    NotText { index: usize },
    #[error("piece {index} has unknown type {kind}")]
    PieceKind { index: usize, kind: u64 },
    #[error("unknown model type {0}")]
    ModelType(u64),
    #[error("unk_id {0} is negative")]
    UnkId(i64),
}

impl SentencePieceModel {
    /// Read the SentencePiece model file at `path`.
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| EngineError::io(path, e))?;
        Self::parse(&bytes).map_err(|e| malformed(path, e))
    }

    fn parse(bytes: &[u8]) -> std::result::Result<Self, ProtoError> {
        let mut model = Self {
            pieces: Vec::new(),
            model_type: ModelType::Unigram,
            unk_id: 0,
            precompiled_charsmap: Vec::new(),
        };
        let mut reader = Reader::new(bytes);
        while let Some((number, value)) = reader.next_field()? {
            match number {
                field::PIECES => {
                    let index = model.pieces.len();
                    model
                        .pieces
                        .push(parse_piece(message(value, number, "ModelProto")?, index)?);
                }
                field::TRAINER_SPEC => {
                    model.parse_trainer_spec(message(value, number, "ModelProto")?)?
                }
                field::NORMALIZER_SPEC => {
                    model.parse_normalizer_spec(message(value, number, "ModelProto")?)?
                }
                _ => {}
            }
        }
        Ok(model)
    }

    fn parse_trainer_spec(&mut self, bytes: &[u8]) -> std::result::Result<(), ProtoError> {
        const NAME: &str = "TrainerSpec";
        let mut reader = Reader::new(bytes);
        while let Some((number, value)) = reader.next_field()? {
            match number {
                field::MODEL_TYPE => {
                    self.model_type = match varint(value, number, NAME)? {
                        1 => ModelType::Unigram,
                        2 => ModelType::Bpe,
                        3 => ModelType::Word,
                        4 => ModelType::Char,
                        other => return Err(ProtoError::ModelType(other)),
                    }
                }
                field::UNK_ID => {
                    // int32: negative values arrive sign-extended to 64 bits.
                    let id = varint(value, number, NAME)? as i64;
                    self.unk_id = usize::try_from(id).map_err(|_| ProtoError::UnkId(id))?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn parse_normalizer_spec(&mut self, bytes: &[u8]) -> std::result::Result<(), ProtoError> {
        let mut reader = Reader::new(bytes);
        while let Some((number, value)) = reader.next_field()? {
            if number == field::PRECOMPILED_CHARSMAP {
                self.precompiled_charsmap = message(value, number, "NormalizerSpec")?.to_vec();
            }
        }
        Ok(())
    }

    /// The id of the piece spelled `text`, if any.
    fn id_of(&self, text: &str) -> Option<u32> {
        let index = self.pieces.iter().position(|p| p.piece == text)?;
        u32::try_from(index).ok()
    }
}

fn parse_piece(bytes: &[u8], index: usize) -> std::result::Result<Piece, ProtoError> {
    const NAME: &str = "SentencePiece";
    let mut piece = Piece {
        piece: String::new(),
        score: 0.0,
        kind: PieceKind::Normal,
    };
    let mut reader = Reader::new(bytes);
    while let Some((number, value)) = reader.next_field()? {
        match (number, value) {
            (field::PIECE_TEXT, Value::Bytes(text)) => {
                piece.piece = std::str::from_utf8(text)
                    .map_err(|_| ProtoError::NotText { index })?
                    .to_string();
            }
            (field::PIECE_SCORE, Value::Fixed32(bits)) => piece.score = f32::from_bits(bits),
            (field::PIECE_TYPE, Value::Varint(kind)) => {
                piece.kind = match kind {
                    1 => PieceKind::Normal,
                    2 => PieceKind::Unknown,
                    3 => PieceKind::Control,
                    4 => PieceKind::UserDefined,
                    5 => PieceKind::Unused,
                    6 => PieceKind::Byte,
                    kind => return Err(ProtoError::PieceKind { index, kind }),
                }
            }
            (field::PIECE_TEXT | field::PIECE_SCORE | field::PIECE_TYPE, _) => {
                return Err(ProtoError::WireType {
                    field: number,
                    message: NAME,
                })
            }
            _ => {}
        }
    }
    Ok(piece)
}

/// The bytes of a length-delimited field (an embedded message, a string, bytes).
fn message<'a>(
    value: Value<'a>,
    field: u32,
    message: &'static str,
) -> std::result::Result<&'a [u8], ProtoError> {
    match value {
        Value::Bytes(bytes) => Ok(bytes),
        _ => Err(ProtoError::WireType { field, message }),
    }
}

fn varint(
    value: Value<'_>,
    field: u32,
    message: &'static str,
) -> std::result::Result<u64, ProtoError> {
    match value {
        Value::Varint(v) => Ok(v),
        _ => Err(ProtoError::WireType { field, message }),
    }
}

fn malformed(path: &Path, error: impl std::fmt::Display) -> EngineError {
    EngineError::Model {
        model: path.display().to_string(),
        message: format!("not a readable SentencePiece model: {error}"),
    }
}

/// `tokenizer_config.json` settings that change DeBERTa's tokenizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DebertaOptions {
    pub do_lower_case: bool,
    pub split_by_punct: bool,
    pub add_prefix_space: bool,
}

impl Default for DebertaOptions {
    /// `DebertaV2Tokenizer`'s defaults.
    fn default() -> Self {
        Self {
            do_lower_case: false,
            split_by_punct: false,
            add_prefix_space: true,
        }
    }
}

/// The SentencePiece file DeBERTa-v2/v3 checkpoints ship instead of tokenizer.json.
pub const SENTENCEPIECE: &str = "spm.model";

/// DeBERTa's special tokens: the spm pieces `[PAD]`, `[CLS]`, `[SEP]`, `[UNK]`, then
/// `[MASK]`, which transformers adds after the pieces when the model lacks it.
const DEBERTA_SPECIALS: [&str; 5] = ["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"];

/// The tokenizer transformers' `DebertaV2Converter` builds from the SentencePiece
/// model at `path`: a Unigram model over the pieces (no byte fallback, as the converter
/// has it), optional lowercase, strip, the model's precompiled character map, runs of
/// spaces to one, Metaspace ("▁", prepended to every word unless `add_prefix_space` is
/// off), `[CLS] $A [SEP]` / `[CLS] $A [SEP] $B [SEP]`, the control and user-defined
/// pieces as added tokens, and DeBERTa's special tokens.
pub fn deberta_tokenizer(path: &Path, options: DebertaOptions) -> Result<Tokenizer> {
    let model = SentencePieceModel::read(path)?;
    let refuse = |message: String| EngineError::Model {
        model: path.display().to_string(),
        message,
    };
    if model.model_type != ModelType::Unigram {
        return Err(refuse(format!(
            "a SentencePiece {:?} model; Dialect converts only Unigram models (DeBERTa-v2/v3's). \
             Use a folder with a tokenizer.json instead",
            model.model_type
        )));
    }
    if model.unk_id >= model.pieces.len() {
        return Err(refuse(format!(
            "its unk_id {} is not one of its {} pieces",
            model.unk_id,
            model.pieces.len()
        )));
    }
    let id = |token: &str| {
        model.id_of(token).ok_or_else(|| {
            refuse(format!(
                "no {token} piece: Dialect converts the SentencePiece models of DeBERTa-v2/v3, \
                 whose pieces include [CLS] and [SEP]"
            ))
        })
    };
    let (cls, sep) = (id("[CLS]")?, id("[SEP]")?);
    let failed = |e: tokenizers::Error| refuse(format!("cannot build its tokenizer: {e}"));

    let vocab = model
        .pieces
        .iter()
        .map(|p| (p.piece.clone(), f64::from(p.score)))
        .collect();
    let unigram = Unigram::from(vocab, Some(model.unk_id), false).map_err(failed)?;
    let mut tokenizer = Tokenizer::new(unigram);

    let mut normalizers: Vec<NormalizerWrapper> = Vec::new();
    if options.do_lower_case {
        normalizers.push(Lowercase.into());
    }
    normalizers.push(Strip::new(true, true).into());
    if !model.precompiled_charsmap.is_empty() {
        let precompiled = Precompiled::from(&model.precompiled_charsmap)
            .map_err(|e| refuse(format!("its precompiled character map is unreadable: {e}")))?;
        normalizers.push(precompiled.into());
    }
    normalizers.push(Replace::new(regex(" {2,}"), " ").map_err(failed)?.into());
    tokenizer
        .with_normalizer(Some(Sequence::new(normalizers)))
        .map_err(failed)?;

    let scheme = if options.add_prefix_space {
        PrependScheme::Always
    } else {
        PrependScheme::Never
    };
    let mut pre_tokenizers: Vec<PreTokenizerWrapper> = Vec::new();
    if options.split_by_punct {
        pre_tokenizers.push(Punctuation::new(SplitDelimiterBehavior::Isolated).into());
    }
    pre_tokenizers.push(Metaspace::new('▁', scheme, true).into());
    tokenizer
        .with_pre_tokenizer(Some(PreTokenizerSequence::new(pre_tokenizers)))
        .with_decoder(Some(MetaspaceDecoder::new('▁', scheme, true)));
    let template = TemplateProcessing::builder()
        .try_single("[CLS]:0 $A:0 [SEP]:0")
        .and_then(|b| b.try_pair("[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1"))
        .map_err(|e| refuse(format!("cannot build its post-processor: {e}")))?
        .special_tokens(vec![("[CLS]", cls), ("[SEP]", sep)])
        .build()
        .map_err(|e| refuse(format!("cannot build its post-processor: {e}")))?;
    tokenizer.with_post_processor(Some(template));

    // As SpmConverter: control pieces are special, user-defined ones plain but whole.
    let spm_added: Vec<AddedToken> = model
        .pieces
        .iter()
        .filter(|p| matches!(p.kind, PieceKind::Control | PieceKind::UserDefined))
        .map(|p| AddedToken::from(p.piece.clone(), p.kind == PieceKind::Control).normalized(false))
        .collect();
    tokenizer.add_tokens(spm_added).map_err(failed)?;
    let specials = DEBERTA_SPECIALS
        .iter()
        .map(|t| AddedToken::from(*t, true).normalized(false));
    tokenizer.add_special_tokens(specials).map_err(failed)?;
    Ok(tokenizer)
}

fn regex(pattern: &str) -> tokenizers::normalizers::replace::ReplacePattern {
    tokenizers::normalizers::replace::ReplacePattern::Regex(pattern.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn bytes_field(number: u32, bytes: &[u8], out: &mut Vec<u8>) {
        varint(u64::from(number) << 3 | 2, out);
        varint(bytes.len() as u64, out);
        out.extend_from_slice(bytes);
    }

    fn varint_field(number: u32, value: u64, out: &mut Vec<u8>) {
        varint(u64::from(number) << 3, out);
        varint(value, out);
    }

    fn piece(text: &str, score: f32, kind: u64) -> Vec<u8> {
        let mut out = Vec::new();
        bytes_field(1, text.as_bytes(), &mut out);
        out.push(2 << 3 | 5);
        out.extend_from_slice(&score.to_le_bytes());
        varint_field(3, kind, &mut out);
        out
    }

    /// A ModelProto: DeBERTa's four specials, two normal pieces, a trainer spec of
    /// `model_type` with unk_id 3 and an unknown field, a normalizer spec with
    /// `charsmap` (none when empty).
    fn model_bytes(model_type: u64, charsmap: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for (text, kind) in [("[PAD]", 3), ("[CLS]", 3), ("[SEP]", 3), ("[UNK]", 2)] {
            bytes_field(1, &piece(text, 0.0, kind), &mut out);
        }
        bytes_field(1, &piece("▁a", -1.5, 1), &mut out);
        bytes_field(1, &piece("b", -2.25, 1), &mut out);
        let mut trainer = Vec::new();
        varint_field(3, model_type, &mut trainer);
        varint_field(40, 3, &mut trainer);
        varint_field(35, 1, &mut trainer);
        bytes_field(2, &trainer, &mut out);
        let mut normalizer = Vec::new();
        bytes_field(1, b"identity", &mut normalizer);
        if !charsmap.is_empty() {
            bytes_field(2, charsmap, &mut normalizer);
        }
        bytes_field(3, &normalizer, &mut out);
        out
    }

    fn write(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spm.model");
        std::fs::write(&path, bytes).unwrap();
        (dir, path)
    }

    #[test]
    fn reads_pieces_scores_kinds_and_specs() {
        let model = SentencePieceModel::parse(&model_bytes(1, &[])).unwrap();
        assert_eq!(model.pieces.len(), 6);
        assert_eq!(
            model.pieces[4],
            Piece {
                piece: "▁a".into(),
                score: -1.5,
                kind: PieceKind::Normal
            }
        );
        assert_eq!(model.pieces[3].kind, PieceKind::Unknown);
        assert_eq!(model.pieces[0].kind, PieceKind::Control);
        assert_eq!((model.model_type, model.unk_id), (ModelType::Unigram, 3));
        assert!(model.precompiled_charsmap.is_empty());
    }

    #[test]
    fn converts_to_deberta_ids_with_mask_after_the_pieces() {
        let (_dir, path) = write(&model_bytes(1, &[]));
        let tokenizer = deberta_tokenizer(&path, DebertaOptions::default()).unwrap();
        let ids = tokenizer.encode("  ab [MASK] c", true).unwrap();
        // [CLS] ▁a b [MASK] [UNK] [SEP]: each side of [MASK] is stripped and gets its
        // own "▁"; "▁c" has no piece and becomes one [UNK].
        assert_eq!(ids.get_tokens()[0], "[CLS]");
        assert_eq!(ids.get_ids(), &[1, 4, 5, 6, 3, 2]);
        assert_eq!(tokenizer.token_to_id("[MASK]"), Some(6));
    }

    #[test]
    fn truncated_models_read_less_or_fail_and_errors_name_the_file() {
        let bytes = model_bytes(1, b"map");
        let whole = SentencePieceModel::parse(&bytes).unwrap();
        for end in 0..bytes.len() {
            match SentencePieceModel::parse(&bytes[..end]) {
                // A cut between top-level fields reads as a smaller model.
                Ok(model) => assert_ne!(model, whole, "prefix {end}"),
                Err(e) => assert!(!e.to_string().is_empty()),
            }
        }
        let (_dir, path) = write(&bytes[..bytes.len() - 3]);
        let err = SentencePieceModel::read(&path).unwrap_err().to_string();
        assert!(
            err.contains(&path.display().to_string())
                && err.contains("not a readable SentencePiece model: the data ends inside a field"),
            "{err}"
        );
    }

    #[test]
    fn garbage_and_wrong_types_are_errors() {
        let (_dir, path) = write(b"this is not a protobuf file at all");
        assert!(deberta_tokenizer(&path, DebertaOptions::default()).is_err());
        let mut bad_type = Vec::new();
        bytes_field(1, &piece("x", 0.0, 9), &mut bad_type);
        assert_eq!(
            SentencePieceModel::parse(&bad_type)
                .unwrap_err()
                .to_string(),
            "piece 0 has unknown type 9"
        );
        let mut not_text = Vec::new();
        bytes_field(1, &[0x0a, 0x01, 0xff], &mut not_text);
        assert_eq!(
            SentencePieceModel::parse(&not_text)
                .unwrap_err()
                .to_string(),
            "piece 0 is not UTF-8 text"
        );
        let mut pieces_as_number = Vec::new();
        varint_field(1, 7, &mut pieces_as_number);
        assert_eq!(
            SentencePieceModel::parse(&pieces_as_number)
                .unwrap_err()
                .to_string(),
            "field 1 of ModelProto has the wrong wire type"
        );
    }

    #[test]
    fn bpe_models_and_models_without_cls_are_refused_clearly() {
        let (_dir, path) = write(&model_bytes(2, &[]));
        let err = deberta_tokenizer(&path, DebertaOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("a SentencePiece Bpe model; Dialect converts only Unigram"),
            "{err}"
        );
        let mut no_cls = Vec::new();
        bytes_field(1, &piece("[UNK]", 0.0, 2), &mut no_cls);
        let (_dir, path) = write(&no_cls);
        let err = deberta_tokenizer(&path, DebertaOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("no [CLS] piece"), "{err}");
    }
}
