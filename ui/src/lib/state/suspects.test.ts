import { beforeEach, describe, expect, it } from 'vitest';
import type { Channel } from '@tauri-apps/api/core';
import { SuspectsState } from './suspects.svelte';
import { notify } from '../notify.svelte';
import { mockCommands, send, settle, suspectReport } from '../../test/fixtures';
import type { SuspectProgress, SuspectReport, SuspectSource } from '../api';

const run: SuspectSource = { kind: 'run', runId: 'run-1' };
const file: SuspectSource = {
  kind: 'file',
  path: '/data/tickets.csv',
  text: ['body'],
  labelColumn: 'category',
  labelMap: null,
  model: 'distilbert-base-uncased',
  maxLength: 128,
};

/** Mock a search the test answers: its progress channels and resolvers, one per call. */
function searches() {
  const channels: Channel<SuspectProgress>[] = [];
  const answers: ((r: SuspectReport | null) => void)[] = [];
  const mock = mockCommands({
    find_suspects: (a) => {
      channels.push(a.onProgress as Channel<SuspectProgress>);
      return new Promise((resolve) => answers.push(resolve));
    },
    cancel_suspects: () => {
      answers[answers.length - 1](null);
      return null;
    },
  });
  return { ...mock, channels, answers };
}

describe('suspects state', () => {
  beforeEach(() => notify.reset());

  it('searches a source, tells its progress, and keeps the report for that source', async () => {
    const { calls, channels, answers } = searches();
    const state = new SuspectsState();
    const done = state.find(run);
    await settle();
    expect(calls[0]).toMatchObject({ cmd: 'find_suspects', args: { source: run } });
    expect([state.status, state.fraction, state.progressLabel]).toEqual(['running', null, 'Loading the model…']);

    send(channels[0], { type: 'encoding', done: 1200, total: 3000 });
    await settle();
    expect(state.progressLabel).toBe('Encoding 1,200 / 3,000 tickets');
    expect(state.fraction).toBeCloseTo(0.36);

    send(channels[0], { type: 'fitting', fold: 2, folds: 5 });
    await settle();
    expect(state.progressLabel).toBe('Cross-validating, fold 2 of 5');
    expect(state.fraction).toBeCloseTo(0.92);

    answers[0](suspectReport());
    await done;
    expect(state.status).toBe('done');
    expect(state.shown.map((s) => s.line)).toEqual([3, 4, 9]);
    expect(state.isFor({ kind: 'run', runId: 'run-1' })).toBe(true);
    expect(state.isFor({ kind: 'run', runId: 'run-2' })).toBe(false);
    expect(state.isFor(file)).toBe(false);
  });

  it('cancels, and a newer search wins over an older one', async () => {
    const { calls, answers } = searches();
    const state = new SuspectsState();
    const first = state.find(file);
    await settle();
    await state.cancel();
    await first;
    expect(calls.map((c) => c.cmd)).toEqual(['find_suspects', 'cancel_suspects']);
    expect([state.status, state.report]).toEqual(['cancelled', null]);

    const older = state.find(file);
    await settle();
    const newer = state.find(run);
    await settle();
    // The app cancels the older search: it answers null, after the newer one started.
    answers[1](null);
    await older;
    expect([state.status, state.isFor(run)]).toEqual(['running', true]);
    answers[2](suspectReport());
    await newer;
    expect(state.status).toBe('done');
  });

  it('says when the search fails', async () => {
    mockCommands({ find_suspects: () => Promise.reject({ kind: 'model', message: 'no such model', settings: ['model'] }) });
    const state = new SuspectsState();
    await state.find(file);
    expect(state.status).toBe('failed');
    expect(notify.errors.map((e) => [e.title, e.message])).toEqual([['Could not find suspect labels', 'no such model']]);
  });

  it('hides the suspects kept as labelled, across searches', async () => {
    mockCommands({ find_suspects: () => suspectReport() });
    const state = new SuspectsState();
    await state.find(run);
    state.keep(state.shown[1]);
    expect(state.shown.map((s) => s.line)).toEqual([3, 9]);
    expect(state.keptCount).toBe(1);

    await state.find(run);
    expect(state.shown.map((s) => s.line)).toEqual([3, 9]);
    // The same line with another text is another ticket.
    mockCommands({
      find_suspects: () => suspectReport({ suspects: suspectReport().suspects.map((s) => ({ ...s, text: `${s.text}!` })) }),
    });
    await state.find(run);
    expect(state.shown.map((s) => s.line)).toEqual([3, 4, 9]);
    expect(state.keptCount).toBe(0);
  });
});
