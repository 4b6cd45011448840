import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import CorrectionControl from './CorrectionControl.svelte';
import { CorrectionsState } from '../lib/state/corrections.svelte';
import { correction, mockCommands } from '../test/fixtures';
import type { Correction } from '../lib/api';

const PATH = '/data/tickets.csv';
const ticket = { line: 3, text: 'add export please', given: 'bug' };
const classes = ['bug', 'feature', 'question'];

async function setup(kept: Correction[] = []) {
  let list = kept;
  const mock = mockCommands({
    corrections_for: () => ({ corrections: list }),
    correct_ticket: (a) => {
      list = a.label === a.given ? [] : [correction(3, ticket.text, 'bug', a.label as string | null)];
      return { corrections: list };
    },
    undo_correction: () => {
      list = [];
      return { corrections: list };
    },
  });
  const corrections = new CorrectionsState();
  await corrections.open(PATH);
  render(CorrectionControl, { ticket, classes, corrections });
  return mock;
}

const select = () => screen.getByTestId('correct-select') as HTMLSelectElement;
const options = () => within(select()).getAllByRole('option').map((o) => o.textContent);

describe('correction control', () => {
  it('shows the given class and corrects the ticket to another class', async () => {
    const { calls } = await setup();
    expect(screen.getByRole('combobox', { name: 'Correct the label of line 3' })).toBe(select());
    expect(options()).toEqual(['Correct to…', 'feature', 'question', 'Drop ticket']);
    expect(screen.queryByTestId('correction-badge')).toBeNull();
    expect(screen.getByTitle("The ticket's class in the data")).toHaveTextContent('bug');

    await fireEvent.change(select(), { target: { value: 'feature' } });
    await waitFor(() => expect(screen.getByTestId('correction-badge')).toHaveTextContent('bug → feature'));
    expect(calls[calls.length - 1]).toEqual({
      cmd: 'correct_ticket',
      args: { path: PATH, line: 3, text: 'add export please', given: 'bug', label: 'feature' },
    });
    // Back to the given class is on offer (it removes the correction); the current one is not.
    expect(options()).toEqual(['Correct to…', 'bug', 'question', 'Drop ticket']);
    expect(select().value).toBe('');
  });

  it('drops the ticket', async () => {
    const { calls } = await setup();
    await fireEvent.change(select(), { target: { value: select().options[3].value } });
    await waitFor(() => expect(screen.getByTestId('correction-badge')).toHaveTextContent('bug → dropped'));
    expect(calls[calls.length - 1]?.args).toMatchObject({ line: 3, given: 'bug', label: null });
    expect(options()).toEqual(['Correct to…', 'bug', 'feature', 'question']);
  });

  it('undoes a kept correction, and corrects a corrected ticket from its given class', async () => {
    const { calls } = await setup([correction(3, ticket.text, 'bug', 'feature')]);
    // The row shows its corrected class; the correction keeps the class it was given.
    expect(screen.getByTestId('correction-badge')).toHaveTextContent('bug → feature');
    await fireEvent.change(select(), { target: { value: 'question' } });
    await waitFor(() => expect(calls[calls.length - 1]?.args).toMatchObject({ given: 'bug', label: 'question' }));

    await fireEvent.click(await screen.findByRole('button', { name: 'Undo the correction of line 3' }));
    await waitFor(() => expect(screen.queryByTestId('correction-badge')).toBeNull());
    expect(calls[calls.length - 1]).toEqual({ cmd: 'undo_correction', args: { path: PATH, line: 3, hash: 'hash-3' } });
  });
});
