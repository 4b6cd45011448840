import { beforeEach, describe, expect, it } from 'vitest';
import { CorrectionsState } from './corrections.svelte';
import { app, resetApp } from '../app.svelte';
import { notify } from '../notify.svelte';
import { correction, inspection, mockCommands, settle } from '../../test/fixtures';
import type { Corrections } from '../api';

const PATH = '/data/tickets.csv';
const relabel = correction(3, 'add export please', 'bug', 'feature');
const drop = correction(9, 'asdf', 'bug', null);
const kept = (...corrections: Corrections['corrections']): Corrections => ({ corrections });

describe('corrections state', () => {
  beforeEach(() => {
    resetApp();
    notify.reset();
  });

  it('reads a file\'s corrections, counts them and finds a ticket\'s by line and text', async () => {
    const { calls } = mockCommands({ corrections_for: () => kept(relabel, drop) });
    const state = new CorrectionsState();
    await state.open(PATH);
    expect(calls).toEqual([{ cmd: 'corrections_for', args: { path: PATH } }]);
    expect([state.relabelled, state.dropped]).toEqual([1, 1]);
    expect(state.find(3, 'add export please')).toEqual(relabel);
    // The kept text is the start of a long ticket.
    expect(state.find(3, 'add export please, and an import too')).toEqual(relabel);
    expect(state.find(4, 'add export please')).toBeUndefined();
    expect(state.find(3, 'something else')).toBeUndefined();
  });

  it('sets, undoes and loads corrections through the app, and says each changed', async () => {
    let changes = 0;
    const { calls } = mockCommands({
      corrections_for: () => kept(),
      correct_ticket: () => kept(relabel),
      undo_correction: () => kept(),
      load_corrections: () => kept(relabel, drop),
    });
    const state = new CorrectionsState(() => changes++);
    await state.open(PATH);

    await state.set({ line: 3, text: 'add export please', given: 'bug' }, 'feature');
    expect(calls[calls.length - 1]).toEqual({
      cmd: 'correct_ticket',
      args: { path: PATH, line: 3, text: 'add export please', given: 'bug', label: 'feature' },
    });
    expect(state.list).toEqual([relabel]);

    await state.undo(relabel);
    expect(calls[calls.length - 1]).toEqual({ cmd: 'undo_correction', args: { path: PATH, line: 3, hash: 'hash-3' } });
    expect(state.list).toEqual([]);

    await state.load();
    expect(calls[calls.length - 1]).toEqual({ cmd: 'load_corrections', args: { path: PATH } });
    expect([state.relabelled, state.dropped]).toEqual([1, 1]);
    expect(changes).toBe(3);
    expect(notify.toasts.map((t) => t.message)).toEqual(['Corrections loaded']);
  });

  it('keeps its corrections when a dialog is cancelled, and shows a refusal', async () => {
    let changes = 0;
    mockCommands({
      corrections_for: () => kept(relabel),
      load_corrections: () => null,
      correct_ticket: () => Promise.reject({ kind: 'io', message: 'disk full', settings: [] }),
    });
    const state = new CorrectionsState(() => changes++);
    await state.open(PATH);
    await state.load();
    await state.set({ line: 9, text: 'asdf', given: 'bug' }, null);
    expect(state.list).toEqual([relabel]);
    expect(changes).toBe(0);
    expect(notify.errors.map((e) => [e.title, e.message])).toEqual([['Could not correct the ticket', 'disk full']]);
  });

  it('saves and exports the data file\'s corrections', async () => {
    const { calls } = mockCommands({
      corrections_for: () => kept(relabel),
      save_corrections: () => '/maps/corrections.json',
      export_corrected: () => [
        '/out/corrected.csv',
        { rows: 99, leftOut: 1, report: { relabelled: 1, dropped: 1, moved: [], stale: [] } },
      ],
    });
    const state = new CorrectionsState();
    await state.open(PATH);
    await state.save();
    const map = { mapping: { spam: null }, unmapped: 'keep' as const };
    await state.exportCsv(['subject', 'body'], 'category', map);
    expect(calls.slice(1)).toEqual([
      { cmd: 'save_corrections', args: { path: PATH } },
      { cmd: 'export_corrected', args: { path: PATH, text: ['subject', 'body'], labelColumn: 'category', labelMap: map } },
    ]);
    expect(notify.toasts.map((t) => t.message)).toEqual([
      'Corrections saved to /maps/corrections.json',
      '99 rows written to /out/corrected.csv (1 left out)',
    ]);
  });

  it('follows the data file, and a correction checks the data again', async () => {
    const { calls } = mockCommands({
      inspect_data: () => inspection(),
      corrections_for: () => kept(),
      correct_ticket: () => kept(relabel),
    });
    await app.data.loadPath(PATH);
    await settle();
    expect(app.corrections.path).toBe(PATH);
    expect(calls.filter((c) => c.cmd === 'corrections_for')).toHaveLength(1);
    expect(app.correctionsOf(PATH)).toBe(app.corrections);
    expect(app.correctionsOf('/data/other.csv')).toBe(app.runCorrections);

    const inspections = calls.filter((c) => c.cmd === 'inspect_data').length;
    await app.corrections.set({ line: 3, text: 'add export please', given: 'bug' }, 'feature');
    await settle();
    const last = calls.filter((c) => c.cmd === 'inspect_data');
    expect(last).toHaveLength(inspections + 1);
    expect(last[last.length - 1].args).toMatchObject({ path: PATH, text: ['body'], labelColumn: 'category' });
  });
});
