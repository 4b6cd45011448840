import { beforeEach, describe, expect, it } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import LanguageCard from './LanguageCard.svelte';
import { app, resetApp } from '../lib/app.svelte';
import type { LanguageReport } from '../lib/api';
import { catalogue, inspection, mockCommands, settle } from '../test/fixtures';

const MINILM = 'sentence-transformers/all-MiniLM-L6-v2';
const E5 = 'intfloat/multilingual-e5-small';

function report(over: Partial<LanguageReport> = {}): LanguageReport {
  return {
    rowsSampled: 2000,
    undetermined: 120,
    languages: [
      { code: 'eng', name: 'English', rows: 1240, share: 0.66 },
      { code: 'deu', name: 'German', rows: 452, share: 0.24 },
      { code: 'fra', name: 'French', rows: 188, share: 0.1 },
    ],
    notEnglish: 0.34,
    model: { model: MINILM, languages: 'english', source: 'preset', basis: 'a preset' },
    vocabulary: {
      tokens: 48_000,
      unknownShare: 0.004,
      words: 30_000,
      piecesPerWord: 1.62,
      splitShare: 0.11,
      verdict: 'poor',
    },
    vocabularyNote: null,
    advice: {
      message: `34% of the tickets are German, French; all-MiniLM-L6-v2 was pre-trained on English only: consider ${E5} (multilingual)`,
      suggestedModel: E5,
    },
    ...over,
  };
}

describe('language and vocabulary card', () => {
  beforeEach(() => resetApp());

  it('shows the languages, the fit with a verdict, and the advice with a button that chooses the model', async () => {
    const { calls } = mockCommands({
      training_settings: () => ({ ...catalogue(), models: [...catalogue().models, E5] }),
      check_model: () => ({ id: E5, cached: null, languages: 'multilingual', downloadMb: 470 }),
      inspect_data: () => inspection(),
    });
    await app.train.loadCatalogue();
    app.train.presetModel = MINILM;
    app.data.path = '/data/tickets.csv';
    render(LanguageCard, { report: report() });

    expect(screen.getByTestId('language-deu')).toHaveTextContent('German 24%');
    expect(screen.getByTestId('language-model')).toHaveTextContent(`${MINILM}: pre-trained on English only (a preset)`);
    const fit = screen.getByTestId('language-vocabulary');
    expect(fit).toHaveTextContent('poor 0.4% unknown tokens · 1.62 pieces per word · 11.0% of words in 3 or more pieces');
    expect(screen.getByTestId('language-card')).toHaveTextContent('so it will read these tickets badly');
    expect(screen.getByTestId('language-advice')).toHaveTextContent('34% of the tickets are German, French');

    await fireEvent.click(screen.getByTestId('language-use-model'));
    await settle();
    expect(app.train.modelMode).toBe('preset');
    expect(app.train.model).toBe(E5);
    expect(calls.find((c) => c.cmd === 'check_model')?.args).toEqual({ model: E5 });
    // The data is checked again with the chosen model.
    const inspect = calls.find((c) => c.cmd === 'inspect_data');
    expect((inspect?.args.checks as { model: string }).model).toBe(E5);
    expect(screen.getByTestId('language-use-model')).toBeDisabled();
  });

  it('has no advice for English tickets', () => {
    render(LanguageCard, {
      report: report({
        languages: [
          { code: 'eng', name: 'English', rows: 1870, share: 0.995 },
          { code: 'cat', name: 'Catalan', rows: 6, share: 0.003 },
          { code: 'afr', name: 'Afrikaans', rows: 4, share: 0.002 },
        ],
        notEnglish: 0,
        vocabulary: { tokens: 40_000, unknownShare: 0, words: 35_000, piecesPerWord: 1.1, splitShare: 0.01, verdict: 'good' },
        advice: null,
      }),
    });
    // Languages of under 1% (short tickets misread, mostly) get a line, not bars.
    expect(screen.getByTestId('language-eng')).toBeInTheDocument();
    expect(screen.queryByTestId('language-cat')).toBeNull();
    expect(screen.getByTestId('language-scarce')).toHaveTextContent('Catalan (6), Afrikaans (4): under 1% each');
    expect(screen.getByTestId('language-vocabulary')).toHaveTextContent('good');
    expect(screen.getByTestId('language-card')).toHaveTextContent('Fits well');
    expect(screen.queryByTestId('language-advice')).toBeNull();
    expect(screen.queryByTestId('language-use-model')).toBeNull();
  });

  it('says the vocabulary check needs the model on this machine, and still shows the languages', () => {
    const note = `the vocabulary check reads the model's tokenizer, and ${E5} is not on this machine yet: it is measured once the model is downloaded`;
    render(LanguageCard, {
      report: report({
        model: { model: E5, languages: 'multilingual', source: 'preset', basis: 'a preset' },
        vocabulary: null,
        vocabularyNote: note,
        advice: null,
      }),
    });
    expect(screen.getByTestId('language-not-measured')).toHaveTextContent(`Vocabulary not measured: ${note}`);
    expect(screen.queryByTestId('language-vocabulary')).toBeNull();
    expect(screen.getByTestId('language-deu')).toBeInTheDocument();
    expect(screen.getByTestId('language-model')).toHaveTextContent('pre-trained on many languages');
    expect(screen.queryByTestId('language-advice')).toBeNull();
  });
});
