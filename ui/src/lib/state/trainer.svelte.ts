// Training jobs: whether one can start, starting, resuming, retraining, re-attaching to and
// cancelling them, and the live TrainSession they feed.

import * as api from '../api';
import type { TrainEvent } from '../api';
import { notify } from '../notify.svelte';
import { TrainSession } from '../trainSession.svelte';
import type { CorrectionsState } from './corrections.svelte';
import type { DataState } from './data.svelte';
import type { LabelsState } from './labels.svelte';
import type { RunsState } from './runs.svelte';
import type { TrainForm } from './trainForm.svelte';
import type { ValidationState } from './validation.svelte';

/** The screens a training job reads from and reports to (wired by AppState). */
export interface TrainerLinks {
  data: DataState;
  labels: LabelsState;
  /** The corrections kept for the data file (a run trains with them). */
  corrections: CorrectionsState;
  form: TrainForm;
  runs: RunsState;
  /** The split, or the analyst's own validation file. */
  validation: ValidationState;
  /** Bring the Train screen up. */
  showTrain(): void;
}

export class Trainer {
  readonly session = new TrainSession();
  private readonly links: TrainerLinks;

  constructor(links: TrainerLinks) {
    this.links = links;
  }

  /** What the data and the form still lack to describe a run, or null. */
  get missing(): string | null {
    const { data, form } = this.links;
    if (!form.settings) return 'The training settings are loading.';
    if (!data.path) return 'Load a data file first (Data step).';
    if (!data.textColumns.length) return 'Pick at least one text column (Data step).';
    if (!data.labelsChosen)
      return data.formKind === 'columns' ? 'Tick the 0/1 label columns (Data step).' : 'Pick the label column (Data step).';
    if (!form.model) return 'Choose a model.';
    if (form.settings.precision === 'bf16' && form.bf16Unavailable) return `${form.bf16Unavailable} Choose Auto or f32 precision.`;
    return null;
  }

  /** Why training cannot start yet, or null. */
  get blocker(): string | null {
    const { data } = this.links;
    const missing = this.missing;
    if (missing) return missing;
    if (data.blocking && !data.override)
      return 'The data check found blocking problems: fix them, or tick “Train anyway” on the Check step.';
    if (this.session.active) return 'A training run is in progress.';
    const { corrections } = this.links;
    if (data.multiLabel && corrections.path === data.path && corrections.list.length)
      return 'Corrections are kept for this file, and a multi-label run refuses them (they give a ticket one class): undo them on the Labels step, or read one label per ticket.';
    const { validation } = this.links;
    if (validation.path && validation.checking) return 'Reading the validation file…';
    if (validation.path && validation.error)
      return 'The validation file cannot be used as it is (see Validation): fix it, choose another, or go back to a share of the training file.';
    return null;
  }

  /** The run the data and the form describe, as Start sends it (the estimate asks about it too);
   * null until there are settings, a data file and the columns its labels are in. */
  get request(): api.RunRequest | null {
    const { data, labels, form, validation } = this.links;
    const settings = form.settings;
    if (!settings || !data.path || !data.labelsChosen) return null;
    const map = labels.labelMap;
    return {
      data: {
        path: data.path,
        text: {
          columns: [...data.textColumns],
          separator: data.inspection?.text?.separator ?? '\n\n',
          scrub: [...data.scrub],
        },
        // 0/1 columns name the labels themselves: the label column is not read then.
        labelColumn: data.formKind === 'columns' ? '' : (data.labelColumn ?? ''),
        labelForm: data.labelForm,
        labelMap: map ? $state.snapshot(map) : null,
        validation: validation.path,
        split: settings.split,
        corrections: null,
        ...(validation.path ? { dropOverlap: validation.dropOverlap } : {}),
      },
      config: settings.config(form.model, data.multiLabel),
      force: data.blocking && data.override,
      parent: null,
    };
  }

  async start(): Promise<void> {
    const request = this.request;
    if (this.blocker || !request) return;
    this.session.reset('starting', request.config.method);
    await this.follow((onEvent) => api.startTraining(request, onEvent), 'Training could not start');
  }

  /** Resume a cancelled, failed or interrupted run from its last completed epoch: its
   * recorded curves up to that epoch, then the live ones. */
  async resume(id: string): Promise<void> {
    const session = this.session;
    session.reset('starting', 'fineTune');
    this.links.showTrain();
    await this.follow(async (onEvent) => {
      const detail = await api.getRun(id);
      const lastEval = detail.events.map((e) => e.type).lastIndexOf('evaluated');
      session.replay(detail.events.slice(0, lastEval + 1));
      return api.resumeTraining(id, onEvent);
    }, 'Training could not resume');
  }

  /** Train a run again, as a new run, with its settings and the corrections now kept for its data file;
      when that file is the one open, with the personal data chosen on Check replaced. */
  async retrain(id: string): Promise<void> {
    const record = this.links.runs.list.find((r) => r.id === id);
    const { data } = this.links;
    const scrub = record && data.path === record.data.path ? [...data.scrub] : null;
    this.session.reset('starting', record?.config.method);
    this.links.showTrain();
    await this.follow((onEvent) => api.retrainRun(id, scrub, onEvent), 'Retraining could not start');
  }

  async cancel(): Promise<void> {
    try {
      await api.cancelTraining();
    } catch (e) {
      notify.error(e, 'Could not cancel training');
    }
  }

  /** Re-attach to a running (or just finished) training job, replaying its events. */
  async attach(): Promise<void> {
    const { runs } = this.links;
    const live: TrainEvent[] = [];
    let replayed = false;
    const session = this.session;
    try {
      const res = await api.attachTraining((e) => {
        if (replayed) {
          session.handle(e);
          if (session.done) void this.ended();
        } else live.push(e);
      });
      if (!res) {
        replayed = true;
        return;
      }
      session.reset('running', runs.list.find((r) => r.id === res.runId)?.config.method);
      session.runId = res.runId;
      session.replay(res.events);
      for (const e of live) session.handle(e);
      replayed = true;
      runs.currentId = res.runId;
      if (res.running && !session.done) this.links.showTrain();
    } catch (e) {
      replayed = true;
      notify.error(e, 'Could not re-attach to training');
    }
  }

  /** Start a job with `begin` (given the session's event handler) and follow it; a
   * refusal fails the session with the message, titled `failure`. */
  private async follow(
    begin: (onEvent: (e: TrainEvent) => void) => Promise<string>,
    failure: string,
  ): Promise<void> {
    const { runs } = this.links;
    const session = this.session;
    try {
      const runId = await begin((e) => {
        session.handle(e);
        if (session.done) void this.ended();
      });
      session.runId = runId;
      runs.currentId = runId;
      await runs.refresh();
    } catch (e) {
      if (!session.done) {
        session.error = api.errorMessage(e);
        session.status = 'failed';
      }
      notify.error(e, failure);
    }
  }

  private async ended(): Promise<void> {
    await this.links.runs.refresh();
    if (this.session.runId && this.session.status !== 'failed') this.links.runs.currentId = this.session.runId;
  }
}
