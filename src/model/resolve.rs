//! Finding a model: a local folder in Hugging Face layout, or a hub id looked up in
//! the standard Hugging Face cache (`HF_HUB_CACHE`, else `HF_HOME/hub`, else
//! `~/.cache/huggingface/hub`) and downloaded with hf-hub when online.
//! `HF_HUB_OFFLINE=1` uses only the cache.

use crate::error::{EngineError, Result};
use hf_hub::Cache;
use std::path::{Path, PathBuf};

/// The model used when none is named: the Hugging Face recipe's base model.
pub const DEFAULT_MODEL: &str = "distilbert-base-uncased";

/// Models offered by name in pickers: the recipe's, its larger sibling, and the small
/// model that setup makes available offline.
pub const PRESETS: [&str; 3] = [
    "distilbert-base-uncased",
    "bert-base-uncased",
    "sentence-transformers/all-MiniLM-L6-v2",
];

/// A hub model and where it is in the local cache, if it is.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelStatus {
    pub id: String,
    /// The snapshot folder when the model is already on disk; `None` = needs a download.
    pub cached: Option<PathBuf>,
}

/// Whether each preset is already in the Hugging Face cache.
pub fn preset_status() -> Vec<ModelStatus> {
    let cache = hub_cache();
    PRESETS
        .iter()
        .map(|id| ModelStatus {
            id: id.to_string(),
            cached: from_cache(&cache, id),
        })
        .collect()
}

const CONFIG: &str = "config.json";
const WEIGHTS: [&str; 2] = ["model.safetensors", "pytorch_model.bin"];
const TOKENIZERS: [&str; 2] = ["tokenizer.json", "vocab.txt"];
const OPTIONAL: [&str; 2] = ["tokenizer_config.json", "special_tokens_map.json"];

/// Resolve `model` (folder path or hub id) to a folder holding config, weights and
/// tokenizer.
pub fn resolve_model(model: &str) -> Result<PathBuf> {
    let path = Path::new(model);
    if path.is_dir() {
        return check_folder(model, path);
    }
    if !looks_like_hub_id(model) {
        return Err(EngineError::ModelNotFound {
            model: model.into(),
            message: "no such folder, and it is not a hub id like 'org/name'".into(),
        });
    }
    let cache = hub_cache();
    if let Some(dir) = from_cache(&cache, model) {
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
    download(model, &cache)
}

/// The Hugging Face hub cache location this process uses.
pub fn hub_cache() -> Cache {
    match std::env::var_os("HF_HUB_CACHE") {
        Some(p) if !p.is_empty() => Cache::new(PathBuf::from(p)),
        _ => Cache::from_env(),
    }
}

fn offline() -> bool {
    matches!(
        std::env::var("HF_HUB_OFFLINE").map(|v| v.to_ascii_lowercase()),
        Ok(v) if v == "1" || v == "true" || v == "yes" || v == "on"
    )
}

fn looks_like_hub_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('/').collect();
    (1..=2).contains(&parts.len())
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
        return Err(missing("tokenizer.json or vocab.txt"));
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

fn download(id: &str, cache: &Cache) -> Result<PathBuf> {
    let not_found = |message: String| EngineError::ModelNotFound {
        model: id.into(),
        message,
    };
    let api = hf_hub::api::sync::ApiBuilder::from_cache(cache.clone())
        .with_progress(false)
        .build()
        .map_err(|e| not_found(format!("cannot set up the hub client: {e}")))?;
    let repo = api.model(id.to_string());
    let config = repo.get(CONFIG).map_err(|e| {
        not_found(format!(
            "not in the cache at {} and the download failed ({e}). Check the id and your \
             connection, or pass a local folder.",
            cache.path().display()
        ))
    })?;
    let fetched = |names: &[&str]| names.iter().any(|n| repo.get(n).is_ok());
    if !fetched(&WEIGHTS) {
        return Err(not_found(
            "the hub repo has no model.safetensors or pytorch_model.bin".into(),
        ));
    }
    if !fetched(&TOKENIZERS) {
        return Err(not_found(
            "the hub repo has no tokenizer.json or vocab.txt".into(),
        ));
    }
    for name in OPTIONAL {
        let _ = repo.get(name);
    }
    config
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| not_found("unexpected cache layout".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_ids_and_paths_are_told_apart() {
        assert!(looks_like_hub_id("distilbert-base-uncased"));
        assert!(looks_like_hub_id("sentence-transformers/all-MiniLM-L6-v2"));
        assert!(!looks_like_hub_id("./models/x"));
        assert!(!looks_like_hub_id("/abs/path"));
        assert!(!looks_like_hub_id("a/b/c"));
    }
}
