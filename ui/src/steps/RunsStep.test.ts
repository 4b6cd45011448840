import { beforeEach, describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import RunsStep from './RunsStep.svelte';
import { app, resetApp } from '../lib/app.svelte';
import { notify } from '../lib/notify.svelte';
import {
  baselineStarted,
  changedRow,
  correction,
  evaluated,
  metrics,
  mockCommands,
  runDiff,
  runRecord,
  started,
  step,
  summary,
} from '../test/fixtures';
import { multiLabelEvents, multiLabelRecord, tuned } from '../test/multiLabel';
import type { Metrics, RunRecord, TrainEvent } from '../lib/api';
import type { StartedEvent } from '../lib/trainSession.svelte';

describe('Runs page', () => {
  beforeEach(() => {
    resetApp();
    notify.reset();
  });

  it('rebuilds charts from the run events, exports, and deletes after an in-app confirmation', async () => {
    const { calls } = mockCommands({
      get_run: () => ({
        record: runRecord('run-1'),
        events: [started, step(1), step(2), evaluated(1, 0.8), { type: 'finished', summary: summary() }],
      }),
      export_run: () => '/home/me/models/run-1',
      delete_run: () => null,
    });
    app.runs.list = [runRecord('run-1'), runRecord('run-2')];
    app.runs.openId = 'run-1';
    render(RunsStep);
    await waitFor(() => expect(screen.getByTestId('run-chart-loss')).toHaveAttribute('data-points', '2'));
    expect(screen.getByTestId('run-chart-metrics')).toHaveAttribute('data-points', '1');
    expect(screen.getByTestId('run-method')).toHaveTextContent('Fine-tune');
    expect(screen.getByText('Epochs')).toBeInTheDocument();

    await fireEvent.click(screen.getByTestId('export-run'));
    expect(await screen.findByTestId('export-result')).toHaveTextContent('/home/me/models/run-1');

    await fireEvent.click(screen.getByTestId('delete-run'));
    expect(calls.some((c) => c.cmd === 'delete_run')).toBe(false);
    await fireEvent.click(screen.getByTestId('confirm-ok'));
    await waitFor(() => expect(calls.find((c) => c.cmd === 'delete_run')?.args).toEqual({ runId: 'run-1' }));
    await waitFor(() => expect(app.runs.list.map((r) => r.id)).toEqual(['run-2']));
  });

  it('exports the run as ONNX into the picked folder, and says where', async () => {
    const { calls } = mockCommands({
      get_run: () => ({ record: runRecord('run-1'), events: [started, { type: 'finished', summary: summary() }] }),
      export_run_onnx: () => '/home/me/models/dialect-run-1-onnx',
    });
    app.runs.list = [runRecord('run-1')];
    app.runs.openId = 'run-1';
    render(RunsStep);
    await fireEvent.click(await screen.findByTestId('export-onnx'));
    const result = await screen.findByTestId('export-onnx-result');
    expect(result).toHaveTextContent('/home/me/models/dialect-run-1-onnx');
    expect(result).toHaveTextContent('model.int8.onnx');
    expect(calls.find((c) => c.cmd === 'export_run_onnx')?.args).toEqual({ runId: 'run-1' });
    expect(screen.queryByTestId('export-result')).toBeNull();
  });

  it('exports the run as a Trainer job into the picked folder, and says where', async () => {
    const { calls } = mockCommands({
      get_run: () => ({ record: runRecord('run-1'), events: [started, { type: 'finished', summary: summary() }] }),
      export_trainer_job: () => '/home/me/jobs/dialect-run-1-trainer',
    });
    app.runs.list = [runRecord('run-1')];
    app.runs.openId = 'run-1';
    render(RunsStep);
    await fireEvent.click(await screen.findByTestId('export-trainer-job'));
    const result = await screen.findByTestId('export-trainer-job-result');
    expect(result).toHaveTextContent('/home/me/jobs/dialect-run-1-trainer');
    expect(result).toHaveTextContent('launch.sh');
    expect(calls.find((c) => c.cmd === 'export_trainer_job')?.args).toEqual({ runId: 'run-1' });
  });

  it("imports a Trainer job's output as a run and opens it; a cancelled dialog changes nothing", async () => {
    let answer: string | null = null;
    const { calls } = mockCommands({
      import_run: () => answer,
      list_runs: () => [runRecord('run-9'), runRecord('run-1')],
      get_run: () => ({ record: runRecord('run-9'), events: [{ type: 'finished', summary: summary() }] }),
    });
    app.runs.list = [runRecord('run-1')];
    render(RunsStep);
    await fireEvent.click(screen.getByTestId('import-run'));
    await waitFor(() => expect(calls.filter((c) => c.cmd === 'import_run')).toHaveLength(1));
    expect(app.runs.openId).toBeNull();
    expect(calls.some((c) => c.cmd === 'list_runs')).toBe(false);
    answer = 'run-9';
    await fireEvent.click(screen.getByTestId('import-run'));
    await waitFor(() => expect(app.runs.openId).toBe('run-9'));
    expect(app.runs.list.map((r) => r.id)).toEqual(['run-9', 'run-1']);
  });

  it('compares the open run with an earlier one, ticket by ticket, with filters', async () => {
    const { calls } = mockCommands({
      get_run: () => ({ record: runRecord('run-2'), events: [started, { type: 'finished', summary: summary() }] }),
      diff_runs: () => runDiff(),
    });
    app.runs.list = [runRecord('run-2'), runRecord('run-1')];
    app.runs.openId = 'run-2';
    render(RunsStep);
    const select = await screen.findByTestId('compare-with');
    await fireEvent.change(select, { target: { value: 'run-1' } });
    await waitFor(() => expect(screen.getByTestId('compare-summary')).toHaveTextContent('2fixed'));
    expect(calls.find((c) => c.cmd === 'diff_runs')?.args).toEqual({ before: 'run-1', after: 'run-2', on: null });
    expect(screen.getByTestId('compare-basis')).toHaveTextContent('Compared on 10 shared validation rows.');
    expect(screen.getByTestId('compare-summary')).toHaveTextContent('+10.0 pt on 10 tickets');
    expect(screen.getByTestId('compare-rows').querySelectorAll('tbody tr')).toHaveLength(3);
    await fireEvent.click(screen.getByTestId('compare-broken'));
    const rows = screen.getByTestId('compare-rows').querySelectorAll('tbody tr');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toHaveTextContent('ticket on line 7');
    await fireEvent.click(screen.getByTestId('compare-changed'));
    expect(screen.getByTestId('compare-none')).toHaveTextContent('No tickets match');
    expect(screen.getByTestId('compare-confusion')).toHaveTextContent('+1');
  });

  it('names the run a retrain comes from and its corrections, and compares with that run first', async () => {
    const parent = runRecord('run-1');
    const record = runRecord('run-2', {
      parent: 'run-1',
      data: {
        ...parent.data,
        corrections: { corrections: [correction(3, 'add export please', 'bug', 'feature'), correction(9, 'asdf', 'bug', null)] },
      },
    });
    const { calls } = mockCommands({
      get_run: (a) => ({ record: a.runId === 'run-1' ? parent : record, events: [started] }),
      diff_runs: () =>
        runDiff({
          basis: { kind: 'validationRows', onlyBefore: 1, onlyAfter: 0 },
          rowsCompared: 9,
          fixed: 1,
          broken: 0,
          corrected: 1,
          rows: [
            changedRow('fixed', 3, 'feature', 'bug', 'feature', 'bug'),
            changedRow('corrected', 5, 'bug', 'bug', 'bug', 'question'),
          ],
        }),
    });
    app.runs.list = [record, parent];
    app.runs.openId = 'run-2';
    render(RunsStep);
    expect(await screen.findByTestId('run-parent')).toHaveTextContent('Retrains run run-1');
    expect(screen.getByTestId('run-corrections')).toHaveTextContent('Trained with 2 corrections');

    // The comparison starts with the run retrained.
    await waitFor(() =>
      expect(screen.getByTestId('compare-basis')).toHaveTextContent(
        'Compared on 9 shared validation rows; 1 ticket dropped by corrections left out.',
      ),
    );
    expect(calls.find((c) => c.cmd === 'diff_runs')?.args).toEqual({ before: 'run-1', after: 'run-2', on: null });
    expect(screen.getByTestId('compare-with')).toHaveValue('run-1');
    expect(screen.getByTestId('compare-rows').querySelector('tbody tr')).toHaveTextContent('bug → feature');
    // A ticket whose class was corrected but whose prediction did not move has its own group.
    expect(screen.getByTestId('compare-summary')).toHaveTextContent('1corrected');
    await fireEvent.click(screen.getByTestId('compare-corrected'));
    const corrected = screen.getByTestId('compare-rows').querySelectorAll('tbody tr');
    expect(corrected).toHaveLength(1);
    expect(corrected[0]).toHaveTextContent('question → bug');

    await fireEvent.click(screen.getByRole('button', { name: 'run-1' }));
    expect(app.runs.openId).toBe('run-1');
    await waitFor(() => expect(screen.queryByTestId('run-parent')).toBeNull());
  });

  it('compares runs validated on other rows on a data file the person picks', async () => {
    const { calls } = mockCommands({
      get_run: () => ({ record: runRecord('run-2'), events: [started] }),
      diff_runs: (a) =>
        a.on
          ? runDiff({ basis: { kind: 'file', path: '/data/holdout.csv' }, rowsCompared: 50 })
          : Promise.reject({
              kind: 'config',
              message: 'runs run-1 and run-2 were validated on other rows (20 and 18, 3 shared): compare them on one labelled file instead (both models score it)',
              settings: [],
            }),
      pick_data_file: () => '/data/holdout.csv',
    });
    app.runs.list = [runRecord('run-2'), runRecord('run-1')];
    app.runs.openId = 'run-2';
    render(RunsStep);
    await fireEvent.change(await screen.findByTestId('compare-with'), { target: { value: 'run-1' } });
    expect(await screen.findByTestId('compare-other-rows')).toHaveTextContent('validated on other rows');
    expect(notify.errors).toEqual([]);

    await fireEvent.click(screen.getByTestId('compare-on-file'));
    await waitFor(() =>
      expect(screen.getByTestId('compare-basis')).toHaveTextContent(
        'Compared on every labelled row of holdout.csv, scored by both models.',
      ),
    );
    expect(calls.filter((c) => c.cmd === 'diff_runs').map((c) => c.args)).toEqual([
      { before: 'run-1', after: 'run-2', on: null },
      { before: 'run-1', after: 'run-2', on: '/data/holdout.csv' },
    ]);
    expect(screen.queryByTestId('compare-other-rows')).toBeNull();
  });

  it('shows a baseline run: its method, the encoding count, and a note in place of the charts', async () => {
    const record = runRecord('run-b', { config: { ...runRecord('run-b').config, method: 'baseline', epochs: 1 } });
    mockCommands({
      get_run: () => ({
        record,
        events: [
          baselineStarted,
          { type: 'encoding', done: 64, total: 180 },
          { type: 'encoding', done: 180, total: 180 },
          evaluated(1, 0.75),
          { type: 'finished', summary: summary() },
        ],
      }),
    });
    app.runs.list = [record];
    render(RunsStep);
    expect(screen.getByTestId('run-row-run-b')).toHaveTextContent('Baseline');
    await fireEvent.click(screen.getByRole('button', { name: 'distilbert-base-uncased' }));
    await waitFor(() => expect(screen.getByTestId('run-method')).toHaveTextContent('Baseline'));
    expect(screen.getByTestId('run-chart-baseline-note')).toHaveTextContent('fitted on frozen features');
    expect(screen.queryByTestId('run-chart-loss')).toBeNull();
    expect(screen.getByTestId('tile-encoded')).toHaveTextContent('180/ 180');
    expect(screen.queryByText('Epochs')).toBeNull();
    expect(screen.queryByText('Learning rate')).toBeNull();
  });

  it('names the process training a run elsewhere and does not offer to delete it', async () => {
    const record = runRecord('run-x', { status: 'running', pid: 4242, summary: null });
    mockCommands({ get_run: () => ({ record, events: [started] }) });
    app.runs.list = [record];
    app.runs.openId = 'run-x';
    render(RunsStep);
    expect(await screen.findByTestId('run-elsewhere')).toHaveTextContent('another Dialect process (pid 4242)');
    expect(screen.getByTestId('delete-run')).toBeDisabled();
    expect(screen.getByTestId('run-fingerprint')).toHaveTextContent('not recorded (older run)');
  });

  it('resumes a cancelled run: replays its curves up to the last completed epoch, then trains on', async () => {
    const record = runRecord('run-c', { status: 'cancelled', resumable: true });
    const events = [started, step(1), step(2), evaluated(1, 0.7), step(3), { type: 'cancelled', step: 3, summary: summary() }];
    const { calls } = mockCommands({
      get_run: () => ({ record, events }),
      resume_training: () => 'run-c',
      list_runs: () => [record],
    });
    app.runs.list = [record];
    app.runs.openId = 'run-c';
    render(RunsStep);
    expect(await screen.findByTestId('resume-note')).toHaveTextContent('last completed epoch');
    await fireEvent.click(screen.getByTestId('resume-run'));
    await waitFor(() => expect(calls.find((c) => c.cmd === 'resume_training')?.args).toMatchObject({ runId: 'run-c' }));
    expect(app.step).toBe('train');
    // The epoch-1 curves are kept; the cancelled epoch's step 3 is trained again.
    expect(app.trainer.session.evaluations.length).toBe(1);
    expect(app.trainer.session.step).toBeLessThan(3);
  });

  it('offers no resume for a finished run', async () => {
    const record = runRecord('run-f');
    mockCommands({ get_run: () => ({ record, events: [started, evaluated(1, 0.8)] }) });
    app.runs.list = [record];
    app.runs.openId = 'run-f';
    render(RunsStep);
    await screen.findByTestId('delete-run');
    expect(screen.queryByTestId('resume-run')).toBeNull();
  });

  it('names the personal data replaced before the model', async () => {
    const record = runRecord('run-p');
    record.data.text = { columns: ['body'], separator: '\n\n', scrub: ['address'] };
    mockCommands({ get_run: () => ({ record, events: [started, evaluated(1, 0.8)] }) });
    app.runs.list = [record];
    app.runs.openId = 'run-p';
    render(RunsStep);
    expect(await screen.findByTestId('scrub-note')).toHaveTextContent('Personal data replaced before the model: street addresses');
  });
  describe('a multi-label run', () => {
    it('is marked in the list with its micro-F1 and subset accuracy', () => {
      mockCommands({});
      app.runs.list = [multiLabelRecord('run-ml'), runRecord('run-1')];
      render(RunsStep);
      expect(screen.getByTestId('run-multi-label-run-ml')).toHaveTextContent('multi-label');
      expect(screen.queryByTestId('run-multi-label-run-1')).toBeNull();
      expect(screen.getByTestId('run-row-run-ml')).toHaveTextContent('micro-F1 94.7% · whole set 87.5%');
      expect(screen.getByTestId('run-row-run-1')).toHaveTextContent('85.0% accuracy');
    });

    it('shows its tuned set metrics and label form, and offers no comparison', async () => {
      mockCommands({ get_run: () => ({ record: multiLabelRecord('run-ml'), events: multiLabelEvents() }) });
      app.runs.list = [multiLabelRecord('run-ml'), runRecord('run-1')];
      app.runs.openId = 'run-ml';
      render(RunsStep);
      const sets = await screen.findByTestId('run-set-metrics');
      expect(sets).toHaveTextContent('Micro-F198.7%');
      expect(sets).toHaveTextContent('Subset accuracy (whole set right)95.8%');
      expect(sets).toHaveTextContent("with each label's tuned threshold");
      expect(screen.getByTestId('run-multi-label')).toHaveTextContent('multi-label');
      expect(screen.getByTestId('run-label')).toHaveTextContent("tags, split by ';'");
      expect(screen.getByRole('columnheader', { name: 'Subset accuracy' })).toBeInTheDocument();
      const kept = screen.getAllByRole('row').find((r) => within(r).queryByText('kept'))!;
      expect(kept).toHaveTextContent('87.5%94.7%');
      expect(screen.getByTestId('run-compare-refused')).toHaveTextContent('not offered for a multi-label run');
      expect(screen.queryByTestId('compare-with')).toBeNull();
    });

    it('is not offered to compare a single-label run with', async () => {
      mockCommands({ get_run: () => ({ record: runRecord('run-2'), events: [] }) });
      app.runs.list = [runRecord('run-2'), multiLabelRecord('run-ml'), runRecord('run-1')];
      app.runs.openId = 'run-2';
      render(RunsStep);
      const select = await screen.findByTestId('compare-with');
      expect([...select.querySelectorAll('option')].map((o) => o.value)).toEqual(['', 'run-1']);
      expect(screen.queryByTestId('run-set-metrics')).toBeNull();
    });
  });
});

describe('A run imported from a Trainer job', () => {
  beforeEach(() => {
    resetApp();
    notify.reset();
  });

  /** The events the import records: the job's plan (one evaluation after 10 steps), its scores, its kept model, its summary. */
  function importedEvents(metrics: Metrics, multiLabel: boolean): TrainEvent[] {
    const device = 'cuda (trained by transformers Trainer, imported)';
    const epochs = [{ epoch: 1, trainLoss: 0.9, evalLoss: 0.8, metrics, seconds: 12.5, samplesPerSecond: 30 }];
    return [
      { ...(started as StartedEvent), device, epochs: 1, stepsPerEpoch: 10, totalSteps: 10, truncatedRows: 0, newlyInitialised: [], precision: '', multiLabel },
      { type: 'evaluated', epoch: 1, step: 10, trainLoss: 0.9, evalLoss: 0.8, samplesPerSecond: 30, metrics },
      { type: 'checkpointSaved', epoch: 1, metric: 'accuracy', value: metrics.accuracy, path: '/runs/run-i/model' },
      { type: 'finished', summary: summary({ epochs, bestEpoch: 1, bestValue: metrics.accuracy, steps: 10, seconds: 14, device }) },
    ];
  }

  function open(record: RunRecord, events: TrainEvent[]) {
    mockCommands({ get_run: () => ({ record, events }) });
    app.runs.list = [record];
    app.runs.openId = record.id;
    render(RunsStep);
  }

  it('names its multi-label best as a trained run does, says which losses it holds, and agrees on its epochs', async () => {
    const base = multiLabelRecord('run-i');
    const record = { ...base, config: { ...base.config, epochs: 1, bestMetric: 'accuracy' as const }, best: [1, 42 / 48] as [number, number] };
    open(record, importedEvents(tuned(), true));
    await waitFor(() => expect(screen.getByTestId('tile-best')).toHaveTextContent(/subset accuracy · epoch 1/));
    const loss = screen.getByTestId('run-chart-loss');
    expect(loss).toHaveAttribute('data-points', '0');
    expect(loss).toHaveTextContent("Trained by transformers' Trainer and imported");
    expect(loss).toHaveTextContent('epoch 1: training 0.90, validation 0.80');
    expect(loss).not.toHaveTextContent('appears after the first step');
    expect(screen.getByTestId('run-chart-lr')).toHaveTextContent('No learning-rate schedule recorded');
    expect(screen.getByTestId('tile-epoch')).toHaveTextContent('1/ 1');
    expect(screen.getByTestId('run-epochs')).toHaveTextContent('1');
    expect(screen.getByTestId('tile-step')).toHaveTextContent('10/ 10');
  });

  it('names a single-label best accuracy', async () => {
    open(runRecord('run-s', { config: { ...runRecord('run-s').config, epochs: 1 } }), importedEvents(metrics(['a', 'b'], [[8, 2], [1, 9]]), false));
    await waitFor(() => expect(screen.getByTestId('tile-best')).toHaveTextContent(/85\.0%accuracy · epoch 1/));
    expect(screen.getByTestId('run-chart-loss')).toHaveTextContent('epoch 1: training 0.90, validation 0.80');
  });

  it('imported before its start was recorded, still names subset accuracy by its label-set scores', async () => {
    const record = { ...multiLabelRecord('run-old'), best: [1, 42 / 48] as [number, number] };
    open(record, importedEvents(tuned(), true).slice(1));
    await waitFor(() => expect(screen.getByTestId('tile-best')).toHaveTextContent(/subset accuracy · epoch 1/));
  });

  it('a trained run still waits for its first step', async () => {
    open(runRecord('run-t', { status: 'running' }), [started]);
    const loss = await screen.findByTestId('run-chart-loss');
    expect(loss).toHaveTextContent('The loss appears after the first step');
  });
});
