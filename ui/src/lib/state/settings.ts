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
