import { describe, expect, it } from 'vitest';
import { classesByProbability, direction, effectSentence, largestEffect, strength, tint, topWords } from './explain';
import { explanation, explanationOf } from '../test/explanation';

describe('reading an explanation', () => {
  it('scales a tint by the share of the largest effect, and leaves no effect untinted', () => {
    expect(tint(2, 2)).toBe('rgba(37, 99, 235, 0.550)');
    expect(tint(-0.5, 2)).toBe('rgba(234, 88, 12, 0.275)'); // a quarter of the effect: half the tint
    expect(tint(0, 2)).toBe('transparent');
    expect(tint(0.03, 2)).toBe('transparent');
    // Nothing to scale by: no tint, whatever the score.
    expect(tint(1, 0)).toBe('transparent');
    expect(strength(Number.NaN, 1)).toBe(0);
    expect(strength(-3, 2)).toBe(1);
    expect([direction(0.2), direction(-0.2), direction(0)]).toEqual(['toward', 'away', null]);
  });

  it("reads one class's scores out of every class's", () => {
    const e = explanation();
    const word = (t: string) => e.words.findIndex((w) => w.text === t);
    expect(largestEffect(e, 0)).toBeCloseTo(Math.log(0.8 / 0.3), 9);
    expect(largestEffect(e, 1)).toBeCloseTo(Math.log(0.55 / 0.15), 9);
    expect(topWords(e, 0, 'toward')).toEqual([word('crashes'), word('export'), word('app')]);
    expect(topWords(e, 0, 'away', 2)).toEqual([word('please'), word('!')]);
    expect(topWords(e, 1, 'toward')).toEqual([word('please'), word('!'), word(',')]);
    expect(effectSentence(e, word('crashes'), 2)).toBe('without ‘crashes’: billing 5.0% → 15.0% (the model would say feature)');
    expect(classesByProbability(e).map((c) => [c.index, c.label])).toEqual([
      [0, 'bug'],
      [1, 'feature'],
      [2, 'billing'],
    ]);
  });

  it('ranks ties in text order and leaves out words with no push that way', () => {
    const e = explanationOf(
      [['a', [0.4, 0.6]], ' ', ['b', [0.4, 0.6]], ' ', ['c', [0.5, 0.5]]],
      ['x', 'y'],
      [0.5, 0.5],
    );
    expect(topWords(e, 0, 'toward')).toEqual([0, 1]);
    expect(topWords(e, 0, 'away')).toEqual([]);
    expect(topWords(e, 1, 'away')).toEqual([0, 1]);
  });
});
