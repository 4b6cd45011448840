import { beforeEach, describe, expect, it } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import RunsStep from '../RunsStep.svelte';
import TrainStep from '../TrainStep.svelte';
import { app, resetApp } from '../../lib/app.svelte';
import type { Checks, DataSpec, RunRequest, ValidationSummary } from '../../lib/api';
import { devices, inspection, mockCommands, runRecord, settle, started as startedEvent, summary as runSummary } from '../../test/fixtures';

const MINILM = 'sentence-transformers/all-MiniLM-L6-v2';

function summary(over: Partial<ValidationSummary> = {}): ValidationSummary {
  return {
    path: '/data/held-out.csv',
    rows: 120,
    classCounts: [
      ['bug', 50],
      ['feature request', 40],
      ['question', 30],
    ],
    missingClasses: [],
    overlap: {
      rows: 7,
      exact: 2,
      threshold: 0.8,
      pairs: [
        { trainingLine: 14, validationLine: 3, similarity: 1, exact: true },
        { trainingLine: 90, validationLine: 8, similarity: 0.83, exact: false },
      ],
    },
    corrections: { relabelled: 0, dropped: 0, moved: [], stale: [] },
    warnings: [],
    ...over,
  };
}

type Check = (data: DataSpec) => ValidationSummary;

/** The checks of the latest data check. */
const lastChecks = () => inspectedWith[inspectedWith.length - 1];

let checked: DataSpec[] = [];
let inspectedWith: (Checks | null)[] = [];
let started: RunRequest | null = null;

async function ready(picked: string | null, check: Check = () => summary()) {
  resetApp();
  checked = [];
  inspectedWith = [];
  started = null;
  const mock = mockCommands({
    inspect_data: (a) => {
      inspectedWith.push(a.checks as Checks | null);
      return inspection();
    },
    list_models: () => [{ id: MINILM, cached: '/hf/minilm' }],
    list_devices: () => devices(),
    estimate_training: () => null,
    cancel_estimate: () => null,
    pick_validation_file: () => picked,
    check_validation_file: (a) => {
      const data = a.data as DataSpec;
      checked.push(data);
      return check(data);
    },
    start_training: (a) => {
      started = a.request as RunRequest;
      return 'run-1';
    },
    list_runs: () => [],
  });
  await app.data.loadPath('/data/tickets.csv');
  render(TrainStep);
  await settle();
  return mock;
}

describe('The validation picker', () => {
  beforeEach(() => resetApp());

  it('holds out a share of the training file until a file is chosen', async () => {
    await ready(null);
    expect(screen.getByTestId('validation-split')).toHaveAttribute('aria-checked', 'true');
    expect(screen.getByTestId('validation-split')).toHaveTextContent('A share of the training file (10%, stratified)');
    // Cancelling the dialog keeps the split.
    await fireEvent.click(screen.getByTestId('validation-own'));
    await settle();
    expect(screen.getByTestId('validation-split')).toHaveAttribute('aria-checked', 'true');
    expect(checked).toHaveLength(0);
    expect(app.trainer.request?.data.validation).toBeNull();
  });

  it('shows the chosen file, its classes and the tickets that repeat training tickets, and sends it', async () => {
    await ready('/data/held-out.csv');
    await fireEvent.click(screen.getByTestId('validation-own'));
    await settle();
    // Read with the data file's columns and label map.
    expect(checked[0].validation).toBe('/data/held-out.csv');
    expect(checked[0].path).toBe('/data/tickets.csv');
    expect(checked[0].labelColumn).toBe('category');
    expect(screen.getByTestId('validation-own')).toHaveTextContent('My own file: held-out.csv');
    expect(screen.getByTestId('validation-summary')).toHaveTextContent('held-out.csv: 120 tickets in 3 classes');
    expect(screen.getByTestId('validation-classes')).toHaveTextContent('feature request 40');
    const overlap = screen.getByTestId('validation-overlap');
    expect(overlap).toHaveTextContent('7 of its tickets repeat training tickets (2 the same text, 5 nearly');
    expect(overlap).toHaveTextContent('validation line 8 ↔ training line 90 (similarity 0.83)');
    expect(overlap).toHaveTextContent('… and 2 more');
    // The data check reads the file instead of the split.
    expect(lastChecks()?.validation).toBe('/data/held-out.csv');

    await fireEvent.click(screen.getByTestId('validation-drop-overlap'));
    await fireEvent.click(screen.getByTestId('model-option-sentence-transformers__all-MiniLM-L6-v2'));
    await fireEvent.click(screen.getByTestId('start-training'));
    await settle();
    expect(started?.data.validation).toBe('/data/held-out.csv');
    expect(started?.data.dropOverlap).toBe(true);
  });

  it('says inline why a file cannot be used, blocks Start, and goes back to the split', async () => {
    await ready('/data/other.csv', () => {
      throw {
        kind: 'data',
        message: "/data/other.csv: validation row on line 7: its label 'Refunds' is not a training class",
        settings: ['labelMap'],
      };
    });
    await fireEvent.click(screen.getByTestId('validation-own'));
    await settle();
    expect(screen.getByTestId('validation-error')).toHaveTextContent("line 7: its label 'Refunds' is not a training class");
    await fireEvent.click(screen.getByTestId('model-option-sentence-transformers__all-MiniLM-L6-v2'));
    expect(screen.getByTestId('start-training')).toBeDisabled();

    await fireEvent.click(screen.getByText('Back to a share of the training file'));
    await settle();
    expect(screen.queryByTestId('validation-error')).toBeNull();
    expect(screen.getByTestId('validation-split')).toHaveAttribute('aria-checked', 'true');
    expect(screen.getByTestId('start-training')).not.toBeDisabled();
    expect(lastChecks()?.validation).toBeUndefined();
  });

  it('says when the file has no tickets repeating training tickets, and which classes it lacks', async () => {
    await ready('/data/held-out.csv', () =>
      summary({ missingClasses: ['question'], overlap: { rows: 0, exact: 0, threshold: 0.8, pairs: [] } }),
    );
    await fireEvent.click(screen.getByTestId('validation-own'));
    await settle();
    expect(screen.getByTestId('validation-no-overlap')).toBeInTheDocument();
    expect(screen.getByTestId('validation-missing')).toHaveTextContent('No validation tickets for question');
  });
});

describe('A run validated on its own file', () => {
  beforeEach(() => resetApp());

  it('says so on the Runs page, and a run on the split does not', async () => {
    const own = runRecord('run-1');
    own.data = { ...own.data, validation: '/data/held-out.csv', dropOverlap: true };
    mockCommands({
      get_run: (a) => ({
        record: a.runId === 'run-1' ? own : runRecord('run-2'),
        events: [startedEvent, { type: 'finished', summary: runSummary() }],
      }),
    });
    app.runs.list = [own, runRecord('run-2')];
    app.runs.openId = 'run-1';
    const view = render(RunsStep);
    expect(await screen.findByTestId('run-validation-file')).toHaveTextContent(
      'Validated on its own file, held-out.csv, its tickets that repeat training tickets left out.',
    );
    view.unmount();
    app.runs.openId = 'run-2';
    render(RunsStep);
    expect(await screen.findByText('run-2')).toBeInTheDocument();
    expect(screen.queryByTestId('run-validation-file')).toBeNull();
  });
});
