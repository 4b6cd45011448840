import { describe, expect, it } from 'vitest';
import { forAccuracy, formatThreshold, pointAt, routingSentence } from './coverage';
import { coverageCurve } from '../test/fixtures';

/** Five tickets by confidence: 0.95 right, 0.9 right, 0.8 wrong, 0.8 right, 0.5 wrong
 * (the engine's hand-computed case in src/routing.rs). */
const curve = () => coverageCurve([0.8, 0.95, 0.5, 0.9, 0.8], [false, true, false, true, true]);

describe('coverage curve', () => {
  it('has one point per distinct confidence, as the engine builds it', () => {
    const c = curve();
    expect(c.rows).toBe(5);
    expect(c.points.map((p) => [p.threshold, p.handled, p.accuracy])).toEqual([
      [0.95, 1, 1.0],
      [0.9, 2, 1.0],
      [0.8, 4, 0.75],
      [0.5, 5, 0.6],
    ]);
  });

  it('reads the operating point exactly between points', () => {
    const c = curve();
    expect(pointAt(c, 0.85)).toEqual({ threshold: 0.85, handled: 2, coverage: 0.4, accuracy: 1 });
    expect(pointAt(c, 0.8).handled).toBe(4);
    expect(pointAt(c, 0.9).handled).toBe(2);
    expect(pointAt(c, 0).handled).toBe(5);
    expect(pointAt(c, 0.99)).toEqual({ threshold: 0.99, handled: 0, coverage: 0, accuracy: 1 });
    expect(pointAt({ rows: 0, points: [] }, 0.5).handled).toBe(0);
  });

  it('finds the lowest threshold reaching an accuracy', () => {
    const c = curve();
    expect(forAccuracy(c, 1)?.handled).toBe(2);
    expect(forAccuracy(c, 0.7)?.handled).toBe(4);
    expect(forAccuracy(c, 0.6)?.threshold).toBe(0.5);
    expect(forAccuracy(coverageCurve([0.9], [false]), 0.5)).toBeNull();
  });

  it('says what a threshold does in a sentence', () => {
    const c = curve();
    expect(routingSentence(pointAt(c, 0.85), 5)).toBe(
      'Handles 40% of tickets automatically at 100.0% accuracy; 60% (3 tickets) go to a person.',
    );
    expect(routingSentence(pointAt(c, 0.5), 5)).toBe('Handles every ticket automatically, at 60.0% accuracy; none go to a person.');
    expect(routingSentence(pointAt(c, 0.99), 5)).toBe('Handles no tickets automatically: all 5 tickets go to a person.');
    // Whole percentages that add up, and never 100% while a ticket goes to a person.
    const many = { threshold: 0.5, handled: 999, coverage: 0.999, accuracy: 0.9 };
    expect(routingSentence(many, 1000)).toBe('Handles 99% of tickets automatically at 90.0% accuracy; 1% (1 ticket) go to a person.');
  });

  it('prints thresholds as the CLI does, without a third zero', () => {
    expect(formatThreshold(0.87)).toBe('0.87');
    expect(formatThreshold(0.8734)).toBe('0.873');
    expect(formatThreshold(0.9)).toBe('0.90');
    expect(formatThreshold(1)).toBe('1.00');
  });
});
