import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import type { Channel } from '@tauri-apps/api/core';
import SuspectList from './SuspectList.svelte';
import { CorrectionsState } from '../lib/state/corrections.svelte';
import { SuspectsState } from '../lib/state/suspects.svelte';
import { correction, mockCommands, send, settle, suspect, suspectReport, type Handler } from '../test/fixtures';
import type { Correction, SuspectProgress, SuspectSource } from '../lib/api';

const PATH = '/data/tickets.csv';
const source: SuspectSource = { kind: 'run', runId: 'run-1' };

async function setup(handlers: Record<string, Handler> = {}, kept: Correction[] = [], from: SuspectSource | string = source) {
  let list = kept;
  const mock = mockCommands({
    find_suspects: () => suspectReport(),
    corrections_for: () => ({ corrections: list }),
    correct_ticket: (a) => {
      list = [...list, correction(a.line as number, a.text as string, a.given as string, a.label as string | null)];
      return { corrections: list };
    },
    undo_correction: (a) => {
      list = list.filter((c) => c.line !== a.line);
      return { corrections: list };
    },
    ...handlers,
  });
  const corrections = new CorrectionsState();
  await corrections.open(PATH);
  const search = new SuspectsState();
  render(SuspectList, { search, source: from, corrections });
  return { ...mock, search };
}

const rows = () => within(screen.getByTestId('suspects-table')).getAllByTestId('suspect-row');

async function found() {
  await fireEvent.click(screen.getByTestId('find-suspects'));
  await screen.findByTestId('suspects-table');
}

