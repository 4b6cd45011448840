import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EstimateReport, EstimateRequest } from '../api';
import { catalogue, mockCommands } from '../../test/fixtures';
import { estimateReport, fitSuggestion } from '../../test/estimate';
import { ago, ESTIMATE_DELAY_MS, EstimateState, roughDuration, size, stepTime, type EstimateBase } from './estimate.svelte';

function base(over: Partial<EstimateBase['config']> = {}): EstimateBase {
  return {
    config: { ...catalogue().config, model: 'org/m', ...over },
    data: {
      path: '/f.csv',
      text: { columns: ['text'], separator: '\n\n', scrub: [] },
      labelColumn: 'label',
      labelMap: null,
      validation: null,
      split: { validationFraction: 0.1, seed: 42, maxRows: null },
      corrections: null,
    },
  };
}

/** estimate_training answering each call when the test resolves it. */
function manual() {
  const pending: { request: EstimateRequest; resolve: (r: EstimateReport | null) => void }[] = [];
  const mock = mockCommands({
    estimate_training: (a) =>
      new Promise((resolve) => pending.push({ request: a.request as EstimateRequest, resolve })),
    cancel_estimate: () => null,
  });
  return { pending, calls: mock.calls };
}

const flush = () => vi.advanceTimersByTimeAsync(0);

describe('the estimate', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('waits until the settings stay unchanged, then asks once', async () => {
    const { pending } = manual();
    const state = new EstimateState();
    state.update(base({ epochs: 1 }));
    await vi.advanceTimersByTimeAsync(ESTIMATE_DELAY_MS / 2);
    state.update(base({ epochs: 2 }));
    await vi.advanceTimersByTimeAsync(ESTIMATE_DELAY_MS / 2);
    state.update(base({ epochs: 3 }));
    expect(state.status).toBe('waiting');
    await vi.advanceTimersByTimeAsync(ESTIMATE_DELAY_MS - 1);
    expect(pending).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(pending).toHaveLength(1);
    expect(pending[0].request).toEqual({ ...base({ epochs: 3 }), fitMinutes: null, remeasure: false });
    expect(state.status).toBe('running');
    expect(state.measuring).toBe(true);
    pending[0].resolve(estimateReport());
    await flush();
    expect(state.status).toBe('done');
    expect(state.report?.estimate.seconds).toBeCloseTo(1617.8);
    // The same settings again ask nothing.
    state.update(base({ epochs: 3 }));
    await vi.advanceTimersByTimeAsync(ESTIMATE_DELAY_MS * 2);
    expect(pending).toHaveLength(1);
  });

  it('ignores an answer that came after newer settings were asked, and keeps the last figure meanwhile', async () => {
    const { pending } = manual();
    const state = new EstimateState();
    state.update(base({ epochs: 1 }));
    await vi.advanceTimersByTimeAsync(ESTIMATE_DELAY_MS);
    state.update(base({ epochs: 2 }));
    await vi.advanceTimersByTimeAsync(ESTIMATE_DELAY_MS);
    expect(pending).toHaveLength(2);
    // The newer answer first, then the older one (the engine returns null for a cancelled one,
    // but a late real answer must not win either).
    pending[1].resolve(estimateReport({ epochs: 2 }));
    await flush();
    pending[0].resolve(estimateReport({ epochs: 1 }));
    await flush();
    expect(state.report?.estimate.epochs).toBe(2);
    expect(state.status).toBe('done');
    // A later change greys it until the next answer; a model measured before is reused.
    state.update(base({ epochs: 3 }));
    expect(state.stale).toBe(true);
    expect(state.report?.estimate.epochs).toBe(2);
    await vi.advanceTimersByTimeAsync(ESTIMATE_DELAY_MS);
    expect(state.measuring).toBe(false);
    pending[2].resolve(estimateReport({ epochs: 3 }));
    await flush();
    expect(state.stale).toBe(false);
  });

  it('measures again on request, and a new model or device measures', async () => {
    const { pending } = manual();
    const state = new EstimateState();
    state.update(base());
    await vi.advanceTimersByTimeAsync(ESTIMATE_DELAY_MS);
    pending[0].resolve(estimateReport());
    await flush();
    void state.ask(true);
    expect(pending[1].request.remeasure).toBe(true);
    expect(state.measuring).toBe(true);
    pending[1].resolve(estimateReport());
    await flush();
    state.update(base({ device: 'cpu' }));
    await vi.advanceTimersByTimeAsync(ESTIMATE_DELAY_MS);
    expect(state.measuring).toBe(true);
    expect(pending[2].request.remeasure).toBe(false);
  });

  it('asks what fits, and keeps asking for those minutes as the settings change', async () => {
    const { pending } = manual();
    const state = new EstimateState();
    state.update(base());
    await vi.advanceTimersByTimeAsync(ESTIMATE_DELAY_MS);
    pending[0].resolve(estimateReport());
    await flush();
    void state.fit(10);
    expect(pending[1].request.fitMinutes).toBe(10);
    pending[1].resolve(estimateReport({}, fitSuggestion()));
    await flush();
    expect(state.report?.fit?.title).toBe('Light');
    state.update(base({ epochs: 1 }));
    await vi.advanceTimersByTimeAsync(ESTIMATE_DELAY_MS);
    expect(pending[2].request.fitMinutes).toBe(10);
  });

  it('stops: the estimate in flight is cancelled and its answer ignored', async () => {
    const { pending, calls } = manual();
    const state = new EstimateState();
    state.update(base());
    await vi.advanceTimersByTimeAsync(ESTIMATE_DELAY_MS);
    state.stop();
    expect(calls.filter((c) => c.cmd === 'cancel_estimate')).toHaveLength(1);
    expect(state.status).toBe('idle');
    pending[0].resolve(estimateReport());
    await flush();
    expect(state.report).toBeNull();
    // A stop while only waiting cancels nothing in the engine and asks nothing.
    state.update(base({ epochs: 2 }));
    state.stop();
    await vi.advanceTimersByTimeAsync(ESTIMATE_DELAY_MS * 2);
    expect(pending).toHaveLength(1);
    expect(calls.filter((c) => c.cmd === 'cancel_estimate')).toHaveLength(1);
    // The same settings after a stop are asked again (the screen was left and shown again).
    state.update(base({ epochs: 2 }));
    await vi.advanceTimersByTimeAsync(ESTIMATE_DELAY_MS);
    expect(pending).toHaveLength(2);
    pending[1].resolve(estimateReport());
    await flush();
  });

  it('keeps the last figure while there is nothing to estimate (a setting being typed), greyed when asked again', async () => {
    const { pending } = manual();
    const state = new EstimateState();
    state.update(base());
    await vi.advanceTimersByTimeAsync(ESTIMATE_DELAY_MS);
    pending[0].resolve(estimateReport());
    await flush();
    state.update(null);
    expect(state.status).toBe('idle');
    await vi.advanceTimersByTimeAsync(ESTIMATE_DELAY_MS * 2);
    expect(pending).toHaveLength(1);
    state.update(base({ epochs: 1 }));
    expect(state.stale).toBe(true);
    expect(state.report?.estimate.epochs).toBe(3);
    await vi.advanceTimersByTimeAsync(ESTIMATE_DELAY_MS);
    expect(pending).toHaveLength(2);
  });

  it('shows why an estimate failed', async () => {
    mockCommands({ estimate_training: () => Promise.reject({ kind: 'modelNotFound', message: 'model x not found', settings: [] }) });
    const state = new EstimateState();
    state.update(base());
    await vi.advanceTimersByTimeAsync(ESTIMATE_DELAY_MS);
    await flush();
    expect(state.status).toBe('failed');
    expect(state.error).toBe('model x not found');
  });
});

