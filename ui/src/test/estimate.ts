// Estimates (src/train/estimate/) for the Train screen's tests, shaped like the engine's answer
// for the sample data on a 2-thread CPU.

import type { EstimateReport, FitSuggestion, TrainingEstimate } from '../lib/api';
import { catalogue } from './fixtures';

/** An estimate of the recipe's run: 3 epochs of 584 steps on 9,333 rows. */
export function trainingEstimate(over: Partial<TrainingEstimate> = {}): TrainingEstimate {
  return {
    seconds: 1617.8,
    breakdown: { reading: 0.16, loading: 1.15, tokenising: 0.94, training: 1557.3, evaluation: 41.9, saving: 3.2, checks: 13.1 },
    method: 'fineTune',
    epochs: 3,
    steps: 1752,
    stepSeconds: 0.889,
    trainRows: 9333,
    validationRows: 1044,
    batchSize: 16,
    maxLength: 128,
    mayStopEarly: false,
    memory: { peakBytes: 489_858_241, availableBytes: 23_956_713_472, fits: true },
    measurement: {
      device: 'AMD EPYC 7B13 (2 threads), 2 worker threads',
      model: 'sentence-transformers/all-MiniLM-L6-v2',
      precision: 'f32',
      measuredAt: Math.floor(Date.now() / 1000) - 5,
      reused: false,
      seconds: 14.4,
      extrapolated: false,
      loadPerCore: 0.1,
    },
    ...over,
  };
}

/** The Light preset on 2,000 rows, as "fit in 10 minutes" suggests it. */
export function fitSuggestion(over: Partial<FitSuggestion> = {}): FitSuggestion {
  const light = catalogue().presets.find((p) => p.id === 'light')!;
  return {
    minutes: 10,
    fits: true,
    preset: 'light',
    title: 'Light',
    shortened: [],
    config: { ...light.config, model: 'sentence-transformers/all-MiniLM-L6-v2' },
    split: light.split,
    estimate: trainingEstimate({
      seconds: 108.7,
      epochs: 1,
      steps: 113,
      trainRows: 1800,
      validationRows: 200,
      maxLength: 64,
      breakdown: { reading: 0.16, loading: 1.15, tokenising: 0.18, training: 100.8, evaluation: 2.5, saving: 0.36, checks: 3.4 },
    }),
    ...over,
  };
}

export function estimateReport(estimate: Partial<TrainingEstimate> = {}, fit: FitSuggestion | null = null): EstimateReport {
  return { estimate: trainingEstimate(estimate), fit };
}
