// Personal data as the engine finds it: the kinds in words, their placeholders, and an
// example's text cut into plain and found pieces.

import type { PiiKind, PiiSpan } from './api';

/** Every kind, in the engine's order. */
export const PII_KINDS: PiiKind[] = ['email', 'phone', 'iban', 'card', 'ip', 'address', 'name'];

/** Each kind in words, plural (as the engine's `PiiKind::label`). */
export const PII_NAMES: Record<PiiKind, string> = {
  email: 'e-mail addresses',
  phone: 'phone numbers',
  iban: 'IBANs',
  card: 'card numbers',
  ip: 'IP addresses',
  address: 'street addresses',
  name: 'names',
};

/** What the model sees in place of a value of `kind`: "[EMAIL]", …. */
export function placeholder(kind: PiiKind): string {
  return `[${kind.toUpperCase()}]`;
}

/** `kinds` in words, in the engine's order: "e-mail addresses, phone numbers". */
export function kindNames(kinds: readonly PiiKind[]): string {
  return PII_KINDS.filter((k) => kinds.includes(k))
    .map((k) => PII_NAMES[k])
    .join(', ');
}

/** A run of an example's text: plain (`kind` null) or a value found. */
export interface Piece {
  text: string;
  kind: PiiKind | null;
}

/**
 * `text` cut at `spans`, which are in text order and apart, their offsets UTF-8 bytes
 * (the engine's Rust strings), not UTF-16 code units.
 */
export function pieces(text: string, spans: readonly PiiSpan[]): Piece[] {
  const bytes = new TextEncoder().encode(text);
  const decoder = new TextDecoder();
  const slice = (start: number, end: number) => decoder.decode(bytes.subarray(start, end));
  const out: Piece[] = [];
  let at = 0;
  for (const s of spans) {
    if (s.start > at) out.push({ text: slice(at, s.start), kind: null });
    out.push({ text: slice(s.start, s.end), kind: s.kind });
    at = s.end;
  }
  if (at < bytes.length) out.push({ text: slice(at, bytes.length), kind: null });
  return out;
}
