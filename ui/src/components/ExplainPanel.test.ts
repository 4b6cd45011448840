import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import ExplainPanel from './ExplainPanel.svelte';
import type { Explanation } from '../lib/api';
import { notify } from '../lib/notify.svelte';
import { mockCommands } from '../test/fixtures';
import { explanation } from '../test/explanation';

const TEXT = 'The app crashes  when I export,\nplease fix!';

/** Each word span's text, score and tint (colour, opacity), in text order. */
function shownWords() {
  return screen.getAllByTestId('explain-word').map((el) => {
    const m = el.style.backgroundColor.match(/rgba?\((\d+), (\d+), (\d+)(?:, ([\d.]+))?\)/);
    return {
      text: el.textContent,
      score: Number(el.dataset.score),
      rgb: m ? `${m[1]},${m[2]},${m[3]}` : null,
      alpha: m ? Number(m[4] ?? 1) : 0,
      dir: el.dataset.dir ?? null,
      title: el.getAttribute('title'),
    };
  });
}

const BLUE = '37,99,235';
const ORANGE = '234,88,12';

function setup(e: Explanation = explanation(), props: Record<string, unknown> = {}) {
  const mock = mockCommands({ explain: () => e });
  const view = render(ExplainPanel, { runId: 'run-1', text: TEXT, precision: null, maxLength: 128, ...props });
  return { ...mock, view };
}

