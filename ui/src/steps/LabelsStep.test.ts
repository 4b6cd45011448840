import { beforeEach, describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import LabelsStep from './LabelsStep.svelte';
import { app, resetApp } from '../lib/app.svelte';
import { correction, inspection, mockCommands } from '../test/fixtures';
import type { LabelMap } from '../lib/api';

async function loadBoard(ins = inspection()) {
  resetApp();
  const mock = mockCommands({ inspect_data: () => ins, save_label_map: () => '/maps/map.json' });
  await app.data.loadPath('/data/tickets.csv');
  render(LabelsStep);
  return mock;
}

const map = (): LabelMap => app.labels.board!.labelMap;

describe('Labels step (mapping board)', () => {
  beforeEach(() => resetApp());

  it('shows an empty state without data', () => {
    render(LabelsStep);
    expect(screen.getByText('No labels yet')).toBeInTheDocument();
  });

  it('starts with one class per raw value and merge suggestions', async () => {
    await loadBoard();
    for (const raw of ['Bug', 'bug', 'feature request', 'Feature-Request', 'question', 'spam']) {
      expect(within(screen.getByTestId(`class-col-${raw}`)).getByTestId(`raw-card-${raw}`)).toBeInTheDocument();
    }
    expect(screen.getByTestId('merge-Bug')).toBeInTheDocument();
    expect(map().mapping.bug).toBe('bug');
  });

  it('moves selected cards with the click path and merges classes', async () => {
    await loadBoard();
    await fireEvent.click(screen.getByTestId('raw-card-bug'));
    await fireEvent.click(screen.getByTestId('raw-card-Feature-Request'));
    expect(screen.getByTestId('raw-card-bug')).toHaveAttribute('aria-pressed', 'true');
    await fireEvent.click(screen.getByTestId('move-here-Bug'));
    expect(map().mapping.bug).toBe('Bug');
    expect(map().mapping['Feature-Request']).toBe('Bug');
    expect(within(screen.getByTestId('class-col-Bug')).getByTestId('raw-card-bug')).toBeInTheDocument();
    // selection is cleared after a move
    expect(screen.getByTestId('move-here-question')).toBeDisabled();
  });

  it('drops values via the Drop column', async () => {
    await loadBoard();
    await fireEvent.click(screen.getByTestId('raw-card-spam'));
    await fireEvent.click(screen.getByTestId('move-drop'));
    expect(map().mapping.spam).toBeNull();
    expect(within(screen.getByTestId('drop-col')).getByTestId('raw-card-spam')).toBeInTheDocument();
    expect(screen.getByTestId('balance-bar')).toHaveTextContent('2 rows dropped');
  });

  it('maps by HTML5 drag and drop through the same function', async () => {
    await loadBoard();
    const data = new Map<string, string>();
    const dataTransfer = {
      setData: (t: string, v: string) => data.set(t, v),
      getData: (t: string) => data.get(t) ?? '',
      effectAllowed: 'all',
      dropEffect: 'none',
    };
    await fireEvent.dragStart(screen.getByTestId('raw-card-question'), { dataTransfer });
    await fireEvent.dragOver(screen.getByTestId('drop-col'), { dataTransfer });
    await fireEvent.drop(screen.getByTestId('drop-col'), { dataTransfer });
    expect(map().mapping.question).toBeNull();
  });

  it('accepts a merge suggestion in one click', async () => {
    await loadBoard();
    await fireEvent.click(screen.getByTestId('merge-accept-feature request'));
    expect(map().mapping['Feature-Request']).toBe('feature request');
    expect(screen.queryByTestId('class-col-Feature-Request')).toBeNull();
    expect(screen.queryByTestId('merge-feature request')).toBeNull();
    const row = screen.getByTestId('balance-row-feature request');
    expect(row).toHaveTextContent('33');
  });

  it('renames a class (its cards follow) and deleting returns cards to the pool', async () => {
    await loadBoard();
    await fireEvent.click(screen.getByTestId('rename-question'));
    const input = screen.getByTestId('rename-input-question');
    await fireEvent.input(input, { target: { value: 'general_inquiry' } });
    await fireEvent.keyDown(input, { key: 'Enter' });
    expect(screen.getByTestId('class-col-general_inquiry')).toBeInTheDocument();
    expect(map().mapping.question).toBe('general_inquiry');

    await fireEvent.click(screen.getByTestId('delete-class-general_inquiry'));
    expect(screen.queryByTestId('class-col-general_inquiry')).toBeNull();
    expect(within(screen.getByTestId('pool-col')).getByTestId('raw-card-question')).toBeInTheDocument();
    expect(map().mapping).not.toHaveProperty('question');
  });

  it('adds a class and moves cards into it', async () => {
    await loadBoard();
    await fireEvent.input(screen.getByTestId('new-class-name'), { target: { value: 'noise' } });
    await fireEvent.click(screen.getByTestId('add-class'));
    expect(screen.getByTestId('class-col-noise')).toBeInTheDocument();
    await fireEvent.click(screen.getByTestId('raw-card-spam'));
    await fireEvent.click(screen.getByTestId('move-here-noise'));
    expect(map().mapping.spam).toBe('noise');
    // duplicates are refused with a message
    await fireEvent.input(screen.getByTestId('new-class-name'), { target: { value: 'noise' } });
    await fireEvent.click(screen.getByTestId('add-class'));
    expect(screen.getByText(/already a class/)).toBeInTheDocument();
  });

  it('keeps or drops unassigned values, and the balance bar follows', async () => {
    const many: [string, number][] = Array.from({ length: 14 }, (_, i) => [`intent_${String(i).padStart(2, '0')}`, 100 - i]);
    await loadBoard(inspection({ raws: many, merges: [] }));
    expect(screen.getByTestId('class-col-bug')).toBeInTheDocument();
    expect(screen.getByTestId('class-col-feature_request')).toBeInTheDocument();
    expect(screen.getByTestId('class-col-general_inquiry')).toBeInTheDocument();
    expect(within(screen.getByTestId('pool-col')).getAllByRole('button', { pressed: false }).length).toBe(14);

    await fireEvent.click(screen.getByTestId('raw-card-intent_00'));
    await fireEvent.click(screen.getByTestId('raw-card-intent_01'));
    await fireEvent.click(screen.getByTestId('move-here-bug'));
    expect(screen.getByTestId('balance-row-bug')).toHaveTextContent('199');
    expect(screen.getByTestId('balance-bar')).toHaveTextContent('13 classes');

    await fireEvent.click(screen.getByTestId('unmapped-drop'));
    expect(map().unmapped).toBe('drop');
    expect(screen.getByTestId('balance-bar')).toHaveTextContent('1 class ·');
    expect(screen.getByTestId('balance-row-bug')).toHaveTextContent('100.0%');
    await fireEvent.click(screen.getByTestId('unmapped-keep'));
    expect(map().unmapped).toBe('keep');

    await fireEvent.input(screen.getByTestId('pool-filter'), { target: { value: 'intent_1' } });
    expect(within(screen.getByTestId('pool-col')).getAllByTestId(/^raw-card-/)).toHaveLength(4);
  });

  it('Continue re-inspects with the label map, then shows Check', async () => {
    const { calls } = await loadBoard();
    await fireEvent.click(screen.getByTestId('raw-card-spam'));
    await fireEvent.click(screen.getByTestId('move-drop'));
    await fireEvent.click(screen.getByTestId('labels-continue'));
    await new Promise((r) => setTimeout(r, 0));
    const last = calls.filter((c) => c.cmd === 'inspect_data').pop()!;
    expect(last.args).toMatchObject({ path: '/data/tickets.csv', text: ['body'], labelColumn: 'category' });
    expect((last.args.labelMap as LabelMap).mapping.spam).toBeNull();
    expect((last.args.labelMap as LabelMap).mapping.question).toBe('question');
    expect(app.step).toBe('check');
  });

  it('moves cards without checking the file again, and says when only the most frequent values are listed', async () => {
    const ins = inspection();
    ins.rawLabelValues = 1500;
    const { calls } = await loadBoard(ins);
    expect(screen.getByTestId('labels-unlisted')).toHaveTextContent('1500 different values');
    const before = calls.filter((c) => c.cmd === 'inspect_data').length;
    await fireEvent.click(screen.getByTestId('raw-card-bug'));
    await fireEvent.click(screen.getByTestId('move-here-Bug'));
    await fireEvent.click(screen.getByTestId('raw-card-spam'));
    await fireEvent.click(screen.getByTestId('move-drop'));
    expect(calls.filter((c) => c.cmd === 'inspect_data').length).toBe(before);
  });

  it('lists the data file\'s corrections with Undo, loads, saves and exports them, and shows what the check made of them', async () => {
    let kept = [correction(3, 'add export please', 'bug', 'feature'), correction(9, 'asdf', 'bug', null)];
    const ins = inspection();
    ins.corrections = {
      relabelled: 1,
      dropped: 1,
      moved: [{ from: 3, to: 4 }],
      stale: [{ line: 12, text: 'gone ticket', reason: 'no row on or near line 12 has this text' }],
    };
    const { calls } = mockCommands({
      inspect_data: () => ins,
      corrections_for: () => ({ corrections: kept }),
      undo_correction: () => {
        kept = kept.slice(1);
        return { corrections: kept };
      },
      load_corrections: () => null,
      save_corrections: () => '/maps/corrections.json',
      export_corrected: () => ['/out/corrected.csv', { rows: 97, leftOut: 1, report: ins.corrections }],
    });
    await app.data.loadPath('/data/tickets.csv');
    render(LabelsStep);
    const panel = screen.getByTestId('corrections-panel');
    await waitFor(() => expect(within(panel).getAllByRole('row')).toHaveLength(3));
    expect(screen.getByTestId('corrections-counts')).toHaveTextContent('1 relabelled · 1 dropped');
    const rows = within(panel).getAllByRole('row');
    expect(rows[1]).toHaveTextContent('3add export pleasebug → feature');
    expect(rows[2]).toHaveTextContent('9asdfbug → dropped');
    expect(screen.getByTestId('corrections-stale')).toHaveTextContent(
      'Not applied (1): no row of the file matches. line 12 gone ticket: no row on or near line 12 has this text',
    );
    expect(screen.getByTestId('corrections-moved')).toHaveTextContent('line 3 → 4');

    await fireEvent.click(screen.getByTestId('corrections-load'));
    await fireEvent.click(screen.getByTestId('corrections-save'));
    await fireEvent.click(screen.getByTestId('corrections-export'));
    await waitFor(() => expect(calls.some((c) => c.cmd === 'export_corrected')).toBe(true));
    expect(calls.find((c) => c.cmd === 'load_corrections')?.args).toEqual({ path: '/data/tickets.csv' });
    expect(calls.find((c) => c.cmd === 'save_corrections')?.args).toEqual({ path: '/data/tickets.csv' });
    const exported = calls.find((c) => c.cmd === 'export_corrected')!.args;
    expect(exported).toMatchObject({ path: '/data/tickets.csv', text: ['body'], labelColumn: 'category' });
    expect((exported.labelMap as LabelMap).mapping.bug).toBe('bug');

    const inspections = calls.filter((c) => c.cmd === 'inspect_data').length;
    await fireEvent.click(within(panel).getByRole('button', { name: 'Undo the correction of line 3' }));
    await waitFor(() => expect(within(panel).getAllByRole('row')).toHaveLength(2));
    expect(calls.find((c) => c.cmd === 'undo_correction')?.args).toEqual({ path: '/data/tickets.csv', line: 3, hash: 'hash-3' });
    // The check applies the corrections: it runs again.
    await waitFor(() => expect(calls.filter((c) => c.cmd === 'inspect_data')).toHaveLength(inspections + 1));
  });
});
