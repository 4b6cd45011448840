// The UI ↔ Rust contract (src-tauri/COMMANDS.md): engine types as they serialise
// (serde camelCase; tuples as arrays; Option as null) and one wrapper per command.

import { Channel, invoke } from '@tauri-apps/api/core';

// ---------------------------------------------------------------- errors

export type AppErrorKind =
  | 'data'
  | 'dataChanged'
  | 'io'
  | 'model'
  | 'modelNotFound'
  | 'config'
  | 'device'
  | 'diverged'
  | 'outOfMemory'
  | 'tokenizer'
  | 'busy'
  | 'notFound'
  | 'internal';

/** How every command rejects. */
export interface AppError {
  kind: AppErrorKind | string;
  message: string;
}

export function isAppError(e: unknown): e is AppError {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as AppError).kind === 'string' &&
    typeof (e as AppError).message === 'string'
  );
}

const KIND_TITLES: Record<string, string> = {
  data: 'Data problem',
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

// ---------------------------------------------------------------- dataset

export type ColumnRole = 'text' | 'label' | 'id' | 'number' | 'date' | 'empty' | 'other';

export interface ColumnProfile {
  name: string;
  role: ColumnRole;
  filled: number;
  fillRate: number;
  distinct: number;
  distinctCapped: boolean;
  meanChars: number;
  maxChars: number;
  /** For label candidates: every value with its count, most frequent first. */
  values: [string, number][];
}

export type Format = { kind: 'delimited'; delimiter: string } | { kind: 'jsonl' };

export interface ReaderWarning {
  kind: string;
  message: string;
  count: number;
  lines: number[];
}

export interface Profile {
  path: string;
  format: Format;
  encoding: string;
  rows: number;
  columns: ColumnProfile[];
  /** The first rows: [line number, cells]. */
  samples: [number, string[]][];
  suggestedText: string | null;
  suggestedLabel: string | null;
  warnings: ReaderWarning[];
}

export interface TextSpec {
  columns: string[];
  separator: string;
}

export interface MergeSuggestion {
  into: string;
  members: [string, number][];
}

export type Severity = 'info' | 'warning' | 'blocking';

export interface Finding {
  code: string;
  severity: Severity;
  count: number;
  message: string;
  lines: number[];
  fix: string;
}

/** A check that was not made, so "no finding" says nothing about it. */
export interface NotMeasured {
  /** The finding's code, e.g. "truncation" or "leakage". */
  code: string;
  /** Why not, and when it will be. */
  reason: string;
}

export interface QualityReport {
  findings: Finding[];
  classCounts: [string, number][];
  notMeasured?: NotMeasured[];
}

export interface Inspection {
  profile: Profile;
  text: TextSpec | null;
  labelColumn: string | null;
  rowsUsed: number;
  /** The most frequent raw label values (at most 1,000) with counts. */
  rawLabels: [string, number][];
  /** How many different raw label values there are in all. */
  rawLabelValues?: number;
  merges: MergeSuggestion[];
  report: QualityReport | null;
  note: string | null;
}

/** The validation split training will make (same settings, same split). */
export interface SplitPlan {
  validationFraction: number;
  seed: number;
  maxRows: number | null;
}

/** What the data check measures beyond the file: truncation for a model, leakage across a split. */
export interface Checks {
  model?: string;
  maxLength?: number;
  split?: SplitPlan;
}

export type Unmapped = 'keep' | 'drop';

export interface LabelMap {
  /** Raw value → class, or null to drop rows with that value. */
  mapping: Record<string, string | null>;
  unmapped: Unmapped;
}

export interface SampleData {
  path: string;
  name: string;
  attribution: string;
}

export interface RowText {
  line: number;
  text: string;
}

// ---------------------------------------------------------------- models, devices

export interface ModelStatus {
  id: string;
  /** Snapshot folder when on disk; null = needs a download. */
  cached: string | null;
}

export type DownloadEvent =
  | { type: 'file'; file: string; index: number; files: number }
  | { type: 'progress'; file: string; done: number; total: number }
  | { type: 'done' };

export type DeviceKind = 'cpu' | 'cuda' | 'metal';
export type DeviceChoice = 'auto' | DeviceKind;

export interface DeviceInfo {
  choice: DeviceKind;
  available: boolean;
  /** Why not, when unavailable. */
  note: string | null;
  /** The hardware, e.g. "NVIDIA H100 80GB HBM3" or "AMD EPYC 7B13 (2 threads)". */
  name: string | null;
  /** Total and free memory in bytes (GPUs only). */
  memoryBytes: number | null;
  freeBytes: number | null;
  /** Whether the device trains in bf16 mixed precision. */
  bf16: boolean;
}

/** One comparison of a device self-test. */
export interface CheckItem {
  name: string;
  passed: boolean;
  /** The measured figure against its limit. */
  detail: string;
}

/** A device's self-test against the CPU at one precision. */
export interface DeviceCheck {
  /** e.g. "cpu" or "cuda:0". */
  device: string;
  precision: 'f32' | 'bf16';
  items: CheckItem[];
}

// ---------------------------------------------------------------- training

export type BestMetric = 'accuracy' | 'macroF1';

/** Compute precision; auto = bf16 mixed precision where the device supports it, else f32. */
export type Precision = 'auto' | 'f32' | 'bf16';

/** How a run learns: fine-tune every weight, or the instant baseline (frozen encoder,
 * mean-pooled features, a linear classifier). */
export type Method = 'fineTune' | 'baseline';

export interface TrainConfig {
  model: string;
  outputDir: string;
  epochs: number;
  batchSize: number;
  evalBatchSize: number;
  learningRate: number;
  weightDecay: number;
  warmupSteps: number;
  maxGradNorm: number;
  maxLength: number;
  seed: number;
  bestMetric: BestMetric;
  earlyStoppingPatience: number | null;
  validationFraction: number;
  groupByLength: boolean;
  device: DeviceChoice;
  precision: Precision;
  method: Method;
  /** Replace a base classifier's head that does not fit the classes (else refused). */
  newHead: boolean;
  /** Where the resumable state of each epoch goes (set by the run store). */
  checkpointDir: string | null;
}

/** The lowest and highest value a numeric training setting may take. */
export interface Bounds {
  min: number;
  max: number;
}

/** The engine's bounds of every numeric training setting (src/train/config.rs). */
export interface Limits {
  epochs: Bounds;
  batchSize: Bounds;
  evalBatchSize: Bounds;
  warmupSteps: Bounds;
  maxLength: Bounds;
  earlyStoppingPatience: Bounds;
  validationFraction: Bounds;
  maxRows: Bounds;
}

export interface DataSpec {
  path: string;
  text: TextSpec;
  labelColumn: string;
  labelMap: LabelMap | null;
  validation: string | null;
  /** Stratified subsample of the file before the split; null = all rows. */
  maxRows?: number | null;
}

export interface TrainRequest {
  data: DataSpec;
  config: Partial<TrainConfig>;
  force: boolean;
}

export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface Metrics {
  accuracy: number;
  macroF1: number;
  perClass: ClassMetrics[];
  /** confusion[true][predicted], in label order. */
  confusion: number[][];
  count: number;
}

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  evalLoss: number;
  metrics: Metrics;
  seconds: number;
  samplesPerSecond: number;
}

