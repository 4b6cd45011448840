//! Finding a model: a local folder in Hugging Face layout, or a hub id looked up in
//! the standard Hugging Face cache (`HF_HUB_CACHE`, else `HF_HOME/hub`, else
//! `~/.cache/huggingface/hub`) and downloaded with hf-hub when online.
//! `HF_HUB_OFFLINE=1` uses only the cache.

use crate::error::{EngineError, Result};
use hf_hub::Cache;
use std::path::{Path, PathBuf};

/// The model used when none is named: the Hugging Face recipe's base model.
pub const DEFAULT_MODEL: &str = "distilbert-base-uncased";

/// The languages a model was pre-trained on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub enum Languages {
    English,
    /// Many languages (e.g. the ~100 of XLM-R's pre-training data).
    Multilingual,
}

/// A model offered by name in pickers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelPreset {
    /// Hugging Face hub id.
    pub id: &'static str,
    pub languages: Languages,
    /// Approximate download size in MB (the weights and tokenizer).
    pub download_mb: u32,
}

/// Models offered by name in pickers: the recipe's, its larger sibling, the small
/// model that setup makes available offline, a distilled RoBERTa, a small multilingual
/// one, XLM-RoBERTa (about 100 languages), ModernBERT (English, rows up to 8192
/// tokens) and DeBERTa-v3-small (English; its hub repo ships only a SentencePiece
/// `spm.model`, which `model::sentencepiece` converts on load).
pub const PRESETS: [ModelPreset; 8] = [
    ModelPreset {
        id: "distilbert-base-uncased",
        languages: Languages::English,
        download_mb: 270,
    },
    ModelPreset {
        id: "bert-base-uncased",
        languages: Languages::English,
        download_mb: 440,
    },
    ModelPreset {
        id: "sentence-transformers/all-MiniLM-L6-v2",
        languages: Languages::English,
        download_mb: 90,
    },
    ModelPreset {
        id: "distilbert/distilroberta-base",
        languages: Languages::English,
        download_mb: 330,
    },
    ModelPreset {
        id: "intfloat/multilingual-e5-small",
        languages: Languages::Multilingual,
        download_mb: 470,
    },
    ModelPreset {
        id: "FacebookAI/xlm-roberta-base",
        languages: Languages::Multilingual,
        download_mb: 1100,
    },
    ModelPreset {
        id: "answerdotai/ModernBERT-base",
        languages: Languages::English,
        download_mb: 600,
    },
    ModelPreset {
        id: "microsoft/deberta-v3-small",
        languages: Languages::English,
        download_mb: 290,
    },
];

/// The preset named `id`, if it is one.
pub fn preset(id: &str) -> Option<&'static ModelPreset> {
    PRESETS.iter().find(|p| p.id == id)
}

/// A hub model and where it is in the local cache, if it is.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ModelStatus {
    pub id: String,
    /// The snapshot folder when the model is already on disk; `None` = needs a download.
    pub cached: Option<PathBuf>,
    /// The languages it was pre-trained on, when it is a preset.
    pub languages: Option<Languages>,
    /// Approximate download size in MB, when it is a preset.
    pub download_mb: Option<u32>,
}

impl ModelStatus {
    fn of(id: &str, cached: Option<PathBuf>) -> Self {
        let preset = preset(id);
        Self {
            id: id.to_string(),
            cached,
            languages: preset.map(|p| p.languages),
            download_mb: preset.map(|p| p.download_mb),
        }
    }
}

/// Whether each preset is already in the Hugging Face cache.
pub fn preset_status() -> Vec<ModelStatus> {
    let cache = hub_cache();
    PRESETS
        .iter()
        .map(|p| ModelStatus::of(p.id, from_cache(&cache, p.id)))
        .collect()
}

/// Whether `model` (local folder or hub id) is usable without a download: a folder
/// must be complete; a hub id is looked up in the cache (`cached: None` = download
/// needed). Neither a folder nor a hub id is an error.
pub fn model_status(model: &str) -> Result<ModelStatus> {
    let cached = match local_folder(model)? {
        Some(dir) => Some(dir),
        None => from_cache(&hub_cache(), model),
    };
    Ok(ModelStatus::of(model, cached))
}

/// `Some(folder)` when `model` is a complete local folder, `None` when it is a hub id,
/// an error when it is neither.
fn local_folder(model: &str) -> Result<Option<PathBuf>> {
    let path = Path::new(model);
    if path.is_dir() {
        return check_folder(model, path).map(Some);
    }
    if !is_hub_id(model) {
        return Err(EngineError::ModelNotFound {
            model: model.into(),
            message: "no such folder, and it is not a hub id like 'org/name'".into(),
        });
    }
    Ok(None)
}

