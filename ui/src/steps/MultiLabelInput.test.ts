// Several labels per ticket on the input side: the Data step's "Labels per ticket" picker
// reads the file in the form chosen, the label board follows, and Check offers no single-class
// tools (suspects, corrections) for label sets.
import { beforeEach, describe, expect, it } from 'vitest';
import { fireEvent, render, screen, within } from '@testing-library/svelte';
import CheckStep from './CheckStep.svelte';
import DataStep from './DataStep.svelte';
import LabelsStep from './LabelsStep.svelte';
import { app, resetApp } from '../lib/app.svelte';
import type { Inspection, LabelForm } from '../lib/api';
import { suggestedSeparator } from '../lib/state/data.svelte';
import { inspection, mockCommands, settle } from '../test/fixtures';

/** The file read as one label per ticket: `category` cells holding "a;b" sets. */
const JOINED: [string, number][] = [
  ['billing;bug', 30],
  ['bug', 20],
  ['question', 10],
];
/** The same file with its cells split: each label counted once per ticket it is on. */
const SPLIT: [string, number][] = [
  ['bug', 50],
  ['billing', 30],
  ['question', 10],
];

/** The inspection the mocked engine makes for `form`. */
function inspectionFor(form: LabelForm | null): Inspection {
  if (!form || form.kind === 'single') return inspection({ raws: JOINED, merges: [] });
  const ins = inspection({ raws: SPLIT, merges: [] });
  return form.kind === 'separated' ? { ...ins, labelSeparator: form.separator ?? ';' } : { ...ins, labelColumn: null };
}

async function openFile() {
  const mock = mockCommands({ inspect_data: (a) => inspectionFor(a.labelForm as LabelForm | null) });
  await app.data.loadPath('/data/tickets.csv');
  return mock;
}

const inspectCalls = (calls: { cmd: string; args: Record<string, unknown> }[]) =>
  calls.filter((c) => c.cmd === 'inspect_data').map((c) => c.args);
/** The last inspection's arguments. */
const lastInspect = (calls: { cmd: string; args: Record<string, unknown> }[]) => inspectCalls(calls).slice(-1)[0];