describe('suspect list', () => {
  it('shows the search\'s progress, and cancels it', async () => {
    let channel: Channel<SuspectProgress> | null = null;
    let answer: (r: null) => void = () => {};
    const { calls } = await setup({
      find_suspects: (a) => {
        channel = a.onProgress as Channel<SuspectProgress>;
        return new Promise((resolve) => (answer = resolve));
      },
      cancel_suspects: () => answer(null),
    });
    await fireEvent.click(screen.getByTestId('find-suspects'));
    expect(calls.find((c) => c.cmd === 'find_suspects')?.args.source).toEqual(source);
    expect(await screen.findByTestId('suspects-progress')).toHaveTextContent('Loading the model…');
    expect(screen.getByTestId('find-suspects')).toBeDisabled();

    send(channel!, { type: 'encoding', done: 1200, total: 3000 });
    await waitFor(() => expect(screen.getByTestId('suspects-progress')).toHaveTextContent('Encoding 1,200 / 3,000 tickets'));
    expect(screen.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '36');
    send(channel!, { type: 'fitting', fold: 2, folds: 5 });
    await waitFor(() => expect(screen.getByTestId('suspects-progress')).toHaveTextContent('Cross-validating, fold 2 of 5'));

    await fireEvent.click(screen.getByTestId('cancel-suspects'));
    expect(await screen.findByTestId('suspects-cancelled')).toHaveTextContent('Search cancelled.');
    expect(calls.some((c) => c.cmd === 'cancel_suspects')).toBe(true);
    expect(screen.queryByTestId('suspects-progress')).toBeNull();
    expect(screen.getByTestId('find-suspects')).toBeEnabled();
  });

  it('summarises the report and lists the suspects, most suspect first', async () => {
    await setup();
    await found();
    expect(screen.getByTestId('suspects-summary')).toHaveTextContent(
      '3 of 2,921 tickets look mislabelled · frozen encoder + 5-fold linear head, held-out accuracy 61% · 14 s',
    );
    const cells = (r: HTMLElement) => within(r).getAllByRole('cell').map((c) => c.textContent?.trim());
    expect(rows().map(cells)).toEqual([
      ['3', 'add export please', 'bug', 'feature', '92%', 'Accept Keep Drop'],
      ['4', 'button does nothing', 'feature', 'bug', '81%', 'Accept Keep Drop'],
      ['9', 'how do I reset my password?', 'bug', 'question', '66%', 'Accept Keep Drop'],
    ]);
    // The text is clamped until opened.
    const text = within(rows()[0]).getByRole('button', { name: 'add export please' });
    expect(text).toHaveAttribute('aria-expanded', 'false');
    await fireEvent.click(text);
    expect(text).toHaveAttribute('aria-expanded', 'true');
  });

  it('accepts a suspect as its likely class, drops one, and undoes', async () => {
    const { calls } = await setup();
    await found();
    await fireEvent.click(within(rows()[0]).getByTestId('suspect-accept'));
    await waitFor(() => expect(within(rows()[0]).getByTestId('correction-badge')).toHaveTextContent('bug → feature'));
    expect(calls.filter((c) => c.cmd === 'correct_ticket').map((c) => c.args)).toEqual([
      { path: PATH, line: 3, text: 'add export please', given: 'bug', label: 'feature' },
    ]);
    expect(within(rows()[0]).queryByTestId('suspect-accept')).toBeNull();

    await fireEvent.click(within(rows()[1]).getByTestId('suspect-drop'));
    await waitFor(() => expect(within(rows()[1]).getByTestId('correction-badge')).toHaveTextContent('feature → dropped'));
    expect(calls.filter((c) => c.cmd === 'correct_ticket')[1].args).toEqual({
      path: PATH,
      line: 4,
      text: 'button does nothing',
      given: 'feature',
      label: null,
    });

    await fireEvent.click(within(rows()[0]).getByTestId('correction-undo'));
    await waitFor(() => expect(within(rows()[0]).getByTestId('suspect-accept')).toBeInTheDocument());
  });

  it('shows a ticket corrected before the search with its correction', async () => {
    await setup({}, [correction(9, 'how do I reset my password?', 'bug', 'feature')]);
    await found();
    expect(within(rows()[2]).getByTestId('correction-badge')).toHaveTextContent('bug → feature');
    expect(within(rows()[2]).queryByTestId('suspect-keep')).toBeNull();
  });

  it('hides a suspect kept as labelled', async () => {
    const { calls } = await setup();
    await found();
    await fireEvent.click(within(rows()[1]).getByTestId('suspect-keep'));
    expect(rows().map((r) => within(r).getAllByRole('cell')[0].textContent)).toEqual(['3', '9']);
    expect(screen.getByTestId('suspects-summary')).toHaveTextContent('· 1 kept as labelled');
    expect(calls.some((c) => c.cmd === 'correct_ticket')).toBe(false);

    await fireEvent.click(within(rows()[0]).getByTestId('suspect-keep'));
    await fireEvent.click(within(rows()[0]).getByTestId('suspect-keep'));
    expect(screen.getByTestId('suspects-none')).toHaveTextContent('Every suspect was kept as labelled.');
  });

  it('shows fifty suspects, then more', async () => {
    const many = Array.from({ length: 120 }, (_, i) => suspect(i + 2, `ticket ${i + 2}`, 'bug', 'feature'));
    await setup({ find_suspects: () => suspectReport({ suspects: many }) });
    await found();
    expect(rows()).toHaveLength(50);
    await fireEvent.click(screen.getByTestId('suspects-more'));
    expect(rows()).toHaveLength(100);
    expect(screen.getByTestId('suspects-more')).toHaveTextContent('Show more (20 left)');
    await fireEvent.click(screen.getByTestId('suspects-more'));
    expect(rows()).toHaveLength(120);
    expect(screen.queryByTestId('suspects-more')).toBeNull();
  });

  it('says when no label looks wrong', async () => {
    await setup({ find_suspects: () => suspectReport({ suspects: [] }) });
    await fireEvent.click(screen.getByTestId('find-suspects'));
    expect(await screen.findByTestId('suspects-none')).toHaveTextContent('No suspect labels');
    expect(screen.getByTestId('suspects-summary')).toHaveTextContent('0 of 2,921 tickets look mislabelled');
  });

  it('says why it cannot search', async () => {
    const { calls } = await setup({}, [], 'Choose a model on the Train step.');
    expect(screen.getByTestId('find-suspects')).toBeDisabled();
    expect(screen.getByTestId('suspects-unavailable')).toHaveTextContent('Choose a model on the Train step.');
    await settle();
    expect(calls.some((c) => c.cmd === 'find_suspects')).toBe(false);
  });
});
