import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import ServePanel from './ServePanel.svelte';
import type { ServiceInfo } from '../lib/api';
import { mockCommands } from '../test/fixtures';

const URL = 'http://127.0.0.1:49152';
const service = (runId = 'run-1'): ServiceInfo => ({ runId, model: runId, url: URL });

describe('serve panel', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('starts the service and shows its URL and a curl request for /v1/classify', async () => {
    const { calls } = mockCommands({ serving: () => null, serve_run: () => service() });
    render(ServePanel, { runId: 'run-1' });
    await waitFor(() => expect(screen.getByTestId('serve-status')).toHaveTextContent('Not served.'));
    expect(screen.queryByTestId('serve-curl')).toBeNull();

    await fireEvent.click(screen.getByTestId('serve-start'));
    await waitFor(() => expect(screen.getByTestId('serve-url')).toHaveTextContent(URL));
    expect(calls.find((c) => c.cmd === 'serve_run')?.args).toEqual({ runId: 'run-1', port: null });
    expect(screen.getByTestId('serve-status')).toHaveTextContent(`Serving on ${URL}`);
    expect(screen.getByTestId('serve-curl')).toHaveTextContent(
      `curl -s ${URL}/v1/classify -H 'Content-Type: application/json' -d '{"text":"my invoice is wrong"}'`,
    );
    expect(screen.queryByTestId('serve-start')).toBeNull();
  });

  it('serves on the port asked for, and refuses one out of range', async () => {
    const { calls } = mockCommands({ serving: () => null, serve_run: () => service() });
    render(ServePanel, { runId: 'run-1' });
    const port = await screen.findByTestId('serve-port');
    await fireEvent.input(port, { target: { value: '70000' } });
    expect(screen.getByTestId('serve-port-error')).toHaveTextContent('from 1 to 65535');
    expect(screen.getByTestId('serve-start')).toBeDisabled();
    await fireEvent.input(port, { target: { value: '8765' } });
    expect(screen.queryByTestId('serve-port-error')).toBeNull();
    await fireEvent.click(screen.getByTestId('serve-start'));
    await waitFor(() => expect(screen.getByTestId('serve-url')).toHaveTextContent(URL));
    expect(calls.find((c) => c.cmd === 'serve_run')?.args).toEqual({ runId: 'run-1', port: 8765 });
  });

  it('copies the curl request', async () => {
    const writeText = vi.fn(() => Promise.resolve());
    vi.stubGlobal('navigator', { clipboard: { writeText } });
    mockCommands({ serving: () => service() });
    render(ServePanel, { runId: 'run-1' });
    await fireEvent.click(await screen.findByTestId('serve-copy'));
    expect(writeText).toHaveBeenCalledWith(screen.getByTestId('serve-curl').textContent);
    await waitFor(() => expect(screen.getByTestId('serve-copy')).toHaveTextContent('Copied'));
  });

  it('stops the service it finds serving this run', async () => {
    const { calls } = mockCommands({ serving: () => service(), stop_serving: () => null });
    render(ServePanel, { runId: 'run-1' });
    await fireEvent.click(await screen.findByTestId('serve-stop'));
    await waitFor(() => expect(screen.getByTestId('serve-status')).toHaveTextContent('Not served.'));
    expect(calls.map((c) => c.cmd)).toContain('stop_serving');
    expect(screen.queryByTestId('serve-url')).toBeNull();
    expect(screen.queryByTestId('serve-curl')).toBeNull();
    expect(screen.getByTestId('serve-start')).toHaveTextContent('Start');
  });

  it('says which other run is served, and offers to serve this one instead', async () => {
    mockCommands({ serving: () => service('run-0') });
    render(ServePanel, { runId: 'run-1' });
    await waitFor(() => expect(screen.getByTestId('serve-status')).toHaveTextContent(`run run-0 is served on ${URL}`));
    expect(screen.getByTestId('serve-start')).toHaveTextContent('Serve this model instead');
    expect(screen.queryByTestId('serve-curl')).toBeNull();
  });

  it('shows a failed start as a message and stays stopped', async () => {
    mockCommands({
      serving: () => null,
      serve_run: () => Promise.reject({ kind: 'io', message: 'cannot listen on 127.0.0.1:8080: address in use', settings: [] }),
    });
    render(ServePanel, { runId: 'run-1' });
    await fireEvent.click(await screen.findByTestId('serve-start'));
    await waitFor(() =>
      expect(screen.getByTestId('serve-error')).toHaveTextContent('cannot listen on 127.0.0.1:8080: address in use'),
    );
    expect(screen.getByTestId('serve-status')).toHaveTextContent('Not served.');
    expect(screen.getByTestId('serve-start')).not.toBeDisabled();
  });
});
