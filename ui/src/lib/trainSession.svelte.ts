// A training run as the UI sees it: fed TrainEvents (live from a Channel, or replayed
// from a run's event log), it keeps chart series and the numbers for the stat tiles.
// Step events are frequent: they are buffered and applied once per animation frame.
// Baseline runs have no steps: their progress is the texts encoded. Multi-label runs score
// label sets: micro-F1 and subset accuracy (a ticket right only when its whole set is), and
// end with thresholds tuned on validation.

import type { Method, Metrics, RunSummary, TrainEvent } from './api';
import { keptEpoch } from './multiLabel';

export type TrainStatus = 'idle' | 'starting' | 'running' | 'finished' | 'cancelled' | 'failed';

export type StartedEvent = Extract<TrainEvent, { type: 'started' }>;
type StepEvent = Extract<TrainEvent, { type: 'step' }>;

export interface Best {
  metric: string;
  value: number;
  epoch: number;
}

const raf: (cb: () => void) => unknown =
  typeof requestAnimationFrame === 'function'
    ? (cb) => requestAnimationFrame(cb)
    : (cb) => setTimeout(cb, 16);

export class TrainSession {
  status = $state<TrainStatus>('idle');
  runId = $state<string | null>(null);
  method = $state<Method>('fineTune');
  started = $state.raw<StartedEvent | null>(null);
  epoch = $state(0);
  step = $state(0);
  totalSteps = $state(0);
  /** Baseline: texts encoded so far, of `encodeTotal`. */
  encoded = $state(0);
  encodeTotal = $state(0);
  samplesPerSecond = $state(0);
  lastLoss = $state<number | null>(null);
  best = $state.raw<Best | null>(null);
  /** Metrics of every evaluated epoch, in order. */
  evaluations = $state.raw<{ epoch: number; step: number; metrics: Metrics; evalLoss: number; trainLoss: number }[]>([]);
  summary = $state.raw<RunSummary | null>(null);
  /** A multi-label run's validation metrics with its tuned per-label thresholds (its final figures). */
  tuned = $state.raw<Metrics | null>(null);
  error = $state<string | null>(null);
  /** Bumped whenever the chart series change (at most once per frame). */
  version = $state(0);
  /** Wall-clock ms when the run started (estimated for re-attached runs). */
  startedAt = $state<number | null>(null);
  endedAt = $state<number | null>(null);

  // Chart series: plain arrays (not reactive), announced through `version`.
  stepX: number[] = [];
  lossY: number[] = [];
  lrY: number[] = [];
  epochX: number[] = [];
  /** Accuracy per epoch (subset accuracy for label sets). */
  accY: number[] = [];
  /** Macro-F1 per epoch (micro-F1 for label sets). */
  f1Y: number[] = [];

  private pending: StepEvent[] = [];
  private scheduled = false;
  private replaying = false;
  private replaySeconds = 0;

  /** Forget everything (a new run). */
  reset(status: TrainStatus = 'idle', method: Method = 'fineTune'): void {
    this.pending = [];
    this.status = status;
    this.runId = null;
    this.method = method;
    this.started = null;
    this.epoch = 0;
    this.step = 0;
    this.totalSteps = 0;
    this.encoded = 0;
    this.encodeTotal = 0;
    this.samplesPerSecond = 0;
    this.lastLoss = null;
    this.best = null;
    this.evaluations = [];
    this.summary = null;
    this.tuned = null;
    this.error = null;
    this.startedAt = status === 'starting' ? Date.now() : null;
    this.endedAt = null;
    this.stepX = [];
    this.lossY = [];
    this.lrY = [];
    this.epochX = [];
    this.accY = [];
    this.f1Y = [];
    this.replaySeconds = 0;
    this.version++;
  }

  get active(): boolean {
    return this.status === 'starting' || this.status === 'running';
  }

  get done(): boolean {
    return this.status === 'finished' || this.status === 'cancelled' || this.status === 'failed';
  }

  get baseline(): boolean {
    return this.method === 'baseline';
  }

  /** Whether the run learns label sets (several labels per ticket): said when it starts, or by its label-set scores. */
  get multiLabel(): boolean {
    return !!this.started?.multiLabel || this.evaluations.some((e) => !!e.metrics.labelSets);
  }

