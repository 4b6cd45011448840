// The Train screen's estimate: how long the run the form describes would take and whether it
// fits in memory (estimate_training, from a few training steps measured on this machine and
// kept there), asked again a moment after the settings change; and what fits in a number of
// minutes. Also the wording of durations, sizes and times ago it is shown with.

import * as api from '../api';
import type { EstimateReport, EstimateRequest, RunRequest } from '../api';
import type { Hyper } from './settings';

/** How long the settings must stay unchanged before they are estimated. */
export const ESTIMATE_DELAY_MS = 600;
/** Load per core above which the measurement competed with other work (the engine's mark). */
export const BUSY_LOAD_PER_CORE = 0.5;

/** What an estimate is asked about: the run Start would send, less what only starting needs. */
export type EstimateBase = Pick<EstimateRequest, 'config' | 'data'>;

export type EstimateStatus = 'idle' | 'waiting' | 'running' | 'done' | 'failed';

/** The part of a run request an estimate is about. */
export function estimateBase(request: RunRequest): EstimateBase {
  return { config: request.config, data: request.data };
}

/** A measurement is kept per model, device and precision. */
function measurementKey(base: EstimateBase): string {
  const { model, device, precision } = base.config;
  return JSON.stringify([model, device, precision]);
}

export class EstimateState {
  status = $state<EstimateStatus>('idle');
  /** The last answer, kept (greyed) while the next is asked. */
  report = $state.raw<EstimateReport | null>(null);
  /** Why the last estimate failed. */
  error = $state<string | null>(null);
  /** Whether the estimate in flight measures on this machine (the first one of its model, device
   * and precision here, or asked to measure again) rather than reusing a measurement. */
  measuring = $state(false);
  /** The minutes last asked to fit in: later estimates suggest for them too. */
  fitMinutes = $state<number | null>(null);

  /** The settings last given, and their key (null: nothing to estimate). */
  private base: EstimateBase | null = null;
  private key: string | null = null;
  /** Models, devices and precisions measured or reused in this session. */
  private readonly measured = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** The latest request's number: older answers are ignored. */
  private seq = 0;
  private inFlight = false;

  /** Whether the figures shown are for other settings than the form's now. */
  get stale(): boolean {
    return this.status === 'waiting' || this.status === 'running';
  }

  /** The settings are now `base` (null: nothing to estimate, the last figure is kept to show
   * greyed when there is again): estimate them once they stay unchanged for a moment. The same
   * settings again change nothing. */
  update(base: EstimateBase | null): void {
    const key = base ? JSON.stringify(base) : null;
    if (key === this.key) return;
    this.stop();
    this.key = key;
    this.base = base;
    if (!base) {
      this.error = null;
      this.status = 'idle';
      return;
    }
    this.status = 'waiting';
    this.timer = setTimeout(() => void this.ask(), ESTIMATE_DELAY_MS);
  }

  /** Estimate the settings now; `remeasure`: measure on this machine again. */
  async ask(remeasure = false): Promise<void> {
    this.clearTimer();
    const base = this.base;
    if (!base) return;
    const mine = ++this.seq;
    const measurement = measurementKey(base);
    this.status = 'running';
    this.error = null;
    this.measuring = remeasure || !this.measured.has(measurement);
    this.inFlight = true;
    try {
      const report = await api.estimateTraining({ ...base, fitMinutes: this.fitMinutes, remeasure });
      if (mine !== this.seq) return;
      this.inFlight = false;
      if (report) {
        this.report = report;
        this.measured.add(measurement);
        this.status = 'done';
      } else {
        this.status = this.report ? 'done' : 'idle';
      }
    } catch (e) {
      if (mine !== this.seq) return;
      this.inFlight = false;
      this.error = api.errorMessage(e);
      this.status = 'failed';
    }
  }

  /** Suggest what fits in `minutes` (and keep suggesting for them as the settings change). */
  async fit(minutes: number): Promise<void> {
    this.fitMinutes = minutes;
    await this.ask();
  }

  /** Stop estimating (the screen is left, or a run starts): the one in flight is cancelled and
   * answers still to come are ignored; the next `update` asks again. */
  stop(): void {
    this.clearTimer();
    this.seq++;
    this.key = null;
    if (this.inFlight) {
      this.inFlight = false;
      api.cancelEstimate().catch(() => {});
    }
    if (this.stale) this.status = this.report ? 'done' : 'idle';
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** Whether the form's settings are those of `config` and `split` (a suggestion applied). */
export function sameSettings(hyper: Hyper, other: Hyper): boolean {
  return (Object.keys(other) as (keyof Hyper)[]).every((k) => hyper[k] === other[k]);
}

/** A rough duration for an estimate: "under 1 s", "45 s", "4 min 30 s", "27 min", "1 h 5 min". */
export function roughDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 1) return 'under 1 s';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 600) {
    let m = Math.floor(seconds / 60);
    let s = Math.round((seconds - m * 60) / 10) * 10;
    if (s === 60) [m, s] = [m + 1, 0];
    return s ? `${m} min ${s} s` : `${m} min`;
  }
  if (seconds < 3600 - 30) return `${Math.round(seconds / 60)} min`;
  let h = Math.floor(seconds / 3600);
  let m = Math.round((seconds - h * 3600) / 60);
  if (m === 60) [h, m] = [h + 1, 0];
  return m ? `${h} h ${m} min` : `${h} h`;
}

/** Seconds of one step: "45 ms", "0.89 s", "2.4 s". */
export function stepTime(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 0.1) return `${Math.max(1, Math.round(seconds * 1000))} ms`;
  if (seconds < 10) return `${seconds.toFixed(seconds < 1 ? 2 : 1)} s`;
  return `${Math.round(seconds)} s`;
}

/** A size in decimal units: "490 MB", "1.2 GB", "24 GB". */
export function size(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes < 1e6) return `${Math.max(1, Math.round(bytes / 1e3))} kB`;
  if (bytes < 1e9) return `${Math.round(bytes / 1e6)} MB`;
  const gb = bytes / 1e9;
  return `${gb < 10 ? gb.toFixed(1) : Math.round(gb)} GB`;
}

/** When something happened, from `now` (both in seconds since the epoch): "just now", "5 min ago",
 * "3 h ago", "2 days ago". */
export function ago(then: number, now: number): string {
  const s = Math.max(0, now - then);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  const days = Math.floor(s / 86400);
  return `${days} day${days === 1 ? '' : 's'} ago`;
}
