import { beforeEach, describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import App from './App.svelte';
import { app, resetApp } from './lib/app.svelte';
import { notify } from './lib/notify.svelte';
import { inspection, mockCommands, runRecord } from './test/fixtures';

describe('App', () => {
  beforeEach(() => {
    resetApp();
    notify.reset();
  });

  it('shows the version, offline badge, steps and past runs', async () => {
    mockCommands({
      app_info: () => ({ version: '1.2.3', runsDir: '/runs', offline: true }),
      list_runs: () => [runRecord('run-9')],
      attach_training: () => null,
    });
    render(App);
    expect(await screen.findByText('v1.2.3')).toBeInTheDocument();
    expect(screen.getByTestId('offline-badge')).toHaveTextContent('offline');
    for (const s of ['data', 'labels', 'check', 'train', 'review', 'try', 'runs']) {
      expect(screen.getByTestId(`nav-${s}`)).toBeInTheDocument();
    }
    await fireEvent.click(await screen.findByTestId('run-item-run-9'));
    expect(app.step).toBe('runs');
    expect(app.runs.openId).toBe('run-9');
  });

  it('shows a rejected command in the error banner', async () => {
    mockCommands({
      app_info: () => ({ version: '1.2.3', runsDir: '/runs', offline: false }),
      list_runs: () => [],
      attach_training: () => null,
      pick_data_file: () => '/data/broken.csv',
      inspect_data: () => Promise.reject({ kind: 'data', message: '/data/broken.csv: line 3 has 4 fields, the header has 3' }),
    });
    render(App);
    await fireEvent.click(screen.getByTestId('choose-file'));
    const banner = await screen.findByTestId('error-banner');
    expect(banner).toHaveTextContent('line 3 has 4 fields, the header has 3');
    expect(banner).toHaveTextContent('Could not read the data file');
    // the window stays usable
    await fireEvent.click(screen.getByTestId('nav-labels'));
    expect(screen.getByText('No labels yet')).toBeInTheDocument();
    await fireEvent.click(screen.getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByTestId('error-banner')).toBeNull();
  });

  it('says why a file has no report, naming the picker by its label', async () => {
    const noText = { ...inspection(), text: null, report: null };
    noText.note = { message: 'no text column could be recognised: pick one', setting: 'textColumn' };
    mockCommands({
      app_info: () => ({ version: '1.2.3', runsDir: '/runs', offline: false }),
      list_runs: () => [],
      attach_training: () => null,
      pick_data_file: () => '/data/tickets.csv',
      inspect_data: () => noText,
    });
    render(App);
    await waitFor(() => expect(app.train.settings).not.toBeNull());
    await fireEvent.click(screen.getByTestId('choose-file'));
    expect(await screen.findByText(/no text column could be recognised: pick one/)).toHaveTextContent(
      'Ticket text: no text column could be recognised: pick one',
    );
  });

  it('marks Check done only once Labels is', async () => {
    mockCommands({
      app_info: () => ({ version: '1.2.3', runsDir: '/runs', offline: false }),
      list_runs: () => [],
      attach_training: () => null,
      pick_data_file: () => '/data/tickets.csv',
      inspect_data: () => inspection(),
    });
    render(App);
    await waitFor(() => expect(app.train.settings).not.toBeNull());
    await fireEvent.click(screen.getByTestId('choose-file'));
    await waitFor(() => expect(screen.getByTestId('nav-data')).toHaveTextContent('✓'));
    expect(app.data.inspection?.report).toBeTruthy();
    expect(screen.getByTestId('nav-labels')).not.toHaveTextContent('✓');
    expect(screen.getByTestId('nav-check')).not.toHaveTextContent('✓');
  });

  it('names the settings that can fix an error by their labels', async () => {
    mockCommands({
      app_info: () => ({ version: '1.2.3', runsDir: '/runs', offline: false }),
      list_runs: () => [],
      attach_training: () => null,
      pick_data_file: () => '/data/tickets.csv',
      inspect_data: () =>
        Promise.reject({ kind: 'data', message: "/data/tickets.csv: no column 'text'", settings: ['textColumn', 'labelColumn'] }),
    });
    render(App);
    await waitFor(() => expect(app.train.settings).not.toBeNull());
    await fireEvent.click(screen.getByTestId('choose-file'));
    expect(await screen.findByTestId('error-settings')).toHaveTextContent('Check: Ticket text, Label');
  });

  it('loads the sample data and shows its profile', async () => {
    const { calls } = mockCommands({
      app_info: () => ({ version: '1.2.3', runsDir: '/runs', offline: false }),
      list_runs: () => [],
      attach_training: () => null,
      sample_data: () => ({ path: '/app/samples/banking77.csv', name: 'Banking77', attribution: 'CC BY 4.0, PolyAI' }),
      inspect_data: () => inspection(),
    });
    render(App);
    await fireEvent.click(screen.getByTestId('sample-data'));
    await waitFor(() => expect(screen.getByTestId('profile-rows')).toHaveTextContent('100'));
    expect(screen.getByText(/CC BY 4.0, PolyAI/)).toBeInTheDocument();
    expect(calls.find((c) => c.cmd === 'inspect_data')!.args).toEqual({
      path: '/app/samples/banking77.csv',
      text: null,
      labelColumn: null,
      labelMap: null,
      checks: { model: 'distilbert-base-uncased', maxLength: 128, split: { validationFraction: 0.1, seed: 42, maxRows: null } },
      labelForm: { kind: 'single' },
    });
    expect(screen.getByTestId('text-column-select')).toHaveValue('body');
    expect(screen.getByTestId('label-column-select')).toHaveValue('category');

    // two text columns, in order
    await fireEvent.change(screen.getByTestId('text-column-select'), { target: { value: 'subject' } });
    await waitFor(() => expect(app.data.textColumns).toEqual(['subject']));
    await fireEvent.change(screen.getByTestId('text-column-add'), { target: { value: 'body' } });
    await waitFor(() => expect(app.data.textColumns).toEqual(['subject', 'body']));
    const last = calls.filter((c) => c.cmd === 'inspect_data').pop()!;
    expect(last.args.text).toEqual(['subject', 'body']);
    expect(last.args.labelColumn).toBe('category');
  });
});