export interface RunSummary {
  outputDir: string;
  labels: string[];
  epochs: EpochRecord[];
  bestEpoch: number | null;
  bestMetric: string;
  bestValue: number | null;
  steps: number;
  seconds: number;
  cancelled: boolean;
  stoppedEarly: boolean;
  device: string;
}

export type TrainEvent =
  | {
      type: 'started';
      model: string;
      device: string;
      labels: string[];
      trainRows: number;
      validationRows: number;
      epochs: number;
      stepsPerEpoch: number;
      totalSteps: number;
      maxLength: number;
      truncatedRows: number;
      newlyInitialised: string[];
      /** "f32" or "bf16" (empty in runs recorded before precision was reported). */
      precision: string;
    }
  /** Baseline only, in place of steps: texts encoded so far (training + validation). */
  | { type: 'encoding'; done: number; total: number }
  | {
      type: 'step';
      epoch: number;
      step: number;
      totalSteps: number;
      loss: number;
      learningRate: number;
      gradNorm: number;
      samplesPerSecond: number;
    }
  | {
      type: 'evaluated';
      epoch: number;
      step: number;
      trainLoss: number;
      evalLoss: number;
      samplesPerSecond: number;
      metrics: Metrics;
    }
  | { type: 'checkpointSaved'; epoch: number; metric: string; value: number; path: string }
  /** CPU runs, before `finished`: the best model's int8 check on the validation split. */
  | { type: 'int8Checked'; check: Int8Check }
  | { type: 'finished'; summary: RunSummary }
  | { type: 'cancelled'; step: number; summary: RunSummary }
  | { type: 'failed'; message: string };

