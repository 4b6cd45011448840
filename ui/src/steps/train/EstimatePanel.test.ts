import { beforeEach, describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import TrainStep from '../TrainStep.svelte';
import { app, resetApp } from '../../lib/app.svelte';
import type { EstimateReport, EstimateRequest, RunRequest } from '../../lib/api';
import { ESTIMATE_DELAY_MS } from '../../lib/state/estimate.svelte';
import { devices, inspection, mockCommands, runRecord, settle } from '../../test/fixtures';
import { estimateReport, fitSuggestion } from '../../test/estimate';

const MINILM = 'sentence-transformers/all-MiniLM-L6-v2';

type Answer = (request: EstimateRequest) => EstimateReport | null | Promise<EstimateReport | null>;

let asked: EstimateRequest[] = [];
let started: RunRequest | null = null;

async function ready(answer: Answer = () => estimateReport(), extra: Record<string, (a: Record<string, unknown>) => unknown> = {}) {
  resetApp();
  asked = [];
  started = null;
  const mock = mockCommands({
    inspect_data: () => inspection(),
    list_models: () => [
      { id: 'distilbert-base-uncased', cached: null },
      { id: MINILM, cached: '/hf/minilm' },
    ],
    list_devices: () => devices(),
    estimate_training: (a) => {
      const request = a.request as EstimateRequest;
      asked.push(request);
      return answer(request);
    },
    cancel_estimate: () => null,
    start_training: (a) => {
      started = a.request as RunRequest;
      return 'run-1';
    },
    list_runs: () => [runRecord('run-1', { status: 'running', summary: null, best: null })],
    ...extra,
  });
  await app.data.loadPath('/data/tickets.csv');
  const view = render(TrainStep);
  await settle();
  return { ...mock, view };
}

/** Choose the model that is on disk and wait for its estimate. */
async function chooseMiniLm() {
  await fireEvent.click(screen.getByTestId('model-option-sentence-transformers__all-MiniLM-L6-v2'));
  await settle(ESTIMATE_DELAY_MS + 50);
}

const cancels = (calls: { cmd: string }[]) => calls.filter((c) => c.cmd === 'cancel_estimate').length;

describe('The estimate before Start', () => {
  beforeEach(() => resetApp());

  it('says what is missing, then estimates the run Start would send', async () => {
    await ready();
    // The recipe's model is not downloaded: an estimate measures the model here.
    expect(screen.getByTestId('estimate-status')).toHaveTextContent(/distilbert-base-uncased is not on this machine yet: download it/);
    expect(screen.queryByTestId('train-estimate')).toBeNull();
    await settle(ESTIMATE_DELAY_MS + 50);
    expect(asked).toHaveLength(0);

    await chooseMiniLm();
    expect(asked).toHaveLength(1);
    expect(screen.getByTestId('train-estimate')).toHaveTextContent('About 27 min on this CPU');
    const breakdown = screen.getByTestId('estimate-breakdown');
    expect(breakdown).toHaveTextContent('Training 26 min (1,752 steps × 0.89 s)');
    expect(breakdown).toHaveTextContent('Evaluation 42 s');
    expect(breakdown).toHaveTextContent('Loading + tokenising 2 s');
    expect(breakdown).toHaveTextContent('Checks 13 s');
    expect(screen.getByTestId('estimate-memory')).toHaveTextContent('Memory: needs ~490 MB of 24 GB available fits');
    expect(screen.getByTestId('estimate-status')).toHaveTextContent(
      'Measured just now, in 14 s (AMD EPYC 7B13 (2 threads), 2 worker threads, f32).',
    );
    expect(screen.getByText(/9,333 training \+ 1,044 validation rows · 3 epochs · batch 16 · max length 128/)).toBeInTheDocument();

    // It asked about exactly the run Start sends.
    await fireEvent.click(screen.getByTestId('start-training'));
    await settle();
    expect(started).not.toBeNull();
    expect(asked[0]).toEqual({ config: started!.config, data: started!.data, fitMinutes: null, remeasure: false });
  });

  it('asks again a moment after a setting changes, the last figure greyed meanwhile; measures again on request', async () => {
    let reused = false;
    await ready((r) => estimateReport({ epochs: r.config.epochs, measurement: { ...estimateReport().estimate.measurement, reused } }));
    await chooseMiniLm();
    reused = true;
    await fireEvent.input(screen.getByTestId('hp-epochs'), { target: { value: '1' } });
    await fireEvent.input(screen.getByTestId('hp-epochs'), { target: { value: '2' } });
    expect(screen.getByTestId('estimate-status')).toHaveTextContent('Estimating…');
    expect(screen.getByTestId('train-estimate')).toBeInTheDocument();
    expect(screen.getByTestId('train-estimate').closest('.main')).toHaveClass('stale');
    await settle(ESTIMATE_DELAY_MS + 50);
    expect(asked).toHaveLength(2);
    expect(asked[1].config.epochs).toBe(2);
    expect(screen.getByTestId('estimate-status')).toHaveTextContent(/^From a measurement just now/);

    await fireEvent.click(screen.getByTestId('estimate-remeasure'));
    await settle();
    expect(asked[2].remeasure).toBe(true);
  });

  it('says it is measuring the first time, and shows the measurement being taken', async () => {
    let answer: (r: EstimateReport | null) => void = () => {};
    await ready(() => new Promise((resolve) => (answer = resolve)));
    await chooseMiniLm();
    expect(screen.getByTestId('estimate-status')).toHaveTextContent('Measuring a few training steps on this machine…');
    answer(estimateReport());
    await waitFor(() => expect(screen.getByTestId('train-estimate')).toHaveTextContent('About 27 min'));
  });

  it('suggests what fits in the minutes asked, and applies it to the form', async () => {
    await ready((r) => estimateReport({}, r.fitMinutes === null ? null : fitSuggestion({ minutes: r.fitMinutes })));
    await chooseMiniLm();
    expect(screen.queryByTestId('fit-suggestion')).toBeNull();
    await fireEvent.input(screen.getByTestId('fit-minutes'), { target: { value: '12' } });
    await fireEvent.click(screen.getByTestId('fit-ask'));
    await settle();
    expect(asked[1].fitMinutes).toBe(12);
    expect(screen.getByTestId('fit-suggestion')).toHaveTextContent('In 12 min: Light, on 2,000 rows: about 1 min 50 s.');

    await fireEvent.click(screen.getByTestId('fit-apply'));
    expect(screen.getByTestId('hp-epochs')).toHaveValue(1);
    expect(screen.getByTestId('hp-max-length')).toHaveValue(64);
    expect(screen.getByTestId('hp-max-rows')).toHaveValue(2000);
    expect(screen.getByTestId('preset-light')).toHaveAttribute('aria-pressed', 'true');
    // The device, precision and model stay; the new settings are estimated, still for 12 minutes.
    await settle(ESTIMATE_DELAY_MS + 50);
    expect(asked[2].config).toMatchObject({ epochs: 1, maxLength: 64, model: MINILM, device: 'auto' });
    expect(asked[2].data.split.maxRows).toBe(2000);
    expect(asked[2].fitMinutes).toBe(12);
    expect(screen.getByTestId('fit-applied')).toHaveTextContent('These are the settings now');
    expect(screen.queryByTestId('fit-apply')).toBeNull();
  });

  it('applies a shortened suggestion as settings of no preset, and says when nothing fits', async () => {
    const quick = fitSuggestion({
      fits: false,
      minutes: 1,
      preset: 'quick',
      title: 'Quick',
      shortened: ['maxRows'],
      config: { ...fitSuggestion().config, method: 'baseline', epochs: 1, maxLength: 128 },
      split: { validationFraction: 0.1, seed: 42, maxRows: 300 },
      estimate: { ...fitSuggestion().estimate, method: 'baseline', seconds: 95, trainRows: 270, validationRows: 30, maxLength: 128 },
    });
    await ready((r) => estimateReport({}, r.fitMinutes === null ? null : quick));
    await chooseMiniLm();
    await fireEvent.input(screen.getByTestId('fit-minutes'), { target: { value: '1' } });
    await fireEvent.click(screen.getByTestId('fit-ask'));
    await settle();
    expect(screen.getByTestId('fit-suggestion')).toHaveTextContent('Nothing fits in 1 min. The quickest: Quick, on 300 rows: about 1 min 40 s.');
    expect(screen.getByTestId('fit-apply')).toHaveTextContent('Use the quickest');
    await fireEvent.click(screen.getByTestId('fit-apply'));
    expect(screen.getByTestId('hp-method')).toHaveValue('baseline');
    expect(screen.getByTestId('hp-max-rows')).toHaveValue(300);
    expect(screen.getByTestId('preset-quick')).toHaveAttribute('aria-pressed', 'false');
  });

  it('warns when the run does not fit in memory, says so when memory is unknown, and flags a less sure estimate', async () => {
    const measurement = { ...estimateReport().estimate.measurement, extrapolated: true, loadPerCore: 1.4 };
    let memory = { peakBytes: 30e9, availableBytes: 20e9, fits: false };
    await ready(() => estimateReport({ memory, measurement, mayStopEarly: true }));
    await chooseMiniLm();
    expect(screen.getByTestId('estimate-memory')).toHaveTextContent('Memory: needs ~30 GB of 20 GB available does not fit');
    expect(screen.getByRole('alert')).toHaveTextContent(/needs more memory than is free/);
    expect(screen.getByTestId('estimate-extrapolated')).toHaveTextContent(/less sure/);
    expect(screen.getByTestId('estimate-busy')).toHaveTextContent('Other work was using the CPU while measuring: this may be long');
    expect(screen.getByTestId('estimate-early-stop')).toHaveTextContent(/Early stopping may end the run sooner/);

    memory = { peakBytes: null, availableBytes: null, fits: null } as unknown as typeof memory;
    await fireEvent.click(screen.getByTestId('estimate-remeasure'));
    await settle();
    expect(screen.getByTestId('estimate-memory')).toHaveTextContent('Memory needed: unknown');
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('shows why an estimate failed', async () => {
    await ready(() => Promise.reject({ kind: 'data', message: '/data/tickets.csv: no label column', settings: [] }));
    await chooseMiniLm();
    expect(screen.getByTestId('estimate-status')).toHaveTextContent('Could not estimate: /data/tickets.csv: no label column');
  });

  it('is cancelled when the screen is left, and when a run starts', async () => {
    const { calls, view } = await ready(() => new Promise(() => {}));
    await chooseMiniLm();
    expect(cancels(calls)).toBe(0);
    view.unmount();
    expect(cancels(calls)).toBe(1);

    render(TrainStep);
    await settle(ESTIMATE_DELAY_MS + 50);
    expect(asked).toHaveLength(2);
    await fireEvent.click(screen.getByTestId('start-training'));
    await settle();
    expect(started).not.toBeNull();
    expect(cancels(calls)).toBe(2);
    expect(screen.getByTestId('estimate-status')).toHaveTextContent('No estimate while a model trains.');
  });
});
