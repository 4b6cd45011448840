// Engine-shaped data for tests, and helpers to drive mocked commands and channels.

import type { Channel } from '@tauri-apps/api/core';
import { mockIPC } from '@tauri-apps/api/mocks';
import type {
  Calibration,
  Catalogue,
  Change,
  ChangedRow,
  Correction,
  CoverageCurve,
  DeviceCheck,
  DeviceInfo,
  Finding,
  Inspection,
  Metrics,
  PiiKindSurvey,
  PiiSurvey,
  ReliabilityBin,
  Review,
  RunDiff,
  RunRecord,
  RunSummary,
  Suspect,
  SuspectReport,
  TrainConfig,
  TrainEvent,
  Trust,
} from '../lib/api';
import { pointAt } from '../lib/coverage';
import { PII_KINDS } from '../lib/pii';

export function inspection(opts: {
  raws?: [string, number][];
  merges?: Inspection['merges'];
  findings?: Finding[];
  classCounts?: [string, number][];
  pii?: PiiSurvey;
} = {}): Inspection {
  const raws: [string, number][] = opts.raws ?? [
    ['Bug', 40],
    ['feature request', 30],
    ['question', 20],
    ['bug', 5],
    ['Feature-Request', 3],
    ['spam', 2],
  ];
  const rows = raws.reduce((s, [, n]) => s + n, 0);
  return {
    profile: {
      path: '/data/tickets.csv',
      format: { kind: 'delimited', delimiter: ',' },
      encoding: 'utf-8',
      rows,
      columns: [
        { name: 'id', role: 'id', filled: rows, fillRate: 1, distinct: rows, distinctCapped: false, meanChars: 4, maxChars: 5, values: [] },
        { name: 'subject', role: 'text', filled: rows, fillRate: 1, distinct: rows, distinctCapped: false, meanChars: 30, maxChars: 80, values: [] },
        { name: 'body', role: 'text', filled: rows - 3, fillRate: (rows - 3) / rows, distinct: rows - 3, distinctCapped: false, meanChars: 200, maxChars: 900, values: [] },
        { name: 'category', role: 'label', filled: rows, fillRate: 1, distinct: raws.length, distinctCapped: false, meanChars: 8, maxChars: 15, values: raws },
      ],
      samples: [
        [2, ['1', 'App crashes', 'It crashes on start', 'Bug']],
        [3, ['2', 'Dark mode', 'Please add dark mode', 'feature request']],
      ],
      suggestedText: 'body',
      suggestedLabel: 'category',
      warnings: [],
    },
    text: { columns: ['body'], separator: '\n\n' },
    labelColumn: 'category',
    rowsUsed: rows,
    rawLabels: raws,
    rawLabelValues: raws.length,
    merges: opts.merges ?? [
      { into: 'Bug', members: [['Bug', 40], ['bug', 5]] },
      { into: 'feature request', members: [['feature request', 30], ['Feature-Request', 3]] },
    ],
    report: {
      findings: opts.findings ?? [],
      classCounts: opts.classCounts ?? raws,
      notMeasured: [],
    },
    note: null,
    corrections: null,
    pii: opts.pii ?? null,
  };
}

/** A personal-data survey of `tickets` tickets: the kinds `found`, and every other kind
 * found in none (the engine lists them all). */
export function piiSurvey(tickets: number, found: PiiKindSurvey[] = []): PiiSurvey {
  return { tickets, kinds: PII_KINDS.map((kind) => found.find((k) => k.kind === kind) ?? { kind, tickets: 0, examples: [] }) };
}

export function metrics(labels: string[], confusion: number[][]): Metrics {
  const count = confusion.flat().reduce((s, n) => s + n, 0);
  const correct = labels.reduce((s, _, i) => s + confusion[i][i], 0);
  return {
    accuracy: count ? correct / count : 0,
    macroF1: count ? (correct / count) * 0.95 : 0,
    perClass: labels.map((label, i) => ({
      label,
      precision: 0.8,
      recall: 0.7,
      f1: 0.75,
      support: confusion[i].reduce((s, n) => s + n, 0),
    })),
    confusion,
    count,
  };
}

