import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import TryStep from './TryStep.svelte';
import { app, resetApp } from '../lib/app.svelte';
import { notify } from '../lib/notify.svelte';
import type { Prediction } from '../lib/api';
import { mockCommands, runRecord } from '../test/fixtures';

function prediction(label: string, scores: [string, number][]): Prediction {
  const top = scores.find(([l]) => l === label)!;
  return { label, confidence: top[1], scores: scores.map(([l, p]) => ({ label: l, probability: p })) };
}

describe('Try step', () => {
  beforeEach(() => {
    resetApp();
    notify.reset();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('asks to train first without a run', () => {
    render(TryStep);
    expect(screen.getByText('Train a model first or open a past run.')).toBeInTheDocument();
  });

  it('predicts after a pause in typing and sorts the bars', async () => {
    vi.useFakeTimers();
    const { calls } = mockCommands({
      predict: () => [prediction('bug', [['feature', 0.2], ['bug', 0.7], ['question', 0.1]])],
    });
    app.runs = [runRecord('run-1')];
    app.currentRunId = 'run-1';
    render(TryStep);
    const input = screen.getByTestId('try-input');
    await fireEvent.input(input, { target: { value: 'the app' } });
    await vi.advanceTimersByTimeAsync(100);
    await fireEvent.input(input, { target: { value: 'the app crashes' } });
    await vi.advanceTimersByTimeAsync(100);
    expect(calls.filter((c) => c.cmd === 'predict')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(200);
    const predicts = calls.filter((c) => c.cmd === 'predict');
    expect(predicts).toHaveLength(1);
    expect(predicts[0].args).toEqual({ runId: 'run-1', texts: ['the app crashes'] });
    vi.useRealTimers();

    await waitFor(() => expect(screen.getByTestId('try-top-label')).toHaveTextContent('bug'));
    expect(screen.getByTestId('try-confidence')).toHaveTextContent('70.0%');
    const bars = screen.getAllByTestId(/^prob-bar-/).map((el) => el.getAttribute('data-testid'));
    expect(bars).toEqual(['prob-bar-bug', 'prob-bar-feature', 'prob-bar-question']);
    expect(screen.getByTestId('prob-bar-feature')).toHaveTextContent('20.0%');
  });

  it('ignores a stale answer that arrives after a newer one', async () => {
    const resolvers: Record<string, (p: Prediction[]) => void> = {};
    mockCommands({
      predict: (a) => new Promise((resolve) => (resolvers[(a.texts as string[])[0]] = resolve)),
    });
    app.runs = [runRecord('run-1')];
    app.currentRunId = 'run-1';
    render(TryStep);
    const input = screen.getByTestId('try-input');
    await fireEvent.input(input, { target: { value: 'refund' } });
    await waitFor(() => expect(resolvers.refund).toBeDefined(), { timeout: 1000 });
    await fireEvent.input(input, { target: { value: 'refund please' } });
    await waitFor(() => expect(resolvers['refund please']).toBeDefined(), { timeout: 1000 });

    resolvers['refund please']([prediction('billing', [['billing', 0.9], ['bug', 0.1]])]);
    await waitFor(() => expect(screen.getByTestId('try-top-label')).toHaveTextContent('billing'));
    resolvers.refund([prediction('bug', [['billing', 0.4], ['bug', 0.6]])]);
    await new Promise((r) => setTimeout(r, 20));
    expect(screen.getByTestId('try-top-label')).toHaveTextContent('billing');
  });

  it('predicts a file with progress and says where it went', async () => {
    const { calls } = mockCommands({
      predict_file: async (a) => {
        const ch = a.onProgress as { onmessage: (p: { done: number; total: number }) => void };
        ch.onmessage({ done: 50, total: 100 });
        return { rows: 100, output: '/out/predicted.csv' };
      },
    });
    app.runs = [runRecord('run-1')];
    app.currentRunId = 'run-1';
    render(TryStep);
    await fireEvent.click(screen.getByTestId('predict-file'));
    expect(await screen.findByTestId('predict-file-result')).toHaveTextContent('100 rows written to /out/predicted.csv');
    // The columns come from the run, not the UI.
    const call = calls.find((c) => c.cmd === 'predict_file')!;
    expect(Object.keys(call.args).sort()).toEqual(['onProgress', 'runId']);
  });

  it('says which columns a file to classify needs: those the run was trained on', async () => {
    mockCommands({});
    const run = runRecord('run-1');
    run.data.text = { columns: ['subject', 'body'], separator: '\n\n' };
    app.runs = [run];
    app.currentRunId = 'run-1';
    render(TryStep);
    expect(screen.getByTestId('predict-file-columns')).toHaveTextContent('The text is read from columns subject + body, as in training');
  });

  it('shows a failed prediction in the error banner', async () => {
    mockCommands({ predict: () => Promise.reject({ kind: 'model', message: 'the model folder is missing weights' }) });
    app.runs = [runRecord('run-1')];
    app.currentRunId = 'run-1';
    render(TryStep);
    await fireEvent.input(screen.getByTestId('try-input'), { target: { value: 'hello' } });
    await waitFor(() => expect(notify.errors.map((e) => e.message)).toContain('the model folder is missing weights'));
  });
});
