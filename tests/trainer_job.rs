//! The transformers Trainer job a run exports (`export::trainer_job`) and the import of
//! its output (`RunStore::import_trainer_output`), without torch: the job's configs
//! parse, its recipe is the run's, `train.py` compiles and (where python3 exists) reads
//! exactly the run's rows from the data file, corrections included; a folder shaped
//! like the job's output imports as a finished run that predicts.

mod common;

use dialect::dataset::corrections::{Correction, Corrections};
use dialect::dataset::LabelForm;
use dialect::export::trainer_job::{export_trainer_job, JOB_FILE, ROWS_FILE};
use dialect::model::folder::copy_model;
use dialect::model_card::ModelCard;
use dialect::runs::{RunRequest, RunStatus, RunStore};
use dialect::settings::SplitPlan;
use dialect::train::DataSpec;
use dialect::{DeviceChoice, Example, Predictor, TextSpec, TrainEvent};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;

/// Tickets with a subject and a body (one body spans two lines, one subject is empty).
fn write_tickets(path: &Path) {
    let rows = [
        ("login", "the app crashes when i click login", "bug"),
        ("blank", "error after update, page is blank", "bug"),
        ("", "sync crashes every time", "bug"),
        ("dark mode", "please add dark mode", "feature_request"),
        ("export", "would like an export option", "feature_request"),
        (
            "phone",
            "new request: add sync for phone",
            "feature_request",
        ),
        ("password", "how do i reset my password", "general_inquiry"),
        ("email", "where can i change my email", "general_inquiry"),
        ("support", "how do i get support\nplease", "general_inquiry"),
    ];
    let mut out = String::from("subject,body,label\n");
    for i in 0..4 {
        for (subject, body, label) in rows {
            out += &format!("{subject},\"{body} {i}\",{label}\n");
        }
    }
    std::fs::write(path, out).unwrap();
}

fn text_spec() -> TextSpec {
    TextSpec::columns(vec!["subject".into(), "body".into()])
}

