// Multi-label runs on the output screens: whether a run predicts label sets, the
// metrics its tuned thresholds give, and each label's row of scores.
import type { EpochRecord, LabelConfusion, Metrics, RunRecord, RunSummary, TrainEvent } from './api';

/** Whether run `r` was trained on label sets (a separated label column or 0/1 columns). */
export function isMultiLabelRun(r: RunRecord | null | undefined): boolean {
  const form = r?.data.labelForm;
  return !!form && form.kind !== 'single';
}

/** The validation metrics of a multi-label run's tuned thresholds (its `thresholdsTuned` event), if it has them. */
export function tunedMetrics(events: TrainEvent[]): Metrics | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e.type === 'thresholdsTuned') return e.metrics;
  }
  return null;
}

/** The kept epoch's record of a run's summary (the best), else the last one (any run). */
export function keptEpoch(summary: RunSummary | null | undefined): EpochRecord | null {
  const epochs = summary?.epochs ?? [];
  return epochs.find((e) => e.epoch === summary?.bestEpoch) ?? epochs[epochs.length - 1] ?? null;
}

/** One label's scores and 2x2 confusion, as the per-label table shows them. */
export type LabelRow = LabelConfusion & {
  threshold: number | null;
  precision: number;
  recall: number;
  f1: number;
  support: number;
};

/** Each label's row of `m` (label-set metrics); empty for single-label metrics. */
export function labelRows(m: Metrics): LabelRow[] {
  const sets = m.labelSets;
  if (!sets) return [];
  return sets.perLabel.map((c, i) => {
    const scores = m.perClass.find((p) => p.label === c.label);
    return {
      ...c,
      threshold: sets.thresholds[i] ?? null,
      precision: scores?.precision ?? 0,
      recall: scores?.recall ?? 0,
      f1: scores?.f1 ?? 0,
      support: c.truePositives + c.falseNegatives,
    };
  });
}

/** Whether two label sets written as text ("a; b", in any order) hold the same labels. */
export function sameSet(a: string, b: string): boolean {
  const set = (s: string) => s.split(';').map((l) => l.trim()).filter(Boolean).sort().join('\n');
  return set(a) === set(b);
}
