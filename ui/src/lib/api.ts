// The UI ↔ Rust contract (src-tauri/COMMANDS.md): one thin wrapper per command, and small
// helpers. Every type that crosses the boundary is generated from the Rust types into
// ./contract.ts (scripts/contract.sh) and re-exported here.

import { Channel, invoke } from '@tauri-apps/api/core';
import type {
  AppError,
  AppInfo,
  Attached,
  Catalogue,
  Checks,
  CorrectedExport,
  Corrections,
  DataSpec,
  DeviceCheck,
  DeviceChoice,
  DeviceInfo,
  DownloadEvent,
  ErrorKind,
  EstimateReport,
  EstimateRequest,
  Explanation,
  FileProgress,
  FileResult,
  Inspection,
  LabelForm,
  LabelMap,
  Method,
  ModelStatus,
  PiiKind,
  Prediction,
  PredictionPrecision,
  PredictorInfo,
  Review,
  RoutingThreshold,
  RowText,
  RunDetail,
  RunDiff,
  RunRecord,
  RunRequest,
  Sample,
  ServiceInfo,
  Setting,
  SuspectProgress,
  SuspectReport,
  SuspectSource,
  TrainEvent,
  ValidationSummary,
} from './contract';

export type {
  AppError,
  AppErrorCode,
  AppInfo,
  Attached,
  BestMetric,
  Bounds,
  Breakdown,
  Calibration,
  Catalogue,
  CheckItem,
  Checks,
  ClassCoverage,
  ClassMetrics,
  ClassScore,
  ColumnProfile,
  ColumnRole,
  CorrectedExport,
  Correction,
  CorrectionReport,
  Corrections,
  Coverage,
  CoverageCurve,
  DataFingerprint,
  DataSpec,
  DeviceCheck,
  DeviceChoice,
  DeviceInfo,
  DiffBasis,
  DownloadEvent,
  EpochRecord,
  ErrorCode,
  ErrorKind,
  EstimateReport,
  EstimateRequest,
  Explanation,
  FileProgress,
  FileResult,
  Finding,
  FitSuggestion,
  Format,
  Inspection,
  Int8Check,
  LabelConfusion,
  LabelForm,
  LabelMap,
  LanguageAdvice,
  LanguageReport,
  LanguageShare,
  LanguageSource,
  Languages,
  Limits,
  MeasurementInfo,
  MemoryEstimate,
  MergeSuggestion,
  Method,
  Metrics,
  ModelLanguages,
  ModelStatus,
  NotMeasured,
  Note,
  OperatingPoint,
  Overlap,
  OverlapPair,
  PiiExample,
  PiiKind,
  PiiKindSurvey,
  PiiSpan,
  PiiSurvey,
  Precision,
  Prediction,
  PredictionPrecision,
  PredictorInfo,
  Preset,
  Profile,
  QualityReport,
  ReliabilityBin,
  Review,
  ReviewedRow,
  Route,
  RoutingThreshold,
  RowText,
  RunDetail,
  RunDiff,
  Change,
  ChangedRow,
  RunRecord,
  RunRequest,
  RunStatus,
  RunSummary,
  Sample,
  ServiceInfo,
  Setting,
  Suspect,
  SuspectProgress,
  SuspectReport,
  SuspectSource,
  SettingInfo,
  Severity,
  SplitPlan,
  TextPiece,
  TextSpec,
  TrainConfig,
  TrainEvent,
  TrainingEstimate,
  Trust,
  Unmapped,
  ValidationCheck,
  ValidationSummary,
  VocabularyFit,
  VocabularyVerdict,
  Warning,
  Warnings,
  WordScore,
} from './contract';

// ---------------------------------------------------------------- errors

export function isAppError(e: unknown): e is AppError {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as AppError).kind === 'string' &&
    typeof (e as AppError).message === 'string'
  );
}

const KIND_TITLES: Record<ErrorKind, string> = {
  data: 'Data problem',
  blocked: 'Blocking data problems',
  dataChanged: 'Data changed since training',
  io: 'File problem',
  model: 'Model problem',
  modelNotFound: 'Model not found',
  config: 'Setting problem',
  device: 'Device problem',
  diverged: 'Training diverged',
  outOfMemory: 'Out of memory',
  tokenizer: 'Tokenizer problem',
  busy: 'Busy',
  notFound: 'Not found',
  forbidden: 'Not allowed',
  internal: 'Internal error',
};

/** A short title for an error's kind. */
export function errorTitle(e: unknown): string {
  if (isAppError(e)) return KIND_TITLES[e.kind] ?? 'Error';
  return 'Error';
}

