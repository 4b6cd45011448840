import { beforeEach, describe, expect, it } from 'vitest';
import { fireEvent, render, screen, within } from '@testing-library/svelte';
import CheckStep from './CheckStep.svelte';
import { app, resetApp } from '../lib/app.svelte';
import { inspection, mockCommands } from '../test/fixtures';

describe('Check step', () => {
  beforeEach(() => resetApp());

  it('groups findings by severity, loads example rows, and asks for the override', async () => {
    const { calls } = mockCommands({
      inspect_data: () =>
        inspection({
          findings: [
            { code: 'class_too_small_to_split', severity: 'blocking', count: 1, message: "class 'spam' has 1 example", lines: [7], fix: 'merge it' },
            { code: 'exact_duplicates', severity: 'warning', count: 3, message: '3 duplicate texts', lines: [4, 9], fix: 'remove them' },
            { code: 'class_imbalance', severity: 'info', count: 6, message: 'classes are imbalanced', lines: [], fix: 'use macro-F1' },
          ],
          classCounts: [['Bug', 45], ['spam', 1]],
        }),
      row_texts: (a) => (a.lines as number[]).map((line) => ({ line, text: `text of line ${line}` })),
    });
    await app.loadPath('/data/tickets.csv');
    render(CheckStep);
    await new Promise((r) => setTimeout(r, 10));

    const blocking = screen.getByTestId('finding-class_too_small_to_split');
    expect(blocking).toHaveTextContent('merge it');
    expect(blocking).toHaveClass('sev-border-blocking');
    expect(screen.getByTestId('finding-exact_duplicates')).toHaveTextContent('warning');
    expect(screen.getByTestId('finding-class_imbalance')).toHaveTextContent('info');

    await fireEvent.click(within(screen.getByTestId('finding-exact_duplicates')).getByRole('button', { name: /Example rows/ }));
    expect(await screen.findByText('text of line 9')).toBeInTheDocument();
    expect(calls.find((c) => c.cmd === 'row_texts')!.args).toEqual({ path: '/data/tickets.csv', text: ['body'], lines: [4, 9] });

    expect(app.trainBlocker).toMatch(/blocking/);
    await fireEvent.click(screen.getByTestId('override-blocking'));
    expect(app.override).toBe(true);
    expect(app.trainBlocker).toBeNull();
    expect(screen.getByTestId('check-balance')).toHaveTextContent('45');
  });

  it('does not call unmeasured checks clean: it lists them, and sends the model and split to measure with', async () => {
    const clean = inspection({ findings: [] });
    clean.report!.notMeasured = [
      { code: 'truncation', reason: 'distilbert-base-uncased is not on this machine yet' },
    ];
    const { calls } = mockCommands({ inspect_data: () => clean });
    app.hyper = { ...app.hyper, validationFraction: 0.2, seed: 7, maxLength: 64 };
    await app.loadPath('/data/tickets.csv');
    render(CheckStep);
    await new Promise((r) => setTimeout(r, 10));

    expect(screen.getByTestId('check-all-good')).toHaveTextContent('No problems found in what was checked');
    expect(screen.getByTestId('not-measured-truncation')).toHaveTextContent('not on this machine yet');
    expect(calls.find((c) => c.cmd === 'inspect_data')!.args.checks).toEqual({
      model: 'distilbert-base-uncased',
      maxLength: 64,
      split: { validationFraction: 0.2, seed: 7, maxRows: null },
    });
  });

  it('offers Cancel while a check runs, and keeps the last report when it is cancelled', async () => {
    let release: (v: unknown) => void = () => {};
    mockCommands({ inspect_data: () => inspection({ findings: [] }) });
    await app.loadPath('/data/tickets.csv');
    const { calls } = mockCommands({
      inspect_data: () => new Promise((r) => (release = r)),
      cancel_inspection: () => {
        release(null);
        return null;
      },
    });
    render(CheckStep); // the board's map differs from the first check's: it checks again
    await new Promise((r) => setTimeout(r, 10));
    expect(app.inspecting).toBe(true);
    await fireEvent.click(screen.getByTestId('cancel-check'));
    await new Promise((r) => setTimeout(r, 10));
    expect(app.inspecting).toBe(false);
    expect(app.inspection?.report?.findings).toEqual([]);
    expect(calls.map((c) => c.cmd)).toEqual(['inspect_data', 'cancel_inspection']);
  });
});