describe('estimate wording', () => {
  it('rounds durations as an estimate should', () => {
    expect(roughDuration(0.4)).toBe('under 1 s');
    expect(roughDuration(44.6)).toBe('45 s');
    expect(roughDuration(60)).toBe('1 min');
    expect(roughDuration(270)).toBe('4 min 30 s');
    expect(roughDuration(119.9)).toBe('2 min');
    expect(roughDuration(108.7)).toBe('1 min 50 s');
    expect(roughDuration(1617.8)).toBe('27 min');
    expect(roughDuration(3590)).toBe('1 h');
    expect(roughDuration(3900)).toBe('1 h 5 min');
    expect(roughDuration(7199)).toBe('2 h');
    expect(roughDuration(Number.NaN)).toBe('—');
  });

  it('writes step times, sizes and times ago', () => {
    expect(stepTime(0.045)).toBe('45 ms');
    expect(stepTime(0.889)).toBe('0.89 s');
    expect(stepTime(2.44)).toBe('2.4 s');
    expect(stepTime(31)).toBe('31 s');
    expect(size(489_858_241)).toBe('490 MB');
    expect(size(1_234_000_000)).toBe('1.2 GB');
    expect(size(23_956_713_472)).toBe('24 GB');
    expect(size(5_000)).toBe('5 kB');
    expect(ago(1000, 1030)).toBe('just now');
    expect(ago(1000, 1000 + 5 * 60)).toBe('5 min ago');
    expect(ago(1000, 1000 + 3 * 3600 + 5)).toBe('3 h ago');
    expect(ago(1000, 1000 + 86400)).toBe('1 day ago');
    expect(ago(1000, 1000 + 3 * 86400)).toBe('3 days ago');
  });
});