/** Any rejection (AppError, Error, string, anything) as a sentence for a person. */
export function errorMessage(e: unknown): string {
  if (isAppError(e)) return e.message || KIND_TITLES[e.kind] || e.kind;
  if (e instanceof Error) return e.message || e.name;
  if (typeof e === 'string') return e || 'Unknown error';
  if (e && typeof e === 'object' && 'message' in e) {
    const m = (e as { message: unknown }).message;
    if (typeof m === 'string' && m) return m;
  }
  try {
    const s = JSON.stringify(e);
    if (s && s !== '{}' && s !== 'null' && s !== undefined) return s;
  } catch {
    /* fall through */
  }
  return 'Unknown error';
}

/** The settings that can fix an error (none for other rejections). */
export function errorSettings(e: unknown): Setting[] {
  return isAppError(e) && Array.isArray(e.settings) ? e.settings : [];
}

// ---------------------------------------------------------------- commands

function channel<T>(onMessage: (message: T) => void): Channel<T> {
  const ch = new Channel<T>();
  ch.onmessage = onMessage;
  return ch;
}

// App
export const appInfo = () => invoke<AppInfo>('app_info');
/** Tell the app the first frame is on screen (it logs the moment, for bench/app.sh). */
export const uiReady = () => invoke<number>('ui_ready');

// Data
export const pickDataFile = () => invoke<string | null>('pick_data_file');
export const sampleData = () => invoke<Sample>('sample_data');
/** The analyst's own validation file (native dialog); null when cancelled. */
export const pickValidationFile = () => invoke<string | null>('pick_validation_file');
/** The validation file of `data` read as training reads it: rows, classes, overlap with training. */
export const checkValidationFile = (data: DataSpec) =>
  invoke<ValidationSummary | null>('check_validation_file', { data });
/** Resolves to null when cancelled (by cancelInspection or a newer inspection). */
export const inspectData = (
  path: string,
  text: string[] | null,
  labelColumn: string | null,
  labelMap: LabelMap | null,
  checks: Checks | null = null,
  labelForm: LabelForm | null = null,
) => invoke<Inspection | null>('inspect_data', { path, text, labelColumn, labelMap, checks, labelForm });
export const cancelInspection = () => invoke<void>('cancel_inspection');
/** Rows by line; with `labelColumn`, each row's class after `labelMap` (null when dropped). */
export const rowTexts = (
  path: string,
  text: string[],
  lines: number[],
  labelColumn: string | null = null,
  labelMap: LabelMap | null = null,
  labelForm: LabelForm | null = null,
) => invoke<RowText[]>('row_texts', { path, text, lines, labelColumn, labelMap, labelForm });
export const saveLabelMap = (map: LabelMap) => invoke<string | null>('save_label_map', { map });
export const loadLabelMap = () => invoke<LabelMap | null>('load_label_map');

// Corrections (kept per data file by the app)
export const correctionsFor = (path: string) => invoke<Corrections>('corrections_for', { path });
/** Give a ticket another class, or drop it (`label` null); back to `given` removes the correction. */
export const correctTicket = (path: string, line: number, text: string, given: string, label: string | null) =>
  invoke<Corrections>('correct_ticket', { path, line, text, given, label });
export const undoCorrection = (path: string, line: number, hash: string) =>
  invoke<Corrections>('undo_correction', { path, line, hash });
export const loadCorrections = (path: string) => invoke<Corrections | null>('load_corrections', { path });
export const saveCorrections = (path: string) => invoke<string | null>('save_corrections', { path });
/** Rank the tickets whose label is probably wrong; null when cancelled (cancelSuspects or a newer search). */
export const findSuspects = (source: SuspectSource, onProgress: (p: SuspectProgress) => void) =>
  invoke<SuspectReport | null>('find_suspects', { source, onProgress: channel(onProgress) });
export const cancelSuspects = () => invoke<void>('cancel_suspects');
export const exportCorrected = (path: string, text: string[], labelColumn: string, labelMap: LabelMap | null) =>
  invoke<[string, CorrectedExport] | null>('export_corrected', { path, text, labelColumn, labelMap });

// Settings
/** The training settings from the engine: defaults, bounds, presets, labels and help, models. */
export const trainingSettings = () => invoke<Catalogue>('training_settings');

// Train
export const listModels = () => invoke<ModelStatus[]>('list_models');
/** The native folder dialog for a local model; the chosen folder may then be used as a model (null = cancelled). */
export const pickModelFolder = () => invoke<ModelStatus | null>('pick_model_folder');
export const checkModel = (model: string) => invoke<ModelStatus>('check_model', { model });
export const downloadModel = (model: string, onProgress: (e: DownloadEvent) => void) =>
  invoke<string>('download_model', { model, onProgress: channel(onProgress) });
export const listDevices = () => invoke<DeviceInfo[]>('list_devices');
export const checkDevice = (choice: DeviceChoice) => invoke<DeviceCheck[]>('check_device', { choice });
/** How long a run would take and whether it fits in memory, from a few training steps measured on this machine
 * (kept and reused for the model, device and precision); with `fitMinutes`, also what fits in that time.
 * null when cancelled (cancelEstimate, a newer estimate, a run starting). */