export function summary(over: Partial<RunSummary> = {}): RunSummary {
  const m = metrics(['a', 'b'], [[8, 2], [1, 9]]);
  return {
    outputDir: '/runs/r1/model',
    labels: ['a', 'b'],
    epochs: [
      { epoch: 1, trainLoss: 0.6, evalLoss: 0.5, metrics: { ...m, accuracy: 0.8 }, seconds: 10, samplesPerSecond: 20 },
      { epoch: 2, trainLoss: 0.4, evalLoss: 0.45, metrics: { ...m, accuracy: 0.85 }, seconds: 10, samplesPerSecond: 20 },
    ],
    bestEpoch: 2,
    bestMetric: 'accuracy',
    bestValue: 0.85,
    steps: 20,
    seconds: 20,
    cancelled: false,
    stoppedEarly: false,
    device: 'cpu',
    ...over,
  };
}

export const started: TrainEvent = {
  type: 'started',
  model: 'distilbert-base-uncased',
  device: 'cpu',
  labels: ['a', 'b'],
  trainRows: 160,
  validationRows: 20,
  epochs: 2,
  stepsPerEpoch: 10,
  totalSteps: 20,
  maxLength: 128,
  truncatedRows: 40,
  newlyInitialised: ['classifier.weight'],
  precision: 'f32',
};

/** Why the CUDA-enabled build trains on the CPU of a machine without NVIDIA software. */
export const NO_DRIVER = 'no NVIDIA driver: libcuda.so.1 not found; install the NVIDIA driver, 580 or newer';

/** `list_devices` on a CPU-only machine, or (`gpu`) with an H100 that trains in bf16. */
export function devices(gpu = false): DeviceInfo[] {
  const none = { name: null, memoryBytes: null, freeBytes: null, bf16: false };
  return [
    { choice: 'cpu', available: true, note: null, ...none, name: 'AMD EPYC 7B13 (2 threads)' },
    gpu
      ? { choice: 'cuda', available: true, note: null, name: 'NVIDIA H100 80GB HBM3', memoryBytes: 84_929_757_184, freeBytes: 84_286_193_664, bf16: true }
      : { choice: 'cuda', available: false, note: NO_DRIVER, ...none },
    { choice: 'metal', available: false, note: 'Metal is macOS only', ...none },
  ];
}

/** `check_device`'s result at one precision; the items named in `failing` fail. */
export function deviceCheck(device: string, precision: DeviceCheck['precision'], failing: string[] = []): DeviceCheck {
  const names = ['logits', 'gradients (worst weight)', 'AdamW updates', 'training lowers the loss'];
  return {
    device,
    precision,
    items: names.map((name) => {
      const passed = !failing.includes(name);
      return { name, passed, detail: `relative error ${passed ? '1.2e-3' : '3.4e-1'} (limit 8e-2)` };
    }),
  };
}

export function step(n: number, loss = 1 / n): TrainEvent {
  return {
    type: 'step',
    epoch: n <= 10 ? 1 : 2,
    step: n,
    totalSteps: 20,
    loss,
    learningRate: 2e-5 * (1 - n / 20),
    gradNorm: 1,
    samplesPerSecond: 16,
  };
}

/** A baseline run's `started`: one epoch, its steps the encoding batches. */
export const baselineStarted: TrainEvent = { ...started, epochs: 1, stepsPerEpoch: 3, totalSteps: 3, newlyInitialised: [] };

export function evaluated(epoch: number, accuracy: number): TrainEvent {
  return evaluatedWith(epoch, { ...metrics(['a', 'b'], [[8, 2], [1, 9]]), accuracy, macroF1: accuracy - 0.05 });
}

/** Epoch `epoch`'s evaluation (step `epoch * 10`) with the validation `metrics` given. */
export function evaluatedWith(epoch: number, metrics: Metrics): TrainEvent {
  return { type: 'evaluated', epoch, step: epoch * 10, trainLoss: 0.5, evalLoss: 0.4, samplesPerSecond: 20, metrics };
}

