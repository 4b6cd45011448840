// Training on label sets from the Train step: the request carries the label form, the settings
// a multi-label run refuses are fixed with their reason (not refused after Start), and the live
// view shows micro-F1 and subset accuracy, ending with the tuned thresholds' figures.
import { beforeEach, describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import type { Channel } from '@tauri-apps/api/core';
import TrainStep from '../TrainStep.svelte';
import { app, resetApp } from '../../lib/app.svelte';
import type { SeparatorChoice } from '../../lib/state/data.svelte';
import type { LabelForm, Metrics, RunRequest, TrainEvent } from '../../lib/api';
import {
  correction,
  devices,
  evaluatedWith,
  inspection,
  metrics,
  mockCommands,
  runRecord,
  send,
  settle,
  started,
  step,
  summary,
} from '../../test/fixtures';

let channel: Channel<TrainEvent> | null = null;
let request: RunRequest | null = null;

async function ready(form: LabelForm, extra: Parameters<typeof mockCommands>[0] = {}) {
  resetApp();
  mockCommands({
    inspect_data: () => ({ ...inspection({ raws: [['bug', 50], ['billing', 30]], merges: [] }), labelSeparator: ';' }),
    list_models: () => [{ id: 'distilbert-base-uncased', cached: null }],
    list_devices: () => devices(),
    start_training: (a) => {
      channel = a.onEvent as Channel<TrainEvent>;
      request = a.request as RunRequest;
      return 'run-1';
    },
    list_runs: () => [runRecord('run-1', { status: 'running', summary: null, best: null })],
    estimate_training: () => null,
    cancel_estimate: () => null,
    ...extra,
  });
  await app.data.loadPath('/data/tickets.csv');
  if (form.kind === 'separated') {
    app.data.setSeparator((form.separator ?? 'auto') as SeparatorChoice);
    app.data.setFormKind('separated');
  } else if (form.kind === 'columns') {
    app.data.setFormKind('columns');
    for (const c of form.columns) app.data.toggleFlagColumn(c);
  }
  await settle();
  render(TrainStep);
  await settle();
}

/** Label-set metrics: `accuracy` is the subset accuracy. */
function setMetrics(microF1: number, subsetAccuracy: number): Metrics {
  const base = metrics(['bug', 'billing'], [[8, 2], [1, 9]]);
  return {
    ...base,
    accuracy: subsetAccuracy,
    labelSets: { microF1, subsetAccuracy, perLabel: [], thresholds: [0.5, 0.5] },
  };
}

const evaluatedSets = (epoch: number, microF1: number, subset: number): TrainEvent =>
  evaluatedWith(epoch, setMetrics(microF1, subset));

describe('Train step with label sets', () => {
  beforeEach(() => {
    channel = null;
    request = null;
  });

  it('fixes the settings a multi-label run refuses, says why, and sends the label form', async () => {
    await ready({ kind: 'separated', separator: ';' });
    // Set before the data became multi-label (e.g. the imbalance advice): not sent.
    app.train.settings!.hyper = { ...app.train.settings!.hyper, classWeights: 'effective', sampler: 'balanced' };
    await settle();
    expect(screen.getByTestId('hp-class-weights')).toBeDisabled();
    expect(screen.getByTestId('hp-class-weights')).toHaveValue('none');
    expect(screen.getByTestId('hp-class-weights-reason')).toHaveTextContent('class weights weigh a ticket by its one class');
    expect(screen.getByTestId('hp-sampler')).toBeDisabled();
    expect(screen.getByTestId('hp-sampler-reason')).toHaveTextContent('balanced sampling draws tickets by their one class');
    expect(screen.getByTestId('hp-method')).toBeDisabled();
    expect(screen.getByTestId('hp-method-reason')).toHaveTextContent('the baseline fits one class per ticket');
    expect(screen.getByTestId('preset-quick')).toBeDisabled();
    expect(screen.getByRole('option', { name: 'micro-F1' })).toBeInTheDocument();
    expect(screen.getByText(/accuracy counts a ticket right only when its whole label set is/)).toBeInTheDocument();

    await fireEvent.click(screen.getByTestId('start-training'));
    await settle();
    expect(request!.data.labelForm).toEqual({ kind: 'separated', separator: ';' });
    expect(request!.data.labelColumn).toBe('category');
    expect(request!.config).toMatchObject({ classWeights: 'none', sampler: 'shuffle', method: 'fineTune' });
  });

  it('does not start a multi-label run while corrections are kept for the file, and says why', async () => {
    await ready(
      { kind: 'separated', separator: ';' },
      { corrections_for: () => ({ corrections: [correction(4, 'refund please', 'bug', 'billing')] }) },
    );
    expect(screen.getByTestId('start-training')).toBeDisabled();
    expect(screen.getByText(/a multi-label run refuses them/)).toBeInTheDocument();
  });

  it('sends 0/1 label columns with no label column to read', async () => {
    await ready({ kind: 'columns', columns: ['id', 'subject'] });
    await fireEvent.click(screen.getByTestId('start-training'));
    await settle();
    expect(request!.data.labelForm).toEqual({ kind: 'columns', columns: ['id', 'subject'] });
    expect(request!.data.labelColumn).toBe('');
  });

  it('keeps single-label settings for one label per ticket', async () => {
    await ready({ kind: 'single' });
    await fireEvent.change(screen.getByTestId('hp-class-weights'), { target: { value: 'effective' } });
    expect(screen.getByTestId('hp-class-weights')).toBeEnabled();
    expect(screen.queryByTestId('hp-class-weights-reason')).toBeNull();
    await fireEvent.click(screen.getByTestId('start-training'));
    await settle();
    expect(request!.data.labelForm).toEqual({ kind: 'single' });
    expect(request!.config.classWeights).toBe('effective');
  });

  it('shows micro-F1 and subset accuracy live, and the tuned thresholds as the final figures', async () => {
    await ready({ kind: 'separated', separator: null });
    await fireEvent.click(screen.getByTestId('start-training'));
    await settle();
    send(channel!, { ...started, labels: ['billing', 'bug'], multiLabel: true });
    for (let n = 1; n <= 10; n++) send(channel!, step(n));
    send(channel!, evaluatedSets(1, 0.9, 0.75));
    await waitFor(() => expect(screen.getByTestId('tile-micro-f1')).toHaveTextContent('90.0%'));
    // Before a checkpoint names the metric, the best is the subset accuracy, named so.
    expect(screen.getByTestId('tile-best')).toHaveTextContent(/75\.0%subset accuracy · epoch 1/);
    send(channel!, { type: 'checkpointSaved', epoch: 1, metric: 'micro-F1', value: 0.9, path: '/runs/run-1/model' });
    await waitFor(() => expect(screen.getByTestId('tile-best')).toHaveTextContent(/90\.0%micro-F1 · epoch 1/));
    expect(screen.getByText(/labels \(several per ticket\)/)).toBeInTheDocument();

    for (let n = 11; n <= 20; n++) send(channel!, step(n));
    send(channel!, evaluatedSets(2, 0.88, 0.7));
    send(channel!, { type: 'thresholdsTuned', metrics: setMetrics(0.95, 0.85) });
    send(channel!, {
      type: 'finished',
      summary: summary({ bestMetric: 'micro-F1', bestValue: 0.9, bestEpoch: 1 }),
    });
    await waitFor(() => expect(screen.getByTestId('train-status')).toHaveTextContent('finished'));
    expect(screen.getByTestId('thresholds-tuned')).toHaveTextContent('Thresholds tuned on validation: micro-F1 95.0%');
    expect(screen.getByTestId('tile-micro-f1')).toHaveTextContent('95.0%');
    expect(screen.getByTestId('final-micro-f1')).toHaveTextContent('95.0%');
    expect(screen.getByTestId('final-accuracy')).toHaveTextContent('85.0%');
    expect(screen.getByTestId('final-accuracy').parentElement).toHaveTextContent('Subset accuracy');
  });
});