export const estimateTraining = (request: EstimateRequest) =>
  invoke<EstimateReport | null>('estimate_training', { request });
export const cancelEstimate = () => invoke<void>('cancel_estimate');
export const startTraining = (request: RunRequest, onEvent: (e: TrainEvent) => void) =>
  invoke<string>('start_training', { request, onEvent: channel(onEvent) });
/** Continue a cancelled, failed or interrupted run from its last completed epoch. */
export const resumeTraining = (runId: string, onEvent: (e: TrainEvent) => void) =>
  invoke<string>('resume_training', { runId, onEvent: channel(onEvent) });
export const cancelTraining = () => invoke<void>('cancel_training');
/** Train a run again with its settings, the corrections now kept for its data file, and personal data of the kinds in `scrub` replaced (null: as the run did). */
export const retrainRun = (runId: string, scrub: PiiKind[] | null, onEvent: (e: TrainEvent) => void) =>
  invoke<string>('retrain_run', { runId, scrub, onEvent: channel(onEvent) });
export const attachTraining = (onEvent: (e: TrainEvent) => void) =>
  invoke<Attached | null>('attach_training', { onEvent: channel(onEvent) });

// Review, try
/** A run's best model on its validation rows: metrics and every row. */
export const reviewRun = (runId: string) => invoke<Review>('review_run', { runId });
/** Load a run's model for prediction; `precision` null: its default (int8 on the CPU when its check passed). */
export const predictorInfo = (runId: string, precision: PredictionPrecision | null) =>
  invoke<PredictorInfo>('predictor_info', { runId, precision });
/** Keep a routing threshold with a run's model (null clears it): its predictions, the Try box's included, route with it from now on. */
export const setRunThreshold = (runId: string, routing: RoutingThreshold | null) =>
  invoke<void>('set_run_threshold', { runId, routing });
export const predict = (runId: string, texts: string[], precision: PredictionPrecision | null = null) =>
  invoke<Prediction[]>('predict', { runId, texts, precision });
/** Why a run's model gives `text` its class: each word's effect on every class, measured by deleting it (one call answers for every class). */
export const explain = (runId: string, text: string, precision: PredictionPrecision | null = null) =>
  invoke<Explanation>('explain', { runId, text, precision });
/** Classify a file the person picks, composing texts from the columns the run was trained on. */
export const predictFile = (
  runId: string,
  onProgress: (p: FileProgress) => void,
  precision: PredictionPrecision | null = null,
) => invoke<FileResult | null>('predict_file', { runId, precision, onProgress: channel(onProgress) });

// Runs
export const listRuns = () => invoke<RunRecord[]>('list_runs');
export const getRun = (runId: string) => invoke<RunDetail>('get_run', { runId });
/** Compare two runs on their validation rows, or on every labelled row of file `on`. */
export const diffRuns = (before: string, after: string, on: string | null = null) =>
  invoke<RunDiff>('diff_runs', { before, after, on });
export const deleteRun = (runId: string) => invoke<void>('delete_run', { runId });
export const exportRun = (runId: string) => invoke<string | null>('export_run', { runId });
export const exportRunOnnx = (runId: string) => invoke<string | null>('export_run_onnx', { runId });
export const exportTrainerJob = (runId: string) => invoke<string | null>('export_trainer_job', { runId });
/** Record a Trainer job's output folder (picked in a dialog) as a run; its id, or null. */
export const importRun = () => invoke<string | null>('import_run');

// Serve this model
/** Serve run `runId`'s model on 127.0.0.1:`port` (null: a free port), replacing the service running. */
export const serveRun = (runId: string, port: number | null = null) =>
  invoke<ServiceInfo>('serve_run', { runId, port });
export const stopServing = () => invoke<void>('stop_serving');
/** Where the service answers, or null when none runs. */
export const serving = () => invoke<ServiceInfo | null>('serving');

// ---------------------------------------------------------------- small helpers

/** The last path component (either slash). */
export function fileName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

/** Bytes as "79.1 GiB" (binary gigabytes, as GPU tools count them). */
export function gigabytes(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

/** A device's hardware and memory, e.g. "NVIDIA H100 80GB HBM3 · 79.1 GiB (78.5 GiB free)". */
export function deviceDescription(d: DeviceInfo): string {
  const free = d.freeBytes === null ? '' : ` (${gigabytes(d.freeBytes)} free)`;
  const memory = d.memoryBytes === null ? null : gigabytes(d.memoryBytes) + free;
  return [d.name, memory].filter(Boolean).join(' · ');
}

/** A method as the UI names it. */
export const METHOD_TITLES: Record<Method, string> = { fineTune: 'Fine-tune', baseline: 'Baseline' };

/** Model id as used in test ids: `/` replaced by `__`. */
export function modelTestId(id: string): string {
  return id.replace(/\//g, '__');
}