export function runRecord(id: string, over: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    createdAt: 1_700_000_000,
    status: 'finished',
    config: {
      model: 'distilbert-base-uncased',
      outputDir: `/runs/${id}/model`,
      epochs: 2,
      batchSize: 16,
      evalBatchSize: 64,
      learningRate: 2e-5,
      weightDecay: 0.01,
      warmupSteps: 0,
      maxGradNorm: 1,
      maxLength: 128,
      seed: 42,
      bestMetric: 'accuracy',
      earlyStoppingPatience: null,
      groupByLength: false,
      classWeights: 'none',
      sampler: 'shuffle',
      device: 'auto',
      precision: 'auto',
      method: 'fineTune',
      newHead: false,
      checkpointDir: `/runs/${id}/checkpoint`,
    },
    data: {
      path: '/data/tickets.csv',
      text: { columns: ['body'], separator: '\n\n' },
      labelColumn: 'category',
      labelMap: null,
      validation: null,
      split: { validationFraction: 0.1, seed: 42, maxRows: null },
      corrections: null,
    },
    summary: summary(),
    best: [2, 0.85],
    error: null,
    pid: null,
    fingerprint: null,
    resumable: false,
    parent: null,
    ...over,
  };
}

export function review(): Review {
  const labels = ['bug', 'feature', 'question'];
  return {
    metrics: metrics(labels, [
      [5, 2, 0],
      [1, 6, 0],
      [0, 0, 4],
    ]),
    labels,
    rows: [
      { line: 2, text: 'crash on save', truth: 'bug', predicted: 'bug', confidence: 0.9 },
      { line: 3, text: 'add export please', truth: 'bug', predicted: 'feature', confidence: 0.55 },
      { line: 4, text: 'button does nothing', truth: 'bug', predicted: 'feature', confidence: 0.81 },
      { line: 5, text: 'dark mode', truth: 'feature', predicted: 'feature', confidence: 0.97 },
    ],
    validation: { kind: 'verified', note: null },
    trust: trust(),
  };
}

/** The curve of tickets with top probabilities `confidence`, `correct` saying which were
 * right: the engine's `CoverageCurve::new` (one point per distinct confidence). */
export function coverageCurve(confidence: number[], correct: boolean[]): CoverageCurve {
  const order = confidence.map((_, i) => i).sort((a, b) => confidence[b] - confidence[a]);
  const points: CoverageCurve['points'] = [];
  let right = 0;
  order.forEach((row, i) => {
    right += correct[row] ? 1 : 0;
    const next = order[i + 1];
    if (next === undefined || confidence[next] !== confidence[row]) {
      const handled = i + 1;
      points.push({ threshold: confidence[row], handled, coverage: handled / order.length, accuracy: right / handled });
    }
  });
  return { rows: order.length, points };
}

/** Fifteen equal-width reliability bins of tickets with top probabilities `confidence`. */
function bins(confidence: number[], correct: boolean[]): ReliabilityBin[] {
  return Array.from({ length: 15 }, (_, k) => {
    const [lower, upper] = [k / 15, (k + 1) / 15];
    const rows = confidence.map((c, i) => i).filter((i) => confidence[i] >= lower && (confidence[i] < upper || k === 14));
    const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
    return {
      lower,
      upper,
      count: rows.length,
      confidence: mean(rows.map((i) => confidence[i])),
      accuracy: mean(rows.map((i) => (correct[i] ? 1 : 0))),
    };
  });
}

/** The review's 18 validation tickets (15 right), by predicted class: the confidences of
 * the right ones, then of the wrong ones. */
const TICKETS: Record<string, { right: number[]; wrong: number[] }> = {
  bug: { right: [0.99, 0.96, 0.93, 0.88, 0.75], wrong: [0.55] },
  feature: { right: [0.98, 0.95, 0.92, 0.9, 0.8, 0.7], wrong: [0.91, 0.81] },
  question: { right: [0.97, 0.94, 0.85, 0.6], wrong: [] },
};

/** Calibration and coverage of the review's tickets: 99% and 95% accuracy at threshold
 * 0.92 (8 tickets), 90% at 0.85 (12); no threshold kept unless `threshold` is given. */
