//! What the app's command tests share: the engine tests' fixtures (`tests/common`),
//! and the app on the mock runtime with its own config and capabilities, called
//! through Tauri's real IPC path.
#![allow(dead_code)]

#[path = "../../../tests/common/mod.rs"]
mod engine;

pub use engine::*;

use dialect_app::state::AppState;
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{Manager, WebviewWindow};

/// The app with its main window over a run store in a temporary folder.
pub struct TestApp {
    pub app: tauri::App<MockRuntime>,
    pub window: WebviewWindow<MockRuntime>,
    pub dir: tempfile::TempDir,
}

/// The app over a run store in `dir`, before its window exists.
pub fn build_app(dir: &Path, sample: &Path) -> tauri::App<MockRuntime> {
    dialect_app::with_commands(mock_builder())
        .manage(AppState::new(dir.join("runs"), sample.to_path_buf()))
        .build(tauri::generate_context!())
        .unwrap()
}

/// The app whose bundled sample data is `sample`.
pub fn app_with_sample(sample: &Path) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let app = build_app(dir.path(), sample);
    let window = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    TestApp { app, window, dir }
}

/// The app with the repository's Banking77 sample.
pub fn app() -> TestApp {
    app_with_sample(&repo_root().join("samples/banking77.csv"))
}

/// An IPC call as the webview sends it.
pub fn request(cmd: &str, args: Value) -> InvokeRequest {
    InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().unwrap(),
        body: InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    }
}

/// A channel argument (events sent to it are dropped by the mock runtime).
pub fn channel() -> Value {
    json!("__CHANNEL__:7")
}

impl TestApp {
    /// The command's answer: its value, or its error body.
    pub fn call(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        get_ipc_response(&self.window, request(cmd, args))
            .map(|body| body.deserialize::<Value>().unwrap())
    }

    /// The value of a call that must succeed.
    pub fn ok(&self, cmd: &str, args: Value) -> Value {
        self.call(cmd, args)
            .unwrap_or_else(|e| panic!("{cmd} failed: {e}"))
    }

    /// The error of a call that must fail, checked to be `{kind, message, settings}`.
    pub fn err(&self, cmd: &str, args: Value, kind: &str) -> String {
        let e = match self.call(cmd, args) {
            Ok(v) => panic!("{cmd} should fail, returned {v}"),
            Err(e) => e,
        };
        assert_eq!(e["kind"], kind, "{cmd}: {e}");
        assert_eq!(e.as_object().unwrap().len(), 3, "{cmd}: {e}");
        assert!(e["settings"].is_array(), "{cmd}: {e}");
        let message = e["message"].as_str().unwrap().to_string();
        assert!(!message.is_empty());
        message
    }

    /// The tiny task as a file the person opened (as a drop does).
    pub fn csv(&self, per_class: usize) -> String {
        let path = tiny_csv(self.dir.path(), per_class);
        self.state().grant(&path);
        path.to_str().unwrap().to_string()
    }

    /// The app's state.
    pub fn state(&self) -> tauri::State<'_, AppState> {
        self.window.state::<AppState>()
    }

    /// The tiny model's folder, as if chosen with "Choose folder…".
    pub fn model(&self) -> String {
        let folder = self.state().grant_model_folder(&tiny_model("distilbert"));
        folder.to_str().unwrap().to_string()
    }

    /// A request to train the tiny model on `csv`.
    pub fn train_request(&self, csv: &str) -> Value {
        json!({
            "request": {
                "data": {
                    "path": csv,
                    "text": { "columns": ["text"], "separator": "\n\n" },
                    "labelColumn": "label",
                    "labelMap": null,
                    "validation": null,
                    "split": { "validationFraction": 0.25, "seed": 42, "maxRows": null }
                },
                "config": {
                    "model": self.model(),
                    "epochs": 2,
                    "batchSize": 8,
                    "learningRate": 1e-3,
                    "device": "cpu"
                },
                "force": false
            },
            "onEvent": channel()
        })
    }

    /// Train the tiny model on the tiny task and wait until the run ends; its id.
    pub fn trained_run(&self) -> String {
        self.run_to_end(self.train_request(&self.csv(8)))
    }

    /// Wait until no job is training.
    pub fn wait_until_idle(&self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while dialect_app::sync::lock(&self.state().training)
            .as_ref()
            .is_some_and(|job| job.is_running())
        {
            assert!(Instant::now() < deadline, "training did not end");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Start training with `request` and wait until the run ends; its id.
    pub fn run_to_end(&self, request: Value) -> String {
        let id = self.ok("start_training", request);
        let id = id.as_str().unwrap().to_string();
        self.wait_until_idle();
        id
    }
}
