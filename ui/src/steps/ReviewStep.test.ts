import { beforeEach, describe, expect, it } from 'vitest';
import { fireEvent, render, screen, within } from '@testing-library/svelte';
import ReviewStep from './ReviewStep.svelte';
import { app, resetApp } from '../lib/app.svelte';
import { mockCommands, review, runRecord } from '../test/fixtures';

describe('Review step', () => {
  beforeEach(() => resetApp());

  it('has an empty state without a run', () => {
    render(ReviewStep);
    expect(screen.getByText('Train a model first or open a past run.')).toBeInTheDocument();
  });

  it('shows headline metrics, the per-class table and a clickable heat map', async () => {
    const { calls } = mockCommands({ review_run: () => review() });
    app.runs.list = [runRecord('run-1')];
    app.runs.currentId = 'run-1';
    render(ReviewStep);
    expect(await screen.findByTestId('eval-accuracy')).toHaveTextContent('83.3%');
    expect(calls[0]).toEqual({ cmd: 'review_run', args: { runId: 'run-1' } });

    const table = screen.getByTestId('metrics-table');
    expect(within(table).getAllByRole('row')).toHaveLength(4);
    expect(table).toHaveTextContent('feature');

    // 3×3 cells, counts shown, diagonal marked
    expect(screen.getAllByTestId(/^confusion-cell-/)).toHaveLength(9);
    expect(screen.getByTestId('confusion-cell-0-1')).toHaveTextContent('2');
    expect(screen.getByTestId('confusion-cell-1-1')).toHaveClass('diag');
    expect(screen.getByTestId('confusion-cell-0-1')).not.toHaveClass('diag');

    await fireEvent.click(screen.getByTestId('confusion-cell-0-1'));
    const list = screen.getByTestId('cell-rows');
    const items = within(list).getAllByRole('listitem');
    expect(items).toHaveLength(2);
    // ascending confidence first (least sure at the top), then toggle
    expect(items[0]).toHaveTextContent('add export please');
    await fireEvent.click(screen.getByTestId('sort-confidence'));
    expect(within(screen.getByTestId('cell-rows')).getAllByRole('listitem')[0]).toHaveTextContent('button does nothing');
  });

  it('says when the rows cannot be verified as the run\'s validation rows', async () => {
    mockCommands({
      review_run: () => ({
        ...review(),
        validation: { kind: 'notVerifiable', reason: 'recorded by an older Dialect' },
      }),
    });
    app.runs.list = [runRecord('run-1')];
    app.runs.currentId = 'run-1';
    render(ReviewStep);
    expect(await screen.findByTestId('eval-unverifiable')).toHaveTextContent(
      "Not verifiable: these may not be the run's validation scores. recorded by an older Dialect",
    );
    expect(screen.getByTestId('eval-accuracy')).toBeInTheDocument();
  });

  it('shows no scores when the data file changed since training', async () => {
    mockCommands({
      review_run: () =>
        Promise.reject({ kind: 'dataChanged', message: '/data/tickets.csv: changed since run run-1 trained' }),
    });
    app.runs.list = [runRecord('run-1')];
    app.runs.currentId = 'run-1';
    render(ReviewStep);
    const failed = await screen.findByTestId('eval-failed');
    expect(failed).toHaveTextContent('Data changed since training: no validation scores for this run');
    expect(failed).toHaveTextContent('changed since run run-1 trained');
    expect(screen.queryByTestId('eval-accuracy')).toBeNull();
  });
});
