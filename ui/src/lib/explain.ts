// Reading an explanation (src/explain.rs): each word's score for a class is
// ln p(class | text) − ln p(class | text without the word), so positive pushed the ticket
// toward the class and negative away from it. One explanation holds every class's
// scores: asking about another class only reads it differently.

import type { Explanation } from './api';
import { pct } from './trainSession.svelte';

/** Which way a word pushed the ticket for a class. */
export type Direction = 'toward' | 'away';

/** The tints, as RGB: blue toward the class, orange away from it (told apart with red–green colour blindness too). */
const TOWARD_RGB = '37, 99, 235';
const AWAY_RGB = '234, 88, 12';
/** The strongest word's tint opacity; the others scale down from it. */
const MAX_ALPHA = 0.55;
/** Below this strength a word is left untinted: its effect does not show. */
const VISIBLE = 0.02;
/** From this strength a word is also underlined (solid toward, dotted away), so colour is not the only cue. */
export const MARKED = 0.25;

/** The largest |score| of any word for class `cls` (0 without words). */
export function largestEffect(e: Explanation, cls: number): number {
  let largest = 0;
  for (const w of e.words) {
    const s = Math.abs(w.scores[cls] ?? 0);
    if (Number.isFinite(s) && s > largest) largest = s;
  }
  return largest;
}

/** `score`'s size relative to the largest in the explanation, in [0, 1]. */
export function strength(score: number, largest: number): number {
  if (!(largest > 0) || !Number.isFinite(score)) return 0;
  return Math.min(1, Math.abs(score) / largest);
}

/** Which way `score` pushed: null when not at all. */
export function direction(score: number): Direction | null {
  return score > 0 ? 'toward' : score < 0 ? 'away' : null;
}

/** A word's background for `score`: blue toward, orange away, its opacity growing with its share of the largest
 * effect (as the square root, so that a word with a quarter of the largest effect still shows, half as strong). */
export function tint(score: number, largest: number): string {
  const s = strength(score, largest);
  const dir = direction(score);
  if (!dir || s < VISIBLE) return 'transparent';
  return `rgba(${dir === 'toward' ? TOWARD_RGB : AWAY_RGB}, ${(MAX_ALPHA * Math.sqrt(s)).toFixed(3)})`;
}

/** The `n` words pushing most `dir` for class `cls` (word indices, strongest first; ties in text order). */
export function topWords(e: Explanation, cls: number, dir: Direction, n = 3): number[] {
  const sign = dir === 'toward' ? 1 : -1;
  return e.words
    .map((w, i) => ({ i, s: sign * (w.scores[cls] ?? 0) }))
    .filter((w) => w.s > 0)
    .sort((a, b) => b.s - a.s || a.i - b.i)
    .slice(0, n)
    .map((w) => w.i);
}

/** Index of the largest value (the first of equals). */
function argmax(xs: number[]): number {
  let best = 0;
  xs.forEach((x, i) => {
    if (x > xs[best]) best = i;
  });
  return best;
}

/** What deleting word `word` does to class `cls`, in plain words: "without ‘crash’: bug 92.0% → 40.0%", and
 * which class the model would then predict when that changes. */
export function effectSentence(e: Explanation, word: number, cls: number): string {
  const w = e.words[word];
  const without = w.probabilitiesWithout;
  let sentence = `without ‘${w.text}’: ${e.labels[cls]} ${pct(e.probabilities[cls])} → ${pct(without[cls])}`;
  const then = argmax(without);
  if (without.length && then !== e.predicted) sentence += ` (the model would say ${e.labels[then]})`;
  return sentence;
}

/** The classes, most probable first (ties by name), with their index and probability. */
export function classesByProbability(e: Explanation): { index: number; label: string; probability: number }[] {
  return e.labels
    .map((label, index) => ({ index, label, probability: e.probabilities[index] ?? 0 }))
    .sort((a, b) => b.probability - a.probability || a.label.localeCompare(b.label));
}

