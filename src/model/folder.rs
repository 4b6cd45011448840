//! Model folders on disk, written whole or not at all: every save fills a fresh folder
//! beside the target and swaps it into place, so a reader (or a crash mid-save) never
//! sees one save's weights with another's card, nor files left from an earlier model.
//! Copies take only a model's own files, each fsynced.

use crate::error::{EngineError, Result};
use std::path::{Path, PathBuf};

/// The files a model folder holds: what Dialect writes, and all that export copies.
pub const MODEL_FILES: [&str; 7] = [
    "config.json",
    "model.safetensors",
    "dialect.json",
    "tokenizer.json",
    "vocab.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
];

/// A training checkpoint's files beyond a model's: where the run stands, and the
/// optimiser's moments (see `train::checkpoint`).
pub const TRAINER_STATE: &str = "trainer_state.json";
/// See [`TRAINER_STATE`].
pub const OPTIMIZER_STATE: &str = "optimizer.safetensors";

/// Sibling of `target` with `suffix`: `<parent>/.<name>.<suffix>`.
fn sibling(target: &Path, suffix: &str) -> Result<PathBuf> {
    let name = target.file_name().ok_or_else(|| {
        EngineError::Config(format!(
            "{} is not a folder name a model can be saved to",
            target.display()
        ))
    })?;
    Ok(parent_of(target).join(format!(".{}.{suffix}", name.to_string_lossy())))
}

fn parent_of(target: &Path) -> &Path {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The folder to read the model at `target` from: `target` itself, or the previous
/// save when a crash interrupted a swap after setting it aside. Only looks: readers
/// never move folders a live writer may be swapping (the next save finishes the swap).
pub fn readable(target: &Path) -> PathBuf {
    if !target.exists() {
        if let Ok(old) = sibling(target, "old") {
            if old.is_dir() {
                return old;
            }
        }
    }
    target.to_path_buf()
}

/// Finish a swap that a crash interrupted: when `target` is missing but the previous
/// save was set aside, put it back. For the folder's one writer only (it runs before
/// every save); harmless on any other folder.
pub fn recover(target: &Path) -> Result<()> {
    let Ok(old) = sibling(target, "old") else {
        return Ok(());
    };
    if !target.exists() && old.is_dir() {
        std::fs::rename(&old, target).map_err(|e| EngineError::io(target, e))?;
        sync_dir(parent_of(target));
    }
    Ok(())
}

/// Whether `dir` holds a model Dialect may replace: its files are all model (or
/// checkpoint) files.
fn is_replaceable(dir: &Path) -> Result<bool> {
    let entries = std::fs::read_dir(dir).map_err(|e| EngineError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| EngineError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let known = MODEL_FILES.contains(&name.as_str())
            || [TRAINER_STATE, OPTIMIZER_STATE].contains(&name.as_str())
            || name.starts_with('.');
        if !known || entry.path().is_dir() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Write a model folder at `target` atomically: `fill` writes into a fresh staging
/// folder beside it, which then replaces `target` as a whole. A `target` holding
/// anything but model files is refused (never deleted).
pub fn replace_dir(target: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let parent = parent_of(target);
    std::fs::create_dir_all(parent).map_err(|e| EngineError::io(parent, e))?;
    recover(target)?;
    if target.exists() && !(target.is_dir() && is_replaceable(target)?) {
        return Err(EngineError::Config(format!(
            "{} exists and is not a model folder: choose an empty or new folder for the model",
            target.display()
        )));
    }
    let staging = sibling(target, "partial")?;
    let old = sibling(target, "old")?;
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| EngineError::io(&staging, e))?;
    }
    std::fs::create_dir(&staging).map_err(|e| EngineError::io(&staging, e))?;
    let filled = fill(&staging).and_then(|()| {
        sync_dir(&staging);
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(|e| EngineError::io(&old, e))?;
        }
        if target.exists() {
            std::fs::rename(target, &old).map_err(|e| EngineError::io(target, e))?;
        }
        std::fs::rename(&staging, target).map_err(|e| EngineError::io(target, e))?;
        sync_dir(parent);
        Ok(())
    });
    if filled.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
        // A failed swap puts the previous save back.
        let _ = recover(target);
        return filled;
    }
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(|e| EngineError::io(&old, e))?;
    }
    Ok(())
}

