import { beforeEach, describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import TrainStep from '../TrainStep.svelte';
import { app, resetApp } from '../../lib/app.svelte';
import { devices, inspection, mockCommands, settle } from '../../test/fixtures';

const MINILM = 'sentence-transformers/all-MiniLM-L6-v2';

async function ready() {
  resetApp();
  mockCommands({
    inspect_data: () => inspection(),
    list_models: () => [
      { id: 'distilbert-base-uncased', cached: null, languages: 'english', downloadMb: 270 },
      { id: 'bert-base-uncased', cached: null, languages: null, downloadMb: null },
      { id: MINILM, cached: '/hf/minilm', languages: 'multilingual', downloadMb: 90 },
    ],
    list_devices: () => devices(),
    estimate_training: () => null,
    cancel_estimate: () => null,
    list_runs: () => [],
  });
  await app.data.loadPath('/data/tickets.csv');
  render(TrainStep);
  await settle();
}

describe('The model picker', () => {
  beforeEach(() => resetApp());

  it("shows each preset's languages and download size from the engine", async () => {
    await ready();
    expect(screen.getByTestId('model-languages-distilbert-base-uncased')).toHaveTextContent(/^English$/);
    expect(screen.getByTestId(`model-languages-${MINILM.replace('/', '__')}`)).toHaveTextContent(/^multilingual$/);
    expect(screen.queryByTestId('model-languages-bert-base-uncased')).toBeNull();
    expect(screen.getByTestId('model-option-distilbert-base-uncased')).toHaveTextContent('needs download (≈ 270 MB)');
    expect(screen.getByTestId('model-option-bert-base-uncased')).toHaveTextContent('needs download (size unknown)');
  });
});