fn python3() -> bool {
    Command::new("python3").arg("--version").output().is_ok()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Train one epoch of the tiny BERT on the tickets, with one ticket relabelled and
/// one dropped; returns the store and the run's id.
fn trained_run(dir: &Path) -> (RunStore, String) {
    let csv = dir.join("tickets.csv");
    write_tickets(&csv);
    // Line 2 is the first ticket ("login" + body 0), line 3 the second.
    let ticket = |line: usize, subject: &str, body: &str, label: &str| Example {
        text: format!("{subject}\n\n{body}"),
        label: label.into(),
        line,
        labels: None,
    };
    let corrections = Corrections {
        corrections: vec![
            Correction::of(
                &ticket(2, "login", "the app crashes when i click login 0", "bug"),
                Some("feature_request".into()),
            ),
            Correction::of(
                &ticket(3, "blank", "error after update, page is blank 0", "bug"),
                None,
            ),
        ],
    };
    let store = RunStore::new(dir.join("runs"));
    let config = dialect::TrainConfig {
        learning_rate: 3e-4,
        seed: 7,
        ..common::tiny_config(dir)
    };
    let data = DataSpec {
        path: csv,
        text: text_spec(),
        label_column: "label".into(),
        label_form: Default::default(),
        label_map: None,
        validation: None,
        split: SplitPlan {
            validation_fraction: 0.25,
            ..SplitPlan::default()
        },
        corrections: Some(corrections),
        validation_corrections: None,
        drop_overlap: false,
    };
    let run = store
        .new_run(RunRequest {
            config,
            data,
            force: true,
            parent: None,
        })
        .unwrap();
    let id = run.id().to_string();
    run.start(|_| {}).unwrap().wait().result.unwrap();
    (store, id)
}

#[test]
fn a_run_exports_as_a_trainer_job_and_its_output_imports_as_a_run() {
    let work = tempfile::tempdir().unwrap();
    let (store, id) = trained_run(work.path());
    let record = store.get(&id).unwrap();
    let exports = work.path().join("exports");
    std::fs::create_dir(&exports).unwrap();
    let job = export_trainer_job(&store, &id, &exports).unwrap();
    let folder = exports.join(format!("dialect-{id}-trainer"));
    assert_eq!(job.folder, folder);
    for file in &job.files {
        assert!(folder.join(file).is_file(), "{file} not written");
    }

    // Every accelerate config parses and names its distributed setup.
    let yaml = |name: &str| -> Value {
        let text = std::fs::read_to_string(folder.join("accelerate").join(name)).unwrap();
        serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    assert_eq!(yaml("single_gpu.yaml")["distributed_type"], "NO");
    assert_eq!(yaml("multi_gpu.yaml")["distributed_type"], "MULTI_GPU");
    let fsdp = yaml("fsdp.yaml");
    assert_eq!(fsdp["distributed_type"], "FSDP");
    assert_eq!(fsdp["fsdp_config"]["fsdp_sharding_strategy"], "FULL_SHARD");
    let deepspeed = yaml("deepspeed_zero2.yaml");
    assert_eq!(deepspeed["distributed_type"], "DEEPSPEED");
    let ds_file = deepspeed["deepspeed_config"]["deepspeed_config_file"]
        .as_str()
        .unwrap();
    // Relative to the job folder, where launch.sh runs accelerate.
    let ds = read_json(&folder.join(ds_file));
    assert_eq!(ds["zero_optimization"]["stage"], 2);
    let launch = std::fs::read_to_string(folder.join("launch.sh")).unwrap();
    assert!(launch.contains("accelerate launch --config_file"));
    let requirements = std::fs::read_to_string(folder.join("requirements.txt")).unwrap();
    for package in ["torch", "transformers", "accelerate"] {
        assert!(requirements.contains(&format!("{package}>=")), "{package}");
    }

    // The recipe is the run's.
    let spec = read_json(&folder.join(JOB_FILE));
    let recipe = &spec["recipe"];
    let config = &record.config;
    assert_eq!(recipe["learningRate"], config.learning_rate);
    assert_eq!(recipe["batchSize"], config.batch_size);
    assert_eq!(recipe["epochs"], config.epochs);
    assert_eq!(recipe["seed"], 7);
    assert_eq!(recipe["maxLength"], 32);
    assert_eq!(recipe["weightDecay"], config.weight_decay);
    assert_eq!(recipe["maxGradNorm"], config.max_grad_norm);
    assert_eq!(recipe["bestMetric"], "accuracy");
    assert_eq!(
        recipe["model"],
        std::path::absolute(&config.model)
            .unwrap()
            .to_str()
            .unwrap()
    );
    assert_eq!(spec["sourceRun"], id.as_str());
    assert_eq!(spec["data"]["path"], record.data.path.to_str().unwrap());
    assert_eq!(spec["data"]["columns"], json!(["subject", "body"]));
    assert_eq!(spec["data"]["format"]["delimiter"], ",");
    assert_eq!(spec["data"]["encoding"], "UTF-8");

    // The rows: the run's split, the corrections applied (line 2 relabelled, line 3
    // dropped).
    let rows = read_json(&folder.join(ROWS_FILE));
    let labels: Vec<String> = serde_json::from_value(rows["labels"].clone()).unwrap();
    assert_eq!(labels, ["bug", "feature_request", "general_inquiry"]);
    let lines = |side: &str| -> Vec<u64> {
        rows[side]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[0].as_u64().unwrap())
            .collect()
    };
    let recorded: Vec<u64> = store
        .validation_rows(&id)
        .unwrap()
        .iter()
        .map(|r| r.line() as u64)
        .collect();
    assert_eq!(lines("validation"), recorded);
    let all: Vec<u64> = lines("train").into_iter().chain(recorded).collect();
    assert_eq!(all.len(), 36 - 1);
    assert!(!all.contains(&3), "the dropped ticket is left out");
    let line_2 = rows["train"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rows["validation"].as_array().unwrap())
        .find(|r| r[0] == 2)
        .unwrap();
    assert_eq!(line_2[1], json!([1]), "relabelled to feature_request");

    if python3() {
        let compiled = Command::new("python3")
            .args(["-m", "py_compile"])
            .arg(folder.join("train.py"))
            .output()
            .unwrap();
        assert!(compiled.status.success(), "{compiled:?}");
        // train.py's reader finds every row (text hash checked) without torch.
        let read = |data: &Path| {
            Command::new("python3")
                .current_dir(&folder)
                .arg("-c")
                .arg(
                    "import json, sys, train\n\
                     job, rows = train.load_json('job.json'), train.load_json('rows.json')\n\
                     texts = train.read_texts(sys.argv[1], job['data']['format'], \
                     job['data']['columns'], job['text']['separator'], \
                     job['data']['encoding'])\n\
                     print(json.dumps([len(train.select(texts, rows[s], sys.argv[1])) \
                     for s in ('train', 'validation')]))",
                )
                .arg(data)
                .output()
                .unwrap()
        };
        let out = read(&record.data.path);
        assert!(out.status.success(), "{out:?}");
        let counts: Vec<usize> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            counts,
            [
                rows["train"].as_array().unwrap().len(),
                rows["validation"].as_array().unwrap().len()
            ]
        );
        // A file whose rows changed is refused, naming the line.
        let changed = work.path().join("changed.csv");
        let text = std::fs::read_to_string(&record.data.path).unwrap();
        std::fs::write(&changed, text.replacen("dark mode", "light mode", 1)).unwrap();
        let out = read(&changed);
        assert!(!out.status.success());
        let message = String::from_utf8_lossy(&out.stderr);
        assert!(
            message.contains("line 5 is not the one the run used"),
            "{message}"
        );
    } else {
        eprintln!("python3 not found: train.py not compiled or run");
    }

    // A second export to the same folder is refused.
    let again = export_trainer_job(&store, &id, &exports).unwrap_err();
    assert!(again.to_string().contains("already exists"), "{again}");

    // The job's output, as train.py writes it: the model and dialect-import.json, with
    // one validation row predicted wrong.
    let output = work.path().join("output");
    copy_model(&store.model_dir(&id).unwrap(), &output.join("model")).unwrap();
    let truth: Vec<Value> = rows["validation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[1].clone())
        .collect();
    let mut predicted = truth.clone();
    predicted[0] = json!([(truth[0][0].as_u64().unwrap() + 1) % 3]);
    let result = |predicted: &[Value]| {
        json!({
            "format": 1,
            "sourceRun": id,
            "source": spec["source"],
            "data": record.data.path,
            "baseModel": recipe["model"],
            "labels": labels,
            "multiLabel": false,
            "truth": truth,
            "epochs": [{
                "epoch": 1, "step": 4, "trainLoss": 1.0, "evalLoss": 0.9,
                "seconds": 0.5, "samplesPerSecond": 20.0, "predicted": predicted,
            }],
            "bestEpoch": 1,
            "steps": 4,
            "seconds": 3.0,
            "device": "cpu",
        })
    };
    let write_result = |value: Value| {
        std::fs::write(
            output.join("dialect-import.json"),
            serde_json::to_string(&value).unwrap(),
        )
        .unwrap();
    };
    // Predictions that do not match the validation rows are refused, and no run is made.
    write_result(result(&predicted[1..]));
    let err = store
        .import_trainer_output(&output)
        .unwrap_err()
        .to_string();
    assert!(err.contains("predictions for"), "{err}");
    assert_eq!(store.list().unwrap().len(), 1);

    write_result(result(&predicted));
    let imported = store.import_trainer_output(&output).unwrap();
    let runs = store.list().unwrap();
    assert!(runs.iter().any(|r| r.id == imported));
    let record = store.get(&imported).unwrap();
    assert_eq!(record.status, RunStatus::Finished);
    let summary = record.summary.unwrap();
    let n = truth.len() as f64;
    assert_eq!(summary.epochs.len(), 1);
    assert!((summary.epochs[0].metrics.accuracy - (n - 1.0) / n).abs() < 1e-12);
    assert_eq!(summary.best_epoch, Some(1));
    assert!(summary.device.contains("transformers Trainer"));
    assert_eq!(record.best.map(|b| b.0), Some(1));
    assert_eq!(store.validation_rows(&imported).unwrap().len(), truth.len());
    let predictor =
        Predictor::load(&store.model_dir(&imported).unwrap(), DeviceChoice::Cpu).unwrap();
    let prediction = predictor
        .predict(&["login\n\nthe app crashes".to_string()])
        .unwrap();
    assert!(labels.contains(&prediction[0].label));

    // Like a trained run's best model, the imported one is checked in int8 and given a
    // temperature on the validation rows, in its card and its log (before Finished).
    let card = ModelCard::load(&store.model_dir(&imported).unwrap()).unwrap();
    let check = card.int8.expect("the import's int8 check");
    assert_eq!(
        (check.data.as_str(), check.rows),
        ("validation split", truth.len())
    );
    assert!(check.agreement > 0.0 && check.agreement <= 1.0);
    let calibration = card.calibration.expect("the import's calibration");
    assert_eq!(calibration.rows, truth.len());
    assert!(
        calibration.temperature > 0.0 && calibration.nll_after <= calibration.nll_before + 1e-9
    );
    let kinds: Vec<&'static str> = store
        .events(&imported)
        .unwrap()
        .iter()
        .map(|e| match e {
            TrainEvent::Int8Checked { .. } => "int8",
            TrainEvent::Calibrated { .. } => "calibrated",
            TrainEvent::Finished { .. } => "finished",
            _ => "other",
        })
        .filter(|k| *k != "other")
        .collect();
    assert_eq!(kinds, ["int8", "calibrated", "finished"]);

    // Like a trained run, the import records first what the job planned and read.
    let started = |id: &str| {
        store
            .events(id)
            .unwrap()
            .into_iter()
            .find_map(|e| match e {
                TrainEvent::Started {
                    epochs,
                    steps_per_epoch,
                    total_steps,
                    train_rows,
                    validation_rows,
                    multi_label,
                    ..
                } => Some((
                    epochs,
                    steps_per_epoch,
                    total_steps,
                    train_rows,
                    validation_rows,
                    multi_label,
                )),
                _ => None,
            })
            .expect("a Started event")
    };
    let train_rows = rows["train"].as_array().unwrap().len();
    let source_epochs = store.get(&imported).unwrap().config.epochs;
    assert_eq!(
        started(&imported),
        (
            source_epochs,
            4,
            4 * source_epochs,
            train_rows,
            truth.len(),
            false
        )
    );

    // A job cut short by --max-steps (of a 3-epoch run) evaluated once: the run holds
    // one epoch of those steps, in its settings as in its events.
    let mut short = result(&predicted);
    short["source"]["config"]["epochs"] = json!(3);
    short["maxSteps"] = json!(4);
    write_result(short);
    let cut = store.import_trainer_output(&output).unwrap();
    assert_eq!(store.get(&cut).unwrap().config.epochs, 1);
    assert_eq!(started(&cut), (1, 4, 4, train_rows, truth.len(), false));
    // By epochs, a 3-epoch job that evaluated once planned 3 epochs of 4 steps.
    let mut by_epochs = result(&predicted);
    by_epochs["source"]["config"]["epochs"] = json!(3);
    write_result(by_epochs);
    let planned = store.import_trainer_output(&output).unwrap();
    assert_eq!(store.get(&planned).unwrap().config.epochs, 3);
    assert_eq!(
        started(&planned),
        (3, 4, 12, train_rows, truth.len(), false)
    );
}

#[test]
fn a_folder_without_a_job_result_is_refused_clearly() {
    let work = tempfile::tempdir().unwrap();
    let store = RunStore::new(work.path().join("runs"));
    let err = store.import_trainer_output(work.path()).unwrap_err();
    assert!(err.to_string().contains("dialect-import.json"), "{err}");
    std::fs::write(work.path().join("dialect-import.json"), "{\"labels\": 3}").unwrap();
    let err = store.import_trainer_output(work.path()).unwrap_err();
    assert!(
        err.to_string()
            .contains("is not the result of a Trainer job"),
        "{err}"
    );
}

/// A multi-label job's output records what a trained multi-label run records first: that
/// it scores label sets (so its accuracy is the subset accuracy), and its plan.
#[test]
fn a_multi_label_job_output_imports_as_a_label_set_run() {
    let work = tempfile::tempdir().unwrap();
    let csv = work.path().join("tags.csv");
    common::write_multi_label_csv(&csv, 8);
    let data = common::multi_label_spec(
        &csv,
        LabelForm::Separated {
            separator: Some(';'),
        },
    );
    let rows = data.load(true).unwrap().data;
    let class = |label: &String| rows.labels.iter().position(|l| l == label).unwrap();
    let truth: Vec<Vec<usize>> = rows
        .validation
        .iter()
        .map(|e| e.labels.as_ref().unwrap().iter().map(class).collect())
        .collect();
    assert!(
        truth.iter().any(|set| set.len() > 1),
        "no row with two labels"
    );
    // Every set right but the first, which is given one label too many.
    let mut predicted = truth.clone();
    let extra = (0..rows.labels.len())
        .find(|c| !predicted[0].contains(c))
        .unwrap();
    predicted[0].push(extra);
    let config = common::tiny_config(work.path());
    let output = work.path().join("output");
    copy_model(&common::tiny_model("bert"), &output.join("model")).unwrap();
    // The job's model: the tiny BERT with the data's labels and a sigmoid head, as
    // train.py saves it.
    let model_config = output.join("model/config.json");
    let mut hf: Value =
        serde_json::from_str(&std::fs::read_to_string(&model_config).unwrap()).unwrap();
    let single_label_config = hf.clone();
    hf["id2label"] = rows
        .labels
        .iter()
        .enumerate()
        .map(|(i, l)| (i.to_string(), json!(l)))
        .collect();
    hf["label2id"] = rows
        .labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.clone(), json!(i)))
        .collect();
    hf["problem_type"] = json!("multi_label_classification");
    std::fs::write(&model_config, hf.to_string()).unwrap();
    let result = json!({
        "source": { "config": config, "data": data },
        "data": csv,
        "baseModel": config.model,
        "labels": rows.labels,
        "multiLabel": true,
        "truth": truth,
        "epochs": [{
            "epoch": 1, "step": 6, "trainLoss": 0.7, "evalLoss": 0.6,
            "seconds": 0.5, "samplesPerSecond": 20.0, "predicted": predicted,
        }],
        "bestEpoch": 1,
        "steps": 6,
        "maxSteps": 6,
        "seconds": 2.0,
        "device": "cpu",
    });
    std::fs::write(output.join("dialect-import.json"), result.to_string()).unwrap();
    let store = RunStore::new(work.path().join("runs"));
    // A model that is not the result's (another head, other labels) is refused.
    std::fs::write(&model_config, single_label_config.to_string()).unwrap();
    let err = store
        .import_trainer_output(&output)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("single-label") && err.contains("its result names multi-label"),
        "{err}"
    );
    assert!(
        store.list().unwrap().is_empty(),
        "a refused import made a run"
    );
    std::fs::write(&model_config, hf.to_string()).unwrap();
    let id = store.import_trainer_output(&output).unwrap();

    let events = store.events(&id).unwrap();
    let Some(TrainEvent::Started {
        multi_label,
        epochs,
        total_steps,
        validation_rows,
        ..
    }) = events.first()
    else {
        panic!("the import starts with {:?}", events.first());
    };
    assert!(*multi_label);
    assert_eq!((*epochs, *total_steps), (1, 6));
    assert_eq!(*validation_rows, truth.len());
    let summary = store.get(&id).unwrap().summary.unwrap();
    let n = truth.len() as f64;
    let metrics = &summary.epochs[0].metrics;
    assert!((metrics.accuracy - (n - 1.0) / n).abs() < 1e-12);
    assert!(metrics.label_sets.is_some());
    // Each label's threshold tuned on the validation rows, as training does.
    let card = ModelCard::load(&store.model_dir(&id).unwrap()).unwrap();
    let tuned = card.multi_label.expect("a multi-label card");
    assert_eq!(tuned.thresholds.len(), rows.labels.len());
    assert!(tuned.thresholds.iter().all(|t| *t > 0.0 && *t < 1.0));
    let tuned_metrics = tuned.metrics.expect("the tuned thresholds' metrics");
    assert!(events.iter().any(
        |e| matches!(e, TrainEvent::ThresholdsTuned { metrics } if *metrics == tuned_metrics)
    ));
    assert!(card.int8.is_none() && card.calibration.is_none());
}