export function trust(threshold: number | null = null): Trust {
  const split = (t: { right: number[]; wrong: number[] }) => ({
    confidence: [...t.right, ...t.wrong],
    correct: [...t.right.map(() => true), ...t.wrong.map(() => false)],
  });
  const all = Object.values(TICKETS).map(split);
  const confidence = all.flatMap((t) => t.confidence);
  const correct = all.flatMap((t) => t.correct);
  const overall = coverageCurve(confidence, correct);
  const calibration: Calibration = {
    temperature: 1.5,
    rows: confidence.length,
    nllBefore: 0.62,
    nllAfter: 0.48,
    eceBefore: 0.084,
    eceAfter: 0.021,
    binsBefore: bins(
      confidence.map((c) => Math.sqrt(c)),
      correct,
    ),
    binsAfter: bins(confidence, correct),
  };
  const perClass = Object.entries(TICKETS).map(([label, t]) => {
    const { confidence, correct } = split(t);
    return { label, curve: coverageCurve(confidence, correct) };
  });
  const operating = threshold === null ? null : pointAt(overall, threshold);
  return { calibration, coverage: { overall, perClass }, threshold, operating };
}

/** A ticket's correction (`label` null: dropped); its hash stands in for the engine's. */
export function correction(line: number, text: string, given: string, label: string | null): Correction {
  return { line, hash: `hash-${line}`, text, given, label };
}

/** A ticket whose prediction changed between two runs. */
export function changedRow(
  change: Change,
  line: number,
  truth: string,
  before: string,
  after: string,
  truthBefore: string | null = null,
): ChangedRow {
  return { change, line, text: `ticket on line ${line}`, truth, truthBefore, before, beforeConfidence: 0.6, after, afterConfidence: 0.8 };
}

/** `diff_runs`: run-1 against run-2 on 10 shared validation rows. */
export function runDiff(over: Partial<RunDiff> = {}): RunDiff {
  return {
    before: 'run-1',
    after: 'run-2',
    basis: { kind: 'validationRows', onlyBefore: 0, onlyAfter: 0 },
    rowsCompared: 10,
    fixed: 2,
    broken: 1,
    changed: 0,
    corrected: 0,
    accuracyBefore: 0.7,
    accuracyAfter: 0.8,
    macroF1Before: 0.6,
    macroF1After: 0.75,
    labels: ['bug', 'feature'],
    confusionChange: [
      [1, -1],
      [1, -1],
    ],
    rows: [
      changedRow('fixed', 2, 'bug', 'feature', 'bug'),
      changedRow('fixed', 5, 'feature', 'bug', 'feature'),
      changedRow('broken', 7, 'feature', 'feature', 'bug'),
    ],
    ...over,
  };
}

/** A ticket whose label `given` the held-out head doubts: it is `likely` with `confidence`. */
export function suspect(line: number, text: string, given: string, likely: string, confidence = 0.9): Suspect {
  const givenConfidence = (1 - confidence) / 2;
  return { line, text, given, likely, confidence, givenConfidence, margin: confidence - givenConfidence };
}

/** `find_suspects`: three suspects among 2,921 tickets, most suspect first. */
export function suspectReport(over: Partial<SuspectReport> = {}): SuspectReport {
  return {
    suspects: [
      suspect(3, 'add export please', 'bug', 'feature', 0.92),
      suspect(4, 'button does nothing', 'feature', 'bug', 0.81),
      suspect(9, 'how do I reset my password?', 'bug', 'question', 0.66),
    ],
    rows: 2921,
    folds: 5,
    heldOutAccuracy: 0.61,
    thresholds: [
      { label: 'bug', rows: 1400, threshold: 0.72 },
      { label: 'feature', rows: 1021, threshold: 0.64 },
      { label: 'question', rows: 500, threshold: 0.58 },
    ],
    encodingSeconds: 12.1,
    seconds: 14.2,
    ...over,
  };
}

/** The engine's recipe defaults (as `training_settings` serves them). */
const RECIPE: TrainConfig = {
  model: 'distilbert-base-uncased',
  outputDir: '',
  epochs: 3,
  batchSize: 16,
  evalBatchSize: 64,
  learningRate: 2e-5,
  weightDecay: 0.01,
  warmupSteps: 0,
  maxGradNorm: 1,
  maxLength: 128,
  seed: 42,
  bestMetric: 'accuracy',
  earlyStoppingPatience: null,
  groupByLength: false,
  classWeights: 'none',
  sampler: 'shuffle',
  device: 'auto',
  precision: 'auto',
  method: 'fineTune',
  newHead: false,
  checkpointDir: null,
};

