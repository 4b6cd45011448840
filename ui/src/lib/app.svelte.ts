// The app's root state: which step is shown, the app's info, and each screen's own state
// (data, labels, corrections, suspect labels, training form, training jobs, runs), wired
// together here.

import * as api from './api';
import type { AppInfo } from './api';
import { notify } from './notify.svelte';
import { CorrectionsState } from './state/corrections.svelte';
import { DataState } from './state/data.svelte';
import { EstimateState } from './state/estimate.svelte';
import { LabelsState } from './state/labels.svelte';
import { RunsState } from './state/runs.svelte';
import { SuspectsState } from './state/suspects.svelte';
import { TrainForm } from './state/trainForm.svelte';
import { Trainer } from './state/trainer.svelte';
import { ValidationState } from './state/validation.svelte';

export type Step = 'data' | 'labels' | 'check' | 'train' | 'review' | 'try' | 'runs';

export const STEPS: { id: Exclude<Step, 'runs'>; title: string; hint: string }[] = [
  { id: 'data', title: 'Data', hint: 'Load a file of tickets' },
  { id: 'labels', title: 'Labels', hint: 'Map raw labels to classes' },
  { id: 'check', title: 'Check', hint: 'Data quality report' },
  { id: 'train', title: 'Train', hint: 'Fine-tune a model' },
  { id: 'review', title: 'Review', hint: 'Scores and confusions' },
  { id: 'try', title: 'Try', hint: 'Classify tickets by hand' },
];

export class AppState {
  step = $state<Step>('data');
  info = $state<AppInfo | null>(null);

  readonly train = new TrainForm();
  /** The estimate of the run the training form describes (Train). */
  readonly estimate = new EstimateState();
  readonly runs = new RunsState();
  /** The corrections of the data file: the data check applies them, so a change checks again. */
  readonly corrections = new CorrectionsState(() => void this.data.reinspect());
  /** The corrections of a reviewed run's data file when it is not the data file. */
  readonly runCorrections = new CorrectionsState();
  /** The search for suspect labels in the data file (Check). */
  readonly suspects = new SuspectsState();
  /** The search for suspect labels in a reviewed run's data (Review). */
  readonly runSuspects = new SuspectsState();
  readonly data: DataState;
  readonly labels: LabelsState;
  /** Where the run's validation tickets come from: the split, or the analyst's own file (Train). */
  readonly validation: ValidationState;
  readonly trainer: Trainer;

  constructor() {
    // The data check measures with the training form's model and split, and inspects with
    // the label board's map; a new file or label column makes a new board, and a new file
    // brings its corrections.
    this.data = new DataState({
      labelMap: () => this.labels.labelMap,
      checks: () => (this.validation.path ? { ...this.train.checks, validation: this.validation.path } : this.train.checks),
      sourceChanged: () => {
        this.labels.clear();
        if (this.validation.path) void this.validation.check();
        if (this.corrections.path !== this.data.path) void this.corrections.open(this.data.path);
      },
      inspected: (ins) => this.labels.sync(ins),
    });
    this.labels = new LabelsState(this.data);
    // Its file is read as Start would send the data; choosing it checks the data again.
    this.validation = new ValidationState(
      () => this.trainer.request?.data ?? null,
      () => void this.data.reinspectIfMapChanged(),
    );
    this.trainer = new Trainer({
      data: this.data,
      labels: this.labels,
      corrections: this.corrections,
      form: this.train,
      runs: this.runs,
      validation: this.validation,
      showTrain: () => {
        this.step = 'train';
      },
    });
  }

  /** On app load: version, the engine's training settings, runs, and a training job that may be running. */
  async init(): Promise<void> {
    api
      .appInfo()
      .then((i) => (this.info = i))
      .catch((e) => notify.error(e, 'Could not read app info'));
    void this.train.loadCatalogue();
    await this.runs.refresh();
    await this.trainer.attach();
  }

  /** The corrections of data file `path`: the data file's, or (another file) `runCorrections`. */
  correctionsOf(path: string): CorrectionsState {
    return path === this.data.path ? this.corrections : this.runCorrections;
  }

  /** Show a run on the Runs page. */
  openRun(id: string): void {
    this.runs.openId = id;
    this.step = 'runs';
  }
}

export let app = new AppState();

/** A fresh state (tests). */
export function resetApp(): AppState {
  app = new AppState();
  return app;
}
