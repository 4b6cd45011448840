import { beforeEach, describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import type { Channel } from '@tauri-apps/api/core';
import TrainStep from './TrainStep.svelte';
import { app, resetApp } from '../lib/app.svelte';
import { notify } from '../lib/notify.svelte';
import type { Catalogue, TrainEvent, RunRequest } from '../lib/api';
import {
  baselineStarted,
  catalogue,
  deviceCheck,
  devices,
  evaluated,
  inspection,
  mockCommands,
  NO_DRIVER,
  runRecord,
  send,
  settle,
  started,
  step,
  summary,
} from '../test/fixtures';

let channel: Channel<TrainEvent> | null = null;
let request: RunRequest | null = null;

function commands(extra: Record<string, (a: Record<string, unknown>) => unknown> = {}) {
  return mockCommands({
    inspect_data: () => inspection(),
    list_models: () => [
      { id: 'distilbert-base-uncased', cached: null },
      { id: 'bert-base-uncased', cached: null },
      { id: 'sentence-transformers/all-MiniLM-L6-v2', cached: '/hf/minilm' },
    ],
    list_devices: () => devices(),
    start_training: (a) => {
      channel = a.onEvent as Channel<TrainEvent>;
      request = a.request as RunRequest;
      return 'run-1';
    },
    cancel_training: () => null,
    list_runs: () => [runRecord('run-1', { status: 'running', summary: null, best: null })],
    // The estimate before Start (its own tests: train/EstimatePanel.test.ts).
    estimate_training: () => null,
    cancel_estimate: () => null,
    ...extra,
  });
}

async function ready(extra: Parameters<typeof commands>[0] = {}) {
  resetApp();
  channel = null;
  request = null;
  const mock = commands(extra);
  await app.data.loadPath('/data/tickets.csv');
  render(TrainStep);
  await settle();
  return mock;
}

const points = (id: string) => Number(screen.getByTestId(id).getAttribute('data-points'));

describe('Train step', () => {
  beforeEach(() => resetApp());

  it('lists models with disk status, devices, and applies presets', async () => {
    await ready();
    expect(screen.getByTestId('model-option-distilbert-base-uncased')).toHaveTextContent('needs download');
    expect(screen.getByTestId('model-option-sentence-transformers__all-MiniLM-L6-v2')).toHaveTextContent('on disk');
    expect(screen.getByTestId('download-model')).toBeInTheDocument();

    const cuda = screen.getByRole('option', { name: /CUDA/ }) as HTMLOptionElement;
    expect(cuda.disabled).toBe(true);
    expect(cuda.title).toBe(NO_DRIVER);
    expect(screen.getByText(`CUDA: ${NO_DRIVER}`)).toBeInTheDocument();
    expect(screen.getByRole('option', { name: /^CPU/ })).toHaveTextContent('CPU — AMD EPYC 7B13 (2 threads)');
    const bf16 = screen.getByRole('option', { name: /bf16/ }) as HTMLOptionElement;
    expect(bf16.disabled).toBe(true);
    expect(bf16.title).toMatch(/compute capability 8\.0 .*none is available here/);

    expect(screen.getByTestId('hp-epochs')).toHaveValue(3);
    expect(screen.getByTestId('hp-method')).toHaveValue('fineTune');
    await fireEvent.click(screen.getByTestId('preset-quick'));
    expect(screen.getByTestId('hp-method')).toHaveValue('baseline');
    expect(screen.getByText(/frozen encoder reads each ticket once/)).toBeInTheDocument();
    expect(screen.getByTestId('hp-epochs')).toBeDisabled();
    expect(screen.getByTestId('hp-learning-rate')).toBeDisabled();
    expect(screen.getByTestId('hp-max-length')).toBeEnabled();
    await fireEvent.click(screen.getByTestId('preset-light'));
    expect(screen.getByTestId('hp-method')).toHaveValue('fineTune');
    expect(screen.getByTestId('hp-epochs')).toBeEnabled();
    expect(screen.getByTestId('hp-epochs')).toHaveValue(1);
    expect(screen.getByTestId('hp-max-length')).toHaveValue(64);
    expect(screen.getByTestId('hp-max-rows')).toHaveValue(2000);
    await fireEvent.click(screen.getByTestId('preset-thorough'));
    expect(screen.getByTestId('hp-epochs')).toHaveValue(5);
    expect(screen.getByTestId('hp-max-rows')).toHaveValue(null);
  });

  it('takes a local model folder only from the native folder dialog', async () => {
    const { calls } = await ready({
      pick_model_folder: () => ({ id: '/models/my-bert', cached: '/models/my-bert' }),
    });
    await fireEvent.click(screen.getByTestId('model-option-folder'));
    // No path can be typed: the folder comes from the dialog, which grants it.
    expect(screen.getByTestId('model-folder').tagName).not.toBe('INPUT');
    expect(screen.getByTestId('model-folder')).toHaveTextContent('No folder chosen');
    await fireEvent.click(screen.getByTestId('choose-model-folder'));
    await settle();
    expect(calls.filter((c) => c.cmd === 'pick_model_folder')).toHaveLength(1);
    expect(screen.getByTestId('model-folder')).toHaveTextContent('/models/my-bert');
    await fireEvent.click(screen.getByTestId('start-training'));
    await settle();
    expect(request!.config.model).toBe('/models/my-bert');
    expect(request!.config.newHead).toBe(false);
  });

  it('asks for a new classification head only when the person ticks it', async () => {
    await ready({ pick_model_folder: () => ({ id: '/models/classifier', cached: '/models/classifier' }) });
    await fireEvent.click(screen.getByTestId('model-option-folder'));
    await fireEvent.click(screen.getByTestId('choose-model-folder'));
    await settle();
    await fireEvent.click(screen.getByTestId('new-head'));
    await fireEvent.click(screen.getByTestId('start-training'));
    await settle();
    expect(request!.config.newHead).toBe(true);
  });

  it('feeds tickets in random order unless the person asks to group them by length', async () => {
    await ready();
    const group = screen.getByTestId('hp-group-by-length') as HTMLInputElement;
    expect(group.checked).toBe(false);
    await fireEvent.click(screen.getByTestId('start-training'));
    await settle();
    expect(request!.config.groupByLength).toBe(false);
  });

  it('groups tickets by length when the person ticks it', async () => {
    await ready();
    await fireEvent.click(screen.getByTestId('hp-group-by-length'));
    await fireEvent.click(screen.getByTestId('start-training'));
    await settle();
    expect(request!.config.groupByLength).toBe(true);
  });

  it('sends no class weights and a plain shuffle unless the person picks them', async () => {
    await ready();
    expect(screen.getByTestId('hp-class-weights')).toHaveValue('none');
    expect(screen.getByTestId('hp-sampler')).toHaveValue('shuffle');
    expect(screen.getByTestId('hp-class-weights').closest('label')).toHaveTextContent('Class weights');
    await fireEvent.click(screen.getByTestId('start-training'));
    await settle();
    expect(request!.config.classWeights).toBe('none');
    expect(request!.config.sampler).toBe('shuffle');
  });

  it('sends the class weights and the balanced sampler picked', async () => {
    await ready();
    await fireEvent.change(screen.getByTestId('hp-class-weights'), { target: { value: 'effective' } });
    await fireEvent.change(screen.getByTestId('hp-sampler'), { target: { value: 'balanced' } });
    expect(app.train.settings!.preset).toBeNull();
    await fireEvent.click(screen.getByTestId('start-training'));
    await settle();
    expect(request!.config.classWeights).toBe('effective');
    expect(request!.config.sampler).toBe('balanced');
  });

  it('weighs classes in the baseline too, which has no sampler', async () => {
    await ready();
    await fireEvent.click(screen.getByTestId('preset-quick'));
    expect(screen.getByTestId('hp-sampler')).toBeDisabled();
    expect(screen.getByTestId('hp-sampler').closest('label')).toHaveTextContent('Not used by the baseline.');
    expect(screen.getByTestId('hp-class-weights')).not.toBeDisabled();
  });

  it('sends the split seed with the data, apart from the training seed', async () => {
    await ready();
    await fireEvent.input(screen.getByTestId('hp-seed'), { target: { value: '7' } });
    await fireEvent.input(screen.getByTestId('hp-split-seed'), { target: { value: '3' } });
    await fireEvent.click(screen.getByTestId('start-training'));
    await settle();
    expect(request!.config.seed).toBe(7);
    expect(request!.data.split.seed).toBe(3);
    expect(screen.getByText('Split seed')).toBeInTheDocument();
  });

  it('keeps the model unchanged when the folder dialog is cancelled', async () => {
    await ready({ pick_model_folder: () => null });
    await fireEvent.click(screen.getByTestId('model-option-folder'));
    await fireEvent.click(screen.getByTestId('choose-model-folder'));
    await settle();
    expect(screen.getByTestId('model-folder')).toHaveTextContent('No folder chosen');
    expect(app.train.model).toBe('');
  });

  it('starts with the form values, then charts and tiles follow the channel', async () => {
    await ready();
    await fireEvent.click(screen.getByTestId('model-option-sentence-transformers__all-MiniLM-L6-v2'));
    await fireEvent.input(screen.getByTestId('hp-epochs'), { target: { value: '2' } });
    await fireEvent.input(screen.getByTestId('hp-max-rows'), { target: { value: '500' } });
    await fireEvent.click(screen.getByTestId('start-training'));
    await settle();

    expect(request).not.toBeNull();
    expect(request!.force).toBe(false);
    expect(request!.data).toMatchObject({ path: '/data/tickets.csv', labelColumn: 'category', validation: null });
    expect(request!.data.split).toEqual({ validationFraction: 0.1, seed: 42, maxRows: 500 });
    expect(request!.data.text.columns).toEqual(['body']);
    expect(request!.config).toMatchObject({
      model: 'sentence-transformers/all-MiniLM-L6-v2',
      epochs: 2,
      batchSize: 16,
      learningRate: 2e-5,
      maxLength: 128,
      device: 'auto',
      precision: 'auto',
      method: 'fineTune',
    });
    expect(screen.queryByTestId('chart-baseline-note')).toBeNull();

    send(channel!, started);
    for (let n = 1; n <= 5; n++) send(channel!, step(n));
    await waitFor(() => expect(points('chart-loss')).toBe(5));
    expect(points('chart-lr')).toBe(5);
    expect(screen.getByTestId('train-status')).toHaveTextContent('running');
    expect(screen.getByTestId('tile-step')).toHaveTextContent('5/ 20');
    expect(screen.getByTestId('tile-device')).toHaveTextContent('cpu · f32');
    expect(screen.getByText(/40 of 160 training texts/)).toBeInTheDocument();
    expect(screen.getByTestId('train-progress')).toHaveAttribute('aria-valuenow', '25');

    for (let n = 6; n <= 10; n++) send(channel!, step(n));
    send(channel!, evaluated(1, 0.8));
    await waitFor(() => expect(points('chart-metrics')).toBe(1));
    expect(points('chart-loss')).toBe(10);
    expect(screen.getByTestId('tile-best')).toHaveTextContent('80.0%');

    for (let n = 11; n <= 20; n++) send(channel!, step(n));
    send(channel!, evaluated(2, 0.85));
    send(channel!, { type: 'checkpointSaved', epoch: 2, metric: 'accuracy', value: 0.85, path: '/runs/run-1/model' });
    send(channel!, { type: 'finished', summary: summary() });
    await waitFor(() => expect(screen.getByTestId('train-status')).toHaveTextContent('finished'));
    expect(points('chart-loss')).toBe(20);
    expect(points('chart-metrics')).toBe(2);
    expect(screen.getByTestId('final-accuracy')).toHaveTextContent('85.0%');
    expect(screen.getByTestId('train-progress')).toHaveAttribute('aria-valuenow', '100');
    expect(screen.queryByTestId('cancel-training')).toBeNull();
  });

  it('runs the Quick preset as the instant baseline: encoding progress, a note for the charts, the accuracy', async () => {
    await ready();
    await fireEvent.click(screen.getByTestId('preset-quick'));
    expect(screen.getByTestId('start-training').parentElement).toHaveTextContent('instant baseline');
    await fireEvent.click(screen.getByTestId('start-training'));
    await settle();
    expect(request!.config).toMatchObject({ method: 'baseline', maxLength: 128 });
    expect(request!.data.split.maxRows).toBeNull();

    send(channel!, baselineStarted);
    send(channel!, { type: 'encoding', done: 1000, total: 1234 });
    await waitFor(() => expect(screen.getByTestId('encoding-progress')).toHaveTextContent('Encoding texts 1,000 / 1,234'));
    expect(screen.getByTestId('tile-encoded')).toHaveTextContent('1,000/ 1,234');
    expect(screen.queryByTestId('tile-step')).toBeNull();
    expect(screen.getByTestId('train-progress')).toHaveAttribute('aria-valuenow', '81');
    expect(screen.getByTestId('chart-baseline-note')).toHaveTextContent('no training steps');
    expect(screen.queryByTestId('chart-loss')).toBeNull();
    expect(screen.getByText(/frozen encoder \+ linear head/)).toBeInTheDocument();

    send(channel!, { type: 'encoding', done: 1234, total: 1234 });
    await waitFor(() => expect(screen.getByText('Fitting the linear classifier…')).toBeInTheDocument());
    const m = (evaluated(1, 0.72) as Extract<TrainEvent, { type: 'evaluated' }>).metrics;
    send(channel!, evaluated(1, 0.72));
    send(channel!, { type: 'checkpointSaved', epoch: 1, metric: 'accuracy', value: 0.72, path: '/runs/run-1/model' });
    send(channel!, {
      type: 'finished',
      summary: summary({
        epochs: [{ epoch: 1, trainLoss: 0.5, evalLoss: 0.4, metrics: m, seconds: 9, samplesPerSecond: 140 }],
        bestEpoch: 1,
        bestValue: 0.72,
        steps: 3,
      }),
    });
    await waitFor(() => expect(screen.getByTestId('train-status')).toHaveTextContent('finished'));
    expect(screen.getByTestId('final-accuracy')).toHaveTextContent('72.0%');
    expect(screen.getByTestId('train-progress')).toHaveAttribute('aria-valuenow', '100');
    expect(screen.getByTestId('chart-baseline-note')).toBeInTheDocument();
  });

  it('shows GPU names and memory, offers bf16 where a GPU supports it, and sends the precision', async () => {
    await ready({ list_devices: () => devices(true) });
    expect(screen.getByRole('option', { name: /^CUDA/ })).toHaveTextContent(
      'CUDA — NVIDIA H100 80GB HBM3 · 79.1 GiB (78.5 GiB free)',
    );
    const bf16 = screen.getByRole('option', { name: /bf16/ }) as HTMLOptionElement;
    expect(bf16.disabled).toBe(false);

    await fireEvent.change(screen.getByTestId('precision-select'), { target: { value: 'bf16' } });
    await fireEvent.change(screen.getByTestId('device-select'), { target: { value: 'cpu' } });
    expect(bf16.disabled).toBe(true);
    expect(screen.getByTestId('start-training')).toBeDisabled();
    expect(screen.getByText(/CPU here is not one\. Choose Auto or f32 precision\./)).toBeInTheDocument();

    await fireEvent.change(screen.getByTestId('device-select'), { target: { value: 'cuda' } });
    await fireEvent.click(screen.getByTestId('start-training'));
    await settle();
    expect(request!.config).toMatchObject({ device: 'cuda', precision: 'bf16' });
    send(channel!, { ...started, device: 'cuda:0', precision: 'bf16' });
    await waitFor(() => expect(screen.getByTestId('tile-device')).toHaveTextContent('cuda:0 · bf16'));
  });

  it('tests the selected device: busy while it runs, then each check with its items, failed ones marked', async () => {
    let finish: (checks: unknown) => void = () => {};
    const { calls } = await ready({
      list_devices: () => devices(true),
      check_device: () => new Promise((r) => (finish = r)),
    });
    await fireEvent.change(screen.getByTestId('device-select'), { target: { value: 'cuda' } });
    const button = screen.getByTestId('test-device');
    await fireEvent.click(button);
    expect(calls.filter((c) => c.cmd === 'check_device').map((c) => c.args)).toEqual([{ choice: 'cuda' }]);
    expect(button).toBeDisabled();
    expect(button).toHaveTextContent('Testing…');

    finish([deviceCheck('cuda:0', 'f32'), deviceCheck('cuda:0', 'bf16', ['AdamW updates'])]);
    await waitFor(() => expect(button).toHaveTextContent('Test device'));
    expect(button).toBeEnabled();
    const [f32, bf16] = screen.getAllByTestId('device-check') as HTMLDetailsElement[];
    expect(f32.querySelector('summary')).toHaveTextContent('cuda:0 · f32 — passed');
    expect(f32.open).toBe(false);
    expect(bf16.querySelector('summary')).toHaveTextContent('cuda:0 · bf16 — failed');
    expect(bf16.open).toBe(true);
    const items = within(bf16).getAllByTestId('device-check-item');
    expect(items.map((i) => i.classList.contains('failed'))).toEqual([false, false, true, false]);
    expect(items[0]).toHaveTextContent('✓ logits relative error 1.2e-3 (limit 8e-2)');
    expect(items[2]).toHaveTextContent('✗ AdamW updates relative error 3.4e-1 (limit 8e-2)');

    // The results belong to the device they ran on.
    await fireEvent.change(screen.getByTestId('device-select'), { target: { value: 'cpu' } });
    expect(screen.queryByTestId('device-checks')).toBeNull();
  });

  it('tests auto as the engine resolves it, and shows a failed test in the error banner', async () => {
    notify.reset();
    const { calls } = await ready({
      check_device: () => Promise.reject({ kind: 'device', message: 'CUDA device 0 could not be opened: no driver' }),
    });
    await fireEvent.click(screen.getByTestId('test-device'));
    expect(calls.find((c) => c.cmd === 'check_device')?.args).toEqual({ choice: 'auto' });
    await waitFor(() =>
      expect(notify.errors.map((e) => [e.title, e.message])).toEqual([
        ['Could not test the device', 'CUDA device 0 could not be opened: no driver'],
      ]),
    );
    expect(screen.getByTestId('test-device')).toBeEnabled();
    expect(screen.queryByTestId('device-checks')).toBeNull();
  });

  it('cancels, and says the best model so far is kept', async () => {
    const { calls } = await ready();
    await fireEvent.click(screen.getByTestId('start-training'));
    await settle();
    send(channel!, started);
    send(channel!, step(1));
    await fireEvent.click(await screen.findByTestId('cancel-training'));
    expect(calls.some((c) => c.cmd === 'cancel_training')).toBe(true);
    expect(screen.getByTestId('cancel-training')).toBeDisabled();
    send(channel!, { type: 'cancelled', step: 12, summary: summary({ cancelled: true, bestEpoch: 1, bestValue: 0.8 }) });
    await waitFor(() => expect(screen.getByTestId('train-status')).toHaveTextContent('cancelled'));
    expect(screen.getByText(/best model so far \(epoch 1\) is kept/)).toBeInTheDocument();
  });

  it('shows a failure message', async () => {
    await ready();
    await fireEvent.click(screen.getByTestId('start-training'));
    await settle();
    send(channel!, started);
    send(channel!, step(1));
    send(channel!, { type: 'failed', message: 'out of memory on cuda:0 at batch size 64: lower the batch size' });
    await waitFor(() => expect(screen.getByTestId('train-status')).toHaveTextContent('failed'));
    expect(screen.getByTestId('train-error')).toHaveTextContent('lower the batch size');
  });

  it('needs the override when the check found blocking problems', async () => {
    resetApp();
    commands({
      inspect_data: () =>
        inspection({
          findings: [{ code: 'single_class', severity: 'blocking', count: 1, message: 'only one class', lines: [], fix: 'add classes', setting: 'labelColumn' }],
        }),
    });
    await app.data.loadPath('/data/tickets.csv');
    render(TrainStep);
    await settle();
    expect(screen.getByTestId('start-training')).toBeDisabled();
    app.data.override = true;
    await settle();
    expect(screen.getByTestId('start-training')).toBeEnabled();
    await fireEvent.click(screen.getByTestId('start-training'));
    await settle();
    expect(request!.force).toBe(true);
  });

  it('sends the kinds of personal data to replace with the data', async () => {
    await ready();
    app.data.toggleScrub('name');
    app.data.toggleScrub('email');
    await fireEvent.click(screen.getByTestId('start-training'));
    await settle();
    expect(request!.data.text).toEqual({ columns: ['body'], separator: '\n\n', scrub: ['email', 'name'] });
  });

  it('re-attaches to a running job on load: replays, then continues live', async () => {
    resetApp();
    let live: Channel<TrainEvent> | null = null;
    mockCommands({
      app_info: () => ({ version: '0.1.0', runsDir: '/runs', offline: true }),
      list_runs: () => [runRecord('run-7', { status: 'running', summary: null, best: null })],
      attach_training: (a) => {
        live = a.onEvent as Channel<TrainEvent>;
        return { runId: 'run-7', running: true, events: [started, step(1), step(2), step(3), evaluated(1, 0.7)] };
      },
      list_models: () => [],
      list_devices: () => [],
    });
    await app.init();
    expect(app.step).toBe('train');
    render(TrainStep);
    await settle();
    expect(points('chart-loss')).toBe(3);
    expect(points('chart-metrics')).toBe(1);
    expect(screen.getByTestId('train-status')).toHaveTextContent('running');
    // A step seen in the replay and on the channel is counted once.
    send(live!, step(3));
    send(live!, step(4));
    await waitFor(() => expect(points('chart-loss')).toBe(4));
  });

  it('re-attaches to a running baseline: the note from the start, encoding counted once', async () => {
    resetApp();
    let live: Channel<TrainEvent> | null = null;
    const record = runRecord('run-8', { status: 'running', summary: null, best: null });
    mockCommands({
      app_info: () => ({ version: '0.1.0', runsDir: '/runs', offline: true }),
      list_runs: () => [{ ...record, config: { ...record.config, method: 'baseline' } }],
      attach_training: (a) => {
        live = a.onEvent as Channel<TrainEvent>;
        return { runId: 'run-8', running: true, events: [baselineStarted] };
      },
      list_models: () => [],
      list_devices: () => [],
    });
    await app.init();
    render(TrainStep);
    await settle();
    expect(screen.getByTestId('chart-baseline-note')).toBeInTheDocument();
    expect(screen.getByTestId('encoding-progress')).toHaveTextContent('Encoding texts 0 / …');
    send(live!, { type: 'encoding', done: 64, total: 180 });
    send(live!, { type: 'encoding', done: 128, total: 180 });
    send(live!, { type: 'encoding', done: 64, total: 180 });
    await waitFor(() => expect(screen.getByTestId('tile-encoded')).toHaveTextContent('128/ 180'));
    await settle();
    expect(screen.getByTestId('tile-encoded')).toHaveTextContent('128/ 180');
  });

  it("bounds, labels and explains the settings' inputs as the engine's catalogue says", async () => {
    const engine = catalogue();
    const limits = { ...engine.limits, maxLength: { min: 8, max: 512 }, maxRows: { min: 1, max: 5000 } };
    const settings = engine.settings.map((s) => (s.setting === 'maxLength' ? { ...s, label: 'Tokens', help: 'Read this many.' } : s));
    await ready({ training_settings: () => ({ ...engine, limits, settings }) });
    const maxLength = screen.getByTestId('hp-max-length') as HTMLInputElement;
    expect(maxLength.max).toBe('512');
    expect(maxLength.closest('label')).toHaveTextContent('Tokens Read this many.');
    expect(screen.getByTestId('hp-max-rows')).toHaveAttribute('max', '5000');
    await fireEvent.input(maxLength, { target: { value: '1024' } });
    expect(maxLength.closest('label')).toHaveTextContent('At most 512');
    expect(app.train.settings!.hyper.maxLength).toBe(128);
  });

  it('waits for the engine\'s settings before showing the form, then starts at its defaults', async () => {
    let answer: (c: Catalogue) => void = () => {};
    await ready({ training_settings: () => new Promise((r) => (answer = r)) });
    expect(screen.getByTestId('settings-loading')).toHaveTextContent('Loading the training settings');
    expect(screen.queryByTestId('start-training')).toBeNull();
    expect(app.trainer.blocker).toBe('The training settings are loading.');

    const engine = catalogue();
    answer({ ...engine, config: { ...engine.config, epochs: 4 }, defaultModel: 'bert-base-uncased' });
    await settle();
    expect(screen.queryByTestId('settings-loading')).toBeNull();
    expect(screen.getByTestId('hp-epochs')).toHaveValue(4);
    expect(app.train.model).toBe('bert-base-uncased');
  });
});
