// Reading a coverage curve (src/routing.rs) while the analyst drags a threshold: the same
// operating point and accuracy target as the engine's `CoverageCurve::at` and
// `for_accuracy`, so what the slider says is what the kept threshold does.

import type { CoverageCurve, OperatingPoint } from './api';

/** The tickets handled at `threshold`: those whose top probability is at least it. */
export function pointAt(curve: CoverageCurve, threshold: number): OperatingPoint {
  // Points are by threshold descending: the last one still at or above it.
  let lo = 0;
  let hi = curve.points.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (curve.points[mid].threshold >= threshold) lo = mid + 1;
    else hi = mid;
  }
  const p = curve.points[lo - 1];
  return p ? { ...p, threshold } : { threshold, handled: 0, coverage: 0, accuracy: 1 };
}

/** The lowest threshold (most tickets handled) whose handled tickets are at least
 * `accuracy` right; null when no threshold reaches it. */
export function forAccuracy(curve: CoverageCurve, accuracy: number): OperatingPoint | null {
  for (let i = curve.points.length - 1; i >= 0; i--) {
    if (curve.points[i].accuracy >= accuracy) return curve.points[i];
  }
  return null;
}

/** A threshold as a probability, e.g. "0.87", "0.873" (as the CLI prints it, without trailing zeros past two digits). */
export function formatThreshold(t: number): string {
  return t.toFixed(3).replace(/(\.\d\d)0$/, '$1');
}

/** What a threshold does to `rows` tickets, as a sentence: "Handles 78% of tickets
 * automatically at 95.2% accuracy; 22% (34 tickets) go to a person." */
export function routingSentence(p: OperatingPoint, rows: number): string {
  const toPerson = rows - p.handled;
  const tickets = (n: number) => `${n.toLocaleString('en-US')} ticket${n === 1 ? '' : 's'}`;
  if (rows === 0) return 'No tickets to route.';
  if (p.handled === 0) return `Handles no tickets automatically: all ${tickets(rows)} go to a person.`;
  const accuracy = `${(p.accuracy * 100).toFixed(1)}% accuracy`;
  if (toPerson === 0) return `Handles every ticket automatically, at ${accuracy}; none go to a person.`;
  // Whole percentages that add up to 100, neither 0 nor 100 when both sides have tickets.
  const handled = Math.min(99, Math.max(1, Math.round(p.coverage * 100)));
  return (
    `Handles ${handled}% of tickets automatically at ${accuracy}; ` +
    `${100 - handled}% (${tickets(toPerson)}) go to a person.`
  );
}
