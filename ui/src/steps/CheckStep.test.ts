import { beforeEach, describe, expect, it } from 'vitest';
import { fireEvent, render, screen, within } from '@testing-library/svelte';
import CheckStep from './CheckStep.svelte';
import { app, resetApp } from '../lib/app.svelte';
import { catalogue, inspection, mockCommands, piiSurvey, suspectReport } from '../test/fixtures';

describe('Check step', () => {
  beforeEach(() => resetApp());

  it('groups findings by severity, loads example rows, and asks for the override', async () => {
    const { calls } = mockCommands({
      inspect_data: () =>
        inspection({
          findings: [
            { code: 'class_too_small_to_split', severity: 'blocking', count: 1, message: "class 'spam' has 1 example", lines: [7], fix: 'merge it', setting: 'labelMap' },
            { code: 'exact_duplicates', severity: 'warning', count: 3, message: '3 duplicate texts', lines: [4, 9], fix: 'remove them', setting: null },
            { code: 'class_imbalance', severity: 'info', count: 6, message: 'classes are imbalanced', lines: [], fix: 'use macro-F1', setting: 'bestMetric' },
          ],
          classCounts: [['Bug', 45], ['spam', 1]],
        }),
      row_texts: (a) =>
        (a.lines as number[]).map((line) => ({ line, text: `text of line ${line}`, label: line === 9 ? 'Bug' : null })),
      correct_ticket: (a) => ({ corrections: [{ line: a.line, hash: 'h9', text: a.text, given: a.given, label: a.label }] }),
    });
    await app.train.loadCatalogue();
    await app.data.loadPath('/data/tickets.csv');
    render(CheckStep);
    await new Promise((r) => setTimeout(r, 10));

    const blocking = screen.getByTestId('finding-class_too_small_to_split');
    expect(blocking).toHaveTextContent('merge it · Label map');
    expect(screen.getByTestId('finding-class_imbalance')).toHaveTextContent('use macro-F1 · Best model by');
    expect(blocking).toHaveClass('sev-border-blocking');
    expect(screen.getByTestId('finding-exact_duplicates')).toHaveTextContent('warning');
    expect(screen.getByTestId('finding-class_imbalance')).toHaveTextContent('info');

    await fireEvent.click(within(screen.getByTestId('finding-exact_duplicates')).getByRole('button', { name: /Example rows/ }));
    expect(await screen.findByText('text of line 9')).toBeInTheDocument();
    expect(calls.find((c) => c.cmd === 'row_texts')!.args).toMatchObject({
      path: '/data/tickets.csv',
      text: ['body'],
      lines: [4, 9],
      labelColumn: app.data.labelColumn,
    });
    // A row with a class (after the mapping) can be corrected in place; a dropped one cannot.
    const rows = within(screen.getByTestId('finding-exact_duplicates')).getAllByRole('row');
    expect(within(rows[0]).queryByTestId('correct-select')).toBeNull();
    await fireEvent.change(within(rows[1]).getByTestId('correct-select'), { target: { value: 'spam' } });
    await new Promise((r) => setTimeout(r, 10));
    expect(calls.find((c) => c.cmd === 'correct_ticket')!.args).toEqual({
      path: '/data/tickets.csv',
      line: 9,
      text: 'text of line 9',
      given: 'Bug',
      label: 'spam',
    });

    expect(app.trainer.blocker).toMatch(/blocking/);
    await fireEvent.click(screen.getByTestId('override-blocking'));
    expect(app.data.override).toBe(true);
    expect(app.trainer.blocker).toBeNull();
    expect(screen.getByTestId('check-balance')).toHaveTextContent('45');
  });

  it('applies the strong-imbalance advice to the Train form with one click', async () => {
    mockCommands({
      inspect_data: () =>
        inspection({
          findings: [
            { code: 'class_imbalance', severity: 'warning', count: 12, message: "classes are imbalanced: 'card' has 300 rows, 'refund' has 3 (100.0:1)", lines: [], fix: 'train with class weights (effective) and pick the best epoch by macro-F1', setting: 'classWeights' },
          ],
          classCounts: [['card', 300], ['refund', 3]],
        }),
    });
    await app.train.loadCatalogue();
    await app.data.loadPath('/data/tickets.csv');
    render(CheckStep);
    await new Promise((r) => setTimeout(r, 10));
    const finding = screen.getByTestId('finding-class_imbalance');
    expect(finding).toHaveTextContent('macro-F1 · Class weights');
    const settings = app.train.settings!;
    expect(settings.hyper.classWeights).toBe('none');
    expect(settings.hyper.bestMetric).toBe('accuracy');

    const button = within(finding).getByTestId('apply-imbalance-advice');
    expect(button).toHaveTextContent('Use class weights and macro-F1 for training');
    await fireEvent.click(button);
    await new Promise((r) => setTimeout(r, 10));
    expect(settings.hyper.classWeights).toBe('effective');
    expect(settings.hyper.bestMetric).toBe('macroF1');
    expect(settings.preset).toBeNull();
    expect(settings.config('m')).toMatchObject({ classWeights: 'effective', bestMetric: 'macroF1' });
    expect(button).toBeDisabled();
    expect(button).toHaveTextContent('are set for training');
  });

  it('offers no class-weights button for mild imbalance', async () => {
    mockCommands({
      inspect_data: () =>
        inspection({
          findings: [
            { code: 'class_imbalance', severity: 'info', count: 2, message: 'classes are imbalanced (4.0:1)', lines: [], fix: 'pick the best model by macro-F1', setting: 'bestMetric' },
          ],
        }),
    });
    await app.data.loadPath('/data/tickets.csv');
    render(CheckStep);
    await new Promise((r) => setTimeout(r, 10));
    expect(screen.getByTestId('finding-class_imbalance')).toBeInTheDocument();
    expect(screen.queryByTestId('apply-imbalance-advice')).toBeNull();
  });

  it('does not call unmeasured checks clean: it lists them, and sends the model and split to measure with', async () => {
    const clean = inspection({ findings: [] });
    clean.report!.notMeasured = [
      { code: 'truncation', reason: 'distilbert-base-uncased is not on this machine yet' },
    ];
    // The split's seed is the engine's, not the training seed.
    const engine = catalogue();
    const { calls } = mockCommands({
      inspect_data: () => clean,
      training_settings: () => ({ ...engine, split: { ...engine.split, seed: 7 } }),
    });
    await app.train.loadCatalogue();
    const settings = app.train.settings!;
    settings.hyper = { ...settings.hyper, validationFraction: 0.2, seed: 3, maxLength: 64 };
    await app.data.loadPath('/data/tickets.csv');
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

  it('shows the personal data found, and a new file starts with none replaced', async () => {
    const example = { line: 4, text: 'Regards, Anna', spans: [{ kind: 'name' as const, start: 9, end: 13 }], cutStart: false, cutEnd: false };
    mockCommands({ inspect_data: () => inspection({ pii: piiSurvey(106, [{ kind: 'name', tickets: 2, examples: [example] }]) }) });
    await app.data.loadPath('/data/tickets.csv');
    render(CheckStep);
    await new Promise((r) => setTimeout(r, 10));
    expect(screen.getByTestId('pii-card')).toHaveTextContent('Personal data in 106 tickets');
    expect(screen.getByTestId('pii-kind-name')).toHaveTextContent('names 2 tickets 1.9%');
    await fireEvent.click(screen.getByTestId('pii-scrub-name'));
    expect(app.data.scrub).toEqual(['name']);

    mockCommands({ inspect_data: () => inspection({ pii: piiSurvey(106) }) });
    await app.data.loadPath('/data/other.csv');
    await new Promise((r) => setTimeout(r, 10));
    expect(app.data.scrub).toEqual([]);
    expect(screen.getByTestId('pii-card')).toHaveTextContent('No personal data found in 106 tickets.');
  });

  it('finds suspect labels in the data file as training would read it, with the chosen model', async () => {
    const { calls } = mockCommands({
      inspect_data: () => inspection(),
      find_suspects: () => suspectReport(),
      correct_ticket: () => ({ corrections: [] }),
    });
    await app.data.loadPath('/data/tickets.csv');
    render(CheckStep);
    await new Promise((r) => setTimeout(r, 10));
    // No model before the training settings are in.
    expect(screen.getByTestId('find-suspects')).toBeDisabled();
    expect(screen.getByTestId('suspects-unavailable')).toHaveTextContent('Choose a model on the Train step.');

    await app.train.loadCatalogue();
    app.train.settings!.hyper = { ...app.train.settings!.hyper, maxLength: 64 };
    await new Promise((r) => setTimeout(r, 10));
    await fireEvent.click(screen.getByTestId('find-suspects'));
    expect(await screen.findByTestId('suspects-summary')).toHaveTextContent('3 of 2,921 tickets look mislabelled');
    expect(calls.find((c) => c.cmd === 'find_suspects')!.args.source).toEqual({
      kind: 'file',
      path: '/data/tickets.csv',
      text: ['body'],
      labelColumn: 'category',
      labelMap: app.labels.labelMap,
      model: 'distilbert-base-uncased',
      maxLength: 64,
    });
    expect(app.labels.labelMap).not.toBeNull();

    // Accepting corrects the data file's ticket.
    await fireEvent.click(screen.getAllByTestId('suspect-accept')[0]);
    await new Promise((r) => setTimeout(r, 10));
    expect(calls.find((c) => c.cmd === 'correct_ticket')!.args).toMatchObject({ path: '/data/tickets.csv', line: 3, label: 'feature' });

    // Another label column is another source: its search is still to run.
    app.data.setLabelColumn('subject');
    await new Promise((r) => setTimeout(r, 10));
    expect(screen.queryByTestId('suspects-summary')).toBeNull();
    expect(screen.getByTestId('find-suspects')).toBeEnabled();
  });

    it('says why there is no report, naming the setting by its label', async () => {
    const none = { ...inspection(), report: null };
    none.note = { message: 'no label column could be recognised: pick one', setting: 'labelColumn' };
    mockCommands({ inspect_data: () => none });
    await app.train.loadCatalogue();
    await app.data.loadPath('/data/tickets.csv');
    render(CheckStep);
    expect(screen.getByText(/no label column could be recognised/)).toHaveTextContent(
      'Label: no label column could be recognised: pick one',
    );
  });

  it('offers Cancel while a check runs, and keeps the last report when it is cancelled', async () => {
    let release: (v: unknown) => void = () => {};
    mockCommands({ inspect_data: () => inspection({ findings: [] }) });
    await app.data.loadPath('/data/tickets.csv');
    const { calls } = mockCommands({
      inspect_data: () => new Promise((r) => (release = r)),
      cancel_inspection: () => {
        release(null);
        return null;
      },
    });
    render(CheckStep); // the board's map differs from the first check's: it checks again
    await new Promise((r) => setTimeout(r, 10));
    expect(app.data.inspecting).toBe(true);
    await fireEvent.click(screen.getByTestId('cancel-check'));
    await new Promise((r) => setTimeout(r, 10));
    expect(app.data.inspecting).toBe(false);
    expect(app.data.inspection?.report?.findings).toEqual([]);
    expect(calls.map((c) => c.cmd)).toEqual(['inspect_data', 'cancel_inspection']);
  });
});