  /** A fine-tune that ended with per-epoch scores but no steps: a run imported from a transformers Trainer job. */
  get stepless(): boolean {
    return this.done && !this.baseline && !this.stepX.length && this.evaluations.length > 0;
  }

  /** What the loss chart says while it has no points; a stepless run names the per-epoch losses it holds. */
  get lossNote(): string {
    if (!this.stepless) return 'The loss appears after the first step';
    const epochs = this.evaluations
      .map((e) => `epoch ${e.epoch}: training ${lossText(e.trainLoss)}, validation ${lossText(e.evalLoss)}`)
      .join(' · ');
    return `Trained by transformers' Trainer and imported: Dialect holds its per-epoch losses, not its step losses (${epochs})`;
  }

  /** What `accuracy` means for this run: for label sets, the whole set right. */
  get accuracyName(): string {
    return this.multiLabel ? 'subset accuracy' : 'accuracy';
  }

  /** The best model's metric as shown: the engine's name, accuracy named for what it means here. */
  get bestMetricName(): string | null {
    const metric = this.best?.metric ?? null;
    return metric === 'accuracy' ? this.accuracyName : metric;
  }

  /** The kept (best) model's validation metrics, when known: for a multi-label run, with its tuned thresholds. */
  get finalMetrics(): Metrics | null {
    if (this.tuned) return this.tuned;
    const s = this.summary;
    if (s) {
      const rec = keptEpoch(s);
      if (rec) return rec.metrics;
    }
    if (this.best) {
      const ev = this.evaluations.find((e) => e.epoch === this.best!.epoch);
      if (ev) return ev.metrics;
    }
    return this.evaluations[this.evaluations.length - 1]?.metrics ?? null;
  }

  /** Micro-F1 of the kept model (multi-label runs), when known. */
  get finalMicroF1(): number | null {
    return this.finalMetrics?.labelSets?.microF1 ?? null;
  }

  /** Micro-F1 of the last evaluation (multi-label runs), when there is one. */
  get lastMicroF1(): number | null {
    return this.evaluations[this.evaluations.length - 1]?.metrics.labelSets?.microF1 ?? null;
  }

  /** Work done and to do: texts encoded for the baseline, else steps. */
  private get units(): [number, number] {
    return this.baseline ? [this.encoded, this.encodeTotal] : [this.step, this.totalSteps];
  }

  /** Share of the work done, 0..1. */
  get progress(): number {
    if (this.status === 'finished') return 1;
    const [done, total] = this.units;
    return total ? Math.min(1, done / total) : 0;
  }

  /** Accuracy of the kept (best) model, when known (subset accuracy for label sets). */
  get finalAccuracy(): number | null {
    return this.finalMetrics?.accuracy ?? null;
  }

  /** Replay a run's recorded events (then live events may follow). */
  replay(events: TrainEvent[]): void {
    this.replaying = true;
    try {
      for (const e of events) this.handle(e);
      this.flush();
    } finally {
      this.replaying = false;
    }
    if (this.active && this.startedAt === null) {
      this.startedAt = Date.now() - this.replaySeconds * 1000;
    }
  }

