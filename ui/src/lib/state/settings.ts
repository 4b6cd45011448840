// The Train form's settings as the form edits them. Every default, bound, preset, label
// and help text comes from the engine's catalogue (the training_settings command); this
// file only shapes them for the form.

import type { Catalogue, Setting, SplitPlan, TrainConfig } from '../api';

/** What the settings form edits: a run's training settings (the model, device, precision
 * and head are chosen apart) and how much of the file it uses and holds out. */
export type Hyper = Omit<TrainConfig, 'model' | 'outputDir' | 'device' | 'precision' | 'newHead' | 'checkpointDir'> &
  Pick<SplitPlan, 'validationFraction' | 'maxRows'> & {
    /** The split's own seed (the training seed is `seed`). */
    splitSeed: number;
  };

/** The form's settings from a config and a split (a preset's, or the catalogue's defaults). */
export function hyperOf(config: TrainConfig, split: SplitPlan): Hyper {
  return {
    method: config.method,
    epochs: config.epochs,
    batchSize: config.batchSize,
    evalBatchSize: config.evalBatchSize,
    learningRate: config.learningRate,
    weightDecay: config.weightDecay,
    warmupSteps: config.warmupSteps,
    maxGradNorm: config.maxGradNorm,
    maxLength: config.maxLength,
    seed: config.seed,
    bestMetric: config.bestMetric,
    earlyStoppingPatience: config.earlyStoppingPatience,
    groupByLength: config.groupByLength,
    classWeights: config.classWeights,
    sampler: config.sampler,
    validationFraction: split.validationFraction,
    maxRows: split.maxRows,
    splitSeed: split.seed,
  };
}

/** How the catalogue names `setting` on screen (its id until the catalogue is loaded). */
export function settingLabel(catalogue: Catalogue | null, setting: Setting): string {
  return catalogue?.settings.find((s) => s.setting === setting)?.label ?? setting;
}

/** The settings a multi-label run refuses (they weigh, draw or fit tickets by their one class):
 * the value such a run uses instead, and the one-line reason the form shows. */
export const MULTI_LABEL_FIXED = {
  method: { value: 'fineTune', reason: 'Multi-label data: the baseline fits one class per ticket, so the model is fine-tuned.' },
  classWeights: { value: 'none', reason: 'Multi-label data: class weights weigh a ticket by its one class.' },
  sampler: { value: 'shuffle', reason: 'Multi-label data: balanced sampling draws tickets by their one class.' },
} as const satisfies Partial<Record<keyof Hyper, { value: string; reason: string }>>;

/** `hyper` as a multi-label run uses it: the refused settings at their fixed values. */
export function forMultiLabel(hyper: Hyper): Hyper {
  return {
    ...hyper,
    method: MULTI_LABEL_FIXED.method.value,
    classWeights: MULTI_LABEL_FIXED.classWeights.value,
    sampler: MULTI_LABEL_FIXED.sampler.value,
  };
}