/** `training_settings`: the engine's defaults, bounds, presets, labels and models. */
export function catalogue(): Catalogue {
  const split = { validationFraction: 0.1, seed: 42, maxRows: null };
  return {
    config: RECIPE,
    split,
    limits: {
      epochs: { min: 1, max: 1000 },
      batchSize: { min: 1, max: 1024 },
      evalBatchSize: { min: 1, max: 4096 },
      warmupSteps: { min: 0, max: 1_000_000 },
      maxLength: { min: 8, max: 8192 },
      earlyStoppingPatience: { min: 1, max: 100 },
      validationFraction: { min: 0.01, max: 0.9 },
      maxRows: { min: 1, max: 100_000_000 },
    },
    presets: [
      {
        id: 'quick',
        title: 'Quick',
        blurb:
          'Instant baseline: the frozen encoder reads each ticket once and a linear classifier is fitted on its ' +
          'features. Seconds to a couple of minutes: a first accuracy before a full fine-tune',
        config: { ...RECIPE, method: 'baseline', epochs: 1 },
        split,
      },
      {
        id: 'light',
        title: 'Light',
        blurb: 'A short fine-tune: 1 epoch on up to 2,000 rows, in minutes',
        config: { ...RECIPE, epochs: 1, maxLength: 64, learningRate: 5e-5 },
        split: { ...split, maxRows: 2000 },
      },
      { id: 'balanced', title: 'Balanced', blurb: 'The classic recipe: 3 epochs, all rows', config: RECIPE, split },
      {
        id: 'thorough',
        title: 'Thorough',
        blurb: '5 epochs, longer texts, stops early when it stops improving',
        config: { ...RECIPE, epochs: 5, earlyStoppingPatience: 2, maxLength: 256 },
        split,
      },
    ],
    defaultPreset: 'balanced',
    settings: [
      { setting: 'model', label: 'Model', flag: '--model', help: 'Base model: a local folder in Hugging Face layout or a hub id.' },
      { setting: 'method', label: 'Method', flag: '--baseline', help: 'Fine-tune every weight, or the instant baseline: encode each text once with the frozen encoder (mean pooling) and fit a linear classifier (seconds to minutes).' },
      { setting: 'epochs', label: 'Epochs', flag: '--epochs', help: 'Passes over the training rows.' },
      { setting: 'batchSize', label: 'Batch size', flag: '--batch-size', help: 'Tickets per optimisation step; lower it if memory runs out.' },
      { setting: 'evalBatchSize', label: 'Evaluation batch size', flag: '--eval-batch-size', help: 'Tickets per batch when scoring the validation rows.' },
      { setting: 'learningRate', label: 'Learning rate', flag: '--lr', help: 'Step size of AdamW (peak, decayed linearly to 0); 2e-5 to 5e-5 suits fine-tuning.' },
      { setting: 'weightDecay', label: 'Weight decay', flag: '--weight-decay', help: 'Regularisation (not on biases or LayerNorm).' },
      { setting: 'warmupSteps', label: 'Warm-up steps', flag: '--warmup-steps', help: 'Steps over which the rate ramps up from 0.' },
      { setting: 'maxGradNorm', label: 'Max gradient norm', flag: '--max-grad-norm', help: 'Gradients are clipped to this norm.' },
      { setting: 'maxLength', label: 'Max length', flag: '--max-length', help: 'Tokens read per ticket; longer texts are cut.' },
      { setting: 'seed', label: 'Seed', flag: '--seed', help: 'Seed of the initialisation, data order and dropout: same seed, same data, same result.' },
      { setting: 'bestMetric', label: 'Best model by', flag: '--best-metric', help: 'Metric that picks the best epoch: accuracy or macro-f1.' },
      { setting: 'earlyStoppingPatience', label: 'Early stopping', flag: '--early-stopping', help: 'Stop after N epochs without improvement; off when not set.' },
      { setting: 'groupByLength', label: 'Group by length', flag: '--group-by-length', help: 'Batch rows of similar length together (less padding on GPUs; the CPU\'s batches have none). Batches then mix classes less, which can cost accuracy.' },
      { setting: 'classWeights', label: 'Class weights', flag: '--class-weights', help: 'For a few big classes and a long tail: none, inverse (each class weighs as much in the loss as an average one) or effective (Cui et al. 2019; milder on large classes).' },
      { setting: 'sampler', label: 'Batch sampling', flag: '--sampler', help: 'shuffle (every row once per epoch) or balanced (as many rows, drawn with replacement so classes appear about equally often). Fine-tuning only.' },
      { setting: 'device', label: 'Device', flag: '--device', help: 'auto, cpu, cuda or metal.' },
      { setting: 'precision', label: 'Precision', flag: '--precision', help: 'auto (bf16 mixed precision on CUDA GPUs that run it natively, f32 elsewhere), f32 or bf16. Weights and optimiser state stay f32.' },
      { setting: 'newHead', label: 'Replace the classifier head', flag: '--new-head', help: 'Replace the base model\'s classification head when it does not fit the classes (e.g. to fine-tune an existing classifier on other classes).' },
      { setting: 'validationFraction', label: 'Validation share', flag: '--validation-fraction', help: 'Share of each class held out to score each epoch, when there is no validation file.' },
      { setting: 'splitSeed', label: 'Split seed', flag: '--split-seed', help: 'Seed of the validation split and the row sample: runs with other training seeds are scored on the same rows.' },
      { setting: 'maxRows', label: 'Use at most N rows', flag: '--max-rows', help: 'Train on a stratified sample of at most this many rows (quicker runs); all rows when not set.' },
      { setting: 'textColumn', label: 'Ticket text', flag: '--text-column', help: 'Column holding the ticket text; several are joined in order.' },
      { setting: 'labelColumn', label: 'Label', flag: '--label-column', help: 'Column holding the label.' },
      { setting: 'labelMap', label: 'Label map', flag: '--label-map', help: 'How raw label values map onto classes (or are dropped).' },
      { setting: 'validation', label: 'Validation file', flag: '--validation', help: 'A separate validation file with the same columns; otherwise a stratified split is held out.' },
      { setting: 'force', label: 'Train anyway', flag: '--force', help: 'Train even when the data check finds blocking problems.' },
    ],
    models: ['distilbert-base-uncased', 'bert-base-uncased', 'sentence-transformers/all-MiniLM-L6-v2'],
    defaultModel: 'distilbert-base-uncased',
  };
}