  /** Take one event. Duplicates (seen by both a replay and the live channel) are skipped. */
  handle = (e: TrainEvent): void => {
    switch (e.type) {
      case 'started':
        if (this.started) return;
        this.flush();
        this.started = e;
        this.totalSteps = e.totalSteps;
        this.status = 'running';
        if (!this.replaying) this.startedAt = Date.now();
        return;
      case 'encoding':
        if (e.done <= this.encoded) return;
        this.method = 'baseline';
        this.encoded = e.done;
        this.encodeTotal = e.total;
        if (this.status === 'idle' || this.status === 'starting') this.status = 'running';
        return;
      case 'step': {
        const last = this.pending.length
          ? this.pending[this.pending.length - 1].step
          : this.stepX[this.stepX.length - 1] ?? 0;
        if (e.step <= last) return;
        if (this.status === 'idle' || this.status === 'starting') this.status = 'running';
        if (this.replaying && this.started && e.samplesPerSecond > 0) {
          const batch = this.started.trainRows / Math.max(1, this.started.stepsPerEpoch);
          this.replaySeconds += batch / e.samplesPerSecond;
        }
        this.pending.push(e);
        if (this.replaying) return;
        if (!this.scheduled) {
          this.scheduled = true;
          raf(() => this.flush());
        }
        return;
      }
      case 'evaluated':
        this.flush();
        if (this.evaluations.some((v) => v.epoch === e.epoch)) return;
        this.evaluations = [
          ...this.evaluations,
          { epoch: e.epoch, step: e.step, metrics: e.metrics, evalLoss: e.evalLoss, trainLoss: e.trainLoss },
        ];
        this.epochX.push(e.epoch);
        this.accY.push(e.metrics.accuracy);
        this.f1Y.push(e.metrics.labelSets?.microF1 ?? e.metrics.macroF1);
        if (this.baseline) this.samplesPerSecond = e.samplesPerSecond;
        if (!this.best || this.best.metric === this.accuracyName) {
          // Until a checkpoint names the metric, show the best accuracy.
          if (!this.best || e.metrics.accuracy > this.best.value) {
            this.best = { metric: this.accuracyName, value: e.metrics.accuracy, epoch: e.epoch };
          }
        }
        this.version++;
        return;
      case 'checkpointSaved':
        this.flush();
        this.best = { metric: e.metric, value: e.value, epoch: e.epoch };
        return;
      case 'int8Checked':
        // Kept in the model's card; the Try step shows it.
        return;
      case 'calibrated':
        // Kept in the model's card; its probabilities use the temperature.
        return;
      case 'thresholdsTuned':
        this.tuned = e.metrics;
        this.version++;
        return;
      case 'finished':
      case 'cancelled':
        if (this.done) return;
        this.flush();
        this.summary = e.summary;
        this.status = e.type;
        if (e.summary.bestValue !== null && e.summary.bestEpoch !== null) {
          this.best = { metric: e.summary.bestMetric, value: e.summary.bestValue, epoch: e.summary.bestEpoch };
        }
        if (e.summary.steps) this.step = e.summary.steps;
        this.endedAt = Date.now();
        if (this.replaying && this.startedAt === null) {
          this.startedAt = this.endedAt - e.summary.seconds * 1000;
        }
        return;
      case 'failed':
        if (this.done) return;
        this.flush();
        this.error = e.message;
        this.status = 'failed';
        this.endedAt = Date.now();
        return;
    }
  };

  /** Apply buffered step events now. */
  flush(): void {
    this.scheduled = false;
    if (!this.pending.length) return;
    const batch = this.pending;
    this.pending = [];
    for (const s of batch) {
      this.stepX.push(s.step);
      this.lossY.push(s.loss);
      this.lrY.push(s.learningRate);
    }
    const last = batch[batch.length - 1];
    this.step = last.step;
    this.epoch = last.epoch;
    this.totalSteps = last.totalSteps;
    this.samplesPerSecond = last.samplesPerSecond;
    this.lastLoss = last.loss;
    this.version++;
  }

  /** Seconds since the start, at `now` (ms). */
  elapsed(now: number): number | null {
    if (this.summary) return this.summary.seconds;
    if (this.startedAt === null) return null;
    return Math.max(0, ((this.endedAt ?? now) - this.startedAt) / 1000);
  }

  /** Seconds left, estimated from the pace so far. */
  eta(now: number): number | null {
    const [done, total] = this.units;
    if (!this.active || !done || !total) return null;
    const el = this.elapsed(now);
    if (el === null || el <= 0) return null;
    return (el / done) * Math.max(0, total - done);
  }

  /** Epoch shown in the tiles: the current step's, else the last evaluated one. */
  get epochShown(): number {
    return this.epoch || this.evaluations[this.evaluations.length - 1]?.epoch || 0;
  }

  get epochsTotal(): number {
    return this.started?.epochs ?? this.summary?.epochs.length ?? 0;
  }
}

/** "1:05:09" / "4:09" from seconds. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '—';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const mm = h ? String(m).padStart(2, '0') : String(m);
  return `${h ? h + ':' : ''}${mm}:${String(r).padStart(2, '0')}`;
}

/** A loss as the charts show it: "0.42", or "12" when large. */
export function lossText(v: number): string {
  return Math.abs(v) >= 10 ? v.toFixed(0) : v.toFixed(2);
}

export function pct(x: number | null | undefined, digits = 1): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return `${(x * 100).toFixed(digits)}%`;
}

/** "10,377": digits grouped by thousands (the same on every WebView locale). */
export function count(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