/// Copy the model folder `from` to `to`, replacing a model folder there as a whole
/// (see [`replace_dir`]).
pub fn copy_model(from: &Path, to: &Path) -> Result<()> {
    replace_dir(to, |staging| copy_model_files(from, staging))
}

/// Copy the model files of `from` into the folder `to` (which exists), fsyncing each.
pub fn copy_model_files(from: &Path, to: &Path) -> Result<()> {
    for name in MODEL_FILES {
        let source = from.join(name);
        if !source.is_file() {
            continue;
        }
        let dest = to.join(name);
        std::fs::copy(&source, &dest).map_err(|e| EngineError::io(&dest, e))?;
        std::fs::File::open(&dest)
            .and_then(|f| f.sync_all())
            .map_err(|e| EngineError::io(&dest, e))?;
    }
    sync_dir(to);
    Ok(())
}

/// Persist a folder's entries (renames into it); best effort where folders cannot be
/// opened (Windows).
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut n: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    }

    #[test]
    fn a_new_save_replaces_every_file_of_the_previous_one() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("model");
        replace_dir(&target, |d| {
            write(d, "config.json", "1");
            write(d, "tokenizer.json", "old tokenizer");
            Ok(())
        })
        .unwrap();
        replace_dir(&target, |d| {
            write(d, "config.json", "2");
            write(d, "vocab.txt", "a");
            Ok(())
        })
        .unwrap();
        assert_eq!(names(&target), ["config.json", "vocab.txt"]);
        assert_eq!(
            std::fs::read_to_string(target.join("config.json")).unwrap(),
            "2"
        );
        // Nothing left beside it.
        assert_eq!(names(tmp.path()), ["model"]);
    }

    #[test]
    fn a_failed_save_leaves_the_previous_model_whole() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("model");
        replace_dir(&target, |d| {
            write(d, "config.json", "good");
            Ok(())
        })
        .unwrap();
        let err = replace_dir(&target, |d| {
            write(d, "config.json", "half");
            Err(EngineError::Config("disk full".into()))
        });
        assert!(err.is_err());
        assert_eq!(
            std::fs::read_to_string(target.join("config.json")).unwrap(),
            "good"
        );
        assert_eq!(names(tmp.path()), ["model"]);
    }

    #[test]
    fn a_swap_interrupted_after_setting_the_old_model_aside_is_recovered() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("model");
        let old = tmp.path().join(".model.old");
        std::fs::create_dir(&old).unwrap();
        write(&old, "config.json", "previous");
        // Readers read the previous save where it lies, moving nothing.
        assert_eq!(readable(&target), old);
        assert!(!target.exists());
        recover(&target).unwrap();
        assert_eq!(readable(&target), target);
        assert_eq!(
            std::fs::read_to_string(target.join("config.json")).unwrap(),
            "previous"
        );
    }

    #[test]
    fn a_folder_with_other_files_is_never_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("work");
        std::fs::create_dir(&target).unwrap();
        write(&target, "notes.txt", "mine");
        let err = replace_dir(&target, |_| Ok(())).unwrap_err().to_string();
        assert!(err.contains("not a model folder"), "{err}");
        assert_eq!(names(&target), ["notes.txt"]);
    }

    #[test]
    fn copies_only_model_files() {
        let tmp = tempfile::tempdir().unwrap();
        let (from, to) = (tmp.path().join("a"), tmp.path().join("b"));
        std::fs::create_dir_all(&from).unwrap();
        std::fs::create_dir_all(&to).unwrap();
        write(&from, "config.json", "{}");
        write(&from, ".config.json.tmp-12", "torn");
        write(&from, "model.safetensors", "w");
        copy_model_files(&from, &to).unwrap();
        assert_eq!(names(&to), ["config.json", "model.safetensors"]);
    }
}
