// Engine-shaped data for tests, and helpers to drive mocked commands and channels.

import type { Channel } from '@tauri-apps/api/core';
import { mockIPC } from '@tauri-apps/api/mocks';
import type {
  DeviceCheck,
  DeviceInfo,
  Evaluation,
  Finding,
  Inspection,
  Metrics,
  RunRecord,
  RunSummary,
  TrainEvent,
} from '../lib/api';

export function inspection(opts: {
  raws?: [string, number][];
  merges?: Inspection['merges'];
  findings?: Finding[];
  classCounts?: [string, number][];
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
    merges: opts.merges ?? [
      { into: 'Bug', members: [['Bug', 40], ['bug', 5]] },
      { into: 'feature request', members: [['feature request', 30], ['Feature-Request', 3]] },
    ],
    report: {
      findings: opts.findings ?? [],
      classCounts: opts.classCounts ?? raws,
    },
    note: null,
  };
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

/** `list_devices` on a CPU-only machine, or (`gpu`) with an H100 that trains in bf16. */
export function devices(gpu = false): DeviceInfo[] {
  const none = { name: null, memoryBytes: null, freeBytes: null, bf16: false };
  return [
    { choice: 'cpu', available: true, note: null, ...none, name: 'AMD EPYC 7B13 (2 threads)' },
    gpu
      ? { choice: 'cuda', available: true, note: null, name: 'NVIDIA H100 80GB HBM3', memoryBytes: 84_929_757_184, freeBytes: 84_286_193_664, bf16: true }
      : { choice: 'cuda', available: false, note: 'this build has no CUDA support', ...none },
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
  return {
    type: 'evaluated',
    epoch,
    step: epoch * 10,
    trainLoss: 0.5,
    evalLoss: 0.4,
    samplesPerSecond: 20,
    metrics: { ...metrics(['a', 'b'], [[8, 2], [1, 9]]), accuracy, macroF1: accuracy - 0.05 },
  };
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
      validationFraction: 0.1,
      groupByLength: false,
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
    },
    summary: summary(),
    best: [2, 0.85],
    error: null,
    pid: null,
    ...over,
  };
}

export function evaluation(): Evaluation {
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
  };
}

export type Handler = (args: Record<string, unknown>) => unknown;

/** Mock every command with a table of handlers; unknown commands reject like the app would. */
export function mockCommands(handlers: Record<string, Handler>): { calls: { cmd: string; args: Record<string, unknown> }[] } {
  const calls: { cmd: string; args: Record<string, unknown> }[] = [];
  mockIPC((cmd, payload) => {
    const args = (payload ?? {}) as Record<string, unknown>;
    calls.push({ cmd, args });
    const h = handlers[cmd];
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
