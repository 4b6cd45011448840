import { beforeEach, describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import ReviewStep from './ReviewStep.svelte';
import { app, resetApp } from '../lib/app.svelte';
import { correction, mockCommands, review, runRecord, suspectReport, trust } from '../test/fixtures';
import { multiLabelRecord, multiLabelReview } from '../test/multiLabel';

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

  it('shows calibration and the coverage curve, and a kept threshold updates the cached review', async () => {
    const { calls } = mockCommands({ review_run: () => review(), set_run_threshold: () => null });
    app.runs.list = [runRecord('run-1')];
    app.runs.currentId = 'run-1';
    render(ReviewStep);
    expect(await screen.findByTestId('ece')).toHaveTextContent('8.4% → 2.1%');
    expect(screen.getByTestId('reliability-diagram')).toBeInTheDocument();
    expect(screen.getByTestId('coverage-curve')).toBeInTheDocument();
    expect(screen.getByTestId('threshold-readout')).toHaveTextContent('Handles 44% of tickets automatically at 100.0% accuracy');

    await fireEvent.click(screen.getByTestId('accuracy-90'));
    await fireEvent.click(screen.getByTestId('keep-threshold'));
    await waitFor(() => expect(screen.getByTestId('kept-threshold')).toHaveTextContent('Kept with the model: tickets below 0.85'));
    expect(calls.find((c) => c.cmd === 'set_run_threshold')!.args).toMatchObject({ runId: 'run-1', routing: { threshold: 0.85 } });
    const cached = app.runs.reviews.get('run-1')!;
    expect(cached.trust?.threshold).toBe(0.85);
    expect(cached.trust?.operating).toEqual(trust(0.85).operating);
  });

  it('corrects the tickets of a cell on the run\'s data file, and retrains the run with the corrections', async () => {
    let kept = [correction(9, 'asdf', 'bug', null)];
    const { calls } = mockCommands({
      review_run: () => review(),
      corrections_for: () => ({ corrections: kept }),
      correct_ticket: (a) => {
        kept = [...kept, correction(a.line as number, a.text as string, a.given as string, a.label as string | null)];
        return { corrections: kept };
      },
      retrain_run: () => 'run-2',
      list_runs: () => [runRecord('run-1')],
    });
    app.runs.list = [runRecord('run-1', { data: { ...runRecord('run-1').data, path: '/data/old.csv' } })];
    app.runs.currentId = 'run-1';
    render(ReviewStep);
    const retrain = await screen.findByTestId('retrain-run');
    expect(retrain).toHaveTextContent('Retrain with 1 correction');
    expect(calls.find((c) => c.cmd === 'corrections_for')?.args).toEqual({ path: '/data/old.csv' });

    await fireEvent.click(screen.getByRole('button', { name: 'bug → feature (2)' }));
    const items = within(screen.getByTestId('cell-rows')).getAllByRole('listitem');
    expect(within(items[0]).getByTitle("The ticket's class in the data")).toHaveTextContent('bug');
    await fireEvent.change(within(items[0]).getByTestId('correct-select'), { target: { value: 'feature' } });
    await waitFor(() => expect(within(items[0]).getByTestId('correction-badge')).toHaveTextContent('bug → feature'));
    expect(calls.find((c) => c.cmd === 'correct_ticket')?.args).toEqual({
      path: '/data/old.csv',
      line: 3,
      text: 'add export please',
      given: 'bug',
      label: 'feature',
    });
    expect(within(items[1]).queryByTestId('correction-badge')).toBeNull();
    expect(retrain).toHaveTextContent('Retrain with 2 corrections');
    // Another file than the data file: nothing to check again.
    expect(calls.some((c) => c.cmd === 'inspect_data')).toBe(false);

    await fireEvent.click(retrain);
    await waitFor(() => expect(calls.find((c) => c.cmd === 'retrain_run')?.args).toMatchObject({ runId: 'run-1' }));
    expect(app.step).toBe('train');
    expect(app.trainer.session.runId).toBe('run-2');
  });

  it('finds suspect labels in the run\'s data, and an accepted one counts toward the retrain', async () => {
    let kept: ReturnType<typeof correction>[] = [];
    const { calls } = mockCommands({
      review_run: () => review(),
      find_suspects: () => suspectReport(),
      corrections_for: () => ({ corrections: kept }),
      correct_ticket: (a) => {
        kept = [...kept, correction(a.line as number, a.text as string, a.given as string, a.label as string | null)];
        return { corrections: kept };
      },
    });
    app.runs.list = [runRecord('run-1', { data: { ...runRecord('run-1').data, path: '/data/old.csv' } })];
    app.runs.currentId = 'run-1';
    render(ReviewStep);
    const section = await screen.findByTestId('run-suspects');
    expect(section).toHaveTextContent("Suspect labels in this run's data");
    expect(section).not.toHaveAttribute('open');
    expect(screen.queryByTestId('retrain-run')).toBeNull();

    await fireEvent.click(within(section).getByTestId('find-suspects'));
    expect(await within(section).findByTestId('suspects-summary')).toHaveTextContent('3 of 2,921 tickets');
    expect(section).toHaveAttribute('open');
    expect(calls.find((c) => c.cmd === 'find_suspects')!.args.source).toEqual({ kind: 'run', runId: 'run-1' });

    await fireEvent.click(within(section).getAllByTestId('suspect-accept')[0]);
    expect(await screen.findByTestId('retrain-run')).toHaveTextContent('Retrain with 1 correction');
    expect(calls.find((c) => c.cmd === 'correct_ticket')!.args).toEqual({
      path: '/data/old.csv',
      line: 3,
      text: 'add export please',
      given: 'bug',
      label: 'feature',
    });
  });

    it('offers no retrain without corrections', async () => {
    mockCommands({ review_run: () => review() });
    app.runs.list = [runRecord('run-1')];
    app.runs.currentId = 'run-1';
    render(ReviewStep);
    await screen.findByTestId('eval-accuracy');
    await fireEvent.click(screen.getByTestId('confusion-cell-0-1'));
    expect(within(screen.getByTestId('cell-rows')).getAllByTestId('correct-select')).toHaveLength(2);
    expect(screen.queryByTestId('retrain-run')).toBeNull();
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
  it('scores a multi-label run per label, and hides what scores one class per ticket', async () => {
    mockCommands({
      review_run: () => multiLabelReview(),
      corrections_for: () => ({ corrections: [correction(9, 'asdf', 'card_arrival', null)] }),
    });
    app.runs.list = [multiLabelRecord('run-ml')];
    app.runs.currentId = 'run-ml';
    render(ReviewStep);
    const headline = await screen.findByTestId('set-metrics');
    expect(screen.getByTestId('eval-micro-f1')).toHaveTextContent('98.7%');
    expect(screen.getByTestId('eval-subset-accuracy')).toHaveTextContent('95.8%');
    expect(headline).toHaveTextContent('whole set right');
    expect(screen.getByTestId('eval-macro-f1')).toHaveTextContent('98.7%');

    const table = screen.getByTestId('label-scores');
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows.map((r) => within(r).getAllByRole('cell')[0].textContent)).toEqual([
      'card_arrival',
      'exchange_rate',
      'pending_transfer',
      'top_up_failed',
    ]);
    // label, threshold, precision, recall, F1, support, tp, fp, fn, tn
    expect(within(screen.getByTestId('label-row-pending_transfer')).getAllByRole('cell').map((c) => c.textContent)).toEqual([
      'pending_transfer',
      '0.407',
      '95.2%',
      '100.0%',
      '97.6%',
      '20',
      '20',
      '1',
      '0',
      '27',
    ]);

    // Only the ticket whose set differs (in any order) is listed.
    const wrong = within(screen.getByTestId('set-mistakes')).getAllByRole('listitem');
    expect(wrong).toHaveLength(1);
    expect(wrong[0]).toHaveTextContent('line 150 · true top_up_failed · predicted pending_transfer; top_up_failed');

    expect(screen.getByTestId('multi-label-review-note')).toHaveTextContent('not shown');
    expect(screen.queryByTestId('eval-accuracy')).toBeNull();
    expect(screen.queryAllByTestId(/^confusion-cell-/)).toHaveLength(0);
    expect(screen.queryByTestId('metrics-table')).toBeNull();
    expect(screen.queryByTestId('coverage-curve')).toBeNull();
    expect(screen.queryByTestId('run-suspects')).toBeNull();
    expect(screen.queryByTestId('retrain-run')).toBeNull();
  });
});