describe('Labels per ticket', () => {
  beforeEach(() => resetApp());

  it('suggests splitting only when many labels hold a separator', () => {
    expect(suggestedSeparator(JOINED)).toBe(';');
    expect(suggestedSeparator([['a|b', 10], ['c', 10]])).toBe('|');
    // One row in ten is not "many".
    expect(suggestedSeparator([['a,b', 1], ['c', 9]])).toBeNull();
    expect(suggestedSeparator([])).toBeNull();
  });

  it('reads the label column split, with the sniffed separator shown, and a new label board', async () => {
    const { calls } = await openFile();
    render(DataStep);
    await settle();
    expect(inspectCalls(calls)[0].labelForm).toEqual({ kind: 'single' });
    expect(screen.getByTestId('label-form')).toHaveValue('single');
    expect(app.labels.board!.balance.map((e) => e.label)).toContain('billing;bug');

    await fireEvent.change(screen.getByTestId('label-form'), { target: { value: 'separated' } });
    await settle();
    expect(lastInspect(calls)).toMatchObject({
      labelColumn: 'category',
      labelForm: { kind: 'separated', separator: null },
    });
    expect(screen.getByTestId('label-separator')).toHaveValue('auto');
    expect(screen.getByTestId('label-separator-sniffed')).toHaveTextContent("Split by ';' (found in the cells)");
    // The board was made again from the split values.
    expect(app.labels.board!.balance.map((e) => e.label).sort()).toEqual(['billing', 'bug', 'question']);
    expect(app.data.multiLabel).toBe(true);

    await fireEvent.change(screen.getByTestId('label-separator'), { target: { value: '|' } });
    await settle();
    expect(lastInspect(calls).labelForm).toEqual({ kind: 'separated', separator: '|' });
    expect(screen.getByTestId('label-separator-sniffed')).toHaveTextContent("Split by '|'");
    expect(screen.getByTestId('label-separator-sniffed')).not.toHaveTextContent('found in the cells');
  });

  it('splits by the suggested separator in one click', async () => {
    const { calls } = await openFile();
    render(DataStep);
    await settle();
    expect(screen.getByTestId('label-form-hint')).toHaveTextContent("Looks like several labels per ticket: split by ';'?");
    await fireEvent.click(screen.getByTestId('label-form-suggest'));
    await settle();
    expect(lastInspect(calls).labelForm).toEqual({ kind: 'separated', separator: ';' });
    expect(screen.getByTestId('label-form')).toHaveValue('separated');
    expect(screen.queryByTestId('label-form-hint')).toBeNull();
  });

  it('reads 0/1 columns ticked among the columns that are not the text, with no label column', async () => {
    const { calls } = await openFile();
    await app.train.loadCatalogue();
    render(DataStep);
    await settle();
    await fireEvent.change(screen.getByTestId('label-form'), { target: { value: 'columns' } });
    await settle();
    // The text column is not offered; nothing looks like 0/1 in this file, so nothing is read yet.
    expect(screen.queryByTestId('label-form-column-body')).toBeNull();
    expect(screen.getByText('Tick at least one label column.')).toBeInTheDocument();
    expect(inspectCalls(calls)).toHaveLength(1);
    expect(screen.getByTestId('label-column-select')).toBeDisabled();
    expect(app.trainer.missing).toBe('Tick the 0/1 label columns (Data step).');

    await fireEvent.click(screen.getByTestId('label-form-column-subject'));
    await fireEvent.click(screen.getByTestId('label-form-column-id'));
    await settle();
    // In the file's order, whatever order they were ticked in.
    expect(lastInspect(calls)).toMatchObject({
      labelColumn: null,
      labelForm: { kind: 'columns', columns: ['id', 'subject'] },
    });
  });

  it('ticks the columns that hold only 0/1 values when 0/1 columns are chosen', async () => {
    const flags = inspection({ raws: JOINED, merges: [] });
    flags.profile.columns.push({
      ...flags.profile.columns[0],
      name: 'urgent',
      role: 'label',
      values: [['0', 80], ['1', 20]],
    });
    const { calls } = mockCommands({ inspect_data: () => flags });
    await app.data.loadPath('/data/tickets.csv');
    render(DataStep);
    await settle();
    await fireEvent.change(screen.getByTestId('label-form'), { target: { value: 'columns' } });
    await settle();
    expect(screen.getByTestId('label-form-column-urgent')).toBeChecked();
    expect(screen.getByTestId('label-form-column-category')).not.toBeChecked();
    expect(lastInspect(calls).labelForm).toEqual({ kind: 'columns', columns: ['urgent'] });
  });

  it('tells on the Labels step that a ticket can have several classes and the bar counts occurrences', async () => {
    await openFile();
    app.data.setFormKind('separated');
    await settle();
    render(LabelsStep);
    expect(screen.getByTestId('labels-multi-label-note')).toHaveTextContent('counts label occurrences, not tickets');
    expect(screen.getByTestId('balance-bar')).toHaveTextContent('90 label occurrences');
  });

  it('offers no suspect search and no corrections on Check for label sets, and says why', async () => {
    const findings: Inspection['report'] = {
      findings: [{ code: 'exact_duplicates', severity: 'warning', count: 2, message: '2 duplicate texts', lines: [4], fix: 'remove them', setting: null }],
      classCounts: SPLIT,
      notMeasured: [],
    };
    const { calls } = mockCommands({
      inspect_data: (a) => ({ ...inspectionFor(a.labelForm as LabelForm), report: findings }),
      row_texts: () => [{ line: 4, text: 'refund and crash', label: 'billing; bug' }],
      corrections_for: () => ({ corrections: [] }),
    });
    await app.train.loadCatalogue();
    await app.data.loadPath('/data/tickets.csv');
    app.data.setFormKind('separated');
    await settle();
    render(CheckStep);
    await settle();
    expect(screen.getByTestId('find-suspects')).toBeDisabled();
    expect(screen.getByTestId('suspects-unavailable')).toHaveTextContent('not offered for label sets');
    expect(screen.getByTestId('check-balance-note')).toHaveTextContent('counts once for each');

    await fireEvent.click(within(screen.getByTestId('finding-exact_duplicates')).getByRole('button', { name: /Example rows/ }));
    await settle();
    const rows = calls.filter((c) => c.cmd === 'row_texts');
    expect(rows[rows.length - 1].args.labelForm).toEqual({ kind: 'separated', separator: null });
    const example = screen.getByTestId('finding-exact_duplicates');
    expect(within(example).getByText('billing; bug')).toBeInTheDocument();
    expect(within(example).queryByTestId('correct-select')).toBeNull();
  });
});
