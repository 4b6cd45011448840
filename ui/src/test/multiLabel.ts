// Fixtures of a multi-label run: four Banking77 intents, label sets in a `tags` column
// split by ';' (figures from a real MiniLM run on e2e/make_multi_label.py's file).
import type { LabelConfusion, Metrics, Prediction, Review, RunRecord, TrainEvent } from '../lib/api';
import { runRecord, summary } from './fixtures';

export const INTENTS = ['card_arrival', 'exchange_rate', 'pending_transfer', 'top_up_failed'];
export const THRESHOLDS = [0.476, 0.372, 0.407, 0.346];

/** Label-set metrics over 48 rows from each label's [tp, fp, fn, tn]. */
export function setMetrics(cells: [number, number, number, number][], subsetAccuracy: number): Metrics {
  const perLabel: LabelConfusion[] = INTENTS.map((label, i) => {
    const [tp, fp, fn, tn] = cells[i];
    return { label, truePositives: tp, falsePositives: fp, falseNegatives: fn, trueNegatives: tn };
  });
  const perClass = perLabel.map((c) => {
    const precision = c.truePositives / (c.truePositives + c.falsePositives);
    const recall = c.truePositives / (c.truePositives + c.falseNegatives);
    return { label: c.label, precision, recall, f1: (2 * precision * recall) / (precision + recall), support: c.truePositives + c.falseNegatives };
  });
  const [tp, fp, fn] = perLabel.reduce(
    ([a, b, c], l) => [a + l.truePositives, b + l.falsePositives, c + l.falseNegatives],
    [0, 0, 0],
  );
  return {
    accuracy: subsetAccuracy,
    macroF1: perClass.reduce((s, c) => s + c.f1, 0) / perClass.length,
    perClass,
    confusion: [],
    count: 48,
    labelSets: { microF1: (2 * tp) / (2 * tp + fp + fn), subsetAccuracy, perLabel, thresholds: THRESHOLDS },
  };
}

/** The validation metrics with the tuned thresholds: micro-F1 98.7%, subset accuracy 95.8%. */
export const tuned = (): Metrics =>
  setMetrics(
    [
      [20, 0, 0, 28],
      [19, 0, 0, 29],
      [20, 1, 0, 27],
      [17, 1, 0, 30],
    ],
    46 / 48,
  );

/** The kept epoch's metrics (labels at 0.5): micro-F1 94.7%, subset accuracy 87.5%. */
const atHalf = (): Metrics =>
  setMetrics(
    [
      [19, 1, 1, 27],
      [18, 0, 1, 29],
      [19, 3, 1, 25],
      [16, 0, 1, 31],
    ],
    42 / 48,
  );

/** A finished multi-label run. */
export function multiLabelRecord(id: string): RunRecord {
  const base = runRecord(id);
  const epochs = summary().epochs.map((e) => ({ ...e, metrics: atHalf() }));
  return {
    ...base,
    config: { ...base.config, model: 'sentence-transformers/all-MiniLM-L6-v2', bestMetric: 'microF1' },
    data: { ...base.data, labelColumn: 'tags', labelForm: { kind: 'separated', separator: ';' } },
    summary: summary({ labels: INTENTS, epochs, bestMetric: 'microF1', bestValue: 0.953 }),
    best: [2, 0.953],
  };
}

/** Its events, ending with the tuned thresholds. */
export const multiLabelEvents = (): TrainEvent[] => [{ type: 'thresholdsTuned', metrics: tuned() }];

/** Its review on the 48 validation rows. */
export function multiLabelReview(): Review {
  return {
    labels: INTENTS,
    metrics: tuned(),
    rows: [
      { line: 150, text: 'I did a bank transfer to top up', truth: 'top_up_failed', predicted: 'pending_transfer; top_up_failed', confidence: 0.78 },
      { line: 151, text: 'Card not here. Rate abroad?', truth: 'exchange_rate; card_arrival', predicted: 'card_arrival; exchange_rate', confidence: 0.7 },
      { line: 152, text: 'Top up failed', truth: 'top_up_failed', predicted: 'top_up_failed', confidence: 0.9 },
    ],
    validation: { kind: 'verified', note: null },
    trust: null,
  };
}

/** A multi-label prediction: each intent's probability with its threshold, and the set over them. */
export function labelSetPrediction(probabilities: number[]): Prediction {
  const labels = INTENTS.filter((_, i) => probabilities[i] >= THRESHOLDS[i]);
  return {
    label: labels.join('; '),
    confidence: Math.max(...probabilities),
    scores: INTENTS.map((label, i) => ({ label, probability: probabilities[i], threshold: THRESHOLDS[i] })),
    labels,
    route: null,
  };
}