export type Handler = (args: Record<string, unknown>) => unknown;

/** Mock every command with a table of handlers (`training_settings` answers with
 * `catalogue()`, `corrections_for` with none, unless given); unknown commands reject like
 * the app would. */
export function mockCommands(handlers: Record<string, Handler>): { calls: { cmd: string; args: Record<string, unknown> }[] } {
  const calls: { cmd: string; args: Record<string, unknown> }[] = [];
  const table: Record<string, Handler> = {
    training_settings: () => catalogue(),
    corrections_for: () => ({ corrections: [] }),
    serving: () => null,
    ...handlers,
  };
  mockIPC((cmd, payload) => {
    const args = (payload ?? {}) as Record<string, unknown>;
    calls.push({ cmd, args });
    const h = table[cmd];
    if (!h) return Promise.reject({ kind: 'internal', message: `no mock for ${cmd}` });
    return h(args);
  });
  return { calls };
}

const indexes = new WeakMap<object, number>();

/** Deliver a message on a Channel the way the Rust side does (indexed, through the IPC callback). */
export function send<T>(channel: Channel<T>, message: T): void {
  const index = indexes.get(channel) ?? 0;
  indexes.set(channel, index + 1);
  const internals = (window as unknown as { __TAURI_INTERNALS__: { runCallback: (id: number, data: unknown) => void } })
    .__TAURI_INTERNALS__;
  internals.runCallback(channel.id, { index, message });
}

/** Wait for pending promises and a frame. */
export function settle(ms = 30): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