export interface AttachResult {
  runId: string;
  running: boolean;
  events: TrainEvent[];
}

// ---------------------------------------------------------------- evaluate, predict

export interface EvalRow {
  line: number | null;
  text: string;
  truth: string;
  predicted: string;
  confidence: number;
}

/** Whether an evaluation's rows are provably the run's validation rows. */
export type ValidationCheck =
  /** Checked against the fingerprint the run recorded; `note` when a file changed without touching them. */
  | { kind: 'verified'; note: string | null }
  /** An older run without a fingerprint: a fresh split of the file as it is now. */
  | { kind: 'notVerifiable'; reason: string };

export interface Evaluation {
  metrics: Metrics;
  labels: string[];
  rows: EvalRow[];
  validation: ValidationCheck;
}

export interface ClassScore {
  label: string;
  probability: number;
}

export interface Prediction {
  label: string;
  confidence: number;
  scores: ClassScore[];
}

export interface FileProgress {
  done: number;
  total: number;
}

export interface PredictFileResult {
  rows: number;
  output: string;
}

// ---------------------------------------------------------------- runs

export type RunStatus = 'running' | 'finished' | 'cancelled' | 'failed' | 'interrupted';

export interface RunRecord {
  id: string;
  /** Seconds since the Unix epoch. */
  createdAt: number;
  status: RunStatus;
  config: TrainConfig;
  data: DataSpec;
  summary: RunSummary | null;
  /** Best value of the chosen metric so far, and its epoch: [epoch, value]. */
  best: [number, number] | null;
  error: string | null;
  /** The process that records (or recorded) the run. */
  pid?: number | null;
  /** The data's fingerprint when the run started; absent for runs of older versions. */
  fingerprint?: DataFingerprint | null;
  /** Ended unfinished with the checkpoint of a completed epoch: Resume continues it. */
  resumable?: boolean;
}

export interface DataFingerprint {
  dataSha256: string;
  validationSha256: string | null;
  labelMapSha256: string | null;
  validationRows: number;
}

export interface RunDetail {
  record: RunRecord;
  events: TrainEvent[];
}

export interface AppInfo {
  version: string;
  runsDir: string;
  offline: boolean;
}

// ---------------------------------------------------------------- commands

function channel<T>(onMessage: (message: T) => void): Channel<T> {
  const ch = new Channel<T>();
  ch.onmessage = onMessage;
  return ch;
}

// Data
export const pickDataFile = () => invoke<string | null>('pick_data_file');
export const sampleData = () => invoke<SampleData>('sample_data');
/** Resolves to null when cancelled (by cancelInspection or a newer inspection). */
export const inspectData = (
  path: string,
  text: string[] | null,
  labelColumn: string | null,
  labelMap: LabelMap | null,
  checks: Checks | null = null,
) => invoke<Inspection | null>('inspect_data', { path, text, labelColumn, labelMap, checks });
export const cancelInspection = () => invoke<void>('cancel_inspection');
export const rowTexts = (path: string, text: string[], lines: number[]) =>
  invoke<RowText[]>('row_texts', { path, text, lines });
