import { afterEach, describe, expect, it, vi } from 'vitest';

const original = Object.getOwnPropertyDescriptor(Navigator.prototype, 'language')!;

describe('locale guard', () => {
  afterEach(() => {
    Object.defineProperty(Navigator.prototype, 'language', original);
    vi.resetModules();
  });

  it('replaces a POSIX "C" locale that Intl rejects', async () => {
    Object.defineProperty(Navigator.prototype, 'language', { get: () => 'C', configurable: true });
    expect(() => new Intl.NumberFormat(navigator.language)).toThrow(RangeError);
    await import('./locale');
    expect(navigator.language).toBe('en-US');
    expect(() => new Intl.NumberFormat(navigator.language)).not.toThrow();
  });

  it('keeps a valid locale', async () => {
    const before = navigator.language;
    await import('./locale');
    expect(navigator.language).toBe(before);
  });
});
