import { beforeEach, describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import RoutingPanel from './RoutingPanel.svelte';
import type { RoutingThreshold } from '../lib/api';
import { notify } from '../lib/notify.svelte';
import { mockCommands, trust } from '../test/fixtures';

// The fixture's 18 tickets: 95% and 99% accuracy at 0.92 (8 tickets, all right), 90% at
// 0.85 (12 tickets, 11 right).
function setup(threshold: number | null = null) {
  const kept: (RoutingThreshold | null)[] = [];
  const mock = mockCommands({ set_run_threshold: () => null });
  const view = render(RoutingPanel, { runId: 'run-1', trust: trust(threshold), onkept: (r) => kept.push(r) });
  return { ...mock, kept, view };
}

const readout = () => screen.getByTestId('threshold-readout');
const slider = () => screen.getByTestId('threshold-slider') as HTMLInputElement;

describe('routing panel', () => {
  beforeEach(() => notify.reset());

  it('starts at the lowest threshold reaching 95% accuracy and says what it does', () => {
    setup();
    expect(readout()).toHaveTextContent('Handles 44% of tickets automatically at 100.0% accuracy; 56% (10 tickets) go to a person.');
    expect(readout()).toHaveAttribute('data-threshold', '0.92');
    expect(screen.getByTestId('threshold-input')).toHaveValue(0.92);
    expect(screen.getByTestId('coverage-curve')).toBeInTheDocument();
    expect(screen.getByTestId('kept-threshold')).toHaveTextContent('No threshold kept');
    expect(screen.queryByTestId('clear-threshold')).toBeNull();
  });

  it('reads the curve live while the slider moves, ticket by ticket', async () => {
    setup();
    expect(slider()).toHaveValue('8');
    expect(slider().max).toBe('18');
    await fireEvent.input(slider(), { target: { value: '12' } });
    expect(readout()).toHaveTextContent('Handles 67% of tickets automatically at 91.7% accuracy; 33% (6 tickets) go to a person.');
    expect(screen.getByTestId('threshold-input')).toHaveValue(0.85);
    await fireEvent.input(slider(), { target: { value: '0' } });
    expect(readout()).toHaveTextContent('Handles no tickets automatically: all 18 tickets go to a person.');
    await fireEvent.input(slider(), { target: { value: '18' } });
    expect(readout()).toHaveTextContent('Handles every ticket automatically, at 83.3% accuracy');
  });

  it('takes a typed threshold between points and refuses one that is no probability', async () => {
    setup();
    const input = screen.getByTestId('threshold-input');
    await fireEvent.change(input, { target: { value: '0.86' } });
    expect(readout()).toHaveAttribute('data-threshold', '0.86');
    expect(readout()).toHaveTextContent('Handles 61% of tickets automatically at 90.9% accuracy; 39% (7 tickets) go to a person.');
    expect(slider()).toHaveValue('11');
    await fireEvent.change(input, { target: { value: '1.5' } });
    expect(readout()).toHaveAttribute('data-threshold', '0.86');
  });

  it('jumps to the lowest threshold reaching an accuracy', async () => {
    setup();
    await fireEvent.click(screen.getByTestId('accuracy-90'));
    expect(readout()).toHaveTextContent('Handles 67% of tickets automatically at 91.7% accuracy');
    expect(screen.getByTestId('accuracy-90')).toHaveClass('on');
    await fireEvent.click(screen.getByTestId('accuracy-99'));
    expect(readout()).toHaveAttribute('data-threshold', '0.92');
  });

  it('disables an accuracy no threshold reaches', () => {
    const t = trust();
    t.coverage.overall = { rows: 2, points: [{ threshold: 0.9, handled: 1, coverage: 0.5, accuracy: 0 }, { threshold: 0.6, handled: 2, coverage: 1, accuracy: 0.5 }] };
    mockCommands({});
    render(RoutingPanel, { runId: 'run-1', trust: t, onkept: () => {} });
    expect(screen.getByTestId('accuracy-95')).toBeDisabled();
    expect(screen.getByTestId('accuracy-95')).toHaveAttribute('title', 'No threshold reaches 95% accuracy on these tickets');
  });

  it('keeps the threshold with its operating point, then clears it', async () => {
    const { calls, kept, view } = setup();
    await fireEvent.click(screen.getByTestId('accuracy-90'));
    await fireEvent.click(screen.getByTestId('keep-threshold'));
    const chosenOn = { threshold: 0.85, handled: 12, coverage: 12 / 18, accuracy: 11 / 12 };
    await waitFor(() => expect(kept).toEqual([{ threshold: 0.85, chosenOn }]));
    expect(calls.find((c) => c.cmd === 'set_run_threshold')!.args).toEqual({
      runId: 'run-1',
      routing: { threshold: 0.85, chosenOn },
    });
    expect(notify.toasts[0]?.message).toContain('Threshold 0.85 kept with the model: tickets below it go to a person');

    // The parent hands the kept threshold back in the trust.
    await view.rerender({ runId: 'run-1', trust: trust(0.85), onkept: (r: RoutingThreshold | null) => kept.push(r) });
    expect(screen.getByTestId('kept-threshold')).toHaveTextContent('Kept with the model: tickets below 0.85 go to a person');
    expect(screen.getByTestId('keep-threshold')).toBeDisabled();

    await fireEvent.click(screen.getByTestId('clear-threshold'));
    await waitFor(() => expect(kept).toHaveLength(2));
    expect(kept[1]).toBeNull();
    const sets = calls.filter((c) => c.cmd === 'set_run_threshold');
    expect(sets[sets.length - 1].args).toEqual({ runId: 'run-1', routing: null });
  });

  it('starts at the kept threshold and says when the slider leaves it', async () => {
    setup(0.85);
    expect(readout()).toHaveAttribute('data-threshold', '0.85');
    expect(screen.getByTestId('keep-threshold')).toBeDisabled();
    await fireEvent.click(screen.getByTestId('accuracy-95'));
    expect(screen.getByTestId('kept-threshold')).toHaveTextContent('The model keeps 0.85 (67% handled here); the slider is at 0.92.');
    expect(screen.getByTestId('keep-threshold')).toBeEnabled();
    expect(screen.getByTestId('coverage-kept')).toBeInTheDocument();
    await fireEvent.click(screen.getByTestId('reset-threshold'));
    expect(readout()).toHaveAttribute('data-threshold', '0.85');
  });

  it('reads a class\'s curve at the same threshold, and keeps the overall one', async () => {
    const { calls } = setup();
    await fireEvent.change(screen.getByTestId('coverage-class'), { target: { value: 'feature' } });
    // Predicted feature: 0.98 0.95 0.92 right, 0.91 wrong, ...: 3 of 8 at 0.92.
    expect(screen.getByTestId('class-readout')).toHaveTextContent(
      'Of the 8 tickets predicted feature, this threshold handles 38% (3) automatically, at 100.0% accuracy.',
    );
    expect(readout()).toHaveTextContent('Handles 44% of tickets automatically');
    await fireEvent.click(screen.getByTestId('keep-threshold'));
    await waitFor(() => expect(calls.some((c) => c.cmd === 'set_run_threshold')).toBe(true));
    expect((calls.find((c) => c.cmd === 'set_run_threshold')!.args.routing as RoutingThreshold).chosenOn?.handled).toBe(8);
  });

  it('says when keeping fails', async () => {
    mockCommands({ set_run_threshold: () => Promise.reject({ kind: 'io', message: 'cannot write dialect.json' }) });
    const kept: unknown[] = [];
    render(RoutingPanel, { runId: 'run-1', trust: trust(), onkept: (r) => kept.push(r) });
    await fireEvent.click(screen.getByTestId('keep-threshold'));
    await waitFor(() => expect(notify.errors[0]?.title).toBe('Could not keep the threshold'));
    expect(kept).toEqual([]);
    expect(screen.getByTestId('keep-threshold')).toBeEnabled();
  });
});