const CONFIG: &str = "config.json";
const WEIGHTS: [&str; 2] = ["model.safetensors", "pytorch_model.bin"];
/// Tokenizer files in order of preference; `spm.model` (DeBERTa-v2/v3's SentencePiece
/// model) is converted by `model::sentencepiece`.
const TOKENIZERS: [&str; 3] = [
    "tokenizer.json",
    "vocab.txt",
    super::sentencepiece::SENTENCEPIECE,
];
const OPTIONAL: [&str; 2] = ["tokenizer_config.json", "special_tokens_map.json"];
/// SentencePiece models that some checkpoints ship instead of tokenizer.json and that
/// Dialect does not convert (XLM-R's `sentencepiece.bpe.model`).
const SENTENCEPIECE: [&str; 1] = ["sentencepiece.bpe.model"];

/// Why `model` (a hub id or folder) has no usable tokenizer; `sentencepiece`: the
/// SentencePiece file it has instead, if any, with the one-time conversion to
/// tokenizer.json.
fn no_tokenizer(model: &str, sentencepiece: Option<&str>) -> String {
    match sentencepiece {
        None => "no tokenizer.json, vocab.txt or spm.model".into(),
        Some(file) => format!(
            "no tokenizer.json, only the SentencePiece model {file}, which Dialect cannot \
             read (it converts only DeBERTa's spm.model). Convert it once with transformers \
             (pip install transformers sentencepiece protobuf): `from transformers import AutoModel, AutoTokenizer; \
             AutoTokenizer.from_pretrained(\"{model}\").save_pretrained(\"DIR\"); \
             AutoModel.from_pretrained(\"{model}\").save_pretrained(\"DIR\")`, then use the \
             folder DIR as the model"
        ),
    }
}

/// Resolve `model` (folder path or hub id) to a folder holding config, weights and
/// tokenizer.
pub fn resolve_model(model: &str) -> Result<PathBuf> {
    download_model(model, &mut |_| {})
}

/// The Hugging Face hub cache location this process uses.
pub fn hub_cache() -> Cache {
    match std::env::var_os("HF_HUB_CACHE") {
        Some(p) if !p.is_empty() => Cache::new(PathBuf::from(p)),
        _ => Cache::from_env(),
    }
}

/// Whether `HF_HUB_OFFLINE` forbids downloads.
pub fn offline() -> bool {
    matches!(
        std::env::var("HF_HUB_OFFLINE").map(|v| v.to_ascii_lowercase()),
        Ok(v) if v == "1" || v == "true" || v == "yes" || v == "on"
    )
}

/// Whether `id` has the shape of a Hugging Face hub id: `name` or `org/name`, each part
/// letters, digits, `-`, `_` and `.`, not starting with `.`, no `..`. Paths (absolute,
/// `./x`, `a/b/c`, `..`, backslashes) do not.
pub fn is_hub_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('/').collect();
    !id.contains("..")
        && (1..=2).contains(&parts.len())
        && parts.iter().all(|p| {
            !p.is_empty()
                && !p.starts_with('.')
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        })
}

fn check_folder(model: &str, dir: &Path) -> Result<PathBuf> {
    let missing = |what: &str| EngineError::ModelNotFound {
        model: model.into(),
        message: format!("the folder {} has no {what}", dir.display()),
    };
    if !dir.join(CONFIG).is_file() {
        return Err(missing(CONFIG));
    }
    if !WEIGHTS.iter().any(|w| dir.join(w).is_file()) {
        return Err(missing("model.safetensors or pytorch_model.bin"));
    }
    if !TOKENIZERS.iter().any(|t| dir.join(t).is_file()) {
        let sentencepiece = SENTENCEPIECE.into_iter().find(|f| dir.join(f).is_file());
        return Err(EngineError::ModelNotFound {
            model: model.into(),
            message: format!(
                "the folder {} has {}",
                dir.display(),
                no_tokenizer(model, sentencepiece)
            ),
        });
    }
    Ok(dir.to_path_buf())
}

fn from_cache(cache: &Cache, id: &str) -> Option<PathBuf> {
    let repo = cache.model(id.to_string());
    let config = repo.get(CONFIG)?;
    WEIGHTS.iter().find_map(|w| repo.get(w))?;
    TOKENIZERS.iter().find_map(|t| repo.get(t))?;
    config.parent().map(Path::to_path_buf)
}

/// Progress of a model download, file by file.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum DownloadEvent {
    /// Starting file `index` (0-based) of `files`.
    File {
        file: String,
        index: usize,
        files: usize,
    },
    /// Bytes of the current file received so far.
    Progress {
        file: String,
        done: usize,
        total: usize,
    },
    /// Everything is in the cache.
    Done,
}

/// Make sure hub model `model` is in the cache, downloading what is missing and
/// reporting progress. Returns the snapshot folder. A local folder is returned as is.
pub fn download_model(model: &str, on_event: &mut dyn FnMut(DownloadEvent)) -> Result<PathBuf> {
    if let Some(dir) = local_folder(model)? {
        return Ok(dir);
    }
    let cache = hub_cache();
    if let Some(dir) = from_cache(&cache, model) {
        on_event(DownloadEvent::Done);
        return Ok(dir);
    }
    if offline() {
        return Err(EngineError::ModelNotFound {
            model: model.into(),
            message: format!(
                "offline (HF_HUB_OFFLINE is set) and not in the Hugging Face cache at {}. \
                 Download it on a connected machine, copy that cache, or pass a local folder.",
                cache.path().display()
            ),
        });
    }
    download(model, &cache, on_event)
}