describe('explanation panel', () => {
  beforeEach(() => notify.reset());
  afterEach(() => vi.useRealTimers());

  it('tints each word by its score for the predicted class: blue toward, orange away, growing with its share of the largest', async () => {
    const { calls } = setup();
    await screen.findByTestId('explain-text', {}, { timeout: 2000 });
    expect(calls).toEqual([{ cmd: 'explain', args: { runId: 'run-1', text: TEXT, precision: null } }]);
    expect(screen.getByTestId('explain-class')).toHaveValue('bug');
    expect(screen.getByTestId('explain-asked')).toHaveTextContent('toward bug (80.0%, the predicted class) and away from it.');

    const words = shownWords();
    expect(words.map((w) => w.text)).toEqual(['The', 'app', 'crashes', 'when', 'I', 'export', ',', 'please', 'fix', '!']);
    const e = explanation();
    words.forEach((w, i) => expect(w.score).toBeCloseTo(e.words[i].scores[0], 6));
    const by = (t: string) => words.find((w) => w.text === t)!;
    // The strongest word has the full tint; the others grow with the square root of their share of it.
    expect(by('crashes')).toMatchObject({ rgb: BLUE, dir: 'toward' });
    expect(by('crashes').alpha).toBeCloseTo(0.55, 3);
    expect(by('export').rgb).toBe(BLUE);
    expect(by('export').alpha).toBeCloseTo(0.55 * Math.sqrt(by('export').score / by('crashes').score), 2);
    expect(by('please')).toMatchObject({ rgb: ORANGE, dir: 'away' });
    expect(by('please').alpha).toBeCloseTo(0.55 * Math.sqrt(-by('please').score / by('crashes').score), 2);
    expect(by('export').alpha).toBeGreaterThan(by('app').alpha);
    // No effect, no tint.
    expect(by('I')).toMatchObject({ score: 0, rgb: null, dir: null });
    // Strong words are underlined too (colour is not the only cue).
    const el = (t: string) => screen.getAllByTestId('explain-word').find((w) => w.textContent === t)!;
    expect(el('crashes')).toHaveClass('marked', 'strong');
    expect(el('export')).toHaveClass('marked');
    expect(el('export')).not.toHaveClass('strong');
    expect(el('please')).not.toHaveClass('marked'); // a seventh of the largest effect
    expect(el('app')).toHaveClass('marked'); // 0.29 of it
    expect(el('when')).not.toHaveClass('marked');

    expect(by('crashes').title).toBe('without ‘crashes’: bug 80.0% → 30.0% (the model would say feature)');
    expect(by('fix').title).toBe('without ‘fix’: bug 80.0% → 65.0%');
  });

  it('gives the text back whole, its whitespace included', async () => {
    setup();
    const text = await screen.findByTestId('explain-text', {}, { timeout: 2000 });
    expect(text.textContent).toBe(TEXT);
    expect(explanation().pieces.map((p) => p.text).join('')).toBe(TEXT);
  });

  it('lists the three words pushing most each way, in plain words', async () => {
    setup();
    const toward = await screen.findByTestId('explain-toward', {}, { timeout: 2000 });
    const items = (id: string) => [...screen.getByTestId(id).querySelectorAll('li')].map((li) => li.textContent!.trim());
    expect(toward).toHaveTextContent('Most toward bug');
    expect(items('explain-toward')).toEqual([
      'crashes without ‘crashes’: bug 80.0% → 30.0% (the model would say feature)',
      'export without ‘export’: bug 80.0% → 55.0%',
      'app without ‘app’: bug 80.0% → 60.0%',
    ]);
    expect(items('explain-away')).toEqual([
      'please without ‘please’: bug 80.0% → 92.0%',
      '! without ‘!’: bug 80.0% → 83.0%',
      ', without ‘,’: bug 80.0% → 81.0%',
    ]);
  });

  it('asks about another class without a new call', async () => {
    const { calls } = setup();
    const select = await screen.findByTestId('explain-class', {}, { timeout: 2000 });
    const options = [...(select as HTMLSelectElement).options].map((o) => o.textContent);
    expect(options).toEqual(['bug — 80.0% (predicted)', 'feature — 15.0%', 'billing — 5.0%']);
    const before = shownWords();

    await fireEvent.change(select, { target: { value: 'feature' } });
    const after = shownWords();
    const e = explanation();
    after.forEach((w, i) => expect(w.score).toBeCloseTo(e.words[i].scores[1], 6));
    expect(after.find((w) => w.text === 'crashes')).toMatchObject({ rgb: ORANGE, dir: 'away' });
    expect(after.find((w) => w.text === 'crashes')!.alpha).toBeCloseTo(0.55, 3);
    expect(after.find((w) => w.text === 'please')).toMatchObject({ rgb: BLUE, dir: 'toward' });
    expect(after.find((w) => w.text === 'please')!.title).toBe('without ‘please’: feature 15.0% → 5.0%');
    expect(after.map((w) => w.score)).not.toEqual(before.map((w) => w.score));
    expect(screen.getByTestId('explain-asked')).toHaveTextContent('toward feature (15.0%) and away from it.');
    expect(screen.getByTestId('explain-toward')).toHaveTextContent('Most toward feature');
    expect(calls).toHaveLength(1);

    await fireEvent.click(screen.getByTestId('explain-predicted'));
    expect(screen.getByTestId('explain-class')).toHaveValue('bug');
    expect(calls).toHaveLength(1);
  });

  it('greys the text past the max length and says how much the model reads', async () => {
    setup(explanation(' and more text the model never read'));
    const text = await screen.findByTestId('explain-text', {}, { timeout: 2000 });
    const cut = text.querySelector('.cut')!;
    expect(cut).toHaveTextContent('and more text the model never read');
    expect(cut.getAttribute('data-testid')).toBeNull();
    expect(text.textContent).toBe(TEXT + ' and more text the model never read');
    expect(screen.getByTestId('explain-cut')).toHaveTextContent('The model reads the first 128 tokens: the greyed text after them was not read');
  });

  it('explains once the text has stayed, one call at a time, and drops answers for older texts', async () => {
    const answers: Record<string, (e: Explanation) => void> = {};
    const { calls } = mockCommands({
      explain: (a) => new Promise<Explanation>((resolve) => (answers[a.text as string] = resolve)),
    });
    const view = render(ExplainPanel, { runId: 'run-1', text: 'first', precision: null });
    expect(screen.getByTestId('explain-status')).toHaveTextContent('Explaining…');
    // Being edited: nothing is sent.
    await view.rerender({ runId: 'run-1', text: 'first', precision: null, stale: true });
    await new Promise((r) => setTimeout(r, 400));
    expect(calls).toHaveLength(0);

    await view.rerender({ runId: 'run-1', text: 'first', precision: null, stale: false });
    await waitFor(() => expect(calls).toHaveLength(1), { timeout: 1000 });
    // A newer text while the first is in flight waits for it.
    await view.rerender({ runId: 'run-1', text: 'second', precision: null, stale: false });
    await new Promise((r) => setTimeout(r, 400));
    expect(calls).toHaveLength(1);
    answers.first(explanation());
    await waitFor(() => expect(calls).toHaveLength(2));
    expect(calls[1].args.text).toBe('second');
    // The first answer is stale: not shown.
    expect(screen.queryByTestId('explain-text')).toBeNull();
    answers.second(explanation());
    await waitFor(() => expect(screen.getByTestId('explain-text')).toHaveTextContent('crashes'));
    expect(screen.queryByTestId('explain-status')).toBeNull();

    // A new precision explains again; the same text and precision does not.
    await view.rerender({ runId: 'run-1', text: 'second', precision: 'f32', stale: false });
    await waitFor(() => expect(calls).toHaveLength(3), { timeout: 1000 });
    expect(calls[2].args).toEqual({ runId: 'run-1', text: 'second', precision: 'f32' });
  });

  it('shows a failed explanation in the error banner and says so in the panel', async () => {
    mockCommands({ explain: () => Promise.reject({ kind: 'model', message: 'the model folder is missing weights' }) });
    render(ExplainPanel, { runId: 'run-1', text: TEXT });
    await waitFor(() => expect(screen.getByTestId('explain-status')).toHaveTextContent('Could not explain this text'), {
      timeout: 2000,
    });
    expect(notify.errors.map((e) => e.message)).toContain('the model folder is missing weights');
    expect(notify.errors[0].title).toBe('Could not explain the prediction');
  });

  it('shows nothing without a text', () => {
    const { calls } = setup(explanation(), { text: '  ' });
    expect(screen.queryByTestId('explain-panel')).toBeNull();
    expect(calls).toHaveLength(0);
  });
});
