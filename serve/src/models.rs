//! The models a service answers for: each under a name (its run id or folder name),
//! the first one answering requests that name none.

use crate::batching::Batcher;
use crate::classifier::Classifier;
use crate::error::{ApiError, ServeError};
use dialect::runs::{validate_id, RunStore};
use dialect::EngineError;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One model, the name requests call it by, and its waiting requests.
#[derive(Clone)]
pub struct ServedModel {
    name: String,
    batcher: Arc<Batcher>,
}

impl ServedModel {
    /// `classifier` answering to `name`.
    pub fn new(name: impl Into<String>, classifier: impl Classifier) -> Self {
        Self {
            name: name.into(),
            batcher: Arc::new(Batcher::new(Arc::new(classifier))),
        }
    }

    /// The name requests use.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The model's batcher, which classifies its requests.
    pub fn batcher(&self) -> &Arc<Batcher> {
        &self.batcher
    }

    /// What `GET /v1/models` says of it.
    fn info(&self, default: bool) -> ModelInfo {
        let classifier = self.batcher.classifier();
        ModelInfo {
            name: self.name.clone(),
            labels: classifier.labels().to_vec(),
            threshold: classifier.threshold(),
            precision: classifier.precision(),
            default,
        }
    }
}

/// One served model as `GET /v1/models` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    /// The name requests use.
    pub name: String,
    /// Its classes, in the order of each prediction's `scores`.
    pub labels: Vec<String>,
    /// Its routing threshold (`route` is in predictions only when it has one).
    pub threshold: Option<f64>,
    /// `f32` or `int8`.
    pub precision: &'static str,
    /// Whether it answers requests that name no model.
    pub default: bool,
}

/// The served models, in the order given; the first is the default.
#[derive(Clone)]
pub struct Models {
    models: Vec<ServedModel>,
}

impl Models {
    /// The models to serve: at least one, each name once.
    pub fn new(models: Vec<ServedModel>) -> Result<Self, ServeError> {
        check_names(models.iter().map(|m| m.name.as_str()))?;
        Ok(Self { models })
    }

    /// The model called `name`, or the default one when `None`.
    pub fn find(&self, name: Option<&str>) -> Result<&ServedModel, ApiError> {
        let Some(name) = name else {
            return Ok(&self.models[0]);
        };
        self.models.iter().find(|m| m.name == name).ok_or_else(|| {
            ApiError::unknown_model(format!(
                "no model is named '{name}': this service has {}",
                self.names().join(", ")
            ))
        })
    }

    /// Each model's name, in order.
    pub fn names(&self) -> Vec<&str> {
        self.models.iter().map(|m| m.name.as_str()).collect()
    }

    /// Every model as `GET /v1/models` lists it.
    pub fn infos(&self) -> Vec<ModelInfo> {
        self.models
            .iter()
            .enumerate()
            .map(|(i, m)| m.info(i == 0))
            .collect()
    }
}

/// Check there is at least one name and no name twice (before loading the models).
pub fn check_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<(), ServeError> {
    let mut seen = std::collections::HashSet::new();
    for name in names {
        if !seen.insert(name) {
            return Err(ServeError::DuplicateName(name.to_string()));
        }
    }
    if seen.is_empty() {
        return Err(ServeError::NoModels);
    }
    Ok(())
}

/// Where the model `arg` names is and what requests call it: an existing folder by its
/// name (a run's `model` folder by the run's id), else a run of `store` by its id.
pub fn locate(arg: &str, store: &RunStore) -> Result<(String, PathBuf), ServeError> {
    let path = Path::new(arg);
    if path.is_dir() {
        return Ok((folder_name(path)?, path.to_path_buf()));
    }
    if validate_id(arg).is_ok() && store.root().join(arg).is_dir() {
        return Ok((arg.to_string(), store.model_dir(arg)?));
    }
    Err(EngineError::ModelNotFound {
        model: arg.to_string(),
        message: format!(
            "it is neither a model folder nor a run in {} (list runs with `dialect runs`, or pass --runs-dir)",
            store.root().display()
        ),
    }
    .into())
}

/// The name a model folder answers to: its own name, or its run's id for a run's
/// `model` folder.
fn folder_name(path: &Path) -> Result<String, ServeError> {
    let absolute = std::path::absolute(path).map_err(|e| EngineError::io(path, e))?;
    let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    let in_run = absolute.parent().filter(|run| {
        absolute.file_name() == Some("model".as_ref()) && run.join("run.json").is_file()
    });
    in_run
        .and_then(name)
        .or_else(|| name(&absolute))
        .ok_or_else(|| {
            EngineError::Config(format!(
                "{}: name a model folder, not a root",
                path.display()
            ))
            .into()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_named_by_their_name_and_run_models_by_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path().join("runs"));
        let folder = dir.path().join("support-v2");
        std::fs::create_dir(&folder).unwrap();
        let (name, path) = locate(folder.to_str().unwrap(), &store).unwrap();
        assert_eq!((name.as_str(), path), ("support-v2", folder));

        let run_model = dir.path().join("runs/run-7/model");
        std::fs::create_dir_all(&run_model).unwrap();
        std::fs::write(dir.path().join("runs/run-7/run.json"), "{}").unwrap();
        let (name, _) = locate(run_model.to_str().unwrap(), &store).unwrap();
        assert_eq!(name, "run-7");
    }

    #[test]
    fn an_unknown_name_says_where_runs_were_looked_for() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path().join("runs"));
        let err = locate("no-such-run", &store).unwrap_err().to_string();
        assert!(err.contains("neither a model folder nor a run in"), "{err}");
        assert!(
            err.contains(&dir.path().join("runs").display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn a_run_without_a_model_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path().join("runs"));
        std::fs::create_dir_all(dir.path().join("runs/early")).unwrap();
        std::fs::write(dir.path().join("runs/early/run.json"), "{}").unwrap();
        let err = locate("early", &store).unwrap_err().to_string();
        assert!(err.contains("run early has no saved model"), "{err}");
    }
}