/// Forwards hf-hub's byte counts as [`DownloadEvent::Progress`].
struct Reporter<'a> {
    file: String,
    done: usize,
    total: usize,
    on_event: &'a mut dyn FnMut(DownloadEvent),
}

impl hf_hub::api::Progress for Reporter<'_> {
    fn init(&mut self, size: usize, _filename: &str) {
        self.total = size;
        self.report();
    }
    fn update(&mut self, size: usize) {
        self.done += size;
        self.report();
    }
    fn finish(&mut self) {
        self.done = self.total;
        self.report();
    }
}

impl Reporter<'_> {
    fn report(&mut self) {
        (self.on_event)(DownloadEvent::Progress {
            file: self.file.clone(),
            done: self.done,
            total: self.total,
        });
    }
}

fn download(id: &str, cache: &Cache, on_event: &mut dyn FnMut(DownloadEvent)) -> Result<PathBuf> {
    let not_found = |message: String| EngineError::ModelNotFound {
        model: id.into(),
        message,
    };
    let api = hf_hub::api::sync::ApiBuilder::from_cache(cache.clone())
        .with_progress(false)
        .build()
        .map_err(|e| not_found(format!("cannot set up the hub client: {e}")))?;
    let repo = api.model(id.to_string());
    let info = repo.info().map_err(|e| {
        not_found(format!(
            "not in the cache at {} and the hub cannot be reached ({e}). Check the id and \
             your connection, or pass a local folder.",
            cache.path().display()
        ))
    })?;
    let listed: Vec<&str> = info.siblings.iter().map(|s| s.rfilename.as_str()).collect();
    let first = |names: &[&'static str]| names.iter().copied().find(|n| listed.contains(n));
    let weights = first(&WEIGHTS).ok_or_else(|| {
        not_found("the hub repo has no model.safetensors or pytorch_model.bin".into())
    })?;
    let tokenizer = first(&TOKENIZERS).ok_or_else(|| {
        not_found(format!(
            "the hub repo has {}",
            no_tokenizer(id, first(&SENTENCEPIECE))
        ))
    })?;
    let mut files = vec![CONFIG, tokenizer, weights];
    files.extend(OPTIONAL.iter().filter(|n| listed.contains(n)));
    let cached = cache.model(id.to_string());
    let mut config = None;
    for (index, name) in files.iter().enumerate() {
        on_event(DownloadEvent::File {
            file: name.to_string(),
            index,
            files: files.len(),
        });
        let path = match cached.get(name) {
            Some(path) => path,
            None => repo
                .download_with_progress(
                    name,
                    Reporter {
                        file: name.to_string(),
                        done: 0,
                        total: 0,
                        on_event: &mut *on_event,
                    },
                )
                .map_err(|e| not_found(format!("downloading {name} failed: {e}")))?,
        };
        if *name == CONFIG {
            config = Some(path);
        }
    }
    on_event(DownloadEvent::Done);
    config
        .as_deref()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .ok_or_else(|| not_found("unexpected cache layout".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A DeBERTa-v3 folder as the hub has it (spm.model, no tokenizer.json) resolves
    /// (its tokenizer is converted on load); another SentencePiece file is refused with
    /// the conversion that makes it usable, not a tokenizer crash.
    #[test]
    fn spm_model_folders_resolve_and_other_sentencepiece_files_name_the_conversion() {
        let dir = tempfile::tempdir().unwrap();
        for file in ["config.json", "pytorch_model.bin", "spm.model"] {
            std::fs::write(dir.path().join(file), b"{}").unwrap();
        }
        let model = dir.path().display().to_string();
        assert_eq!(resolve_model(&model).unwrap(), dir.path());
        std::fs::rename(
            dir.path().join("spm.model"),
            dir.path().join("sentencepiece.bpe.model"),
        )
        .unwrap();
        let err = resolve_model(&model).unwrap_err().to_string();
        assert!(
            err.contains(
                "has no tokenizer.json, only the SentencePiece model sentencepiece.bpe.model"
            ) && err.contains(&format!("AutoTokenizer.from_pretrained(\"{model}\")")),
            "{err}"
        );
        std::fs::remove_file(dir.path().join("sentencepiece.bpe.model")).unwrap();
        let err = resolve_model(&model).unwrap_err().to_string();
        assert!(
            err.contains("has no tokenizer.json, vocab.txt or spm.model"),
            "{err}"
        );
    }

    #[test]
    fn hub_ids_and_paths_are_told_apart() {
        assert!(is_hub_id("distilbert-base-uncased"));
        assert!(is_hub_id("sentence-transformers/all-MiniLM-L6-v2"));
        assert!(!is_hub_id("./models/x"));
        assert!(!is_hub_id("/abs/path"));
        assert!(!is_hub_id("a/b/c"));
        assert!(!is_hub_id("org/.."));
        assert!(!is_hub_id("org/a..b"));
        assert!(!is_hub_id("..\\secret"));
        assert!(!is_hub_id("C:\\models\\x"));
        assert!(!is_hub_id(""));
    }
}