export const saveLabelMap = (map: LabelMap) => invoke<string | null>('save_label_map', { map });
export const loadLabelMap = () => invoke<LabelMap | null>('load_label_map');

// Train
export const trainLimits = () => invoke<Limits>('train_limits');
export const listModels = () => invoke<ModelStatus[]>('list_models');
/** The native folder dialog for a local model; the chosen folder may then be used as a model (null = cancelled). */
export const pickModelFolder = () => invoke<ModelStatus | null>('pick_model_folder');
export const checkModel = (model: string) => invoke<ModelStatus>('check_model', { model });
export const downloadModel = (model: string, onProgress: (e: DownloadEvent) => void) =>
  invoke<string>('download_model', { model, onProgress: channel(onProgress) });
export const listDevices = () => invoke<DeviceInfo[]>('list_devices');
export const checkDevice = (choice: DeviceChoice) => invoke<DeviceCheck[]>('check_device', { choice });
export const startTraining = (request: TrainRequest, onEvent: (e: TrainEvent) => void) =>
  invoke<string>('start_training', { request, onEvent: channel(onEvent) });
/** Continue a cancelled, failed or interrupted run from its last completed epoch. */
export const resumeTraining = (runId: string, onEvent: (e: TrainEvent) => void) =>
  invoke<string>('resume_training', { runId, onEvent: channel(onEvent) });
export const cancelTraining = () => invoke<void>('cancel_training');
export const attachTraining = (onEvent: (e: TrainEvent) => void) =>
  invoke<AttachResult | null>('attach_training', { onEvent: channel(onEvent) });

// Evaluate, try
export const evaluateRun = (runId: string) => invoke<Evaluation>('evaluate_run', { runId });
/** How the encoder computes: f32, or int8 products on the CPU. */
export type PredictionPrecision = 'f32' | 'int8';

/** How int8 prediction compared with f32 on labelled data (kept in the model's card). */
export interface Int8Check {
  /** "validation split", or the labelled file's path. */
  data: string;
  rows: number;
  /** Share of rows with the same predicted class as f32. */
  agreement: number;
  f32Accuracy: number;
  int8Accuracy: number;
  f32MacroF1: number;
  int8MacroF1: number;
  maxProbabilityChange: number;
}

/** The most accuracy int8 may lose for a model to predict in int8 by default. */
export const MAX_INT8_ACCURACY_LOSS = 0.005;

export interface PredictorInfo {
  precision: PredictionPrecision;
  /** int8 is a choice on the CPU only. */
  cpu: boolean;
  int8: Int8Check | null;
}

/** Load a run's model for prediction; `precision` null: its default (int8 on the CPU when its check passed). */
export const predictorInfo = (runId: string, precision: PredictionPrecision | null) =>
  invoke<PredictorInfo>('predictor_info', { runId, precision });
export const predict = (runId: string, texts: string[], precision: PredictionPrecision | null = null) =>
  invoke<Prediction[]>('predict', { runId, texts, precision });
/** Classify a file the person picks, composing texts from the columns the run was trained on. */
export const predictFile = (
  runId: string,
  onProgress: (p: FileProgress) => void,
  precision: PredictionPrecision | null = null,
) => invoke<PredictFileResult | null>('predict_file', { runId, precision, onProgress: channel(onProgress) });

// Runs
export const listRuns = () => invoke<RunRecord[]>('list_runs');
export const getRun = (runId: string) => invoke<RunDetail>('get_run', { runId });
export const deleteRun = (runId: string) => invoke<void>('delete_run', { runId });
export const exportRun = (runId: string) => invoke<string | null>('export_run', { runId });
export const appInfo = () => invoke<AppInfo>('app_info');
/** Tell the app the first frame is on screen (it logs the moment, for bench/app.sh). */
export const uiReady = () => invoke<number>('ui_ready');

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

/** Rough download sizes of the preset models. */
export const MODEL_SIZES: Record<string, string> = {
  'distilbert-base-uncased': '≈ 270 MB',
  'bert-base-uncased': '≈ 440 MB',
  'sentence-transformers/all-MiniLM-L6-v2': '≈ 90 MB',
};
