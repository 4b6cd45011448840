import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import TryStep from './TryStep.svelte';
import { app, resetApp } from '../lib/app.svelte';
import { notify } from '../lib/notify.svelte';
import type { Prediction } from '../lib/api';
import { mockCommands, runRecord } from '../test/fixtures';
import { explanation } from '../test/explanation';
import { labelSetPrediction, multiLabelRecord } from '../test/multiLabel';

function prediction(label: string, scores: [string, number][], route: Prediction['route'] = null): Prediction {
  const top = scores.find(([l]) => l === label)!;
  return { label, confidence: top[1], scores: scores.map(([l, p]) => ({ label: l, probability: p })), route };
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
      explain: () => explanation(),
    });
    app.runs.list = [runRecord('run-1')];
    app.runs.currentId = 'run-1';
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
    expect(predicts[0].args).toEqual({ runId: 'run-1', texts: ['the app crashes'], precision: null });
    vi.useRealTimers();

    await waitFor(() => expect(screen.getByTestId('try-top-label')).toHaveTextContent('bug'));
    expect(screen.getByTestId('try-confidence')).toHaveTextContent('70.0%');
    const bars = screen.getAllByTestId(/^prob-bar-/).map((el) => el.getAttribute('data-testid'));
    expect(bars).toEqual(['prob-bar-bug', 'prob-bar-feature', 'prob-bar-question']);
    expect(screen.getByTestId('prob-bar-feature')).toHaveTextContent('20.0%');
  });

  it('routes an unsure ticket to a person under the model\'s threshold, and names the route column of a file', async () => {
    mockCommands({
      predictor_info: () => ({ precision: 'f32', cpu: true, int8: null, int8Passed: false, threshold: 0.87 }),
      predict: (a) =>
        (a.texts as string[])[0] === 'refund'
          ? [prediction('billing', [['billing', 0.62], ['bug', 0.38]], 'person')]
          : [prediction('bug', [['billing', 0.05], ['bug', 0.95]], 'auto')],
      explain: () => explanation(),
    });
    app.runs.list = [runRecord('run-1')];
    app.runs.currentId = 'run-1';
    render(TryStep);
    await fireEvent.input(screen.getByTestId('try-input'), { target: { value: 'refund' } });
    const badge = await screen.findByTestId('route-badge', {}, { timeout: 1000 });
    expect(badge).toHaveTextContent('Unsure → person');
    expect(badge).toHaveTextContent('below the routing threshold of 0.87');
    expect(screen.getByTestId('predict-file-note')).toHaveTextContent(
      'each row gets the predicted class and its confidence, and its route (auto, or person below the threshold of 0.87).',
    );
    await fireEvent.input(screen.getByTestId('try-input'), { target: { value: 'it crashes' } });
    await waitFor(() => expect(screen.getByTestId('route-badge')).toHaveAttribute('data-route', 'auto'), { timeout: 1000 });
  });

  it('ignores a stale answer that arrives after a newer one', async () => {
    const resolvers: Record<string, (p: Prediction[]) => void> = {};
    mockCommands({
      predict: (a) => new Promise((resolve) => (resolvers[(a.texts as string[])[0]] = resolve)),
      explain: () => explanation(),
    });
    app.runs.list = [runRecord('run-1')];
    app.runs.currentId = 'run-1';
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

  it('explains the prediction under it once the text stays, not per keystroke', async () => {
    const { calls } = mockCommands({
      predict: () => [prediction('bug', [['bug', 0.8], ['feature', 0.15], ['billing', 0.05]])],
      explain: () => explanation(),
    });
    app.runs.list = [runRecord('run-1')];
    app.runs.currentId = 'run-1';
    render(TryStep);
    expect(screen.queryByTestId('explain-panel')).toBeNull();
    const input = screen.getByTestId('try-input');
    await fireEvent.input(input, { target: { value: 'The app crashes' } });
    await fireEvent.input(input, { target: { value: 'The app crashes  when I export,\nplease fix!' } });
    const text = await screen.findByTestId('explain-text', {}, { timeout: 2000 });
    expect(text.textContent).toBe('The app crashes  when I export,\nplease fix!');
    expect(screen.getByTestId('explain-panel')).toHaveTextContent('Why this class?');
    expect(screen.getByTestId('explain-class')).toHaveValue('bug');
    const explains = calls.filter((c) => c.cmd === 'explain');
    expect(explains).toEqual([
      { cmd: 'explain', args: { runId: 'run-1', text: 'The app crashes  when I export,\nplease fix!', precision: null } },
    ]);

    // Clearing the text clears the prediction and its explanation.
    await fireEvent.input(input, { target: { value: '' } });
    await waitFor(() => expect(screen.queryByTestId('explain-panel')).toBeNull());
  });

  it('predicts a file with progress and says where it went', async () => {
    const { calls } = mockCommands({
      predict_file: async (a) => {
        const ch = a.onProgress as { onmessage: (p: { done: number; total: number }) => void };
        ch.onmessage({ done: 50, total: 100 });
        return { rows: 100, output: '/out/predicted.csv' };
      },
    });
    app.runs.list = [runRecord('run-1')];
    app.runs.currentId = 'run-1';
    render(TryStep);
    await fireEvent.click(screen.getByTestId('predict-file'));
    expect(await screen.findByTestId('predict-file-result')).toHaveTextContent('100 rows written to /out/predicted.csv');
    // The columns come from the run, not the UI; the precision is the model's default.
    const call = calls.find((c) => c.cmd === 'predict_file')!;
    expect(Object.keys(call.args).sort()).toEqual(['onProgress', 'precision', 'runId']);
    expect(call.args.precision).toBeNull();
  });

  it('says which columns a file to classify needs: those the run was trained on', async () => {
    mockCommands({});
    const run = runRecord('run-1');
    run.data.text = { columns: ['subject', 'body'], separator: '\n\n' };
    app.runs.list = [run];
    app.runs.currentId = 'run-1';
    render(TryStep);
    expect(screen.getByTestId('predict-file-columns')).toHaveTextContent('The text is read from columns subject + body, as in training');
  });

  it('names the personal data the model never sees', async () => {
    mockCommands({});
    const run = runRecord('run-1');
    run.data.text = { columns: ['body'], separator: '\n\n', scrub: ['phone', 'email'] };
    app.runs.list = [run, runRecord('run-2')];
    app.runs.currentId = 'run-1';
    render(TryStep);
    expect(screen.getByTestId('scrub-note')).toHaveTextContent('Personal data replaced before the model: e-mail addresses, phone numbers');
    app.runs.currentId = 'run-2';
    await waitFor(() => expect(screen.queryByTestId('scrub-note')).toBeNull());
  });

  const int8Check = {
    data: 'validation split',
    rows: 150,
    agreement: 0.993,
    f32Accuracy: 0.7,
    int8Accuracy: 0.6967,
    f32MacroF1: 0.66,
    int8MacroF1: 0.65,
    maxProbabilityChange: 0.05,
  };

  it("shows the precision and the model's int8 check, and switches to f32 on request", async () => {
    const { calls } = mockCommands({
      predictor_info: (a) => ({ precision: a.precision ?? 'int8', cpu: true, int8: int8Check, int8Passed: true, threshold: null }),
      predict: () => [prediction('bug', [['bug', 0.8], ['feature', 0.2]])],
      explain: () => explanation(),
    });
    app.runs.list = [runRecord('run-1')];
    app.runs.currentId = 'run-1';
    render(TryStep);
    const line = await screen.findByTestId('try-precision');
    expect(line).toHaveTextContent('Computing in int8 on the CPU.');
    expect(line).toHaveTextContent('int8 check on 150 tickets of the validation split: same class as f32 for 99.3%, accuracy 70.0% → 69.7% (−0.3 pt).');
    expect(line).not.toHaveTextContent('half a point');
    const toggle = screen.getByTestId('try-int8') as HTMLInputElement;
    expect(toggle.checked).toBe(true);

    await fireEvent.input(screen.getByTestId('try-input'), { target: { value: 'crash' } });
    await waitFor(() => expect(calls.filter((c) => c.cmd === 'predict')).toHaveLength(1));
    await fireEvent.click(toggle);
    // The model reloads in f32 and the text is classified again in f32.
    await waitFor(() => expect(screen.getByTestId('try-precision')).toHaveTextContent('Computing in f32 on the CPU.'));
    expect(calls.filter((c) => c.cmd === 'predictor_info').map((c) => c.args.precision)).toEqual([null, 'f32']);
    await waitFor(() => expect(calls.filter((c) => c.cmd === 'predict').map((c) => c.args.precision)).toEqual([null, 'f32']));
    expect((screen.getByTestId('try-int8') as HTMLInputElement).checked).toBe(false);
  });

  it('says when int8 lost too much, or a model has no check, and offers no int8 choice on a GPU', async () => {
    mockCommands({ predictor_info: () => ({ precision: 'f32', cpu: false, int8: null, int8Passed: false, threshold: null }) });
    app.runs.list = [runRecord('run-1')];
    app.runs.currentId = 'run-1';
    const { unmount } = render(TryStep);
    expect(await screen.findByTestId('try-precision')).toHaveTextContent('Computing in f32 on the GPU.');
    expect(screen.queryByTestId('try-int8')).toBeNull();
    unmount();

    const failed = { ...int8Check, int8Accuracy: 0.68 };
    mockCommands({ predictor_info: () => ({ precision: 'f32', cpu: true, int8: failed, int8Passed: false, threshold: null }) });
    const second = render(TryStep);
    expect(await screen.findByTestId('try-precision')).toHaveTextContent('accuracy 70.0% → 68.0% (−2.0 pt): more than half a point lost, so f32 is the default.');
    second.unmount();

    mockCommands({ predictor_info: () => ({ precision: 'f32', cpu: true, int8: null, int8Passed: false, threshold: null }) });
    render(TryStep);
    expect(await screen.findByTestId('try-precision')).toHaveTextContent('This model has no int8 check yet (dialect quantize makes one), so f32 is the default.');
    expect((screen.getByTestId('try-int8') as HTMLInputElement).checked).toBe(false);
  });

  it('shows a failed prediction in the error banner', async () => {
    mockCommands({ predict: () => Promise.reject({ kind: 'model', message: 'the model folder is missing weights' }) });
    app.runs.list = [runRecord('run-1')];
    app.runs.currentId = 'run-1';
    render(TryStep);
    await fireEvent.input(screen.getByTestId('try-input'), { target: { value: 'hello' } });
    await waitFor(() => expect(notify.errors.map((e) => e.message)).toContain('the model folder is missing weights'));
  });
  describe('a multi-label model', () => {
    const info = { precision: 'f32', cpu: true, int8: null, int8Passed: false, threshold: null, multiLabel: true };

    it('shows the predicted label set and every label\'s bar with its threshold marked; no route, explanation or int8', async () => {
      const { calls } = mockCommands({
        predictor_info: () => info,
        predict: () => [labelSetPrediction([0.681, 0.696, 0.274, 0.194])],
      });
      app.runs.list = [multiLabelRecord('run-ml')];
      app.runs.currentId = 'run-ml';
      render(TryStep);
      await fireEvent.input(screen.getByTestId('try-input'), { target: { value: 'card not here; exchange rate?' } });
      const set = await screen.findByTestId('label-set', {}, { timeout: 1000 });
      const chips = screen.getAllByTestId(/^label-chip-/).map((el) => el.getAttribute('data-testid'));
      expect(chips).toEqual(['label-chip-card_arrival', 'label-chip-exchange_rate']);
      expect(set).not.toHaveTextContent('No label applies');
      expect(screen.queryByTestId('try-top-label')).toBeNull();

      // Bars sorted by probability, each with its own threshold marked where it lies.
      const bars = screen.getAllByTestId(/^prob-bar-/).map((el) => el.getAttribute('data-testid'));
      expect(bars).toEqual(['prob-bar-exchange_rate', 'prob-bar-card_arrival', 'prob-bar-pending_transfer', 'prob-bar-top_up_failed']);
      const marks = screen.getAllByTestId('threshold-mark');
      expect(marks).toHaveLength(4);
      const mark = within(screen.getByTestId('prob-bar-pending_transfer')).getByTestId('threshold-mark');
      expect(mark.style.left).toBe('40.7%');
      expect(mark).toHaveAttribute('title', 'threshold 0.407');
      expect(screen.getByTestId('prob-bar-pending_transfer')).toHaveTextContent('27.4%');

      // The single-label features are hidden with a note, never an error.
      expect(await screen.findByTestId('multi-label-note')).toHaveTextContent('routing to a person');
      expect(screen.queryByTestId('route-badge')).toBeNull();
      expect(screen.queryByTestId('explain-panel')).toBeNull();
      expect(screen.queryByTestId('try-int8')).toBeNull();
      expect(screen.getByTestId('try-precision')).toHaveTextContent('multi-label models keep f32');
      expect(screen.getByTestId('predict-file-note')).toHaveTextContent('each row gets its predicted labels (predicted_labels, joined by ;)');
      await new Promise((r) => setTimeout(r, 400));
      expect(calls.filter((c) => c.cmd === 'explain')).toHaveLength(0);
      expect(notify.errors).toHaveLength(0);
    });

    it('says no label applies when none reaches its threshold', async () => {
      mockCommands({ predictor_info: () => info, predict: () => [labelSetPrediction([0.2, 0.1, 0.3, 0.05])] });
      app.runs.list = [multiLabelRecord('run-ml')];
      app.runs.currentId = 'run-ml';
      render(TryStep);
      await fireEvent.input(screen.getByTestId('try-input'), { target: { value: 'hello there' } });
      expect(await screen.findByTestId('label-set', {}, { timeout: 1000 })).toHaveTextContent('No label applies');
      expect(screen.queryAllByTestId(/^label-chip-/)).toHaveLength(0);
      expect(screen.getAllByTestId('threshold-mark')).toHaveLength(4);
    });

    it('says a file prediction wrote the labels and each label\'s probability', async () => {
      mockCommands({
        predictor_info: () => info,
        predict_file: () => ({ rows: 1234, output: '/out/p.csv', multiLabel: true, probabilities: 4 }),
      });
      app.runs.list = [multiLabelRecord('run-ml')];
      app.runs.currentId = 'run-ml';
      render(TryStep);
      await fireEvent.click(screen.getByTestId('predict-file'));
      expect(await screen.findByTestId('predict-file-result')).toHaveTextContent(
        '1,234 tickets → labels and 4 probabilities per ticket, written to /out/p.csv',
      );
    });
  });
});
