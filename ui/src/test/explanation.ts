// Hand-made explanations (src/explain.rs) for the Try screen's tests.

import type { Explanation, TextPiece, WordScore } from '../lib/api';

/** A scored word: its text and each class's probability without it. */
export type Scored = [text: string, without: number[]];

/** An explanation of the text `parts` spell (strings are the text between words) for
 * classes `labels` at `probabilities`, each word's scores following from the
 * probabilities without it (ln p − ln p without); `cut` is a tail past the model's max
 * length. */
export function explanationOf(
  parts: (string | Scored)[],
  labels: string[],
  probabilities: number[],
  cut = '',
): Explanation {
  const words: WordScore[] = [];
  const pieces: TextPiece[] = [];
  for (const part of parts) {
    if (typeof part === 'string') {
      pieces.push({ text: part, word: null, cut: false });
    } else {
      const [text, without] = part;
      pieces.push({ text, word: words.length, cut: false });
      words.push({ text, scores: probabilities.map((p, c) => Math.log(p) - Math.log(without[c])), probabilitiesWithout: without });
    }
  }
  if (cut) pieces.push({ text: cut, word: null, cut: true });
  const predicted = probabilities.indexOf(Math.max(...probabilities));
  return { labels, predicted, probabilities, pieces, words, truncated: !!cut };
}

/** "The app crashes  when I export,\nplease fix!" for bug (80%), feature (15%) and billing (5%):
 * ‘crashes’ pushes hardest toward bug (without it the model would say feature), ‘please’
 * hardest away from it and toward feature; ‘I’ does nothing. */
export function explanation(cut = ''): Explanation {
  return explanationOf(
    [
      ['The', [0.78, 0.16, 0.06]],
      ' ',
      ['app', [0.6, 0.3, 0.1]],
      ' ',
      ['crashes', [0.3, 0.55, 0.15]],
      '  ',
      ['when', [0.79, 0.15, 0.06]],
      ' ',
      ['I', [0.8, 0.15, 0.05]],
      ' ',
      ['export', [0.55, 0.3, 0.15]],
      [',', [0.81, 0.14, 0.05]],
      '\n',
      ['please', [0.92, 0.05, 0.03]],
      ' ',
      ['fix', [0.65, 0.3, 0.05]],
      ['!', [0.83, 0.13, 0.04]],
    ],
    ['bug', 'feature', 'billing'],
    [0.8, 0.15, 0.05],
    cut,
  );
}
